/* SPDX-License-Identifier: MIT */
/* gpio_mem: daemon/gpio.h in memory, for unit tests only (gpio_mem.c is
 * linked in place of gpio_v1.c/gpio_v2.c), and the controls tests drive it
 * with.
 *
 * The model follows what gpio.h documents of the real backends: chips with
 * named lines found through the same chip table; outputs requested at
 * settings->initial, or at the level the line has for GPIO_INITIAL_AS_IS
 * (what gpio_mem_drive_input() or a former holder left); values logical,
 * active_low inverting them on the wire; gpio_line_fd() -1 for outputs
 * and, for an input, a real eventfd that is readable while edge events
 * wait, so a poll() loop can wait on it; a line another program holds
 * refuses a request with "... is in use by \"CONSUMER\"". Not modelled:
 * debounce (recorded, but every edge is reported), bias (it does not move
 * the level), open drain/source (the level driven is the value).
 *
 * State is global to the test process: gpio_mem_reset() forgets every chip,
 * hold and counter. Lines still requested then are orphaned: their
 * gpio_line_release() only frees them. Chip and line names are copied.
 * Errors: 0 / -1 as gpio.h says; the controls return -1 for a line that
 * does not exist. */
#ifndef GPIO2MQTT_TEST_GPIO_MEM_H
#define GPIO2MQTT_TEST_GPIO_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpio.h"

/* Which libgpiod generation gpio_line_can_reconfigure() answers for. */
enum gpio_mem_generation {
	GPIO_MEM_V2, /* the default: any line can be reconfigured */
	GPIO_MEM_V1, /* only an output that stays an output */
};

/* How often the daemon did something to one line. */
struct gpio_mem_counts {
	unsigned int requests;     /* successful gpio_line_request() */
	unsigned int releases;     /* gpio_line_release() of a held line */
	unsigned int reconfigures; /* successful gpio_line_reconfigure() */
	unsigned int level_changes; /* times the daemon changed the level on the wire */
};

/* No chips, no holds, counters at zero, GPIO_MEM_V2. */
void gpio_mem_reset(void);
void gpio_mem_set_generation(enum gpio_mem_generation generation);

/* Adds a chip ("gpiochipN", a label, n_lines lines; names[i] names line i,
 * names or an entry may be NULL for unnamed lines). Its path is
 * "/dev/NAME". Chips added after gpio_chips_open() are not in that
 * catalogue. Returns the chip's index, or -1 when out of memory. */
int gpio_mem_add_chip(const char *name, const char *label, unsigned int n_lines,
		      const char *const *names);

/* The physical level on the wire (0/1): what an output drives, after
 * active_low, or what gpio_mem_drive_input() last put on an input. */
int gpio_mem_value(size_t chip, unsigned int offset);
/* The logical value the holder sees (gpio_line_get()); -1 when not held. */
int gpio_mem_logical_value(size_t chip, unsigned int offset);

bool gpio_mem_is_requested(size_t chip, unsigned int offset);
/* The settings the line is held with now (consumer included); false when it
 * is not held by the daemon. */
bool gpio_mem_settings(size_t chip, unsigned int offset, struct gpio_settings *settings);
struct gpio_mem_counts gpio_mem_counts(size_t chip, unsigned int offset);

/* Puts a physical level on a line from outside. When it changes the level
 * of a line held as an input, a rising or falling edge (logical, after
 * active_low) is queued with timestamp_ns and the line's fd becomes
 * readable. -1 for a line the daemon drives as an output. */
int gpio_mem_drive_input(size_t chip, unsigned int offset, int physical,
			 uint64_t timestamp_ns);

/* Another program takes the line (consumer != NULL) or lets it go (NULL):
 * gpio_check_free() and gpio_line_request() then say who holds it. -1 when
 * the daemon holds it. */
int gpio_mem_hold_by_other(size_t chip, unsigned int offset, const char *consumer);
/* The next gpio_line_request() of the line fails with error (an errno). */
int gpio_mem_refuse_next_request(size_t chip, unsigned int offset, int error);
/* The next gpio_line_reconfigure() of the line fails with error, without
 * changing it, as a kernel that refuses the new settings. */
int gpio_mem_refuse_next_reconfigure(size_t chip, unsigned int offset, int error);

#endif
