/* SPDX-License-Identifier: MIT */
#include "input.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "gpio.h"
#include "log.h"

static void on_edge(void *ctx, int value, uint64_t timestamp_ns)
{
	struct line_state *l = ctx;
	struct inputs *in = l->owner;

	log_debug("%s: edge to %d at %llu ns", l->cfg->name, value,
		  (unsigned long long)timestamp_ns);
	l->value = value;
	publish_state(in->publisher, l);
}

static void on_ready(void *ctx, int fd, short revents)
{
	struct line_state *l = ctx;
	struct inputs *in = l->owner;

	(void)revents;
	if (gpio_line_handle_events(l->gpio, on_edge, l) < 0) {
		/* Stop watching: a broken fd would stay ready and spin the loop. */
		log_error("cannot read events of %s, no longer watching it: %s", l->cfg->name,
			  strerror(errno));
		loop_unwatch(in->loop, fd);
	}
}

void input_watch(struct inputs *in, struct line_state *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct line_state *l = &lines[i];

		l->owner = in;
		if (l->gpio && gpio_line_fd(l->gpio) >= 0)
			loop_watch(in->loop, gpio_line_fd(l->gpio), POLLIN, on_ready, l);
	}
}

void input_unwatch(struct inputs *in, struct line_state *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lines[i].gpio && gpio_line_fd(lines[i].gpio) >= 0)
			loop_unwatch(in->loop, gpio_line_fd(lines[i].gpio));
}
