/* SPDX-License-Identifier: MIT */
#include "publish.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "payload.h"

#define ERROR_BURST 10 /* error reports allowed at once, then one per second */

void publish_init(struct publisher *p)
{
	*p = (struct publisher){ .errors = { .tokens = ERROR_BURST,
					     .refilled_ms = clock_now_ms() } };
}

void publish_free(struct publisher *p)
{
	ha_messages_free(&p->retract_before);
	ha_messages_free(&p->retract_after);
}

void publish_use(struct publisher *p, struct mqtt *m)
{
	p->mqtt = m;
	p->states = STATES_SENT;
}

void publish_mapping(struct publisher *p, const struct config *cfg,
		     const struct line_state *lines)
{
	p->cfg = cfg;
	p->lines = lines;
}

struct mqtt_will publish_will(const struct config *cfg)
{
	return (struct mqtt_will){ .topic = cfg->status_topic, .payload = PUBLISH_OFFLINE };
}

static bool connected(const struct publisher *p)
{
	return p->mqtt && mqtt_is_connected(p->mqtt);
}

static void publish_text(struct publisher *p, const char *topic, const char *text, bool retain)
{
	mqtt_publish(p->mqtt, topic, text, strlen(text), p->cfg->mqtt.qos, retain);
}

void publish_state(struct publisher *p, const struct line_state *l)
{
	if (!connected(p))
		return; /* every state is published again on connect */
	publish_text(p, l->cfg->state_topic, l->value ? l->cfg->payload_on : l->cfg->payload_off,
		     l->cfg->retain);
}

void publish_event(struct publisher *p, const struct cfg_line *c, const char *event_type)
{
	char json[64]; /* event types are fixed words: nothing to escape */

	if (!connected(p))
		return;
	snprintf(json, sizeof(json), "{\"event_type\":\"%s\"}", event_type);
	publish_text(p, c->event_topic, json, false);
}

void publish_count(struct publisher *p, const struct cfg_line *c, uint64_t count)
{
	char text[24];

	if (!connected(p))
		return; /* every count is published again on connect */
	snprintf(text, sizeof(text), "%" PRIu64, count);
	publish_text(p, c->count_topic, text, true);
}

void publish_online(struct publisher *p)
{
	if (connected(p))
		publish_text(p, p->cfg->status_topic, PUBLISH_ONLINE, true);
}

void publish_offline(struct publisher *p)
{
	if (connected(p))
		publish_text(p, p->cfg->status_topic, PUBLISH_OFFLINE, true);
}

static bool error_allowed(struct error_budget *e)
{
	long long now = clock_now_ms();
	long long refill = (now - e->refilled_ms) / 1000;

	if (refill > 0) {
		e->tokens = e->tokens + refill > ERROR_BURST ? ERROR_BURST
							    : e->tokens + (unsigned int)refill;
		/* Keep the fraction of a second: one report a second, not fewer. */
		e->refilled_ms += refill * 1000;
	}
	if (!e->tokens) {
		e->suppressed++;
		return false;
	}
	e->tokens--;
	return true;
}

void publish_ignored(struct publisher *p, const char *topic, const void *payload, size_t len,
		     const char *reason)
{
	char *json;
	bool cut;

	if (!error_allowed(&p->errors)) {
		log_debug("ignored a message on \"%s\": %s", topic, reason);
		return;
	}
	if (p->errors.suppressed) {
		log_warning("%u more bad messages were not reported", p->errors.suppressed);
		p->errors.suppressed = 0;
	}
	log_warning("ignored a message on \"%s\": %s", topic, reason);
	if (!connected(p))
		return;
	/* Cut to the broker's maximum packet size, so that it is not refused. */
	json = payload_error_json_within(topic, payload, len, reason,
					 mqtt_payload_room(p->mqtt, p->cfg->error_topic), &cut);
	if (json)
		publish_text(p, p->cfg->error_topic, json, false);
	else
		log_warning("the error report does not fit in the broker's largest packet");
	free(json);
}

void publish_connected(struct publisher *p, bool suback_coming)
{
	p->states = suback_coming ? STATES_AFTER_SUBACK : STATES_DUE;
	publish_online(p);
}

void publish_subscribed(struct publisher *p)
{
	if (p->states == STATES_AFTER_SUBACK)
		p->states = STATES_DUE;
}

void publish_disconnected(struct publisher *p)
{
	p->states = STATES_SENT; /* all of them again on connect */
}

void publish_announcements(struct publisher *p, const struct ha_messages *m)
{
	p->announce = m;
}

void publish_messages(struct publisher *p, const struct ha_messages *m)
{
	for (size_t i = 0; m && i < m->n && connected(p); i++)
		publish_text(p, m->items[i].topic, m->items[i].payload, m->items[i].retain);
}

void publish_retractions(struct publisher *p, struct ha_messages *before,
			 struct ha_messages *after)
{
	if (ha_messages_move(&p->retract_before, before) < 0 ||
	    ha_messages_move(&p->retract_after, after) < 0)
		log_error("out of memory: Home Assistant keeps what the reload dropped");
	ha_messages_free(before);
	ha_messages_free(after);
	if (!connected(p))
		return;
	publish_messages(p, &p->retract_before);
	ha_messages_free(&p->retract_before);
}

static bool announced(const struct publisher *p, const char *topic)
{
	for (size_t i = 0; p->announce && i < p->announce->n; i++)
		if (!strcmp(p->announce->items[i].topic, topic))
			return true;
	return false;
}

/* The old topics emptied once the new discovery is out; not one the
 * mapping announces now (a reload back before they were sent). */
static void publish_retract_after(struct publisher *p)
{
	const struct ha_messages *m = &p->retract_after;

	for (size_t i = 0; i < m->n; i++)
		if (!announced(p, m->items[i].topic))
			publish_text(p, m->items[i].topic, m->items[i].payload,
				     m->items[i].retain);
	ha_messages_free(&p->retract_after);
}

void publish_resync(struct publisher *p)
{
	if (connected(p) && p->states == STATES_SENT)
		p->states = STATES_DUE;
}

/* Once the broker answered the subscription: on a single CPU it gets to
 * forward "online" before a thousand states queued behind it make it wait
 * (1,000 lines: ready 30 ms sooner). */
bool publish_owed_states(struct publisher *p)
{
	if (p->states != STATES_DUE)
		return false;
	p->states = STATES_SENT;
	publish_messages(p, &p->retract_before); /* owed since the broker was away */
	ha_messages_free(&p->retract_before);
	publish_messages(p, p->announce); /* what they are, then their states */
	publish_retract_after(p);
	for (size_t i = 0; i < p->cfg->n_lines; i++)
		publish_state(p, &p->lines[i]);
	return true;
}
