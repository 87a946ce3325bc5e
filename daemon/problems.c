/* SPDX-License-Identifier: MIT */
#include "problems.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

#define PROBLEMS_SHOWN 50

void problems_open(struct problems *p)
{
	p->text = NULL;
	p->len = 0;
	p->stream = open_memstream(&p->text, &p->len);
	p->collecting = p->stream != NULL;
	if (!p->collecting)
		p->stream = stderr;
}

/* config ends a long list with "FILE: N more problems not shown". */
static int count_of(const char *line)
{
	const char *more = strstr(line, " more problems not shown");
	const char *colon = more ? memrchr(line, ':', (size_t)(more - line)) : NULL;

	return colon ? atoi(colon + 1) : 1;
}

int problems_log(struct problems *p)
{
	int count = 0, shown = 0;

	if (!p->collecting)
		return 0;
	fclose(p->stream);
	p->stream = NULL;
	for (char *line = p->text, *end; line && *line; line = end + (*end != '\0')) {
		end = line + strcspn(line, "\n");
		*end = '\0';
		if (strstr(line, ": warning: ")) {
			log_plain(LOG_LVL_WARNING, "%s", line);
			continue;
		}
		count += count_of(line);
		if (shown++ < PROBLEMS_SHOWN)
			log_plain(LOG_LVL_ERROR, "%s", line);
	}
	if (shown > PROBLEMS_SHOWN)
		log_plain(LOG_LVL_ERROR, "%d more problems not shown", shown - PROBLEMS_SHOWN);
	free(p->text);
	p->text = NULL;
	return count;
}
