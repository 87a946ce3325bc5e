/* SPDX-License-Identifier: MIT */
/* problems: what is wrong with a mapping, as config and lineset write it
 * (FILE:LINE: message lines on a stream), brought to the log at error
 * level, so that under systemd "journalctl -p err -u gpio2mqtt" shows why
 * the daemon did not start or a reload failed. --check writes to stderr
 * directly instead. */
#ifndef GPIO2MQTT_PROBLEMS_H
#define GPIO2MQTT_PROBLEMS_H

#include <stdbool.h>
#include <stdio.h>

struct problems {
	FILE *stream; /* where config and lineset write */
	bool collecting; /* false: out of memory, stream is stderr */
	char *text;
	size_t len;
};

void problems_open(struct problems *p);
/* Closes the stream, logs each line of it as an error (at most 50, then
 * how many more; "warning:" lines as warnings), and returns how many
 * problems there were (0 when they went to stderr as they came). */
int problems_log(struct problems *p);

#endif
