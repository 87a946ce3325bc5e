#!/bin/bash
# SPDX-License-Identifier: MIT
# Inputs: pull changes on gpio-sim lines are published as ON/OFF, driven by
# edge events (active_low, custom topics and payloads, software debounce).
. "$(dirname "$0")/common.sh"

BUTTON=0 DOOR=1 DEB=2 WORDS=3

sim_chip inputs in-bank 8 "$BUTTON:BUTTON" "$DOOR:DOOR" "$DEB:DEBOUNCED" "$WORDS:WORDS" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP
broker_start || { not_ok "broker"; finish; }

conf=$LOG_DIR/inputs.conf
{
	mqtt_block
	cat <<-'CONF'
		inputs = (
		  { name = "button"; line = "BUTTON"; bias = "pull-up"; active_low = true; debounce_ms = 0; },
		  { name = "door"; line = "DOOR"; bias = "pull-down"; state_topic = "house/door"; },
		  { name = "deb"; line = "DEBOUNCED"; bias = "pull-down"; debounce_ms = 50; },
		  { name = "words"; line = "WORDS"; bias = "pull-down"; payload_on = "open"; payload_off = "closed"; retain = false; }
		);
	CONF
} >"$conf"

msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" "$BASE/#" 'house/#'
daemon_start "$conf"
check "daemon comes online" online "$msgs" 5
check "released pull-up button (active_low) starts OFF" \
	wait_msg "$msgs" "$BASE/input/button OFF" 3
check "pull-down door starts OFF on its own topic" wait_msg "$msgs" "house/door OFF" 3
check "input state is retained" test "$(retained "$BASE/input/button")" = OFF

check "debounced input starts OFF" wait_msg "$msgs" "$BASE/input/deb OFF" 3

# A pulse shorter than debounce_ms, before any edge since start, must not be
# reported as a lasting change: nothing, or ON followed by OFF; never a
# repeated OFF, which would mean settling forgot the start value.
: >"$msgs"
sim_pull "$CHIP" "$DEB" up
sim_pull "$CHIP" "$DEB" down
settled() { [ "$(last_msg "$msgs" "$BASE/input/deb")" != ON ]; }
check "a glitch shorter than debounce_ms leaves the state OFF" holds 0.5 settled
deb_words=$(awk -v t="$BASE/input/deb" '$1 == t { printf "%s ", $2 }' "$msgs")
check "the glitch publishes nothing, or ON then OFF (got: '$deb_words')" \
	test -z "$deb_words" -o "$deb_words" = "ON OFF "

# edge CHIP-OFFSET up|down TOPIC PAYLOAD: one pull change and its message.
edge() {
	local off=$1 dir=$2 topic=$3 payload=$4
	: >"$msgs"
	sim_pull "$CHIP" "$off" "$dir"
	check "pull-$dir on line $off publishes $payload on $topic" \
		wait_msg "$msgs" "$topic $payload" 3
}

presses=$LOG_DIR/button.txt
sub_start "$presses" "$BASE/input/button"
: >"$presses"
for i in 1 2 3; do
	edge "$BUTTON" down "$BASE/input/button" ON
	edge "$BUTTON" up "$BASE/input/button" OFF
done
check "three presses: three ON and three OFF, no more" \
	test "$(count_msg "$presses" "$BASE/input/button ON"),$(count_msg "$presses" "$BASE/input/button OFF")" = 3,3
sub_stop

edge "$DOOR" up house/door ON
edge "$DOOR" down house/door OFF

edge "$DEB" up "$BASE/input/deb" ON
edge "$DEB" down "$BASE/input/deb" OFF

edge "$WORDS" up "$BASE/input/words" open
edge "$WORDS" down "$BASE/input/words" closed
check "retain = false is not retained" test -z "$(retained "$BASE/input/words")"

# Edges coming in fast without debounce: the last published value is right.
: >"$msgs"
for i in 1 2 3 4 5; do
	sim_pull "$CHIP" "$DOOR" up
	sim_pull "$CHIP" "$DOOR" down
done
sim_pull "$CHIP" "$DOOR" up
final_on() { [ "$(last_msg "$msgs" house/door)" = ON ]; }
check "after a burst of edges the last state published is ON" wait_for 3 final_on

check "daemon still running" alive "$DAEMON_PID"
finish
