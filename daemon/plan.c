/* SPDX-License-Identifier: MIT */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "input.h"
#include "log.h"

#define LINES_DESCRIBED 20 /* a thousand-line mapping would flood the log */

static double ms_since(long long start_us)
{
	return (double)(clock_now_us() - start_us) / 1000.0;
}

void plan_free(struct plan *p)
{
	output_states_free(p->outputs, p->cfg.n_outputs);
	input_set_free(p->inputs); /* stops their timers */
	if (p->lines)
		lineset_release(p->lines, p->cfg.n_lines);
	free(p->lines);
	topic_table_free(p->commands);
	subscriptions_free(&p->subs);
	config_free(&p->cfg);
	memset(p, 0, sizeof(*p));
}

static int index_topics(struct plan *p, bool wildcard_allowed)
{
	const struct config *cfg = &p->cfg;
	size_t topics = 0;

	for (size_t i = 0; i < cfg->n_outputs; i++)
		topics += cfg->lines[i].n_commands;
	p->commands = topic_table_new(topics);
	if (!p->commands)
		return -1;
	for (size_t i = 0; i < cfg->n_outputs; i++)
		for (size_t k = 0; k < cfg->lines[i].n_commands; k++)
			/* config_load already refused duplicate topics */
			if (topic_table_add(p->commands, cfg->lines[i].command_topics[k], i) < 0)
				return -1;
	return subscriptions_plan(&p->subs, cfg, wildcard_allowed);
}

int plan_load(struct plan *p, const char *path, struct gpio_chips *chips, int how,
	      FILE *errors)
{
	long long start = clock_now_us();
	bool check_free = how & PLAN_CHECK_FREE, wildcard_allowed = how & PLAN_WILDCARD;

	memset(p, 0, sizeof(*p));
	if ((how & PLAN_WARN ? config_check : config_load)(&p->cfg, path, errors) < 0)
		return -1;
	p->lines = lineset_new(&p->cfg);
	if (p->lines)
		p->outputs = output_states_new(p->lines, p->cfg.n_outputs);
	if (!p->outputs || index_topics(p, wildcard_allowed) < 0) {
		fprintf(errors, "%s: out of memory\n", path);
		goto fail;
	}
	p->read_ms = ms_since(start);
	start = clock_now_us();
	if (lineset_resolve(chips, &p->cfg, p->lines, check_free, errors) < 0)
		goto fail;
	p->find_ms = ms_since(start);
	return 0;
fail:
	plan_free(p);
	return -1;
}

struct output *plan_output_for(const struct plan *p, const char *topic, size_t len)
{
	long i = topic_table_find(p->commands, topic, len);

	return i < 0 ? NULL : &p->outputs[i];
}

bool plan_subscribes(const struct plan *p, const char *filter)
{
	if (p->subs.wildcard && strcmp(filter, p->subs.wildcard) == 0)
		return true;
	return topic_table_find(p->commands, filter, strlen(filter)) >= 0 &&
	       !subscriptions_covers(&p->subs, filter);
}

void plan_print_summary(const struct plan *p)
{
	const struct config *cfg = &p->cfg;
	size_t inputs = cfg->n_lines - cfg->n_outputs;
	char nodes[256];

	config_describe_nodes(&cfg->mqtt, nodes, sizeof(nodes));
	printf("%s: %zu output%s, %zu input%s; broker %s; client id %s\n", cfg->path,
	       cfg->n_outputs, cfg->n_outputs == 1 ? "" : "s", inputs, inputs == 1 ? "" : "s",
	       nodes, cfg->mqtt.client_id);
}

/* "; pulse 500 ms; interlock motor" and so on, or "". */
static void describe_behaviour(const struct cfg_line *c, char *out, size_t size)
{
	static const char *const failsafe[] = { "keep", "off", "on" };
	int len = 0;

	out[0] = '\0';
	if (c->pulse_ms)
		len += snprintf(out + len, size - (size_t)len, "; pulse %u ms", c->pulse_ms);
	if (c->interlock && len < (int)size)
		len += snprintf(out + len, size - (size_t)len, "; interlock %s (wait %u ms)",
				c->interlock, c->interlock_wait_ms);
	if (c->max_on_ms && len < (int)size)
		len += snprintf(out + len, size - (size_t)len, "; on at most %u ms", c->max_on_ms);
	if (c->on_disconnect != FAILSAFE_KEEP && len < (int)size)
		snprintf(out + len, size - (size_t)len, "; %s after %u s without the broker",
			 failsafe[c->on_disconnect], c->on_disconnect_after_s);
}

static void describe_line(const struct line_state *l, struct gpio_chips *chips)
{
	const struct cfg_line *c = l->cfg;
	char where[128], commands[256] = "", behaviour[160];
	size_t len = 0;

	gpio_ref_describe(chips, &l->ref, where, sizeof(where));
	for (size_t k = 0; k < c->n_commands && len < sizeof(commands); k++)
		len += (size_t)snprintf(commands + len, sizeof(commands) - len, "%s%s",
					k ? ", " : "", c->command_topics[k]);
	describe_behaviour(c, behaviour, sizeof(behaviour));
	if (c->output)
		log_info("output %s: %s; commands on %s; state on %s%s", c->name, where, commands,
			 c->state_topic, behaviour);
	else
		log_info("input %s: %s; state on %s", c->name, where, c->state_topic);
}

void plan_describe(const struct plan *p, struct gpio_chips *chips)
{
	for (size_t i = 0; i < p->cfg.n_lines && i < LINES_DESCRIBED; i++)
		describe_line(&p->lines[i], chips);
	if (p->cfg.n_lines > LINES_DESCRIBED)
		log_info("... and %zu more lines", p->cfg.n_lines - LINES_DESCRIBED);
}
