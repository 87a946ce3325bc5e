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
#include <stdint.h>

#include "config.h"
#include "ha_discovery.h"
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
	const struct ha_messages *announce; /* <base>/info, discovery: before the states */
	/* Owned: what reloads took out of Home Assistant, not sent yet (the
	 * broker was away): before and after the announcements. */
	struct ha_messages retract_before, retract_after;
};

void publish_init(struct publisher *p);
/* Frees what the publisher owns (the retractions still owed). */
void publish_free(struct publisher *p);
void publish_use(struct publisher *p, struct mqtt *m);
void publish_mapping(struct publisher *p, const struct config *cfg,
		     const struct line_state *lines);

/* The will a client of cfg's broker leaves: "offline" on the status topic. */
struct mqtt_will publish_will(const struct config *cfg);

void publish_state(struct publisher *p, const struct line_state *l);
/* A press of an input on its event topic, as Home Assistant's MQTT event
 * entity reads it: {"event_type":"single"}. Not retained, and not queued
 * while disconnected: a press is news only when it happens. */
void publish_event(struct publisher *p, const struct cfg_line *c, const char *event_type);
/* An input's count on its count topic, in decimal, retained: a new
 * subscriber gets the meter's reading at once. */
void publish_count(struct publisher *p, const struct cfg_line *c, uint64_t count);
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
/* The messages that go before the states a connection is owed (borrowed
 * until the next call); publish_messages() sends some at once, when
 * connected. */
void publish_announcements(struct publisher *p, const struct ha_messages *m);
void publish_messages(struct publisher *p, const struct ha_messages *m);
/* A reload's retractions (ha_retractions(); their messages taken, before
 * and after left empty): before goes at once when connected, after
 * follows the next announcements; while not connected both wait for the
 * next connection, in order after those owed already. */
void publish_retractions(struct publisher *p, struct ha_messages *before,
			 struct ha_messages *after);
/* Home Assistant came back: announcements and every state are owed again. */
void publish_resync(struct publisher *p);
/* Before the next poll(): publishes the states owed, if any; true when it
 * did (what else a connection is owed follows them). */
bool publish_owed_states(struct publisher *p);

#endif
