/* SPDX-License-Identifier: MIT */
/* gpio for the libgpiod 1.6 API (Debian bookworm, Ubuntu 24.04, Raspberry Pi
 * OS bookworm). Debounce, which 1.6 cannot ask the kernel for, is done here
 * with a timerfd: the line's fd is then an epoll fd over the event fd and the
 * timer, so the event loop still sees one fd per input. A reload changes an
 * output's settings in place (gpiod_line_set_config()); 1.6 cannot do that
 * with a line requested for events, so a line that is or becomes an input is
 * requested anew. An output taken over as it is (GPIO_INITIAL_AS_IS) is
 * requested with its direction as-is, read, then made an output at the value
 * read by one GPIOHANDLE_SET_CONFIG: the wire never shows another level. */
#include "gpio.h"
#include "chiptable.h"

#include <errno.h>
#include <fcntl.h>
#include <gpiod.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define EVENT_BATCH 16

struct gpio_chips {
	struct gpiod_chip **chips; /* in the order of the table's chips */
	struct gpiod_line ***lines; /* per chip, per offset: read when first needed */
	size_t count;
	struct chip_table *table;
	bool requested; /* since then, line use must be read again */
};

struct gpio_line {
	struct gpiod_line *line;
	struct gpio_chips *chips; /* for messages: it outlives its lines */
	struct gpio_ref ref;
	int event_fd;      /* inputs */
	int timer_fd;      /* inputs with debounce, else -1 */
	int poll_fd;       /* what the loop watches: event_fd, or an epoll fd */
	unsigned int debounce_ms;
	bool active_low;   /* as requested or last reconfigured */
	int reported;      /* last value the caller was given, -1 before any */
	uint64_t last_edge_ns;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The handle of a line, read once (libgpiod 1.6 reads a line's info whenever
 * it hands it out) and kept so that nothing reads it again before it is
 * requested; NULL when it cannot be read. */
static struct gpiod_line *ref_line(struct gpio_chips *c, const struct gpio_ref *ref)
{
	struct gpiod_line **line = &c->lines[ref->chip][ref->offset];

	if (!*line)
		*line = gpiod_chip_get_line(c->chips[ref->chip], ref->offset);
	return *line;
}

/* chip_table_names_fn: a lookup by name needs this chip's line names. */
static int read_names(void *ctx, struct chip_table *table, size_t chip, char *err,
		      size_t errlen)
{
	struct gpio_chips *c = ctx;
	unsigned int n = chip_table_num_lines(table, chip);

	for (unsigned int off = 0; off < n; off++) {
		struct gpiod_line *line = ref_line(c, &(struct gpio_ref){ chip, off });
		const char *name = line ? gpiod_line_name(line) : NULL;

		if (name && *name && chip_table_add_line(table, chip, off, name) < 0)
			return fail(err, errlen, "out of memory indexing GPIO line names");
	}
	return 0;
}

static int add_chip(struct gpio_chips *c, struct gpiod_chip *chip)
{
	char path[64];
	struct gpiod_chip **more = realloc(c->chips, (c->count + 1) * sizeof(*more));
	struct gpiod_line ***more_lines = realloc(c->lines, (c->count + 1) * sizeof(*more_lines));
	struct gpiod_line **lines = calloc(gpiod_chip_num_lines(chip) + 1, sizeof(*lines));

	if (more)
		c->chips = more;
	if (more_lines)
		c->lines = more_lines;
	if (!more || !more_lines || !lines) {
		free(lines);
		gpiod_chip_close(chip);
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/%s", gpiod_chip_name(chip));
	c->chips[c->count] = chip;
	c->lines[c->count++] = lines;
	return chip_table_add_chip(c->table, gpiod_chip_name(chip), gpiod_chip_label(chip), path,
				   gpiod_chip_num_lines(chip));
}

struct gpio_chips *gpio_chips_open(char *err, size_t errlen)
{
	struct gpio_chips *c = calloc(1, sizeof(*c));
	struct gpiod_chip_iter *iter;
	struct gpiod_chip *chip;

	if (!c || !(c->table = chip_table_new(read_names, c)))
		goto nomem;
	iter = gpiod_chip_iter_new();
	if (!iter) {
		fail(err, errlen, "cannot list GPIO chips: %s", strerror(errno));
		goto fail;
	}
	gpiod_foreach_chip_noclose(iter, chip) {
		if (add_chip(c, chip) < 0) {
			gpiod_chip_iter_free_noclose(iter);
			goto nomem;
		}
	}
	gpiod_chip_iter_free_noclose(iter);
	return c;
nomem:
	fail(err, errlen, "out of memory");
fail:
	gpio_chips_close(c);
	return NULL;
}

void gpio_chips_close(struct gpio_chips *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->count; i++) {
		gpiod_chip_close(c->chips[i]);
		free(c->lines[i]);
	}
	free(c->chips);
	free(c->lines);
	chip_table_free(c->table);
	free(c);
}

int gpio_chips_find(struct gpio_chips *c, const char *chip, const char *name,
		    unsigned int offset, struct gpio_ref *ref, char *err, size_t errlen)
{
	return chip_table_find(c->table, chip, name, offset, ref, err, errlen);
}

const char *gpio_ref_describe(struct gpio_chips *c, const struct gpio_ref *ref, char *buf,
			      size_t len)
{
	struct gpiod_line *line = ref_line(c, ref);
	const char *name = line ? gpiod_line_name(line) : NULL; /* names do not change */

	snprintf(buf, len, "%s offset %u%s%s%s", gpiod_chip_name(c->chips[ref->chip]),
		 ref->offset, name ? " (" : "", name ? name : "", name ? ")" : "");
	return buf;
}

static int in_use(struct gpio_chips *c, const struct gpio_ref *ref, struct gpiod_line *line,
		  char *err, size_t errlen)
{
	char where[128];

	gpio_ref_describe(c, ref, where, sizeof(where));
	return fail(err, errlen, "%s is in use by \"%s\"", where,
		    gpiod_line_consumer(line) ? gpiod_line_consumer(line) : "the kernel");
}

/* Until the first request, the use read when the line was first looked at is
 * recent enough: a line taken since then fails its request with EBUSY. */
int gpio_check_free(struct gpio_chips *c, const struct gpio_ref *ref, char *err, size_t errlen)
{
	struct gpiod_line *line = ref_line(c, ref);
	char where[128];

	if (!line || (c->requested && gpiod_line_update(line) < 0)) {
		gpio_ref_describe(c, ref, where, sizeof(where));
		return fail(err, errlen, "cannot read %s: %s", where, strerror(errno));
	}
	return gpiod_line_is_used(line) ? in_use(c, ref, line, err, errlen) : 0;
}

/* --- requesting lines --- */

static int request_flags(const struct gpio_settings *s)
{
	static const int bias[] = { [GPIO_BIAS_AS_IS] = 0,
				    [GPIO_BIAS_DISABLED] = GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE,
				    [GPIO_BIAS_PULL_UP] = GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP,
				    [GPIO_BIAS_PULL_DOWN] =
					    GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN };
	static const int drive[] = { [GPIO_DRIVE_PUSH_PULL] = 0,
				     [GPIO_DRIVE_OPEN_DRAIN] = GPIOD_LINE_REQUEST_FLAG_OPEN_DRAIN,
				     [GPIO_DRIVE_OPEN_SOURCE] =
					     GPIOD_LINE_REQUEST_FLAG_OPEN_SOURCE };
	int flags = bias[s->bias];

	if (s->active_low)
		flags |= GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW;
	if (s->output)
		flags |= drive[s->drive];
	return flags;
}

/* Software debounce: an epoll fd over the event fd and a one-shot timer. */
static int setup_debounce(struct gpio_line *l)
{
	struct epoll_event ev = { .events = EPOLLIN };

	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	l->poll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->timer_fd < 0 || l->poll_fd < 0)
		return -1;
	ev.data.fd = l->event_fd;
	if (epoll_ctl(l->poll_fd, EPOLL_CTL_ADD, l->event_fd, &ev) < 0)
		return -1;
	ev.data.fd = l->timer_fd;
	return epoll_ctl(l->poll_fd, EPOLL_CTL_ADD, l->timer_fd, &ev);
}

static int setup_input(struct gpio_line *l, const struct gpio_settings *s)
{
	int flags;

	l->event_fd = gpiod_line_event_get_fd(l->line);
	flags = fcntl(l->event_fd, F_GETFL);
	if (flags < 0 || fcntl(l->event_fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	l->poll_fd = l->event_fd;
	l->debounce_ms = s->debounce_ms;
	if (!s->debounce_ms)
		return 0; /* reported is compared only when settling */
	l->reported = -1; /* the caller reads the start value with gpio_line_get() */
	return setup_debounce(l);
}

/* Described only now: on success nobody reads it. EBUSY says who holds it. */
static void request_error(struct gpio_chips *c, const struct gpio_ref *ref,
			  struct gpiod_line *line, const char *what, char *err, size_t errlen)
{
	int error = errno;
	char where[128];

	if (line && error == EBUSY && gpiod_line_update(line) == 0 && gpiod_line_is_used(line)) {
		in_use(c, ref, line, err, errlen);
		return;
	}
	gpio_ref_describe(c, ref, where, sizeof(where));
	fail(err, errlen, "%s %s: %s", what, where, strerror(error));
}

/* The line as an output with s, at s->initial or, for GPIO_INITIAL_AS_IS, at
 * the level it has now: direction, flags and value go to the kernel in one
 * ioctl, so the wire shows no other level on the way. 0, or -1 with errno. */
static int set_output_config(struct gpio_line *l, const struct gpio_settings *s)
{
	int value = s->initial;

	if (value == GPIO_INITIAL_AS_IS) {
		value = gpiod_line_get_value(l->line);
		if (value < 0)
			return -1;
		value ^= l->active_low ^ s->active_low; /* the same level, read as s reads it */
	}
	if (gpiod_line_set_config(l->line, GPIOD_LINE_REQUEST_DIRECTION_OUTPUT, request_flags(s),
				  value) < 0)
		return -1;
	l->active_low = s->active_low;
	return 0;
}

/* How to request the line: an output taken over as it is first keeps its
 * direction, and the kernel takes neither bias nor drive without one. */
static struct gpiod_line_request_config request_config(const struct gpio_settings *s)
{
	bool as_is = s->output && s->initial == GPIO_INITIAL_AS_IS;
	struct gpiod_line_request_config rc = {
		.consumer = s->consumer,
		.request_type = s->output ? GPIOD_LINE_REQUEST_DIRECTION_OUTPUT
					  : GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES,
		.flags = request_flags(s),
	};

	if (as_is) {
		rc.request_type = GPIOD_LINE_REQUEST_DIRECTION_AS_IS;
		rc.flags = s->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
	}
	return rc;
}

struct gpio_line *gpio_line_request(struct gpio_chips *c, const struct gpio_ref *ref,
				    const struct gpio_settings *s, char *err, size_t errlen)
{
	struct gpiod_line_request_config rc = request_config(s);
	bool as_is = rc.request_type == GPIOD_LINE_REQUEST_DIRECTION_AS_IS;
	struct gpio_line *l = calloc(1, sizeof(*l));

	if (!l) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	c->requested = true;
	l->chips = c;
	l->ref = *ref;
	l->event_fd = l->timer_fd = l->poll_fd = -1;
	l->line = ref_line(c, ref);
	if (!l->line || gpiod_line_request(l->line, &rc, as_is ? 0 : s->initial) < 0) {
		request_error(c, ref, l->line, "cannot request", err, errlen);
		l->line = NULL;
		goto fail;
	}
	l->active_low = s->active_low;
	if (as_is && set_output_config(l, s) < 0) {
		request_error(c, ref, NULL, "cannot take over", err, errlen);
		goto fail;
	}
	if (!s->output && setup_input(l, s) < 0) {
		request_error(c, ref, NULL, "cannot watch", err, errlen);
		goto fail;
	}
	return l;
fail:
	gpio_line_release(l);
	return NULL;
}

void gpio_line_release(struct gpio_line *l)
{
	if (!l)
		return;
	if (l->poll_fd >= 0 && l->poll_fd != l->event_fd)
		close(l->poll_fd);
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	if (l->line)
		gpiod_line_release(l->line); /* closes event_fd too */
	free(l);
}

/* 1.6 changes the settings of lines requested as plain inputs or outputs
 * only (EPERM otherwise): inputs here are requested for edge events. */
bool gpio_line_can_reconfigure(const struct gpio_line *l, const struct gpio_settings *to)
{
	return l->event_fd < 0 && to->output;
}

int gpio_line_reconfigure(struct gpio_line *l, const struct gpio_settings *s, char *err,
			  size_t errlen)
{
	char where[128];
	int error = EPERM;

	if (gpio_line_can_reconfigure(l, s)) {
		if (set_output_config(l, s) == 0)
			return 0;
		error = errno;
	}
	gpio_ref_describe(l->chips, &l->ref, where, sizeof(where));
	return fail(err, errlen, "cannot reconfigure %s: %s", where, strerror(error));
}

int gpio_line_set(struct gpio_line *l, int value)
{
	return gpiod_line_set_value(l->line, value);
}

int gpio_line_get(struct gpio_line *l)
{
	int value = gpiod_line_get_value(l->line);

	if (value >= 0)
		l->reported = value; /* settling compares with what the caller knows */
	return value;
}

int gpio_line_fd(const struct gpio_line *l)
{
	return l->poll_fd;
}

/* --- edge events --- */

static void arm_debounce(struct gpio_line *l)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = l->debounce_ms / 1000,
			      .tv_nsec = (long)(l->debounce_ms % 1000) * 1000000L },
	};

	timerfd_settime(l->timer_fd, 0, &its, NULL);
}

/* One batch of events; returns how many were read, or -1. */
static int read_edge_batch(struct gpio_line *l, gpio_edge_fn fn, void *ctx)
{
	struct gpiod_line_event ev[EVENT_BATCH];
	int n = gpiod_line_event_read_fd_multiple(l->event_fd, ev, EVENT_BATCH);

	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	for (int i = 0; i < n; i++) {
		uint64_t ts = (uint64_t)ev[i].ts.tv_sec * 1000000000ULL + (uint64_t)ev[i].ts.tv_nsec;
		int value = ev[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE;

		if (l->debounce_ms) {
			l->last_edge_ns = ts;
			continue;
		}
		l->reported = value;
		fn(ctx, value, ts);
	}
	if (n > 0 && l->debounce_ms)
		arm_debounce(l); /* restart: the line must be quiet for the whole period */
	return n;
}

/* The debounce timer expired: report the settled value if it changed. */
static int settle(struct gpio_line *l, gpio_edge_fn fn, void *ctx)
{
	uint64_t expirations;
	int value;

	if (read(l->timer_fd, &expirations, sizeof(expirations)) < 0)
		return errno == EAGAIN ? 0 : -1;
	value = gpiod_line_get_value(l->line);
	if (value < 0)
		return -1;
	if (value != l->reported) {
		l->reported = value;
		fn(ctx, value, l->last_edge_ns);
	}
	return 0;
}

int gpio_line_handle_events(struct gpio_line *l, gpio_edge_fn fn, void *ctx)
{
	int n = EVENT_BATCH;

	if (l->event_fd < 0) {
		errno = EINVAL;
		return -1;
	}
	/* Bounded so that a flood on one line cannot starve the others. */
	for (int batches = 0; n == EVENT_BATCH && batches < 8; batches++) {
		n = read_edge_batch(l, fn, ctx);
		if (n < 0)
			return -1;
	}
	return l->timer_fd >= 0 ? settle(l, fn, ctx) : 0;
}

/* --- listing --- */

static void list_chip(FILE *out, struct gpiod_chip *chip)
{
	fprintf(out, "%s [%s] (%u lines)\n", gpiod_chip_name(chip), gpiod_chip_label(chip),
		gpiod_chip_num_lines(chip));
	for (unsigned int off = 0; off < gpiod_chip_num_lines(chip); off++) {
		struct gpiod_line *line = gpiod_chip_get_line(chip, off);
		const char *name = line ? gpiod_line_name(line) : NULL;
		const char *consumer = line ? gpiod_line_consumer(line) : NULL;

		if (!line)
			continue;
		fprintf(out, "\tline %3u: %-16s %-6s %s%s%s\n", off, name ? name : "unnamed",
			gpiod_line_direction(line) == GPIOD_LINE_DIRECTION_OUTPUT ? "output"
										   : "input",
			gpiod_line_is_used(line) ? "used by \"" : "unused",
			gpiod_line_is_used(line) ? (consumer ? consumer : "kernel") : "",
			gpiod_line_is_used(line) ? "\"" : "");
	}
}

int gpio_list(FILE *out, char *err, size_t errlen)
{
	struct gpio_chips *c = gpio_chips_open(err, errlen);

	if (!c)
		return -1;
	if (!c->count)
		fprintf(out, "no GPIO chips found (is /dev/gpiochip* there and readable?)\n");
	for (size_t i = 0; i < c->count; i++)
		list_chip(out, c->chips[i]);
	gpio_chips_close(c);
	return 0;
}

const char *gpio_version_built(void)
{
	return GPIOD_BUILT_VERSION;
}

const char *gpio_version_runtime(void)
{
	return gpiod_version_string();
}
