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
	{ "pulse", COMMAND_PULSE },
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

/* Only these words in the JSON form; the digits and synonyms are for plain
 * payloads. */
static enum command_kind parse_state(const char *s)
{
	static const struct word states[] = {
		{ "on", COMMAND_ON },	      { "off", COMMAND_OFF },	  { "toggle", COMMAND_TOGGLE },
		{ "pulse", COMMAND_PULSE }, { "blink", COMMAND_BLINK },
	};

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcasecmp(s, states[i].text) == 0)
			return states[i].kind;
	return COMMAND_INVALID;
}

/* The members a JSON command may have, each at most once. */
struct json_fields {
	const cJSON *state, *for_ms, *on_ms, *off_ms, *count;
};

static const cJSON **field_slot(struct json_fields *f, const char *name)
{
	if (strcmp(name, "state") == 0)
		return &f->state;
	if (strcmp(name, "for_ms") == 0)
		return &f->for_ms;
	if (strcmp(name, "on_ms") == 0)
		return &f->on_ms;
	if (strcmp(name, "off_ms") == 0)
		return &f->off_ms;
	if (strcmp(name, "count") == 0)
		return &f->count;
	return NULL;
}

/* An unknown member is refused rather than ignored: a misspelt "for_ms"
 * would otherwise turn a pulse into a plain "on" that never ends. A missing
 * "state" is said first: {"State":"on"} most likely lacks only that. */
static const char *collect_fields(const cJSON *root, struct json_fields *f)
{
	const char *why = NULL;

	for (const cJSON *item = root->child; item; item = item->next) {
		const cJSON **slot = item->string ? field_slot(f, item->string) : NULL;

		if (!slot && !why)
			why = "unknown member in JSON command (known: state, for_ms, on_ms, "
			      "off_ms, count)";
		else if (slot && *slot && !why)
			why = "a member is given twice in JSON command";
		else if (slot && !*slot)
			*slot = item;
	}
	if (!cJSON_IsString(f->state))
		return "JSON command needs a string member \"state\"";
	return why;
}

/* A whole number from lo to hi into *out; false when item is anything else. */
static bool whole_number(const cJSON *item, unsigned int lo, unsigned int hi, unsigned int *out)
{
	double v;

	if (!cJSON_IsNumber(item))
		return false;
	v = item->valuedouble;
	/* Range first: the cast below is defined only for values in range. */
	if (!(v >= lo && v <= hi) || (double)(unsigned int)v != v)
		return false;
	*out = (unsigned int)v;
	return true;
}

static const char *timed_fields(const struct json_fields *f, struct command *cmd)
{
	if (f->on_ms || f->off_ms || f->count)
		return "on_ms, off_ms and count are for \"blink\"";
	if (f->for_ms && cmd->kind != COMMAND_ON && cmd->kind != COMMAND_OFF)
		return cmd->kind == COMMAND_PULSE ?
			"\"pulse\" lasts the output's pulse_ms; for another length use "
			"{\"state\":\"on\",\"for_ms\":N}" :
			"for_ms is for \"on\" and \"off\"";
	if (f->for_ms && !whole_number(f->for_ms, 1, PAYLOAD_DURATION_MAX_MS, &cmd->for_ms))
		return "for_ms must be a whole number from 1 to 86400000";
	return NULL;
}

static const char *blink_fields(const struct json_fields *f, struct command *cmd)
{
	if (f->for_ms)
		return "for_ms is for \"on\" and \"off\"; a blink has on_ms, off_ms and count";
	if (!f->on_ms || !f->off_ms)
		return "\"blink\" needs on_ms and off_ms: "
		       "{\"state\":\"blink\",\"on_ms\":500,\"off_ms\":500}";
	if (!whole_number(f->on_ms, PAYLOAD_BLINK_MIN_MS, PAYLOAD_DURATION_MAX_MS, &cmd->on_ms))
		return "on_ms must be a whole number from 10 to 86400000";
	if (!whole_number(f->off_ms, PAYLOAD_BLINK_MIN_MS, PAYLOAD_DURATION_MAX_MS, &cmd->off_ms))
		return "off_ms must be a whole number from 10 to 86400000";
	if (f->count && !whole_number(f->count, 0, PAYLOAD_BLINK_COUNT_MAX, &cmd->count))
		return "count must be a whole number from 0 (until the next command) to 1000000";
	return NULL;
}

/* The members of an object into *cmd; NULL, or why they are no command. */
static const char *json_command(const cJSON *root, struct command *cmd)
{
	struct json_fields f = { 0 };
	const char *why;

	if (!cJSON_IsObject(root))
		return "JSON command needs a string member \"state\"";
	if ((why = collect_fields(root, &f)))
		return why;
	cmd->kind = parse_state(f.state->valuestring);
	if (cmd->kind == COMMAND_INVALID)
		return "JSON \"state\" must be \"on\", \"off\", \"toggle\", \"pulse\" or \"blink\"";
	return cmd->kind == COMMAND_BLINK ? blink_fields(&f, cmd) : timed_fields(&f, cmd);
}

static void parse_json(const char *s, size_t len, struct command *cmd, const char **reason)
{
	const char *end = NULL;
	cJSON *root;

	/* An escaped NUL would cut the state string short unseen. */
	if (memmem(s, len, "\\u0000", 6)) {
		*reason = "JSON with a NUL character";
		return;
	}
	root = cJSON_ParseWithLengthOpts(s, len, &end, false);
	if (!root || end != s + len)
		*reason = "invalid JSON";
	else
		*reason = json_command(root, cmd);
	cJSON_Delete(root);
}

bool payload_parse_command(const void *data, size_t len, struct command *command,
			   const char **reason)
{
	const char *s = data;
	const char *why = NULL;
	struct command cmd = { .kind = COMMAND_INVALID };

	if (len > PAYLOAD_COMMAND_MAX) {
		why = "payload too large";
		goto out;
	}
	if (len && memchr(s, '\0', len)) { /* an empty payload may be NULL */
		why = "payload contains a NUL byte";
		goto out;
	}
	while (len && is_space((unsigned char)s[0])) {
		s++;
		len--;
	}
	while (len && is_space((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		why = "empty payload";
	else if (s[0] == '{')
		parse_json(s, len, &cmd, &why);
	else if ((cmd.kind = parse_word(s, len)) == COMMAND_INVALID)
		why = "unknown command (expected on, off, toggle, pulse, 1, 0, true, false, high, "
		      "low or {\"state\":...})";
out:
	if (why)
		cmd = (struct command){ .kind = COMMAND_INVALID };
	if (reason)
		*reason = why;
	*command = cmd;
	return cmd.kind != COMMAND_INVALID;
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
