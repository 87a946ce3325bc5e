/* SPDX-License-Identifier: MIT */
/* config: the mapping file (libconfig syntax) read into plain structs.
 *
 * The only module that includes <libconfig.h>: config.c (the file, outputs
 * and inputs), config_mqtt.c (the mqtt group), config_ha.c (the
 * homeassistant group) and config_read.c (what they read with,
 * config_read.h). Every string in struct config
 * is a heap copy owned by it and freed by config_free(). Problems are written
 * to the errors stream as "FILE:LINE: message", all of them, not just the
 * first; secrets are never written there. */
#ifndef GPIO2MQTT_CONFIG_H
#define GPIO2MQTT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "gpio.h"

#define CONFIG_DEFAULT_PATH "/etc/gpio2mqtt/gpio2mqtt.conf"
#define CONFIG_DEFAULT_STATE_FILE "/var/lib/gpio2mqtt/state"

struct cfg_tls {
	bool enabled;
	char *ca_file;
	char *ca_path;
	char *cert_file;
	char *key_file;
	bool insecure;
};

/* Which MQTT version to speak: MQTT 5, falling back to 3.1.1 for a broker
 * that turns it down or hangs up on it (auto), or one of them only. */
enum cfg_protocol { PROTOCOL_AUTO, PROTOCOL_V5, PROTOCOL_V311 };

/* One broker node; a clustered broker has several. */
struct cfg_node {
	char *host;
	int port;
};

struct cfg_mqtt {
	char *host; /* the first node's */
	int port;
	struct cfg_node *nodes; /* host and port first, then the rest of hosts */
	size_t n_nodes;
	char *client_id;
	char *username;
	char *password; /* secret: never log */
	int keepalive;
	int qos;
	enum cfg_protocol protocol;
	char *base_topic;
	int reconnect_delay_max; /* seconds */
	struct cfg_tls tls;
	int source_line;
};

/* What an output is at start: a value, the line as the daemon finds it
 * (keep), or the last state commanded before it stopped (restore). */
enum cfg_initial { INITIAL_OFF, INITIAL_ON, INITIAL_KEEP, INITIAL_RESTORE };
/* What an output does once the broker has been unreachable a while. */
enum cfg_failsafe { FAILSAFE_KEEP, FAILSAFE_OFF, FAILSAFE_ON };
/* Which edges an input's counter counts. */
enum cfg_counter { COUNTER_NONE, COUNTER_RISING, COUNTER_FALLING, COUNTER_BOTH };

/* What an output is in Home Assistant (ha_component). */
enum cfg_ha_component { HA_COMPONENT_SWITCH, HA_COMPONENT_LIGHT };
/* How the board is told to Home Assistant (discovery_mode): one device
 * message, or one message per entity (before Home Assistant 2024.11). */
enum cfg_ha_mode { HA_MODE_DEVICE, HA_MODE_ENTITY };

/* The homeassistant group (config_ha.c): MQTT discovery, off by default. */
struct cfg_ha {
	bool discovery;
	enum cfg_ha_mode mode; /* HA_MODE_DEVICE */
	char *prefix;          /* "homeassistant" */
	char *device_name;     /* NULL: the host name */
	int resync_delay_ms;   /* the longest wait after Home Assistant's birth */
	int source_line;
};

/* The largest duration a command or the mapping may give, in ms (a day). */
#define CFG_DURATION_MAX_MS 86400000U

struct cfg_line {
	bool output;
	char *name;
	char *chip;      /* NULL: search every chip by line name */
	char *line_name; /* NULL: the line was given as an offset */
	unsigned int offset;
	char **command_topics; /* outputs only: a command on any of them applies */
	size_t n_commands;
	char *state_topic;
	char *payload_on;
	char *payload_off;
	bool active_low;
	bool retain;
	enum gpio_drive drive;
	enum gpio_bias bias;
	int source_line;

	/* outputs */
	enum cfg_initial initial;
	unsigned int pulse_ms;          /* 0: the command "pulse" is refused */
	char *interlock;                /* group name; NULL: none */
	unsigned int interlock_wait_ms; /* between the others' off and this one's on */
	unsigned int max_on_ms;         /* 0: no limit */
	enum cfg_failsafe on_disconnect;
	unsigned int on_disconnect_after_s; /* default 30 */

	/* inputs */
	unsigned int debounce_ms;
	bool click;                   /* publish single/double/long presses */
	unsigned int double_click_ms; /* default 400 */
	unsigned int long_press_ms;   /* default 800 */
	char *event_topic;            /* <base>/input/<name>/event when click */
	enum cfg_counter counter;
	unsigned int count_interval_ms; /* default 1000 */
	char *count_topic;              /* <base>/input/<name>/count when counter */

	/* Home Assistant discovery */
	enum cfg_ha_component ha_component; /* outputs */
	char *device_class;                 /* inputs; NULL: none */
};

struct config {
	char *path;
	struct cfg_mqtt mqtt;
	struct cfg_line *lines; /* outputs first, then inputs */
	size_t n_lines;
	size_t n_outputs;
	char *status_topic; /* <base>/status */
	char *error_topic;  /* <base>/error */
	char *state_file;   /* what survives a restart; CONFIG_DEFAULT_STATE_FILE */
	struct cfg_ha ha;
};

/* %h, %m (see template.h) in client_id, base_topic and every topic are
 * replaced before anything is checked; the results are what cfg holds.
 * Reads and validates path into cfg. Returns 0, or -1 after writing every
 * problem found to errors (cfg is then empty). */
int config_load(struct config *cfg, const char *path, FILE *errors);
/* The same, for --check: also warns (FILE:LINE: warning: ...) about what
 * will not work under the service, such as a file under /tmp or /home. */
int config_check(struct config *cfg, const char *path, FILE *errors);
void config_free(struct config *cfg);

/* "host:port", or "a:1883, b:1883" for several nodes, into out (cut to size). */
void config_describe_nodes(const struct cfg_mqtt *m, char *out, size_t size);

/* A deep copy of src into dst, for a holder that outlives the config;
 * 0, or -1 when out of memory (dst is then empty). config_mqtt_free()
 * frees it (and clears the password). */
int config_mqtt_copy(struct cfg_mqtt *dst, const struct cfg_mqtt *src);
void config_mqtt_free(struct cfg_mqtt *m);

/* Whether a reload may keep the broker connection as it is. */
bool config_mqtt_equal(const struct cfg_mqtt *a, const struct cfg_mqtt *b);

#endif
