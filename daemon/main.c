/* SPDX-License-Identifier: MIT */
/* gpio2mqtt: bridges MQTT topics and GPIO lines. See gpio2mqtt(8). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bridge.h"
#include "config.h"
#include "exit_status.h"
#include "forget.h"
#include "gpio.h"
#include "log.h"
#include "mqtt.h"
#include "plan.h"

enum action { RUN, CHECK, LIST_LINES, FORGET, VERSION, HELP };

struct options {
	enum action action;
	const char *config;
	int verbosity;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: gpio2mqtt [-c FILE] [--check] [--list-lines] [--forget] [-v] [-V] [-h]\n"
		"Bridges MQTT topics and GPIO lines as the mapping file says.\n\n"
		"  -c, --config FILE  mapping file (default %s)\n"
		"      --check        validate the mapping file and exit\n"
		"      --list-lines   list GPIO chips and lines and exit\n"
		"      --forget       clear this board's retained messages (Home\n"
		"                     Assistant discovery, info, states) and exit\n"
		"  -v, --verbose      log debug messages too; twice (-vv) with\n"
		"                     libmosquitto's packet trace\n"
		"  -V, --version      print versions and exit\n"
		"  -h, --help         print this help and exit\n",
		CONFIG_DEFAULT_PATH);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "list-lines", no_argument, NULL, 'L' },
		{ "forget", no_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .action = RUN, .config = CONFIG_DEFAULT_PATH };
	while ((c = getopt_long(argc, argv, "c:vVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'C':
			o->action = CHECK;
			break;
		case 'L':
			o->action = LIST_LINES;
			break;
		case 'F':
			o->action = FORGET;
			break;
		case 'v':
			o->verbosity++;
			break;
		case 'V':
			o->action = VERSION;
			break;
		case 'h':
			o->action = HELP;
			break;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gpio2mqtt: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static void print_version(void)
{
	printf("gpio2mqtt %s\n", GPIO2MQTT_VERSION);
	printf("libgpiod %s (built with %s)\n", gpio_version_runtime(), gpio_version_built());
	printf("libmosquitto %s\n", mqtt_version());
}

static int list_lines(void)
{
	char err[256];

	if (gpio_list(stdout, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* --check: reads path and finds every line without requesting any. Problems
 * go to stderr as FILE:LINE: message. */
static int check_mapping(const char *path)
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
		plan_print_summary(&p);
	plan_free(&p);
	gpio_chips_close(chips);
	return status;
}

/* Signals arrive through the bridge's signalfd, so they must never be
 * delivered the ordinary way; a closed socket must not kill the process. */
static void prepare_process(void)
{
	struct rlimit rl;
	sigset_t mask;

	bridge_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* One fd per line: large mappings need more than the soft limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int forget(const char *config)
{
	int status;

	signal(SIGPIPE, SIG_IGN);
	mqtt_global_init();
	status = forget_run(config);
	mqtt_global_cleanup();
	return status;
}

static int run(const char *config)
{
	struct bridge *b;
	int status;

	prepare_process();
	mqtt_global_init();
	b = bridge_new(config, &status);
	if (b) {
		status = bridge_run(b);
		bridge_free(b);
	}
	mqtt_global_cleanup();
	return status;
}

int main(int argc, char **argv)
{
	struct options o;

	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	log_init(o.verbosity);
	switch (o.action) {
	case HELP:
		usage(stdout);
		return EXIT_OK;
	case VERSION:
		print_version();
		return EXIT_OK;
	case LIST_LINES:
		return list_lines();
	case CHECK:
		return check_mapping(o.config);
	case FORGET:
		return forget(o.config);
	default:
		return run(o.config);
	}
}
