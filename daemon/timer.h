/* SPDX-License-Identifier: MIT */
/* timer: one-shot timers, any number of them, ordered by deadline in a
 * binary heap. Pure: the loop (loop.h) keeps one heap and arms its one
 * timerfd for the earliest deadline, so a timer costs no file descriptor.
 *
 * Ownership: a struct timer lives in the object it belongs to (an output's
 * pulse, the broker connection's keep-alive); the heap only points at it.
 * Its owner must stop it before freeing it. */
#ifndef GPIO2MQTT_TIMER_H
#define GPIO2MQTT_TIMER_H

#include <stdbool.h>
#include <stddef.h>

struct timer;
typedef void (*timer_fn)(struct timer *t, void *ctx);

struct timer {
	timer_fn fn;
	void *ctx;
	long long due_ns; /* CLOCK_MONOTONIC */
	size_t slot;      /* 1 + its index in the heap; 0 while not pending */
};

struct timer_heap {
	struct timer **items;
	size_t n;
	size_t allocated;
};

void timer_init(struct timer *t, timer_fn fn, void *ctx);
static inline bool timer_pending(const struct timer *t)
{
	return t->slot != 0;
}

/* Adds t, or moves it if pending, to fire at due_ns. 0, or -1 when out of
 * memory (t is then not pending). */
int timer_heap_add(struct timer_heap *h, struct timer *t, long long due_ns);
/* Takes t out if it is pending; harmless otherwise. */
void timer_heap_remove(struct timer_heap *h, struct timer *t);
/* The timer due first, or NULL. */
struct timer *timer_heap_first(const struct timer_heap *h);
/* Forgets every timer (they are left not pending) and frees the storage. */
void timer_heap_clear(struct timer_heap *h);

#endif
