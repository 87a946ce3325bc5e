/* SPDX-License-Identifier: MIT */
/* timer and the loop's timers: a heap of deadlines on one timerfd. */
#include <dirent.h>
#include <stdlib.h>

#include "clock.h"
#include "loop.h"
#include "suites.h"
#include "timer.h"

#define MANY 1000

static void never(struct timer *t, void *ctx)
{
	(void)t, (void)ctx;
	ck_abort_msg("a timer that was not due fired");
}

/* Takes the heap apart in order: deadlines must come out sorted. */
static void expect_sorted(struct timer_heap *h, size_t n)
{
	long long last = -1;

	for (size_t i = 0; i < n; i++) {
		struct timer *t = timer_heap_first(h);

		ck_assert_ptr_nonnull(t);
		ck_assert_int_ge(t->due_ns, last);
		last = t->due_ns;
		timer_heap_remove(h, t);
		ck_assert(!timer_pending(t));
	}
	ck_assert_ptr_null(timer_heap_first(h));
}

START_TEST(test_heap_orders_deadlines)
{
	static struct timer timers[MANY];
	struct timer_heap h = { 0 };

	srand(7);
	for (size_t i = 0; i < MANY; i++) {
		timer_init(&timers[i], never, NULL);
		ck_assert_int_eq(timer_heap_add(&h, &timers[i], rand() % 5000), 0);
	}
	/* Move some, remove some from the middle. */
	for (size_t i = 0; i < MANY; i += 3)
		ck_assert_int_eq(timer_heap_add(&h, &timers[i], rand() % 5000), 0);
	for (size_t i = 1; i < MANY; i += 7)
		timer_heap_remove(&h, &timers[i]);
	timer_heap_remove(&h, &timers[1]); /* not pending: harmless */
	ck_assert_uint_eq(h.n, MANY - (MANY + 5) / 7);
	expect_sorted(&h, h.n);
	timer_heap_clear(&h);
}
END_TEST

struct firing {
	struct loop *loop;
	struct timer timers[MANY];
	long long fired_at[MANY];
	size_t fired;
	size_t order[MANY];
};

static void record(struct timer *t, void *ctx)
{
	struct firing *f = ctx;
	size_t i = (size_t)(t - f->timers);

	f->fired_at[i] = clock_now_ns();
	f->order[f->fired++] = i;
	if (f->fired == MANY / 2)
		loop_quit(f->loop, 0);
}

static size_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A thousand pending timers cost no file descriptor; they fire in order,
 * not before their time, and stopped ones never. */
START_TEST(test_loop_timers_share_one_fd)
{
	static struct firing f;
	long long started;
	size_t fds;

	f.loop = loop_new();
	ck_assert_ptr_nonnull(f.loop);
	fds = open_fds();
	started = clock_now_ns();
	for (size_t i = 0; i < MANY; i++) {
		timer_init(&f.timers[i], record, &f);
		ck_assert_int_eq(loop_timer_start(f.loop, &f.timers[i],
						  (unsigned int)(MANY - 1 - i) % 50), 0);
	}
	ck_assert_uint_eq(open_fds(), fds);
	for (size_t i = 0; i < MANY; i += 2)
		loop_timer_stop(f.loop, &f.timers[i]);
	ck_assert_int_eq(loop_run(f.loop, NULL, NULL), 0);
	ck_assert_uint_eq(f.fired, MANY / 2);
	for (size_t k = 0; k < f.fired; k++) {
		size_t i = f.order[k];

		ck_assert_uint_eq(i % 2, 1);
		ck_assert_int_ge(f.fired_at[i] - started, f.timers[i].due_ns - started);
		if (k)
			ck_assert_int_ge(f.timers[i].due_ns, f.timers[f.order[k - 1]].due_ns);
	}
	loop_free(f.loop);
}
END_TEST

static struct loop *spin_loop;

static void restart_now(struct timer *t, void *ctx)
{
	unsigned int *count = ctx;

	(*count)++;
	loop_timer_start(spin_loop, t, 0);
}

/* A callback that starts its timer again with no delay waits for the next
 * pass: one pass fires it once, the loop cannot spin inside a pass. */
START_TEST(test_restarted_timer_waits_a_pass)
{
	struct timer t;
	unsigned int count = 0;

	spin_loop = loop_new();
	timer_init(&t, restart_now, &count);
	loop_timer_start(spin_loop, &t, 0);
	ck_assert_int_eq(loop_run_once(spin_loop, NULL, NULL, 1000), 0);
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(loop_run_once(spin_loop, NULL, NULL, 1000), 0);
	ck_assert_uint_eq(count, 2);
	loop_timer_stop(spin_loop, &t);
	/* Nothing pending: a pass waits out its timeout and fires nothing. */
	ck_assert_int_eq(loop_run_once(spin_loop, NULL, NULL, 20), 0);
	ck_assert_uint_eq(count, 2);
	loop_free(spin_loop);
}
END_TEST

Suite *timer_suite(void)
{
	Suite *s = suite_create("timer");
	TCase *tc = tcase_create("timers");

	tcase_add_test(tc, test_heap_orders_deadlines);
	tcase_add_test(tc, test_loop_timers_share_one_fd);
	tcase_add_test(tc, test_restarted_timer_waits_a_pass);
	suite_add_tcase(s, tc);
	return s;
}
