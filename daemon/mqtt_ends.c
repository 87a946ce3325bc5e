/* SPDX-License-Identifier: MIT */
/* mqtt_ends: why a connection attempt or a connection ended, said once per
 * cause, and what follows: another protocol version, a lower will or QoS,
 * the hint about a shared client id (see mqtt_internal.h). */
#include <errno.h>
#include <mqtt_protocol.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mqtt_internal.h"

/* A failure is logged as a warning the first time, then only in debug
 * output while the cause stays the same, so a broker that is down for an
 * hour does not fill the journal. */
void mqtt__report_failure(struct mqtt *m, const char *fmt, ...)
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

const char *mqtt__error_text(int rc)
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

const char *mqtt__version_name(bool v5)
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
void mqtt__report_no_answer(struct mqtt *m)
{
	mqtt__report_failure(m, "no answer from %s:%d (keepalive %d s)", m->host, m->port,
		       2 * m->ping_s);
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
	mosquitto_will_set(m->mosq, m->will_topic, (int)strlen(m->will_payload), m->will_payload,
			   m->will_qos, m->will_retain);
	m->attempt_told = m->retry_at_once = true;
	return true;
}

void mqtt__connect_refused(struct mqtt *m, int rc, const mosquitto_property *props)
{
	bool v5 = m->broker.v5;

	/* libmosquitto reports a 3.1.1 CONNACK "unacceptable protocol version"
	 * to an MQTT 5 CONNECT as 0x84 already. */
	if (rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION ||
	    (!v5 && rc == CONNACK_REFUSED_PROTOCOL_VERSION)) {
		if (attempt_ended(m, BROKER_UNSUPPORTED) != BROKER_TO_V311)
			mqtt__report_failure(m, "broker %s:%d refused %s as unsupported", m->host,
				       m->port, mqtt__version_name(v5));
		return;
	}
	if (v5 && lower_will(m, rc, props))
		return;
	mqtt__report_failure(m, "broker %s:%d refused the connection: %s%s", m->host, m->port,
		       v5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc),
		       credentials_hint(m, rc));
	attempt_ended(m, BROKER_REFUSED);
}

/* Before a CONNACK: a broker that is down, silent, or hanging up. */
void mqtt__attempt_failed(struct mqtt *m, int rc)
{
	if (m->attempt_told)
		return; /* refused by its CONNACK: said and weighed there */
	if (rc == MOSQ_ERR_KEEPALIVE) {
		mqtt__report_no_answer(m);
		attempt_ended(m, BROKER_SILENT);
	} else if (m->transport_up) {
		const char *version = mqtt__version_name(m->broker.v5);

		if (attempt_ended(m, BROKER_HANGUP) != BROKER_TO_V311)
			mqtt__report_failure(m, "broker %s:%d closed the connection without answering "
				       "the %s CONNECT",
				       m->host, m->port, version);
	} else {
		mqtt__report_failure(m, "cannot connect to %s:%d: %s", m->host, m->port,
			       mqtt__error_text(rc));
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

void mqtt__connection_lost(struct mqtt *m, int rc)
{
	bool hint = broker_lost(&m->broker, clock_now_ms(), loss_kind(rc));

	if (lower_qos_after(m, rc))
		return;
	if (hint && m->hint_told) {
		log_debug("lost the connection to %s:%d again: %s", m->host, m->port, loss_text(rc));
		return;
	}
	if (rc == MOSQ_ERR_KEEPALIVE)
		mqtt__report_no_answer(m);
	else
		mqtt__report_failure(m, "lost the connection to %s:%d: %s", m->host, m->port,
			       loss_text(rc));
	m->hint_told = hint;
	if (hint)
		log_warning("broker %s:%d keeps taking the connection away: is another client "
			    "using client_id \"%s\"? Each board needs its own. (Or the broker "
			    "cannot serve what the daemon asks for once connected: its log says.)",
			    m->host, m->port, m->cfg.client_id);
}

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
void mqtt__report_tls_failure(struct mqtt *m)
{
	long result = m->verify_result;

	if (m->host_mismatch)
		mqtt__report_failure(m, "TLS handshake with %s:%d failed: its certificate is not for \"%s\"",
			       m->host, m->port, m->host);
	else if (result != X509_V_OK)
		mqtt__report_failure(m, "TLS handshake with %s:%d failed: %s%s", m->host, m->port,
			       X509_verify_cert_error_string(result),
			       !is_issuer_error(result) ? "" :
			       (!m->cfg.tls.ca_file && !m->cfg.tls.ca_path)	       ? " (not signed by a CA of the system's store?)" :
							 " (not signed by the CA of ca_file?)");
	else
		mqtt__report_failure(m, "TLS handshake with %s:%d failed: %s", m->host, m->port,
			       m->lib_error[0] ? m->lib_error : "no reason given");
}
