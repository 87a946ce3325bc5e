/* SPDX-License-Identifier: MIT */
/* config_checks: what must hold across a mapping's lines: unique names,
 * GPIO lines and topics, and sound interlock groups (see config.h). */
#include "config.h"
#include "config_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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

/* --- Home Assistant's component keys --- */

static int compare_names(const void *pa, const void *pb)
{
	const struct cfg_line *a = *(const struct cfg_line *const *)pa;
	const struct cfg_line *b = *(const struct cfg_line *const *)pb;

	return strcmp(a->name, b->name);
}

/* A line's extra entity is keyed "<name>_<suffix>" (ha_discovery.c): it must
 * not be another line's name, or one entity would replace the other. */
static void check_key(struct reader *r, const struct cfg_line *l, const char *suffix,
		      const struct cfg_line *const *sorted, size_t n)
{
	struct cfg_line probe = { 0 };
	const struct cfg_line *p = &probe, *const *hit;
	char key[256];

	snprintf(key, sizeof(key), "%s_%s", l->name, suffix);
	probe.name = key;
	hit = bsearch(&p, sorted, n, sizeof(*sorted), compare_names);
	if (hit)
		cfg_fail_at(r, (*hit)->source_line,
			    "'%s' is also the Home Assistant key of the %s entity of '%s' "
			    "(line %d): rename one of them",
			    key, suffix, l->name, l->source_line);
}

static void check_ha_keys(struct reader *r, const struct config *cfg)
{
	const struct cfg_line **sorted;
	size_t n = 0;

	if (!cfg->ha.discovery || !cfg->n_lines)
		return;
	sorted = cfg_resize(r, NULL, cfg->n_lines, sizeof(*sorted));
	if (!sorted)
		return;
	for (size_t i = 0; i < cfg->n_lines; i++)
		if (cfg->lines[i].name)
			sorted[n++] = &cfg->lines[i];
	qsort(sorted, n, sizeof(*sorted), compare_names);
	for (size_t i = 0; i < n; i++) {
		const struct cfg_line *l = sorted[i];

		if (l->output && l->pulse_ms)
			check_key(r, l, "pulse", sorted, n);
		if (!l->output && l->click)
			check_key(r, l, "press", sorted, n);
		if (!l->output && l->counter != COUNTER_NONE)
			check_key(r, l, "count", sorted, n);
	}
	free(sorted);
}

void cfg_check_lines(struct reader *r, const struct config *cfg)
{
	check_duplicates(r, cfg);
	check_interlocks(r, cfg);
	check_ha_keys(r, cfg);
}
