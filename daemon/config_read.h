/* SPDX-License-Identifier: MIT */
/* config_read: what the config module's files share to read a mapping
 * (config.c the file and the state file, config_lines.c outputs and inputs,
 * config_checks.c what must hold across lines, config_mqtt.c and
 * config_ha.c their groups): the reader with
 * its error count, FILE:LINE messages, typed getters and value checks.
 * Internal to the config module; like it, the only code that sees
 * <libconfig.h>. Strings returned are heap copies the caller owns. */
#ifndef GPIO2MQTT_CONFIG_READ_H
#define GPIO2MQTT_CONFIG_READ_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "template.h"

#define ERRORS_SHOWN 50 /* a file of the wrong kind would give thousands */

struct reader {
	const char *path;
	FILE *errors;
	FILE *warnings; /* --check only: NULL for the daemon */
	int failures;
	/* A copy failed: a value is missing or still its default, so what
	 * the checks would find is no fault of the file. load() reports the
	 * shortage once; cfg_fail_at() says nothing more from then on. */
	bool out_of_memory;
	struct template_vars vars; /* %h and %m, pointing into host and machine */
	char host[256];
	char machine[13];
};

/* A problem at line of the file (counted; the first ERRORS_SHOWN shown;
 * neither once r is out of memory). */
void cfg_fail_at(struct reader *r, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Something that will not work under the service (--check only). */
void cfg_warn_at(struct reader *r, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int cfg_line_of(const config_setting_t *s);
/* The line of group's member key, or of the group when key is absent. */
int cfg_key_line(const config_setting_t *group, const char *key);

/* Copies, NULL for a NULL s. Out of memory, they mark r and return NULL:
 * the caller leaves the value out, the load fails with that one problem,
 * and a reload keeps the running mapping. */
char *cfg_copy(struct reader *r, const char *s);
/* The strings up to a NULL, none of them NULL, as one. */
char *cfg_join(struct reader *r, const char *first, ...) __attribute__((sentinel));
/* ptr resized to n (> 0) elements of size; NULL with r marked (ptr kept) when
 * out of memory. */
void *cfg_resize(struct reader *r, void *ptr, size_t n, size_t size);
/* s made elsewhere (topics.h), or NULL with r marked out of memory. */
char *cfg_own(struct reader *r, char *s);
bool cfg_same_str(const char *a, const char *b);

/* Typed getters: 1 = present and valid, 0 = absent, -1 = invalid (said)
 * or out of memory (marked; *out kept). */
int cfg_get_string(struct reader *r, const config_setting_t *group, const char *key,
		   char **out);
int cfg_get_bool(struct reader *r, const config_setting_t *group, const char *key, bool *out);
int cfg_get_int(struct reader *r, const config_setting_t *group, const char *key,
		long long lo, long long hi, int *out);
/* A string that must be one of names[]; stores its index. */
int cfg_get_choice(struct reader *r, const config_setting_t *group, const char *key,
		   const char *const names[], int *out);
const config_setting_t *cfg_get_group(struct reader *r, const config_setting_t *parent,
				      const char *key);
/* Every member of group must be in known[] (NULL-terminated). */
void cfg_check_keys(struct reader *r, const config_setting_t *group, const char *const known[],
		    const char *where);
/* Replaces %h, %m and %% in *s, which group's key holds. */
void cfg_expand_vars(struct reader *r, const config_setting_t *group, const char *key,
		     char **s);

void cfg_check_topic(struct reader *r, const config_setting_t *group, const char *key,
		     const char *topic);
bool cfg_printable(const char *s);
bool cfg_valid_name(const char *s);
void cfg_check_word(struct reader *r, const config_setting_t *group, const char *key,
		    const char *word);

/* The outputs and inputs lists (config_lines.c), into cfg->lines. */
void cfg_read_lines(struct reader *r, const config_setting_t *root, struct config *cfg);
/* What must hold across the lines read (config_checks.c). */
void cfg_check_lines(struct reader *r, const struct config *cfg);

/* The mqtt group (config_mqtt.c), into m with its defaults. */
void cfg_read_mqtt(struct reader *r, const config_setting_t *root, struct cfg_mqtt *m);

/* The homeassistant group (config_ha.c), into h with its defaults. */
void cfg_read_ha(struct reader *r, const config_setting_t *root, struct cfg_ha *h);
void cfg_ha_free(struct cfg_ha *h);
/* An output's ha_component and an input's device_class (config_ha.c). */
void cfg_read_ha_component(struct reader *r, const config_setting_t *g, struct cfg_line *l);
void cfg_read_device_class(struct reader *r, const config_setting_t *g, struct cfg_line *l);

#endif
