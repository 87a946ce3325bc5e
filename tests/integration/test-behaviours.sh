#!/bin/bash
# SPDX-License-Identifier: MIT
# Output behaviours: timed pulses and their cancelling, blinks, interlocks,
# the safety limit, the state taken when the broker is lost, a reload that
# leaves pending pulses alone, and what --check says of such mappings. The
# lines are sampled throughout (line_sample.py), so widths are measured on
# the line and an interlock showing two outputs on would be seen.
. "$(dirname "$0")/common.sh"

here=$(cd "$(dirname "$0")" && pwd)
GARAGE=0 LAMP=1 UP=2 DOWN=3 HEATER=4 VALVE=5 PUMP=6 KEEP=7
# How far a measured width may be from the one asked for, in ms; the sampler
# adds at most a pass (tens of microseconds) to the daemon's own error. Under
# a memory checker the widths measure the checker (tests/memcheck/).
TOL=20
case ${G2M_MEMCHECK:-} in
sanitizer) TOL=60 ;;
valgrind) TOL=250 ;;
esac

sim_chip behaviours beh-bank 8 "$GARAGE:GARAGE" "$LAMP:LAMP" "$UP:UP" "$DOWN:DOWN" \
	"$HEATER:HEATER" "$VALVE:VALVE" "$PUMP:PUMP" "$KEEP:KEEP" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP
broker_start || { not_ok "broker"; finish; }

# mapping [GARAGE_PULSE_MS]: the mapping; the broker is retried every second.
mapping() {
	cat <<-CONF
		mqtt = { host = "127.0.0.1"; port = $BROKER_PORT; client_id = "g2m-$TEST_NAME-$$";
		         keepalive = 30; qos = 1; base_topic = "$BASE"; reconnect_delay_max = 1; };
		outputs = (
		  { name = "garage"; line = "GARAGE"; pulse_ms = ${1:-500}; },
		  { name = "lamp"; line = "LAMP"; },
		  { name = "up"; line = "UP"; interlock = "motor"; interlock_wait_ms = 300; },
		  { name = "down"; line = "DOWN"; interlock = "motor"; interlock_wait_ms = 300; },
		  { name = "heater"; line = "HEATER"; max_on_ms = 1000; },
		  { name = "valve"; line = "VALVE"; on_disconnect = "off"; on_disconnect_after_s = 2; },
		  { name = "pump"; line = "PUMP"; on_disconnect = "on"; on_disconnect_after_s = 2; },
		  { name = "keep"; line = "KEEP"; }
		);
	CONF
}

# --- --check --------------------------------------------------------------

bad=$LOG_DIR/bad.conf
cat >"$bad" <<-CONF
	outputs = (
	  { name = "a"; line = "GARAGE";
	    pulse_ms = 0; },
	  { name = "b"; line = "LAMP"; interlock = "alone"; },
	  { name = "c"; line = "UP"; interlock_wait_ms = 100; },
	  { name = "d"; line = "DOWN"; pulse_ms = 2000;
	    max_on_ms = 1000; },
	  { name = "e"; line = "HEATER"; interlock = "m"; initial = "on"; },
	  { name = "f"; line = "VALVE"; interlock = "m"; initial = "on"; },
	  { name = "g"; line = "PUMP";
	    on_disconnect_after_s = 5; },
	  { name = "h"; line = "KEEP"; on_disconnect = "maybe"; pulse = 5; }
	);
CONF
"$GPIO2MQTT" --check -c "$bad" >"$LOG_DIR/check.out" 2>"$LOG_DIR/check.err"
check "--check refuses the mapping (status 1)" test $? = 1
said() { grep -qF -- "$bad:$1: $2" "$LOG_DIR/check.err"; }
check "--check: pulse_ms out of range, at its line" said 3 "'pulse_ms' is 0, must be from 1 to 86400000"
check "--check: an interlock group of one" said 4 'interlock group "alone" has only'
check "--check: interlock_wait_ms without interlock" said 5 "'interlock_wait_ms' needs 'interlock'"
check "--check: a pulse longer than max_on_ms" said 6 "'pulse_ms' 2000 is longer than 'max_on_ms' 1000"
check "--check: two outputs of a group initially on" said 9 \
	"'f' and 'e' (line 8) both have initial = \"on\""
check "--check: on_disconnect_after_s without on_disconnect" said 11 \
	"'on_disconnect_after_s' needs on_disconnect"
check "--check: a bad on_disconnect" said 12 "'on_disconnect' is \"maybe\""
check "--check: an unknown key, with the nearest" said 12 "unknown key 'pulse' in an output (did you mean 'pulse_ms'?)"
conf=$LOG_DIR/behaviours.conf
mapping >"$conf"
check "--check accepts the mapping" "$GPIO2MQTT" --check -c "$conf"

# --- the daemon, sampled ------------------------------------------------

samples=$LOG_DIR/samples.txt
overlaps=$LOG_DIR/overlaps.txt
: >"$samples"
: >"$overlaps"
msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" "$BASE/#"
daemon_start "$conf"
check "daemon comes online" online "$msgs" 5
"$here/line_sample.py" -i $UP,$DOWN "$SIM_DIR" "$samples" $GARAGE $LAMP $UP $DOWN $HEATER $VALVE $PUMP \
	$KEEP 2>>"$LOG_DIR/sampler.err" &
SAMPLER=$!
track "$SAMPLER"
check "the lines are sampled" wait_for 5 grep -qx sampling "$samples"

# fresh: a new scenario. The overlaps seen so far are kept aside.
fresh() {
	grep "overlap $UP $DOWN" "$samples" >>"$overlaps"
	: >"$samples"
	: >"$msgs"
}

# high_ms OFFSET: the length of each whole high period of the line, in ms.
high_ms() {
	awk -v o="$1" '$2 == o && $3 == 1 { up = $1 }
		$2 == o && $3 == 0 && up { printf "%.1f\n", ($1 - up) / 1e6; up = 0 }' "$samples"
}
# edges OFFSET VALUE: how often the line went to VALUE.
edges() { awk -v o="$1" -v v="$2" '$2 == o && $3 == v { n++ } END { print n + 0 }' "$samples"; }
# gap_ms FROM VALUE_FROM TO VALUE_TO: from the first edge of one line to that of another.
gap_ms() {
	awk -v a="$1" -v va="$2" -v b="$3" -v vb="$4" '
		$2 == a && $3 == va && !ta { ta = $1 } $2 == b && $3 == vb && !tb { tb = $1 }
		END { if (ta && tb) printf "%.1f\n", (tb - ta) / 1e6; else print "none" }' "$samples"
}
# now_is OP VALUE CMD...: CMD's output, each time it is called, compared
# with VALUE by test's OP; for wait_for and holds.
now_is() {
	local op=$1 want=$2
	shift 2
	[ "$("$@")" "$op" "$want" ]
}
near() { awk -v w="$1" -v g="$2" -v t="$3" 'BEGIN { exit !(g != "" && g - w <= t && w - g <= t) }'; }
at_least() { awk -v w="$1" -v g="$2" 'BEGIN { exit !(g != "" && g != "none" && g >= w) }'; }
went() { wait_for "${3:-3}" grep -q "^[0-9]* $1 $2\$" "$samples"; }
set_topic() { echo "$BASE/output/$1/set"; }
# in_order A B: message A came before message B.
in_order() {
	local a b
	a=$(grep -nxF -- "$1" "$msgs" | head -n 1 | cut -d: -f1)
	b=$(grep -nxF -- "$2" "$msgs" | tail -n 1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}

# --- pulses -------------------------------------------------------------

fresh
pub "$(set_topic garage)" pulse
went $GARAGE 0
w=$(high_ms $GARAGE | head -n 1)
check "pulse (pulse_ms = 500): high for 500 ± $TOL ms (got $w)" near 500 "$w" $TOL
check "pulse: ON then OFF published" wait_msg "$msgs" "$BASE/output/garage OFF" 3
check "pulse: ON came before OFF" in_order "$BASE/output/garage ON" "$BASE/output/garage OFF"

fresh
pub "$(set_topic garage)" '{"state":"pulse"}'
went $GARAGE 0
w=$(high_ms $GARAGE | head -n 1)
check "{\"state\":\"pulse\"}: high for 500 ± $TOL ms (got $w)" near 500 "$w" $TOL

for n in 50 200 1000; do
	fresh
	pub "$(set_topic lamp)" "{\"state\":\"on\",\"for_ms\":$n}"
	went $LAMP 0 3
	w=$(high_ms $LAMP | head -n 1)
	check "on for_ms $n: high for $n ± $TOL ms (got $w)" near "$n" "$w" $TOL
done

fresh
pub "$(set_topic lamp)" on
went $LAMP 1
fresh
pub "$(set_topic lamp)" '{"state":"off","for_ms":300}'
went $LAMP 1
w=$(gap_ms $LAMP 0 $LAMP 1)
check "off for_ms 300 on an output that was on: low for 300 ± $TOL ms (got $w)" near 300 "$w" $TOL
check "timed off: OFF then ON published" in_order "$BASE/output/lamp OFF" "$BASE/output/lamp ON"
pub "$(set_topic lamp)" off
went $LAMP 0

# --- a later command wins ------------------------------------------------

fresh
pub "$(set_topic lamp)" '{"state":"on","for_ms":1000}'
went $LAMP 1
sleep 0.2
pub "$(set_topic lamp)" off
went $LAMP 0
pub "$(set_topic lamp)" on
check "a timed on cancelled by off, then on: no stale return for 1.5 s" \
	holds 1.5 sim_is "$CHIP" $LAMP 1
check "cancelled: one rise and one fall before the last on" test "$(edges $LAMP 0)" = 1

fresh
pub "$(set_topic lamp)" '{"state":"off","for_ms":400}'
went $LAMP 0
pub "$(set_topic lamp)" '{"state":"on","for_ms":600}'
wait_for 3 now_is = 2 edges $LAMP 0
w=$(high_ms $LAMP | head -n 1)
check "a timed command replaced by another: the latest's 600 ± $TOL ms (got $w)" near 600 "$w" $TOL
check "replaced: the line stays low after it" holds 0.6 sim_is "$CHIP" $LAMP 0

fresh
pub "$(set_topic garage)" pulse
went $GARAGE 1
pub "$(set_topic garage)" on
check "a pulse followed by on: stays on past pulse_ms" holds 1 sim_is "$CHIP" $GARAGE 1
pub "$(set_topic garage)" off
went $GARAGE 0

# --- blink --------------------------------------------------------------

fresh
pub "$(set_topic lamp)" '{"state":"blink","on_ms":100,"off_ms":100,"count":5}'
check "blink count 5: five ON published" wait_for 5 \
	now_is = 5 count_msg "$msgs" "$BASE/output/lamp ON"
check "blink count 5: ends off" wait_msg "$msgs" "$BASE/output/lamp OFF" 3
sleep 0.3
check "blink count 5: five rises on the line (got $(edges $LAMP 1))" test "$(edges $LAMP 1)" = 5
check "blink count 5: five falls, ending low" test "$(edges $LAMP 0)" = 5 -a "$(sim_value "$CHIP" $LAMP)" = 0
check "blink: each on phase 100 ± $TOL ms ($(high_ms $LAMP | tr '\n' ' '))" \
	test "$(high_ms $LAMP | while read -r w; do near 100 "$w" $TOL || echo bad; done)" = ""
# Timed from one deadline to the next: five periods take 900 ms, not more.
w=$(awk -v o=$LAMP '$2 == o && $3 == 1 && !a { a = $1 } $2 == o && $3 == 0 { z = $1 }
	END { printf "%.1f\n", (z - a) / 1e6 }' "$samples")
check "blink: first rise to last fall 900 ± $TOL ms (got $w)" near 900 "$w" $TOL

fresh
pub "$(set_topic lamp)" '{"state":"blink","on_ms":50,"off_ms":50,"count":0}'
check "blink count 0: still blinking after 1 s" wait_for 3 now_is -ge 8 edges $LAMP 1
pub "$(set_topic lamp)" off
sleep 0.2
n=$(edges $LAMP 1)
check "blink count 0: off stops it" holds 1 now_is = "$n" edges $LAMP 1
check "blink count 0: and the line is low" sim_is "$CHIP" $LAMP 0

# --- interlock ----------------------------------------------------------

fresh
pub "$(set_topic up)" on
went $UP 1
pub "$(set_topic down)" on
went $DOWN 1
w=$(gap_ms $UP 0 $DOWN 1)
check "interlock: down on 300 ms after up went off (got $w ms)" at_least 300 "$w"
check "interlock: and not much later (got $w ms)" near 300 "$w" $TOL
check "interlock: up OFF published before down ON" \
	in_order "$BASE/output/up OFF" "$BASE/output/down ON"
check "interlock: up is off" sim_is "$CHIP" $UP 0

fresh
pub "$(set_topic up)" on # down goes off at once, up waits 300 ms
went $DOWN 0
pub "$(set_topic down)" off # cancels up's wait? no: a command to down, not up
check "a command to one member leaves the other's wait alone" went $UP 1
pub "$(set_topic up)" off
went $UP 0

fresh
pub "$(set_topic down)" on
went $DOWN 1 3
pub "$(set_topic up)" on
went $DOWN 0
pub "$(set_topic up)" off # the latest command to up wins over its wait
check "an interlock wait cancelled by a later command: up never goes on" \
	holds 0.6 sim_is "$CHIP" $UP 0

fresh
for i in 1 2 3 4 5 6 7 8; do
	pub "$(set_topic up)" on
	pub "$(set_topic down)" '{"state":"on","for_ms":150}'
	pub "$(set_topic up)" '{"state":"blink","on_ms":20,"off_ms":20}'
	pub "$(set_topic down)" toggle
done
pub "$(set_topic up)" off
pub "$(set_topic down)" off
motor() { echo "$(sim_value "$CHIP" $UP)$(sim_value "$CHIP" $DOWN)"; }
check "interlock storm settles with both off" wait_for 3 now_is = 00 motor
fresh
check "interlock: never both on, sampled throughout ($(wc -l <"$overlaps") overlaps)" \
	test ! -s "$overlaps"

# --- safety limit -------------------------------------------------------

fresh
pub "$(set_topic heater)" on
went $HEATER 0 3
w=$(high_ms $HEATER | head -n 1)
check "max_on_ms 1000: on switched off after 1000 ± $TOL ms (got $w)" near 1000 "$w" $TOL
check "max_on_ms: OFF published" wait_msg "$msgs" "$BASE/output/heater OFF" 3

fresh
pub "$(set_topic heater)" '{"state":"on","for_ms":5000}'
went $HEATER 0 3
w=$(high_ms $HEATER | head -n 1)
check "max_on_ms cuts a longer timed on at 1000 ± $TOL ms (got $w)" near 1000 "$w" $TOL

fresh
pub "$(set_topic heater)" '{"state":"blink","on_ms":300,"off_ms":300,"count":3}'
check "max_on_ms: a blink within it runs its 3 cycles" wait_for 5 now_is = 3 edges $HEATER 0
check "max_on_ms: and ends there" holds 0.7 now_is = 3 edges $HEATER 1

# --- refused commands change nothing --------------------------------------

fresh
# Long enough for six refusals on a loaded machine (up to 3 s each to be
# reported) to all come before the return.
pub "$(set_topic lamp)" '{"state":"on","for_ms":8000}'
went $LAMP 1
wait_msg "$msgs" "$BASE/output/lamp ON" 3
: >"$msgs"
refused() { # PAYLOAD TOPIC REASON
	local before
	before=$(count_msg "$msgs" "$BASE/error .*")
	pub "${2:-$(set_topic lamp)}" "$1"
	check "refused '$1': reported on $BASE/error" \
		wait_for 3 now_is -gt "$before" count_msg "$msgs" "$BASE/error .*"
	check "refused '$1': the reason says $3" \
		grep -qF -- "$3" <(grep "^$BASE/error " "$msgs" | tail -n 1)
}
refused '{"state":"on","for_ms":0}' "" "for_ms must be a whole number from 1 to 86400000"
refused '{"state":"on","for_ms":86400001}' "" "for_ms must be a whole number"
refused '{"state":"on","for_ms":500,"colour":"red"}' "" "unknown member"
refused '{"state":"blink","off_ms":100}' "" "needs on_ms and off_ms"
refused pulse "" "needs pulse_ms"
refused '{"state":"blink","on_ms":2000,"off_ms":100}' "$(set_topic heater)" "longer than"
check "refused commands: the line unchanged, no state published" \
	not grep -q "^$BASE/output/lamp " "$msgs"
went $LAMP 0 10
w=$(high_ms $LAMP | head -n 1)
check "refused commands left the pending return alone (high $w ms)" near 8000 "$w" $TOL

# --- reload -------------------------------------------------------------

reloads() { grep -c "reloaded:" "$DAEMON_LOG"; }
# reload CONF: SIGHUP with CONF as the mapping, and the wait for it.
reload() {
	local n
	n=$(reloads)
	cat >"$conf"
	kill -HUP "$DAEMON_PID"
	wait_for 5 now_is -gt "$n" reloads
}

fresh
pub "$(set_topic lamp)" '{"state":"on","for_ms":1500}'
pub "$(set_topic up)" '{"state":"blink","on_ms":100,"off_ms":100,"count":6}'
went $LAMP 1
sleep 0.3
mapping | reload
check "reload with pending pulse and blink" test $? = 0
went $LAMP 0 3
w=$(high_ms $LAMP | head -n 1)
check "reload: the pending pulse ran on, 1500 ± $TOL ms (got $w)" near 1500 "$w" $TOL
check "reload: one rise and one fall, no glitch" test "$(edges $LAMP 1)$(edges $LAMP 0)" = 11
check "reload: the blink ran on, six cycles" wait_for 3 now_is = 6 edges $UP 0
check "reload: and none more" holds 0.5 now_is = 6 edges $UP 1

fresh
pub "$(set_topic garage)" pulse
went $GARAGE 1
mapping 800 | reload
check "reload that changes pulse_ms cancels the pending pulse: stays on" \
	holds 1 sim_is "$CHIP" $GARAGE 1
pub "$(set_topic garage)" off
went $GARAGE 0
fresh
pub "$(set_topic garage)" pulse
went $GARAGE 0 3
w=$(high_ms $GARAGE | tail -n 1)
check "the new pulse_ms applies: 800 ± $TOL ms (got $w)" near 800 "$w" $TOL
mapping | reload

# --- broker loss --------------------------------------------------------

fresh
pub "$(set_topic keep)" on
pub "$(set_topic pump)" off
pub "$(set_topic valve)" '{"state":"blink","on_ms":100,"off_ms":100}'
went $KEEP 1
went $VALVE 1
start=$(_now_us)
broker_stop
check "broker loss: valve (on_disconnect off) goes off" went $VALVE 0 5
check "broker loss: pump (on_disconnect on) goes on" went $PUMP 1 5
t=$(($(_now_us) - start))
check "broker loss: after on_disconnect_after_s = 2 (took $((t / 1000)) ms)" \
	test "$t" -ge 1900000 -a "$t" -le 4000000
n=$(edges $VALVE 1)
check "broker loss: the valve's blink is cancelled" holds 0.5 now_is = "$n" edges $VALVE 1
check "broker loss: keep stays as it was" sim_is "$CHIP" $KEEP 1
broker_restart || not_ok "broker restarted"
check "broker back: the daemon reconnects" \
	wait_for 10 now_is -ge 2 grep -c "connected to 127.0.0.1" "$DAEMON_LOG"
check "broker back: valve's state published (OFF)" \
	wait_for 5 now_is = OFF retained "$BASE/output/valve"
check "broker back: pump's state published (ON)" \
	wait_for 5 now_is = ON retained "$BASE/output/pump"
check "the sampler ran throughout" alive "$SAMPLER"
check "daemon still running" alive "$DAEMON_PID"

# A retained pulse reaches a daemon as retained when it subscribes: at its
# start, or after a reconnect. It must not pulse the door each time.
daemon_stop
pub "$(set_topic garage)" pulse -r
fresh
daemon_start "$conf"
check "restarted with a retained pulse waiting" online "$msgs" 5
check "a retained pulse is ignored" holds 1 sim_is "$CHIP" $GARAGE 0
check "a retained pulse is logged as ignored" grep -q 'ignored a retained "pulse"' "$DAEMON_LOG"
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -r -t "$(set_topic garage)" -n
daemon_stop
finish
