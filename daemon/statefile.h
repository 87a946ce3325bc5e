/* SPDX-License-Identifier: MIT */
/* statefile: what must survive a restart or a power cut, in one small file:
 * the last state commanded to each output with initial = "restore", and the
 * count of each input with a counter.
 *
 * Writes are atomic (a temporary file beside it, fsync, rename, fsync of the
 * directory), so the file on disk is always one that was written whole, and
 * coalesced: a change marks the file dirty and one write follows after a
 * short delay on a loop timer, however many changes came in between.
 *
 * Ownership: the bridge opens it with the running mapping's path and keeps
 * it across reloads; names are copied. */
#ifndef GPIO2MQTT_STATEFILE_H
#define GPIO2MQTT_STATEFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"

struct statefile;

/* Reads path if it exists. A missing file is empty; an unreadable or
 * corrupt one is empty with a warning (logged). NULL when out of memory. */
struct statefile *statefile_open(const char *path, struct loop *loop);
/* Writes what is dirty (at once) and frees sf. */
void statefile_close(struct statefile *sf);

/* What the file says; false when it says nothing of name. */
bool statefile_output(const struct statefile *sf, const char *name, int *value);
bool statefile_counter(const struct statefile *sf, const char *name, uint64_t *count);

/* Records a change; the write follows (coalesced). */
void statefile_set_output(struct statefile *sf, const char *name, int value);
void statefile_set_counter(struct statefile *sf, const char *name, uint64_t count);

/* Writes now if dirty (at stop). 0, or -1 (logged). */
int statefile_flush(struct statefile *sf);

#endif
