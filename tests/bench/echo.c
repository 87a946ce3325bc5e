/* SPDX-License-Identifier: MIT */
/* echo: the limit for a bridge. Republishes every command it receives on
 * "<topic>/set" to "<topic>" (QoS 1, retained, like a bridge's state) and
 * touches no GPIO. One poll() loop that sleeps until the socket is readable
 * or keep-alive is due, so that its idle cost is the least a client can have.
 *
 * Usage: echo PORT SUBSCRIPTION STATUS_TOPIC [QOS [CLIENT_ID [STATE_TOPIC]]]
 * Publishes "online" on STATUS_TOPIC once subscribed (the "ready" signal).
 * QOS (default 1) is that of its subscription and of what it publishes: at 0
 * the broker sends it no acknowledgement, which a broker that delays small
 * writes (Nagle) would make it wait for (see run-bench.sh). CLIENT_ID
 * defaults to "bench-echo"; with STATE_TOPIC, every message on the
 * subscription is republished there instead (one of a fleet answering a
 * group command, each on a state topic of its own). */
#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEPALIVE_S 30

struct echo {
	const char *subscription;
	const char *status_topic;
	const char *state_topic;
	int qos;
	int failed;
};

static void on_connect(struct mosquitto *mosq, void *ctx, int rc)
{
	struct echo *e = ctx;

	if (rc != 0 || mosquitto_subscribe(mosq, NULL, e->subscription, e->qos) != MOSQ_ERR_SUCCESS)
		e->failed = 1;
}

static void on_subscribe(struct mosquitto *mosq, void *ctx, int mid, int n, const int *granted)
{
	struct echo *e = ctx;

	(void)mid;
	if (n != 1 || granted[0] > e->qos ||
	    mosquitto_publish(mosq, NULL, e->status_topic, 6, "online", e->qos, true))
		e->failed = 1;
}

static void on_message(struct mosquitto *mosq, void *ctx, const struct mosquitto_message *m)
{
	struct echo *e = ctx;
	size_t len = strlen(m->topic);
	char topic[256];

	if (m->retain)
		return;
	if (e->state_topic) {
		mosquitto_publish(mosq, NULL, e->state_topic, m->payloadlen, m->payload, e->qos, true);
		return;
	}
	if (len < 5 || len >= sizeof(topic) || strcmp(m->topic + len - 4, "/set"))
		return;
	memcpy(topic, m->topic, len - 4);
	topic[len - 4] = '\0';
	mosquitto_publish(mosq, NULL, topic, m->payloadlen, m->payload, e->qos, true);
}

/* Waits for the socket, then lets libmosquitto read, write and ping. */
static int run(struct mosquitto *mosq, struct echo *e)
{
	while (!e->failed) {
		struct pollfd p = { .fd = mosquitto_socket(mosq), .events = POLLIN };
		int rc;

		if (p.fd < 0)
			return -1;
		if (mosquitto_want_write(mosq))
			p.events |= POLLOUT;
		if (poll(&p, 1, KEEPALIVE_S * 1000) < 0 && errno != EINTR)
			return -1;
		rc = MOSQ_ERR_SUCCESS;
		if (p.revents & (POLLIN | POLLHUP | POLLERR))
			rc = mosquitto_loop_read(mosq, 1);
		if (rc == MOSQ_ERR_SUCCESS && (p.revents & POLLOUT))
			rc = mosquitto_loop_write(mosq, 1);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_loop_misc(mosq);
		if (rc != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "echo: %s\n", mosquitto_strerror(rc));
			return -1;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct echo e = { 0 };
	struct mosquitto *mosq;
	int rc;

	e.qos = argc >= 5 ? atoi(argv[4]) : 1;
	if (argc < 4 || argc > 7 || e.qos < 0 || e.qos > 2) {
		fprintf(stderr,
			"usage: echo PORT SUBSCRIPTION STATUS_TOPIC [QOS [CLIENT_ID [STATE_TOPIC]]]\n");
		return 2;
	}
	e.subscription = argv[2];
	e.status_topic = argv[3];
	e.state_topic = argc == 7 ? argv[6] : NULL;
	mosquitto_lib_init();
	mosq = mosquitto_new(argc >= 6 ? argv[5] : "bench-echo", true, &e);
	if (!mosq)
		return 1;
	mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_subscribe_callback_set(mosq, on_subscribe);
	mosquitto_message_callback_set(mosq, on_message);
	rc = mosquitto_connect(mosq, "127.0.0.1", atoi(argv[1]), KEEPALIVE_S);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "echo: connect: %s\n", mosquitto_strerror(rc));
		return 1;
	}
	run(mosq, &e);
	fprintf(stderr, "echo: stopped\n");
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	return 1;
}
