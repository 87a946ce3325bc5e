/* SPDX-License-Identifier: MIT */
/* gpio: GPIO lines through libgpiod, the only module that includes <gpiod.h>.
 *
 * Two implementations share this interface: gpio_v1.c for the libgpiod 1.6 API
 * and gpio_v2.c for the 2.x API; the Makefile picks one from pkg-config.
 *
 * Ownership: gpio_chips_open() returns a catalogue the caller frees with
 * gpio_chips_close() after every line requested through it was released with
 * gpio_line_release(). Strings passed in are copied where they are kept.
 * Errors: 0 / -1 (NULL for pointers) with a human-readable message in err.
 */
#ifndef GPIO2MQTT_GPIO_H
#define GPIO2MQTT_GPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum gpio_bias { GPIO_BIAS_AS_IS, GPIO_BIAS_DISABLED, GPIO_BIAS_PULL_UP, GPIO_BIAS_PULL_DOWN };
enum gpio_drive { GPIO_DRIVE_PUSH_PULL, GPIO_DRIVE_OPEN_DRAIN, GPIO_DRIVE_OPEN_SOURCE };

struct gpio_chips;
struct gpio_line;

/* Where a line is: index of its chip in the catalogue and offset on it. */
struct gpio_ref {
	size_t chip;
	unsigned int offset;
};

/* settings->initial of an output taken over as it is: no change on the wire.
 * The line becomes an output at the level it has (as active_low reads it),
 * direction and value set together; gpio_line_get() then says which. */
#define GPIO_INITIAL_AS_IS (-1)

/* What to request. Values are logical: active_low inverts them on the wire. */
struct gpio_settings {
	bool output;
	bool active_low;
	int initial;              /* outputs: 0, 1 or GPIO_INITIAL_AS_IS */
	enum gpio_drive drive;    /* outputs */
	enum gpio_bias bias;
	unsigned int debounce_ms; /* inputs; 0 = none */
	const char *consumer;     /* label shown to other users of the chip */
};

/* Called for every (debounced) edge of an input: new logical value and the
 * kernel's monotonic timestamp of the edge. */
typedef void (*gpio_edge_fn)(void *ctx, int value, uint64_t timestamp_ns);

/* Opens every /dev/gpiochipN. A chip's line names are read, once, when a
 * lookup by name first needs them; lines found by offset are read alone. */
struct gpio_chips *gpio_chips_open(char *err, size_t errlen);
void gpio_chips_close(struct gpio_chips *chips);

/* Finds a line. chip may be NULL (search every chip), a name ("gpiochip0"),
 * a path ("/dev/gpiochip0") or a label ("pinctrl-rp1"). With name != NULL the
 * line is looked up by name and must be unique among the chips searched;
 * otherwise offset is used and chip is required. */
int gpio_chips_find(struct gpio_chips *chips, const char *chip, const char *name,
		    unsigned int offset, struct gpio_ref *ref, char *err, size_t errlen);

/* "gpiochip0 offset 17 (GPIO17)" into buf; returns buf. */
const char *gpio_ref_describe(struct gpio_chips *chips, const struct gpio_ref *ref,
			      char *buf, size_t len);

/* 0 when the line is free; -1 with "... is in use by CONSUMER" in err. */
int gpio_check_free(struct gpio_chips *chips, const struct gpio_ref *ref, char *err,
		    size_t errlen);

/* Requests one line with the settings; outputs start at settings->initial. */
struct gpio_line *gpio_line_request(struct gpio_chips *chips, const struct gpio_ref *ref,
				    const struct gpio_settings *settings, char *err,
				    size_t errlen);
void gpio_line_release(struct gpio_line *line);

int gpio_line_set(struct gpio_line *line, int value); /* -1 with errno */
int gpio_line_get(struct gpio_line *line);            /* 0/1, or -1 with errno */

/* Whether gpio_line_reconfigure() can give the line these settings without
 * releasing it. libgpiod 2.x can change anything (direction, edges and
 * debounce too); 1.6 only an output that stays an output, as it cannot
 * reconfigure a line requested for edge events, which every input here is.
 * When it cannot, release the line and request it anew. */
bool gpio_line_can_reconfigure(const struct gpio_line *line, const struct gpio_settings *to);

/* Gives a requested line new settings in place, so that no other program can
 * take it in between. An output is driven at settings->initial at once,
 * logical under the new active_low: passing the value the caller set keeps
 * the output's logical state; GPIO_INITIAL_AS_IS keeps the level on the wire. settings->consumer is not changed. On failure
 * the line stays requested, its settings possibly half changed: reconfigure
 * it back or release it. 0, or -1 with a message in err. */
int gpio_line_reconfigure(struct gpio_line *line, const struct gpio_settings *settings,
			  char *err, size_t errlen);

/* Inputs: an fd that becomes readable when gpio_line_handle_events() has work;
 * -1 for outputs. The fd stays the same for the life of the line, or until
 * gpio_line_reconfigure() turns an output into an input or back. */
int gpio_line_fd(const struct gpio_line *line);
/* Reads pending events without blocking and calls fn for each; -1 with errno. */
int gpio_line_handle_events(struct gpio_line *line, gpio_edge_fn fn, void *ctx);

/* Prints every chip (name, label, lines) and line (offset, name, use). */
int gpio_list(FILE *out, char *err, size_t errlen);

const char *gpio_version_built(void);
const char *gpio_version_runtime(void);

#endif
