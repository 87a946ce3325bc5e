/* SPDX-License-Identifier: MIT */
/* payload: command payloads in, error reports out. Pure: no I/O.
 *
 * The only module that includes <cjson/cJSON.h>. MQTT payloads are bytes,
 * not C strings: every function takes a pointer and a length. */
#ifndef GPIO2MQTT_PAYLOAD_H
#define GPIO2MQTT_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>

/* Largest command accepted; anything longer is refused unread. */
#define PAYLOAD_COMMAND_MAX 256
/* Durations a command may give, in ms: up to a day (CFG_DURATION_MAX_MS). */
#define PAYLOAD_DURATION_MAX_MS 86400000U
/* A blink's phases are at least this long: each one publishes a state, and a
 * blink may last until the next command. */
#define PAYLOAD_BLINK_MIN_MS 10U
#define PAYLOAD_BLINK_COUNT_MAX 1000000U

enum command_kind {
	COMMAND_INVALID,
	COMMAND_ON,
	COMMAND_OFF,
	COMMAND_TOGGLE,
	COMMAND_PULSE, /* "pulse": on for the output's pulse_ms */
	COMMAND_BLINK,
};

/* A command to an output, parsed once: what to do and its parameters. */
struct command {
	enum command_kind kind;
	unsigned int for_ms; /* ON/OFF: then the opposite after for_ms; 0: stay */
	unsigned int on_ms;  /* BLINK */
	unsigned int off_ms; /* BLINK */
	unsigned int count;  /* BLINK: on-off cycles; 0: until the next command */
};

/* Whether a command must not be taken from a retained message: it would act
 * again on every reconnect (toggle, pulse, blink, a timed on/off). */
bool payload_command_is_momentary(const struct command *cmd);
/* "on", "toggle", "timed on", "blink"...: for log messages. */
const char *payload_command_name(const struct command *cmd);

/* Parses on/off/toggle/pulse, 1/0, true/false, high/low (any case,
 * surrounding white space ignored) and the JSON forms into *cmd:
 *   {"state": "on"|"off"|"toggle"|"pulse"}
 *   {"state": "on"|"off", "for_ms": 1..86400000}
 *   {"state": "blink", "on_ms": 10..86400000, "off_ms": 10..86400000,
 *    "count": 0..1000000}                   (count optional, 0: no end)
 * Any other member, or one given twice, is refused. Whether the output
 * takes the command (a pulse_ms for "pulse") is output.c's to say. false
 * when the payload is not a command: *reason (if given) says why, as a
 * static string, and cmd->kind is COMMAND_INVALID. */
bool payload_parse_command(const void *data, size_t len, struct command *cmd,
			   const char **reason);

/* {"topic": ..., "payload": excerpt, "reason": ...} as a new string the
 * caller frees; non-printable bytes of the excerpt are replaced by '?'.
 * NULL when out of memory. */
char *payload_error_json(const char *topic, const void *data, size_t len, const char *reason);
/* The same, with the excerpt and then the topic shortened until the report
 * has at most room bytes (a broker's maximum packet size); *cut says
 * whether anything was. NULL when out of memory or when nothing fits. */
char *payload_error_json_within(const char *topic, const void *data, size_t len,
				const char *reason, size_t room, bool *cut);

#endif
