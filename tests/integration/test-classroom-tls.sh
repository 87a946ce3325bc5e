#!/bin/bash
# SPDX-License-Identifier: MIT
# A classroom broker's TLS listener (CA certificate, username and password):
# mappings/classroom-tls.conf works; a wrong CA, an expired certificate, a
# certificate for another host and a wrong password each give one clear log
# line while the daemon keeps retrying with back-off.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../classroom/lib.sh"

LED=3 BUTTON=4
classroom_rig
conf=$LOG_DIR/tls.conf
# Quick retries, so that a few of them fit in the test.
fast='s|^\( *keepalive = .*\)$|\1 reconnect_delay_max = 2;|'
classroom_conf tls "$conf" "$fast"
check "the mapping has a CA file and a password file" \
	grep -q "ca_file = \"$CR_DIR/ca.crt\"" "$conf"
daemon_start "$conf"
check "TLS: daemon comes online" wait_msg "$msgs" "gpio2mqtt/$BOARD/status online" 10
check "TLS: the button's state is published" wait_msg "$msgs" "public/$BOARD/button OFF" 3
: >"$msgs"
pub "public/$BOARD/led" toggle
check "TLS: a student's toggle drives the line" wait_for 3 sim_is "$CHIP" "$LED" 1
check "TLS: the LED's state is published" wait_msg "$msgs" "gpio2mqtt/$BOARD/output/led ON" 3
sim_pull "$CHIP" "$BUTTON" down
check "TLS: the pressed button is published" wait_msg "$msgs" "public/$BOARD/button ON" 3
sim_pull "$CHIP" "$BUTTON" up
check "TLS: no warnings" not grep -qE 'warning:|error:' "$DAEMON_LOG"
daemon_stop

# attempts_at_least N: N connection attempts have failed (debug log).
attempts_at_least() { [ "$(grep -c 'reconnecting in' "$DAEMON_LOG")" -ge "$1" ]; }

# Warnings and errors of the daemon (not its debug output).
complaints() { grep -E '^gpio2mqtt: (warning|error):' "$DAEMON_LOG"; }

# refused NAME PATTERN: the daemon (just started, log in DAEMON_LOG) tries
# at least three times; exactly one warning or error line, matching PATTERN.
refused() {
	local name=$1 pattern=$2
	check "$name: at least three attempts" wait_for 20 attempts_at_least 3
	check "$name: one log line about it" test "$(complaints | wc -l)" = 1
	check "$name: the line tells the cause" grep -qE "$pattern" <<<"$(complaints)"
	check "$name: daemon still running" alive "$DAEMON_PID"
	diag "$name: $(complaints | head -n 3)"
	daemon_stop
}

# negative NAME: a fresh daemon log for the case.
negative() {
	DAEMON_LOG=$LOG_DIR/gpio2mqtt-$1.log
	dump_on_fail "$DAEMON_LOG"
}

negative wrong-password
printf 'not-the-password\n' >"$CR_DIR/wrong.password"
classroom_conf tls "$conf" "$fast" "s|board.password|wrong.password|"
daemon_start "$conf"
refused "wrong password" 'refused the connection: (Not authorized|Bad user name or password) \(check username and password\)$'

negative wrong-ca
classroom_conf tls "$conf" "$fast" "s|/ca.crt|/other-ca.crt|"
daemon_start "$conf"
refused "wrong CA" 'TLS handshake .* failed: .*\(not signed by the CA of ca_file\?\)$'

for cert in expired wrong-host; do
	stop_pid "$BROKER_PID"
	check "$cert: broker with the $cert certificate" classroom_start "$cert"
	dump_on_fail "$CR_DIR/mosquitto-$cert.log"
	negative "$cert"
	classroom_conf tls "$conf" "$fast"
	daemon_start "$conf"
	case $cert in
	expired) refused "expired certificate" 'TLS handshake .* failed: certificate has expired$' ;;
	wrong-host)
		refused "certificate for another host" \
			'TLS handshake .* failed: its certificate is not for "127.0.0.1"$'
		;;
	esac
done
finish
