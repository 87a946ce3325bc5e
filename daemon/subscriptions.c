/* subscriptions: see subscriptions.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

#include "subscriptions.h"

static bool matches(const char *filter, const char *topic)
{
	bool result = false;

	return topic && mosquitto_topic_matches_sub(filter, topic, &result) == MOSQ_ERR_SUCCESS &&
	       result;
}

static char *default_commands_filter(const struct config *cfg)
{
	const char *base = cfg->mqtt.base_topic;
	size_t len = strlen(base) + sizeof("/output/+/set");
	char *filter = malloc(len);

	if (filter)
		snprintf(filter, len, "%s/output/+/set", base);
	return filter;
}

/* Command topics the filter would carry; -1 if it would carry one of ours. */
static long covered_commands(const struct config *cfg, const char *filter)
{
	long covered = 0;

	if (matches(filter, cfg->status_topic) || matches(filter, cfg->error_topic))
		return -1;
	for (size_t i = 0; i < cfg->n_lines; i++) {
		if (matches(filter, cfg->lines[i].state_topic))
			return -1;
		covered += matches(filter, cfg->lines[i].command_topic);
	}
	return covered;
}

static char *choose_wildcard(const struct config *cfg, bool *failed)
{
	char *filter = default_commands_filter(cfg);

	*failed = !filter;
	if (filter && covered_commands(cfg, filter) < 2) {
		free(filter);
		filter = NULL;
	}
	return filter;
}

int subscriptions_plan(struct subscriptions *s, const struct config *cfg, bool wildcard_allowed)
{
	bool failed = false;

	memset(s, 0, sizeof(*s));
	if (wildcard_allowed)
		s->wildcard = choose_wildcard(cfg, &failed);
	s->filters = calloc(cfg->n_outputs + 1, sizeof(char *));
	if (failed || !s->filters) {
		subscriptions_free(s);
		return -1;
	}
	if (s->wildcard)
		s->filters[s->n++] = s->wildcard;
	for (size_t i = 0; i < cfg->n_outputs; i++)
		if (!subscriptions_covers(s, cfg->lines[i].command_topic))
			s->filters[s->n++] = cfg->lines[i].command_topic;
	return 0;
}

void subscriptions_free(struct subscriptions *s)
{
	free(s->filters);
	free(s->wildcard);
	memset(s, 0, sizeof(*s));
}

bool subscriptions_covers(const struct subscriptions *s, const char *topic)
{
	return s->wildcard && matches(s->wildcard, topic);
}
