/* SPDX-License-Identifier: MIT */
/* linenames: index of GPIO line names across chips, built as chips' names
 * are read so that finding a line by name does not ask the kernel again.
 * Names match ignoring case ("gpio17" finds GPIO17): kernels and boards
 * differ in how they write them, users more so.
 * Pure: no I/O. Names are copied; line_names_free() frees them. */
#ifndef GPIO2MQTT_LINENAMES_H
#define GPIO2MQTT_LINENAMES_H

#include <stddef.h>

struct line_names;

struct line_name_hit {
	size_t chip;
	unsigned int offset;
};

#define LINE_NAMES_ANY_CHIP ((size_t)-1)

struct line_names *line_names_new(void);
void line_names_free(struct line_names *n);

/* 0, or -1 (ENOMEM). Unnamed lines need not be added. */
int line_names_add(struct line_names *n, const char *name, size_t chip, unsigned int offset);

/* Sorts the index; call after adding and before finding (adding more later
 * needs another seal). */
void line_names_seal(struct line_names *n);

/* Stores up to max lines called name (on chip, unless LINE_NAMES_ANY_CHIP)
 * in hits, in chip order, and returns how many there are in all. */
size_t line_names_find(const struct line_names *n, const char *name, size_t chip,
		       struct line_name_hit *hits, size_t max);

#endif
