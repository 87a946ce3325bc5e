/* SPDX-License-Identifier: MIT */
/* press: single, double and long presses of a button, told apart by the
 * kernel's timestamps of its edges, not by when the daemon read them. Pure:
 * the time is whatever the caller passes in, so a press is tested without
 * waiting for it.
 *
 * A press is the input going on (its logical value, after active_low):
 *   long    held for long_ns or more: said as soon as that much time has
 *           passed, while it is still held;
 *   double  a second press begins less than double_ns after the first one
 *           was released: said as that press begins (it counts for nothing
 *           more, however long it is held);
 *   single  released before long_ns, and no second press within double_ns:
 *           said double_ns after the release.
 * An input that is already on when watching begins is not a press: its
 * release says nothing.
 *
 * The caller feeds every edge in order (press_edge()) and, once the time of
 * press_deadline() has passed and every edge stamped before it was fed,
 * calls press_expire(). Timestamps that go backwards count as no time. */
#ifndef GPIO2MQTT_PRESS_H
#define GPIO2MQTT_PRESS_H

#include <stddef.h>

enum press_event { PRESS_NONE, PRESS_SINGLE, PRESS_DOUBLE, PRESS_LONG };

struct press_timing {
	long long double_ns;
	long long long_ns;
};

struct press {
	enum {
		PRESS_IDLE,      /* off, nothing pending */
		PRESS_DOWN,      /* a first press, since since_ns */
		PRESS_UP,        /* released at since_ns: a single, unless a second press comes */
		PRESS_SAID_DOWN, /* on, but its release says nothing (long said, double said, or
				    on before watching) */
	} phase;
	long long since_ns;
};

/* The most events one edge can settle: a late single or long, then its own. */
#define PRESS_EVENTS_MAX 2

/* Starts (or, after the line may have changed unseen, resumes) with the
 * input's value now: a press or a wait that value contradicts is dropped. */
void press_sync(struct press *p, int value);

/* The edge to value (1: pressed, 0: released) at ts_ns: the events it
 * settles, in order, into out; returns how many. */
size_t press_edge(struct press *p, const struct press_timing *t, int value, long long ts_ns,
		  enum press_event out[PRESS_EVENTS_MAX]);

/* When press_expire() has something to say; 0: not before the next edge. */
long long press_deadline(const struct press *p, const struct press_timing *t);

/* Every edge up to now_ns was fed: the event now due, or PRESS_NONE. */
enum press_event press_expire(struct press *p, const struct press_timing *t, long long now_ns);

/* "single", "double", "long" (Home Assistant's event types); NULL for none. */
const char *press_event_name(enum press_event e);

#endif
