#!/bin/bash
# SPDX-License-Identifier: MIT
# Command line: --check, --list-lines, and a line another process holds.
. "$(dirname "$0")/common.sh"

LED=1 BUTTON=2

sim_chip cli cli-bank 4 "$LED:LED" "$BUTTON:BUTTON" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP
broker_start || { not_ok "broker"; finish; }

good=$LOG_DIR/good.conf
{
	mqtt_block
	cat <<-'CONF'
		outputs = ( { name = "led"; line = "LED"; command_topic = "public/led"; initial = "off"; } );
		inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; active_low = true; } );
	CONF
} >"$good"

# run_check CONF: --check with output in $out and status in $status.
run_check() {
	out=$LOG_DIR/check.out
	status=0
	timeout 10 "$GPIO2MQTT" --check -c "$1" >"$out" 2>&1 || status=$?
	diag "--check $(basename "$1"): exit $status: $(head -n 3 "$out" | tr '\n' '|')"
}

run_check "$good"
check "--check: a valid mapping exits 0" test "$status" = 0

# A missing line is reported as FILE:LINE: with the line of its setting.
missing=$LOG_DIR/missing.conf
{
	mqtt_block
	echo 'outputs = ('
	echo '  { name = "led"; line = "LED"; },'
	echo '  { name = "ghost";'
	echo '    line = "NO_SUCH_LINE"; }'
	echo ');'
} >"$missing"
n=$(grep -n NO_SUCH_LINE "$missing" | cut -d: -f1)
run_check "$missing"
check "--check: a missing line exits 1" test "$status" = 1
check "--check: error is $missing:$((n - 1))-$n: naming the line" \
	grep -qE "^$missing:($((n - 1))|$n):.*NO_SUCH_LINE" "$out"

# A syntax error, reported by the parser with its line number.
broken=$LOG_DIR/broken.conf
{
	mqtt_block
	echo 'outputs = ( { name = "led"; line = ; } );'
} >"$broken"
n=$(grep -n 'line = ;' "$broken" | cut -d: -f1)
run_check "$broken"
check "--check: a syntax error exits 1" test "$status" = 1
check "--check: syntax error reported as $broken:$n:" grep -q "^$broken:$n:" "$out"

# An unknown key, a wrong type, a bad choice: errors, not silence.
while IFS='|' read -r desc body; do
	f=$LOG_DIR/bad.conf
	{
		mqtt_block
		echo "$body"
	} >"$f"
	n=$(wc -l <"$f")
	run_check "$f"
	check "--check: $desc exits 1" test "$status" = 1
	check "--check: $desc reported as $f:$n:" grep -q "^$f:$n:" "$out"
done <<'CASES'
an unknown key|outputs = ( { name = "led"; line = "LED"; colour = "red"; } );
a misspelled bias|inputs = ( { name = "b"; line = "BUTTON"; bias = "pullup"; } );
a bad initial value|outputs = ( { name = "led"; line = "LED"; initial = "maybe"; } );
a string debounce|inputs = ( { name = "b"; line = "BUTTON"; debounce_ms = "5"; } );
an offset without chip|outputs = ( { name = "led"; line = 1; } );
the same line twice|outputs = ( { name = "a"; line = "LED"; }, { name = "b"; line = "LED"; } );
CASES

# --version names the libgpiod it was built with and the one it runs with.
status=0
timeout 10 "$GPIO2MQTT" --version >"$LOG_DIR/version.out" 2>&1 || status=$?
diag "--version: $(tr '\n' '|' <"$LOG_DIR/version.out")"
check "--version exits 0" test "$status" = 0
check "--version: libgpiod runtime and build versions" \
	grep -qE '^libgpiod [0-9]+\.[0-9.]+ \(built with [0-9]+\.[0-9.]+\)$' "$LOG_DIR/version.out"

# --list-lines shows the simulated chip and its named lines.
status=0
timeout 10 "$GPIO2MQTT" --list-lines >"$LOG_DIR/list.out" 2>&1 || status=$?
check "--list-lines exits 0" test "$status" = 0
check "--list-lines names the chip" grep -q "$CHIP" "$LOG_DIR/list.out"
check "--list-lines shows the chip label" grep -q cli-bank "$LOG_DIR/list.out"
check "--list-lines shows line names" grep -q BUTTON "$LOG_DIR/list.out"

# A line held by someone else: the daemon names the line and the holder.
gpioset --mode=signal "$CHIP" "$LED=1" &
holder=$!
track "$holder"
held() { gpioinfo "$CHIP" | grep -q "line *$LED:.*\"gpioset\""; }
check "gpioset holds LED" wait_for 3 held
daemon_start "$good"
named() { grep -q 'LED' "$DAEMON_LOG" && grep -q 'gpioset' "$DAEMON_LOG"; }
check "held line: the daemon names the line and the holder" wait_for 5 named
diag "daemon said: $(grep -i -m 2 'gpioset' "$DAEMON_LOG")"
if daemon_exit_status 5; then
	check "held line: the daemon exits non-zero" test "$DAEMON_STATUS" != 0
else
	diag "held line: the daemon keeps running"
	daemon_stop
fi
check "held line: its value is left alone" sim_is "$CHIP" "$LED" 1
# Not part of the contract; shown for information.
run_check "$good"
stop_pid "$holder"

# Once free, the same mapping starts.
daemon_start "$good"
msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" "$BASE/#"
check "line released: the daemon starts" online "$msgs" 5
daemon_stop
finish
