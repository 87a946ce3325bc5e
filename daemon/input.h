/* SPDX-License-Identifier: MIT */
/* input: what an edge on an input line does. The value is recorded and the
 * state published; with click = true the presses are told apart (press.h)
 * and published on the event topic; with a counter the edges are counted and
 * the count published on the count topic, at most once per
 * count_interval_ms. A new input behaviour goes here.
 *
 * Ownership: struct inputs borrows the loop and the publisher. A plan's
 * inputs (struct input_set) are made by input_setup(), belong to the plan
 * and are freed with it by input_set_free(), which stops their timers; they
 * borrow the plan's lines and point each line's owner at themselves.
 * input_watch() comes after input_setup(); input_unwatch() before the lines
 * are released or handed to another plan. */
#ifndef GPIO2MQTT_INPUT_H
#define GPIO2MQTT_INPUT_H

#include <stddef.h>

#include "lineset.h"
#include "loop.h"
#include "publish.h"

struct plan;
struct input_set;

struct inputs {
	struct loop *loop;
	struct publisher *publisher;
};

/* Gives p's inputs the state of their behaviours (p->inputs). On a reload,
 * old is the running plan: an input that keeps its name and line keeps its
 * count, and its press in progress when click and active_low stay the
 * same; what old says of a line that changed unseen is checked against the
 * line's value. NULL at start. 0, or -1 when out of memory (logged; p's
 * inputs are then not watched). */
int input_setup(struct inputs *in, struct plan *p, const struct plan *old);
void input_set_free(struct input_set *s);

/* Watches the event fds of the requested inputs among lines. */
void input_watch(struct inputs *in, struct line_state *lines, size_t n);
void input_unwatch(struct inputs *in, struct line_state *lines, size_t n);

/* Every count again, for a new connection (after its states). */
void input_publish_counts(struct input_set *s);

#endif
