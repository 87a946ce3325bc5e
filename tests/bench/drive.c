/* SPDX-License-Identifier: MIT */
/* drive: load generator and measurer of the benchmark (tests/bench/).
 *
 * Talks MQTT to 127.0.0.1:PORT with the topics every contestant serves:
 *   bench/output/oK/set -> bench/output/oK   commands and states of outputs
 *   bench/input/i0                           state of the first input
 *   bench/relay/i0/set  -> bench/relay/i0    a forwarding path (echo only)
 *   bench/status                             "online" once ready
 * (it subscribes to the states only, not to the commands it sends)
 * and prints its figures as "NAME VALUE" lines. Exits 1 when the contestant
 * does not work: a state that never comes, a wrong payload, a wrong line.
 *
 * Usage: drive -p PORT [options] MODE [-- COMMAND...]
 * Options go before MODE; -T SECONDS bounds each wait for a state (10).
 *   roundtrip  -n N [-k LINES] [-V VALUE_FILE]... [-s SAMPLES]
 *   flood      -n N [-k LINES] [-w WINDOW] [-V VALUE_FILE]... [-P PID]...
 *   edges      -n N -f PULL_FILE [-s SAMPLES]     (relay: without -f)
 *   burst      -n N -r RATE_HZ [-f PULL_FILE]     (relay: without -f)
 *   flip       -n N -r RATE_HZ -f PULL_FILE [-s TIMES] (flips only, no MQTT)
 *   stats      -s SAMPLES PREFIX                  (over samples of several runs)
 *   fanout     -n N -k BOARDS [-V VALUE_FILE]... [-s SAMPLES] NAME GROUP_TOPIC
 *              STATE_FILTER [NAME GROUP_TOPIC STATE_FILTER] (group commands)
 *   idle       -t SECONDS -P PID...
 *   mem        -P PID...
 *   startup    -n REPEATS -- COMMAND...           (time until "online", and
 *              the page faults taken until then)
 *   run        -n REPEATS -- COMMAND...           (time until it exits 0)
 *   rig        -n N                               (what the kernel charges for
 *              a system call and for the first touch of a page) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINES 1024
#define MAX_PIDS 64
#define MAX_FLEETS 2
#define QOS 1
#define SETTLE_NS (1 * NS_PER_S) /* how long a line may lag behind its state */
#define QUIET_NS (3 * NS_PER_S) /* a burst is over after this long without messages:
				 * the broker may lag seconds behind a burst */
#define BURST_CAP_NS (120 * NS_PER_S)
#define NS_PER_S 1000000000LL

static long long state_timeout_ns = 10 * NS_PER_S; /* -T: how long to wait for a state */

struct options {
	int port;
	long count;
	int lines;
	long window;
	double rate;
	int seconds;
	const char *pull_file;
	const char *samples;
	const char *values[MAX_LINES];
	int n_values;
	pid_t pids[MAX_PIDS];
	int n_pids;
	char **command;
};

struct drive {
	struct mosquitto *mosq;
	bool subscribed;
	bool online;
	long out_count[MAX_LINES];
	char out_payload[MAX_LINES][8];
	long out_total; /* states of the lines driven (o0 .. o<lines-1>) */
	int lines;
	long in_count;
	char in_payload[8];
	long long last_rx_ns;
	long long last_any_rx_ns; /* retained ones too */
	const char *in_topic;
	bool quick_ack; /* acknowledge at once while waiting (round trips) */
	struct fan *fan; /* fanout: the group command in flight */
};

/* A group command in flight: the first state with the new payload from each
 * board (its own topic under the filter) counts. */
struct fan {
	const char *filter;
	const char *want;
	char *seen[MAX_LINES];
	long got, other;
	long long last_ns;
};

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * NS_PER_S + t.tv_nsec;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("drive: FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void fan_message(struct fan *f, const struct mosquitto_message *m, long long now)
{
	bool match = false;

	if (!f->filter || mosquitto_topic_matches_sub(f->filter, m->topic, &match) || !match)
		return;
	if ((size_t)m->payloadlen != strlen(f->want) ||
	    strncasecmp(m->payload, f->want, (size_t)m->payloadlen)) {
		f->other++;
		return;
	}
	for (long i = 0; i < f->got; i++)
		if (!strcmp(f->seen[i], m->topic))
			return;
	if (f->got == MAX_LINES || !(f->seen[f->got] = strdup(m->topic)))
		fail("fanout: too many states");
	f->got++;
	f->last_ns = now;
}

static void copy_payload(char dst[8], const struct mosquitto_message *m)
{
	int n = m->payloadlen < 7 ? m->payloadlen : 7;

	memcpy(dst, m->payload, (size_t)n);
	dst[n] = '\0';
}

/* Retained messages are old states replayed on subscribing: not counted. */
static void on_message(struct mosquitto *mosq, void *ctx, const struct mosquitto_message *m)
{
	struct drive *d = ctx;
	int line;

	(void)mosq;
	d->last_any_rx_ns = now_ns();
	if (m->retain)
		return;
	d->last_rx_ns = d->last_any_rx_ns;
	if (d->fan)
		fan_message(d->fan, m, d->last_rx_ns);
	if (sscanf(m->topic, "bench/output/o%d", &line) == 1 && line >= 0 && line < MAX_LINES &&
	    !strchr(m->topic + 13, '/')) {
		d->out_count[line]++;
		d->out_total += line < d->lines;
		copy_payload(d->out_payload[line], m);
	} else if (d->in_topic && !strcmp(m->topic, d->in_topic)) {
		d->in_count++;
		copy_payload(d->in_payload, m);
	} else if (!strcmp(m->topic, "bench/status")) {
		d->online = m->payloadlen == 6 && !memcmp(m->payload, "online", 6);
	}
}

static void on_subscribe(struct mosquitto *mosq, void *ctx, int mid, int n, const int *granted)
{
	struct drive *d = ctx;

	(void)mosq;
	(void)mid;
	(void)granted;
	d->subscribed = n > 0;
}

/* Lets libmosquitto work for at most a millisecond (or until a message). */
static void service(struct drive *d)
{
	int rc = mosquitto_loop(d->mosq, 1, 1);

	if (rc != MOSQ_ERR_SUCCESS)
		fail("broker connection: %s", mosquitto_strerror(rc));
}

/* Services the connection until *counter exceeds target or the deadline.
 * With quick_ack, what came while waiting (the broker's PUBACK of our
 * command) is acknowledged at once: a broker with Nagle's algorithm on holds
 * the state behind that PUBACK until our delayed ACK (40 ms), a stall of the
 * driver's own connection whatever the contestant. */
static bool wait_count(struct drive *d, const long *counter, long target, long long deadline)
{
	int one = 1;

	while (*counter < target) {
		if (now_ns() > deadline)
			return false;
		service(d);
		if (d->quick_ack && *counter < target)
			setsockopt(mosquitto_socket(d->mosq), IPPROTO_TCP, TCP_QUICKACK, &one,
				   sizeof(one));
	}
	return true;
}

static void publish(struct drive *d, const char *topic, const char *payload)
{
	int rc = mosquitto_publish(d->mosq, NULL, topic, (int)strlen(payload), payload, QOS, false);

	if (rc != MOSQ_ERR_SUCCESS)
		fail("publish on %s: %s", topic, mosquitto_strerror(rc));
}

static const char *const state_topics[] = { "bench/output/+", "bench/input/+", "bench/relay/+",
					    "bench/status" };

static void connect_broker(struct drive *d, int port)
{
	int rc;

	mosquitto_lib_init();
	d->mosq = mosquitto_new(NULL, true, d);
	if (!d->mosq)
		fail("mosquitto_new: %s", strerror(errno));
	mosquitto_int_option(d->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_max_inflight_messages_set(d->mosq, 0); /* back to back, no window */
	mosquitto_message_callback_set(d->mosq, on_message);
	mosquitto_subscribe_callback_set(d->mosq, on_subscribe);
	rc = mosquitto_connect(d->mosq, "127.0.0.1", port, 60);
	/* States only: the broker need not send our own commands back. */
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_subscribe_multiple(d->mosq, NULL, 4, (char *const *)state_topics, QOS,
						  0, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		fail("broker on port %d: %s", port, mosquitto_strerror(rc));
	long long deadline = now_ns() + 5 * NS_PER_S;
	while (!d->subscribed && now_ns() < deadline)
		service(d);
	if (!d->subscribed)
		fail("no SUBACK from the broker");
}

/* Lets late messages (retained ones, a previous test's) go by: services the
 * connection until nothing has come for QUIET_NS, at most 10 s. A subscriber
 * is first sent every retained state, a thousand of them after the big
 * mapping, and they must not fall into a timed window. */
static void drain(struct drive *d, long long quiet_ns)
{
	long long end = now_ns() + 10 * NS_PER_S;

	d->last_any_rx_ns = now_ns();
	while (now_ns() < end && now_ns() - d->last_any_rx_ns < quiet_ns)
		service(d);
}

/* --- statistics --- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile(const double *sorted, long n, double p)
{
	long i = (long)(p * (double)n + 0.999999) - 1;

	return sorted[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

/* Prints p50/p90/p99/max of the samples (microseconds) as PREFIX_pNN and
 * appends them to PATH, if any, for a later "stats" over several runs. */
static void report_latency(const char *prefix, double *us, long n, const char *path,
			   const char *mode)
{
	qsort(us, (size_t)n, sizeof(*us), cmp_double);
	printf("%s_p50 %.0f\n%s_p90 %.0f\n%s_p99 %.0f\n%s_max %.0f\n", prefix,
	       percentile(us, n, 0.5), prefix, percentile(us, n, 0.9), prefix,
	       percentile(us, n, 0.99), prefix, us[n - 1]);
	if (!path)
		return;
	FILE *f = fopen(path, mode);
	if (!f)
		fail("%s: %s", path, strerror(errno));
	for (long i = 0; i < n; i++)
		fprintf(f, "%.1f\n", us[i]);
	fclose(f);
}

/* --- /proc --- */

/* The fields of /proc/PID/stat after the process name (state first). */
static void read_stat(pid_t pid, char *buf, size_t size, char **fields)
{
	char path[64], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : (int)read(fd, buf, size - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		fail("%s: process gone", path);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || !p[1])
		fail("%s: cannot parse", path);
	*fields = p + 2;
}

/* CPU time of a process and of the children it waited for, in ms. */
static double cpu_ms(pid_t pid)
{
	char buf[1024], *f;
	unsigned long long utime, stime, cutime, cstime;

	read_stat(pid, buf, sizeof(buf), &f);
	/* state is field 3, utime..cstime fields 14-17 */
	if (sscanf(f, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
		   &utime, &stime, &cutime, &cstime) != 4)
		fail("/proc/%d/stat: cannot parse", (int)pid);
	return (double)(utime + stime + cutime + cstime) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* Page faults a process took without I/O (field 10). */
static double minor_faults(pid_t pid)
{
	char buf[1024], *f;
	unsigned long long minflt;

	read_stat(pid, buf, sizeof(buf), &f);
	if (sscanf(f, "%*c %*d %*d %*d %*d %*d %*u %llu", &minflt) != 1)
		fail("/proc/%d/stat: cannot parse", (int)pid);
	return (double)minflt;
}

/* Sums "KEY: N" lines of a /proc file. */
static long long proc_sum(const char *path, const char *const *keys)
{
	char line[256];
	long long sum = 0, v;
	FILE *f = fopen(path, "r");

	if (!f)
		fail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		for (const char *const *k = keys; *k; k++)
			if (!strncmp(line, *k, strlen(*k)) &&
			    sscanf(line + strlen(*k), " %lld", &v) == 1)
				sum += v;
	fclose(f);
	return sum;
}

/* Voluntary and involuntary context switches of every thread of PID. */
static long long ctx_switches(pid_t pid)
{
	static const char *const keys[] = { "voluntary_ctxt_switches:",
					    "nonvoluntary_ctxt_switches:", NULL };
	char path[300];
	long long sum = 0;
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		fail("%s: %s", path, strerror(errno));
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, e->d_name);
			sum += proc_sum(path, keys);
		}
	closedir(dir);
	return sum;
}

static double total_cpu_ms(const struct options *o)
{
	double sum = 0;

	for (int i = 0; i < o->n_pids; i++)
		sum += cpu_ms(o->pids[i]);
	return sum;
}

/* --- GPIO through gpio-sim's sysfs files --- */

static int open_or_fail(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0)
		fail("%s: %s", path, strerror(errno));
	return fd;
}

static int read_line(int fd)
{
	char c;

	if (pread(fd, &c, 1, 0) != 1)
		fail("reading a line value: %s", strerror(errno));
	return c == '1';
}

/* 0: the line is right; 1: it became right later (the state came first);
 * fails when it stays wrong. Outside the timed sections. */
static int check_line(int fd, int want, const char *what)
{
	long long deadline;

	if (read_line(fd) == want)
		return 0;
	deadline = now_ns() + SETTLE_NS;
	while (now_ns() < deadline) {
		usleep(1000);
		if (read_line(fd) == want)
			return 1;
	}
	fail("%s: the line is %d, not %d", what, !want, want);
}

static void pull(int fd, bool up)
{
	const char *v = up ? "pull-up" : "pull-down";

	if (pwrite(fd, v, strlen(v), 0) < 0)
		fail("writing the pull: %s", strerror(errno));
}

/* --- modes --- */

static void command_topic(char *buf, size_t len, int line)
{
	snprintf(buf, len, "bench/output/o%d/set", line);
}

static void open_values(const struct options *o, int *fds)
{
	if (o->n_values && o->n_values != o->lines)
		fail("%d value files for %d lines", o->n_values, o->lines);
	for (int i = 0; i < o->n_values; i++)
		fds[i] = open_or_fail(o->values[i], O_RDONLY);
}

static void roundtrip(struct drive *d, const struct options *o)
{
	double *us = calloc((size_t)o->count, sizeof(*us));
	int fds[MAX_LINES];
	long late = 0;
	char topic[64];

	if (!us)
		fail("out of memory");
	open_values(o, fds);
	drain(d, NS_PER_S / 5);
	d->quick_ack = true;
	for (long i = 0; i < o->count; i++) {
		int line = (int)(i % o->lines);
		bool on = (i / o->lines) % 2 == 0;
		long before = d->out_count[line];
		long long t0;

		command_topic(topic, sizeof(topic), line);
		t0 = now_ns();
		publish(d, topic, on ? "ON" : "OFF");
		if (!wait_count(d, &d->out_count[line], before + 1, t0 + state_timeout_ns))
			fail("command %ld: no state for o%d", i, line);
		us[i] = (double)(now_ns() - t0) / 1000.0;
		if (strcasecmp(d->out_payload[line], on ? "ON" : "OFF"))
			fail("command %ld: state \"%s\" for %s", i, d->out_payload[line],
			     on ? "ON" : "OFF");
		if (o->n_values)
			late += check_line(fds[line], on, topic);
	}
	report_latency("rt", us, o->count, o->samples, "a");
	if (o->n_values)
		printf("rt_line_late %ld\n", late);
	free(us);
}

static void flood(struct drive *d, const struct options *o)
{
	long base = d->out_total, late = 0;
	int fds[MAX_LINES];
	double cpu0;
	long long t0;
	char topic[64];

	open_values(o, fds);
	drain(d, NS_PER_S / 5);
	base = d->out_total;
	cpu0 = total_cpu_ms(o);
	t0 = now_ns();
	for (long i = 0; i < o->count; i++) {
		int line = (int)(i % o->lines);

		while (o->window && i - (d->out_total - base) >= o->window)
			service(d);
		command_topic(topic, sizeof(topic), line);
		publish(d, topic, (i / o->lines) % 2 == 0 ? "ON" : "OFF");
	}
	if (!wait_count(d, &d->out_total, base + o->count, now_ns() + 30 * state_timeout_ns))
		fail("flood: %ld of %ld states arrived", d->out_total - base, o->count);
	double s = (double)(d->last_rx_ns - t0) / 1e9;
	printf("flood_ms %.1f\nflood_rate %.0f\n", s * 1000.0, (double)o->count / s);
	if (o->n_pids)
		printf("flood_cpu_us_per_msg %.1f\n",
		       (total_cpu_ms(o) - cpu0) * 1000.0 / (double)o->count);
	for (int line = 0; line < o->lines && line < o->count; line++) {
		long last = o->count - 1 - ((o->count - 1 - line) % o->lines);
		bool on = (last / o->lines) % 2 == 0;

		if (strcasecmp(d->out_payload[line], on ? "ON" : "OFF"))
			fail("flood: last state of o%d is \"%s\"", line, d->out_payload[line]);
		if (o->n_values)
			late += check_line(fds[line], on, "flood");
	}
	if (o->n_values)
		printf("flood_line_late %ld\n", late);
}

/* An input change: a pull flip on the sim line, or a relayed publish. */
static void flip(struct drive *d, int pull_fd, bool up)
{
	if (pull_fd >= 0)
		pull(pull_fd, up);
	else
		publish(d, "bench/relay/i0/set", up ? "ON" : "OFF");
}

static int start_input(struct drive *d, const struct options *o)
{
	int fd = o->pull_file ? open_or_fail(o->pull_file, O_WRONLY) : -1;

	d->in_topic = fd >= 0 ? "bench/input/i0" : "bench/relay/i0";
	flip(d, fd, false);
	drain(d, NS_PER_S / 2);
	return fd;
}

static void edges(struct drive *d, const struct options *o)
{
	double *us = calloc((size_t)o->count, sizeof(*us));
	int fd = start_input(d, o);

	if (!us)
		fail("out of memory");
	for (long i = 0; i < o->count; i++) {
		bool up = i % 2 == 0;
		long before = d->in_count;
		long long t0 = now_ns();

		flip(d, fd, up);
		if (!wait_count(d, &d->in_count, before + 1, t0 + state_timeout_ns))
			fail("edge %ld: no message on %s", i, d->in_topic);
		us[i] = (double)(now_ns() - t0) / 1000.0;
		if (strcasecmp(d->in_payload, up ? "ON" : "OFF"))
			fail("edge %ld: \"%s\" on %s", i, d->in_payload, d->in_topic);
	}
	report_latency("edge", us, o->count, o->samples, "a");
	free(us);
}

/* Flips N times at RATE (as fast as it can when RATE is out of reach);
 * returns the rate reached. Ends on a pull-down, an OFF. */
static double flip_at_rate(struct drive *d, int pull_fd, long n, double rate)
{
	long long interval = (long long)(1e9 / rate), t0 = now_ns();

	for (long i = 0; i < n; i++) {
		long long at = t0 + i * interval;
		struct timespec due = { at / NS_PER_S, at % NS_PER_S };

		if (now_ns() < at)
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
		flip(d, pull_fd, i % 2 == 0);
	}
	return (double)n * 1e9 / (double)(now_ns() - t0);
}

/* Flips at a rate and counts the messages that arrive. */
static void burst(struct drive *d, const struct options *o)
{
	int fd = start_input(d, o);
	long before = d->in_count, n = o->count & ~1L;
	double rate = flip_at_rate(d, fd, n, o->rate);
	long long t1 = now_ns(), last = t1;

	while (d->in_count - before < n && now_ns() - last < QUIET_NS && now_ns() - t1 < BURST_CAP_NS) {
		long seen = d->in_count;

		service(d);
		if (d->in_count != seen)
			last = now_ns();
	}
	printf("burst_rate %.0f\nburst_lost %ld\nburst_last_right %s\n", rate,
	       n - (d->in_count - before),
	       d->in_count > before && !strcasecmp(d->in_payload, "OFF") ? "yes" : "no");
	if (d->in_count == before)
		fail("burst: no message at all");
}

/* Flips only, for a reference reader of the line that is not MQTT. With
 * -s, one flip at a time, its CLOCK_MONOTONIC time (ns) written to SAMPLES. */
static void flip_only(const struct options *o)
{
	int fd = open_or_fail(o->pull_file ? o->pull_file : "", O_WRONLY);
	FILE *f;

	pull(fd, false);
	usleep(200000);
	if (!o->samples) {
		printf("flip_rate %.0f\n", flip_at_rate(NULL, fd, o->count & ~1L, o->rate));
		return;
	}
	f = fopen(o->samples, "w");
	if (!f)
		fail("%s: %s", o->samples, strerror(errno));
	for (long i = 0; i < o->count; i++) {
		fprintf(f, "%lld\n", now_ns());
		pull(fd, i % 2 == 0);
		usleep((useconds_t)(1e6 / o->rate));
	}
	fclose(f);
}

/* Group commands to one or two fleets in turn (NAME GROUP_TOPIC
 * STATE_FILTER each, k boards each), ON and OFF alternating per fleet: for
 * each, the time from publishing to the k-th board's state, the last. With
 * -V (one value file per board of the first fleet), every other pair of its
 * commands also times the last line to take the new value, read from
 * gpio-sim's sysfs files: those reads share the one CPU with the fleet and
 * slow it, so its state figures come from the commands without them (their
 * lines are checked after the last state). Prints "NAME fanout_pNN",
 * "NAME fanout_line_pNN" and "NAME fanout_polled_pNN" (the states of the
 * commands with reads) in microseconds, and "NAME fanout_line_late". With
 * -s, each command as "NAME STATE_US [LINE_US]" to SAMPLES, in order. */
#define FAN_GAP_NS (NS_PER_S / 50) /* between commands: the fleet settles */
#define SWEEP_NS (NS_PER_S / 2000) /* between two reads of a pending line */

struct fleet {
	const char *name, *topic, *filter;
	double *state_us, *line_us, *polled_us;
	long n_state, n_line, late;
};

static void fan_reset(struct fan *f, const char *filter, const char *want)
{
	for (long i = 0; i < f->got; i++)
		free(f->seen[i]);
	*f = (struct fan){ .filter = filter, .want = want };
}

static void fanout(struct drive *d, const struct options *o, char **args)
{
	struct fleet fl[MAX_FLEETS];
	static struct fan fan;
	int n = 0, fds[MAX_LINES], pending[MAX_LINES];
	char *filters[MAX_FLEETS];
	FILE *samples = o->samples ? fopen(o->samples, "w") : NULL;

	for (; args[0] && args[1] && args[2] && n < MAX_FLEETS; args += 3, n++) {
		fl[n] = (struct fleet){ .name = args[0], .topic = args[1], .filter = args[2] };
		fl[n].state_us = calloc((size_t)o->count, sizeof(double));
		fl[n].line_us = calloc((size_t)o->count, sizeof(double));
		fl[n].polled_us = calloc((size_t)o->count, sizeof(double));
		if (!fl[n].state_us || !fl[n].line_us || !fl[n].polled_us)
			fail("out of memory");
		filters[n] = (char *)args[2];
	}
	if (!n || args[0])
		fail("fanout: NAME GROUP_TOPIC STATE_FILTER, once or twice");
	if (o->samples && !samples)
		fail("%s: %s", o->samples, strerror(errno));
	open_values(o, fds);
	d->subscribed = false;
	if (mosquitto_subscribe_multiple(d->mosq, NULL, n, filters, QOS, 0, NULL))
		fail("fanout: subscribe");
	for (long long end = now_ns() + 5 * NS_PER_S; !d->subscribed && now_ns() < end;)
		service(d);
	if (!d->subscribed)
		fail("fanout: no SUBACK");
	drain(d, NS_PER_S / 5); /* the retained states */
	d->fan = &fan;
	for (long i = 0; i < o->count * n; i++) {
		struct fleet *f = &fl[i % n];
		long j = i / n;
		bool on = j % 2 == 0, polled = f == fl && o->n_values && (j / 2) % 2 == 1;
		int n_pending = polled ? o->lines : 0;
		long long t0, line_ns = 0, swept = 0;

		for (int k = 0; k < n_pending; k++)
			pending[k] = k;
		fan_reset(&fan, f->filter, on ? "ON" : "OFF");
		t0 = now_ns();
		publish(d, f->topic, fan.want);
		while (fan.got < o->lines || n_pending) {
			long long now = now_ns();

			if (now - t0 > state_timeout_ns)
				fail("fanout %s, command %ld: %ld of %d states, %d lines pending", f->name,
				     j, fan.got, o->lines, n_pending);
			if (n_pending && now - swept >= SWEEP_NS) {
				/* Only the lines not yet seen at the new value. */
				for (int k = 0; k < n_pending;)
					if (read_line(fds[pending[k]]) == on)
						pending[k] = pending[--n_pending];
					else
						k++;
				swept = now_ns();
				if (!n_pending)
					line_ns = swept;
				continue;
			}
			service(d);
		}
		if (fan.other)
			fail("fanout %s, command %ld: %ld states not %s", f->name, j, fan.other, fan.want);
		if (samples)
			fprintf(samples, polled ? "%s %.0f %.0f\n" : "%s %.0f\n", f->name,
				(double)(fan.last_ns - t0) / 1000.0, (double)(line_ns - t0) / 1000.0);
		if (polled) {
			f->line_us[f->n_line] = (double)(line_ns - t0) / 1000.0;
			f->polled_us[f->n_line++] = (double)(fan.last_ns - t0) / 1000.0;
		} else {
			f->state_us[f->n_state++] = (double)(fan.last_ns - t0) / 1000.0;
			for (int k = 0; f == fl && k < o->n_values; k++)
				f->late += check_line(fds[k], on, f->topic);
		}
		for (long long end = now_ns() + FAN_GAP_NS; now_ns() < end;)
			service(d);
	}
	d->fan = NULL;
	fan_reset(&fan, NULL, "");
	if (samples)
		fclose(samples);
	for (int k = 0; k < n; k++) {
		char prefix[160];

		snprintf(prefix, sizeof(prefix), "%s fanout", fl[k].name);
		report_latency(prefix, fl[k].state_us, fl[k].n_state, NULL, NULL);
		if (fl[k].n_line) {
			snprintf(prefix, sizeof(prefix), "%s fanout_line", fl[k].name);
			report_latency(prefix, fl[k].line_us, fl[k].n_line, NULL, NULL);
			snprintf(prefix, sizeof(prefix), "%s fanout_polled", fl[k].name);
			report_latency(prefix, fl[k].polled_us, fl[k].n_line, NULL, NULL);
		}
		if (k == 0 && o->n_values)
			printf("%s fanout_line_late %ld\n", fl[k].name, fl[k].late);
		free(fl[k].state_us);
		free(fl[k].line_us);
		free(fl[k].polled_us);
	}
}

/* Statistics over every sample in the file, which is left sorted. */
static void stats(const struct options *o, const char *prefix)
{
	FILE *f = fopen(o->samples ? o->samples : "", "r");
	double *us = NULL, x;
	long n = 0, allocated = 0;

	if (!f)
		fail("samples: %s", strerror(errno));
	while (fscanf(f, "%lf", &x) == 1) {
		if (n == allocated) {
			allocated = allocated ? 2 * allocated : 1024;
			us = realloc(us, (size_t)allocated * sizeof(*us));
			if (!us)
				fail("out of memory");
		}
		us[n++] = x;
	}
	fclose(f);
	if (!n)
		fail("no samples in %s", o->samples);
	report_latency(prefix, us, n, o->samples, "w");
	free(us);
}

static void idle(const struct options *o)
{
	double cpu0 = total_cpu_ms(o);
	long long ctx0 = 0, ctx1 = 0;

	for (int i = 0; i < o->n_pids; i++)
		ctx0 += ctx_switches(o->pids[i]);
	sleep((unsigned int)o->seconds);
	for (int i = 0; i < o->n_pids; i++)
		ctx1 += ctx_switches(o->pids[i]);
	printf("idle_cpu_ms %.0f\nidle_ctxsw %lld\n", total_cpu_ms(o) - cpu0, ctx1 - ctx0);
}

static void mem(const struct options *o)
{
	static const char *const rss[] = { "Rss:", NULL }, *const pss[] = { "Pss:", NULL };
	long long r = 0, p = 0;
	char path[64];

	for (int i = 0; i < o->n_pids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)o->pids[i]);
		r += proc_sum(path, rss);
		p += proc_sum(path, pss);
	}
	printf("rss_kb %lld\npss_kb %lld\n", r, p);
}

/* --- child processes --- */

static pid_t spawn(char **argv)
{
	pid_t pid = fork();

	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO); /* our stdout carries the figures */
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Waits for the child at most TIMEOUT_NS; -1 when it is still running. */
static int reap(pid_t pid, long long timeout_ns)
{
	long long deadline = now_ns() + timeout_ns;
	int status;

	while (now_ns() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		usleep(1000);
	}
	return -1;
}

static void stop(pid_t pid)
{
	kill(pid, SIGTERM);
	if (reap(pid, 5 * NS_PER_S) < 0) {
		kill(pid, SIGKILL);
		reap(pid, 5 * NS_PER_S);
	}
}

static double median_of(double *ms, long n)
{
	qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
	return ms[(n - 1) / 2];
}

static void startup(struct drive *d, const struct options *o)
{
	double ms[64], faults[64];
	long n = o->count < 64 ? o->count : 64;

	for (long i = 0; i < n; i++) {
		long long t0;
		pid_t pid;

		drain(d, NS_PER_S / 5);
		d->online = false;
		t0 = now_ns();
		pid = spawn(o->command);
		while (!d->online && now_ns() - t0 < state_timeout_ns)
			service(d);
		ms[i] = (double)(now_ns() - t0) / 1e6;
		faults[i] = d->online ? minor_faults(pid) : 0;
		stop(pid);
		if (!d->online)
			fail("%s: not online in time", o->command[0]);
	}
	printf("startup_ms %.1f\n", median_of(ms, n));
	printf("startup_faults %.0f\n", median_of(faults, n));
}

/* The two costs that dominate a start-up in the test kernel: a system call
 * (one that does no work) and a page fault on first touch. Median of 5. */
static void rig(const struct options *o)
{
	double sys_us[5], fault_us[5];
	long n = o->count > 0 ? o->count : 1000;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	for (int r = 0; r < 5; r++) {
		long long t0 = now_ns();
		char *p;

		for (long i = 0; i < n; i++)
			syscall(SYS_getppid); /* not cached by libc */
		sys_us[r] = (double)(now_ns() - t0) / 1e3 / (double)n;
		p = mmap(NULL, (size_t)n * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			fail("mmap: %s", strerror(errno));
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			((volatile char *)p)[(size_t)i * page] = 1;
		fault_us[r] = (double)(now_ns() - t0) / 1e3 / (double)n;
		munmap(p, (size_t)n * page);
	}
	printf("syscall_us %.1f\n", median_of(sys_us, 5));
	printf("fault_us %.1f\n", median_of(fault_us, 5));
}

static void run(const struct options *o)
{
	double ms[64];
	long n = o->count < 64 ? o->count : 64;

	for (long i = 0; i < n; i++) {
		long long t0 = now_ns();
		int status = reap(spawn(o->command), state_timeout_ns);

		ms[i] = (double)(now_ns() - t0) / 1e6;
		if (status != 0)
			fail("%s: exit status %d", o->command[0], status);
	}
	printf("run_ms %.1f\n", median_of(ms, n));
}

/* --- options --- */

static void parse(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){ .count = 1000, .lines = 1, .rate = 1000, .seconds = 60 };
	while ((c = getopt(argc, argv, "p:n:k:w:r:t:T:f:s:V:P:")) != -1) {
		switch (c) {
		case 'p': o->port = atoi(optarg); break;
		case 'n': o->count = atol(optarg); break;
		case 'k': o->lines = atoi(optarg); break;
		case 'w': o->window = atol(optarg); break;
		case 'r': o->rate = atof(optarg); break;
		case 't': o->seconds = atoi(optarg); break;
		case 'T': state_timeout_ns = atoll(optarg) * NS_PER_S; break;
		case 'f': o->pull_file = optarg; break;
		case 's': o->samples = optarg; break;
		case 'V':
			if (o->n_values == MAX_LINES)
				fail("too many value files");
			o->values[o->n_values++] = optarg;
			break;
		case 'P':
			if (o->n_pids == MAX_PIDS)
				fail("too many pids");
			o->pids[o->n_pids++] = (pid_t)atoi(optarg);
			break;
		default: exit(2);
		}
	}
	if (optind >= argc || o->count < 1 || o->lines < 1 || o->lines > MAX_LINES || o->rate <= 0)
		fail("bad options (see the comment at the top of drive.c)");
	o->command = argv + optind + 1;
	if (optind + 1 < argc && !strcmp(argv[optind + 1], "--"))
		o->command++;
}

int main(int argc, char **argv)
{
	static struct drive d;
	struct options o;
	const char *mode;

	parse(argc, argv, &o);
	mode = argv[optind];
	d.lines = o.lines;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "idle"))
		idle(&o);
	else if (!strcmp(mode, "mem"))
		mem(&o);
	else if (!strcmp(mode, "run"))
		run(&o);
	else if (!strcmp(mode, "rig"))
		rig(&o);
	else if (!strcmp(mode, "flip"))
		flip_only(&o);
	else if (!strcmp(mode, "stats"))
		stats(&o, o.command[0] ? o.command[0] : "lat");
	else {
		connect_broker(&d, o.port);
		if (!strcmp(mode, "roundtrip"))
			roundtrip(&d, &o);
		else if (!strcmp(mode, "flood"))
			flood(&d, &o);
		else if (!strcmp(mode, "edges"))
			edges(&d, &o);
		else if (!strcmp(mode, "burst"))
			burst(&d, &o);
		else if (!strcmp(mode, "startup"))
			startup(&d, &o);
		else if (!strcmp(mode, "fanout"))
			fanout(&d, &o, o.command);
		else
			fail("unknown mode %s", mode);
		mosquitto_disconnect(d.mosq);
		mosquitto_destroy(d.mosq);
		mosquitto_lib_cleanup();
	}
	return 0;
}
