/* SPDX-License-Identifier: MIT */
#include "broker.h"

const struct broker_limits broker_no_limits = { .max_qos = 2, .retain = true, .max_packet = 0 };

void broker_init(struct broker *b, enum cfg_protocol protocol)
{
	*b = (struct broker){
		.configured = protocol,
		.v5 = protocol != PROTOCOL_V311,
		.limits = broker_no_limits,
		.learned_max_qos = 2,
		.accepted_ms = -1,
	};
}

/* A broker down, silent or refusing us for other reasons tells nothing of
 * the versions it speaks. One that hangs up on MQTT 5 may know only 3.1.1
 * (RabbitMQ 3.10 does that); if it hangs up on 3.1.1 too, the hang-up was
 * not about the version, and MQTT 5 is tried again. */
enum broker_switch broker_failed(struct broker *b, enum broker_end end)
{
	if (b->configured != PROTOCOL_AUTO)
		return BROKER_KEEP;
	if (b->v5 && (end == BROKER_UNSUPPORTED || end == BROKER_HANGUP)) {
		b->v5 = false;
		b->v311_guessed = end == BROKER_HANGUP;
		return BROKER_TO_V311;
	}
	if (!b->v5 && b->v311_guessed && end == BROKER_HANGUP) {
		b->v5 = true;
		b->v311_guessed = false;
		return BROKER_TO_V5;
	}
	return BROKER_KEEP;
}

void broker_accepted(struct broker *b, const struct broker_limits *l, long long now_ms)
{
	b->v311_guessed = false;
	b->limits = *l;
	b->accepted_ms = now_ms;
}

bool broker_lost(struct broker *b, long long now_ms, enum broker_loss how)
{
	bool short_lived = b->accepted_ms >= 0 && now_ms - b->accepted_ms < BROKER_SHORT_LIVED_MS;

	b->short_lived = short_lived && how == BROKER_CLOSED ? b->short_lived + 1 : 0;
	b->accepted_ms = -1;
	return how == BROKER_TAKEN_OVER || b->short_lived >= 2;
}

bool broker_failed_at_qos(struct broker *b, int qos)
{
	if (b->v5 || qos < 2 || broker_qos(b, qos) < qos)
		return false; /* MQTT 5 states its maximum QoS; 0 and 1 are for all */
	b->learned_max_qos = qos - 1;
	return true;
}

int broker_qos(const struct broker *b, int wanted)
{
	int max = b->limits.max_qos < b->learned_max_qos ? b->limits.max_qos : b->learned_max_qos;

	return wanted > max ? max : wanted;
}

bool broker_retain(const struct broker *b, bool wanted)
{
	return wanted && b->limits.retain;
}

/* MQTT's variable-length remaining length: 7 bits a byte. */
static size_t varint_bytes(size_t n)
{
	return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

size_t broker_payload_room(const struct broker *b, size_t topic_len, int qos)
{
	/* topic length, topic, packet id, property length (no properties) */
	size_t header = 2 + topic_len + (qos > 0 ? 2 : 0) + (b->v5 ? 1 : 0);
	size_t max = b->limits.max_packet;
	size_t room;

	if (!max)
		return SIZE_MAX;
	/* The fixed header's first byte and the remaining length's bytes count. */
	if (max < 1 + 1 + header)
		return 0;
	room = max - 1 - header;
	while (room > 0 && 1 + varint_bytes(header + room) + header + room > max)
		room--;
	return room;
}
