/* SPDX-License-Identifier: MIT */
/* mqtt: the broker connection, the only module that includes <mosquitto.h>
 * (mqtt.c, mqtt_ends.c, mqtt_keepalive.c; see mqtt_internal.h).
 *
 * Non-threaded libmosquitto driven by the caller's event loop: the caller
 * polls mqtt_fd() (for writing only while mqtt_wants_write()), calls
 * mqtt_handle_io() when it is ready and mqtt_handle_keepalive() once
 * mqtt_keepalive_due_ms() have passed (asked anew after mqtt_connect() and
 * after each mqtt_handle_keepalive(); being called earlier does no harm).
 * Reconnecting is the caller's decision: after the disconnected handler it
 * calls mqtt_connect() again when its back-off timer says so.
 *
 * Ownership: mqtt_new() copies what it keeps from cfg except the topics given
 * to mqtt_subscribe(), which must stay valid until the next call of it. */
#ifndef GPIO2MQTT_MQTT_H
#define GPIO2MQTT_MQTT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct mqtt;

struct mqtt_handlers {
	/* The broker accepted the connection: subscribe and publish states. */
	void (*connected)(void *ctx);
	/* Lost, refused or failed: the cause is already logged. retry_at_once:
	 * the next attempt changes what failed (the protocol version, the
	 * will), so it needs no back-off. */
	void (*disconnected)(void *ctx, bool retry_at_once);
	/* An incoming message; payload is not NUL-terminated. */
	void (*message)(void *ctx, const char *topic, const void *payload, size_t len,
			bool retained);
	/* The broker refused the subscription to filter (its SUBACK said so). */
	void (*subscription_refused)(void *ctx, const char *filter);
	/* The broker answered the latest subscription, after any refusals. */
	void (*subscribed)(void *ctx);
};

/* Once per process, before any other call, and its counterpart at exit. */
void mqtt_global_init(void);
void mqtt_global_cleanup(void);
const char *mqtt_version(void);

/* The message the broker publishes (retained) when the connection is lost. */
struct mqtt_will {
	const char *topic;
	const char *payload;
};

/* A client for cfg with that last will (copied). NULL on error (logged). */
struct mqtt *mqtt_new(const struct cfg_mqtt *cfg, const struct mqtt_will *will,
		      const struct mqtt_handlers *handlers, void *ctx);
void mqtt_free(struct mqtt *m);

/* Opens the connection and sends CONNECT; the connected handler runs when
 * the broker accepts. 0, or -1 when it failed at once (cause logged). */
int mqtt_connect(struct mqtt *m);
bool mqtt_is_connected(const struct mqtt *m);

int mqtt_fd(const struct mqtt *m); /* -1 while there is no socket */
bool mqtt_wants_write(const struct mqtt *m);
void mqtt_handle_io(struct mqtt *m, bool readable, bool writable);
void mqtt_handle_keepalive(struct mqtt *m);
/* Milliseconds until mqtt_handle_keepalive() has something to do. */
unsigned int mqtt_keepalive_due_ms(const struct mqtt *m);
/* Whether mqtt_keepalive_due_ms() moved since it was last asked, far enough
 * to be asked again (once per connection, when its first exchange is done). */
bool mqtt_keepalive_moved(struct mqtt *m);

/* Subscribes to every topic in one request; refusals by the broker are
 * logged per topic. 0 or -1 (logged). */
int mqtt_subscribe(struct mqtt *m, char *const *topics, size_t count, int qos);
/* Unsubscribes from the topics (a reload dropped them). 0 or -1 (logged). */
int mqtt_unsubscribe(struct mqtt *m, char *const *topics, size_t count);
/* Publishes at most at the QoS the broker allows, unretained where it keeps
 * no retained messages; -1 (logged) for a payload larger than its maximum
 * packet size lets through. */
int mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len,
		 int qos, bool retain);
/* The largest payload that fits a publication on topic at the configured
 * QoS; SIZE_MAX while the broker has set no limit. */
size_t mqtt_payload_room(const struct mqtt *m, const char *topic);

/* Sends what is queued and a DISCONNECT, waiting at most timeout_ms. */
void mqtt_disconnect(struct mqtt *m, int timeout_ms);

#endif
