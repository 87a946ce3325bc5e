/* SPDX-License-Identifier: MIT */
/* topic_table: a command topic -> output index table, O(1). Pure: no I/O.
 *
 * Topics are compared byte for byte: an incoming topic matches only the
 * identical configured topic, so wildcard characters match nothing special.
 * The table borrows the topic strings; they must outlive it. */
#ifndef GPIO2MQTT_TOPIC_TABLE_H
#define GPIO2MQTT_TOPIC_TABLE_H

#include <stddef.h>

struct topic_table;

/* A table for up to capacity topics; NULL when out of memory. */
struct topic_table *topic_table_new(size_t capacity);
void topic_table_free(struct topic_table *m);

/* 0, or -1 with errno EEXIST (topic already there) or ENOSPC (full). */
int topic_table_add(struct topic_table *m, const char *topic, size_t index);

/* The index added for topic, or -1. topic_len bytes, not NUL-terminated. */
long topic_table_find(const struct topic_table *m, const char *topic, size_t topic_len);

#endif
