/* SPDX-License-Identifier: MIT */
/* config when memory runs out: config_load() with its 1st, 2nd, ... Nth
 * allocation failing, until one load makes fewer than N. Each failing load
 * returns -1, says "FILE: out of memory" and nothing else, leaves cfg empty
 * and frees all it took (valgrind or ASan see that); the last one loads.
 *
 * The unit test binary is linked with --wrap for the allocators (see
 * tests/tests.mk): the calls of its own objects (the daemon's modules, the
 * tests, check) reach the wrappers below, which pass them on until a test
 * arms them. libconfig's calls do not: a shared library's calls are not
 * rewritten, and libconfig 1.5 checks none of its allocations (a failed
 * one is dereferenced), so failing them would only show it crash. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"

#define STEPS_MAX 5000
/* The mapping below copies more strings than that: fewer allocations seen
 * would mean that the wrappers are not linked in. */
#define ALLOCATIONS_MIN 40

/* --- the wrapped allocators --- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *ptr, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static struct injection {
	bool armed;
	unsigned long countdown; /* the allocation that fails: 1 = the next one */
	bool sticky;             /* every one after it fails too */
	unsigned long seen;      /* allocations while armed */
	bool fired;
} inject;

static bool fail_this_one(void)
{
	if (!inject.armed)
		return false;
	inject.seen++;
	if (inject.countdown > 1) {
		inject.countdown--;
		return false;
	}
	inject.fired = true;
	inject.armed = inject.sticky;
	errno = ENOMEM;
	return true;
}

void *__wrap_malloc(size_t size)
{
	return fail_this_one() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_this_one() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *ptr, size_t size)
{
	return fail_this_one() ? NULL : __real_realloc(ptr, size);
}

char *__wrap_strdup(const char *s)
{
	return fail_this_one() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return fail_this_one() ? NULL : __real_strndup(s, n);
}

static void arm(unsigned long nth, bool sticky)
{
	inject = (struct injection){ .armed = true, .countdown = nth, .sticky = sticky };
}

/* Also the fixture's teardown: check's own allocations must never fail. */
static void disarm(void)
{
	inject.armed = false;
}

/* --- the mapping --- */

static char tmpdir[PATH_MAX];

static void make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/gpio2mqtt-oom-XXXXXX", base && *base ? base : "/tmp");
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

/* tmpdir/name holding text; the caller frees the path. */
static char *write_file(const char *name, const char *text)
{
	char *path;
	FILE *f;

	ck_assert_int_ne(asprintf(&path, "%s/%s", tmpdir, name), -1);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* Every kind of value the reader copies, joins, expands or lists. */
static const char mapping[] =
	"mqtt = {\n"
	"  hosts = ( \"node-a\", \"node-b:1884\", \"[::1]:1885\" );\n"
	"  client_id = \"gpio2mqtt-%%h\";\n"
	"  username = \"board\";\n"
	"  password_file = \"%1$s/password\";\n"
	"  base_topic = \"class/%%h\";\n"
	"  protocol = \"5\";\n"
	"  tls = { ca_file = \"%1$s/ca.pem\"; cert_file = \"%1$s/ca.pem\";\n"
	"          key_file = \"%1$s/ca.pem\"; };\n"
	"};\n"
	"outputs = (\n"
	"  { name = \"led\"; line = \"LED\";\n"
	"    command_topic = ( \"class/all/led\", \"class/%%h/led\" ); },\n"
	"  { name = \"relay\"; chip = \"gpiochip0\"; line = 17; payload_on = \"1\";\n"
	"    payload_off = \"0\"; drive = \"open-drain\"; initial = \"on\"; }\n"
	");\n"
	"inputs = (\n"
	"  { name = \"button\"; line = \"BUTTON\"; state_topic = \"class/%%h/button%%%%\";\n"
	"    bias = \"pull-up\"; debounce_ms = 20; }\n"
	");\n";

static char *write_mapping(void)
{
	char *text, *path;

	free(write_file("password", "secret\n"));
	free(write_file("ca.pem", "not checked here\n"));
	ck_assert_int_ne(asprintf(&text, mapping, tmpdir), -1);
	path = write_file("gpio2mqtt.conf", text);
	free(text);
	return path;
}

/* --- loads --- */

struct load {
	int rc;
	struct config cfg;
	char *errors;
	size_t errors_len;
	bool fired;
	unsigned long seen;
};

/* Nothing but config_load() runs armed: check allocates in its asserts. */
static void load_failing(struct load *l, const char *path, unsigned long nth, bool sticky)
{
	FILE *errors;

	memset(l, 0, sizeof(*l));
	errors = open_memstream(&l->errors, &l->errors_len);
	ck_assert_ptr_nonnull(errors);
	arm(nth, sticky);
	l->rc = config_load(&l->cfg, path, errors);
	disarm();
	l->fired = inject.fired;
	l->seen = inject.seen;
	ck_assert_int_eq(fclose(errors), 0);
}

static void expect_out_of_memory(const struct load *l, const char *path, unsigned long nth)
{
	static const struct config empty;
	char *want;

	ck_assert_int_ne(asprintf(&want, "%s: out of memory\n", path), -1);
	ck_assert_msg(l->rc == -1, "allocation %lu failed, yet the mapping loaded", nth);
	ck_assert_msg(strcmp(l->errors, want) == 0, "allocation %lu failed; errors:\n%s", nth,
		      l->errors);
	ck_assert_msg(memcmp(&l->cfg, &empty, sizeof(empty)) == 0,
		      "allocation %lu failed; cfg is not empty", nth);
	free(want);
}

static void expect_loaded(struct load *l)
{
	char host[256] = "", want[300];

	ck_assert_msg(l->rc == 0, "%s", l->errors);
	ck_assert_uint_eq(l->errors_len, 0);
	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	host[strcspn(host, ".")] = '\0';
	snprintf(want, sizeof(want), "class/%s/status", host);
	ck_assert_str_eq(l->cfg.status_topic, want);
	ck_assert_uint_eq(l->cfg.mqtt.n_nodes, 3);
	ck_assert_str_eq(l->cfg.mqtt.password, "secret");
	ck_assert_uint_eq(l->cfg.n_lines, 3);
	ck_assert_uint_eq(l->cfg.lines[0].n_commands, 2);
	snprintf(want, sizeof(want), "class/%s/button%%", host);
	ck_assert_str_eq(l->cfg.lines[2].state_topic, want);
	config_free(&l->cfg);
}

/* Fails the 1st, 2nd, ... allocation until a load needs fewer. */
static void fail_each_allocation(bool sticky)
{
	char *path = write_mapping();

	for (unsigned long nth = 1; nth <= STEPS_MAX; nth++) {
		struct load l;

		load_failing(&l, path, nth, sticky);
		if (!l.fired) {
			ck_assert_uint_ge(l.seen, ALLOCATIONS_MIN);
			expect_loaded(&l);
			free(l.errors);
			free(path);
			return;
		}
		expect_out_of_memory(&l, path, nth);
		free(l.errors);
	}
	ck_abort_msg("a load still made more than %d allocations", STEPS_MAX);
}

START_TEST(test_one_allocation_fails)
{
	fail_each_allocation(false);
}
END_TEST

START_TEST(test_every_allocation_from_one_on_fails)
{
	fail_each_allocation(true);
}
END_TEST

Suite *config_oom_suite(void)
{
	Suite *s = suite_create("config_oom");
	TCase *t = tcase_create("allocation failures");

	tcase_add_unchecked_fixture(t, make_tmpdir, remove_tmpdir);
	tcase_add_checked_fixture(t, NULL, disarm);
	tcase_add_test(t, test_one_allocation_fails);
	tcase_add_test(t, test_every_allocation_from_one_on_fails);
	suite_add_tcase(s, t);
	return s;
}
