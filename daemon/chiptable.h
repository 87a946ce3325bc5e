/* SPDX-License-Identifier: MIT */
/* chiptable: the GPIO chips of this system by name, label and path, with an
 * index of their line names, and how a mapping's 'chip' and 'line' find a
 * line. Filled by the gpio backend when it opens the chips, so that both
 * libgpiod generations find lines by the same rules. A chip's line names are
 * read (through the backend's callback) only when a lookup by name first
 * needs them: a mapping by offset reads no line it does not use. Pure but for
 * realpath() on a chip given as a path. Strings are copied;
 * chip_table_free() frees. */
#ifndef GPIO2MQTT_CHIPTABLE_H
#define GPIO2MQTT_CHIPTABLE_H

#include <stddef.h>

#include "gpio.h"

struct chip_table;

/* Adds the names of a chip's lines with chip_table_add_line(); called once
 * per chip at most. 0, or -1 with the reason in err. */
typedef int (*chip_table_names_fn)(void *ctx, struct chip_table *t, size_t chip, char *err,
				   size_t errlen);

struct chip_table *chip_table_new(chip_table_names_fn read_names, void *ctx);
void chip_table_free(struct chip_table *t);

/* Appends a chip (its index is the number of chips before it). 0, or -1
 * (ENOMEM). */
int chip_table_add_chip(struct chip_table *t, const char *name, const char *label,
			const char *path, unsigned int num_lines);
/* Names a line; unnamed lines need not be added. 0, or -1 (ENOMEM). */
int chip_table_add_line(struct chip_table *t, size_t chip, unsigned int offset,
			const char *name);

const char *chip_table_name(const struct chip_table *t, size_t chip);   /* "gpiochip0" */
unsigned int chip_table_num_lines(const struct chip_table *t, size_t chip);

/* Finds a line. chip may be NULL (every chip), a name, a path (symbolic
 * links are followed) or a label, which several chips may share. With name
 * the line is looked up by name and must be unique among the chips that
 * match; otherwise offset is used on the one chip that matches. 0, or -1
 * with the reason in err. */
int chip_table_find(struct chip_table *t, const char *chip, const char *name,
		    unsigned int offset, struct gpio_ref *ref, char *err, size_t errlen);

#endif
