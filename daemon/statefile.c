/* SPDX-License-Identifier: MIT */
/* statefile: see statefile.h. The file, as a person reads it:
 *
 *   gpio2mqtt-state 1
 *   output lamp on
 *   output relay-2 off
 *   counter water 1234
 *   crc32 094a4805
 *
 * The version line; one line per output and per counter, each kind in
 * strictly increasing order of name (bytes, as strcmp), names with every
 * byte outside [A-Za-z0-9._-] written %XX; counts in plain decimal; then the
 * CRC-32 (zlib's) of every byte before the "crc32" line, in lower-case hex.
 * Only that exact form is read: anything else (a torn or truncated file, an
 * edit, a name given twice, a file over STATEFILE_MAX_BYTES) makes the whole
 * file corrupt, and nothing of it is used. */
#include "statefile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "wholefile.h"

#define HEADER "gpio2mqtt-state 1"
#define HEADER_PREFIX "gpio2mqtt-state "
#define ENCODED_MAX (3 * STATEFILE_NAME_MAX + 1)

struct entry {
	char *name;
	uint64_t value; /* outputs: 0 or 1 */
};

/* Sorted by name, so that a command finds its output without a scan. */
struct table {
	struct entry *items;
	size_t n, allocated;
};

struct statefile {
	char *path;
	char *tmp_path; /* path.tmp: written, then renamed over path */
	char *dir;      /* synced after the rename */
	struct loop *loop;
	struct timer timer;
	struct table outputs, counters;
	bool dirty;
	unsigned int writes;
	/* Why the last write failed (step NULL: it did not), so that a
	 * failure is logged once per cause, not once per retry. */
	const char *failed_step;
	int failed_errno;
};

/* --- tables --- */

/* The entry for name, or NULL with *at where it would go. */
static struct entry *table_find(const struct table *t, const char *name, size_t *at)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, t->items[mid].name);

		if (c == 0)
			return &t->items[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*at = lo;
	return NULL;
}

static bool table_grow(struct table *t)
{
	size_t more = t->allocated ? 2 * t->allocated : 16;
	struct entry *items;

	if (t->n < t->allocated)
		return true;
	items = realloc(t->items, more * sizeof(*items));
	if (!items)
		return false;
	t->items = items;
	t->allocated = more;
	return true;
}

/* A new entry for name (copied) at position at; NULL when out of memory. */
static struct entry *table_insert(struct table *t, size_t at, const char *name)
{
	char *copy = strdup(name);

	if (!copy || !table_grow(t)) {
		free(copy);
		return NULL;
	}
	memmove(&t->items[at + 1], &t->items[at], (t->n - at) * sizeof(*t->items));
	t->n++;
	t->items[at] = (struct entry){ .name = copy };
	return &t->items[at];
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->items[i].name);
	free(t->items);
	memset(t, 0, sizeof(*t));
}

/* --- names in the file --- */

static bool plain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* name as written in the file, into out (ENCODED_MAX bytes). */
static void encode_name(const char *name, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (plain_byte(*p)) {
			out[n++] = (char)*p;
			continue;
		}
		out[n++] = '%';
		out[n++] = hex[*p >> 4];
		out[n++] = hex[*p & 15];
	}
	out[n] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* lower case is not how encode_name() writes it */
}

/* The name written as in, into out (STATEFILE_NAME_MAX + 1 bytes); false
 * unless in is exactly how encode_name() would write a valid name. */
static bool decode_name(const char *in, char *out)
{
	char again[ENCODED_MAX];
	size_t n = 0;

	for (const char *p = in; *p; n++) {
		int hi = 0, lo = 0;

		if (n == STATEFILE_NAME_MAX)
			return false;
		if (*p != '%') {
			out[n] = *p++;
			continue;
		}
		hi = hex_digit(p[1]);
		lo = hi < 0 ? -1 : hex_digit(p[2]);
		if (lo < 0 || (hi == 0 && lo == 0))
			return false;
		out[n] = (char)(hi * 16 + lo);
		p += 3;
	}
	out[n] = '\0';
	if (n == 0)
		return false;
	encode_name(out, again);
	return strcmp(again, in) == 0;
}

static bool valid_name(const char *name)
{
	return name && *name && strlen(name) <= STATEFILE_NAME_MAX;
}

/* --- reading --- */

/* A count in plain decimal, as "%" PRIu64 writes it. */
static bool parse_count(const char *s, uint64_t *count)
{
	char again[24];

	if (strspn(s, "0123456789") != strlen(s) || strlen(s) > 20)
		return false;
	errno = 0;
	*count = strtoull(s, NULL, 10);
	snprintf(again, sizeof(again), "%" PRIu64, *count);
	return errno == 0 && strcmp(again, s) == 0;
}

/* Appends to a table read in order: false unless name comes after the last. */
static bool table_append(struct table *t, const char *name, uint64_t value)
{
	struct entry *e;

	if (t->n && strcmp(name, t->items[t->n - 1].name) <= 0)
		return false;
	e = table_insert(t, t->n, name);
	if (e)
		e->value = value;
	return e != NULL;
}

/* One "KIND NAME VALUE" line into sf; NULL, or what is wrong with it. */
static const char *parse_entry(struct statefile *sf, char *line)
{
	char *name = strchr(line, ' '), *value = name ? strchr(name + 1, ' ') : NULL;
	char decoded[STATEFILE_NAME_MAX + 1];
	uint64_t count;

	if (!value || strchr(value + 1, ' '))
		return "not three words";
	*name++ = '\0';
	*value++ = '\0';
	if (!decode_name(name, decoded))
		return "not a name";
	if (strcmp(line, "output") == 0) {
		if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0)
			return "an output is on or off";
		if (!table_append(&sf->outputs, decoded, strcmp(value, "on") == 0))
			return "outputs out of order, repeated, or out of memory";
	} else if (strcmp(line, "counter") == 0) {
		if (!parse_count(value, &count))
			return "a count is a decimal number";
		if (!table_append(&sf->counters, decoded, count))
			return "counters out of order, repeated, or out of memory";
	} else {
		return "neither output nor counter";
	}
	return NULL;
}

/* The checked text of the file (len bytes, ending in a newline) split into
 * lines and read into sf; 0, or -1 with why. */
static int parse_lines(struct statefile *sf, char *text, size_t len, char *why, size_t size)
{
	int number = 1;

	for (char *line = text, *end; line < text + len; line = end + 1, number++) {
		const char *wrong = NULL;

		end = memchr(line, '\n', (size_t)(text + len - line));
		*end = '\0';
		if (number == 1 && strcmp(line, HEADER) != 0)
			wrong = strncmp(line, HEADER_PREFIX, strlen(HEADER_PREFIX)) == 0
					? "a version this daemon does not read"
					: "not a gpio2mqtt state file";
		else if (number > 1)
			wrong = parse_entry(sf, line);
		if (wrong) {
			snprintf(why, size, "line %d: %s", number, wrong);
			return -1;
		}
	}
	return 0;
}

/* The whole file checked and read into sf: 0, or -1 with why. */
static int parse(struct statefile *sf, char *text, size_t len, char *why, size_t size)
{
	size_t body_len;

	if (wholefile_verify(text, len, &body_len, why, size) < 0)
		return -1;
	return parse_lines(sf, text, body_len, why, size);
}

/* Fills sf from its file; a file that cannot be used leaves it empty. */
static void load(struct statefile *sf)
{
	char why[128], *text;
	size_t len;
	int rc = wholefile_read(sf->path, STATEFILE_MAX_BYTES, &text, &len, why, sizeof(why));

	if (rc == 1) {
		log_debug("no state file %s yet", sf->path);
		return;
	}
	if (rc == 0 && parse(sf, text, len, why, sizeof(why)) == 0) {
		log_debug("state file %s: %zu outputs, %zu counters", sf->path, sf->outputs.n,
			  sf->counters.n);
		free(text);
		return;
	}
	free(text);
	table_free(&sf->outputs);
	table_free(&sf->counters);
	log_warning("state file %s is not usable (%s): ignored; outputs with initial = "
		    "\"restore\" start off, counters at 0",
		    sf->path, why);
}

/* --- writing --- */

/* The text of the file, NUL-terminated, in *text (malloc'd); -1 when out of
 * memory. */
static int format(const struct statefile *sf, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);
	char name[ENCODED_MAX];

	if (!f)
		return -1;
	fprintf(f, "%s\n", HEADER);
	for (size_t i = 0; i < sf->outputs.n; i++) {
		encode_name(sf->outputs.items[i].name, name);
		fprintf(f, "output %s %s\n", name, sf->outputs.items[i].value ? "on" : "off");
	}
	for (size_t i = 0; i < sf->counters.n; i++) {
		encode_name(sf->counters.items[i].name, name);
		fprintf(f, "counter %s %" PRIu64 "\n", name, sf->counters.items[i].value);
	}
	if (fclose(f) != 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	return wholefile_seal(text, len);
}

/* Once per cause: a full disk or a read-only file system would otherwise
 * fill the log with one message per retry. */
static void note_failure(struct statefile *sf, const char *step, int error)
{
	if (step == sf->failed_step && error == sf->failed_errno) {
		log_debug("state file %s: cannot %s: %s (again)", sf->path, step, strerror(error));
		return;
	}
	log_error("state file %s: cannot %s: %s; the states are kept in memory and written "
		  "once it works",
		  sf->path, step, strerror(error));
	sf->failed_step = step;
	sf->failed_errno = error;
}

/* 0 when written; -1 (logged) when the file is still the one before. */
static int write_now(struct statefile *sf)
{
	const char *step = "prepare the text";
	char *text = NULL;
	size_t len = 0;
	int rc = format(sf, &text, &len) < 0
			 ? -1 : wholefile_replace(sf->path, sf->tmp_path, sf->dir, text, len, &step);
	int error = text ? errno : ENOMEM;

	free(text);
	if (rc < 0) {
		note_failure(sf, step, error);
		if (strcmp(step, WHOLEFILE_STEP_SYNC_DIR) != 0)
			return -1;
	} else if (sf->failed_step) {
		log_info("state file %s written again", sf->path);
		sf->failed_step = NULL;
	}
	sf->dirty = false;
	sf->writes++;
	log_debug("state file %s written (%u writes)", sf->path, sf->writes);
	return 0;
}

static void on_timer(struct timer *t, void *ctx)
{
	struct statefile *sf = ctx;

	if (write_now(sf) < 0)
		loop_timer_start(sf->loop, t, STATEFILE_RETRY_MS);
}

static void mark_dirty(struct statefile *sf)
{
	sf->dirty = true;
	/* A pending timer is left where it is: a flood of changes still gets
	 * its write STATEFILE_DELAY_MS after the first of them. */
	if (timer_pending(&sf->timer))
		return;
	if (!sf->loop || loop_timer_start(sf->loop, &sf->timer, STATEFILE_DELAY_MS) < 0)
		write_now(sf);
}

static void set(struct statefile *sf, struct table *t, const char *name, uint64_t value)
{
	struct entry *e;
	size_t at = 0;

	e = table_find(t, name, &at);
	if (e && e->value == value)
		return;
	if (!e)
		e = table_insert(t, at, name);
	if (!e) {
		log_error("out of memory: the state of %s is not saved", name);
		return;
	}
	e->value = value;
	mark_dirty(sf);
}

/* --- the interface --- */

struct statefile *statefile_open(const char *path, struct loop *loop)
{
	struct statefile *sf = calloc(1, sizeof(*sf));

	if (!sf)
		return NULL;
	sf->loop = loop;
	timer_init(&sf->timer, on_timer, sf);
	sf->path = strdup(path);
	sf->dir = wholefile_dir_of(path);
	if (sf->path && asprintf(&sf->tmp_path, "%s.tmp", path) < 0)
		sf->tmp_path = NULL;
	if (!sf->path || !sf->dir || !sf->tmp_path) {
		statefile_close(sf);
		return NULL;
	}
	load(sf);
	return sf;
}

void statefile_close(struct statefile *sf)
{
	if (!sf)
		return;
	if (sf->dirty)
		write_now(sf);
	if (timer_pending(&sf->timer))
		loop_timer_stop(sf->loop, &sf->timer);
	table_free(&sf->outputs);
	table_free(&sf->counters);
	free(sf->path);
	free(sf->tmp_path);
	free(sf->dir);
	free(sf);
}

bool statefile_output(const struct statefile *sf, const char *name, int *value)
{
	size_t at;
	const struct entry *e = sf && name ? table_find(&sf->outputs, name, &at) : NULL;

	if (e)
		*value = (int)e->value;
	return e != NULL;
}

bool statefile_counter(const struct statefile *sf, const char *name, uint64_t *count)
{
	size_t at;
	const struct entry *e = sf && name ? table_find(&sf->counters, name, &at) : NULL;

	if (e)
		*count = e->value;
	return e != NULL;
}

void statefile_set_output(struct statefile *sf, const char *name, int value)
{
	if (sf && valid_name(name))
		set(sf, &sf->outputs, name, value != 0);
}

void statefile_set_counter(struct statefile *sf, const char *name, uint64_t count)
{
	if (sf && valid_name(name))
		set(sf, &sf->counters, name, count);
}

int statefile_flush(struct statefile *sf)
{
	if (!sf || !sf->dirty)
		return 0;
	if (timer_pending(&sf->timer))
		loop_timer_stop(sf->loop, &sf->timer);
	return write_now(sf);
}

unsigned int statefile_writes(const struct statefile *sf)
{
	return sf ? sf->writes : 0;
}
