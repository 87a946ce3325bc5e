/* SPDX-License-Identifier: MIT */
/* output: pulses, blinks, interlocks, the safety limit, broker loss and a
 * reload's hand-over, through the real bridge with the in-memory GPIO
 * backend (gpio_mem.c) and the recording MQTT client (mqtt_fake.c). Times
 * are real but short: tens of milliseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "bridge_harness.h"
#include "clock.h"
#include "gpio_mem.h"
#include "log.h"
#include "mqtt_fake.h"
#include "suites.h"

enum { DOOR, LAMP, UP, DOWN, HEATER, VALVE, N_LINES };
static const char *const names[N_LINES] = { "DOOR", "LAMP", "UP", "DOWN", "HEATER", "VALVE" };

static struct bridge *b;
static struct mqtt *m;

#define MQTT "mqtt = { host = \"127.0.0.1\"; client_id = \"unit\"; base_topic = \"t\"; };\n"
#define DOOR_OUT "{ name = \"door\"; line = \"DOOR\"; pulse_ms = 40; },\n"
#define LAMP_OUT "{ name = \"lamp\"; line = \"LAMP\"; },\n"
#define MOTOR_OUT                                                                          \
	"{ name = \"up\"; line = \"UP\"; interlock = \"motor\"; interlock_wait_ms = 30; },\n" \
	"{ name = \"down\"; line = \"DOWN\"; interlock = \"motor\"; interlock_wait_ms = 30; },\n"
#define HEATER_OUT "{ name = \"heater\"; line = \"HEATER\"; max_on_ms = 40; },\n"
#define VALVE_OUT "{ name = \"valve\"; line = \"VALVE\"; on_disconnect = \"off\"; " \
		  "on_disconnect_after_s = 0; }\n"

static const char mapping[] =
	MQTT "outputs = (\n" DOOR_OUT LAMP_OUT MOTOR_OUT HEATER_OUT VALVE_OUT ");\n";

static struct harness h;

static void write_mapping(const char *text)
{
	harness_write_mapping(&h, text);
}

/* The bridge on text, connected, subscribed and its states sent; the
 * publications of the start forgotten. */
static void start(const char *text)
{
	harness_start(&h, text);
	b = h.bridge;
	m = h.mqtt;
	mqtt_fake_forget_publications(m);
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

/* Runs the bridge's loop for ms milliseconds: its timers fire on time. */
static void run_for(int ms)
{
	long long end = clock_now_ms() + ms;

	for (long long now = clock_now_ms(); now < end; now = clock_now_ms())
		ck_assert_int_eq(bridge_poll(b, (int)(end - now)), 0);
}

static void command(const char *name, const char *payload)
{
	char topic[64];

	snprintf(topic, sizeof(topic), "t/output/%s/set", name);
	mqtt_fake_deliver(m, topic, payload, false);
}

static int line(int offset)
{
	return gpio_mem_value(0, (unsigned int)offset);
}

static size_t states(const char *name, const char *payload)
{
	char topic[64];
	size_t n = 0;

	snprintf(topic, sizeof(topic), "t/output/%s", name);
	for (size_t i = 0; i < mqtt_fake_published(m); i++) {
		const struct fake_publication *p = mqtt_fake_publication(m, i);

		n += strcmp(p->topic, topic) == 0 && strcmp(p->payload, payload) == 0;
	}
	return n;
}

/* The index of the first publication of payload on name's state, or -1. */
static long first_state(const char *name, const char *payload)
{
	char topic[64];

	snprintf(topic, sizeof(topic), "t/output/%s", name);
	for (size_t i = 0; i < mqtt_fake_published(m); i++) {
		const struct fake_publication *p = mqtt_fake_publication(m, i);

		if (strcmp(p->topic, topic) == 0 && strcmp(p->payload, payload) == 0)
			return (long)i;
	}
	return -1;
}

static const char *last_error(void)
{
	const struct fake_publication *p = mqtt_fake_last_on(m, "t/error");

	return p ? p->payload : "";
}

START_TEST(test_pulse_sets_then_returns)
{
	start(mapping);
	command("door", "pulse");
	ck_assert_int_eq(line(DOOR), 1);
	ck_assert_uint_eq(states("door", "ON"), 1);
	run_for(20);
	ck_assert_int_eq(line(DOOR), 1);
	run_for(40);
	ck_assert_int_eq(line(DOOR), 0);
	ck_assert_uint_eq(states("door", "OFF"), 1);
	ck_assert_int_lt(first_state("door", "ON"), first_state("door", "OFF"));
}
END_TEST

/* A stop in the middle of a pulse or blink ends it off before the lines
 * are released; a timed "off" is not switched back on. */
START_TEST(test_stop_ends_pulses_off)
{
	start(mapping);
	command("door", "pulse");
	command("up", "{\"state\":\"blink\",\"on_ms\":1000,\"off_ms\":1000}");
	command("lamp", "on");
	command("lamp", "{\"state\":\"off\",\"for_ms\":1000}");
	ck_assert_int_eq(line(DOOR), 1);
	ck_assert_int_eq(line(UP), 1);
	bridge_stop(b);
	ck_assert_int_eq(line(DOOR), 0);
	ck_assert_int_eq(line(UP), 0);
	ck_assert_int_eq(line(LAMP), 0);
	ck_assert_uint_eq(states("door", "OFF"), 1);
	ck_assert_uint_eq(states("lamp", "ON"), 1);
}
END_TEST

START_TEST(test_pulse_needs_pulse_ms)
{
	start(mapping);
	command("lamp", "pulse");
	ck_assert_int_eq(line(LAMP), 0);
	ck_assert_ptr_nonnull(strstr(last_error(), "pulse_ms"));
	ck_assert_uint_eq(states("lamp", "ON"), 0);
}
END_TEST

START_TEST(test_timed_on_and_off)
{
	start(mapping);
	command("lamp", "{\"state\":\"on\",\"for_ms\":20}");
	ck_assert_int_eq(line(LAMP), 1);
	run_for(40);
	ck_assert_int_eq(line(LAMP), 0);
	command("lamp", "on");
	command("lamp", "{\"state\":\"off\",\"for_ms\":20}");
	ck_assert_int_eq(line(LAMP), 0);
	run_for(40);
	ck_assert_int_eq(line(LAMP), 1);
}
END_TEST

/* No stale timer flips a line: the latest command always wins. */
START_TEST(test_later_command_cancels_the_return)
{
	start(mapping);
	command("lamp", "{\"state\":\"on\",\"for_ms\":20}");
	command("lamp", "off");
	command("lamp", "on");
	run_for(50);
	ck_assert_int_eq(line(LAMP), 1);
	ck_assert_uint_eq(states("lamp", "OFF"), 1);
	command("lamp", "{\"state\":\"on\",\"for_ms\":200}");
	command("lamp", "{\"state\":\"on\",\"for_ms\":20}");
	run_for(50);
	ck_assert_int_eq(line(LAMP), 0);
	command("door", "pulse");
	command("door", "toggle");
	run_for(60);
	ck_assert_int_eq(line(DOOR), 0);
	ck_assert_uint_eq(states("door", "OFF"), 1);
}
END_TEST

/* Refused parameters change nothing, the pending return included. */
START_TEST(test_refused_command_keeps_what_is_pending)
{
	start(mapping);
	command("lamp", "{\"state\":\"on\",\"for_ms\":40}");
	command("lamp", "{\"state\":\"on\",\"for_ms\":0}");
	ck_assert_ptr_nonnull(strstr(last_error(), "for_ms"));
	command("lamp", "{\"state\":\"off\",\"for_ms\":5,\"bogus\":1}");
	ck_assert_ptr_nonnull(strstr(last_error(), "unknown member"));
	ck_assert_int_eq(line(LAMP), 1);
	run_for(20);
	ck_assert_int_eq(line(LAMP), 1);
	run_for(40);
	ck_assert_int_eq(line(LAMP), 0);
}
END_TEST

START_TEST(test_retained_pulse_is_ignored)
{
	start(mapping);
	mqtt_fake_deliver(m, "t/output/door/set", "pulse", true);
	mqtt_fake_deliver(m, "t/output/lamp/set", "{\"state\":\"on\",\"for_ms\":10}", true);
	ck_assert_int_eq(line(DOOR), 0);
	ck_assert_int_eq(line(LAMP), 0);
	ck_assert_uint_eq(mqtt_fake_published(m), 0);
}
END_TEST

START_TEST(test_blink_counts_and_ends_off)
{
	start(mapping);
	command("lamp", "{\"state\":\"blink\",\"on_ms\":10,\"off_ms\":10,\"count\":3}");
	ck_assert_int_eq(line(LAMP), 1);
	run_for(100);
	ck_assert_int_eq(line(LAMP), 0);
	ck_assert_uint_eq(states("lamp", "ON"), 3);
	ck_assert_uint_eq(states("lamp", "OFF"), 3);
}
END_TEST

START_TEST(test_endless_blink_stops_at_next_command)
{
	start(mapping);
	command("lamp", "{\"state\":\"blink\",\"on_ms\":10,\"off_ms\":10}");
	run_for(75);
	ck_assert_uint_ge(states("lamp", "ON"), 3);
	command("lamp", "on");
	mqtt_fake_forget_publications(m);
	run_for(50);
	ck_assert_int_eq(line(LAMP), 1);
	ck_assert_uint_eq(mqtt_fake_published(m), 0);
}
END_TEST

START_TEST(test_interlock_switches_others_off_then_waits)
{
	start(mapping);
	command("up", "on");
	ck_assert_int_eq(line(UP), 1);
	command("down", "on");
	ck_assert_int_eq(line(UP), 0);
	ck_assert_int_eq(line(DOWN), 0); /* waiting interlock_wait_ms */
	run_for(15);
	ck_assert_int_eq(line(DOWN), 0);
	run_for(30);
	ck_assert_int_eq(line(DOWN), 1);
	ck_assert_int_lt(first_state("up", "OFF"), first_state("down", "ON"));
}
END_TEST

START_TEST(test_interlock_wait_cancelled_by_later_command)
{
	start(mapping);
	command("up", "on");
	command("down", "on");
	command("down", "off");
	run_for(50);
	ck_assert_int_eq(line(DOWN), 0);
	ck_assert_int_eq(line(UP), 0);
	/* Switching the other on cancels a wait too. */
	command("up", "on");
	command("down", "{\"state\":\"blink\",\"on_ms\":10,\"off_ms\":10}");
	command("up", "on");
	run_for(60);
	ck_assert_int_eq(line(DOWN), 0);
	ck_assert_int_eq(line(UP), 1);
}
END_TEST

/* A timed "off" that comes back on goes through the interlock too. */
START_TEST(test_interlock_applies_to_a_return_to_on)
{
	start(mapping);
	command("up", "on");
	command("up", "{\"state\":\"off\",\"for_ms\":10}");
	command("down", "on");
	run_for(40);
	ck_assert_int_eq(line(DOWN), 1);
	ck_assert_int_eq(line(UP), 0);
	command("up", "{\"state\":\"off\",\"for_ms\":10}");
	run_for(15);
	ck_assert_int_eq(line(DOWN), 0);
	ck_assert_int_eq(line(UP), 0); /* down went off just now: wait */
	run_for(40);
	ck_assert_int_eq(line(UP), 1);
}
END_TEST

START_TEST(test_max_on_switches_off)
{
	start(mapping);
	command("heater", "on");
	run_for(20);
	command("heater", "on"); /* already on: the limit counts from the first */
	run_for(30);
	ck_assert_int_eq(line(HEATER), 0);
	ck_assert_uint_eq(states("heater", "OFF"), 1);
	command("heater", "{\"state\":\"on\",\"for_ms\":1000}");
	run_for(60);
	ck_assert_int_eq(line(HEATER), 0);
}
END_TEST

START_TEST(test_max_on_and_blinks)
{
	start(mapping);
	command("heater", "{\"state\":\"blink\",\"on_ms\":50,\"off_ms\":10}");
	ck_assert_ptr_nonnull(strstr(last_error(), "max_on_ms"));
	ck_assert_int_eq(line(HEATER), 0);
	/* Phases within the limit run; cut in an on phase, the limit applies. */
	command("heater", "{\"state\":\"blink\",\"on_ms\":30,\"off_ms\":10,\"count\":2}");
	run_for(100);
	ck_assert_uint_eq(states("heater", "ON"), 2);
	command("heater", "{\"state\":\"blink\",\"on_ms\":30,\"off_ms\":10}");
	run_for(10);
	command("heater", "on");
	run_for(50);
	ck_assert_int_eq(line(HEATER), 0);
}
END_TEST

START_TEST(test_broker_loss_applies_on_disconnect)
{
	start(mapping);
	command("valve", "{\"state\":\"blink\",\"on_ms\":10,\"off_ms\":10}");
	command("lamp", "on");
	mqtt_fake_drop(m);
	run_for(30);
	ck_assert_int_eq(line(VALVE), 0);
	ck_assert_int_eq(line(LAMP), 1); /* keep */
	mqtt_fake_forget_publications(m);
	run_for(30);
	ck_assert_int_eq(line(VALVE), 0); /* the blink is cancelled */
	mqtt_fake_accept(m);
	mqtt_fake_suback(m);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	ck_assert_str_eq(mqtt_fake_last_on(m, "t/output/valve")->payload, "OFF");
}
END_TEST

/* A reload hands a pending pulse over when the output did not change, and
 * cancels it, leaving the line as it is, when it did. */
START_TEST(test_reload_keeps_pending_pulse)
{
	char changed[sizeof(mapping) + 16];
	const char *at = strstr(mapping, "pulse_ms = 40");

	start(mapping);
	command("door", "pulse");
	command("lamp", "{\"state\":\"blink\",\"on_ms\":10,\"off_ms\":10,\"count\":3}");
	run_for(5);
	bridge_reload(b);
	ck_assert_uint_eq(gpio_mem_counts(0, DOOR).releases, 0);
	ck_assert_int_eq(line(DOOR), 1);
	run_for(60);
	ck_assert_int_eq(line(DOOR), 0);
	ck_assert_uint_eq(states("lamp", "ON"), 3);
	ck_assert_int_eq(line(LAMP), 0);

	snprintf(changed, sizeof(changed), "%.*spulse_ms = 90%s", (int)(at - mapping), mapping,
		 at + strlen("pulse_ms = 40"));
	command("door", "pulse");
	write_mapping(changed);
	bridge_reload(b);
	run_for(60);
	ck_assert_int_eq(line(DOOR), 1);
	command("door", "off");
	command("door", "pulse");
	run_for(60);
	ck_assert_int_eq(line(DOOR), 1);
	run_for(50);
	ck_assert_int_eq(line(DOOR), 0);
}
END_TEST

/* Two outputs on that a reload puts into one group: the first stays on. */
START_TEST(test_reload_into_a_group_keeps_one_on)
{
	start(MQTT "outputs = ( { name = \"up\"; line = \"UP\"; },\n"
		   "            { name = \"down\"; line = \"DOWN\"; } );\n");
	command("up", "on");
	command("down", "on");
	write_mapping(MQTT "outputs = (\n" MOTOR_OUT LAMP_OUT VALVE_OUT ");\n");
	bridge_reload(b);
	ck_assert_int_eq(line(UP), 1);
	ck_assert_int_eq(line(DOWN), 0);
}
END_TEST

START_TEST(test_initial_on_meets_max_on)
{
	start(MQTT "outputs = ( { name = \"heater\"; line = \"HEATER\"; initial = \"on\"; "
		   "max_on_ms = 20; } );\n");
	ck_assert_int_eq(line(HEATER), 1);
	run_for(40);
	ck_assert_int_eq(line(HEATER), 0);
}
END_TEST

Suite *output_suite(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("output");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pulse_sets_then_returns);
	tcase_add_test(tc, test_pulse_needs_pulse_ms);
	tcase_add_test(tc, test_timed_on_and_off);
	tcase_add_test(tc, test_later_command_cancels_the_return);
	tcase_add_test(tc, test_refused_command_keeps_what_is_pending);
	tcase_add_test(tc, test_retained_pulse_is_ignored);
	tcase_add_test(tc, test_blink_counts_and_ends_off);
	tcase_add_test(tc, test_endless_blink_stops_at_next_command);
	tcase_add_test(tc, test_interlock_switches_others_off_then_waits);
	tcase_add_test(tc, test_interlock_wait_cancelled_by_later_command);
	tcase_add_test(tc, test_interlock_applies_to_a_return_to_on);
	tcase_add_test(tc, test_max_on_switches_off);
	tcase_add_test(tc, test_max_on_and_blinks);
	tcase_add_test(tc, test_broker_loss_applies_on_disconnect);
	tcase_add_test(tc, test_reload_keeps_pending_pulse);
	tcase_add_test(tc, test_reload_into_a_group_keeps_one_on);
	tcase_add_test(tc, test_initial_on_meets_max_on);
	tcase_add_test(tc, test_stop_ends_pulses_off);
	suite_add_tcase(s, tc);
	return s;
}
