#!/bin/bash
# SPDX-License-Identifier: MIT
# Usage: tests/e2e/notify-check.sh DAEMON LISTENER
#
# The systemd notify protocol as the daemon speaks it, checked without
# systemd: LISTENER (notify-listen.c) plays the notify socket under an
# abstract "@" name, which systemd itself does not use. The booted systems
# of run.sh check the same messages through systemd.
. "$(dirname "$0")/../uml/lib.sh"

daemon=$1
listener=$2
conf=$LOG_DIR/no-lines.conf
got=$LOG_DIR/notify.txt
daemon_log=$LOG_DIR/daemon.log
dump_on_fail "$daemon_log" "$got"
# No line, and a broker that refuses at once: the event loop runs anyway.
printf 'mqtt = { host = "127.0.0.1"; port = 1; };\n' >"$conf"

# Starts the listener for SECONDS under a fresh name (in NAME); appends to
# $got so that ": >$got" can clear it.
listen() {
	NAME=g2m-notify-$$-$RANDOM
	: >"$got"
	"$listener" "$NAME" "$1" >>"$got" 2>&1 &
	track $!
	wait_for 5 grep -qx listening "$got"
}

# start_daemon ENV...: the daemon with exactly this notify environment.
start_daemon() {
	env -u NOTIFY_SOCKET -u WATCHDOG_USEC -u WATCHDOG_PID "$@" \
		"$daemon" -c "$conf" >>"$daemon_log" 2>&1 &
	DAEMON_PID=$!
	track "$DAEMON_PID"
}

# SIGTERM; true when the daemon exits with status 0.
stop_daemon() {
	kill -TERM "$DAEMON_PID"
	wait_for 5 dead "$DAEMON_PID" && wait "$DAEMON_PID"
}

# got LINE_REGEX: a datagram matched (newlines shown as '|').
got() { grep -qE -- "^[0-9]+ $1\$" "$got"; }
pings() { grep -c ' WATCHDOG=1$' "$got"; }
pings_at_least() { [ "$(pings)" -ge "$1" ]; }
# Largest gap between two pings, in ms.
largest_ping_gap() {
	awk '$2 == "WATCHDOG=1" { if (n++) { g = $1 - last; if (g > max) max = g } last = $1 }
		END { print max + 0 }' "$got"
}
ready_after_reloading() {
	awk '/ RELOADING=1/ { r = 1 } r && / READY=1/ { found = 1 } END { exit !found }' "$got"
}

# --- an abstract socket, a watchdog meant for the daemon -------------------

listen 30 || {
	not_ok "listener on an abstract socket"
	finish
}
start_daemon NOTIFY_SOCKET="@$NAME" WATCHDOG_USEC=400000
check "READY=1 with a STATUS line on @$NAME" \
	wait_for 5 got 'READY=1\|STATUS=0 outputs, 0 inputs; broker 127\.0\.0\.1:1'
check "WATCHDOG=1 pings (WATCHDOG_USEC=400000)" wait_for 5 pings_at_least 8
gap=$(largest_ping_gap)
check "no ping later than the watchdog allows (largest gap $gap ms < 400 ms)" \
	test "$gap" -gt 0 -a "$gap" -lt 400
kill -HUP "$DAEMON_PID"
check "SIGHUP: RELOADING=1 with MONOTONIC_USEC" \
	wait_for 5 got 'RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=Reloading the mapping'
check "... then READY=1 again" wait_for 5 ready_after_reloading
check "SIGTERM: exit status 0" stop_daemon
check "... after STOPPING=1" got 'STOPPING=1\|STATUS=Stopping'

# --- a watchdog meant for another process -------------------------------

: >"$got"
start_daemon NOTIFY_SOCKET="@$NAME" WATCHDOG_USEC=200000 WATCHDOG_PID=1
check "WATCHDOG_PID of another process: READY=1" wait_for 5 got 'READY=1\|.*'
check "... and no pings" holds 1 not got 'WATCHDOG=1'
check "... stops with status 0" stop_daemon

# --- no NOTIFY_SOCKET, or an unusable one --------------------------------

: >"$got"
start_daemon WATCHDOG_USEC=200000
check "without NOTIFY_SOCKET the daemon runs" holds 1 alive "$DAEMON_PID"
check "... stops with status 0" stop_daemon
check "... and sent nothing" not got '.*'
start_daemon NOTIFY_SOCKET=relative/name
check "an unusable NOTIFY_SOCKET is reported" \
	wait_for 5 grep -qF 'NOTIFY_SOCKET="relative/name" is not a usable socket' "$daemon_log"
check "... and the daemon runs on" holds 1 alive "$DAEMON_PID"
check "... stops with status 0" stop_daemon
finish
