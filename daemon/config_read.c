/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "config_read.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hints.h"

#define TOPIC_MAX 1024
#define PAYLOAD_WORD_MAX 64

void cfg_fail_at(struct reader *r, int line, const char *fmt, ...)
{
	va_list ap;

	if (r->out_of_memory)
		return;
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
void cfg_warn_at(struct reader *r, int line, const char *fmt, ...)
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

int cfg_line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

/* The line of group's member key, or of the group when key is not there
 * (a default value is then at fault). */
int cfg_key_line(const config_setting_t *group, const char *key)
{
	const config_setting_t *s = group ? config_setting_get_member(group, key) : NULL;

	return cfg_line_of(s ? s : group);
}

char *cfg_copy(struct reader *r, const char *s)
{
	char *c = s ? strdup(s) : NULL;

	if (s && !c)
		r->out_of_memory = true;
	return c;
}

/* The strings up to a NULL, concatenated into a new string. */
char *cfg_join(struct reader *r, const char *first, ...)
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
		r->out_of_memory = true;
		return NULL;
	}
	end = s;
	va_start(ap, first);
	for (const char *p = first; p; p = va_arg(ap, const char *))
		end = stpcpy(end, p);
	va_end(ap);
	return s;
}

void *cfg_resize(struct reader *r, void *ptr, size_t n, size_t size)
{
	void *resized = n <= SIZE_MAX / size ? realloc(ptr, n * size) : NULL;

	if (!resized)
		r->out_of_memory = true;
	return resized;
}

/* --- typed getters: 1 = present and valid, 0 = absent, -1 = invalid --- */

int cfg_get_string(struct reader *r, const config_setting_t *group, const char *key,
		      char **out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	char *copy;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cfg_fail_at(r, cfg_line_of(s), "'%s' must be a string (in double quotes)", key);
		return -1;
	}
	copy = cfg_copy(r, config_setting_get_string(s));
	if (!copy) /* out of memory: r is marked, *out keeps its default */
		return -1;
	free(*out);
	*out = copy;
	return 1;
}

int cfg_get_bool(struct reader *r, const config_setting_t *group, const char *key, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		cfg_fail_at(r, cfg_line_of(s), "'%s' must be true or false", key);
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 1;
}

int cfg_get_int(struct reader *r, const config_setting_t *group, const char *key,
		   long long lo, long long hi, int *out)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	long long v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		cfg_fail_at(r, cfg_line_of(s), "'%s' must be a whole number", key);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		cfg_fail_at(r, cfg_line_of(s), "'%s' is %lld, must be from %lld to %lld", key, v, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 1;
}

/* A string that must be one of names[]; stores its index. */
int cfg_get_choice(struct reader *r, const config_setting_t *group, const char *key,
		      const char *const names[], int *out)
{
	char *value = NULL;
	int found = cfg_get_string(r, group, key, &value);

	if (found <= 0)
		return found;
	for (int i = 0; names[i]; i++) {
		if (strcmp(value, names[i]) == 0) {
			*out = i;
			free(value);
			return 1;
		}
	}
	cfg_fail_at(r, cfg_line_of(config_setting_get_member(group, key)),
		"'%s' is \"%s\", must be one of: %s%s%s%s%s%s%s", key, value, names[0],
		names[1] ? ", " : "", names[1] ? names[1] : "", names[2] ? ", " : "",
		names[2] ? names[2] : "", names[2] && names[3] ? ", " : "",
		names[2] && names[3] ? names[3] : "");
	free(value);
	return -1;
}

void cfg_check_keys(struct reader *r, const config_setting_t *group,
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
		cfg_fail_at(r, cfg_line_of(s), "unknown key '%s' in %s%s%s%s", name ? name : "?", where,
			near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	}
}

const config_setting_t *cfg_get_group(struct reader *r, const config_setting_t *parent,
					 const char *key)
{
	const config_setting_t *s = config_setting_get_member(parent, key);

	if (s && config_setting_type(s) != CONFIG_TYPE_GROUP) {
		cfg_fail_at(r, cfg_line_of(s), "'%s' must be a group: %s = { ... };", key, key);
		return NULL;
	}
	return s;
}

/* Replaces %h, %m and %% in *s, which group's key holds. On an error *s
 * stays as written, which is what the message shows. */
void cfg_expand_vars(struct reader *r, const config_setting_t *group, const char *key,
			char **s)
{
	const char *error = "";
	char *expanded;

	if (!*s || !template_has_vars(*s))
		return;
	/* Of what template_expand() calls, only malloc() sets errno. */
	errno = 0;
	expanded = template_expand(*s, &r->vars, &error);
	if (!expanded && errno == ENOMEM) {
		r->out_of_memory = true;
		return;
	}
	if (!expanded) {
		cfg_fail_at(r, cfg_key_line(group, key), "'%s' \"%s\": %s", key, *s, error);
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
void cfg_check_topic(struct reader *r, const config_setting_t *group, const char *key,
			const char *topic)
{
	if (topic && !valid_topic(topic))
		cfg_fail_at(r, cfg_key_line(group, key),
			"'%s' \"%s\" is not a valid topic (empty, too long, or has + or #)", key,
			topic);
}

bool cfg_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

bool cfg_valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

void cfg_check_word(struct reader *r, const config_setting_t *group, const char *key,
		       const char *word)
{
	if (word && (!*word || strlen(word) > PAYLOAD_WORD_MAX))
		cfg_fail_at(r, cfg_key_line(group, key), "'%s' must have 1 to %d characters", key,
			PAYLOAD_WORD_MAX);
}

bool cfg_same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

char *cfg_own(struct reader *r, char *s)
{
	if (!s)
		r->out_of_memory = true;
	return s;
}
