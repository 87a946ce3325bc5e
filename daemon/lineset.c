/* SPDX-License-Identifier: MIT */
#include "lineset.h"

#include <stdlib.h>

#include "statefile.h"

#define CONSUMER "gpio2mqtt"

/* An output's value before it is requested: -1 until known (keep, restore). */
static int initial_value(const struct cfg_line *c)
{
	if (!c->output || c->initial == INITIAL_OFF)
		return 0;
	return c->initial == INITIAL_ON ? 1 : -1;
}

struct line_state *lineset_new(const struct config *cfg)
{
	struct line_state *lines = calloc(cfg->n_lines ? cfg->n_lines : 1, sizeof(*lines));

	if (!lines)
		return NULL;
	for (size_t i = 0; i < cfg->n_lines; i++) {
		lines[i].cfg = &cfg->lines[i];
		lines[i].value = initial_value(&cfg->lines[i]);
	}
	return lines;
}

static bool keeps_state(const struct cfg_line *c)
{
	return c->output ? c->initial == INITIAL_RESTORE : c->counter != COUNTER_NONE;
}

void lineset_attach_state(struct line_state *lines, size_t n, struct statefile *sf)
{
	for (size_t i = 0; i < n; i++) {
		struct line_state *l = &lines[i];
		int saved;

		l->statefile = keeps_state(l->cfg) ? sf : NULL;
		if (l->statefile && l->cfg->output && !l->gpio &&
		    statefile_output(sf, l->cfg->name, &saved))
			l->value = saved;
	}
}

void lineset_note_states(const struct line_state *lines, size_t n)
{
	int saved;

	for (size_t i = 0; i < n; i++) {
		const struct line_state *l = &lines[i];

		if (l->statefile && l->cfg->output && l->gpio && l->value >= 0 &&
		    !statefile_output(l->statefile, l->cfg->name, &saved))
			statefile_set_output(l->statefile, l->cfg->name, l->value);
	}
}

/* "FILE:LINE: name: message", at the line of the entry. */
static void report(FILE *errors, const struct config *cfg, const struct cfg_line *entry,
		   const char *message)
{
	fprintf(errors, "%s:%d: %s: %s\n", cfg->path, entry->source_line, entry->name, message);
}

static int compare_ref(const struct gpio_ref *a, const struct gpio_ref *b)
{
	if (a->chip != b->chip)
		return a->chip < b->chip ? -1 : 1;
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return 0;
}

static int compare_states(const void *pa, const void *pb)
{
	const struct line_state *a = *(const struct line_state *const *)pa;
	const struct line_state *b = *(const struct line_state *const *)pb;
	int order = compare_ref(&a->ref, &b->ref);

	return order ? order : (a < b ? -1 : a > b); /* file order within one line */
}

/* Pointers to the resolved states (with held_only: only those that hold
 * their line), sorted by line, so that lines are matched without comparing
 * every pair; NULL when out of memory. */
static struct line_state **sort_by_ref(struct line_state *lines, size_t n, bool held_only,
				       size_t *count)
{
	struct line_state **sorted = calloc(n + 1, sizeof(*sorted));

	*count = 0;
	if (!sorted)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (lines[i].cfg && (lines[i].gpio || !held_only))
			sorted[(*count)++] = &lines[i];
	qsort(sorted, *count, sizeof(*sorted), compare_states);
	return sorted;
}

/* Entries that name one GPIO line in two ways (name and offset). */
static int check_distinct(const struct config *cfg, struct line_state *lines, FILE *errors)
{
	size_t n, first = 0;
	struct line_state **sorted = sort_by_ref(lines, cfg->n_lines, false, &n);
	int failures = 0;

	if (!sorted) {
		fprintf(errors, "%s: out of memory\n", cfg->path);
		return -1;
	}
	for (size_t i = 1; i < n; i++) {
		if (compare_ref(&sorted[i]->ref, &sorted[first]->ref) != 0) {
			first = i;
			continue;
		}
		fprintf(errors, "%s:%d: '%s' is the same GPIO line as '%s' at line %d\n", cfg->path,
			sorted[i]->cfg->source_line, sorted[i]->cfg->name, sorted[first]->cfg->name,
			sorted[first]->cfg->source_line);
		failures++;
	}
	free(sorted);
	return failures ? -1 : 0;
}

int lineset_resolve(struct gpio_chips *chips, const struct config *cfg,
		    struct line_state *lines, bool check_free, FILE *errors)
{
	char err[256];
	int failures = 0;

	for (size_t i = 0; i < cfg->n_lines; i++) {
		const struct cfg_line *c = &cfg->lines[i];

		if (gpio_chips_find(chips, c->chip, c->line_name, c->offset, &lines[i].ref, err,
				    sizeof(err)) < 0 ||
		    (check_free && gpio_check_free(chips, &lines[i].ref, err, sizeof(err)) < 0)) {
			report(errors, cfg, c, err);
			lines[i].cfg = NULL; /* unresolved: skip in the distinct check */
			failures++;
			continue;
		}
		lines[i].cfg = c;
	}
	if (check_distinct(cfg, lines, errors) < 0)
		failures++;
	return failures ? -1 : 0;
}

/* An output about to be requested or reconfigured whose value is not known
 * yet: "restore" with nothing saved starts off; "keep" stays unknown, to be
 * taken as the line has it. */
static void choose_start(const struct config *cfg, struct line_state *l, FILE *errors)
{
	if (!l->cfg->output || l->value >= 0 || l->cfg->initial != INITIAL_RESTORE)
		return;
	fprintf(errors, "%s:%d: warning: output \"%s\": no saved state to restore; starting off\n",
		cfg->path, l->cfg->source_line, l->cfg->name);
	l->value = 0;
}

static void settings_of(const struct line_state *l, struct gpio_settings *s)
{
	const struct cfg_line *c = l->cfg;

	*s = (struct gpio_settings){
		.output = c->output,
		.active_low = c->active_low,
		.initial = c->output && l->value < 0 ? GPIO_INITIAL_AS_IS : l->value,
		.drive = c->drive,
		.bias = c->bias,
		.debounce_ms = c->debounce_ms,
		.consumer = CONSUMER,
	};
}

int lineset_request(struct gpio_chips *chips, const struct config *cfg,
		    struct line_state *lines, FILE *errors)
{
	struct gpio_settings s;
	char err[256];
	size_t i;

	for (i = 0; i < cfg->n_lines; i++)
		lines[i].fresh = false;
	for (i = 0; i < cfg->n_lines; i++) {
		if (lines[i].gpio || lines[i].deferred)
			continue;
		choose_start(cfg, &lines[i], errors);
		settings_of(&lines[i], &s);
		lines[i].gpio = gpio_line_request(chips, &lines[i].ref, &s, err, sizeof(err));
		if (!lines[i].gpio)
			goto fail;
		lines[i].fresh = true;
		if (!s.output || s.initial == GPIO_INITIAL_AS_IS)
			lines[i].value = gpio_line_get(lines[i].gpio) > 0;
	}
	return 0;
fail:
	report(errors, cfg, lines[i].cfg, err);
	for (size_t j = 0; j < i; j++) {
		if (lines[j].fresh) {
			gpio_line_release(lines[j].gpio);
			lines[j].gpio = NULL;
		}
	}
	return -1;
}

void lineset_release(struct line_state *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		gpio_line_release(lines[i].gpio);
		lines[i].gpio = NULL;
	}
}

/* --- reload --- */

/* What a reload does with a line that both the running and the next mapping
 * use. */
enum handover {
	HAND_OVER,    /* same settings: passes to next untouched, with its value */
	RECONFIGURE,  /* given its new settings in place */
	REQUEST_ANEW, /* released by old, then requested by next */
};

struct pair {
	struct line_state *old, *next;
	enum handover how;
	bool touched; /* reconfigured (or tried): a failed switch sets it back */
};

struct reload {
	struct gpio_chips *chips;
	const struct config *oc, *nc;
	struct line_state *old, *next;
	struct pair *pairs; /* in the order of the lines */
	size_t n_pairs;
	FILE *errors;
};

static bool same_settings(const struct cfg_line *x, const struct cfg_line *y)
{
	return x->output == y->output && x->active_low == y->active_low && x->drive == y->drive &&
	       x->bias == y->bias && x->debounce_ms == y->debounce_ms;
}

/* Pairs each line old holds with next's entry for the same line: both sorted
 * by line and walked together, so that reloading a thousand lines is not a
 * million comparisons. 0, or -1 when out of memory. */
static int pair_lines(struct reload *r)
{
	size_t n_old, n_next, i = 0, j = 0;
	struct line_state **old = sort_by_ref(r->old, r->oc->n_lines, true, &n_old);
	struct line_state **next = sort_by_ref(r->next, r->nc->n_lines, false, &n_next);
	int rc = -1;

	r->pairs = calloc(n_next + 1, sizeof(*r->pairs));
	if (!old || !next || !r->pairs)
		goto out;
	while (i < n_old && j < n_next) {
		int order = compare_ref(&old[i]->ref, &next[j]->ref);

		if (order == 0)
			r->pairs[r->n_pairs++] = (struct pair){ .old = old[i], .next = next[j] };
		i += order <= 0;
		j += order >= 0;
	}
	rc = 0;
out:
	free(old);
	free(next);
	return rc;
}

static enum handover how_to_pass(const struct line_state *old, const struct line_state *next)
{
	struct gpio_settings s;

	if (same_settings(old->cfg, next->cfg))
		return HAND_OVER;
	settings_of(next, &s);
	return gpio_line_can_reconfigure(old->gpio, &s) ? RECONFIGURE : REQUEST_ANEW;
}

/* Decides how each line passes; hands the unchanged ones over and keeps the
 * changed ones out of next's first lineset_request(). An output that stays
 * an output keeps its logical value, however it passes. */
static void hand_over_lines(struct reload *r)
{
	for (size_t i = 0; i < r->n_pairs; i++) {
		struct pair *p = &r->pairs[i];

		if (p->old->cfg->output && p->next->cfg->output)
			p->next->value = p->old->value;
		p->how = how_to_pass(p->old, p->next);
		if (p->how != HAND_OVER) {
			p->next->deferred = true;
			continue;
		}
		p->next->gpio = p->old->gpio;
		p->next->value = p->old->value;
		p->old->gpio = NULL;
	}
}

/* Gives the changed lines that allow it their new settings, moving them from
 * old to next. 0, or -1 at the first the kernel refuses. */
static int reconfigure_lines(struct reload *r)
{
	struct gpio_settings s;
	char err[256];

	for (size_t i = 0; i < r->n_pairs; i++) {
		struct pair *p = &r->pairs[i];
		struct line_state *n = p->next;

		if (p->how != RECONFIGURE)
			continue;
		n->gpio = p->old->gpio;
		p->old->gpio = NULL;
		p->touched = true;
		choose_start(r->nc, n, r->errors);
		settings_of(n, &s);
		if (gpio_line_reconfigure(n->gpio, &s, err, sizeof(err)) < 0) {
			report(r->errors, r->nc, n->cfg, err);
			return -1;
		}
		if (!s.output || s.initial == GPIO_INITIAL_AS_IS)
			n->value = gpio_line_get(n->gpio) > 0;
	}
	return 0;
}

/* The changed lines that cannot be reconfigured: old lets them go, next
 * requests them. The one step that can leave a line unheld for a moment. */
static int request_lines_anew(struct reload *r)
{
	bool any = false;

	for (size_t i = 0; i < r->n_pairs; i++) {
		struct pair *p = &r->pairs[i];

		if (p->how != REQUEST_ANEW)
			continue;
		gpio_line_release(p->old->gpio);
		p->old->gpio = NULL;
		p->next->deferred = false;
		any = true;
	}
	return any ? lineset_request(r->chips, r->nc, r->next, r->errors) : 0;
}

/* A reconfigured line back to old's settings and value; one that will not go
 * back is released, for old to request it anew. */
static void reconfigure_back(struct reload *r, struct pair *p)
{
	struct gpio_settings s;
	char err[256];

	settings_of(p->old, &s);
	if (gpio_line_reconfigure(p->next->gpio, &s, err, sizeof(err)) == 0)
		return;
	report(r->errors, r->oc, p->old->cfg, err);
	gpio_line_release(p->next->gpio);
	p->next->gpio = NULL;
}

/* Back to the running mapping after a failed switch: what was reconfigured
 * gets its settings back, what was handed over returns to old, next gives up
 * what it requested and old requests anew what it let go. */
static void restore_old_lines(struct reload *r)
{
	for (size_t i = 0; i < r->n_pairs; i++) {
		struct pair *p = &r->pairs[i];

		if (p->touched)
			reconfigure_back(r, p);
		if (p->how != REQUEST_ANEW && p->next->gpio) {
			p->old->gpio = p->next->gpio;
			p->next->gpio = NULL;
		}
	}
	lineset_release(r->next, r->nc->n_lines);
	if (lineset_request(r->chips, r->oc, r->old, r->errors) < 0)
		fprintf(r->errors, "%s: could not restore every line of the running mapping\n",
			r->oc->path);
}

int lineset_switch(struct gpio_chips *chips, const struct config *oc, struct line_state *old,
		   const struct config *nc, struct line_state *next, FILE *errors)
{
	struct reload r = {
		.chips = chips, .oc = oc, .nc = nc, .old = old, .next = next, .errors = errors,
	};
	int rc = -1;

	if (pair_lines(&r) < 0) {
		fprintf(errors, "%s: out of memory\n", nc->path);
		goto out;
	}
	hand_over_lines(&r);
	/* Lines new to next first, while old still holds everything: a refusal
	 * (a line another program holds) then touches no line. */
	rc = lineset_request(chips, nc, next, errors);
	if (rc == 0)
		rc = reconfigure_lines(&r);
	if (rc == 0)
		rc = request_lines_anew(&r);
	if (rc < 0)
		restore_old_lines(&r);
	else
		lineset_release(old, oc->n_lines); /* what next does not use */
out:
	for (size_t i = 0; i < nc->n_lines; i++)
		next[i].deferred = false;
	free(r.pairs);
	return rc;
}
