/* SPDX-License-Identifier: MIT */
#include "chiptable.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hints.h"
#include "linenames.h"

struct chip {
	char *name;
	char *label;
	char *path;
	unsigned int num_lines;
	bool names_read;
};

struct chip_table {
	struct chip *chips;
	size_t count;
	size_t allocated;
	struct line_names *names;
	chip_table_names_fn read_names;
	void *ctx;
};

struct chip_table *chip_table_new(chip_table_names_fn read_names, void *ctx)
{
	struct chip_table *t = calloc(1, sizeof(*t));

	if (t && !(t->names = line_names_new())) {
		free(t);
		return NULL;
	}
	if (t) {
		t->read_names = read_names;
		t->ctx = ctx;
	}
	return t;
}

void chip_table_free(struct chip_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->count; i++) {
		free(t->chips[i].name);
		free(t->chips[i].label);
		free(t->chips[i].path);
	}
	free(t->chips);
	line_names_free(t->names);
	free(t);
}

int chip_table_add_chip(struct chip_table *t, const char *name, const char *label,
			const char *path, unsigned int num_lines)
{
	struct chip c = { strdup(name), strdup(label ? label : ""), strdup(path), num_lines,
			  false };

	if (t->count == t->allocated) {
		size_t more = t->allocated ? 2 * t->allocated : 8;
		struct chip *chips = realloc(t->chips, more * sizeof(*chips));

		if (chips) {
			t->chips = chips;
			t->allocated = more;
		}
	}
	if (!c.name || !c.label || !c.path || t->count == t->allocated) {
		free(c.name);
		free(c.label);
		free(c.path);
		return -1;
	}
	t->chips[t->count++] = c;
	return 0;
}

int chip_table_add_line(struct chip_table *t, size_t chip, unsigned int offset,
			const char *name)
{
	return line_names_add(t->names, name, chip, offset);
}

const char *chip_table_name(const struct chip_table *t, size_t chip)
{
	return t->chips[chip].name;
}

unsigned int chip_table_num_lines(const struct chip_table *t, size_t chip)
{
	return t->chips[chip].num_lines;
}

/* --- finding lines --- */

static void append(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* snprintf at the end of what buf holds; truncates quietly. */
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* A path given by the user may be a symlink (/dev/gpio/header -> gpiochip0). */
static bool same_path(const char *given, const char *ours)
{
	char resolved[PATH_MAX];

	if (strcmp(given, ours) == 0)
		return true;
	return realpath(given, resolved) && strcmp(resolved, ours) == 0;
}

static bool chip_matches(const struct chip *chip, const char *spec)
{
	if (!spec)
		return true;
	if (spec[0] == '/')
		return same_path(spec, chip->path);
	return strcmp(spec, chip->name) == 0 || strcmp(spec, chip->label) == 0;
}

/* Reads the names of every chip that spec matches, once. */
static int read_names(struct chip_table *t, const char *spec, char *err, size_t errlen)
{
	bool added = false;
	int ret = 0;

	for (size_t i = 0; i < t->count && ret == 0; i++) {
		if (t->chips[i].names_read || !chip_matches(&t->chips[i], spec))
			continue;
		t->chips[i].names_read = true;
		ret = t->read_names(t->ctx, t, i, err, errlen);
		added = true;
	}
	if (added)
		line_names_seal(t->names);
	return ret;
}

/* How many chips match spec, the first of them in *index. */
static size_t match_chips(const struct chip_table *t, const char *spec, size_t *index)
{
	size_t found = 0;

	for (size_t i = 0; i < t->count; i++) {
		if (!chip_matches(&t->chips[i], spec))
			continue;
		if (found++ == 0)
			*index = i;
	}
	return found;
}

/* Lists the chips there are, which is what a user with a typo needs. */
static void unknown_chip(const struct chip_table *t, const char *spec, char *err,
			 size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	append(err, errlen, "no GPIO chip \"%s\" (by name, path or label)", spec);
	if (t->count == 0)
		append(err, errlen, ": this system has no GPIO chips");
	for (size_t i = 0; i < t->count; i++)
		append(err, errlen, "%s%s [%s]", i ? ", " : "; there are ", t->chips[i].name,
		       t->chips[i].label);
}

/* How many lines called name are on the chips that match spec; the first
 * two in hits. */
static size_t find_named(const struct chip_table *t, const char *spec, const char *name,
			 struct line_name_hit hits[2])
{
	size_t found = 0;

	if (!spec)
		return line_names_find(t->names, name, LINE_NAMES_ANY_CHIP, hits, 2);
	for (size_t i = 0; i < t->count; i++)
		if (chip_matches(&t->chips[i], spec))
			found += line_names_find(t->names, name, i, hits + (found < 2 ? found : 0),
						 found < 2 ? 2 - found : 0);
	return found;
}

/* The usual ways of writing a Raspberry Pi's pin that are not the kernel's
 * line names: say which name is meant, when this system has it. */
static void no_such_line(const struct chip_table *t, const char *chip, const char *name,
			 char *err, size_t errlen)
{
	struct line_name_hit hits[2];
	char guess[16];
	const char *why = NULL;
	const char *meant = hints_gpio_name(name, guess, sizeof(guess), &why);

	if (errlen)
		err[0] = '\0';
	append(err, errlen, "no GPIO line named \"%s\"%s%s", name, chip ? " on " : "",
	       chip ? chip : "");
	if (t->count == 0) {
		append(err, errlen, ": this system has no GPIO chips");
		return;
	}
	if (meant && strcasecmp(meant, name) != 0 && find_named(t, chip, meant, hits) == 1)
		append(err, errlen, " (%s): did you mean line = \"%s\"; ?", why, meant);
	else if (!meant && why)
		append(err, errlen, " (%s)", why);
	if (name[strspn(name, "0123456789")] == '\0')
		append(err, errlen, "; an offset is a number without quotes, with its chip: "
				    "chip = \"%s\"; line = %s;",
		       chip ? chip : t->chips[0].name, name);
	append(err, errlen, "; gpio2mqtt --list-lines shows every line");
}

static int find_by_name(struct chip_table *t, const char *chip, const char *name,
			struct gpio_ref *ref, char *err, size_t errlen)
{
	struct line_name_hit hits[2];
	size_t found;

	if (read_names(t, chip, err, errlen) < 0)
		return -1;
	found = find_named(t, chip, name, hits);

	if (found == 1) {
		*ref = (struct gpio_ref){ hits[0].chip, hits[0].offset };
		return 0;
	}
	if (found > 1)
		snprintf(err, errlen,
			 "%zu GPIO lines are named \"%s\" (%s offset %u, %s offset %u%s): %s",
			 found, name, t->chips[hits[0].chip].name, hits[0].offset,
			 t->chips[hits[1].chip].name, hits[1].offset, found > 2 ? ", ..." : "",
			 chip ? "give 'line' as an offset instead" : "give 'chip' too");
	else
		no_such_line(t, chip, name, err, errlen);
	return -1;
}

/* By offset the chip must be one: a label may be shared by several. */
static int find_by_offset(const struct chip_table *t, const char *chip, unsigned int offset,
			  struct gpio_ref *ref, char *err, size_t errlen)
{
	size_t index = 0;

	if (match_chips(t, chip, &index) > 1) {
		snprintf(err, errlen,
			 "GPIO chip label \"%s\" is not unique (%s is one of them); "
			 "give the chip's name instead",
			 chip, t->chips[index].name);
		return -1;
	}
	if (offset >= t->chips[index].num_lines) {
		snprintf(err, errlen, "%s has %u lines, no offset %u", t->chips[index].name,
			 t->chips[index].num_lines, offset);
		return -1;
	}
	*ref = (struct gpio_ref){ index, offset };
	return 0;
}

int chip_table_find(struct chip_table *t, const char *chip, const char *name,
		    unsigned int offset, struct gpio_ref *ref, char *err, size_t errlen)
{
	size_t index;

	/* First, so that a typo in the chip is not reported as a missing line. */
	if (chip && match_chips(t, chip, &index) == 0) {
		unknown_chip(t, chip, err, errlen);
		return -1;
	}
	if (name)
		return find_by_name(t, chip, name, ref, err, errlen);
	if (!chip) {
		snprintf(err, errlen, "a line given by offset needs a chip");
		return -1;
	}
	return find_by_offset(t, chip, offset, ref, err, errlen);
}
