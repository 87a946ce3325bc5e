/* SPDX-License-Identifier: MIT */
/* mapping: exact topic -> line index lookup in O(1). Pure: no I/O.
 *
 * Topics are compared byte for byte: an incoming topic matches only the
 * identical configured topic, so wildcard characters match nothing special.
 * The table borrows the topic strings; they must outlive it. */
#ifndef GPIO2MQTT_MAPPING_H
#define GPIO2MQTT_MAPPING_H

#include <stddef.h>

struct mapping;

/* A table for up to capacity topics; NULL when out of memory. */
struct mapping *mapping_new(size_t capacity);
void mapping_free(struct mapping *m);

/* 0, or -1 with errno EEXIST (topic already there) or ENOSPC (full). */
int mapping_add(struct mapping *m, const char *topic, size_t index);

/* The index added for topic, or -1. topic_len bytes, not NUL-terminated. */
long mapping_find(const struct mapping *m, const char *topic, size_t topic_len);

#endif
