/* SPDX-License-Identifier: MIT */
/* mqtt_fake: a stand-in for daemon/mqtt.c in the unit tests. It implements
 * mqtt.h without a socket: publications and subscriptions are recorded, and
 * the test plays the broker's part (accept, SUBACK, messages, a drop) by
 * calling the handlers the daemon gave mqtt_new(). */
#ifndef GPIO2MQTT_MQTT_FAKE_H
#define GPIO2MQTT_MQTT_FAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "mqtt.h"

struct fake_publication {
	char *topic;
	char *payload; /* NUL-terminated copy */
	int qos;
	bool retain;
};

/* The client mqtt_new() made last (the bridge's current one), or NULL. */
struct mqtt *mqtt_fake_client(void);

/* The broker's part. */
void mqtt_fake_accept(struct mqtt *m);
void mqtt_fake_suback(struct mqtt *m);
void mqtt_fake_refuse(struct mqtt *m, const char *filter);
void mqtt_fake_drop(struct mqtt *m);
void mqtt_fake_deliver(struct mqtt *m, const char *topic, const char *payload, bool retained);

/* What the daemon sent. */
size_t mqtt_fake_published(const struct mqtt *m);
const struct fake_publication *mqtt_fake_publication(const struct mqtt *m, size_t i);
/* The latest publication on topic, or NULL. */
const struct fake_publication *mqtt_fake_last_on(const struct mqtt *m, const char *topic);
/* How many publications on topic. */
size_t mqtt_fake_count_on(const struct mqtt *m, const char *topic);
void mqtt_fake_forget_publications(struct mqtt *m);
/* Whether filter is subscribed (and not unsubscribed since). */
bool mqtt_fake_subscribed(const struct mqtt *m, const char *filter);
unsigned int mqtt_fake_connects(const struct mqtt *m);
const char *mqtt_fake_will_topic(const struct mqtt *m);

#endif
