#!/bin/bash
# A classroom broker's plain listener, where anonymous clients may use only
# public/#: mappings/classroom-plain.conf works end to end with mosquitto_pub
# and the Python example; "quit" is answered on the error topic; a mapping
# with topics outside public/# gets clear log lines about the refusals.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../classroom/lib.sh"

LED=3 BUTTON=4
PUB_BASE=public/gpio2mqtt
classroom_rig
conf=$LOG_DIR/plain.conf
classroom_conf plain "$conf"
daemon_start "$conf"
check "daemon comes online on $PUB_BASE/status" wait_msg "$msgs" "$PUB_BASE/status online" 5
check "the button's state is published" wait_msg "$msgs" "public/button OFF" 3

# command PAYLOAD VALUE STATE: a student's anonymous mosquitto_pub.
command() {
	: >"$msgs"
	pub public/led "$1"
	check "'$1' on public/led drives the line to $2" wait_for 3 sim_is "$CHIP" "$LED" "$2"
	check "'$1' on public/led publishes $3" wait_msg "$msgs" "$PUB_BASE/output/led $3" 3
}
command on 1 ON
command toggle 0 OFF
command toggle 1 ON
command off 0 OFF
: >"$msgs"
sim_pull "$CHIP" "$BUTTON" down
check "pressing the button publishes ON" wait_msg "$msgs" "public/button ON" 3
sim_pull "$CHIP" "$BUTTON" up
check "releasing the button publishes OFF" wait_msg "$msgs" "public/button OFF" 3
check "an anonymous subscriber reads the LED's state" test "$(mosquitto_sub -h 127.0.0.1 \
	-p "$PLAIN_PORT" -t "$PUB_BASE/output/led" -C 1 -W 3 --retained-only)" = OFF
check "nothing refused" not grep -qi refused "$DAEMON_LOG"

# The microcontroller demos' "quit" ends their loop; here it is an error.
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
python3 "$CLASSROOM/led_client.py" --port "$PLAIN_PORT" --toggles 2 --interval 2 \
	>"$py_out" 2>&1 &
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
daemon_stop

# The same mapping with its topics moved out of public/#.
DAEMON_LOG=$LOG_DIR/gpio2mqtt-private.log
dump_on_fail "$DAEMON_LOG"
classroom_conf plain "$conf" 's|"public/led"|"private/led"|' \
	's|"public/button"|"private/button"|'
: >"$msgs"
daemon_start "$conf"
check "outside public/#: daemon comes online" wait_msg "$msgs" "$PUB_BASE/status online" 5
check "outside public/#: the refused publication is logged with its topic" \
	wait_for 5 grep -q 'refused the publication on "private/button"' "$DAEMON_LOG"
# mosquitto 2.0 grants the subscription and then delivers nothing its access
# rules deny: the user sees the log line about the publication above and an
# LED that does not react. (Brokers that refuse the subscription itself get a
# log line naming the topic as well.)
check "outside public/#: the LED is off" sim_is "$CHIP" "$LED" 0
mosquitto_pub -h 127.0.0.1 -p "$TLS_PORT" --cafile "$CR_DIR/ca.crt" -u teacher \
	-P "$TEACHER_PASSWORD" -q 1 -t private/led -m on
check "outside public/#: no command reaches the line" holds 1 sim_is "$CHIP" "$LED" 0
sim_pull "$CHIP" "$BUTTON" down
refusals() { [ "$(grep -c 'refused the publication on "private/button"' "$DAEMON_LOG")" = "$1" ]; }
check "outside public/#: each refused publication is logged" wait_for 5 refusals 2
check "outside public/#: daemon still running" alive "$DAEMON_PID"
daemon_stop
sim_pull "$CHIP" "$BUTTON" up

# The same, on a broker that refuses the subscription itself.
DAEMON_LOG=$LOG_DIR/gpio2mqtt-dynsec.log
dump_on_fail "$DAEMON_LOG"
check "a broker with the dynamic security plugin" dynsec_start
dump_on_fail "$CR_DIR/mosquitto-dynsec.log"
classroom_conf plain "$conf" 's|"public/led"|"private/led"|' \
	's|"public/button"|"private/button"|' \
	"s|^\( *port *= *\)[0-9]*;|\1$DYNSEC_PORT;|"
daemon_start "$conf"
check "refused subscription: logged with its topic" wait_for 5 \
	grep -q 'error: the broker refused the subscription to "private/led"' "$DAEMON_LOG"
check "refused subscription: the publication is refused too" wait_for 5 \
	grep -q 'error: the broker refused the publication on "private/button"' "$DAEMON_LOG"
check "refused subscription: logged once" \
	test "$(grep -c 'refused the subscription' "$DAEMON_LOG")" = 1
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
