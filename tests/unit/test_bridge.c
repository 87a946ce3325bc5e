/* SPDX-License-Identifier: MIT */
/* bridge: the daemon's behaviour on the host, in milliseconds. The real
 * bridge runs with the in-memory GPIO backend (gpio_mem.c) and a recording
 * MQTT client (mqtt_fake.c) in which the test plays the broker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "bridge_harness.h"
#include "exit_status.h"
#include "gpio_mem.h"
#include "log.h"
#include "mqtt_fake.h"
#include "suites.h"

enum { LED, FAN, BUTTON, PUMP, SPARE, N_LINES };
static const char *const names[N_LINES] = { "LED", "FAN", "BUTTON", "PUMP", "SPARE" };

static struct bridge *b;
static struct mqtt *m;

#define BASE_MQTT "mqtt = { host = \"127.0.0.1\"; client_id = \"unit\"; base_topic = \"t\"; };\n"

static const char mapping[] = BASE_MQTT
	"outputs = ( { name = \"led\"; line = \"LED\"; },\n"
	"            { name = \"fan\"; line = \"FAN\"; } );\n"
	"inputs = ( { name = \"button\"; line = \"BUTTON\"; } );\n";

static struct harness h;

static void write_mapping(const char *text)
{
	harness_write_mapping(&h, text);
}

/* The bridge on text, connected, subscribed and its states sent. */
static void start(const char *text)
{
	harness_start(&h, text);
	b = h.bridge;
	m = h.mqtt;
}

static void setup(void)
{
	harness_setup(&h, names, N_LINES);
	b = NULL;
}

static void teardown(void)
{
	harness_teardown(&h);
}

static const char *last_payload(const char *topic)
{
	const struct fake_publication *p = mqtt_fake_last_on(m, topic);

	return p ? p->payload : NULL;
}

static void command(const char *topic, const char *payload, bool retained)
{
	mqtt_fake_deliver(m, topic, payload, retained);
}

START_TEST(test_start_publishes_online_and_states)
{
	start(mapping);
	ck_assert(mqtt_fake_subscribed(m, "t/output/+/set"));
	ck_assert_str_eq(last_payload("t/status"), "online");
	ck_assert(mqtt_fake_last_on(m, "t/status")->retain);
	ck_assert_str_eq(last_payload("t/output/led"), "OFF");
	ck_assert_str_eq(last_payload("t/output/fan"), "OFF");
	ck_assert_str_eq(last_payload("t/input/button"), "OFF");
	ck_assert_str_eq(mqtt_fake_will_topic(m), "t/status");
}
END_TEST

START_TEST(test_commands_set_lines_and_publish_states)
{
	start(mapping);
	command("t/output/led/set", "on", false);
	ck_assert_int_eq(gpio_mem_value(0, LED), 1);
	ck_assert_str_eq(last_payload("t/output/led"), "ON");
	ck_assert(mqtt_fake_last_on(m, "t/output/led")->retain);
	command("t/output/led/set", "toggle", false);
	ck_assert_int_eq(gpio_mem_value(0, LED), 0);
	ck_assert_str_eq(last_payload("t/output/led"), "OFF");
	command("t/output/fan/set", "{\"state\":\"on\"}", false);
	ck_assert_int_eq(gpio_mem_value(0, FAN), 1);
	ck_assert_int_eq(gpio_mem_value(0, LED), 0);
	ck_assert_str_eq(last_payload("t/output/fan"), "ON");
}
END_TEST

START_TEST(test_bad_payload_changes_nothing_and_is_reported)
{
	start(mapping);
	command("t/output/led/set", "on", false);
	mqtt_fake_forget_publications(m);
	command("t/output/led/set", "blink!", false);
	ck_assert_int_eq(gpio_mem_value(0, LED), 1);
	ck_assert_ptr_null(mqtt_fake_last_on(m, "t/output/led"));
	ck_assert_ptr_nonnull(strstr(last_payload("t/error"), "t/output/led/set"));
	ck_assert(!mqtt_fake_last_on(m, "t/error")->retain);
}
END_TEST

/* A retained toggle would flip the line on every reconnect; a retained
 * on/off is a state to restore. */
START_TEST(test_retained_toggle_is_ignored)
{
	start(mapping);
	mqtt_fake_forget_publications(m);
	command("t/output/led/set", "toggle", true);
	ck_assert_int_eq(gpio_mem_value(0, LED), 0);
	ck_assert_uint_eq(mqtt_fake_published(m), 0);
	command("t/output/led/set", "on", true);
	ck_assert_int_eq(gpio_mem_value(0, LED), 1);
}
END_TEST

/* Ten reports at once, then the rest are counted, not published. */
START_TEST(test_error_budget)
{
	start(mapping);
	for (int i = 0; i < 25; i++)
		command("t/output/led/set", "nonsense", false);
	ck_assert_uint_eq(mqtt_fake_count_on(m, "t/error"), 10);
}
END_TEST

START_TEST(test_unknown_topic_is_ignored)
{
	start(mapping);
	mqtt_fake_forget_publications(m);
	command("t/output/nothing/set", "on", false);
	ck_assert_uint_eq(mqtt_fake_published(m), 0);
}
END_TEST

START_TEST(test_edges_publish_states)
{
	start(mapping);
	ck_assert_int_eq(gpio_mem_drive_input(0, BUTTON, 1, 1000), 0);
	ck_assert_int_eq(bridge_poll(b, 100), 0);
	ck_assert_str_eq(last_payload("t/input/button"), "ON");
	ck_assert_int_eq(gpio_mem_drive_input(0, BUTTON, 0, 2000), 0);
	ck_assert_int_eq(bridge_poll(b, 100), 0);
	ck_assert_str_eq(last_payload("t/input/button"), "OFF");
}
END_TEST

/* Nothing is published while the broker is away; every state is owed to
 * the new connection once it answered the subscription. */
START_TEST(test_states_owed_after_reconnect)
{
	start(mapping);
	mqtt_fake_drop(m);
	command("t/output/led/set", "on", false); /* queued in the broker's session, say */
	mqtt_fake_forget_publications(m);
	mqtt_fake_accept(m);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	ck_assert_ptr_null(mqtt_fake_last_on(m, "t/output/led"));
	mqtt_fake_suback(m);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	ck_assert_str_eq(last_payload("t/output/led"), "ON");
	ck_assert_str_eq(last_payload("t/input/button"), "OFF");
}
END_TEST

/* A broker that allows only exact filters: each command topic instead. */
START_TEST(test_refused_wildcard)
{
	start(mapping);
	mqtt_fake_refuse(m, "t/output/+/set");
	ck_assert(mqtt_fake_subscribed(m, "t/output/led/set"));
	ck_assert(mqtt_fake_subscribed(m, "t/output/fan/set"));
}
END_TEST

/* A reload: what stays keeps its line and value untouched, a changed line is
 * reconfigured in place, a new one requested, a dropped one released, and
 * the commands follow the new mapping. */
START_TEST(test_reload_hands_lines_over)
{
	start(mapping);
	command("t/output/led/set", "on", false);
	command("t/output/fan/set", "on", false);
	write_mapping(BASE_MQTT
		      "outputs = ( { name = \"led\"; line = \"LED\"; },\n"
		      "            { name = \"fan\"; line = \"FAN\"; active_low = true; },\n"
		      "            { name = \"pump\"; line = \"PUMP\"; } );\n");
	bridge_reload(b);
	ck_assert_int_eq(gpio_mem_logical_value(0, LED), 1);
	ck_assert_uint_eq(gpio_mem_counts(0, LED).requests, 1);
	ck_assert_uint_eq(gpio_mem_counts(0, LED).releases, 0);
	ck_assert_int_eq(gpio_mem_logical_value(0, FAN), 1);
	ck_assert_int_eq(gpio_mem_value(0, FAN), 0); /* active low now */
	ck_assert_uint_eq(gpio_mem_counts(0, FAN).releases, 0);
	ck_assert(gpio_mem_is_requested(0, PUMP));
	ck_assert(!gpio_mem_is_requested(0, BUTTON));
	command("t/output/pump/set", "on", false);
	ck_assert_int_eq(gpio_mem_value(0, PUMP), 1);
	ck_assert_str_eq(last_payload("t/output/pump"), "ON");
}
END_TEST

/* A refused reload changes nothing: same lines, same values, same topics. */
START_TEST(test_refused_reload_changes_nothing)
{
	start(mapping);
	command("t/output/led/set", "on", false);
	ck_assert_int_eq(gpio_mem_hold_by_other(0, SPARE, "someone"), 0);
	write_mapping(BASE_MQTT "outputs = ( { name = \"led\"; line = \"LED\"; },\n"
				"            { name = \"spare\"; line = \"SPARE\"; } );\n");
	bridge_reload(b);
	ck_assert_int_eq(gpio_mem_value(0, LED), 1);
	ck_assert(gpio_mem_is_requested(0, FAN));
	ck_assert(gpio_mem_is_requested(0, BUTTON));
	ck_assert_uint_eq(gpio_mem_counts(0, LED).releases, 0);
	write_mapping("outputs = ( oops");
	bridge_reload(b);
	command("t/output/fan/set", "on", false);
	ck_assert_int_eq(gpio_mem_value(0, FAN), 1);
}
END_TEST

START_TEST(test_missing_line_refuses_start)
{
	int status;

	write_mapping(BASE_MQTT "outputs = ( { name = \"x\"; line = \"NOPE\"; } );\n");
	ck_assert_ptr_null(bridge_new(h.path, &status));
	ck_assert_int_eq(status, EXIT_CONFIG);
}
END_TEST

Suite *bridge_suite(void)
{
	Suite *s = suite_create("bridge");
	TCase *tc = tcase_create("bridge");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_start_publishes_online_and_states);
	tcase_add_test(tc, test_commands_set_lines_and_publish_states);
	tcase_add_test(tc, test_bad_payload_changes_nothing_and_is_reported);
	tcase_add_test(tc, test_retained_toggle_is_ignored);
	tcase_add_test(tc, test_error_budget);
	tcase_add_test(tc, test_unknown_topic_is_ignored);
	tcase_add_test(tc, test_edges_publish_states);
	tcase_add_test(tc, test_states_owed_after_reconnect);
	tcase_add_test(tc, test_refused_wildcard);
	tcase_add_test(tc, test_reload_hands_lines_over);
	tcase_add_test(tc, test_refused_reload_changes_nothing);
	tcase_add_test(tc, test_missing_line_refuses_start);
	suite_add_tcase(s, tc);
	return s;
}
