/* SPDX-License-Identifier: MIT */
/* hints: what a user most likely meant, for error messages about a mapping
 * file. Pure: no I/O. */
#ifndef GPIO2MQTT_HINTS_H
#define GPIO2MQTT_HINTS_H

#include <stddef.h>

/* The entry of known[] (NULL-terminated) nearest to word: a few typing
 * mistakes away, or word with a part left off ("debounce" for
 * "debounce_ms"). NULL when none is near enough. */
const char *hints_nearest_key(const char *word, const char *const known[]);

/* Why libconfig found a syntax error at line (1-based) of text, in words a
 * user of other formats understands: YAML's "key: value", single quotes, a
 * byte order mark, a comma before a closing bracket.
 * NULL when nothing familiar is seen. A static string. */
const char *hints_syntax(const char *text, int line);

/* The kernel's name for a line that a user wrote the way a Raspberry Pi's
 * pinout does: "17", "BCM17", "GPIO 17" -> "GPIO17", and "pin11" (the
 * physical pin of the 40-pin header) -> "GPIO17". Written into out; NULL
 * when name is none of these forms. *why says which form it was, or that
 * the pin is a power or ground pin (then NULL is returned too). */
const char *hints_gpio_name(const char *name, char *out, size_t size, const char **why);

#endif
