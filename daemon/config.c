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

/* --- the state file --- */

static void read_state_file(struct reader *r, const config_setting_t *root, struct config *cfg)
{
	const char *path;

	if (cfg_get_string(r, root, "state_file", &cfg->state_file) == 1) {
		path = cfg->state_file;
		if (path[0] != '/' || path[strlen(path) - 1] == '/')
			cfg_fail_at(r, cfg_key_line(root, "state_file"),
				"'state_file' must be the absolute path of a file, such as \"%s\"",
				CONFIG_DEFAULT_STATE_FILE);
	}
	if (!cfg->state_file)
		cfg->state_file = cfg_copy(r, CONFIG_DEFAULT_STATE_FILE);
}

/* The first entry whose state the state file keeps, or NULL. */
static const struct cfg_line *first_kept(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_lines; i++) {
		const struct cfg_line *l = &cfg->lines[i];

		if (l->output ? l->initial == INITIAL_RESTORE : l->counter != COUNTER_NONE)
			return l;
	}
	return NULL;
}

/* --check: a state file the daemon cannot write loses, at a restart, what
 * initial = "restore" and the counters keep. */
static void check_state_file(struct reader *r, const config_setting_t *root,
			     const struct config *cfg)
{
	const struct cfg_line *l = first_kept(cfg);
	const char *path = cfg->state_file, *slash = path ? strrchr(path, '/') : NULL;
	char dir[4096];
	int line;

	if (!r->warnings || !l || !slash)
		return;
	line = config_setting_get_member(root, "state_file") ? cfg_key_line(root, "state_file")
							     : l->source_line;
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (access(dir, W_OK) != 0)
		cfg_warn_at(r, line,
			    "state_file \"%s\": %s %s: the state of %s \"%s\" will not survive "
			    "a restart",
			    path, dir, errno == ENOENT ? "does not exist" : "is not writable",
			    l->output ? "output" : "input", l->name);
	else if (strncmp(path, "/var/lib/gpio2mqtt/", 19) != 0)
		cfg_warn_at(r, line, "state_file \"%s\" is not under /var/lib/gpio2mqtt/, the only "
			    "directory the gpio2mqtt service may write", path);
}

/* --- the file --- */

static const char *const top_keys[] = { "mqtt", "outputs", "inputs", "homeassistant",
					"state_file", NULL };

static void read_root(struct reader *r, const config_setting_t *root, struct config *cfg)
{
	cfg_check_keys(r, root, top_keys,
		       "the file (expected mqtt, outputs, inputs, homeassistant, state_file)");
	cfg_read_mqtt(r, root, &cfg->mqtt);
	cfg_read_ha(r, root, &cfg->ha);
	read_state_file(r, root, cfg);
	/* Every topic below starts with base_topic, which a failed copy leaves
	 * NULL; the load fails anyway. */
	if (r->out_of_memory)
		return;
	cfg->status_topic = cfg_own(r, topics_status(cfg->mqtt.base_topic));
	cfg->error_topic = cfg_own(r, topics_error(cfg->mqtt.base_topic));
	cfg_read_lines(r, root, cfg);
	cfg_check_lines(r, cfg);
	check_state_file(r, root, cfg);
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
	free(l->event_topic);
	free(l->count_topic);
	free(l->interlock);
	free(l->device_class);
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_lines; i++)
		free_line(&cfg->lines[i]);
	free(cfg->lines);
	config_mqtt_free(&cfg->mqtt);
	cfg_ha_free(&cfg->ha);
	free(cfg->status_topic);
	free(cfg->error_topic);
	free(cfg->state_file);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
