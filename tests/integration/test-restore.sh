#!/bin/bash
# SPDX-License-Identifier: MIT
# Power-on state: initial = "keep" takes a line over with no change on the
# wire; initial = "restore" comes back to the last state commanded after a
# restart and after kill -9 in the middle of a flood of commands, and starts
# off with a warning from a missing or damaged state file; a counter goes on
# across a restart.
. "$(dirname "$0")/common.sh"

HELD=0 PLAIN=1 LOW=2 RELAY=3 METER=4

sim_chip restore restore-bank 8 "$HELD:HELD" "$PLAIN:PLAIN" "$LOW:LOW" "$RELAY:RELAY" \
	"$METER:METER" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP
broker_start || { not_ok "broker"; finish; }

STATE=$LOG_DIR/state
conf=$LOG_DIR/restore.conf
# write_conf: the mapping, from standard input, with the test's broker and
# state file.
write_conf() {
	{
		mqtt_block
		echo "state_file = \"$STATE\";"
		cat
	} >"$conf"
}

msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" "$BASE/#" || { not_ok "subscriber"; finish; }

# saved KIND NAME: what the state file holds for NAME, read the way
# gpio2mqtt.conf(5) documents the format (independently of the daemon); fails,
# saying why, when the file is not exactly that.
saved() {
	python3 - "${STATE_READ:-$STATE}" "$1" "$2" <<-'PY'
		import re, sys, zlib
		path, kind, name = sys.argv[1:]
		data = open(path, "rb").read()
		if not data.endswith(b"\n"):
		    sys.exit("torn: no newline at the end")
		lines = data.split(b"\n")[:-1]
		if len(lines) < 2 or lines[0] != b"gpio2mqtt-state 1":
		    sys.exit("no version line")
		crc = re.fullmatch(rb"crc32 ([0-9a-f]{8})", lines[-1])
		if not crc or zlib.crc32(data[: -len(lines[-1]) - 1]) != int(crc.group(1), 16):
		    sys.exit("no matching checksum")
		for line in lines[1:-1]:
		    if not re.fullmatch(rb"output [\w.%-]+ (on|off)|counter [\w.%-]+ (0|[1-9][0-9]*)", line):
		        sys.exit("not an entry: %r" % line)
		    k, n, v = line.decode().split(" ")
		    if (k, n) == (kind, name):
		        print(v)
		        sys.exit(0)
		sys.exit("nothing for %s %s" % (kind, name))
	PY
}
saved_is() { [ "$(saved "$1" "$2" 2>/dev/null)" = "$3" ]; }

# This run of the daemon's part of its log.
this_run() { tac "$DAEMON_LOG" | sed '/^=== /q' | tac; }
said() { this_run | grep -q -- "$1"; }

# never_input FILE: no line-info change of line_watch.py shows the line as
# an input (GPIO_V2_LINE_FLAG_INPUT), which would let it float for a moment.
never_input() {
	local line flags
	while read -r line; do
		[ "$line" = watching ] && continue
		flags=${line##*flags=}
		(((flags & 0x4) == 0)) || return 1
	done <"$1"
}

# --- keep: taken over with no change on the wire -------------------------
# A former holder drives HELD and PLAIN high and lets them go. gpio-sim then
# puts a released line back to its pull: the pull-up keeps them high, as a
# board's pin keeps the level its last holder drove. HELD is taken over with
# keep; PLAIN, with initial = "off", is the control that shows a change is
# seen. LOW, an input never driven, is taken over low.
sim_pull "$CHIP" "$HELD" up
sim_pull "$CHIP" "$PLAIN" up
check "keep: a former holder drove the lines high" \
	gpioset --mode=exit "$CHIP" "$HELD=1" "$PLAIN=1"
both_high() { sim_is "$CHIP" "$HELD" 1 && sim_is "$CHIP" "$PLAIN" 1; }
check "keep: they stay high once it let them go" both_high
write_conf <<'CONF'
outputs = (
  { name = "held"; line = "HELD"; initial = "keep"; },
  { name = "plain"; line = "PLAIN"; initial = "off"; },
  { name = "low"; line = "LOW"; initial = "keep"; active_low = true; }
);
CONF
held_values=$LOG_DIR/held-values.txt plain_values=$LOG_DIR/plain-values.txt
held_info=$LOG_DIR/held-info.txt
: >"$held_info"
: >"$held_values"
: >"$plain_values"
python3 "$(dirname "$0")/line_watch.py" "$CHIP" "$HELD" "$held_info" &
track $!
python3 "$(dirname "$0")/value_watch.py" "$CHIP" "$HELD" "$held_values" 20 &
held_sampler=$!
track $held_sampler
python3 "$(dirname "$0")/value_watch.py" "$CHIP" "$PLAIN" "$plain_values" 20 &
plain_sampler=$!
track $plain_sampler
watching() { grep -qx watching "$held_info" && grep -q watching "$1" && grep -q watching "$2"; }
check "keep: watching the lines" wait_for 5 watching "$held_values" "$plain_values"
daemon_start "$conf"
check "keep: held published ON" wait_msg "$msgs" "$BASE/output/held ON" 10
check "keep: low (active low, wire low) published ON" wait_msg "$msgs" "$BASE/output/low ON" 3
check "keep: the control, plain, published OFF" wait_msg "$msgs" "$BASE/output/plain OFF" 3
check "keep: the wire of held is still high" sim_is "$CHIP" "$HELD" 1
check "keep: the wire of low is still low" sim_is "$CHIP" "$LOW" 0
check "keep: the control's change was seen on the wire" wait_for 3 grep -qx "changed 0" "$plain_values"
check "keep: held's level never changed" not grep -q changed "$held_values"
stop_pid "$held_sampler" 2
stop_pid "$plain_sampler" 2
check "keep: gpio2mqtt requested held" grep -q '^requested consumer=gpio2mqtt' "$held_info"
check "keep: held was never released on the way" not grep -q '^released' "$held_info"
check "keep: held was never made an input on the way" never_input "$held_info"
diag "line-info changes of held: $(grep -v '^watching$' "$held_info" | tr '\n' ';')"
set_to() { pub "$BASE/output/$1/set" "$2" && wait_for 1 sim_is "$CHIP" "$3" "$4"; }
check "keep: held obeys commands" wait_for 5 set_to held off "$HELD" 0
daemon_stop

# --- restore: after a restart --------------------------------------------
write_conf <<'CONF'
outputs = ( { name = "relay"; line = "RELAY"; initial = "restore"; } );
CONF
: >"$msgs"
daemon_start "$conf"
check "restore, first start: off" wait_msg "$msgs" "$BASE/output/relay OFF" 10
check "restore, first start: a warning names the output" wait_for 3 \
	said 'warning: output "relay": no saved state to restore; starting off'
check "restore: the starting state is saved" wait_for 3 saved_is output relay off
pub "$BASE/output/relay/set" on
check "restore: on" wait_for 3 sim_is "$CHIP" "$RELAY" 1
check "restore: on is saved" wait_for 3 saved_is output relay on
daemon_stop
check "restore: released, the line falls to its pull" sim_is "$CHIP" "$RELAY" 0
: >"$msgs"
daemon_start "$conf"
check "restore after a restart: on" wait_msg "$msgs" "$BASE/output/relay ON" 10
check "restore after a restart: the wire is high" sim_is "$CHIP" "$RELAY" 1
check "restore after a restart: no warning" not said "no saved state"
# A command just before SIGTERM, within the coalescing delay: written at stop.
: >"$msgs"
pub "$BASE/output/relay/set" off
check "restore: off" wait_msg "$msgs" "$BASE/output/relay OFF" 3
kill -TERM "$DAEMON_PID"
check "restore: SIGTERM within the delay: exits" daemon_exit_status 5
check "restore: SIGTERM within the delay: off was written" saved_is output relay off
: >"$msgs"
daemon_start "$conf"
check "restore after SIGTERM: off" wait_msg "$msgs" "$BASE/output/relay OFF" 10

# --- a flood of commands: few writes -------------------------------------
# 1001 alternating commands, on first and last.
flood=$LOG_DIR/flood.txt
for ((i = 0; i < 1001; i++)); do ((i % 2)) && echo off || echo on; done >"$flood"
writes() { this_run | grep -c "state file .* written ("; }
before=$(writes)
t0=$(_now_us)
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$BASE/output/relay/set" -l <"$flood"
check "flood: ends on" wait_for 5 saved_is output relay on
flood_ms=$((($(_now_us) - t0) / 1000))
sleep 1 # no write may be left pending
n=$(($(writes) - before))
diag "1001 commands in ${flood_ms} ms: $n writes of the state file"
check "flood: at most one write per 500 ms, plus one" test "$n" -le $((flood_ms / 500 + 2))
daemon_stop

# --- restore: after kill -9 in the middle of a flood ---------------------
# Killed once the flood's first write is done, at a random moment of the
# next two write periods: during a write or between two.
for ((i = 0; i < 2000; i++)); do ((i % 2)) && echo off || echo on; done >"$flood"
written() { [ "$(writes)" -ge "$1" ]; }
rounds=5 good=0
for ((round = 1; round <= rounds; round++)); do
	: >"$msgs"
	daemon_start "$conf"
	wait_msg "$msgs" "$BASE/output/relay (ON|OFF)" 10 || diag "round $round: no state"
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$BASE/output/relay/set" \
		-l <"$flood" 2>/dev/null &
	flooder=$!
	track "$flooder"
	wait_for 5 written 1 || diag "round $round: no write during the flood"
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	alive "$flooder" && during="during the flood" || during="after the flood"
	kill -KILL "$DAEMON_PID"
	wait_for 5 dead "$DAEMON_PID"
	stop_pid "$flooder" 2
	state=$(saved output relay 2>&1)
	diag "round $round: killed $during after $(writes) writes; the file says \"$state\""
	case $state in on | off) ;; *) continue ;; esac
	: >"$msgs"
	daemon_start "$conf"
	want=$([ "$state" = on ] && echo ON || echo OFF)
	if wait_msg "$msgs" "$BASE/output/relay $want" 10 &&
		sim_is "$CHIP" "$RELAY" "$([ "$state" = on ] && echo 1 || echo 0)" &&
		! said "not usable"; then
		good=$((good + 1))
	fi
	daemon_stop
done
check "kill -9 during a flood: the file valid and restored, $rounds rounds" \
	test "$good" = "$rounds"

# --- a damaged state file: off, with a warning ----------------------------
damaged_start() {
	: >"$msgs"
	daemon_start "$conf"
	wait_msg "$msgs" "$BASE/output/relay OFF" 10 && sim_is "$CHIP" "$RELAY" 0 &&
		wait_for 3 said "state file $STATE is not usable ($1" &&
		said 'warning: output "relay": no saved state'
}
: >"$msgs"
daemon_start "$conf"
wait_msg "$msgs" "$BASE/output/relay (ON|OFF)" 10 || diag "damaged: no state published"
pub "$BASE/output/relay/set" on
check "damaged: on is saved first" wait_for 3 saved_is output relay on
daemon_stop
head -c -3 "$STATE" >"$STATE.cut" && mv "$STATE.cut" "$STATE"
check "a truncated file: off, with warnings" damaged_start "it ends in the middle"
daemon_stop
printf 'gpio2mqtt-state 1\noutput relay on\ncrc32 00000000\n' >"$STATE"
check "an edited file: off, with warnings" damaged_start "its checksum does not match"
pub "$BASE/output/relay/set" on
check "damaged: the next command writes a valid file" wait_for 3 saved_is output relay on
daemon_stop

# --- a reload to another state file --------------------------------------
# The running output keeps its state, untouched, and the new file gets it.
: >"$msgs"
daemon_start "$conf"
check "reload: relay restored on" wait_msg "$msgs" "$BASE/output/relay ON" 10
relay_values=$LOG_DIR/relay-values.txt
: >"$relay_values"
python3 "$(dirname "$0")/value_watch.py" "$CHIP" "$RELAY" "$relay_values" 10 &
relay_sampler=$!
track $relay_sampler
wait_for 5 grep -q watching "$relay_values"
sed -i "s|^state_file = .*|state_file = \"$STATE.new\";|" "$conf"
kill -HUP "$DAEMON_PID"
in_new() { STATE_READ=$STATE.new saved_is "$@"; }
check "reload to a new state file: the running state is written there" wait_for 10 in_new output relay on
check "reload to a new state file: the relay stayed on, untouched" not grep -q changed "$relay_values"
stop_pid "$relay_sampler" 2
pub "$BASE/output/relay/set" off
check "reload to a new state file: commands go to the new file" wait_for 3 in_new output relay off
check "reload to a new state file: the old one is left as it was" saved_is output relay on
daemon_stop

# --- a counter across a restart -------------------------------------------
write_conf <<'CONF'
inputs = ( { name = "meter"; line = "METER"; counter = "rising"; count_interval_ms = 100; } );
CONF
pulses() {
	local i
	for ((i = 0; i < $1; i++)); do
		sim_pull "$CHIP" "$METER" up && sleep 0.05 && sim_pull "$CHIP" "$METER" down && sleep 0.05
	done
}
if ! "$GPIO2MQTT" --check -c "$conf" >"$LOG_DIR/check.txt" 2>&1; then
	not_ok "counter: the mapping is refused: $(head -n 1 "$LOG_DIR/check.txt")"
else
	sim_pull "$CHIP" "$METER" down
	: >"$msgs"
	daemon_start "$conf"
	check "counter: online" online "$msgs" 10
	pulses 5
	check "counter: 5 pulses saved" wait_for 3 saved_is counter meter 5
	daemon_stop
	: >"$msgs"
	daemon_start "$conf"
	check "counter after a restart: 5 published" wait_msg "$msgs" "$BASE/input/meter/count 5" 10
	pulses 3
	check "counter after a restart: goes on to 8" wait_for 3 saved_is counter meter 8
	check "counter after a restart: 8 published" wait_msg "$msgs" "$BASE/input/meter/count 8" 3
	daemon_stop
fi
finish
