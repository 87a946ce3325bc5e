/* SPDX-License-Identifier: MIT */
#include "queries.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "gpio.h"
#include "log.h"
#include "topics.h"

static void on_resync_timer(struct timer *t, void *ctx)
{
	struct queries *q = ctx;

	(void)t;
	publish_resync(q->publisher);
}

void queries_init(struct queries *q, struct loop *loop, struct publisher *publisher)
{
	*q = (struct queries){ .loop = loop, .publisher = publisher };
	timer_init(&q->resync, on_resync_timer, q);
	q->seed = (unsigned int)getpid() ^ (unsigned int)clock_now_ms();
	board_read(&q->board);
}

static void free_topics(struct queries *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->topics[i]);
	q->n = 0;
	q->birth_topic = NULL;
}

void queries_free(struct queries *q)
{
	if (q->loop)
		loop_timer_stop(q->loop, &q->resync);
	ha_messages_free(&q->announce);
	ha_announced_free(&q->announced);
	free_topics(q);
}

void queries_use(struct queries *q, const struct plan *plan)
{
	const struct config *cfg = &plan->cfg;
	bool ok;

	q->plan = plan;
	ha_messages_free(&q->announce);
	if (ha_announcements(cfg, &q->board, gpio_version_runtime(), &q->announce) < 0)
		log_error("out of memory: no info and discovery messages");
	publish_announcements(q->publisher, &q->announce);
	ha_announced_free(&q->announced);
	if (ha_announced_of(cfg, &q->board, &q->announced) < 0)
		log_error("out of memory: what is announced to Home Assistant is not remembered");
	free_topics(q);
	q->topics[q->n++] = topics_query_wildcard(cfg->mqtt.base_topic, true);
	q->topics[q->n++] = topics_query_wildcard(cfg->mqtt.base_topic, false);
	if (cfg->ha.discovery)
		q->birth_topic = q->topics[q->n++] = ha_birth_topic(&cfg->ha);
	ok = q->topics[0] && q->topics[1] && (!cfg->ha.discovery || q->birth_topic);
	if (!ok) {
		log_error("out of memory: no state queries and Home Assistant births");
		free_topics(q);
	}
}

/* Around the new discovery: what the reload dropped leaves Home Assistant,
 * and a change of discovery_mode is handed over (kept until the broker is
 * back, if it is away). */
void queries_retract(struct queries *q, const struct config *old)
{
	struct ha_messages before, after;

	if (ha_retractions(old, &q->plan->cfg, &q->board, &before, &after) < 0)
		log_error("out of memory: Home Assistant keeps the entities the reload dropped");
	publish_retractions(q->publisher, &before, &after);
}

void queries_remember_in(struct queries *q, struct ha_memory *memory)
{
	q->memory = memory;
}

/* Kept until the first connection, where they go around the announcements
 * as a reload's do. */
void queries_recall(struct queries *q)
{
	struct ha_messages before, after;

	if (ha_retractions_since(ha_memory_recalled(q->memory), &q->plan->cfg, &q->board, &before,
				 &after) < 0)
		log_error("out of memory: Home Assistant keeps what the mapping dropped");
	if (before.n || after.n)
		log_info("Home Assistant is owed %zu messages (removals, hand-over) for what "
			 "was announced before this start; sent once connected",
			 before.n + after.n);
	publish_retractions(q->publisher, &before, &after);
}

/* An announcement that failed to be built (out of memory) is not one. */
void queries_announced(struct queries *q)
{
	if (q->announce.n && (q->announced.discovery || !q->plan->cfg.ha.discovery))
		ha_memory_record(q->memory, &q->announced);
}

char *const *queries_topics(const struct queries *q, size_t *n)
{
	*n = q->n;
	return q->topics;
}

/* Home Assistant (re)started: discovery and every state again once the
 * timer fires, at a random moment so that a house of boards spreads out. */
static void on_birth(struct queries *q)
{
	unsigned int most = (unsigned int)q->plan->cfg.ha.resync_delay_ms, least = most / 3;
	unsigned int delay = least + (unsigned int)rand_r(&q->seed) % (most - least + 1);

	log_info("Home Assistant is online: discovery and states in %u ms", delay);
	loop_timer_start(q->loop, &q->resync, delay);
}

/* An empty message on <base>/output/<name>/get: that state again. */
static void answer_state_query(struct queries *q, const char *topic, const char *name,
			       bool output, const void *payload, size_t len)
{
	const struct config *cfg = &q->plan->cfg;
	size_t first = output ? 0 : cfg->n_outputs, end = output ? cfg->n_outputs : cfg->n_lines;

	for (size_t i = first; i < end; i++) {
		if (strcmp(cfg->lines[i].name, name) != 0)
			continue;
		if (len)
			publish_ignored(q->publisher, topic, payload, len,
					"a state query has no payload");
		else
			publish_state(q->publisher, &q->plan->lines[i]);
		return;
	}
	log_debug("state query for \"%s\", which is not mapped", name);
}

bool queries_answer(struct queries *q, const char *topic, const void *payload, size_t len,
		    bool retained)
{
	char name[256];
	bool output;

	if (q->birth_topic && strcmp(topic, q->birth_topic) == 0) {
		bool online = len == strlen(TOPICS_ONLINE) && !memcmp(payload, TOPICS_ONLINE, len);

		/* A retained birth is old news: the connection got everything. */
		if (online && !retained)
			on_birth(q);
		return true;
	}
	if (!topics_query_name(q->plan->cfg.mqtt.base_topic, topic, &output, name, sizeof(name)))
		return false;
	if (!retained)
		answer_state_query(q, topic, name, output, payload, len);
	return true;
}

bool queries_refused(const struct queries *q, const char *filter)
{
	for (size_t i = 0; i < q->n; i++) {
		if (strcmp(filter, q->topics[i]) != 0)
			continue;
		log_warning("the broker refused the subscription to \"%s\": %s", filter,
			    q->topics[i] == q->birth_topic
				    ? "discovery follows connections only, not Home Assistant's "
				      "restarts"
				    : "state queries are not answered");
		return true;
	}
	return false;
}
