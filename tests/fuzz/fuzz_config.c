/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: config_load on arbitrary mapping files. The bytes are
 * written to a memory file created once; its /proc/self/fd path is what the
 * loader opens. Errors go to a memory stream that is freed every time, so the
 * leak checker sees only what the loader itself keeps. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int file_fd = -1;
static char file_path[64];

static void require(int condition)
{
	if (!condition)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	file_fd = memfd_create("fuzz-mapping", 0);
	require(file_fd >= 0);
	snprintf(file_path, sizeof(file_path), "/proc/self/fd/%d", file_fd);
	return 0;
}

static void write_file(const uint8_t *data, size_t size)
{
	require(ftruncate(file_fd, 0) == 0);
	require(pwrite(file_fd, data, size, 0) == (ssize_t)size);
}

static int valid_topic(const char *t)
{
	return t && *t && !strpbrk(t, "+#");
}

/* What a successful load promises the rest of the daemon. */
static void check_loaded(const struct config *cfg)
{
	require(cfg->path && strcmp(cfg->path, file_path) == 0);
	require(cfg->n_outputs <= cfg->n_lines);
	require(cfg->mqtt.host && *cfg->mqtt.host && cfg->mqtt.client_id);
	require(cfg->mqtt.port >= 1 && cfg->mqtt.port <= 65535);
	require(cfg->mqtt.qos >= 0 && cfg->mqtt.qos <= 2);
	require(!cfg->mqtt.password || cfg->mqtt.username);
	require(valid_topic(cfg->status_topic) && valid_topic(cfg->error_topic));
	require(config_mqtt_equal(&cfg->mqtt, &cfg->mqtt));
	for (size_t i = 0; i < cfg->n_lines; i++) {
		const struct cfg_line *l = &cfg->lines[i];

		require(l->name && l->payload_on && l->payload_off);
		require(l->output == (i < cfg->n_outputs));
		require(valid_topic(l->state_topic));
		for (size_t k = 0; k < l->n_commands; k++)
			require(valid_topic(l->command_topics[k]));
		require(!l->output || l->n_commands > 0);
		require(l->line_name || l->chip);
	}
}

/* Every problem is reported as "FILE:LINE: message". */
static void check_errors(const char *errors, size_t len)
{
	size_t prefix = strlen(file_path);

	require(len > prefix + 1);
	require(strncmp(errors, file_path, prefix) == 0 && errors[prefix] == ':');
	require(errors[len - 1] == '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char *errors = NULL;
	size_t errors_len = 0;
	FILE *stream = open_memstream(&errors, &errors_len);
	int rc;

	require(stream != NULL);
	write_file(data, size);
	rc = config_load(&cfg, file_path, stream);
	require(fclose(stream) == 0);
	if (rc == 0) {
		require(errors_len == 0);
		check_loaded(&cfg);
		config_free(&cfg);
	} else {
		require(rc == -1);
		check_errors(errors, errors_len);
		require(cfg.lines == NULL && cfg.path == NULL && cfg.mqtt.host == NULL);
	}
	free(errors);
	return 0;
}
