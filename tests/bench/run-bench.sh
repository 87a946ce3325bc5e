#!/bin/bash
# The benchmark, inside the test kernel (tests/uml/run.sh): echo, gpio2mqtt
# and the do-it-yourself pipeline, one after the other, against the same
# gpio-sim lines, broker and driver. Round trips first against mosquitto as
# installed, then everything against a tuned one; last, a fleet of each
# (group commands, and gpio2mqtt's reconnects). Appends "CONTESTANT FIGURE
# VALUE" lines to $G2M_BENCH_OUT/results.txt and latency samples next to it.
#   GPIO2MQTT        the daemon binary
#   G2M_BENCH_BIN    directory holding the built drive and echo
#   G2M_BENCH_OUT    host directory for the results (mounted writable here)
#   G2M_BENCH_QUICK  1: small counts, a smoke run
# Exits non-zero when a contestant does not work.
. "$(dirname "$0")/../uml/lib.sh"
. "$(dirname "$0")/../fleet/lib.sh"
. "$(dirname "$0")/run-timed.sh"
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
OUT=$G2M_BENCH_OUT
DRIVE=$G2M_BENCH_BIN/drive
ECHO=$G2M_BENCH_BIN/echo
mount -t hostfs hostfs "$OUT" -o "$OUT" || { not_ok "mount $OUT"; finish; }
RESULTS=$OUT/results.txt
: >"$RESULTS"

if [ "${G2M_BENCH_QUICK:-0}" = 1 ]; then
	RT=100 STALL=20 FLOOD=300 DIY_FLOOD=30 EDGES=50 BURST=100 IDLE=3 LONG=1000 REPEAT=2 ROUNDS=1
	FLEET=20 FANOUT=10 PULSE_N=20
else
	RT=2000 STALL=100 FLOOD=10000 DIY_FLOOD=1000 EDGES=500 BURST=1000 IDLE=60 LONG=100000 REPEAT=5 ROUNDS=4
	FLEET=100 FANOUT=200 PULSE_N=200
fi
NOUT=4 NIN=4        # the standard mapping: 8 lines
SCALE_CHIPS=4 SCALE_PER_CHIP=250
# Bigger mappings have this many inputs, the rest are outputs: the test
# kernel has few interrupts for gpio-sim's edge detection (about 30 lines).
SCALE_INPUTS=16
# How this kernel traps system calls: seccomp needs 6.16 or later, and an
# older one ignores the request.
trap_mode() {
	local v major minor
	v=$(uname -r)
	major=${v%%.*} minor=${v#*.} minor=${minor%%[!0-9]*}
	if [ "${G2M_UML_SECCOMP:-auto}" = off ] || [ "$major" -lt 6 ] ||
		{ [ "$major" = 6 ] && [ "$minor" -lt 16 ]; }; then
		echo off
	else
		echo "${G2M_UML_SECCOMP:-auto}"
	fi
}
echo "quick=${G2M_BENCH_QUICK:-0} rounds=$ROUNDS rt=$RT stall=$STALL flood=$FLOOD diy_flood=$DIY_FLOOD edges=$EDGES burst=$BURST idle=$IDLE long=$LONG fleet=$FLEET fanout=$FANOUT pulses=$PULSE_N uml_seccomp=$(trap_mode) uml_cpu=${G2M_UML_CPU:-auto}" >"$OUT/settings.txt"

# --- setup ---------------------------------------------------------------

sim_chip bench bench $((NOUT + NIN)) || { not_ok "gpio-sim chip"; finish; }
CHIP=$SIM_CHIP
VALUES=()
for ((k = 0; k < NOUT; k++)); do VALUES+=(-V "$SIM_DIR/sim_gpio$k/value"); done
PULL=$SIM_DIR/sim_gpio$NOUT/pull
for ((c = 0; c < SCALE_CHIPS; c++)); do
	sim_chip "scale$c" "bench-s$c" "$SCALE_PER_CHIP" || { not_ok "gpio-sim chip scale$c"; finish; }
done

# broker tuned|untuned|fleet [PORT]: a broker that logs little (logging
# every message would be its main cost) and queues a flood whole. Tuned, it
# answers without Nagle's delay; untuned, it writes as mosquitto as installed
# does, where a small write waits for the ACK of the one before. The fleet's
# is tuned and logs connections too, for the reconnects after a restart.
broker() {
	local nodelay="" more=""
	[ "$1" = untuned ] || nodelay="set_tcp_nodelay true"
	[ "$1" != fleet ] || more=$'log_type notice\nlog_type information\nconnection_messages true'
	BROKER_PORT=${2:-$((20000 + RANDOM % 40000))}
	cat >"$LOG_DIR/mosquitto-$1.conf" <<-EOF
		listener $BROKER_PORT 127.0.0.1
		allow_anonymous true
		persistence false
		user root
		$nodelay
		max_queued_messages 0
		log_dest stderr
		log_type error
		log_type warning
		$more
	EOF
	mosquitto -c "$LOG_DIR/mosquitto-$1.conf" >>"$LOG_DIR/mosquitto-$1.log" 2>&1 &
	BROKER_PID=$!
	track "$BROKER_PID"
	wait_for 5 mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t bench/probe -n 2>/dev/null
}
dump_on_fail "$LOG_DIR/mosquitto-untuned.log" "$LOG_DIR/mosquitto-tuned.log" \
	"$LOG_DIR/mosquitto-fleet.log"

# conf FILE OUTPUTS INPUTS: a mapping; the standard one (8 lines) on the bench
# chip, bigger ones spread over the scale chips, oK and iK in order.
conf() {
	local file=$1 nout=$2 nin=$3 i chip line
	# keepalive = 60 announces a 30 s MQTT keep-alive, as echo's.
	{
		cat <<-EOF
			mqtt = { host = "127.0.0.1"; port = $BROKER_PORT; client_id = "bench-gpio2mqtt";
			         keepalive = 60; qos = 1; base_topic = "bench"; };
		EOF
		for ((i = 0; i < nout + nin; i++)); do
			if [ $((nout + nin)) -eq $((NOUT + NIN)) ]; then
				chip=bench line=$i
			else
				chip=bench-s$((i / SCALE_PER_CHIP)) line=$((i % SCALE_PER_CHIP))
			fi
			if [ "$i" -eq 0 ]; then echo "outputs = ("; fi
			if [ "$i" -eq "$nout" ]; then echo "); inputs = ("; fi
			[ "$i" -eq 0 ] || [ "$i" -eq "$nout" ] || echo ","
			if [ "$i" -lt "$nout" ]; then
				printf '{ name = "o%d"; chip = "%s"; line = %d; }\n' "$i" "$chip" "$line"
			else
				printf '{ name = "i%d"; chip = "%s"; line = %d; debounce_ms = 0; }\n' \
					$((i - nout)) "$chip" "$line"
			fi
		done
		echo ");"
	} >"$file"
}

# --- contestants ---------------------------------------------------------

drive() { "$DRIVE" -p "$BROKER_PORT" "$@"; }

# fig WHO DESC RENAME CMD...: runs the driver; its "FIGURE VALUE" lines go to
# the results (or to $FIG_TO) as "WHO FIGURE VALUE" after the sed expression
# RENAME.
fig() {
	local who=$1 desc=$2 rename=$3 tmp=$LOG_DIR/figures.txt
	shift 3
	if "$@" >"$tmp" 2>>"$LOG_DIR/drive.log"; then
		sed -e "$rename" -e "s/^/$who /" "$tmp" >>"${FIG_TO:-$RESULTS}"
		ok "$who: $desc"
	else
		not_ok "$who: $desc"
		tail -n 3 "$LOG_DIR/drive.log" | sed 's/^/#   /'
		return 1
	fi
}

status_online() {
	[ "$(mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t bench/status -C 1 -W 2 \
		--retained-only 2>/dev/null)" = online ]
}

# Every process of a contestant: ROOT and its descendants.
tree() {
	local child
	echo "$1"
	for child in $(ps -o pid= --ppid "$1"); do tree "$child"; done
}

# pid_args ROOT [COMM]: "-P PID" for each process of the tree, but those
# running COMM (short-lived ones whose CPU time their parent collects).
pid_args() {
	local p
	for p in $(tree "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" != "${2:-}" ] && printf -- '-P %s ' "$p"
	done
}

stop_tree() {
	local p
	for p in $(tree "$1" | tac); do stop_pid "$p" 2; done
}

start_echo() { # QOS
	"$ECHO" "$BROKER_PORT" 'bench/+/+/set' bench/status "$1" 2>>"$LOG_DIR/echo.log" &
	ROOT=$!
	track "$ROOT"
	wait_for 10 status_online
}

retained_input() { # K: the state of input iK is retained
	[ -n "$(mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t "bench/input/i$1" -C 1 -W 2 \
		--retained-only 2>/dev/null)" ]
}

# start_gpio2mqtt CONF INPUTS: ready once online and its initial states (the
# last one is that of the last input) are out.
start_gpio2mqtt() {
	local last=$(($2 - 1))
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -r -t "bench/input/i$last" -n
	"$GPIO2MQTT" -c "$1" >>"$LOG_DIR/gpio2mqtt.log" 2>&1 &
	ROOT=$!
	track "$ROOT"
	wait_for 20 status_online && wait_for 30 retained_input "$last"
}

start_diy() {
	"$here/diy-outputs.sh" "$BROKER_PORT" "$CHIP" >>"$LOG_DIR/diy.log" 2>&1 &
	ROOT=$!
	track "$ROOT"
	"$here/diy-inputs.sh" "$BROKER_PORT" "$CHIP" "$NOUT" "$NIN" >>"$LOG_DIR/diy.log" 2>&1 &
	DIY_INPUTS=$!
	track "$DIY_INPUTS"
	# Ready once a command and an edge went through.
	wait_for 30 drive -T 3 -n 2 -k 1 "${VALUES[@]:0:2}" roundtrip >/dev/null 2>&1 &&
		wait_for 30 drive -T 3 -n 2 -f "$PULL" edges >/dev/null 2>&1
}

stop_contestant() { # NAME
	stop_tree "$ROOT"
	[ "$1" != diy ] || stop_tree "$DIY_INPUTS"
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -r -t bench/status -m offline
}

# start_contestant NAME: echo0 is echo at QoS 0, the limit for round trips:
# at QoS 1 echo would wait for the broker's PUBACK as gpio2mqtt does, and on
# an untuned broker stall with it.
start_contestant() {
	case $1 in
	echo) start_echo 1 ;;
	echo0) start_echo 0 ;;
	gpio2mqtt) start_gpio2mqtt "$LOG_DIR/std.conf" "$NIN" ;;
	diy) start_diy ;;
	esac
}

# Latencies and floods, in rounds that take turns between the contestants so
# that a busy spell of the machine does not fall on one of them alone; the
# latencies are over the samples of every round. echo's input figure is its
# forwarding.
#
# round_trip NAME ROUND tuned|untuned: RT / ROUNDS commands, one at a time,
# their samples added to rt-NAME.txt or rt-untuned-NAME.txt (lines found late
# are counted over both brokers).
round_trip() {
	local values=() file=$OUT/rt-$1.txt
	[ "$3" = tuned ] || file=$OUT/rt-$3-$1.txt
	[ "${1%0}" = echo ] || values=("${VALUES[@]}")
	fig "${1%0}" "round trip, $1, $3 broker, round $2" '/^rt_p/d; /^rt_max/d' \
		drive -n $((RT / ROUNDS)) -k "$NOUT" "${values[@]}" -s "$file" roundtrip
}

# rt_figures NAME [PREFIX [FILE]]: the round-trip figures over every round.
rt_figures() {
	fig "${1%0}" "round trip over $RT commands${2:+ (${2%_})}" "s/^rt_/${2:-}rt_/" \
		drive -s "$OUT/rt-${3:-$1}.txt" stats rt
}

# ready NAME ROUND: starts the contestant, or says it did not.
ready() {
	start_contestant "$1" && return
	not_ok "$1 is ready (round $2)"
	stop_contestant "$1"
	return 1
}

# untuned_round_trips: round trips of echo at QoS 0 and of gpio2mqtt against
# mosquitto as installed, in rounds; then a few of echo at QoS 1, which show
# the stall the daemon must avoid (no limit: it has the stall itself).
untuned_round_trips() {
	local round name
	for ((round = 1; round <= ROUNDS; round++)); do
		for name in echo0 gpio2mqtt; do
			ready "$name" "$round" || return 1
			round_trip "$name" "$round" untuned || { stop_contestant "$name"; return 1; }
			stop_contestant "$name"
		done
	done
	for name in echo0 gpio2mqtt; do rt_figures "$name" untuned_ "untuned-$name"; done
	ready echo 1 || return 1
	fig echo "round trip at QoS 1, untuned broker, $STALL commands" 's/^/untuned_qos1_/' \
		drive -n "$STALL" -k "$NOUT" roundtrip
	stop_contestant echo
}

one_round() { # NAME ROUND
	local name=$1 input=()
	[ "$name" = echo ] || input=(-f "$PULL")
	fig "$name" "input latency, round $2" '/^edge_/d' drive -n $((EDGES / ROUNDS)) \
		"${input[@]}" -s "$OUT/edge-$name.txt" edges &&
		flood_round "$name" "$2"
}

# flood_round NAME ROUND: a whole flood; its figures go to floods.txt, of
# which flood_figures reports the round of median duration.
flood_round() {
	local name=$1 values=() flood=$FLOOD lasting
	lasting=$(pid_args "$ROOT" gpioset)
	[ "$name" = echo ] || values=("${VALUES[@]}")
	[ "$name" != diy ] || flood=$DIY_FLOOD
	# shellcheck disable=SC2086 # lasting holds "-P N" pairs
	FIG_TO=$LOG_DIR/floods.txt fig "$name" "flood of $flood, round $2" '' \
		drive -n "$flood" -k "$NOUT" "${values[@]}" $lasting flood
}

# flood_figures NAME: the figures of its median flood, and the lines found
# late summed over all rounds.
flood_figures() {
	local rounds=$LOG_DIR/floods-$1.txt m
	# "ROUND FIGURE VALUE"; each round's figures start with flood_ms.
	sed -n "s/^$1 //p" "$LOG_DIR/floods.txt" | awk '/^flood_ms / { n++ } { print n, $1, $2 }' \
		>"$rounds"
	m=$(awk '$2 == "flood_ms" { print $3, $1 }' "$rounds" | sort -n |
		sed -n "$(((ROUNDS + 1) / 2))p" | cut -d' ' -f2)
	awk -v who="$1" -v m="$m" '
		$2 == "flood_line_late" { late += $3; has_late = 1; next }
		$1 == m { print who, $2, $3 }
		END { if (has_late) print who, "flood_line_late", late }' "$rounds" >>"$RESULTS"
}

# turn NAME ROUND: a contestant's part of a round. echo answers round trips
# at QoS 0, the limit, then is started again at QoS 1 for the rest, after as
# many round trips at QoS 1 (what QoS 1 costs, for the reading).
turn() {
	local name=$1
	if [ "$name" = echo ]; then
		ready echo0 "$2" || return 1
		round_trip echo0 "$2" tuned || { stop_contestant echo0; return 1; }
		stop_contestant echo0
	fi
	ready "$name" "$2" || return 1
	round_trip "$name" "$2" tuned && one_round "$name" "$2" ||
		{ stop_contestant "$name"; return 1; }
	stop_contestant "$name"
}

rounds() {
	local round name
	for ((round = 1; round <= ROUNDS; round++)); do
		for name in echo gpio2mqtt diy; do
			turn "$name" "$round" || return 1
		done
	done
	rt_figures echo0
	rt_figures echo qos1_
	for name in echo gpio2mqtt diy; do
		[ "$name" = echo ] || rt_figures "$name"
		fig "$name" "input latency over $EDGES edges" '' \
			drive -s "$OUT/edge-$name.txt" stats edge
		flood_figures "$name"
	done
}

# measure NAME: the other figures every contestant gets. The input figures of echo
# are those of its relay (publish -> echo -> subscriber).
measure() {
	local name=$1 pids values=() input=() rate
	pids=$(pid_args "$ROOT")
	[ "$name" != diy ] || pids="$pids $(pid_args "$DIY_INPUTS")"
	[ "$name" = echo ] || values=("${VALUES[@]}") input=(-f "$PULL")
	sleep 1
	# shellcheck disable=SC2086 # pids are "-P N" pairs
	fig "$name" "idle ${IDLE}s" '' drive -t "$IDLE" $pids idle || return
	# shellcheck disable=SC2086
	fig "$name" "memory, 8 lines" 's/^/mem8_/' drive $pids mem || return
	for rate in 1000 10000 100000; do
		fig "$name" "flips at $rate Hz" "s/^burst_/burst${rate}_/" \
			drive -n "$BURST" -r "$rate" "${input[@]}" burst || return
	done
	# Growth: many commands through the same process. Not for echo (fixed
	# size by construction) nor for the pipeline (a process per command).
	[ "$name" = gpio2mqtt ] || return 0
	fig "$name" "$LONG commands" 's/^flood_/long_/' \
		drive -n "$LONG" -w 1000 -k "$NOUT" "${values[@]}" flood || return
	# shellcheck disable=SC2086
	fig "$name" "memory after $LONG commands" 's/^/memlong_/' drive $pids mem
}

# gpiomon_delay PID FILE: flips, and the kernel's timestamps of the edges
# (gpiomon PID writes them to FILE) minus the flip times, as "kedge" figures.
gpiomon_delay() {
	local flips=$LOG_DIR/flips.txt n=$((EDGES / 5))
	: >"$2"
	fig kernel "edge timestamps" '/./d' drive -n "$n" -r 20 -f "$PULL" -s "$flips" flip &&
		wait_for 5 test "$(wc -l <"$2")" -ge "$n" || { not_ok "kernel: $n edges"; return 1; }
	awk 'NR == FNR { flip[FNR] = $1; next }
	     FNR in flip { printf "%.1f\n", ($2 * 1e9 + $3 - flip[FNR]) / 1000 }' \
		"$flips" "$2" >"$OUT/edge-kernel.txt"
	fig kernel "edge timestamp delay" 's/^edge_/kedge_/' \
		drive -s "$OUT/edge-kernel.txt" stats edge
}

# The kernel's own delivery of edges, read by gpiomon into a file: its delay
# and what it delivers at each flip rate, the most any bridge can get here.
kernel_reference() {
	local file=$LOG_DIR/gpiomon.txt rate pid count i
	: >"$file"
	gpiomon -b -F '%e %s %n' "$CHIP" "$NOUT" >"$file" 2>>"$LOG_DIR/diy.log" &
	pid=$!
	track "$pid"
	drive -n 2 -r 10 -f "$PULL" flip >/dev/null 2>&1
	if ! wait_for 5 test -s "$file"; then
		not_ok "kernel: gpiomon sees edges"
		stop_pid "$pid"
		return
	fi
	# Delay from a flip to the kernel's timestamp of its edge, one at a time.
	gpiomon_delay "$pid" "$file" || return
	for rate in 1000 10000 100000; do
		: >"$file"
		fig kernel "flips at $rate Hz" "s/^flip_/burst${rate}_/" \
			drive -n "$BURST" -r "$rate" -f "$PULL" flip || continue
		count=-1
		for ((i = 0; i < 30; i++)); do # until it stops growing
			[ "$(wc -l <"$file")" != "$count" ] || break
			count=$(wc -l <"$file")
			sleep 1
		done
		echo "kernel burst${rate}_lost $((BURST - count))" >>"$RESULTS"
	done
	stop_pid "$pid"
}

# --- gpio2mqtt at scale --------------------------------------------------

mem_at() { # LINES
	local c=$LOG_DIR/lines$1.conf
	conf "$c" $(($1 - SCALE_INPUTS)) "$SCALE_INPUTS"
	start_gpio2mqtt "$c" "$SCALE_INPUTS" || { not_ok "gpio2mqtt with $1 lines"; return; }
	fig gpio2mqtt "memory, $1 lines" "s/^/mem$1_/" drive -P "$ROOT" mem
	stop_contestant gpio2mqtt
}

# median FILE: the middle one of the numbers in FILE, one per line.
median() { sort -n "$1" | sed -n "$((($(wc -l <"$1") + 1) / 2))p"; }

# startup_once NAME COMMAND...: one start-up to "online"; its time and page
# faults go to $STARTS/NAME.ms and NAME.faults, what it logged to NAME.log.
startup_once() {
	local name=$1 out=$STARTS/once
	shift
	drive -n 1 startup -- "$@" >"$out" 2>>"$STARTS/$name.log" || return 1
	sed -n 's/^startup_ms //p' "$out" >>"$STARTS/$name.ms"
	sed -n 's/^startup_faults //p' "$out" >>"$STARTS/$name.faults"
}

# phases NAME N: the median of each part of gpio2mqtt's own account of its
# start-ups (its log line "ready in T ms (reading the mapping R ms, finding
# the lines F ms, requesting them Q ms)"), as figures startupN_*.
phases() {
	local log=$STARTS/$1.phases f name
	grep -o 'ready in [0-9.]* ms (reading the mapping [0-9.]* ms, finding the lines [0-9.]* ms, requesting them [0-9.]* ms)' \
		"$STARTS/$1.log" >"$log"
	[ -s "$log" ] || { not_ok "gpio2mqtt: start-up phases with $2 lines"; return; }
	for f in 3:setup 8:read 13:find 17:request; do
		name=${f#*:}
		cut -d' ' -f"${f%%:*}" "$log" >"$log.$name"
		echo "gpio2mqtt startup$2_${name}_ms $(median "$log.$name")" >>"$RESULTS"
	done
	ok "gpio2mqtt: start-up phases with $2 lines"
}

# startups SMALL BIG: time to "online" of echo and of gpio2mqtt with the 8-
# and the 1,000-line mapping, one start-up of each in turn, $REPEAT times per
# round: the load of a shared machine moves over minutes, and taking turns
# spreads it over the three alike. Figures: the median of each.
startups() {
	local r name who n
	STARTS=$LOG_DIR/startups
	rm -rf "$STARTS" && mkdir -p "$STARTS"
	for ((r = 0; r < REPEAT * ROUNDS; r++)); do
		startup_once echo-8 "$ECHO" "$BROKER_PORT" 'bench/+/+/set' bench/status &&
			startup_once gpio2mqtt-8 "$GPIO2MQTT" -c "$1" &&
			startup_once gpio2mqtt-1000 "$GPIO2MQTT" -c "$2" ||
			{ not_ok "start-ups"; tail -n 3 "$STARTS"/*.log | sed 's/^/#   /'; return 1; }
	done
	for name in echo-8 gpio2mqtt-8 gpio2mqtt-1000; do
		who=${name%-*} n=${name#*-}
		echo "$who startup${n}_ms $(median "$STARTS/$name.ms")" >>"$RESULTS"
		echo "$who startup${n}_faults $(median "$STARTS/$name.faults")" >>"$RESULTS"
		ok "$who: start-up with $n lines, $((REPEAT * ROUNDS)) taking turns"
	done
	phases gpio2mqtt-8 8
	phases gpio2mqtt-1000 1000
}

scale() {
	local big=$LOG_DIR/lines1000.conf small=$LOG_DIR/std.conf n c i
	conf "$big" $((1000 - SCALE_INPUTS)) "$SCALE_INPUTS"
	mem_at 64
	mem_at 512
	fig rig "cost of a system call and of a page fault" "s/^//" drive -n 1000 rig
	startups "$small" "$big"
	for n in 8 1000; do
		[ "$n" = 8 ] && c=$small || c=$big
		fig gpio2mqtt "--check with $n lines" "s/^run/check$n/" \
			drive -n "$REPEAT" run -- "$GPIO2MQTT" --check -c "$c"
	done
	# Cost of a command with 8 and with 1000 mappings, the same 4 lines driven.
	for n in 8 1000; do
		[ "$n" = 8 ] && c=$small || c=$big
		[ "$n" = 8 ] && i=$NIN || i=$SCALE_INPUTS
		start_gpio2mqtt "$c" "$i" || { not_ok "gpio2mqtt with $n lines"; continue; }
		fig gpio2mqtt "per-command cost with $n lines" "s/^flood_/map${n}_/" \
			drive -n "$FLOOD" -k "$NOUT" -P "$ROOT" flood
		fig gpio2mqtt "round trip with $n lines" "s/^rt_/map${n}_rt_/" \
			drive -n "$RT" -k "$NOUT" roundtrip
		stop_contestant gpio2mqtt
	done
	ha_birth "$big"
}

# Home Assistant restarts: its birth message to the last of 1,000 states,
# the random delay (resync_delay_ms = 1000: 333 to 1000 ms) included, and
# from the discovery message (the end of the delay) to the last state.
ha_birth() {
	local conf=$LOG_DIR/lines1000-ha.conf out=$LOG_DIR/ha-birth.txt
	{
		cat "$1"
		echo 'homeassistant = { discovery = true; resync_delay_ms = 1000; };'
	} >"$conf"
	start_gpio2mqtt "$conf" "$SCALE_INPUTS" || {
		not_ok "gpio2mqtt with 1,000 lines and Home Assistant discovery"
		return
	}
	if python3 "$here/../integration/ha_standin.py" --port "$BROKER_PORT" birth \
		--min-ms 333 --max-ms 1000 --timeout 60 >"$out" 2>&1; then
		sed -n -e 's/^# birth to last state: \([0-9]*\) ms.*/gpio2mqtt ha_birth_last_ms \1/p' \
			-e 's/^# discovery to last state: \([0-9]*\) ms.*/gpio2mqtt ha_discovery_last_ms \1/p' \
			"$out" >>"$RESULTS"
		ok "gpio2mqtt: Home Assistant's birth to the last of 1,000 states"
	else
		not_ok "gpio2mqtt: Home Assistant's birth to the last of 1,000 states"
		grep -v '^ok' "$out" | tail -n 5 | sed 's/^/#   /'
	fi
	stop_contestant gpio2mqtt
}

# --- fleets --------------------------------------------------------------

# FLEET gpio2mqtt daemons as tests/integration/test-fleet.sh runs them (one
# mapping, a UTS namespace and a line each), and as many echo clients, each
# its own client id and state topic, subscribed to a group topic of theirs:
# both fleets up at once, group commands taking turns between them.
ECHOES='echoes/echo-[0-9][0-9]' # their base topics, for boards_with and last_at

mem_available_kb() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }

# fleet_up WHO FILE PREFIX: waits for the fleet just started to be online
# (FILE: timed_sub lines; PREFIX: the boards' base topics) and records how
# long from the start of the first and of the last (FLEET_STARTED,
# FLEET_SPAWNED) and the memory it took (against $MEM_BEFORE).
fleet_up() {
	local online
	if ! wait_for 120 all_boards_with "$2" status online "$3"; then
		not_ok "$1: all $BOARDS of the fleet online ($(boards_with "$2" status online "$3"))"
		return 1
	fi
	online=$(last_at "$2" status online "$FLEET_STARTED" "$3")
	{
		echo "$1 fleet_online_ms $online"
		echo "$1 fleet_online_last_ms $((online - $(ms_between "$FLEET_STARTED" "$FLEET_SPAWNED")))"
		echo "$1 fleet_mem_kb $((MEM_BEFORE - $(mem_available_kb)))"
	} >>"$RESULTS"
	ok "$1: a fleet of $BOARDS online in $online ms"
}

start_echoes() {
	local i b
	ECHO_PIDS=()
	FLEET_STARTED=$(epoch)
	for ((i = 0; i < BOARDS; i++)); do
		b=$(printf 'echo-%02d' "$i")
		"${AS_BOARD[@]}" "$b" "$ECHO" "$BROKER_PORT" echoes/all/led "echoes/$b/status" 1 \
			"$b" "echoes/$b/output/led" 2>>"$LOG_DIR/echo.log" &
		ECHO_PIDS+=($!)
		track $!
	done
	FLEET_SPAWNED=$(epoch)
}

stop_all() { # PID...
	local p
	kill -TERM "$@" 2>/dev/null
	for p in "$@"; do wait_for 10 dead "$p" || kill -KILL "$p" 2>/dev/null; done
}

# fleet_restart: the broker restarted on its port, as quick as it stops and
# starts; when the boards reconnect (the broker's log, stamped).
fleet_restart() {
	local stamped=$LOG_DIR/fleet-stamped.log from try n first median last busiest
	local rec=$LOG_DIR/fleet-reconnects.txt
	stamp_follow "$LOG_DIR/mosquitto-fleet.log" "$stamped" ||
		{ not_ok "gpio2mqtt: the broker's log followed"; return 1; }
	from=$(($(wc -l <"$stamped") + 1))
	stop_pid "$BROKER_PID"
	for ((try = 0; try < 10; try++)); do
		broker fleet "$BROKER_PORT" && break
		stop_pid "$BROKER_PID" 2
	done
	[ "$try" -lt 10 ] || { not_ok "broker restarted on port $BROKER_PORT"; return 1; }
	if ! wait_for 30 reconnected "$stamped" "$from"; then
		not_ok "gpio2mqtt: the fleet reconnects after a broker restart"
		return 1
	fi
	reconnects "$stamped" "$from" >"$rec"
	read -r n first median last _ _ busiest < <(spread "$rec" 1)
	{
		echo "gpio2mqtt reconnect_down_ms $(sed -n 's/^up //p' "$rec")"
		echo "gpio2mqtt reconnect_first_ms $first"
		echo "gpio2mqtt reconnect_median_ms $median"
		echo "gpio2mqtt reconnect_last_ms $last"
		echo "gpio2mqtt reconnect_busiest $busiest"
	} >>"$RESULTS"
	ok "gpio2mqtt: the fleet ($n) reconnects after a broker restart, the last at $last ms"
}

fleets() {
	local dir=$LOG_DIR/fleet msgs=$LOG_DIR/fleet-messages.txt values=() i
	BOARDS=$FLEET
	broker fleet || { not_ok "broker for the fleets"; return 1; }
	sim_chip fleet fleet-bank "$BOARDS" || { not_ok "gpio-sim chip with $BOARDS lines"; return 1; }
	for ((i = 0; i < BOARDS; i++)); do values+=(-V "$SIM_DIR/sim_gpio$i/value"); done
	fleet_confs "$dir" "$SIM_CHIP" "$BROKER_PORT" "$BOARDS" 5
	timed_sub "$msgs" 'classroom/+/status' 'echoes/+/status' || { not_ok "subscriber"; return 1; }
	MEM_BEFORE=$(mem_available_kb)
	start_echoes
	fleet_up echo "$msgs" "$ECHOES" || return 1
	MEM_BEFORE=$(mem_available_kb)
	fleet_start "$dir" "$BOARDS"
	fleet_up gpio2mqtt "$msgs" || return 1
	sub_stop "$SUB_PID"
	diag "$(date +%T) $FANOUT group commands to each fleet, in turns"
	if drive -n "$FANOUT" -k "$BOARDS" "${values[@]}" -s "$OUT/fanout-samples.txt" fanout \
		gpio2mqtt classroom/all/led 'classroom/+/output/led' \
		echo echoes/all/led 'echoes/+/output/led' >"$LOG_DIR/fanout.txt" 2>>"$LOG_DIR/drive.log"; then
		cat "$LOG_DIR/fanout.txt" >>"$RESULTS"
		ok "group commands to $BOARDS, $FANOUT to each fleet"
	else
		not_ok "group commands to $BOARDS"
		tail -n 3 "$LOG_DIR/drive.log" | sed 's/^/#   /'
	fi
	stop_all "${ECHO_PIDS[@]}"
	fleet_restart
	stop_all "${FLEET_PIDS[@]}"
	stop_pid "$BROKER_PID"
}

# --- run -----------------------------------------------------------------

dump_on_fail "$LOG_DIR/gpio2mqtt.log" "$LOG_DIR/diy.log" "$LOG_DIR/echo.log" "$LOG_DIR/drive.log"
# G2M_BENCH_ONLY=timed or =scale: that part alone, while working on it.
case ${G2M_BENCH_ONLY:-} in
timed | scale)
	broker tuned && conf "$LOG_DIR/std.conf" "$NOUT" "$NIN" &&
		if [ "$G2M_BENCH_ONLY" = timed ]; then timed_outputs; else scale; fi
	finish
	;;
esac
broker untuned || { not_ok "broker as installed"; finish; }
conf "$LOG_DIR/std.conf" "$NOUT" "$NIN"
diag "$(date +%T) round trips against mosquitto as installed, $ROUNDS round(s)"
untuned_round_trips
stop_pid "$BROKER_PID"
broker tuned || { not_ok "broker"; finish; }
conf "$LOG_DIR/std.conf" "$NOUT" "$NIN"
diag "$(date +%T) latency and flood, $ROUNDS round(s)"
rounds
for name in echo gpio2mqtt diy; do
	diag "$(date +%T) $name"
	if start_contestant "$name"; then
		ok "$name is ready"
		measure "$name"
	else
		not_ok "$name is ready"
	fi
	stop_contestant "$name"
done
diag "$(date +%T) kernel"
kernel_reference
diag "$(date +%T) scale"
scale
diag "$(date +%T) timed outputs"
timed_outputs
diag "$(date +%T) fleets of $FLEET"
fleets
diag "$(date +%T) done"
finish
