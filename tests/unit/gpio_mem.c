/* SPDX-License-Identifier: MIT */
/* gpio_mem: daemon/gpio.h in memory for the unit tests; see gpio_mem.h. */
#include "gpio_mem.h"
#include "chiptable.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_CHIPS 8
#define NAME_LEN 32
#define DEFAULT_CONSUMER "gpio2mqtt"

struct mem_event {
	int value; /* logical */
	uint64_t timestamp_ns;
};

struct mem_line {
	char name[NAME_LEN];    /* "" for an unnamed line */
	int physical;           /* the level on the wire */
	struct gpio_line *holder; /* the daemon's request, NULL when it holds none */
	char other[NAME_LEN];   /* consumer of another program's hold, "" for none */
	int refuse_request;     /* errno for the next request, 0 for none */
	int refuse_reconfigure; /* errno for the next reconfigure, 0 for none */
	struct gpio_mem_counts counts;
};

struct mem_chip {
	char name[NAME_LEN];
	char label[NAME_LEN];
	unsigned int n_lines;
	struct mem_line *lines;
};

/* The board the tests build; global as the kernel's chips are. */
static struct {
	struct mem_chip chips[MAX_CHIPS];
	size_t n_chips;
	enum gpio_mem_generation generation;
} board;

struct gpio_chips {
	struct chip_table *table;
};

struct gpio_line {
	struct mem_line *line; /* NULL once gpio_mem_reset() forgot the board */
	struct gpio_ref ref;
	struct gpio_settings settings; /* .consumer points at consumer */
	char consumer[NAME_LEN];
	int value;    /* outputs: the logical value driven */
	int event_fd; /* inputs: an eventfd, readable while events wait; else -1 */
	struct mem_event *events;
	size_t n_events;
};

static struct mem_line *board_line(size_t chip, unsigned int offset)
{
	if (chip >= board.n_chips || offset >= board.chips[chip].n_lines)
		return NULL;
	return &board.chips[chip].lines[offset];
}

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, NAME_LEN, "%s", src ? src : "");
}

/* --- the board, for the tests --- */

void gpio_mem_reset(void)
{
	for (size_t c = 0; c < board.n_chips; c++) {
		for (unsigned int i = 0; i < board.chips[c].n_lines; i++)
			if (board.chips[c].lines[i].holder)
				board.chips[c].lines[i].holder->line = NULL;
		free(board.chips[c].lines);
	}
	memset(&board, 0, sizeof(board));
	board.generation = GPIO_MEM_V2;
}

void gpio_mem_set_generation(enum gpio_mem_generation generation)
{
	board.generation = generation;
}

int gpio_mem_add_chip(const char *name, const char *label, unsigned int n_lines,
		      const char *const *names)
{
	struct mem_chip *chip;

	if (board.n_chips == MAX_CHIPS)
		return -1;
	chip = &board.chips[board.n_chips];
	chip->lines = calloc(n_lines + 1, sizeof(*chip->lines));
	if (!chip->lines)
		return -1;
	copy_name(chip->name, name);
	copy_name(chip->label, label);
	chip->n_lines = n_lines;
	for (unsigned int i = 0; names && i < n_lines; i++)
		copy_name(chip->lines[i].name, names[i]);
	return (int)board.n_chips++;
}

int gpio_mem_value(size_t chip, unsigned int offset)
{
	struct mem_line *line = board_line(chip, offset);

	return line ? line->physical : -1;
}

int gpio_mem_logical_value(size_t chip, unsigned int offset)
{
	struct mem_line *line = board_line(chip, offset);

	return line && line->holder ? gpio_line_get(line->holder) : -1;
}

bool gpio_mem_is_requested(size_t chip, unsigned int offset)
{
	struct mem_line *line = board_line(chip, offset);

	return line && line->holder;
}

bool gpio_mem_settings(size_t chip, unsigned int offset, struct gpio_settings *settings)
{
	struct mem_line *line = board_line(chip, offset);

	if (!line || !line->holder)
		return false;
	*settings = line->holder->settings;
	return true;
}

struct gpio_mem_counts gpio_mem_counts(size_t chip, unsigned int offset)
{
	struct mem_line *line = board_line(chip, offset);

	return line ? line->counts : (struct gpio_mem_counts){ 0 };
}

/* Queues an edge and makes the line's fd readable. */
static int queue_edge(struct gpio_line *l, int value, uint64_t timestamp_ns)
{
	struct mem_event *more = realloc(l->events, (l->n_events + 1) * sizeof(*more));
	uint64_t one = 1;

	if (!more)
		return -1;
	l->events = more;
	l->events[l->n_events++] = (struct mem_event){ value, timestamp_ns };
	return write(l->event_fd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

int gpio_mem_drive_input(size_t chip, unsigned int offset, int physical,
			 uint64_t timestamp_ns)
{
	struct mem_line *line = board_line(chip, offset);
	struct gpio_line *l;

	if (!line || (line->holder && line->holder->settings.output))
		return -1;
	physical = !!physical;
	if (line->physical == physical)
		return 0;
	line->physical = physical;
	l = line->holder;
	return l ? queue_edge(l, physical ^ l->settings.active_low, timestamp_ns) : 0;
}

int gpio_mem_hold_by_other(size_t chip, unsigned int offset, const char *consumer)
{
	struct mem_line *line = board_line(chip, offset);

	if (!line || line->holder)
		return -1;
	copy_name(line->other, consumer);
	return 0;
}

int gpio_mem_refuse_next_request(size_t chip, unsigned int offset, int error)
{
	struct mem_line *line = board_line(chip, offset);

	if (!line)
		return -1;
	line->refuse_request = error;
	return 0;
}

int gpio_mem_refuse_next_reconfigure(size_t chip, unsigned int offset, int error)
{
	struct mem_line *line = board_line(chip, offset);

	if (!line)
		return -1;
	line->refuse_reconfigure = error;
	return 0;
}

/* --- gpio.h: the catalogue --- */

/* chip_table_names_fn */
static int read_names(void *ctx, struct chip_table *table, size_t chip, char *err,
		      size_t errlen)
{
	(void)ctx;
	for (unsigned int i = 0; i < board.chips[chip].n_lines; i++) {
		const char *name = board.chips[chip].lines[i].name;

		if (*name && chip_table_add_line(table, chip, i, name) < 0) {
			snprintf(err, errlen, "out of memory indexing GPIO line names");
			return -1;
		}
	}
	return 0;
}

struct gpio_chips *gpio_chips_open(char *err, size_t errlen)
{
	struct gpio_chips *chips = calloc(1, sizeof(*chips));
	char path[64];

	if (!chips || !(chips->table = chip_table_new(read_names, NULL)))
		goto nomem;
	for (size_t c = 0; c < board.n_chips; c++) {
		snprintf(path, sizeof(path), "/dev/%s", board.chips[c].name);
		if (chip_table_add_chip(chips->table, board.chips[c].name, board.chips[c].label,
					path, board.chips[c].n_lines) < 0)
			goto nomem;
	}
	return chips;
nomem:
	snprintf(err, errlen, "out of memory");
	gpio_chips_close(chips);
	return NULL;
}

void gpio_chips_close(struct gpio_chips *chips)
{
	if (!chips)
		return;
	chip_table_free(chips->table);
	free(chips);
}

int gpio_chips_find(struct gpio_chips *chips, const char *chip, const char *name,
		    unsigned int offset, struct gpio_ref *ref, char *err, size_t errlen)
{
	return chip_table_find(chips->table, chip, name, offset, ref, err, errlen);
}

static void describe(const struct gpio_ref *ref, char *buf, size_t len)
{
	struct mem_line *line = board_line(ref->chip, ref->offset);

	if (!line)
		snprintf(buf, len, "chip #%zu offset %u (no such line)", ref->chip, ref->offset);
	else if (*line->name)
		snprintf(buf, len, "%s offset %u (%s)", board.chips[ref->chip].name, ref->offset,
			 line->name);
	else
		snprintf(buf, len, "%s offset %u", board.chips[ref->chip].name, ref->offset);
}

const char *gpio_ref_describe(struct gpio_chips *chips, const struct gpio_ref *ref,
			      char *buf, size_t len)
{
	(void)chips;
	describe(ref, buf, len);
	return buf;
}

/* Who holds the line, the daemon included, as the kernel would say. */
static const char *user_of(const struct mem_line *line)
{
	if (line->holder)
		return line->holder->consumer;
	return *line->other ? line->other : NULL;
}

static int refuse(const struct gpio_ref *ref, const char *what, int error, char *err,
		  size_t errlen)
{
	char where[128];

	describe(ref, where, sizeof(where));
	snprintf(err, errlen, "%s %s: %s", what, where, strerror(error));
	errno = error;
	return -1;
}

int gpio_check_free(struct gpio_chips *chips, const struct gpio_ref *ref, char *err,
		    size_t errlen)
{
	struct mem_line *line = board_line(ref->chip, ref->offset);
	char where[128];

	(void)chips;
	describe(ref, where, sizeof(where));
	if (!line) {
		snprintf(err, errlen, "%s", where);
		return -1;
	}
	if (!user_of(line))
		return 0;
	snprintf(err, errlen, "%s is in use by \"%s\"", where, user_of(line));
	errno = EBUSY;
	return -1;
}

/* --- gpio.h: lines --- */

/* The daemon drives value (logical) on its output line. */
static void drive(struct gpio_line *l, int value)
{
	int physical = !!value ^ l->settings.active_low;

	l->value = !!value;
	if (physical != l->line->physical)
		l->line->counts.level_changes++;
	l->line->physical = physical;
}

/* Takes on the settings: an output drives its initial value, an input gets
 * an fd for its events. 0, or -1 with errno (the line is then unchanged). */
static int apply_settings(struct gpio_line *l, const struct gpio_settings *s)
{
	if (!s->output && l->event_fd < 0) {
		l->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (l->event_fd < 0)
			return -1;
	}
	if (s->output && l->event_fd >= 0) {
		close(l->event_fd);
		l->event_fd = -1;
		free(l->events);
		l->events = NULL;
		l->n_events = 0;
	}
	l->settings = *s;
	l->settings.consumer = l->consumer;
	if (s->output && s->initial == GPIO_INITIAL_AS_IS)
		l->value = l->line->physical ^ s->active_low; /* the level stays */
	else if (s->output)
		drive(l, s->initial);
	return 0;
}

struct gpio_line *gpio_line_request(struct gpio_chips *chips, const struct gpio_ref *ref,
				    const struct gpio_settings *settings, char *err,
				    size_t errlen)
{
	struct mem_line *line = board_line(ref->chip, ref->offset);
	struct gpio_line *l;
	int error;

	if (!line || user_of(line)) {
		gpio_check_free(chips, ref, err, errlen);
		return NULL;
	}
	if (line->refuse_request) {
		error = line->refuse_request;
		line->refuse_request = 0;
		refuse(ref, "cannot request", error, err, errlen);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*l = (struct gpio_line){ .line = line, .ref = *ref, .event_fd = -1 };
	copy_name(l->consumer, settings->consumer ? settings->consumer : DEFAULT_CONSUMER);
	if (apply_settings(l, settings) < 0) {
		refuse(ref, "cannot watch", errno, err, errlen);
		free(l);
		return NULL;
	}
	line->holder = l;
	line->counts.requests++;
	return l;
}

void gpio_line_release(struct gpio_line *l)
{
	if (!l)
		return;
	if (l->line) {
		l->line->holder = NULL;
		l->line->counts.releases++;
	}
	if (l->event_fd >= 0)
		close(l->event_fd);
	free(l->events);
	free(l);
}

bool gpio_line_can_reconfigure(const struct gpio_line *l, const struct gpio_settings *to)
{
	if (board.generation == GPIO_MEM_V2)
		return true;
	return l->event_fd < 0 && to->output; /* 1.6: no line requested for events */
}

int gpio_line_reconfigure(struct gpio_line *l, const struct gpio_settings *settings,
			  char *err, size_t errlen)
{
	int error = 0;

	if (!l->line)
		error = ENODEV;
	else if (!gpio_line_can_reconfigure(l, settings))
		error = EPERM;
	else if (l->line->refuse_reconfigure) {
		error = l->line->refuse_reconfigure;
		l->line->refuse_reconfigure = 0;
	} else if (apply_settings(l, settings) < 0) {
		error = errno;
	}
	if (error)
		return refuse(&l->ref, "cannot reconfigure", error, err, errlen);
	l->line->counts.reconfigures++;
	return 0;
}

int gpio_line_set(struct gpio_line *l, int value)
{
	if (!l->line || !l->settings.output) {
		errno = l->line ? EPERM : ENODEV;
		return -1;
	}
	drive(l, value);
	return 0;
}

int gpio_line_get(struct gpio_line *l)
{
	if (!l->line) {
		errno = ENODEV;
		return -1;
	}
	if (l->settings.output)
		return l->value;
	return l->line->physical ^ l->settings.active_low;
}

int gpio_line_fd(const struct gpio_line *l)
{
	return l->event_fd;
}

int gpio_line_handle_events(struct gpio_line *l, gpio_edge_fn fn, void *ctx)
{
	struct mem_event *events = l->events;
	size_t n = l->n_events;
	uint64_t count;

	if (l->event_fd < 0) {
		errno = EINVAL;
		return -1;
	}
	/* Taken first: fn may drive the line again. */
	l->events = NULL;
	l->n_events = 0;
	if (read(l->event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN) {
		free(events);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		fn(ctx, events[i].value, events[i].timestamp_ns);
	free(events);
	return 0;
}

/* --- listing and versions --- */

int gpio_list(FILE *out, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (!board.n_chips)
		fprintf(out, "no GPIO chips found (is /dev/gpiochip* there and readable?)\n");
	for (size_t c = 0; c < board.n_chips; c++) {
		const struct mem_chip *chip = &board.chips[c];

		fprintf(out, "%s [%s] (%u lines)\n", chip->name, chip->label, chip->n_lines);
		for (unsigned int i = 0; i < chip->n_lines; i++) {
			const struct mem_line *line = &chip->lines[i];
			bool output = line->holder && line->holder->settings.output;

			fprintf(out, "\tline %3u: %-16s %-6s ", i, *line->name ? line->name : "unnamed",
				output ? "output" : "input");
			if (user_of(line))
				fprintf(out, "used by \"%s\"\n", user_of(line));
			else
				fprintf(out, "unused\n");
		}
	}
	return 0;
}

const char *gpio_version_built(void)
{
	return "in-memory";
}

const char *gpio_version_runtime(void)
{
	return "in-memory";
}
