/* SPDX-License-Identifier: MIT */
#include "input.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gpio.h"
#include "log.h"
#include "plan.h"
#include "press.h"
#include "statefile.h"

#define NS_PER_MS 1000000LL

/* One input's behaviours between edges. */
struct input {
	struct inputs *inputs;
	struct line_state *line;
	struct press press;       /* click */
	struct timer press_timer; /* at the press's next deadline */
	uint64_t count;           /* counter: edges counted, from the starting count */
	uint64_t count_sent;      /* the count published last */
	long long count_sent_ns;  /* when (CLOCK_MONOTONIC); 0: never */
	struct timer count_timer; /* the latest count, once the interval allows */
};

struct input_set {
	size_t n;
	struct input items[];
};

static void on_edge(void *ctx, int value, uint64_t timestamp_ns);

static const char *name_of(const struct input *i)
{
	return i->line->cfg->name;
}

/* The kernel stamps edges on CLOCK_MONOTONIC (since Linux 5.7 for libgpiod
 * 1.6; 2.x asks for it), the clock of the loop's timers. A stamp from the
 * future is of another clock: the edge is taken as now. */
static long long edge_time(uint64_t timestamp_ns)
{
	long long now = clock_now_ns();

	return timestamp_ns && timestamp_ns <= (uint64_t)now ? (long long)timestamp_ns : now;
}

/* --- presses --- */

static struct press_timing timing_of(const struct cfg_line *c)
{
	return (struct press_timing){ .double_ns = c->double_click_ms * NS_PER_MS,
				      .long_ns = c->long_press_ms * NS_PER_MS };
}

/* Debounced by the daemon (libgpiod 1.6), an edge is read up to debounce_ms
 * after its stamp: a deadline is acted on once edges before it are in. */
static long long late_edges_ns(const struct cfg_line *c)
{
	return c->debounce_ms * NS_PER_MS;
}

static void say(struct input *i, enum press_event e)
{
	log_debug("%s: %s press", name_of(i), press_event_name(e));
	publish_event(i->inputs->publisher, i->line->cfg, press_event_name(e));
}

static void arm_press_timer(struct input *i)
{
	const struct cfg_line *c = i->line->cfg;
	struct press_timing t = timing_of(c);
	long long due = press_deadline(&i->press, &t);

	if (!due)
		loop_timer_stop(i->inputs->loop, &i->press_timer);
	else if (loop_timer_start_at(i->inputs->loop, &i->press_timer,
				     due + late_edges_ns(c)) < 0)
		log_error("%s: out of memory: a press may go unpublished", name_of(i));
}

static void press_edge_at(struct input *i, int value, long long ts_ns)
{
	struct press_timing t = timing_of(i->line->cfg);
	enum press_event events[PRESS_EVENTS_MAX];
	size_t n = press_edge(&i->press, &t, value, ts_ns, events);

	for (size_t k = 0; k < n; k++)
		say(i, events[k]);
	arm_press_timer(i);
}

static void on_press_timer(struct timer *timer, void *ctx)
{
	struct input *i = ctx;
	const struct cfg_line *c = i->line->cfg;
	struct press_timing t = timing_of(c);
	enum press_event e;

	(void)timer;
	/* A second press or a release stamped before the deadline may wait in
	 * the kernel still: it decides, not the moment this timer fired. A
	 * read error is on_ready()'s to handle. */
	if (i->line->gpio)
		gpio_line_handle_events(i->line->gpio, on_edge, i);
	e = press_expire(&i->press, &t, clock_now_ns() - late_edges_ns(c));
	if (e != PRESS_NONE)
		say(i, e);
	arm_press_timer(i);
}

/* --- counter --- */

static bool counts(enum cfg_counter counter, int value)
{
	return counter == COUNTER_BOTH || (counter == COUNTER_RISING && value) ||
	       (counter == COUNTER_FALLING && !value);
}

/* Where a counter starts when it was not counting before: the count the
 * state file kept (line.statefile, set for every counter), or 0. */
static uint64_t starting_count(const struct input *i)
{
	uint64_t count = 0;

	statefile_counter(i->line->statefile, name_of(i), &count);
	return count;
}

static void send_count(struct input *i)
{
	publish_count(i->inputs->publisher, i->line->cfg, i->count);
	i->count_sent = i->count;
	i->count_sent_ns = clock_now_ns();
}

/* At once when the last publication is count_interval_ms old, else when it
 * will be: the latest count then, however many edges came in between. */
static void schedule_count(struct input *i)
{
	long long next = i->count_sent_ns + i->line->cfg->count_interval_ms * NS_PER_MS;

	if (timer_pending(&i->count_timer))
		return;
	if (!i->count_sent_ns || clock_now_ns() >= next)
		send_count(i);
	else if (loop_timer_start_at(i->inputs->loop, &i->count_timer, next) < 0)
		send_count(i); /* out of memory for the timer: early rather than never */
}

/* After every edge counted, the one change of a count while it runs: kept
 * in the state file (its writes are coalesced) and published. */
static void input_count_changed(struct input *i)
{
	statefile_set_counter(i->line->statefile, name_of(i), i->count);
	schedule_count(i);
}

static void on_count_timer(struct timer *timer, void *ctx)
{
	struct input *i = ctx;

	(void)timer;
	if (i->count != i->count_sent)
		send_count(i);
}

void input_publish_counts(struct input_set *s)
{
	for (size_t k = 0; s && k < s->n; k++)
		if (s->items[k].line->cfg->counter != COUNTER_NONE)
			send_count(&s->items[k]);
}

/* --- edges --- */

static void on_edge(void *ctx, int value, uint64_t timestamp_ns)
{
	struct input *i = ctx;
	struct line_state *l = i->line;

	log_debug("%s: edge to %d at %llu ns", l->cfg->name, value,
		  (unsigned long long)timestamp_ns);
	l->value = value;
	publish_state(i->inputs->publisher, l);
	if (counts(l->cfg->counter, value)) {
		i->count++;
		input_count_changed(i);
	}
	if (l->cfg->click)
		press_edge_at(i, value, edge_time(timestamp_ns));
}

static void on_ready(void *ctx, int fd, short revents)
{
	struct input *i = ctx;

	(void)revents;
	if (gpio_line_handle_events(i->line->gpio, on_edge, i) < 0) {
		/* Stop watching: a broken fd would stay ready and spin the loop. */
		log_error("cannot read events of %s, no longer watching it: %s", name_of(i),
			  strerror(errno));
		loop_unwatch(i->inputs->loop, fd);
	}
}

void input_watch(struct inputs *in, struct line_state *lines, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct line_state *l = &lines[k];

		if (!l->cfg->output && l->owner && l->gpio && gpio_line_fd(l->gpio) >= 0)
			loop_watch(in->loop, gpio_line_fd(l->gpio), POLLIN, on_ready, l->owner);
	}
}

void input_unwatch(struct inputs *in, struct line_state *lines, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (lines[k].gpio && gpio_line_fd(lines[k].gpio) >= 0)
			loop_unwatch(in->loop, gpio_line_fd(lines[k].gpio));
}

/* --- a plan's inputs --- */

static int compare_names(const void *pa, const void *pb)
{
	const struct input *a = *(const struct input *const *)pa;
	const struct input *b = *(const struct input *const *)pb;

	return strcmp(name_of(a), name_of(b));
}

/* old's inputs sorted by name, for finding each of the next plan's in
 * n log n; NULL when there are none or no memory (nothing is then kept). */
static const struct input **sort_by_name(const struct input_set *old)
{
	const struct input **sorted;

	if (!old || !old->n || !(sorted = calloc(old->n, sizeof(*sorted))))
		return NULL;
	for (size_t k = 0; k < old->n; k++)
		sorted[k] = &old->items[k];
	qsort(sorted, old->n, sizeof(*sorted), compare_names);
	return sorted;
}

static int compare_name_key(const void *key, const void *elem)
{
	return strcmp(key, name_of(*(const struct input *const *)elem));
}

/* The running input that l's continues: the same name on the same line. */
static const struct input *predecessor(const struct line_state *l, const struct input **sorted,
				       size_t n)
{
	const struct input *const *found;

	if (!sorted)
		return NULL;
	found = bsearch(l->cfg->name, sorted, n, sizeof(*sorted), compare_name_key);
	if (!found || (*found)->line->ref.chip != l->ref.chip ||
	    (*found)->line->ref.offset != l->ref.offset)
		return NULL;
	return *found;
}

static void start_presses(struct input *i, const struct input *before)
{
	const struct cfg_line *c = i->line->cfg;

	if (!c->click)
		return;
	if (before && before->line->cfg->click && before->line->cfg->active_low == c->active_low)
		i->press = before->press;
	press_sync(&i->press, i->line->value);
	arm_press_timer(i);
}

static void start_counter(struct input *i, const struct input *before)
{
	if (i->line->cfg->counter == COUNTER_NONE)
		return;
	if (!before || before->line->cfg->counter == COUNTER_NONE) {
		i->count = i->count_sent = starting_count(i);
		return;
	}
	i->count = before->count;
	i->count_sent = before->count_sent;
	i->count_sent_ns = before->count_sent_ns;
	/* The reload may name another state file: it gets the count now. */
	statefile_set_counter(i->line->statefile, name_of(i), i->count);
	if (i->count != i->count_sent)
		schedule_count(i);
}

static void setup_one(struct inputs *in, struct input *i, struct line_state *l,
		      const struct input *before)
{
	i->inputs = in;
	i->line = l;
	timer_init(&i->press_timer, on_press_timer, i);
	timer_init(&i->count_timer, on_count_timer, i);
	l->owner = i;
	start_presses(i, before);
	start_counter(i, before);
}

int input_setup(struct inputs *in, struct plan *p, const struct plan *old)
{
	size_t n = p->cfg.n_lines - p->cfg.n_outputs;
	struct input_set *s = calloc(1, sizeof(*s) + n * sizeof(s->items[0]));
	const struct input **sorted;

	if (!s) {
		log_error("out of memory: the inputs are not watched");
		return -1;
	}
	s->n = n;
	sorted = sort_by_name(old ? old->inputs : NULL);
	for (size_t k = 0; k < n; k++) {
		struct line_state *l = &p->lines[p->cfg.n_outputs + k];

		setup_one(in, &s->items[k], l, predecessor(l, sorted, sorted ? old->inputs->n : 0));
	}
	free(sorted);
	p->inputs = s;
	return 0;
}

void input_set_free(struct input_set *s)
{
	for (size_t k = 0; s && k < s->n; k++) {
		struct input *i = &s->items[k];

		loop_timer_stop(i->inputs->loop, &i->press_timer);
		loop_timer_stop(i->inputs->loop, &i->count_timer);
	}
	free(s);
}
