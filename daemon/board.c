/* SPDX-License-Identifier: MIT */
#include "board.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "template.h"

#define MACHINE_ID_PATH "/etc/machine-id"
/* Device-tree boards (Raspberry Pi and most other ARM boards) name
 * themselves here; a PC has no such file. */
#define MODEL_PATH "/proc/device-tree/model"

/* The file's first line, or its text up to a NUL (device-tree strings end
 * with one), into out; "" when it cannot be read. */
static void read_first_line(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	out[0] = '\0';
	if (!f)
		return;
	n = fread(out, 1, size - 1, f);
	fclose(f);
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
}

void board_read(struct board *b)
{
	char host[sizeof(b->host)] = "", id[64];

	memset(b, 0, sizeof(*b));
	/* "(none)": the kernel's name before anyone set one, no name at all. */
	if (gethostname(host, sizeof(host) - 1) == 0 && strcmp(host, "(none)") != 0)
		template_short_host(b->host, sizeof(b->host), host);
	read_first_line(MACHINE_ID_PATH, id, sizeof(id));
	if (!template_machine_id(b->machine, id))
		b->machine[0] = '\0';
	read_first_line(MODEL_PATH, b->model, sizeof(b->model));
}
