/* SPDX-License-Identifier: MIT */
/* input: what an edge on an input line does: the value is recorded and the
 * state published. A new input behaviour (presses, counters) goes here.
 *
 * Ownership: struct inputs borrows the loop and the publisher; the lines
 * belong to their plan. input_watch() points each line's owner at the
 * inputs; input_unwatch() must come before the lines are released or
 * handed to another plan. */
#ifndef GPIO2MQTT_INPUT_H
#define GPIO2MQTT_INPUT_H

#include <stddef.h>

#include "lineset.h"
#include "loop.h"
#include "publish.h"

struct inputs {
	struct loop *loop;
	struct publisher *publisher;
};

/* Watches the event fds of the requested inputs among lines. */
void input_watch(struct inputs *in, struct line_state *lines, size_t n);
void input_unwatch(struct inputs *in, struct line_state *lines, size_t n);

#endif
