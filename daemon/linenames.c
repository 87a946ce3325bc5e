/* SPDX-License-Identifier: MIT */
#include "linenames.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct entry {
	char *name;
	size_t chip;
	unsigned int offset;
};

struct line_names {
	struct entry *entries;
	size_t count;
	size_t allocated;
};

struct line_names *line_names_new(void)
{
	return calloc(1, sizeof(struct line_names));
}

void line_names_free(struct line_names *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->count; i++)
		free(n->entries[i].name);
	free(n->entries);
	free(n);
}

int line_names_add(struct line_names *n, const char *name, size_t chip, unsigned int offset)
{
	if (n->count == n->allocated) {
		size_t more = n->allocated ? 2 * n->allocated : 64;
		struct entry *e = realloc(n->entries, more * sizeof(*e));

		if (!e)
			return -1;
		n->entries = e;
		n->allocated = more;
	}
	n->entries[n->count].name = strdup(name);
	if (!n->entries[n->count].name) {
		errno = ENOMEM;
		return -1;
	}
	n->entries[n->count].chip = chip;
	n->entries[n->count].offset = offset;
	n->count++;
	return 0;
}

static int compare_entries(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcasecmp(x->name, y->name);

	if (c)
		return c;
	if (x->chip != y->chip)
		return x->chip < y->chip ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

void line_names_seal(struct line_names *n)
{
	if (n->count)
		qsort(n->entries, n->count, sizeof(*n->entries), compare_entries);
}

/* Index of the first entry called name, or n->count. */
static size_t lower_bound(const struct line_names *n, const char *name)
{
	size_t lo = 0, hi = n->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcasecmp(n->entries[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t line_names_find(const struct line_names *n, const char *name, size_t chip,
		       struct line_name_hit *hits, size_t max)
{
	size_t found = 0;

	for (size_t i = lower_bound(n, name); i < n->count && !strcasecmp(n->entries[i].name, name);
	     i++) {
		if (chip != LINE_NAMES_ANY_CHIP && n->entries[i].chip != chip)
			continue;
		if (found < max)
			hits[found] = (struct line_name_hit){ n->entries[i].chip,
							      n->entries[i].offset };
		found++;
	}
	return found;
}
