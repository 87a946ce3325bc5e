/* SPDX-License-Identifier: MIT */
/* lineset: the GPIO side of a mapping: find every configured line, check it,
 * request it and give it back. Used for --check, at start and on reload.
 *
 * Ownership: lineset_new()'s array is the caller's, freed with free() once
 * lineset_release() gave its lines back; the states borrow their config and
 * their state file.
 * Problems are written to the errors stream as "FILE:LINE: name: message",
 * with the line of the mapping file that names the GPIO line. */
#ifndef GPIO2MQTT_LINESET_H
#define GPIO2MQTT_LINESET_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "gpio.h"

struct statefile;

struct line_state {
	const struct cfg_line *cfg; /* borrowed from the config */
	struct gpio_ref ref;
	struct gpio_line *gpio;     /* NULL until requested */
	/* Logical value: set (outputs) or seen (inputs). -1 for an output
	 * with initial = "keep" or "restore" until its starting value is known:
	 * the line's own, the saved one. */
	int value;
	void *owner;                /* for the edge callback */
	/* Where its state is kept across restarts (statefile.h): set for an
	 * output with initial = "restore" and an input with a counter; NULL:
	 * nowhere. statefile_set_output() and the like take it as it is. */
	struct statefile *statefile;
	bool fresh;                 /* requested by the last lineset_request() */
	bool deferred;              /* lineset_request() leaves it alone */
};

/* A zeroed array of cfg->n_lines states pointing at their config; NULL
 * when out of memory. */
struct line_state *lineset_new(const struct config *cfg);

/* Where lines keep their state (see line_state.statefile), before they are
 * requested: an output with initial = "restore" starts at the state sf holds
 * for its name. One it holds none for starts off, with a warning from
 * lineset_request(). sf may be NULL (nothing saved). */
void lineset_attach_state(struct line_state *lines, size_t n, struct statefile *sf);

/* Records the value of each requested output that keeps its state and has
 * none recorded yet (new to "restore", or a new state file), so that a
 * restart restores it too. After lineset_request() or lineset_switch(). */
void lineset_note_states(const struct line_state *lines, size_t n);

/* Finds every line and checks that no two entries are the same GPIO line;
 * with check_free, also that no other program holds one. 0 or -1. */
int lineset_resolve(struct gpio_chips *chips, const struct config *cfg,
		    struct line_state *lines, bool check_free, FILE *errors);

/* Requests every line whose gpio is NULL and that is not deferred, outputs
 * with their value (for a fresh state: the configured initial value, the
 * saved one for "restore", the line's own for "keep": taken over with no
 * change on the wire, GPIO_INITIAL_AS_IS). On
 * failure releases what it requested in this call (lines it did not request
 * stay) and returns -1. */
int lineset_request(struct gpio_chips *chips, const struct config *cfg,
		    struct line_state *lines, FILE *errors);

void lineset_release(struct line_state *lines, size_t n);

/* Reload: gives next (fresh from lineset_new() and lineset_resolve()) its
 * lines. Lines are matched by chip and offset. A line whose settings do not
 * change passes from old to next with its value, untouched. Lines new to
 * next are requested while old still holds everything, so that a refusal
 * touches no line. Changed lines are then reconfigured in place where the
 * libgpiod generation allows (gpio_line_can_reconfigure()); only the others
 * are released and requested anew, after the rest succeeded. An output that
 * stays an output keeps its logical value. Lines next does not use are
 * released last.
 * 0: old holds no line. -1 (problems written to errors): next holds none
 * and old holds what it held before, with its settings and values (what was
 * reconfigured is set back, what was released is requested again). */
int lineset_switch(struct gpio_chips *chips, const struct config *old_cfg,
		   struct line_state *old, const struct config *next_cfg,
		   struct line_state *next, FILE *errors);

#endif
