/* SPDX-License-Identifier: MIT */
/* queries: what the daemon says about itself and answers besides commands.
 * It announces the running mapping (<base>/info and, with Home Assistant,
 * discovery), answers state queries (an empty message on
 * <base>/output/NAME/get or <base>/input/NAME/get) and Home Assistant's
 * birth on <prefix>/status (discovery and every state again, after a random
 * delay, so that a house of boards spreads out), and retracts from Home
 * Assistant what a reload dropped, or, at a start, what the mapping dropped
 * since the daemon before announced it (ha_memory.h).
 *
 * Ownership: struct queries borrows the loop, the publisher, the running
 * plan and the memory of announcements; it owns its topics, the
 * announcement messages, what they announce and the resync timer
 * (queries_free() stops it). */
#ifndef GPIO2MQTT_QUERIES_H
#define GPIO2MQTT_QUERIES_H

#include <stdbool.h>
#include <stddef.h>

#include "board.h"
#include "ha_discovery.h"
#include "ha_memory.h"
#include "loop.h"
#include "plan.h"
#include "publish.h"

struct queries {
	struct loop *loop;
	struct publisher *publisher;
	const struct plan *plan;
	struct board board;
	struct ha_messages announce; /* info and discovery, for the publisher */
	struct ha_announced announced; /* what announce tells Home Assistant */
	struct ha_memory *memory;      /* where that is remembered; NULL: nowhere */
	char *topics[3];   /* the filters answered */
	size_t n;
	char *birth_topic; /* one of topics; NULL without discovery */
	struct timer resync;
	unsigned int seed;
};

void queries_init(struct queries *q, struct loop *loop, struct publisher *publisher);
void queries_free(struct queries *q);

/* plan runs now: its announcements go to the publisher, its topics are the
 * ones answered (subscribe to queries_topics() again). */
void queries_use(struct queries *q, const struct plan *plan);
/* After queries_use() for a reload from old: what old announced and the new
 * plan does not leaves Home Assistant. */
void queries_retract(struct queries *q, const struct config *old);
/* Where what is announced is remembered from now on (NULL: nowhere). */
void queries_remember_in(struct queries *q, struct ha_memory *memory);
/* At start, after queries_use() and queries_remember_in(): what the daemon
 * before announced and the plan does not leaves Home Assistant, as after a
 * reload from it. */
void queries_recall(struct queries *q);
/* The announcements went out (publish_owed_states()): they are remembered. */
void queries_announced(struct queries *q);

char *const *queries_topics(const struct queries *q, size_t *n);

/* Whether topic is one of the queries (then answered) rather than a command. */
bool queries_answer(struct queries *q, const char *topic, const void *payload, size_t len,
		    bool retained);
/* Whether the broker refused filter is one of the queries (then logged). */
bool queries_refused(const struct queries *q, const char *filter);

#endif
