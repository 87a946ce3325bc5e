/* SPDX-License-Identifier: MIT */
#include "mqtt.h"

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

#include "broker.h"
#include "log.h"

#define OFFLINE "offline"

static long long now_ms(void);
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

/* A failure is logged as a warning the first time, then only in debug
 * output while the cause stays the same, so a broker that is down for an
 * hour does not fill the journal. */
static void report_failure(struct mqtt *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report_failure(struct mqtt *m, const char *fmt, ...)
{
	char text[sizeof(m->last_failure)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (strcmp(text, m->last_failure) == 0) {
		log_debug("%s (again)", text);
		return;
	}
	log_warning("%s", text);
	snprintf(m->last_failure, sizeof(m->last_failure), "%s", text);
}

static const char *error_text(int rc)
{
	if (rc == MOSQ_ERR_ERRNO)
		return strerror(errno);
	return mosquitto_strerror(rc);
}

static void use_version(struct mqtt *m)
{
	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
			     m->broker.v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
}

static const char *version_name(bool v5)
{
	return v5 ? "MQTT 5" : "MQTT 3.1.1";
}

/* Weighs how an attempt ended; a change of version is tried at once. The
 * fall-back to 3.1.1 is the one line said about such an attempt. */
static enum broker_switch attempt_ended(struct mqtt *m, enum broker_end end)
{
	enum broker_switch to = broker_failed(&m->broker, end);

	m->attempt_told = true;
	if (to == BROKER_KEEP)
		return to;
	use_version(m);
	m->retry_at_once = to == BROKER_TO_V311;
	if (to == BROKER_TO_V5) {
		log_info("broker %s:%d hung up on MQTT 3.1.1 as well: trying MQTT 5 again",
			 m->host, m->port);
		return to;
	}
	if (m->fallback_told) {
		log_info("broker %s:%d: using MQTT 3.1.1", m->host, m->port);
		return to;
	}
	m->fallback_told = true;
	log_warning("broker %s:%d does not speak MQTT 5: using MQTT 3.1.1 (it %s; set "
		    "protocol = \"3.1.1\" to skip the first attempt)",
		    m->host, m->port,
		    end == BROKER_HANGUP ? "hung up on an MQTT 5 CONNECT" :
					   "refused MQTT 5 as unsupported");
	return to;
}

static bool is_credentials_refusal(const struct mqtt *m, int rc)
{
	if (m->broker.v5)
		return rc == MQTT_RC_BAD_USERNAME_OR_PASSWORD || rc == MQTT_RC_NOT_AUTHORIZED;
	return rc == CONNACK_REFUSED_BAD_USERNAME_PASSWORD || rc == CONNACK_REFUSED_NOT_AUTHORIZED;
}

static const char *credentials_hint(const struct mqtt *m, int rc)
{
	if (!is_credentials_refusal(m, rc))
		return "";
	if (!m->cfg.username)
		return " (it wants a username and password: set username and password_file)";
	if (m->broker.v5 || rc != CONNACK_REFUSED_NOT_AUTHORIZED)
		return " (check username and password)";
	return " (check username, password and access rules)";
}

/* A frozen broker: one line however often it happens in a row. */
static void report_no_answer(struct mqtt *m)
{
	report_failure(m, "no answer from %s:%d (keepalive %d s)", m->host, m->port,
		       2 * m->ping_s);
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

/* A broker with limits may refuse the will as it is (mosquitto answers
 * 0x9B to a QoS above its max_qos, 0x9A to a retained will where it keeps
 * none): lower it to match and try again at once. */
static bool lower_will(struct mqtt *m, int rc, const mosquitto_property *props)
{
	uint8_t max_qos = 0;

	if (rc == MQTT_RC_QOS_NOT_SUPPORTED && m->will_qos > 0) {
		if (!mosquitto_property_read_byte(props, MQTT_PROP_MAXIMUM_QOS, &max_qos, false) ||
		    max_qos >= m->will_qos)
			max_qos = (uint8_t)(m->will_qos - 1);
		m->will_qos = max_qos;
	} else if (rc == MQTT_RC_RETAIN_NOT_SUPPORTED && m->will_retain) {
		m->will_retain = false;
	} else {
		return false;
	}
	log_warning("broker %s:%d refused the last will (%s): sending it with QoS %d%s",
		    m->host, m->port, mosquitto_reason_string(rc), m->will_qos,
		    m->will_retain ? "" : ", not retained");
	mosquitto_will_set(m->mosq, m->will_topic, (int)strlen(OFFLINE), OFFLINE, m->will_qos,
			   m->will_retain);
	m->attempt_told = m->retry_at_once = true;
	return true;
}

static void connect_refused(struct mqtt *m, int rc, const mosquitto_property *props)
{
	bool v5 = m->broker.v5;

	/* libmosquitto reports a 3.1.1 CONNACK "unacceptable protocol version"
	 * to an MQTT 5 CONNECT as 0x84 already. */
	if (rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION ||
	    (!v5 && rc == CONNACK_REFUSED_PROTOCOL_VERSION)) {
		if (attempt_ended(m, BROKER_UNSUPPORTED) != BROKER_TO_V311)
			report_failure(m, "broker %s:%d refused %s as unsupported", m->host,
				       m->port, version_name(v5));
		return;
	}
	if (v5 && lower_will(m, rc, props))
		return;
	report_failure(m, "broker %s:%d refused the connection: %s%s", m->host, m->port,
		       v5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc),
		       credentials_hint(m, rc));
	attempt_ended(m, BROKER_REFUSED);
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

	broker_accepted(&m->broker, &l, now_ms());
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
		connect_refused(m, rc, props);
		return;
	}
	log_info("connected to %s:%d (%s)", m->host, m->port, version_name(m->broker.v5));
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

/* Before a CONNACK: a broker that is down, silent, or hanging up. */
static void attempt_failed(struct mqtt *m, int rc)
{
	if (m->attempt_told)
		return; /* refused by its CONNACK: said and weighed there */
	if (rc == MOSQ_ERR_KEEPALIVE) {
		report_no_answer(m);
		attempt_ended(m, BROKER_SILENT);
	} else if (m->transport_up) {
		const char *version = version_name(m->broker.v5);

		if (attempt_ended(m, BROKER_HANGUP) != BROKER_TO_V311)
			report_failure(m, "broker %s:%d closed the connection without answering "
				       "the %s CONNECT",
				       m->host, m->port, version);
	} else {
		report_failure(m, "cannot connect to %s:%d: %s", m->host, m->port,
			       error_text(rc));
		attempt_ended(m, BROKER_UNREACHABLE);
	}
}

static const char *loss_text(int rc)
{
	if (rc == 0) /* a DISCONNECT that gave no reason */
		return "the broker closed it";
	return rc >= 0x80 ? mosquitto_reason_string(rc) : mosquitto_strerror(rc);
}

/* Two clients with one client id push each other off the broker; MQTT 5
 * brokers may say so (0x8E), mosquitto 2.0 just closes the old connection. */
static enum broker_loss loss_kind(int rc)
{
	if (rc == MQTT_RC_SESSION_TAKEN_OVER)
		return BROKER_TAKEN_OVER;
	return rc == MOSQ_ERR_CONN_LOST || rc == 0 ? BROKER_CLOSED : BROKER_BROKEN;
}

/* RabbitMQ 3.10 answers a QoS 2 publication with a PUBACK, which
 * libmosquitto takes for a protocol error: QoS 1 from then on. */
static bool lower_qos_after(struct mqtt *m, int rc)
{
	if (rc != MOSQ_ERR_PROTOCOL || !broker_failed_at_qos(&m->broker, m->cfg.qos))
		return false;
	log_warning("broker %s:%d broke the connection off at a QoS %d publication (RabbitMQ "
		    "takes at most QoS 1): publishing at QoS %d",
		    m->host, m->port, m->cfg.qos, broker_qos(&m->broker, m->cfg.qos));
	m->will_qos = broker_qos(&m->broker, m->will_qos);
	/* libmosquitto would send its QoS 2 publications again on reconnecting:
	 * a fresh client, made outside its callback. */
	m->rebuild = true;
	m->retry_at_once = true;
	return true;
}

static void connection_lost(struct mqtt *m, int rc)
{
	bool hint = broker_lost(&m->broker, now_ms(), loss_kind(rc));

	if (lower_qos_after(m, rc))
		return;
	if (hint && m->hint_told) {
		log_debug("lost the connection to %s:%d again: %s", m->host, m->port, loss_text(rc));
		return;
	}
	if (rc == MOSQ_ERR_KEEPALIVE)
		report_no_answer(m);
	else
		report_failure(m, "lost the connection to %s:%d: %s", m->host, m->port,
			       loss_text(rc));
	m->hint_told = hint;
	if (hint)
		log_warning("broker %s:%d keeps taking the connection away: is another client "
			    "using client_id \"%s\"? Each board needs its own",
			    m->host, m->port, m->cfg.client_id);
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
		connection_lost(m, rc);
	else
		attempt_failed(m, rc);
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
		rc = mosquitto_will_set(mosq, m->will_topic, (int)strlen(OFFLINE), OFFLINE,
					m->will_qos, m->will_retain);
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

struct mqtt *mqtt_new(const struct cfg_mqtt *cfg, const char *will_topic,
		      const struct mqtt_handlers *handlers, void *ctx)
{
	struct mqtt *m = calloc(1, sizeof(*m));
	int rc;

	if (!m || config_mqtt_copy(&m->cfg, cfg) < 0 || !m->cfg.n_nodes ||
	    !(m->will_topic = strdup(will_topic))) {
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
		log_error("cannot set up the MQTT client: %s", error_text(rc));
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
	free(m);
}

/* --- connection and I/O --- */

static bool is_issuer_error(long result)
{
	return result == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
	       result == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	       result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	       result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	       result == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

/* Why the TLS handshake failed, from OpenSSL's verification where it has
 * one; libmosquitto only says "certificate verify failed". */
static void report_tls_failure(struct mqtt *m)
{
	long result = m->verify_result;

	if (m->host_mismatch)
		report_failure(m, "TLS handshake with %s:%d failed: its certificate is not for \"%s\"",
			       m->host, m->port, m->host);
	else if (result != X509_V_OK)
		report_failure(m, "TLS handshake with %s:%d failed: %s%s", m->host, m->port,
			       X509_verify_cert_error_string(result),
			       !is_issuer_error(result) ? "" :
			       (!m->cfg.tls.ca_file && !m->cfg.tls.ca_path)	       ? " (not signed by a CA of the system's store?)" :
							 " (not signed by the CA of ca_file?)");
	else
		report_failure(m, "TLS handshake with %s:%d failed: %s", m->host, m->port,
			       m->lib_error[0] ? m->lib_error : "no reason given");
}

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
		report_failure(m, "cannot set up the MQTT client: %s", error_text(rc));
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
		m->last_in_ms = m->ping_ms = now_ms();
		note_transport(m); /* a loopback connection may be up already */
		return 0;
	}
	if (rc == MOSQ_ERR_TLS)
		report_tls_failure(m);
	else if (rc == MOSQ_ERR_EAI)
		report_failure(m, "cannot resolve %s: %s", m->host, gai_strerror(errno));
	else
		report_failure(m, "cannot connect to %s:%d: %s", m->host, m->port,
			       error_text(rc));
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
	report_tls_failure(m);
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
		m->last_in_ms = now_ms();
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
	report_no_answer(m);
	m->silenced = true;
	shutdown(mosquitto_socket(m->mosq), SHUT_RDWR);
}

void mqtt_handle_keepalive(struct mqtt *m)
{
	long long now = now_ms();
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
	long long now = now_ms();
	long long due = ping_due_ms(m, now);

	if (ping_outstanding(m) && give_up_due_ms(m) < due)
		due = give_up_due_ms(m);
	due += KEEPALIVE_SLACK_MS;
	return due > now ? (unsigned int)(due - now) : 1U;
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
		log_error("cannot subscribe: %s", error_text(rc));
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
		log_error("cannot unsubscribe: %s", error_text(rc));
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
		log_warning("cannot publish on \"%s\": %s", topic, error_text(rc));
		return -1;
	}
	return rc ? -1 : 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mqtt_disconnect(struct mqtt *m, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	m->closing = true;
	if (mosquitto_socket(m->mosq) < 0)
		return;
	mosquitto_disconnect(m->mosq);
	/* Bounded: flush what is queued (the DISCONNECT last) or give up; a
	 * connection still being set up has nothing worth waiting for. */
	while (m->connected && mosquitto_socket(m->mosq) >= 0 && mosquitto_want_write(m->mosq) &&
	       now_ms() < deadline) {
		struct pollfd p = { .fd = mosquitto_socket(m->mosq), .events = POLLOUT };

		if (poll(&p, 1, (int)(deadline - now_ms())) <= 0)
			break;
		mosquitto_loop_write(m->mosq, 1);
	}
	m->connected = false;
	m->socket_open = false;
}
