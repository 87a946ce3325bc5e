/* SPDX-License-Identifier: MIT */
/* bridge and Home Assistant: discovery before the states on connect, again
 * after Home Assistant's birth, removal on reload, state queries and
 * <base>/info, with the in-memory GPIO backend and the recording MQTT
 * client (as test_bridge.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "bridge_harness.h"
#include "gpio_mem.h"
#include "log.h"
#include "mqtt_fake.h"
#include "suites.h"

enum { LED, FAN, BUTTON, N_LINES };
static const char *const names[N_LINES] = {"LED", "FAN", "BUTTON"};

static struct bridge *b;
static struct mqtt *m;

#define MAPPING_HEAD                                                                               \
	"mqtt = { host = \"127.0.0.1\"; client_id = \"unit\"; base_topic = \"t\"; };\n"            \
	"homeassistant = { discovery = true; prefix = \"ha\"; resync_delay_ms = 0; };\n"

static const char mapping[] =
    MAPPING_HEAD "outputs = ( { name = \"led\"; line = \"LED\"; },\n"
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

/* Index of the first publication on a topic starting with prefix, or -1. */
static long first_on(const char *prefix)
{
	for (size_t i = 0; i < mqtt_fake_published(m); i++)
		if (strncmp(mqtt_fake_publication(m, i)->topic, prefix, strlen(prefix)) == 0)
			return (long)i;
	return -1;
}

static const struct fake_publication *discovery(void)
{
	long i = first_on("ha/device/");

	ck_assert_int_ge(i, 0);
	return mqtt_fake_publication(m, (size_t)i);
}

START_TEST(test_discovery_before_states)
{
	start(mapping);
	ck_assert(mqtt_fake_subscribed(m, "ha/status"));
	ck_assert(mqtt_fake_subscribed(m, "t/output/+/get"));
	ck_assert(mqtt_fake_subscribed(m, "t/input/+/get"));
	ck_assert(discovery()->retain);
	ck_assert_ptr_nonnull(strstr(discovery()->payload, "\"cmps\""));
	ck_assert_int_ge(first_on("t/info"), 0);
	ck_assert_int_lt(first_on("ha/device/"), first_on("t/output/led"));
	ck_assert_int_lt(first_on("ha/device/"), first_on("t/input/button"));
}
END_TEST

START_TEST(test_birth_resyncs_without_touching_lines)
{
	struct gpio_mem_counts before;

	start(mapping);
	mqtt_fake_deliver(m, "t/output/led/set", "on", false);
	before = gpio_mem_counts(0, LED);
	mqtt_fake_forget_publications(m);
	mqtt_fake_deliver(m, "ha/status", "online", true); /* retained: old news */
	ck_assert_int_eq(bridge_poll(b, 50), 0);
	ck_assert_int_eq(first_on("ha/device/"), -1);
	mqtt_fake_deliver(m, "ha/status", "offline", false);
	ck_assert_int_eq(bridge_poll(b, 50), 0);
	ck_assert_int_eq(first_on("ha/device/"), -1);
	mqtt_fake_deliver(m, "ha/status", "online", false);
	for (int i = 0; i < 5 && first_on("t/input/button") < 0; i++)
		ck_assert_int_eq(bridge_poll(b, 50), 0);
	ck_assert_int_ge(first_on("ha/device/"), 0);
	ck_assert_int_lt(first_on("ha/device/"), first_on("t/output/led"));
	ck_assert_str_eq(mqtt_fake_last_on(m, "t/output/led")->payload, "ON");
	ck_assert_int_ge(first_on("t/input/button"), 0);
	ck_assert_int_eq(gpio_mem_value(0, LED), 1);
	ck_assert_uint_eq(gpio_mem_counts(0, LED).requests, before.requests);
	ck_assert_uint_eq(gpio_mem_counts(0, LED).reconfigures, before.reconfigures);
}
END_TEST

START_TEST(test_state_queries)
{
	start(mapping);
	mqtt_fake_forget_publications(m);
	mqtt_fake_deliver(m, "t/output/fan/get", "", false);
	ck_assert_str_eq(mqtt_fake_last_on(m, "t/output/fan")->payload, "OFF");
	ck_assert_uint_eq(mqtt_fake_published(m), 1);
	mqtt_fake_deliver(m, "t/input/button/get", "", false);
	ck_assert_str_eq(mqtt_fake_last_on(m, "t/input/button")->payload, "OFF");
	mqtt_fake_forget_publications(m);
	mqtt_fake_deliver(m, "t/output/nothing/get", "", false);
	mqtt_fake_deliver(m, "t/output/fan/get", "now!", false);
	ck_assert_ptr_null(mqtt_fake_last_on(m, "t/output/fan"));
	ck_assert_ptr_nonnull(mqtt_fake_last_on(m, "t/error"));
	ck_assert_int_eq(gpio_mem_value(0, FAN), 0);
}
END_TEST

START_TEST(test_reload_removes_a_dropped_line)
{
	long removal;

	start(mapping);
	mqtt_fake_forget_publications(m);
	write_mapping(MAPPING_HEAD "outputs = ( { name = \"led\"; line = \"LED\"; } );\n"
				   "inputs = ( { name = \"button\"; line = \"BUTTON\"; } );\n");
	bridge_reload(b);
	mqtt_fake_suback(m);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	removal = first_on("ha/device/");
	ck_assert_int_ge(removal, 0);
	ck_assert_ptr_nonnull(strstr(mqtt_fake_publication(m, (size_t)removal)->payload,
				     "\"fan\":{\"p\":\"switch\"}"));
	/* Then the device as it is now, without the fan. */
	ck_assert_ptr_null(
	    strstr(mqtt_fake_last_on(m, mqtt_fake_publication(m, (size_t)removal)->topic)->payload,
		   "\"fan\""));
}
END_TEST

/* A reload while the broker is away: the removal is owed, and goes ahead
 * of the new discovery on the next connection. */
START_TEST(test_removal_owed_while_disconnected)
{
	long removal;

	start(mapping);
	mqtt_fake_drop(m);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	write_mapping(MAPPING_HEAD "outputs = ( { name = \"led\"; line = \"LED\"; } );\n"
				   "inputs = ( { name = \"button\"; line = \"BUTTON\"; } );\n");
	bridge_reload(b);
	mqtt_fake_forget_publications(m);
	mqtt_fake_accept(m);
	mqtt_fake_suback(m);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	removal = first_on("ha/device/");
	ck_assert_int_ge(removal, 0);
	ck_assert_ptr_nonnull(strstr(mqtt_fake_publication(m, (size_t)removal)->payload,
				     "\"fan\":{\"p\":\"switch\"}"));
	ck_assert_ptr_null(
	    strstr(mqtt_fake_last_on(m, mqtt_fake_publication(m, (size_t)removal)->topic)->payload,
		   "\"fan\""));
	ck_assert_int_lt(removal, first_on("t/output/led"));
}
END_TEST

/* discovery_mode changed by a reload: Home Assistant's hand-over, the
 * migrate payload, the entities, then the device topic emptied. */
START_TEST(test_reload_hands_over_to_entities)
{
	long migrate, entity, emptied = -1;

	start(mapping);
	mqtt_fake_forget_publications(m);
	write_mapping("mqtt = { host = \"127.0.0.1\"; client_id = \"unit\"; base_topic = \"t\"; };\n"
		      "homeassistant = { discovery = true; prefix = \"ha\"; resync_delay_ms = 0;\n"
		      "  discovery_mode = \"entity\"; };\n"
		      "outputs = ( { name = \"led\"; line = \"LED\"; },\n"
		      "            { name = \"fan\"; line = \"FAN\"; } );\n"
		      "inputs = ( { name = \"button\"; line = \"BUTTON\"; } );\n");
	bridge_reload(b);
	mqtt_fake_suback(m);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	migrate = first_on("ha/device/");
	ck_assert_int_ge(migrate, 0);
	ck_assert_str_eq(mqtt_fake_publication(m, (size_t)migrate)->payload,
			 "{\"migrate_discovery\":true}");
	entity = first_on("ha/switch/");
	ck_assert_int_gt(entity, migrate);
	for (size_t i = 0; i < mqtt_fake_published(m); i++)
		if (!strncmp(mqtt_fake_publication(m, i)->topic, "ha/device/", 10) &&
		    !mqtt_fake_publication(m, i)->payload[0])
			emptied = (long)i;
	ck_assert_int_gt(emptied, entity);
	ck_assert(mqtt_fake_publication(m, (size_t)emptied)->retain);
	ck_assert_uint_eq(mqtt_fake_count_on(m, mqtt_fake_publication(m, (size_t)migrate)->topic),
			  2);
}
END_TEST

START_TEST(test_off_by_default)
{
	start("mqtt = { host = \"127.0.0.1\"; client_id = \"unit\"; base_topic = \"t\"; };\n"
	      "outputs = ( { name = \"led\"; line = \"LED\"; } );\n");
	ck_assert(!mqtt_fake_subscribed(m, "homeassistant/status"));
	ck_assert_int_eq(first_on("homeassistant/"), -1);
	ck_assert_int_ge(first_on("t/info"), 0);
}
END_TEST

Suite *bridge_ha_suite(void)
{
	Suite *s = suite_create("bridge_ha");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_discovery_before_states);
	tcase_add_test(tc, test_birth_resyncs_without_touching_lines);
	tcase_add_test(tc, test_state_queries);
	tcase_add_test(tc, test_reload_removes_a_dropped_line);
	tcase_add_test(tc, test_removal_owed_while_disconnected);
	tcase_add_test(tc, test_reload_hands_over_to_entities);
	tcase_add_test(tc, test_off_by_default);
	suite_add_tcase(s, tc);
	return s;
}
