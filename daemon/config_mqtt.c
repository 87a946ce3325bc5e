/* SPDX-License-Identifier: MIT */
/* config_mqtt: the mapping's mqtt group (see config.h), its copies and
 * comparisons. */
#include "config.h"
#include "config_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PASSWORD_MAX 1024
#define CLIENT_ID_MAX 65535 /* an MQTT string */

static char *default_client_id(struct reader *r)
{
	char host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	return cfg_join(r, "gpio2mqtt-", host, NULL);
}

/* First line of the file, without its newline. The password itself never
 * reaches the error stream. */
static void read_password_file(struct reader *r, const config_setting_t *s, const char *file,
			       char **out)
{
	char buf[PASSWORD_MAX + 2];
	FILE *f = fopen(file, "r");
	/* A directory opens; reading it fails with EISDIR. */
	bool unreadable = !f || (fgetc(f) == EOF && ferror(f));

	if (unreadable) {
		cfg_fail_at(r, cfg_line_of(s), "cannot read password_file \"%s\": %s", file,
			strerror(errno));
		if (f)
			fclose(f);
		return;
	}
	rewind(f);
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	if (strlen(buf) > PASSWORD_MAX && !strchr(buf, '\n')) {
		explicit_bzero(buf, sizeof(buf));
		cfg_fail_at(r, cfg_line_of(s), "password_file \"%s\": the password is longer than %d bytes",
			file, PASSWORD_MAX);
		return;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		cfg_fail_at(r, cfg_line_of(s), "password_file \"%s\" is empty", file);
		return;
	}
	free(*out);
	*out = cfg_copy(r, buf);
	explicit_bzero(buf, sizeof(buf));
}

static const char *const tls_keys[] = { "ca_file", "ca_path", "cert_file", "key_file",
					"insecure", NULL };

/* The service runs with PrivateTmp= and ProtectHome=: it sees its own
 * empty /tmp and no home directories. */
static const char *const hidden_from_service[] = { "/tmp", "/var/tmp", "/home", "/root",
						   "/run/user", NULL };

static void check_visible(struct reader *r, int line, const char *key, const char *file)
{
	for (size_t i = 0; file && hidden_from_service[i]; i++) {
		size_t n = strlen(hidden_from_service[i]);

		if (strncmp(file, hidden_from_service[i], n) == 0 && (!file[n] || file[n] == '/'))
			cfg_warn_at(r, line,
				"%s \"%s\" is under %s, which the gpio2mqtt service cannot see: "
				"put it under /etc/gpio2mqtt/",
				key, file, hidden_from_service[i]);
	}
}

static void check_readable(struct reader *r, const config_setting_t *group, const char *key,
			   const char *file)
{
	check_visible(r, cfg_key_line(group, key), key, file);
	if (file && access(file, R_OK) != 0)
		cfg_fail_at(r, cfg_line_of(config_setting_get_member(group, key)),
			"cannot read %s \"%s\": %s", key, file, strerror(errno));
}

static void read_tls(struct reader *r, const config_setting_t *tls, struct cfg_tls *t)
{
	t->enabled = true;
	cfg_check_keys(r, tls, tls_keys, "tls");
	cfg_get_string(r, tls, "ca_file", &t->ca_file);
	cfg_get_string(r, tls, "ca_path", &t->ca_path);
	cfg_get_string(r, tls, "cert_file", &t->cert_file);
	cfg_get_string(r, tls, "key_file", &t->key_file);
	cfg_get_bool(r, tls, "insecure", &t->insecure);
	check_readable(r, tls, "ca_file", t->ca_file);
	check_readable(r, tls, "ca_path", t->ca_path);
	check_readable(r, tls, "cert_file", t->cert_file);
	check_readable(r, tls, "key_file", t->key_file);
	if (!t->cert_file != !t->key_file)
		cfg_fail_at(r, cfg_line_of(tls), "tls: cert_file and key_file go together");
}

/* "name", "name:port", "[v6-address]:port"; the port defaults to port.
 * The text is cut in place. -1 with a message for the error stream. */
static int parse_node(struct reader *r, char *text, int port, struct cfg_node *node,
		      const char **why)
{
	char *colon = strrchr(text, ':'), *end;
	long value;

	if (strstr(text, "://"))
		return *why = "write the host name alone, without a scheme such as mqtt://", -1;
	if (text[0] == '[') {
		char *close = strchr(text, ']');

		if (!close || (close[1] && close[1] != ':'))
			return *why = "write an IPv6 address as [address] or [address]:port", -1;
		*close = '\0';
		colon = close[1] ? close + 1 : NULL;
		text++;
	} else if (colon && strchr(text, ':') != colon) {
		colon = NULL; /* a bare IPv6 address */
	}
	if (colon) {
		*colon = '\0';
		errno = 0;
		value = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || errno || value < 1 || value > 65535)
			return *why = "the port after ':' must be a number from 1 to 65535", -1;
		port = (int)value;
	}
	if (!*text)
		return *why = "the host is empty", -1;
	node->host = cfg_copy(r, text);
	node->port = port;
	return 0;
}

/* hosts = ( "node-a:1883", "node-b" ): the nodes of a clustered broker. */
static void read_hosts(struct reader *r, const config_setting_t *g, struct cfg_mqtt *m)
{
	const config_setting_t *s = g ? config_setting_get_member(g, "hosts") : NULL;
	int type = s ? config_setting_type(s) : CONFIG_TYPE_NONE;
	int n = s ? config_setting_length(s) : 0;

	if (s && config_setting_get_member(g, "host"))
		cfg_fail_at(r, cfg_line_of(s), "give either host or hosts, not both");
	if (s && ((type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) || n == 0)) {
		cfg_fail_at(r, cfg_line_of(s), "'hosts' must be a list: hosts = ( \"node-a\", \"node-b:1884\" );");
		s = NULL;
	}
	m->nodes = cfg_resize(r, NULL, s ? (size_t)n : 1, sizeof(*m->nodes));
	if (!m->nodes)
		return;
	for (int i = 0; s && i < n; i++) {
		const char *text = config_setting_get_string_elem(s, i);
		char *cut = text ? cfg_copy(r, text) : NULL;
		const char *why = "each entry must be a string \"host\" or \"host:port\"";

		if (!cut || parse_node(r, cut, m->port, &m->nodes[m->n_nodes], &why) < 0)
			cfg_fail_at(r, cfg_line_of(s), "'hosts' entry %d: %s", i + 1, why);
		else
			m->n_nodes++;
		free(cut);
	}
	if (!s)
		m->nodes[m->n_nodes++] = (struct cfg_node){ .host = cfg_copy(r, m->host),
							    .port = m->port };
	if (m->n_nodes && s) {
		free(m->host);
		m->host = cfg_copy(r, m->nodes[0].host);
		m->port = m->nodes[0].port;
	}
}

/* Legal in MQTT, but "home/pi/" makes "home/pi//output/led": a topic
 * nobody publishes to. */
static void check_base_topic(struct reader *r, const config_setting_t *g, const char *base)
{
	size_t len = strlen(base);

	if (len && (base[0] == '/' || base[len - 1] == '/' || strstr(base, "//")))
		cfg_fail_at(r, cfg_key_line(g, "base_topic"),
			"'base_topic' \"%s\" must not start or end with '/' nor have '//': its "
			"topics would have empty levels",
			base);
}

/* A URL or "name:port" in host would be looked up as a host name. */
static void check_host(struct reader *r, const config_setting_t *g, const char *host)
{
	const char *colon = strchr(host, ':');

	if (strstr(host, "://"))
		cfg_fail_at(r, cfg_key_line(g, "host"),
			"'host' \"%s\": write the host name alone, without a scheme such as mqtt:// "
			"(tls = { }; for TLS, port = N; for the port)",
			host);
	else if (colon && !strchr(colon + 1, ':'))
		cfg_fail_at(r, cfg_key_line(g, "host"),
			"'host' \"%s\": write the port on its own: host = \"%.*s\"; port = %s;",
			host, (int)(colon - host), host, colon + 1);
}

static const char *const mqtt_keys[] = { "host", "port", "client_id", "username", "password",
					 "password_file", "keepalive", "qos", "base_topic",
					 "reconnect_delay_max", "protocol", "tls", "hosts", NULL };
/* In the order of enum cfg_protocol. */
static const char *const protocol_names[] = { "auto", "5", "3.1.1", NULL };

/* The keys of the mqtt group g over m's defaults; protocol is an enum cfg_protocol. */
static void read_group(struct reader *r, const config_setting_t *g, struct cfg_mqtt *m,
		       int *protocol)
{
	char *password_file = NULL;

	cfg_check_keys(r, g, mqtt_keys, "mqtt");
	cfg_get_string(r, g, "host", &m->host);
	cfg_get_int(r, g, "port", 1, 65535, &m->port);
	cfg_get_string(r, g, "client_id", &m->client_id);
	cfg_expand_vars(r, g, "client_id", &m->client_id);
	cfg_get_string(r, g, "username", &m->username);
	cfg_get_string(r, g, "password", &m->password);
	/* Pings go out every keepalive/2 seconds; libmosquitto wants >= 5. */
	cfg_get_int(r, g, "keepalive", 10, 65535, &m->keepalive);
	cfg_get_int(r, g, "qos", 0, 2, &m->qos);
	cfg_get_choice(r, g, "protocol", protocol_names, protocol);
	cfg_get_string(r, g, "base_topic", &m->base_topic);
	cfg_expand_vars(r, g, "base_topic", &m->base_topic);
	cfg_get_int(r, g, "reconnect_delay_max", 1, 3600, &m->reconnect_delay_max);
	if (cfg_get_string(r, g, "password_file", &password_file) > 0) {
		check_visible(r, cfg_key_line(g, "password_file"), "password_file", password_file);
		if (m->password)
			cfg_fail_at(r, cfg_line_of(g), "give either password or password_file, not both");
		else
			read_password_file(r, config_setting_get_member(g, "password_file"),
					   password_file, &m->password);
	}
	free(password_file);
}

/* What the values read into m must be, together. */
static void check_mqtt(struct reader *r, const config_setting_t *g, const struct cfg_mqtt *m)
{
	if (m->client_id && (!*m->client_id || strlen(m->client_id) > CLIENT_ID_MAX))
		cfg_fail_at(r, cfg_key_line(g, "client_id"), "'client_id' must have 1 to %d characters",
			CLIENT_ID_MAX);
	else if (m->client_id && !cfg_printable(m->client_id))
		cfg_fail_at(r, cfg_key_line(g, "client_id"),
			"'client_id' \"%s\" has spaces or control characters", m->client_id);
	if (!*m->host)
		cfg_fail_at(r, cfg_key_line(g, "host"), "'host' is empty");
	if (m->password && !m->username)
		cfg_fail_at(r, cfg_key_line(g, "password"), "a password needs a username");
	cfg_check_topic(r, g, "base_topic", m->base_topic);
	check_base_topic(r, g, m->base_topic);
	check_host(r, g, m->host);
}

void cfg_read_mqtt(struct reader *r, const config_setting_t *root, struct cfg_mqtt *m)
{
	const config_setting_t *g = cfg_get_group(r, root, "mqtt");
	const config_setting_t *tls = g ? cfg_get_group(r, g, "tls") : NULL;
	int protocol = PROTOCOL_AUTO;

	m->host = cfg_copy(r, "localhost");
	m->keepalive = 30;
	m->qos = 1;
	m->base_topic = cfg_copy(r, "gpio2mqtt");
	m->reconnect_delay_max = 10;
	m->source_line = cfg_line_of(g);
	if (g)
		read_group(r, g, m, &protocol);
	m->protocol = (enum cfg_protocol)protocol;
	if (tls)
		read_tls(r, tls, &m->tls);
	if (!m->port)
		m->port = m->tls.enabled ? 8883 : 1883;
	read_hosts(r, g, m);
	/* A failed copy may have left host or base_topic NULL; the load
	 * fails anyway. */
	if (!r->out_of_memory)
		check_mqtt(r, g, m);
	if (!m->client_id)
		m->client_id = default_client_id(r);
}

void config_mqtt_free(struct cfg_mqtt *m)
{
	free(m->host);
	for (size_t i = 0; i < m->n_nodes; i++)
		free(m->nodes[i].host);
	free(m->nodes);
	free(m->client_id);
	free(m->username);
	if (m->password)
		explicit_bzero(m->password, strlen(m->password));
	free(m->password);
	free(m->base_topic);
	free(m->tls.ca_file);
	free(m->tls.ca_path);
	free(m->tls.cert_file);
	free(m->tls.key_file);
	memset(m, 0, sizeof(*m));
}

/* A copy of s, NULL for NULL; *ok turns false when out of memory. */
static char *dup_or_null(const char *s, bool *ok)
{
	char *c = s ? strdup(s) : NULL;

	*ok = *ok && (!s || c);
	return c;
}

int config_mqtt_copy(struct cfg_mqtt *dst, const struct cfg_mqtt *src)
{
	bool ok = true;

	*dst = *src;
	dst->nodes = calloc(src->n_nodes ? src->n_nodes : 1, sizeof(*dst->nodes));
	ok = dst->nodes != NULL;
	for (size_t i = 0; ok && i < src->n_nodes; i++)
		dst->nodes[i] = (struct cfg_node){ dup_or_null(src->nodes[i].host, &ok),
						   src->nodes[i].port };
	dst->host = dup_or_null(src->host, &ok);
	dst->client_id = dup_or_null(src->client_id, &ok);
	dst->username = dup_or_null(src->username, &ok);
	dst->password = dup_or_null(src->password, &ok);
	dst->base_topic = dup_or_null(src->base_topic, &ok);
	dst->tls.ca_file = dup_or_null(src->tls.ca_file, &ok);
	dst->tls.ca_path = dup_or_null(src->tls.ca_path, &ok);
	dst->tls.cert_file = dup_or_null(src->tls.cert_file, &ok);
	dst->tls.key_file = dup_or_null(src->tls.key_file, &ok);
	if (ok)
		return 0;
	config_mqtt_free(dst);
	return -1;
}

static bool same_nodes(const struct cfg_mqtt *a, const struct cfg_mqtt *b)
{
	if (a->n_nodes != b->n_nodes)
		return false;
	for (size_t i = 0; i < a->n_nodes; i++)
		if (!cfg_same_str(a->nodes[i].host, b->nodes[i].host) ||
		    a->nodes[i].port != b->nodes[i].port)
			return false;
	return true;
}

bool config_mqtt_equal(const struct cfg_mqtt *a, const struct cfg_mqtt *b)
{
	const struct cfg_tls *x = &a->tls, *y = &b->tls;

	if (!same_nodes(a, b))
		return false;
	return cfg_same_str(a->host, b->host) && a->port == b->port &&
	       cfg_same_str(a->client_id, b->client_id) && cfg_same_str(a->username, b->username) &&
	       cfg_same_str(a->password, b->password) && a->keepalive == b->keepalive &&
	       a->qos == b->qos && a->protocol == b->protocol && cfg_same_str(a->base_topic, b->base_topic) &&
	       a->reconnect_delay_max == b->reconnect_delay_max && x->enabled == y->enabled &&
	       cfg_same_str(x->ca_file, y->ca_file) && cfg_same_str(x->ca_path, y->ca_path) &&
	       cfg_same_str(x->cert_file, y->cert_file) && cfg_same_str(x->key_file, y->key_file) &&
	       x->insecure == y->insecure;
}

void config_describe_nodes(const struct cfg_mqtt *m, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < m->n_nodes && len < size; i++) {
		const char *host = m->nodes[i].host;
		bool v6 = strchr(host, ':') != NULL;
		int n = snprintf(out + len, size - len, "%s%s%s%s:%d", i ? ", " : "", v6 ? "[" : "",
				 host, v6 ? "]" : "", m->nodes[i].port);

		len += n > 0 ? (size_t)n : 0;
	}
}
