/* SPDX-License-Identifier: MIT */
/* bridge_harness: the real bridge on one in-memory GPIO chip (gpio_mem.h)
 * and the recording MQTT client (mqtt_fake.h), as the bridge's unit tests
 * run it: a mapping file in /tmp, the bridge connected and subscribed. */
#ifndef GPIO2MQTT_BRIDGE_HARNESS_H
#define GPIO2MQTT_BRIDGE_HARNESS_H

#include "bridge.h"
#include "mqtt_fake.h"

struct harness {
	char path[64];         /* the mapping file */
	struct bridge *bridge; /* NULL until harness_start() */
	struct mqtt *mqtt;
};

/* A fixture's setup: chip "gpiochip0" with n lines named names[i], an empty
 * mapping file, stderr silenced (the tests check what the bridge did). */
void harness_setup(struct harness *h, const char *const *names, unsigned int n);
/* Frees the bridge, removes the file, forgets the chip. */
void harness_teardown(struct harness *h);

void harness_write_mapping(const struct harness *h, const char *text);
/* The bridge on text, connected, subscribed and its states sent. */
void harness_start(struct harness *h, const char *text);

#endif
