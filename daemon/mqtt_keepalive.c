/* SPDX-License-Identifier: MIT */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "mqtt_internal.h"

/* --- keep-alive ---
 *
 * libmosquitto pings once its keep-alive (ping_s, half of the configured
 * keepalive) passes without a packet sent or received, and only when
 * mosquitto_loop_misc() is called; the timer calls it then and no more often,
 * so an idle daemon wakes once per ping. The kernel knows when the socket
 * last sent data (TCP_INFO), which covers the acknowledgements libmosquitto
 * writes on its own. A broker that has sent nothing for the whole keepalive
 * (its answer to our ping included) is given up. */

/* libmosquitto counts whole seconds of its own clock: ask a little late. */
#define KEEPALIVE_SLACK_MS 10

static long long max_ll(long long a, long long b)
{
	return a > b ? a : b;
}

/* When the socket last sent data, or -1 when the kernel cannot tell. */
static long long last_sent_ms(const struct mqtt *m, long long now)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	if (getsockopt(mosquitto_socket(m->mosq), IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
		return -1;
	/* Never before this connection began: a fresh socket reports its
	 * age since boot. */
	return max_ll(now - info.tcpi_last_data_sent, m->ping_ms);
}

/* When libmosquitto will want to ping, by its own rule. */
static long long ping_due_ms(const struct mqtt *m, long long now)
{
	long long sent = last_sent_ms(m, now);
	long long heard = max_ll(m->last_in_ms, m->ping_ms);
	long long interval = (long long)m->ping_s * 1000;

	if (sent < 0) /* not TCP: look in a quarter of the interval */
		return now + interval / 4;
	return (sent < heard ? sent : heard) + interval;
}

/* Our ping is unanswered: the broker gets one ping interval to answer, and
 * the whole keepalive to have sent anything at all. */
static bool ping_outstanding(const struct mqtt *m)
{
	return m->ping_ms > m->last_in_ms;
}

static long long give_up_due_ms(const struct mqtt *m)
{
	long long interval = (long long)m->ping_s * 1000;

	return max_ll(m->last_in_ms + 2 * interval, m->ping_ms + interval);
}

/* Shutting the socket down makes libmosquitto read EOF and go the usual way
 * through on_disconnect. */
static void give_up_on_silence(struct mqtt *m, long long now)
{
	if (!ping_outstanding(m) || now < give_up_due_ms(m))
		return;
	mqtt__report_no_answer(m);
	m->silenced = true;
	shutdown(mosquitto_socket(m->mosq), SHUT_RDWR);
}

void mqtt_handle_keepalive(struct mqtt *m)
{
	long long now = clock_now_ms();
	bool ping_due;

	if (mosquitto_socket(m->mosq) < 0)
		return;
	ping_due = ping_due_ms(m, now) <= now;
	mosquitto_loop_misc(m->mosq);
	if (mosquitto_socket(m->mosq) < 0)
		return;
	if (ping_due)
		m->ping_ms = now;
	give_up_on_silence(m, now);
}

bool mqtt_keepalive_moved(struct mqtt *m)
{
	bool moved = m->keepalive_moved;

	m->keepalive_moved = false;
	return moved;
}

unsigned int mqtt_keepalive_due_ms(const struct mqtt *m)
{
	long long now = clock_now_ms();
	long long due = ping_due_ms(m, now);

	if (ping_outstanding(m) && give_up_due_ms(m) < due)
		due = give_up_due_ms(m);
	due += KEEPALIVE_SLACK_MS;
	return due > now ? (unsigned int)(due - now) : 1U;
}
