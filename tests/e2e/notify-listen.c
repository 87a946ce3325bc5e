/* SPDX-License-Identifier: MIT */
/* notify-listen: stands in for systemd's notify socket in
 * tests/e2e/notify-check.sh. Binds the abstract AF_UNIX datagram socket
 * NAME, prints "listening", then every datagram as one line: milliseconds
 * since the start, a space, the text with its newlines shown as '|'.
 * Ends after SECONDS.
 *
 * Usage: notify-listen NAME SECONDS */
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int bind_abstract(const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd;

	if (n + 1 > sizeof(addr.sun_path))
		return -1;
	memcpy(addr.sun_path + 1, name, n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0)
		return -1;
	return fd;
}

static void print_datagram(int fd, long long start)
{
	char text[4096];
	ssize_t len = recv(fd, text, sizeof(text) - 1, 0);

	if (len < 0)
		return;
	text[len] = '\0';
	for (char *p = text; *p; p++)
		if (*p == '\n')
			*p = '|';
	printf("%lld %s\n", now_ms() - start, text);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	long long start = now_ms(), end;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: notify-listen NAME SECONDS\n");
		return 2;
	}
	fd = bind_abstract(argv[1]);
	if (fd < 0) {
		perror("notify-listen");
		return 1;
	}
	end = start + atoll(argv[2]) * 1000;
	printf("listening\n");
	fflush(stdout);
	for (long long left = end - now_ms(); left > 0; left = end - now_ms()) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, (int)left) > 0)
			print_datagram(fd, start);
	}
	return 0;
}
