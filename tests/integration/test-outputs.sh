#!/bin/bash
# SPDX-License-Identifier: MIT
# Outputs: every command form drives the gpio-sim line and publishes the state;
# bad payloads change nothing and are reported on <base>/error.
. "$(dirname "$0")/common.sh"

# Lines of the simulated chip.
A=0 LED=1 INV=2 BYOFF=3 BYPATH=4 BYLABEL=5

sim_chip outputs out-bank 8 "$A:OUT_A" "$LED:LED" "$INV:OUT_INV" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP
broker_start || { not_ok "broker"; finish; }

conf=$LOG_DIR/outputs.conf
{
	mqtt_block
	cat <<-CONF
		outputs = (
		  { name = "a"; line = "OUT_A"; },
		  { name = "led"; line = "LED"; command_topic = "public/led"; initial = "off"; },
		  { name = "inv"; line = "OUT_INV"; active_low = true; initial = "off"; },
		  { name = "byoff"; chip = "$CHIP"; line = $BYOFF; initial = "on"; },
		  { name = "bypath"; chip = "/dev/$CHIP"; line = $BYPATH; },
		  { name = "bylabel"; chip = "out-bank"; line = $BYLABEL; }
		);
	CONF
} >"$conf"

msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" "$BASE/#" 'public/#'
daemon_start "$conf"
check "daemon comes online" online "$msgs" 5
check "initial states are published" wait_msg "$msgs" "$BASE/output/a OFF" 3
# They follow the broker's answer to the subscription (libmosquitto's debug
# lines): on one CPU the broker then forwards "online" before their burst.
first_state() {
	awk -v t="'$BASE/output/" '/received SUBACK/ { s = 1 }
		/sending PUBLISH/ && index($0, t) { print s ? "after SUBACK" : "before SUBACK"; exit }' \
		"$DAEMON_LOG"
}
check "the first state is published after SUBACK (got: $(first_state))" \
	test "$(first_state)" = "after SUBACK"
check "initial = \"on\" drives the line high" sim_is "$CHIP" "$BYOFF" 1
check "initial = \"on\" is published as ON" wait_msg "$msgs" "$BASE/output/byoff ON" 3
check "active_low output starts off = line high" sim_is "$CHIP" "$INV" 1

# cmd TOPIC PAYLOAD OFFSET VALUE STATE_TOPIC STATE: one command and its effects.
cmd() {
	local topic=$1 payload=$2 off=$3 value=$4 state_topic=$5 state=$6
	: >"$msgs"
	pub "$topic" "$payload"
	check "'$payload' on $topic drives line $off to $value" \
		wait_for 3 sim_is "$CHIP" "$off" "$value"
	check "'$payload' on $topic publishes $state on $state_topic" \
		wait_msg "$msgs" "$state_topic $state" 3
}

# Default topics, every accepted spelling, case and whitespace variants
# ("_" stands for a space).
set_a=$BASE/output/a/set
st_a=$BASE/output/a
while read -r payload value state; do
	cmd "$set_a" "${payload//_/ }" "$A" "$value" "$st_a" "$state"
done <<'COMMANDS'
on 1 ON
off 0 OFF
toggle 1 ON
toggle 0 OFF
1 1 ON
0 0 OFF
true 1 ON
false 0 OFF
high 1 ON
low 0 OFF
ON 1 ON
Off 0 OFF
TOGGLE 1 ON
_lOw_ 0 OFF
__tRuE__ 1 ON
{"state":"off"} 0 OFF
{"state":"on"} 1 ON
{"state":"toggle"} 0 OFF
{_"state"_:_"toggle"_} 1 ON
COMMANDS
cmd "$set_a" on "$A" 1 "$st_a" ON
check "the state is retained" test "$(retained "$st_a")" = ON

# The classic LED example.
cmd public/led on "$LED" 1 "$BASE/output/led" ON
cmd public/led toggle "$LED" 0 "$BASE/output/led" OFF
cmd public/led toggle "$LED" 1 "$BASE/output/led" ON
cmd public/led off "$LED" 0 "$BASE/output/led" OFF
check "LED state retained as OFF" test "$(retained "$BASE/output/led")" = OFF

# active_low: logical ON is a low line.
cmd "$BASE/output/inv/set" on "$INV" 0 "$BASE/output/inv" ON
cmd "$BASE/output/inv/set" off "$INV" 1 "$BASE/output/inv" OFF
cmd "$BASE/output/inv/set" toggle "$INV" 0 "$BASE/output/inv" ON

# Lines named by chip name + offset, chip path + offset, chip label + offset.
cmd "$BASE/output/byoff/set" off "$BYOFF" 0 "$BASE/output/byoff" OFF
cmd "$BASE/output/bypath/set" on "$BYPATH" 1 "$BASE/output/bypath" ON
cmd "$BASE/output/bylabel/set" on "$BYLABEL" 1 "$BASE/output/bylabel" ON

# Bad payloads: the line keeps its value, no state is published, and an error
# naming topic, payload and reason appears on <base>/error.
bad() {
	local desc=$1 before
	shift
	before=$(sim_value "$CHIP" "$LED")
	: >"$msgs"
	"$@"
	check "$desc: error published on $BASE/error" \
		wait_msg "$msgs" "$BASE/error \{.*\"reason\" *: *\"[^\"]+\".*\}" 3
	check "$desc: error names the topic" \
		grep -qE "^$BASE/error .*\"topic\" *: *\"public/led\"" "$msgs"
	check "$desc: error carries the payload" grep -qE "^$BASE/error .*\"payload\" *:" "$msgs"
	check "$desc: line unchanged" sim_is "$CHIP" "$LED" "$before"
	check "$desc: no state published" not grep -q "^$BASE/output/led " "$msgs"
}
printf '\000\377\001on' >"$LOG_DIR/binary"
pub public/led on
wait_for 3 sim_is "$CHIP" "$LED" 1
bad "garbage" pub public/led garbage
check "error quotes the garbage payload" grep -qE '"payload" *: *"garbage"' "$msgs"
bad "quit" pub public/led quit
bad "empty payload" mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t public/led -n
bad "binary payload" pub_file public/led "$LOG_DIR/binary"
bad "'onn'" pub public/led onn
bad "'2'" pub public/led 2
# Eleven reports: one more than the error budget's burst (10 at once, then
# one a second), so let two seconds' worth refill first.
sleep 2
bad "JSON with an unknown state" pub public/led '{"state":"maybe"}'
bad "JSON without state" pub public/led '{"foo":"on"}'
bad "JSON with a number state" pub public/led '{"state":1}'
bad "truncated JSON" pub public/led '{"state":"off"'
bad "JSON array" pub public/led '["off"]'
check "daemon still running after bad payloads" alive "$DAEMON_PID"
cmd public/led off "$LED" 0 "$BASE/output/led" OFF

: >"$msgs"
kill -TERM "$DAEMON_PID"
check "daemon exits after SIGTERM" daemon_exit_status 5
check "exit status 0 after SIGTERM" test "${DAEMON_STATUS:-x}" = 0
check "SIGTERM publishes offline" wait_msg "$msgs" "$BASE/status offline" 3
finish
