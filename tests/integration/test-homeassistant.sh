#!/bin/bash
# SPDX-License-Identifier: MIT
# Home Assistant: MQTT discovery checked by a Home Assistant stand-in
# (ha_standin.py, against the rules of Home Assistant's documentation), its
# birth message answered with discovery before complete states, removal of a
# line dropped by a reload, state queries on .../get and <base>/info, the
# per-entity form (discovery_mode = "entity") and the switch between the two
# forms by Home Assistant's migrate_discovery hand-over.
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
# mapping [DROP]: the board's mapping, without the line named DROP.
mapping() {
	mqtt_block
	cat <<-CONF
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
# handover TO: a reload into discovery_mode TO, followed by the stand-in.
handover() {
	local out=$LOG_DIR/standin-handover-$1.out pid status=0
	"${STANDIN[@]}" --port "$BROKER_PORT" handover --to "$1" --timeout 10 >"$out" 2>&1 &
	pid=$!
	track "$pid"
	wait_for 10 grep -qx ready "$out"
	mapping | grep -v '"lamp"' |
		sed "s/discovery = true;/discovery = true; discovery_mode = \"$1\";/" >"$conf"
	kill -HUP "$DAEMON_PID"
	wait_for 20 dead "$pid"
	wait "$pid" || status=$?
	sed 's/^/#   /' "$out"
	check "discovery_mode = \"$1\": Home Assistant's hand-over, no entity lost" \
		test "$status" -eq 0
}
handover entity
"${STANDIN[@]}" --port "$BROKER_PORT" check --mode entity >"$standin_out" 2>&1
status=$?
sed 's/^/#   /' "$standin_out"
check "the per-entity discovery follows the rules" test "$status" -eq 0
handover device
"${STANDIN[@]}" --port "$BROKER_PORT" check >"$standin_out" 2>&1
status=$?
check "back to device discovery, it follows the rules" test "$status" -eq 0

# --- --forget clears what the board left retained --------------------------
daemon_stop
forget_status=0
"$GPIO2MQTT" -c "$conf" --forget >>"$DAEMON_LOG" 2>&1 || forget_status=$?
check "--forget succeeds" test "$forget_status" -eq 0
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
