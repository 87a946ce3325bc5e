#!/bin/bash
# SPDX-License-Identifier: MIT
# uml-mem: 384M
# The daemon on a two-node RabbitMQ cluster (tests/brokers/rabbitmq/), with
# hosts = ( node A, node B ): it connects to A, a client on B commands it and
# sees its states (routed across the cluster); then A's VM is killed and the
# daemon carries on through B, where it publishes its states again: RabbitMQ
# keeps retained messages per node, so B had none of them. lib.sh mirrors the
# MQTT subscription queues on both nodes: without that, B breaks off the
# daemon's SUBSCRIBE once A is gone. Most of the time goes to the nodes'
# starts (one after the other), 40 to 50 s for both in the test kernel on an
# idle host, 70 on a busy one. With both up, 180 MB of memory is in use (it
# passed in 256M).
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../brokers/rabbitmq/lib.sh"

LED=3 BUTTON=4

if rabbit_installed; then
	ok "rabbitmq-server is installed"
else
	not_ok "rabbitmq-server is installed (tests/brokers/rabbitmq/install-deps.sh)"
	finish
fi
sim_chip rabbit-cluster cluster-board 8 "$LED:LED" "$BUTTON:BUTTON" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP

dump_on_fail "$LOG_DIR/rabbitmq-a/rabbit.log" "$LOG_DIR/rabbitmq-b/rabbit.log"
if rabbit_cluster_start; then
	ok "two nodes up, B in A's cluster (A in $RABBIT_A_START_S s, B in $RABBIT_B_START_S s)"
else
	not_ok "two nodes up, B in A's cluster"
	finish
fi
A=$RABBIT_A_MQTT_PORT B=$RABBIT_B_MQTT_PORT
# The test's clients use node B.
BROKER_PORT=$B
msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" "$BASE/#" || {
	not_ok "a subscriber on node B"
	finish
}

conf=$LOG_DIR/cluster.conf
cat >"$conf" <<-EOF
	mqtt = {
	  hosts = ( "127.0.0.1:$A", "127.0.0.1:$B" );
	  protocol = "3.1.1";
	  client_id = "gpio2mqtt-$TEST_NAME-$$";
	  keepalive = 30;
	  qos = 1;
	  base_topic = "$BASE";
	  reconnect_delay_max = 2;
	};
	outputs = ( { name = "led"; line = "LED"; initial = "off"; } );
	inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; active_low = true;
	             debounce_ms = 20; } );
EOF
daemon_start "$conf"

# connected_to PORT: the daemon's log names that node's last connection.
# shellcheck disable=SC2317 # called through wait_for
connected_to() {
	grep '^gpio2mqtt: connected to ' "$DAEMON_LOG" | tail -n 1 |
		grep -q "connected to 127\.0\.0\.1:$1 (MQTT 3\.1\.1)"
}
check "the daemon connects to node A first" wait_for 10 connected_to "$A"
check "online reaches a subscriber on node B" wait_msg "$msgs" "$BASE/status online" 10
check "the LED's state reaches node B" wait_msg "$msgs" "$BASE/output/led OFF" 3
check "the button's state reaches node B" wait_msg "$msgs" "$BASE/input/button OFF" 3

: >"$msgs"
pub "$BASE/output/led/set" on
check "a command on node B drives the line" wait_for 5 sim_is "$CHIP" "$LED" 1
check "its state reaches node B" wait_msg "$msgs" "$BASE/output/led ON" 3
sim_pull "$CHIP" "$BUTTON" down
check "pressing the button publishes ON, seen on node B" \
	wait_msg "$msgs" "$BASE/input/button ON" 3
diag "retained on node B before the switch: LED '$(retained "$BASE/output/led")'," \
	"button '$(retained "$BASE/input/button")'"
# vm_mb ID: the most memory node ID's VM has held, in MB.
vm_mb() {
	local pid=RABBIT_${1}_PID
	echo $(($(awk '/^VmHWM:/ { print $2 }' "/proc/${!pid}/status") / 1024))
}
diag "memory in use: $(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 }
	END { printf "%d of %d MB", (t - a) / 1024, t / 1024 }' /proc/meminfo);" \
	"the VMs' peaks: A $(vm_mb A) MB, B $(vm_mb B) MB"

: >"$msgs"
t_kill=$(_now_us)
check "node A killed (SIGKILL to its VM)" rabbit_kill A
# shellcheck disable=SC2317 # called through wait_for
lost_a() { grep -q "lost the connection to 127\.0\.0\.1:$A" "$DAEMON_LOG"; }
check "the daemon logs the lost connection to node A" wait_for 10 lost_a
check "the daemon connects to node B" wait_for 20 connected_to "$B"
if wait_msg "$msgs" "$BASE/status online" 10; then
	t_online=$((($(_now_us) - t_kill) / 100000))
	ok "online is published on node B"
	diag "from killing node A to online via node B: $((t_online / 10)).$((t_online % 10)) s"
else
	not_ok "online is published on node B"
fi
check "the LED's state is published again on node B" wait_msg "$msgs" "$BASE/output/led ON" 3
check "the button's state is published again on node B" \
	wait_msg "$msgs" "$BASE/input/button ON" 3
# shellcheck disable=SC2317 # called through wait_for
is_retained() { [ "$(retained "$1")" = "$2" ]; }
check "node B keeps the LED's state retained" wait_for 5 is_retained "$BASE/output/led" ON
check "node B keeps the button's state retained" wait_for 5 is_retained "$BASE/input/button" ON
check "node B keeps online retained" wait_for 5 is_retained "$BASE/status" online

: >"$msgs"
pub "$BASE/output/led/set" off
check "after the switch: a command on node B drives the line" wait_for 5 sim_is "$CHIP" "$LED" 0
check "after the switch: its state is published" wait_msg "$msgs" "$BASE/output/led OFF" 3
check "the daemon still runs" alive "$DAEMON_PID"
check "no warnings but the lost connection to node A" not grep -qP \
	"^gpio2mqtt: (warning|error): (?!lost the connection to 127\.0\.0\.1:$A:)" "$DAEMON_LOG"
daemon_stop
finish
