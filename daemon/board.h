/* SPDX-License-Identifier: MIT */
/* board: what the daemon tells others about the machine it runs on (its
 * Home Assistant device and <base>/info): the host name, the machine id and
 * the board model. Read once at start; plain strings in a struct the caller
 * owns, each "" when it cannot be had. */
#ifndef GPIO2MQTT_BOARD_H
#define GPIO2MQTT_BOARD_H

struct board {
	char host[256];   /* the short host name (up to the first '.') */
	char machine[13]; /* the first 12 hex digits of /etc/machine-id, as %m */
	char model[128];  /* /proc/device-tree/model: "Raspberry Pi 4 Model B Rev 1.4" */
};

void board_read(struct board *b);

#endif
