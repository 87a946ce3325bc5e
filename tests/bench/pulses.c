/* SPDX-License-Identifier: MIT */
/* pulses: the benchmark of timed outputs (tests/bench/, "make bench").
 *
 * Usage: pulses -p PORT [options] MODE
 *   widths   -n N -w WIDTH_MS -V VALUE_FILE -t TOPIC [-g GAP_MS] [-s SAMPLES]
 *            N timed pulses {"state":"on","for_ms":WIDTH_MS} on TOPIC, one at
 *            a time, GAP_MS (20) apart. The line, gpio-sim's VALUE_FILE, is
 *            read every SAMPLE_NS at a real-time priority; each width is the
 *            time from the first read that saw it high to the first that saw
 *            it low again, so that the sampler's lag falls out. Prints the
 *            error (width - WIDTH_MS) as pulse_err_p50_us, _p99_us, _max_us
 *            (absolute values) and pulse_err_mean_us (signed).
 *   timers   -n N -w WIDTH_MS
 *            The reference for widths: N timers of WIDTH_MS of this process,
 *            one at a time, as the daemon's (a timerfd and poll(), at the
 *            normal priority). Prints how late they fired as
 *            timer_late_p50_us, _p99_us, _max_us: the test kernel's share of
 *            a width's error.
 *   pending  -k OUTPUTS -P PID [-w WIDTH_MS] [-r ROUNDS]
 *            OUTPUTS outputs (bench/output/oK/set): each switched on, then
 *            off, by plain commands; then each given a pulse of WIDTH_MS
 *            (5000), all sent back to back, so that all are pending at
 *            once; then the returns; ROUNDS (3) times, which evens out the
 *            test kernel's coarse CPU accounting. Prints the daemon's open
 *            file descriptors before and while the pulses are pending and
 *            its CPU time (µs) per plain command, per pulse (its command and
 *            its return), and for each part of a pulse.
 * Figures are "NAME VALUE" lines. Exits 1 when the daemon does not do what
 * it is told: a line that does not move, a state that does not come. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define SAMPLE_NS 100000L /* between two reads of the line */
#define WAIT_NS (10 * NS_PER_S)

struct options {
	int port;
	long count;
	long outputs;
	long width_ms;
	long gap_ms;
	long rounds;
	const char *value_file;
	const char *topic;
	const char *samples;
	pid_t pid;
};

struct states {
	long on, off; /* live "ON" and "OFF" states seen since the last reset */
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

	fputs("pulses: FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* --- the broker --- */

static void on_message(struct mosquitto *mosq, void *ctx, const struct mosquitto_message *m)
{
	struct states *s = ctx;

	(void)mosq;
	if (m->retain) /* old states replayed on subscribing */
		return;
	if (m->payloadlen == 2 && !memcmp(m->payload, "ON", 2))
		s->on++;
	else if (m->payloadlen == 3 && !memcmp(m->payload, "OFF", 3))
		s->off++;
}

static struct mosquitto *connect_broker(int port, struct states *s)
{
	struct mosquitto *mosq;
	int rc;

	mosquitto_lib_init();
	mosq = mosquitto_new(NULL, true, s);
	if (!mosq)
		fail("mosquitto_new: %s", strerror(errno));
	mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_max_inflight_messages_set(mosq, 0);
	mosquitto_message_callback_set(mosq, on_message);
	rc = mosquitto_connect(mosq, "127.0.0.1", port, 60);
	if (rc == MOSQ_ERR_SUCCESS && s)
		rc = mosquitto_subscribe(mosq, NULL, "bench/output/+", 1);
	if (rc != MOSQ_ERR_SUCCESS)
		fail("broker on port %d: %s", port, mosquitto_strerror(rc));
	return mosq;
}

static void service(struct mosquitto *mosq, int timeout_ms)
{
	int rc = mosquitto_loop(mosq, timeout_ms, 1);

	if (rc != MOSQ_ERR_SUCCESS)
		fail("broker connection: %s", mosquitto_strerror(rc));
}

static void publish(struct mosquitto *mosq, const char *topic, const char *payload, int qos)
{
	int rc = mosquitto_publish(mosq, NULL, topic, (int)strlen(payload), payload, qos, false);

	if (rc != MOSQ_ERR_SUCCESS)
		fail("publish on %s: %s", topic, mosquitto_strerror(rc));
}

/* Services the connection until *count reaches target; false at deadline. */
static bool wait_states(struct mosquitto *mosq, const long *count, long target, long long deadline)
{
	while (*count < target) {
		if (now_ns() > deadline)
			return false;
		service(mosq, 10);
	}
	return true;
}

/* Lets what the broker still sends (retained states) go by. */
static void settle(struct mosquitto *mosq, long long ns)
{
	long long end = now_ns() + ns;

	while (now_ns() < end)
		service(mosq, 10);
}

/* --- the line --- */

static int read_line(int fd)
{
	char c;

	if (pread(fd, &c, 1, 0) != 1)
		fail("reading the line: %s", strerror(errno));
	return c == '1';
}

/* The time the line was first read at value, or -1 at the deadline. */
static long long wait_level(int fd, int value, long long deadline)
{
	const struct timespec pause = { 0, SAMPLE_NS };

	while (now_ns() < deadline) {
		if (read_line(fd) == value)
			return now_ns();
		nanosleep(&pause, NULL);
	}
	return -1;
}

/* Ahead of the daemon, the broker and the clients on the test kernel's one
 * CPU: a change is seen within a sample, not after their turns. */
static void realtime(void)
{
	struct sched_param p = { .sched_priority = 10 };

	if (sched_setscheduler(0, SCHED_FIFO, &p) < 0)
		fprintf(stderr, "pulses: no real-time priority (%s): widths will be rougher\n",
			strerror(errno));
}

/* --- figures --- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile(const double *sorted, long n, double p)
{
	long i = (long)(p * (double)(n - 1) + 0.5);

	return sorted[i < n ? i : n - 1];
}

/* Absolute values, sorted: p50, p99, max under prefix. */
static void report_abs(const char *prefix, const double *us, long n)
{
	double *abs_us = malloc((size_t)n * sizeof(double));

	if (!abs_us)
		fail("report: %s", strerror(errno));
	for (long i = 0; i < n; i++)
		abs_us[i] = us[i] < 0 ? -us[i] : us[i];
	qsort(abs_us, (size_t)n, sizeof(double), cmp_double);
	printf("%s_p50_us %.0f\n", prefix, percentile(abs_us, n, 0.50));
	printf("%s_p99_us %.0f\n", prefix, percentile(abs_us, n, 0.99));
	printf("%s_max_us %.0f\n", prefix, abs_us[n - 1]);
	free(abs_us);
}

static void report_widths(const double *err_us, long n, const char *path)
{
	FILE *f = path ? fopen(path, "w") : NULL;
	double sum = 0;

	if (path && !f)
		fail("%s: %s", path, strerror(errno));
	for (long i = 0; i < n; i++) {
		sum += err_us[i];
		if (f)
			fprintf(f, "%.1f\n", err_us[i]);
	}
	if (f)
		fclose(f);
	report_abs("pulse_err", err_us, n);
	printf("pulse_err_mean_us %.0f\n", sum / (double)n);
}

static void widths(const struct options *o)
{
	struct mosquitto *mosq = connect_broker(o->port, NULL);
	int fd = open(o->value_file, O_RDONLY);
	double *err_us = calloc((size_t)o->count, sizeof(double));
	char payload[64];

	if (fd < 0 || !err_us)
		fail("%s: %s", o->value_file, strerror(errno));
	snprintf(payload, sizeof(payload), "{\"state\":\"on\",\"for_ms\":%ld}", o->width_ms);
	realtime();
	for (long i = 0; i < o->count; i++) {
		long long up, down;

		if (wait_level(fd, 0, now_ns() + WAIT_NS) < 0)
			fail("pulse %ld: the line is not low to begin with", i);
		/* QoS 0: nothing to acknowledge while the line is read. */
		publish(mosq, o->topic, payload, 0);
		up = wait_level(fd, 1, now_ns() + WAIT_NS);
		down = up < 0 ? -1 : wait_level(fd, 0, up + o->width_ms * NS_PER_MS + WAIT_NS);
		if (up < 0 || down < 0)
			fail("pulse %ld: the line did not go %s", i, up < 0 ? "high" : "low again");
		err_us[i] = (double)(down - up - o->width_ms * NS_PER_MS) / 1000.0;
		service(mosq, 0);
		nanosleep(&(struct timespec){ 0, o->gap_ms * NS_PER_MS }, NULL);
	}
	report_widths(err_us, o->count, o->samples);
	free(err_us);
	mosquitto_destroy(mosq);
}

static void timers(const struct options *o)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);
	double *late_us = calloc((size_t)o->count, sizeof(double));
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned long long expirations;

	if (fd < 0 || !late_us)
		fail("timerfd: %s", strerror(errno));
	for (long i = 0; i < o->count; i++) {
		long long due = now_ns() + o->width_ms * NS_PER_MS;
		struct itimerspec its = { .it_value = { due / NS_PER_S, due % NS_PER_S } };

		if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 || poll(&p, 1, -1) != 1 ||
		    read(fd, &expirations, sizeof(expirations)) < 0)
			fail("timer %ld: %s", i, strerror(errno));
		late_us[i] = (double)(now_ns() - due) / 1000.0;
	}
	report_abs("timer_late", late_us, o->count);
	free(late_us);
	close(fd);
}

/* --- pending pulses --- */

/* The scheduler's own account of pid's CPU time in ns, from /proc/PID/sched
 * (a kernel with SCHED_DEBUG, as the test kernel); -1 without. */
static long long sched_runtime_ns(pid_t pid)
{
	char path[64], line[256];
	double ms = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/sched", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (ms < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, "se.sum_exec_runtime", 19))
			sscanf(strchr(line, ':') ? strchr(line, ':') + 1 : line, "%lf", &ms);
	fclose(f);
	return ms < 0 ? -1 : (long long)(ms * 1e6);
}

/* CPU time of pid in ns: to the nanosecond where the kernel says, else
 * utime + stime in clock ticks (10 ms). */
static long long cpu_ns(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long utime, stime;
	long long run = sched_runtime_ns(pid);
	FILE *f;

	if (run >= 0)
		return run;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')')))
		fail("%s: cannot read", path);
	fclose(f);
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
		   &stime) != 2)
		fail("%s: cannot parse", path);
	return (long long)(utime + stime) * NS_PER_S / sysconf(_SC_CLK_TCK);
}

static long open_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	long n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (!(dir = opendir(path)))
		fail("%s: %s", path, strerror(errno));
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* payload to every output, back to back; then waits for as many states. */
static void to_all(struct mosquitto *mosq, const struct options *o, const char *payload,
		   const long *count, long target, const char *what)
{
	char topic[64];

	for (long k = 0; k < o->outputs; k++) {
		snprintf(topic, sizeof(topic), "bench/output/o%ld/set", k);
		publish(mosq, topic, payload, 1);
		service(mosq, 0);
	}
	if (!wait_states(mosq, count, target, now_ns() + 6 * WAIT_NS))
		fail("%s: %ld of %ld states", what, *count - (target - o->outputs), o->outputs);
}

/* CPU time of the daemon, ns, summed over the rounds. */
struct costs {
	long long plain_on, plain, pulse_command, pulse_return;
};

/* One round: a plain on and off to every output, then a pulse to each, all
 * pending at once, then their returns. */
static void pending_round(struct mosquitto *mosq, const struct options *o, struct states *s,
			  struct costs *c, long *fds_during)
{
	long k = o->outputs, on = s->on, off = s->off;
	long long t0, t1, t2, t3, t4, started;
	char pulse[64];

	snprintf(pulse, sizeof(pulse), "{\"state\":\"on\",\"for_ms\":%ld}", o->width_ms);
	t0 = cpu_ns(o->pid);
	to_all(mosq, o, "on", &s->on, on + k, "plain on");
	t1 = cpu_ns(o->pid);
	to_all(mosq, o, "off", &s->off, off + k, "plain off");
	t2 = cpu_ns(o->pid);
	started = now_ns();
	to_all(mosq, o, pulse, &s->on, on + 2 * k, "pulses");
	t3 = cpu_ns(o->pid);
	*fds_during = open_fds(o->pid);
	if (s->off != off + k || now_ns() - started >= o->width_ms * NS_PER_MS)
		fail("the pulses were not all pending at once: widen them (-w)");
	if (!wait_states(mosq, &s->off, off + 2 * k, started + o->width_ms * NS_PER_MS + 6 * WAIT_NS))
		fail("returns: %ld of %ld", s->off - off - k, k);
	t4 = cpu_ns(o->pid);
	c->plain_on += t1 - t0;
	c->plain += t2 - t0;
	c->pulse_command += t3 - t2;
	c->pulse_return += t4 - t3;
}

static void pending(const struct options *o)
{
	struct states s = { 0 };
	struct mosquitto *mosq = connect_broker(o->port, &s);
	struct costs c = { 0 };
	long fds_before, fds_during = 0;
	double ops = (double)o->outputs * (double)o->rounds * 1000.0; /* in µs per op */

	settle(mosq, NS_PER_S);
	s = (struct states){ 0 };
	fds_before = open_fds(o->pid);
	for (long r = 0; r < o->rounds; r++)
		pending_round(mosq, o, &s, &c, &fds_during);
	printf("pending_outputs %ld\n", o->outputs);
	printf("pending_fds_before %ld\n", fds_before);
	printf("pending_fds_during %ld\n", fds_during);
	printf("plain_on_cpu_us %.1f\n", (double)c.plain_on / ops);
	printf("plain_cpu_us %.1f\n", (double)c.plain / ops / 2);
	printf("pulse_command_cpu_us %.1f\n", (double)c.pulse_command / ops);
	printf("pulse_return_cpu_us %.1f\n", (double)c.pulse_return / ops);
	printf("pulse_cpu_us %.1f\n", (double)(c.pulse_command + c.pulse_return) / ops);
	mosquitto_destroy(mosq);
}

/* --- command line --- */

static void usage(void)
{
	fail("usage: pulses -p PORT [-n N] [-k OUTPUTS] [-w WIDTH_MS] [-g GAP_MS] [-r ROUNDS] "
	     "[-V FILE] [-t TOPIC] [-s SAMPLES] [-P PID] widths|timers|pending");
}

static void parse(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){ .count = 200, .outputs = 1000, .gap_ms = 20, .rounds = 3 };
	while ((c = getopt(argc, argv, "p:n:k:w:g:r:V:t:s:P:")) != -1) {
		switch (c) {
		case 'p': o->port = atoi(optarg); break;
		case 'n': o->count = atol(optarg); break;
		case 'k': o->outputs = atol(optarg); break;
		case 'w': o->width_ms = atol(optarg); break;
		case 'g': o->gap_ms = atol(optarg); break;
		case 'r': o->rounds = atol(optarg); break;
		case 'V': o->value_file = optarg; break;
		case 't': o->topic = optarg; break;
		case 's': o->samples = optarg; break;
		case 'P': o->pid = (pid_t)atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || o->port <= 0 || o->count <= 0 || o->outputs <= 0 ||
	    o->rounds <= 0 || o->gap_ms < 0 || o->gap_ms > 999)
		usage();
}

int main(int argc, char **argv)
{
	struct options o;

	parse(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[optind], "widths")) {
		if (!o.value_file || !o.topic || o.width_ms <= 0)
			usage();
		widths(&o);
	} else if (!strcmp(argv[optind], "timers")) {
		if (o.width_ms <= 0)
			usage();
		timers(&o);
	} else if (!strcmp(argv[optind], "pending")) {
		if (o.pid <= 0)
			usage();
		if (o.width_ms <= 0)
			o.width_ms = 5000;
		pending(&o);
	} else {
		usage();
	}
	return 0;
}
