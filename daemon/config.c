/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "config_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hints.h"
#include "topics.h"

#define MACHINE_ID_PATH "/etc/machine-id"

/* --- outputs and inputs --- */

static const char *const bias_names[] = { "as-is", "disabled", "pull-up", "pull-down", NULL };
static const char *const drive_names[] = { "push-pull", "open-drain", "open-source", NULL };
static const char *const initial_names[] = { "off", "on", NULL };

static const char *const output_keys[] = { "name", "line", "chip", "command_topic",
					   "state_topic", "active_low", "initial", "drive",
					   "bias", "payload_on", "payload_off", "retain", NULL };
static const char *const input_keys[] = { "name", "line", "chip", "state_topic", "bias",
					  "active_low", "debounce_ms", "payload_on",
					  "payload_off", "retain", NULL };

static void read_line_location(struct reader *r, const config_setting_t *g, struct cfg_line *l)
{
	const config_setting_t *s = config_setting_get_member(g, "line");

	cfg_get_string(r, g, "chip", &l->chip);
	if (!s) {
		cfg_fail_at(r, l->source_line, "'line' is missing (a line name or an offset)");
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		l->line_name = cfg_copy(r, config_setting_get_string(s));
		if (l->line_name && !*l->line_name)
			cfg_fail_at(r, cfg_line_of(s), "'line' is empty");
	} else if (config_setting_type(s) == CONFIG_TYPE_INT) {
		int offset = config_setting_get_int(s);

		if (offset < 0 || offset > 65535)
			cfg_fail_at(r, cfg_line_of(s), "'line' offset %d is out of range", offset);
		else if (!l->chip)
			cfg_fail_at(r, cfg_line_of(s), "'line' given as an offset needs 'chip'");
		l->offset = (unsigned int)(offset < 0 ? 0 : offset);
	} else {
		cfg_fail_at(r, cfg_line_of(s), "'line' must be a line name (string) or an offset (number)");
	}
}

/* A topic made by topics.h, or NULL with r marked out of memory. */
static char *scheme_topic(struct reader *r, char *topic)
{
	if (!topic)
		r->out_of_memory = true;
	return topic;
}

static void read_line_common(struct reader *r, const config_setting_t *g, struct cfg_line *l,
			     const struct cfg_mqtt *m)
{
	int bias = GPIO_BIAS_AS_IS;

	l->source_line = cfg_line_of(g);
	l->retain = true;
	if (cfg_get_string(r, g, "name", &l->name) == 0)
		cfg_fail_at(r, l->source_line, "'name' is missing");
	else if (l->name && !cfg_valid_name(l->name))
		cfg_fail_at(r, cfg_line_of(config_setting_get_member(g, "name")),
			"'name' \"%s\" may only have letters, digits, '_' and '-'", l->name);
	read_line_location(r, g, l);
	cfg_get_string(r, g, "state_topic", &l->state_topic);
	cfg_expand_vars(r, g, "state_topic", &l->state_topic);
	cfg_get_bool(r, g, "active_low", &l->active_low);
	cfg_get_bool(r, g, "retain", &l->retain);
	cfg_get_choice(r, g, "bias", bias_names, &bias);
	l->bias = (enum gpio_bias)bias;
	cfg_get_string(r, g, "payload_on", &l->payload_on);
	cfg_get_string(r, g, "payload_off", &l->payload_off);
	cfg_check_word(r, g, "payload_on", l->payload_on);
	cfg_check_word(r, g, "payload_off", l->payload_off);
	if (!l->payload_on)
		l->payload_on = cfg_copy(r, "ON");
	if (!l->payload_off)
		l->payload_off = cfg_copy(r, "OFF");
	if (l->name && cfg_valid_name(l->name))
		if (!l->state_topic)
			l->state_topic = scheme_topic(r, topics_state(m->base_topic, l->output, l->name));
	cfg_check_topic(r, g, "state_topic", l->state_topic);
}

/* topic is NULL when its copy failed (r is then marked). */
static void add_command_topic(struct reader *r, struct cfg_line *l, char *topic)
{
	char **more;

	if (!topic)
		return;
	more = cfg_resize(r, l->command_topics, l->n_commands + 1, sizeof(char *));
	if (!more) {
		free(topic);
		return;
	}
	l->command_topics = more;
	l->command_topics[l->n_commands++] = topic;
}

/* One topic, or a list of them: a group's topic and the board's own. */
static void read_command_topics(struct reader *r, const config_setting_t *g, struct cfg_line *l)
{
	const config_setting_t *s = config_setting_get_member(g, "command_topic");
	int type = s ? config_setting_type(s) : CONFIG_TYPE_NONE;
	int n = s ? config_setting_length(s) : 0;

	if (!s)
		return;
	if (type == CONFIG_TYPE_STRING) {
		add_command_topic(r, l, cfg_copy(r, config_setting_get_string(s)));
		return;
	}
	if ((type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) || n == 0) {
		cfg_fail_at(r, cfg_line_of(s), "'command_topic' must be a topic or a list of topics: "
				       "( \"class/all/led\", \"class/%%h/led\" )");
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *topic = config_setting_get_string_elem(s, i);

		if (!topic)
			cfg_fail_at(r, cfg_line_of(s), "'command_topic': entry %d is not a string", i + 1);
		else
			add_command_topic(r, l, cfg_copy(r, topic));
	}
}

static void read_output(struct reader *r, const config_setting_t *g, struct cfg_line *l,
			const struct cfg_mqtt *m)
{
	int drive = GPIO_DRIVE_PUSH_PULL, initial = INITIAL_OFF;

	l->output = true;
	cfg_check_keys(r, g, output_keys, "an output");
	read_line_common(r, g, l, m);
	read_command_topics(r, g, l);
	cfg_get_choice(r, g, "initial", initial_names, &initial);
	l->initial = (enum cfg_initial)initial;
	cfg_get_choice(r, g, "drive", drive_names, &drive);
	l->drive = (enum gpio_drive)drive;
	if (!l->n_commands && l->name && cfg_valid_name(l->name))
		add_command_topic(r, l, scheme_topic(r, topics_command(m->base_topic, l->name)));
	for (size_t i = 0; i < l->n_commands; i++) {
		cfg_expand_vars(r, g, "command_topic", &l->command_topics[i]);
		cfg_check_topic(r, g, "command_topic", l->command_topics[i]);
	}
}

static void read_input(struct reader *r, const config_setting_t *g, struct cfg_line *l,
		       const struct cfg_mqtt *m)
{
	int debounce = 0;

	cfg_check_keys(r, g, input_keys, "an input");
	read_line_common(r, g, l, m);
	cfg_get_int(r, g, "debounce_ms", 0, 60000, &debounce);
	l->debounce_ms = (unsigned int)debounce;
}

typedef void (*line_reader)(struct reader *, const config_setting_t *, struct cfg_line *,
			    const struct cfg_mqtt *);

static void read_lines(struct reader *r, const config_setting_t *root, const char *key,
		       line_reader read_one, struct config *cfg)
{
	const config_setting_t *list = config_setting_get_member(root, key);
	struct cfg_line *lines;
	size_t n;

	if (!list)
		return;
	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		cfg_fail_at(r, cfg_line_of(list), "'%s' must be a list: %s = ( { ... }, { ... } );", key,
			key);
		return;
	}
	n = (size_t)config_setting_length(list);
	if (n == 0)
		return;
	lines = cfg_resize(r, cfg->lines, cfg->n_lines + n, sizeof(*cfg->lines));
	if (!lines)
		return;
	cfg->lines = lines;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct cfg_line *l = &cfg->lines[cfg->n_lines++];

		memset(l, 0, sizeof(*l));
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			l->source_line = cfg_line_of(g);
			cfg_fail_at(r, cfg_line_of(g), "each entry of '%s' must be a group { ... }", key);
			continue;
		}
		read_one(r, g, l, &cfg->mqtt);
	}
}

/* --- duplicates --- */


/* Names, lines and topics must each be unique. Sorting them finds every
 * repeat in n log n, which matters for mappings of a thousand lines. */
enum unique_kind { UNIQUE_NAME, UNIQUE_LINE, UNIQUE_TOPIC };

struct unique_key {
	enum unique_kind kind;
	const char *text;            /* UNIQUE_LINE: the chip, "" for any chip */
	const char *line_name;       /* UNIQUE_LINE: NULL when given by offset */
	unsigned int offset;         /* UNIQUE_LINE */
	const struct cfg_line *line; /* lines are in file order in one array */
	bool command;                /* UNIQUE_TOPIC: a command_topic */
};

/* 0 when a and b name the same thing: the same name, GPIO line or topic. */
static int compare_identity(const struct unique_key *a, const struct unique_key *b)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->text, b->text);
	if (c || a->kind != UNIQUE_LINE)
		return c;
	if (!a->line_name != !b->line_name)
		return a->line_name ? -1 : 1;
	if (a->line_name)
		return strcmp(a->line_name, b->line_name);
	return a->offset == b->offset ? 0 : a->offset < b->offset ? -1 : 1;
}

static int compare_keys(const void *pa, const void *pb)
{
	const struct unique_key *a = pa, *b = pb;
	int c = compare_identity(a, b);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return (int)a->command - (int)b->command;
}

static size_t collect_keys(const struct config *cfg, struct unique_key *keys)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_lines; i++) {
		const struct cfg_line *l = &cfg->lines[i];

		if (l->name)
			keys[n++] = (struct unique_key){ .kind = UNIQUE_NAME, .text = l->name,
							 .line = l };
		if (l->line_name || l->chip)
			keys[n++] = (struct unique_key){ .kind = UNIQUE_LINE,
							 .text = l->chip ? l->chip : "",
							 .line_name = l->line_name,
							 .offset = l->offset,
							 .line = l };
		if (l->state_topic)
			keys[n++] = (struct unique_key){ .kind = UNIQUE_TOPIC, .text = l->state_topic,
							 .line = l };
		for (size_t k = 0; k < l->n_commands; k++)
			keys[n++] = (struct unique_key){ .kind = UNIQUE_TOPIC,
							 .text = l->command_topics[k], .line = l,
							 .command = true };
	}
	return n;
}

static void report_repeat(struct reader *r, const struct unique_key *first,
			  const struct unique_key *again)
{
	int line = again->line->source_line, before = first->line->source_line;
	const char *what = again->command ? "command_topic" : "state_topic";

	if (again->kind == UNIQUE_NAME)
		cfg_fail_at(r, line, "name \"%s\" is already used at line %d", again->text, before);
	else if (again->kind == UNIQUE_LINE)
		cfg_fail_at(r, line, "this line is already mapped at line %d", before);
	else if (again->line == first->line)
		cfg_fail_at(r, line, "%s \"%s\" is listed twice", what, again->text);
	else if (again->command == first->command)
		cfg_fail_at(r, line, "%s \"%s\" is already used at line %d", what, again->text, before);
	else /* a state fed back as a command */
		cfg_fail_at(r, line, "%s \"%s\" is the %s at line %d", what, again->text,
			first->command ? "command_topic" : "state_topic", before);
}

static void check_unique(struct reader *r, const struct config *cfg)
{
	size_t n, first = 0, most = 3 * cfg->n_lines + 1;
	struct unique_key *keys;

	for (size_t i = 0; i < cfg->n_lines; i++)
		most += cfg->lines[i].n_commands;
	keys = cfg_resize(r, NULL, most, sizeof(*keys));
	if (!keys)
		return;
	n = collect_keys(cfg, keys);
	qsort(keys, n, sizeof(*keys), compare_keys);
	for (size_t i = 1; i < n; i++) {
		if (compare_identity(&keys[i], &keys[first])) {
			first = i;
			continue;
		}
		/* One line's state topic among its command topics is check_reserved()'s. */
		if (keys[i].line != keys[first].line || keys[i].command == keys[first].command)
			report_repeat(r, &keys[first], &keys[i]);
	}
	free(keys);
}

static void check_reserved(struct reader *r, const struct config *cfg, const struct cfg_line *l)
{
	const char *reserved[] = { cfg->status_topic, cfg->error_topic };

	for (size_t i = 0; i < 2; i++) {
		bool used = cfg_same_str(l->state_topic, reserved[i]);

		for (size_t k = 0; k < l->n_commands; k++)
			used = used || cfg_same_str(l->command_topics[k], reserved[i]);
		if (used)
			cfg_fail_at(r, l->source_line, "topic \"%s\" is reserved for the daemon",
				reserved[i]);
	}
	for (size_t k = 0; k < l->n_commands; k++)
		if (cfg_same_str(l->command_topics[k], l->state_topic))
			cfg_fail_at(r, l->source_line, "command_topic and state_topic must differ");
}

static void check_duplicates(struct reader *r, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_lines; i++)
		check_reserved(r, cfg, &cfg->lines[i]);
	check_unique(r, cfg);
}

/* --- the file --- */

static const char *const top_keys[] = { "mqtt", "outputs", "inputs", NULL };

static void read_root(struct reader *r, const config_setting_t *root, struct config *cfg)
{
	cfg_check_keys(r, root, top_keys, "the file (expected mqtt, outputs, inputs)");
	cfg_read_mqtt(r, root, &cfg->mqtt);
	/* Every topic below starts with base_topic, which a failed copy leaves
	 * NULL; the load fails anyway. */
	if (r->out_of_memory)
		return;
	cfg->status_topic = scheme_topic(r, topics_status(cfg->mqtt.base_topic));
	cfg->error_topic = scheme_topic(r, topics_error(cfg->mqtt.base_topic));
	read_lines(r, root, "outputs", read_output, cfg);
	cfg->n_outputs = cfg->n_lines;
	read_lines(r, root, "inputs", read_input, cfg);
	check_duplicates(r, cfg);
}

/* The text may hold the broker password. */
static void free_text(char *text, size_t len)
{
	explicit_bzero(text, len);
	free(text);
}

/* text[0..len) moved to a buffer of size + 1 bytes, or NULL (text kept).
 * Not realloc(), which could leave a copy behind. */
static char *grow_text(char *text, size_t len, size_t size)
{
	char *bigger = malloc(size + 1);

	if (bigger && text) {
		memcpy(bigger, text, len);
		free_text(text, len);
	}
	return bigger;
}

/* The whole file, NUL-terminated, its length in *len; NULL with errno set. */
static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *text = NULL, *bigger;
	size_t size = 0, n;
	int error = 0;

	if (!f)
		return NULL;
	*len = 0;
	errno = 0;
	do {
		if (size - *len < 4096) {
			size = size ? 2 * size : 16384;
			bigger = grow_text(text, *len, size);
			if (!bigger) {
				error = ENOMEM;
				break;
			}
			text = bigger;
		}
		n = fread(text + *len, 1, size - *len, f);
		*len += n;
	} while (n > 0);
	if (!error && ferror(f))
		error = errno ? errno : EIO;
	fclose(f);
	if (error) {
		if (text)
			free_text(text, *len);
		errno = error;
		return NULL;
	}
	text[*len] = '\0';
	return text;
}

/* libconfig would take the text before a NUL byte for the whole file. */
static int refuse_nul(struct reader *r, const char *text, size_t len)
{
	const char *nul = memchr(text, '\0', len);
	int line = 1;

	if (!nul)
		return 0;
	for (const char *p = text; p < nul; p++)
		line += *p == '\n';
	cfg_fail_at(r, line, "a NUL byte: the mapping file must be text");
	return -1;
}

/* libconfig 1.5 ends the whole process when an @include cannot be read, and
 * a mapping has no use for one: refused before libconfig sees the text. */
static int refuse_includes(struct reader *r, const char *text)
{
	int line = 1, found = 0;

	for (const char *p = text; *p; line++) {
		p += strspn(p, " \t");
		if (strncmp(p, "@include", 8) == 0) {
			cfg_fail_at(r, line, "@include is not supported in a mapping file");
			found = -1;
		}
		p = strchrnul(p, '\n');
		p += *p == '\n';
	}
	return found;
}

/* What %h and %m stand for on this board; each NULL when unknown. */
static void read_template_vars(struct reader *r)
{
	char host[sizeof(r->host)] = "", id[64] = "";
	FILE *f = fopen(MACHINE_ID_PATH, "r");

	/* "(none)": the kernel's name before anyone set one, shared by every
	 * such board, so no name for telling boards apart. */
	if (gethostname(host, sizeof(host) - 1) == 0 && host[0] && strcmp(host, "(none)") != 0) {
		template_short_host(r->host, sizeof(r->host), host);
		r->vars.host = r->host;
	}
	if (f && fgets(id, sizeof(id), f) && template_machine_id(r->machine, id))
		r->vars.machine = r->machine;
	if (f)
		fclose(f);
}

/* The text of the mapping, parsed, into cfg. */
static void read_parsed(struct reader *r, const char *text, struct config *cfg)
{
	config_t cf;

	config_init(&cf);
	if (!config_read_string(&cf, text)) {
		const char *hint = hints_syntax(text, config_error_line(&cf));

		cfg_fail_at(r, config_error_line(&cf), "%s%s%s", config_error_text(&cf),
			hint ? ": " : "", hint ? hint : "");
	} else {
		cfg->path = cfg_copy(r, r->path);
		read_root(r, config_root_setting(&cf), cfg);
	}
	config_destroy(&cf);
}

static void read_file(struct reader *r, struct config *cfg)
{
	size_t len;
	char *text = read_text(r->path, &len);

	if (!text && errno == ENOMEM)
		r->out_of_memory = true;
	else if (!text)
		cfg_fail_at(r, 0, "cannot read the mapping file: %s", strerror(errno));
	else if (refuse_nul(r, text, len) == 0 && refuse_includes(r, text) == 0)
		read_parsed(r, text, cfg);
	if (text)
		free_text(text, len);
}

static int load(struct config *cfg, const char *path, FILE *errors, FILE *warnings)
{
	struct reader r = { .path = path, .errors = errors, .warnings = warnings };

	memset(cfg, 0, sizeof(*cfg));
	read_template_vars(&r);
	read_file(&r, cfg);
	if (r.failures > ERRORS_SHOWN && errors)
		fprintf(errors, "%s: %d more problems not shown\n", path, r.failures - ERRORS_SHOWN);
	/* Once, however many copies failed. */
	if (r.out_of_memory && errors)
		fprintf(errors, "%s: out of memory\n", path);
	if (!r.failures && !r.out_of_memory)
		return 0;
	config_free(cfg);
	return -1;
}

int config_load(struct config *cfg, const char *path, FILE *errors)
{
	return load(cfg, path, errors, NULL);
}

int config_check(struct config *cfg, const char *path, FILE *errors)
{
	return load(cfg, path, errors, errors);
}

static void free_line(struct cfg_line *l)
{
	free(l->name);
	free(l->chip);
	free(l->line_name);
	for (size_t k = 0; k < l->n_commands; k++)
		free(l->command_topics[k]);
	free(l->command_topics);
	free(l->state_topic);
	free(l->payload_on);
	free(l->payload_off);
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_lines; i++)
		free_line(&cfg->lines[i]);
	free(cfg->lines);
	config_mqtt_free(&cfg->mqtt);
	free(cfg->status_topic);
	free(cfg->error_topic);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
