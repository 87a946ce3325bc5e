/* SPDX-License-Identifier: MIT */
#include "template.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool template_has_vars(const char *text)
{
	return strchr(text, '%') != NULL;
}

/* The value of %c, or NULL with *error set. */
static const char *value_of(char c, const struct template_vars *vars, const char **error)
{
	switch (c) {
	case 'h':
		if (!vars->host)
			*error = "%h: the host name is not known";
		return vars->host;
	case 'm':
		if (!vars->machine)
			*error = "%m: /etc/machine-id cannot be read or has no machine id";
		return vars->machine;
	case '%':
		return "%";
	default:
		*error = "unknown '%' variable (use %h for the host name, %m for the machine id, "
			 "%% for '%')";
		return NULL;
	}
}

/* Two passes over text: measure, then write. */
static size_t expand_into(char *out, const char *text, const struct template_vars *vars,
			  const char **error)
{
	size_t len = 0;

	for (const char *p = text; *p; p++) {
		const char *value;
		size_t n;

		if (*p != '%') {
			if (out)
				out[len] = *p;
			len++;
			continue;
		}
		value = value_of(p[1], vars, error);
		if (!value)
			return (size_t)-1;
		n = strlen(value);
		if (out)
			memcpy(out + len, value, n);
		len += n;
		p++;
	}
	if (out)
		out[len] = '\0';
	return len;
}

char *template_expand(const char *text, const struct template_vars *vars, const char **error)
{
	size_t len = expand_into(NULL, text, vars, error);
	char *out;

	if (len == (size_t)-1)
		return NULL;
	out = malloc(len + 1);
	if (!out) {
		*error = "out of memory";
		return NULL;
	}
	expand_into(out, text, vars, error);
	return out;
}

void template_short_host(char *out, unsigned int size, const char *host)
{
	size_t n = strcspn(host, ".");

	if (!size)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(out, host, n);
	out[n] = '\0';
}

bool template_machine_id(char out[13], const char *text)
{
	for (int i = 0; i < 12; i++) {
		if (!isxdigit((unsigned char)text[i]))
			return false;
		out[i] = (char)tolower((unsigned char)text[i]);
	}
	out[12] = '\0';
	return true;
}
