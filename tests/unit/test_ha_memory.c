/* SPDX-License-Identifier: MIT */
/* ha_memory: the record of what was announced to Home Assistant (its text
 * both ways, torn, corrupt and edited files ignored whole, written only on
 * change, removed without discovery and by --forget); the retractions
 * computed from a record, the same as a reload's; and the bridge at start,
 * owing Home Assistant what the mapping dropped since the record. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge.h"
#include "bridge_harness.h"
#include "config.h"
#include "ha_discovery.h"
#include "ha_memory.h"
#include "log.h"
#include "mqtt_fake.h"
#include "suites.h"
#include "wholefile.h"

#define MQTT "mqtt = { host = \"127.0.0.1\"; client_id = \"unit\"; base_topic = \"t\"; };\n"
#define NODE "gpio2mqtt_0123456789ab"

static const struct board board = { .host = "pi", .machine = "0123456789ab" };

static char dir[96], state[128], record[160];
static struct config cfg, cfg2;
static struct ha_announced announced, parsed;
static struct ha_messages before, after;

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	log_init(0);
	snprintf(dir, sizeof(dir), "%s/g2m-ha-memory.XXXXXX", base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(record, sizeof(record), "%s%s", state, HA_MEMORY_SUFFIX);
	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
}

static void teardown(void)
{
	char cmd[160];

	ha_messages_free(&before);
	ha_messages_free(&after);
	ha_announced_free(&announced);
	ha_announced_free(&parsed);
	config_free(&cfg);
	config_free(&cfg2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void load(struct config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void load(struct config *c, const char *fmt, ...)
{
	char path[] = "/tmp/gpio2mqtt-ha-memory-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	va_list ap;

	ck_assert_ptr_nonnull(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	ck_assert_int_eq(config_load(c, path, stderr), 0);
	unlink(path);
}

#define LINES_ALL                                                                                  \
	"outputs = ( { name = \"led\"; line = \"LED\"; },\n"                                        \
	"            { name = \"door\"; line = \"DOOR\"; pulse_ms = 500; } );\n"                    \
	"inputs = ( { name = \"pir\"; line = \"PIR\"; } );\n"
#define LINES_NO_DOOR                                                                              \
	"outputs = ( { name = \"led\"; line = \"LED\"; } );\n"                                      \
	"inputs = ( { name = \"pir\"; line = \"PIR\"; } );\n"
#define HA(mode) "homeassistant = { discovery = true; discovery_mode = \"" mode "\"; };\n"
#define HA_OFF "homeassistant = { discovery = false; };\n"

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* The record of text, formatted as the daemon writes it. */
static char *format_of(const struct ha_announced *a, size_t *len)
{
	char *text = NULL;

	ck_assert_int_eq(ha_memory_format(a, &text, len), 0);
	return text;
}

/* --- the text --- */

START_TEST(test_round_trip)
{
	char why[128], *text;
	size_t len;

	load(&cfg, MQTT HA("entity") LINES_ALL);
	free(cfg.ha.prefix);
	cfg.ha.prefix = strdup("home assistant/100%\xc3\xa9"); /* every byte comes back */
	ck_assert_int_eq(ha_announced_of(&cfg, &board, &announced), 0);
	ck_assert_uint_eq(announced.n, 4); /* led, door, door_pulse, pir */
	text = format_of(&announced, &len);
	ck_assert_ptr_nonnull(strstr(text, "gpio2mqtt-homeassistant 1\nprefix home%20assistant/100%25"
					   "%C3%A9\nmode entity\nnode " NODE "\n"
					   "component switch led\n"));
	ck_assert_ptr_nonnull(strstr(text, "component button door_pulse\n"));
	ck_assert_int_eq(ha_memory_parse(text, len, &parsed, why, sizeof(why)), 0);
	ck_assert(ha_announced_equal(&announced, &parsed));
	ck_assert_str_eq(parsed.prefix, "home assistant/100%\xc3\xa9");
	ck_assert_int_eq(parsed.mode, HA_MODE_ENTITY);
	free(text);
}
END_TEST

/* Each way a file goes wrong: the whole of it is refused. */
START_TEST(test_damaged_text_is_refused)
{
	static const char *const edits[][2] = {
		{ "mode entity", "mode device" },          /* edited, checksum kept */
		{ "component switch led", "component switch lad" },
		{ "gpio2mqtt-homeassistant 1", "gpio2mqtt-homeassistant 2" },
	};
	char why[128], *text, *copy;
	size_t len;

	load(&cfg, MQTT HA("entity") LINES_ALL);
	ck_assert_int_eq(ha_announced_of(&cfg, &board, &announced), 0);
	text = format_of(&announced, &len);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		copy = strdup(text);
		memcpy(strstr(copy, edits[i][0]), edits[i][1], strlen(edits[i][1]));
		ck_assert_int_eq(ha_memory_parse(copy, len, &parsed, why, sizeof(why)), -1);
		ck_assert(!parsed.discovery);
		free(copy);
	}
	for (size_t cut = 0; cut < len; cut++) { /* torn anywhere */
		copy = strndup(text, cut);
		ck_assert_msg(ha_memory_parse(copy, cut, &parsed, why, sizeof(why)) == -1,
			      "torn at %zu read", cut);
		free(copy);
	}
	free(text);
}
END_TEST

/* Well sealed, but not in the one form the daemon writes. */
START_TEST(test_sealed_nonsense_is_refused)
{
	static const char *const bodies[] = {
		("gpio2mqtt-homeassistant 1\nprefix ha\nmode device\nnode n\n"
		 "component switch led\ncomponent light led\n"), /* a key twice */
		"gpio2mqtt-homeassistant 1\nprefix ha\nmode sideways\nnode n\n",
		"gpio2mqtt-homeassistant 1\nprefix h a\nmode device\nnode n\n",
		"gpio2mqtt-homeassistant 1\nprefix h%41\nmode device\nnode n\n", /* A is plain */
		"gpio2mqtt-homeassistant 1\nprefix ha\nmode device\n",
		"gpio2mqtt-homeassistant 1\nprefix ha\nmode device\nnode n/x\n",
		"gpio2mqtt-homeassistant 1\nprefix ha\nmode device\nnode n\ncomponent switch\n",
		"gpio2mqtt-state 1\n",
	};
	char why[128];

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char *text = strdup(bodies[i]);
		size_t len = strlen(text);

		ck_assert_int_eq(wholefile_seal(&text, &len), 0);
		ck_assert_msg(ha_memory_parse(text, len, &parsed, why, sizeof(why)) == -1,
			      "read: %s", bodies[i]);
		free(text);
	}
	{ /* and the same sealed right is read */
		char *text = strdup("gpio2mqtt-homeassistant 1\nprefix h%20a\nmode device\nnode n\n"
				    "component switch led\n");
		size_t len = strlen(text);

		ck_assert_int_eq(wholefile_seal(&text, &len), 0);
		ck_assert_int_eq(ha_memory_parse(text, len, &parsed, why, sizeof(why)), 0);
		ck_assert_str_eq(parsed.prefix, "h a");
		ck_assert_uint_eq(parsed.n, 1);
		free(text);
	}
}
END_TEST

/* --- the file --- */

START_TEST(test_written_on_change_only)
{
	struct ha_memory *mem = ha_memory_open(state);
	struct ha_memory *again;

	ck_assert(!ha_memory_recalled(mem)->discovery);
	load(&cfg, MQTT HA("device") LINES_ALL);
	ck_assert_int_eq(ha_announced_of(&cfg, &board, &announced), 0);
	ha_memory_record(mem, &announced);
	ck_assert_uint_eq(ha_memory_writes(mem), 1);
	ha_memory_record(mem, &announced); /* Home Assistant's birth: the same */
	ck_assert_uint_eq(ha_memory_writes(mem), 1);
	ck_assert(exists(record));
	again = ha_memory_open(state);
	ck_assert(ha_announced_equal(ha_memory_recalled(again), &announced));
	ha_memory_close(again);
	/* Discovery off: the record goes. */
	ha_announced_free(&announced);
	load(&cfg2, MQTT HA_OFF LINES_ALL);
	ck_assert_int_eq(ha_announced_of(&cfg2, &board, &announced), 0);
	ha_memory_record(mem, &announced);
	ck_assert_uint_eq(ha_memory_writes(mem), 2);
	ck_assert(!exists(record));
	ha_memory_close(mem);
}
END_TEST

START_TEST(test_corrupt_file_recalls_nothing)
{
	struct ha_memory *mem;
	char *text;
	size_t len;

	load(&cfg, MQTT HA("device") LINES_ALL);
	ck_assert_int_eq(ha_announced_of(&cfg, &board, &announced), 0);
	text = format_of(&announced, &len);
	text[len / 2] ^= 1;
	write_file(record, text, len);
	free(text);
	mem = ha_memory_open(state);
	ck_assert_ptr_nonnull(mem);
	ck_assert(!ha_memory_recalled(mem)->discovery);
	/* The next announcement replaces it, even without discovery. */
	ha_announced_free(&announced);
	load(&cfg2, MQTT HA_OFF LINES_ALL);
	ck_assert_int_eq(ha_announced_of(&cfg2, &board, &announced), 0);
	ha_memory_record(mem, &announced);
	ck_assert(!exists(record));
	ha_memory_close(mem);
}
END_TEST

START_TEST(test_missing_directory_is_off)
{
	char elsewhere[160];
	struct ha_memory *mem;

	snprintf(elsewhere, sizeof(elsewhere), "%s/missing/state", dir);
	mem = ha_memory_open(elsewhere);
	ck_assert_ptr_nonnull(mem);
	load(&cfg, MQTT HA("device") LINES_ALL);
	ck_assert_int_eq(ha_announced_of(&cfg, &board, &announced), 0);
	ha_memory_record(mem, &announced);
	ck_assert_uint_eq(ha_memory_writes(mem), 0);
	ck_assert(!ha_memory_recalled(mem)->discovery);
	ha_memory_close(mem);
}
END_TEST

START_TEST(test_forget_removes_the_record)
{
	write_file(record, "x", 1);
	ck_assert_int_eq(ha_memory_forget(state), 0);
	ck_assert(!exists(record));
	ck_assert_int_eq(ha_memory_forget(state), 0); /* none is fine */
}
END_TEST

/* --- retractions from a record --- */

/* The record of cfg (old) as a start reads it back. */
static void recall(void)
{
	char why[128], *text;
	size_t len;

	ck_assert_int_eq(ha_announced_of(&cfg, &board, &announced), 0);
	if (!announced.discovery) { /* no record */
		ck_assert_int_eq(ha_memory_format(&announced, &text, &len), -1);
		return;
	}
	text = format_of(&announced, &len);
	ck_assert_int_eq(ha_memory_parse(text, len, &parsed, why, sizeof(why)), 0);
	free(text);
}

static bool same_messages(const struct ha_messages *a, const struct ha_messages *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->items[i].topic, b->items[i].topic) ||
		    strcmp(a->items[i].payload, b->items[i].payload) ||
		    a->items[i].retain != b->items[i].retain)
			return false;
	return true;
}

/* From every pair of mappings, the record owes what the reload owes. */
START_TEST(test_record_owes_what_a_reload_owes)
{
	static const char *const mappings[] = {
		MQTT HA("device") LINES_ALL,  MQTT HA("device") LINES_NO_DOOR,
		MQTT HA("entity") LINES_ALL,  MQTT HA("entity") LINES_NO_DOOR,
		MQTT HA_OFF LINES_ALL,
		MQTT "homeassistant = { discovery = true; prefix = \"elsewhere\"; };\n" LINES_ALL,
	};
	size_t n = sizeof(mappings) / sizeof(mappings[0]);

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			struct ha_messages reload_before, reload_after;

			load(&cfg, "%s", mappings[i]);
			load(&cfg2, "%s", mappings[j]);
			recall();
			ck_assert_int_eq(ha_retractions(&cfg, &cfg2, &board, &reload_before,
							&reload_after), 0);
			ck_assert_int_eq(ha_retractions_since(&parsed, &cfg2, &board, &before,
							      &after), 0);
			ck_assert_msg(same_messages(&before, &reload_before) &&
					      same_messages(&after, &reload_after),
				      "from %zu to %zu", i, j);
			ha_messages_free(&reload_before);
			ha_messages_free(&reload_after);
			ha_messages_free(&before);
			ha_messages_free(&after);
			ha_announced_free(&announced);
			ha_announced_free(&parsed);
			config_free(&cfg);
			config_free(&cfg2);
		}
	}
}
END_TEST

START_TEST(test_record_drops_a_component)
{
	load(&cfg, MQTT HA("entity") LINES_ALL);
	load(&cfg2, MQTT HA("entity") LINES_NO_DOOR);
	recall();
	ck_assert_int_eq(ha_retractions_since(&parsed, &cfg2, &board, &before, &after), 0);
	ck_assert_uint_eq(before.n, 2);
	ck_assert_str_eq(before.items[0].topic, "homeassistant/switch/" NODE "/door/config");
	ck_assert_str_eq(before.items[0].payload, "");
	ck_assert_str_eq(before.items[1].topic, "homeassistant/button/" NODE "/door_pulse/config");
	ck_assert_uint_eq(after.n, 0);
}
END_TEST

START_TEST(test_record_hands_over_to_device)
{
	load(&cfg, MQTT HA("entity") LINES_ALL);
	load(&cfg2, MQTT HA("device") LINES_ALL);
	recall();
	ck_assert_int_eq(ha_retractions_since(&parsed, &cfg2, &board, &before, &after), 0);
	ck_assert_uint_eq(before.n, 4);
	ck_assert_uint_eq(after.n, 4);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_str_eq(before.items[i].payload, HA_MIGRATE_PAYLOAD);
		ck_assert_str_eq(after.items[i].topic, before.items[i].topic);
		ck_assert_str_eq(after.items[i].payload, "");
	}
}
END_TEST

/* Another node id (the machine id or host name changed): the old device
 * leaves whole. */
START_TEST(test_record_of_another_node)
{
	static const struct board renamed = { .host = "pi", .machine = "ffff" };

	load(&cfg, MQTT HA("device") LINES_ALL);
	load(&cfg2, MQTT HA("device") LINES_ALL);
	recall();
	ck_assert_int_eq(ha_retractions_since(&parsed, &cfg2, &renamed, &before, &after), 0);
	ck_assert_uint_eq(before.n, 1);
	ck_assert_str_eq(before.items[0].topic, "homeassistant/device/" NODE "/config");
	ck_assert_str_eq(before.items[0].payload, "");
}
END_TEST

START_TEST(test_nothing_recalled_owes_nothing)
{
	const struct ha_announced nothing = { .discovery = false };

	load(&cfg2, MQTT HA("device") LINES_ALL);
	ck_assert_int_eq(ha_retractions_since(&nothing, &cfg2, &board, &before, &after), 0);
	ck_assert_uint_eq(before.n + after.n, 0);
}
END_TEST

/* --- the bridge at start --- */

enum { LED, FAN, N_LINES };
static const char *const names[N_LINES] = { "LED", "FAN" };
static struct harness h;

#define BRIDGE_HEAD(mode)                                                                          \
	MQTT "homeassistant = { discovery = true; prefix = \"ha\"; resync_delay_ms = 0;\n"         \
	     "  discovery_mode = \"" mode "\"; };\n"                                                 \
	     "state_file = \"%s\";\n"
#define BRIDGE_BOTH "outputs = ( { name = \"led\"; line = \"LED\"; },\n"                        \
		    "            { name = \"fan\"; line = \"FAN\"; } );\n"
#define BRIDGE_LED "outputs = ( { name = \"led\"; line = \"LED\"; } );\n"

static void bridge_setup(void)
{
	setup();
	harness_setup(&h, names, N_LINES);
}

static void bridge_teardown(void)
{
	harness_teardown(&h);
	teardown();
}

/* A daemon on fmt's mapping (with the state file) started and stopped. */
static void run_once(const char *fmt)
{
	char text[2048];

	snprintf(text, sizeof(text), fmt, state);
	harness_start(&h, text);
	bridge_stop(h.bridge);
	bridge_free(h.bridge);
	h.bridge = NULL;
}

static long first(struct mqtt *m, const char *topic_prefix, const char *payload)
{
	for (size_t i = 0; i < mqtt_fake_published(m); i++) {
		const struct fake_publication *p = mqtt_fake_publication(m, i);

		if (!strncmp(p->topic, topic_prefix, strlen(topic_prefix)) &&
		    (!payload || !strcmp(p->payload, payload)))
			return (long)i;
	}
	return -1;
}

/* How many retained empty messages went to topics under topic_prefix. */
static size_t emptied_on(struct mqtt *m, const char *topic_prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < mqtt_fake_published(m); i++) {
		const struct fake_publication *p = mqtt_fake_publication(m, i);

		n += !strncmp(p->topic, topic_prefix, strlen(topic_prefix)) && !p->payload[0] &&
		     p->retain;
	}
	return n;
}

static void start_on(const char *fmt)
{
	char text[2048];

	snprintf(text, sizeof(text), fmt, state);
	harness_start(&h, text);
}

START_TEST(test_start_removes_what_was_dropped)
{
	long removal;

	run_once(BRIDGE_HEAD("device") BRIDGE_BOTH);
	ck_assert(exists(record));
	start_on(BRIDGE_HEAD("device") BRIDGE_LED);
	removal = first(h.mqtt, "ha/device/", NULL);
	ck_assert_int_ge(removal, 0);
	ck_assert_ptr_nonnull(strstr(mqtt_fake_publication(h.mqtt, (size_t)removal)->payload,
				     "\"fan\":{\"p\":\"switch\"}"));
	ck_assert_ptr_null(strstr(mqtt_fake_last_on(h.mqtt, mqtt_fake_publication(
					h.mqtt, (size_t)removal)->topic)->payload, "\"fan\""));
	ck_assert_int_lt(removal, first(h.mqtt, "t/output/led", NULL));
}
END_TEST

START_TEST(test_start_hands_over_to_entities)
{
	long migrate, entity, emptied;

	run_once(BRIDGE_HEAD("device") BRIDGE_BOTH);
	start_on(BRIDGE_HEAD("entity") BRIDGE_BOTH);
	migrate = first(h.mqtt, "ha/device/", HA_MIGRATE_PAYLOAD);
	entity = first(h.mqtt, "ha/switch/", NULL);
	emptied = first(h.mqtt, "ha/device/", "");
	ck_assert_int_ge(migrate, 0);
	ck_assert_int_gt(entity, migrate);
	ck_assert_int_gt(emptied, entity);
	/* And the record says entity now: the next start owes nothing. */
	bridge_free(h.bridge);
	h.bridge = NULL;
	start_on(BRIDGE_HEAD("entity") BRIDGE_BOTH);
	ck_assert_int_eq(first(h.mqtt, "ha/device/", NULL), -1);
	ck_assert_int_eq(first(h.mqtt, "ha/switch/", ""), -1);
}
END_TEST

START_TEST(test_start_without_discovery_removes_all)
{
	char text[2048];

	run_once(BRIDGE_HEAD("entity") BRIDGE_BOTH);
	snprintf(text, sizeof(text),
		 MQTT "homeassistant = { discovery = false; prefix = \"ha\"; };\n"
		      "state_file = \"%s\";\n" BRIDGE_BOTH,
		 state);
	harness_start(&h, text);
	ck_assert_uint_eq(emptied_on(h.mqtt, "ha/switch/"), 2); /* led and fan */
	ck_assert_int_eq(first(h.mqtt, "ha/", HA_MIGRATE_PAYLOAD), -1);
	ck_assert(!exists(record)); /* forgotten once removed */
}
END_TEST

/* Not connected: nothing went out, so the record stays as it was, and the
 * removal is still owed by the next start. */
START_TEST(test_record_waits_for_the_announcement)
{
	char text[2048];
	int status;

	run_once(BRIDGE_HEAD("device") BRIDGE_BOTH);
	snprintf(text, sizeof(text), BRIDGE_HEAD("device") BRIDGE_LED, state);
	harness_write_mapping(&h, text);
	h.bridge = bridge_new(h.path, &status);
	ck_assert_ptr_nonnull(h.bridge);
	bridge_free(h.bridge);
	h.bridge = NULL;
	start_on(BRIDGE_HEAD("device") BRIDGE_LED);
	ck_assert_int_ge(first(h.mqtt, "ha/device/", NULL), 0);
	ck_assert_ptr_nonnull(strstr(mqtt_fake_publication(
		h.mqtt, (size_t)first(h.mqtt, "ha/device/", NULL))->payload, "\"fan\":{\"p\""));
}
END_TEST

Suite *ha_memory_suite(void)
{
	Suite *s = suite_create("ha_memory");
	TCase *text = tcase_create("text"), *file = tcase_create("file");
	TCase *retract = tcase_create("retractions"), *start = tcase_create("start");

	tcase_add_checked_fixture(text, setup, teardown);
	tcase_add_test(text, test_round_trip);
	tcase_add_test(text, test_damaged_text_is_refused);
	tcase_add_test(text, test_sealed_nonsense_is_refused);
	tcase_add_checked_fixture(file, setup, teardown);
	tcase_add_test(file, test_written_on_change_only);
	tcase_add_test(file, test_corrupt_file_recalls_nothing);
	tcase_add_test(file, test_missing_directory_is_off);
	tcase_add_test(file, test_forget_removes_the_record);
	tcase_add_checked_fixture(retract, setup, teardown);
	tcase_add_test(retract, test_record_owes_what_a_reload_owes);
	tcase_add_test(retract, test_record_drops_a_component);
	tcase_add_test(retract, test_record_hands_over_to_device);
	tcase_add_test(retract, test_record_of_another_node);
	tcase_add_test(retract, test_nothing_recalled_owes_nothing);
	tcase_add_checked_fixture(start, bridge_setup, bridge_teardown);
	tcase_add_test(start, test_start_removes_what_was_dropped);
	tcase_add_test(start, test_start_hands_over_to_entities);
	tcase_add_test(start, test_start_without_discovery_removes_all);
	tcase_add_test(start, test_record_waits_for_the_announcement);
	suite_add_tcase(s, text);
	suite_add_tcase(s, file);
	suite_add_tcase(s, retract);
	suite_add_tcase(s, start);
	return s;
}
