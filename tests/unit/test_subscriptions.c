/* SPDX-License-Identifier: MIT */
/* subscriptions: one wildcard for the default command topics, when safe. */
#include <stdlib.h>
#include <string.h>

#include "subscriptions.h"
#include "suites.h"

#define MAX_LINES 8

/* A mapping held in static storage: cfg_of() fills it from the arguments. */
static struct cfg_line lines[MAX_LINES];
static char *commands[MAX_LINES][2];
static struct config cfg;

static void add_line(bool output, const char *command_topic, const char *state_topic)
{
	struct cfg_line *l = &lines[cfg.n_lines++];

	ck_assert_uint_le(cfg.n_lines, MAX_LINES);
	memset(l, 0, sizeof(*l));
	l->output = output;
	commands[cfg.n_lines - 1][0] = (char *)command_topic;
	l->command_topics = commands[cfg.n_lines - 1];
	l->n_commands = command_topic ? 1 : 0;
	l->state_topic = (char *)state_topic;
	if (output)
		cfg.n_outputs = cfg.n_lines; /* outputs come first */
}

static void new_cfg(const char *base)
{
	static char status[64], error[64];

	memset(&cfg, 0, sizeof(cfg));
	snprintf(status, sizeof(status), "%s/status", base);
	snprintf(error, sizeof(error), "%s/error", base);
	cfg.mqtt.base_topic = (char *)base;
	cfg.status_topic = status;
	cfg.error_topic = error;
	cfg.lines = lines;
}

static void plan(struct subscriptions *s, bool wildcard_allowed)
{
	ck_assert_int_eq(subscriptions_plan(s, &cfg, wildcard_allowed), 0);
}

START_TEST(test_default_topics_share_one_wildcard)
{
	struct subscriptions s;

	new_cfg("home");
	add_line(true, "home/output/led/set", "home/output/led");
	add_line(true, "home/output/fan/set", "home/output/fan");
	add_line(true, "home/output/pump/set", "home/output/pump");
	add_line(false, NULL, "home/input/button");
	plan(&s, true);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.filters[0], "home/output/+/set");
	ck_assert_str_eq(s.wildcard, "home/output/+/set");
	subscriptions_free(&s);
}
END_TEST

START_TEST(test_one_output_is_subscribed_itself)
{
	struct subscriptions s;

	new_cfg("home");
	add_line(true, "home/output/led/set", "home/output/led");
	add_line(false, NULL, "home/input/button");
	plan(&s, true);
	ck_assert_ptr_null(s.wildcard);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.filters[0], "home/output/led/set");
	subscriptions_free(&s);
}
END_TEST

START_TEST(test_not_allowed_subscribes_each_topic)
{
	struct subscriptions s;

	new_cfg("home");
	add_line(true, "home/output/led/set", "home/output/led");
	add_line(true, "home/output/fan/set", "home/output/fan");
	plan(&s, false);
	ck_assert_ptr_null(s.wildcard);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.filters[0], "home/output/led/set");
	ck_assert_str_eq(s.filters[1], "home/output/fan/set");
	subscriptions_free(&s);
}
END_TEST

START_TEST(test_other_topics_beside_the_wildcard)
{
	struct subscriptions s;

	new_cfg("lab/bench");
	add_line(true, "public/led", "public/led/state");
	add_line(true, "lab/bench/output/a/set", "lab/bench/output/a");
	add_line(true, "lab/bench/output/b/sub/set", "lab/bench/output/b");
	add_line(true, "lab/bench/output/c/set", "lab/bench/output/c");
	/* a topic of its own that the wildcard carries anyway */
	add_line(true, "lab/bench/output/dd/set", "lab/bench/output/d");
	plan(&s, true);
	ck_assert_str_eq(s.wildcard, "lab/bench/output/+/set");
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.filters[0], "lab/bench/output/+/set");
	ck_assert_str_eq(s.filters[1], "public/led");
	ck_assert_str_eq(s.filters[2], "lab/bench/output/b/sub/set");
	subscriptions_free(&s);
}
END_TEST

/* Under MQTT 3.1.1 the broker would send the daemon's own states back. */
START_TEST(test_no_wildcard_over_a_state_topic)
{
	struct subscriptions s;

	new_cfg("home");
	add_line(true, "home/output/led/set", "home/output/led");
	add_line(true, "home/output/fan/set", "home/output/fan");
	add_line(false, NULL, "home/output/button/set");
	plan(&s, true);
	ck_assert_ptr_null(s.wildcard);
	ck_assert_uint_eq(s.n, 2);
	subscriptions_free(&s);
}
END_TEST

START_TEST(test_no_wildcard_over_the_status_topic)
{
	struct subscriptions s;

	new_cfg("home");
	cfg.status_topic = "home/output/status/set";
	add_line(true, "home/output/led/set", "home/output/led");
	add_line(true, "home/output/fan/set", "home/output/fan");
	plan(&s, true);
	ck_assert_ptr_null(s.wildcard);
	subscriptions_free(&s);
}
END_TEST

START_TEST(test_covers_one_level_only)
{
	struct subscriptions s;

	new_cfg("home");
	add_line(true, "home/output/led/set", "home/output/led");
	add_line(true, "home/output/fan/set", "home/output/fan");
	plan(&s, true);
	ck_assert(subscriptions_covers(&s, "home/output/pump/set"));
	ck_assert(subscriptions_covers(&s, "home/output//set"));
	ck_assert(!subscriptions_covers(&s, "home/output/a/b/set"));
	ck_assert(!subscriptions_covers(&s, "home/output/set"));
	ck_assert(!subscriptions_covers(&s, "home/output/led"));
	ck_assert(!subscriptions_covers(&s, "home/output/led/settle"));
	ck_assert(!subscriptions_covers(&s, "home/outputs/led/set"));
	ck_assert(!subscriptions_covers(&s, "other/output/led/set"));
	subscriptions_free(&s);
	plan(&s, false);
	ck_assert(!subscriptions_covers(&s, "home/output/led/set"));
	subscriptions_free(&s);
}
END_TEST

START_TEST(test_no_outputs_no_filters)
{
	struct subscriptions s;

	new_cfg("home");
	add_line(false, NULL, "home/input/button");
	plan(&s, true);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_ptr_null(s.wildcard);
	subscriptions_free(&s);
	ck_assert_ptr_null(s.filters);
}
END_TEST

Suite *subscriptions_suite(void)
{
	Suite *s = suite_create("subscriptions");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_default_topics_share_one_wildcard);
	tcase_add_test(tc, test_one_output_is_subscribed_itself);
	tcase_add_test(tc, test_not_allowed_subscribes_each_topic);
	tcase_add_test(tc, test_other_topics_beside_the_wildcard);
	tcase_add_test(tc, test_no_wildcard_over_a_state_topic);
	tcase_add_test(tc, test_no_wildcard_over_the_status_topic);
	tcase_add_test(tc, test_covers_one_level_only);
	tcase_add_test(tc, test_no_outputs_no_filters);
	suite_add_tcase(s, tc);
	return s;
}
