#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static bool log_verbose;
static bool log_to_journal;

void log_init(bool verbose)
{
	log_verbose = verbose;
	log_to_journal = getenv("JOURNAL_STREAM") != NULL;
}

bool log_debug_enabled(void)
{
	return log_verbose;
}

static const char *level_word(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERROR:
		return "error: ";
	case LOG_LVL_WARNING:
		return "warning: ";
	case LOG_LVL_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (level == LOG_LVL_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* One fprintf per message so lines from concurrent writers never mix. */
	if (log_to_journal)
		fprintf(stderr, "<%d>%s\n", (int)level, text);
	else
		fprintf(stderr, "gpio2mqtt: %s%s\n", level_word(level), text);
}
