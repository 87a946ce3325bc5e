/* SPDX-License-Identifier: MIT */
/* notify: tells systemd how the service is doing (sd_notify protocol).
 *
 * Speaks the notify protocol directly: one datagram of "KEY=value" lines to
 * the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace). Without $NOTIFY_SOCKET every call is a no-op, so the
 * daemon runs the same outside systemd. Owns its socket; notify_free()
 * closes it. */
#ifndef GPIO2MQTT_NOTIFY_H
#define GPIO2MQTT_NOTIFY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

struct notify;

/* Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID. NULL only when
 * out of memory; an unusable socket name is logged and disables sending. */
struct notify *notify_new(void);
void notify_free(struct notify *n);

/* Sends the formatted lines (e.g. "READY=1\nSTATUS=%s") in one datagram.
 * 0 when sent or when there is nobody to tell, -1 with errno. */
int notify_send(struct notify *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "RELOADING=1" with the MONOTONIC_USEC that systemd 253+ asks for. */
int notify_reloading(struct notify *n);

/* How often to send "WATCHDOG=1": half the watchdog timeout, in ms (at
 * least 1), or 0 when systemd expects no pings from this process. */
unsigned int notify_watchdog_interval_ms(const struct notify *n);

/* The parsers behind notify_new(), pure, for tests. */

/* Fills the address for a $NOTIFY_SOCKET value; -1 (EINVAL) when it is not
 * an absolute path or an "@" name, or too long. */
int notify_parse_address(const char *name, struct sockaddr_un *addr, socklen_t *len);
/* The watchdog timeout in microseconds meant for process self, or 0 when
 * usec is unset or invalid or pid names another process. */
uint64_t notify_parse_watchdog(const char *usec, const char *pid, pid_t self);

#endif
