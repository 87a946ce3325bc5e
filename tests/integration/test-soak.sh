#!/bin/bash
# SPDX-License-Identifier: MIT
# Soak: the broker is killed (SIGKILL or SIGTERM) and restarted at random
# intervals while commands and input edges keep flowing. Afterwards every
# output holds the last command sent, every input's retained state is its
# line, the daemon never died and its memory did not grow. Also: reconnect
# latency, a broker that stops answering (SIGSTOP), a broker that refuses.
. "$(dirname "$0")/common.sh"

O0=0 O1=1 PROBE=2 I0=3 I1=4
RESTARTS=${G2M_SOAK_RESTARTS:-32}
KEEPALIVE=10
DELAY_MAX=2 # reconnect_delay_max, seconds

sim_chip soak soak-bank 8 "$O0:O0" "$O1:O1" "$PROBE:PROBE" "$I0:I0" "$I1:I1" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP
broker_start || { not_ok "broker"; finish; }
disown "$BROKER_PID" # killed on purpose below: no "Killed" from bash
sim_pull "$CHIP" "$I0" down
sim_pull "$CHIP" "$I1" down

conf=$LOG_DIR/soak.conf
cat >"$conf" <<EOF
mqtt = {
  host = "127.0.0.1";
  port = $BROKER_PORT;
  client_id = "gpio2mqtt-soak-$$";
  keepalive = $KEEPALIVE;
  reconnect_delay_max = $DELAY_MAX;
  qos = 1;
  base_topic = "$BASE";
};
outputs = (
  { name = "o0"; line = "O0"; command_topic = "soak/o0"; },
  { name = "o1"; line = "O1"; command_topic = "soak/o1"; },
  { name = "probe"; line = "PROBE"; command_topic = "soak/probe"; }
);
inputs = (
  { name = "i0"; line = "I0"; },
  { name = "i1"; line = "I1"; }
);
EOF

daemon_start "$conf"
check "daemon comes online" wait_for 5 eval 'test "$(retained "$BASE/status")" = online'

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status"; }
ms_since() { echo $((($(_now_us) - $1) / 1000)); }

# --- background traffic ---------------------------------------------------
STOP_CMDS=$LOG_DIR/stop-commands
STOP_EDGES=$LOG_DIR/stop-edges
SENT=$LOG_DIR/sent.txt # "OUTPUT VALUE" for every command the broker took

# Random on/off commands to o0 and o1; bounded in count and time.
command_loop() {
	local i k v end=$(($(_now_us) + 400000000))
	for ((i = 0; i < 20000; i++)); do
		[ -e "$STOP_CMDS" ] || [ "$(_now_us)" -gt "$end" ] && break
		k=$((RANDOM % 2))
		v=$((RANDOM % 2))
		if mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "soak/o$k" \
			-m "$([ $v = 1 ] && echo on || echo off)" 2>/dev/null; then
			echo "$k $v" >>"$SENT"
		fi
		sleep 0.0$((RANDOM % 5))
	done
}

# Random edges on the inputs, bounded the same way.
edge_loop() {
	local i k end=$(($(_now_us) + 400000000))
	for ((i = 0; i < 40000; i++)); do
		[ -e "$STOP_EDGES" ] || [ "$(_now_us)" -gt "$end" ] && break
		k=$((RANDOM % 2 ? I0 : I1))
		sim_pull "$CHIP" "$k" "$([ $((RANDOM % 2)) = 1 ] && echo up || echo down)"
		sleep 0.0$((RANDOM % 5))
	done
}

# stop_loop PID STOPFILE: asks a loop to end and waits for it (bounded).
stop_loop() {
	touch "$2"
	wait_for 10 dead "$1" || kill "$1"
}

: >"$SENT"
command_loop &
cmd_pid=$!
track "$cmd_pid"
edge_loop &
edge_pid=$!
track "$edge_pid"

# --- broker churn ---------------------------------------------------------
# broker_bounce SIGNAL DOWN_S: kills the broker with SIGNAL, keeps it away for
# DOWN_S seconds and starts a new one on the same port.
broker_bounce() {
	local try
	kill "-$1" "$BROKER_PID" 2>/dev/null
	wait_for 5 dead "$BROKER_PID" || return 1
	sleep "$2"
	for ((try = 0; try < 10; try++)); do
		_broker_launch && disown "$BROKER_PID" && return 0
		stop_pid "$BROKER_PID" 2
	done
	return 1
}

# probe_latency VALUE: publishes VALUE (retained, so it waits for the
# daemon's subscription) on the probe output and prints the milliseconds
# until the line follows; fails after the cap plus 5 s.
probe_latency() {
	local t0=$(_now_us) cmd=off
	[ "$1" = 1 ] && cmd=on
	pub soak/probe "$cmd" -r || return 1
	wait_for $((DELAY_MAX + 5)) sim_is "$CHIP" "$PROBE" "$1" || return 1
	ms_since "$t0"
}

latencies=()
bounced=0
died=0
bad_latency=0
rss_warm=
for ((n = 1; n <= RESTARTS; n++)); do
	sig=KILL
	[ $((RANDOM % 2)) = 1 ] && sig=TERM
	down=0.$((RANDOM % 10))$((RANDOM % 10))
	[ $((RANDOM % 4)) = 0 ] && down=1.$((RANDOM % 5))
	if ! broker_bounce "$sig" "$down"; then
		not_ok "broker restart $n"
		break
	fi
	bounced=$((bounced + 1))
	t0=$(_now_us)
	if ms=$(probe_latency $((n % 2))); then
		latencies+=("$ms")
	else
		bad_latency=$((bad_latency + 1))
		diag "restart $n (SIG$sig, down ${down}s): probe not applied after $(ms_since "$t0") ms"
	fi
	alive "$DAEMON_PID" || died=1
	[ "$died" = 1 ] && break
	# Up for a random while, traffic flowing.
	sleep 0.$((RANDOM % 10))$((RANDOM % 10))
	[ "$n" = 6 ] && rss_warm=$(rss_kb)
done
check "broker killed and restarted $bounced times (at least 30)" test "$bounced" -ge 30
check "daemon never died" test "$died" = 0
check "every restart: the probe command applied within ${DELAY_MAX}s + 5s" \
	test "$bad_latency" = 0

# Latency: from the broker accepting connections to the command applied.
if [ "${#latencies[@]}" -gt 0 ]; then
	sorted=$(printf '%s\n' "${latencies[@]}" | sort -n)
	lat_min=$(echo "$sorted" | head -n 1)
	lat_med=$(echo "$sorted" | sed -n "$(((${#latencies[@]} + 1) / 2))p")
	lat_max=$(echo "$sorted" | tail -n 1)
	diag "reconnect latency: $lat_med ms (median of ${#latencies[@]}; min $lat_min, max $lat_max)"
	# One back-off step (the cap) plus slack for a loaded test machine:
	# starting the publisher alone can take a second there.
	check "reconnect latency within one back-off step: max $lat_max ms <= $((DELAY_MAX * 1000 + 3000)) ms" \
		test "$lat_max" -le $((DELAY_MAX * 1000 + 3000))
fi

# --- the end state --------------------------------------------------------
# Inputs change one last time while the broker is away: the new states must
# be published when the daemon is back.
stop_loop "$edge_pid" "$STOP_EDGES"
kill -KILL "$BROKER_PID"
wait_for 5 dead "$BROKER_PID"
for i in "$I0" "$I1"; do
	if [ "$(sim_value "$CHIP" "$i")" = 1 ]; then sim_pull "$CHIP" "$i" down; else sim_pull "$CHIP" "$i" up; fi
done
sleep 0.3
broker_bounce TERM 0 || not_ok "last broker restart"
check "daemon back online after the last restart" \
	wait_for $((DELAY_MAX + 3)) eval 'test "$(retained "$BASE/status")" = online'
# The first command after the reconnect counts (not retained).
v=$(($(sim_value "$CHIP" "$PROBE") ? 0 : 1))
pub soak/probe "$([ $v = 1 ] && echo on || echo off)"
check "the first command after the reconnect is applied" wait_for 3 sim_is "$CHIP" "$PROBE" "$v"
sleep 1.5 # commands keep flowing to a connected daemon
stop_loop "$cmd_pid" "$STOP_CMDS"

n_sent=$(wc -l <"$SENT")
n_edges=$(grep -c ': edge to' "$DAEMON_LOG")
diag "$n_sent commands sent and $n_edges edges seen during the soak"
check "commands flowed during the soak (at least 100)" test "$n_sent" -ge 100
check "edges flowed during the soak (at least 100)" test "$n_edges" -ge 100
for k in 0 1; do
	last=$(awk -v k="$k" '$1 == k { v = $2 } END { print v }' "$SENT")
	check "output o$k holds the last command sent ($last)" \
		wait_for 3 sim_is "$CHIP" "$k" "$last"
done
for i in 0 1; do
	line=$(sim_value "$CHIP" $((i ? I1 : I0)))
	want=OFF
	[ "$line" = 1 ] && want=ON
	check "input i$i: the retained state is its line ($want)" \
		wait_for 3 eval "test \"\$(retained $BASE/input/i$i)\" = $want"
done
check "daemon alive after the soak" alive "$DAEMON_PID"

# Memory: nothing grows once the first reconnects are behind.
rss_end=$(rss_kb)
diag "RSS after warm-up: ${rss_warm:-?} kB, after $bounced restarts: $rss_end kB"
# AddressSanitizer keeps freed memory in quarantine: RSS grows by design.
if [ "${G2M_MEMCHECK:-}" = sanitizer ]; then
	diag "RSS not checked: AddressSanitizer's quarantine holds freed memory"
else
	check "RSS did not grow after warm-up (${rss_warm:-?} -> $rss_end kB, <= 3 pages)" \
		test "$rss_end" -le $((${rss_warm:-0} + 12))
fi

# --- an idle connection to a live broker ---------------------------------
# Only keep-alive pings flow: the daemon must not take that for a dead broker.
n_conn=$(grep -c 'connected to' "$DAEMON_LOG")
check "idle for two keep-alives: no false alarm" \
	holds $((KEEPALIVE * 2)) eval 'test "$(grep -c "connected to" "$DAEMON_LOG")" = "$n_conn"'
check "no keep-alive alarm during the whole soak" not grep -q 'no answer' "$DAEMON_LOG"

# --- a broker that stops answering ----------------------------------------
# SIGSTOP keeps the socket open: only keep-alive can tell.
mark=$(wc -l <"$DAEMON_LOG")
lost() { tail -n +"$((mark + 1))" "$DAEMON_LOG" | grep -q 'no answer from\|lost the connection'; }
kill -STOP "$BROKER_PID"
t0=$(_now_us)
limit=$KEEPALIVE.5 # the keepalive + scheduling slack
check "stopped broker: the loss is noticed (within ${limit}s)" wait_for "$limit" lost
diag "silent broker noticed after $(ms_since "$t0") ms (keepalive ${KEEPALIVE}s)"
kill -CONT "$BROKER_PID"
check "stopped broker: back online after SIGCONT" \
	wait_for $((KEEPALIVE + DELAY_MAX + 3)) eval 'test "$(retained "$BASE/status")" = online'
v=$(($(sim_value "$CHIP" "$PROBE") ? 0 : 1))
pub soak/probe "$([ $v = 1 ] && echo on || echo off)"
check "stopped broker: commands work again" wait_for 3 sim_is "$CHIP" "$PROBE" "$v"

# --- a broker that refuses ------------------------------------------------
# Wrong password: one warning for the cause, retries with back-off, and a
# connection as soon as the broker accepts.
pwfile=${TMPDIR:-/tmp}/soak-passwords.$$ # tmpfs: mosquitto_passwd fails on hostfs
mosquitto_passwd -c -b "$pwfile" soak right-password >/dev/null 2>&1 ||
	not_ok "mosquitto_passwd"
sed -i 's/^allow_anonymous true$/allow_anonymous false/' "$BROKER_DIR/mosquitto.conf"
echo "password_file $pwfile" >>"$BROKER_DIR/mosquitto.conf"
sed -i "s/^  qos = 1;/  qos = 1;\n  username = \"soak\";\n  password = \"wrong-password\";/" "$conf"
kill -HUP "$DAEMON_PID"
mark=$(wc -l <"$DAEMON_LOG")
since_mark() { tail -n +"$((mark + 1))" "$DAEMON_LOG"; }
# The broker re-reads its files on restart; the daemon reconnects with the
# new (wrong) password.
stop_pid "$BROKER_PID"
mosquitto -c "$BROKER_DIR/mosquitto.conf" >>"$BROKER_DIR/mosquitto.log" 2>&1 &
BROKER_PID=$!
track "$BROKER_PID"
refused() { since_mark | grep -qi 'refused the connection'; }
check "refusing broker: the refusal is logged" wait_for 5 refused
sleep 3
check "refusing broker: daemon keeps running" alive "$DAEMON_PID"
n_warn=$(since_mark | grep -ci 'warning:.*refused the connection')
n_again=$(since_mark | grep -ci 'debug:.*refused the connection.*(again)')
diag "refusal: $n_warn warning(s), $n_again repetitions at debug level in 3 s"
check "refusing broker: one warning for the cause" test "$n_warn" = 1
check "refusing broker: with back-off, not spinning (<= 10 tries in 3 s)" \
	test "$n_again" -le 10
# Back-off with jitter: the second retry may come just after those 3 s.
retried_twice() { [ "$(since_mark | grep -ci 'debug:.*refused the connection.*(again)')" -ge 2 ]; }
check "refusing broker: it keeps retrying" wait_for 5 retried_twice
check "refusing broker: the password is not logged" not grep -q 'wrong-password' "$DAEMON_LOG"
# A broker that takes that password replaces it: the next retry gets in,
# without any help.
mosquitto_passwd -c -b "$pwfile" soak wrong-password >/dev/null 2>&1 ||
	not_ok "mosquitto_passwd"
stop_pid "$BROKER_PID"
mosquitto -c "$BROKER_DIR/mosquitto.conf" >>"$BROKER_DIR/mosquitto.log" 2>&1 &
BROKER_PID=$!
track "$BROKER_PID"
login_works() {
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -u soak -P wrong-password -t soak/x -n 2>/dev/null
}
check "the new broker takes the password" wait_for 5 login_works
connected() { since_mark | grep -q 'connected to'; }
check "refusing broker: connects once the broker accepts" wait_for $((DELAY_MAX + 3)) connected

# --- another client takes over the client_id ------------------------------
# Two daemons with one client_id push each other off the broker: connections
# that short count as failed attempts, so the back-off grows instead of the
# pair reconnecting ten times a second.
twin=$LOG_DIR/twin.conf
sed -n '1,/^};/p' "$conf" >"$twin"
echo "inputs = ( { name = \"twin\"; chip = \"$CHIP\"; line = 6; } );" >>"$twin"
clients() { grep -c "New client connected from .* as gpio2mqtt-soak-$$ (" "$BROKER_DIR/mosquitto.log"; }
c0=$(clients)
"$GPIO2MQTT" -c "$twin" -v >>"$LOG_DIR/twin.log" 2>&1 &
twin_pid=$!
track "$twin_pid"
sleep 4
n_conn=$(($(clients) - c0))
diag "two daemons with one client_id: $n_conn connections in 4 s"
check "one client_id twice: they take turns (at least 3 connections)" test "$n_conn" -ge 3
check "one client_id twice: with back-off (at most 20 connections in 4 s)" \
	test "$n_conn" -le 20
check "one client_id twice: both keep running" eval 'alive "$DAEMON_PID" && alive "$twin_pid"'
stop_pid "$twin_pid"
v=$(($(sim_value "$CHIP" "$PROBE") ? 0 : 1))
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -u soak -P wrong-password -q 1 -r \
	-t soak/probe -m "$([ $v = 1 ] && echo on || echo off)"
check "the twin gone: the daemon is back and takes commands" \
	wait_for $((DELAY_MAX + 3)) sim_is "$CHIP" "$PROBE" "$v"
check "daemon alive at the end" alive "$DAEMON_PID"
finish
