#!/bin/bash
# SPDX-License-Identifier: MIT
# Home Assistant: MQTT discovery checked by a Home Assistant stand-in
# (ha_standin.py, against the rules of Home Assistant's documentation), its
# birth message answered with discovery before complete states, removal of a
# line dropped by a reload, state queries on .../get and <base>/info, the
# per-entity form (discovery_mode = "entity") and the switch between the two
# forms by Home Assistant's migrate_discovery hand-over; the same owed by a
# restart, from the record of what was announced beside the state file
# (<state_file>.homeassistant), which --forget deletes.
. "$(dirname "$0")/common.sh"

STANDIN=(/usr/bin/python3 "$(dirname "$0")/ha_standin.py")
LED=0 LAMP=1 DOOR=2 BUTTON=3 PIR=4 METER=5

sim_chip ha ha-bank 8 "$LED:LED" "$LAMP:LAMP" "$DOOR:DOOR" "$BUTTON:BUTTON" "$PIR:PIR" \
	"$METER:METER" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP
broker_start || { not_ok "broker"; finish; }

conf=$LOG_DIR/ha.conf
record=$LOG_DIR/state.homeassistant
# mapping: the board's mapping.
mapping() {
	mqtt_block
	cat <<-CONF
		state_file = "$LOG_DIR/state";
		homeassistant = { discovery = true; device_name = "Test board"; resync_delay_ms = 600; };
		outputs = (
		  { name = "led"; line = "LED"; },
		  { name = "lamp"; line = "LAMP"; ha_component = "light"; },
		  { name = "door"; line = "DOOR"; pulse_ms = 200; }
		);
		inputs = (
		  { name = "button"; line = "BUTTON"; click = true; },
		  { name = "pir"; line = "PIR"; device_class = "motion"; },
		  { name = "meter"; line = "METER"; counter = "rising"; }
		);
	CONF
}
mapping >"$conf"

msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" "$BASE/#" 'homeassistant/#'
daemon_start "$conf"
check "daemon comes online" online "$msgs" 5
check "the discovery message is published" \
	wait_msg "$msgs" "homeassistant/device/[A-Za-z0-9_-]+/config \{.*" 5
check "the last state is published" wait_msg "$msgs" "$BASE/input/meter/count [0-9]+" 5
check "what was announced is recorded beside the state file" \
	grep -qx 'component switch led' "$record"

standin_out=$LOG_DIR/standin-check.out
"${STANDIN[@]}" --port "$BROKER_PORT" check >"$standin_out" 2>&1
status=$?
sed 's/^/#   /' "$standin_out"
check "the stand-in finds the discovery as Home Assistant's documentation says" \
	test "$status" -eq 0

# --- the birth: discovery, then every state, a random while later ---------
birth_out=$LOG_DIR/standin-birth.out
"${STANDIN[@]}" --port "$BROKER_PORT" birth --min-ms 200 --max-ms 600 >"$birth_out" 2>&1
status=$?
sed 's/^/#   /' "$birth_out"
check "Home Assistant's birth brings discovery, then every state" test "$status" -eq 0
check "the birth changed no line" sim_is "$CHIP" "$LED" 0

# --- state queries and info -----------------------------------------------
pub "$BASE/output/led/set" on
check "led on" wait_for 3 sim_is "$CHIP" "$LED" 1
: >"$msgs"
pub "$BASE/output/led/get" ""
check "an empty message on .../get publishes the state again" \
	wait_msg "$msgs" "$BASE/output/led ON" 3
pub "$BASE/input/pir/get" ""
check "... for an input too" wait_msg "$msgs" "$BASE/input/pir OFF" 3
info=$(retained "$BASE/info")
diag "info: $info"
check "<base>/info says the version" grep -q '"version":"[0-9.]*"' <<<"$info"
check "<base>/info counts 3 outputs and 3 inputs" \
	grep -q '"outputs":3,"inputs":3' <<<"$info"

# --- a reload that drops the lamp removes it from Home Assistant ----------
removal_out=$LOG_DIR/standin-removal.out
"${STANDIN[@]}" --port "$BROKER_PORT" removal lamp --timeout 10 >"$removal_out" 2>&1 &
removal_pid=$!
track "$removal_pid"
wait_for 5 grep -qx ready "$removal_out"
mapping | grep -v '"lamp"' >"$conf"
kill -HUP "$DAEMON_PID"
wait_for 15 dead "$removal_pid"
status=0
wait "$removal_pid" || status=$?
sed 's/^/#   /' "$removal_out"
check "the dropped lamp is removed from Home Assistant" test "$status" -eq 0
"${STANDIN[@]}" --port "$BROKER_PORT" check >"$standin_out" 2>&1
status=$?
check "after the reload the discovery still follows the rules" test "$status" -eq 0
check "... without the lamp" not grep -q 'lamp=' "$standin_out"

# --- discovery_mode: a switch is Home Assistant's migration hand-over -----
# restart: the daemon stopped and started again on the mapping in $conf, as
# systemctl restart does.
restart() {
	daemon_stop
	"$@" >"$conf"
	daemon_start "$conf"
}
reload() {
	"$@" >"$conf"
	kill -HUP "$DAEMON_PID"
}
# in_mode MODE: the mapping without the lamp, in discovery_mode MODE.
in_mode() {
	mapping | grep -v '"lamp"' |
		sed "s/discovery = true;/discovery = true; discovery_mode = \"$1\";/"
}
# handover TO [reload|restart]: into discovery_mode TO, followed by the stand-in.
handover() {
	local how=${2:-reload} out=$LOG_DIR/standin-handover-$1-${2:-reload}.out pid status=0
	"${STANDIN[@]}" --port "$BROKER_PORT" handover --to "$1" --timeout 10 >"$out" 2>&1 &
	pid=$!
	track "$pid"
	wait_for 10 grep -qx ready "$out"
	"$how" in_mode "$1"
	wait_for 20 dead "$pid"
	wait "$pid" || status=$?
	sed 's/^/#   /' "$out"
	check "discovery_mode = \"$1\" by a $how: Home Assistant's hand-over, no entity lost" \
		test "$status" -eq 0
}
check_form() {
	"${STANDIN[@]}" --port "$BROKER_PORT" check --mode "$1" >"$standin_out" 2>&1
	status=$?
	sed 's/^/#   /' "$standin_out"
	check "$2" test "$status" -eq 0
}
handover entity
check_form entity "the per-entity discovery follows the rules"
handover device
check_form device "back to device discovery, it follows the rules"

# --- a restart owes Home Assistant what a reload would ---------------------
handover entity restart
check_form entity "after a restart into entity discovery, it follows the rules"
check "... and only the per-entity form is retained" \
	test -z "$(retained 'homeassistant/device/+/config')"
check "the record says entity" grep -qx 'mode entity' "$record"
handover device restart
check_form device "after a restart into device discovery, it follows the rules"
check "... and no per-entity message is retained" \
	test -z "$(retained 'homeassistant/+/+/+/config')"

# An output dropped while the daemon is stopped leaves Home Assistant.
removal_out=$LOG_DIR/standin-removal-restart.out
"${STANDIN[@]}" --port "$BROKER_PORT" removal led --timeout 10 >"$removal_out" 2>&1 &
removal_pid=$!
track "$removal_pid"
wait_for 5 grep -qx ready "$removal_out"
without_led() { in_mode device | grep -v '"led"'; }
restart without_led
wait_for 15 dead "$removal_pid"
status=0
wait "$removal_pid" || status=$?
sed 's/^/#   /' "$removal_out"
check "the led dropped over a restart is removed from Home Assistant" test "$status" -eq 0
check_form device "after that restart the discovery still follows the rules"
check "... without the led" not grep -q 'led=' "$standin_out"
check "... and the record without it" not grep -q ' led$' "$record"

# Discovery turned off over a restart: all of it leaves, the record too.
no_discovery() { in_mode device | sed 's/discovery = true;/discovery = false;/'; }
: >"$msgs"
restart no_discovery
check "with discovery off the daemon comes online" online "$msgs" 5
check "the last state is published" wait_msg "$msgs" "$BASE/input/meter/count [0-9]+" 5
# (mosquitto_sub -v shows an empty message as "(null)")
check "the device discovery is emptied" \
	wait_msg "$msgs" "homeassistant/device/[A-Za-z0-9_-]+/config \(null\)" 5
check "no discovery is left retained" \
	test -z "$(retained 'homeassistant/device/+/config')$(retained 'homeassistant/+/+/+/config')"
check "the record is removed" wait_for 3 not test -e "$record"
restart mapping
check "discovery again, the record again" wait_for 5 test -s "$record"

# --- --forget clears what the board left retained --------------------------
daemon_stop
forget_status=0
"$GPIO2MQTT" -c "$conf" --forget >>"$DAEMON_LOG" 2>&1 || forget_status=$?
check "--forget succeeds" test "$forget_status" -eq 0
check "--forget deletes the record of what was announced" not test -e "$record"
gone() { test -z "$(retained "$1")"; }
check "--forget leaves no discovery" gone 'homeassistant/device/+/config'
check "--forget leaves no per-entity discovery" gone 'homeassistant/+/+/+/config'
check "--forget leaves no info" gone "$BASE/info"
check "--forget leaves no state" gone "$BASE/output/led"
check "--forget leaves no count" gone "$BASE/input/meter/count"
check "--forget leaves no status" gone "$BASE/status"

# --- a broker whose rules refuse the discovery topics ----------------------
cat >"$LOG_DIR/acl" <<-ACL
	topic readwrite $BASE/#
	topic readwrite g2m-test/#
	topic read homeassistant/#
ACL
export BROKER_EXTRA_CONF="acl_file $LOG_DIR/acl"
broker_restart || not_ok "broker with access rules"
sub_stop
: >"$msgs"
sub_start "$msgs" "$BASE/#"
: >"$DAEMON_LOG.refused"
DAEMON_LOG_ALL=$DAEMON_LOG
DAEMON_LOG=$DAEMON_LOG.refused
daemon_start "$conf"
check "with discovery refused the daemon comes online" online "$msgs" 5
check "... and publishes its states" wait_msg "$msgs" "$BASE/input/meter/count [0-9]+" 5
refusals() { grep -c 'refused the publication on "homeassistant/' "$DAEMON_LOG"; }
check "the refusal is said in one log line" wait_for 5 test "$(refusals)" -ge 1
pub "$BASE/output/led/set" on
check "... and the bridge works on" wait_for 3 sim_is "$CHIP" "$LED" 1
check "one log line only (got $(refusals))" test "$(refusals)" -eq 1
grep 'refused the publication' "$DAEMON_LOG" | sed 's/^/# /'
daemon_stop
DAEMON_LOG=$DAEMON_LOG_ALL
finish
