/* SPDX-License-Identifier: MIT */
#include "hints.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NEAR_EDITS 2
#define WORD_MAX 64

/* Levenshtein distance, one row at a time; words longer than WORD_MAX are
 * never near. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[WORD_MAX + 1];

	if (la > WORD_MAX || lb > WORD_MAX)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diagonal = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t best = diagonal + (tolower((unsigned char)a[i - 1]) !=
						  tolower((unsigned char)b[j - 1]));

			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (above + 1 < best)
				best = above + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

const char *hints_nearest_key(const char *word, const char *const known[])
{
	const char *best = NULL;
	size_t best_distance = NEAR_EDITS + 1, len = strlen(word);

	for (size_t i = 0; known[i]; i++) {
		size_t d = distance(word, known[i]);

		/* "debounce" for "debounce_ms", "ca" is too short to tell */
		if (len >= 4 && strncmp(known[i], word, len) == 0 && d > 1)
			d = 1;
		if (d < best_distance) {
			best = known[i];
			best_distance = d;
		}
	}
	return best;
}

/* The start of line (1-based) of text and its length, or NULL. */
static const char *line_at(const char *text, int line, size_t *len)
{
	const char *p = text;

	for (int i = 1; i < line && p; i++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (!p)
		return NULL;
	*len = strcspn(p, "\n");
	return p;
}

/* The last character that is not white space or a comment before the
 * start of line, or '\0'. */
static char char_before(const char *text, const char *line)
{
	for (const char *p = line; p > text;) {
		const char *start = p - 1;
		size_t n;

		while (start > text && start[-1] != '\n')
			start--;
		n = (size_t)(p - start);
		while (n > 0 && isspace((unsigned char)start[n - 1]))
			n--;
		if (n > 0 && start[strspn(start, " \t")] != '#')
			return start[n - 1];
		p = start;
	}
	return '\0';
}

static bool has(const char *s, size_t len, char c)
{
	return memchr(s, c, len) != NULL;
}

/* "key: value" with no '=' on the line. */
static bool looks_like_yaml(const char *s, size_t len)
{
	size_t lead = strspn(s, " \t-");
	size_t word = lead;

	while (word < len && (isalnum((unsigned char)s[word]) || s[word] == '_'))
		word++;
	return word > lead && word < len && s[word] == ':' && !has(s, len, '=');
}

const char *hints_syntax(const char *text, int line)
{
	size_t len = 0;
	const char *s = line_at(text, line, &len);
	char before;

	if (strncmp(text, "\xef\xbb\xbf", 3) == 0)
		return "the file starts with a byte order mark (BOM): save it as UTF-8 without one";
	if (!s)
		return NULL;
	before = char_before(text, s);
	if (looks_like_yaml(s, len))
		return "this looks like YAML: the mapping file writes key = value; (see "
		       "gpio2mqtt.conf(5))";
	if (has(s, len, '\''))
		return "strings take double quotes: \"like this\"";
	if (strchr(")]}", s[strspn(s, " \t")]) && s[strspn(s, " \t")] && before == ',')
		return "a comma before the closing bracket: the last entry of a list has none";
	return NULL;
}

/* The 40-pin header of a Raspberry Pi (and of boards that copy it): the
 * GPIO (Broadcom) number at each physical pin; -1 for 3.3 V, -2 for 5 V,
 * -3 for ground. Index 0 is unused. */
static const signed char header_gpio[41] = {
	0,  -1, -2, 2,	-2, 3,	-3, 4,	14, -3, 15, 17, 18, 27, -3, 22, 23, -1, 24, 10, -3,
	9,  25, 11, 8,	-3, 7,	0,  1,	5,  -3, 6,  12, 13, -3, 19, 16, 26, 20, -3, 21,
};

/* The number after prefix (ignoring case, and a space or '_' after it), or -1. */
static long number_after(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long value;

	if (strncasecmp(name, prefix, n) != 0)
		return -1;
	name += n;
	name += *name == ' ' || *name == '_' || *name == '-';
	if (!isdigit((unsigned char)*name))
		return -1;
	value = strtol(name, &end, 10);
	return *end || value > 999 ? -1 : value;
}

static const char *header_pin(long pin, char *out, size_t size, const char **why)
{
	if (pin < 1 || pin > 40) {
		*why = "the 40-pin header has pins 1 to 40";
		return NULL;
	}
	if (header_gpio[pin] < 0) {
		*why = header_gpio[pin] == -3 ? "that header pin is ground, not a GPIO" :
						 "that header pin is power, not a GPIO";
		return NULL;
	}
	*why = "a physical pin of the 40-pin header";
	snprintf(out, size, "GPIO%d", header_gpio[pin]);
	return out;
}

const char *hints_gpio_name(const char *name, char *out, size_t size, const char **why)
{
	long n;

	*why = NULL;
	if ((n = number_after(name, "pin")) >= 0 || (n = number_after(name, "board")) >= 0)
		return header_pin(n, out, size, why);
	if ((n = number_after(name, "")) >= 0)
		*why = "a number in quotes is a line name";
	else if ((n = number_after(name, "BCM")) >= 0)
		*why = "the Broadcom number";
	else if ((n = number_after(name, "GPIO")) >= 0)
		*why = "the kernel's name has no space";
	else
		return NULL;
	snprintf(out, size, "GPIO%ld", n);
	return out;
}
