/* SPDX-License-Identifier: MIT */
/* payload: command parsing and error reports. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "suites.h"

struct bytes {
	const char *data;
	size_t len;
};

#define BYTES(literal) { literal, sizeof(literal) - 1 }

/* The kind parsed; COMMAND_INVALID for a payload that is not a command. */
static enum command_kind kind_of(const void *data, size_t len, const char **reason)
{
	struct command cmd;

	if (!payload_parse_command(data, len, &cmd, reason)) {
		ck_assert_int_eq(cmd.kind, COMMAND_INVALID);
		return COMMAND_INVALID;
	}
	return cmd.kind;
}

/* Bytes that would change the meaning of a payload if read past its end. */
static const char garbage[] = "f\"}  ";

/* Parses the bytes twice: from a heap block of exactly len bytes (valgrind
 * sees a read past the end) and followed by garbage. Both must agree. */
static enum command_kind parse(const void *data, size_t len, const char **reason)
{
	char *exact = malloc(len ? len : 1);
	char *padded = malloc(len + sizeof(garbage));
	const char *padded_reason = NULL;
	enum command_kind cmd, padded_cmd;

	ck_assert_ptr_nonnull(exact);
	ck_assert_ptr_nonnull(padded);
	memcpy(exact, data, len);
	memcpy(padded, data, len);
	memcpy(padded + len, garbage, sizeof(garbage));
	*reason = NULL;
	cmd = kind_of(exact, len, reason);
	padded_cmd = kind_of(padded, len, &padded_reason);
	ck_assert_int_eq(cmd, padded_cmd);
	free(exact);
	free(padded);
	return cmd;
}

static void expect_command(const char *text, enum command_kind expected)
{
	const char *reason;

	ck_assert_msg(parse(text, strlen(text), &reason) == expected, "\"%s\" is not command %d",
		      text, (int)expected);
}

/* The bytes with non-printable ones as \xNN, for failure messages. */
static const char *visible(const void *data, size_t len, char *out, size_t size)
{
	const unsigned char *p = data;
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < len && used + 5 < size; i++)
		used += (size_t)snprintf(out + used, size - used, p[i] >= 0x20 && p[i] < 0x7f ?
				"%c" : "\\x%02x", p[i]);
	return out;
}

static void expect_invalid(const void *data, size_t len)
{
	char shown[128];
	const char *reason;

	ck_assert_msg(parse(data, len, &reason) == COMMAND_INVALID, "\"%s\" (%zu bytes) accepted",
		      visible(data, len, shown, sizeof(shown)), len);
	ck_assert_msg(reason && *reason, "no reason for \"%s\"",
		      visible(data, len, shown, sizeof(shown)));
}

static const struct {
	const char *word;
	enum command_kind command;
} words[] = {
	{ "on", COMMAND_ON },	  { "off", COMMAND_OFF },   { "toggle", COMMAND_TOGGLE },
	{ "1", COMMAND_ON },	  { "0", COMMAND_OFF },	    { "true", COMMAND_ON },
	{ "false", COMMAND_OFF }, { "high", COMMAND_ON },   { "low", COMMAND_OFF },
};

static const char *const paddings[] = { "", " ", "\t", "\r\n", "\n", " \t\r\n\f\v " };

enum spelling { LOWER, UPPER, CAPITALIZED, ALTERNATING, SPELLINGS };

static void spell(char *out, const char *word, enum spelling how)
{
	for (size_t i = 0; word[i]; i++) {
		bool up = how == UPPER || (how == CAPITALIZED && i == 0) ||
			  (how == ALTERNATING && i % 2 == 1);

		out[i] = up ? (char)toupper((unsigned char)word[i]) : word[i];
	}
	out[strlen(word)] = '\0';
}

START_TEST(test_every_word_any_case_any_padding)
{
	const size_t n_pad = sizeof(paddings) / sizeof(paddings[0]);
	char word[16], text[64];

	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
		for (int how = LOWER; how < SPELLINGS; how++)
			for (size_t pad = 0; pad < n_pad * n_pad; pad++) {
				spell(word, words[w].word, (enum spelling)how);
				snprintf(text, sizeof(text), "%s%s%s", paddings[pad % n_pad], word,
					 paddings[pad / n_pad]);
				expect_command(text, words[w].command);
			}
}
END_TEST

START_TEST(test_json_state)
{
	expect_command("{\"state\":\"on\"}", COMMAND_ON);
	expect_command("{\"state\":\"off\"}", COMMAND_OFF);
	expect_command("{\"state\":\"toggle\"}", COMMAND_TOGGLE);
	expect_command("{ \"state\" : \"on\" }", COMMAND_ON);
	expect_command("\n\t{\r\n  \"state\":\t\"off\"\n}\n", COMMAND_OFF);
	expect_command("  {\"state\": \"toggle\"}  ", COMMAND_TOGGLE);
}
END_TEST

START_TEST(test_payload_not_nul_terminated)
{
	const char off[] = { 'o', 'f', 'f' };
	const char json[] = "{\"state\":\"on\"}}";
	const char *reason;

	ck_assert_int_eq(kind_of(off, 3, &reason), COMMAND_OFF);
	ck_assert_int_eq(kind_of(off, 2, &reason), COMMAND_INVALID);
	ck_assert_int_eq(kind_of("onion", 2, &reason), COMMAND_ON);
	ck_assert_int_eq(kind_of("toggled", 6, &reason), COMMAND_TOGGLE);
	ck_assert_int_eq(kind_of("1000", 1, &reason), COMMAND_ON);
	ck_assert_int_eq(kind_of(json, 14, &reason), COMMAND_ON);
	ck_assert_int_eq(kind_of(json, 13, &reason), COMMAND_INVALID);
	ck_assert_ptr_nonnull(reason);
}
END_TEST

START_TEST(test_invalid_words)
{
	static const struct bytes bad[] = {
		BYTES(""),	 BYTES(" "),	  BYTES(" \t\r\n"), BYTES("onn"),
		BYTES("of"),	 BYTES("o n"),	  BYTES("on off"),  BYTES("2"),
		BYTES("-1"),	 BYTES("01"),	  BYTES("10"),	    BYTES("yes"),
		BYTES("no"),	 BYTES("enable"), BYTES("toggl"),   BYTES("'on'"),
		BYTES("on;"),	 BYTES("ON!"),	  BYTES("null"),    BYTES("[1]"),
		BYTES("\"on\""), BYTES("\"\""),	  BYTES("o\xffn"),   BYTES("[\"on\"]"),
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i].data, bad[i].len);
}
END_TEST

START_TEST(test_binary_with_nuls)
{
	static const struct bytes bad[] = {
		BYTES("\0"),	BYTES("on\0"), BYTES("\0on"),	 BYTES("o\0n"),
		BYTES("of\0f"), BYTES("1\0"),	BYTES("\0\0\0\0"), BYTES("\x01\x02\x03"),
		BYTES("{\0}"),	BYTES("{\"state\":\"o\0n\"}"),
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i].data, bad[i].len);
}
END_TEST

START_TEST(test_json_with_nul_bytes_is_invalid)
{
	/* Binary, not {"state": "on"}: "on" then a NUL is not the string "on". */
	static const struct bytes bad[] = {
		BYTES("{\"state\":\"on\0\"}"),
		BYTES("{\"state\"\0:\"on\"}"),
		BYTES("{\"state\":\"on\"}\0"),
		BYTES("{\"state\":\"off\0junk\"}"),
		BYTES("{\"state\":\"on\\u0000\"}"),
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i].data, bad[i].len);
}
END_TEST

START_TEST(test_invalid_json)
{
	static const struct bytes bad[] = {
		/* wrong shape */
		BYTES("{}"), BYTES("{\"value\":\"on\"}"), BYTES("{\"status\":\"on\"}"),
		BYTES("[{\"state\":\"on\"}]"), BYTES("{\"on\":\"state\"}"),
		/* wrong type */
		BYTES("{\"state\":1}"), BYTES("{\"state\":true}"), BYTES("{\"state\":null}"),
		BYTES("{\"state\":[\"on\"]}"), BYTES("{\"state\":{\"state\":\"on\"}}"),
		/* wrong value */
		BYTES("{\"state\":\"\"}"), BYTES("{\"state\":\"onn\"}"), BYTES("{\"state\":\"2\"}"),
		BYTES("{\"state\":\"yes\"}"), BYTES("{\"state\":\" on \"}"),
		/* truncated or malformed */
		BYTES("{"), BYTES("{\"state\""), BYTES("{\"state\":"), BYTES("{\"state\":\"on"),
		BYTES("{\"state\":\"on\""), BYTES("{\"state\":\"on\",}"), BYTES("{state:\"on\"}"),
		BYTES("{'state':'on'}"), BYTES("{\"state\" \"on\"}"), BYTES("{\"state\":\"on\"]"),
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i].data, bad[i].len);
}
END_TEST

START_TEST(test_json_with_trailing_bytes_is_invalid)
{
	/* Not one of the accepted forms: a JSON object followed by more bytes. */
	static const struct bytes bad[] = {
		BYTES("{\"state\":\"on\"}xyz"),
		BYTES("{\"state\":\"on\"}}"),
		BYTES("{\"state\":\"on\"} {\"state\":\"off\"}"),
		BYTES("{\"state\":\"off\"},"),
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i].data, bad[i].len);
}
END_TEST

/* Appends times copies of s to out, which holds len bytes so far. */
static size_t append(char *out, size_t size, size_t len, const char *s, int times)
{
	for (int i = 0; i < times; i++)
		len += (size_t)snprintf(out + len, size - len, "%s", s);
	ck_assert_uint_lt(len, size);
	return len;
}

START_TEST(test_deeply_nested_json)
{
	char text[PAYLOAD_COMMAND_MAX + 1];
	size_t len;

	len = append(text, sizeof(text), 0, "{\"state\":", 1);
	len = append(text, sizeof(text), len, "[", 100);
	len = append(text, sizeof(text), len, "]", 100);
	len = append(text, sizeof(text), len, "}", 1);
	expect_invalid(text, len);
	len = append(text, sizeof(text), 0, "{\"state\":", 20);
	len = append(text, sizeof(text), len, "\"on\"", 1);
	len = append(text, sizeof(text), len, "}", 20);
	expect_invalid(text, len);
	memset(text, '{', PAYLOAD_COMMAND_MAX);
	expect_invalid(text, PAYLOAD_COMMAND_MAX);
	memset(text, '[', PAYLOAD_COMMAND_MAX);
	expect_invalid(text, PAYLOAD_COMMAND_MAX);
}
END_TEST

START_TEST(test_size_limit)
{
	char text[PAYLOAD_COMMAND_MAX + 2];
	const char *reason;

	/* At the limit, white space around a word is still trimmed. */
	memset(text, ' ', sizeof(text));
	memcpy(text + 10, "on", 2);
	ck_assert_int_eq(parse(text, PAYLOAD_COMMAND_MAX, &reason), COMMAND_ON);
	/* One byte more is refused, whatever it holds. */
	expect_invalid(text, PAYLOAD_COMMAND_MAX + 1);
	memcpy(text + 10, "{\"state\":\"off\"}", 15);
	ck_assert_int_eq(parse(text, PAYLOAD_COMMAND_MAX, &reason), COMMAND_OFF);
	expect_invalid(text, PAYLOAD_COMMAND_MAX + 1);
	expect_invalid(text, PAYLOAD_COMMAND_MAX + 2);
}
END_TEST

START_TEST(test_reason_is_optional)
{
	ck_assert_int_eq(kind_of("on", 2, NULL), COMMAND_ON);
	ck_assert_int_eq(kind_of("onn", 3, NULL), COMMAND_INVALID);
	ck_assert_int_eq(kind_of("{", 1, NULL), COMMAND_INVALID);
	ck_assert_int_eq(kind_of("{\"state\":1}", 11, NULL), COMMAND_INVALID);
	ck_assert_int_eq(kind_of("", 0, NULL), COMMAND_INVALID);
}
END_TEST

/* --- pulses, timed commands and blinks --- */

/* The command parsed from text, which must be one. */
static struct command command_of(const char *text)
{
	struct command cmd;
	const char *reason = NULL;

	ck_assert_msg(payload_parse_command(text, strlen(text), &cmd, &reason),
		      "\"%s\" refused: %s", text, reason ? reason : "?");
	return cmd;
}

/* text is refused with a reason that contains hint. */
static void expect_refused(const char *text, const char *hint)
{
	struct command cmd;
	const char *reason = NULL;

	ck_assert_msg(!payload_parse_command(text, strlen(text), &cmd, &reason),
		      "\"%s\" accepted", text);
	ck_assert_int_eq(cmd.kind, COMMAND_INVALID);
	ck_assert_msg(reason && strstr(reason, hint), "\"%s\": reason \"%s\" lacks \"%s\"",
		      text, reason ? reason : "(none)", hint);
}

START_TEST(test_pulse_word_and_json)
{
	expect_command("pulse", COMMAND_PULSE);
	expect_command(" PULSE\n", COMMAND_PULSE);
	expect_command("{\"state\":\"pulse\"}", COMMAND_PULSE);
	expect_command("{\"state\":\"Pulse\"}", COMMAND_PULSE);
	ck_assert_uint_eq(command_of("pulse").for_ms, 0);
	expect_invalid("pulses", 6);
	expect_invalid("blink", 5); /* a blink needs its phases */
}
END_TEST

START_TEST(test_timed_on_and_off)
{
	struct command cmd = command_of("{\"state\":\"on\",\"for_ms\":1500}");

	ck_assert_int_eq(cmd.kind, COMMAND_ON);
	ck_assert_uint_eq(cmd.for_ms, 1500);
	cmd = command_of("{\"for_ms\": 1, \"state\": \"off\"}");
	ck_assert_int_eq(cmd.kind, COMMAND_OFF);
	ck_assert_uint_eq(cmd.for_ms, 1);
	cmd = command_of("{\"state\":\"on\",\"for_ms\":86400000}");
	ck_assert_uint_eq(cmd.for_ms, PAYLOAD_DURATION_MAX_MS);
	cmd = command_of("{\"state\":\"on\",\"for_ms\":2e3}");
	ck_assert_uint_eq(cmd.for_ms, 2000);
	ck_assert(payload_command_is_momentary(&cmd));
	ck_assert(!payload_command_is_momentary(&(struct command){ .kind = COMMAND_ON }));
}
END_TEST

START_TEST(test_for_ms_out_of_range_or_not_whole)
{
	static const char *const bad[] = {
		"{\"state\":\"on\",\"for_ms\":0}",	 "{\"state\":\"on\",\"for_ms\":-5}",
		"{\"state\":\"on\",\"for_ms\":86400001}", "{\"state\":\"on\",\"for_ms\":1.5}",
		"{\"state\":\"on\",\"for_ms\":\"100\"}",   "{\"state\":\"on\",\"for_ms\":null}",
		"{\"state\":\"on\",\"for_ms\":1e300}",	 "{\"state\":\"on\",\"for_ms\":true}",
		"{\"state\":\"on\",\"for_ms\":4294967296}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i], "for_ms must be a whole number from 1 to 86400000");
}
END_TEST

START_TEST(test_for_ms_only_with_on_or_off)
{
	expect_refused("{\"state\":\"toggle\",\"for_ms\":100}", "for \"on\" and \"off\"");
	expect_refused("{\"state\":\"pulse\",\"for_ms\":100}", "pulse_ms");
	expect_refused("{\"state\":\"blink\",\"on_ms\":100,\"off_ms\":100,\"for_ms\":1}",
		       "for_ms is for");
	expect_refused("{\"state\":\"on\",\"on_ms\":100}", "for \"blink\"");
	expect_refused("{\"state\":\"off\",\"count\":2}", "for \"blink\"");
}
END_TEST

START_TEST(test_blink)
{
	struct command cmd =
		command_of("{\"state\":\"blink\",\"on_ms\":200,\"off_ms\":800,\"count\":3}");

	ck_assert_int_eq(cmd.kind, COMMAND_BLINK);
	ck_assert_uint_eq(cmd.on_ms, 200);
	ck_assert_uint_eq(cmd.off_ms, 800);
	ck_assert_uint_eq(cmd.count, 3);
	ck_assert(payload_command_is_momentary(&cmd));
	cmd = command_of("{\"state\":\"blink\",\"on_ms\":10,\"off_ms\":86400000}");
	ck_assert_uint_eq(cmd.count, 0); /* until the next command */
	ck_assert_uint_eq(cmd.on_ms, PAYLOAD_BLINK_MIN_MS);
	cmd = command_of("{\"state\":\"blink\",\"on_ms\":50,\"off_ms\":50,\"count\":1000000}");
	ck_assert_uint_eq(cmd.count, PAYLOAD_BLINK_COUNT_MAX);
}
END_TEST

START_TEST(test_blink_refused)
{
	expect_refused("{\"state\":\"blink\"}", "needs on_ms and off_ms");
	expect_refused("{\"state\":\"blink\",\"off_ms\":100}", "needs on_ms and off_ms");
	expect_refused("{\"state\":\"blink\",\"on_ms\":100}", "needs on_ms and off_ms");
	expect_refused("{\"state\":\"blink\",\"on_ms\":9,\"off_ms\":100}",
		       "on_ms must be a whole number from 10");
	expect_refused("{\"state\":\"blink\",\"on_ms\":100,\"off_ms\":86400001}",
		       "off_ms must be a whole number");
	expect_refused("{\"state\":\"blink\",\"on_ms\":100,\"off_ms\":100,\"count\":-1}",
		       "count must be");
	expect_refused("{\"state\":\"blink\",\"on_ms\":100,\"off_ms\":100,\"count\":1000001}",
		       "count must be");
	expect_refused("{\"state\":\"blink\",\"on_ms\":100,\"off_ms\":100,\"count\":2.5}",
		       "count must be");
}
END_TEST

/* A misspelt member would otherwise turn a timed "on" into one that stays. */
START_TEST(test_unknown_or_repeated_members_refused)
{
	expect_refused("{\"state\":\"on\",\"for\":100}", "unknown member");
	expect_refused("{\"state\":\"on\",\"For_ms\":100}", "unknown member");
	expect_refused("{\"state\":\"on\",\"retain\":true}", "unknown member");
	expect_refused("{\"state\":\"on\",\"state\":\"off\"}", "given twice");
	expect_refused("{\"state\":\"on\",\"for_ms\":1,\"for_ms\":2}", "given twice");
	expect_refused("{\"for_ms\":100}", "needs a string member \"state\"");
}
END_TEST

/* The parameters of a refused command never leak into *cmd. */
START_TEST(test_refused_command_is_cleared)
{
	struct command cmd = { .kind = COMMAND_ON, .for_ms = 7 };
	const char *text = "{\"state\":\"on\",\"for_ms\":100,\"x\":1}";

	ck_assert(!payload_parse_command(text, strlen(text), &cmd, NULL));
	ck_assert_int_eq(cmd.kind, COMMAND_INVALID);
	ck_assert_uint_eq(cmd.for_ms, 0);
}
END_TEST

START_TEST(test_command_names)
{
	ck_assert_str_eq(payload_command_name(&(struct command){ .kind = COMMAND_ON, .for_ms = 5 }),
			 "timed \"on\"");
	ck_assert_str_eq(payload_command_name(&(struct command){ .kind = COMMAND_PULSE }),
			 "\"pulse\"");
	ck_assert_str_eq(payload_command_name(&(struct command){ .kind = COMMAND_BLINK }),
			 "\"blink\"");
}
END_TEST

/* --- error reports --- */

static cJSON *error_report(const char *topic, const void *data, size_t len, const char *reason)
{
	char *json = payload_error_json(topic, data, len, reason);
	cJSON *root;

	ck_assert_ptr_nonnull(json);
	root = cJSON_Parse(json);
	ck_assert_msg(root != NULL, "not JSON: %s", json);
	ck_assert(cJSON_IsObject(root));
	free(json);
	return root;
}

static const char *member(const cJSON *root, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);

	ck_assert_msg(cJSON_IsString(item), "no string member \"%s\"", name);
	return item->valuestring;
}

START_TEST(test_error_json_fields)
{
	cJSON *root = error_report("home/led/set", "onn", 3, "unknown command");

	ck_assert_str_eq(member(root, "topic"), "home/led/set");
	ck_assert_str_eq(member(root, "payload"), "onn");
	ck_assert_str_eq(member(root, "reason"), "unknown command");
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_error_json_escapes)
{
	const char *topic = "a/\"quoted\"/back\\slash";
	const char *payload = "{\"state\":\"o\\n\"}";
	const char *reason = "JSON \"state\" must be \"on\"";
	cJSON *root = error_report(topic, payload, strlen(payload), reason);

	ck_assert_str_eq(member(root, "topic"), topic);
	ck_assert_str_eq(member(root, "payload"), payload);
	ck_assert_str_eq(member(root, "reason"), reason);
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_error_json_replaces_non_printable)
{
	const char data[] = { 'a', '\0', 'b', '\x01', '\x7f', '\xff', '\n', '\t', 'z', '\x80' };
	cJSON *root = error_report("t", data, sizeof(data), "bad");

	ck_assert_str_eq(member(root, "payload"), "a?b?????z?");
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_error_json_payload_not_nul_terminated)
{
	char *data = malloc(2);
	cJSON *root;

	ck_assert_ptr_nonnull(data);
	memcpy(data, "on", 2);
	root = error_report("t", data, 2, "bad");
	ck_assert_str_eq(member(root, "payload"), "on");
	cJSON_Delete(root);
	root = error_report("t", "onGARBAGE", 2, "bad");
	ck_assert_str_eq(member(root, "payload"), "on");
	cJSON_Delete(root);
	free(data);
}
END_TEST

START_TEST(test_error_json_empty_payload)
{
	cJSON *root = error_report("t", "", 0, "empty payload");

	ck_assert_str_eq(member(root, "payload"), "");
	ck_assert_str_eq(member(root, "reason"), "empty payload");
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_error_json_long_payload_is_an_excerpt)
{
	enum { LONG = 100000 };
	char *data = malloc(LONG);
	cJSON *root;
	const char *excerpt;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < LONG; i++)
		data[i] = (char)('a' + i % 26);
	root = error_report("t", data, LONG, "payload too large");
	excerpt = member(root, "payload");
	ck_assert_uint_gt(strlen(excerpt), 0);
	ck_assert_uint_lt(strlen(excerpt), LONG);
	ck_assert_mem_eq(excerpt, data, strlen(excerpt));
	cJSON_Delete(root);
	free(data);
}
END_TEST

START_TEST(test_error_json_for_every_invalid_reason)
{
	/* The reasons the parser gives round-trip through the report. */
	static const struct bytes bad[] = { BYTES(""), BYTES("onn"), BYTES("{"),
					    BYTES("{\"state\":1}"), BYTES("{\"state\":\"x\"}") };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *reason = NULL;
		cJSON *root;

		ck_assert_int_eq(kind_of(bad[i].data, bad[i].len, &reason),
				 COMMAND_INVALID);
		ck_assert_ptr_nonnull(reason);
		root = error_report("dev/x/set", bad[i].data, bad[i].len, reason);
		ck_assert_str_eq(member(root, "reason"), reason);
		ck_assert_str_eq(member(root, "topic"), "dev/x/set");
		cJSON_Delete(root);
	}
}
END_TEST

Suite *payload_suite(void)
{
	Suite *s = suite_create("payload");
	TCase *parse_tc = tcase_create("parse");
	TCase *report_tc = tcase_create("error report");

	tcase_add_test(parse_tc, test_every_word_any_case_any_padding);
	tcase_add_test(parse_tc, test_json_state);
	tcase_add_test(parse_tc, test_payload_not_nul_terminated);
	tcase_add_test(parse_tc, test_invalid_words);
	tcase_add_test(parse_tc, test_binary_with_nuls);
	tcase_add_test(parse_tc, test_invalid_json);
	tcase_add_test(parse_tc, test_json_with_nul_bytes_is_invalid);
	tcase_add_test(parse_tc, test_json_with_trailing_bytes_is_invalid);
	tcase_add_test(parse_tc, test_deeply_nested_json);
	tcase_add_test(parse_tc, test_size_limit);
	tcase_add_test(parse_tc, test_reason_is_optional);
	tcase_add_test(parse_tc, test_pulse_word_and_json);
	tcase_add_test(parse_tc, test_timed_on_and_off);
	tcase_add_test(parse_tc, test_for_ms_out_of_range_or_not_whole);
	tcase_add_test(parse_tc, test_for_ms_only_with_on_or_off);
	tcase_add_test(parse_tc, test_blink);
	tcase_add_test(parse_tc, test_blink_refused);
	tcase_add_test(parse_tc, test_unknown_or_repeated_members_refused);
	tcase_add_test(parse_tc, test_refused_command_is_cleared);
	tcase_add_test(parse_tc, test_command_names);
	suite_add_tcase(s, parse_tc);
	tcase_add_test(report_tc, test_error_json_fields);
	tcase_add_test(report_tc, test_error_json_escapes);
	tcase_add_test(report_tc, test_error_json_replaces_non_printable);
	tcase_add_test(report_tc, test_error_json_payload_not_nul_terminated);
	tcase_add_test(report_tc, test_error_json_empty_payload);
	tcase_add_test(report_tc, test_error_json_long_payload_is_an_excerpt);
	tcase_add_test(report_tc, test_error_json_for_every_invalid_reason);
	suite_add_tcase(s, report_tc);
	return s;
}
