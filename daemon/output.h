/* SPDX-License-Identifier: MIT */
/* output: what a command does to an output line, now and later.
 *
 * A message on a command topic is parsed once into a struct command
 * (payload.h); every change of an output's value then goes through
 * output_set(), which sets the line, records the value, publishes the state
 * and keeps the safety limit (max_on_ms) running while the output is on.
 * What comes later runs on timers embedded in each struct output, all on the
 * loop's one timerfd: the return of a pulse or timed command, the phases of
 * a blink, the end of an interlock wait, the safety limit, and the state an
 * output takes once the broker has been unreachable a while (on_disconnect).
 *
 * The latest command always wins: each one cancels whatever is pending on
 * its output before it acts, so no stale timer ever sets a line. A new
 * payload form goes into payload.c, a new output behaviour here.
 *
 * Ownership: a plan owns its array of struct output (output_states_new(),
 * output_states_free()), which points at the plan's lines and config.
 * struct outputs borrows the loop, the publisher and the running plan's
 * states (output_take_over()). */
#ifndef GPIO2MQTT_OUTPUT_H
#define GPIO2MQTT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "lineset.h"
#include "loop.h"
#include "payload.h"
#include "publish.h"

/* What an output's step timer does when it fires. */
enum output_task {
	OUTPUT_IDLE,
	OUTPUT_RETURN,    /* a pulse or timed command: set return_value */
	OUTPUT_BLINK,     /* the next phase of the blink in doing */
	OUTPUT_INTERLOCK, /* apply doing: its group has been off long enough */
};

struct outputs;

/* One output's runtime. Its fields are output.c's; the struct is here for
 * the plan's array. */
struct output {
	struct outputs *set; /* NULL until its plan runs */
	struct line_state *line;
	struct output *next_in_group; /* a ring of its interlock group; NULL: none */
	enum output_task task;
	struct command doing;    /* OUTPUT_BLINK, OUTPUT_INTERLOCK */
	int return_value;        /* OUTPUT_RETURN */
	unsigned int blinks;     /* OUTPUT_BLINK: on-off cycles completed */
	struct timer step;       /* the task's next step */
	struct timer limit;      /* max_on_ms, pending while on */
	struct timer failsafe;   /* on_disconnect, pending while the broker is lost */
	bool failsafe_applied;   /* since the broker was lost */
	long long set_ns;        /* when output_set() last wrote the line */
	long long on_since_ns;   /* when it last went on */
	long long off_since_ns;  /* when it last went off; 0: not since the start */
};

struct outputs {
	struct loop *loop;
	struct publisher *publisher;
	struct output *running; /* the running plan's outputs */
	size_t n_running;
	long long broker_lost_ns; /* since when the broker is unreachable; 0: connected */
};

/* The states of lines[0..n) (a plan's outputs), their interlock groups
 * linked; NULL when out of memory. Free with output_states_free(), which
 * stops their timers. */
struct output *output_states_new(struct line_state *lines, size_t n);
void output_states_free(struct output *states, size_t n);

/* next (n states of a plan whose lines are requested) becomes the running
 * plan's. An output of old (the plan running until now; NULL at the start)
 * on the same GPIO line hands over its timing; what it had pending (a pulse,
 * a blink, an interlock wait) goes on unchanged when its pulse, interlock,
 * safety limit and on_disconnect settings are the same, and is cancelled
 * otherwise, the line keeping its value. An output on longer than its
 * max_on_ms is switched off, and of a group with more than one output on
 * only the first stays on. */
void output_take_over(struct outputs *o, struct output *next, size_t n, struct output *old,
		      size_t n_old);

/* The broker connection is gone (or not there yet): the outputs with
 * on_disconnect take their state once it stayed away on_disconnect_after_s.
 * output_broker_back() when the broker accepted us again. */
void output_broker_lost(struct outputs *o);
void output_broker_back(struct outputs *o);

/* Before the lines are released at stop: a pulse or blink in progress ends
 * off at once (its timer would never fire); nothing pending is switched on. */
void output_settle(struct outputs *o);

/* A message on one of s's command topics. A payload that is not a command,
 * or one the output cannot take ("pulse" without pulse_ms), changes nothing
 * and is reported; a retained toggle, pulse, blink or timed command is
 * ignored, as it would act again on every reconnect. */
void output_message(struct output *s, const char *topic, const void *payload, size_t len,
		    bool retained);

/* Applies cmd to s, cancelling what was pending on it. 0, or -1 when a
 * line could not be set (logged). */
int output_apply(struct output *s, const struct command *cmd);

/* Sets s to value: the line, the recorded value, the published state, the
 * safety limit. The one place an output's value changes. 0, or -1 when the
 * line could not be set (logged; nothing else changes). */
int output_set(struct output *s, int value);

#endif
