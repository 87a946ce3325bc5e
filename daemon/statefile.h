/* SPDX-License-Identifier: MIT */
/* statefile: what must survive a restart or a power cut, in one small file:
 * the last state commanded to each output with initial = "restore", and the
 * count of each input with a counter.
 *
 * Writes are atomic (wholefile.h: a temporary file beside it, fsync, rename,
 * fsync of the directory), so the file on disk is always one that was
 * written whole, and coalesced: a change marks the file dirty and one
 * write follows STATEFILE_DELAY_MS later on a loop timer, however many
 * changes came in between. A write that fails is logged once per cause
 * and tried again STATEFILE_RETRY_MS later; the states stay in memory
 * meanwhile.
 *
 * The format (statefile.c) is versioned text with a trailing CRC-32 line
 * (wholefile.h); a file that does not parse exactly, torn, truncated or
 * edited, is ignored as a whole with a warning.
 *
 * Ownership: the bridge opens it with the running mapping's path and keeps
 * it across reloads; names are copied. Every function takes a NULL sf as a
 * file that holds nothing and records nothing, so that a line with no state
 * to keep can call them alike. */
#ifndef GPIO2MQTT_STATEFILE_H
#define GPIO2MQTT_STATEFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"

/* Long enough that a burst of commands (a scene, a flood) costs one write,
 * short enough that a command a person gave is on disk before they could
 * pull the plug; at most two writes a second under a sustained flood. */
#define STATEFILE_DELAY_MS 500
#define STATEFILE_RETRY_MS 60000
#define STATEFILE_MAX_BYTES (1024 * 1024) /* a larger file is corrupt */
#define STATEFILE_NAME_MAX 255            /* bytes; a longer name is not kept */

struct statefile;

/* Reads path if it exists. A missing file is empty; an unreadable or
 * corrupt one is empty with a warning (logged). NULL when out of memory. */
struct statefile *statefile_open(const char *path, struct loop *loop);
/* Writes what is dirty (at once) and frees sf. */
void statefile_close(struct statefile *sf);

/* What the file says; false when it says nothing of name. */
bool statefile_output(const struct statefile *sf, const char *name, int *value);
bool statefile_counter(const struct statefile *sf, const char *name, uint64_t *count);

/* Records a change; the write follows (coalesced). A value already
 * recorded changes nothing. */
void statefile_set_output(struct statefile *sf, const char *name, int value);
void statefile_set_counter(struct statefile *sf, const char *name, uint64_t count);

/* Writes now if dirty (at stop). 0, or -1 (logged). */
int statefile_flush(struct statefile *sf);

/* How many times the file was written: for the debug log and the tests. */
unsigned int statefile_writes(const struct statefile *sf);

#endif
