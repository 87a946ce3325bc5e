/* SPDX-License-Identifier: MIT */
#include "bridge.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "clock.h"
#include "config.h"
#include "gpio.h"
#include "lineset.h"
#include "log.h"
#include "loop.h"
#include "mapping.h"
#include "mqtt.h"
#include "notify.h"
#include "payload.h"
#include "problems.h"
#include "subscriptions.h"

/* Wide enough that a classroom of boards spreads out when the broker comes
 * back (see backoff.c). */
#define FIRST_RETRY_MS 1500
#define GOODBYE_TIMEOUT_MS 2000
#define ERROR_BURST 10 /* error reports allowed at once, then one per second */
/* A connection the broker drops sooner (another client with our client_id
 * takes over, say) counts as a failed attempt: the back-off keeps growing
 * instead of reconnecting ten times a second. */
#define STABLE_CONNECTION_MS 1000

/* One loaded mapping: its config, its lines and its topic table. A reload
 * builds a new plan beside the running one and swaps them. */
struct plan {
	struct config cfg;
	struct line_state *lines;
	struct mapping *commands; /* command topic -> index into lines */
	struct subscriptions subs;
	double read_ms, find_ms; /* how long loading it took: the file, the lines */
};

struct error_budget {
	unsigned int tokens;
	long long refilled_ms;
	unsigned int suppressed;
};

struct bridge {
	char *path;
	struct plan plan;
	struct gpio_chips *chips;
	struct mqtt *mqtt;
	struct mqtt_handlers handlers;
	struct loop *loop;
	int signal_fd;
	int keepalive_fd;
	int reconnect_fd;
	int watchdog_fd; /* -1 unless systemd wants pings */
	struct notify *notify;
	int mqtt_watched_fd; /* the socket the loop watches, -1 for none */
	struct backoff backoff;
	struct error_budget errors;
	struct problems problems; /* of the mapping being loaded */
	long long connected_ms; /* when the broker accepted us, 0 while not */
	enum { STATES_SENT, STATES_AFTER_SUBACK, STATES_DUE } states; /* owed to a new connection */
	bool wildcard_refused; /* by the broker: subscribe to each command topic */
};

static double ms_since(long long start_us)
{
	return (double)(clock_now_us() - start_us) / 1000.0;
}

/* --- plans --- */

static void plan_free(struct plan *p)
{
	if (p->lines)
		lineset_release(p->lines, p->cfg.n_lines);
	free(p->lines);
	mapping_free(p->commands);
	subscriptions_free(&p->subs);
	config_free(&p->cfg);
	memset(p, 0, sizeof(*p));
}

static int plan_index_topics(struct plan *p, bool wildcard_allowed)
{
	const struct config *cfg = &p->cfg;

	size_t topics = 0;

	for (size_t i = 0; i < cfg->n_outputs; i++)
		topics += cfg->lines[i].n_commands;
	p->commands = mapping_new(topics);
	if (!p->commands)
		return -1;
	for (size_t i = 0; i < cfg->n_outputs; i++)
		for (size_t k = 0; k < cfg->lines[i].n_commands; k++)
			/* config_load already refused duplicate topics */
			if (mapping_add(p->commands, cfg->lines[i].command_topics[k], i) < 0)
				return -1;
	return subscriptions_plan(&p->subs, cfg, wildcard_allowed);
}

/* How plan_load() reads a mapping. */
enum {
	PLAN_CHECK_FREE = 1, /* a line another program holds is an error */
	PLAN_WILDCARD = 2,   /* one filter may stand for the default command topics */
	PLAN_WARN = 4,       /* --check: warn about what fails under the service */
};

/* Reads and checks a mapping; requests nothing. Problems go to errors. */
static int plan_load(struct plan *p, const char *path, struct gpio_chips *chips, int how,
		     FILE *errors)
{
	long long start = clock_now_us();
	bool check_free = how & PLAN_CHECK_FREE, wildcard_allowed = how & PLAN_WILDCARD;

	memset(p, 0, sizeof(*p));
	if ((how & PLAN_WARN ? config_check : config_load)(&p->cfg, path, errors) < 0)
		return -1;
	p->lines = lineset_new(&p->cfg);
	if (!p->lines || plan_index_topics(p, wildcard_allowed) < 0) {
		log_error("out of memory");
		goto fail;
	}
	p->read_ms = ms_since(start);
	start = clock_now_us();
	if (lineset_resolve(chips, &p->cfg, p->lines, check_free, errors) < 0)
		goto fail;
	p->find_ms = ms_since(start);
	return 0;
fail:
	plan_free(p);
	return -1;
}

/* What --check found, for a user who wants to know it read the file right. */
static void print_summary(const struct config *cfg)
{
	char nodes[256];

	config_describe_nodes(&cfg->mqtt, nodes, sizeof(nodes));
	printf("%s: %zu output%s, %zu input%s; broker %s; client id %s\n", cfg->path,
	       cfg->n_outputs, cfg->n_outputs == 1 ? "" : "s", cfg->n_lines - cfg->n_outputs,
	       cfg->n_lines - cfg->n_outputs == 1 ? "" : "s", nodes, cfg->mqtt.client_id);
}

int bridge_check(const char *path)
{
	char err[256];
	struct gpio_chips *chips = gpio_chips_open(err, sizeof(err));
	struct plan p;
	int status;

	if (!chips) {
		fprintf(stderr, "%s: %s\n", path, err);
		return EXIT_CONFIG;
	}
	status = plan_load(&p, path, chips, PLAN_WARN, stderr) == 0 ? EXIT_OK : EXIT_CONFIG;
	if (status == EXIT_OK)
		print_summary(&p.cfg);
	plan_free(&p);
	gpio_chips_close(chips);
	return status;
}

/* --- publishing --- */

static void publish_text(struct bridge *b, const char *topic, const char *text, bool retain)
{
	mqtt_publish(b->mqtt, topic, text, strlen(text), b->plan.cfg.mqtt.qos, retain);
}

static void publish_state(struct bridge *b, const struct line_state *l)
{
	if (!mqtt_is_connected(b->mqtt))
		return; /* every state is published again on connect */
	publish_text(b, l->cfg->state_topic, l->value ? l->cfg->payload_on : l->cfg->payload_off,
		     l->cfg->retain);
}

/* Before the next poll(), once the broker answered the subscription: on a
 * single CPU it gets to forward "online" before a thousand states queued
 * behind it make it wait (1,000 lines: ready 30 ms sooner). */
static void publish_due_states(struct bridge *b)
{
	if (b->states != STATES_DUE)
		return;
	b->states = STATES_SENT;
	for (size_t i = 0; i < b->plan.cfg.n_lines; i++)
		publish_state(b, &b->plan.lines[i]);
}

/* A token bucket: bursts of bad messages are reported, floods are counted. */
static bool error_allowed(struct error_budget *e)
{
	long long now = clock_now_ms();
	long long refill = (now - e->refilled_ms) / 1000;

	if (refill > 0) {
		e->tokens = e->tokens + refill > ERROR_BURST ? ERROR_BURST
							    : e->tokens + (unsigned int)refill;
		/* Keep the fraction of a second: one report a second, not fewer. */
		e->refilled_ms += refill * 1000;
	}
	if (!e->tokens) {
		e->suppressed++;
		return false;
	}
	e->tokens--;
	return true;
}

static void report_bad_message(struct bridge *b, const char *topic, const void *payload,
			       size_t len, const char *reason)
{
	char *json;
	bool cut;

	if (!error_allowed(&b->errors)) {
		log_debug("ignored a message on \"%s\": %s", topic, reason);
		return;
	}
	if (b->errors.suppressed) {
		log_warning("%u more bad messages were not reported", b->errors.suppressed);
		b->errors.suppressed = 0;
	}
	log_warning("ignored a message on \"%s\": %s", topic, reason);
	if (!mqtt_is_connected(b->mqtt))
		return;
	/* Cut to the broker's maximum packet size, so that it is not refused. */
	json = payload_error_json_within(topic, payload, len, reason,
					 mqtt_payload_room(b->mqtt, b->plan.cfg.error_topic), &cut);
	if (json)
		publish_text(b, b->plan.cfg.error_topic, json, false);
	else
		log_warning("the error report does not fit in the broker's largest packet");
	free(json);
}

/* --- MQTT events --- */

static void apply_command(struct bridge *b, struct line_state *l, const char *topic,
			  const void *payload, size_t len)
{
	const char *reason;
	enum command cmd = payload_parse_command(payload, len, &reason);
	int value;

	if (cmd == COMMAND_INVALID) {
		report_bad_message(b, topic, payload, len, reason);
		return;
	}
	value = payload_apply(cmd, l->value);
	if (gpio_line_set(l->gpio, value) < 0) {
		log_error("cannot set %s: %s", l->cfg->name, strerror(errno));
		report_bad_message(b, topic, payload, len, "the line could not be set");
		return;
	}
	log_debug("%s -> %s", l->cfg->name, value ? "on" : "off");
	l->value = value;
	publish_state(b, l);
}

static void on_message(void *ctx, const char *topic, const void *payload, size_t len,
		       bool retained)
{
	struct bridge *b = ctx;
	long i = mapping_find(b->plan.commands, topic, strlen(topic));

	if (i < 0) {
		log_debug("no output listens on \"%s\"", topic);
		return;
	}
	/* A retained toggle would flip the line on every reconnect. */
	if (retained && payload_parse_command(payload, len, NULL) == COMMAND_TOGGLE) {
		log_warning("ignored a retained \"toggle\" on \"%s\"", topic);
		return;
	}
	apply_command(b, &b->plan.lines[i], topic, payload, len);
}

/* A broker whose rules allow only exact filters refuses the wildcard: from
 * then on each command topic is subscribed itself. */
static void on_subscription_refused(void *ctx, const char *filter)
{
	struct bridge *b = ctx;
	struct plan *p = &b->plan;

	if (!p->subs.wildcard || strcmp(filter, p->subs.wildcard) != 0) {
		log_error("the broker refused the subscription to \"%s\" (not allowed by its "
			  "access rules?)",
			  filter);
		return;
	}
	log_info("the broker refused the subscription to \"%s\": subscribing to each "
		 "command topic instead",
		 filter);
	b->wildcard_refused = true;
	subscriptions_free(&p->subs);
	if (subscriptions_plan(&p->subs, &p->cfg, false) < 0)
		log_error("out of memory");
	/* Also when empty: the filters the SUBACK is being read against are gone. */
	mqtt_subscribe(b->mqtt, p->subs.filters, p->subs.n, p->cfg.mqtt.qos);
}

static void schedule_reconnect(struct bridge *b)
{
	unsigned int delay = backoff_next(&b->backoff);

	log_debug("reconnecting in %u ms", delay);
	timer_arm(b->reconnect_fd, delay, false);
}

static void on_connected(void *ctx)
{
	struct bridge *b = ctx;

	if (!b->connected_ms)
		b->connected_ms = clock_now_ms();
	if (b->plan.subs.n &&
	    mqtt_subscribe(b->mqtt, b->plan.subs.filters, b->plan.subs.n, b->plan.cfg.mqtt.qos) == 0)
		b->states = STATES_AFTER_SUBACK;
	else
		b->states = STATES_DUE; /* no SUBACK is coming */
	publish_text(b, b->plan.cfg.status_topic, "online", true);
	/* The broker may have set a shorter keep-alive. */
	timer_arm(b->keepalive_fd, mqtt_keepalive_due_ms(b->mqtt), false);
}

static void on_subscribed(void *ctx)
{
	struct bridge *b = ctx;

	if (b->states == STATES_AFTER_SUBACK)
		b->states = STATES_DUE;
}

static void on_disconnected(void *ctx, bool retry_at_once)
{
	struct bridge *b = ctx;

	if (b->connected_ms && clock_now_ms() - b->connected_ms >= STABLE_CONNECTION_MS)
		backoff_reset(&b->backoff);
	b->connected_ms = 0;
	b->states = STATES_SENT; /* all of them again on connect */
	timer_arm(b->keepalive_fd, 0, false);
	if (retry_at_once)
		timer_arm(b->reconnect_fd, 1, false); /* from the loop, not this callback */
	else
		schedule_reconnect(b);
}

static void connect_now(struct bridge *b)
{
	if (mqtt_connect(b->mqtt) < 0) {
		schedule_reconnect(b);
		return;
	}
	/* Keep-alive also bounds the wait for CONNACK. */
	timer_arm(b->keepalive_fd, mqtt_keepalive_due_ms(b->mqtt), false);
}

static void on_reconnect_timer(void *ctx, int fd, short revents)
{
	(void)revents;
	timer_ack(fd);
	connect_now(ctx);
}

static void on_keepalive_timer(void *ctx, int fd, short revents)
{
	struct bridge *b = ctx;

	(void)revents;
	timer_ack(fd);
	mqtt_handle_keepalive(b->mqtt);
	/* One-shot, at the next deadline: an idle daemon wakes once per ping. */
	if (mqtt_fd(b->mqtt) >= 0)
		timer_arm(fd, mqtt_keepalive_due_ms(b->mqtt), false);
}

static void on_mqtt_io(void *ctx, int fd, short revents)
{
	struct bridge *b = ctx;

	(void)fd;
	mqtt_handle_io(b->mqtt, revents & (POLLIN | POLLHUP | POLLERR), revents & POLLOUT);
	if (mqtt_keepalive_moved(b->mqtt))
		timer_arm(b->keepalive_fd, mqtt_keepalive_due_ms(b->mqtt), false);
}

/* Before each poll: publish the states a new connection is owed, then watch
 * the socket libmosquitto has now, for writing only while it has something
 * to send. */
static void prepare_poll(void *ctx)
{
	struct bridge *b = ctx;
	int fd;

	publish_due_states(b);
	fd = mqtt_fd(b->mqtt);
	if (b->mqtt_watched_fd >= 0 && b->mqtt_watched_fd != fd)
		loop_unwatch(b->loop, b->mqtt_watched_fd);
	b->mqtt_watched_fd = fd;
	if (fd >= 0)
		loop_watch(b->loop, fd, POLLIN | (mqtt_wants_write(b->mqtt) ? POLLOUT : 0),
			   on_mqtt_io, b);
}

/* --- GPIO events --- */

static void on_edge(void *ctx, int value, uint64_t timestamp_ns)
{
	struct line_state *l = ctx;

	log_debug("%s: edge to %d at %llu ns", l->cfg->name, value,
		  (unsigned long long)timestamp_ns);
	l->value = value;
	publish_state(l->owner, l);
}

static void on_gpio_ready(void *ctx, int fd, short revents)
{
	struct line_state *l = ctx;
	struct bridge *b = l->owner;

	(void)revents;
	if (gpio_line_handle_events(l->gpio, on_edge, l) < 0) {
		/* Stop watching: a broken fd would stay ready and spin the loop. */
		log_error("cannot read events of %s, no longer watching it: %s", l->cfg->name,
			  strerror(errno));
		loop_unwatch(b->loop, fd);
	}
}

static void watch_inputs(struct bridge *b, struct plan *p)
{
	for (size_t i = 0; i < p->cfg.n_lines; i++) {
		struct line_state *l = &p->lines[i];

		l->owner = b;
		if (l->gpio && gpio_line_fd(l->gpio) >= 0)
			loop_watch(b->loop, gpio_line_fd(l->gpio), POLLIN, on_gpio_ready, l);
	}
}

static void unwatch_inputs(struct bridge *b, struct plan *p)
{
	for (size_t i = 0; i < p->cfg.n_lines; i++)
		if (p->lines[i].gpio && gpio_line_fd(p->lines[i].gpio) >= 0)
			loop_unwatch(b->loop, gpio_line_fd(p->lines[i].gpio));
}

/* --- reload --- */

/* The new plan's lines (see lineset_switch()); inputs are watched again
 * whichever plan holds them afterwards. */
static int switch_lines(struct bridge *b, struct plan *old, struct plan *next)
{
	int rc;

	unwatch_inputs(b, old);
	rc = lineset_switch(b->chips, &old->cfg, old->lines, &next->cfg, next->lines,
			    b->problems.stream);
	if (rc < 0)
		watch_inputs(b, old);
	return rc;
}

static bool plan_subscribes(const struct plan *p, const char *filter)
{
	if (p->subs.wildcard && strcmp(filter, p->subs.wildcard) == 0)
		return true;
	return mapping_find(p->commands, filter, strlen(filter)) >= 0 &&
	       !subscriptions_covers(&p->subs, filter);
}

/* After the next plan's filters are subscribed, so that no command falls
 * between the two. */
static void drop_old_subscriptions(struct bridge *b, const struct plan *old,
				   const struct plan *next)
{
	char **gone = calloc(old->subs.n + 1, sizeof(char *));
	size_t n = 0;

	if (!gone)
		return;
	for (size_t i = 0; i < old->subs.n; i++)
		if (!plan_subscribes(next, old->subs.filters[i]))
			gone[n++] = old->subs.filters[i];
	mqtt_unsubscribe(b->mqtt, gone, n);
	free(gone);
}

static int replace_client(struct bridge *b, const struct plan *next);

/* The problems found, then one line that says what follows from them. */
static void report_refusal(struct bridge *b, const char *what, const char *outcome)
{
	int n = problems_log(&b->problems);

	if (n > 0)
		log_error("%s: %d problem%s in %s; %s", what, n, n == 1 ? "" : "s", b->path,
			  outcome);
	else
		log_error("%s: %s", what, outcome);
}

static void reload(struct bridge *b)
{
	struct plan next, old;
	bool same_broker;

	log_info("reloading %s", b->path);
	problems_open(&b->problems);
	if (plan_load(&next, b->path, b->chips, b->wildcard_refused ? 0 : PLAN_WILDCARD,
		      b->problems.stream) < 0) {
		report_refusal(b, "reload failed", "the running mapping stays in place");
		return;
	}
	if (switch_lines(b, &b->plan, &next) < 0) {
		report_refusal(b, "reload failed", "the running mapping stays in place");
		plan_free(&next);
		return;
	}
	problems_log(&b->problems);
	same_broker = config_mqtt_equal(&b->plan.cfg.mqtt, &next.cfg.mqtt);
	if (!same_broker && replace_client(b, &next) < 0)
		log_error("the new broker settings could not be applied");
	old = b->plan;
	b->plan = next;
	if (same_broker && mqtt_is_connected(b->mqtt)) {
		on_connected(b);
		drop_old_subscriptions(b, &old, &b->plan);
	}
	plan_free(&old);
	watch_inputs(b, &b->plan);
	log_info("reloaded: %zu outputs, %zu inputs", b->plan.cfg.n_outputs,
		 b->plan.cfg.n_lines - b->plan.cfg.n_outputs);
}

/* --- start and stop --- */

static void say_goodbye(struct bridge *b)
{
	if (mqtt_is_connected(b->mqtt))
		publish_text(b, b->plan.cfg.status_topic, "offline", true);
	mqtt_disconnect(b->mqtt, GOODBYE_TIMEOUT_MS);
}

static struct mqtt *new_client(struct bridge *b, const struct config *cfg)
{
	backoff_init(&b->backoff, FIRST_RETRY_MS,
		     (unsigned int)cfg->mqtt.reconnect_delay_max * 1000U,
		     (unsigned int)getpid() ^ (unsigned int)clock_now_ms());
	return mqtt_new(&cfg->mqtt, cfg->status_topic, &b->handlers, b);
}

static int replace_client(struct bridge *b, const struct plan *next)
{
	struct mqtt *m = new_client(b, &next->cfg);

	if (!m)
		return -1;
	say_goodbye(b);
	if (b->mqtt_watched_fd >= 0)
		loop_unwatch(b->loop, b->mqtt_watched_fd);
	b->mqtt_watched_fd = -1;
	mqtt_free(b->mqtt);
	b->mqtt = m;
	b->connected_ms = 0;
	timer_arm(b->keepalive_fd, 0, false);
	timer_arm(b->reconnect_fd, 0, false);
	connect_now(b);
	return 0;
}

/* --- systemd --- */

static void notify_running(struct bridge *b)
{
	char nodes[256];

	config_describe_nodes(&b->plan.cfg.mqtt, nodes, sizeof(nodes));
	notify_send(b->notify, "READY=1\nSTATUS=%zu outputs, %zu inputs; broker %s",
		    b->plan.cfg.n_outputs, b->plan.cfg.n_lines - b->plan.cfg.n_outputs, nodes);
}

static void on_watchdog_timer(void *ctx, int fd, short revents)
{
	struct bridge *b = ctx;

	(void)revents;
	timer_ack(fd);
	notify_send(b->notify, "WATCHDOG=1");
}

/* Pings come from the event loop, so a stuck loop is what the watchdog sees. */
static int start_watchdog(struct bridge *b)
{
	unsigned int interval = notify_watchdog_interval_ms(b->notify);

	if (!interval)
		return 0;
	b->watchdog_fd = timer_new();
	if (b->watchdog_fd < 0 ||
	    loop_watch(b->loop, b->watchdog_fd, POLLIN, on_watchdog_timer, b) < 0)
		return -1;
	return timer_arm(b->watchdog_fd, interval, true);
}

static void on_signal(void *ctx, int fd, short revents)
{
	struct bridge *b = ctx;
	struct signalfd_siginfo si;

	(void)revents;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		notify_reloading(b->notify);
		reload(b);
		notify_running(b);
		return;
	}
	log_info("%s: stopping", strsignal((int)si.ssi_signo));
	notify_send(b->notify, "STOPPING=1\nSTATUS=Stopping");
	loop_quit(b->loop, EXIT_OK);
}

static int open_fds(struct bridge *b)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	b->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	b->keepalive_fd = timer_new();
	b->reconnect_fd = timer_new();
	b->loop = loop_new();
	b->notify = notify_new();
	if (b->signal_fd < 0 || b->keepalive_fd < 0 || b->reconnect_fd < 0 || !b->loop ||
	    !b->notify || start_watchdog(b) < 0)
		return -1;
	if (loop_watch(b->loop, b->signal_fd, POLLIN, on_signal, b) < 0 ||
	    loop_watch(b->loop, b->keepalive_fd, POLLIN, on_keepalive_timer, b) < 0 ||
	    loop_watch(b->loop, b->reconnect_fd, POLLIN, on_reconnect_timer, b) < 0)
		return -1;
	return 0;
}

static struct bridge *bridge_alloc(const char *path)
{
	struct bridge *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->signal_fd = b->keepalive_fd = b->reconnect_fd = b->mqtt_watched_fd = -1;
	b->watchdog_fd = -1;
	b->handlers = (struct mqtt_handlers){ on_connected, on_disconnected, on_message,
					      on_subscription_refused, on_subscribed };
	b->errors = (struct error_budget){ .tokens = ERROR_BURST, .refilled_ms = clock_now_ms() };
	b->path = strdup(path);
	if (!b->path) {
		free(b);
		return NULL;
	}
	return b;
}

#define LINES_DESCRIBED 20 /* a thousand-line mapping would flood the log */

/* One line per mapped line, so that the log shows what the daemon runs. */
static void describe_lines(struct bridge *b)
{
	const struct plan *p = &b->plan;

	for (size_t i = 0; i < p->cfg.n_lines && i < LINES_DESCRIBED; i++) {
		const struct line_state *l = &p->lines[i];
		const struct cfg_line *c = l->cfg;
		char where[128], commands[256] = "";
		size_t len = 0;

		gpio_ref_describe(b->chips, &l->ref, where, sizeof(where));
		for (size_t k = 0; k < c->n_commands && len < sizeof(commands); k++)
			len += (size_t)snprintf(commands + len, sizeof(commands) - len, "%s%s",
						k ? ", " : "", c->command_topics[k]);
		if (c->output)
			log_info("output %s: %s; commands on %s; state on %s", c->name, where,
				 commands, c->state_topic);
		else
			log_info("input %s: %s; state on %s", c->name, where, c->state_topic);
	}
	if (p->cfg.n_lines > LINES_DESCRIBED)
		log_info("... and %zu more lines", p->cfg.n_lines - LINES_DESCRIBED);
}

struct bridge *bridge_new(const char *path, int *status)
{
	struct bridge *b = bridge_alloc(path);
	long long start = clock_now_us(), requested;
	char err[256], nodes[256];

	*status = EXIT_RUNTIME;
	if (!b || open_fds(b) < 0) {
		log_error("cannot set up: %s", strerror(errno));
		goto fail;
	}
	b->chips = gpio_chips_open(err, sizeof(err));
	if (!b->chips) {
		log_error("%s", err);
		goto fail;
	}
	*status = EXIT_CONFIG;
	problems_open(&b->problems);
	if (plan_load(&b->plan, path, b->chips, PLAN_CHECK_FREE | PLAN_WILDCARD,
		      b->problems.stream) < 0) {
		report_refusal(b, "not starting", "fix the mapping and start again");
		goto fail;
	}
	requested = clock_now_us();
	if (lineset_request(b->chips, &b->plan.cfg, b->plan.lines, b->problems.stream) < 0) {
		report_refusal(b, "not starting", "the lines could not be requested");
		goto fail;
	}
	problems_log(&b->problems);
	*status = EXIT_RUNTIME;
	b->mqtt = new_client(b, &b->plan.cfg);
	if (!b->mqtt)
		goto fail;
	watch_inputs(b, &b->plan);
	config_describe_nodes(&b->plan.cfg.mqtt, nodes, sizeof(nodes));
	log_info("%zu outputs and %zu inputs ready in %.1f ms (reading the mapping %.1f ms, "
		 "finding the lines %.1f ms, requesting them %.1f ms); broker %s",
		 b->plan.cfg.n_outputs, b->plan.cfg.n_lines - b->plan.cfg.n_outputs,
		 ms_since(start), b->plan.read_ms, b->plan.find_ms, ms_since(requested),
		 nodes);
	describe_lines(b);
	return b;
fail:
	bridge_free(b);
	return NULL;
}

int bridge_run(struct bridge *b)
{
	int status;

	connect_now(b);
	notify_running(b);
	status = loop_run(b->loop, prepare_poll, b);
	if (status < 0) {
		log_error("event loop failed: %s", strerror(errno));
		status = EXIT_RUNTIME;
	}
	say_goodbye(b);
	return status;
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

void bridge_free(struct bridge *b)
{
	if (!b)
		return;
	mqtt_free(b->mqtt);
	plan_free(&b->plan);
	gpio_chips_close(b->chips);
	loop_free(b->loop);
	close_fd(b->signal_fd);
	close_fd(b->keepalive_fd);
	close_fd(b->reconnect_fd);
	close_fd(b->watchdog_fd);
	notify_free(b->notify);
	free(b->path);
	free(b);
}
