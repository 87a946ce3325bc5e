/* SPDX-License-Identifier: MIT */
/* topics: the topic scheme and '+' matching. */
#include <stdlib.h>

#include "suites.h"
#include "topics.h"

static void expect_topic(char *topic, const char *expected)
{
	ck_assert_ptr_nonnull(topic);
	ck_assert_str_eq(topic, expected);
	free(topic);
}

START_TEST(test_scheme)
{
	expect_topic(topics_state("home/pi", true, "led"), "home/pi/output/led");
	expect_topic(topics_state("home/pi", false, "button"), "home/pi/input/button");
	expect_topic(topics_command("home/pi", "led"), "home/pi/output/led/set");
	expect_topic(topics_command_wildcard("home/pi"), "home/pi/output/+/set");
	expect_topic(topics_event("home/pi", "button"), "home/pi/input/button/event");
	expect_topic(topics_count("home/pi", "meter"), "home/pi/input/meter/count");
	expect_topic(topics_status("home/pi"), "home/pi/status");
	expect_topic(topics_error("home/pi"), "home/pi/error");
}
END_TEST

START_TEST(test_match)
{
	ck_assert(topics_match("a/output/+/set", "a/output/led/set"));
	ck_assert(topics_match("a/output/+/set", "a/output//set"));
	ck_assert(!topics_match("a/output/+/set", "a/output/led/x/set"));
	ck_assert(!topics_match("a/output/+/set", "a/output/led"));
	ck_assert(!topics_match("a/output/+/set", NULL));
	ck_assert(topics_match("a/+", "a/"));
	ck_assert(topics_match("a/+", "a/b"));
	ck_assert(!topics_match("a/+", "a/b/c"));
	ck_assert(topics_match("a/b", "a/b"));
	ck_assert(!topics_match("a/b", "a/bc"));
}
END_TEST

Suite *topics_suite(void)
{
	Suite *s = suite_create("topics");
	TCase *tc = tcase_create("topics");

	tcase_add_test(tc, test_scheme);
	tcase_add_test(tc, test_match);
	suite_add_tcase(s, tc);
	return s;
}
