/* SPDX-License-Identifier: MIT */
#include "lineset.h"

#include <stdlib.h>

#define CONSUMER "gpio2mqtt"

struct line_state *lineset_new(const struct config *cfg)
{
	struct line_state *lines = calloc(cfg->n_lines ? cfg->n_lines : 1, sizeof(*lines));

	if (!lines)
		return NULL;
	for (size_t i = 0; i < cfg->n_lines; i++) {
		lines[i].cfg = &cfg->lines[i];
		lines[i].value = cfg->lines[i].output ? cfg->lines[i].initial : 0;
	}
	return lines;
}

static bool same_ref(const struct gpio_ref *a, const struct gpio_ref *b)
{
	return a->chip == b->chip && a->offset == b->offset;
}

static int compare_refs(const void *pa, const void *pb)
{
	const struct line_state *a = *(const struct line_state *const *)pa;
	const struct line_state *b = *(const struct line_state *const *)pb;

	if (a->ref.chip != b->ref.chip)
		return a->ref.chip < b->ref.chip ? -1 : 1;
	if (a->ref.offset != b->ref.offset)
		return a->ref.offset < b->ref.offset ? -1 : 1;
	return a < b ? -1 : a > b; /* file order within one line */
}

/* Entries that name one GPIO line in two ways (name and offset). Sorted by
 * line, so that a thousand entries are not compared pair by pair. */
static int check_distinct(const struct config *cfg, struct line_state *lines, FILE *errors)
{
	struct line_state **sorted = calloc(cfg->n_lines + 1, sizeof(*sorted));
	size_t n = 0, first = 0;
	int failures = 0;

	if (!sorted) {
		fprintf(errors, "%s: out of memory\n", cfg->path);
		return -1;
	}
	for (size_t i = 0; i < cfg->n_lines; i++)
		if (lines[i].cfg) /* resolved */
			sorted[n++] = &lines[i];
	qsort(sorted, n, sizeof(*sorted), compare_refs);
	for (size_t i = 1; i < n; i++) {
		if (!same_ref(&sorted[i]->ref, &sorted[first]->ref)) {
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
			fprintf(errors, "%s:%d: %s: %s\n", cfg->path, c->source_line, c->name, err);
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

static void settings_of(const struct line_state *l, struct gpio_settings *s)
{
	const struct cfg_line *c = l->cfg;

	*s = (struct gpio_settings){
		.output = c->output,
		.active_low = c->active_low,
		.initial = l->value,
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
		settings_of(&lines[i], &s);
		lines[i].gpio = gpio_line_request(chips, &lines[i].ref, &s, err, sizeof(err));
		if (!lines[i].gpio)
			goto fail;
		lines[i].fresh = true;
		if (!s.output)
			lines[i].value = gpio_line_get(lines[i].gpio) > 0;
	}
	return 0;
fail:
	fprintf(errors, "%s:%d: %s: %s\n", cfg->path, lines[i].cfg->source_line,
		lines[i].cfg->name, err);
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

bool lineset_same_request(const struct line_state *a, const struct line_state *b)
{
	const struct cfg_line *x = a->cfg, *y = b->cfg;

	return same_ref(&a->ref, &b->ref) && x->output == y->output &&
	       x->active_low == y->active_low && x->drive == y->drive && x->bias == y->bias &&
	       x->debounce_ms == y->debounce_ms;
}

/* --- reload --- */

/* Moves every line whose request would not change from old to next, with
 * its value, so that reloading leaves it untouched. */
static void hand_over_lines(const struct config *oc, struct line_state *old,
			    const struct config *nc, struct line_state *next)
{
	for (size_t i = 0; i < nc->n_lines; i++) {
		for (size_t j = 0; j < oc->n_lines; j++) {
			struct line_state *o = &old[j], *n = &next[i];

			if (o->gpio && lineset_same_request(o, n)) {
				n->gpio = o->gpio;
				n->value = o->value;
				o->gpio = NULL;
				break;
			}
		}
	}
}

/* Undoes hand_over_lines() for a reload that failed. */
static void hand_back_lines(const struct config *oc, struct line_state *old,
			    const struct config *nc, struct line_state *next)
{
	for (size_t i = 0; i < nc->n_lines; i++) {
		for (size_t j = 0; j < oc->n_lines && next[i].gpio; j++) {
			if (!old[j].gpio && lineset_same_request(&old[j], &next[i])) {
				old[j].gpio = next[i].gpio;
				next[i].gpio = NULL;
			}
		}
	}
}

static bool holds(const struct config *cfg, const struct line_state *lines,
		  const struct gpio_ref *ref)
{
	for (size_t i = 0; i < cfg->n_lines; i++)
		if (lines[i].gpio && same_ref(&lines[i].ref, ref))
			return true;
	return false;
}

/* Lines of next that old holds with other settings: they can only be
 * requested anew once old has let them go. */
static void defer_changed_lines(const struct config *oc, const struct line_state *old,
				const struct config *nc, struct line_state *next, bool defer)
{
	for (size_t i = 0; i < nc->n_lines; i++)
		next[i].deferred = defer && !next[i].gpio && holds(oc, old, &next[i].ref);
}

/* Back to the running mapping after a failed switch: next gives up what it
 * requested, old gets back what it handed over or released. */
static void restore_old_lines(struct gpio_chips *chips, const struct config *oc,
			      struct line_state *old, const struct config *nc,
			      struct line_state *next, FILE *errors)
{
	hand_back_lines(oc, old, nc, next);
	lineset_release(next, nc->n_lines);
	if (lineset_request(chips, oc, old, errors) < 0)
		fprintf(errors, "%s: could not restore every line of the running mapping\n",
			oc->path);
}

int lineset_switch(struct gpio_chips *chips, const struct config *oc, struct line_state *old,
		   const struct config *nc, struct line_state *next, FILE *errors)
{
	int rc;

	hand_over_lines(oc, old, nc, next);
	defer_changed_lines(oc, old, nc, next, true);
	rc = lineset_request(chips, nc, next, errors);
	defer_changed_lines(oc, old, nc, next, false);
	if (rc < 0) {
		restore_old_lines(chips, oc, old, nc, next, errors);
		return -1;
	}
	lineset_release(old, oc->n_lines);
	if (lineset_request(chips, nc, next, errors) == 0)
		return 0;
	/* The kernel refused a changed line's new settings: the one case that
	 * releases and restores lines. */
	restore_old_lines(chips, oc, old, nc, next, errors);
	return -1;
}
