/* SPDX-License-Identifier: MIT */
/* exit_status: the daemon's exit statuses, documented in gpio2mqtt(8). */
#ifndef GPIO2MQTT_EXIT_STATUS_H
#define GPIO2MQTT_EXIT_STATUS_H

enum {
	EXIT_OK = 0,
	EXIT_CONFIG = 1,  /* invalid mapping, missing or busy line */
	EXIT_USAGE = 2,   /* bad command line */
	EXIT_RUNTIME = 3, /* anything else that stops the daemon */
};

#endif
