/* SPDX-License-Identifier: MIT */
/* ha_memory: see ha_memory.h. The record, as a person reads it:
 *
 *   gpio2mqtt-homeassistant 1
 *   prefix homeassistant
 *   mode device
 *   node gpio2mqtt_0123456789abcdef
 *   component switch led
 *   component button door_pulse
 *   crc32 e97ece1a
 *
 * The version line; the discovery prefix, with every byte outside the
 * printable ASCII (and space and %) written %XX; the mode, device or entity;
 * the node id; one line per component announced, platform and key (both
 * [A-Za-z0-9_-]), in the order announced, no key twice; then the CRC-32 of
 * every byte before the "crc32" line (wholefile.h). Only that exact form is
 * read. No file: nothing announced, or discovery was off. */
#include "ha_memory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "wholefile.h"

#define HEADER "gpio2mqtt-homeassistant 1"
#define HEADER_PREFIX "gpio2mqtt-homeassistant "
#define WORD_MAX 256

struct ha_memory {
	char *path;
	char *tmp_path;
	char *dir;
	struct ha_announced recorded; /* what the file says */
	bool unusable;                /* the file is there, but says nothing */
	unsigned int writes;
	/* Why the last write failed (step NULL: it did not), logged once. */
	const char *failed_step;
	int failed_errno;
};

/* --- the text --- */

static bool plain_byte(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '%';
}

static void encode_prefix(FILE *f, const char *prefix)
{
	for (const unsigned char *p = (const unsigned char *)prefix; *p; p++)
		if (plain_byte(*p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* in decoded (malloc'd); NULL unless in is how encode_prefix() writes a
 * prefix. */
static char *decode_prefix(const char *in)
{
	char *out = malloc(strlen(in) + 1);
	size_t n = 0;

	for (const char *p = in; out && *p; n++) {
		int hi = p[0] == '%' ? hex_digit(p[1]) : -1, lo = hi < 0 ? -1 : hex_digit(p[2]);

		if (p[0] != '%') {
			if (!plain_byte((unsigned char)*p))
				goto wrong;
			out[n] = *p++;
			continue;
		}
		/* %XX only for what encode_prefix() would not write plain */
		if (lo < 0 || (hi == 0 && lo == 0) || plain_byte((unsigned char)(hi * 16 + lo)))
			goto wrong;
		out[n] = (char)(hi * 16 + lo);
		p += 3;
	}
	if (!out || n == 0)
		goto wrong;
	out[n] = '\0';
	return out;
wrong:
	free(out);
	return NULL;
}

/* A node id, platform or key as the daemon makes them. */
static bool valid_word(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len < WORD_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
}

int ha_memory_format(const struct ha_announced *a, char **text, size_t *len)
{
	FILE *f = a->discovery ? open_memstream(text, len) : NULL;

	if (!f)
		return -1;
	fprintf(f, "%s\nprefix ", HEADER);
	encode_prefix(f, a->prefix);
	fprintf(f, "\nmode %s\nnode %s\n", a->mode == HA_MODE_ENTITY ? "entity" : "device",
		a->node_id);
	for (size_t i = 0; i < a->n; i++)
		fprintf(f, "component %s %s\n", a->components[i].platform, a->components[i].key);
	if (fclose(f) != 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	return wholefile_seal(text, len);
}

/* The value of line when it is "<name> <value>", else NULL. */
static const char *value_of(const char *line, const char *name)
{
	size_t n = strlen(name);

	return strncmp(line, name, n) == 0 && line[n] == ' ' ? line + n + 1 : NULL;
}

static bool has_key(const struct ha_announced *a, const char *key)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->components[i].key, key) == 0)
			return true;
	return false;
}

static const char *parse_component(struct ha_announced *out, const char *value)
{
	const char *space = value ? strchr(value, ' ') : NULL;
	char platform[WORD_MAX];

	if (!space || (size_t)(space - value) >= sizeof(platform))
		return "not a component: platform and key";
	snprintf(platform, sizeof(platform), "%.*s", (int)(space - value), value);
	if (!valid_word(platform) || !valid_word(space + 1))
		return "not a component: platform and key";
	if (has_key(out, space + 1))
		return "a component given twice";
	if (ha_announced_add(out, platform, space + 1) < 0)
		return "out of memory";
	return NULL;
}

/* Line number (from 1) of the record into out; NULL, or what is wrong. */
static const char *parse_line(struct ha_announced *out, int number, const char *line)
{
	const char *value;

	switch (number) {
	case 1:
		if (strcmp(line, HEADER) == 0)
			return NULL;
		return strncmp(line, HEADER_PREFIX, strlen(HEADER_PREFIX)) == 0
			       ? "a version this daemon does not read"
			       : "not a gpio2mqtt Home Assistant record";
	case 2:
		value = value_of(line, "prefix");
		out->prefix = value ? decode_prefix(value) : NULL;
		return out->prefix ? NULL : "not the prefix";
	case 3:
		value = value_of(line, "mode");
		if (value && strcmp(value, "device") == 0)
			out->mode = HA_MODE_DEVICE;
		else if (value && strcmp(value, "entity") == 0)
			out->mode = HA_MODE_ENTITY;
		else
			return "not the mode (device or entity)";
		return NULL;
	case 4:
		value = value_of(line, "node");
		if (!value || !valid_word(value) || strlen(value) >= HA_NODE_ID_MAX)
			return "not the node id";
		snprintf(out->node_id, sizeof(out->node_id), "%s", value);
		return NULL;
	default:
		return parse_component(out, value_of(line, "component"));
	}
}

int ha_memory_parse(char *text, size_t len, struct ha_announced *out, char *why, size_t size)
{
	size_t body_len;
	int number = 1;

	memset(out, 0, sizeof(*out));
	if (wholefile_verify(text, len, &body_len, why, size) < 0)
		return -1;
	for (char *line = text, *end; line < text + body_len; line = end + 1, number++) {
		const char *wrong;

		end = memchr(line, '\n', (size_t)(text + body_len - line));
		*end = '\0';
		wrong = parse_line(out, number, line);
		if (wrong) {
			snprintf(why, size, "line %d: %s", number, wrong);
			ha_announced_free(out);
			return -1;
		}
	}
	if (number <= 4) {
		snprintf(why, size, "it ends before the node id");
		ha_announced_free(out);
		return -1;
	}
	out->discovery = true;
	return 0;
}

/* --- the file --- */

static void load(struct ha_memory *m)
{
	char why[128], *text;
	size_t len;
	int rc = wholefile_read(m->path, HA_MEMORY_MAX_BYTES, &text, &len, why, sizeof(why));

	if (rc == 1) {
		log_debug("%s: nothing announced to Home Assistant before", m->path);
		return;
	}
	if (rc == 0 && ha_memory_parse(text, len, &m->recorded, why, sizeof(why)) == 0) {
		log_debug("%s: %zu components announced to Home Assistant before", m->path,
			  m->recorded.n);
		free(text);
		return;
	}
	free(text);
	m->unusable = true;
	log_warning("%s is not usable (%s): ignored; what the daemon before announced to "
		    "Home Assistant and the mapping no longer has stays there",
		    m->path, why);
}

struct ha_memory *ha_memory_open(const char *state_file)
{
	struct ha_memory *m = calloc(1, sizeof(*m));

	if (m && asprintf(&m->path, "%s%s", state_file, HA_MEMORY_SUFFIX) < 0)
		m->path = NULL;
	if (m && asprintf(&m->tmp_path, "%s%s.tmp", state_file, HA_MEMORY_SUFFIX) < 0)
		m->tmp_path = NULL;
	if (m && m->path)
		m->dir = wholefile_dir_of(m->path);
	if (!m || !m->path || !m->tmp_path || !m->dir) {
		log_error("cannot remember Home Assistant's discovery: out of memory");
		ha_memory_close(m);
		return NULL;
	}
	load(m);
	return m;
}

void ha_memory_close(struct ha_memory *m)
{
	if (!m)
		return;
	ha_announced_free(&m->recorded);
	free(m->path);
	free(m->tmp_path);
	free(m->dir);
	free(m);
}

bool ha_memory_is_beside(const struct ha_memory *m, const char *state_file)
{
	size_t n = strlen(state_file);

	return m && strncmp(m->path, state_file, n) == 0 &&
	       strcmp(m->path + n, HA_MEMORY_SUFFIX) == 0;
}

const struct ha_announced *ha_memory_recalled(const struct ha_memory *m)
{
	static const struct ha_announced nothing = { .discovery = false };

	return m ? &m->recorded : &nothing;
}

unsigned int ha_memory_writes(const struct ha_memory *m)
{
	return m ? m->writes : 0;
}

/* Once per cause; a missing directory means the feature is off. */
static void note_failure(struct ha_memory *m, const char *step, int error)
{
	if (step == m->failed_step && error == m->failed_errno)
		return;
	m->failed_step = step;
	m->failed_errno = error;
	if (error == ENOENT && strcmp(step, "remove the record") != 0) {
		log_debug("%s: no directory %s: what is announced to Home Assistant is not "
			  "remembered",
			  m->path, m->dir);
		return;
	}
	log_warning("%s: cannot %s: %s; a restart will not take back from Home Assistant "
		    "what the mapping drops",
		    m->path, step, strerror(error));
}

/* a into the file (or, without discovery, no file); 0, or -1 (logged). */
static int write_record(struct ha_memory *m, const struct ha_announced *a)
{
	const char *step = "remove the record";
	char *text = NULL;
	size_t len = 0;
	int rc, error;

	if (!a->discovery) {
		rc = wholefile_remove(m->path, m->dir);
	} else {
		step = "prepare the text";
		rc = ha_memory_format(a, &text, &len) < 0
			     ? -1 : wholefile_replace(m->path, m->tmp_path, m->dir, text, len, &step);
	}
	error = a->discovery && !text ? ENOMEM : errno;
	free(text);
	if (rc < 0 && strcmp(step, WHOLEFILE_STEP_SYNC_DIR) != 0) {
		note_failure(m, step, error);
		return -1;
	}
	m->failed_step = NULL;
	m->writes++;
	return 0;
}

/* A copy of a into m->recorded; -1 when out of memory. */
static int keep(struct ha_memory *m, const struct ha_announced *a)
{
	struct ha_announced copy = { .discovery = a->discovery, .mode = a->mode };
	int rc = 0;

	memcpy(copy.node_id, a->node_id, sizeof(copy.node_id));
	if (a->discovery) {
		copy.prefix = strdup(a->prefix);
		rc = copy.prefix ? 0 : -1;
	}
	for (size_t i = 0; rc == 0 && i < a->n; i++)
		rc = ha_announced_add(&copy, a->components[i].platform, a->components[i].key);
	if (rc < 0) {
		ha_announced_free(&copy);
		return -1;
	}
	ha_announced_free(&m->recorded);
	m->recorded = copy;
	m->unusable = false;
	return 0;
}

void ha_memory_record(struct ha_memory *m, const struct ha_announced *a)
{
	if (!m || (!m->unusable && ha_announced_equal(&m->recorded, a)))
		return;
	if (write_record(m, a) < 0)
		return;
	log_debug("%s: %s", m->path, a->discovery ? "written" : "removed (no discovery)");
	if (keep(m, a) < 0)
		m->unusable = true; /* written again next time */
}

int ha_memory_forget(const char *state_file)
{
	char *path = NULL, *dir = NULL;
	int rc = -1;

	if (asprintf(&path, "%s%s", state_file, HA_MEMORY_SUFFIX) < 0)
		path = NULL;
	dir = path ? wholefile_dir_of(path) : NULL;
	if (!dir)
		log_error("--forget: out of memory");
	else if ((rc = wholefile_remove(path, dir)) < 0)
		log_error("--forget: cannot remove %s: %s", path, strerror(errno));
	free(path);
	free(dir);
	return rc;
}
