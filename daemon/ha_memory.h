/* SPDX-License-Identifier: MIT */
/* ha_memory: what the daemon last announced to Home Assistant's discovery
 * (ha_discovery.h: prefix, mode, node id, each component's platform and
 * key), remembered beside the state file, so that a start owes Home
 * Assistant what a reload from that to the running mapping would: the
 * components dropped while it was stopped leave, a change of
 * discovery_mode is handed over, discovery turned off takes all of it back.
 *
 * The record is <state_file>.homeassistant (HA_MEMORY_SUFFIX), a wholefile
 * (wholefile.h: replaced atomically, CRC-checked) in the format ha_memory.c
 * describes. It is written when an announcement that differs from it has
 * gone out (a connection, a reload, Home Assistant's birth), and removed
 * once an announcement without discovery has. A file that cannot be used
 * (torn, edited, of a later version) is ignored as a whole with one
 * warning: nothing is remembered. When the state file's directory does not
 * exist (the daemon run outside its service, without StateDirectory=),
 * nothing is remembered and that is all (a debug message).
 *
 * Ownership: the bridge opens it with the running mapping's state file and
 * keeps it across reloads; what it recalls is its own, valid until the next
 * ha_memory_record(). A NULL memory recalls and records nothing. */
#ifndef GPIO2MQTT_HA_MEMORY_H
#define GPIO2MQTT_HA_MEMORY_H

#include <stddef.h>

#include "ha_discovery.h"

#define HA_MEMORY_SUFFIX ".homeassistant"
#define HA_MEMORY_MAX_BYTES (1024 * 1024) /* a larger file is corrupt */

struct ha_memory;

/* Reads the record beside state_file; NULL when out of memory (logged). */
struct ha_memory *ha_memory_open(const char *state_file);
void ha_memory_close(struct ha_memory *m);
/* Whether m is the record beside state_file. */
bool ha_memory_is_beside(const struct ha_memory *m, const char *state_file);

/* What the daemon before announced (discovery false: nothing). */
const struct ha_announced *ha_memory_recalled(const struct ha_memory *m);
/* a has been announced: written (or, without discovery, removed) unless the
 * record already says so. */
void ha_memory_record(struct ha_memory *m, const struct ha_announced *a);
/* How many times the record was written or removed: for the tests. */
unsigned int ha_memory_writes(const struct ha_memory *m);

/* --forget: the record beside state_file removed. 0, or -1 (logged). */
int ha_memory_forget(const char *state_file);

/* The record's text (NUL-terminated, malloc'd) and back, for the tests.
 * Only what discovery announced has a record: ha_memory_format() is -1
 * without it, or when out of memory. ha_memory_parse() takes text as read
 * (it may change it); 0, or -1 with why (out empty). */
int ha_memory_format(const struct ha_announced *a, char **text, size_t *len);
int ha_memory_parse(char *text, size_t len, struct ha_announced *out, char *why, size_t size);

#endif
