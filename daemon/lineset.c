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

/* Entries that name one GPIO line in two ways (name and offset). */
static int check_distinct(const struct config *cfg, const struct line_state *lines,
			  size_t i, FILE *errors)
{
	for (size_t j = 0; j < i; j++) {
		if (lines[j].cfg && same_ref(&lines[j].ref, &lines[i].ref)) {
			fprintf(errors, "%s:%d: '%s' is the same GPIO line as '%s' at line %d\n",
				cfg->path, lines[i].cfg->source_line, lines[i].cfg->name,
				lines[j].cfg->name, lines[j].cfg->source_line);
			return -1;
		}
	}
	return 0;
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
		failures += check_distinct(cfg, lines, i, errors) < 0;
	}
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
