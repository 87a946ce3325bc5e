/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: topic_table_add and topic_table_find against an exact-match
 * linear scan. The first byte sets the capacity; the rest is split at '\n'
 * into topics (which may hold NUL bytes and MQTT wildcards). Each topic is
 * looked up, added, and finally looked up again with wildcard variants. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "topic_table.h"

#define MAX_TOPICS 512
#define MAX_CAPACITY 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reference {
	char *topics[MAX_TOPICS]; /* as added: up to the first NUL */
	size_t indices[MAX_TOPICS];
	size_t count;
	size_t capacity;
};

struct piece {
	const char *bytes;
	size_t len;
};

static void require(int condition)
{
	if (!condition)
		abort();
}

static long reference_find(const struct reference *ref, const char *topic, size_t len)
{
	for (size_t i = 0; i < ref->count; i++)
		if (strlen(ref->topics[i]) == len && memcmp(ref->topics[i], topic, len) == 0)
			return (long)ref->indices[i];
	return -1;
}

/* Looks topic up in both, from a buffer of exactly len bytes. */
static void check_find(const struct topic_table *m, const struct reference *ref, const char *topic,
		       size_t len)
{
	char *exact = malloc(len ? len : 1);

	require(exact != NULL);
	if (len)
		memcpy(exact, topic, len);
	require(topic_table_find(m, exact, len) == reference_find(ref, exact, len));
	free(exact);
}

static void check_add(struct topic_table *m, struct reference *ref, const struct piece *p,
		      size_t index)
{
	char *topic = strndup(p->bytes, p->len);
	int expected_errno = 0;
	int rc;

	require(topic != NULL);
	if (ref->count >= ref->capacity)
		expected_errno = ENOSPC;
	else if (reference_find(ref, topic, strlen(topic)) >= 0)
		expected_errno = EEXIST;
	errno = 0;
	rc = topic_table_add(m, topic, index);
	require(rc == (expected_errno ? -1 : 0));
	if (rc < 0) {
		require(errno == expected_errno);
		free(topic);
		return;
	}
	ref->topics[ref->count] = topic;
	ref->indices[ref->count++] = index;
}

/* The topic with its last level replaced by a wildcard, and cut short. */
static void check_variants(const struct topic_table *m, const struct reference *ref,
			   const struct piece *p)
{
	static const char *const wildcards[] = { "+", "#" };
	const char *slash = memrchr(p->bytes, '/', p->len);
	size_t keep = slash ? (size_t)(slash - p->bytes) + 1 : 0;
	char buf[4096 + 2];

	if (p->len)
		check_find(m, ref, p->bytes, p->len - 1);
	if (keep + 1 > sizeof(buf))
		return;
	memcpy(buf, p->bytes, keep);
	for (size_t w = 0; w < 2; w++) {
		buf[keep] = wildcards[w][0];
		check_find(m, ref, buf, keep + 1);
	}
}

static size_t split(const uint8_t *data, size_t size, struct piece *pieces)
{
	const char *s = (const char *)data;
	size_t start = 0, n = 0;

	while (n < MAX_TOPICS) {
		const char *nl = memchr(s + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (s + start)) : size - start;

		pieces[n++] = (struct piece){ s + start, len };
		if (!nl)
			break;
		start += len + 1;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct piece pieces[MAX_TOPICS];
	struct reference ref = { .capacity = size ? data[0] % (MAX_CAPACITY + 1) : 0 };
	struct topic_table *m = topic_table_new(ref.capacity);
	size_t n = size ? split(data + 1, size - 1, pieces) : 0;

	require(m != NULL);
	for (size_t i = 0; i < n; i++) {
		check_find(m, &ref, pieces[i].bytes, pieces[i].len);
		check_add(m, &ref, &pieces[i], i);
	}
	for (size_t i = 0; i < n; i++) {
		check_find(m, &ref, pieces[i].bytes, pieces[i].len);
		check_variants(m, &ref, &pieces[i]);
	}
	topic_table_free(m);
	for (size_t i = 0; i < ref.count; i++)
		free(ref.topics[i]);
	return 0;
}
