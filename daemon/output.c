/* SPDX-License-Identifier: MIT */
#include "output.h"

#include <errno.h>
#include <string.h>

#include "gpio.h"
#include "log.h"

int output_set(struct outputs *o, struct line_state *l, int value)
{
	if (gpio_line_set(l->gpio, value) < 0) {
		log_error("cannot set %s: %s", l->cfg->name, strerror(errno));
		return -1;
	}
	log_debug("%s -> %s", l->cfg->name, value ? "on" : "off");
	l->value = value;
	publish_state(o->publisher, l);
	return 0;
}

int output_apply(struct outputs *o, struct line_state *l, const struct command *cmd)
{
	switch (cmd->kind) {
	case COMMAND_ON:
		return output_set(o, l, 1);
	case COMMAND_OFF:
		return output_set(o, l, 0);
	case COMMAND_TOGGLE:
		return output_set(o, l, !l->value);
	default:
		return -1;
	}
}

void output_message(struct outputs *o, struct line_state *l, const char *topic,
		    const void *payload, size_t len, bool retained)
{
	struct command cmd;
	const char *reason;

	if (!payload_parse_command(payload, len, &cmd, &reason)) {
		publish_ignored(o->publisher, topic, payload, len, reason);
		return;
	}
	if (retained && payload_command_is_momentary(&cmd)) {
		log_warning("ignored a retained %s on \"%s\": it would act again on every "
			    "reconnect",
			    payload_command_name(&cmd), topic);
		return;
	}
	if (output_apply(o, l, &cmd) < 0)
		publish_ignored(o->publisher, topic, payload, len, "the line could not be set");
}
