/* SPDX-License-Identifier: MIT */
/* bridge: the glue. It owns the running plan (plan.h), the broker client
 * (mqtt.h), the publisher (publish.h), the outputs (output.h) and the loop
 * (loop.h), and routes between them: messages to outputs, edges to
 * published states, connection events to subscriptions and timers, signals
 * to a reload or a stop.
 *
 * One struct bridge holds everything the daemon runs on; it is the context
 * of every handler (and libmosquitto's userdata through the mqtt module). */
#ifndef GPIO2MQTT_BRIDGE_H
#define GPIO2MQTT_BRIDGE_H

#include <signal.h>

struct bridge;

/* The signals the bridge takes through its signalfd: the caller blocks
 * them before bridge_new(). */
void bridge_signals(sigset_t *mask);

/* Loads path, requests the lines and prepares the broker connection.
 * NULL on error with *status set (EXIT_CONFIG or EXIT_RUNTIME, see
 * exit_status.h). */
struct bridge *bridge_new(const char *path, int *status);

/* Runs until SIGTERM or SIGINT, then says goodbye to the broker. Returns the
 * exit status. */
int bridge_run(struct bridge *b);

/* What bridge_run() does first: connect and tell systemd. */
void bridge_start(struct bridge *b);
/* What bridge_run() does last: pulses and blinks in progress end off,
 * the state file is written, "offline" is published and the broker told. */
void bridge_stop(struct bridge *b);
/* What SIGHUP does: load the mapping again and switch to it, or keep the
 * running one if the new one is refused. */
void bridge_reload(struct bridge *b);

/* One pass of bridge_run()'s loop, waiting at most timeout_ms for an fd or
 * a timer: how the unit tests drive the bridge. 0, or -1 when poll fails. */
int bridge_poll(struct bridge *b, int timeout_ms);

/* Releases the lines and frees b. */
void bridge_free(struct bridge *b);

#endif
