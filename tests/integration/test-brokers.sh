#!/bin/bash
# SPDX-License-Identifier: MIT
# Brokers as users meet them: one that hangs up on an MQTT 5 CONNECT (as
# RabbitMQ 3.10 does), one that is down at first, TLS verified by the
# system's CAs, two boards with one client_id, and mosquitto with max_qos 0,
# retain_available false or max_packet_size. The daemon falls back only when
# the broker was reached, says why each attempt ended, and obeys the limits.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../classroom/lib.sh"

LED=3 BUTTON=4
classroom_rig
conf=$LOG_DIR/brokers.conf

# Warnings and errors of the daemon (not its debug output).
complaints() { grep -E '^gpio2mqtt: (warning|error):' "$DAEMON_LOG"; }

# fresh_log NAME: a daemon log of its own for the next case.
fresh_log() {
	DAEMON_LOG=$LOG_DIR/gpio2mqtt-$1.log
	dump_on_fail "$DAEMON_LOG"
}

# mapping PORT [MQTT_LINES] [BASE]: the LED and the button on a broker of
# 127.0.0.1, with extra lines in the mqtt group; quick retries. CLIENT_ID
# replaces the test's own client id.
mapping() {
	cat <<-EOF
		mqtt = {
		  host = "127.0.0.1";
		  port = $1;
		  client_id = "${CLIENT_ID:-gpio2mqtt-$TEST_NAME-$$}";
		  qos = 1;
		  reconnect_delay_max = 2;
		  base_topic = "${3:-$BASE}";
		  ${2:-}
		};
		outputs = ( { name = "led"; line = "LED"; } );
		inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; active_low = true; } );
	EOF
}

# --- a broker that hangs up on MQTT 5 -------------------------------------

fresh_log hangup
old_out=$LOG_DIR/hangup.out
dump_on_fail "$old_out"
python3 "$CLASSROOM/mqtt311_broker.py" "$LOG_DIR/hangup.port" 60 hangup >"$old_out" 2>&1 &
track $!
check "hang-up broker: listening" wait_for 5 test -s "$LOG_DIR/hangup.port"
hangup_port=$(cat "$LOG_DIR/hangup.port")
mapping "$hangup_port" >"$conf"
daemon_start "$conf"
check "hang-up broker: it hangs up on the MQTT 5 CONNECT" \
	wait_for 5 grep -qx "hung up on level 5" "$old_out"
check "hang-up broker: the daemon connects with MQTT 3.1.1 straight away" \
	wait_for 2 grep -qx "accepted level 4" "$old_out"
check "hang-up broker: it publishes online" \
	wait_for 5 grep -qx "publish $BASE/status" "$old_out"
check "hang-up broker: the fall-back is one warning that says why" \
	test "$(complaints | wc -l)" = 1
check "hang-up broker: ... that it hung up on MQTT 5" grep -q \
	"^gpio2mqtt: warning: broker 127.0.0.1:$hangup_port does not speak MQTT 5: using MQTT 3.1.1 (it hung up on an MQTT 5 CONNECT" \
	"$DAEMON_LOG"
daemon_stop

# With protocol = "5" there is no fall-back, and the hang-up is said once.
fresh_log hangup-v5
: >"$old_out"
mapping "$hangup_port" 'protocol = "5";' >"$conf"
daemon_start "$conf"
hangups_at_least() { [ "$(grep -cx "hung up on level 5" "$old_out")" -ge "$1" ]; }
check "protocol 5: tries MQTT 5 again and again" wait_for 15 hangups_at_least 3
check "protocol 5: never 3.1.1" not grep -q "accepted level" "$old_out"
check "protocol 5: one warning, about the hang-up" test "$(complaints | wc -l)" = 1
check "protocol 5: ... which says so" grep -q \
	"warning: broker 127.0.0.1:$hangup_port closed the connection without answering the MQTT 5 CONNECT" \
	"$DAEMON_LOG"
daemon_stop

# --- an MQTT 5 broker that says another client took the session over -------

fresh_log takeover
: >"$old_out"
python3 "$CLASSROOM/mqtt311_broker.py" "$LOG_DIR/takeover.port" 30 takeover >"$old_out" 2>&1 &
track $!
check "take-over broker: listening" wait_for 5 test -s "$LOG_DIR/takeover.port"
mapping "$(cat "$LOG_DIR/takeover.port")" >"$conf"
daemon_start "$conf"
check "take-over broker: it ends the session" wait_for 5 grep -qx "took over" "$old_out"
check "take-over broker: the reason is logged in words" wait_for 5 \
	grep -q "warning: lost the connection to .*: Session taken over" "$DAEMON_LOG"
check "take-over broker: ... with the hint about the client id" grep -q \
	"is another client using client_id \"gpio2mqtt-$TEST_NAME-$$\"?" "$DAEMON_LOG"
check "take-over broker: MQTT 5 all along" not grep -q "3\.1\.1" "$DAEMON_LOG"
daemon_stop

# --- a broker that is down at first: no fall-back ---------------------------

fresh_log down
down_port=$(_free_port)
mapping "$down_port" >"$conf"
daemon_start "$conf"
attempts_at_least() { [ "$(grep -c 'reconnecting in' "$DAEMON_LOG")" -ge "$1" ]; }
check "broker down: the daemon keeps trying" wait_for 10 attempts_at_least 3
check "broker down: one warning" test "$(complaints | wc -l)" = 1
check "broker down: ... that the connection was refused" \
	grep -q "warning: cannot connect to 127.0.0.1:$down_port: Connection refused" "$DAEMON_LOG"
check "broker down: not taken for a broker without MQTT 5" not grep -q "3\.1\.1" "$DAEMON_LOG"
saved_port=$BROKER_PORT saved_pid=$BROKER_PID
BROKER_PORT=$down_port
check "broker down: mosquitto starts on that port" _broker_launch
check "broker down: the daemon connects with MQTT 5 once it is up" wait_for 10 \
	grep -q "connected to 127.0.0.1:$down_port (MQTT 5)" "$DAEMON_LOG"
daemon_stop
broker_stop
BROKER_PORT=$saved_port BROKER_PID=$saved_pid

# --- TLS with the system's CAs ------------------------------------------------

# tls_mapping TLS_GROUP: the classroom broker's TLS listener with a password.
tls_mapping() {
	cat <<-EOF
		mqtt = {
		  host = "127.0.0.1"; port = $TLS_PORT; client_id = "gpio2mqtt-tls-$$";
		  username = "gpio2mqtt"; password_file = "$CR_DIR/board.password";
		  base_topic = "gpio2mqtt/tls"; reconnect_delay_max = 2;
		  tls = $1;
		};
		outputs = ( { name = "led"; line = "LED"; } );
	EOF
}

fresh_log tls-system
tls_mapping '{ }' >"$conf"
check "system CAs: --check accepts tls = { }" "$GPIO2MQTT" --check -c "$conf"
# The throw-away CA stands in for the system's store.
SSL_CERT_FILE=$CR_DIR/ca.crt daemon_start "$conf"
check "system CAs: the daemon comes online" wait_msg "$msgs" "gpio2mqtt/tls/status online" 10
check "system CAs: no warnings" test -z "$(complaints)"
daemon_stop

fresh_log tls-unknown-ca
daemon_start "$conf"
check "system CAs without ours: the daemon keeps trying" wait_for 10 attempts_at_least 2
check "system CAs without ours: the certificate is what fails" \
	grep -q "warning: TLS handshake with .* failed: .*(not signed by a CA of the system's store?)" \
	"$DAEMON_LOG"
daemon_stop

fresh_log tls-insecure
tls_mapping '{ insecure = true; }' >"$conf"
: >"$msgs"
daemon_start "$conf"
check "insecure without ca_file: the daemon comes online" wait_msg "$msgs" "gpio2mqtt/tls/status online" 10
daemon_stop

# The TLS listener takes no anonymous clients: a mapping without a username
# is told that the broker wants one, not to check a password it never gave.
fresh_log anonymous
tls_mapping '{ insecure = true; }' | grep -v -e username -e password_file >"$conf"
daemon_start "$conf"
check "anonymous, refused: the daemon keeps trying" wait_for 10 attempts_at_least 2
check "anonymous, refused: told the broker wants a username and password" grep -q \
	'refused the connection: .*(it wants a username and password: set username and password_file)' \
	"$DAEMON_LOG"
daemon_stop

# --- the Eclipse Paho JavaScript client on mosquitto's websockets ------------

NODE_DIR=$REPO/tests/brokers/node
MODULES=$("$NODE_DIR/prepare.sh" --path)/node_modules
fresh_log paho-js
classroom_conf plain "$conf"
: >"$msgs"
daemon_start "$conf"
check "Paho JS: the daemon comes online" wait_msg "$msgs" "public/$BOARD/status online" 10
js_out=$LOG_DIR/paho-client.out
dump_on_fail "$js_out"
js_status=0
timeout -k 5 60 node "$NODE_DIR/paho-client.js" "$MODULES" "ws://127.0.0.1:$WS_PORT/" \
	"public/$BOARD/output/led" "public/$BOARD/led" on ON >"$js_out" 2>&1 || js_status=$?
check "Paho JS on mosquitto's websockets: the LED's state came back" test "$js_status" = 0
check "Paho JS on mosquitto's websockets: the command drove the line" sim_is "$CHIP" "$LED" 1
daemon_stop

# --- two boards with one client_id -------------------------------------------

broker_start || { not_ok "plain broker"; finish; }
dump_on_fail "$BROKER_DIR/mosquitto.log"
sim_chip second second-board 2 "0:LED_B" "1:BUTTON_B" || not_ok "second gpio-sim chip"
fresh_log twin-b
twin_b_log=$DAEMON_LOG
CLIENT_ID=one-for-two mapping "$BROKER_PORT" "" board-b |
	sed 's/"LED"/"LED_B"/; s/"BUTTON"/"BUTTON_B"/' >"$LOG_DIR/twin-b.conf"
daemon_start "$LOG_DIR/twin-b.conf"
twin_b=$DAEMON_PID
fresh_log twin-a
CLIENT_ID=one-for-two mapping "$BROKER_PORT" "" board-a >"$LOG_DIR/twin-a.conf"
daemon_start "$LOG_DIR/twin-a.conf"
hinted() {
	grep -qh 'is another client using client_id "one-for-two"' "$DAEMON_LOG" "$twin_b_log"
}
check "one client_id for two: the hint is logged" wait_for 20 hinted
diag "$(grep -h 'client_id' "$DAEMON_LOG" "$twin_b_log" | head -n 2)"
both_alive() { alive "$DAEMON_PID" && alive "$twin_b"; }
check "one client_id for two: both keep running" both_alive
daemon_stop
stop_pid "$twin_b"
broker_stop

# --- mosquitto with limits ----------------------------------------------------

# limited_broker CONF_LINE: a plain broker with that limit, a subscriber on
# everything, and the daemon on it (qos 1, retained states).
limited_broker() {
	BROKER_EXTRA_CONF=$1 broker_start || return 1
	dump_on_fail "$BROKER_DIR/mosquitto.log"
	lmsgs=$LOG_DIR/limited-$BROKER_PORT.txt
	sub_start "$lmsgs" '#' || return 1
	mapping "$BROKER_PORT" >"$conf"
	daemon_start "$conf"
}

# cmd PAYLOAD: a QoS 0 command (a 3.1.1 client above max_qos is dropped).
cmd() { mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 0 -t "$BASE/output/led/set" -m "$1"; }

fresh_log max-qos
check "max_qos 0: broker" limited_broker "max_qos 0"
check "max_qos 0: the daemon comes online" wait_msg "$lmsgs" "$BASE/status online" 10
check "max_qos 0: the will is lowered, and says so" grep -q \
	'warning: broker .* refused the last will (QoS not supported): sending it with QoS 0' "$DAEMON_LOG"
check "max_qos 0: publishing at QoS 0 is said once" \
	test "$(grep -c 'allows at most QoS 0: publishing at QoS 0 instead of 1' "$DAEMON_LOG")" = 1
cmd on
check "max_qos 0: a command drives the line" wait_for 3 sim_is "$CHIP" "$LED" 1
check "max_qos 0: the state is published" wait_msg "$lmsgs" "$BASE/output/led ON" 3
check "max_qos 0: nothing refused" not grep -q 'cannot publish' "$DAEMON_LOG"
kill -KILL "$DAEMON_PID"
check "max_qos 0: the will says offline" wait_msg "$lmsgs" "$BASE/status offline" 5
sub_stop
broker_stop

fresh_log no-retain
check "retain_available false: broker" limited_broker "retain_available false"
check "retain_available false: the daemon comes online" wait_msg "$lmsgs" "$BASE/status online" 10
check "retain_available false: the will goes unretained, and says so" grep -q \
	'warning: broker .* refused the last will (Retain not supported): sending it with QoS 1, not retained' \
	"$DAEMON_LOG"
check "retain_available false: unretained states are said" grep -q \
	'warning: broker .* keeps no retained messages' "$DAEMON_LOG"
cmd off
check "retain_available false: a command drives the line" wait_for 3 sim_is "$CHIP" "$LED" 0
check "retain_available false: the state is published" wait_msg "$lmsgs" "$BASE/output/led OFF" 3
check "retain_available false: the daemon stays connected" not grep -q 'lost the connection' "$DAEMON_LOG"
daemon_stop
sub_stop
broker_stop

fresh_log max-packet
check "max_packet_size 200: broker" limited_broker "max_packet_size 200"
check "max_packet_size 200: the daemon comes online" wait_msg "$lmsgs" "$BASE/status online" 10
check "max_packet_size 200: the limit is logged" \
	grep -q 'takes packets of at most 200 bytes' "$DAEMON_LOG"
bad=$(printf 'x%.0s' {1..120})
cmd "$bad"
check "max_packet_size 200: the error report arrives" wait_msg "$lmsgs" "$BASE/error \{.*" 3
report=$(grep "^$BASE/error " "$lmsgs" | tail -n 1)
report=${report#"$BASE/error "}
diag "report: $report"
check "max_packet_size 200: ... cut to fit" test "${#report}" -le 180
check "max_packet_size 200: ... with the whole length" grep -q '"length":120' <<<"$report"
check "max_packet_size 200: the daemon stays connected" not grep -q 'lost the connection' "$DAEMON_LOG"
daemon_stop
finish
