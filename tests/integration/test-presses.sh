#!/bin/bash
# SPDX-License-Identifier: MIT
# Presses and counters on gpio-sim lines: single, double and long presses of
# a button (pull-up, active_low, as wired to ground) are published on its
# event topic, told apart by the kernel's timestamps of the edges; the pulses
# of a meter are counted on its count topic, coalesced to one publication per
# count_interval_ms; a press in progress and the count carry on across a
# reload, and the count across a restart (the state file).
. "$(dirname "$0")/common.sh"

BUTTON=0 METER=1
EVENTS=$BASE/input/button/event
COUNT=$BASE/input/meter/count

sim_chip presses in-bank 4 "$BUTTON:BUTTON" "$METER:METER" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP
broker_start || { not_ok "broker"; finish; }

conf=$LOG_DIR/presses.conf
# write_conf COUNT_INTERVAL_MS: the mapping (double_click_ms 400 and
# long_press_ms 800 by default; debounce_ms as a real button would have).
write_conf() {
	{
		mqtt_block
		cat <<-CONF
			state_file = "$LOG_DIR/state";
			inputs = (
			  { name = "button"; line = "BUTTON"; bias = "pull-up"; active_low = true;
			    debounce_ms = 10; click = true; },
			  { name = "meter"; line = "METER"; bias = "pull-down"; counter = "rising";
			    count_interval_ms = $1; }
			);
		CONF
	} >"$conf"
}
write_conf 1000

press() { sim_pull "$CHIP" "$BUTTON" down; }
release() { sim_pull "$CHIP" "$BUTTON" up; }
pulses() {
	local i
	for ((i = 0; i < $1; i++)); do
		sim_pull "$CHIP" "$METER" up
		sim_pull "$CHIP" "$METER" down
	done
}

msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" "$BASE/#"
check "--check accepts presses and a counter" "$GPIO2MQTT" --check -c "$conf"
daemon_start "$conf"
check "daemon comes online" online "$msgs" 5
check "the button starts OFF" wait_msg "$msgs" "$BASE/input/button OFF" 3
check "the meter's count starts at 0" wait_msg "$msgs" "$COUNT 0" 3

one_event() { [ "$(grep -c "^$EVENTS " "$msgs")" = 1 ]; }
# said TYPE: the one event published since $msgs was cleared is TYPE (and
# no other follows within a second).
said() {
	wait_msg "$msgs" "$EVENTS \{\"event_type\":\"$1\"\}" 5 && holds 1 one_event
}

: >"$msgs"
press
sleep 0.1
release
check "a short press is one single" said single

: >"$msgs"
press
sleep 0.1
release
sleep 0.1
press
sleep 0.1
release
check "two presses 100 ms apart are one double" said double

: >"$msgs"
press
check "a long press is said while the button is held" \
	wait_msg "$msgs" "$EVENTS \{\"event_type\":\"long\"\}" 5
check "... and the state is still ON" test "$(last_msg "$msgs" "$BASE/input/button")" = ON
release
check "... once, with nothing at the release" holds 1 one_event
check "the state topic still says ON and OFF" \
	test "$(grep -c "^$BASE/input/button " "$msgs")" = 2
check "events are not retained" test -z "$(retained "$EVENTS")"

: >"$msgs"
pulses 5
check "five pulses count to 5" wait_msg "$msgs" "$COUNT 5" 5
check "... in at most two publications (one per second)" \
	test "$(grep -c "^$COUNT " "$msgs")" -le 2
check "the count is retained" test "$(retained "$COUNT")" = 5

# A reload (another count_interval_ms) while the button is held: the press
# carries on and becomes one long press; the count carries on.
: >"$msgs"
write_conf 500
press
kill -HUP "$DAEMON_PID"
check "a press held through a reload is one long press" said long
release
check "the reload is done" wait_for 5 grep -q "reloaded" "$DAEMON_LOG"
pulses 1
check "the count carries on across a reload" wait_msg "$msgs" "$COUNT 6" 5

# A restart: the count comes back from the state file.
daemon_stop
: >"$msgs"
daemon_start "$conf"
check "daemon comes back" online "$msgs" 5
check "the count survives a restart" wait_msg "$msgs" "$COUNT 6" 3
pulses 1
check "... and goes on from there" wait_msg "$msgs" "$COUNT 7" 5

check "daemon still running" alive "$DAEMON_PID"
finish
