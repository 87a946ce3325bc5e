/* SPDX-License-Identifier: MIT */
#include "topic_table.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	const char *topic; /* NULL: empty */
	size_t len;
	size_t index;
};

struct topic_table {
	size_t capacity;
	size_t used;
	size_t mask; /* slots - 1; slots is a power of two at least 2 * capacity */
	struct slot *slots;
};

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

struct topic_table *topic_table_new(size_t capacity)
{
	struct topic_table *m = calloc(1, sizeof(*m));
	size_t slots = 8;

	if (!m)
		return NULL;
	while (slots < 2 * capacity)
		slots *= 2;
	m->slots = calloc(slots, sizeof(*m->slots));
	if (!m->slots) {
		free(m);
		return NULL;
	}
	m->capacity = capacity;
	m->mask = slots - 1;
	return m;
}

void topic_table_free(struct topic_table *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

/* The slot holding topic, or the empty slot where it would go. */
static struct slot *probe(const struct topic_table *m, const char *topic, size_t len)
{
	size_t i = (size_t)hash(topic, len) & m->mask;

	while (m->slots[i].topic &&
	       (m->slots[i].len != len || memcmp(m->slots[i].topic, topic, len) != 0))
		i = (i + 1) & m->mask;
	return &m->slots[i];
}

int topic_table_add(struct topic_table *m, const char *topic, size_t index)
{
	size_t len = strlen(topic);
	struct slot *s;

	if (m->used >= m->capacity) {
		errno = ENOSPC;
		return -1;
	}
	s = probe(m, topic, len);
	if (s->topic) {
		errno = EEXIST;
		return -1;
	}
	*s = (struct slot){ .topic = topic, .len = len, .index = index };
	m->used++;
	return 0;
}

long topic_table_find(const struct topic_table *m, const char *topic, size_t topic_len)
{
	const struct slot *s = probe(m, topic, topic_len);

	return s->topic ? (long)s->index : -1;
}
