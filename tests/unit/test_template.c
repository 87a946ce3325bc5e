/* SPDX-License-Identifier: MIT */
/* template: %h, %m and %% in client ids and topics. */
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "template.h"

static const struct template_vars board = { .host = "pi-07", .machine = "0123456789ab" };

static void expect_expansion(const char *text, const char *expected)
{
	const char *error = NULL;
	char *out = template_expand(text, &board, &error);

	ck_assert_msg(out != NULL, "\"%s\": %s", text, error ? error : "?");
	ck_assert_str_eq(out, expected);
	free(out);
}

static void expect_refusal(const char *text, const struct template_vars *vars,
			   const char *fragment)
{
	const char *error = NULL;
	char *out = template_expand(text, vars, &error);

	ck_assert_msg(out == NULL, "\"%s\" expanded to \"%s\"", text, out ? out : "");
	ck_assert_ptr_nonnull(error);
	ck_assert_msg(strstr(error, fragment), "\"%s\": \"%s\" lacks \"%s\"", text, error,
		      fragment);
}

START_TEST(test_variables_are_replaced)
{
	expect_expansion("classroom/%h/led", "classroom/pi-07/led");
	expect_expansion("gpio2mqtt-%h-%m", "gpio2mqtt-pi-07-0123456789ab");
	expect_expansion("%h%h", "pi-07pi-07");
	expect_expansion("100%%", "100%");
	expect_expansion("%%h", "%h");
	expect_expansion("plain/topic", "plain/topic");
	expect_expansion("", "");
}
END_TEST

START_TEST(test_unknown_or_missing_variables_are_refused)
{
	const struct template_vars none = { 0 };

	expect_refusal("a/%x", &board, "unknown '%' variable");
	expect_refusal("trailing%", &board, "unknown '%' variable");
	expect_refusal("%H", &board, "unknown");
	expect_refusal("a/%h", &none, "%h");
	expect_refusal("a/%m", &none, "/etc/machine-id");
	ck_assert(template_has_vars("a%%"));
	ck_assert(!template_has_vars("a/b"));
}
END_TEST

START_TEST(test_short_host_and_machine_id)
{
	char host[8], id[13];

	template_short_host(host, sizeof(host), "pi-07.lab.example");
	ck_assert_str_eq(host, "pi-07");
	template_short_host(host, sizeof(host), "averyveryverylongname");
	ck_assert_str_eq(host, "averyve");
	ck_assert(template_machine_id(id, "0123456789ABCDEF0123456789abcdef\n"));
	ck_assert_str_eq(id, "0123456789ab");
	ck_assert(!template_machine_id(id, "0123456789a\n"));
	ck_assert(!template_machine_id(id, "uninitialized\n"));
}
END_TEST

Suite *template_suite(void)
{
	Suite *s = suite_create("template");
	TCase *tc = tcase_create("expand");

	tcase_add_test(tc, test_variables_are_replaced);
	tcase_add_test(tc, test_unknown_or_missing_variables_are_refused);
	tcase_add_test(tc, test_short_host_and_machine_id);
	suite_add_tcase(s, tc);
	return s;
}
