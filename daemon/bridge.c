/* SPDX-License-Identifier: MIT */
#include "bridge.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "backoff.h"
#include "clock.h"
#include "exit_status.h"
#include "gpio.h"
#include "ha_memory.h"
#include "input.h"
#include "log.h"
#include "loop.h"
#include "mqtt.h"
#include "notify.h"
#include "output.h"
#include "plan.h"
#include "problems.h"
#include "publish.h"
#include "queries.h"
#include "statefile.h"
#include "topics.h"

/* Wide enough that a classroom of boards spreads out when the broker comes
 * back (see backoff.c). */
#define FIRST_RETRY_MS 1500
#define GOODBYE_TIMEOUT_MS 2000
/* A connection the broker drops sooner (another client with our client_id
 * takes over, say) counts as a failed attempt: the back-off keeps growing
 * instead of reconnecting ten times a second. */
#define STABLE_CONNECTION_MS 1000

struct bridge {
	char *path;
	struct plan plan;
	struct gpio_chips *chips;
	struct mqtt *mqtt;
	struct mqtt_handlers handlers;
	struct publisher publisher;
	struct outputs outputs;
	struct inputs inputs;
	struct loop *loop;
	int signal_fd;
	struct timer keepalive;
	struct timer reconnect;
	struct timer watchdog; /* pending only when systemd wants pings */
	struct notify *notify;
	int mqtt_watched_fd; /* the socket the loop watches, -1 for none */
	struct backoff backoff;
	struct problems problems; /* of the mapping being loaded */
	struct statefile *statefile; /* the running mapping's state_file */
	struct ha_memory *ha_memory; /* beside it: what Home Assistant was told */
	long long connected_ms; /* when the broker accepted us, 0 while not */
	bool wildcard_refused; /* by the broker: subscribe to each command topic */
	struct queries queries; /* info, discovery, state queries, Home Assistant's birth */
	char **subscribed; /* the plan's filters and the queries, as last subscribed */
};

void bridge_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
}

/* The running plan's lines and topics, to whoever reads them. */
static void use_plan(struct bridge *b)
{
	publish_mapping(&b->publisher, &b->plan.cfg, b->plan.lines);
	queries_use(&b->queries, &b->plan);
}

/* --- the broker connection --- */

static void start_keepalive(struct bridge *b)
{
	loop_timer_start(b->loop, &b->keepalive, mqtt_keepalive_due_ms(b->mqtt));
}

static void schedule_reconnect(struct bridge *b)
{
	unsigned int delay = backoff_next(&b->backoff);

	log_debug("reconnecting in %u ms", delay);
	loop_timer_start(b->loop, &b->reconnect, delay);
}

static void connect_now(struct bridge *b)
{
	if (mqtt_connect(b->mqtt) < 0) {
		schedule_reconnect(b);
		return;
	}
	start_keepalive(b); /* keep-alive also bounds the wait for CONNACK */
}

/* The plan's filters and the queries, in one request (the client reads
 * one SUBACK at a time). 0 when a SUBACK is coming. */
static int send_subscriptions(struct bridge *b)
{
	const struct subscriptions *s = &b->plan.subs;
	size_t n_queries;
	char *const *queries = queries_topics(&b->queries, &n_queries);
	size_t n = s->n + n_queries;
	char **all = calloc(n + 1, sizeof(char *));
	int rc;

	if (!all) {
		log_error("cannot subscribe: out of memory");
		return -1;
	}
	memcpy(all, s->filters, s->n * sizeof(char *));
	memcpy(all + s->n, queries, n_queries * sizeof(char *));
	/* Also when empty: the filters a SUBACK is being read against go. */
	rc = mqtt_subscribe(b->mqtt, all, n, b->plan.cfg.mqtt.qos);
	free(b->subscribed);
	b->subscribed = all;
	return n ? rc : -1;
}

static void subscribe(struct bridge *b)
{
	bool suback_coming = send_subscriptions(b) == 0;

	publish_connected(&b->publisher, suback_coming);
}

static void on_connected(void *ctx)
{
	struct bridge *b = ctx;

	if (!b->connected_ms)
		b->connected_ms = clock_now_ms();
	output_broker_back(&b->outputs);
	subscribe(b);
	start_keepalive(b); /* the broker may have set a shorter keep-alive */
}

static void on_subscribed(void *ctx)
{
	publish_subscribed(&((struct bridge *)ctx)->publisher);
}

static void on_disconnected(void *ctx, bool retry_at_once)
{
	struct bridge *b = ctx;

	if (b->connected_ms && clock_now_ms() - b->connected_ms >= STABLE_CONNECTION_MS)
		backoff_reset(&b->backoff);
	b->connected_ms = 0;
	publish_disconnected(&b->publisher);
	output_broker_lost(&b->outputs);
	loop_timer_stop(b->loop, &b->keepalive);
	if (retry_at_once)
		loop_timer_start(b->loop, &b->reconnect, 0); /* from the loop, not here */
	else
		schedule_reconnect(b);
}

static void on_message(void *ctx, const char *topic, const void *payload, size_t len,
		       bool retained)
{
	struct bridge *b = ctx;
	struct output *o;

	if (queries_answer(&b->queries, topic, payload, len, retained))
		return;
	o = plan_output_for(&b->plan, topic, strlen(topic));
	if (!o) {
		log_debug("no output listens on \"%s\"", topic);
		return;
	}
	output_message(o, topic, payload, len, retained);
}

/* A broker whose rules allow only exact filters refuses the wildcard: from
 * then on each command topic is subscribed itself. */
static void on_subscription_refused(void *ctx, const char *filter)
{
	struct bridge *b = ctx;
	struct plan *p = &b->plan;

	if (queries_refused(&b->queries, filter))
		return;
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
	send_subscriptions(b);
}

static void on_reconnect_timer(struct timer *t, void *ctx)
{
	(void)t;
	connect_now(ctx);
}

static void on_keepalive_timer(struct timer *t, void *ctx)
{
	struct bridge *b = ctx;

	(void)t;
	mqtt_handle_keepalive(b->mqtt);
	/* One-shot, at the next deadline: an idle daemon wakes once per ping. */
	if (mqtt_fd(b->mqtt) >= 0)
		start_keepalive(b);
}

static void on_mqtt_io(void *ctx, int fd, short revents)
{
	struct bridge *b = ctx;

	(void)fd;
	mqtt_handle_io(b->mqtt, revents & (POLLIN | POLLHUP | POLLERR), revents & POLLOUT);
	if (mqtt_keepalive_moved(b->mqtt))
		start_keepalive(b);
}

/* Before each poll: publish the states a new connection is owed, then watch
 * the socket libmosquitto has now, for writing only while it has something
 * to send. */
static void prepare_poll(void *ctx)
{
	struct bridge *b = ctx;
	int fd;

	if (publish_owed_states(&b->publisher)) {
		input_publish_counts(b->plan.inputs);
		queries_announced(&b->queries);
	}
	fd = mqtt_fd(b->mqtt);
	if (b->mqtt_watched_fd >= 0 && b->mqtt_watched_fd != fd)
		loop_unwatch(b->loop, b->mqtt_watched_fd);
	b->mqtt_watched_fd = fd;
	if (fd >= 0)
		loop_watch(b->loop, fd, POLLIN | (mqtt_wants_write(b->mqtt) ? POLLOUT : 0),
			   on_mqtt_io, b);
}

static struct mqtt *new_client(struct bridge *b, const struct config *cfg)
{
	struct mqtt_will will = publish_will(cfg);

	backoff_init(&b->backoff, FIRST_RETRY_MS,
		     (unsigned int)cfg->mqtt.reconnect_delay_max * 1000U,
		     (unsigned int)getpid() ^ (unsigned int)clock_now_ms());
	return mqtt_new(&cfg->mqtt, &will, &b->handlers, b);
}

static void say_goodbye(struct bridge *b)
{
	publish_offline(&b->publisher);
	mqtt_disconnect(b->mqtt, GOODBYE_TIMEOUT_MS);
}

/* A reload that changed the broker settings: goodbye to the old broker,
 * then a client for the new one. */
static int replace_client(struct bridge *b, const struct config *cfg)
{
	struct mqtt *m = new_client(b, cfg);

	if (!m)
		return -1;
	say_goodbye(b);
	if (b->mqtt_watched_fd >= 0)
		loop_unwatch(b->loop, b->mqtt_watched_fd);
	b->mqtt_watched_fd = -1;
	mqtt_free(b->mqtt);
	b->mqtt = m;
	publish_use(&b->publisher, m);
	b->connected_ms = 0;
	output_broker_lost(&b->outputs); /* until the new broker accepts us */
	loop_timer_stop(b->loop, &b->keepalive);
	loop_timer_stop(b->loop, &b->reconnect);
	connect_now(b);
	return 0;
}

static void watch_inputs(struct bridge *b, struct plan *p)
{
	input_watch(&b->inputs, p->lines, p->cfg.n_lines);
}

static void unwatch_inputs(struct bridge *b, struct plan *p)
{
	input_unwatch(&b->inputs, p->lines, p->cfg.n_lines);
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

/* The lines are switched; now the broker, if it changed (the old one hears
 * "offline" on the old status topic), and the topics. */
static void switch_plan(struct bridge *b, struct plan *next)
{
	bool same_broker = config_mqtt_equal(&b->plan.cfg.mqtt, &next->cfg.mqtt);
	struct plan old = b->plan;

	if (!same_broker && replace_client(b, &next->cfg) < 0)
		log_error("the new broker settings could not be applied");
	b->plan = *next;
	use_plan(b);
	queries_retract(&b->queries, &old.cfg);
	/* Before the old plan is freed: pending pulses and blinks carry on. */
	output_take_over(&b->outputs, b->plan.outputs, b->plan.cfg.n_outputs, old.outputs,
			 old.cfg.n_outputs);
	if (same_broker && mqtt_is_connected(b->mqtt)) {
		subscribe(b);
		drop_old_subscriptions(b, &old, &b->plan);
	}
	input_setup(&b->inputs, &b->plan, &old); /* counts and presses carry on */
	plan_free(&old);
	watch_inputs(b, &b->plan);
}

/* The state file p names: the running one when the path stays, else opened
 * (and read). NULL when out of memory (logged). */
static struct statefile *open_state_file(struct bridge *b, const struct plan *p)
{
	struct statefile *sf;

	if (b->statefile && strcmp(b->plan.cfg.state_file, p->cfg.state_file) == 0)
		return b->statefile;
	sf = statefile_open(p->cfg.state_file, b->loop);
	if (!sf)
		log_error("cannot open the state file %s: out of memory", p->cfg.state_file);
	return sf;
}

/* sf is the running mapping's from now on; the one it replaces is written
 * and closed. */
static void use_state_file(struct bridge *b, struct statefile *sf)
{
	if (sf == b->statefile)
		return;
	statefile_close(b->statefile);
	b->statefile = sf;
}

/* The record of Home Assistant's discovery beside the running mapping's
 * state file: kept while the path stays; when it moves, the announcements
 * from now on are remembered in the new place. */
static void follow_ha_memory(struct bridge *b)
{
	const char *state_file = b->plan.cfg.state_file;

	if (b->ha_memory && ha_memory_is_beside(b->ha_memory, state_file))
		return;
	ha_memory_close(b->ha_memory);
	b->ha_memory = ha_memory_open(state_file);
	queries_remember_in(&b->queries, b->ha_memory);
}

void bridge_reload(struct bridge *b)
{
	struct statefile *sf;
	struct plan next;

	log_info("reloading %s", b->path);
	problems_open(&b->problems);
	if (plan_load(&next, b->path, b->chips, b->wildcard_refused ? 0 : PLAN_WILDCARD,
		      b->problems.stream) < 0) {
		report_refusal(b, "reload failed", "the running mapping stays in place");
		return;
	}
	sf = open_state_file(b, &next);
	if (sf)
		lineset_attach_state(next.lines, next.cfg.n_lines, sf);
	if (!sf || switch_lines(b, &b->plan, &next) < 0) {
		report_refusal(b, "reload failed", "the running mapping stays in place");
		plan_free(&next);
		if (sf != b->statefile)
			statefile_close(sf);
		return;
	}
	problems_log(&b->problems);
	switch_plan(b, &next);
	use_state_file(b, sf);
	follow_ha_memory(b);
	lineset_note_states(b->plan.lines, b->plan.cfg.n_lines);
	log_info("reloaded: %zu outputs, %zu inputs", b->plan.cfg.n_outputs,
		 b->plan.cfg.n_lines - b->plan.cfg.n_outputs);
}

/* --- systemd and signals --- */

static void notify_running(struct bridge *b)
{
	char nodes[256];

	config_describe_nodes(&b->plan.cfg.mqtt, nodes, sizeof(nodes));
	notify_send(b->notify, "READY=1\nSTATUS=%zu outputs, %zu inputs; broker %s",
		    b->plan.cfg.n_outputs, b->plan.cfg.n_lines - b->plan.cfg.n_outputs, nodes);
}

/* Pings come from the event loop, so a stuck loop is what the watchdog sees. */
static void on_watchdog_timer(struct timer *t, void *ctx)
{
	struct bridge *b = ctx;

	notify_send(b->notify, "WATCHDOG=1");
	loop_timer_start(b->loop, t, notify_watchdog_interval_ms(b->notify));
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
		bridge_reload(b);
		notify_running(b);
		return;
	}
	log_info("%s: stopping", strsignal((int)si.ssi_signo));
	notify_send(b->notify, "STOPPING=1\nSTATUS=Stopping");
	loop_quit(b->loop, EXIT_OK);
}

/* --- start and stop --- */

static int open_fds(struct bridge *b)
{
	unsigned int watchdog_ms;
	sigset_t mask;

	bridge_signals(&mask);
	b->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	b->loop = loop_new();
	b->notify = notify_new();
	b->inputs.loop = b->loop;
	b->outputs.loop = b->loop;
	b->queries.loop = b->loop;
	if (b->signal_fd < 0 || !b->loop || !b->notify ||
	    loop_watch(b->loop, b->signal_fd, POLLIN, on_signal, b) < 0)
		return -1;
	watchdog_ms = notify_watchdog_interval_ms(b->notify);
	if (watchdog_ms && loop_timer_start(b->loop, &b->watchdog, watchdog_ms) < 0)
		return -1;
	return 0;
}

static struct bridge *bridge_alloc(const char *path)
{
	struct bridge *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->signal_fd = b->mqtt_watched_fd = -1;
	b->handlers = (struct mqtt_handlers){ on_connected, on_disconnected, on_message,
					      on_subscription_refused, on_subscribed };
	publish_init(&b->publisher);
	b->outputs = (struct outputs){ .publisher = &b->publisher };
	b->inputs = (struct inputs){ .publisher = &b->publisher };
	timer_init(&b->keepalive, on_keepalive_timer, b);
	timer_init(&b->reconnect, on_reconnect_timer, b);
	timer_init(&b->watchdog, on_watchdog_timer, b);
	queries_init(&b->queries, NULL, &b->publisher);
	b->path = strdup(path);
	if (!b->path) {
		free(b);
		return NULL;
	}
	return b;
}

/* The mapping and its lines. -1 when refused (logged). */
static int load_first_plan(struct bridge *b, const char *path)
{
	long long start = clock_now_us(), requested;
	char nodes[256];

	problems_open(&b->problems);
	if (plan_load(&b->plan, path, b->chips, PLAN_CHECK_FREE | PLAN_WILDCARD,
		      b->problems.stream) < 0) {
		report_refusal(b, "not starting", "fix the mapping and start again");
		return -1;
	}
	/* Before the lines: "restore" starts them at the saved state. */
	b->statefile = open_state_file(b, &b->plan);
	if (!b->statefile) {
		report_refusal(b, "not starting", "out of memory");
		return -1;
	}
	lineset_attach_state(b->plan.lines, b->plan.cfg.n_lines, b->statefile);
	requested = clock_now_us();
	if (lineset_request(b->chips, &b->plan.cfg, b->plan.lines, b->problems.stream) < 0) {
		report_refusal(b, "not starting", "the lines could not be requested");
		return -1;
	}
	lineset_note_states(b->plan.lines, b->plan.cfg.n_lines);
	problems_log(&b->problems);
	config_describe_nodes(&b->plan.cfg.mqtt, nodes, sizeof(nodes));
	log_info("%zu outputs and %zu inputs ready in %.1f ms (reading the mapping %.1f ms, "
		 "finding the lines %.1f ms, requesting them %.1f ms); broker %s",
		 b->plan.cfg.n_outputs, b->plan.cfg.n_lines - b->plan.cfg.n_outputs,
		 (double)(clock_now_us() - start) / 1000.0,
		 b->plan.read_ms, b->plan.find_ms, (double)(clock_now_us() - requested) / 1000.0,
		 nodes);
	return 0;
}

struct bridge *bridge_new(const char *path, int *status)
{
	struct bridge *b = bridge_alloc(path);
	char err[256];

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
	if (load_first_plan(b, path) < 0)
		goto fail;
	*status = EXIT_RUNTIME;
	use_plan(b);
	follow_ha_memory(b);
	queries_recall(&b->queries); /* owed to Home Assistant since the last start */
	b->mqtt = new_client(b, &b->plan.cfg);
	if (!b->mqtt)
		goto fail;
	publish_use(&b->publisher, b->mqtt);
	output_take_over(&b->outputs, b->plan.outputs, b->plan.cfg.n_outputs, NULL, 0);
	output_broker_lost(&b->outputs); /* until the first connection */
	if (input_setup(&b->inputs, &b->plan, NULL) < 0)
		goto fail;
	watch_inputs(b, &b->plan);
	plan_describe(&b->plan, b->chips);
	return b;
fail:
	bridge_free(b);
	return NULL;
}

void bridge_start(struct bridge *b)
{
	connect_now(b);
	notify_running(b);
}

int bridge_run(struct bridge *b)
{
	int status;

	bridge_start(b);
	status = loop_run(b->loop, prepare_poll, b);
	if (status < 0) {
		log_error("event loop failed: %s", strerror(errno));
		status = EXIT_RUNTIME;
	}
	bridge_stop(b);
	return status;
}

void bridge_stop(struct bridge *b)
{
	output_settle(&b->outputs);
	statefile_flush(b->statefile); /* what the last commands changed, first */
	say_goodbye(b);
}

int bridge_poll(struct bridge *b, int timeout_ms)
{
	return loop_run_once(b->loop, prepare_poll, b, timeout_ms);
}

void bridge_free(struct bridge *b)
{
	if (!b)
		return;
	mqtt_free(b->mqtt);
	plan_free(&b->plan);
	gpio_chips_close(b->chips);
	statefile_close(b->statefile); /* before the loop their timers are on */
	ha_memory_close(b->ha_memory);
	queries_free(&b->queries);
	loop_free(b->loop); /* the timers with it */
	if (b->signal_fd >= 0)
		close(b->signal_fd);
	notify_free(b->notify);
	publish_free(&b->publisher);
	free(b->subscribed);
	free(b->path);
	free(b);
}
