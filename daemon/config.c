/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "config_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hints.h"
#include "topics.h"

#define MACHINE_ID_PATH "/etc/machine-id"

/* --- outputs and inputs --- */

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

/* A topic made by topics.h, or NULL with r marked out of memory. */
static char *scheme_topic(struct reader *r, char *topic)
{
	if (!topic)
		r->out_of_memory = true;
	return topic;
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
			l->state_topic = scheme_topic(r, topics_state(m->base_topic, l->output, l->name));
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
		add_command_topic(r, l, scheme_topic(r, topics_command(m->base_topic, l->name)));
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
		*topic = scheme_topic(r, make(m->base_topic, l->name));
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

/* --- duplicates --- */


/* Names, lines and topics must each be unique. Sorting them finds every
 * repeat in n log n, which matters for mappings of a thousand lines. */
enum unique_kind { UNIQUE_NAME, UNIQUE_LINE, UNIQUE_TOPIC };
enum topic_key { STATE_TOPIC, COMMAND_TOPIC, EVENT_TOPIC, COUNT_TOPIC };
static const char *const topic_keys[] = { "state_topic", "command_topic", "event_topic",
					  "count_topic" };

struct unique_key {
	enum unique_kind kind;
	const char *text;            /* UNIQUE_LINE: the chip, "" for any chip */
	const char *line_name;       /* UNIQUE_LINE: NULL when given by offset */
	unsigned int offset;         /* UNIQUE_LINE */
	const struct cfg_line *line; /* lines are in file order in one array */
	enum topic_key topic;        /* UNIQUE_TOPIC: which of the entry's topics */
};

/* 0 when a and b name the same thing: the same name, GPIO line or topic. */
static int compare_identity(const struct unique_key *a, const struct unique_key *b)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->text, b->text);
	if (c || a->kind != UNIQUE_LINE)
		return c;
	if (!a->line_name != !b->line_name)
		return a->line_name ? -1 : 1;
	if (a->line_name)
		return strcmp(a->line_name, b->line_name);
	return a->offset == b->offset ? 0 : a->offset < b->offset ? -1 : 1;
}

static int compare_keys(const void *pa, const void *pb)
{
	const struct unique_key *a = pa, *b = pb;
	int c = compare_identity(a, b);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return (int)a->topic - (int)b->topic;
}

static size_t add_topic(struct unique_key *keys, size_t n, const struct cfg_line *l,
			const char *topic, enum topic_key key)
{
	if (topic)
		keys[n++] = (struct unique_key){ .kind = UNIQUE_TOPIC, .text = topic, .line = l,
						 .topic = key };
	return n;
}

static size_t collect_keys(const struct config *cfg, struct unique_key *keys)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_lines; i++) {
		const struct cfg_line *l = &cfg->lines[i];

		if (l->name)
			keys[n++] = (struct unique_key){ .kind = UNIQUE_NAME, .text = l->name,
							 .line = l };
		if (l->line_name || l->chip)
			keys[n++] = (struct unique_key){ .kind = UNIQUE_LINE,
							 .text = l->chip ? l->chip : "",
							 .line_name = l->line_name,
							 .offset = l->offset,
							 .line = l };
		n = add_topic(keys, n, l, l->state_topic, STATE_TOPIC);
		n = add_topic(keys, n, l, l->event_topic, EVENT_TOPIC);
		n = add_topic(keys, n, l, l->count_topic, COUNT_TOPIC);
		for (size_t k = 0; k < l->n_commands; k++)
			n = add_topic(keys, n, l, l->command_topics[k], COMMAND_TOPIC);
	}
	return n;
}

static void report_repeat(struct reader *r, const struct unique_key *first,
			  const struct unique_key *again)
{
	int line = again->line->source_line, before = first->line->source_line;
	const char *what = topic_keys[again->topic], *other = topic_keys[first->topic];
	bool same_key = again->topic == first->topic;

	if (again->kind == UNIQUE_NAME)
		cfg_fail_at(r, line, "name \"%s\" is already used at line %d", again->text, before);
	else if (again->kind == UNIQUE_LINE)
		cfg_fail_at(r, line, "this line is already mapped at line %d", before);
	else if (again->line == first->line && same_key)
		cfg_fail_at(r, line, "%s \"%s\" is listed twice", what, again->text);
	else if (again->line == first->line)
		cfg_fail_at(r, line, "%s \"%s\" is also its %s", what, again->text, other);
	else if (same_key)
		cfg_fail_at(r, line, "%s \"%s\" is already used at line %d", what, again->text, before);
	else /* a state fed back as a command, say */
		cfg_fail_at(r, line, "%s \"%s\" is the %s at line %d", what, again->text, other,
			before);
}

/* One line's state topic among its command topics is check_reserved()'s;
 * sorted, the state topic comes first. */
static bool state_fed_back(const struct unique_key *first, const struct unique_key *again)
{
	return first->line == again->line && first->topic == STATE_TOPIC &&
	       again->topic == COMMAND_TOPIC;
}

static void check_unique(struct reader *r, const struct config *cfg)
{
	size_t n, first = 0, most = 5 * cfg->n_lines + 1;
	struct unique_key *keys;

	for (size_t i = 0; i < cfg->n_lines; i++)
		most += cfg->lines[i].n_commands;
	keys = cfg_resize(r, NULL, most, sizeof(*keys));
	if (!keys)
		return;
	n = collect_keys(cfg, keys);
	qsort(keys, n, sizeof(*keys), compare_keys);
	for (size_t i = 1; i < n; i++) {
		if (compare_identity(&keys[i], &keys[first])) {
			first = i;
			continue;
		}
		if (keys[i].kind != UNIQUE_TOPIC || !state_fed_back(&keys[first], &keys[i]))
			report_repeat(r, &keys[first], &keys[i]);
	}
	free(keys);
}

static void check_reserved(struct reader *r, const struct config *cfg, const struct cfg_line *l)
{
	const char *reserved[] = { cfg->status_topic, cfg->error_topic };

	for (size_t i = 0; i < 2; i++) {
		bool used = cfg_same_str(l->state_topic, reserved[i]) ||
			    cfg_same_str(l->event_topic, reserved[i]) ||
			    cfg_same_str(l->count_topic, reserved[i]);

		for (size_t k = 0; k < l->n_commands; k++)
			used = used || cfg_same_str(l->command_topics[k], reserved[i]);
		if (used)
			cfg_fail_at(r, l->source_line, "topic \"%s\" is reserved for the daemon",
				reserved[i]);
	}
	for (size_t k = 0; k < l->n_commands; k++)
		if (cfg_same_str(l->command_topics[k], l->state_topic))
			cfg_fail_at(r, l->source_line, "command_topic and state_topic must differ");
}

static void check_duplicates(struct reader *r, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_lines; i++)
		check_reserved(r, cfg, &cfg->lines[i]);
	check_unique(r, cfg);
}

/* --- interlock groups --- */

static int compare_groups(const void *pa, const void *pb)
{
	const struct cfg_line *a = *(const struct cfg_line *const *)pa;
	const struct cfg_line *b = *(const struct cfg_line *const *)pb;
	int c = strcmp(a->interlock, b->interlock);

	if (c)
		return c;
	return a < b ? -1 : a > b; /* file order within a group */
}

/* A second member that would be on at the same time as first. */
static void report_both_on(struct reader *r, const struct cfg_line *first,
			   const struct cfg_line *again, const char *setting)
{
	cfg_fail_at(r, again->source_line,
		"'%s' and '%s' (line %d) both have %s, but at most one output of interlock "
		"group \"%s\" may be on", again->name, first->name, first->source_line,
		setting, again->interlock);
}

static void check_group(struct reader *r, const struct cfg_line *const *members, size_t n)
{
	const struct cfg_line *initial_on = NULL, *failsafe_on = NULL;

	if (n == 1) {
		cfg_fail_at(r, members[0]->source_line,
			"interlock group \"%s\" has only '%s': an interlock needs two outputs "
			"or more", members[0]->interlock, members[0]->name);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cfg_line *l = members[i];

		if (l->initial == INITIAL_ON && initial_on)
			report_both_on(r, initial_on, l, "initial = \"on\"");
		else if (l->initial == INITIAL_ON)
			initial_on = l;
		if (l->on_disconnect == FAILSAFE_ON && failsafe_on)
			report_both_on(r, failsafe_on, l, "on_disconnect = \"on\"");
		else if (l->on_disconnect == FAILSAFE_ON)
			failsafe_on = l;
	}
}

/* Each group has two members or more, of which at most one starts on or
 * goes on when the broker is lost. Sorted by group: n log n. */
static void check_interlocks(struct reader *r, const struct config *cfg)
{
	const struct cfg_line **members;
	size_t n = 0, first = 0;

	for (size_t i = 0; i < cfg->n_outputs; i++)
		n += cfg->lines[i].interlock != NULL;
	if (n == 0 || !(members = cfg_resize(r, NULL, n, sizeof(*members))))
		return;
	n = 0;
	for (size_t i = 0; i < cfg->n_outputs; i++)
		if (cfg->lines[i].interlock)
			members[n++] = &cfg->lines[i];
	qsort(members, n, sizeof(*members), compare_groups);
	for (size_t i = 1; i <= n; i++) {
		if (i < n && strcmp(members[i]->interlock, members[first]->interlock) == 0)
			continue;
		check_group(r, members + first, i - first);
		first = i;
	}
	free(members);
}

/* --- the state file --- */

static void read_state_file(struct reader *r, const config_setting_t *root, struct config *cfg)
{
	const char *path;

	if (cfg_get_string(r, root, "state_file", &cfg->state_file) == 1) {
		path = cfg->state_file;
		if (path[0] != '/' || path[strlen(path) - 1] == '/')
			cfg_fail_at(r, cfg_key_line(root, "state_file"),
				"'state_file' must be the absolute path of a file, such as \"%s\"",
				CONFIG_DEFAULT_STATE_FILE);
	}
	if (!cfg->state_file)
		cfg->state_file = cfg_copy(r, CONFIG_DEFAULT_STATE_FILE);
}

/* The first entry whose state the state file keeps, or NULL. */
static const struct cfg_line *first_kept(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_lines; i++) {
		const struct cfg_line *l = &cfg->lines[i];

		if (l->output ? l->initial == INITIAL_RESTORE : l->counter != COUNTER_NONE)
			return l;
	}
	return NULL;
}

/* --check: a state file the daemon cannot write loses, at a restart, what
 * initial = "restore" and the counters keep. */
static void check_state_file(struct reader *r, const config_setting_t *root,
			     const struct config *cfg)
{
	const struct cfg_line *l = first_kept(cfg);
	const char *path = cfg->state_file, *slash = path ? strrchr(path, '/') : NULL;
	char dir[4096];
	int line;

	if (!r->warnings || !l || !slash)
		return;
	line = config_setting_get_member(root, "state_file") ? cfg_key_line(root, "state_file")
							     : l->source_line;
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (access(dir, W_OK) != 0)
		cfg_warn_at(r, line,
			    "state_file \"%s\": %s %s: the state of %s \"%s\" will not survive "
			    "a restart",
			    path, dir, errno == ENOENT ? "does not exist" : "is not writable",
			    l->output ? "output" : "input", l->name);
	else if (strncmp(path, "/var/lib/gpio2mqtt/", 19) != 0)
		cfg_warn_at(r, line, "state_file \"%s\" is not under /var/lib/gpio2mqtt/, the only "
			    "directory the gpio2mqtt service may write", path);
}

/* --- the file --- */

static const char *const top_keys[] = { "mqtt", "outputs", "inputs", "homeassistant",
					"state_file", NULL };

static void read_root(struct reader *r, const config_setting_t *root, struct config *cfg)
{
	cfg_check_keys(r, root, top_keys,
		       "the file (expected mqtt, outputs, inputs, homeassistant, state_file)");
	cfg_read_mqtt(r, root, &cfg->mqtt);
	cfg_read_ha(r, root, &cfg->ha);
	read_state_file(r, root, cfg);
	/* Every topic below starts with base_topic, which a failed copy leaves
	 * NULL; the load fails anyway. */
	if (r->out_of_memory)
		return;
	cfg->status_topic = scheme_topic(r, topics_status(cfg->mqtt.base_topic));
	cfg->error_topic = scheme_topic(r, topics_error(cfg->mqtt.base_topic));
	read_lines(r, root, "outputs", read_output, cfg);
	cfg->n_outputs = cfg->n_lines;
	read_lines(r, root, "inputs", read_input, cfg);
	check_duplicates(r, cfg);
	check_interlocks(r, cfg);
	check_state_file(r, root, cfg);
}

/* The text may hold the broker password. */
static void free_text(char *text, size_t len)
{
	explicit_bzero(text, len);
	free(text);
}

/* text[0..len) moved to a buffer of size + 1 bytes, or NULL (text kept).
 * Not realloc(), which could leave a copy behind. */
static char *grow_text(char *text, size_t len, size_t size)
{
	char *bigger = malloc(size + 1);

	if (bigger && text) {
		memcpy(bigger, text, len);
		free_text(text, len);
	}
	return bigger;
}

/* The whole file, NUL-terminated, its length in *len; NULL with errno set. */
static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *text = NULL, *bigger;
	size_t size = 0, n;
	int error = 0;

	if (!f)
		return NULL;
	*len = 0;
	errno = 0;
	do {
		if (size - *len < 4096) {
			size = size ? 2 * size : 16384;
			bigger = grow_text(text, *len, size);
			if (!bigger) {
				error = ENOMEM;
				break;
			}
			text = bigger;
		}
		n = fread(text + *len, 1, size - *len, f);
		*len += n;
	} while (n > 0);
	if (!error && ferror(f))
		error = errno ? errno : EIO;
	fclose(f);
	if (error) {
		if (text)
			free_text(text, *len);
		errno = error;
		return NULL;
	}
	text[*len] = '\0';
	return text;
}

/* libconfig would take the text before a NUL byte for the whole file. */
static int refuse_nul(struct reader *r, const char *text, size_t len)
{
	const char *nul = memchr(text, '\0', len);
	int line = 1;

	if (!nul)
		return 0;
	for (const char *p = text; p < nul; p++)
		line += *p == '\n';
	cfg_fail_at(r, line, "a NUL byte: the mapping file must be text");
	return -1;
}

/* libconfig 1.5 ends the whole process when an @include cannot be read, and
 * a mapping has no use for one: refused before libconfig sees the text. */
static int refuse_includes(struct reader *r, const char *text)
{
	int line = 1, found = 0;

	for (const char *p = text; *p; line++) {
		p += strspn(p, " \t");
		if (strncmp(p, "@include", 8) == 0) {
			cfg_fail_at(r, line, "@include is not supported in a mapping file");
			found = -1;
		}
		p = strchrnul(p, '\n');
		p += *p == '\n';
	}
	return found;
}

/* What %h and %m stand for on this board; each NULL when unknown. */
static void read_template_vars(struct reader *r)
{
	char host[sizeof(r->host)] = "", id[64] = "";
	FILE *f = fopen(MACHINE_ID_PATH, "r");

	/* "(none)": the kernel's name before anyone set one, shared by every
	 * such board, so no name for telling boards apart. */
	if (gethostname(host, sizeof(host) - 1) == 0 && host[0] && strcmp(host, "(none)") != 0) {
		template_short_host(r->host, sizeof(r->host), host);
		r->vars.host = r->host;
	}
	if (f && fgets(id, sizeof(id), f) && template_machine_id(r->machine, id))
		r->vars.machine = r->machine;
	if (f)
		fclose(f);
}

/* The text of the mapping, parsed, into cfg. */
static void read_parsed(struct reader *r, const char *text, struct config *cfg)
{
	config_t cf;

	config_init(&cf);
	if (!config_read_string(&cf, text)) {
		const char *hint = hints_syntax(text, config_error_line(&cf));

		cfg_fail_at(r, config_error_line(&cf), "%s%s%s", config_error_text(&cf),
			hint ? ": " : "", hint ? hint : "");
	} else {
		cfg->path = cfg_copy(r, r->path);
		read_root(r, config_root_setting(&cf), cfg);
	}
	config_destroy(&cf);
}

static void read_file(struct reader *r, struct config *cfg)
{
	size_t len;
	char *text = read_text(r->path, &len);

	if (!text && errno == ENOMEM)
		r->out_of_memory = true;
	else if (!text)
		cfg_fail_at(r, 0, "cannot read the mapping file: %s", strerror(errno));
	else if (refuse_nul(r, text, len) == 0 && refuse_includes(r, text) == 0)
		read_parsed(r, text, cfg);
	if (text)
		free_text(text, len);
}

static int load(struct config *cfg, const char *path, FILE *errors, FILE *warnings)
{
	struct reader r = { .path = path, .errors = errors, .warnings = warnings };

	memset(cfg, 0, sizeof(*cfg));
	read_template_vars(&r);
	read_file(&r, cfg);
	if (r.failures > ERRORS_SHOWN && errors)
		fprintf(errors, "%s: %d more problems not shown\n", path, r.failures - ERRORS_SHOWN);
	/* Once, however many copies failed. */
	if (r.out_of_memory && errors)
		fprintf(errors, "%s: out of memory\n", path);
	if (!r.failures && !r.out_of_memory)
		return 0;
	config_free(cfg);
	return -1;
}

int config_load(struct config *cfg, const char *path, FILE *errors)
{
	return load(cfg, path, errors, NULL);
}

int config_check(struct config *cfg, const char *path, FILE *errors)
{
	return load(cfg, path, errors, errors);
}

static void free_line(struct cfg_line *l)
{
	free(l->name);
	free(l->chip);
	free(l->line_name);
	for (size_t k = 0; k < l->n_commands; k++)
		free(l->command_topics[k]);
	free(l->command_topics);
	free(l->state_topic);
	free(l->payload_on);
	free(l->payload_off);
	free(l->event_topic);
	free(l->count_topic);
	free(l->interlock);
	free(l->device_class);
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_lines; i++)
		free_line(&cfg->lines[i]);
	free(cfg->lines);
	config_mqtt_free(&cfg->mqtt);
	cfg_ha_free(&cfg->ha);
	free(cfg->status_topic);
	free(cfg->error_topic);
	free(cfg->state_file);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
