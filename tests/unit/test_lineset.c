/* SPDX-License-Identifier: MIT */
/* lineset: requesting a mapping's lines and handing them over on reload, on
 * the in-memory GPIO backend (gpio_mem.h); and that backend itself. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpio_mem.h"
#include "lineset.h"
#include "suites.h"

enum { LED, LAMP, BUTTON, DOOR }; /* offsets of the named lines of chip 0 */
#define CHIP_LINES 1024
#define MANY 1000

static struct gpio_chips *chips;

/* chip 0: a bank of CHIP_LINES lines, the first four named. */
static void board_up(void)
{
	static const char *names[CHIP_LINES] = { "LED", "LAMP", "BUTTON", "DOOR" };
	char err[256];

	gpio_mem_reset();
	ck_assert_int_eq(gpio_mem_add_chip("gpiochip0", "mem-bank", CHIP_LINES, names), 0);
	chips = gpio_chips_open(err, sizeof(err));
	ck_assert_msg(chips != NULL, "%s", err);
}

static void board_down(void)
{
	gpio_chips_close(chips);
	gpio_mem_reset();
}

/* --- mappings, built as config_load() leaves them --- */

struct map {
	struct config cfg;
	struct line_state *lines;
};

static void map_init(struct map *m, const char *path)
{
	memset(m, 0, sizeof(*m));
	m->cfg.path = strdup(path);
	m->cfg.lines = calloc(MANY + 1, sizeof(*m->cfg.lines));
	ck_assert_ptr_nonnull(m->cfg.lines);
}

/* An entry for the line at offset of chip 0, at file line n + 1. */
static struct cfg_line *map_add(struct map *m, const char *name, bool output,
				unsigned int offset)
{
	struct cfg_line *c = &m->cfg.lines[m->cfg.n_lines];

	ck_assert_uint_lt(m->cfg.n_lines, MANY);
	c->name = strdup(name);
	c->chip = strdup("gpiochip0");
	c->output = output;
	c->offset = offset;
	c->source_line = (int)++m->cfg.n_lines;
	m->cfg.n_outputs += output;
	return c;
}

static struct cfg_line *entry(struct map *m, const char *name)
{
	for (size_t i = 0; i < m->cfg.n_lines; i++)
		if (strcmp(m->cfg.lines[i].name, name) == 0)
			return &m->cfg.lines[i];
	ck_abort_msg("no entry %s", name);
	return NULL;
}

static struct line_state *state(struct map *m, const char *name)
{
	return &m->lines[entry(m, name) - m->cfg.lines];
}

static void map_resolve(struct map *m, bool check_free)
{
	m->lines = lineset_new(&m->cfg);
	ck_assert_ptr_nonnull(m->lines);
	ck_assert_int_eq(lineset_resolve(chips, &m->cfg, m->lines, check_free, stderr), 0);
}

static void map_free(struct map *m)
{
	if (m->lines)
		lineset_release(m->lines, m->cfg.n_lines);
	free(m->lines);
	for (size_t i = 0; i < m->cfg.n_lines; i++) {
		free(m->cfg.lines[i].name);
		free(m->cfg.lines[i].chip);
	}
	free(m->cfg.lines);
	free(m->cfg.path);
}

/* The running mapping, as the daemon starts it. */
static void start(struct map *m)
{
	map_resolve(m, true);
	ck_assert_int_eq(lineset_request(chips, &m->cfg, m->lines, stderr), 0);
}

/* A command, as the bridge applies it. */
static void command(struct line_state *l, int value)
{
	ck_assert_int_eq(gpio_line_set(l->gpio, value), 0);
	l->value = value;
}

struct outcome {
	int rc;
	char *errors;
	size_t errors_len;
};

/* SIGHUP: next is resolved and takes over old's lines. */
static struct outcome reload(struct map *old, struct map *next)
{
	struct outcome o = { 0 };
	FILE *errors = open_memstream(&o.errors, &o.errors_len);

	ck_assert_ptr_nonnull(errors);
	map_resolve(next, false);
	o.rc = lineset_switch(chips, &old->cfg, old->lines, &next->cfg, next->lines, errors);
	ck_assert_int_eq(fclose(errors), 0);
	return o;
}

static void expect_switched(struct outcome *o, const struct map *old)
{
	ck_assert_msg(o->rc == 0, "switch failed:\n%s", o->errors);
	ck_assert_uint_eq(o->errors_len, 0);
	for (size_t i = 0; i < old->cfg.n_lines; i++)
		ck_assert_ptr_null(old->lines[i].gpio);
	free(o->errors);
}

static void expect_counts(unsigned int offset, unsigned int requests, unsigned int releases,
			  unsigned int reconfigures)
{
	struct gpio_mem_counts n = gpio_mem_counts(0, offset);

	ck_assert_uint_eq(n.requests, requests);
	ck_assert_uint_eq(n.releases, releases);
	ck_assert_uint_eq(n.reconfigures, reconfigures);
}

static struct gpio_settings held_with(unsigned int offset)
{
	struct gpio_settings s;

	ck_assert_msg(gpio_mem_settings(0, offset, &s), "line %u is not held", offset);
	return s;
}

/* The usual running mapping: two outputs (LED on) and a button. */
static void led_lamp_button(struct map *m, const char *path)
{
	map_init(m, path);
	map_add(m, "led", true, LED);
	map_add(m, "lamp", true, LAMP)->active_low = true;
	map_add(m, "button", false, BUTTON)->bias = GPIO_BIAS_PULL_UP;
}

/* --- the in-memory backend keeps its promises --- */

static int last_edge = -1;

static void on_edge(void *ctx, int value, uint64_t timestamp_ns)
{
	(void)ctx;
	last_edge = value;
	ck_assert_uint_eq(timestamp_ns, 1234);
}

START_TEST(test_mem_outputs_and_inputs)
{
	struct gpio_settings out = { .output = true, .active_low = true, .initial = 1 };
	struct gpio_settings in = { .active_low = true };
	struct gpio_ref led = { 0, LED }, button = { 0, BUTTON };
	struct gpio_line *l, *b;
	struct pollfd pfd;
	char err[256];

	l = gpio_line_request(chips, &led, &out, err, sizeof(err));
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(gpio_line_fd(l), -1);
	ck_assert_int_eq(gpio_mem_value(0, LED), 0); /* logical 1, active low */
	ck_assert_int_eq(gpio_line_get(l), 1);
	ck_assert_int_eq(gpio_mem_drive_input(0, LED, 1, 1), -1);
	b = gpio_line_request(chips, &button, &in, err, sizeof(err));
	ck_assert_ptr_nonnull(b);
	pfd = (struct pollfd){ .fd = gpio_line_fd(b), .events = POLLIN };
	ck_assert_int_ge(pfd.fd, 0);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(gpio_mem_drive_input(0, BUTTON, 1, 1234), 0);
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(gpio_line_handle_events(b, on_edge, NULL), 0);
	ck_assert_int_eq(last_edge, 0); /* a rising wire is a falling edge */
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(gpio_check_free(chips, &button, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "gpiochip0 offset 2 (BUTTON) is in use by \"gpio2mqtt\"");
	gpio_line_release(l);
	gpio_line_release(b);
	ck_assert(!gpio_mem_is_requested(0, BUTTON));
	ck_assert_int_eq(gpio_check_free(chips, &button, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_mem_other_programs_and_refusals)
{
	struct gpio_settings out = { .output = true };
	struct gpio_ref door = { 0, DOOR };
	char err[256];

	ck_assert_int_eq(gpio_mem_hold_by_other(0, DOOR, "gpioset"), 0);
	ck_assert_ptr_null(gpio_line_request(chips, &door, &out, err, sizeof(err)));
	ck_assert_str_eq(err, "gpiochip0 offset 3 (DOOR) is in use by \"gpioset\"");
	ck_assert_int_eq(gpio_check_free(chips, &door, err, sizeof(err)), -1);
	ck_assert_int_eq(gpio_mem_hold_by_other(0, DOOR, NULL), 0);
	ck_assert_int_eq(gpio_mem_refuse_next_request(0, DOOR, EIO), 0);
	ck_assert_ptr_null(gpio_line_request(chips, &door, &out, err, sizeof(err)));
	ck_assert_str_eq(err, "cannot request gpiochip0 offset 3 (DOOR): Input/output error");
	expect_counts(DOOR, 0, 0, 0);
	ck_assert(!gpio_mem_is_requested(0, DOOR));
}
END_TEST

/* --- reload --- */

START_TEST(test_same_settings_hand_lines_over)
{
	struct map old, next;
	struct gpio_line *led, *button;
	struct outcome o;

	led_lamp_button(&old, "old.conf");
	start(&old);
	command(state(&old, "led"), 1);
	ck_assert_int_eq(gpio_mem_drive_input(0, BUTTON, 1, 1), 0);
	state(&old, "button")->value = 1; /* as the edge callback records it */
	led = state(&old, "led")->gpio;
	button = state(&old, "button")->gpio;
	/* The same lines, in another order, one of them by name now. */
	map_init(&next, "next.conf");
	map_add(&next, "button", false, BUTTON)->bias = GPIO_BIAS_PULL_UP;
	map_add(&next, "lamp", true, LAMP)->active_low = true;
	map_add(&next, "led", true, 99)->line_name = "LED";
	o = reload(&old, &next);
	expect_switched(&o, &old);
	ck_assert_ptr_eq(state(&next, "led")->gpio, led);
	ck_assert_ptr_eq(state(&next, "button")->gpio, button);
	ck_assert_int_eq(state(&next, "led")->value, 1);
	ck_assert_int_eq(state(&next, "button")->value, 1);
	ck_assert_int_eq(gpio_mem_value(0, LED), 1);
	ck_assert_int_eq(gpio_mem_value(0, LAMP), 1); /* off, active low */
	for (unsigned int line = LED; line <= BUTTON; line++)
		expect_counts(line, 1, 0, 0);
	map_free(&old);
	map_free(&next);
}
END_TEST

/* Both generations reconfigure an output that stays an output. */
START_TEST(test_changed_output_reconfigured_in_place)
{
	struct map old, next;
	struct cfg_line *led;
	struct gpio_settings s;
	struct outcome o;

	gpio_mem_set_generation(_i ? GPIO_MEM_V1 : GPIO_MEM_V2);
	led_lamp_button(&old, "old.conf");
	start(&old);
	command(state(&old, "led"), 1);
	led_lamp_button(&next, "next.conf");
	led = entry(&next, "led");
	led->active_low = true;
	led->drive = GPIO_DRIVE_OPEN_DRAIN;
	led->bias = GPIO_BIAS_PULL_UP;
	led->initial = 0; /* applies at start, not on reload */
	o = reload(&old, &next);
	expect_switched(&o, &old);
	expect_counts(LED, 1, 0, 1);
	s = held_with(LED);
	ck_assert(s.active_low);
	ck_assert_int_eq(s.drive, GPIO_DRIVE_OPEN_DRAIN);
	ck_assert_int_eq(s.bias, GPIO_BIAS_PULL_UP);
	/* Still on: the wire goes low under active_low. */
	ck_assert_int_eq(state(&next, "led")->value, 1);
	ck_assert_int_eq(gpio_mem_logical_value(0, LED), 1);
	ck_assert_int_eq(gpio_mem_value(0, LED), 0);
	expect_counts(LAMP, 1, 0, 0);
	expect_counts(BUTTON, 1, 0, 0);
	map_free(&old);
	map_free(&next);
}
END_TEST

/* 2.x reconfigures a changed input; 1.6 releases and requests it again. */
START_TEST(test_changed_input)
{
	bool v1 = _i;
	struct map old, next;
	struct line_state *button;
	struct pollfd pfd;
	struct outcome o;

	gpio_mem_set_generation(v1 ? GPIO_MEM_V1 : GPIO_MEM_V2);
	ck_assert_int_eq(gpio_mem_drive_input(0, BUTTON, 1, 1), 0);
	led_lamp_button(&old, "old.conf");
	start(&old);
	led_lamp_button(&next, "next.conf");
	entry(&next, "button")->debounce_ms = 20;
	o = reload(&old, &next);
	expect_switched(&o, &old);
	expect_counts(BUTTON, v1 ? 2 : 1, v1 ? 1 : 0, v1 ? 0 : 1);
	ck_assert_uint_eq(held_with(BUTTON).debounce_ms, 20);
	button = state(&next, "button");
	ck_assert_int_eq(button->value, 1); /* read again */
	/* Edges still arrive, through the fd the loop would watch. */
	pfd = (struct pollfd){ .fd = gpio_line_fd(button->gpio), .events = POLLIN };
	ck_assert_int_eq(gpio_mem_drive_input(0, BUTTON, 0, 1234), 0);
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	last_edge = -1;
	ck_assert_int_eq(gpio_line_handle_events(button->gpio, on_edge, NULL), 0);
	ck_assert_int_eq(last_edge, 0);
	map_free(&old);
	map_free(&next);
}
END_TEST

START_TEST(test_changed_direction)
{
	bool v1 = _i;
	struct map old, next;
	struct outcome o;

	gpio_mem_set_generation(v1 ? GPIO_MEM_V1 : GPIO_MEM_V2);
	led_lamp_button(&old, "old.conf");
	start(&old);
	map_init(&next, "next.conf");
	map_add(&next, "led", false, LED);
	map_add(&next, "lamp", true, LAMP)->active_low = true;
	map_add(&next, "button", true, BUTTON)->initial = 1;
	o = reload(&old, &next);
	expect_switched(&o, &old);
	/* 1.6 can turn neither way in place. */
	expect_counts(LED, v1 ? 2 : 1, v1, !v1);
	expect_counts(BUTTON, v1 ? 2 : 1, v1, !v1);
	ck_assert(!held_with(LED).output);
	ck_assert_int_ge(gpio_line_fd(state(&next, "led")->gpio), 0);
	ck_assert(held_with(BUTTON).output);
	ck_assert_int_eq(gpio_line_fd(state(&next, "button")->gpio), -1);
	ck_assert_int_eq(gpio_mem_value(0, BUTTON), 1); /* a new output: its initial value */
	map_free(&old);
	map_free(&next);
}
END_TEST

START_TEST(test_lines_added_and_removed)
{
	struct map old, next;
	struct outcome o;

	map_init(&old, "old.conf");
	map_add(&old, "lamp", true, LAMP);
	map_add(&old, "button", false, BUTTON);
	map_add(&old, "door", false, DOOR);
	start(&old);
	command(state(&old, "lamp"), 1);
	/* One line before all of old's, one left out between the kept ones. */
	map_init(&next, "next.conf");
	map_add(&next, "door", false, DOOR);
	map_add(&next, "lamp", true, LAMP);
	map_add(&next, "led", true, LED);
	o = reload(&old, &next);
	expect_switched(&o, &old);
	expect_counts(BUTTON, 1, 1, 0);
	ck_assert(!gpio_mem_is_requested(0, BUTTON));
	expect_counts(LAMP, 1, 0, 0);
	ck_assert_int_eq(state(&next, "lamp")->value, 1);
	expect_counts(DOOR, 1, 0, 0);
	expect_counts(LED, 1, 0, 0);
	ck_assert(gpio_mem_is_requested(0, LED));
	map_free(&old);
	map_free(&next);
}
END_TEST

/* What a refused reload must leave: old's lines held as before. */
static void expect_old_lines_kept(struct map *old, struct map *next, struct outcome *o)
{
	ck_assert_int_eq(o->rc, -1);
	for (size_t i = 0; i < next->cfg.n_lines; i++)
		ck_assert_ptr_null(next->lines[i].gpio);
	for (size_t i = 0; i < old->cfg.n_lines; i++) {
		const struct cfg_line *c = &old->cfg.lines[i];
		struct gpio_settings s = held_with(c->offset);

		ck_assert_ptr_nonnull(old->lines[i].gpio);
		ck_assert_int_eq(s.output, c->output);
		ck_assert_int_eq(s.active_low, c->active_low);
		ck_assert_int_eq(s.drive, c->drive);
		ck_assert_int_eq(s.bias, c->bias);
		ck_assert_uint_eq(s.debounce_ms, c->debounce_ms);
		ck_assert_int_eq(gpio_line_get(old->lines[i].gpio), old->lines[i].value);
	}
}

static bool has_error(const struct outcome *o, const char *line)
{
	return o->errors && strstr(o->errors, line) != NULL;
}

START_TEST(test_line_held_by_another_program)
{
	struct map old, next;
	struct outcome o;

	led_lamp_button(&old, "old.conf");
	start(&old);
	command(state(&old, "led"), 1);
	ck_assert_int_eq(gpio_mem_hold_by_other(0, DOOR, "gpioset"), 0);
	led_lamp_button(&next, "next.conf");
	entry(&next, "led")->active_low = true;
	map_add(&next, "door", true, DOOR);
	o = reload(&old, &next);
	expect_old_lines_kept(&old, &next, &o);
	ck_assert_msg(has_error(&o, "next.conf:4: door: gpiochip0 offset 3 (DOOR) is in use by "
				    "\"gpioset\"\n"),
		      "%s", o.errors);
	/* Refused before anything was touched. */
	for (unsigned int line = LED; line <= BUTTON; line++)
		expect_counts(line, 1, 0, 0);
	ck_assert_int_eq(gpio_mem_value(0, LED), 1);
	free(o.errors);
	map_free(&old);
	map_free(&next);
}
END_TEST

START_TEST(test_reconfigure_refused)
{
	struct map old, next;
	struct outcome o;

	led_lamp_button(&old, "old.conf");
	start(&old);
	command(state(&old, "led"), 1);
	led_lamp_button(&next, "next.conf");
	entry(&next, "led")->active_low = true;
	entry(&next, "lamp")->drive = GPIO_DRIVE_OPEN_SOURCE;
	map_add(&next, "door", false, DOOR);
	ck_assert_int_eq(gpio_mem_refuse_next_reconfigure(0, LAMP, EINVAL), 0);
	o = reload(&old, &next);
	expect_old_lines_kept(&old, &next, &o);
	ck_assert_msg(has_error(&o, "next.conf:2: lamp: cannot reconfigure gpiochip0 offset 1 "
				    "(LAMP): Invalid argument\n"),
		      "%s", o.errors);
	/* LED went to the new settings and back, LAMP was refused and set
	 * back all the same; neither was let go. */
	expect_counts(LED, 1, 0, 2);
	expect_counts(LAMP, 1, 0, 1);
	ck_assert_int_eq(gpio_mem_value(0, LED), 1);
	expect_counts(DOOR, 1, 1, 0);
	free(o.errors);
	map_free(&old);
	map_free(&next);
}
END_TEST

/* 1.6: the input can only be requested anew, and that is refused. */
START_TEST(test_request_anew_refused)
{
	struct map old, next;
	struct outcome o;

	gpio_mem_set_generation(GPIO_MEM_V1);
	led_lamp_button(&old, "old.conf");
	start(&old);
	command(state(&old, "led"), 1);
	led_lamp_button(&next, "next.conf");
	entry(&next, "led")->active_low = true;
	entry(&next, "button")->debounce_ms = 5;
	ck_assert_int_eq(gpio_mem_refuse_next_request(0, BUTTON, EIO), 0);
	o = reload(&old, &next);
	expect_old_lines_kept(&old, &next, &o);
	ck_assert_msg(has_error(&o, "next.conf:3: button: cannot request gpiochip0 offset 2 "
				    "(BUTTON): Input/output error\n"),
		      "%s", o.errors);
	expect_counts(LED, 1, 0, 2);
	expect_counts(BUTTON, 2, 1, 0); /* let go for next, taken back by old */
	ck_assert_int_eq(gpio_mem_value(0, LED), 1);
	free(o.errors);
	map_free(&old);
	map_free(&next);
}
END_TEST

START_TEST(test_thousand_lines_reversed)
{
	struct map old, next;
	struct outcome o;
	char name[16];

	map_init(&old, "old.conf");
	map_init(&next, "next.conf");
	for (unsigned int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "out%u", i);
		map_add(&old, name, true, i);
	}
	start(&old);
	for (unsigned int i = 0; i < MANY; i += 3)
		command(&old.lines[i], 1);
	for (unsigned int i = MANY; i-- > 0;) {
		snprintf(name, sizeof(name), "out%u", i);
		map_add(&next, name, true, i)->active_low = i % 2; /* every other one changed */
	}
	o = reload(&old, &next);
	expect_switched(&o, &old);
	for (unsigned int i = 0; i < MANY; i++) {
		struct line_state *l = &next.lines[MANY - 1 - i];

		ck_assert_uint_eq(l->ref.offset, i);
		ck_assert_int_eq(l->value, i % 3 == 0);
		ck_assert_int_eq(gpio_mem_logical_value(0, i), i % 3 == 0);
		expect_counts(i, 1, 0, i % 2);
	}
	map_free(&old);
	map_free(&next);
}
END_TEST

Suite *lineset_suite(void)
{
	Suite *s = suite_create("lineset");
	TCase *mem = tcase_create("gpio_mem");
	TCase *tc = tcase_create("reload");

	tcase_add_checked_fixture(mem, board_up, board_down);
	tcase_add_test(mem, test_mem_outputs_and_inputs);
	tcase_add_test(mem, test_mem_other_programs_and_refusals);
	suite_add_tcase(s, mem);
	tcase_add_checked_fixture(tc, board_up, board_down);
	tcase_add_test(tc, test_same_settings_hand_lines_over);
	/* _i: 0 models libgpiod 2.x, 1 models 1.6 */
	tcase_add_loop_test(tc, test_changed_output_reconfigured_in_place, 0, 2);
	tcase_add_loop_test(tc, test_changed_input, 0, 2);
	tcase_add_loop_test(tc, test_changed_direction, 0, 2);
	tcase_add_test(tc, test_lines_added_and_removed);
	tcase_add_test(tc, test_line_held_by_another_program);
	tcase_add_test(tc, test_reconfigure_refused);
	tcase_add_test(tc, test_request_anew_refused);
	tcase_add_test(tc, test_thousand_lines_reversed);
	suite_add_tcase(s, tc);
	return s;
}
