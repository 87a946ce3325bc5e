/* SPDX-License-Identifier: MIT */
/* topics: the one home of gpio2mqtt's topic scheme. Pure: plain strings.
 *
 *   <base>/output/<name>        an output's state (retained)
 *   <base>/output/<name>/set    its commands
 *   <base>/input/<name>         an input's state (retained)
 *   <base>/input/<name>/event   its presses, {"event_type":"single"} (not retained)
 *   <base>/input/<name>/count   its counter's count (retained)
 *   <base>/output/<name>/get    an empty message: publish the state again
 *   <base>/input/<name>/get     the same for an input
 *   <base>/info                 version, libgpiod, model, lines (retained JSON)
 *   <base>/status               "online" / "offline" (retained; the will)
 *   <base>/error                reports of messages that were ignored
 *
 * Functions returning char * return a new string the caller frees, or NULL
 * when out of memory. */
#ifndef GPIO2MQTT_TOPICS_H
#define GPIO2MQTT_TOPICS_H

#include <stdbool.h>
#include <stddef.h>

/* The payloads of the status topic; TOPICS_OFFLINE is also the will. */
#define TOPICS_ONLINE "online"
#define TOPICS_OFFLINE "offline"

char *topics_state(const char *base, bool output, const char *name);
char *topics_command(const char *base, const char *name);
char *topics_event(const char *base, const char *name);
char *topics_count(const char *base, const char *name);
/* One filter for every output's default command topic. */
char *topics_command_wildcard(const char *base);
char *topics_status(const char *base);
char *topics_info(const char *base);
/* One filter for every output's (or input's) state query. */
char *topics_query_wildcard(const char *base, bool output);
/* The name in a query topic under base, copied into name (size bytes),
 * *output telling whose; NULL when topic is no query or the name does not
 * fit. */
const char *topics_query_name(const char *base, const char *topic, bool *output, char *name,
			      size_t size);
char *topics_error(const char *base);

/* MQTT matching of topic against a filter whose only wildcard is '+' (one
 * whole level, possibly empty), which is all gpio2mqtt builds. A NULL topic
 * matches nothing. */
bool topics_match(const char *filter, const char *topic);

#endif
