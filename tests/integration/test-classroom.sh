#!/bin/bash
# SPDX-License-Identifier: MIT
# A classroom broker's plain listener, where anonymous clients may use only
# public/#: mappings/classroom-plain.conf works end to end with mosquitto_pub
# and the Python example; "quit" is answered on the error topic; the same
# file on a second board (another host name) keeps its own connection and
# topics, and public/led reaches both; a mapping with topics outside public/#
# gets clear log lines about the refusals.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../classroom/lib.sh"

LED=3 BUTTON=4
PUB_BASE=public/$BOARD
LED_TOPIC=public/$BOARD/led
classroom_rig
conf=$LOG_DIR/plain.conf
classroom_conf plain "$conf"
daemon_start "$conf"
check "daemon comes online on $PUB_BASE/status" wait_msg "$msgs" "$PUB_BASE/status online" 5
check "the button's state is published" wait_msg "$msgs" "public/$BOARD/button OFF" 3

# command PAYLOAD VALUE STATE: a student's anonymous mosquitto_pub to the
# board's own topic.
command() {
	: >"$msgs"
	pub "$LED_TOPIC" "$1"
	check "'$1' on $LED_TOPIC drives the line to $2" wait_for 3 sim_is "$CHIP" "$LED" "$2"
	check "'$1' on $LED_TOPIC publishes $3" wait_msg "$msgs" "$PUB_BASE/output/led $3" 3
}
command on 1 ON
command toggle 0 OFF
command toggle 1 ON
command off 0 OFF
: >"$msgs"
sim_pull "$CHIP" "$BUTTON" down
check "pressing the button publishes ON" wait_msg "$msgs" "public/$BOARD/button ON" 3
sim_pull "$CHIP" "$BUTTON" up
check "releasing the button publishes OFF" wait_msg "$msgs" "public/$BOARD/button OFF" 3
check "an anonymous subscriber reads the LED's state" test "$(mosquitto_sub -h 127.0.0.1 \
	-p "$PLAIN_PORT" -t "$PUB_BASE/output/led" -C 1 -W 3 --retained-only)" = OFF
check "nothing refused" not grep -qi refused "$DAEMON_LOG"

# The microcontroller demos' "quit" (on public/led) ends their loop; here it
# is an error.
: >"$msgs"
pub public/led quit
check "'quit' is answered on $PUB_BASE/error" wait_msg "$msgs" \
	"$PUB_BASE/error \{.*\"payload\" *: *\"quit\".*\}" 3
check "'quit' leaves the line alone" holds 0.5 sim_is "$CHIP" "$LED" 0
check "daemon still running after 'quit'" alive "$DAEMON_PID"
command toggle 1 ON

# The Python example: two toggles, two seconds apart, the button pressed
# between them.
py_out=$LOG_DIR/led_client.out
dump_on_fail "$py_out"
python3 "$CLASSROOM/led_client.py" --port "$PLAIN_PORT" --board "$BOARD" --toggles 2 \
	--interval 2 >"$py_out" 2>&1 &
py_pid=$!
track "$py_pid"
check "Python: receives the retained button state" wait_for 10 grep -qx "button: OFF" "$py_out"
check "Python: its first toggle switches the LED off" wait_for 5 sim_is "$CHIP" "$LED" 0
sim_pull "$CHIP" "$BUTTON" down
check "Python: receives the pressed button" wait_for 5 grep -qx "button: ON" "$py_out"
check "Python: its second toggle switches the LED on" wait_for 5 sim_is "$CHIP" "$LED" 1
check "Python: the script ends" wait_for 10 dead "$py_pid"
py_status=0
wait "$py_pid" || py_status=$?
check "Python: exit status 0" test "$py_status" = 0
check "Python: two toggles sent" test "$(grep -cx 'led: toggle' "$py_out")" = 2
sim_pull "$CHIP" "$BUTTON" up

# A second board with the same file, untouched: another host name (a UTS
# namespace) and a chip of its own whose lines are named LED and BUTTON too.
# Line names must be unique among the chips a daemon sees, so it gets a /dev
# (a mount namespace) with its chip only, as on a board of its own.
BOARD2=uml-board-2
board2_log=$LOG_DIR/gpio2mqtt-$BOARD2.log
dump_on_fail "$board2_log"
if sim_chip classroom2 classroom-board-2 8 "$LED:LED" "$BUTTON:BUTTON"; then
	chip2=$SIM_CHIP
	board2_dev=$TMPDIR/$BOARD2-dev
	mkdir -p "$board2_dev"
	cp -a /dev/null /dev/urandom "/dev/$chip2" "$board2_dev/"
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --uts --mount sh -c 'hostname "$1" && mount --bind "$2" /dev &&
		exec "$3" -c "$4" -v' sh "$BOARD2" "$board2_dev" "$GPIO2MQTT" "$conf" \
		>>"$board2_log" 2>&1 &
	board2_pid=$!
	track "$board2_pid"
	check "$BOARD2: the same file comes online on public/$BOARD2/status" \
		wait_msg "$msgs" "public/$BOARD2/status online" 5
	check "$BOARD2: its button is published on public/$BOARD2/button" \
		wait_msg "$msgs" "public/$BOARD2/button OFF" 3
	two_ids() {
		grep -q "as gpio2mqtt-$BOARD " "$CR_DIR/mosquitto-server.log" &&
			grep -q "as gpio2mqtt-$BOARD2 " "$CR_DIR/mosquitto-server.log"
	}
	check "$BOARD2: the broker sees two client ids" two_ids
	both_connected() {
		alive "$DAEMON_PID" && alive "$board2_pid" &&
			not grep -qE 'lost the connection|keeps taking' "$DAEMON_LOG" "$board2_log"
	}
	check "two boards, one file: both stay connected" holds 3 both_connected
	command off 0 OFF
	: >"$msgs"
	pub public/led on
	check "'on' on public/led drives $BOARD's LED" wait_for 3 sim_is "$CHIP" "$LED" 1
	check "'on' on public/led drives $BOARD2's LED" wait_for 3 sim_is "$chip2" "$LED" 1
	both_on() { count_msg "$msgs" "public/($BOARD|$BOARD2)/output/led ON" | grep -qx 2; }
	check "'on' on public/led publishes both states" wait_for 3 both_on
	pub "public/$BOARD2/led" off
	check "'off' on public/$BOARD2/led drives $BOARD2's LED" wait_for 3 sim_is "$chip2" "$LED" 0
	check "'off' on public/$BOARD2/led leaves $BOARD's alone" holds 1 sim_is "$CHIP" "$LED" 1
	stop_pid "$board2_pid" 5
	sim_remove classroom2
else
	not_ok "$BOARD2: a second gpio-sim chip"
fi
daemon_stop

# The same mapping with its topics moved out of public/#.
private_led='s|"public/\(%h/\)\{0,1\}led"|"private/\1led"|g'
private_button='s|"public/%h/button"|"private/%h/button"|'
PRIVATE_BUTTON=private/$BOARD/button
DAEMON_LOG=$LOG_DIR/gpio2mqtt-private.log
dump_on_fail "$DAEMON_LOG"
classroom_conf plain "$conf" "$private_led" "$private_button"
: >"$msgs"
daemon_start "$conf"
check "outside public/#: daemon comes online" wait_msg "$msgs" "$PUB_BASE/status online" 5
check "outside public/#: the refused publication is logged with its topic" \
	wait_for 5 grep -q "refused the publication on \"$PRIVATE_BUTTON\"" "$DAEMON_LOG"
# mosquitto 2.0 grants the subscription and then delivers nothing its access
# rules deny: the user sees the log line about the publication above and an
# LED that does not react. (Brokers that refuse the subscription itself get a
# log line naming the topic as well.)
check "outside public/#: the LED is off" sim_is "$CHIP" "$LED" 0
mosquitto_pub -h 127.0.0.1 -p "$TLS_PORT" --cafile "$CR_DIR/ca.crt" -u teacher \
	-P "$TEACHER_PASSWORD" -q 1 -t private/led -m on
check "outside public/#: no command reaches the line" holds 1 sim_is "$CHIP" "$LED" 0
sim_pull "$CHIP" "$BUTTON" down
refusals() { [ "$(grep -c "refused the publication on \"$PRIVATE_BUTTON\"" "$DAEMON_LOG")" = "$1" ]; }
check "outside public/#: each refused publication is logged" wait_for 5 refusals 2
check "outside public/#: daemon still running" alive "$DAEMON_PID"
daemon_stop
sim_pull "$CHIP" "$BUTTON" up

# The same, on a broker that refuses the subscription itself.
DAEMON_LOG=$LOG_DIR/gpio2mqtt-dynsec.log
dump_on_fail "$DAEMON_LOG"
check "a broker with the dynamic security plugin" dynsec_start
dump_on_fail "$CR_DIR/mosquitto-dynsec.log"
classroom_conf plain "$conf" "$private_led" "$private_button" \
	"s|^\( *port *= *\)[0-9]*;|\1$DYNSEC_PORT;|"
daemon_start "$conf"
# refused_each N: each of the LED's two command topics' refusals logged N
# times (at least once for N = +).
refused_each() {
	local t n
	for t in private/led "private/$BOARD/led"; do
		n=$(grep -c "error: the broker refused the subscription to \"$t\"" "$DAEMON_LOG")
		if [ "$1" = + ]; then [ "$n" -ge 1 ] || return 1; else [ "$n" = "$1" ] || return 1; fi
	done
}
check "refused subscription: logged with its topic" wait_for 5 refused_each +
check "refused subscription: the publication is refused too" wait_for 5 \
	grep -q "error: the broker refused the publication on \"$PRIVATE_BUTTON\"" "$DAEMON_LOG"
logged_once() { refused_each 1 && [ "$(grep -c 'refused the subscription' "$DAEMON_LOG")" = 2 ]; }
check "refused subscription: logged once" logged_once
check "refused subscription: daemon still running" alive "$DAEMON_PID"
daemon_stop

# Rules that allow exact filters only: the wildcard for the default command
# topics is refused, and each topic is subscribed itself instead.
DAEMON_LOG=$LOG_DIR/gpio2mqtt-literal.log
dump_on_fail "$DAEMON_LOG"
cat >"$conf" <<CONF
mqtt = { host = "127.0.0.1"; port = $DYNSEC_PORT; base_topic = "literal"; };
outputs = (
  { name = "led"; line = "LED"; initial = "off"; },
  { name = "fan"; chip = "$CHIP"; line = 5; initial = "off"; }
);
CONF
daemon_start "$conf"
check "exact filters only: the wildcard's refusal is logged" wait_for 5 grep -q \
	'the broker refused the subscription to "literal/output/+/set": subscribing to each command topic instead' \
	"$DAEMON_LOG"
literal_on() { # NAME OFFSET
	mosquitto_pub -h 127.0.0.1 -p "$DYNSEC_PORT" -q 1 -t "literal/output/$1/set" -m on &&
		wait_for 0.3 sim_is "$CHIP" "$2" 1
}
check "exact filters only: a command reaches the first output" wait_for 5 literal_on led "$LED"
check "exact filters only: a command reaches the second output" wait_for 5 literal_on fan 5
check "exact filters only: no errors" not grep -qE '^gpio2mqtt: error:' "$DAEMON_LOG"
daemon_stop

# A broker that speaks MQTT 3.1.1 only: the daemon falls back to it.
DAEMON_LOG=$LOG_DIR/gpio2mqtt-311.log
old_out=$LOG_DIR/mqtt311.out
dump_on_fail "$DAEMON_LOG" "$old_out"
python3 "$CLASSROOM/mqtt311_broker.py" "$LOG_DIR/mqtt311.port" 30 >"$old_out" 2>&1 &
track $!
check "3.1.1 broker: listening" wait_for 5 test -s "$LOG_DIR/mqtt311.port"
classroom_conf plain "$conf" "s|^\( *port *= *\)[0-9]*;|\1$(cat "$LOG_DIR/mqtt311.port");|"
daemon_start "$conf"
check "3.1.1 broker: the MQTT 5 CONNECT is turned down" \
	wait_for 5 grep -qx "refused level 5" "$old_out"
check "3.1.1 broker: the daemon warns once that it falls back" wait_for 5 \
	grep -q '^gpio2mqtt: warning: broker .* does not speak MQTT 5: using MQTT 3.1.1' "$DAEMON_LOG"
check "3.1.1 broker: it connects with MQTT 3.1.1" wait_for 5 grep -qx "accepted level 4" "$old_out"
check "3.1.1 broker: it publishes online" \
	wait_for 5 grep -qx "publish $PUB_BASE/status" "$old_out"
check "3.1.1 broker: the fall-back is its only warning" \
	test "$(grep -cE '^gpio2mqtt: (warning|error):' "$DAEMON_LOG")" = 1
finish
