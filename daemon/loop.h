/* SPDX-License-Identifier: MIT */
/* loop: one poll() loop over file descriptors and timers.
 *
 * Each pass calls the prepare hook (which may change what is watched), polls
 * with no timeout, and calls the handler of every ready fd and every timer
 * due. Nothing wakes the process but the fds: all timers share one timerfd,
 * armed for the earliest deadline and disarmed while none is pending. */
#ifndef GPIO2MQTT_LOOP_H
#define GPIO2MQTT_LOOP_H

#include <stdbool.h>

#include "timer.h"

struct loop;

typedef void (*loop_handler)(void *ctx, int fd, short revents);
typedef void (*loop_prepare)(void *ctx);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watches fd for events (POLLIN, POLLOUT); replaces an earlier watch of the
 * same fd. 0 or -1 (ENOMEM). */
int loop_watch(struct loop *l, int fd, short events, loop_handler fn, void *ctx);
void loop_unwatch(struct loop *l, int fd);

/* Runs until loop_quit(); returns the status given to it, or -1 when poll
 * fails. */
int loop_run(struct loop *l, loop_prepare prepare, void *ctx);
void loop_quit(struct loop *l, int status);
/* One pass that waits at most timeout_ms for something to happen (tests
 * drive the daemon with it). 0, or -1 when poll fails. */
int loop_run_once(struct loop *l, loop_prepare prepare, void *ctx, int timeout_ms);

/* t (timer_init()ed by its owner) fires once from the loop, ms from now or
 * at due_ns (CLOCK_MONOTONIC); starting a pending timer moves it. A timer
 * is stopped before it fires. 0, or -1 when out of memory. */
int loop_timer_start(struct loop *l, struct timer *t, unsigned int ms);
int loop_timer_start_at(struct loop *l, struct timer *t, long long due_ns);
/* Harmless for a timer that is not pending. */
void loop_timer_stop(struct loop *l, struct timer *t);

#endif
