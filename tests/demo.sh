#!/bin/bash
# SPDX-License-Identifier: MIT
# Usage: tests/demo.sh DAEMON_BINARY        (what `make demo` runs)
#
# Shows gpio2mqtt at work without any hardware: boots the test kernel
# (tests/uml/run.sh), creates a simulated GPIO chip with lines "LED" and
# "BUTTON", starts a broker and gpio2mqtt with mappings/demo.conf (its port
# replaced by the broker's random one), switches the LED over MQTT and
# presses the button, printing what happens.

# --- on the host: boot the test kernel and run this script inside it -------
if [ "${1:-}" != --inside ]; then
	[ $# -eq 1 ] || {
		echo "usage: $0 DAEMON_BINARY" >&2
		exit 2
	}
	daemon=$1
	case $daemon in /*) ;; *) daemon=$PWD/$daemon ;; esac
	[ -x "$daemon" ] || {
		echo "demo: $daemon is not an executable (run make first)" >&2
		exit 2
	}
	cd "$(dirname "$0")/.." || exit 2
	color=0
	[ -t 1 ] && color=1
	G2M_COLOR=$color GPIO2MQTT=$daemon G2M_UML_TIMEOUT=${G2M_UML_TIMEOUT:-120} \
		exec tests/uml/run.sh tests/demo.sh --inside
fi

# --- inside the test kernel ------------------------------------------------
. tests/uml/lib.sh

LED=3 BUTTON=4
# Bold headings when the host's terminal shows them.
if [ "${G2M_COLOR:-0}" = 1 ]; then
	say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
	say() { printf '\n%s\n' "$*"; }
fi
show() { printf '    %s\n' "$*"; }
fail() {
	show "FAILED: $*"
	[ -s "${log:-}" ] && sed 's/^/    | /' "$log"
	exit 1
}

# mqtt_pub PAYLOAD: publishes a command and shows the LED line afterwards.
mqtt_pub() {
	local before
	before=$(sim_value "$CHIP" "$LED")
	: >"$seen"
	say "\$ mosquitto_pub -t public/led -m '$1'"
	pub public/led "$1"
	wait_msg "$seen" 'gpio2mqtt/output/led (ON|OFF)' 3 || fail "no state published"
	show "LED line (offset $LED) is now $(sim_value "$CHIP" "$LED")" \
		"(was $before); state topic says: $(grep '^gpio2mqtt/output/led ' "$seen" | tail -n 1)"
}

# press up|down WORD: pulls the button line and shows what a subscriber got.
press() {
	: >"$seen"
	say "$2 the button (line $BUTTON pulled $1)"
	sim_pull "$CHIP" "$BUTTON" "$1"
	wait_msg "$seen" "public/button $3" 3 || fail "nothing on public/button"
	show "mosquitto_sub saw: $(grep '^public/button ' "$seen" | tail -n 1)"
}

say "gpio2mqtt demo, inside a throw-away User-Mode Linux kernel"
sim_chip demo demo-board 8 "$LED:LED" "$BUTTON:BUTTON" || fail "no simulated chip"
CHIP=$SIM_CHIP
show "simulated chip $CHIP \"demo-board\": line $LED \"LED\", line $BUTTON \"BUTTON\""
broker_start || fail "no broker"
show "broker: mosquitto on 127.0.0.1:$BROKER_PORT"

conf=$LOG_DIR/demo.conf
sed "s/^\( *port *= *\)[0-9]*;/\1$BROKER_PORT;/" mappings/demo.conf >"$conf"
seen=$LOG_DIR/seen.txt
sub_start "$seen" 'gpio2mqtt/#' 'public/#' || fail "no subscriber"
show "mosquitto_sub -v -t 'gpio2mqtt/#' -t 'public/#' is listening"

log=$LOG_DIR/gpio2mqtt.log
say "\$ gpio2mqtt -c mappings/demo.conf   (port $BROKER_PORT)"
"$GPIO2MQTT" -c "$conf" >"$log" 2>&1 &
daemon=$!
track "$daemon"
wait_msg "$seen" 'gpio2mqtt/status online' 5 || fail "gpio2mqtt did not come online"
show "gpio2mqtt/status: online; LED line is $(sim_value "$CHIP" "$LED")"

mqtt_pub on
mqtt_pub toggle
mqtt_pub toggle
mqtt_pub off
mqtt_pub '{"state":"on"}'
: >"$seen"
say "\$ mosquitto_pub -t public/led -m banana"
pub public/led banana
wait_msg "$seen" 'gpio2mqtt/error .*' 3 || fail "no error reported"
show "LED line stays $(sim_value "$CHIP" "$LED"); $(grep '^gpio2mqtt/error ' "$seen")"

press down Pressing ON
press up Releasing OFF

: >"$seen"
say "Stopping gpio2mqtt (SIGTERM)"
kill -TERM "$daemon"
wait_msg "$seen" 'gpio2mqtt/status offline' 5 || fail "no offline status"
wait_for 5 dead "$daemon" || fail "gpio2mqtt did not exit"
status=0
wait "$daemon" || status=$?
show "gpio2mqtt/status: offline; exit status $status"
say "gpio2mqtt's log:"
sed 's/^/    | /' "$log"
say "Demo finished."
