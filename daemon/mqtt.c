/* SPDX-License-Identifier: MIT */
#include "mqtt_internal.h"

#include <errno.h>
#include <malloc.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

void mqtt_global_init(void)
{
	mosquitto_lib_init();
}

void mqtt_global_cleanup(void)
{
	mosquitto_lib_cleanup();
}

const char *mqtt_version(void)
{
	static char text[32];
	int major, minor, revision;

	mosquitto_lib_version(&major, &minor, &revision);
	snprintf(text, sizeof(text), "%d.%d.%d", major, minor, revision);
	return text;
}









/* --- libmosquitto callbacks --- */

/* An MQTT 5 broker may impose a shorter keep-alive; libmosquitto follows it,
 * and so must the timer that tells it when to ping. */
static void adopt_server_keepalive(struct mqtt *m, const mosquitto_property *props)
{
	uint16_t server_s;

	if (!mosquitto_property_read_int16(props, MQTT_PROP_SERVER_KEEP_ALIVE, &server_s, false))
		return;
	if (server_s == 0 || server_s == m->ping_s)
		return;
	log_info("broker %s:%d sets the keep-alive to %u s", m->host, m->port, server_s);
	m->ping_s = server_s;
}



/* What the CONNACK allows; an MQTT 3.1.1 one says nothing. */
static struct broker_limits read_limits(const mosquitto_property *props)
{
	struct broker_limits l = broker_no_limits;
	uint8_t byte;

	if (mosquitto_property_read_byte(props, MQTT_PROP_MAXIMUM_QOS, &byte, false))
		l.max_qos = byte;
	if (mosquitto_property_read_byte(props, MQTT_PROP_RETAIN_AVAILABLE, &byte, false))
		l.retain = byte != 0;
	mosquitto_property_read_int32(props, MQTT_PROP_MAXIMUM_PACKET_SIZE, &l.max_packet, false);
	return l;
}

/* Said when the limits change, not on every reconnect. */
static void adopt_limits(struct mqtt *m, const mosquitto_property *props)
{
	struct broker_limits old = m->broker.limits, l = read_limits(props);

	broker_accepted(&m->broker, &l, clock_now_ms());
	if (l.max_qos < m->cfg.qos && l.max_qos != old.max_qos)
		log_warning("broker %s:%d allows at most QoS %d: publishing at QoS %d instead of %d",
			    m->host, m->port, l.max_qos, l.max_qos, m->cfg.qos);
	if (!l.retain && old.retain)
		log_warning("broker %s:%d keeps no retained messages: publishing unretained, so a "
			    "new subscriber sees a state only when it changes",
			    m->host, m->port);
	if (l.max_packet && l.max_packet != old.max_packet)
		log_info("broker %s:%d takes packets of at most %u bytes", m->host, m->port,
			 (unsigned int)l.max_packet);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
		       const mosquitto_property *props)
{
	struct mqtt *m = obj;

	(void)flags;
	if (rc != 0) {
		/* libmosquitto closes the socket and calls on_disconnect next. */
		mqtt__connect_refused(m, rc, props);
		return;
	}
	log_info("connected to %s:%d (%s)", m->host, m->port, mqtt__version_name(m->broker.v5));
	adopt_server_keepalive(m, props);
	adopt_limits(m, props);
	/* Its messages explain failures to connect. Once connected, a failure
	 * reaches on_disconnect with its cause, and formatting four lines per
	 * command only to drop them would cost more than the command itself. */
	if (!log_trace_enabled())
		mosquitto_log_callback_set(mosq, NULL);
	m->last_failure[0] = '\0';
	m->connected = true;
	m->outstanding = 0; /* what was queued before is resent or gone */
	m->settling = true;
	m->handlers->connected(m->ctx);
}






static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct mqtt *m = obj;
	bool was_connected = m->connected;

	(void)mosq;
	/* libmosquitto may report one end twice (a DISCONNECT, then the closed
	 * socket): the first tells. */
	if (!m->socket_open)
		return;
	m->connected = false;
	m->socket_open = false;
	if (m->closing)
		return;
	if (m->silenced)
		rc = MOSQ_ERR_KEEPALIVE;
	if (was_connected)
		mqtt__connection_lost(m, rc);
	else
		mqtt__attempt_failed(m, rc);
	m->handlers->disconnected(m->ctx, m->retry_at_once);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct mqtt *m = obj;

	(void)mosq;
	m->handlers->message(m->ctx, msg->topic, msg->payload,
			     msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0, msg->retain);
}

static struct pending *pending_slot(struct mqtt *m, int mid)
{
	return &m->pending[(unsigned int)mid % PENDING_SLOTS];
}

/* A burst of states that the broker took in slowly sat in libmosquitto's
 * queue; once it is gone, give the heap it grew back to the system, or the
 * resident size would stay at the burst's high-water mark for good. */
#define TRIM_AFTER_BURST 256

static void note_published(struct mqtt *m)
{
	m->outstanding++;
	m->burst++;
}

static void note_delivered(struct mqtt *m)
{
	if (m->outstanding > 0)
		m->outstanding--;
	if (m->outstanding > 0)
		return;
	if (m->burst >= TRIM_AFTER_BURST)
		malloc_trim(0);
	m->burst = 0;
	/* The subscription and the states that follow a connection move the
	 * next ping well past what the timer was set for at CONNACK. */
	if (m->settling) {
		m->settling = false;
		m->keepalive_moved = true;
	}
}

/* A QoS 0 publication of ours was written, a QoS 1/2 one acknowledged. Only
 * MQTT 5 carries a reason code; mosquitto answers 0x87 "Not authorized" to a
 * publication its access rules deny. */
static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason_code,
		       const mosquitto_property *props)
{
	struct mqtt *m = obj;
	struct pending *p = pending_slot(m, mid);

	(void)mosq;
	(void)props;
	note_delivered(m);
	if (reason_code >= 0x80)
		log_error("the broker refused the publication on \"%s\": %s (not allowed by its "
			  "access rules?)",
			  p->mid == mid ? p->topic : "?", mosquitto_reason_string(reason_code));
	if (p->mid == mid)
		p->mid = 0;
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted)
{
	struct mqtt *m = obj;
	bool latest = mid == m->subscribe_mid;

	(void)mosq;
	/* Another mid: filters since replaced, maybe by the handler itself. */
	for (int i = 0; i < count && (size_t)i < m->n_subscribed && mid == m->subscribe_mid; i++)
		if (granted[i] >= 0x80)
			m->handlers->subscription_refused(m->ctx, m->subscribed[i]);
	if (latest)
		m->handlers->subscribed(m->ctx);
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *text)
{
	struct mqtt *m = obj;

	if (!(level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))) {
		if ((level & MOSQ_LOG_DEBUG) && log_trace_enabled())
			log_debug("libmosquitto: %s", text);
		return;
	}
	if (m->connected) {
		log_warning("libmosquitto: %s", text);
		return;
	}
	/* While connecting, the failure report tells the cause once. */
	if (log_trace_enabled())
		log_debug("libmosquitto: %s", text);
	if (strstr(text, "host name verification failed"))
		m->host_mismatch = true;
	/* The connection still exists here; libmosquitto may free it later. */
	if (mosquitto_ssl_get(mosq) && m->verify_result == X509_V_OK)
		m->verify_result = SSL_get_verify_result(mosquitto_ssl_get(mosq));
	if (!m->lib_error[0])
		snprintf(m->lib_error, sizeof(m->lib_error), "%s", text);
}

/* --- setting up --- */

static bool is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0;
}

/* Without ca_file or ca_path the system's CAs verify the broker: OpenSSL's
 * default store (which SSL_CERT_FILE and SSL_CERT_DIR move). libmosquitto
 * 2.0 wants a file or a directory even then, so it gets the default one. */
static const char *system_ca_path(void)
{
	const char *dir = getenv(X509_get_default_cert_dir_env());

	return dir && *dir ? dir : X509_get_default_cert_dir();
}

static int setup_tls(struct mosquitto *mosq, const struct cfg_tls *t)
{
	const char *ca_path = t->ca_path;
	int rc = MOSQ_ERR_SUCCESS;

	if (!t->ca_file && !t->ca_path) {
		rc = mosquitto_int_option(mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
		ca_path = system_ca_path();
	}
	if (!rc)
		rc = mosquitto_tls_set(mosq, t->ca_file, ca_path, t->cert_file, t->key_file,
				       NULL);
	if (!rc && t->insecure) {
		rc = mosquitto_tls_opts_set(mosq, 0 /* SSL_VERIFY_NONE */, NULL, NULL);
		if (!rc)
			rc = mosquitto_tls_insecure_set(mosq, true);
	}
	return rc;
}

/* A fresh libmosquitto client for m->cfg: callbacks, options, will, TLS. */
static int setup_client(struct mqtt *m)
{
	const struct cfg_mqtt *cfg = &m->cfg;
	struct mosquitto *mosq = mosquitto_new(cfg->client_id, true, m);
	int rc;

	if (!mosq)
		return MOSQ_ERR_ERRNO;
	mosquitto_destroy(m->mosq);
	m->mosq = mosq;
	m->ever_connected = false;
	mosquitto_connect_v5_callback_set(mosq, on_connect);
	mosquitto_disconnect_callback_set(mosq, on_disconnect);
	mosquitto_message_callback_set(mosq, on_message);
	mosquitto_subscribe_callback_set(mosq, on_subscribe);
	mosquitto_publish_v5_callback_set(mosq, on_publish);
	/* Small state messages must not wait for Nagle's algorithm. */
	rc = mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	/* MQTT 5 for the reason codes of refused publications and of
	 * disconnections, and for the broker's limits. */
	if (!rc)
		rc = mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION,
					  m->broker.v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	if (!rc && cfg->username)
		rc = mosquitto_username_pw_set(mosq, cfg->username, cfg->password);
	if (!rc)
		rc = mosquitto_will_set(mosq, m->will_topic, (int)strlen(m->will_payload),
					m->will_payload, m->will_qos, m->will_retain);
	if (!rc && cfg->tls.enabled)
		rc = setup_tls(mosq, &cfg->tls);
	return rc;
}

static void use_node(struct mqtt *m, size_t node)
{
	m->node = node;
	m->host = m->cfg.nodes[node].host;
	m->port = m->cfg.nodes[node].port;
}

struct mqtt *mqtt_new(const struct cfg_mqtt *cfg, const struct mqtt_will *will,
		      const struct mqtt_handlers *handlers, void *ctx)
{
	struct mqtt *m = calloc(1, sizeof(*m));
	int rc;

	if (!m || config_mqtt_copy(&m->cfg, cfg) < 0 || !m->cfg.n_nodes ||
	    !(m->will_topic = strdup(will->topic)) || !(m->will_payload = strdup(will->payload))) {
		log_error("out of memory");
		goto fail;
	}
	use_node(m, 0);
	m->will_qos = cfg->qos;
	m->will_retain = true;
	broker_init(&m->broker, cfg->protocol);
	m->ping_s = cfg->keepalive / 2;
	m->handlers = handlers;
	m->ctx = ctx;
	rc = setup_client(m);
	if (rc) {
		log_error("cannot set up the MQTT client: %s", mqtt__error_text(rc));
		goto fail;
	}
	for (size_t i = 0; i < cfg->n_nodes && cfg->password && !cfg->tls.enabled; i++)
		if (!is_loopback(cfg->nodes[i].host))
			log_warning("the password for %s is sent unencrypted: configure tls",
				    cfg->nodes[i].host);
	return m;
fail:
	mqtt_free(m);
	return NULL;
}

void mqtt_free(struct mqtt *m)
{
	if (!m)
		return;
	mosquitto_destroy(m->mosq);
	config_mqtt_free(&m->cfg);
	free(m->will_topic);
	free(m->will_payload);
	free(m);
}

/* --- connection and I/O --- */



/* Whether the broker could have read our CONNECT: the TCP connection is
 * up and so is TLS where used. Only then does a hang-up say something
 * about the broker rather than about the network. */
static void note_transport(struct mqtt *m)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int fd = mosquitto_socket(m->mosq);
	SSL *ssl;

	if (m->transport_up || fd < 0 || getpeername(fd, (struct sockaddr *)&peer, &len) < 0)
		return;
	ssl = m->cfg.tls.enabled ? mosquitto_ssl_get(m->mosq) : NULL;
	m->transport_up = !m->cfg.tls.enabled || (ssl && SSL_is_init_finished(ssl));
}

int mqtt_connect(struct mqtt *m)
{
	int rc;

	m->host_mismatch = false;
	m->verify_result = X509_V_OK;
	m->lib_error[0] = '\0';
	/* A clustered broker: each attempt the next node, so that a board rides
	 * out the loss of one. A retry that changes the protocol or the will
	 * stays with the node that asked for it. */
	if (m->cfg.n_nodes > 1 && m->attempted && !m->retry_at_once) {
		use_node(m, (m->node + 1) % m->cfg.n_nodes);
		log_debug("trying broker node %s:%d", m->host, m->port);
	}
	m->attempted = true;
	m->transport_up = m->attempt_told = m->retry_at_once = false;
	if (m->rebuild && (rc = setup_client(m)) != 0) {
		mqtt__report_failure(m, "cannot set up the MQTT client: %s", mqtt__error_text(rc));
		return -1;
	}
	m->rebuild = false;
	m->closing = m->silenced = false;
	mosquitto_log_callback_set(m->mosq, on_log);
	/* Non-blocking: a broker behind a firewall that drops packets must not
	 * stall the lines for the minutes TCP takes to give up. The TCP and TLS
	 * handshakes finish in mqtt_handle_io(); the keep-alive timer bounds
	 * them. Only the name look-up blocks. */
	if (m->ever_connected && m->cfg.n_nodes == 1)
		rc = mosquitto_reconnect_async(m->mosq);
	else /* the node's own name, for TLS's host check too */
		rc = mosquitto_connect_async(m->mosq, m->host, m->port, m->ping_s);
	if (rc == MOSQ_ERR_SUCCESS) {
		m->ever_connected = true;
		m->socket_open = true;
		m->last_in_ms = m->ping_ms = clock_now_ms();
		note_transport(m); /* a loopback connection may be up already */
		return 0;
	}
	if (rc == MOSQ_ERR_TLS)
		mqtt__report_tls_failure(m);
	else if (rc == MOSQ_ERR_EAI)
		mqtt__report_failure(m, "cannot resolve %s: %s", m->host, gai_strerror(errno));
	else
		mqtt__report_failure(m, "cannot connect to %s:%d: %s", m->host, m->port,
			       mqtt__error_text(rc));
	return -1;
}

bool mqtt_is_connected(const struct mqtt *m)
{
	return m->connected;
}

int mqtt_fd(const struct mqtt *m)
{
	return mosquitto_socket(m->mosq);
}

bool mqtt_wants_write(const struct mqtt *m)
{
	return mosquitto_want_write(m->mosq);
}

/* libmosquitto 2.0 closes the socket after a failed TLS handshake without
 * calling on_disconnect: report it here, so that the caller retries. */
static void check_handshake(struct mqtt *m)
{
	if (!m->cfg.tls.enabled || !m->socket_open || mosquitto_socket(m->mosq) >= 0)
		return;
	m->socket_open = false;
	mqtt__report_tls_failure(m);
	m->handlers->disconnected(m->ctx, false);
}

/* The broker's PUBACK for a QoS 1 state is a small segment that the kernel
 * would acknowledge only after its delayed-ACK timer (40 ms); a broker
 * with Nagle's algorithm on (mosquitto as installed) holds its next small
 * write, the next command, until that ACK comes. Linux leaves quick-ack
 * mode by itself, so it is asked for after every read. */
static void acknowledge_now(struct mqtt *m)
{
	int fd = mosquitto_socket(m->mosq), one = 1;

	if (fd >= 0 && m->connected)
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

void mqtt_handle_io(struct mqtt *m, bool readable, bool writable)
{
	if (!m->connected)
		note_transport(m);
	/* Errors close the socket and reach on_disconnect inside libmosquitto. */
	if (readable && mosquitto_socket(m->mosq) >= 0) {
		m->last_in_ms = clock_now_ms();
		mosquitto_loop_read(m->mosq, 1);
		acknowledge_now(m);
	}
	/* What the read queued (acknowledgements, states published by the
	 * message handler) goes out now, not after one more poll(). */
	if (!writable && readable && m->connected)
		writable = mosquitto_want_write(m->mosq);
	if (writable && mosquitto_socket(m->mosq) >= 0)
		mosquitto_loop_write(m->mosq, 1);
	check_handshake(m);
}


int mqtt_subscribe(struct mqtt *m, char *const *topics, size_t count, int qos)
{
	int rc;

	m->subscribed = topics;
	m->n_subscribed = count;
	m->subscribe_mid = 0;
	if (!count)
		return 0;
	rc = mosquitto_subscribe_multiple(m->mosq, &m->subscribe_mid, (int)count, topics, qos, 0,
					  NULL);
	if (rc) {
		log_error("cannot subscribe: %s", mqtt__error_text(rc));
		return -1;
	}
	return 0;
}

int mqtt_unsubscribe(struct mqtt *m, char *const *topics, size_t count)
{
	int rc;

	if (!count || !m->connected)
		return 0;
	rc = mosquitto_unsubscribe_multiple(m->mosq, NULL, (int)count, topics, NULL);
	if (rc) {
		log_error("cannot unsubscribe: %s", mqtt__error_text(rc));
		return -1;
	}
	return 0;
}

size_t mqtt_payload_room(const struct mqtt *m, const char *topic)
{
	return broker_payload_room(&m->broker, strlen(topic), broker_qos(&m->broker, m->cfg.qos));
}

int mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, int qos,
		 bool retain)
{
	int mid = 0;
	int rc;

	qos = broker_qos(&m->broker, qos);
	if (len > broker_payload_room(&m->broker, strlen(topic), qos)) {
		log_warning("cannot publish on \"%s\": %zu bytes do not fit in the broker's "
			    "largest packet (%u bytes)",
			    topic, len, (unsigned int)m->broker.limits.max_packet);
		return -1;
	}
	rc = mosquitto_publish(m->mosq, &mid, topic, (int)len, payload, qos,
			       broker_retain(&m->broker, retain));
	if (!rc)
		note_published(m);
	if (!rc && qos > 0) {
		struct pending *p = pending_slot(m, mid);

		p->mid = mid;
		snprintf(p->topic, sizeof(p->topic), "%s", topic);
	}
	if (rc && rc != MOSQ_ERR_NO_CONN) {
		log_warning("cannot publish on \"%s\": %s", topic, mqtt__error_text(rc));
		return -1;
	}
	return rc ? -1 : 0;
}

void mqtt_disconnect(struct mqtt *m, int timeout_ms)
{
	long long deadline = clock_now_ms() + timeout_ms;

	m->closing = true;
	if (mosquitto_socket(m->mosq) < 0)
		return;
	mosquitto_disconnect(m->mosq);
	/* Bounded: flush what is queued (the DISCONNECT last) or give up; a
	 * connection still being set up has nothing worth waiting for. */
	while (m->connected && mosquitto_socket(m->mosq) >= 0 && mosquitto_want_write(m->mosq) &&
	       clock_now_ms() < deadline) {
		struct pollfd p = { .fd = mosquitto_socket(m->mosq), .events = POLLOUT };

		if (poll(&p, 1, (int)(deadline - clock_now_ms())) <= 0)
			break;
		mosquitto_loop_write(m->mosq, 1);
	}
	m->connected = false;
	m->socket_open = false;
}
