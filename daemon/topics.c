/* SPDX-License-Identifier: MIT */
#include "topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* base + the parts, "%s%s%s"-joined. */
static char *join(const char *base, const char *a, const char *b, const char *c)
{
	size_t len = strlen(base) + strlen(a) + strlen(b) + strlen(c) + 1;
	char *topic = malloc(len);

	if (topic)
		snprintf(topic, len, "%s%s%s%s", base, a, b, c);
	return topic;
}

char *topics_state(const char *base, bool output, const char *name)
{
	return join(base, output ? "/output/" : "/input/", name, "");
}

char *topics_command(const char *base, const char *name)
{
	return join(base, "/output/", name, "/set");
}

char *topics_command_wildcard(const char *base)
{
	return topics_command(base, "+");
}

char *topics_status(const char *base)
{
	return join(base, "/status", "", "");
}

char *topics_error(const char *base)
{
	return join(base, "/error", "", "");
}

bool topics_match(const char *filter, const char *topic)
{
	if (!topic)
		return false;
	while (*filter && *topic) {
		if (*filter == '+') {
			filter++;
			topic += strcspn(topic, "/");
		} else if (*filter++ != *topic++) {
			return false;
		}
	}
	return *topic == '\0' && (*filter == '\0' || strcmp(filter, "+") == 0);
}
