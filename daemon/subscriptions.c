/* SPDX-License-Identifier: MIT */
/* subscriptions: see subscriptions.h. */
#include <stdlib.h>
#include <string.h>

#include "subscriptions.h"
#include "topics.h"

/* Command topics the filter would carry; -1 if it would carry one of ours. */
static long covered_commands(const struct config *cfg, const char *filter)
{
	long covered = 0;

	if (topics_match(filter, cfg->status_topic) || topics_match(filter, cfg->error_topic))
		return -1;
	for (size_t i = 0; i < cfg->n_lines; i++) {
		if (topics_match(filter, cfg->lines[i].state_topic))
			return -1;
		for (size_t k = 0; k < cfg->lines[i].n_commands; k++)
			covered += topics_match(filter, cfg->lines[i].command_topics[k]);
	}
	return covered;
}

int subscriptions_plan(struct subscriptions *s, const struct config *cfg, bool wildcard_allowed)
{
	size_t topics = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < cfg->n_outputs; i++)
		topics += cfg->lines[i].n_commands;
	s->filters = calloc(topics + 1, sizeof(char *));
	if (wildcard_allowed)
		s->wildcard = topics_command_wildcard(cfg->mqtt.base_topic);
	if (!s->filters || (wildcard_allowed && !s->wildcard)) {
		subscriptions_free(s);
		return -1;
	}
	if (s->wildcard && covered_commands(cfg, s->wildcard) < 2) {
		free(s->wildcard);
		s->wildcard = NULL;
	}
	if (s->wildcard)
		s->filters[s->n++] = s->wildcard;
	for (size_t i = 0; i < cfg->n_outputs; i++)
		for (size_t k = 0; k < cfg->lines[i].n_commands; k++)
			if (!subscriptions_covers(s, cfg->lines[i].command_topics[k]))
				s->filters[s->n++] = cfg->lines[i].command_topics[k];
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
	return s->wildcard && topics_match(s->wildcard, topic);
}
