/* SPDX-License-Identifier: MIT */
/* log: messages to stderr with a level prefix.
 *
 * Under systemd (JOURNAL_STREAM set) the prefix is the "<N>" syslog priority
 * that journald turns into the message's level; on a terminal it is a word. */
#ifndef GPIO2MQTT_LOG_H
#define GPIO2MQTT_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR = 3, LOG_LVL_WARNING = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

/* verbosity: 0 (info and above), 1 (-v: the daemon's debug messages), 2
 * (-vv: libmosquitto's packet trace too). */
void log_init(int verbosity);
/* Whether debug messages are written (-v): worth formatting at all. */
bool log_debug_enabled(void);
/* Whether libmosquitto's own messages are wanted (-vv). */
bool log_trace_enabled(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* As log_msg, but on a terminal the text stands alone, with no "gpio2mqtt:"
 * and level in front: for FILE:LINE: lines that editors can jump to. */
void log_plain(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
