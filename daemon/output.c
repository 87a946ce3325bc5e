/* SPDX-License-Identifier: MIT */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gpio.h"
#include "log.h"
#include "statefile.h"

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL

_Static_assert(PAYLOAD_DURATION_MAX_MS == CFG_DURATION_MAX_MS,
	       "commands and the mapping allow the same durations");

static const char *name_of(const struct output *s)
{
	return s->line->cfg->name;
}

static struct loop *loop_of(const struct output *s)
{
	return s->set->loop;
}

/* t at due_ns; false when the loop had no room for it (logged): the caller
 * must not leave the line waiting for a timer that will not come. */
static bool start_timer(struct output *s, struct timer *t, long long due_ns)
{
	if (loop_timer_start_at(loop_of(s), t, due_ns) == 0)
		return true;
	log_error("%s: out of memory for a timer", name_of(s));
	return false;
}

/* --- the one place values change --- */

/* The safety limit runs while the output is on, however it went on, from
 * when it went on. A blink's on phases are exempt: they are within the
 * limit by construction (refusal()). */
static void arm_limit(struct output *s)
{
	const struct cfg_line *c = s->line->cfg;

	if (!s->line->value || !c->max_on_ms || s->task == OUTPUT_BLINK)
		return;
	start_timer(s, &s->limit, s->on_since_ns + c->max_on_ms * NS_PER_MS);
}

static void note_change(struct output *s, int value)
{
	if (value) {
		s->on_since_ns = s->set_ns;
		arm_limit(s);
	} else {
		s->off_since_ns = s->set_ns;
		loop_timer_stop(loop_of(s), &s->limit);
	}
}

int output_set(struct output *s, int value)
{
	struct line_state *l = s->line;
	int was = l->value;

	if (gpio_line_set(l->gpio, value) < 0) {
		log_error("cannot set %s: %s", name_of(s), strerror(errno));
		return -1;
	}
	/* Before publishing: what comes next is timed from the line's change. */
	s->set_ns = clock_now_ns();
	log_debug("%s -> %s", name_of(s), value ? "on" : "off");
	l->value = value;
	if (s->task != OUTPUT_BLINK) /* a blink's phases are no state to come back to */
		statefile_set_output(l->statefile, l->cfg->name, value);
	if (value != was)
		note_change(s, value);
	publish_state(s->set->publisher, l);
	return 0;
}

/* --- what is pending --- */

static void cancel(struct output *s)
{
	bool blinking = s->task == OUTPUT_BLINK;

	if (s->task != OUTPUT_IDLE)
		log_debug("%s: cancelled what was pending", name_of(s));
	s->task = OUTPUT_IDLE;
	loop_timer_stop(loop_of(s), &s->step);
	if (blinking)
		arm_limit(s); /* cut in an on phase: the limit counts from its start */
}

/* The value cmd sets first. */
static int first_value(const struct output *s, const struct command *cmd)
{
	switch (cmd->kind) {
	case COMMAND_OFF:
		return 0;
	case COMMAND_TOGGLE:
		return !s->line->value;
	default:
		return 1;
	}
}

/* --- interlock --- */

/* Switches the rest of s's group off, cancelling what they had pending, and
 * says when s may go on: once each has been off interlock_wait_ms (now or
 * earlier: no wait). -1 when one of them could not be switched off. */
static long long clear_group(struct output *s)
{
	long long ready = 0, wait_ns = s->line->cfg->interlock_wait_ms * NS_PER_MS;

	for (struct output *o = s->next_in_group; o != s; o = o->next_in_group) {
		cancel(o);
		if (o->line->value && output_set(o, 0) < 0)
			return -1;
		if (o->off_since_ns && o->off_since_ns + wait_ns > ready)
			ready = o->off_since_ns + wait_ns;
	}
	return ready;
}

/* --- tasks --- */

/* Without its timer a pulse returns at once rather than never. */
static void start_return(struct output *s, int value, unsigned int after_ms)
{
	/* A restart comes back to where the pulse or timed command ends. */
	statefile_set_output(s->line->statefile, s->line->cfg->name, value);
	s->task = OUTPUT_RETURN;
	s->return_value = value;
	if (!start_timer(s, &s->step, s->set_ns + after_ms * NS_PER_MS)) {
		s->task = OUTPUT_IDLE;
		output_set(s, value);
	}
}

static int start_blink(struct output *s, const struct command *cmd)
{
	s->task = OUTPUT_BLINK; /* first: its on phases do not start the limit */
	s->doing = *cmd;
	s->blinks = 0;
	loop_timer_stop(loop_of(s), &s->limit);
	if (output_set(s, 1) < 0) {
		s->task = OUTPUT_IDLE;
		arm_limit(s);
		return -1;
	}
	if (!start_timer(s, &s->step, s->set_ns + cmd->on_ms * NS_PER_MS)) {
		s->task = OUTPUT_IDLE;
		output_set(s, 0);
	}
	return 0;
}

/* cmd, now that the interlock allows it. */
static int begin(struct output *s, const struct command *cmd)
{
	int value = first_value(s, cmd);

	if (cmd->kind == COMMAND_BLINK)
		return start_blink(s, cmd);
	if (output_set(s, value) < 0)
		return -1;
	if (cmd->kind == COMMAND_PULSE)
		start_return(s, 0, s->line->cfg->pulse_ms);
	else if (cmd->for_ms)
		start_return(s, !value, cmd->for_ms);
	return 0;
}

/* cmd once the interlock allows: now, or when the rest of the group has
 * been off long enough (the step timer, never a sleep). */
static int go(struct output *s, const struct command *cmd)
{
	long long ready;

	if (first_value(s, cmd) == 0 || !s->next_in_group)
		return begin(s, cmd);
	ready = clear_group(s);
	if (ready < 0) {
		log_error("%s: not switched on: another output of interlock group \"%s\" is "
			  "still on", name_of(s), s->line->cfg->interlock);
		return -1;
	}
	if (ready <= clock_now_ns())
		return begin(s, cmd);
	log_debug("%s: on in %lld ms, after interlock group \"%s\"", name_of(s),
		  (ready - clock_now_ns()) / NS_PER_MS, s->line->cfg->interlock);
	s->task = OUTPUT_INTERLOCK;
	s->doing = *cmd;
	if (start_timer(s, &s->step, ready))
		return 0;
	s->task = OUTPUT_IDLE;
	return -1;
}

/* The next phase, timed from the last deadline so that a long blink does not
 * drift; after a stall it starts again from now instead of catching up. */
static void blink_step(struct output *s, long long due_ns)
{
	const struct command *b = &s->doing;
	int value = !s->line->value;
	long long next;

	if (!value && b->count && ++s->blinks >= b->count) {
		s->task = OUTPUT_IDLE; /* a blink ends off */
		output_set(s, 0);
		return;
	}
	if (output_set(s, value) < 0) {
		log_error("%s: blink stopped", name_of(s));
		s->task = OUTPUT_IDLE;
		arm_limit(s); /* left on: the limit holds again */
		return;
	}
	next = due_ns + (value ? b->on_ms : b->off_ms) * NS_PER_MS;
	if (next <= s->set_ns)
		next = s->set_ns + (value ? b->on_ms : b->off_ms) * NS_PER_MS;
	if (!start_timer(s, &s->step, next)) {
		s->task = OUTPUT_IDLE;
		output_set(s, 0);
	}
}

static void on_step(struct timer *t, void *ctx)
{
	struct output *s = ctx;
	struct command cmd = s->doing;

	if (s->task == OUTPUT_IDLE)
		return;
	if (s->task == OUTPUT_BLINK) {
		blink_step(s, t->due_ns);
		return;
	}
	/* Back on after a timed "off" goes through the interlock like any "on". */
	if (s->task == OUTPUT_RETURN)
		cmd = (struct command){ .kind = s->return_value ? COMMAND_ON : COMMAND_OFF };
	s->task = OUTPUT_IDLE;
	go(s, &cmd);
}

/* At stop the timers will not fire: what would end off (a pulse, a blink)
 * ends off now, so that a released line does not leave a relay on. Nothing
 * is switched on: a timed "off" stays off and an interlock wait is dropped. */
static void settle(struct output *s)
{
	bool ends_off = (s->task == OUTPUT_RETURN && !s->return_value) ||
			s->task == OUTPUT_BLINK;

	if (s->task == OUTPUT_IDLE)
		return;
	cancel(s);
	if (ends_off && s->line->value) {
		log_info("%s: stopping: switched off now, not at the end of its pulse or blink",
			 name_of(s));
		output_set(s, 0);
	}
}

void output_settle(struct outputs *o)
{
	for (size_t i = 0; i < o->n_running; i++)
		settle(&o->running[i]);
}

/* --- safety limit and broker loss --- */

static void on_limit(struct timer *t, void *ctx)
{
	struct output *s = ctx;

	(void)t;
	log_info("%s: on for max_on_ms (%u ms): switching it off", name_of(s),
		 s->line->cfg->max_on_ms);
	cancel(s);
	output_set(s, 0);
}

static void on_failsafe(struct timer *t, void *ctx)
{
	struct output *s = ctx;
	const struct cfg_line *c = s->line->cfg;
	struct command cmd = { .kind = c->on_disconnect == FAILSAFE_ON ? COMMAND_ON : COMMAND_OFF };

	(void)t;
	log_warning("%s: the broker has been unreachable for %u s: switching it %s (on_disconnect)",
		    name_of(s), c->on_disconnect_after_s, cmd.kind == COMMAND_ON ? "on" : "off");
	s->failsafe_applied = true;
	output_apply(s, &cmd);
}

static void arm_failsafe(struct outputs *o, struct output *s)
{
	const struct cfg_line *c = s->line->cfg;

	if (c->on_disconnect == FAILSAFE_KEEP || s->failsafe_applied)
		return;
	start_timer(s, &s->failsafe, o->broker_lost_ns + c->on_disconnect_after_s * NS_PER_S);
}

void output_broker_lost(struct outputs *o)
{
	if (o->broker_lost_ns)
		return; /* the first loss counts, not each failed attempt since */
	o->broker_lost_ns = clock_now_ns();
	for (size_t i = 0; i < o->n_running; i++)
		arm_failsafe(o, &o->running[i]);
}

void output_broker_back(struct outputs *o)
{
	o->broker_lost_ns = 0;
	for (size_t i = 0; i < o->n_running; i++) {
		loop_timer_stop(o->loop, &o->running[i].failsafe);
		o->running[i].failsafe_applied = false;
	}
}

/* --- commands --- */

int output_apply(struct output *s, const struct command *cmd)
{
	struct command c = *cmd;

	cancel(s);
	/* Decided now: an interlock wait must not make a toggle flip twice. */
	if (c.kind == COMMAND_TOGGLE)
		c.kind = s->line->value ? COMMAND_OFF : COMMAND_ON;
	return go(s, &c);
}

/* Why s cannot take cmd, or NULL. */
static const char *refusal(const struct output *s, const struct command *cmd)
{
	const struct cfg_line *c = s->line->cfg;

	if (cmd->kind == COMMAND_PULSE && !c->pulse_ms)
		return "\"pulse\" needs pulse_ms on this output in the mapping; or send "
		       "{\"state\":\"on\",\"for_ms\":N}";
	if (cmd->kind == COMMAND_BLINK && c->max_on_ms && cmd->on_ms > c->max_on_ms)
		return "on_ms is longer than this output's max_on_ms";
	return NULL;
}

void output_message(struct output *s, const char *topic, const void *payload, size_t len,
		    bool retained)
{
	struct publisher *p = s->set->publisher;
	struct command cmd;
	const char *reason;

	if (!payload_parse_command(payload, len, &cmd, &reason) || (reason = refusal(s, &cmd))) {
		publish_ignored(p, topic, payload, len, reason);
		return;
	}
	if (retained && payload_command_is_momentary(&cmd)) {
		log_warning("ignored a retained %s on \"%s\": it would act again on every "
			    "reconnect",
			    payload_command_name(&cmd), topic);
		return;
	}
	if (output_apply(s, &cmd) < 0)
		publish_ignored(p, topic, payload, len, "the line could not be set");
}

/* --- a plan's states --- */

static int compare_groups(const void *pa, const void *pb)
{
	const struct output *a = *(struct output *const *)pa, *b = *(struct output *const *)pb;
	int c = strcmp(a->line->cfg->interlock, b->line->cfg->interlock);

	return c ? c : (a > b) - (a < b);
}

/* Each group a ring, through sorting by group name: n log n. */
static int link_groups(struct output *states, size_t n)
{
	struct output **members = calloc(n + 1, sizeof(*members));
	size_t m = 0, first = 0;

	if (!members)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (states[i].line->cfg->interlock)
			members[m++] = &states[i];
	qsort(members, m, sizeof(*members), compare_groups);
	for (size_t i = 1; i <= m; i++) {
		if (i < m && !strcmp(members[i]->line->cfg->interlock,
				     members[first]->line->cfg->interlock)) {
			members[i - 1]->next_in_group = members[i];
			continue;
		}
		members[i - 1]->next_in_group = members[first];
		first = i;
	}
	free(members);
	return 0;
}

struct output *output_states_new(struct line_state *lines, size_t n)
{
	struct output *states = calloc(n ? n : 1, sizeof(*states));

	if (!states)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct output *s = &states[i];

		s->line = &lines[i];
		timer_init(&s->step, on_step, s);
		timer_init(&s->limit, on_limit, s);
		timer_init(&s->failsafe, on_failsafe, s);
	}
	if (link_groups(states, n) < 0) {
		free(states);
		return NULL;
	}
	return states;
}

static void stop_timers(struct output *s)
{
	if (!s->set)
		return; /* never ran: nothing pending */
	loop_timer_stop(loop_of(s), &s->step);
	loop_timer_stop(loop_of(s), &s->limit);
	loop_timer_stop(loop_of(s), &s->failsafe);
}

void output_states_free(struct output *states, size_t n)
{
	if (!states)
		return;
	for (size_t i = 0; i < n; i++)
		stop_timers(&states[i]);
	free(states);
}

/* --- a reload's hand-over --- */

static int compare_refs(const void *pa, const void *pb)
{
	const struct gpio_ref *a = &(*(struct output *const *)pa)->line->ref;
	const struct gpio_ref *b = &(*(struct output *const *)pb)->line->ref;

	if (a->chip != b->chip)
		return a->chip < b->chip ? -1 : 1;
	return (a->offset > b->offset) - (a->offset < b->offset);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether what s has pending means the same under its new settings. */
static bool same_behaviour(const struct cfg_line *a, const struct cfg_line *b)
{
	return a->pulse_ms == b->pulse_ms && same_str(a->interlock, b->interlock) &&
	       a->interlock_wait_ms == b->interlock_wait_ms && a->max_on_ms == b->max_on_ms &&
	       a->on_disconnect == b->on_disconnect &&
	       a->on_disconnect_after_s == b->on_disconnect_after_s;
}

/* s takes over from old, the same GPIO line in the plan that ran until now. */
static void adopt(struct output *s, struct output *old)
{
	s->set_ns = old->set_ns;
	s->on_since_ns = old->on_since_ns;
	s->off_since_ns = old->off_since_ns;
	s->failsafe_applied = old->failsafe_applied;
	if (old->task != OUTPUT_IDLE && same_behaviour(s->line->cfg, old->line->cfg)) {
		s->task = old->task;
		s->doing = old->doing;
		s->return_value = old->return_value;
		s->blinks = old->blinks;
		if (!start_timer(s, &s->step, old->step.due_ns))
			s->task = OUTPUT_IDLE;
	} else if (old->task != OUTPUT_IDLE) {
		log_info("%s: its settings changed: what was pending on it is cancelled",
			 name_of(s));
	}
	stop_timers(old);
}

static struct output **sorted_by_ref(struct output *states, size_t n)
{
	struct output **sorted = calloc(n + 1, sizeof(*sorted));

	if (!sorted)
		return NULL;
	for (size_t i = 0; i < n; i++)
		sorted[i] = &states[i];
	qsort(sorted, n, sizeof(*sorted), compare_refs);
	return sorted;
}

/* Pairs next's outputs with old's on the same line: both sorted, one merge.
 * Out of memory, nothing is handed over: what old had pending ends. */
static void hand_over(struct output *next, size_t n, struct output *old, size_t n_old)
{
	struct output **a = sorted_by_ref(next, n), **b = sorted_by_ref(old, n_old);
	size_t i = 0, k = 0;

	if (!a || !b)
		log_error("out of memory: what was pending on the outputs is cancelled");
	while (a && b && i < n && k < n_old) {
		int c = compare_refs(&a[i], &b[k]);

		if (c == 0)
			adopt(a[i], b[k]);
		i += c <= 0;
		k += c >= 0;
	}
	free(a);
	free(b);
}

/* The safety limit from when the output went on, the old plan's time
 * included; already over, it fires at the next pass. An output on from the
 * start counts from then. */
static void resume_limit(struct output *s)
{
	if (s->line->value && !s->on_since_ns)
		s->on_since_ns = clock_now_ns();
	arm_limit(s);
}

/* At most one output of a group on: the first, in the mapping's order. */
static void enforce_group(struct output *s)
{
	if (!s->next_in_group || !s->line->value)
		return;
	for (struct output *o = s->next_in_group; o != s; o = o->next_in_group)
		if (o < s && o->line->value) {
			log_warning("%s: switched off: '%s' of interlock group \"%s\" is on",
				    name_of(s), name_of(o), s->line->cfg->interlock);
			cancel(s);
			output_set(s, 0);
			return;
		}
}

void output_take_over(struct outputs *o, struct output *next, size_t n, struct output *old,
		      size_t n_old)
{
	for (size_t i = 0; i < n; i++)
		next[i].set = o;
	if (old)
		hand_over(next, n, old, n_old);
	o->running = next;
	o->n_running = n;
	for (size_t i = 0; i < n; i++) {
		enforce_group(&next[i]);
		resume_limit(&next[i]);
		if (o->broker_lost_ns)
			arm_failsafe(o, &next[i]);
	}
}
