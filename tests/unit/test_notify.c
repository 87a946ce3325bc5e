/* SPDX-License-Identifier: MIT */
/* notify: the sd_notify protocol, its parsers and one datagram end to end. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "suites.h"

START_TEST(test_path_address)
{
	struct sockaddr_un addr;
	socklen_t len;

	ck_assert_int_eq(notify_parse_address("/run/systemd/notify", &addr, &len), 0);
	ck_assert_int_eq(addr.sun_family, AF_UNIX);
	ck_assert_str_eq(addr.sun_path, "/run/systemd/notify");
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 19);
}
END_TEST

START_TEST(test_abstract_address)
{
	struct sockaddr_un addr;
	socklen_t len;

	ck_assert_int_eq(notify_parse_address("@sd-notify", &addr, &len), 0);
	ck_assert_int_eq(addr.sun_path[0], '\0');
	ck_assert_mem_eq(addr.sun_path + 1, "sd-notify", 9);
	/* The length, not a NUL, ends an abstract name. */
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 10);
}
END_TEST

START_TEST(test_unusable_addresses)
{
	struct sockaddr_un addr;
	socklen_t len;
	char long_path[sizeof(addr.sun_path) + 2];

	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	ck_assert_int_eq(notify_parse_address(NULL, &addr, &len), -1);
	ck_assert_int_eq(notify_parse_address("", &addr, &len), -1);
	ck_assert_int_eq(notify_parse_address("/", &addr, &len), -1);
	ck_assert_int_eq(notify_parse_address("@", &addr, &len), -1);
	ck_assert_int_eq(notify_parse_address("run/notify", &addr, &len), -1);
	ck_assert_int_eq(notify_parse_address(long_path, &addr, &len), -1);
}
END_TEST

START_TEST(test_watchdog_for_this_process)
{
	ck_assert_uint_eq(notify_parse_watchdog("30000000", "42", 42), 30000000);
	/* No WATCHDOG_PID: meant for whoever reads it. */
	ck_assert_uint_eq(notify_parse_watchdog("5000000", NULL, 42), 5000000);
}
END_TEST

START_TEST(test_watchdog_not_ours)
{
	ck_assert_uint_eq(notify_parse_watchdog("30000000", "41", 42), 0);
	ck_assert_uint_eq(notify_parse_watchdog(NULL, "42", 42), 0);
	ck_assert_uint_eq(notify_parse_watchdog(NULL, NULL, 42), 0);
}
END_TEST

START_TEST(test_watchdog_garbage)
{
	static const char *const bad[] = { "", "-5", "+5", " 5", "5 ", "5s", "0x10",
					   "99999999999999999999999" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(notify_parse_watchdog(bad[i], NULL, 1) == 0, "usec \"%s\"", bad[i]);
		ck_assert_msg(notify_parse_watchdog("1000", bad[i], 1) == 0, "pid \"%s\"", bad[i]);
	}
}
END_TEST

/* A datagram socket at a fresh path, and $NOTIFY_SOCKET naming it. */
static int listen_as_systemd(char *path, size_t size)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(path, size, "/tmp/g2m-notify-%ld", (long)getpid());
	unlink(path);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	return fd;
}

static void expect_datagram(int fd, const char *text)
{
	char buf[600];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, text);
}

START_TEST(test_sends_one_datagram)
{
	char path[64];
	int fd = listen_as_systemd(path, sizeof(path));
	struct notify *n;

	setenv("WATCHDOG_USEC", "4000000", 1);
	unsetenv("WATCHDOG_PID");
	n = notify_new();
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(notify_send(n, "READY=1\nSTATUS=%d lines", 8), 0);
	expect_datagram(fd, "READY=1\nSTATUS=8 lines");
	ck_assert_uint_eq(notify_watchdog_interval_ms(n), 2000);
	notify_free(n);
	close(fd);
	unlink(path);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
}
END_TEST

START_TEST(test_long_status_is_cut)
{
	char path[64], status[1000];
	int fd = listen_as_systemd(path, sizeof(path));
	struct notify *n = notify_new();
	char buf[600];
	ssize_t got;

	memset(status, 'a', sizeof(status) - 1);
	status[sizeof(status) - 1] = '\0';
	ck_assert_int_eq(notify_send(n, "STATUS=%s", status), 0);
	got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	ck_assert_int_gt(got, 100);
	ck_assert_int_lt(got, (ssize_t)sizeof(status));
	ck_assert_mem_eq(buf, "STATUS=aaa", 10);
	notify_free(n);
	close(fd);
	unlink(path);
	unsetenv("NOTIFY_SOCKET");
}
END_TEST

START_TEST(test_without_systemd_nothing_is_sent)
{
	struct notify *n;

	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "4000000", 1);
	n = notify_new();
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(notify_send(n, "READY=1"), 0);
	ck_assert_int_eq(notify_reloading(n), 0);
	/* Nobody to ping either. */
	ck_assert_uint_eq(notify_watchdog_interval_ms(n), 0);
	notify_free(n);
	unsetenv("WATCHDOG_USEC");
}
END_TEST

Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *parse = tcase_create("parsers");
	TCase *send = tcase_create("sending");

	tcase_add_test(parse, test_path_address);
	tcase_add_test(parse, test_abstract_address);
	tcase_add_test(parse, test_unusable_addresses);
	tcase_add_test(parse, test_watchdog_for_this_process);
	tcase_add_test(parse, test_watchdog_not_ours);
	tcase_add_test(parse, test_watchdog_garbage);
	tcase_add_test(send, test_sends_one_datagram);
	tcase_add_test(send, test_long_status_is_cut);
	tcase_add_test(send, test_without_systemd_nothing_is_sent);
	suite_add_tcase(s, parse);
	suite_add_tcase(s, send);
	return s;
}
