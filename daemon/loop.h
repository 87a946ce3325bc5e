/* SPDX-License-Identifier: MIT */
/* loop: one poll() loop over file descriptors, plus timerfd helpers.
 *
 * Each pass calls the prepare hook (which may change what is watched), polls
 * with no timeout, and calls the handler of every ready fd. Nothing wakes the
 * process but the fds: timers are timerfds watched like any other. */
#ifndef GPIO2MQTT_LOOP_H
#define GPIO2MQTT_LOOP_H

#include <stdbool.h>

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

/* A monotonic timerfd (non-blocking), or -1. */
int timer_new(void);
/* Fires once after ms (0 disarms), or every ms when repeat. */
int timer_arm(int fd, unsigned int ms, bool repeat);
/* Consumes an expiry so the fd stops being readable. */
void timer_ack(int fd);

#endif
