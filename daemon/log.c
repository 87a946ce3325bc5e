/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int log_verbosity;
static bool log_to_journal;

void log_init(int verbosity)
{
	log_verbosity = verbosity;
	log_to_journal = getenv("JOURNAL_STREAM") != NULL;
}

bool log_debug_enabled(void)
{
	return log_verbosity >= 1;
}

bool log_trace_enabled(void)
{
	return log_verbosity >= 2;
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

static void write_line(enum log_level level, bool plain, const char *fmt, va_list ap)
{
	char text[1024];

	if (level == LOG_LVL_DEBUG && !log_debug_enabled())
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	/* One fprintf per message so lines from concurrent writers never mix. */
	if (log_to_journal)
		fprintf(stderr, "<%d>%s\n", (int)level, text);
	else if (plain)
		fprintf(stderr, "%s\n", text);
	else
		fprintf(stderr, "gpio2mqtt: %s%s\n", level_word(level), text);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	write_line(level, false, fmt, ap);
	va_end(ap);
}

void log_plain(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	write_line(level, true, fmt, ap);
	va_end(ap);
}
