#include "mqtt.h"

#include <errno.h>
#include <mosquitto.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define OFFLINE "offline"

struct mqtt {
	struct mosquitto *mosq;
	char *host;
	int port;
	int keepalive;
	bool ever_connected; /* mosquitto_connect once, mosquitto_reconnect after */
	bool connected;
	char last_failure[160]; /* logged once until the cause changes */
	char *const *subscribed;
	size_t n_subscribed;
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

/* --- libmosquitto callbacks --- */

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct mqtt *m = obj;

	(void)mosq;
	if (rc != 0) {
		/* libmosquitto closes the socket and calls on_disconnect next. */
		report_failure(m, "broker %s:%d refused the connection: %s", m->host, m->port,
			       mosquitto_connack_string(rc));
		return;
	}
	log_info("connected to %s:%d", m->host, m->port);
	m->last_failure[0] = '\0';
	m->connected = true;
	m->handlers->connected(m->ctx);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct mqtt *m = obj;

	(void)mosq;
	if (m->connected && rc != 0)
		report_failure(m, "lost the connection to %s:%d: %s", m->host, m->port,
			       mosquitto_strerror(rc));
	m->connected = false;
	if (rc != 0)
		m->handlers->disconnected(m->ctx);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	struct mqtt *m = obj;

	(void)mosq;
	m->handlers->message(m->ctx, msg->topic, msg->payload,
			     msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0, msg->retain);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted)
{
	struct mqtt *m = obj;

	(void)mosq;
	(void)mid;
	for (int i = 0; i < count && (size_t)i < m->n_subscribed; i++)
		if (granted[i] >= 0x80)
			log_error("the broker refused the subscription to \"%s\" (not allowed by "
				  "its access rules?)",
				  m->subscribed[i]);
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *text)
{
	(void)mosq;
	(void)obj;
	/* libmosquitto's own errors carry the detail, e.g. OpenSSL's reason. */
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		log_warning("libmosquitto: %s", text);
	else if (level & MOSQ_LOG_DEBUG)
		log_debug("libmosquitto: %s", text);
}

/* --- setting up --- */

static bool is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0;
}

static int setup_tls(struct mosquitto *mosq, const struct cfg_tls *t)
{
	int rc = MOSQ_ERR_SUCCESS;

	if (!t->ca_file && !t->ca_path)
		rc = mosquitto_int_option(mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
	if (!rc)
		rc = mosquitto_tls_set(mosq, t->ca_file, t->ca_path, t->cert_file, t->key_file,
				       NULL);
	if (!rc && t->insecure) {
		rc = mosquitto_tls_opts_set(mosq, 0 /* SSL_VERIFY_NONE */, NULL, NULL);
		if (!rc)
			rc = mosquitto_tls_insecure_set(mosq, true);
	}
	return rc;
}

static int setup_client(struct mqtt *m, const struct cfg_mqtt *cfg, const char *will_topic)
{
	struct mosquitto *mosq = m->mosq;
	int rc;

	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_disconnect_callback_set(mosq, on_disconnect);
	mosquitto_message_callback_set(mosq, on_message);
	mosquitto_subscribe_callback_set(mosq, on_subscribe);
	mosquitto_log_callback_set(mosq, on_log);
	/* Small state messages must not wait for Nagle's algorithm. */
	rc = mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (!rc && cfg->username)
		rc = mosquitto_username_pw_set(mosq, cfg->username, cfg->password);
	if (!rc)
		rc = mosquitto_will_set(mosq, will_topic, (int)strlen(OFFLINE), OFFLINE, cfg->qos,
					true);
	if (!rc && cfg->tls.enabled)
		rc = setup_tls(mosq, &cfg->tls);
	return rc;
}

struct mqtt *mqtt_new(const struct cfg_mqtt *cfg, const char *will_topic,
		      const struct mqtt_handlers *handlers, void *ctx)
{
	struct mqtt *m = calloc(1, sizeof(*m));
	int rc;

	if (!m || !(m->host = strdup(cfg->host))) {
		log_error("out of memory");
		goto fail;
	}
	m->port = cfg->port;
	m->keepalive = cfg->keepalive;
	m->handlers = handlers;
	m->ctx = ctx;
	m->mosq = mosquitto_new(cfg->client_id, true, m);
	if (!m->mosq) {
		log_error("cannot create the MQTT client: %s", strerror(errno));
		goto fail;
	}
	rc = setup_client(m, cfg, will_topic);
	if (rc) {
		log_error("cannot set up the MQTT client: %s", error_text(rc));
		goto fail;
	}
	if (cfg->password && !cfg->tls.enabled && !is_loopback(cfg->host))
		log_warning("the password for %s is sent unencrypted: configure tls", cfg->host);
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
	free(m->host);
	free(m);
}

/* --- connection and I/O --- */

int mqtt_connect(struct mqtt *m)
{
	int rc;

	/* Blocking connect: libmosquitto 2.0 cannot finish a non-blocking
	 * connect without its own loop. On loopback and LAN this is fast. */
	if (m->ever_connected)
		rc = mosquitto_reconnect(m->mosq);
	else
		rc = mosquitto_connect(m->mosq, m->host, m->port, m->keepalive);
	if (rc == MOSQ_ERR_SUCCESS) {
		m->ever_connected = true;
		return 0;
	}
	if (rc == MOSQ_ERR_EAI)
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

void mqtt_handle_io(struct mqtt *m, bool readable, bool writable)
{
	/* Errors close the socket and reach on_disconnect inside libmosquitto. */
	if (readable && mosquitto_socket(m->mosq) >= 0)
		mosquitto_loop_read(m->mosq, 1);
	if (writable && mosquitto_socket(m->mosq) >= 0)
		mosquitto_loop_write(m->mosq, 1);
}

void mqtt_handle_keepalive(struct mqtt *m)
{
	if (mosquitto_socket(m->mosq) >= 0)
		mosquitto_loop_misc(m->mosq);
}

unsigned int mqtt_keepalive_interval_ms(const struct mqtt *m)
{
	/* Half the keep-alive: a PINGREQ is then never later than 1.5 times
	 * the keep-alive, the limit the broker allows. */
	return (unsigned int)m->keepalive * 500U;
}

int mqtt_subscribe(struct mqtt *m, char *const *topics, size_t count, int qos)
{
	int rc;

	m->subscribed = topics;
	m->n_subscribed = count;
	if (!count)
		return 0;
	rc = mosquitto_subscribe_multiple(m->mosq, NULL, (int)count, topics, qos, 0, NULL);
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

int mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, int qos,
		 bool retain)
{
	int rc = mosquitto_publish(m->mosq, NULL, topic, (int)len, payload, qos, retain);

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

	if (mosquitto_socket(m->mosq) < 0)
		return;
	mosquitto_disconnect(m->mosq);
	/* Bounded: flush what is queued (the DISCONNECT last) or give up. */
	while (mosquitto_socket(m->mosq) >= 0 && mosquitto_want_write(m->mosq) &&
	       now_ms() < deadline) {
		struct pollfd p = { .fd = mosquitto_socket(m->mosq), .events = POLLOUT };

		if (poll(&p, 1, (int)(deadline - now_ms())) <= 0)
			break;
		mosquitto_loop_write(m->mosq, 1);
	}
	m->connected = false;
}
