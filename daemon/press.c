/* SPDX-License-Identifier: MIT */
#include "press.h"

#include <stdbool.h>

void press_sync(struct press *p, int value)
{
	bool on_phase = p->phase == PRESS_DOWN || p->phase == PRESS_SAID_DOWN;

	if (value && !on_phase)
		p->phase = PRESS_SAID_DOWN; /* its start was not seen */
	else if (!value && on_phase)
		p->phase = PRESS_IDLE; /* its release was not seen */
}

long long press_deadline(const struct press *p, const struct press_timing *t)
{
	if (p->phase == PRESS_DOWN)
		return p->since_ns + t->long_ns;
	if (p->phase == PRESS_UP)
		return p->since_ns + t->double_ns;
	return 0;
}

enum press_event press_expire(struct press *p, const struct press_timing *t, long long now_ns)
{
	long long due = press_deadline(p, t);

	if (!due || now_ns < due)
		return PRESS_NONE;
	if (p->phase == PRESS_DOWN) {
		p->phase = PRESS_SAID_DOWN;
		return PRESS_LONG;
	}
	p->phase = PRESS_IDLE;
	return PRESS_SINGLE;
}

static enum press_event pressed(struct press *p, long long ts_ns)
{
	if (p->phase == PRESS_IDLE) {
		p->phase = PRESS_DOWN;
		p->since_ns = ts_ns;
	} else if (p->phase == PRESS_UP) {
		p->phase = PRESS_SAID_DOWN; /* press_expire() found it within double_ns */
		return PRESS_DOUBLE;
	}
	return PRESS_NONE; /* already on: a repeated edge */
}

static void released(struct press *p, long long ts_ns)
{
	if (p->phase == PRESS_DOWN) {
		p->phase = PRESS_UP;
		p->since_ns = ts_ns;
	} else if (p->phase == PRESS_SAID_DOWN) {
		p->phase = PRESS_IDLE;
	}
}

size_t press_edge(struct press *p, const struct press_timing *t, int value, long long ts_ns,
		  enum press_event out[PRESS_EVENTS_MAX])
{
	enum press_event e;
	size_t n = 0;

	if (ts_ns < p->since_ns)
		ts_ns = p->since_ns;
	/* What the time up to this edge settled comes first: a long press
	 * read together with its release, a single read late. */
	e = press_expire(p, t, ts_ns);
	if (e != PRESS_NONE)
		out[n++] = e;
	if (value) {
		e = pressed(p, ts_ns);
		if (e != PRESS_NONE)
			out[n++] = e;
	} else {
		released(p, ts_ns);
	}
	return n;
}

const char *press_event_name(enum press_event e)
{
	switch (e) {
	case PRESS_SINGLE:
		return "single";
	case PRESS_DOUBLE:
		return "double";
	case PRESS_LONG:
		return "long";
	case PRESS_NONE:
		break;
	}
	return NULL;
}
