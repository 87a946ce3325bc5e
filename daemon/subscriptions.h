/* SPDX-License-Identifier: MIT */
/* subscriptions: the topic filters that carry a mapping's commands. Pure.
 *
 * When two or more outputs use the default command topic
 * <base>/output/<name>/set, one filter <base>/output/+/set stands for them
 * all: a broker takes one filter much faster than a thousand, and keeps less.
 * It is used only when it matches none of the topics the daemon publishes
 * (under MQTT 3.1.1 the broker would echo them back), and never after the
 * broker refused it. Other command topics are subscribed one by one. */
#ifndef GPIO2MQTT_SUBSCRIPTIONS_H
#define GPIO2MQTT_SUBSCRIPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct subscriptions {
	char **filters;  /* what to subscribe to; borrowed from cfg but the wildcard */
	size_t n;
	char *wildcard;  /* owned; NULL when every command topic is subscribed itself */
};

/* Fills s for cfg's outputs. 0, or -1 when out of memory (s is then empty). */
int subscriptions_plan(struct subscriptions *s, const struct config *cfg, bool wildcard_allowed);
void subscriptions_free(struct subscriptions *s);

/* Whether s's wildcard carries messages published on topic. */
bool subscriptions_covers(const struct subscriptions *s, const char *topic);

#endif
