/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hints.h"
#include "template.h"

#define TOPIC_MAX 1024
#define PAYLOAD_WORD_MAX 64
#define PASSWORD_MAX 1024
#define CLIENT_ID_MAX 65535 /* an MQTT string */
#define MACHINE_ID_PATH "/etc/machine-id"
#define ERRORS_SHOWN 50 /* a file of the wrong kind would give thousands */

struct reader {
	const char *path;
	FILE *errors;
	FILE *warnings; /* --check only: NULL for the daemon */
	int failures;
	struct template_vars vars; /* %h and %m, pointing into host and machine */
	char host[256];
	char machine[13];
};

static void fail_at(struct reader *r, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_at(struct reader *r, int line, const char *fmt, ...)
{
	va_list ap;

	r->failures++;
	if (!r->errors || r->failures > ERRORS_SHOWN)
		return;
	fprintf(r->errors, "%s:%d: ", r->path, line);
	va_start(ap, fmt);
	vfprintf(r->errors, fmt, ap);
	va_end(ap);
	fputc('\n', r->errors);
}

/* Something that will not work under the service, but not wrong in itself. */
static void warn_at(struct reader *r, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn_at(struct reader *r, int line, const char *fmt, ...)
{
	va_list ap;

	if (!r->warnings)
		return;
	fprintf(r->warnings, "%s:%d: warning: ", r->path, line);
	va_start(ap, fmt);
	vfprintf(r->warnings, fmt, ap);
	va_end(ap);
	fputc('\n', r->warnings);
}

static int line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

/* The line of group's member key, or of the group when key is not there
 * (a default value is then at fault). */
static int key_line(const config_setting_t *group, const char *key)
{
	const config_setting_t *s = group ? config_setting_get_member(group, key) : NULL;

	return line_of(s ? s : group);
}

static char *copy(const char *s)
{
	char *c = s ? strdup(s) : NULL;

	if (s && !c) {
		perror("gpio2mqtt: out of memory");
		abort();
	}
	return c;
}

/* The strings up to a NULL, concatenated into a new string. */
static char *join(const char *first, ...) __attribute__((sentinel));

static char *join(const char *first, ...)
{
	va_list ap;
	size_t len = 0;
	char *s, *end;

	va_start(ap, first);
	for (const char *p = first; p; p = va_arg(ap, const char *))
		len += strlen(p);
	va_end(ap);
	s = malloc(len + 1);
	if (!s) {
		perror("gpio2mqtt: out of memory");
		abort();
	}
	end = s;
	va_start(ap, first);
	for (const char *p = first; p; p = va_arg(ap, const char *))
		end = stpcpy(end, p);
	va_end(ap);
	return s;
}

/* --- typed getters: 1 = present and valid, 0 = absent, -1 = invalid --- */

static int get_string(struct reader *r, const config_setting_t *group, const char *key,
		      char **out)
{
	const config_setting_t *s = config_setting_get_member(group, key);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		fail_at(r, line_of(s), "'%s' must be a string (in double quotes)", key);
		return -1;
	}
	free(*out);
	*out = copy(config_setting_get_string(s));
	return 1;
}

static int get_bool(struct reader *r, const config_setting_t *group, const char *key, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		fail_at(r, line_of(s), "'%s' must be true or false", key);
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 1;
}

static int get_int(struct reader *r, const config_setting_t *group, const char *key,
		   long long lo, long long hi, int *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	long long v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		fail_at(r, line_of(s), "'%s' must be a whole number", key);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		fail_at(r, line_of(s), "'%s' is %lld, must be from %lld to %lld", key, v, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 1;
}

/* A string that must be one of names[]; stores its index. */
static int get_choice(struct reader *r, const config_setting_t *group, const char *key,
		      const char *const names[], int *out)
{
	char *value = NULL;
	int found = get_string(r, group, key, &value);

	if (found <= 0)
		return found;
	for (int i = 0; names[i]; i++) {
		if (strcmp(value, names[i]) == 0) {
			*out = i;
			free(value);
			return 1;
		}
	}
	fail_at(r, line_of(config_setting_get_member(group, key)),
		"'%s' is \"%s\", must be one of: %s%s%s%s%s%s%s", key, value, names[0],
		names[1] ? ", " : "", names[1] ? names[1] : "", names[2] ? ", " : "",
		names[2] ? names[2] : "", names[2] && names[3] ? ", " : "",
		names[2] && names[3] ? names[3] : "");
	free(value);
	return -1;
}

static void check_keys(struct reader *r, const config_setting_t *group,
		       const char *const known[], const char *where)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		bool ok = false;

		const char *near;

		for (int k = 0; name && known[k] && !ok; k++)
			ok = strcmp(name, known[k]) == 0;
		if (ok)
			continue;
		near = name ? hints_nearest_key(name, known) : NULL;
		fail_at(r, line_of(s), "unknown key '%s' in %s%s%s%s", name ? name : "?", where,
			near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	}
}

static const config_setting_t *get_group(struct reader *r, const config_setting_t *parent,
					 const char *key)
{
	const config_setting_t *s = config_setting_get_member(parent, key);

	if (s && config_setting_type(s) != CONFIG_TYPE_GROUP) {
		fail_at(r, line_of(s), "'%s' must be a group: %s = { ... };", key, key);
		return NULL;
	}
	return s;
}

/* Replaces %h, %m and %% in *s, which group's key holds. On an error *s
 * stays as written, which is what the message shows. */
static void expand_vars(struct reader *r, const config_setting_t *group, const char *key,
			char **s)
{
	const char *error = "";
	char *expanded;

	if (!*s || !template_has_vars(*s))
		return;
	expanded = template_expand(*s, &r->vars, &error);
	if (!expanded) {
		fail_at(r, key_line(group, key), "'%s' \"%s\": %s", key, *s, error);
		return;
	}
	free(*s);
	*s = expanded;
}

/* --- checks on values --- */

static bool valid_topic(const char *t)
{
	size_t len = strlen(t);

	return len > 0 && len <= TOPIC_MAX && !strpbrk(t, "+#");
}

/* group's key holds the value; it gives the line of an error. */
static void check_topic(struct reader *r, const config_setting_t *group, const char *key,
			const char *topic)
{
	if (topic && !valid_topic(topic))
		fail_at(r, key_line(group, key),
			"'%s' \"%s\" is not a valid topic (empty, too long, or has + or #)", key,
			topic);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static void check_word(struct reader *r, const config_setting_t *group, const char *key,
		       const char *word)
{
	if (word && (!*word || strlen(word) > PAYLOAD_WORD_MAX))
		fail_at(r, key_line(group, key), "'%s' must have 1 to %d characters", key,
			PAYLOAD_WORD_MAX);
}

/* --- the mqtt group --- */

static char *default_client_id(void)
{
	char host[256] = "localhost";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	return join("gpio2mqtt-", host, NULL);
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
		fail_at(r, line_of(s), "cannot read password_file \"%s\": %s", file,
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
		fail_at(r, line_of(s), "password_file \"%s\": the password is longer than %d bytes",
			file, PASSWORD_MAX);
		return;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		fail_at(r, line_of(s), "password_file \"%s\" is empty", file);
		return;
	}
	free(*out);
	*out = copy(buf);
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
			warn_at(r, line,
				"%s \"%s\" is under %s, which the gpio2mqtt service cannot see: "
				"put it under /etc/gpio2mqtt/",
				key, file, hidden_from_service[i]);
	}
}

static void check_readable(struct reader *r, const config_setting_t *group, const char *key,
			   const char *file)
{
	check_visible(r, key_line(group, key), key, file);
	if (file && access(file, R_OK) != 0)
		fail_at(r, line_of(config_setting_get_member(group, key)),
			"cannot read %s \"%s\": %s", key, file, strerror(errno));
}

static void read_tls(struct reader *r, const config_setting_t *tls, struct cfg_tls *t)
{
	t->enabled = true;
	check_keys(r, tls, tls_keys, "tls");
	get_string(r, tls, "ca_file", &t->ca_file);
	get_string(r, tls, "ca_path", &t->ca_path);
	get_string(r, tls, "cert_file", &t->cert_file);
	get_string(r, tls, "key_file", &t->key_file);
	get_bool(r, tls, "insecure", &t->insecure);
	check_readable(r, tls, "ca_file", t->ca_file);
	check_readable(r, tls, "ca_path", t->ca_path);
	check_readable(r, tls, "cert_file", t->cert_file);
	check_readable(r, tls, "key_file", t->key_file);
	if (!t->cert_file != !t->key_file)
		fail_at(r, line_of(tls), "tls: cert_file and key_file go together");
}

/* "name", "name:port", "[v6-address]:port"; the port defaults to port.
 * The text is cut in place. -1 with a message for the error stream. */
static int parse_node(char *text, int port, struct cfg_node *node, const char **why)
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
	node->host = copy(text);
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
		fail_at(r, line_of(s), "give either host or hosts, not both");
	if (s && ((type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) || n == 0)) {
		fail_at(r, line_of(s), "'hosts' must be a list: hosts = ( \"node-a\", \"node-b:1884\" );");
		s = NULL;
	}
	m->nodes = calloc(s ? (size_t)n : 1, sizeof(*m->nodes));
	if (!m->nodes) {
		perror("gpio2mqtt: out of memory");
		abort();
	}
	for (int i = 0; s && i < n; i++) {
		const char *text = config_setting_get_string_elem(s, i);
		char *cut = text ? copy(text) : NULL;
		const char *why = "each entry must be a string \"host\" or \"host:port\"";

		if (!cut || parse_node(cut, m->port, &m->nodes[m->n_nodes], &why) < 0)
			fail_at(r, line_of(s), "'hosts' entry %d: %s", i + 1, why);
		else
			m->n_nodes++;
		free(cut);
	}
	if (!s)
		m->nodes[m->n_nodes++] = (struct cfg_node){ .host = copy(m->host), .port = m->port };
	if (m->n_nodes && s) {
		free(m->host);
		m->host = copy(m->nodes[0].host);
		m->port = m->nodes[0].port;
	}
}

/* Legal in MQTT, but "home/pi/" makes "home/pi//output/led": a topic
 * nobody publishes to. */
static void check_base_topic(struct reader *r, const config_setting_t *g, const char *base)
{
	size_t len = strlen(base);

	if (len && (base[0] == '/' || base[len - 1] == '/' || strstr(base, "//")))
		fail_at(r, key_line(g, "base_topic"),
			"'base_topic' \"%s\" must not start or end with '/' nor have '//': its "
			"topics would have empty levels",
			base);
}

/* A URL or "name:port" in host would be looked up as a host name. */
static void check_host(struct reader *r, const config_setting_t *g, const char *host)
{
	const char *colon = strchr(host, ':');

	if (strstr(host, "://"))
		fail_at(r, key_line(g, "host"),
			"'host' \"%s\": write the host name alone, without a scheme such as mqtt:// "
			"(tls = { }; for TLS, port = N; for the port)",
			host);
	else if (colon && !strchr(colon + 1, ':'))
		fail_at(r, key_line(g, "host"),
			"'host' \"%s\": write the port on its own: host = \"%.*s\"; port = %s;",
			host, (int)(colon - host), host, colon + 1);
}

static const char *const mqtt_keys[] = { "host", "port", "client_id", "username", "password",
					 "password_file", "keepalive", "qos", "base_topic",
					 "reconnect_delay_max", "protocol", "tls", "hosts", NULL };
/* In the order of enum cfg_protocol. */
static const char *const protocol_names[] = { "auto", "5", "3.1.1", NULL };

static void read_mqtt(struct reader *r, const config_setting_t *root, struct cfg_mqtt *m)
{
	const config_setting_t *g = get_group(r, root, "mqtt");
	const config_setting_t *tls = g ? get_group(r, g, "tls") : NULL;
	char *password_file = NULL;
	int protocol = PROTOCOL_AUTO;

	m->host = copy("localhost");
	m->keepalive = 30;
	m->qos = 1;
	m->base_topic = copy("gpio2mqtt");
	m->reconnect_delay_max = 10;
	m->source_line = line_of(g);
	if (g) {
		check_keys(r, g, mqtt_keys, "mqtt");
		get_string(r, g, "host", &m->host);
		get_int(r, g, "port", 1, 65535, &m->port);
		get_string(r, g, "client_id", &m->client_id);
		expand_vars(r, g, "client_id", &m->client_id);
		get_string(r, g, "username", &m->username);
		get_string(r, g, "password", &m->password);
		/* Pings go out every keepalive/2 seconds; libmosquitto wants >= 5. */
		get_int(r, g, "keepalive", 10, 65535, &m->keepalive);
		get_int(r, g, "qos", 0, 2, &m->qos);
		get_choice(r, g, "protocol", protocol_names, &protocol);
		get_string(r, g, "base_topic", &m->base_topic);
		expand_vars(r, g, "base_topic", &m->base_topic);
		get_int(r, g, "reconnect_delay_max", 1, 3600, &m->reconnect_delay_max);
		if (get_string(r, g, "password_file", &password_file) > 0) {
			check_visible(r, key_line(g, "password_file"), "password_file",
				      password_file);
			if (m->password)
				fail_at(r, line_of(g), "give either password or password_file, not both");
			else
				read_password_file(r, config_setting_get_member(g, "password_file"),
						   password_file, &m->password);
		}
	}
	free(password_file);
	m->protocol = (enum cfg_protocol)protocol;
	if (tls)
		read_tls(r, tls, &m->tls);
	if (!m->port)
		m->port = m->tls.enabled ? 8883 : 1883;
	read_hosts(r, g, m);
	if (m->client_id && (!*m->client_id || strlen(m->client_id) > CLIENT_ID_MAX))
		fail_at(r, key_line(g, "client_id"), "'client_id' must have 1 to %d characters",
			CLIENT_ID_MAX);
	else if (m->client_id && !printable(m->client_id))
		fail_at(r, key_line(g, "client_id"),
			"'client_id' \"%s\" has spaces or control characters", m->client_id);
	if (!m->client_id)
		m->client_id = default_client_id();
	if (!*m->host)
		fail_at(r, key_line(g, "host"), "'host' is empty");
	if (m->password && !m->username)
		fail_at(r, key_line(g, "password"), "a password needs a username");
	check_topic(r, g, "base_topic", m->base_topic);
	check_base_topic(r, g, m->base_topic);
	check_host(r, g, m->host);
}

/* --- outputs and inputs --- */

static const char *const bias_names[] = { "as-is", "disabled", "pull-up", "pull-down", NULL };
static const char *const drive_names[] = { "push-pull", "open-drain", "open-source", NULL };
static const char *const initial_names[] = { "off", "on", NULL };

static const char *const output_keys[] = { "name", "line", "chip", "command_topic",
					   "state_topic", "active_low", "initial", "drive",
					   "bias", "payload_on", "payload_off", "retain", NULL };
static const char *const input_keys[] = { "name", "line", "chip", "state_topic", "bias",
					  "active_low", "debounce_ms", "payload_on",
					  "payload_off", "retain", NULL };

static void read_line_location(struct reader *r, const config_setting_t *g, struct cfg_line *l)
{
	const config_setting_t *s = config_setting_get_member(g, "line");

	get_string(r, g, "chip", &l->chip);
	if (!s) {
		fail_at(r, l->source_line, "'line' is missing (a line name or an offset)");
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		l->line_name = copy(config_setting_get_string(s));
		if (!*l->line_name)
			fail_at(r, line_of(s), "'line' is empty");
	} else if (config_setting_type(s) == CONFIG_TYPE_INT) {
		int offset = config_setting_get_int(s);

		if (offset < 0 || offset > 65535)
			fail_at(r, line_of(s), "'line' offset %d is out of range", offset);
		else if (!l->chip)
			fail_at(r, line_of(s), "'line' given as an offset needs 'chip'");
		l->offset = (unsigned int)(offset < 0 ? 0 : offset);
	} else {
		fail_at(r, line_of(s), "'line' must be a line name (string) or an offset (number)");
	}
}

static void default_topic(char **topic, const char *base, const char *kind, const char *name,
			  const char *suffix)
{
	if (!*topic)
		*topic = join(base, kind, name, suffix, NULL);
}

static void read_line_common(struct reader *r, const config_setting_t *g, struct cfg_line *l,
			     const struct cfg_mqtt *m)
{
	int bias = GPIO_BIAS_AS_IS;

	l->source_line = line_of(g);
	l->retain = true;
	if (get_string(r, g, "name", &l->name) == 0)
		fail_at(r, l->source_line, "'name' is missing");
	else if (l->name && !valid_name(l->name))
		fail_at(r, line_of(config_setting_get_member(g, "name")),
			"'name' \"%s\" may only have letters, digits, '_' and '-'", l->name);
	read_line_location(r, g, l);
	get_string(r, g, "state_topic", &l->state_topic);
	expand_vars(r, g, "state_topic", &l->state_topic);
	get_bool(r, g, "active_low", &l->active_low);
	get_bool(r, g, "retain", &l->retain);
	get_choice(r, g, "bias", bias_names, &bias);
	l->bias = (enum gpio_bias)bias;
	get_string(r, g, "payload_on", &l->payload_on);
	get_string(r, g, "payload_off", &l->payload_off);
	check_word(r, g, "payload_on", l->payload_on);
	check_word(r, g, "payload_off", l->payload_off);
	if (!l->payload_on)
		l->payload_on = copy("ON");
	if (!l->payload_off)
		l->payload_off = copy("OFF");
	if (l->name && valid_name(l->name))
		default_topic(&l->state_topic, m->base_topic, l->output ? "/output/" : "/input/",
			      l->name, "");
	check_topic(r, g, "state_topic", l->state_topic);
}

static void add_command_topic(struct cfg_line *l, char *topic)
{
	char **more = realloc(l->command_topics, (l->n_commands + 1) * sizeof(char *));

	if (!more) {
		perror("gpio2mqtt: out of memory");
		abort();
	}
	l->command_topics = more;
	l->command_topics[l->n_commands++] = topic;
}

/* One topic, or a list of them: a group's topic and the board's own. */
static void read_command_topics(struct reader *r, const config_setting_t *g, struct cfg_line *l)
{
	const config_setting_t *s = config_setting_get_member(g, "command_topic");
	int type = s ? config_setting_type(s) : CONFIG_TYPE_NONE;
	int n = s ? config_setting_length(s) : 0;

	if (!s)
		return;
	if (type == CONFIG_TYPE_STRING) {
		add_command_topic(l, copy(config_setting_get_string(s)));
		return;
	}
	if ((type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) || n == 0) {
		fail_at(r, line_of(s), "'command_topic' must be a topic or a list of topics: "
				       "( \"class/all/led\", \"class/%%h/led\" )");
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *topic = config_setting_get_string_elem(s, i);

		if (!topic)
			fail_at(r, line_of(s), "'command_topic': entry %d is not a string", i + 1);
		else
			add_command_topic(l, copy(topic));
	}
}

static void read_output(struct reader *r, const config_setting_t *g, struct cfg_line *l,
			const struct cfg_mqtt *m)
{
	int drive = GPIO_DRIVE_PUSH_PULL;

	l->output = true;
	check_keys(r, g, output_keys, "an output");
	read_line_common(r, g, l, m);
	read_command_topics(r, g, l);
	get_choice(r, g, "initial", initial_names, &l->initial);
	get_choice(r, g, "drive", drive_names, &drive);
	l->drive = (enum gpio_drive)drive;
	if (!l->n_commands && l->name && valid_name(l->name))
		add_command_topic(l, join(m->base_topic, "/output/", l->name, "/set", NULL));
	for (size_t i = 0; i < l->n_commands; i++) {
		expand_vars(r, g, "command_topic", &l->command_topics[i]);
		check_topic(r, g, "command_topic", l->command_topics[i]);
	}
}

static void read_input(struct reader *r, const config_setting_t *g, struct cfg_line *l,
		       const struct cfg_mqtt *m)
{
	int debounce = 0;

	check_keys(r, g, input_keys, "an input");
	read_line_common(r, g, l, m);
	get_int(r, g, "debounce_ms", 0, 60000, &debounce);
	l->debounce_ms = (unsigned int)debounce;
}

typedef void (*line_reader)(struct reader *, const config_setting_t *, struct cfg_line *,
			    const struct cfg_mqtt *);

static void read_lines(struct reader *r, const config_setting_t *root, const char *key,
		       line_reader read_one, struct config *cfg)
{
	const config_setting_t *list = config_setting_get_member(root, key);
	size_t n;

	if (!list)
		return;
	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		fail_at(r, line_of(list), "'%s' must be a list: %s = ( { ... }, { ... } );", key,
			key);
		return;
	}
	n = (size_t)config_setting_length(list);
	cfg->lines = realloc(cfg->lines, (cfg->n_lines + n) * sizeof(*cfg->lines));
	if (!cfg->lines && cfg->n_lines + n > 0) {
		perror("gpio2mqtt: out of memory");
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct cfg_line *l = &cfg->lines[cfg->n_lines++];

		memset(l, 0, sizeof(*l));
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			l->source_line = line_of(g);
			fail_at(r, line_of(g), "each entry of '%s' must be a group { ... }", key);
			continue;
		}
		read_one(r, g, l, &cfg->mqtt);
	}
}

/* --- duplicates --- */

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Names, lines and topics must each be unique. Sorting them finds every
 * repeat in n log n, which matters for mappings of a thousand lines. */
enum unique_kind { UNIQUE_NAME, UNIQUE_LINE, UNIQUE_TOPIC };

struct unique_key {
	enum unique_kind kind;
	const char *text;            /* UNIQUE_LINE: the chip, "" for any chip */
	const char *line_name;       /* UNIQUE_LINE: NULL when given by offset */
	unsigned int offset;         /* UNIQUE_LINE */
	const struct cfg_line *line; /* lines are in file order in one array */
	bool command;                /* UNIQUE_TOPIC: a command_topic */
};

/* 0 when a and b name the same thing: the same name, GPIO line or topic. */
static int compare_identity(const struct unique_key *a, const struct unique_key *b)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->text, b->text);
	if (c || a->kind != UNIQUE_LINE)
		return c;
	if (!a->line_name != !b->line_name)
		return a->line_name ? -1 : 1;
	if (a->line_name)
		return strcmp(a->line_name, b->line_name);
	return a->offset == b->offset ? 0 : a->offset < b->offset ? -1 : 1;
}

static int compare_keys(const void *pa, const void *pb)
{
	const struct unique_key *a = pa, *b = pb;
	int c = compare_identity(a, b);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return (int)a->command - (int)b->command;
}

static size_t collect_keys(const struct config *cfg, struct unique_key *keys)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_lines; i++) {
		const struct cfg_line *l = &cfg->lines[i];

		if (l->name)
			keys[n++] = (struct unique_key){ .kind = UNIQUE_NAME, .text = l->name,
							 .line = l };
		if (l->line_name || l->chip)
			keys[n++] = (struct unique_key){ .kind = UNIQUE_LINE,
							 .text = l->chip ? l->chip : "",
							 .line_name = l->line_name,
							 .offset = l->offset,
							 .line = l };
		if (l->state_topic)
			keys[n++] = (struct unique_key){ .kind = UNIQUE_TOPIC, .text = l->state_topic,
							 .line = l };
		for (size_t k = 0; k < l->n_commands; k++)
			keys[n++] = (struct unique_key){ .kind = UNIQUE_TOPIC,
							 .text = l->command_topics[k], .line = l,
							 .command = true };
	}
	return n;
}

static void report_repeat(struct reader *r, const struct unique_key *first,
			  const struct unique_key *again)
{
	int line = again->line->source_line, before = first->line->source_line;
	const char *what = again->command ? "command_topic" : "state_topic";

	if (again->kind == UNIQUE_NAME)
		fail_at(r, line, "name \"%s\" is already used at line %d", again->text, before);
	else if (again->kind == UNIQUE_LINE)
		fail_at(r, line, "this line is already mapped at line %d", before);
	else if (again->line == first->line)
		fail_at(r, line, "%s \"%s\" is listed twice", what, again->text);
	else if (again->command == first->command)
		fail_at(r, line, "%s \"%s\" is already used at line %d", what, again->text, before);
	else /* a state fed back as a command */
		fail_at(r, line, "%s \"%s\" is the %s at line %d", what, again->text,
			first->command ? "command_topic" : "state_topic", before);
}

static void check_unique(struct reader *r, const struct config *cfg)
{
	size_t n, first = 0, most = 3 * cfg->n_lines + 1;
	struct unique_key *keys;

	for (size_t i = 0; i < cfg->n_lines; i++)
		most += cfg->lines[i].n_commands;
	keys = calloc(most, sizeof(*keys));
	if (!keys) {
		perror("gpio2mqtt: out of memory");
		abort();
	}
	n = collect_keys(cfg, keys);
	qsort(keys, n, sizeof(*keys), compare_keys);
	for (size_t i = 1; i < n; i++) {
		if (compare_identity(&keys[i], &keys[first])) {
			first = i;
			continue;
		}
		/* One line's state topic among its command topics is check_reserved()'s. */
		if (keys[i].line != keys[first].line || keys[i].command == keys[first].command)
			report_repeat(r, &keys[first], &keys[i]);
	}
	free(keys);
}

static void check_reserved(struct reader *r, const struct config *cfg, const struct cfg_line *l)
{
	const char *reserved[] = { cfg->status_topic, cfg->error_topic };

	for (size_t i = 0; i < 2; i++) {
		bool used = same_str(l->state_topic, reserved[i]);

		for (size_t k = 0; k < l->n_commands; k++)
			used = used || same_str(l->command_topics[k], reserved[i]);
		if (used)
			fail_at(r, l->source_line, "topic \"%s\" is reserved for the daemon",
				reserved[i]);
	}
	for (size_t k = 0; k < l->n_commands; k++)
		if (same_str(l->command_topics[k], l->state_topic))
			fail_at(r, l->source_line, "command_topic and state_topic must differ");
}

static void check_duplicates(struct reader *r, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_lines; i++)
		check_reserved(r, cfg, &cfg->lines[i]);
	check_unique(r, cfg);
}

/* --- the file --- */

static const char *const top_keys[] = { "mqtt", "outputs", "inputs", NULL };

static void read_root(struct reader *r, const config_setting_t *root, struct config *cfg)
{
	check_keys(r, root, top_keys, "the file (expected mqtt, outputs, inputs)");
	read_mqtt(r, root, &cfg->mqtt);
	cfg->status_topic = join(cfg->mqtt.base_topic, "/status", NULL);
	cfg->error_topic = join(cfg->mqtt.base_topic, "/error", NULL);
	read_lines(r, root, "outputs", read_output, cfg);
	cfg->n_outputs = cfg->n_lines;
	read_lines(r, root, "inputs", read_input, cfg);
	check_duplicates(r, cfg);
}

/* The text may hold the broker password. */
static void free_text(char *text, size_t len)
{
	explicit_bzero(text, len);
	free(text);
}

/* text[0..len) moved to a buffer of size + 1 bytes, or NULL (text kept).
 * Not realloc(), which could leave a copy behind. */
static char *grow_text(char *text, size_t len, size_t size)
{
	char *bigger = malloc(size + 1);

	if (bigger && text) {
		memcpy(bigger, text, len);
		free_text(text, len);
	}
	return bigger;
}

/* The whole file, NUL-terminated, its length in *len; NULL with errno set. */
static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *text = NULL, *bigger;
	size_t size = 0, n;
	int error = 0;

	if (!f)
		return NULL;
	*len = 0;
	errno = 0;
	do {
		if (size - *len < 4096) {
			size = size ? 2 * size : 16384;
			bigger = grow_text(text, *len, size);
			if (!bigger) {
				error = ENOMEM;
				break;
			}
			text = bigger;
		}
		n = fread(text + *len, 1, size - *len, f);
		*len += n;
	} while (n > 0);
	if (!error && ferror(f))
		error = errno ? errno : EIO;
	fclose(f);
	if (error) {
		if (text)
			free_text(text, *len);
		errno = error;
		return NULL;
	}
	text[*len] = '\0';
	return text;
}

/* libconfig would take the text before a NUL byte for the whole file. */
static int refuse_nul(struct reader *r, const char *text, size_t len)
{
	const char *nul = memchr(text, '\0', len);
	int line = 1;

	if (!nul)
		return 0;
	for (const char *p = text; p < nul; p++)
		line += *p == '\n';
	fail_at(r, line, "a NUL byte: the mapping file must be text");
	return -1;
}

/* libconfig 1.5 ends the whole process when an @include cannot be read, and
 * a mapping has no use for one: refused before libconfig sees the text. */
static int refuse_includes(struct reader *r, const char *text)
{
	int line = 1, found = 0;

	for (const char *p = text; *p; line++) {
		p += strspn(p, " \t");
		if (strncmp(p, "@include", 8) == 0) {
			fail_at(r, line, "@include is not supported in a mapping file");
			found = -1;
		}
		p = strchrnul(p, '\n');
		p += *p == '\n';
	}
	return found;
}

/* What %h and %m stand for on this board; each NULL when unknown. */
static void read_template_vars(struct reader *r)
{
	char host[sizeof(r->host)] = "", id[64] = "";
	FILE *f = fopen(MACHINE_ID_PATH, "r");

	/* "(none)": the kernel's name before anyone set one, shared by every
	 * such board, so no name for telling boards apart. */
	if (gethostname(host, sizeof(host) - 1) == 0 && host[0] && strcmp(host, "(none)") != 0) {
		template_short_host(r->host, sizeof(r->host), host);
		r->vars.host = r->host;
	}
	if (f && fgets(id, sizeof(id), f) && template_machine_id(r->machine, id))
		r->vars.machine = r->machine;
	if (f)
		fclose(f);
}

static int load(struct config *cfg, const char *path, FILE *errors, FILE *warnings)
{
	struct reader r = { .path = path, .errors = errors, .warnings = warnings };
	size_t len;
	char *text;
	config_t cf;

	memset(cfg, 0, sizeof(*cfg));
	read_template_vars(&r);
	text = read_text(path, &len);
	if (!text) {
		fail_at(&r, 0, "cannot read the mapping file: %s", strerror(errno));
		return -1;
	}
	if (refuse_nul(&r, text, len) < 0 || refuse_includes(&r, text) < 0) {
		free_text(text, len);
		return -1;
	}
	config_init(&cf);
	if (!config_read_string(&cf, text)) {
		const char *hint = hints_syntax(text, config_error_line(&cf));

		fail_at(&r, config_error_line(&cf), "%s%s%s", config_error_text(&cf),
			hint ? ": " : "", hint ? hint : "");
	} else {
		cfg->path = copy(path);
		read_root(&r, config_root_setting(&cf), cfg);
	}
	config_destroy(&cf);
	free_text(text, len);
	if (r.failures > ERRORS_SHOWN && errors)
		fprintf(errors, "%s: %d more problems not shown\n", path, r.failures - ERRORS_SHOWN);
	if (r.failures) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

int config_load(struct config *cfg, const char *path, FILE *errors)
{
	return load(cfg, path, errors, NULL);
}

int config_check(struct config *cfg, const char *path, FILE *errors)
{
	return load(cfg, path, errors, errors);
}

static void free_line(struct cfg_line *l)
{
	free(l->name);
	free(l->chip);
	free(l->line_name);
	for (size_t k = 0; k < l->n_commands; k++)
		free(l->command_topics[k]);
	free(l->command_topics);
	free(l->state_topic);
	free(l->payload_on);
	free(l->payload_off);
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

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_lines; i++)
		free_line(&cfg->lines[i]);
	free(cfg->lines);
	config_mqtt_free(&cfg->mqtt);
	free(cfg->status_topic);
	free(cfg->error_topic);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

static bool same_nodes(const struct cfg_mqtt *a, const struct cfg_mqtt *b)
{
	if (a->n_nodes != b->n_nodes)
		return false;
	for (size_t i = 0; i < a->n_nodes; i++)
		if (!same_str(a->nodes[i].host, b->nodes[i].host) ||
		    a->nodes[i].port != b->nodes[i].port)
			return false;
	return true;
}

bool config_mqtt_equal(const struct cfg_mqtt *a, const struct cfg_mqtt *b)
{
	const struct cfg_tls *x = &a->tls, *y = &b->tls;

	if (!same_nodes(a, b))
		return false;
	return same_str(a->host, b->host) && a->port == b->port &&
	       same_str(a->client_id, b->client_id) && same_str(a->username, b->username) &&
	       same_str(a->password, b->password) && a->keepalive == b->keepalive &&
	       a->qos == b->qos && a->protocol == b->protocol && same_str(a->base_topic, b->base_topic) &&
	       a->reconnect_delay_max == b->reconnect_delay_max && x->enabled == y->enabled &&
	       same_str(x->ca_file, y->ca_file) && same_str(x->ca_path, y->ca_path) &&
	       same_str(x->cert_file, y->cert_file) && same_str(x->key_file, y->key_file) &&
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
