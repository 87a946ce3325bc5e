/* SPDX-License-Identifier: MIT */
/* input: presses told apart by their timestamps (press.c, pure, no waiting),
 * the mapping keys of presses and counters, and both at work in the real
 * bridge on the in-memory GPIO backend and the recording MQTT client. Edges
 * are stamped in the past, so that what the stamps decide is decided at the
 * next poll: milliseconds, not the seconds a button takes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "clock.h"
#include "config.h"
#include "gpio_mem.h"
#include "log.h"
#include "mqtt_fake.h"
#include "press.h"
#include "suites.h"

#define MS 1000000LL

/* --- the press state machine --- */

static const struct press_timing timing = { .double_ns = 400 * MS, .long_ns = 800 * MS };

/* The events of one edge, as "single,long" ("" for none). */
static const char *edge(struct press *p, int value, long long ms)
{
	static char said[64];
	enum press_event out[PRESS_EVENTS_MAX];
	size_t n = press_edge(p, &timing, value, ms * MS, out);

	said[0] = '\0';
	for (size_t k = 0; k < n; k++)
		snprintf(said + strlen(said), sizeof(said) - strlen(said), "%s%s", k ? "," : "",
			 press_event_name(out[k]));
	return said;
}

static enum press_event expire(struct press *p, long long ms)
{
	return press_expire(p, &timing, ms * MS);
}

START_TEST(test_single_after_the_double_click_time)
{
	struct press p = { 0 };

	press_sync(&p, 0);
	ck_assert_str_eq(edge(&p, 1, 1000), "");
	ck_assert_str_eq(edge(&p, 0, 1100), "");
	ck_assert_int_eq(press_deadline(&p, &timing), 1500 * MS);
	ck_assert_int_eq(expire(&p, 1499), PRESS_NONE);
	ck_assert_int_eq(expire(&p, 1500), PRESS_SINGLE);
	ck_assert_int_eq(press_deadline(&p, &timing), 0);
	ck_assert_int_eq(expire(&p, 9000), PRESS_NONE);
}
END_TEST

/* Said as the second press begins; that press counts for nothing more,
 * however long it is held, and no single follows. */
START_TEST(test_double_at_the_second_press)
{
	struct press p = { 0 };

	ck_assert_str_eq(edge(&p, 1, 1000), "");
	ck_assert_str_eq(edge(&p, 0, 1100), "");
	ck_assert_str_eq(edge(&p, 1, 1499), "double");
	ck_assert_int_eq(press_deadline(&p, &timing), 0);
	ck_assert_str_eq(edge(&p, 0, 3000), "");
	ck_assert_int_eq(expire(&p, 9000), PRESS_NONE);
}
END_TEST

/* A second press exactly double_ms after the release is too late: the first
 * was a single, read late, and a new press begins. */
START_TEST(test_second_press_too_late)
{
	struct press p = { 0 };

	edge(&p, 1, 1000);
	edge(&p, 0, 1100);
	ck_assert_str_eq(edge(&p, 1, 1500), "single");
	ck_assert_str_eq(edge(&p, 0, 1600), "");
	ck_assert_int_eq(expire(&p, 2000), PRESS_SINGLE);
}
END_TEST

START_TEST(test_long_while_held)
{
	struct press p = { 0 };

	edge(&p, 1, 1000);
	ck_assert_int_eq(press_deadline(&p, &timing), 1800 * MS);
	ck_assert_int_eq(expire(&p, 1799), PRESS_NONE);
	ck_assert_int_eq(expire(&p, 1800), PRESS_LONG);
	ck_assert_int_eq(expire(&p, 5000), PRESS_NONE);
	ck_assert_str_eq(edge(&p, 0, 2500), "");
	ck_assert_int_eq(press_deadline(&p, &timing), 0);
	/* A press soon after a long one is a new first press, not a double. */
	ck_assert_str_eq(edge(&p, 1, 2600), "");
	ck_assert_str_eq(edge(&p, 0, 2700), "");
	ck_assert_int_eq(expire(&p, 3100), PRESS_SINGLE);
}
END_TEST

/* Press and release read together, long after: the stamps decide. */
START_TEST(test_long_read_with_its_release)
{
	struct press p = { 0 };

	edge(&p, 1, 1000);
	ck_assert_str_eq(edge(&p, 0, 2500), "long");
	ck_assert_int_eq(press_deadline(&p, &timing), 0);
	/* 799 ms is short. */
	edge(&p, 1, 3000);
	ck_assert_str_eq(edge(&p, 0, 3799), "");
	ck_assert_int_eq(expire(&p, 4199), PRESS_SINGLE);
}
END_TEST

START_TEST(test_second_press_of_a_double_held_long)
{
	struct press p = { 0 };

	edge(&p, 1, 1000);
	edge(&p, 0, 1050);
	ck_assert_str_eq(edge(&p, 1, 1100), "double");
	ck_assert_int_eq(expire(&p, 5000), PRESS_NONE);
	ck_assert_str_eq(edge(&p, 0, 5000), "");
}
END_TEST

/* On before watching began: not a press. Repeated edges change nothing. */
START_TEST(test_held_at_start_and_repeated_edges)
{
	struct press p = { 0 };

	press_sync(&p, 1);
	ck_assert_int_eq(press_deadline(&p, &timing), 0);
	ck_assert_str_eq(edge(&p, 0, 5000), "");
	ck_assert_str_eq(edge(&p, 0, 5001), "");
	ck_assert_int_eq(expire(&p, 9000), PRESS_NONE);
	edge(&p, 1, 10000);
	ck_assert_str_eq(edge(&p, 1, 10100), "");
	ck_assert_int_eq(press_deadline(&p, &timing), 10800 * MS);
}
END_TEST

/* A stamp before the last one counts as no time. */
START_TEST(test_time_going_backwards)
{
	struct press p = { 0 };

	edge(&p, 1, 1000);
	ck_assert_str_eq(edge(&p, 0, 900), "");
	ck_assert_int_eq(press_deadline(&p, &timing), 1400 * MS);
}
END_TEST

/* After the line may have changed unseen (a reload that requested it anew):
 * what its value contradicts is dropped, what it agrees with kept. */
START_TEST(test_sync_with_the_line)
{
	struct press p = { 0 };

	edge(&p, 1, 1000);
	press_sync(&p, 0);
	ck_assert_int_eq(press_deadline(&p, &timing), 0);
	ck_assert_str_eq(edge(&p, 0, 1100), "");
	edge(&p, 1, 2000);
	press_sync(&p, 1);
	ck_assert_int_eq(press_deadline(&p, &timing), 2800 * MS);
	edge(&p, 0, 2100);
	press_sync(&p, 1);
	ck_assert_int_eq(press_deadline(&p, &timing), 0);
	ck_assert_str_eq(edge(&p, 0, 2200), "");
	ck_assert_int_eq(expire(&p, 9000), PRESS_NONE);
}
END_TEST

/* --- the mapping keys --- */

static char dir[64];
static char path[96];

static void write_mapping(const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* Loads text; the problems into errors (freed by the caller). */
static int load(struct config *cfg, const char *text, char **errors)
{
	size_t len;
	FILE *f = open_memstream(errors, &len);
	int rc;

	ck_assert_ptr_nonnull(f);
	write_mapping(text);
	rc = config_load(cfg, path, f);
	ck_assert_int_eq(fclose(f), 0);
	return rc;
}

/* text is refused with a problem at line (of the file) that says what. */
static void expect_problem(const char *text, int line, const char *what)
{
	struct config cfg;
	char *errors, where[128];

	ck_assert_int_eq(load(&cfg, text, &errors), -1);
	snprintf(where, sizeof(where), "%s:%d: ", path, line);
	ck_assert_msg(strstr(errors, where) && strstr(errors, what), "expected \"%s%s\" in: %s",
		      where, what, errors);
	free(errors);
}

#define MQTT_T "mqtt = { base_topic = \"t\"; };\n"

static void setup_files(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gpio2mqtt-input-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mapping.conf", dir);
}

static void teardown_files(void)
{
	unlink(path);
	rmdir(dir);
}

START_TEST(test_keys_and_defaults)
{
	struct config cfg;
	char *errors;

	ck_assert_int_eq(load(&cfg, MQTT_T
			      "inputs = ( { name = \"b\"; line = \"B\"; click = true; },\n"
			      "  { name = \"m\"; line = \"M\"; counter = \"falling\"; },\n"
			      "  { name = \"x\"; line = \"X\"; click = true; double_click_ms = 250;\n"
			      "    long_press_ms = 1500; event_topic = \"e/%%\";\n"
			      "    counter = \"both\"; count_interval_ms = 0; count_topic = \"c\"; },\n"
			      "  { name = \"plain\"; line = \"P\"; } );\n",
			      &errors),
			 0);
	free(errors);
	ck_assert(cfg.lines[0].click);
	ck_assert_uint_eq(cfg.lines[0].double_click_ms, 400);
	ck_assert_uint_eq(cfg.lines[0].long_press_ms, 800);
	ck_assert_str_eq(cfg.lines[0].event_topic, "t/input/b/event");
	ck_assert_int_eq(cfg.lines[0].counter, COUNTER_NONE);
	ck_assert_ptr_null(cfg.lines[0].count_topic);
	ck_assert_int_eq(cfg.lines[1].counter, COUNTER_FALLING);
	ck_assert_uint_eq(cfg.lines[1].count_interval_ms, 1000);
	ck_assert_str_eq(cfg.lines[1].count_topic, "t/input/m/count");
	ck_assert(!cfg.lines[1].click);
	ck_assert_ptr_null(cfg.lines[1].event_topic);
	ck_assert_uint_eq(cfg.lines[2].double_click_ms, 250);
	ck_assert_uint_eq(cfg.lines[2].long_press_ms, 1500);
	ck_assert_str_eq(cfg.lines[2].event_topic, "e/%");
	ck_assert_int_eq(cfg.lines[2].counter, COUNTER_BOTH);
	ck_assert_uint_eq(cfg.lines[2].count_interval_ms, 0);
	ck_assert_str_eq(cfg.lines[2].count_topic, "c");
	ck_assert(!cfg.lines[3].click);
	ck_assert_int_eq(cfg.lines[3].counter, COUNTER_NONE);
	config_free(&cfg);
}
END_TEST

START_TEST(test_problems_at_their_lines)
{
	expect_problem(MQTT_T "inputs = ( { name = \"b\"; line = \"B\"; click = true;\n"
			      "  long_press_ms = 0; } );\n",
		       3, "'long_press_ms' is 0, must be from 1 to 60000");
	expect_problem(MQTT_T "inputs = ( { name = \"b\"; line = \"B\"; click = true;\n"
			      "  double_click_ms = -5; } );\n",
		       3, "'double_click_ms' is -5");
	expect_problem(MQTT_T "inputs = ( { name = \"b\"; line = \"B\";\n"
			      "  counter = \"up\"; } );\n",
		       3, "'counter' is \"up\", must be one of: rising, falling, both");
	expect_problem(MQTT_T "inputs = ( { name = \"b\"; line = \"B\"; click = \"yes\"; } );\n",
		       2, "'click' must be true or false");
	expect_problem(MQTT_T "outputs = ( { name = \"led\"; line = \"L\";\n"
			      "  click = true; } );\n",
		       3, "unknown key 'click' in an output");
	expect_problem(MQTT_T "inputs = ( { name = \"b\"; line = \"B\";\n"
			      "  long_press_ms = 900; } );\n",
		       3, "'long_press_ms' needs click = true");
	expect_problem(MQTT_T "inputs = ( { name = \"b\"; line = \"B\"; counter = \"rising\";\n"
			      "  count_interval_ms = 86400001; } );\n",
		       3, "'count_interval_ms'");
	expect_problem(MQTT_T "inputs = ( { name = \"b\"; line = \"B\";\n"
			      "  count_topic = \"c\"; } );\n",
		       3, "'count_topic' needs counter = \"rising\", \"falling\" or \"both\"");
	expect_problem(MQTT_T "inputs = ( { name = \"b\"; line = \"B\"; click = true;\n"
			      "  event_topic = \"a/+\"; } );\n",
		       3, "'event_topic' \"a/+\" is not a valid topic");
}
END_TEST

START_TEST(test_topics_are_unique_and_not_reserved)
{
	expect_problem(MQTT_T "inputs = ( { name = \"a\"; line = \"A\"; },\n"
			      "  { name = \"b\"; line = \"B\"; click = true;\n"
			      "    event_topic = \"t/input/a\"; } );\n",
		       3, "event_topic \"t/input/a\" is the state_topic at line 2");
	expect_problem(MQTT_T "inputs = ( { name = \"a\"; line = \"A\"; counter = \"both\";\n"
			      "    count_topic = \"t/input/a\"; } );\n",
		       2, "count_topic \"t/input/a\"");
	expect_problem(MQTT_T "outputs = ( { name = \"led\"; line = \"L\"; } );\n"
			      "inputs = ( { name = \"a\"; line = \"A\"; click = true;\n"
			      "    event_topic = \"t/output/led/set\"; } );\n",
		       3, "is the command_topic at line 2");
	expect_problem(MQTT_T "inputs = ( { name = \"a\"; line = \"A\"; counter = \"both\";\n"
			      "    count_topic = \"t/status\"; } );\n",
		       2, "topic \"t/status\" is reserved for the daemon");
}
END_TEST

/* --- in the bridge --- */

enum { BUTTON, METER, N_LINES };
static const char *const names[N_LINES] = { "BUTTON", "METER" };

static struct bridge *b;
static struct mqtt *m;

static const char presses[] = MQTT_T
	"inputs = ( { name = \"button\"; line = \"BUTTON\"; click = true;\n"
	"             double_click_ms = 40; long_press_ms = 80; },\n"
	"           { name = \"meter\"; line = \"METER\"; counter = \"rising\";\n"
	"             count_interval_ms = 50; } );\n";

static char state[160];

/* The bridge on text with its state file in the test's directory, connected,
 * subscribed and its states sent. */
static void start(const char *text)
{
	char mapping[1024];
	int status;

	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(mapping, sizeof(mapping), "state_file = \"%s\";\n%s", state, text);
	write_mapping(mapping);
	b = bridge_new(path, &status);
	ck_assert_ptr_nonnull(b);
	bridge_start(b);
	m = mqtt_fake_client();
	mqtt_fake_accept(m);
	mqtt_fake_suback(m);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
}

static void setup_bridge(void)
{
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	log_init(0);
	gpio_mem_reset();
	ck_assert_int_eq(gpio_mem_add_chip("gpiochip0", "unit", N_LINES, names), 0);
	setup_files();
	b = NULL;
}

static void teardown_bridge(void)
{
	bridge_free(b);
	unlink(state);
	gpio_mem_reset();
	teardown_files();
}

/* An edge on line, stamped ms_ago milliseconds before now. */
static void drive(unsigned int line, int value, long long ms_ago)
{
	ck_assert_int_eq(gpio_mem_drive_input(0, line, value,
					      (uint64_t)(clock_now_ns() - ms_ago * MS)),
			 0);
}

/* Polls until n messages were published on topic, or timeout_ms passed. */
static bool poll_for(const char *topic, size_t n, int timeout_ms)
{
	long long end = clock_now_ms() + timeout_ms;

	while (mqtt_fake_count_on(m, topic) < n && clock_now_ms() < end)
		ck_assert_int_eq(bridge_poll(b, 10), 0);
	return mqtt_fake_count_on(m, topic) >= n;
}

/* The event types published on topic, in order: "single,double". */
static const char *events_on(const char *topic)
{
	static char said[256];

	said[0] = '\0';
	for (size_t k = 0; k < mqtt_fake_published(m); k++) {
		const struct fake_publication *p = mqtt_fake_publication(m, k);
		const char *type;

		if (strcmp(p->topic, topic) != 0)
			continue;
		ck_assert(!p->retain);
		type = strstr(p->payload, "\"event_type\":\"");
		ck_assert_ptr_nonnull(type);
		type += strlen("\"event_type\":\"");
		snprintf(said + strlen(said), sizeof(said) - strlen(said), "%s%.*s",
			 said[0] ? "," : "", (int)strcspn(type, "\""), type);
	}
	return said;
}

#define EVENTS "t/input/button/event"
#define COUNT "t/input/meter/count"

static bool poll_until_count(const char *count, int timeout_ms)
{
	long long end = clock_now_ms() + timeout_ms;
	const struct fake_publication *p;

	while (!((p = mqtt_fake_last_on(m, COUNT)) && strcmp(p->payload, count) == 0) &&
	       clock_now_ms() < end)
		ck_assert_int_eq(bridge_poll(b, 10), 0);
	return p && strcmp(p->payload, count) == 0;
}

START_TEST(test_presses_published)
{
	start(presses);
	/* single: held 30 ms, released 100 ms ago, so its 40 ms are over */
	drive(BUTTON, 1, 130);
	drive(BUTTON, 0, 100);
	ck_assert(poll_for(EVENTS, 1, 500));
	ck_assert_str_eq(mqtt_fake_last_on(m, EVENTS)->payload, "{\"event_type\":\"single\"}");
	/* double */
	drive(BUTTON, 1, 50);
	drive(BUTTON, 0, 45);
	drive(BUTTON, 1, 30);
	drive(BUTTON, 0, 25);
	ck_assert(poll_for(EVENTS, 2, 500));
	/* long, while still held */
	drive(BUTTON, 1, 0);
	ck_assert(poll_for(EVENTS, 3, 1000));
	ck_assert_int_eq(gpio_mem_logical_value(0, BUTTON), 1);
	drive(BUTTON, 0, 0);
	ck_assert(!poll_for(EVENTS, 4, 150));
	ck_assert_str_eq(events_on(EVENTS), "single,double,long");
	/* The state topic says ON and OFF as before. */
	ck_assert_uint_eq(mqtt_fake_count_on(m, "t/input/button"), 1 + 8);
	ck_assert_str_eq(mqtt_fake_last_on(m, "t/input/button")->payload, "OFF");
}
END_TEST

/* The single's timer is due, but a second press stamped within the double
 * click time waits in the kernel: it is read first, and makes a double. */
START_TEST(test_edges_waiting_in_the_kernel_decide)
{
	start(presses);
	drive(BUTTON, 1, 100);
	drive(BUTTON, 0, 90);
	ck_assert_int_eq(bridge_poll(b, 0), 0); /* read; the timer is set for 40 ms after */
	drive(BUTTON, 1, 60);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	drive(BUTTON, 0, 0);
	ck_assert(!poll_for(EVENTS, 2, 150));
	ck_assert_str_eq(events_on(EVENTS), "double");
}
END_TEST

/* Three edges at once: one publication; the latest count once the interval
 * has passed; counts are retained, and owed to a new connection. */
START_TEST(test_counts_coalesced)
{
	start(presses);
	ck_assert_str_eq(mqtt_fake_last_on(m, COUNT)->payload, "0");
	ck_assert(mqtt_fake_last_on(m, COUNT)->retain);
	mqtt_fake_forget_publications(m);
	for (int k = 0; k < 3; k++) {
		drive(METER, 1, 0);
		drive(METER, 0, 0);
	}
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	ck_assert(poll_until_count("3", 500));
	/* The first edge alone, had the connection's count been 50 ms old. */
	ck_assert_uint_le(mqtt_fake_count_on(m, COUNT), 2);
	ck_assert(mqtt_fake_last_on(m, COUNT)->retain);
	mqtt_fake_forget_publications(m);
	ck_assert(!poll_for(COUNT, 1, 150)); /* unchanged: nothing more */

	mqtt_fake_drop(m);
	drive(METER, 1, 0);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	mqtt_fake_forget_publications(m);
	mqtt_fake_accept(m);
	mqtt_fake_suback(m);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	ck_assert_str_eq(mqtt_fake_last_on(m, COUNT)->payload, "4");
}
END_TEST

START_TEST(test_falling_and_both)
{
	start(MQTT_T "inputs = ( { name = \"meter\"; line = \"METER\"; counter = \"falling\";\n"
		     "             count_interval_ms = 0; },\n"
		     "           { name = \"b\"; line = \"BUTTON\"; counter = \"both\";\n"
		     "             count_interval_ms = 0; count_topic = \"both\"; } );\n");
	drive(METER, 1, 0);
	drive(METER, 0, 0);
	drive(METER, 1, 0);
	drive(BUTTON, 1, 0);
	drive(BUTTON, 0, 0);
	drive(BUTTON, 1, 0);
	ck_assert_int_eq(bridge_poll(b, 10), 0);
	ck_assert_str_eq(mqtt_fake_last_on(m, COUNT)->payload, "1");
	ck_assert_str_eq(mqtt_fake_last_on(m, "both")->payload, "3");
}
END_TEST

/* A reload keeps the count and a press in progress of an input that keeps
 * its name and line, whatever else changed. */
START_TEST(test_reload_carries_on)
{
	start(presses);
	drive(METER, 1, 0);
	drive(METER, 0, 0);
	drive(BUTTON, 1, 0);
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	write_mapping(MQTT_T
		      "inputs = ( { name = \"button\"; line = \"BUTTON\"; click = true;\n"
		      "             double_click_ms = 40; long_press_ms = 80; debounce_ms = 1; },\n"
		      "           { name = \"meter\"; line = \"METER\"; counter = \"rising\";\n"
		      "             count_interval_ms = 0; } );\n");
	mqtt_fake_forget_publications(m);
	bridge_reload(b);
	ck_assert(poll_for(EVENTS, 1, 1000));
	ck_assert_str_eq(events_on(EVENTS), "long");
	drive(METER, 1, 0);
	ck_assert_int_eq(bridge_poll(b, 10), 0);
	ck_assert_str_eq(mqtt_fake_last_on(m, COUNT)->payload, "2");
	drive(BUTTON, 0, 0);
	ck_assert(!poll_for(EVENTS, 2, 150));
}
END_TEST

/* The count is kept in the state file and taken up again by the next
 * start. */
START_TEST(test_count_survives_a_restart)
{
	const char *text = MQTT_T "inputs = ( { name = \"meter\"; line = \"METER\";\n"
				  "             counter = \"rising\"; } );\n";

	start(text);
	for (int k = 0; k < 2; k++) {
		drive(METER, 1, 0);
		drive(METER, 0, 0);
	}
	ck_assert_int_eq(bridge_poll(b, 0), 0);
	bridge_free(b);
	b = NULL;
	start(text);
	ck_assert_str_eq(mqtt_fake_last_on(m, COUNT)->payload, "2");
	drive(METER, 1, 0);
	ck_assert(poll_until_count("3", 1500));
}
END_TEST

Suite *input_suite(void)
{
	Suite *s = suite_create("input");
	TCase *tc = tcase_create("press");
	TCase *keys = tcase_create("keys");
	TCase *bridge = tcase_create("bridge");

	tcase_add_test(tc, test_single_after_the_double_click_time);
	tcase_add_test(tc, test_double_at_the_second_press);
	tcase_add_test(tc, test_second_press_too_late);
	tcase_add_test(tc, test_long_while_held);
	tcase_add_test(tc, test_long_read_with_its_release);
	tcase_add_test(tc, test_second_press_of_a_double_held_long);
	tcase_add_test(tc, test_held_at_start_and_repeated_edges);
	tcase_add_test(tc, test_time_going_backwards);
	tcase_add_test(tc, test_sync_with_the_line);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(keys, setup_files, teardown_files);
	tcase_add_test(keys, test_keys_and_defaults);
	tcase_add_test(keys, test_problems_at_their_lines);
	tcase_add_test(keys, test_topics_are_unique_and_not_reserved);
	suite_add_tcase(s, keys);
	tcase_add_checked_fixture(bridge, setup_bridge, teardown_bridge);
	tcase_add_test(bridge, test_presses_published);
	tcase_add_test(bridge, test_edges_waiting_in_the_kernel_decide);
	tcase_add_test(bridge, test_counts_coalesced);
	tcase_add_test(bridge, test_falling_and_both);
	tcase_add_test(bridge, test_reload_carries_on);
	tcase_add_test(bridge, test_count_survives_a_restart);
	suite_add_tcase(s, bridge);
	return s;
}
