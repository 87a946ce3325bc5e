/* SPDX-License-Identifier: MIT */
/* forget: gpio2mqtt --forget, for a board that is being uninstalled or
 * renamed: an empty retained message on every retained topic the mapping
 * makes the daemon publish (Home Assistant discovery, <base>/info, status,
 * states, counts; see ha_forget()), so that neither the broker nor Home
 * Assistant keeps them. Connects as <client_id>-forget, so that a daemon
 * still running is not pushed off the broker. */
#ifndef GPIO2MQTT_FORGET_H
#define GPIO2MQTT_FORGET_H

/* An exit status (exit_status.h); problems are logged. */
int forget_run(const char *path);

#endif
