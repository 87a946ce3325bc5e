/* SPDX-License-Identifier: MIT */
/* output: what a command does to an output line.
 *
 * A message on a command topic is parsed once into a struct command
 * (payload.h); every change of an output's value then goes through
 * output_set(), which sets the line, records the value and publishes the
 * state. A new payload form goes into payload.c, a new output behaviour
 * here.
 *
 * Ownership: struct outputs borrows the publisher; lines belong to the
 * running mapping (lineset.h). */
#ifndef GPIO2MQTT_OUTPUT_H
#define GPIO2MQTT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "lineset.h"
#include "payload.h"
#include "publish.h"

struct outputs {
	struct publisher *publisher;
};

/* A message on one of l's command topics. A payload that is not a command
 * changes nothing and is reported; so is a retained "toggle", which would
 * flip the line on every reconnect. */
void output_message(struct outputs *o, struct line_state *l, const char *topic,
		    const void *payload, size_t len, bool retained);

/* Applies cmd to l. 0, or -1 when the line could not be set (logged; the
 * recorded value and the state published are unchanged). */
int output_apply(struct outputs *o, struct line_state *l, const struct command *cmd);

/* Sets l to value: the line, the recorded value, the published state. */
int output_set(struct outputs *o, struct line_state *l, int value);

#endif
