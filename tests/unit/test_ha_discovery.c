/* SPDX-License-Identifier: MIT */
/* ha_discovery: the messages Home Assistant's MQTT discovery reads, built
 * from a mapping and a board's facts; the homeassistant group of the
 * mapping; the state query topics. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ha_discovery.h"
#include "suites.h"
#include "topics.h"

#define MQTT "mqtt = { host = \"127.0.0.1\"; client_id = \"unit\"; base_topic = \"t\"; };\n"
#define HA_ON "homeassistant = { discovery = true; };\n"
#define NODE "gpio2mqtt_0123456789ab"
#define DEVICE_TOPIC "homeassistant/device/" NODE "/config"

static const char lines[] =
    "outputs = ( { name = \"led\"; line = \"LED\"; },\n"
    "            { name = \"lamp\"; line = \"LAMP\"; ha_component = \"light\"; },\n"
    "            { name = \"door\"; line = \"DOOR\"; pulse_ms = 500; } );\n"
    "inputs = ( { name = \"button\"; line = \"BUTTON\"; click = true; },\n"
    "           { name = \"pir\"; line = \"PIR\"; device_class = \"motion\"; },\n"
    "           { name = \"meter\"; line = \"METER\"; counter = \"rising\"; } );\n";

static const struct board board = {
    .host = "pi", .machine = "0123456789ab", .model = "Raspberry Pi 4 Model B Rev 1.4"};

static struct config cfg, cfg2;
static struct ha_messages msgs, after;
static char errors[4096];

static int load_into(struct config *c, const char *text)
{
	char path[] = "/tmp/gpio2mqtt-ha-XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f = fdopen(fd, "w"), *err = fmemopen(errors, sizeof(errors), "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(err);
	fputs(text, f);
	fclose(f);
	rc = config_load(c, path, err);
	fclose(err);
	unlink(path);
	return rc;
}

static void load(struct config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void load(struct config *c, const char *fmt, ...)
{
	char text[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ck_assert_msg(load_into(c, text) == 0, "config_load failed:\n%s", errors);
}

static void setup(void)
{
	memset(&msgs, 0, sizeof(msgs));
	memset(&after, 0, sizeof(after));
	memset(errors, 0, sizeof(errors));
}

static void teardown(void)
{
	ha_messages_free(&msgs);
	ha_messages_free(&after);
	config_free(&cfg);
	config_free(&cfg2);
}

static cJSON *parse(const struct ha_message *m)
{
	cJSON *root = cJSON_Parse(m->payload);

	ck_assert_msg(root != NULL, "not JSON: %s", m->payload);
	return root;
}

static const char *str_at(const cJSON *obj, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));

	ck_assert_msg(s != NULL, "no string \"%s\"", key);
	return s;
}

static const cJSON *component(const cJSON *root, const char *key)
{
	const cJSON *c =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "cmps"), key);

	ck_assert_msg(cJSON_IsObject(c), "no component \"%s\"", key);
	return c;
}

START_TEST(test_off_by_default_info_only)
{
	cJSON *info;

	load(&cfg, MQTT "outputs = ( { name = \"led\"; line = \"LED\"; } );\n");
	ck_assert(!cfg.ha.discovery);
	ck_assert_str_eq(cfg.ha.prefix, "homeassistant");
	ck_assert_int_eq(ha_announcements(&cfg, &board, "1.6.3", &msgs), 0);
	ck_assert_uint_eq(msgs.n, 1);
	ck_assert_str_eq(msgs.items[0].topic, "t/info");
	ck_assert(msgs.items[0].retain);
	info = parse(&msgs.items[0]);
	ck_assert_str_eq(str_at(info, "version"), GPIO2MQTT_VERSION);
	ck_assert_str_eq(str_at(info, "libgpiod"), "1.6.3");
	ck_assert_str_eq(str_at(info, "model"), board.model);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(info, "outputs")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(info, "inputs")->valueint, 0);
	cJSON_Delete(info);
}
END_TEST

START_TEST(test_device_message)
{
	cJSON *root;
	const cJSON *dev, *o;

	load(&cfg, MQTT HA_ON "outputs = ( { name = \"led\"; line = \"LED\"; } );\n");
	ck_assert_int_eq(ha_announcements(&cfg, &board, "1.6.3", &msgs), 0);
	ck_assert_uint_eq(msgs.n, 2);
	ck_assert_str_eq(msgs.items[1].topic, DEVICE_TOPIC);
	ck_assert(msgs.items[1].retain);
	root = parse(&msgs.items[1]);
	dev = cJSON_GetObjectItemCaseSensitive(root, "dev");
	ck_assert_str_eq(
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(dev, "ids"), 0)->valuestring, NODE);
	ck_assert_str_eq(str_at(dev, "name"), "pi");
	ck_assert_str_eq(str_at(dev, "mdl"), board.model);
	ck_assert_str_eq(str_at(dev, "sw"), GPIO2MQTT_VERSION);
	o = cJSON_GetObjectItemCaseSensitive(root, "o");
	ck_assert_str_eq(str_at(o, "name"), "gpio2mqtt");
	ck_assert_str_eq(str_at(o, "sw"), GPIO2MQTT_VERSION);
	ck_assert_str_eq(str_at(root, "avty_t"), "t/status");
	ck_assert_str_eq(str_at(component(root, "led"), "p"), "switch");
	ck_assert_str_eq(str_at(component(root, "led"), "uniq_id"), NODE "_led");
	ck_assert_str_eq(str_at(component(root, "led"), "cmd_t"), "t/output/led/set");
	ck_assert_str_eq(str_at(component(root, "led"), "stat_t"), "t/output/led");
	ck_assert_str_eq(str_at(component(root, "led"), "pl_on"), "on");
	ck_assert_str_eq(str_at(component(root, "led"), "stat_on"), "ON");
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_every_kind_of_component)
{
	cJSON *root;
	const cJSON *types;

	load(&cfg, MQTT HA_ON "%s", lines);
	ck_assert_int_eq(ha_announcements(&cfg, &board, "2.1", &msgs), 0);
	root = parse(&msgs.items[1]);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "cmps")), 9);
	ck_assert_str_eq(str_at(component(root, "lamp"), "p"), "light");
	ck_assert_str_eq(str_at(component(root, "lamp"), "pl_on"), "ON");
	ck_assert_str_eq(str_at(component(root, "door"), "p"), "switch");
	ck_assert_str_eq(str_at(component(root, "door_pulse"), "p"), "button");
	ck_assert_str_eq(str_at(component(root, "door_pulse"), "pl_prs"), "pulse");
	ck_assert_str_eq(str_at(component(root, "door_pulse"), "cmd_t"), "t/output/door/set");
	ck_assert_str_eq(str_at(component(root, "button"), "p"), "binary_sensor");
	ck_assert_str_eq(str_at(component(root, "pir"), "dev_cla"), "motion");
	ck_assert_str_eq(str_at(component(root, "button_press"), "p"), "event");
	ck_assert_str_eq(str_at(component(root, "button_press"), "stat_t"), "t/input/button/event");
	types = cJSON_GetObjectItemCaseSensitive(component(root, "button_press"), "evt_typ");
	ck_assert_int_eq(cJSON_GetArraySize(types), 3);
	ck_assert_str_eq(cJSON_GetArrayItem(types, 2)->valuestring, "long");
	ck_assert_str_eq(str_at(component(root, "meter_count"), "p"), "sensor");
	ck_assert_str_eq(str_at(component(root, "meter_count"), "stat_cla"), "total_increasing");
	ck_assert_str_eq(str_at(component(root, "meter_count"), "uniq_id"), NODE "_meter_count");
	cJSON_Delete(root);
}
END_TEST

/* Home Assistant shows "<device> <entity>": no name starting with the
 * device's. */
START_TEST(test_entity_names_do_not_repeat_the_device)
{
	cJSON *root;

	load(&cfg, MQTT "homeassistant = { discovery = true; device_name = \"Pi\"; };\n"
			"outputs = ( { name = \"pi_led\"; line = \"LED\"; },\n"
			"            { name = \"pi\"; line = \"FAN\"; } );\n");
	ck_assert_int_eq(ha_announcements(&cfg, &board, "2.1", &msgs), 0);
	root = parse(&msgs.items[1]);
	ck_assert_str_eq(str_at(cJSON_GetObjectItemCaseSensitive(root, "dev"), "name"), "Pi");
	ck_assert_str_eq(str_at(component(root, "pi_led"), "name"), "led");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(component(root, "pi"), "name")));
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_node_id)
{
	struct board b = {.host = "my.pi"};
	char id[HA_NODE_ID_MAX];

	ha_node_id(&board, id);
	ck_assert_str_eq(id, NODE);
	ha_node_id(&b, id);
	ck_assert_str_eq(id, "gpio2mqtt_my_pi");
	b.host[0] = '\0';
	ha_node_id(&b, id);
	ck_assert_str_eq(id, "gpio2mqtt");
}
END_TEST

START_TEST(test_reload_removes_dropped_components)
{
	cJSON *root;

	load(&cfg, MQTT HA_ON "%s", lines);
	load(&cfg2, MQTT HA_ON "outputs = ( { name = \"led\"; line = \"LED\"; } );\n");
	ck_assert_int_eq(ha_retractions(&cfg, &cfg2, &board, &msgs, &after), 0);
	ck_assert_uint_eq(msgs.n, 1);
	ck_assert_str_eq(msgs.items[0].topic, DEVICE_TOPIC);
	root = parse(&msgs.items[0]);
	ck_assert_int_eq(cJSON_GetArraySize(component(root, "door_pulse")), 1);
	ck_assert_str_eq(str_at(component(root, "door_pulse"), "p"), "button");
	ck_assert_int_eq(cJSON_GetArraySize(component(root, "meter_count")), 1);
	ck_assert_str_eq(str_at(component(root, "led"), "cmd_t"), "t/output/led/set");
	cJSON_Delete(root);
}
END_TEST

START_TEST(test_reload_without_drops_or_discovery)
{
	load(&cfg, MQTT HA_ON "%s", lines);
	load(&cfg2, MQTT HA_ON "%s", lines);
	ck_assert_int_eq(ha_retractions(&cfg, &cfg2, &board, &msgs, &after), 0);
	ck_assert_uint_eq(msgs.n, 0);
	config_free(&cfg2);
	load(&cfg2, MQTT "%s", lines);
	ck_assert_int_eq(ha_retractions(&cfg, &cfg2, &board, &msgs, &after), 0);
	ck_assert_uint_eq(msgs.n, 1);
	ck_assert_str_eq(msgs.items[0].topic, DEVICE_TOPIC);
	ck_assert_str_eq(msgs.items[0].payload, "");
	ck_assert(msgs.items[0].retain);
	ha_messages_free(&msgs);
	ck_assert_int_eq(ha_retractions(&cfg2, &cfg, &board, &msgs, &after), 0);
	ck_assert_uint_eq(msgs.n, 0);
}
END_TEST

START_TEST(test_forget)
{
	load(&cfg, MQTT HA_ON "%s", lines);
	ck_assert_int_eq(ha_forget(&cfg, &board, &msgs), 0);
	ck_assert_str_eq(msgs.items[0].topic, DEVICE_TOPIC);
	/* The per-entity form too: the board may have been told that way. */
	ck_assert_str_eq(msgs.items[1].topic, "homeassistant/switch/" NODE "/led/config");
	ck_assert_str_eq(msgs.items[9].topic, "homeassistant/sensor/" NODE "/meter_count/config");
	ck_assert_str_eq(msgs.items[10].topic, "t/info");
	ck_assert_str_eq(msgs.items[11].topic, "t/status");
	ck_assert_str_eq(msgs.items[12].topic, "t/output/led");
	ck_assert_str_eq(msgs.items[msgs.n - 1].topic, "t/input/meter/count");
	for (size_t i = 0; i < msgs.n; i++) {
		ck_assert_str_eq(msgs.items[i].payload, "");
		ck_assert(msgs.items[i].retain);
	}
}
END_TEST

START_TEST(test_mapping_keys_checked)
{
	ck_assert_int_eq(
	    load_into(&cfg, MQTT "homeassistant = { discovery = true; prefx = \"x\"; };\n"), -1);
	ck_assert_ptr_nonnull(strstr(errors, "prefx"));
	ck_assert_int_eq(load_into(&cfg, MQTT "homeassistant = { prefix = \"ha/#\"; };\n"), -1);
	ck_assert_int_eq(load_into(&cfg, MQTT "outputs = ( { name = \"a\"; line = \"A\"; "
					      "ha_component = \"fan\"; } );\n"),
			 -1);
	ck_assert_int_eq(load_into(&cfg, MQTT "inputs = ( { name = \"a\"; line = \"A\"; "
					      "device_class = \"Motion!\"; } );\n"),
			 -1);
	ck_assert_ptr_nonnull(strstr(errors, "device_class"));
	load(&cfg, MQTT "homeassistant = { discovery = true; prefix = \"ha\"; "
			"resync_delay_ms = 0; device_name = \"Garage board\"; };\n");
	ck_assert_str_eq(cfg.ha.prefix, "ha");
	ck_assert_int_eq(cfg.ha.resync_delay_ms, 0);
	ck_assert_str_eq(cfg.ha.device_name, "Garage board");
}
END_TEST

START_TEST(test_query_topics)
{
	char name[16], *topic;
	bool output = false;

	topic = topics_query_wildcard("t", true);
	ck_assert_str_eq(topic, "t/output/+/get");
	free(topic);
	ck_assert_ptr_nonnull(
	    topics_query_name("t", "t/output/led/get", &output, name, sizeof(name)));
	ck_assert(output);
	ck_assert_str_eq(name, "led");
	ck_assert_ptr_nonnull(topics_query_name("t", "t/input/b/get", &output, name, sizeof(name)));
	ck_assert(!output);
	ck_assert_ptr_null(topics_query_name("t", "t/output/led/set", &output, name, sizeof(name)));
	ck_assert_ptr_null(topics_query_name("t", "t/output//get", &output, name, sizeof(name)));
	ck_assert_ptr_null(topics_query_name("t", "u/output/led/get", &output, name, sizeof(name)));
	ck_assert_ptr_null(
	    topics_query_name("t", "t/output/a-very-long-name/get", &output, name, sizeof(name)));
}
END_TEST

#define ENTITY_ON "homeassistant = { discovery = true; discovery_mode = \"entity\"; };\n"
#define ENTITY(platform, key) "homeassistant/" platform "/" NODE "/" key "/config"

static const struct ha_message *message_on(const struct ha_messages *m, const char *topic)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->items[i].topic, topic))
			return &m->items[i];
	return NULL;
}

START_TEST(test_entity_mode)
{
	const struct ha_message *led;
	cJSON *device, *root;

	load(&cfg, MQTT HA_ON "%s", lines);
	load(&cfg2, MQTT ENTITY_ON "%s", lines);
	ck_assert_int_eq(cfg2.ha.mode, HA_MODE_ENTITY);
	ck_assert_int_eq(ha_announcements(&cfg, &board, "2.1", &msgs), 0);
	device = parse(&msgs.items[1]);
	ha_messages_free(&msgs);
	ck_assert_int_eq(ha_announcements(&cfg2, &board, "2.1", &msgs), 0);
	ck_assert_uint_eq(msgs.n, 1 + 9); /* info, one message per component */
	ck_assert_ptr_null(message_on(&msgs, DEVICE_TOPIC));
	led = message_on(&msgs, ENTITY("switch", "led"));
	ck_assert_ptr_nonnull(led);
	ck_assert(led->retain);
	ck_assert_ptr_nonnull(message_on(&msgs, ENTITY("light", "lamp")));
	ck_assert_ptr_nonnull(message_on(&msgs, ENTITY("button", "door_pulse")));
	ck_assert_ptr_nonnull(message_on(&msgs, ENTITY("event", "button_press")));
	ck_assert_ptr_nonnull(message_on(&msgs, ENTITY("binary_sensor", "pir")));
	ck_assert_ptr_nonnull(message_on(&msgs, ENTITY("sensor", "meter_count")));
	root = cJSON_Parse(led->payload);
	ck_assert_ptr_nonnull(root);
	/* The same entity as in the device message, with the device's options. */
	ck_assert_str_eq(str_at(root, "uniq_id"), str_at(component(device, "led"), "uniq_id"));
	ck_assert_str_eq(str_at(root, "cmd_t"), "t/output/led/set");
	ck_assert_str_eq(str_at(root, "avty_t"), "t/status");
	ck_assert(cJSON_Compare(cJSON_GetObjectItem(root, "dev"), cJSON_GetObjectItem(device, "dev"),
				true));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(root, "o"));
	ck_assert_ptr_null(cJSON_GetObjectItem(root, "p"));
	ck_assert_ptr_null(cJSON_GetObjectItem(root, "cmps"));
	cJSON_Delete(root);
	cJSON_Delete(device);
}
END_TEST

START_TEST(test_discovery_mode_refused)
{
	ck_assert_int_eq(load_into(&cfg, MQTT "homeassistant = { discovery = true;\n"
					      "  discovery_mode = \"entities\"; };\n"),
			 -1);
	ck_assert_msg(strstr(errors, ":3:") && strstr(errors, "discovery_mode"), "%s", errors);
}
END_TEST

/* Device to entities: the hand-over payload on the device topic (not
 * retained), the entities, then the device topic emptied. */
START_TEST(test_hand_over_to_entities)
{
	load(&cfg, MQTT HA_ON "%s", lines);
	load(&cfg2, MQTT ENTITY_ON "%s", lines);
	ck_assert_int_eq(ha_retractions(&cfg, &cfg2, &board, &msgs, &after), 0);
	ck_assert_uint_eq(msgs.n, 1);
	ck_assert_str_eq(msgs.items[0].topic, DEVICE_TOPIC);
	ck_assert_str_eq(msgs.items[0].payload, "{\"migrate_discovery\":true}");
	ck_assert(!msgs.items[0].retain);
	ck_assert_uint_eq(after.n, 1);
	ck_assert_str_eq(after.items[0].topic, DEVICE_TOPIC);
	ck_assert_str_eq(after.items[0].payload, "");
	ck_assert(after.items[0].retain);
}
END_TEST

/* Entities to device, dropping the meter: its entities removed, the hand-
 * over on each other entity topic, which is emptied after. */
START_TEST(test_hand_over_to_device)
{
	load(&cfg, MQTT ENTITY_ON "%s", lines);
	load(&cfg2, MQTT HA_ON "outputs = ( { name = \"led\"; line = \"LED\"; },\n"
			       "  { name = \"lamp\"; line = \"LAMP\"; ha_component = \"light\"; },\n"
			       "  { name = \"door\"; line = \"DOOR\"; pulse_ms = 500; } );\n"
			       "inputs = ( { name = \"button\"; line = \"BUTTON\"; click = true; },\n"
			       "  { name = \"pir\"; line = \"PIR\"; device_class = \"motion\"; } );\n");
	ck_assert_int_eq(ha_retractions(&cfg, &cfg2, &board, &msgs, &after), 0);
	ck_assert_uint_eq(msgs.n, 9);
	ck_assert_str_eq(message_on(&msgs, ENTITY("binary_sensor", "meter"))->payload, "");
	ck_assert_str_eq(message_on(&msgs, ENTITY("sensor", "meter_count"))->payload, "");
	ck_assert_str_eq(message_on(&msgs, ENTITY("switch", "led"))->payload, HA_MIGRATE_PAYLOAD);
	ck_assert_str_eq(message_on(&msgs, ENTITY("event", "button_press"))->payload,
			 HA_MIGRATE_PAYLOAD);
	ck_assert_uint_eq(after.n, 7);
	ck_assert_ptr_null(message_on(&after, ENTITY("sensor", "meter_count")));
	ck_assert_str_eq(message_on(&after, ENTITY("switch", "led"))->payload, "");
}
END_TEST

/* Entities, a line dropped: its entities' topics emptied, nothing after. */
START_TEST(test_entity_reload_drops)
{
	load(&cfg, MQTT ENTITY_ON "%s", lines);
	load(&cfg2, MQTT ENTITY_ON "outputs = ( { name = \"led\"; line = \"LED\"; } );\n");
	ck_assert_int_eq(ha_retractions(&cfg, &cfg2, &board, &msgs, &after), 0);
	ck_assert_uint_eq(msgs.n, 8);
	ck_assert_ptr_null(message_on(&msgs, ENTITY("switch", "led")));
	ck_assert_str_eq(message_on(&msgs, ENTITY("button", "door_pulse"))->payload, "");
	ck_assert_uint_eq(after.n, 0);
	ha_messages_free(&msgs);
	config_free(&cfg2);
	load(&cfg2, MQTT "%s", lines); /* discovery off: every entity goes */
	ck_assert_int_eq(ha_retractions(&cfg, &cfg2, &board, &msgs, &after), 0);
	ck_assert_uint_eq(msgs.n, 9);
	ck_assert_uint_eq(after.n, 0);
}
END_TEST

Suite *ha_discovery_suite(void)
{
	Suite *s = suite_create("ha_discovery");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_off_by_default_info_only);
	tcase_add_test(tc, test_device_message);
	tcase_add_test(tc, test_every_kind_of_component);
	tcase_add_test(tc, test_entity_names_do_not_repeat_the_device);
	tcase_add_test(tc, test_node_id);
	tcase_add_test(tc, test_reload_removes_dropped_components);
	tcase_add_test(tc, test_reload_without_drops_or_discovery);
	tcase_add_test(tc, test_entity_mode);
	tcase_add_test(tc, test_discovery_mode_refused);
	tcase_add_test(tc, test_hand_over_to_entities);
	tcase_add_test(tc, test_hand_over_to_device);
	tcase_add_test(tc, test_entity_reload_drops);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_mapping_keys_checked);
	tcase_add_test(tc, test_query_topics);
	suite_add_tcase(s, tc);
	return s;
}
