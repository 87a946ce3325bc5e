/* SPDX-License-Identifier: MIT */
/* bridge: the glue. MQTT commands become line values, edges become MQTT
 * messages, signals stop or reload, timers drive keep-alive and reconnects.
 *
 * One struct bridge holds everything the daemon runs on; it is the context
 * of every handler (and libmosquitto's userdata through the mqtt module). */
#ifndef GPIO2MQTT_BRIDGE_H
#define GPIO2MQTT_BRIDGE_H

/* Exit statuses of the daemon, documented in gpio2mqtt(8). */
enum {
	EXIT_OK = 0,
	EXIT_CONFIG = 1,  /* invalid mapping, missing or busy line */
	EXIT_USAGE = 2,   /* bad command line */
	EXIT_RUNTIME = 3, /* anything else that stops the daemon */
};

struct bridge;

/* --check: reads path and finds every line without requesting any. Problems
 * go to stderr as FILE:LINE: message. EXIT_OK or EXIT_CONFIG. */
int bridge_check(const char *path);

/* Loads path, requests the lines and prepares the broker connection.
 * NULL on error with *status set (EXIT_CONFIG or EXIT_RUNTIME). */
struct bridge *bridge_new(const char *path, int *status);

/* Runs until SIGTERM or SIGINT (which must be blocked by the caller), then
 * says goodbye to the broker. Returns the exit status. */
int bridge_run(struct bridge *b);

/* Releases the lines and frees b. */
void bridge_free(struct bridge *b);

#endif
