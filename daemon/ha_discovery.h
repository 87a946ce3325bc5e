/* SPDX-License-Identifier: MIT */
/* ha_discovery: what Home Assistant's MQTT discovery is told about this
 * board, and the board's <base>/info. Pure: from a config and the board's
 * facts (board.h) to messages; the publisher sends them. Uses cJSON.
 *
 * Device-based discovery (Home Assistant 2024.11 and later): one retained
 * message on <prefix>/device/<node_id>/config with the device (dev), the
 * origin (o), the availability topic <base>/status and one component (cmps)
 * per entity:
 *
 *   output           switch (or light: ha_component = "light")
 *   output, pulse_ms  also a button that sends "pulse"
 *   input            binary_sensor, with its device_class
 *   input, click     event, event_types single, double, long
 *   input, counter   sensor, state_class total_increasing
 *
 * Components are keyed by the line's name (plus _pulse, _press, _count);
 * unique ids are <node_id>_<key>.
 *
 * Per-entity discovery (discovery_mode = "entity": Home Assistant before
 * 2024.11 and other readers): one retained message per component on
 * <prefix>/<platform>/<node_id>/<key>/config, with the same options, dev,
 * o, avty_t and qos, and no p. Its discovery id (node_id, key) is the
 * device message's, so that a switch between the forms is Home Assistant's
 * documented hand-over ("Migration from single component to device-based
 * discovery", and its rollback): HA_MIGRATE_PAYLOAD on every old topic,
 * the new discovery, then the old topics emptied. Ownership: every message and string
 * returned is new, freed by ha_messages_free() or the caller. Functions
 * returning int give 0, or -1 when out of memory (out is then empty). */
#ifndef GPIO2MQTT_HA_DISCOVERY_H
#define GPIO2MQTT_HA_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>

#include "board.h"
#include "config.h"

#define HA_NODE_ID_MAX 64

#define HA_MIGRATE_PAYLOAD "{\"migrate_discovery\":true}"

struct ha_message {
	char *topic;
	char *payload; /* "" removes a retained message */
	bool retain;
};

struct ha_messages {
	struct ha_message *items;
	size_t n;
};

void ha_messages_free(struct ha_messages *m);
/* Moves src's messages to the end of dst, src left empty; -1 when out of
 * memory (both kept as they were). */
int ha_messages_move(struct ha_messages *dst, struct ha_messages *src);

/* The board's id in topics and unique ids, [A-Za-z0-9_-] only:
 * gpio2mqtt_<machine id>, else gpio2mqtt_<host name>, else gpio2mqtt. */
void ha_node_id(const struct board *board, char out[HA_NODE_ID_MAX]);

/* <base>/info (retained JSON: version, libgpiod, model, outputs, inputs),
 * then, when cfg->ha.discovery, the discovery message. */
int ha_announcements(const struct config *cfg, const struct board *board,
		     const char *gpiod_version, struct ha_messages *out);

/* What discovery told Home Assistant: enough to take it back. A reload
 * builds it from the running mapping, a start from what ha_memory.h
 * recalls of the daemon before. */
struct ha_component_id {
	char *platform; /* "switch", "binary_sensor", ... */
	char *key;      /* in cmps and in the per-entity topic */
};

struct ha_announced {
	bool discovery; /* false: nothing was announced (the rest empty) */
	enum cfg_ha_mode mode;
	char *prefix;
	char node_id[HA_NODE_ID_MAX];
	struct ha_component_id *components; /* in the order announced */
	size_t n;
};

/* What cfg's discovery announces on board. */
int ha_announced_of(const struct config *cfg, const struct board *board,
		    struct ha_announced *out);
/* Adds a component (copied); -1 when out of memory (a unchanged). */
int ha_announced_add(struct ha_announced *a, const char *platform, const char *key);
void ha_announced_free(struct ha_announced *a);
bool ha_announced_equal(const struct ha_announced *a, const struct ha_announced *b);

/* What going from old (announced) to next owes Home Assistant around
 * next's announcements: before them, the components next dropped (the
 * device message with each only by its platform, p, or an entity's empty
 * message), all of old's discovery when next turned discovery off or moved
 * its prefix or node id, and, when the mode changed, the hand-over payload
 * on old's topics; after them, those old topics emptied. Nothing when old
 * announced nothing. A reload and a start both owe this. */
int ha_retractions_since(const struct ha_announced *old, const struct config *next,
			 const struct board *board, struct ha_messages *before,
			 struct ha_messages *after);
/* The same for a reload from the mapping old. */
int ha_retractions(const struct config *old, const struct config *next, const struct board *board,
		   struct ha_messages *before, struct ha_messages *after);

/* --forget: an empty retained message for every retained topic the daemon
 * publishes with cfg: discovery in either form, info, status, states,
 * counts. */
int ha_forget(const struct config *cfg, const struct board *board, struct ha_messages *out);

/* <prefix>/status, where Home Assistant says "online" when it (re)starts;
 * NULL when out of memory. */
char *ha_birth_topic(const struct cfg_ha *ha);

#endif
