/* SPDX-License-Identifier: MIT */
/* template: the per-board parts of a mapping, so that one file serves a
 * whole classroom or fleet. Pure: the values come from the caller.
 *
 *   %h  the short host name (up to the first '.')
 *   %m  the first 12 hex digits of /etc/machine-id
 *   %%  a '%'
 *
 * Any other '%' is an error, so that a typo never reaches a topic. */
#ifndef GPIO2MQTT_TEMPLATE_H
#define GPIO2MQTT_TEMPLATE_H

#include <stdbool.h>

struct template_vars {
	const char *host;    /* %h; NULL when it could not be had */
	const char *machine; /* %m; NULL when it could not be had */
};

/* Whether text has a '%' that template_expand() would replace. */
bool template_has_vars(const char *text);

/* text with its variables replaced, as a new string the caller frees; NULL
 * with *error set (a static message) for an unknown or unavailable one, or
 * when out of memory. */
char *template_expand(const char *text, const struct template_vars *vars, const char **error);

/* The short host name (up to the first '.') of a host name, into out. */
void template_short_host(char *out, unsigned int size, const char *host);

/* The first 12 hex digits of a machine-id file's text, into out (13 bytes);
 * false when the text does not start with 12 hex digits. */
bool template_machine_id(char out[13], const char *text);

#endif
