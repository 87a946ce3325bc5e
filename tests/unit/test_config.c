/* SPDX-License-Identifier: MIT */
/* config: the mapping file read into structs, problems as "FILE:LINE: message". */
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"

#define SECRET "s3cret-XYZ"

/* Every file a test writes goes here; the fixture removes it all. */
static char tmpdir[PATH_MAX];

static void make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/gpio2mqtt-unit-XXXXXX", base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tmpdir(void)
{
	nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* A new file holding text; the caller frees the returned path. */
static char *write_temp(const char *text)
{
	char *path;
	int fd;

	ck_assert_int_ne(asprintf(&path, "%s/file-XXXXXX", tmpdir), -1);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(close(fd), 0);
	return path;
}

struct load {
	char *path;
	int rc;
	struct config cfg;
	char *errors;
	size_t errors_len;
};

static void load(struct load *l, const char *text)
{
	FILE *errors;

	memset(l, 0, sizeof(*l));
	errors = open_memstream(&l->errors, &l->errors_len);
	ck_assert_ptr_nonnull(errors);
	l->path = write_temp(text);
	l->rc = config_load(&l->cfg, l->path, errors);
	ck_assert_int_eq(fclose(errors), 0);
}

static void loadf(struct load *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void loadf(struct load *l, const char *fmt, ...)
{
	char *text;
	va_list ap;

	va_start(ap, fmt);
	ck_assert_int_ne(vasprintf(&text, fmt, ap), -1);
	va_end(ap);
	load(l, text);
	free(text);
}

static void load_done(struct load *l)
{
	if (l->rc == 0)
		config_free(&l->cfg);
	free(l->errors);
	free(l->path);
}

static void expect_loaded(const struct load *l)
{
	ck_assert_msg(l->rc == 0, "config_load failed:\n%s", l->errors);
	ck_assert_uint_eq(l->errors_len, 0);
	ck_assert_str_eq(l->cfg.path, l->path);
}

static size_t error_count(const struct load *l)
{
	size_t n = 0;

	for (const char *p = l->errors; p && *p; p++)
		n += *p == '\n';
	return n;
}

/* Whether a line of errors starts with "PATH:LINE: " and contains fragment. */
static bool has_error(const struct load *l, int line, const char *fragment)
{
	char *prefix;
	bool found = false;

	ck_assert_int_ne(asprintf(&prefix, "%s:%d: ", l->path, line), -1);
	for (const char *p = l->errors; p && *p && !found;) {
		const char *end = strchrnul(p, '\n');

		found = strncmp(p, prefix, strlen(prefix)) == 0 &&
			memmem(p, (size_t)(end - p), fragment, strlen(fragment)) != NULL;
		p = *end ? end + 1 : end;
	}
	free(prefix);
	return found;
}

/* The load failed, left cfg empty and reported fragment at line. */
static void expect_error(const struct load *l, int line, const char *fragment)
{
	ck_assert_int_eq(l->rc, -1);
	ck_assert_ptr_null(l->cfg.path);
	ck_assert_ptr_null(l->cfg.lines);
	ck_assert_uint_eq(l->cfg.n_lines, 0);
	ck_assert_ptr_null(l->cfg.mqtt.host);
	ck_assert_ptr_null(l->cfg.status_topic);
	ck_assert_msg(has_error(l, line, fragment), "no error \"%d: ...%s...\" in:\n%s", line,
		      fragment, l->errors);
}

/* text has exactly one problem: fragment, reported at line. */
static void expect_only_error(const char *text, int line, const char *fragment)
{
	struct load l;

	load(&l, text);
	expect_error(&l, line, fragment);
	ck_assert_msg(error_count(&l) == 1, "more than one error:\n%s", l.errors);
	load_done(&l);
}

/* --- defaults and values --- */

/* l has exactly one command topic, topic. */
static void expect_commands(const struct cfg_line *l, const char *topic)
{
	ck_assert_uint_eq(l->n_commands, 1);
	ck_assert_str_eq(l->command_topics[0], topic);
}

static void expect_default_mqtt(const struct cfg_mqtt *m)
{
	char host[256] = "";
	char client_id[300];

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	snprintf(client_id, sizeof(client_id), "gpio2mqtt-%s", host);
	ck_assert_str_eq(m->host, "localhost");
	ck_assert_int_eq(m->port, 1883);
	ck_assert_str_eq(m->client_id, client_id);
	ck_assert_ptr_null(m->username);
	ck_assert_ptr_null(m->password);
	ck_assert_int_eq(m->keepalive, 30);
	ck_assert_int_eq(m->qos, 1);
	ck_assert_int_eq(m->protocol, PROTOCOL_AUTO);
	ck_assert_str_eq(m->base_topic, "gpio2mqtt");
	ck_assert_int_eq(m->reconnect_delay_max, 10);
	ck_assert(!m->tls.enabled);
	ck_assert_ptr_null(m->tls.ca_file);
	ck_assert_ptr_null(m->tls.ca_path);
	ck_assert_ptr_null(m->tls.cert_file);
	ck_assert_ptr_null(m->tls.key_file);
	ck_assert(!m->tls.insecure);
}

static void expect_default_line(const struct cfg_line *l)
{
	ck_assert_str_eq(l->payload_on, "ON");
	ck_assert_str_eq(l->payload_off, "OFF");
	ck_assert(!l->active_low);
	ck_assert(l->retain);
	ck_assert_int_eq(l->bias, GPIO_BIAS_AS_IS);
	ck_assert_ptr_null(l->chip);
}

START_TEST(test_defaults)
{
	struct load l;
	const struct cfg_line *led, *button;

	load(&l, "outputs = ( { name = \"led\"; line = \"LED\"; } );\n" /* 1 */
		 "inputs = (\n"					     /* 2 */
		 "  { name = \"button\"; line = \"BUTTON\"; }\n"	     /* 3 */
		 ");\n");
	expect_loaded(&l);
	expect_default_mqtt(&l.cfg.mqtt);
	ck_assert_str_eq(l.cfg.status_topic, "gpio2mqtt/status");
	ck_assert_str_eq(l.cfg.error_topic, "gpio2mqtt/error");
	ck_assert_uint_eq(l.cfg.n_lines, 2);
	ck_assert_uint_eq(l.cfg.n_outputs, 1);
	led = &l.cfg.lines[0];
	button = &l.cfg.lines[1];
	ck_assert(led->output);
	ck_assert_str_eq(led->name, "led");
	ck_assert_str_eq(led->line_name, "LED");
	expect_commands(led, "gpio2mqtt/output/led/set");
	ck_assert_str_eq(led->state_topic, "gpio2mqtt/output/led");
	ck_assert_int_eq(led->initial, 0);
	ck_assert_int_eq(led->drive, GPIO_DRIVE_PUSH_PULL);
	ck_assert_int_eq(led->source_line, 1);
	expect_default_line(led);
	ck_assert(!button->output);
	ck_assert_str_eq(button->name, "button");
	ck_assert_str_eq(button->line_name, "BUTTON");
	ck_assert_uint_eq(button->n_commands, 0);
	ck_assert_str_eq(button->state_topic, "gpio2mqtt/input/button");
	ck_assert_uint_eq(button->debounce_ms, 0);
	ck_assert_int_eq(button->source_line, 3);
	expect_default_line(button);
	load_done(&l);
}
END_TEST

START_TEST(test_empty_file)
{
	struct load l;

	load(&l, "# nothing mapped yet\n");
	expect_loaded(&l);
	expect_default_mqtt(&l.cfg.mqtt);
	ck_assert_uint_eq(l.cfg.n_lines, 0);
	ck_assert_uint_eq(l.cfg.n_outputs, 0);
	ck_assert_str_eq(l.cfg.status_topic, "gpio2mqtt/status");
	load_done(&l);
}
END_TEST

START_TEST(test_base_topic_prefixes_default_topics)
{
	struct load l;

	load(&l, "mqtt = { base_topic = \"home/pi\"; };\n"
		 "outputs = ( { name = \"led\"; line = \"LED\"; } );\n"
		 "inputs = ( { name = \"door\"; line = \"DOOR\"; } );\n");
	expect_loaded(&l);
	ck_assert_str_eq(l.cfg.status_topic, "home/pi/status");
	ck_assert_str_eq(l.cfg.error_topic, "home/pi/error");
	expect_commands(&l.cfg.lines[0], "home/pi/output/led/set");
	ck_assert_str_eq(l.cfg.lines[0].state_topic, "home/pi/output/led");
	ck_assert_str_eq(l.cfg.lines[1].state_topic, "home/pi/input/door");
	load_done(&l);
}
END_TEST

START_TEST(test_tls_changes_default_port)
{
	struct load l;

	load(&l, "mqtt = { tls = { }; };\n");
	expect_loaded(&l);
	ck_assert(l.cfg.mqtt.tls.enabled);
	ck_assert_int_eq(l.cfg.mqtt.port, 8883);
	load_done(&l);
	load(&l, "mqtt = { port = 1884; tls = { insecure = true; }; };\n");
	expect_loaded(&l);
	ck_assert_int_eq(l.cfg.mqtt.port, 1884);
	ck_assert(l.cfg.mqtt.tls.insecure);
	load_done(&l);
}
END_TEST

static const char full_config[] =
	"mqtt = {\n"
	"  host = \"broker.lan\"; port = 8884; client_id = \"board-7\";\n"
	"  username = \"board7\"; password = \"" SECRET "\"; protocol = \"3.1.1\";\n"
	"  keepalive = 45; qos = 2; base_topic = \"lab/b7\"; reconnect_delay_max = 120;\n"
	"  tls = { ca_file = \"%s\"; ca_path = \"%s\"; cert_file = \"%s\"; key_file = \"%s\";\n"
	"          insecure = true; };\n"
	"};\n"
	"outputs = (\n"
	"  { name = \"relay\"; line = 17; chip = \"gpiochip0\"; command_topic = \"lab/relay/c\";\n"
	"    state_topic = \"lab/r\"; active_low = true; initial = \"on\"; bias = \"pull-down\";\n"
	"    drive = \"open-drain\"; payload_on = \"1\"; payload_off = \"0\"; retain = false; },\n"
	"  { name = \"buzzer\"; line = \"BUZZ\"; drive = \"open-source\"; bias = \"disabled\";\n"
	"    initial = \"off\"; }\n"
	");\n"
	"inputs = (\n"
	"  { name = \"button\"; line = \"BTN\"; chip = \"pinctrl-rp1\"; state_topic = \"lab/bt\";\n"
	"    bias = \"pull-up\"; active_low = true; debounce_ms = 25; payload_on = \"pressed\";\n"
	"    payload_off = \"released\"; retain = false; }\n"
	");\n";

static void expect_full_mqtt(const struct cfg_mqtt *m, const char *ca, const char *cert,
			     const char *key)
{
	ck_assert_str_eq(m->host, "broker.lan");
	ck_assert_int_eq(m->port, 8884);
	ck_assert_str_eq(m->client_id, "board-7");
	ck_assert_str_eq(m->username, "board7");
	ck_assert_str_eq(m->password, SECRET);
	ck_assert_int_eq(m->keepalive, 45);
	ck_assert_int_eq(m->qos, 2);
	ck_assert_int_eq(m->protocol, PROTOCOL_V311);
	ck_assert_str_eq(m->base_topic, "lab/b7");
	ck_assert_int_eq(m->reconnect_delay_max, 120);
	ck_assert_int_eq(m->source_line, 1);
	ck_assert(m->tls.enabled);
	ck_assert_str_eq(m->tls.ca_file, ca);
	ck_assert_str_eq(m->tls.ca_path, tmpdir);
	ck_assert_str_eq(m->tls.cert_file, cert);
	ck_assert_str_eq(m->tls.key_file, key);
	ck_assert(m->tls.insecure);
}

static void expect_full_outputs(const struct cfg_line *relay, const struct cfg_line *buzzer)
{
	ck_assert(relay->output);
	ck_assert_str_eq(relay->name, "relay");
	ck_assert_ptr_null(relay->line_name);
	ck_assert_uint_eq(relay->offset, 17);
	ck_assert_str_eq(relay->chip, "gpiochip0");
	expect_commands(relay, "lab/relay/c");
	ck_assert_str_eq(relay->state_topic, "lab/r");
	ck_assert(relay->active_low);
	ck_assert_int_eq(relay->initial, 1);
	ck_assert_int_eq(relay->drive, GPIO_DRIVE_OPEN_DRAIN);
	ck_assert_int_eq(relay->bias, GPIO_BIAS_PULL_DOWN);
	ck_assert_str_eq(relay->payload_on, "1");
	ck_assert_str_eq(relay->payload_off, "0");
	ck_assert(!relay->retain);
	ck_assert_int_eq(relay->source_line, 9);
	ck_assert(buzzer->output);
	ck_assert_str_eq(buzzer->line_name, "BUZZ");
	ck_assert_int_eq(buzzer->drive, GPIO_DRIVE_OPEN_SOURCE);
	ck_assert_int_eq(buzzer->bias, GPIO_BIAS_DISABLED);
	ck_assert_int_eq(buzzer->initial, 0);
	expect_commands(buzzer, "lab/b7/output/buzzer/set");
	ck_assert_int_eq(buzzer->source_line, 12);
}

static void expect_full_input(const struct cfg_line *button)
{
	ck_assert(!button->output);
	ck_assert_str_eq(button->name, "button");
	ck_assert_str_eq(button->line_name, "BTN");
	ck_assert_str_eq(button->chip, "pinctrl-rp1");
	ck_assert_str_eq(button->state_topic, "lab/bt");
	ck_assert_uint_eq(button->n_commands, 0);
	ck_assert_int_eq(button->bias, GPIO_BIAS_PULL_UP);
	ck_assert(button->active_low);
	ck_assert_uint_eq(button->debounce_ms, 25);
	ck_assert_str_eq(button->payload_on, "pressed");
	ck_assert_str_eq(button->payload_off, "released");
	ck_assert(!button->retain);
	ck_assert_int_eq(button->source_line, 16);
}

START_TEST(test_every_key_is_read)
{
	char *ca = write_temp("ca\n"), *cert = write_temp("cert\n"), *key = write_temp("key\n");
	struct load l;

	loadf(&l, full_config, ca, tmpdir, cert, key);
	expect_loaded(&l);
	expect_full_mqtt(&l.cfg.mqtt, ca, cert, key);
	ck_assert_str_eq(l.cfg.status_topic, "lab/b7/status");
	ck_assert_str_eq(l.cfg.error_topic, "lab/b7/error");
	ck_assert_uint_eq(l.cfg.n_lines, 3);
	ck_assert_uint_eq(l.cfg.n_outputs, 2);
	expect_full_outputs(&l.cfg.lines[0], &l.cfg.lines[1]);
	expect_full_input(&l.cfg.lines[2]);
	load_done(&l);
	free(ca);
	free(cert);
	free(key);
}
END_TEST

START_TEST(test_every_choice)
{
	static const char *const bias[] = { "as-is", "disabled", "pull-up", "pull-down" };
	static const enum gpio_bias bias_value[] = { GPIO_BIAS_AS_IS, GPIO_BIAS_DISABLED,
						     GPIO_BIAS_PULL_UP, GPIO_BIAS_PULL_DOWN };
	static const char *const drive[] = { "push-pull", "open-drain", "open-source" };
	static const enum gpio_drive drive_value[] = { GPIO_DRIVE_PUSH_PULL, GPIO_DRIVE_OPEN_DRAIN,
						       GPIO_DRIVE_OPEN_SOURCE };
	struct load l;

	for (int i = 0; i < 4; i++) {
		loadf(&l, "outputs = ( { name = \"o\"; line = \"L\"; bias = \"%s\"; drive = \"%s\";"
			  " initial = \"%s\"; } );\n"
			  "inputs = ( { name = \"i\"; line = \"M\"; bias = \"%s\"; } );\n",
		      bias[i], drive[i % 3], i % 2 ? "on" : "off", bias[i]);
		expect_loaded(&l);
		ck_assert_int_eq(l.cfg.lines[0].bias, bias_value[i]);
		ck_assert_int_eq(l.cfg.lines[0].drive, drive_value[i % 3]);
		ck_assert_int_eq(l.cfg.lines[0].initial, i % 2);
		ck_assert_int_eq(l.cfg.lines[1].bias, bias_value[i]);
		load_done(&l);
	}
}
END_TEST

START_TEST(test_range_limits_are_accepted)
{
	struct load l;

	load(&l, "mqtt = { port = 1; keepalive = 10; qos = 0; reconnect_delay_max = 1; };\n"
		 "inputs = ( { name = \"i\"; line = \"L\"; debounce_ms = 0; } );\n");
	expect_loaded(&l);
	ck_assert_int_eq(l.cfg.mqtt.port, 1);
	ck_assert_int_eq(l.cfg.mqtt.keepalive, 10);
	ck_assert_int_eq(l.cfg.mqtt.qos, 0);
	ck_assert_int_eq(l.cfg.mqtt.reconnect_delay_max, 1);
	ck_assert_uint_eq(l.cfg.lines[0].debounce_ms, 0);
	load_done(&l);
	load(&l, "mqtt = { port = 65535; keepalive = 65535; qos = 2;\n"
		 "  reconnect_delay_max = 3600; };\n"
		 "inputs = ( { name = \"i\"; line = 65535; chip = \"c\";\n"
		 "  debounce_ms = 60000; } );\n");
	expect_loaded(&l);
	ck_assert_int_eq(l.cfg.mqtt.port, 65535);
	ck_assert_int_eq(l.cfg.mqtt.keepalive, 65535);
	ck_assert_int_eq(l.cfg.mqtt.qos, 2);
	ck_assert_int_eq(l.cfg.mqtt.reconnect_delay_max, 3600);
	ck_assert_uint_eq(l.cfg.lines[0].debounce_ms, 60000);
	ck_assert_uint_eq(l.cfg.lines[0].offset, 65535);
	load_done(&l);
}
END_TEST

/* --- the password file --- */

static void expect_password_from_file(const char *content, const char *password)
{
	char *file = write_temp(content);
	struct load l;

	loadf(&l, "mqtt = { username = \"u\"; password_file = \"%s\"; };\n", file);
	expect_loaded(&l);
	ck_assert_str_eq(l.cfg.mqtt.password, password);
	load_done(&l);
	free(file);
}

START_TEST(test_password_file)
{
	expect_password_from_file("pw-from-file\n", "pw-from-file");
	expect_password_from_file("no-newline", "no-newline");
	expect_password_from_file("dos-line\r\n", "dos-line");
	expect_password_from_file("first\nsecond\n", "first");
	expect_password_from_file("with spaces inside\n", "with spaces inside");
}
END_TEST

START_TEST(test_password_file_problems)
{
	char *empty = write_temp(""), *blank = write_temp("\n");
	struct load l;

	loadf(&l, "mqtt = {\n  username = \"u\";\n  password_file = \"%s/missing\";\n};\n", tmpdir);
	expect_error(&l, 3, "password_file");
	load_done(&l);
	loadf(&l, "mqtt = {\n  username = \"u\";\n  password_file = \"%s\";\n};\n", empty);
	expect_error(&l, 3, "password_file");
	load_done(&l);
	loadf(&l, "mqtt = {\n  username = \"u\";\n  password_file = \"%s\";\n};\n", blank);
	expect_error(&l, 3, "password_file");
	load_done(&l);
	loadf(&l, "mqtt = {\n  username = \"u\";\n  password_file = \"%s\";\n};\n", tmpdir);
	expect_error(&l, 3, "Is a directory");
	load_done(&l);
	free(empty);
	free(blank);
}
END_TEST

/* libconfig would end the process on an unreadable @include. */
START_TEST(test_include_refused)
{
	expect_only_error("outputs = ();\n  @include \".\"\n", 2, "@include is not supported");
}
END_TEST

START_TEST(test_empty_client_id)
{
	expect_only_error("mqtt = {\n  client_id = \"\";\n};\n", 2, "client_id");
}
END_TEST

/* A bad value is reported on the line of its key, not of its group. */
START_TEST(test_error_on_the_line_of_the_key)
{
	expect_only_error("mqtt = {\n  host = \"x\";\n  base_topic = \"a/#\";\n};\n", 3,
			  "base_topic");
	expect_only_error("inputs = ( {\n  name = \"a\";\n  line = \"L\";\n"
			  "  state_topic = \"x/+\";\n} );\n",
			  4, "state_topic");
	expect_only_error("inputs = ( {\n  name = \"a\";\n  line = \"L\";\n"
			  "  payload_off = \"\";\n} );\n",
			  4, "payload_off");
	expect_only_error("outputs = ( {\n  name = \"a\";\n  line = \"L\";\n"
			  "  command_topic = \"\";\n} );\n",
			  4, "command_topic");
}
END_TEST

/* 1024 bytes are the most a password may have; more is refused, not cut. */
START_TEST(test_password_file_too_long)
{
	char longest[1024 + 2], too_long[1025 + 2], *file;
	struct load l;

	memset(longest, 'p', 1024);
	strcpy(longest + 1024, "\n");
	memset(too_long, 'p', 1025);
	strcpy(too_long + 1025, "\n");
	file = write_temp(longest);
	loadf(&l, "mqtt = { username = \"u\"; password_file = \"%s\"; };\n", file);
	expect_loaded(&l);
	ck_assert_uint_eq(strlen(l.cfg.mqtt.password), 1024);
	load_done(&l);
	free(file);
	file = write_temp(too_long);
	loadf(&l, "mqtt = {\n  username = \"u\";\n  password_file = \"%s\";\n};\n", file);
	expect_error(&l, 3, "longer than 1024");
	load_done(&l);
	free(file);
}
END_TEST

START_TEST(test_password_and_password_file_conflict)
{
	char *file = write_temp("other\n");
	struct load l;

	loadf(&l, "mqtt = { username = \"u\"; password = \"p\"; password_file = \"%s\"; };\n",
	      file);
	expect_error(&l, 1, "password_file");
	load_done(&l);
	free(file);
}
END_TEST

/* The secret must not reach the error stream whatever else is wrong. */
static const char *const leaky_configs[] = {
	"mqtt = { username = \"u\"; password = \"" SECRET "\"; port = 0; };\n",
	"mqtt = { username = \"u\"; password = \"" SECRET "\"; bogus = 1; };\n",
	"mqtt = { password = \"" SECRET "\"; };\n",
	"mqtt = { username = \"u\"; password = \"" SECRET "\" extra; };\n",
	"mqtt = { username = \"u\"; password = \"" SECRET "\";\n",
	"mqtt = { username = \"u\"; password = [ \"" SECRET "\" ]; };\n",
	"mqtt = { username = \"u\"; password = ( \"" SECRET "\" ); };\n",
	"mqtt = { username = \"u\"; password = { p = \"" SECRET "\"; }; };\n",
	"mqtt = { username = \"u\"; password = \"" SECRET "\"; tls = { ca_file = \"/no\"; }; };\n",
	"mqtt = { tls = { password = \"" SECRET "\"; }; };\n",
	"password = \"" SECRET "\";\n",
	"outputs = ( { name = \"led\"; line = \"L\"; password = \"" SECRET "\"; } );\n",
	"mqtt = { username = \"u\"; password = \"" SECRET "\"; };\n"
	"outputs = ( { name = \"a b\"; line = 3; bias = \"up\"; } );\n",
};

START_TEST(test_password_never_in_errors)
{
	struct load l;

	for (size_t i = 0; i < sizeof(leaky_configs) / sizeof(leaky_configs[0]); i++) {
		load(&l, leaky_configs[i]);
		ck_assert_int_eq(l.rc, -1);
		ck_assert_uint_gt(l.errors_len, 0);
		ck_assert_msg(!strstr(l.errors, "s3cret"), "secret leaked:\n%s", l.errors);
		load_done(&l);
	}
}
END_TEST

START_TEST(test_password_file_content_never_in_errors)
{
	char *file = write_temp(SECRET "\n");
	struct load l;

	loadf(&l, "mqtt = { username = \"u\"; password = \"p\"; password_file = \"%s\"; };\n",
	      file);
	ck_assert_int_eq(l.rc, -1);
	ck_assert_msg(!strstr(l.errors, "s3cret"), "secret leaked:\n%s", l.errors);
	load_done(&l);
	loadf(&l, "mqtt = { password_file = \"%s\"; port = 99999; keepalive = 1; };\n", file);
	ck_assert_int_eq(l.rc, -1);
	ck_assert_msg(!strstr(l.errors, "s3cret"), "secret leaked:\n%s", l.errors);
	load_done(&l);
	free(file);
}
END_TEST

/* --- errors and their lines --- */

START_TEST(test_missing_mapping_file)
{
	struct load l = { 0 };
	FILE *errors = open_memstream(&l.errors, &l.errors_len);

	ck_assert_int_ne(asprintf(&l.path, "%s/does-not-exist.conf", tmpdir), -1);
	l.rc = config_load(&l.cfg, l.path, errors);
	fclose(errors);
	ck_assert_int_eq(l.rc, -1);
	ck_assert_ptr_null(l.cfg.lines);
	ck_assert_ptr_null(l.cfg.mqtt.host);
	ck_assert_msg(strncmp(l.errors, l.path, strlen(l.path)) == 0 &&
			      l.errors[strlen(l.path)] == ':',
		      "error does not name the file:\n%s", l.errors);
	load_done(&l);
}
END_TEST

/* Reads path (written by the test) and expects one error, at line. */
static void expect_unreadable(const char *path, int line, const char *fragment)
{
	struct load l = { 0 };
	FILE *errors = open_memstream(&l.errors, &l.errors_len);

	l.path = strdup(path);
	l.rc = config_load(&l.cfg, l.path, errors);
	fclose(errors);
	expect_error(&l, line, fragment);
	ck_assert_uint_eq(error_count(&l), 1);
	load_done(&l);
}

/* libconfig would stop at the NUL and take what came before for the file. */
START_TEST(test_nul_byte_refused)
{
	static const char text[] = "outputs = ();\n\ninputs = (); \0 inputs = 5;\n";
	char *path;
	FILE *f;

	ck_assert_int_ne(asprintf(&path, "%s/nul.conf", tmpdir), -1);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
	ck_assert_int_eq(fclose(f), 0);
	expect_unreadable(path, 3, "NUL byte");
	unlink(path);
	free(path);
}
END_TEST

/* Longer than the first read of the file. */
START_TEST(test_long_file)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	struct load l;

	ck_assert_ptr_nonnull(f);
	fputs("outputs = (\n", f);
	for (int i = 0; i < 1000; i++)
		fprintf(f, "%s{ name = \"o%d\"; chip = \"c\"; line = %d; }\n", i ? ", " : "", i, i);
	fputs(");\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_gt(size, 32768);
	load(&l, text);
	expect_loaded(&l);
	ck_assert_uint_eq(l.cfg.n_lines, 1000);
	ck_assert_str_eq(l.cfg.lines[999].name, "o999");
	load_done(&l);
	free(text);
}
END_TEST

START_TEST(test_directory_refused)
{
	expect_unreadable(tmpdir, 0, "cannot read the mapping file");
}
END_TEST

START_TEST(test_syntax_error)
{
	expect_only_error("mqtt = {\n"	     /* 1 */
			  "  host = \"h\";\n" /* 2 */
			  "  port = = 1883;\n" /* 3 */
			  "};\n",
			  3, "syntax error");
	expect_only_error("# comment\n"
			  "\n"
			  "outputs = ( { name = \"a\"; line = ; } );\n",
			  3, "syntax error");
}
END_TEST

/* setting, on line 2 of the mqtt group, is the only problem. */
static void expect_mqtt_error(const char *setting, const char *fragment)
{
	char *text;

	ck_assert_int_ne(asprintf(&text, "mqtt = {\n  %s;\n};\n", setting), -1);
	expect_only_error(text, 2, fragment);
	free(text);
}

/* setting, on line 4 of an entry of list, is the only problem. */
static void expect_entry_error(const char *list, const char *setting, const char *fragment)
{
	char *text;

	ck_assert_int_ne(asprintf(&text, "%s = ( {\n  name = \"a\";\n  line = \"L\";\n"
				  "  %s;\n} );\n", list, setting),
			 -1);
	expect_only_error(text, 4, fragment);
	free(text);
}

START_TEST(test_wrong_types)
{
	expect_only_error("mqtt = 5;\n", 1, "'mqtt'");
	expect_mqtt_error("host = 5", "'host'");
	expect_mqtt_error("port = \"1883\"", "'port'");
	expect_mqtt_error("port = 1883.0", "'port'");
	expect_mqtt_error("keepalive = true", "'keepalive'");
	expect_mqtt_error("qos = \"1\"", "'qos'");
	expect_mqtt_error("tls = \"yes\"", "'tls'");
	expect_only_error("mqtt = {\n  tls = {\n    insecure = \"yes\";\n  };\n};\n", 3,
			  "'insecure'");
	expect_only_error("\noutputs = { name = \"a\"; line = \"L\"; };\n", 2, "'outputs'");
	expect_only_error("inputs = (\n  5\n);\n", 2, "'inputs'");
	expect_entry_error("outputs", "active_low = 1", "'active_low'");
	expect_entry_error("outputs", "retain = \"no\"", "'retain'");
	expect_entry_error("inputs", "debounce_ms = \"10\"", "'debounce_ms'");
	expect_entry_error("inputs", "bias = 1", "'bias'");
	expect_only_error("outputs = ( {\n  name = \"a\";\n  line = 1.5;\n} );\n", 3, "'line'");
}
END_TEST

START_TEST(test_wrong_type_of_name_or_topic)
{
	struct load l;

	load(&l, "outputs = ( {\n  name = 5;\n  line = \"L\";\n} );\n");
	expect_error(&l, 2, "'name'");
	load_done(&l);
	load(&l, "outputs = ( {\n  name = \"a\";\n  line = \"L\";\n  command_topic = 5;\n} );\n");
	expect_error(&l, 4, "'command_topic'");
	load_done(&l);
}
END_TEST

START_TEST(test_unknown_keys)
{
	expect_only_error("mqtt = { host = \"h\"; };\n"
			  "output = ( { name = \"a\"; line = \"L\"; } );\n",
			  2, "'output'");
	expect_mqtt_error("hostname = \"h\"", "'hostname'");
	expect_only_error("mqtt = {\n  tls = {\n    ca_file = \"/\";\n    cafile = \"x\";\n"
			  "  };\n};\n",
			  4, "'cafile'");
	expect_entry_error("outputs", "debounce_ms = 5", "'debounce_ms'");
	expect_entry_error("inputs", "initial = \"on\"", "'initial'");
	expect_entry_error("inputs", "command_topic = \"x/y\"", "'command_topic'");
}
END_TEST

START_TEST(test_bad_choices)
{
	expect_entry_error("outputs", "bias = \"pullup\"", "\"pullup\"");
	expect_entry_error("inputs", "bias = \"Pull-Up\"", "'bias'");
	expect_entry_error("outputs", "drive = \"open_drain\"", "'drive'");
	expect_entry_error("outputs", "initial = \"high\"", "'initial'");
	expect_entry_error("outputs", "initial = \"\"", "'initial'");
	expect_mqtt_error("protocol = \"3\"", "\"3\", must be one of: auto, 5, 3.1.1");
	expect_mqtt_error("protocol = \"mqttv5\"", "'protocol'");
	expect_mqtt_error("protocol = 5", "'protocol' must be a string");
}
END_TEST

START_TEST(test_out_of_range)
{
	expect_mqtt_error("port = 0", "'port'");
	expect_mqtt_error("port = 65536", "'port'");
	expect_mqtt_error("port = -1", "'port'");
	/* 2^32 + 1883 would be 1883 if cut to 32 bits */
	expect_mqtt_error("port = 4294969179L", "'port'");
	expect_mqtt_error("qos = 3", "'qos'");
	expect_mqtt_error("qos = -1", "'qos'");
	expect_mqtt_error("keepalive = 9", "'keepalive'");
	expect_mqtt_error("keepalive = 65536", "'keepalive'");
	expect_mqtt_error("reconnect_delay_max = 0", "'reconnect_delay_max'");
	expect_mqtt_error("reconnect_delay_max = 3601", "'reconnect_delay_max'");
	expect_entry_error("inputs", "debounce_ms = 60001", "'debounce_ms'");
	expect_entry_error("inputs", "debounce_ms = -1", "'debounce_ms'");
	expect_only_error("outputs = ( {\n  name = \"a\";\n  chip = \"c\";\n  line = -1;\n"
			  "} );\n",
			  4, "'line'");
	expect_only_error("outputs = ( {\n  name = \"a\";\n  chip = \"c\";\n  line = 65536;\n"
			  "} );\n",
			  4, "'line'");
}
END_TEST

START_TEST(test_duplicate_names)
{
	struct load l;

	load(&l, "outputs = (\n"		       /* 1 */
		 "  { name = \"led\"; line = \"A\"; }\n" /* 2 */
		 ");\n"				       /* 3 */
		 "inputs = (\n"			       /* 4 */
		 "  { name = \"led\"; line = \"B\"; }\n" /* 5 */
		 ");\n");
	expect_error(&l, 5, "\"led\"");
	expect_error(&l, 5, "line 2");
	ck_assert_uint_eq(error_count(&l), 1);
	load_done(&l);
	load(&l, "outputs = (\n"
		 "  { name = \"led\"; line = \"A\"; },\n"
		 "  { name = \"fan\"; line = \"B\"; },\n"
		 "  { name = \"led\"; line = \"C\"; command_topic = \"x/led\";\n"
		 "    state_topic = \"x/led/state\"; }\n"
		 ");\n");
	expect_error(&l, 4, "\"led\"");
	expect_error(&l, 4, "line 2");
	ck_assert_uint_eq(error_count(&l), 1);
	load_done(&l);
}
END_TEST

START_TEST(test_duplicate_command_topics)
{
	struct load l;

	load(&l, "outputs = (\n"
		 "  { name = \"a\"; line = \"A\"; command_topic = \"home/led\"; },\n"
		 "  { name = \"b\"; line = \"B\"; },\n"
		 "  { name = \"c\"; line = \"C\"; command_topic = \"home/led\"; }\n"
		 ");\n");
	expect_error(&l, 4, "\"home/led\"");
	expect_error(&l, 4, "line 2");
	ck_assert_uint_eq(error_count(&l), 1);
	load_done(&l);
}
END_TEST

START_TEST(test_topic_clashes)
{
	/* the same state topic twice */
	expect_only_error("outputs = ( { name = \"a\"; line = \"A\"; state_topic = \"s\"; } );\n"
			  "inputs = ( { name = \"b\"; line = \"B\"; state_topic = \"s\"; } );\n",
			  2, "\"s\"");
	/* a state topic that is another output's command topic */
	expect_only_error("outputs = ( { name = \"a\"; line = \"A\"; command_topic = \"c\"; } );\n"
			  "inputs = ( { name = \"b\"; line = \"B\"; state_topic = \"c\"; } );\n",
			  2, "\"c\"");
	/* the daemon's own topics */
	expect_only_error("inputs = ( { name = \"b\"; line = \"B\";\n"
			  "  state_topic = \"gpio2mqtt/status\"; } );\n",
			  1, "gpio2mqtt/status");
	expect_only_error("outputs = ( { name = \"a\"; line = \"A\";\n"
			  "  command_topic = \"gpio2mqtt/error\"; } );\n",
			  1, "gpio2mqtt/error");
	/* command and state topic of one output */
	expect_only_error("outputs = ( { name = \"a\"; line = \"A\"; command_topic = \"t\";"
			  " state_topic = \"t\"; } );\n",
			  1, "command_topic");
}
END_TEST

START_TEST(test_same_line_twice)
{
	expect_only_error("outputs = ( { name = \"a\"; chip = \"c\"; line = 4; } );\n"
			  "inputs = ( { name = \"b\"; chip = \"c\"; line = 4; } );\n",
			  2, "line 1");
	expect_only_error("outputs = (\n  { name = \"a\"; line = \"LED\"; },\n"
			  "  { name = \"b\"; line = \"LED\"; }\n);\n",
			  3, "line 2");
}
END_TEST

START_TEST(test_different_lines_do_not_clash)
{
	struct load l;

	/* By name and by offset only lineset can tell whether they meet. */
	load(&l, "outputs = ( { name = \"a\"; chip = \"c\"; line = 4; },\n"
		 "  { name = \"b\"; chip = \"c\"; line = \"4\"; },\n"
		 "  { name = \"d\"; chip = \"c\"; line = 40; },\n"
		 "  { name = \"e\"; chip = \"c4\"; line = 0; },\n"
		 "  { name = \"f\"; chip = \"c\"; line = 0; },\n"
		 "  { name = \"g\"; line = \"4\"; } );\n");
	ck_assert_msg(l.rc == 0, "%s", l.errors);
	ck_assert_uint_eq(l.cfg.n_lines, 6);
	load_done(&l);
}
END_TEST

START_TEST(test_offset_needs_chip)
{
	expect_only_error("outputs = (\n"	   /* 1 */
			  "  {\n"		   /* 2 */
			  "    name = \"relay\";\n" /* 3 */
			  "    line = 17;\n"	   /* 4 */
			  "  }\n"
			  ");\n",
			  4, "'chip'");
}
END_TEST

START_TEST(test_wildcards_in_topics)
{
	expect_only_error("outputs = (\n"
			  "  { name = \"a\"; line = \"A\"; command_topic = \"home/+/set\"; }\n"
			  ");\n",
			  2, "\"home/+/set\"");
	expect_only_error("outputs = (\n"
			  "  { name = \"a\"; line = \"A\"; state_topic = \"home/#\"; }\n"
			  ");\n",
			  2, "\"home/#\"");
	expect_only_error("\ninputs = ( { name = \"b\"; line = \"B\"; state_topic = \"+\"; } );\n",
			  2, "\"+\"");
	expect_only_error("inputs = ( { name = \"b\"; line = \"B\"; state_topic = \"\"; } );\n", 1,
			  "state_topic");
}
END_TEST

START_TEST(test_wildcard_in_base_topic)
{
	struct load l;

	load(&l, "# the broker\nmqtt = { base_topic = \"gpio/#\"; };\n");
	expect_error(&l, 2, "\"gpio/#\"");
	load_done(&l);
}
END_TEST

START_TEST(test_names)
{
	expect_only_error("outputs = (\n"
			  "  { name = \"a\"; line = \"A\"; },\n"
			  "  { line = \"B\"; command_topic = \"b/set\"; }\n"
			  ");\n",
			  3, "'name'");
	expect_only_error("inputs = ( { line = \"B\"; state_topic = \"b\"; } );\n", 1, "'name'");
	expect_only_error("outputs = (\n  {\n    name = \"my led\";\n    line = \"A\";\n"
			  "    command_topic = \"c\"; state_topic = \"s\";\n  }\n);\n",
			  3, "\"my led\"");
	expect_only_error("inputs = (\n  {\n    name = \"a/b\";\n    line = \"A\";\n"
			  "    state_topic = \"s\";\n  }\n);\n",
			  3, "\"a/b\"");
}
END_TEST

START_TEST(test_line_missing_or_empty)
{
	expect_only_error("outputs = (\n  { name = \"a\"; chip = \"c\"; }\n);\n", 2, "'line'");
	expect_only_error("outputs = (\n  {\n    name = \"a\";\n    line = \"\";\n  }\n);\n", 4,
			  "'line'");
}
END_TEST

START_TEST(test_payload_words)
{
	expect_only_error("inputs = ( { name = \"a\"; line = \"L\"; payload_on = \"\"; } );\n", 1,
			  "'payload_on'");
	expect_only_error("outputs = ( { name = \"a\"; line = \"L\"; payload_off = \"\"; } );\n", 1,
			  "'payload_off'");
	expect_only_error("inputs = (\n  { name = \"a\"; line = \"L\";\n"
			  "    payload_off = \"\"; } );\n",
			  3, "'payload_off'");
}
END_TEST

START_TEST(test_tls_files)
{
	char *cert = write_temp("cert\n");
	struct load l;

	loadf(&l, "mqtt = {\n  tls = {\n    ca_file = \"%s/no-ca.pem\";\n  };\n};\n", tmpdir);
	expect_error(&l, 3, "ca_file");
	load_done(&l);
	loadf(&l, "mqtt = {\n  tls = {\n    ca_path = \"%s/no-certs\";\n  };\n};\n", tmpdir);
	expect_error(&l, 3, "ca_path");
	load_done(&l);
	loadf(&l, "mqtt = {\n  tls = {\n    cert_file = \"%s\";\n    key_file = \"%s/no.key\";\n"
		  "  };\n};\n",
	      cert, tmpdir);
	expect_error(&l, 4, "key_file");
	load_done(&l);
	loadf(&l, "mqtt = {\n  tls = {\n    cert_file = \"%s/no.crt\";\n    key_file = \"%s\";\n"
		  "  };\n};\n",
	      tmpdir, cert);
	expect_error(&l, 3, "cert_file");
	load_done(&l);
	loadf(&l, "mqtt = {\n  tls = {\n    cert_file = \"%s\";\n  };\n};\n", cert);
	ck_assert_int_eq(l.rc, -1);
	ck_assert_msg(strstr(l.errors, "key_file"), "no error about key_file:\n%s", l.errors);
	load_done(&l);
	free(cert);
}
END_TEST

START_TEST(test_every_problem_is_reported)
{
	struct load l;

	load(&l, "mqtt = {\n"		  /* 1 */
		 "  port = 0;\n"	  /* 2 */
		 "  qos = 7;\n"		  /* 3 */
		 "};\n"			  /* 4 */
		 "outputs = ( {\n"	  /* 5 */
		 "  name = \"a\";\n"	  /* 6 */
		 "  line = \"L\";\n"	  /* 7 */
		 "  drive = \"strong\";\n" /* 8 */
		 "} );\n"		  /* 9 */
		 "bogus = 1;\n");	  /* 10 */
	expect_error(&l, 2, "'port'");
	expect_error(&l, 3, "'qos'");
	expect_error(&l, 8, "'drive'");
	expect_error(&l, 10, "'bogus'");
	ck_assert_uint_eq(error_count(&l), 4);
	load_done(&l);
}
END_TEST

/* --- config_mqtt_equal --- */

START_TEST(test_mqtt_equal_across_reloads)
{
	struct load a, b;

	load(&a, "mqtt = { host = \"h\"; username = \"u\"; password = \"p\"; tls = { }; };\n"
		 "outputs = ( { name = \"led\"; line = \"A\"; } );\n");
	load(&b, "# moved down, outputs changed\n"
		 "mqtt = { tls = { }; password = \"p\"; username = \"u\"; host = \"h\"; };\n"
		 "inputs = ( { name = \"button\"; line = \"B\"; } );\n");
	expect_loaded(&a);
	expect_loaded(&b);
	ck_assert(config_mqtt_equal(&a.cfg.mqtt, &b.cfg.mqtt));
	ck_assert(config_mqtt_equal(&b.cfg.mqtt, &a.cfg.mqtt));
	load_done(&b);
	load(&b, "mqtt = { host = \"h\"; username = \"u\"; password = \"q\"; tls = { }; };\n");
	expect_loaded(&b);
	ck_assert(!config_mqtt_equal(&a.cfg.mqtt, &b.cfg.mqtt));
	load_done(&b);
	load_done(&a);
}
END_TEST

/* --- one mapping for many boards --- */

/* What %h stands for here: the short host name. */
static void short_host(char *out, size_t size)
{
	char host[256] = "";

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	host[strcspn(host, ".")] = '\0';
	snprintf(out, size, "%s", host);
}

START_TEST(test_host_name_in_ids_and_topics)
{
	struct load l;
	char host[256], want[600];

	short_host(host, sizeof(host));
	load(&l, "mqtt = { client_id = \"gpio2mqtt-%h\"; base_topic = \"class/%h\"; };\n"
		 "outputs = ( { name = \"led\"; line = \"L\";\n"
		 "  command_topic = ( \"class/all/led\", \"class/%h/led\" ); } );\n"
		 "inputs = ( { name = \"b\"; line = \"B\"; state_topic = \"class/%h/b%%\"; } );\n");
	ck_assert_msg(l.rc == 0, "%s", l.errors);
	snprintf(want, sizeof(want), "gpio2mqtt-%s", host);
	ck_assert_str_eq(l.cfg.mqtt.client_id, want);
	snprintf(want, sizeof(want), "class/%s/status", host);
	ck_assert_str_eq(l.cfg.status_topic, want);
	ck_assert_uint_eq(l.cfg.lines[0].n_commands, 2);
	ck_assert_str_eq(l.cfg.lines[0].command_topics[0], "class/all/led");
	snprintf(want, sizeof(want), "class/%s/led", host);
	ck_assert_str_eq(l.cfg.lines[0].command_topics[1], want);
	snprintf(want, sizeof(want), "class/%s/output/led", host);
	ck_assert_str_eq(l.cfg.lines[0].state_topic, want);
	snprintf(want, sizeof(want), "class/%s/b%%", host);
	ck_assert_str_eq(l.cfg.lines[1].state_topic, want);
	load_done(&l);
}
END_TEST

START_TEST(test_machine_id_in_topics)
{
	char text[64] = "", id[13];
	FILE *f = fopen("/etc/machine-id", "r");
	bool known = f && fgets(text, sizeof(text), f) && strspn(text, "0123456789abcdef") >= 12;
	struct load l;

	if (f)
		fclose(f);
	load(&l, "mqtt = { base_topic = \"fleet/%m\"; };\n");
	if (!known) {
		expect_error(&l, 1, "/etc/machine-id");
		load_done(&l);
		return;
	}
	snprintf(id, sizeof(id), "%.12s", text);
	ck_assert_msg(l.rc == 0, "%s", l.errors);
	ck_assert_str_eq(l.cfg.mqtt.base_topic + strlen("fleet/"), id);
	load_done(&l);
}
END_TEST

START_TEST(test_bad_variables_refused_at_their_line)
{
	expect_mqtt_error("client_id = \"board-%n\"", "'client_id' \"board-%n\": unknown '%'");
	expect_mqtt_error("base_topic = \"class/%\"", "'base_topic'");
	expect_entry_error("outputs", "command_topic = \"a/%q\"", "'command_topic' \"a/%q\"");
	expect_entry_error("outputs", "command_topic = ( \"a/x\", \"a/%z\" )", "\"a/%z\"");
	expect_entry_error("inputs", "state_topic = \"s/%H\"", "'state_topic'");
	expect_mqtt_error("client_id = \"a b\"", "spaces or control characters");
}
END_TEST

START_TEST(test_command_topic_lists)
{
	expect_entry_error("outputs", "command_topic = ( )", "a topic or a list of topics");
	expect_entry_error("outputs", "command_topic = ( \"a/b\", 5 )", "entry 2 is not a string");
	expect_only_error("outputs = ( { name = \"a\"; line = \"A\";\n"
			  "  command_topic = [ \"a/b\", \"a/b\" ]; } );\n",
			  1, "command_topic \"a/b\" is listed twice");
	expect_entry_error("outputs", "command_topic = ( \"a/b\", \"a/+\" )", "not a valid topic");
	expect_only_error("outputs = (\n"
			  "  { name = \"a\"; line = \"A\"; command_topic = ( \"all/x\", \"a/x\" ); },\n"
			  "  { name = \"b\"; line = \"B\"; command_topic = ( \"all/x\", \"b/x\" ); }\n"
			  ");\n",
			  3, "command_topic \"all/x\" is already used at line 2");
	expect_only_error("outputs = ( { name = \"a\"; line = \"A\";\n"
			  "  command_topic = ( \"t/set\", \"t\" ); state_topic = \"t\"; } );\n",
			  1, "must differ");
}
END_TEST

START_TEST(test_hosts_list)
{
	char text[128];
	struct load l;
	const struct cfg_mqtt *m = &l.cfg.mqtt;

	load(&l, "mqtt = { port = 1884;\n"
		 "  hosts = ( \"node-a\", \"node-b:1885\", \"[::1]:1886\", \"::1\", \"[fe80::1]\" ); };\n");
	ck_assert_msg(l.rc == 0, "%s", l.errors);
	ck_assert_uint_eq(m->n_nodes, 5);
	ck_assert_str_eq(m->host, "node-a");
	ck_assert_int_eq(m->port, 1884);
	ck_assert_str_eq(m->nodes[0].host, "node-a");
	ck_assert_int_eq(m->nodes[0].port, 1884);
	ck_assert_str_eq(m->nodes[1].host, "node-b");
	ck_assert_int_eq(m->nodes[1].port, 1885);
	ck_assert_str_eq(m->nodes[2].host, "::1");
	ck_assert_int_eq(m->nodes[2].port, 1886);
	ck_assert_str_eq(m->nodes[3].host, "::1");
	ck_assert_int_eq(m->nodes[3].port, 1884);
	ck_assert_str_eq(m->nodes[4].host, "fe80::1");
	config_describe_nodes(m, text, sizeof(text));
	ck_assert_str_eq(text, "node-a:1884, node-b:1885, [::1]:1886, [::1]:1884, [fe80::1]:1884");
	config_describe_nodes(m, text, 10);
	ck_assert_str_eq(text, "node-a:18");
	load_done(&l);
	load(&l, "mqtt = { host = \"solo\"; tls = { insecure = true; }; };\n");
	ck_assert_msg(l.rc == 0, "%s", l.errors);
	ck_assert_uint_eq(m->n_nodes, 1);
	ck_assert_str_eq(m->nodes[0].host, "solo");
	ck_assert_int_eq(m->nodes[0].port, 8883);
	load_done(&l);
}
END_TEST

START_TEST(test_bad_hosts)
{
	expect_mqtt_error("hosts = ( \"a:0\" )", "entry 1: the port after ':'");
	expect_mqtt_error("hosts = ( \"a\", \"b:x\" )", "entry 2: the port");
	expect_mqtt_error("hosts = ( \"mqtt://a\" )", "without a scheme");
	expect_mqtt_error("hosts = ( \":1883\" )", "the host is empty");
	expect_mqtt_error("hosts = ( \"[::1\" )", "[address]:port");
	expect_mqtt_error("hosts = ( )", "'hosts' must be a list");
	expect_mqtt_error("hosts = \"a\"", "'hosts' must be a list");
	expect_mqtt_error("hosts = ( 5 )", "must be a string");
	expect_only_error("mqtt = {\n  host = \"a\";\n  hosts = ( \"b\" );\n};\n", 3,
			  "either host or hosts");
}
END_TEST

START_TEST(test_topics_and_hosts_that_cannot_work)
{
	expect_mqtt_error("base_topic = \"home/pi/\"", "must not start or end with '/'");
	expect_mqtt_error("base_topic = \"/home/pi\"", "must not start or end with '/'");
	expect_mqtt_error("base_topic = \"home//pi\"", "nor have '//'");
	expect_mqtt_error("host = \"mqtt://broker.lan\"", "without a scheme");
	expect_mqtt_error("host = \"broker.lan:1884\"",
			  "write the port on its own: host = \"broker.lan\"; port = 1884;");
}
END_TEST

/* --check warns about files the service (PrivateTmp, ProtectHome) cannot see. */
START_TEST(test_check_warns_about_hidden_files)
{
	static const char text[] = "mqtt = {\n  tls = {\n    ca_file = \"/tmp\";\n  };\n};\n";
	char *path = write_temp(text), *out = NULL;
	size_t len = 0;
	struct config cfg;
	FILE *errors = open_memstream(&out, &len);

	ck_assert_int_eq(config_check(&cfg, path, errors), 0); /* a warning is no error */
	config_free(&cfg);
	ck_assert_int_eq(fclose(errors), 0);
	ck_assert_msg(strstr(out, ":3: warning: ca_file \"/tmp\" is under /tmp,"), "%s", out);
	free(out);
	/* The daemon itself does not warn: config_load only. */
	errors = open_memstream(&out, &len);
	ck_assert_int_eq(config_load(&cfg, path, errors), 0);
	config_free(&cfg);
	ck_assert_int_eq(fclose(errors), 0);
	ck_assert_msg(!strstr(out, "warning"), "%s", out);
	free(out);
	unlink(path);
	free(path);
}
END_TEST

/* Copies of every string, so equality cannot rest on pointers. */
struct mqtt_strings {
	char host[8], client_id[8], username[8], password[8], base_topic[8];
	char ca_file[8], ca_path[8], cert_file[8], key_file[8];
};

static struct cfg_mqtt sample_mqtt(struct mqtt_strings *s)
{
	*s = (struct mqtt_strings){ "host", "client", "user", "pass", "base",
				    "ca",   "capath", "cert", "key" };
	return (struct cfg_mqtt){
		.host = s->host, .port = 1883, .client_id = s->client_id,
		.username = s->username, .password = s->password, .keepalive = 30,
		.qos = 1, .base_topic = s->base_topic, .reconnect_delay_max = 10,
		.tls = { .enabled = true, .ca_file = s->ca_file, .ca_path = s->ca_path,
			 .cert_file = s->cert_file, .key_file = s->key_file },
		.source_line = 3,
	};
}

/* Changes one field that matters to the connection; false past the last. */
static bool change_field(struct cfg_mqtt *m, int field, char *other)
{
	switch (field) {
	case 0: m->host = other; break;
	case 1: m->port = 1884; break;
	case 2: m->client_id = other; break;
	case 3: m->username = other; break;
	case 4: m->username = NULL; break;
	case 5: m->password = other; break;
	case 6: m->password = NULL; break;
	case 7: m->keepalive = 31; break;
	case 8: m->qos = 2; break;
	case 9: m->base_topic = other; break;
	case 10: m->reconnect_delay_max = 11; break;
	case 11: m->tls.enabled = false; break;
	case 12: m->tls.ca_file = other; break;
	case 13: m->tls.ca_file = NULL; break;
	case 14: m->tls.ca_path = other; break;
	case 15: m->tls.cert_file = other; break;
	case 16: m->tls.key_file = other; break;
	case 17: m->tls.insecure = true; break;
	case 18: m->protocol = PROTOCOL_V311; break;
	default: return false;
	}
	return true;
}

START_TEST(test_mqtt_equal_each_field)
{
	struct mqtt_strings sa, sb;
	struct cfg_mqtt a = sample_mqtt(&sa), b = sample_mqtt(&sb);
	char other[] = "other";
	int field = 0;

	ck_assert(config_mqtt_equal(&a, &b));
	b.source_line = 9;
	ck_assert(config_mqtt_equal(&a, &b));
	for (struct cfg_mqtt c = b; change_field(&c, field, other); c = b, field++) {
		ck_assert_msg(!config_mqtt_equal(&a, &c), "change %d not seen", field);
		ck_assert_msg(!config_mqtt_equal(&c, &a), "change %d not seen", field);
	}
	ck_assert_int_eq(field, 19);
	a.username = b.username = NULL;
	ck_assert(config_mqtt_equal(&a, &b));
}
END_TEST

/* Home Assistant keys a pulsed output's button "<name>_pulse": another line
 * of that name would take its place. Without discovery the names are free. */
START_TEST(test_ha_component_key_clash)
{
	static const char lines[] =
		"outputs = ( { name = \"door\"; line = \"A\"; pulse_ms = 500; },\n"
		"            { name = \"door_pulse\"; line = \"B\"; } );\n"
		"inputs = ( { name = \"bell\"; line = \"C\"; click = true; },\n"
		"           { name = \"bell_press\"; line = \"D\"; } );\n";
	struct load l;

	loadf(&l, "homeassistant = { discovery = true; };\n%s", lines);
	expect_error(&l, 3, "'door_pulse' is also the Home Assistant key");
	expect_error(&l, 5, "'bell_press' is also the Home Assistant key");
	ck_assert_uint_eq(error_count(&l), 2);
	load_done(&l);
	loadf(&l, "%s", lines);
	expect_loaded(&l);
	load_done(&l);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *values = tcase_create("values");
	TCase *secrets = tcase_create("password");
	TCase *errors = tcase_create("errors");
	TCase *equal = tcase_create("mqtt_equal");
	TCase *boards = tcase_create("boards");

	tcase_add_unchecked_fixture(values, make_tmpdir, remove_tmpdir);
	tcase_add_test(values, test_defaults);
	tcase_add_test(values, test_empty_file);
	tcase_add_test(values, test_base_topic_prefixes_default_topics);
	tcase_add_test(values, test_tls_changes_default_port);
	tcase_add_test(values, test_every_key_is_read);
	tcase_add_test(values, test_every_choice);
	tcase_add_test(values, test_range_limits_are_accepted);
	suite_add_tcase(s, values);

	tcase_add_unchecked_fixture(secrets, make_tmpdir, remove_tmpdir);
	tcase_add_test(secrets, test_password_file);
	tcase_add_test(secrets, test_password_file_problems);
	tcase_add_test(secrets, test_password_file_too_long);
	tcase_add_test(errors, test_error_on_the_line_of_the_key);
	tcase_add_test(errors, test_empty_client_id);
	tcase_add_test(errors, test_include_refused);
	tcase_add_test(errors, test_topics_and_hosts_that_cannot_work);
	tcase_add_test(errors, test_check_warns_about_hidden_files);
	tcase_add_test(secrets, test_password_and_password_file_conflict);
	tcase_add_test(secrets, test_password_never_in_errors);
	tcase_add_test(secrets, test_password_file_content_never_in_errors);
	suite_add_tcase(s, secrets);

	tcase_add_unchecked_fixture(boards, make_tmpdir, remove_tmpdir);
	tcase_add_test(boards, test_host_name_in_ids_and_topics);
	tcase_add_test(boards, test_machine_id_in_topics);
	tcase_add_test(boards, test_bad_variables_refused_at_their_line);
	tcase_add_test(boards, test_command_topic_lists);
	tcase_add_test(boards, test_hosts_list);
	tcase_add_test(boards, test_bad_hosts);
	suite_add_tcase(s, boards);

	tcase_add_unchecked_fixture(errors, make_tmpdir, remove_tmpdir);
	tcase_add_test(errors, test_missing_mapping_file);
	tcase_add_test(errors, test_nul_byte_refused);
	tcase_add_test(errors, test_directory_refused);
	tcase_add_test(errors, test_long_file);
	tcase_add_test(errors, test_syntax_error);
	tcase_add_test(errors, test_wrong_types);
	tcase_add_test(errors, test_wrong_type_of_name_or_topic);
	tcase_add_test(errors, test_unknown_keys);
	tcase_add_test(errors, test_bad_choices);
	tcase_add_test(errors, test_out_of_range);
	tcase_add_test(errors, test_duplicate_names);
	tcase_add_test(errors, test_duplicate_command_topics);
	tcase_add_test(errors, test_topic_clashes);
	tcase_add_test(errors, test_same_line_twice);
	tcase_add_test(errors, test_different_lines_do_not_clash);
	tcase_add_test(errors, test_offset_needs_chip);
	tcase_add_test(errors, test_wildcards_in_topics);
	tcase_add_test(errors, test_wildcard_in_base_topic);
	tcase_add_test(errors, test_names);
	tcase_add_test(errors, test_line_missing_or_empty);
	tcase_add_test(errors, test_payload_words);
	tcase_add_test(errors, test_tls_files);
	tcase_add_test(errors, test_every_problem_is_reported);
	tcase_add_test(errors, test_ha_component_key_clash);
	suite_add_tcase(s, errors);

	tcase_add_unchecked_fixture(equal, make_tmpdir, remove_tmpdir);
	tcase_add_test(equal, test_mqtt_equal_across_reloads);
	tcase_add_test(equal, test_mqtt_equal_each_field);
	suite_add_tcase(s, equal);
	return s;
}
