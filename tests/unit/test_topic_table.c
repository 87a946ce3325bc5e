/* SPDX-License-Identifier: MIT */
/* topic_table: exact, byte-for-byte topic -> index lookup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topic_table.h"
#include "suites.h"

static long find(const struct topic_table *m, const char *topic)
{
	return topic_table_find(m, topic, strlen(topic));
}

START_TEST(test_add_and_find)
{
	struct topic_table *m = topic_table_new(4);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(topic_table_add(m, "home/led/set", 3), 0);
	ck_assert_int_eq(topic_table_add(m, "home/fan/set", 0), 0);
	ck_assert_int_eq(find(m, "home/led/set"), 3);
	ck_assert_int_eq(find(m, "home/fan/set"), 0);
	ck_assert_int_eq(find(m, "home/pump/set"), -1);
	topic_table_free(m);
}
END_TEST

START_TEST(test_empty_table_finds_nothing)
{
	struct topic_table *m = topic_table_new(0);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(find(m, "a"), -1);
	ck_assert_int_eq(find(m, ""), -1);
	topic_table_free(m);
}
END_TEST

START_TEST(test_only_exact_topics_match)
{
	static const char *const near_misses[] = {
		"home/led",	  "home/led/",	     "home/led/se", "home/led/set/",
		"home/led/set/x", "home/led/setx",   "Home/led/set", "HOME/LED/SET",
		" home/led/set",  "home/led/set ",   "/home/led/set", "home//led/set",
		"",		  "home/led/set\n",
	};
	struct topic_table *m = topic_table_new(2);

	ck_assert_int_eq(topic_table_add(m, "home/led/set", 1), 0);
	for (size_t i = 0; i < sizeof(near_misses) / sizeof(near_misses[0]); i++)
		ck_assert_msg(find(m, near_misses[i]) == -1, "\"%s\" matched", near_misses[i]);
	ck_assert_int_eq(find(m, "home/led/set"), 1);
	topic_table_free(m);
}
END_TEST

START_TEST(test_wildcards_in_incoming_topics_match_nothing)
{
	static const char *const wildcards[] = { "#",	       "+",	       "home/#",
						 "home/+/set", "+/led/set",    "home/led/+",
						 "home/led/#", "+/+/+",        "home/led/set/#" };
	struct topic_table *m = topic_table_new(2);

	ck_assert_int_eq(topic_table_add(m, "home/led/set", 1), 0);
	for (size_t i = 0; i < sizeof(wildcards) / sizeof(wildcards[0]); i++)
		ck_assert_msg(find(m, wildcards[i]) == -1, "\"%s\" matched", wildcards[i]);
	topic_table_free(m);
}
END_TEST

START_TEST(test_wildcard_characters_are_plain_bytes)
{
	struct topic_table *m = topic_table_new(2);

	ck_assert_int_eq(topic_table_add(m, "a/+/b", 4), 0);
	ck_assert_int_eq(topic_table_add(m, "c/#", 5), 0);
	ck_assert_int_eq(find(m, "a/x/b"), -1);
	ck_assert_int_eq(find(m, "c/d"), -1);
	ck_assert_int_eq(find(m, "a/+/b"), 4);
	ck_assert_int_eq(find(m, "c/#"), 5);
	topic_table_free(m);
}
END_TEST

START_TEST(test_topic_len_bounds_the_comparison)
{
	/* The incoming topic is followed by bytes that are not part of it. */
	const char buffer[] = { 'a', '/', 'b', 'X', 'Y', 'Z' };
	const char with_nul[] = { 'a', '/', 'b', '\0', 'c' };
	struct topic_table *m = topic_table_new(2);

	ck_assert_int_eq(topic_table_add(m, "a/b", 9), 0);
	ck_assert_int_eq(topic_table_find(m, buffer, 3), 9);
	ck_assert_int_eq(topic_table_find(m, buffer, 2), -1);
	ck_assert_int_eq(topic_table_find(m, buffer, sizeof(buffer)), -1);
	ck_assert_int_eq(topic_table_find(m, with_nul, 3), 9);
	ck_assert_int_eq(topic_table_find(m, with_nul, sizeof(with_nul)), -1);
	ck_assert_int_eq(topic_table_find(m, with_nul, 4), -1);
	topic_table_free(m);
}
END_TEST

START_TEST(test_topic_len_exact_heap_buffer)
{
	/* Exactly topic_len bytes, so a read past the end shows under valgrind. */
	char *topic = malloc(3);
	struct topic_table *m = topic_table_new(1);

	ck_assert_ptr_nonnull(topic);
	memcpy(topic, "x/y", 3);
	ck_assert_int_eq(topic_table_add(m, "x/y", 2), 0);
	ck_assert_int_eq(topic_table_find(m, topic, 3), 2);
	memcpy(topic, "x/z", 3);
	ck_assert_int_eq(topic_table_find(m, topic, 3), -1);
	free(topic);
	topic_table_free(m);
}
END_TEST

START_TEST(test_duplicate_topic_is_eexist)
{
	char copy[] = "home/led/set";
	struct topic_table *m = topic_table_new(4);

	ck_assert_int_eq(topic_table_add(m, "home/led/set", 1), 0);
	errno = 0;
	ck_assert_int_eq(topic_table_add(m, copy, 2), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(find(m, "home/led/set"), 1);
	topic_table_free(m);
}
END_TEST

START_TEST(test_full_table_is_enospc)
{
	struct topic_table *m = topic_table_new(2);

	ck_assert_int_eq(topic_table_add(m, "a", 0), 0);
	ck_assert_int_eq(topic_table_add(m, "b", 1), 0);
	errno = 0;
	ck_assert_int_eq(topic_table_add(m, "c", 2), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(find(m, "a"), 0);
	ck_assert_int_eq(find(m, "b"), 1);
	ck_assert_int_eq(find(m, "c"), -1);
	topic_table_free(m);
}
END_TEST

START_TEST(test_zero_capacity_is_enospc)
{
	struct topic_table *m = topic_table_new(0);

	errno = 0;
	ck_assert_int_eq(topic_table_add(m, "a", 0), -1);
	ck_assert_int_eq(errno, ENOSPC);
	topic_table_free(m);
}
END_TEST

enum { MANY = 5000 };

START_TEST(test_many_topics)
{
	char (*topics)[32] = calloc(MANY, sizeof(*topics));
	struct topic_table *m = topic_table_new(MANY);
	char other[32];

	ck_assert_ptr_nonnull(topics);
	ck_assert_ptr_nonnull(m);
	for (size_t i = 0; i < MANY; i++) {
		snprintf(topics[i], sizeof(topics[i]), "site/room%zu/line", i);
		ck_assert_int_eq(topic_table_add(m, topics[i], MANY - 1 - i), 0);
	}
	for (size_t i = 0; i < MANY; i++) {
		ck_assert_int_eq(find(m, topics[i]), (long)(MANY - 1 - i));
		snprintf(other, sizeof(other), "site/room%zu/line/set", i);
		ck_assert_int_eq(find(m, other), -1);
	}
	ck_assert_int_eq(find(m, "site/room5000/line"), -1);
	ck_assert_int_eq(topic_table_add(m, "one/more", 0), -1);
	ck_assert_int_eq(errno, ENOSPC);
	topic_table_free(m);
	free(topics);
}
END_TEST

Suite *topic_table_suite(void)
{
	Suite *s = suite_create("topic_table");
	TCase *tc = tcase_create("lookup");

	tcase_add_test(tc, test_add_and_find);
	tcase_add_test(tc, test_empty_table_finds_nothing);
	tcase_add_test(tc, test_only_exact_topics_match);
	tcase_add_test(tc, test_wildcards_in_incoming_topics_match_nothing);
	tcase_add_test(tc, test_wildcard_characters_are_plain_bytes);
	tcase_add_test(tc, test_topic_len_bounds_the_comparison);
	tcase_add_test(tc, test_topic_len_exact_heap_buffer);
	tcase_add_test(tc, test_duplicate_topic_is_eexist);
	tcase_add_test(tc, test_full_table_is_enospc);
	tcase_add_test(tc, test_zero_capacity_is_enospc);
	tcase_add_test(tc, test_many_topics);
	suite_add_tcase(s, tc);
	return s;
}
