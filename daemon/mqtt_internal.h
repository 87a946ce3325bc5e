/* SPDX-License-Identifier: MIT */
/* mqtt_internal: what the files of the mqtt module share: the client's
 * state and the functions one file calls in another. mqtt.c sets up,
 * connects and moves data; mqtt_ends.c says and weighs why an attempt or a
 * connection ended (fall-back, limits, hints); mqtt_keepalive.c pings and
 * gives up on a silent broker. Not for other modules: only these include
 * <mosquitto.h>. */
#ifndef GPIO2MQTT_MQTT_INTERNAL_H
#define GPIO2MQTT_MQTT_INTERNAL_H

#include <mosquitto.h>
#include <stdbool.h>

#include "broker.h"
#include "clock.h"
#include "config.h"
#include "mqtt.h"

/* QoS 1/2 publications whose acknowledgement is awaited, remembered by
 * message id so that a refusal (MQTT 5 reason code) can name the topic. */
#define PENDING_SLOTS 16

struct pending {
	int mid;
	char topic[128];
};

struct mqtt {
	struct mosquitto *mosq;
	struct cfg_mqtt cfg; /* a copy: the client is set up again from it */
	size_t node;    /* the one in use of cfg.nodes, tried in turn */
	const char *host; /* the node in use's */
	int port;
	char *will_topic;
	char *will_payload;
	int will_qos;    /* lowered for a broker that refuses the will as it is */
	bool will_retain;
	struct broker broker; /* its version, limits and habits */
	int ping_s; /* the MQTT keep-alive: half the configured keepalive, or what
		     * the broker imposes; a broker silent for twice it is given up */
	bool ever_connected; /* mosquitto_connect_async once, then reconnect_async */
	bool attempted; /* mqtt_connect() was called before */
	bool connected;
	bool tls;
	bool socket_open; /* from mqtt_connect until on_disconnect */
	bool transport_up; /* this attempt's TCP connection (and TLS session) is up */
	bool attempt_told; /* this attempt's end is already reported and weighed */
	bool retry_at_once; /* the next attempt changes something: no back-off */
	bool closing; /* mqtt_disconnect(): the end is ours */
	bool fallback_told; /* the first fall-back to 3.1.1 is a warning, later ones not */
	bool hint_told; /* the shared client id hint, once per streak */
	bool silenced; /* given up on: the broker stopped answering */
	bool rebuild; /* set the libmosquitto client up anew before connecting */
	bool host_mismatch; /* libmosquitto's host name check failed */
	long verify_result; /* OpenSSL's verification of the broker's certificate */
	char lib_error[160]; /* libmosquitto's first error of this attempt */
	struct pending pending[PENDING_SLOTS];
	char last_failure[256]; /* logged once until the cause changes */
	long long last_in_ms; /* when the broker last sent anything */
	long long ping_ms; /* when libmosquitto last sent PINGREQ, as far as we know */
	long outstanding; /* publications not yet written (QoS 0) or acknowledged */
	long burst; /* publications since nothing was last outstanding */
	bool settling; /* connected, the first exchange not yet acknowledged */
	bool keepalive_moved; /* for mqtt_keepalive_moved() */
	char *const *subscribed;
	size_t n_subscribed;
	int subscribe_mid; /* of the SUBSCRIBE that sent them */
	const struct mqtt_handlers *handlers;
	void *ctx;
};

/* A failure is logged as a warning the first time, then only in debug
 * output while the cause stays the same. */
void mqtt__report_failure(struct mqtt *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void mqtt__report_no_answer(struct mqtt *m);
void mqtt__report_tls_failure(struct mqtt *m);
const char *mqtt__error_text(int rc);
const char *mqtt__version_name(bool v5);

/* The broker's CONNACK refused the connection with rc. */
void mqtt__connect_refused(struct mqtt *m, int rc, const mosquitto_property *props);
/* An attempt ended before a CONNACK, with libmosquitto's rc. */
void mqtt__attempt_failed(struct mqtt *m, int rc);
/* An accepted connection ended, not by our choice. */
void mqtt__connection_lost(struct mqtt *m, int rc);

#endif
