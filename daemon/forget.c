/* SPDX-License-Identifier: MIT */
#include "forget.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "clock.h"
#include "config.h"
#include "exit_status.h"
#include "ha_discovery.h"
#include "ha_memory.h"
#include "log.h"
#include "mqtt.h"

#define CONNECT_TIMEOUT_MS 10000
#define FLUSH_TIMEOUT_MS 5000

struct session {
	bool connected, failed, retry;
};

static void on_connected(void *ctx)
{
	((struct session *)ctx)->connected = true;
}

static void on_disconnected(void *ctx, bool retry_at_once)
{
	struct session *s = ctx;

	s->retry = retry_at_once; /* another protocol version: try once more */
	s->failed = !retry_at_once;
}

static void on_message(void *ctx, const char *topic, const void *payload, size_t len,
		       bool retained)
{
	(void)ctx, (void)topic, (void)payload, (void)len, (void)retained;
}

static void on_refused(void *ctx, const char *filter)
{
	(void)ctx, (void)filter;
}

static void on_subscribed(void *ctx)
{
	(void)ctx;
}

/* Drives the client until the broker accepted it; false on failure or
 * timeout (logged). */
static bool wait_connected(struct mqtt *m, struct session *s)
{
	long long deadline = clock_now_ms() + CONNECT_TIMEOUT_MS;

	if (mqtt_connect(m) < 0)
		return false;
	while (!s->connected && !s->failed && clock_now_ms() < deadline) {
		struct pollfd p = { .fd = mqtt_fd(m), .events = POLLIN };

		if (s->retry) {
			s->retry = false;
			if (mqtt_connect(m) < 0)
				return false;
			continue;
		}
		if (p.fd < 0)
			return false;
		if (mqtt_wants_write(m))
			p.events |= POLLOUT;
		if (poll(&p, 1, 100) > 0)
			mqtt_handle_io(m, p.revents & (POLLIN | POLLHUP | POLLERR),
				       p.revents & POLLOUT);
	}
	if (!s->connected)
		log_error("--forget: the broker did not accept the connection");
	return s->connected;
}

/* Until everything is written and the broker has answered (its PUBACKs
 * read), bounded: a DISCONNECT right behind the publications may cut them. */
static void drain(struct mqtt *m)
{
	long long deadline = clock_now_ms() + FLUSH_TIMEOUT_MS;
	int quiet = 0;

	while (quiet < 3 && mqtt_fd(m) >= 0 && clock_now_ms() < deadline) {
		struct pollfd p = { .fd = mqtt_fd(m), .events = POLLIN };

		if (mqtt_wants_write(m))
			p.events |= POLLOUT;
		if (poll(&p, 1, 100) > 0) {
			mqtt_handle_io(m, p.revents & (POLLIN | POLLHUP | POLLERR),
				       p.revents & POLLOUT);
			quiet = 0;
		} else if (!mqtt_wants_write(m)) {
			quiet++;
		}
	}
}

static int forget_with(struct config *cfg)
{
	const struct mqtt_handlers handlers = { on_connected, on_disconnected, on_message,
						on_refused, on_subscribed };
	/* Lost midway, the will clears the status topic all the same. */
	struct mqtt_will will = { .topic = cfg->status_topic, .payload = "" };
	struct session s = { 0 };
	struct ha_messages msgs;
	struct board board;
	struct mqtt *m;
	int status = EXIT_RUNTIME;

	board_read(&board);
	if (ha_forget(cfg, &board, &msgs) < 0) {
		log_error("--forget: out of memory");
		return EXIT_RUNTIME;
	}
	m = mqtt_new(&cfg->mqtt, &will, &handlers, &s);
	if (m && wait_connected(m, &s)) {
		for (size_t i = 0; i < msgs.n; i++)
			mqtt_publish(m, msgs.items[i].topic, "", 0, cfg->mqtt.qos, true);
		drain(m);
		mqtt_disconnect(m, FLUSH_TIMEOUT_MS);
		log_info("--forget: %zu retained topics cleared on the broker", msgs.n);
		/* Nothing announced is left for a start to take back. */
		status = ha_memory_forget(cfg->state_file) < 0 ? EXIT_RUNTIME : EXIT_OK;
	}
	mqtt_free(m);
	ha_messages_free(&msgs);
	return status;
}

int forget_run(const char *path)
{
	struct config cfg;
	char *id;
	int status;

	if (config_load(&cfg, path, stderr) < 0)
		return EXIT_CONFIG;
	id = malloc(strlen(cfg.mqtt.client_id) + sizeof("-forget"));
	if (!id) {
		config_free(&cfg);
		return EXIT_RUNTIME;
	}
	strcpy(id, cfg.mqtt.client_id);
	strcat(id, "-forget");
	free(cfg.mqtt.client_id);
	cfg.mqtt.client_id = id;
	status = forget_with(&cfg);
	config_free(&cfg);
	return status;
}
