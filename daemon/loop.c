/* SPDX-License-Identifier: MIT */
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"

struct watch {
	loop_handler fn;
	void *ctx;
};

struct loop {
	struct pollfd *fds; /* fds[i] is handled by watches[i]; fd -1: free slot */
	struct watch *watches;
	size_t count;
	size_t allocated;
	bool quit;
	int status;
	struct timer_heap timers;
	int timer_fd;
	long long armed_ns; /* the timerfd's deadline; 0: disarmed */
};

static void on_timer_fd(void *ctx, int fd, short revents);

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(struct loop));

	if (!l)
		return NULL;
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timer_fd < 0 || loop_watch(l, l->timer_fd, POLLIN, on_timer_fd, l) < 0) {
		loop_free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	timer_heap_clear(&l->timers);
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	free(l->fds);
	free(l->watches);
	free(l);
}

static long find(const struct loop *l, int fd)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->fds[i].fd == fd)
			return (long)i;
	return -1;
}

static int grow(struct loop *l)
{
	size_t more = l->allocated ? 2 * l->allocated : 16;
	struct pollfd *fds = realloc(l->fds, more * sizeof(*fds));
	struct watch *watches;

	if (!fds)
		return -1;
	l->fds = fds;
	watches = realloc(l->watches, more * sizeof(*watches));
	if (!watches)
		return -1;
	l->watches = watches;
	l->allocated = more;
	return 0;
}

int loop_watch(struct loop *l, int fd, short events, loop_handler fn, void *ctx)
{
	long i = find(l, fd);

	if (i < 0) {
		if (l->count == l->allocated && grow(l) < 0)
			return -1;
		i = (long)l->count++;
	}
	l->fds[i] = (struct pollfd){ .fd = fd, .events = events };
	l->watches[i] = (struct watch){ fn, ctx };
	return 0;
}

void loop_unwatch(struct loop *l, int fd)
{
	long i = find(l, fd);

	if (i < 0)
		return;
	/* Keep the slot until the pass ends so indexes stay valid. */
	l->fds[i].fd = -1;
	l->fds[i].revents = 0;
}

static void compact(struct loop *l)
{
	size_t kept = 0;

	for (size_t i = 0; i < l->count; i++) {
		if (l->fds[i].fd < 0)
			continue;
		l->fds[kept] = l->fds[i];
		l->watches[kept++] = l->watches[i];
	}
	l->count = kept;
}

static void dispatch(struct loop *l)
{
	size_t n = l->count; /* fds added by handlers wait for the next pass */

	for (size_t i = 0; i < n && !l->quit; i++) {
		struct pollfd p = l->fds[i];

		if (p.fd >= 0 && p.revents) {
			l->fds[i].revents = 0;
			l->watches[i].fn(l->watches[i].ctx, p.fd, p.revents);
		}
	}
}

/* --- timers --- */

int loop_timer_start_at(struct loop *l, struct timer *t, long long due_ns)
{
	return timer_heap_add(&l->timers, t, due_ns);
}

int loop_timer_start(struct loop *l, struct timer *t, unsigned int ms)
{
	return loop_timer_start_at(l, t, clock_now_ns() + (long long)ms * 1000000);
}

void loop_timer_stop(struct loop *l, struct timer *t)
{
	timer_heap_remove(&l->timers, t);
}

/* One system call, and only when the earliest deadline changed. */
static void arm_timer_fd(struct loop *l)
{
	const struct timer *first = timer_heap_first(&l->timers);
	long long due = first ? first->due_ns : 0;
	struct itimerspec its = { 0 };

	if (due == l->armed_ns)
		return;
	if (due) {
		/* 0 would disarm: a deadline already passed fires at once. */
		its.it_value.tv_sec = due / 1000000000;
		its.it_value.tv_nsec = due % 1000000000;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		l->armed_ns = due;
}

/* Fires what is due now, but not a timer a callback starts again with no
 * delay: that one waits for the next pass, so the loop cannot spin here. */
static void on_timer_fd(void *ctx, int fd, short revents)
{
	struct loop *l = ctx;
	long long now = clock_now_ns();
	size_t most = l->timers.n;
	uint64_t expirations;
	struct timer *t;

	(void)revents;
	if (read(fd, &expirations, sizeof(expirations)) < 0) {
		/* EAGAIN: nothing to consume; the heap says what is due. */
	}
	l->armed_ns = -1; /* an expired timerfd is disarmed: arm it anew */
	while (most-- && !l->quit && (t = timer_heap_first(&l->timers)) && t->due_ns <= now) {
		timer_heap_remove(&l->timers, t);
		t->fn(t, t->ctx);
	}
}

/* 0, or -1 when poll() fails (not for EINTR). */
static int pass(struct loop *l, loop_prepare prepare, void *ctx, int timeout_ms)
{
	if (prepare)
		prepare(ctx);
	arm_timer_fd(l);
	compact(l);
	if (poll(l->fds, l->count, timeout_ms) < 0)
		return errno == EINTR ? 0 : -1;
	dispatch(l);
	return 0;
}

int loop_run(struct loop *l, loop_prepare prepare, void *ctx)
{
	l->quit = false;
	while (!l->quit)
		if (pass(l, prepare, ctx, -1) < 0)
			return -1;
	return l->status;
}

int loop_run_once(struct loop *l, loop_prepare prepare, void *ctx, int timeout_ms)
{
	l->quit = false;
	return pass(l, prepare, ctx, timeout_ms);
}

void loop_quit(struct loop *l, int status)
{
	l->quit = true;
	l->status = status;
}
