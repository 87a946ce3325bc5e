/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: payload_parse_command and payload_error_json on
 * arbitrary bytes, passed as libmosquitto passes MQTT payloads: in a buffer
 * of exactly their size without a terminating NUL (so that AddressSanitizer
 * reports any read past the end), and as NULL when empty. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

#define TOPIC_BYTES 48
#define EXCERPT_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int condition)
{
	if (!condition)
		abort();
}

static char *exact_copy(const uint8_t *data, size_t size)
{
	char *copy;

	if (size == 0)
		return NULL;
	copy = malloc(size);
	require(copy != NULL);
	memcpy(copy, data, size);
	return copy;
}

/* Padding with white space changes nothing about a command that fits. */
static void check_padding(const char *payload, size_t size, enum command_kind kind)
{
	struct command cmd;
	char *padded;

	if (size + 2 > PAYLOAD_COMMAND_MAX)
		return;
	padded = malloc(size + 2);
	require(padded != NULL);
	padded[0] = ' ';
	if (size)
		memcpy(padded + 1, payload, size);
	padded[size + 1] = '\n';
	require(payload_parse_command(padded, size + 2, &cmd, NULL) == (kind != COMMAND_INVALID));
	require(cmd.kind == kind);
	free(padded);
}

/* Parameters only where they belong, and within their ranges. */
static void check_parameters(const struct command *cmd)
{
	if (cmd->kind == COMMAND_BLINK) {
		require(cmd->on_ms >= PAYLOAD_BLINK_MIN_MS && cmd->on_ms <= PAYLOAD_DURATION_MAX_MS);
		require(cmd->off_ms >= PAYLOAD_BLINK_MIN_MS && cmd->off_ms <= PAYLOAD_DURATION_MAX_MS);
		require(cmd->count <= PAYLOAD_BLINK_COUNT_MAX && cmd->for_ms == 0);
		return;
	}
	require(cmd->on_ms == 0 && cmd->off_ms == 0 && cmd->count == 0);
	require(cmd->for_ms <= PAYLOAD_DURATION_MAX_MS);
	require(cmd->for_ms == 0 || cmd->kind == COMMAND_ON || cmd->kind == COMMAND_OFF);
}

static void check_parse(const char *payload, size_t size)
{
	const char *reason = "unset";
	struct command cmd;
	bool ok = payload_parse_command(payload, size, &cmd, &reason);

	require(cmd.kind >= COMMAND_INVALID && cmd.kind <= COMMAND_BLINK);
	require(ok == (cmd.kind != COMMAND_INVALID));
	check_parameters(&cmd);
	require(!ok == (reason != NULL));
	if (size > PAYLOAD_COMMAND_MAX)
		require(!ok);
	check_padding(payload, size, cmd.kind);
}

/* The report must be JSON that gives back the topic and the length, with a
 * printable excerpt of bounded size. */
static void check_report(const char *json, const char *topic, size_t size)
{
	cJSON *root = cJSON_Parse(json);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "topic");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "payload");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "length");
	size_t excerpt_len;

	require(cJSON_IsString(t) && strcmp(t->valuestring, topic) == 0);
	require(cJSON_IsNumber(n) && n->valuedouble == (double)size);
	require(cJSON_IsString(p));
	excerpt_len = strlen(p->valuestring);
	require(excerpt_len == (size < EXCERPT_MAX ? size : EXCERPT_MAX));
	for (size_t i = 0; i < excerpt_len; i++)
		require(p->valuestring[i] >= 0x20 && p->valuestring[i] < 0x7f);
	cJSON_Delete(root);
}

static void check_error_json(const char *payload, size_t size)
{
	size_t topic_len = size ? strnlen(payload, size < TOPIC_BYTES ? size : TOPIC_BYTES) : 0;
	char *topic = strndup(size ? payload : "", topic_len);
	const char *reason = NULL;
	struct command ignored;
	char *json;

	require(topic != NULL);
	payload_parse_command(payload, size, &ignored, &reason);
	json = payload_error_json(topic, payload, size, reason ? reason : "accepted");
	require(json != NULL);
	check_report(json, topic, size);
	free(json);
	free(topic);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *payload = exact_copy(data, size);

	check_parse(payload, size);
	check_error_json(payload, size);
	free(payload);
	return 0;
}
