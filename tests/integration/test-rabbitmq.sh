#!/bin/bash
# SPDX-License-Identifier: MIT
# The daemon on RabbitMQ 3.10 (Debian's rabbitmq-server, its MQTT and Web MQTT
# plugins; tests/brokers/rabbitmq/), which speaks MQTT 3.1.1 only and hangs
# up on an MQTT 5 CONNECT: with protocol = "auto" the daemon falls back,
# comes online, obeys commands, publishes states, input edges and errors;
# RabbitMQ publishes its will when it is killed; after a restart of the
# broker it reconnects and publishes its states again. Clients: mosquitto_pub
# and mosquitto_sub, Python's paho, and the Eclipse Paho JavaScript client
# over Web MQTT. Most of the test's time goes to RabbitMQ's two starts, 20 to
# 45 s each in the test kernel on an idle host; it fits in the default memory
# (its VM holds about 130 MB, its database on tmpfs 30 MB).
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../brokers/rabbitmq/lib.sh"

LED=3 BUTTON=4
REPO=$(cd "$(dirname "$0")/../.." && pwd)
NODE_DIR=$REPO/tests/brokers/node
MODULES=$("$NODE_DIR/prepare.sh" --path)/node_modules

if rabbit_installed; then
	ok "rabbitmq-server is installed"
else
	not_ok "rabbitmq-server is installed (tests/brokers/rabbitmq/install-deps.sh)"
	finish
fi
sim_chip rabbit rabbit-board 8 "$LED:LED" "$BUTTON:BUTTON" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP

dump_on_fail "$RABBIT_LOG"
if rabbit_start; then
	ok "RabbitMQ listens on MQTT and Web MQTT (started in $RABBIT_START_S s)"
else
	not_ok "RabbitMQ listens on MQTT and Web MQTT"
	finish
fi
msgs=$LOG_DIR/msgs.txt
# lib.sh's clients speak MQTT 3.1.1, as mosquitto_pub and _sub do by default.
sub_start "$msgs" "$BASE/#" || {
	not_ok "a subscriber on RabbitMQ"
	finish
}

# A short reconnect delay: the broker's restart below takes long enough.
conf=$LOG_DIR/rabbit.conf
{
	mqtt_block 30 | sed 's|^\( *base_topic *=.*\)$|\1\n  protocol = "auto";\n  reconnect_delay_max = 2;|'
	cat <<-EOF
		outputs = ( { name = "led"; line = "LED"; initial = "off"; } );
		inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; active_low = true;
		             debounce_ms = 20; } );
	EOF
} >"$conf"
daemon_start "$conf"
check "daemon comes online on $BASE/status" wait_msg "$msgs" "$BASE/status online" 10
check "the daemon's log mentions the fall-back to MQTT 3.1.1" grep -qi '3\.1\.1' "$DAEMON_LOG"
check "the LED's state is published" wait_msg "$msgs" "$BASE/output/led OFF" 3
check "the button's state is published" wait_msg "$msgs" "$BASE/input/button OFF" 3

# How often the daemon connected; it did again since $before; the retained
# payload of TOPIC is VALUE (is_retained TOPIC VALUE).
connects() { grep -c '^gpio2mqtt: connected to ' "$DAEMON_LOG"; }
# shellcheck disable=SC2317 # called through wait_for
reconnected() { [ "$(connects)" -gt "$before" ]; }
# shellcheck disable=SC2317 # called through wait_for
is_retained() { [ "$(retained "$1")" = "$2" ]; }

# led_command PAYLOAD VALUE STATE
led_command() {
	: >"$msgs"
	pub "$BASE/output/led/set" "$1"
	check "'$1' drives the line to $2" wait_for 3 sim_is "$CHIP" "$LED" "$2"
	check "'$1' publishes $3" wait_msg "$msgs" "$BASE/output/led $3" 3
}
led_command on 1 ON
led_command toggle 0 OFF
led_command toggle 1 ON
led_command off 0 OFF
: >"$msgs"
sim_pull "$CHIP" "$BUTTON" down
check "pressing the button publishes ON" wait_msg "$msgs" "$BASE/input/button ON" 3
sim_pull "$CHIP" "$BUTTON" up
check "releasing the button publishes OFF" wait_msg "$msgs" "$BASE/input/button OFF" 3
# RabbitMQ hands retained messages to subscriptions of the exact topic only.
check "RabbitMQ keeps the LED's state retained" test "$(retained "$BASE/output/led")" = OFF

: >"$msgs"
pub "$BASE/output/led/set" quit
check "a bad payload is answered on $BASE/error" wait_msg "$msgs" \
	"$BASE/error \{.*\"payload\" *: *\"quit\".*\}" 3
check "a bad payload leaves the line alone" holds 0.5 sim_is "$CHIP" "$LED" 0

# Python's paho (1.6 API, MQTT 3.1.1): subscribes to the state, sends a
# command, waits for the new state.
py_out=$LOG_DIR/paho.out
dump_on_fail "$py_out"
py_status=0
timeout -k 5 30 python3 - "$RABBIT_MQTT_PORT" "$BASE/output/led" "$BASE/output/led/set" \
	on ON >"$py_out" 2>&1 <<-'PY' || py_status=$?
	import sys
	import time

	import paho.mqtt.client as mqtt

	port, state_topic, command_topic, command, expected = sys.argv[1:6]
	s = {"subscribed": False, "sent": False, "done": False, "failed": False}


	def on_connect(client, userdata, flags, rc):
	    if rc != 0:
	        print("refused:", mqtt.connack_string(rc), flush=True)
	        s["failed"] = True
	        return
	    print("connected", flush=True)
	    client.subscribe(state_topic, qos=1)


	def on_subscribe(client, userdata, mid, granted_qos):
	    print("granted QoS:", granted_qos[0], flush=True)
	    s["subscribed"] = granted_qos[0] < 0x80
	    s["failed"] = not s["subscribed"]


	def on_message(client, userdata, msg):
	    payload = msg.payload.decode("utf-8", "replace")
	    print("retained:" if msg.retain else "state:", payload, flush=True)
	    if s["sent"] and not msg.retain and payload == expected:
	        s["done"] = True


	if hasattr(mqtt, "CallbackAPIVersion"):
	    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1)
	else:
	    client = mqtt.Client()
	client.on_connect = on_connect
	client.on_subscribe = on_subscribe
	client.on_message = on_message
	client.connect("127.0.0.1", int(port), keepalive=30)
	deadline = time.monotonic() + 20
	while time.monotonic() < deadline and not s["done"] and not s["failed"]:
	    client.loop(timeout=0.1)
	    if s["subscribed"] and not s["sent"]:
	        client.publish(command_topic, command, qos=1)
	        s["sent"] = True
	        print("sent:", command, flush=True)
	client.disconnect()
	sys.exit(0 if s["done"] else 1)
PY
check "Python: exit status 0" test "$py_status" = 0
check "Python: got the retained OFF on subscribing" grep -qx 'retained: OFF' "$py_out"
check "Python: its 'on' drove the line" sim_is "$CHIP" "$LED" 1
check "Python: received the state ON" grep -qx 'state: ON' "$py_out"

# The Paho JavaScript client over RabbitMQ's Web MQTT (path /ws).
js_out=$LOG_DIR/paho-client.out
dump_on_fail "$js_out"
if [ -d "$MODULES/ws" ] && [ -d "$MODULES/paho-mqtt" ] && command -v node >/dev/null; then
	js_status=0
	timeout -k 5 60 node "$NODE_DIR/paho-client.js" "$MODULES" \
		"ws://127.0.0.1:$RABBIT_WS_PORT/ws" "$BASE/output/led" "$BASE/output/led/set" \
		toggle OFF >"$js_out" 2>&1 || js_status=$?
	check "Paho JS over Web MQTT: exit status 0" test "$js_status" = 0
	check "Paho JS over Web MQTT: saw the retained ON" grep -qx 'retained: ON' "$js_out"
	check "Paho JS over Web MQTT: its toggle drove the line" sim_is "$CHIP" "$LED" 0
else
	not_ok "node, and the npm packages in $MODULES (tests/brokers/node/prepare.sh)"
fi

check "no warnings but the fall-back and the bad payload" not grep -qP \
	'^gpio2mqtt: (warning|error): (?!ignored a message on "'"$BASE"'/output/led/set"|broker .* does not speak MQTT 5)' \
	"$DAEMON_LOG"

# The will: RabbitMQ publishes it when the connection drops without
# DISCONNECT.
: >"$msgs"
# Disowned first: bash would print "Killed" for its job.
disown "$DAEMON_PID"
kill -KILL "$DAEMON_PID"
check "after SIGKILL: RabbitMQ publishes the will" wait_msg "$msgs" "$BASE/status offline" 5
check "after SIGKILL: offline is retained" test "$(retained "$BASE/status")" = offline

# A restart of the broker. Its retained messages survive it, so stale ones
# are put on the daemon's topics first: only the daemon's publications after
# its reconnection can replace them.
daemon_start "$conf"
check "daemon back online" wait_msg "$msgs" "$BASE/status online" 10
pub "$BASE/output/led" stale -r
pub "$BASE/input/button" stale -r
pub "$BASE/status" stale -r
check "stale retained states in place" test "$(retained "$BASE/output/led")" = stale
sub_stop "$SUB_PID"
before=$(connects)
if rabbit_restart; then
	ok "RabbitMQ restarted (in $RABBIT_START_S s)"
else
	not_ok "RabbitMQ restarted"
	finish
fi
check "after the restart: the daemon reconnects" wait_for 10 reconnected
check "after the restart: online is published" wait_for 10 is_retained "$BASE/status" online
check "after the restart: the LED's state is published" \
	wait_for 5 is_retained "$BASE/output/led" OFF
check "after the restart: the button's state is published" \
	wait_for 5 is_retained "$BASE/input/button" OFF
: >"$msgs"
sub_start "$msgs" "$BASE/#" || not_ok "a subscriber after the restart"
pub "$BASE/output/led/set" on
check "after the restart: a command drives the line" wait_for 3 sim_is "$CHIP" "$LED" 1
check "after the restart: its state is published" wait_msg "$msgs" "$BASE/output/led ON" 3
check "daemon still running" alive "$DAEMON_PID"
daemon_stop

# qos = 2: RabbitMQ 3.10 answers a QoS 2 publication with a PUBACK, a
# protocol error to libmosquitto; MQTT 3.1.1 has no way to announce a
# maximum QoS. The daemon goes on at QoS 1 and says so once.
DAEMON_LOG=$LOG_DIR/gpio2mqtt-qos2.log
dump_on_fail "$DAEMON_LOG"
sed 's|^\( *qos *= *\)1;|\12;|' "$conf" >"$LOG_DIR/qos2.conf"
check "qos 2 mapping" grep -q 'qos = 2;' "$LOG_DIR/qos2.conf"
daemon_start "$LOG_DIR/qos2.conf"
check "qos 2: online" wait_for 10 is_retained "$BASE/status" online
lowered() { grep -q 'broke the connection off at a QoS 2 publication .*: publishing at QoS 1' "$DAEMON_LOG"; }
check "qos 2: the daemon goes on at QoS 1, and says so" wait_for 10 lowered
: >"$msgs"
pub "$BASE/output/led/set" off
check "qos 2: a command drives the line" wait_for 5 sim_is "$CHIP" "$LED" 0
check "qos 2: its state is published" wait_msg "$msgs" "$BASE/output/led OFF" 5
before=$(connects)
check "qos 2: the connection then holds (3 s)" holds 3 not reconnected
check "qos 2: said once" test "$(grep -c 'broke the connection off' "$DAEMON_LOG")" = 1
check "qos 2: no client id hint" not grep -q 'is another client using' "$DAEMON_LOG"
daemon_stop
finish
