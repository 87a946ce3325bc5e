/* SPDX-License-Identifier: MIT */
#include "payload.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXCERPT_MAX 64

struct word {
	const char *text;
	enum command_kind kind;
};

static const struct word words[] = {
	{ "on", COMMAND_ON },	  { "off", COMMAND_OFF },    { "toggle", COMMAND_TOGGLE },
	{ "1", COMMAND_ON },	  { "0", COMMAND_OFF },	     { "true", COMMAND_ON },
	{ "false", COMMAND_OFF }, { "high", COMMAND_ON },    { "low", COMMAND_OFF },
};

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static enum command_kind parse_word(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].text) == len && strncasecmp(words[i].text, s, len) == 0)
			return words[i].kind;
	return COMMAND_INVALID;
}

/* Only the three words of the JSON form; the digits and synonyms are for
 * plain payloads. */
static enum command_kind parse_state(const char *s)
{
	if (strcasecmp(s, "on") == 0)
		return COMMAND_ON;
	if (strcasecmp(s, "off") == 0)
		return COMMAND_OFF;
	if (strcasecmp(s, "toggle") == 0)
		return COMMAND_TOGGLE;
	return COMMAND_INVALID;
}

static enum command_kind parse_json(const char *s, size_t len, const char **reason)
{
	const char *end = NULL;
	cJSON *root;
	const cJSON *state;
	enum command_kind cmd = COMMAND_INVALID;

	/* An escaped NUL would cut the state string short unseen. */
	if (memmem(s, len, "\\u0000", 6)) {
		*reason = "JSON with a NUL character";
		return COMMAND_INVALID;
	}
	root = cJSON_ParseWithLengthOpts(s, len, &end, false);
	if (!root || end != s + len) {
		cJSON_Delete(root);
		*reason = "invalid JSON";
		return COMMAND_INVALID;
	}
	state = cJSON_GetObjectItemCaseSensitive(root, "state");
	if (!cJSON_IsObject(root) || !cJSON_IsString(state))
		*reason = "JSON command needs a string member \"state\"";
	else if ((cmd = parse_state(state->valuestring)) == COMMAND_INVALID)
		*reason = "JSON \"state\" must be \"on\", \"off\" or \"toggle\"";
	cJSON_Delete(root);
	if (*reason)
		return COMMAND_INVALID;
	return cmd;
}

bool payload_parse_command(const void *data, size_t len, struct command *command,
			   const char **reason)
{
	const char *s = data;
	const char *why = NULL;
	enum command_kind cmd;

	if (len > PAYLOAD_COMMAND_MAX) {
		why = "payload too large";
		cmd = COMMAND_INVALID;
		goto out;
	}
	if (len && memchr(s, '\0', len)) { /* an empty payload may be NULL */
		why = "payload contains a NUL byte";
		cmd = COMMAND_INVALID;
		goto out;
	}
	while (len && is_space((unsigned char)s[0])) {
		s++;
		len--;
	}
	while (len && is_space((unsigned char)s[len - 1]))
		len--;
	if (len == 0) {
		why = "empty payload";
		cmd = COMMAND_INVALID;
	} else if (s[0] == '{') {
		cmd = parse_json(s, len, &why);
	} else if ((cmd = parse_word(s, len)) == COMMAND_INVALID) {
		why = "unknown command (expected on, off, toggle, 1, 0, true, false, high, low "
		      "or {\"state\":...})";
	}
out:
	if (reason)
		*reason = why;
	*command = (struct command){ .kind = cmd };
	return cmd != COMMAND_INVALID;
}

static void excerpt(char *out, const void *data, size_t len, size_t limit)
{
	const unsigned char *p = data;
	size_t n = len < limit ? len : limit;

	for (size_t i = 0; i < n; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[n] = '\0';
}

static char *error_json(const char *topic, const void *data, size_t len, const char *reason,
			size_t excerpt_max)
{
	char text[EXCERPT_MAX + 1];
	cJSON *root = cJSON_CreateObject();
	char *json = NULL;

	if (!root)
		return NULL;
	excerpt(text, data, len, excerpt_max);
	if (cJSON_AddStringToObject(root, "topic", topic) &&
	    cJSON_AddStringToObject(root, "payload", text) &&
	    cJSON_AddNumberToObject(root, "length", (double)len) &&
	    cJSON_AddStringToObject(root, "reason", reason))
		json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return json;
}

char *payload_error_json(const char *topic, const void *data, size_t len, const char *reason)
{
	return error_json(topic, data, len, reason, EXCERPT_MAX);
}

/* A shorter excerpt first, then a shorter topic: each halves, so few tries. */
char *payload_error_json_within(const char *topic, const void *data, size_t len,
				const char *reason, size_t room, bool *cut)
{
	size_t excerpt_max = EXCERPT_MAX, topic_len = strlen(topic);
	char *json, *short_topic = NULL;

	*cut = false;
	for (;;) {
		json = error_json(short_topic ? short_topic : topic, data, len, reason,
				  excerpt_max);
		if (!json || strlen(json) <= room)
			break;
		free(json);
		json = NULL;
		*cut = true;
		if (excerpt_max > 0) {
			excerpt_max /= 2;
			continue;
		}
		if (topic_len == 0)
			break;
		topic_len /= 2;
		free(short_topic);
		short_topic = strndup(topic, topic_len);
		if (!short_topic)
			break;
	}
	free(short_topic);
	return json;
}

bool payload_command_is_momentary(const struct command *cmd)
{
	return cmd->kind == COMMAND_TOGGLE || cmd->kind == COMMAND_PULSE ||
	       cmd->kind == COMMAND_BLINK || cmd->for_ms > 0;
}

const char *payload_command_name(const struct command *cmd)
{
	switch (cmd->kind) {
	case COMMAND_ON:
		return cmd->for_ms ? "timed \"on\"" : "\"on\"";
	case COMMAND_OFF:
		return cmd->for_ms ? "timed \"off\"" : "\"off\"";
	case COMMAND_TOGGLE:
		return "\"toggle\"";
	case COMMAND_PULSE:
		return "\"pulse\"";
	case COMMAND_BLINK:
		return "\"blink\"";
	default:
		return "invalid command";
	}
}
