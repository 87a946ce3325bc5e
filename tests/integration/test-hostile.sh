#!/bin/bash
# SPDX-License-Identifier: MIT
# Hostile input: broken mapping files exit 1 with FILE:LINE and touch no line;
# hostile messages change no line, are reported on <base>/error (rate-limited)
# and leave the daemon working; passwords never leak.
. "$(dirname "$0")/common.sh"

LED=0 LAMP=1 BUTTON=2 DOOR=3 NLINES=8

sim_chip hostile hostile-bank $NLINES "$LED:LED" "$LAMP:LAMP" "$BUTTON:BUTTON" "$DOOR:DOOR" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP
broker_start || { not_ok "broker"; finish; }

# The kernel's line-info watch over every line of the chip, held by one
# background reader: line_events prints "OFFSET EVENT" for each request,
# release or reconfiguration since its last call.
coproc WATCH {
	perl -e '
		use strict;
		use Fcntl;
		my ($dev, $n) = @ARGV;
		$| = 1;
		# GPIO_V2_GET_LINEINFO_WATCH_IOCTL, _IOWR(0xB4, 0x06, 256 bytes) as
		# encoded on x86 and arm; struct gpio_v2_line_info is 256 bytes with
		# the offset at 64, an info-changed event 288 with its type at 264.
		sysopen(my $chip, $dev, O_RDWR | O_NONBLOCK) or die "$dev: $!\n";
		for my $offset (0 .. $n - 1) {
			my $info = "\0" x 256;
			substr($info, 64, 4) = pack("L", $offset);
			ioctl($chip, 0xC100B406, $info) or die "watch $offset: $!\n";
		}
		my @names = qw(? requested released reconfigured);
		print "end\n";
		while (<STDIN>) {
			while ((sysread($chip, my $ev, 288) // 0) == 288) {
				printf "%d %s\n", unpack("L", substr($ev, 64, 4)),
					$names[unpack("L", substr($ev, 264, 4))] // "?";
			}
			print "end\n";
		}
	' "/dev/$CHIP" "$NLINES"
}
track "$WATCH_PID"

line_events() {
	local l i
	echo >&"${WATCH[1]}"
	for ((i = 0; i < 1000; i++)); do
		read -r -t 5 l <&"${WATCH[0]}" || return 1
		[ "$l" = end ] && return 0
		echo "$l"
	done
}
read -r -t 10 l <&"${WATCH[0]}" && [ "$l" = end ] || not_ok "line-info watch"

# Every line's value and its consumer as gpioinfo shows it.
lines_snapshot() {
	cat "$SIM_DIR"/sim_gpio*/value
	gpioinfo "$CHIP"
}

# --- the watcher sees a daemon that requests lines ------------------------
good=$LOG_DIR/good.conf
{
	mqtt_block 10
	cat <<-'CONF'
		outputs = ( { name = "led"; line = "LED"; command_topic = "public/led"; initial = "on"; } );
		inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; } );
	CONF
} >"$good"
events=$LOG_DIR/events.txt
"$GPIO2MQTT" -c "$good" >"$LOG_DIR/control.out" 2>&1 &
control=$!
track "$control"
# Slow under valgrind: wait for the request rather than for a fixed second.
wait_for 5 grep -q "inputs ready" "$LOG_DIR/control.out"
stop_pid "$control"
line_events >"$events"
check "control: the line watch sees a valid mapping request LED" grep -qx "$LED requested" "$events"

diag "set-up done after $SECONDS s"
# --- broken mapping files: exit 1, FILE:LINE: message, no line touched ----
gpioset_pid=
hold_lamp() {
	gpioset --mode=signal "$CHIP" "$LAMP=1" &
	gpioset_pid=$!
	track "$gpioset_pid"
	wait_for 3 eval 'gpioinfo "$CHIP" | grep -qE "^[[:space:]]*line +$LAMP:.*gpioset"'
}
hold_lamp || not_ok "gpioset holds LAMP for the busy-line case"
line_events >/dev/null
before=$(lines_snapshot)
dir_pw=$LOG_DIR/pwdir
empty_pw=$LOG_DIR/empty.pw
mkdir -p "$dir_pw"
: >"$empty_pw"

# Each case gets the mqtt block unless it brings its own; "<<" marks the
# line the error must name ("<<0" expects line 0).
# Fields: description | regex for the message | mapping (\n = new line).
n_config=0
config_case() {
	local desc=$1 msg=$2 body=$3 conf=$LOG_DIR/bad-$n_config.conf out expect status=0
	local after
	n_config=$((n_config + 1))
	{
		case $body in *'mqtt ='*) ;; *) mqtt_block 10 ;; esac
		printf '%b\n' "$body"
	} >"$conf"
	case $body in
	*'<<0'*) expect=0 ;;
	*) expect=$(grep -an '<<' "$conf" | head -n 1 | cut -d: -f1) ;;
	esac
	[ "$desc" = "the mapping file is missing" ] && rm -f "$conf"
	out=$LOG_DIR/bad-$n_config.out
	timeout $((10 * ${G2M_WAIT_SCALE:-1})) "$GPIO2MQTT" -c "$conf" -v >"$out" 2>&1 || status=$?
	line_events >"$events" || not_ok "line-info watch"
	after=$(lines_snapshot)
	check "mapping with $desc: exit status 1 (got $status)" test "$status" = 1
	check "mapping with $desc: $conf:$expect: names it" \
		grep -qE -- "^$conf:$expect: .*($msg)" "$out"
	check "mapping with $desc: no line requested" not test -s "$events"
	check "mapping with $desc: values and consumers unchanged" test "$before" = "$after"
	[ -s "$events" ] && diag "line events: $(tr '\n' ' ' <"$events")"
	grep -qE -- "^$conf:$expect: " "$out" || diag "output: $(head -n 3 "$out" | tr '\n' '|')"
}

while IFS='|' read -r desc msg body; do
	[ -n "$desc" ] || continue
	body=${body//@CHIP@/$CHIP}
	body=${body//@DIRPW@/$dir_pw}
	body=${body//@EMPTYPW@/$empty_pw}
	config_case "$desc" "$msg" "$body"
done <<'CASES'
a stray parenthesis|syntax error|outputs = ( { name = "led"; line = "LED"; } )); # <<
a bad token|syntax error|outputs = ( { name = "led"; line = @LED; } ); # <<
binary garbage|NUL byte|\x01\x02\xff\xfe\x00garbage # <<
binary garbage without a NUL|syntax error|\x01\x02\xff\xfegarbage # <<
a name that is a number|must be a string|outputs = ( { name = 5; line = "LED"; } ); # <<
a string for a flag|must be true or false|outputs = ( { name = "led"; line = "LED"; active_low = "yes"; } ); # <<
a bool for initial|must be a string|outputs = ( { name = "led"; line = "LED"; initial = true; } ); # <<
a port in quotes|whole number|mqtt = {\n  host = "127.0.0.1";\n  port = "1883"; # <<\n};
outputs as a group|must be a list|outputs = { name = "led"; line = "LED"; }; # <<
an input that is a string|must be a group|inputs = ( "BUTTON" ); # <<
a misspelled top-level key|unknown key 'output'|output = ( { name = "led"; line = "LED"; } ); # <<
an unknown mqtt key|unknown key 'hostname'|mqtt = {\n  host = "127.0.0.1";\n  hostname = "x"; # <<\n};
an unknown tls key|unknown key 'cafile'|mqtt = {\n  host = "127.0.0.1";\n  tls = {\n    cafile = "/etc/ssl/x.pem"; # <<\n  };\n};
a duplicate name|already used|outputs = (\n  { name = "led"; line = "LED"; },\n  { name = "led"; line = "LAMP"; } # <<\n);
the same line twice|already mapped|outputs = ( { name = "led"; line = "LED"; } );\ninputs = ( { name = "b"; line = "LED"; } ); # <<
one line by name and by offset|same GPIO line|outputs = (\n  { name = "led"; line = "LED"; },\n  { name = "led0"; chip = "@CHIP@"; line = 0; } # <<\n);
a duplicate command topic|command_topic .* already used|outputs = (\n  { name = "led"; line = "LED"; command_topic = "c/x"; },\n  { name = "lamp"; line = "DOOR"; command_topic = "c/x"; } # <<\n);
a duplicate state topic|state_topic .* already used|outputs = ( { name = "led"; line = "LED"; state_topic = "s/x"; } );\ninputs = ( { name = "b"; line = "BUTTON"; state_topic = "s/x"; } ); # <<
a state topic that is a command topic|is the command_topic|outputs = ( { name = "led"; line = "LED"; command_topic = "c/x"; } );\ninputs = ( { name = "b"; line = "BUTTON"; state_topic = "c/x"; } ); # <<
the status topic as a state topic|reserved|inputs = ( { name = "b"; line = "BUTTON"; state_topic = "gpio2mqtt/status"; } ); # <<
a missing line|'line' is missing|outputs = ( { name = "led"; initial = "on"; } ); # <<
a missing name|'name' is missing|outputs = ( { line = "LED"; } ); # <<
an unknown line name|NO_SUCH_LINE|outputs = ( { name = "x"; line = "NO_SUCH_LINE"; } ); # <<
an unknown chip|nochip|outputs = ( { name = "x"; chip = "nochip"; line = 1; } ); # <<
a busy line (held by gpioset)|gpioset|outputs = (\n  { name = "led"; line = "LED"; initial = "on"; },\n  { name = "lamp"; line = "LAMP"; } # <<\n);
an unreadable password file|cannot read password_file|mqtt = {\n  host = "127.0.0.1";\n  username = "u";\n  password_file = "/nonexistent/pw"; # <<\n};
a directory as password file|password_file|mqtt = {\n  host = "127.0.0.1";\n  username = "u";\n  password_file = "@DIRPW@"; # <<\n};
an empty password file|is empty|mqtt = {\n  host = "127.0.0.1";\n  username = "u";\n  password_file = "@EMPTYPW@"; # <<\n};
a missing TLS CA file|cannot read ca_file|mqtt = {\n  host = "127.0.0.1";\n  tls = {\n    ca_file = "/nonexistent/ca.pem"; # <<\n  };\n};
a missing TLS key file|cannot read key_file|mqtt = {\n  host = "127.0.0.1";\n  tls = {\n    cert_file = "/etc/hostname";\n    key_file = "/nonexistent/key.pem"; # <<\n  };\n};
port 70000|from 1 to 65535|mqtt = {\n  host = "127.0.0.1";\n  port = 70000; # <<\n};
a 64-bit port|from 1 to 65535|mqtt = {\n  host = "127.0.0.1";\n  port = 99999999999L; # <<\n};
keepalive 1|from 10 to|mqtt = {\n  host = "127.0.0.1";\n  keepalive = 1; # <<\n};
qos 3|from 0 to 2|mqtt = {\n  host = "127.0.0.1";\n  qos = 3; # <<\n};
reconnect_delay_max 0|from 1 to 3600|mqtt = {\n  host = "127.0.0.1";\n  reconnect_delay_max = 0; # <<\n};
debounce_ms 60001|from 0 to 60000|inputs = ( { name = "b"; line = "BUTTON"; debounce_ms = 60001; } ); # <<
a negative offset|out of range|outputs = ( { name = "x"; chip = "@CHIP@"; line = -1; } ); # <<
a wildcard command topic|not a valid topic|outputs = ( { name = "led"; line = "LED"; command_topic = "c/+/x"; } ); # <<
a name with a space|may only have|outputs = ( { name = "led one"; line = "LED"; } ); # <<
a 65-byte payload_on|1 to 64 characters|inputs = ( { name = "b"; line = "BUTTON"; payload_on = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"; } ); # <<
a bad drive|must be one of|outputs = ( { name = "led"; line = "LED"; drive = "open-collector"; } ); # <<
password and password_file|either password or password_file|mqtt = { # <<\n  host = "127.0.0.1";\n  username = "u";\n  password = "p";\n  password_file = "/etc/hostname";\n};
the mapping file is missing|cannot read the mapping file|# <<0
CASES
stop_pid "$gpioset_pid" 3
check "at least 30 broken mappings were tried" test "$n_config" -ge 30

diag "broken mappings done after $SECONDS s"
# --- hostile messages -----------------------------------------------------
conf=$LOG_DIR/hostile.conf
{
	mqtt_block 10
	cat <<-'CONF'
		outputs = (
		  { name = "led"; line = "LED"; command_topic = "public/led"; initial = "off"; },
		  { name = "lamp"; line = "LAMP"; command_topic = "public/led/lamp"; initial = "off"; }
		);
		inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; } );
	CONF
} >"$conf"
msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" "$BASE/#" || not_ok "subscriber"
daemon_start "$conf"
check "hostile messages: daemon online" online "$msgs" 5
pub public/led on
check "LED on before the hostile messages" wait_for 3 sim_is "$CHIP" "$LED" 1

errors() { count_msg "$msgs" "$BASE/error .*"; }
payload=$LOG_DIR/payload.bin

# msg_case DESC TOPIC EXPECT: publishes $payload on TOPIC. EXPECT is
# "error REGEX" (a report whose reason matches), "ignored" (nothing at all)
# or "applied VALUE" (the LED goes to VALUE).
msg_case() {
	local desc=$1 topic=$2 expect=$3 len n0 started
	len=$(stat -c %s "$payload")
	: >"$msgs"
	started=$(_now_us)
	if [ "$len" = 0 ]; then
		mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$topic" -n
	else
		pub_file "$topic" "$payload"
	fi || not_ok "$desc: publish"
	case $expect in
	error*)
		# Short: the excerpt is at most 64 bytes, whatever the length.
		check "$desc: reported on $BASE/error, length $len, reason '${expect#error }'" \
			wait_msg "$msgs" "$BASE/error .{0,200}\"length\":$len,\"reason\":\".*(${expect#error }).*\"}" 3
		check "$desc: LED unchanged, no state published" \
			eval 'holds 0.2 sim_is "$CHIP" "$LED" 1 && not grep -q "^$BASE/output/" "$msgs"'
		;;
	ignored)
		check "$desc: LED and LAMP unchanged" \
			holds 0.3 eval 'sim_is "$CHIP" "$LED" 1 && sim_is "$CHIP" "$LAMP" 0'
		check "$desc: nothing published but the message itself" \
			not grep -qvxF -- "$topic $(cat "$payload")" "$msgs"
		;;
	applied*)
		check "$desc: LED goes to ${expect#applied }" \
			wait_for 3 sim_is "$CHIP" "$LED" "${expect#applied }"
		pub public/led on
		wait_for 3 sim_is "$CHIP" "$LED" 1
		;;
	esac
	check "$desc: daemon alive" alive "$DAEMON_PID"
	# The error budget refills one report a second: keep the reported cases
	# apart so that none of them is suppressed.
	[ "${expect%% *}" = error ] || return 0
	n0=$(((started + 700000 - $(_now_us)) / 1000))
	[ "$n0" -gt 0 ] && sleep "$((n0 / 1000)).$(printf '%03d' $((n0 % 1000)))"
}

nest() { # nest N: N levels of JSON arrays
	head -c "$1" /dev/zero | tr '\0' '['
	head -c "$1" /dev/zero | tr '\0' ']'
}

n_msg=0
while IFS='|' read -r desc topic expect gen; do
	[ -n "$desc" ] || continue
	eval "$gen" >"$payload"
	n_msg=$((n_msg + 1))
	msg_case "$desc" "$topic" "$expect"
done <<'CASES'
binary bytes|public/led|error NUL|printf '\x00\x01\x02\xff\xfe\x80'
binary without NUL|public/led|error unknown command|printf '\x01\x02\xff\xfe\x80\x7f'
an empty payload|public/led|error empty|:
only whitespace|public/led|error empty|printf ' \t\r\n '
257 bytes|public/led|error too large|head -c 257 /dev/zero | tr '\0' ' '
1 MiB|public/led|error too large|head -c 1048576 /dev/zero | tr '\0' 'o'
256 bytes, padded "off"|public/led|applied 0|{ head -c 253 /dev/zero | tr '\0' ' '; printf off; }
JSON without state|public/led|error string member|printf '{"value":"off"}'
JSON with a numeric state|public/led|error string member|printf '{"state":0}'
JSON with State capitalised|public/led|error string member|printf '{"State":"off"}'
a JSON array|public/led|error unknown command|printf '["off"]'
a JSON string|public/led|error unknown command|printf '"off"'
JSON with an unknown state|public/led|error must be|printf '{"state":"dim"}'
JSON with trailing bytes|public/led|error invalid JSON|printf '{"state":"off"} x'
two JSON objects|public/led|error invalid JSON|printf '{"state":"off"}{"state":"off"}'
truncated JSON|public/led|error invalid JSON|printf '{"state":"off"'
JSON with an escaped NUL|public/led|error NUL|printf '{"state":"off\\u0000x"}'
JSON nested 100 deep|public/led|error string member|printf '{"state":%s}' "$(nest 100)"
JSON nested 10000 deep|public/led|error too large|nest 10000
unbalanced nesting within the limit|public/led|error invalid JSON|printf '{"state":%s' "$(nest 120 | head -c 120)"
UTF-8 garbage|public/led|error unknown command|printf '\xc0\xaf\xed\xa0\x80\xf8\x88\x80\x80\x80'
a UTF-8 lookalike of off|public/led|error unknown command|printf '\xd0\xbeff'
a UTF-8 state in JSON|public/led|error must be|printf '{"state":"\xc3\xb6ff"}'
off with a NUL after it|public/led|error NUL|printf 'off\x00on'
a longer prefix of the command topic|public/led/x|ignored|printf off
a shorter prefix of the command topic|public/le|ignored|printf off
the command topic with a trailing slash|public/led/|ignored|printf off
the command topic in capitals|PUBLIC/LED|ignored|printf off
the command topic with a leading slash|/public/led|ignored|printf off
the command topic with a doubled slash|public//led|ignored|printf off
the state topic|gpio2mqtt/output/led|ignored|printf off
the error topic|gpio2mqtt/error|ignored|printf off
CASES
check "at least 20 hostile messages were tried" test "$n_msg" -ge 20

# Publishing to a wildcard topic is refused before it reaches the daemon.
: >"$msgs"
for t in 'public/+' 'public/#' '#'; do
	pub "$t" off 2>/dev/null && not_ok "the broker took a publish on '$t'"
done
check "wildcard topics: LED unchanged, nothing published" \
	eval 'holds 0.5 sim_is "$CHIP" "$LED" 1 && test ! -s "$msgs"'

# flood TOPIC PAYLOAD COUNT DONE: COUNT messages in chunks of 500, each
# chunk sent once "DONE N" says the N messages before it were handled (the
# broker drops what queues beyond 1000 for one client).
flood() {
	local topic=$1 word=$2 count=$3 done=$4 sent=0 n
	while [ "$sent" -lt "$count" ]; do
		n=$((count - sent < 500 ? count - sent : 500))
		yes "$word" | head -n "$n" |
			mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$topic" -l
		sent=$((sent + n))
		wait_for 30 "$done" "$sent" || return 1
	done
}

diag "hostile messages done after $SECONDS s"
# --- floods ---------------------------------------------------------------
# 5000 bad commands: every one is refused, reports are at most the burst of
# 10 plus one a second.
: >"$msgs"
t0=$(_now_us)
refusals() { grep -c 'ignored a message on "public/led"' "$DAEMON_LOG"; }
refused0=$(refusals)
refused() { test "$(($(refusals) - refused0))" -ge "$1"; }
flood public/led banana 5000 refused
pub public/led off
check "flood of 5000 bad commands: each one refused" \
	test "$(($(refusals) - refused0))" = 5000
check "flood of 5000 bad commands: a good one after it is applied" \
	wait_for 30 sim_is "$CHIP" "$LED" 0
sleep 0.5
elapsed_s=$((($(_now_us) - t0) / 1000000))
n=$(errors)
diag "flood: $n reports in ${elapsed_s}s for 5000 bad commands"
check "flood: at least one report" test "$n" -ge 1
check "flood: at most 10 + 1/s reports ($n <= $((10 + elapsed_s + 1)))" \
	test "$n" -le $((10 + elapsed_s + 1))
sleep 1.1
printf banana >"$payload"
pub_file public/led "$payload"
check "flood: the next report comes once the budget refilled" \
	wait_for 3 test "$(errors)" -gt "$n"
check "flood: the suppressed reports are counted in the log" \
	wait_for 3 grep -qE 'more bad messages were not reported' "$DAEMON_LOG"

diag "flood of bad commands done after $SECONDS s"
# 1001 toggles: each applied exactly once and in order, so LAMP ends on.
: >"$msgs"
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status"; }
rss0=$(rss_kb)
lamp_states() { test "$(count_msg "$msgs" "$BASE/output/lamp (ON|OFF)")" -ge "$1"; }
flood public/led/lamp toggle 1001 lamp_states
check "flood of 1001 toggles: all processed" lamp_states 1001
check "flood of toggles: the line is on" sim_is "$CHIP" "$LAMP" 1
check "flood of toggles: the last state published is ON" \
	test "$(last_msg "$msgs" "$BASE/output/lamp")" = ON
check "flood of toggles: exactly 1001 states published" \
	test "$(count_msg "$msgs" "$BASE/output/lamp (ON|OFF)")" = 1001
# The states queued during the flood are freed, and the heap given back.
# (Not under a memory checker: its own bookkeeping holds freed memory.)
rss1=$(rss_kb)
diag "RSS before the flood of toggles: $rss0 kB, after: $rss1 kB"
[ -n "${G2M_MEMCHECK:-}" ] ||
	check "flood of toggles: RSS back within 64 kB ($rss0 -> $rss1 kB)" \
		test "$rss1" -le $((rss0 + 64))
check "floods: no error reported for good commands" test "$(errors)" = 0
pub public/led on
check "after the floods: commands still work" wait_for 3 sim_is "$CHIP" "$LED" 1
check "after the floods: daemon alive" alive "$DAEMON_PID"
diag "flood of toggles done after $SECONDS s"

# --- SIGHUP with mappings that cannot be applied ----------------------------
# The running mapping stays and no line is touched, not even for a moment;
# a valid mapping then leaves every line whose settings stay alone.
LED_OUT='{ name = "led"; line = "LED"; command_topic = "public/led"; initial = "off"; }'
LAMP_OUT='{ name = "lamp"; line = "LAMP"; command_topic = "public/led/lamp"; initial = "off"; }'
DOOR_OUT='{ name = "door"; line = "DOOR"; }'
BUTTON_IN='inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; } );'
gpioset --mode=signal "$CHIP" "$DOOR=1" &
door_pid=$!
track "$door_pid"
wait_for 3 eval 'gpioinfo "$CHIP" | grep -qE "^[[:space:]]*line +$DOOR:.*gpioset"' ||
	not_ok "gpioset holds DOOR"
line_events >/dev/null
before=$(lines_snapshot)
reload_failures() { grep -c 'reload failed' "$DAEMON_LOG"; }
lamp_follows() { pub public/led/lamp "$1" && wait_for 3 sim_is "$CHIP" "$LAMP" "$2"; }

reload_case() {
	local desc=$1 f0
	{
		mqtt_block 10
		printf '%b\n' "$2"
	} >"$conf"
	f0=$(reload_failures)
	kill -HUP "$DAEMON_PID"
	check "reload with $desc: refused and logged" \
		wait_for 5 eval 'test "$(reload_failures)" -gt "$f0"'
	line_events >"$events" || not_ok "line-info watch"
	check "reload with $desc: no line released or requested" not test -s "$events"
	[ -s "$events" ] && diag "line events: $(tr '\n' ' ' <"$events")"
	check "reload with $desc: values and consumers unchanged" test "$before" = "$(lines_snapshot)"
	check "reload with $desc: the running mapping still works" \
		eval 'lamp_follows off 0 && lamp_follows on 1'
}

while IFS='|' read -r desc body; do
	[ -n "$desc" ] || continue
	body=${body//@LED@/$LED_OUT}
	body=${body//@LAMP@/$LAMP_OUT}
	body=${body//@DOOR@/$DOOR_OUT}
	body=${body//@BUTTON@/$BUTTON_IN}
	reload_case "$desc" "$body"
done <<'CASES'
a syntax error|outputs = ( @LED@, @LAMP@ ));\n@BUTTON@
an unknown line|outputs = ( @LED@, @LAMP@, { name = "x"; line = "NO_SUCH_LINE"; } );\n@BUTTON@
a duplicate command topic|outputs = ( @LED@, { name = "lamp"; line = "LAMP"; command_topic = "public/led"; } );\n@BUTTON@
a busy line added|outputs = ( @LED@, @LAMP@, @DOOR@ );\n@BUTTON@
a busy line added, another dropped|outputs = ( @LED@, @DOOR@ );\n@BUTTON@
a busy line added, another changed|outputs = ( @LED@, { name = "lamp"; line = "LAMP"; active_low = true; }, @DOOR@ );\n@BUTTON@
a busy line added, an input made an output|outputs = ( @LED@, @LAMP@, @DOOR@, { name = "button"; line = "BUTTON"; } );
CASES

# A valid mapping: DOOR is free now and new, the lamp only changes its topic.
stop_pid "$door_pid" 3
line_events >/dev/null
{
	mqtt_block 10
	echo "outputs = ( $LED_OUT, { name = \"lamp\"; line = \"LAMP\"; command_topic = \"public/lamp2\"; initial = \"off\"; }, $DOOR_OUT );"
	echo "$BUTTON_IN"
} >"$conf"
kill -HUP "$DAEMON_PID"
check "valid reload: applied" wait_for 5 grep -q 'reloaded: 3 outputs' "$DAEMON_LOG"
line_events >"$events"
check "valid reload: only the new line is requested" test "$(cat "$events")" = "$DOOR requested"
[ "$(cat "$events")" = "$DOOR requested" ] || diag "line events: $(tr '\n' ' ' <"$events")"
check "valid reload: LED and LAMP kept their values" \
	eval 'sim_is "$CHIP" "$LED" 1 && sim_is "$CHIP" "$LAMP" 1'
pub public/lamp2 off
check "valid reload: the new topic works" wait_for 3 sim_is "$CHIP" "$LAMP" 0
daemon_stop
diag "reloads done after $SECONDS s"
# --- secrets ----------------------------------------------------------------
INLINE=Inl1ne-S3cret-4711
FROMFILE=F1le-S3cret-0815
pwfile=$LOG_DIR/password
printf '%s\n' "$FROMFILE" >"$pwfile"
chmod 600 "$pwfile"

# secret_conf HOST PASSWORD-SETTING [EXTRA]: a mapping with a user name.
secret_conf() {
	cat <<-EOF
		mqtt = {
		  host = "$1";
		  port = $BROKER_PORT;
		  client_id = "gpio2mqtt-secret-$$";
		  keepalive = 10;
		  username = "user";
		  $2
		  $3
		};
		outputs = ( { name = "led"; line = "LED"; command_topic = "public/led"; } );
	EOF
}
leaks() { grep -rqF -e "$INLINE" -e "$FROMFILE" "$@"; }

for how in inline file; do
	setting="password = \"$INLINE\";"
	[ "$how" = file ] && setting="password_file = \"$pwfile\";"
	conf=$LOG_DIR/secret-$how.conf
	secret_conf 127.0.0.1 "$setting" >"$conf"
	: >"$msgs"
	: >"$DAEMON_LOG"
	daemon_start "$conf"
	check "password $how: online (the broker takes any login)" online "$msgs" 5
	printf '\xffbanana' >"$payload"
	pub_file public/led "$payload"
	check "password $how: a bad command is reported" wait_msg "$msgs" "$BASE/error .*" 3
	"$GPIO2MQTT" --check -c "$conf" -v >"$LOG_DIR/check-$how.out" 2>&1
	daemon_stop
	check "password $how: not in the log (-v)" not leaks "$DAEMON_LOG"
	check "password $how: not in --check output" not leaks "$LOG_DIR/check-$how.out"
	check "password $how: not on the error topic" not leaks "$msgs"
	check "password $how: no plain-TCP warning for 127.0.0.1" \
		not grep -q unencrypted "$DAEMON_LOG"
done
check "the log shows the error report for the payload" grep -q 'ignored a message' "$DAEMON_LOG"

# Broken mappings that carry the password.
while IFS='|' read -r desc setting extra; do
	conf=$LOG_DIR/secret-bad.conf
	secret_conf 127.0.0.1 "${setting//@PW@/$pwfile}" "$extra" >"$conf"
	status=0
	timeout 10 "$GPIO2MQTT" -c "$conf" -v >"$LOG_DIR/secret-bad.out" 2>&1 || status=$?
	timeout 10 "$GPIO2MQTT" --check -c "$conf" >>"$LOG_DIR/secret-bad.out" 2>&1 || status=$((status + $?))
	check "$desc: daemon and --check exit 1" test "$status" = 2
	check "$desc: password not shown" not leaks "$LOG_DIR/secret-bad.out"
done <<CASES
inline password, unknown key|password = "$INLINE";|colour = "red";
inline password, unterminated string|password = "$INLINE;|
inline password in a list|password = ( "$INLINE" );|
inline password, also a file|password = "$INLINE";|password_file = "@PW@";
password file, unknown key|password_file = "@PW@";|tls_enabled = true;
password file, missing TLS file|password_file = "@PW@";|tls = { ca_file = "/nonexistent/ca.pem"; };
CASES

diag "secrets in mappings done after $SECONDS s"
# A password over plain TCP to a host that is not loopback: one warning,
# while the connection attempts keep failing. The address is from the range
# reserved for documentation, and this kernel has no interface but lo: no
# packet leaves, connecting fails at once ("network unreachable").
conf=$LOG_DIR/secret-remote.conf
secret_conf 192.0.2.1 "password_file = \"$pwfile\";" >"$conf"
: >"$DAEMON_LOG"
daemon_start "$conf"
check "remote host: warns about the unencrypted password" \
	wait_for 3 grep -q 'sent unencrypted' "$DAEMON_LOG"
check "remote host: daemon keeps retrying" holds 2 alive "$DAEMON_PID"
check "remote host: the warning is logged once" \
	test "$(grep -c 'sent unencrypted' "$DAEMON_LOG")" = 1
check "remote host: the connection failure is logged once as a warning" \
	test "$(grep -c 'warning: cannot connect' "$DAEMON_LOG")" = 1
check "remote host: later attempts are logged at debug level" \
	grep -q 'cannot connect.*(again)' "$DAEMON_LOG"
daemon_stop
check "remote host: password not in the log" not leaks "$DAEMON_LOG"
diag "all done after $SECONDS s"
finish
