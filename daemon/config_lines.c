/* SPDX-License-Identifier: MIT */
/* config_lines: the outputs and inputs of a mapping file (see config.h). */
#include "config.h"
#include "config_read.h"

#include <stdlib.h>
#include <string.h>

#include "topics.h"

static const char *const bias_names[] = { "as-is", "disabled", "pull-up", "pull-down", NULL };
static const char *const drive_names[] = { "push-pull", "open-drain", "open-source", NULL };
static const char *const initial_names[] = { "off", "on", "keep", "restore", NULL };
static const char *const failsafe_names[] = { "keep", "off", "on", NULL };

static const char *const output_keys[] = { "name", "line", "chip", "command_topic",
					   "state_topic", "active_low", "initial", "drive",
					   "bias", "payload_on", "payload_off", "retain",
					   "pulse_ms", "interlock", "interlock_wait_ms",
					   "max_on_ms", "on_disconnect", "on_disconnect_after_s",
					   "ha_component", NULL };
static const char *const input_keys[] = { "name", "line", "chip", "state_topic", "bias",
					  "active_low", "debounce_ms", "payload_on",
					  "payload_off", "retain", "click", "double_click_ms",
					  "long_press_ms", "event_topic", "counter",
					  "count_interval_ms", "count_topic", "device_class", NULL };
static const char *const counter_names[] = { "rising", "falling", "both", NULL };

static void read_line_location(struct reader *r, const config_setting_t *g, struct cfg_line *l)
{
	const config_setting_t *s = config_setting_get_member(g, "line");

	cfg_get_string(r, g, "chip", &l->chip);
	if (!s) {
		cfg_fail_at(r, l->source_line, "'line' is missing (a line name or an offset)");
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		l->line_name = cfg_copy(r, config_setting_get_string(s));
		if (l->line_name && !*l->line_name)
			cfg_fail_at(r, cfg_line_of(s), "'line' is empty");
	} else if (config_setting_type(s) == CONFIG_TYPE_INT) {
		int offset = config_setting_get_int(s);

		if (offset < 0 || offset > 65535)
			cfg_fail_at(r, cfg_line_of(s), "'line' offset %d is out of range", offset);
		else if (!l->chip)
			cfg_fail_at(r, cfg_line_of(s), "'line' given as an offset needs 'chip'");
		l->offset = (unsigned int)(offset < 0 ? 0 : offset);
	} else {
		cfg_fail_at(r, cfg_line_of(s), "'line' must be a line name (string) or an offset (number)");
	}
}

static void read_line_common(struct reader *r, const config_setting_t *g, struct cfg_line *l,
			     const struct cfg_mqtt *m)
{
	int bias = GPIO_BIAS_AS_IS;

	l->source_line = cfg_line_of(g);
	l->retain = true;
	if (cfg_get_string(r, g, "name", &l->name) == 0)
		cfg_fail_at(r, l->source_line, "'name' is missing");
	else if (l->name && !cfg_valid_name(l->name))
		cfg_fail_at(r, cfg_line_of(config_setting_get_member(g, "name")),
			"'name' \"%s\" may only have letters, digits, '_' and '-'", l->name);
	read_line_location(r, g, l);
	cfg_get_string(r, g, "state_topic", &l->state_topic);
	cfg_expand_vars(r, g, "state_topic", &l->state_topic);
	cfg_get_bool(r, g, "active_low", &l->active_low);
	cfg_get_bool(r, g, "retain", &l->retain);
	cfg_get_choice(r, g, "bias", bias_names, &bias);
	l->bias = (enum gpio_bias)bias;
	cfg_get_string(r, g, "payload_on", &l->payload_on);
	cfg_get_string(r, g, "payload_off", &l->payload_off);
	cfg_check_word(r, g, "payload_on", l->payload_on);
	cfg_check_word(r, g, "payload_off", l->payload_off);
	if (!l->payload_on)
		l->payload_on = cfg_copy(r, "ON");
	if (!l->payload_off)
		l->payload_off = cfg_copy(r, "OFF");
	if (l->name && cfg_valid_name(l->name))
		if (!l->state_topic)
			l->state_topic = cfg_own(r, topics_state(m->base_topic, l->output, l->name));
	cfg_check_topic(r, g, "state_topic", l->state_topic);
}

/* topic is NULL when its copy failed (r is then marked). */
static void add_command_topic(struct reader *r, struct cfg_line *l, char *topic)
{
	char **more;

	if (!topic)
		return;
	more = cfg_resize(r, l->command_topics, l->n_commands + 1, sizeof(char *));
	if (!more) {
		free(topic);
		return;
	}
	l->command_topics = more;
	l->command_topics[l->n_commands++] = topic;
}

/* One topic, or a list of them: a group's topic and the board's own. */
static void read_command_topics(struct reader *r, const config_setting_t *g, struct cfg_line *l)
{
	const config_setting_t *s = config_setting_get_member(g, "command_topic");
	int type = s ? config_setting_type(s) : CONFIG_TYPE_NONE;
	int n = s ? config_setting_length(s) : 0;

	if (!s)
		return;
	if (type == CONFIG_TYPE_STRING) {
		add_command_topic(r, l, cfg_copy(r, config_setting_get_string(s)));
		return;
	}
	if ((type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) || n == 0) {
		cfg_fail_at(r, cfg_line_of(s), "'command_topic' must be a topic or a list of topics: "
				       "( \"class/all/led\", \"class/%%h/led\" )");
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *topic = config_setting_get_string_elem(s, i);

		if (!topic)
			cfg_fail_at(r, cfg_line_of(s), "'command_topic': entry %d is not a string", i + 1);
		else
			add_command_topic(r, l, cfg_copy(r, topic));
	}
}

#define INTERLOCK_WAIT_MAX_MS 60000
#define FAILSAFE_AFTER_MAX_S 86400
#define FAILSAFE_AFTER_DEFAULT_S 30

static void read_interlock(struct reader *r, const config_setting_t *g, struct cfg_line *l)
{
	int wait = 0;

	if (cfg_get_string(r, g, "interlock", &l->interlock) > 0 && !cfg_valid_name(l->interlock))
		cfg_fail_at(r, cfg_key_line(g, "interlock"),
			"'interlock' \"%s\" may only have letters, digits, '_' and '-'",
			l->interlock);
	if (cfg_get_int(r, g, "interlock_wait_ms", 0, INTERLOCK_WAIT_MAX_MS, &wait) > 0 &&
	    !l->interlock)
		cfg_fail_at(r, cfg_key_line(g, "interlock_wait_ms"),
			"'interlock_wait_ms' needs 'interlock' (the group it waits in)");
	l->interlock_wait_ms = (unsigned int)wait;
}

/* What the output does once the broker has been unreachable a while. */
static void read_failsafe(struct reader *r, const config_setting_t *g, struct cfg_line *l)
{
	int failsafe = FAILSAFE_KEEP, after = FAILSAFE_AFTER_DEFAULT_S;

	cfg_get_choice(r, g, "on_disconnect", failsafe_names, &failsafe);
	if (cfg_get_int(r, g, "on_disconnect_after_s", 0, FAILSAFE_AFTER_MAX_S, &after) > 0 &&
	    failsafe == FAILSAFE_KEEP)
		cfg_fail_at(r, cfg_key_line(g, "on_disconnect_after_s"),
			"'on_disconnect_after_s' needs on_disconnect = \"off\" or \"on\"");
	l->on_disconnect = (enum cfg_failsafe)failsafe;
	l->on_disconnect_after_s = (unsigned int)after;
}

/* Pulses, interlock, safety limit, broker loss: see output.h. */
static void read_output_behaviour(struct reader *r, const config_setting_t *g,
				  struct cfg_line *l)
{
	int pulse = 0, max_on = 0;

	cfg_get_int(r, g, "pulse_ms", 1, CFG_DURATION_MAX_MS, &pulse);
	cfg_get_int(r, g, "max_on_ms", 1, CFG_DURATION_MAX_MS, &max_on);
	if (pulse && max_on && pulse > max_on)
		cfg_fail_at(r, cfg_key_line(g, "pulse_ms"),
			"'pulse_ms' %d is longer than 'max_on_ms' %d: every pulse would be cut "
			"short", pulse, max_on);
	l->pulse_ms = (unsigned int)pulse;
	l->max_on_ms = (unsigned int)max_on;
	read_interlock(r, g, l);
	read_failsafe(r, g, l);
}

static void read_output(struct reader *r, const config_setting_t *g, struct cfg_line *l,
			const struct cfg_mqtt *m)
{
	int drive = GPIO_DRIVE_PUSH_PULL, initial = INITIAL_OFF;

	l->output = true;
	cfg_check_keys(r, g, output_keys, "an output");
	read_line_common(r, g, l, m);
	read_command_topics(r, g, l);
	cfg_get_choice(r, g, "initial", initial_names, &initial);
	l->initial = (enum cfg_initial)initial;
	cfg_get_choice(r, g, "drive", drive_names, &drive);
	l->drive = (enum gpio_drive)drive;
	read_output_behaviour(r, g, l);
	cfg_read_ha_component(r, g, l);
	if (!l->n_commands && l->name && cfg_valid_name(l->name))
		add_command_topic(r, l, cfg_own(r, topics_command(m->base_topic, l->name)));
	for (size_t i = 0; i < l->n_commands; i++) {
		cfg_expand_vars(r, g, "command_topic", &l->command_topics[i]);
		cfg_check_topic(r, g, "command_topic", l->command_topics[i]);
	}
}

#define PRESS_MAX_MS 60000
#define DOUBLE_CLICK_DEFAULT_MS 400
#define LONG_PRESS_DEFAULT_MS 800
#define COUNT_INTERVAL_DEFAULT_MS 1000
#define NEEDS_COUNTER "counter = \"rising\", \"falling\" or \"both\""

/* A key that belongs to a behaviour left off is a mistake, not a default. */
static void check_needs(struct reader *r, const config_setting_t *g, const char *key, bool on,
			const char *behaviour)
{
	if (!on && config_setting_get_member(g, key))
		cfg_fail_at(r, cfg_key_line(g, key), "'%s' needs %s", key, behaviour);
}

/* An input's event or count topic: as given, else the scheme's (make). */
static void read_behaviour_topic(struct reader *r, const config_setting_t *g, struct cfg_line *l,
				 const char *key, char *(*make)(const char *, const char *),
				 const struct cfg_mqtt *m, char **topic)
{
	cfg_get_string(r, g, key, topic);
	cfg_expand_vars(r, g, key, topic);
	if (!*topic && l->name && cfg_valid_name(l->name))
		*topic = cfg_own(r, make(m->base_topic, l->name));
	cfg_check_topic(r, g, key, *topic);
}

/* Single, double and long presses (press.h) on the event topic. */
static void read_presses(struct reader *r, const config_setting_t *g, struct cfg_line *l,
			 const struct cfg_mqtt *m)
{
	int double_ms = DOUBLE_CLICK_DEFAULT_MS, long_ms = LONG_PRESS_DEFAULT_MS;
	/* An invalid click was said already: no more about what needs it. */
	bool on = cfg_get_bool(r, g, "click", &l->click) < 0 || l->click;

	cfg_get_int(r, g, "double_click_ms", 1, PRESS_MAX_MS, &double_ms);
	cfg_get_int(r, g, "long_press_ms", 1, PRESS_MAX_MS, &long_ms);
	l->double_click_ms = (unsigned int)double_ms;
	l->long_press_ms = (unsigned int)long_ms;
	check_needs(r, g, "double_click_ms", on, "click = true");
	check_needs(r, g, "long_press_ms", on, "click = true");
	check_needs(r, g, "event_topic", on, "click = true");
	if (l->click)
		read_behaviour_topic(r, g, l, "event_topic", topics_event, m, &l->event_topic);
}

/* Edges counted, the count published on the count topic. */
static void read_counter(struct reader *r, const config_setting_t *g, struct cfg_line *l,
			 const struct cfg_mqtt *m)
{
	int counter, interval = COUNT_INTERVAL_DEFAULT_MS, got;
	bool on;

	got = cfg_get_choice(r, g, "counter", counter_names, &counter);
	if (got > 0)
		l->counter = (enum cfg_counter)(COUNTER_RISING + counter);
	on = got != 0; /* an invalid counter was said already */
	cfg_get_int(r, g, "count_interval_ms", 0, CFG_DURATION_MAX_MS, &interval);
	l->count_interval_ms = (unsigned int)interval;
	check_needs(r, g, "count_interval_ms", on, NEEDS_COUNTER);
	check_needs(r, g, "count_topic", on, NEEDS_COUNTER);
	if (l->counter != COUNTER_NONE)
		read_behaviour_topic(r, g, l, "count_topic", topics_count, m, &l->count_topic);
}

static void read_input(struct reader *r, const config_setting_t *g, struct cfg_line *l,
		       const struct cfg_mqtt *m)
{
	int debounce = 0;

	cfg_check_keys(r, g, input_keys, "an input");
	read_line_common(r, g, l, m);
	cfg_get_int(r, g, "debounce_ms", 0, 60000, &debounce);
	l->debounce_ms = (unsigned int)debounce;
	read_presses(r, g, l, m);
	read_counter(r, g, l, m);
	cfg_read_device_class(r, g, l);
}

typedef void (*line_reader)(struct reader *, const config_setting_t *, struct cfg_line *,
			    const struct cfg_mqtt *);

static void read_lines(struct reader *r, const config_setting_t *root, const char *key,
		       line_reader read_one, struct config *cfg)
{
	const config_setting_t *list = config_setting_get_member(root, key);
	struct cfg_line *lines;
	size_t n;

	if (!list)
		return;
	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		cfg_fail_at(r, cfg_line_of(list), "'%s' must be a list: %s = ( { ... }, { ... } );", key,
			key);
		return;
	}
	n = (size_t)config_setting_length(list);
	if (n == 0)
		return;
	lines = cfg_resize(r, cfg->lines, cfg->n_lines + n, sizeof(*cfg->lines));
	if (!lines)
		return;
	cfg->lines = lines;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct cfg_line *l = &cfg->lines[cfg->n_lines++];

		memset(l, 0, sizeof(*l));
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			l->source_line = cfg_line_of(g);
			cfg_fail_at(r, cfg_line_of(g), "each entry of '%s' must be a group { ... }", key);
			continue;
		}
		read_one(r, g, l, &cfg->mqtt);
	}
}

void cfg_read_lines(struct reader *r, const config_setting_t *root, struct config *cfg)
{
	read_lines(r, root, "outputs", read_output, cfg);
	cfg->n_outputs = cfg->n_lines;
	read_lines(r, root, "inputs", read_input, cfg);
}
