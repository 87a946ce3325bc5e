/* SPDX-License-Identifier: MIT */
/* plan: one loaded mapping, everything the daemon runs from it: the config,
 * its lines, its outputs' runtime (output.h), the command topic -> output
 * table and the subscriptions. A reload loads a new plan beside the running
 * one; the bridge swaps them.
 *
 * Ownership: a plan owns all of it; plan_free() stops its outputs' timers
 * and releases its lines. */
#ifndef GPIO2MQTT_PLAN_H
#define GPIO2MQTT_PLAN_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "gpio.h"
#include "lineset.h"
#include "output.h"
#include "subscriptions.h"
#include "topic_table.h"

struct input_set;

struct plan {
	struct config cfg;
	struct line_state *lines;
	struct output *outputs;       /* one for each of the first cfg.n_outputs lines */
	struct topic_table *commands; /* command topic -> index into lines */
	struct subscriptions subs;
	struct input_set *inputs; /* presses and counts (input.h); NULL until input_setup() */
	double read_ms, find_ms; /* how long loading took: the file, the lines */
};

/* How plan_load() reads a mapping. */
enum {
	PLAN_CHECK_FREE = 1, /* a line another program holds is an error */
	PLAN_WILDCARD = 2,   /* one filter may stand for the default command topics */
	PLAN_WARN = 4,       /* --check: warn about what fails under the service */
};

/* Reads and checks path and finds its lines; requests none. Problems go to
 * errors as FILE:LINE: message. 0, or -1 (p is then empty). */
int plan_load(struct plan *p, const char *path, struct gpio_chips *chips, int how,
	      FILE *errors);
void plan_free(struct plan *p);

/* The output that listens on topic (len bytes), or NULL. */
struct output *plan_output_for(const struct plan *p, const char *topic, size_t len);

/* Whether p subscribes to filter itself (not through its wildcard). */
bool plan_subscribes(const struct plan *p, const char *filter);

/* --check: what was read, on standard output. */
void plan_print_summary(const struct plan *p);
/* At start: one log line per mapped line (the first few of a big mapping). */
void plan_describe(const struct plan *p, struct gpio_chips *chips);

#endif
