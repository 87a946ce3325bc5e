/* SPDX-License-Identifier: MIT */
/* config_ha: the mapping's homeassistant group and the per-line keys that
 * say what a line is in Home Assistant (see config.h, ha_discovery.h). */
#include "config.h"
#include "config_read.h"

#include <stdlib.h>
#include <string.h>

#define RESYNC_DELAY_DEFAULT_MS 3000
#define RESYNC_DELAY_MAX_MS 60000
#define DEVICE_NAME_MAX 128

static const char *const ha_keys[] = { "discovery", "discovery_mode", "prefix", "device_name",
				       "resync_delay_ms", NULL };
static const char *const mode_names[] = { "device", "entity", NULL };
static const char *const component_names[] = { "switch", "light", NULL };

/* Home Assistant's device classes are lower-case words joined by '_'
 * ("motion", "garage_door"); anything else would only be refused there. */
static bool valid_device_class(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && *s != '_')
			return false;
	return true;
}

/* A name for people: spaces allowed, control characters not. */
static bool printable_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return false;
	return true;
}

void cfg_read_ha(struct reader *r, const config_setting_t *root, struct cfg_ha *h)
{
	const config_setting_t *g = cfg_get_group(r, root, "homeassistant");
	int mode = HA_MODE_DEVICE;

	h->prefix = cfg_copy(r, "homeassistant");
	h->resync_delay_ms = RESYNC_DELAY_DEFAULT_MS;
	h->source_line = cfg_line_of(g);
	if (!g)
		return;
	cfg_check_keys(r, g, ha_keys, "homeassistant");
	cfg_get_bool(r, g, "discovery", &h->discovery);
	cfg_get_choice(r, g, "discovery_mode", mode_names, &mode);
	h->mode = (enum cfg_ha_mode)mode;
	cfg_get_string(r, g, "prefix", &h->prefix);
	cfg_check_topic(r, g, "prefix", h->prefix);
	if (cfg_get_string(r, g, "device_name", &h->device_name) > 0 &&
	    (!h->device_name[0] || strlen(h->device_name) > DEVICE_NAME_MAX ||
	     !printable_text(h->device_name)))
		cfg_fail_at(r, cfg_key_line(g, "device_name"),
			    "'device_name' must be printable text of 1 to %d bytes",
			    DEVICE_NAME_MAX);
	cfg_expand_vars(r, g, "device_name", &h->device_name);
	cfg_get_int(r, g, "resync_delay_ms", 0, RESYNC_DELAY_MAX_MS, &h->resync_delay_ms);
}

void cfg_ha_free(struct cfg_ha *h)
{
	free(h->prefix);
	free(h->device_name);
	memset(h, 0, sizeof(*h));
}

void cfg_read_ha_component(struct reader *r, const config_setting_t *g, struct cfg_line *l)
{
	int component = HA_COMPONENT_SWITCH;

	cfg_get_choice(r, g, "ha_component", component_names, &component);
	l->ha_component = (enum cfg_ha_component)component;
}

void cfg_read_device_class(struct reader *r, const config_setting_t *g, struct cfg_line *l)
{
	if (cfg_get_string(r, g, "device_class", &l->device_class) > 0 &&
	    !valid_device_class(l->device_class))
		cfg_fail_at(r, cfg_key_line(g, "device_class"),
			    "'device_class' \"%s\" is not one of Home Assistant's (lower-case "
			    "words joined by '_', such as \"motion\" or \"door\")",
			    l->device_class);
}
