/* SPDX-License-Identifier: MIT */
/* broker: what the daemon has learned of the broker it talks to — the MQTT
 * version it speaks, the limits its CONNACK set, how its connections end —
 * and what follows from that. Pure: no I/O, no clock (the caller passes
 * times in), no libmosquitto types, so the rules are unit-tested alone. */
#ifndef GPIO2MQTT_BROKER_H
#define GPIO2MQTT_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* How an attempt to connect ended before the broker accepted it. */
enum broker_end {
	BROKER_UNREACHABLE, /* no TCP connection, or no TLS session: down or TLS failed */
	BROKER_HANGUP,      /* it took the CONNECT and closed the connection unanswered */
	BROKER_UNSUPPORTED, /* its CONNACK turned the protocol version down */
	BROKER_SILENT,      /* no CONNACK in time */
	BROKER_REFUSED,     /* its CONNACK refused for another reason */
};

/* What a CONNACK allows; MQTT 3.1.1 brokers say nothing, so all of it. */
struct broker_limits {
	int max_qos;          /* 0 to 2 */
	bool retain;          /* keeps retained messages */
	uint32_t max_packet;  /* bytes, 0 for no limit */
};

enum broker_switch { BROKER_KEEP, BROKER_TO_V311, BROKER_TO_V5 };

/* How an accepted connection ended, as far as the hints care. */
enum broker_loss {
	BROKER_CLOSED,     /* the broker closed it, saying nothing */
	BROKER_TAKEN_OVER, /* the broker said another client took the session */
	BROKER_BROKEN,     /* anything else: a protocol error, silence, ... */
};

struct broker {
	enum cfg_protocol configured;
	bool v5;            /* the version for the next attempt */
	bool v311_guessed;  /* fell back on a hang-up; no 3.1.1 CONNACK yet */
	struct broker_limits limits;
	int learned_max_qos; /* lowered when a 3.1.1 broker fails at a QoS */
	long long accepted_ms; /* of the current connection; -1 while none */
	unsigned int short_lived; /* connections in a row lost within a second */
};

/* Connections lost sooner than this after the broker accepted them count
 * as taken over (another client with the same client id, most likely). */
#define BROKER_SHORT_LIVED_MS 1000

void broker_init(struct broker *b, enum cfg_protocol protocol);
extern const struct broker_limits broker_no_limits;

/* An attempt ended before a CONNACK accepted it. Says whether the next
 * attempt speaks another version; it should then be made at once. */
enum broker_switch broker_failed(struct broker *b, enum broker_end end);
/* The broker accepted the connection with these limits at now_ms. */
void broker_accepted(struct broker *b, const struct broker_limits *l, long long now_ms);
/* An accepted connection was lost, not by our choice. True when the hint
 * about a shared client id applies: the broker said another client took
 * over, or keeps closing connections within a second of accepting them. */
bool broker_lost(struct broker *b, long long now_ms, enum broker_loss how);
/* A broker broke the connection off at a publication of qos, which it
 * cannot take: MQTT 3.1.1 has no way to say so (RabbitMQ 3.10 answers QoS 2
 * with a PUBACK). True when publications go at a lower QoS from now on. */
bool broker_failed_at_qos(struct broker *b, int qos);

/* What a publication may ask for under the broker's limits. */
int broker_qos(const struct broker *b, int wanted);
bool broker_retain(const struct broker *b, bool wanted);
/* The largest payload a PUBLISH on a topic of topic_len bytes at qos may
 * carry within the broker's maximum packet size; SIZE_MAX without one,
 * 0 when not even an empty one fits. */
size_t broker_payload_room(const struct broker *b, size_t topic_len, int qos);

#endif
