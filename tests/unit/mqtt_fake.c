/* SPDX-License-Identifier: MIT */
#include "mqtt_fake.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FILTERS 64

struct mqtt {
	const struct mqtt_handlers *handlers;
	void *ctx;
	char *will_topic;
	bool connected;
	unsigned int connects;
	struct fake_publication *pubs;
	size_t n_pubs;
	char *filters[MAX_FILTERS];
	size_t n_filters;
};

static struct mqtt *latest;

void mqtt_global_init(void)
{
}

void mqtt_global_cleanup(void)
{
}

const char *mqtt_version(void)
{
	return "fake";
}

struct mqtt *mqtt_new(const struct cfg_mqtt *cfg, const struct mqtt_will *will,
		      const struct mqtt_handlers *handlers, void *ctx)
{
	struct mqtt *m = calloc(1, sizeof(*m));

	(void)cfg;
	if (!m)
		return NULL;
	m->handlers = handlers;
	m->ctx = ctx;
	m->will_topic = strdup(will->topic);
	latest = m;
	return m;
}

void mqtt_fake_forget_publications(struct mqtt *m)
{
	for (size_t i = 0; i < m->n_pubs; i++) {
		free(m->pubs[i].topic);
		free(m->pubs[i].payload);
	}
	free(m->pubs);
	m->pubs = NULL;
	m->n_pubs = 0;
}

static void forget_filter(struct mqtt *m, size_t i)
{
	free(m->filters[i]);
	m->filters[i] = m->filters[--m->n_filters];
}

void mqtt_free(struct mqtt *m)
{
	if (!m)
		return;
	mqtt_fake_forget_publications(m);
	while (m->n_filters)
		forget_filter(m, 0);
	free(m->will_topic);
	if (latest == m)
		latest = NULL;
	free(m);
}

struct mqtt *mqtt_fake_client(void)
{
	return latest;
}

int mqtt_connect(struct mqtt *m)
{
	m->connects++;
	return 0;
}

bool mqtt_is_connected(const struct mqtt *m)
{
	return m->connected;
}

int mqtt_fd(const struct mqtt *m)
{
	(void)m;
	return -1;
}

bool mqtt_wants_write(const struct mqtt *m)
{
	(void)m;
	return false;
}

void mqtt_handle_io(struct mqtt *m, bool readable, bool writable)
{
	(void)m, (void)readable, (void)writable;
}

void mqtt_handle_keepalive(struct mqtt *m)
{
	(void)m;
}

unsigned int mqtt_keepalive_due_ms(const struct mqtt *m)
{
	(void)m;
	return 30000;
}

bool mqtt_keepalive_moved(struct mqtt *m)
{
	(void)m;
	return false;
}

static long find_filter(const struct mqtt *m, const char *filter)
{
	for (size_t i = 0; i < m->n_filters; i++)
		if (strcmp(m->filters[i], filter) == 0)
			return (long)i;
	return -1;
}

int mqtt_subscribe(struct mqtt *m, char *const *topics, size_t count, int qos)
{
	(void)qos;
	for (size_t i = 0; i < count; i++)
		if (find_filter(m, topics[i]) < 0 && m->n_filters < MAX_FILTERS)
			m->filters[m->n_filters++] = strdup(topics[i]);
	return 0;
}

int mqtt_unsubscribe(struct mqtt *m, char *const *topics, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		long k = find_filter(m, topics[i]);

		if (k >= 0)
			forget_filter(m, (size_t)k);
	}
	return 0;
}

int mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, int qos,
		 bool retain)
{
	struct fake_publication *more = realloc(m->pubs, (m->n_pubs + 1) * sizeof(*more));
	char *copy = malloc(len + 1);

	if (!more || !copy) {
		free(copy);
		return -1;
	}
	memcpy(copy, payload, len);
	copy[len] = '\0';
	m->pubs = more;
	m->pubs[m->n_pubs++] = (struct fake_publication){ strdup(topic), copy, qos, retain };
	return 0;
}

size_t mqtt_payload_room(const struct mqtt *m, const char *topic)
{
	(void)m, (void)topic;
	return (size_t)-1;
}

void mqtt_disconnect(struct mqtt *m, int timeout_ms)
{
	(void)timeout_ms;
	m->connected = false;
}

void mqtt_fake_accept(struct mqtt *m)
{
	m->connected = true;
	m->handlers->connected(m->ctx);
}

void mqtt_fake_suback(struct mqtt *m)
{
	m->handlers->subscribed(m->ctx);
}

void mqtt_fake_refuse(struct mqtt *m, const char *filter)
{
	long k = find_filter(m, filter);

	if (k >= 0)
		forget_filter(m, (size_t)k);
	m->handlers->subscription_refused(m->ctx, filter);
}

void mqtt_fake_drop(struct mqtt *m)
{
	m->connected = false;
	while (m->n_filters)
		forget_filter(m, 0);
	m->handlers->disconnected(m->ctx, false);
}

void mqtt_fake_deliver(struct mqtt *m, const char *topic, const char *payload, bool retained)
{
	m->handlers->message(m->ctx, topic, payload, strlen(payload), retained);
}

size_t mqtt_fake_published(const struct mqtt *m)
{
	return m->n_pubs;
}

const struct fake_publication *mqtt_fake_publication(const struct mqtt *m, size_t i)
{
	return i < m->n_pubs ? &m->pubs[i] : NULL;
}

const struct fake_publication *mqtt_fake_last_on(const struct mqtt *m, const char *topic)
{
	for (size_t i = m->n_pubs; i-- > 0;)
		if (strcmp(m->pubs[i].topic, topic) == 0)
			return &m->pubs[i];
	return NULL;
}

size_t mqtt_fake_count_on(const struct mqtt *m, const char *topic)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_pubs; i++)
		n += strcmp(m->pubs[i].topic, topic) == 0;
	return n;
}

bool mqtt_fake_subscribed(const struct mqtt *m, const char *filter)
{
	return find_filter(m, filter) >= 0;
}

unsigned int mqtt_fake_connects(const struct mqtt *m)
{
	return m->connects;
}

const char *mqtt_fake_will_topic(const struct mqtt *m)
{
	return m->will_topic;
}
