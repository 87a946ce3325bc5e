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

char *topics_event(const char *base, const char *name)
{
	return join(base, "/input/", name, "/event");
}

char *topics_count(const char *base, const char *name)
{
	return join(base, "/input/", name, "/count");
}

char *topics_command_wildcard(const char *base)
{
	return topics_command(base, "+");
}

char *topics_status(const char *base)
{
	return join(base, "/status", "", "");
}

char *topics_info(const char *base)
{
	return join(base, "/info", "", "");
}

char *topics_query_wildcard(const char *base, bool output)
{
	return join(base, output ? "/output/" : "/input/", "+", "/get");
}

const char *topics_query_name(const char *base, const char *topic, bool *output, char *name,
			      size_t size)
{
	size_t n = strlen(base), len;

	if (strncmp(topic, base, n) != 0)
		return NULL;
	topic += n;
	if (strncmp(topic, "/output/", 8) == 0)
		topic += 8, *output = true;
	else if (strncmp(topic, "/input/", 7) == 0)
		topic += 7, *output = false;
	else
		return NULL;
	len = strcspn(topic, "/");
	if (!len || len >= size || strcmp(topic + len, "/get") != 0)
		return NULL;
	memcpy(name, topic, len);
	name[len] = '\0';
	return name;
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
