/* SPDX-License-Identifier: MIT */
/* ha_discovery: see ha_discovery.h. The keys are the abbreviations of Home
 * Assistant's MQTT discovery documentation (p platform, uniq_id unique_id,
 * stat_t state_topic, cmd_t command_topic, avty_t availability_topic, dev
 * device with ids/name/mdl/sw, o origin with name/sw/url, cmps components). */
#include "ha_discovery.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "topics.h"

#define ORIGIN_NAME "gpio2mqtt"
#define PULSE_COMMAND "pulse"

/* A JSON object under construction; ok turns false at the first failed
 * allocation, and everything after it is skipped. */
struct builder {
	bool ok;
};

static cJSON *add_str(struct builder *b, cJSON *obj, const char *key, const char *value)
{
	cJSON *item = b->ok && obj ? cJSON_AddStringToObject(obj, key, value) : NULL;

	b->ok = b->ok && item;
	return item;
}

static cJSON *add_obj(struct builder *b, cJSON *obj, const char *key)
{
	cJSON *item = b->ok && obj ? cJSON_AddObjectToObject(obj, key) : NULL;

	b->ok = b->ok && item;
	return item;
}

void ha_messages_free(struct ha_messages *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->items[i].topic);
		free(m->items[i].payload);
	}
	free(m->items);
	memset(m, 0, sizeof(*m));
}

/* Takes topic and payload (freed when they cannot be added). */
static int add_message(struct ha_messages *m, char *topic, char *payload, bool retain)
{
	struct ha_message *more = topic && payload
		? realloc(m->items, (m->n + 1) * sizeof(*m->items)) : NULL;

	if (!more) {
		free(topic);
		free(payload);
		return -1;
	}
	m->items = more;
	m->items[m->n++] = (struct ha_message){ topic, payload, retain };
	return 0;
}

static void copy_id_chars(char *out, size_t size, const char *prefix, const char *text)
{
	size_t n = (size_t)snprintf(out, size, "%s", prefix);

	for (; *text && n + 1 < size; text++)
		out[n++] = isalnum((unsigned char)*text) || *text == '-' ? *text : '_';
	out[n] = '\0';
}

void ha_node_id(const struct board *board, char out[HA_NODE_ID_MAX])
{
	if (board->machine[0])
		copy_id_chars(out, HA_NODE_ID_MAX, ORIGIN_NAME "_", board->machine);
	else if (board->host[0])
		copy_id_chars(out, HA_NODE_ID_MAX, ORIGIN_NAME "_", board->host);
	else
		copy_id_chars(out, HA_NODE_ID_MAX, ORIGIN_NAME, "");
}

char *ha_birth_topic(const struct cfg_ha *ha)
{
	return topics_status(ha->prefix);
}

static char *device_topic(const struct cfg_ha *ha, const char *node_id)
{
	size_t len = strlen(ha->prefix) + strlen(node_id) + sizeof("/device//config");
	char *topic = malloc(len);

	if (topic)
		snprintf(topic, len, "%s/device/%s/config", ha->prefix, node_id);
	return topic;
}

static const char *device_name(const struct config *cfg, const struct board *board,
			       const char *node_id)
{
	if (cfg->ha.device_name)
		return cfg->ha.device_name;
	return board->host[0] ? board->host : node_id;
}

/* Home Assistant shows "<device> <entity>": an entity name that starts
 * with the device's name would say it twice, so that part goes. NULL (the
 * device's main feature) when nothing is left. */
static const char *entity_name(const char *name, const char *device)
{
	size_t n = strlen(device);

	if (n && strncasecmp(name, device, n) == 0 && (!name[n] || strchr(" _-", name[n]))) {
		name += n;
		name += strspn(name, " _-");
		return *name ? name : NULL;
	}
	return name;
}

struct context {
	struct builder *b;
	const char *node_id;
	const char *device;
	cJSON *cmps;
};

/* One component: its platform, unique id and name ("<line> suffix"). */
static cJSON *component(struct context *c, const struct cfg_line *l, const char *platform,
			const char *suffix)
{
	char key[256], uniq[HA_NODE_ID_MAX + sizeof(key)], label[256];
	const char *name;
	cJSON *comp;

	snprintf(key, sizeof(key), "%s%s%s", l->name, suffix ? "_" : "", suffix ? suffix : "");
	snprintf(uniq, sizeof(uniq), "%s_%s", c->node_id, key);
	snprintf(label, sizeof(label), "%s%s%s", l->name, suffix ? " " : "", suffix ? suffix : "");
	comp = add_obj(c->b, c->cmps, key);
	add_str(c->b, comp, "p", platform);
	add_str(c->b, comp, "uniq_id", uniq);
	name = entity_name(label, c->device);
	if (c->b->ok && comp)
		c->b->ok = name ? cJSON_AddStringToObject(comp, "name", name) != NULL
				: cJSON_AddNullToObject(comp, "name") != NULL;
	return comp;
}

/* A light compares its state with pl_on/pl_off, which are also its
 * commands: "ON"/"OFF" serve both; other state payloads are mapped by a
 * template (left out for payloads that would break it). */
static void light_payloads(struct builder *b, cJSON *comp, const struct cfg_line *l)
{
	char tpl[256];

	add_str(b, comp, "pl_on", "ON");
	add_str(b, comp, "pl_off", "OFF");
	if (!strcmp(l->payload_on, "ON") && !strcmp(l->payload_off, "OFF"))
		return;
	if (strpbrk(l->payload_on, "'\\{}%"))
		return;
	snprintf(tpl, sizeof(tpl), "{%% if value == '%s' %%}ON{%% else %%}OFF{%% endif %%}",
		 l->payload_on);
	add_str(b, comp, "stat_val_tpl", tpl);
}

static void add_output(struct context *c, const struct cfg_line *l)
{
	bool light = l->ha_component == HA_COMPONENT_LIGHT;
	cJSON *comp = component(c, l, light ? "light" : "switch", NULL);

	add_str(c->b, comp, "cmd_t", l->command_topics[0]);
	add_str(c->b, comp, "stat_t", l->state_topic);
	if (light) {
		light_payloads(c->b, comp, l);
	} else {
		add_str(c->b, comp, "pl_on", "on");
		add_str(c->b, comp, "pl_off", "off");
		add_str(c->b, comp, "stat_on", l->payload_on);
		add_str(c->b, comp, "stat_off", l->payload_off);
	}
	if (l->pulse_ms) {
		comp = component(c, l, "button", "pulse");
		add_str(c->b, comp, "cmd_t", l->command_topics[0]);
		add_str(c->b, comp, "pl_prs", PULSE_COMMAND);
	}
}

static void add_input(struct context *c, const struct cfg_line *l)
{
	static const char *const event_types[] = { "single", "double", "long" };
	cJSON *comp = component(c, l, "binary_sensor", NULL), *types;

	add_str(c->b, comp, "stat_t", l->state_topic);
	add_str(c->b, comp, "pl_on", l->payload_on);
	add_str(c->b, comp, "pl_off", l->payload_off);
	if (l->device_class)
		add_str(c->b, comp, "dev_cla", l->device_class);
	if (l->click && l->event_topic) {
		comp = component(c, l, "event", "press");
		add_str(c->b, comp, "stat_t", l->event_topic);
		types = c->b->ok ? cJSON_CreateStringArray(event_types, 3) : NULL;
		c->b->ok = c->b->ok && types && cJSON_AddItemToObject(comp, "evt_typ", types);
	}
	if (l->counter != COUNTER_NONE && l->count_topic) {
		comp = component(c, l, "sensor", "count");
		add_str(c->b, comp, "stat_t", l->count_topic);
		add_str(c->b, comp, "stat_cla", "total_increasing");
	}
}

static void add_device(struct builder *b, cJSON *root, const struct config *cfg,
		       const struct board *board, const char *node_id)
{
	cJSON *dev = add_obj(b, root, "dev"), *ids;
	const char *id = node_id;

	ids = b->ok ? cJSON_CreateStringArray(&id, 1) : NULL;
	b->ok = b->ok && ids && cJSON_AddItemToObject(dev, "ids", ids);
	add_str(b, dev, "name", device_name(cfg, board, node_id));
	if (board->model[0])
		add_str(b, dev, "mdl", board->model);
	add_str(b, dev, "sw", GPIO2MQTT_VERSION);
}

static void add_origin(struct builder *b, cJSON *root)
{
	cJSON *o = add_obj(b, root, "o");

	add_str(b, o, "name", ORIGIN_NAME);
	add_str(b, o, "sw", GPIO2MQTT_VERSION);
#ifdef GPIO2MQTT_SUPPORT_URL
	add_str(b, o, "url", GPIO2MQTT_SUPPORT_URL);
#endif
}

/* The device discovery payload, or NULL when out of memory. */
static cJSON *device_payload(const struct config *cfg, const struct board *board,
			     const char *node_id)
{
	struct builder b = { .ok = true };
	cJSON *root = cJSON_CreateObject();
	struct context c = { &b, node_id, device_name(cfg, board, node_id), NULL };

	b.ok = root != NULL;
	add_device(&b, root, cfg, board, node_id);
	add_origin(&b, root);
	add_str(&b, root, "avty_t", cfg->status_topic);
	if (b.ok)
		b.ok = cJSON_AddNumberToObject(root, "qos", cfg->mqtt.qos) != NULL;
	c.cmps = add_obj(&b, root, "cmps");
	for (size_t i = 0; i < cfg->n_lines && b.ok; i++) {
		if (cfg->lines[i].output)
			add_output(&c, &cfg->lines[i]);
		else
			add_input(&c, &cfg->lines[i]);
	}
	if (!b.ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* Takes root. */
static int add_json(struct ha_messages *out, char *topic, cJSON *root)
{
	char *payload = root ? cJSON_PrintUnformatted(root) : NULL;

	cJSON_Delete(root);
	return add_message(out, topic, payload, true);
}

static char *info_payload(const struct config *cfg, const struct board *board,
			  const char *gpiod_version)
{
	struct builder b = { .ok = true };
	cJSON *root = cJSON_CreateObject();
	char *text;

	b.ok = root != NULL;
	add_str(&b, root, "version", GPIO2MQTT_VERSION);
	add_str(&b, root, "libgpiod", gpiod_version);
	if (board->model[0])
		add_str(&b, root, "model", board->model);
	if (board->host[0])
		add_str(&b, root, "host", board->host);
	b.ok = b.ok && cJSON_AddNumberToObject(root, "outputs", (double)cfg->n_outputs) &&
	       cJSON_AddNumberToObject(root, "inputs", (double)(cfg->n_lines - cfg->n_outputs));
	text = b.ok ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	return text;
}

/* <prefix>/<platform>/<node_id>/<key>/config: the discovery id (node_id,
 * key) is the device message's (its node_id, the component's key), as Home
 * Assistant's migration between the two forms needs. */
static char *entity_topic(const struct cfg_ha *ha, const char *node_id, const cJSON *comp)
{
	const char *platform = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(comp, "p"));
	size_t len;
	char *topic;

	if (!platform)
		return NULL;
	len = strlen(ha->prefix) + strlen(platform) + strlen(node_id) + strlen(comp->string) +
	      sizeof("////config");
	topic = malloc(len);
	if (topic)
		snprintf(topic, len, "%s/%s/%s/%s/config", ha->prefix, platform, node_id,
			 comp->string);
	return topic;
}

/* One entity's payload: the component without its platform (the topic
 * says it), with the device's shared options (dev, o, avty_t, qos). */
static cJSON *entity_payload(const cJSON *device, const cJSON *comp)
{
	cJSON *root = cJSON_Duplicate(comp, true), *item;
	bool ok = root != NULL;

	cJSON_DeleteItemFromObjectCaseSensitive(root, "p");
	cJSON_ArrayForEach(item, device) {
		cJSON *copy;

		if (!ok || !strcmp(item->string, "cmps"))
			continue;
		copy = cJSON_Duplicate(item, true);
		ok = copy && cJSON_AddItemToObject(root, item->string, copy);
		if (!ok)
			cJSON_Delete(copy);
	}
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static cJSON *components_of(const cJSON *device)
{
	return cJSON_GetObjectItemCaseSensitive(device, "cmps");
}

/* One retained message per component of device (borrowed). */
static int add_entities(struct ha_messages *out, const struct cfg_ha *ha, const char *node_id,
			const cJSON *device)
{
	const cJSON *comp;

	cJSON_ArrayForEach(comp, components_of(device))
		if (add_json(out, entity_topic(ha, node_id, comp), entity_payload(device, comp)) < 0)
			return -1;
	return 0;
}

/* cfg's discovery in its mode; takes device. */
static int add_discovery(struct ha_messages *out, const struct config *cfg, const char *node_id,
			 cJSON *device)
{
	int rc;

	if (cfg->ha.mode == HA_MODE_DEVICE)
		return add_json(out, device_topic(&cfg->ha, node_id), device);
	rc = device ? add_entities(out, &cfg->ha, node_id, device) : -1;
	cJSON_Delete(device);
	return rc;
}

int ha_announcements(const struct config *cfg, const struct board *board,
		     const char *gpiod_version, struct ha_messages *out)
{
	char node_id[HA_NODE_ID_MAX];

	memset(out, 0, sizeof(*out));
	ha_node_id(board, node_id);
	if (add_message(out, topics_info(cfg->mqtt.base_topic),
			info_payload(cfg, board, gpiod_version), true) < 0 ||
	    (cfg->ha.discovery &&
	     add_discovery(out, cfg, node_id, device_payload(cfg, board, node_id)) < 0)) {
		ha_messages_free(out);
		return -1;
	}
	return 0;
}

int ha_messages_move(struct ha_messages *dst, struct ha_messages *src)
{
	struct ha_message *more;

	if (!src->n)
		return 0;
	more = realloc(dst->items, (dst->n + src->n) * sizeof(*dst->items));
	if (!more)
		return -1;
	memcpy(more + dst->n, src->items, src->n * sizeof(*src->items));
	dst->items = more;
	dst->n += src->n;
	free(src->items);
	memset(src, 0, sizeof(*src));
	return 0;
}

static char *empty(void)
{
	return strdup("");
}

/* Adds to next each of old's components it lacks, with only "p"; how many
 * (-1 when out of memory). */
static int add_dropped(cJSON *old, cJSON *next)
{
	cJSON *next_cmps = components_of(next), *comp;
	int dropped = 0;

	cJSON_ArrayForEach(comp, components_of(old)) {
		const char *platform =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(comp, "p"));
		cJSON *gone;

		if (cJSON_GetObjectItemCaseSensitive(next_cmps, comp->string))
			continue;
		gone = cJSON_AddObjectToObject(next_cmps, comp->string);
		if (!gone || !cJSON_AddStringToObject(gone, "p", platform))
			return -1;
		dropped++;
	}
	return dropped;
}

/* Whether next has old's component comp, on the same platform (the same
 * entity for Home Assistant). */
static bool kept(const cJSON *next, const cJSON *comp)
{
	const cJSON *same = cJSON_GetObjectItemCaseSensitive(components_of(next), comp->string);

	return same && cJSON_Compare(cJSON_GetObjectItemCaseSensitive(same, "p"),
				     cJSON_GetObjectItemCaseSensitive(comp, "p"), true);
}

/* Per entity, old's entities next has not: empty (removal); those it has,
 * when migrate, the hand-over payload before and empty after. */
static int retract_entities(const struct cfg_ha *ha, const char *node_id, const cJSON *old,
			    const cJSON *next, bool migrate, struct ha_messages *before,
			    struct ha_messages *after)
{
	const cJSON *comp;
	int rc = 0;

	cJSON_ArrayForEach(comp, components_of(old)) {
		if (rc < 0)
			break;
		if (!next || !kept(next, comp))
			rc = add_message(before, entity_topic(ha, node_id, comp), empty(), true);
		else if (migrate)
			rc = add_message(before, entity_topic(ha, node_id, comp),
					 strdup(HA_MIGRATE_PAYLOAD), false) |
			     add_message(after, entity_topic(ha, node_id, comp), empty(), true);
	}
	return rc;
}

/* The device message with next's components and old's dropped ones (only
 * "p"), when some were dropped; takes next. */
static int retract_components(const struct cfg_ha *ha, const char *node_id, cJSON *old,
			      cJSON *next, struct ha_messages *before)
{
	int dropped = add_dropped(old, next);

	if (dropped <= 0) {
		cJSON_Delete(next);
		return dropped;
	}
	return add_json(before, device_topic(ha, node_id), next);
}

/* From one form to the other, as Home Assistant's documentation says: the
 * hand-over payload on each old topic, the new discovery, then the old
 * topics emptied. Takes next. */
static int hand_over(const struct cfg_ha *ha, const char *node_id, cJSON *old, cJSON *next,
		     struct ha_messages *before, struct ha_messages *after)
{
	if (ha->mode == HA_MODE_ENTITY) {
		int rc = retract_entities(ha, node_id, old, next, true, before, after);

		cJSON_Delete(next);
		return rc;
	}
	if (retract_components(ha, node_id, old, next, before) < 0)
		return -1;
	return add_message(before, device_topic(ha, node_id), strdup(HA_MIGRATE_PAYLOAD), false) |
	       add_message(after, device_topic(ha, node_id), empty(), true);
}

/* ha is old's (its prefix and mode). Takes next. */
static int retract(const struct cfg_ha *ha, const struct cfg_ha *next_ha, const char *node_id,
		   cJSON *old, cJSON *next, struct ha_messages *before, struct ha_messages *after)
{
	if (!next) { /* discovery off, or another prefix: all of it goes */
		if (ha->mode == HA_MODE_ENTITY)
			return retract_entities(ha, node_id, old, NULL, false, before, after);
		return add_message(before, device_topic(ha, node_id), empty(), true);
	}
	if (ha->mode != next_ha->mode)
		return hand_over(ha, node_id, old, next, before, after);
	if (ha->mode == HA_MODE_ENTITY) {
		int rc = retract_entities(ha, node_id, old, next, false, before, after);

		cJSON_Delete(next);
		return rc;
	}
	return retract_components(ha, node_id, old, next, before);
}

/* --- what was announced --- */

void ha_announced_free(struct ha_announced *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->components[i].platform);
		free(a->components[i].key);
	}
	free(a->components);
	free(a->prefix);
	memset(a, 0, sizeof(*a));
}

int ha_announced_add(struct ha_announced *a, const char *platform, const char *key)
{
	struct ha_component_id *more = realloc(a->components, (a->n + 1) * sizeof(*more));
	char *p = strdup(platform), *k = strdup(key);

	if (more)
		a->components = more;
	if (!more || !p || !k) {
		free(p);
		free(k);
		return -1;
	}
	a->components[a->n++] = (struct ha_component_id){ p, k };
	return 0;
}

int ha_announced_of(const struct config *cfg, const struct board *board,
		    struct ha_announced *out)
{
	const cJSON *comp;
	cJSON *device;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!cfg->ha.discovery)
		return 0;
	out->discovery = true;
	out->mode = cfg->ha.mode;
	ha_node_id(board, out->node_id);
	out->prefix = strdup(cfg->ha.prefix);
	device = out->prefix ? device_payload(cfg, board, out->node_id) : NULL;
	rc = device ? 0 : -1;
	cJSON_ArrayForEach(comp, components_of(device)) {
		const char *platform =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(comp, "p"));

		if (rc == 0)
			rc = ha_announced_add(out, platform ? platform : "", comp->string);
	}
	cJSON_Delete(device);
	if (rc < 0)
		ha_announced_free(out);
	return rc;
}

bool ha_announced_equal(const struct ha_announced *a, const struct ha_announced *b)
{
	if (a->discovery != b->discovery)
		return false;
	if (!a->discovery)
		return true;
	if (a->mode != b->mode || strcmp(a->prefix, b->prefix) != 0 ||
	    strcmp(a->node_id, b->node_id) != 0 || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->components[i].platform, b->components[i].platform) != 0 ||
		    strcmp(a->components[i].key, b->components[i].key) != 0)
			return false;
	return true;
}

/* a as the retractions read a device payload: {"cmps":{key:{"p":platform}}};
 * NULL when out of memory. */
static cJSON *announced_json(const struct ha_announced *a)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *cmps = root ? cJSON_AddObjectToObject(root, "cmps") : NULL;
	bool ok = cmps != NULL;

	for (size_t i = 0; ok && i < a->n; i++) {
		cJSON *comp = cJSON_AddObjectToObject(cmps, a->components[i].key);

		ok = comp && cJSON_AddStringToObject(comp, "p", a->components[i].platform);
	}
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int ha_retractions_since(const struct ha_announced *old, const struct config *next,
			 const struct board *board, struct ha_messages *before,
			 struct ha_messages *after)
{
	const struct cfg_ha old_ha = { .discovery = true, .mode = old->mode, .prefix = old->prefix };
	char node_id[HA_NODE_ID_MAX];
	bool all;
	cJSON *was, *now = NULL;
	int rc;

	memset(before, 0, sizeof(*before));
	memset(after, 0, sizeof(*after));
	if (!old->discovery)
		return 0;
	ha_node_id(board, node_id);
	all = !next->ha.discovery || strcmp(old->prefix, next->ha.prefix) != 0 ||
	      strcmp(old->node_id, node_id) != 0;
	was = announced_json(old);
	if (was && !all)
		now = device_payload(next, board, node_id);
	rc = was && (all || now)
		? retract(&old_ha, &next->ha, old->node_id, was, now, before, after) : -1;
	cJSON_Delete(was);
	if (rc < 0) {
		ha_messages_free(before);
		ha_messages_free(after);
		return -1;
	}
	return 0;
}

int ha_retractions(const struct config *old, const struct config *next, const struct board *board,
		   struct ha_messages *before, struct ha_messages *after)
{
	struct ha_announced was;
	int rc;

	memset(before, 0, sizeof(*before));
	memset(after, 0, sizeof(*after));
	if (ha_announced_of(old, board, &was) < 0)
		return -1;
	rc = ha_retractions_since(&was, next, board, before, after);
	ha_announced_free(&was);
	return rc;
}

static int forget_topic(struct ha_messages *out, const char *topic)
{
	return topic ? add_message(out, strdup(topic), empty(), true) : 0;
}

int ha_forget(const struct config *cfg, const struct board *board, struct ha_messages *out)
{
	char node_id[HA_NODE_ID_MAX];
	cJSON *device, *comp;
	int rc;

	memset(out, 0, sizeof(*out));
	ha_node_id(board, node_id);
	/* Both forms: the board may have been told either way before. */
	rc = add_message(out, device_topic(&cfg->ha, node_id), empty(), true);
	device = device_payload(cfg, board, node_id);
	rc |= device ? 0 : -1;
	cJSON_ArrayForEach(comp, components_of(device))
		rc |= add_message(out, entity_topic(&cfg->ha, node_id, comp), empty(), true);
	cJSON_Delete(device);
	rc |= add_message(out, topics_info(cfg->mqtt.base_topic), empty(), true);
	rc |= forget_topic(out, cfg->status_topic);
	for (size_t i = 0; i < cfg->n_lines; i++) {
		rc |= forget_topic(out, cfg->lines[i].state_topic);
		rc |= forget_topic(out, cfg->lines[i].count_topic);
	}
	if (rc) {
		ha_messages_free(out);
		return -1;
	}
	return 0;
}
