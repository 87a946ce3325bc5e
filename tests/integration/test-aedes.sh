#!/bin/bash
# SPDX-License-Identifier: MIT
# The daemon on aedes, a broker written in node that speaks MQTT 3.1.1 only,
# with the classroom's mapping (mappings/classroom-plain.conf) and clients:
# mosquitto_pub/sub and the Python example over TCP, the Eclipse Paho
# JavaScript client over aedes' websockets. aedes turns the daemon's MQTT 5
# CONNECT down and the daemon falls back to 3.1.1. The npm packages come from
# tests/brokers/node/prepare.sh, run on the host: no network in here.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../classroom/lib.sh"

LED=3 BUTTON=4
PUB_BASE=public/$BOARD
LED_TOPIC=public/$BOARD/led
NODE_DIR=$REPO/tests/brokers/node
NPM_DIR=$("$NODE_DIR/prepare.sh" --path)
MODULES=$NPM_DIR/node_modules
AEDES_LOG=$LOG_DIR/aedes.log
dump_on_fail "$AEDES_LOG"

if [ -d "$MODULES/aedes" ] && [ -d "$MODULES/ws" ] && [ -d "$MODULES/paho-mqtt" ] &&
	command -v node >/dev/null; then
	ok "node, and the npm packages in $NPM_DIR"
else
	not_ok "node, and the npm packages in $NPM_DIR (tests/brokers/node/prepare.sh)"
	finish
fi

sim_chip aedes aedes-board 8 "$LED:LED" "$BUTTON:BUTTON" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP

# aedes_start: the broker on free ports; sets AEDES_TCP and AEDES_WS, and
# points lib.sh's clients (BROKER_PORT) and classroom_conf (PLAIN_PORT) at
# its TCP port.
aedes_start() {
	local ports=$LOG_DIR/aedes.ports
	node "$NODE_DIR/aedes-broker.js" "$MODULES" "$ports" >>"$AEDES_LOG" 2>&1 &
	AEDES_PID=$!
	track "$AEDES_PID"
	wait_for 30 test -s "$ports" || return 1
	AEDES_TCP=$(awk '$1 == "tcp" { print $2 }' "$ports")
	AEDES_WS=$(awk '$1 == "ws" { print $2 }' "$ports")
	BROKER_PORT=$AEDES_TCP PLAIN_PORT=$AEDES_TCP
	export BROKER_PORT PLAIN_PORT
	[ -n "$AEDES_TCP" ] && [ -n "$AEDES_WS" ]
}
started=$(_now_us)
if aedes_start; then
	ok "aedes listens on TCP and websockets (after $((($(_now_us) - started) / 1000)) ms)"
else
	not_ok "aedes listens on TCP and websockets"
	finish
fi
msgs=$LOG_DIR/msgs.txt
# lib.sh's subscriber speaks 3.1.1, as mosquitto_sub does by default.
sub_start "$msgs" 'public/#' || {
	not_ok "a subscriber on aedes"
	finish
}

conf=$LOG_DIR/aedes.conf
classroom_conf plain "$conf" 's|^\( *base_topic *=.*\)$|\1\n  protocol = "auto";|'
daemon_start "$conf"
check "daemon comes online on $PUB_BASE/status" wait_msg "$msgs" "$PUB_BASE/status online" 10
check "aedes turned the MQTT 5 CONNECT down" \
	grep -qx 'refused: unacceptable protocol version' "$AEDES_LOG"
check "the daemon's log mentions MQTT 3.1.1" grep -qi '3\.1\.1' "$DAEMON_LOG"
check "the daemon's session is MQTT 3.1.1 over TCP" \
	grep -qxF "connect gpio2mqtt-$BOARD version 4 tcp" "$AEDES_LOG"
check "the button's state is published" wait_msg "$msgs" "public/$BOARD/button OFF" 3

# led_command PAYLOAD VALUE STATE: mosquitto_pub to the board's own topic, as
# a student would.
led_command() {
	: >"$msgs"
	pub "$LED_TOPIC" "$1"
	check "'$1' on $LED_TOPIC drives the line to $2" wait_for 3 sim_is "$CHIP" "$LED" "$2"
	check "'$1' on $LED_TOPIC publishes $3" wait_msg "$msgs" "$PUB_BASE/output/led $3" 3
}
led_command on 1 ON
led_command toggle 0 OFF
led_command toggle 1 ON
led_command off 0 OFF
: >"$msgs"
sim_pull "$CHIP" "$BUTTON" down
check "pressing the button publishes ON" wait_msg "$msgs" "public/$BOARD/button ON" 3
sim_pull "$CHIP" "$BUTTON" up
check "releasing the button publishes OFF" wait_msg "$msgs" "public/$BOARD/button OFF" 3
check "aedes keeps the LED's state retained" test "$(retained "$PUB_BASE/output/led")" = OFF

: >"$msgs"
pub public/led quit
check "'quit' is answered on $PUB_BASE/error" wait_msg "$msgs" \
	"$PUB_BASE/error \{.*\"payload\" *: *\"quit\".*\}" 3
check "'quit' leaves the line alone" holds 0.5 sim_is "$CHIP" "$LED" 0

# The Python example over TCP: two toggles, the button pressed between them.
py_out=$LOG_DIR/led_client.out
dump_on_fail "$py_out"
python3 "$CLASSROOM/led_client.py" --port "$AEDES_TCP" --board "$BOARD" --toggles 2 \
	--interval 2 >"$py_out" 2>&1 &
py_pid=$!
track "$py_pid"
check "Python: receives the retained button state" wait_for 10 grep -qx "button: OFF" "$py_out"
check "Python: its first toggle switches the LED on" wait_for 5 sim_is "$CHIP" "$LED" 1
sim_pull "$CHIP" "$BUTTON" down
check "Python: receives the pressed button" wait_for 5 grep -qx "button: ON" "$py_out"
check "Python: its second toggle switches the LED off" wait_for 5 sim_is "$CHIP" "$LED" 0
check "Python: the script ends" wait_for 10 dead "$py_pid"
py_status=0
wait "$py_pid" || py_status=$?
check "Python: exit status 0" test "$py_status" = 0
sim_pull "$CHIP" "$BUTTON" up

# The Paho JavaScript client over websockets: it sees the retained OFF, sends
# "toggle" and waits for the ON that follows.
js_out=$LOG_DIR/paho-client.out
dump_on_fail "$js_out"
js_status=0
timeout -k 5 60 node "$NODE_DIR/paho-client.js" "$MODULES" "ws://127.0.0.1:$AEDES_WS/" \
	"$PUB_BASE/output/led" "$LED_TOPIC" toggle ON >"$js_out" 2>&1 || js_status=$?
check "Paho JS: exit status 0" test "$js_status" = 0
check "Paho JS: connected over aedes' websockets with MQTT 3.1.1" \
	grep -qE '^connect paho-js-[0-9]+ version 4 ws$' "$AEDES_LOG"
check "Paho JS: saw the retained OFF" grep -qx 'retained: OFF' "$js_out"
check "Paho JS: its toggle drove the line" sim_is "$CHIP" "$LED" 1
check "Paho JS: saw the LED's ON" grep -qx 'state: ON' "$js_out"

check "no warnings but the fall-back and 'quit'" not grep -qP \
	'^gpio2mqtt: (warning|error): (?!ignored a message on "public/led"|broker .* does not speak MQTT 5)' \
	"$DAEMON_LOG"

# The will: aedes publishes it when the connection drops without DISCONNECT.
: >"$msgs"
# Disowned first: bash would print "Killed" for its job.
disown "$DAEMON_PID"
kill -KILL "$DAEMON_PID"
check "after SIGKILL: aedes publishes the will" wait_msg "$msgs" "$PUB_BASE/status offline" 5
check "after SIGKILL: offline is retained" test "$(retained "$PUB_BASE/status")" = offline
finish
