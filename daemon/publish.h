/* SPDX-License-Identifier: MIT */
/* publish: what gpio2mqtt says on the broker. Line states in the mapping's
 * payloads, "online"/"offline" on the status topic (and as the will), reports
 * of ignored messages on the error topic within an error budget, and the
 * states a new connection is owed.
 *
 * Ownership: the publisher borrows the client, the running mapping and its
 * lines; the bridge points it at new ones (publish_use(), publish_mapping())
 * before it frees the old. Nothing is published while not connected: a new
 * connection gets every state again. */
#ifndef GPIO2MQTT_PUBLISH_H
#define GPIO2MQTT_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "lineset.h"
#include "mqtt.h"

#define PUBLISH_ONLINE "online"
#define PUBLISH_OFFLINE "offline"

/* A token bucket: bursts of bad messages are reported, floods are counted. */
struct error_budget {
	unsigned int tokens;
	long long refilled_ms;
	unsigned int suppressed;
};

struct publisher {
	struct mqtt *mqtt;
	const struct config *cfg;
	const struct line_state *lines;
	enum { STATES_SENT, STATES_AFTER_SUBACK, STATES_DUE } states; /* owed to a connection */
	struct error_budget errors;
};

void publish_init(struct publisher *p);
void publish_use(struct publisher *p, struct mqtt *m);
void publish_mapping(struct publisher *p, const struct config *cfg,
		     const struct line_state *lines);

/* The will a client of cfg's broker leaves: "offline" on the status topic. */
struct mqtt_will publish_will(const struct config *cfg);

void publish_state(struct publisher *p, const struct line_state *l);
void publish_online(struct publisher *p);
void publish_offline(struct publisher *p);

/* A message that was ignored: logged, and reported on the error topic (cut
 * to the broker's largest packet) unless the budget is spent. */
void publish_ignored(struct publisher *p, const char *topic, const void *payload, size_t len,
		     const char *reason);

/* The connection's course: every state is owed once the broker accepted us
 * and answered the subscription (suback_coming) or at once (none coming). */
void publish_connected(struct publisher *p, bool suback_coming);
void publish_subscribed(struct publisher *p);
void publish_disconnected(struct publisher *p);
/* Before the next poll(): publishes the states owed, if any. */
void publish_owed_states(struct publisher *p);

#endif
