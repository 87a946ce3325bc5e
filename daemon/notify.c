/* SPDX-License-Identifier: MIT */
#include "notify.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "clock.h"

/* Longer than any state the daemon sends; STATUS= texts are cut to fit. */
#define MESSAGE_MAX 512

struct notify {
	int fd; /* -1: nobody to tell */
	struct sockaddr_un addr;
	socklen_t addr_len;
	uint64_t watchdog_usec;
};

int notify_parse_address(const char *name, struct sockaddr_un *addr, socklen_t *len)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 2 || (name[0] != '/' && name[0] != '@') || n > sizeof(addr->sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, name, n);
	/* Abstract names start with a NUL and are delimited by the length. */
	if (name[0] == '@')
		addr->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	return 0;
}

static bool parse_number(const char *s, unsigned long long *value)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*value = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

uint64_t notify_parse_watchdog(const char *usec, const char *pid, pid_t self)
{
	unsigned long long timeout, owner;

	if (!parse_number(usec, &timeout))
		return 0;
	/* Without WATCHDOG_PID the pings are expected from whoever reads it. */
	if (pid && (!parse_number(pid, &owner) || owner != (unsigned long long)self))
		return 0;
	return timeout;
}

struct notify *notify_new(void)
{
	struct notify *n = calloc(1, sizeof(*n));
	const char *name = getenv("NOTIFY_SOCKET");

	if (!n)
		return NULL;
	n->fd = -1;
	if (!name)
		return n;
	if (notify_parse_address(name, &n->addr, &n->addr_len) < 0) {
		log_warning("NOTIFY_SOCKET=\"%s\" is not a usable socket; systemd is not told", name);
		return n;
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		log_warning("cannot open a socket to notify systemd: %s", strerror(errno));
		return n;
	}
	n->watchdog_usec = notify_parse_watchdog(getenv("WATCHDOG_USEC"),
						 getenv("WATCHDOG_PID"), getpid());
	return n;
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	if (n->fd >= 0)
		close(n->fd);
	free(n);
}

static int send_text(struct notify *n, const char *text, size_t len)
{
	ssize_t sent;

	do
		sent = sendto(n->fd, text, len, MSG_NOSIGNAL, (const struct sockaddr *)&n->addr,
			      n->addr_len);
	while (sent < 0 && errno == EINTR);
	if (sent < 0) {
		log_warning("cannot notify systemd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int notify_send(struct notify *n, const char *fmt, ...)
{
	char text[MESSAGE_MAX];
	va_list ap;
	int len;

	if (!n || n->fd < 0)
		return 0;
	va_start(ap, fmt);
	len = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (len < 0)
		return -1;
	return send_text(n, text, (size_t)len < sizeof(text) ? (size_t)len : sizeof(text) - 1);
}

int notify_reloading(struct notify *n)
{
	return notify_send(n, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading the mapping",
			   (unsigned long long)clock_now_us());
}

unsigned int notify_watchdog_interval_ms(const struct notify *n)
{
	uint64_t ms = n->watchdog_usec / 2000;

	if (!n->watchdog_usec)
		return 0;
	if (ms > UINT_MAX)
		return UINT_MAX;
	return ms ? (unsigned int)ms : 1;
}
