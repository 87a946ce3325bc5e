/* SPDX-License-Identifier: MIT */
/* gpio for the libgpiod 2.x API (2.1 or later: nothing newer is used).
 *
 * Every chip is opened once and stays open for the life of the catalogue; a
 * chip's line names are read into the chip table once a lookup by name needs
 * them, so finding a line by name is a binary search however many lines the
 * board has. Bias, drive, active-low, initial value and debounce all go into
 * the kernel request itself, and a reload changes any of them, direction
 * included, in place (gpiod_line_request_reconfigure_lines()). An output
 * taken over as it is (GPIO_INITIAL_AS_IS) is requested with its direction
 * as-is, read, then reconfigured as an output at the value read, direction
 * and value in one ioctl: the wire never shows another level.
 */
#include "gpio.h"
#include "chiptable.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gpiod.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#ifndef GPIOD_BUILT_VERSION
#define GPIOD_BUILT_VERSION "unknown"
#endif

/* Events read per read(): the kernel queues 16 per line by default. */
#define EVENT_BUFFER_SIZE 16
/* Reads per gpio_line_handle_events() call at most. */
#define MAX_BATCHES 8
/* Used when the caller gives no consumer, so that others see who holds it. */
#define DEFAULT_CONSUMER "gpio2mqtt"

struct gpio_chips {
	struct gpiod_chip **handles; /* in the order of the table's chips */
	bool **used; /* per chip, per offset, as read with the names; NULL until then */
	size_t num_chips;
	struct chip_table *table;
	bool requested; /* since then, line use must be read again */
};

struct gpio_line {
	struct gpiod_line_request *request;
	struct gpiod_edge_event_buffer *events; /* inputs only */
	unsigned int offset;
	bool active_low; /* as requested or last reconfigured */
	struct gpio_chips *chips; /* for messages: it outlives its lines */
	struct gpio_ref ref;
};

/* ---- chip discovery ---------------------------------------------------- */

static int is_chip_entry(const struct dirent *entry)
{
	return strncmp(entry->d_name, "gpiochip", 8) == 0;
}

static void free_paths(char **paths, int count)
{
	for (int i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
}

/* Paths of the GPIO chip devices in /dev, in numeric order (gpiochip2 before
 * gpiochip10). Returns how many, or -1. */
static int chip_paths(char ***paths, char *err, size_t errlen)
{
	struct dirent **entries;
	int n = scandir("/dev", &entries, is_chip_entry, versionsort);
	int count = 0;
	bool ok = false;

	if (n < 0) {
		snprintf(err, errlen, "cannot read /dev: %s", strerror(errno));
		return -1;
	}
	*paths = calloc((size_t)n + 1, sizeof(**paths));
	if (!*paths)
		goto out;
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "/dev/%s", entries[i]->d_name);
		if (!gpiod_is_gpiochip_device(path))
			continue;
		(*paths)[count] = strdup(path);
		if (!(*paths)[count])
			goto out;
		count++;
	}
	ok = true;
out:
	for (int i = 0; i < n; i++)
		free(entries[i]);
	free(entries);
	if (ok)
		return count;
	snprintf(err, errlen, "out of memory listing GPIO chips");
	free_paths(*paths, count);
	*paths = NULL;
	return -1;
}

/* ---- catalogue ----------------------------------------------------------- */

static int add_to_table(struct chip_table *table, struct gpiod_chip *handle, const char *path,
			char *err, size_t errlen)
{
	struct gpiod_chip_info *info = gpiod_chip_get_info(handle);
	int ret;

	if (!info) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	ret = chip_table_add_chip(table, gpiod_chip_info_get_name(info),
				  gpiod_chip_info_get_label(info), path,
				  (unsigned int)gpiod_chip_info_get_num_lines(info));
	gpiod_chip_info_free(info);
	if (ret < 0)
		snprintf(err, errlen, "out of memory opening %s", path);
	return ret;
}

/* chip_table_names_fn: a lookup by name needs this chip's line names. Notes
 * which lines are in use on the way, which saves reading them again. */
static int read_names(void *ctx, struct chip_table *table, size_t chip, char *err,
		      size_t errlen)
{
	struct gpio_chips *chips = ctx;
	unsigned int num_lines = chip_table_num_lines(table, chip);
	bool *used = calloc(num_lines + 1, sizeof(*used));

	if (!used) {
		snprintf(err, errlen, "out of memory indexing GPIO line names");
		return -1;
	}
	for (unsigned int i = 0; i < num_lines; i++) {
		struct gpiod_line_info *line = gpiod_chip_get_line_info(chips->handles[chip], i);
		const char *name;
		int ret;

		if (!line) {
			snprintf(err, errlen, "cannot read %s line %u: %s",
				 chip_table_name(table, chip), i, strerror(errno));
			free(used);
			return -1;
		}
		name = gpiod_line_info_get_name(line);
		used[i] = gpiod_line_info_is_used(line);
		ret = name && *name ? chip_table_add_line(table, chip, i, name) : 0;
		gpiod_line_info_free(line);
		if (ret < 0) {
			snprintf(err, errlen, "out of memory indexing GPIO line names");
			free(used);
			return -1;
		}
	}
	chips->used[chip] = used;
	return 0;
}

static int chip_open(struct gpio_chips *chips, const char *path, char *err, size_t errlen)
{
	struct gpiod_chip *handle = gpiod_chip_open(path);

	if (!handle) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	chips->handles[chips->num_chips] = handle;
	chips->num_chips++;
	return add_to_table(chips->table, handle, path, err, errlen);
}

struct gpio_chips *gpio_chips_open(char *err, size_t errlen)
{
	struct gpio_chips *chips = calloc(1, sizeof(*chips));
	char **paths = NULL;
	int count = 0;

	if (!chips || !(chips->table = chip_table_new(read_names, chips))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	count = chip_paths(&paths, err, errlen);
	if (count < 0)
		goto fail;
	chips->handles = calloc((size_t)count + 1, sizeof(*chips->handles));
	chips->used = calloc((size_t)count + 1, sizeof(*chips->used));
	if (!chips->handles || !chips->used) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (int i = 0; i < count; i++)
		if (chip_open(chips, paths[i], err, errlen) < 0)
			goto fail;
	free_paths(paths, count);
	return chips;

fail:
	free_paths(paths, count);
	gpio_chips_close(chips);
	return NULL;
}

void gpio_chips_close(struct gpio_chips *chips)
{
	if (!chips)
		return;
	for (size_t i = 0; i < chips->num_chips; i++) {
		gpiod_chip_close(chips->handles[i]);
		free(chips->used[i]);
	}
	free(chips->handles);
	free(chips->used);
	chip_table_free(chips->table);
	free(chips);
}

int gpio_chips_find(struct gpio_chips *chips, const char *chip, const char *name,
		    unsigned int offset, struct gpio_ref *ref, char *err, size_t errlen)
{
	return chip_table_find(chips->table, chip, name, offset, ref, err, errlen);
}

static bool ref_valid(const struct gpio_chips *chips, const struct gpio_ref *ref)
{
	return ref->chip < chips->num_chips &&
	       ref->offset < chip_table_num_lines(chips->table, ref->chip);
}

const char *gpio_ref_describe(struct gpio_chips *chips, const struct gpio_ref *ref,
			      char *buf, size_t len)
{
	const char *chip_name;
	struct gpiod_line_info *info;
	const char *name;

	if (!ref_valid(chips, ref)) {
		snprintf(buf, len, "chip #%zu offset %u (no such line)", ref->chip, ref->offset);
		return buf;
	}
	chip_name = chip_table_name(chips->table, ref->chip);
	/* Asked again rather than kept: this is for messages, not a hot path. */
	info = gpiod_chip_get_line_info(chips->handles[ref->chip], ref->offset);
	name = info ? gpiod_line_info_get_name(info) : NULL;
	if (name && *name)
		snprintf(buf, len, "%s offset %u (%s)", chip_name, ref->offset, name);
	else
		snprintf(buf, len, "%s offset %u", chip_name, ref->offset);
	if (info)
		gpiod_line_info_free(info);
	return buf;
}

/* ---- line use ------------------------------------------------------------ */

static void describe_user(struct gpiod_line_info *info, const char *what, char *err,
			  size_t errlen)
{
	const char *consumer = gpiod_line_info_get_consumer(info);

	if (consumer && *consumer)
		snprintf(err, errlen, "%s is in use by \"%s\"", what, consumer);
	else
		snprintf(err, errlen, "%s is in use (by the kernel or an unnamed consumer)",
			 what);
}

/* Until the first request, the use read with the names is recent enough: a
 * line taken since then fails its request with EBUSY. */
int gpio_check_free(struct gpio_chips *chips, const struct gpio_ref *ref, char *err,
		    size_t errlen)
{
	char what[128];
	struct gpiod_line_info *info;
	int ret = 0;

	if (!ref_valid(chips, ref)) {
		gpio_ref_describe(chips, ref, err, errlen);
		return -1;
	}
	if (!chips->requested && chips->used[ref->chip] && !chips->used[ref->chip][ref->offset])
		return 0;
	info = gpiod_chip_get_line_info(chips->handles[ref->chip], ref->offset);
	if (!info) {
		gpio_ref_describe(chips, ref, what, sizeof(what));
		snprintf(err, errlen, "cannot read %s: %s", what, strerror(errno));
		return -1;
	}
	if (gpiod_line_info_is_used(info)) {
		gpio_ref_describe(chips, ref, what, sizeof(what));
		describe_user(info, what, err, errlen);
		ret = -1;
	}
	gpiod_line_info_free(info);
	return ret;
}

static const enum gpiod_line_bias bias_map[] = {
	[GPIO_BIAS_AS_IS] = GPIOD_LINE_BIAS_AS_IS,
	[GPIO_BIAS_DISABLED] = GPIOD_LINE_BIAS_DISABLED,
	[GPIO_BIAS_PULL_UP] = GPIOD_LINE_BIAS_PULL_UP,
	[GPIO_BIAS_PULL_DOWN] = GPIOD_LINE_BIAS_PULL_DOWN,
};

static const enum gpiod_line_drive drive_map[] = {
	[GPIO_DRIVE_PUSH_PULL] = GPIOD_LINE_DRIVE_PUSH_PULL,
	[GPIO_DRIVE_OPEN_DRAIN] = GPIOD_LINE_DRIVE_OPEN_DRAIN,
	[GPIO_DRIVE_OPEN_SOURCE] = GPIOD_LINE_DRIVE_OPEN_SOURCE,
};

/* Everything goes into the request itself, so an output never shows a
 * default level before its initial value and an input never floats before
 * its bias is applied. */
static int fill_settings(struct gpiod_line_settings *ls, const struct gpio_settings *s)
{
	int ret = 0;

	if ((unsigned int)s->bias >= sizeof(bias_map) / sizeof(bias_map[0]) ||
	    (unsigned int)s->drive >= sizeof(drive_map) / sizeof(drive_map[0])) {
		errno = EINVAL;
		return -1;
	}
	gpiod_line_settings_set_active_low(ls, s->active_low);
	/* Taken over as it is: the direction stays, and the kernel takes no
	 * bias or drive without one; they come with the reconfiguration. */
	if (s->output && s->initial == GPIO_INITIAL_AS_IS)
		return 0;
	ret |= gpiod_line_settings_set_bias(ls, bias_map[s->bias]);
	if (s->output) {
		ret |= gpiod_line_settings_set_direction(ls, GPIOD_LINE_DIRECTION_OUTPUT);
		ret |= gpiod_line_settings_set_drive(ls, drive_map[s->drive]);
		ret |= gpiod_line_settings_set_output_value(
			ls, s->initial ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
		return ret ? -1 : 0;
	}
	ret |= gpiod_line_settings_set_direction(ls, GPIOD_LINE_DIRECTION_INPUT);
	ret |= gpiod_line_settings_set_edge_detection(ls, GPIOD_LINE_EDGE_BOTH);
	ret |= gpiod_line_settings_set_event_clock(ls, GPIOD_LINE_CLOCK_MONOTONIC);
	gpiod_line_settings_set_debounce_period_us(ls, s->debounce_ms * 1000UL);
	return ret ? -1 : 0;
}

/* The line config of one line with these settings; NULL with errno. */
static struct gpiod_line_config *line_config(unsigned int offset, const struct gpio_settings *s)
{
	struct gpiod_line_settings *ls = gpiod_line_settings_new();
	struct gpiod_line_config *lc = gpiod_line_config_new();
	bool ok = ls && lc && fill_settings(ls, s) == 0 &&
		  gpiod_line_config_add_line_settings(lc, &offset, 1, ls) == 0;
	int saved = errno;

	gpiod_line_settings_free(ls); /* the config holds a copy */
	if (!ok) {
		gpiod_line_config_free(lc);
		lc = NULL;
	}
	errno = saved;
	return lc;
}

/* The kernel request for one line; NULL with errno. */
static struct gpiod_line_request *request_one(struct gpiod_chip *chip, unsigned int offset,
					      const struct gpio_settings *s)
{
	struct gpiod_line_config *lc = line_config(offset, s);
	struct gpiod_request_config *rc = gpiod_request_config_new();
	struct gpiod_line_request *request = NULL;
	int saved;

	if (lc && rc) {
		gpiod_request_config_set_consumer(rc, s->consumer ? s->consumer
								  : DEFAULT_CONSUMER);
		request = gpiod_chip_request_lines(chip, rc, lc);
	}
	saved = errno;
	gpiod_request_config_free(rc);
	gpiod_line_config_free(lc);
	errno = saved;
	return request;
}

static void request_error(struct gpio_chips *chips, const struct gpio_ref *ref,
			  const struct gpio_settings *s, int error, char *err, size_t errlen)
{
	char what[128];

	/* Busy: say who holds it, which is what the user needs to know. */
	if (error == EBUSY && gpio_check_free(chips, ref, err, errlen) < 0)
		return;
	gpio_ref_describe(chips, ref, what, sizeof(what));
	/* gpio-sim and some boards cannot map an interrupt for every line. */
	if (!s->output && (error == ENXIO || error == ENODEV))
		snprintf(err, errlen, "cannot request %s as an input with edge events: %s",
			 what, strerror(error));
	else
		snprintf(err, errlen, "cannot request %s: %s", what, strerror(error));
}

static int make_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Gives the request new settings, an output GPIO_INITIAL_AS_IS the level it
 * has now (read as s reads it): 0, or -1 with errno. */
static int reconfigure_request(struct gpio_line *line, const struct gpio_settings *s)
{
	struct gpio_settings to = *s;
	struct gpiod_line_config *lc;
	int ret, saved;

	if (to.output && to.initial == GPIO_INITIAL_AS_IS) {
		to.initial = gpio_line_get(line);
		if (to.initial < 0)
			return -1;
		to.initial ^= line->active_low ^ s->active_low;
	}
	lc = line_config(line->offset, &to);
	ret = lc ? gpiod_line_request_reconfigure_lines(line->request, lc) : -1;
	saved = errno;
	gpiod_line_config_free(lc);
	if (ret == 0)
		line->active_low = s->active_low;
	errno = saved;
	return ret;
}

struct gpio_line *gpio_line_request(struct gpio_chips *chips, const struct gpio_ref *ref,
				    const struct gpio_settings *settings, char *err,
				    size_t errlen)
{
	struct gpio_line *line;

	if (!ref_valid(chips, ref)) {
		gpio_ref_describe(chips, ref, err, errlen);
		return NULL;
	}
	line = calloc(1, sizeof(*line));
	if (!line) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	chips->requested = true;
	line->offset = ref->offset;
	line->chips = chips;
	line->ref = *ref;
	line->request = request_one(chips->handles[ref->chip], ref->offset, settings);
	if (!line->request) {
		request_error(chips, ref, settings, errno, err, errlen);
		goto fail;
	}
	line->active_low = settings->active_low;
	if (settings->output && settings->initial == GPIO_INITIAL_AS_IS &&
	    reconfigure_request(line, settings) < 0) {
		request_error(chips, ref, settings, errno, err, errlen);
		goto fail;
	}
	if (settings->output)
		return line;
	/* Non-blocking so that gpio_line_handle_events() stops when the
	 * kernel's queue is empty instead of waiting for the next edge. */
	line->events = gpiod_edge_event_buffer_new(EVENT_BUFFER_SIZE);
	if (!line->events || make_nonblocking(gpiod_line_request_get_fd(line->request)) < 0) {
		snprintf(err, errlen, "cannot set up edge events: %s", strerror(errno));
		goto fail;
	}
	return line;

fail:
	gpio_line_release(line);
	return NULL;
}

void gpio_line_release(struct gpio_line *line)
{
	if (!line)
		return;
	if (line->events)
		gpiod_edge_event_buffer_free(line->events);
	if (line->request)
		gpiod_line_request_release(line->request);
	free(line);
}

/* The v2 uAPI's set-config changes direction, edge detection and debounce
 * of a requested line as well as its flags. */
bool gpio_line_can_reconfigure(const struct gpio_line *line, const struct gpio_settings *to)
{
	(void)line;
	(void)to;
	return true;
}

int gpio_line_reconfigure(struct gpio_line *line, const struct gpio_settings *s, char *err,
			  size_t errlen)
{
	struct gpiod_edge_event_buffer *events = line->events;
	char what[128];
	int error;

	/* An output becoming an input is ready for its events before it has any. */
	if (!s->output && !events) {
		events = gpiod_edge_event_buffer_new(EVENT_BUFFER_SIZE);
		if (!events || make_nonblocking(gpiod_line_request_get_fd(line->request)) < 0)
			goto fail;
	}
	if (reconfigure_request(line, s) < 0)
		goto fail;
	if (s->output && events) {
		gpiod_edge_event_buffer_free(events);
		events = NULL;
	}
	line->events = events;
	return 0;

fail:
	error = errno;
	if (events && events != line->events)
		gpiod_edge_event_buffer_free(events);
	gpio_ref_describe(line->chips, &line->ref, what, sizeof(what));
	snprintf(err, errlen, "cannot reconfigure %s: %s", what, strerror(error));
	return -1;
}

int gpio_line_set(struct gpio_line *line, int value)
{
	return gpiod_line_request_set_value(line->request, line->offset,
					    value ? GPIOD_LINE_VALUE_ACTIVE
						  : GPIOD_LINE_VALUE_INACTIVE);
}

int gpio_line_get(struct gpio_line *line)
{
	enum gpiod_line_value value = gpiod_line_request_get_value(line->request, line->offset);

	if (value == GPIOD_LINE_VALUE_ERROR)
		return -1;
	return value == GPIOD_LINE_VALUE_ACTIVE;
}

int gpio_line_fd(const struct gpio_line *line)
{
	if (!line->events)
		return -1;
	return gpiod_line_request_get_fd(line->request);
}

int gpio_line_handle_events(struct gpio_line *line, gpio_edge_fn fn, void *ctx)
{
	if (!line->events) {
		errno = EINVAL;
		return -1;
	}
	/* Bounded so that a flood on one line cannot starve the others: what is
	 * left keeps the fd readable for the next pass of the loop. */
	for (int batch = 0; batch < MAX_BATCHES; batch++) {
		int n = gpiod_line_request_read_edge_events(line->request, line->events,
							    EVENT_BUFFER_SIZE);

		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		for (int i = 0; i < n; i++) {
			struct gpiod_edge_event *ev =
				gpiod_edge_event_buffer_get_event(line->events, (unsigned long)i);

			/* Edges are logical: with active_low the kernel has
			 * already turned a falling wire into a rising edge. */
			fn(ctx, gpiod_edge_event_get_event_type(ev) == GPIOD_EDGE_EVENT_RISING_EDGE,
			   gpiod_edge_event_get_timestamp_ns(ev));
		}
		/* A short read means the queue is empty; saves a read(). */
		if (n < EVENT_BUFFER_SIZE)
			break;
	}
	return 0;
}

/* ---- listing ------------------------------------------------------------- */

static const char *direction_name(enum gpiod_line_direction direction)
{
	return direction == GPIOD_LINE_DIRECTION_OUTPUT ? "output" : "input";
}

static int list_line(FILE *out, struct gpiod_chip *chip, unsigned int offset)
{
	struct gpiod_line_info *info = gpiod_chip_get_line_info(chip, offset);
	const char *name, *consumer;

	if (!info)
		return -1;
	name = gpiod_line_info_get_name(info);
	consumer = gpiod_line_info_get_consumer(info);
	/* Same layout as the 1.6 flavour, so scripts can read either. */
	fprintf(out, "\tline %3u: %-16s %-6s ", offset, name && *name ? name : "unnamed",
		direction_name(gpiod_line_info_get_direction(info)));
	if (gpiod_line_info_is_used(info))
		fprintf(out, "used by \"%s\"\n", consumer && *consumer ? consumer : "kernel");
	else
		fprintf(out, "unused\n");
	gpiod_line_info_free(info);
	return 0;
}

static int list_chip(FILE *out, const char *path, char *err, size_t errlen)
{
	struct gpiod_chip *chip = gpiod_chip_open(path);
	struct gpiod_chip_info *info = NULL;
	size_t lines;
	int ret = -1;

	if (!chip)
		goto fail;
	info = gpiod_chip_get_info(chip);
	if (!info)
		goto fail;
	lines = gpiod_chip_info_get_num_lines(info);
	fprintf(out, "%s [%s] (%zu lines)\n", gpiod_chip_info_get_name(info),
		gpiod_chip_info_get_label(info), lines);
	for (unsigned int i = 0; i < lines; i++)
		if (list_line(out, chip, i) < 0)
			goto fail;
	ret = 0;
fail:
	if (ret < 0)
		snprintf(err, errlen, "cannot list %s: %s", path, strerror(errno));
	if (info)
		gpiod_chip_info_free(info);
	if (chip)
		gpiod_chip_close(chip);
	return ret;
}

int gpio_list(FILE *out, char *err, size_t errlen)
{
	char **paths = NULL;
	int count = chip_paths(&paths, err, errlen);
	int ret = 0;

	if (count < 0)
		return -1;
	if (count == 0)
		fprintf(out, "no GPIO chips found (is /dev/gpiochip* there and readable?)\n");
	/* Goes on past a chip that cannot be opened; the first error is kept. */
	for (int i = 0; i < count; i++) {
		char chip_err[256];

		if (list_chip(out, paths[i], chip_err, sizeof(chip_err)) == 0)
			continue;
		fprintf(out, "%s\n", chip_err);
		if (ret == 0)
			snprintf(err, errlen, "%s", chip_err);
		ret = -1;
	}
	free_paths(paths, count);
	return ret;
}

const char *gpio_version_built(void)
{
	return GPIOD_BUILT_VERSION;
}

const char *gpio_version_runtime(void)
{
	return gpiod_api_version();
}
