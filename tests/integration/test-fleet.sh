#!/bin/bash
# uml-mem: 512M
# A fleet: 100 daemons on one broker, each with its own gpio-sim line and its
# own host name (a UTS namespace each), all sharing one mapping whose client
# id and topics come from %h. All come online; a group command reaches every
# line, a board's own command only its line; after a broker restart (a quick
# one, and one with the broker down 3 s) all come back, spread out by the
# back-off's jitter, with every state right.
# shellcheck disable=SC2317 # predicates, run through check and wait_for
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../fleet/lib.sh"

# BOARDS boards; ONE gets a command of its own. Under a memory checker
# (tests/memcheck) a few boards run the same code, and timings mean nothing.
if [ -n "${G2M_MEMCHECK:-}" ]; then BOARDS=5 ONE=3; else BOARDS=100 ONE=42; fi
DELAY_MAX=5 # reconnect_delay_max, seconds
EARLY_MAX=$((BOARDS / 4)) # reconnects allowed in the first 100 ms

broker_start || { not_ok "broker"; finish; }
dump_on_fail "$BROKER_DIR/mosquitto.log"
sim_chip fleet fleet-bank "$BOARDS" || { not_ok "gpio-sim chip with $BOARDS lines"; finish; }

fleet_confs "$LOG_DIR/boards" "$SIM_CHIP" "$BROKER_PORT" "$BOARDS" "$DELAY_MAX"
ONE_NAME=$(board_name "$ONE")

# lines_at VALUE: how many of the boards' lines drive VALUE.
lines_at() { cat "$SIM_DIR"/sim_gpio*/value | grep -cx "$1"; }
all_lines_at() { [ "$(lines_at "$1")" = "$BOARDS" ]; }

# After ONE's own "off": its line at 0, every other line at 1.
all_but_one_on() { [ "$(lines_at 1)" = $((BOARDS - 1)) ] && sim_is "$SIM_CHIP" "$ONE" 0; }
# FILE: ONE's last state OFF, every other board's ON.
one_off() {
	[ "$(awk -v t="classroom/$ONE_NAME/output/led" '$2 == t { p = $3 } END { print p }' "$1")" = OFF ]
}
others_on() { [ "$(boards_with "$1" output/led ON)" = $((BOARDS - 1)) ]; }
states_right() { others_on "$1" && one_off "$1"; }

mem_available_mb() { awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo; }

# --- one mapping, a hundred host names -------------------------------------

good=0
for ((i = 0; i < BOARDS; i++)); do
	b=$(board_name "$i")
	conf=$LOG_DIR/boards/$b.conf
	out=$("${AS_BOARD[@]}" "$b" "$GPIO2MQTT" --check -c "$conf" 2>"$LOG_DIR/boards/$b.check.err") &&
		[ "$out" = "$conf: 1 output, 0 inputs; broker 127.0.0.1:$BROKER_PORT; client id gpio2mqtt-$b" ] &&
		good=$((good + 1))
done
check "--check in each board's namespace names its own client id ($good of $BOARDS)" \
	test "$good" = "$BOARDS"

msgs=$LOG_DIR/messages.txt
dump_on_fail "$msgs"
timed_sub "$msgs" 'classroom/#' || { not_ok "subscriber"; finish; }

mem_before=$(mem_available_mb)
fleet_start "$LOG_DIR/boards" "$BOARDS" -v
pids=("${FLEET_PIDS[@]}") started=$FLEET_STARTED spawned=$FLEET_SPAWNED
check "all $BOARDS boards say online" wait_for 60 all_boards_with "$msgs" status online
spawn_ms=$(ms_between "$started" "$spawned")
online_ms=$(last_at "$msgs" status online "$started")
diag "starting $BOARDS daemons took $spawn_ms ms; all online $online_ms ms after the first" \
	"was started, $((online_ms - spawn_ms)) ms after the last;" \
	"they take $((mem_before - $(mem_available_mb))) MB of the instance's memory"
check "all $BOARDS publish their LED's state, OFF" \
	wait_for 10 all_boards_with "$msgs" output/led OFF
check "no line driven yet" test "$(lines_at 0)" = "$BOARDS"

# --- commands ---------------------------------------------------------------

sent=$(epoch)
pub classroom/all/led on
check "classroom/all/led on drives all $BOARDS lines to 1" wait_for 20 all_lines_at 1
lines_ms=$(ms_between "$sent" "$(epoch)")
check "... and all $BOARDS states are ON" wait_for 10 all_boards_with "$msgs" output/led ON
# From before mosquitto_pub starts, and from the command's arrival at our
# subscriber (the broker forwards it to the boards at the same time).
forwarded=$(awk -v s="$sent" '$1 >= s && $2 == "classroom/all/led" { print $1; exit }' "$msgs")
diag "group command fan-out: all lines at 1 seen by polling after $lines_ms ms; the last" \
	"ON state $(last_at "$msgs" output/led ON "$sent") ms after mosquitto_pub started," \
	"$(last_at "$msgs" output/led ON "${forwarded:-$sent}") ms after the command was forwarded"

pub "classroom/$ONE_NAME/led" off
check "classroom/$ONE_NAME/led off drives line $ONE to 0" wait_for 10 sim_is "$SIM_CHIP" "$ONE" 0
check "... and no other line" holds 0.5 all_but_one_on
check "... $ONE_NAME's state is OFF" wait_for 5 one_off "$msgs"
check "... every other state still ON" others_on "$msgs"

# --- broker restart ---------------------------------------------------------

# The broker's log with milliseconds (stamp_follow): one clock for its stop
# and start and every board's connection.
stamped=$LOG_DIR/broker-stamped.log
check "the broker's log is followed" stamp_follow "$BROKER_DIR/mosquitto.log" "$stamped"

# restart_fleet NAME CMD...: restarts the broker on its port with CMD and
# checks how the boards come back.
restart_fleet() {
	local name=$1 from down_ms n first median last early early_up busiest
	shift
	from=$(($(wc -l <"$stamped") + 1))
	sub_stop "$SUB_PID"
	check "$name: broker restarted on port $BROKER_PORT" "$@"
	msgs2=$LOG_DIR/messages-$name.txt
	dump_on_fail "$msgs2"
	timed_sub "$msgs2" 'classroom/#' || not_ok "$name: subscriber"
	check "$name: all $BOARDS boards reconnect" wait_for $((DELAY_MAX * 3)) reconnected "$stamped" "$from"
	check "$name: all $BOARDS boards say online again" \
		wait_for 10 all_boards_with "$msgs2" status online

	reconnects "$stamped" "$from" >"$LOG_DIR/reconnects-$name.txt"
	dump_on_fail "$LOG_DIR/reconnects-$name.txt"
	down_ms=$(sed -n 's/^up //p' "$LOG_DIR/reconnects-$name.txt")
	read -r n first median last early early_up busiest < <(spread "$LOG_DIR/reconnects-$name.txt" 1)
	diag "$name: broker down for $down_ms ms; $n connections accepted after its start:" \
		"first at $first ms, median $median ms, last $last ms"
	diag "$name: in the first 100 ms: $early after the first, $early_up after the start;" \
		"at most $busiest in any 100 ms"
	if [ -z "${G2M_MEMCHECK:-}" ]; then
		check "$name: no more than $EARLY_MAX connect in the first 100 ms after the first ($early)" \
			test "$early" -le "$EARLY_MAX"
		check "$name: ... nor in any other 100 ms ($busiest)" test "$busiest" -le "$EARLY_MAX"
		check "$name: all back within $((DELAY_MAX + 2)) s of the start (the last at $last ms)" \
			awk -v l="$last" -v max=$((DELAY_MAX + 2)) 'BEGIN { exit !(l <= max * 1000) }'
	fi
	read -r n first median last early early_up busiest < <(spread "$LOG_DIR/reconnects-$name.txt" 2)
	diag "$name: their CONNECTs taken: first at $first ms, median $median ms, last $last ms;" \
		"$early in the 100 ms after the first"

	# The test broker keeps nothing over a restart: these are republished.
	check "$name: every state republished, ON but $ONE_NAME's" wait_for 10 others_on "$msgs2"
	check "$name: ... $ONE_NAME's OFF" one_off "$msgs2"
	mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t 'classroom/+/output/led' --retained-only \
		-F '%U %t %p' -C "$BOARDS" -W 5 >"$LOG_DIR/retained-$name.txt" 2>&1
	check "$name: the broker holds them retained" states_right "$LOG_DIR/retained-$name.txt"
	check "$name: the lines kept their values" all_but_one_on
}

# broker_restart_after SECONDS: broker_restart, the broker kept down longer.
broker_restart_after() {
	local try
	broker_stop || return 1
	sleep "$1"
	for ((try = 0; try < 10; try++)); do
		_broker_launch && return 0
		stop_pid "$BROKER_PID" 2
	done
	return 1
}

# A restart as broker_restart does it (as quick as the broker stops and
# starts), then one that keeps the broker down 3 s: the jitter spreads the
# boards over the back-off step each is in when the broker is back.
restart_fleet restart broker_restart
# The back-off starts again from its first step only after a connection
# that lasted a second.
sleep 1.5
restart_fleet outage broker_restart_after 3

# --- the end ----------------------------------------------------------------

running=0
for p in "${pids[@]}"; do alive "$p" && running=$((running + 1)); done
check "all $BOARDS daemons still run ($running)" test "$running" = "$BOARDS"
kill -TERM "${pids[@]}" 2>/dev/null
none_alive() {
	local p
	for p in "${pids[@]}"; do alive "$p" && return 1; done
	return 0
}
check "all stop on SIGTERM" wait_for 20 none_alive
check "... saying offline" wait_for 5 all_boards_with "$msgs2" status offline
finish
