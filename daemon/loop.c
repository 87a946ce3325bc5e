/* SPDX-License-Identifier: MIT */
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

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
};

struct loop *loop_new(void)
{
	return calloc(1, sizeof(struct loop));
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
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

int loop_run(struct loop *l, loop_prepare prepare, void *ctx)
{
	l->quit = false;
	while (!l->quit) {
		if (prepare)
			prepare(ctx);
		compact(l);
		if (poll(l->fds, l->count, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		dispatch(l);
	}
	return l->status;
}

void loop_quit(struct loop *l, int status)
{
	l->quit = true;
	l->status = status;
}

int timer_new(void)
{
	return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
}

int timer_arm(int fd, unsigned int ms, bool repeat)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	struct itimerspec its = { .it_value = t };

	if (repeat)
		its.it_interval = t;
	return timerfd_settime(fd, 0, &its, NULL);
}

void timer_ack(int fd)
{
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) < 0) {
		/* EAGAIN: already consumed; nothing else can go wrong here. */
	}
}
