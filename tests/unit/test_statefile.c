/* SPDX-License-Identifier: MIT */
/* statefile: the file's format (round trip, odd names, every torn, truncated
 * or edited form refused whole), coalesced and atomic writes, failures that
 * do not stop anything; and the starting values lineset takes from it
 * (restore) or from the line itself (keep), on the in-memory GPIO backend. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "gpio_mem.h"
#include "lineset.h"
#include "loop.h"
#include "statefile.h"
#include "suites.h"
#include "wholefile.h"

static char dir[96], path[128];

static void tmpdir_up(void)
{
	const char *base = getenv("TMPDIR");

	/* The module warns of every bad file these tests feed it; the tests check
	 * what it did, and make check's output stays readable. */
	ck_assert_ptr_nonnull(freopen("/dev/null", "w", stderr));
	snprintf(dir, sizeof(dir), "%s/g2m-statefile.XXXXXX", base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
}

static void tmpdir_down(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* --- files as the tests write them --- */

static void write_bytes(const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* body (the lines before the checksum) with its correct checksum line. */
static void write_signed(const char *body)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s" "crc32 %08x\n", body, wholefile_crc32(body, strlen(body)));
	write_bytes(text, strlen(text));
}

/* The file's bytes (NUL-terminated, malloc'd), *len of them. */
static char *read_bytes(size_t *len)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, STATEFILE_MAX_BYTES + 1);

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(text);
	*len = fread(text, 1, STATEFILE_MAX_BYTES, f);
	fclose(f);
	return text;
}

/* Whether a file with these bytes is refused as a whole. */
static bool refused(void)
{
	struct statefile *sf = statefile_open(path, NULL);
	int value = -1;
	uint64_t count = 0;
	bool nothing = !statefile_output(sf, "lamp", &value) &&
		       !statefile_output(sf, "relay", &value) &&
		       !statefile_counter(sf, "meter", &count);

	statefile_close(sf);
	return nothing;
}

#define GOOD_BODY "gpio2mqtt-state 1\noutput lamp on\noutput relay off\ncounter meter 42\n"

/* --- format --- */

START_TEST(test_round_trip)
{
	struct loop *loop = loop_new();
	struct statefile *sf = statefile_open(path, loop);
	const char *expected = GOOD_BODY "crc32 c3a7e242\n";
	uint64_t count = 0;
	int value = -1;
	size_t len;
	char *text;

	ck_assert_ptr_nonnull(sf);
	ck_assert(!statefile_output(sf, "lamp", &value));
	statefile_set_output(sf, "relay", 0);
	statefile_set_output(sf, "lamp", 7); /* any non-zero is on */
	statefile_set_counter(sf, "meter", 42);
	ck_assert_int_eq(statefile_flush(sf), 0);
	ck_assert_uint_eq(statefile_writes(sf), 1);
	statefile_close(sf);
	text = read_bytes(&len);
	ck_assert_str_eq(text, expected); /* the documented form, sorted by name */
	free(text);

	sf = statefile_open(path, NULL);
	ck_assert(statefile_output(sf, "lamp", &value));
	ck_assert_int_eq(value, 1);
	ck_assert(statefile_output(sf, "relay", &value));
	ck_assert_int_eq(value, 0);
	ck_assert(statefile_counter(sf, "meter", &count));
	ck_assert_uint_eq(count, 42);
	ck_assert(!statefile_counter(sf, "lamp", &count)); /* kinds apart */
	ck_assert_uint_eq(statefile_writes(sf), 0);
	statefile_close(sf);
	loop_free(loop);
}
END_TEST

START_TEST(test_odd_names)
{
	static const char *const names[] = { "a b", "100%", "line\nbreak", "tab\there",
					     "Grüße", "a/b/../c", "%41", "-._", "\x7f\x01" };
	size_t n = sizeof(names) / sizeof(names[0]);
	char longest[STATEFILE_NAME_MAX + 2];
	struct statefile *sf = statefile_open(path, NULL);
	uint64_t count = 0;
	size_t len;
	char *text;

	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	for (size_t i = 0; i < n; i++)
		statefile_set_counter(sf, names[i], i + 1);
	statefile_set_counter(sf, longest, 1); /* one byte too long: not kept */
	longest[STATEFILE_NAME_MAX] = '\0';
	statefile_set_counter(sf, longest, UINT64_MAX);
	statefile_set_counter(sf, "", 3);
	statefile_set_counter(sf, NULL, 3);
	ck_assert_int_eq(statefile_flush(sf), 0);
	statefile_close(sf);

	text = read_bytes(&len);
	ck_assert_ptr_nonnull(strstr(text, "counter a%20b 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "counter Gr%C3%BC%C3%9Fe 5\n"));
	ck_assert_ptr_nonnull(strstr(text, "counter %2541 7\n"));
	ck_assert_ptr_null(strstr(text, "counter  3")); /* no empty name */
	for (size_t i = 0; i < len; i++) /* one word per name: the file stays text */
		ck_assert_msg(text[i] == '\n' || (text[i] >= ' ' && text[i] < 0x7f), "byte %zu", i);
	free(text);

	sf = statefile_open(path, NULL);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(statefile_counter(sf, names[i], &count), "%s", names[i]);
		ck_assert_uint_eq(count, i + 1);
	}
	ck_assert(statefile_counter(sf, longest, &count));
	ck_assert_uint_eq(count, UINT64_MAX);
	longest[STATEFILE_NAME_MAX] = 'x';
	ck_assert(!statefile_counter(sf, longest, &count));
	statefile_close(sf);
}
END_TEST

START_TEST(test_missing_file_is_empty)
{
	struct statefile *sf = statefile_open(path, NULL);
	int value;

	ck_assert_ptr_nonnull(sf);
	ck_assert(!statefile_output(sf, "lamp", &value));
	ck_assert_int_eq(statefile_flush(sf), 0); /* nothing to write */
	ck_assert_uint_eq(statefile_writes(sf), 0);
	statefile_close(sf);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

/* A write cut at any byte (a file system without atomic rename, a copy
 * interrupted) and any byte changed: never read, never half read. */
START_TEST(test_torn_and_edited_files_refused)
{
	const char *good = GOOD_BODY "crc32 c3a7e242\n";
	size_t len = strlen(good);
	char edited[256];

	write_bytes(good, len);
	ck_assert(!refused());
	for (size_t cut = 0; cut < len; cut++) {
		write_bytes(good, cut);
		ck_assert_msg(refused(), "cut at %zu", cut);
	}
	for (size_t i = 0; i < len; i++) {
		memcpy(edited, good, len);
		edited[i] ^= i % 2 ? 0x01 : 0x20; /* on <-> oN, 2 <-> 3 and the like */
		write_bytes(edited, len);
		ck_assert_msg(refused(), "byte %zu changed", i);
	}
	write_bytes("gpio2mqtt-state 1\noutput lamp on\ncrc32 00000000\n", 48);
	ck_assert(refused());
}
END_TEST

/* Files whose checksum is right but whose text is not exactly what the
 * daemon writes: a hostile or careless writer changes nothing. */
START_TEST(test_strict_parsing)
{
	static const char *const bodies[] = {
		"",
		"gpio2mqtt-state 2\noutput lamp on\n",
		"gpio2mqtt-state 1 \noutput lamp on\n",
		"GPIO2MQTT-STATE 1\noutput lamp on\n",
		"gpio2mqtt-state 1\noutput lamp maybe\n",
		"gpio2mqtt-state 1\noutput lamp 1\n",
		"gpio2mqtt-state 1\noutput lamp on \n",
		"gpio2mqtt-state 1\noutput  lamp on\n",
		"gpio2mqtt-state 1\noutput lamp\n",
		"gpio2mqtt-state 1\nlamp on\n",
		"gpio2mqtt-state 1\ninput lamp on\n",
		"gpio2mqtt-state 1\noutput lamp on\r\n",
		"gpio2mqtt-state 1\n\noutput lamp on\n",
		"gpio2mqtt-state 1\noutput relay off\noutput lamp on\n",   /* out of order */
		"gpio2mqtt-state 1\noutput lamp on\noutput lamp off\n",    /* twice */
		"gpio2mqtt-state 1\noutput lamp on\noutput lamp on\n",
		"gpio2mqtt-state 1\ncounter meter 042\n",
		"gpio2mqtt-state 1\ncounter meter +42\n",
		"gpio2mqtt-state 1\ncounter meter -1\n",
		"gpio2mqtt-state 1\ncounter meter 18446744073709551616\n", /* 2^64 */
		"gpio2mqtt-state 1\ncounter meter 4.2\n",
		"gpio2mqtt-state 1\ncounter meter \n",
		"gpio2mqtt-state 1\noutput la%6Dp on\n",  /* encoded but plain */
		"gpio2mqtt-state 1\noutput la%2fp on\n",  /* lower-case hex */
		"gpio2mqtt-state 1\noutput la%00p on\n",  /* a NUL */
		"gpio2mqtt-state 1\noutput la%2 on\n",
		"gpio2mqtt-state 1\noutput la/p on\n",    /* not encoded */
		"# comment\ngpio2mqtt-state 1\noutput lamp on\n",
		"gpio2mqtt-state 1\noutput lamp on\ncrc32 12345678\n",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		write_signed(bodies[i]);
		ck_assert_msg(refused(), "accepted: %s", bodies[i]);
	}
	write_signed("gpio2mqtt-state 1\ncounter meter 18446744073709551615\n");
	ck_assert(!refused());
}
END_TEST

START_TEST(test_odd_files_refused)
{
	char *big = malloc(STATEFILE_MAX_BYTES + 2);
	char body[] = "gpio2mqtt-state 1\noutput lamp on\n";
	char with_nul[64];
	int n;

	ck_assert_ptr_nonnull(big);
	/* Larger than allowed, however it ends. */
	memset(big, 'x', STATEFILE_MAX_BYTES + 1);
	big[STATEFILE_MAX_BYTES] = '\n';
	write_bytes(big, STATEFILE_MAX_BYTES + 1);
	ck_assert(refused());
	free(big);
	/* A NUL byte, even under a matching checksum. */
	memcpy(with_nul, body, sizeof(body));
	with_nul[25] = '\0';
	n = snprintf(with_nul + sizeof(body) - 1, sizeof(with_nul) - sizeof(body), "crc32 %08x\n",
		     wholefile_crc32(with_nul, sizeof(body) - 1));
	write_bytes(with_nul, sizeof(body) - 1 + (size_t)n);
	ck_assert(refused());
	/* A FIFO must not block the start; a directory is no file. */
	unlink(path);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert(refused());
	unlink(path);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert(refused());
	rmdir(path);
}
END_TEST

/* --- writing --- */

/* Runs loop until sf has been written `writes` times; false after 3 s. */
static bool run_until_written(struct loop *loop, struct statefile *sf, unsigned int writes)
{
	long long end = clock_now_ms() + 3000;

	while (statefile_writes(sf) < writes && clock_now_ms() < end)
		ck_assert_int_eq(loop_run_once(loop, NULL, NULL, 100), 0);
	return statefile_writes(sf) >= writes;
}

START_TEST(test_flood_coalesced)
{
	struct loop *loop = loop_new();
	struct statefile *sf = statefile_open(path, loop);
	long long start = clock_now_ms();
	int value = -1;

	for (int i = 0; i < 1000; i++) {
		statefile_set_output(sf, "lamp", i % 2);
		statefile_set_counter(sf, "meter", (uint64_t)i);
	}
	ck_assert_int_eq(loop_run_once(loop, NULL, NULL, 0), 0);
	ck_assert_uint_eq(statefile_writes(sf), 0); /* not at once */
	ck_assert(run_until_written(loop, sf, 1));
	ck_assert_int_ge(clock_now_ms() - start, STATEFILE_DELAY_MS - 10);
	ck_assert_int_eq(loop_run_once(loop, NULL, NULL, STATEFILE_DELAY_MS + 100), 0);
	ck_assert_uint_eq(statefile_writes(sf), 1); /* 2000 changes, one write */
	/* What was recorded already changes nothing. */
	statefile_set_output(sf, "lamp", 1);
	ck_assert_int_eq(loop_run_once(loop, NULL, NULL, STATEFILE_DELAY_MS + 100), 0);
	ck_assert_uint_eq(statefile_writes(sf), 1);
	/* The next change, the next write. */
	statefile_set_output(sf, "lamp", 0);
	ck_assert(run_until_written(loop, sf, 2));
	statefile_close(sf);

	sf = statefile_open(path, loop);
	ck_assert(statefile_output(sf, "lamp", &value));
	ck_assert_int_eq(value, 0);
	statefile_close(sf);
	loop_free(loop);
}
END_TEST

START_TEST(test_close_writes_what_is_pending)
{
	struct loop *loop = loop_new();
	struct statefile *sf = statefile_open(path, loop);
	uint64_t count = 0;

	statefile_set_counter(sf, "meter", 7);
	statefile_close(sf); /* its timer goes with it */
	ck_assert_int_eq(loop_run_once(loop, NULL, NULL, 0), 0);
	sf = statefile_open(path, loop);
	ck_assert(statefile_counter(sf, "meter", &count));
	ck_assert_uint_eq(count, 7);
	statefile_close(sf);
	loop_free(loop);
}
END_TEST

/* The temporary file of a write a crash cut short: ignored, then replaced. */
START_TEST(test_leftover_temporary_file)
{
	char tmp[160];
	struct statefile *sf;
	int value = -1;
	struct stat st;

	write_signed("gpio2mqtt-state 1\noutput lamp on\n");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(symlink("/nonexistent/elsewhere", tmp), 0);
	sf = statefile_open(path, NULL);
	ck_assert(statefile_output(sf, "lamp", &value));
	ck_assert_int_eq(value, 1);
	statefile_set_output(sf, "lamp", 0);
	ck_assert_int_eq(statefile_flush(sf), 0);
	statefile_close(sf);
	ck_assert_int_eq(lstat(tmp, &st), -1); /* renamed into place */
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	sf = statefile_open(path, NULL);
	ck_assert(statefile_output(sf, "lamp", &value));
	ck_assert_int_eq(value, 0);
	statefile_close(sf);
}
END_TEST

/* A missing directory: the write fails, the states stay in memory, nothing
 * else stops; once the directory is there the next write works. */
START_TEST(test_write_failure_kept_in_memory)
{
	char sub[128], subpath[160];
	struct loop *loop = loop_new();
	struct statefile *sf;
	int value = -1;

	snprintf(sub, sizeof(sub), "%s/later", dir);
	snprintf(subpath, sizeof(subpath), "%s/state", sub);
	sf = statefile_open(subpath, loop);
	statefile_set_output(sf, "lamp", 1);
	ck_assert_int_eq(statefile_flush(sf), -1);
	statefile_set_output(sf, "lamp", 0);
	ck_assert_int_eq(statefile_flush(sf), -1); /* logged once, not again */
	ck_assert_uint_eq(statefile_writes(sf), 0);
	ck_assert(statefile_output(sf, "lamp", &value));
	ck_assert_int_eq(value, 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(statefile_flush(sf), 0);
	ck_assert_uint_eq(statefile_writes(sf), 1);
	statefile_close(sf);
	sf = statefile_open(subpath, loop);
	ck_assert(statefile_output(sf, "lamp", &value));
	ck_assert_int_eq(value, 0);
	statefile_close(sf);
	loop_free(loop);
}
END_TEST

START_TEST(test_null_file_records_nothing)
{
	int value = 5;
	uint64_t count = 5;

	statefile_set_output(NULL, "lamp", 1);
	statefile_set_counter(NULL, "meter", 1);
	ck_assert(!statefile_output(NULL, "lamp", &value));
	ck_assert(!statefile_counter(NULL, "meter", &count));
	ck_assert_int_eq(value, 5);
	ck_assert_int_eq(statefile_flush(NULL), 0);
	statefile_close(NULL);
}
END_TEST

/* --- the mapping: state_file, initial --- */

/* text as a mapping file, loaded (check: as --check does); the problems
 * written in *problems (the caller frees it). */
static int load_mapping(const char *text, bool check, struct config *c, char **problems)
{
	char conf[160];
	size_t len = 0;
	FILE *errors = open_memstream(problems, &len);
	FILE *f;
	int rc;

	snprintf(conf, sizeof(conf), "%s/map.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	rc = (check ? config_check : config_load)(c, conf, errors);
	fclose(errors);
	return rc;
}

START_TEST(test_mapping_state_file)
{
	struct config c;
	char *problems;

	ck_assert_int_eq(load_mapping("", false, &c, &problems), 0);
	ck_assert_str_eq(c.state_file, CONFIG_DEFAULT_STATE_FILE);
	config_free(&c);
	free(problems);
	ck_assert_int_eq(load_mapping("state_file = \"/srv/g2m/state\";\n", false, &c, &problems), 0);
	ck_assert_str_eq(c.state_file, "/srv/g2m/state");
	config_free(&c);
	free(problems);
	ck_assert_int_eq(load_mapping("\nstate_file = \"state\";\n", false, &c, &problems), -1);
	ck_assert_ptr_nonnull(strstr(problems, "map.conf:2: 'state_file' must be the absolute path"));
	free(problems);
	ck_assert_int_eq(load_mapping("state_file = \"/var/lib/\";\n", false, &c, &problems), -1);
	free(problems);
	ck_assert_int_eq(load_mapping("state_file = 3;\n", false, &c, &problems), -1);
	free(problems);
	ck_assert_int_eq(load_mapping("state_fil = \"/x\";\n", false, &c, &problems), -1);
	ck_assert_ptr_nonnull(strstr(problems, "state_file"));
	free(problems);
}
END_TEST

START_TEST(test_mapping_initial)
{
	struct config c;
	char *problems;

	ck_assert_int_eq(load_mapping("outputs = (\n"
				      "  { name = \"a\"; line = \"A\"; initial = \"keep\"; },\n"
				      "  { name = \"b\"; line = \"B\"; initial = \"restore\"; },\n"
				      "  { name = \"c\"; line = \"C\"; initial = \"on\"; }\n"
				      ");\n",
				      false, &c, &problems),
			 0);
	ck_assert_int_eq(c.lines[0].initial, INITIAL_KEEP);
	ck_assert_int_eq(c.lines[1].initial, INITIAL_RESTORE);
	ck_assert_int_eq(c.lines[2].initial, INITIAL_ON);
	config_free(&c);
	free(problems);
	ck_assert_int_eq(load_mapping("outputs = ( { name = \"a\"; line = \"A\"; "
				      "initial = \"last\"; } );\n",
				      false, &c, &problems),
			 -1);
	free(problems);
}
END_TEST

/* --check warns when what "restore" keeps could not be written. */
START_TEST(test_check_warns_of_unwritable_state_file)
{
	char text[512];
	struct config c;
	char *problems;

	snprintf(text, sizeof(text),
		 "state_file = \"%s/missing/state\";\n"
		 "outputs = ( { name = \"relay\"; line = \"A\"; initial = \"restore\"; } );\n",
		 dir);
	ck_assert_int_eq(load_mapping(text, true, &c, &problems), 0);
	ck_assert_msg(strstr(problems, "map.conf:1: warning: state_file") &&
			      strstr(problems, "missing does not exist: the state of output "
					       "\"relay\" will not survive a restart"),
		      "%s", problems);
	config_free(&c);
	free(problems);
	/* Writable, but where the service may not write. */
	snprintf(text, sizeof(text),
		 "outputs = ( { name = \"relay\"; line = \"A\"; initial = \"restore\"; } );\n"
		 "state_file = \"%s/state\";\n",
		 dir);
	ck_assert_int_eq(load_mapping(text, true, &c, &problems), 0);
	ck_assert_msg(strstr(problems, "map.conf:2: warning: state_file") &&
			      strstr(problems, "not under /var/lib/gpio2mqtt/"),
		      "%s", problems);
	config_free(&c);
	free(problems);
	/* Nothing kept: nothing to say. */
	snprintf(text, sizeof(text), "state_file = \"%s/missing/state\";\n"
		 "outputs = ( { name = \"relay\"; line = \"A\"; } );\n", dir);
	ck_assert_int_eq(load_mapping(text, true, &c, &problems), 0);
	ck_assert_str_eq(problems, "");
	config_free(&c);
	free(problems);
	/* The daemon itself does not warn: the log says it at the first write. */
	snprintf(text, sizeof(text), "state_file = \"%s/missing/state\";\n"
		 "outputs = ( { name = \"relay\"; line = \"A\"; initial = \"restore\"; } );\n",
		 dir);
	ck_assert_int_eq(load_mapping(text, false, &c, &problems), 0);
	ck_assert_str_eq(problems, "");
	config_free(&c);
	free(problems);
}
END_TEST

/* --- lineset: where an output starts --- */

enum { KEPT, KEPT_LOW, RESTORED, UNSAVED, COUNTED, N_LINES };

static struct config cfg;
static struct line_state *lines;
static struct gpio_chips *chips;

static void add_line(const char *name, bool output, enum cfg_initial initial, bool active_low)
{
	struct cfg_line *c = &cfg.lines[cfg.n_lines];

	c->name = strdup(name);
	c->chip = strdup("gpiochip0");
	c->offset = (unsigned int)cfg.n_lines;
	c->output = output;
	c->initial = initial;
	c->active_low = active_low;
	c->counter = output ? COUNTER_NONE : COUNTER_RISING;
	c->source_line = (int)++cfg.n_lines;
	cfg.n_outputs += output;
}

static void board_up(void)
{
	char err[256];

	tmpdir_up();
	gpio_mem_reset();
	ck_assert_int_eq(gpio_mem_add_chip("gpiochip0", "mem", 8, NULL), 0);
	chips = gpio_chips_open(err, sizeof(err));
	ck_assert_ptr_nonnull(chips);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = strdup("test.conf");
	cfg.lines = calloc(N_LINES, sizeof(*cfg.lines));
	add_line("kept", true, INITIAL_KEEP, false);
	add_line("kept_low", true, INITIAL_KEEP, true);
	add_line("restored", true, INITIAL_RESTORE, false);
	add_line("unsaved", true, INITIAL_RESTORE, false);
	add_line("counted", false, INITIAL_OFF, false);
	lines = lineset_new(&cfg);
	ck_assert_int_eq(lineset_resolve(chips, &cfg, lines, true, stderr), 0);
}

static void board_down(void)
{
	lineset_release(lines, cfg.n_lines);
	free(lines);
	config_free(&cfg);
	gpio_chips_close(chips);
	gpio_mem_reset();
	tmpdir_down();
}

START_TEST(test_keep_and_restore)
{
	char *problems = NULL;
	size_t len = 0;
	FILE *errors = open_memstream(&problems, &len);
	struct statefile *sf;
	uint64_t count = 0;
	int value = -1;

	write_signed("gpio2mqtt-state 1\ncounter counted 9\noutput restored on\n");
	sf = statefile_open(path, NULL);
	/* A former holder left both kept lines high on the wire. */
	ck_assert_int_eq(gpio_mem_drive_input(0, KEPT, 1, 0), 0);
	ck_assert_int_eq(gpio_mem_drive_input(0, KEPT_LOW, 1, 0), 0);

	lineset_attach_state(lines, cfg.n_lines, sf);
	ck_assert_ptr_null(lines[KEPT].statefile);
	ck_assert_ptr_eq(lines[RESTORED].statefile, sf);
	ck_assert_ptr_eq(lines[COUNTED].statefile, sf);
	ck_assert_int_eq(lines[KEPT].value, -1);
	ck_assert_int_eq(lines[RESTORED].value, 1);
	ck_assert_int_eq(lineset_request(chips, &cfg, lines, errors), 0);
	lineset_note_states(lines, cfg.n_lines);
	fclose(errors);

	/* keep: taken as found, nothing changed on the wire. */
	ck_assert_int_eq(lines[KEPT].value, 1);
	ck_assert_int_eq(gpio_mem_value(0, KEPT), 1);
	ck_assert_int_eq(lines[KEPT_LOW].value, 0); /* high wire, active low: off */
	ck_assert_int_eq(gpio_mem_value(0, KEPT_LOW), 1);
	ck_assert_uint_eq(gpio_mem_counts(0, KEPT).level_changes, 0);
	ck_assert_uint_eq(gpio_mem_counts(0, KEPT_LOW).level_changes, 0);
	/* restore: the saved state; none saved: off, with a warning naming it. */
	ck_assert_int_eq(gpio_mem_value(0, RESTORED), 1);
	ck_assert_int_eq(lines[UNSAVED].value, 0);
	ck_assert_int_eq(gpio_mem_value(0, UNSAVED), 0);
	ck_assert_ptr_nonnull(strstr(problems, "test.conf:4: warning: output \"unsaved\": no saved"));
	ck_assert_ptr_null(strstr(problems, "\"restored\""));
	/* From now on the file holds it, so the next start needs no warning. */
	ck_assert(statefile_output(sf, "unsaved", &value));
	ck_assert_int_eq(value, 0);
	ck_assert(!statefile_output(sf, "kept", &value));
	ck_assert(statefile_counter(lines[COUNTED].statefile, "counted", &count));
	ck_assert_uint_eq(count, 9);
	free(problems);
	statefile_close(sf);
}
END_TEST

/* A reload that turns an input into a kept output reconfigures it in place
 * (libgpiod 2.x) at the level it has. */
START_TEST(test_keep_on_reconfigure)
{
	struct gpio_settings s = { .output = false, .consumer = "gpio2mqtt" };
	struct gpio_ref ref = { 0, KEPT };
	struct gpio_line *l;
	char err[256];

	lineset_release(lines, cfg.n_lines);
	ck_assert_int_eq(gpio_mem_drive_input(0, KEPT, 1, 0), 0);
	l = gpio_line_request(chips, &ref, &s, err, sizeof(err));
	ck_assert_ptr_nonnull(l);
	s = (struct gpio_settings){ .output = true, .active_low = true,
				    .initial = GPIO_INITIAL_AS_IS, .consumer = "gpio2mqtt" };
	ck_assert_int_eq(gpio_line_reconfigure(l, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(gpio_mem_value(0, KEPT), 1);
	ck_assert_int_eq(gpio_line_get(l), 0);
	ck_assert_uint_eq(gpio_mem_counts(0, KEPT).level_changes, 0);
	gpio_line_release(l);
}
END_TEST

Suite *statefile_suite(void)
{
	Suite *s = suite_create("statefile");
	TCase *format = tcase_create("format");
	TCase *writing = tcase_create("writing");
	TCase *starting = tcase_create("lineset");

	tcase_add_checked_fixture(format, tmpdir_up, tmpdir_down);
	tcase_add_test(format, test_round_trip);
	tcase_add_test(format, test_odd_names);
	tcase_add_test(format, test_missing_file_is_empty);
	tcase_add_test(format, test_torn_and_edited_files_refused);
	tcase_add_test(format, test_strict_parsing);
	tcase_add_test(format, test_odd_files_refused);
	tcase_add_test(format, test_mapping_state_file);
	tcase_add_test(format, test_mapping_initial);
	tcase_add_test(format, test_check_warns_of_unwritable_state_file);
	suite_add_tcase(s, format);
	tcase_add_checked_fixture(writing, tmpdir_up, tmpdir_down);
	tcase_set_timeout(writing, 20);
	tcase_add_test(writing, test_flood_coalesced);
	tcase_add_test(writing, test_close_writes_what_is_pending);
	tcase_add_test(writing, test_leftover_temporary_file);
	tcase_add_test(writing, test_write_failure_kept_in_memory);
	tcase_add_test(writing, test_null_file_records_nothing);
	suite_add_tcase(s, writing);
	tcase_add_checked_fixture(starting, board_up, board_down);
	tcase_add_test(starting, test_keep_and_restore);
	tcase_add_test(starting, test_keep_on_reconfigure);
	suite_add_tcase(s, starting);
	return s;
}
