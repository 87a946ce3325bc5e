# SPDX-License-Identifier: MIT
# Helpers for the daemon's integration tests; sourced after nothing else:
#   . "$(dirname "$0")/common.sh"
# GPIO2MQTT names the daemon binary (run-all.sh passes it).
. "$(dirname "${BASH_SOURCE[0]}")/../uml/lib.sh"

BASE=gpio2mqtt
DAEMON_LOG=$LOG_DIR/gpio2mqtt.log
dump_on_fail "$DAEMON_LOG"

if [ -z "${GPIO2MQTT:-}" ] || [ ! -x "$GPIO2MQTT" ]; then
	not_ok "daemon binary '${GPIO2MQTT:-}' (set GPIO2MQTT)"
	finish
fi

# daemon_start CONF [ARGS...]: the daemon in the background, verbose, its
# output in DAEMON_LOG. Sets DAEMON_PID.
daemon_start() {
	local conf=$1
	shift
	echo "=== $(date +%T) gpio2mqtt -c $conf -vv $*" >>"$DAEMON_LOG"
	"$GPIO2MQTT" -c "$conf" -vv "$@" >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	track "$DAEMON_PID"
}

# daemon_exit_status TIMEOUT_S: waits for the daemon to end and sets
# DAEMON_STATUS; fails when it is still running after TIMEOUT_S.
daemon_exit_status() {
	wait_for "$1" dead "$DAEMON_PID" || return 1
	DAEMON_STATUS=0
	wait "$DAEMON_PID" || DAEMON_STATUS=$?
}

# daemon_stop: SIGTERM and a bounded wait; SIGKILL when it lingers.
daemon_stop() { stop_pid "$DAEMON_PID" 5; }

# mqtt_block [KEEPALIVE]: the "mqtt" group of a mapping for the test broker.
mqtt_block() {
	cat <<-EOF2
		mqtt = {
		  host = "127.0.0.1";
		  port = $BROKER_PORT;
		  client_id = "gpio2mqtt-$TEST_NAME-$$";
		  keepalive = ${1:-30};
		  qos = 1;
		  base_topic = "$BASE";
		};
	EOF2
}

# online FILE TIMEOUT_S: the daemon announced itself on the status topic.
online() { wait_msg "$1" "$BASE/status online" "$2"; }

# retained TOPIC: the retained payload of TOPIC, from a fresh subscriber.
retained() {
	mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t "$1" -C 1 -W 2 --retained-only 2>/dev/null
}

# last_msg FILE TOPIC: payload of the last message seen on TOPIC.
last_msg() {
	awk -v t="$2 " 'index($0, t) == 1 { p = substr($0, length(t) + 1) } END { print p }' "$1"
}
