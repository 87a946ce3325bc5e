/* SPDX-License-Identifier: MIT */
/* hints: the key a user meant, and syntax errors explained. */
#include <string.h>

#include "hints.h"
#include "suites.h"

static const char *const keys[] = { "name", "line", "chip", "debounce_ms", "bias",
				    "active_low", "state_topic", NULL };

START_TEST(test_nearest_key)
{
	ck_assert_str_eq(hints_nearest_key("debounce", keys), "debounce_ms");
	ck_assert_str_eq(hints_nearest_key("deboucne_ms", keys), "debounce_ms");
	ck_assert_str_eq(hints_nearest_key("activelow", keys), "active_low");
	ck_assert_str_eq(hints_nearest_key("Chip", keys), "chip");
	ck_assert_str_eq(hints_nearest_key("state-topic", keys), "state_topic");
	ck_assert_ptr_null(hints_nearest_key("pull", keys));
	ck_assert_ptr_null(hints_nearest_key("xyzzy", keys));
	ck_assert_ptr_null(hints_nearest_key("an_overly_long_key_name_that_is_nothing_like_any_"
					     "other_key_at_all_really",
					     keys));
}
END_TEST

static void expect_hint(const char *text, int line, const char *fragment)
{
	const char *hint = hints_syntax(text, line);

	ck_assert_msg(hint && strstr(hint, fragment), "line %d of:\n%s\nhint: %s", line, text,
		      hint ? hint : "(none)");
}

START_TEST(test_syntax_hints)
{
	expect_hint("mqtt:\n  host: broker\n", 2, "YAML");
	expect_hint("- name: led\n", 1, "YAML");
	expect_hint("mqtt = {\n  host = 'broker';\n};\n", 2, "double quotes");
	expect_hint("\xef\xbb\xbfmqtt = { };\n", 1, "byte order mark");
	expect_hint("outputs = (\n  { name = \"a\"; },\n);\n", 3, "comma before the closing");
	expect_hint("outputs = (\n  { name = \"a\"; },\n  # the end\n\n);\n", 5,
		    "comma before the closing");
	ck_assert_ptr_null(hints_syntax("mqtt = { host = \"b\"; };\n", 1));
	ck_assert_ptr_null(hints_syntax("a = 1;\n", 9));
}
END_TEST

Suite *hints_suite(void)
{
	Suite *s = suite_create("hints");
	TCase *tc = tcase_create("hints");

	tcase_add_test(tc, test_nearest_key);
	tcase_add_test(tc, test_syntax_hints);
	suite_add_tcase(s, tc);
	return s;
}
