# SPDX-License-Identifier: MIT
# Helpers for test scripts that run inside the test kernel (tests/uml/run.sh).
# Source it from bash:   . "$(dirname "$0")/../uml/lib.sh"
#
# Every wait is a bounded poll; every background process started here is
# stopped and every gpio-sim chip removed when the script exits. Reporting:
# ok/not_ok/check print "ok N - ..." / "not ok N - ..."; finish prints
# "P passed, F failed" and exits non-zero when something failed.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
TEST_NAME=$(basename "$0" .sh)
# Logs go where the host can read them after a failure.
LOG_DIR=${G2M_OUT:-${TMPDIR:-/tmp}}/$TEST_NAME.$$
mkdir -p "$LOG_DIR" || exit 1

_passed=0
_failed=0
_pids=()
_sim_chips=()
_dump_on_fail=()

# --- reporting -----------------------------------------------------------

diag() { printf '# %s\n' "$*"; }

ok() {
	_passed=$((_passed + 1))
	printf 'ok %d - %s\n' $((_passed + _failed)) "$*"
}

not_ok() {
	_failed=$((_failed + 1))
	printf 'not ok %d - %s\n' $((_passed + _failed)) "$*"
	local f
	for f in "${_dump_on_fail[@]}"; do
		[ -s "$f" ] || continue
		diag "last lines of $f:"
		tail -n 15 "$f" | sed 's/^/#   /'
	done
}

# check DESCRIPTION CMD...: ok when CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# not CMD...: inverts CMD, for check ("check 'x absent' not grep ...").
not() { ! "$@"; }

# Logs whose tail is shown with every failure.
dump_on_fail() { _dump_on_fail+=("$@"); }

finish() {
	echo "$_passed passed, $_failed failed"
	[ "$_failed" -eq 0 ]
	exit
}

# --- waiting -------------------------------------------------------------

# Microseconds since the epoch.
_now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "${t#0}"; }

# Seconds ("2", "0.5") to microseconds.
_to_us() {
	local s=${1%%.*} f=${1#*.}
	[ "$f" = "$1" ] && f=0
	f=${f}000000
	echo $((10#${s:-0} * 1000000 + 10#${f:0:6}))
}

# wait_for TIMEOUT_S CMD...: runs CMD every 20 ms until it succeeds; fails
# when TIMEOUT_S seconds pass first. Bounded by time and by count.
# G2M_WAIT_SCALE (whole number) stretches every timeout, e.g. under valgrind.
wait_for() {
	local limit end i max
	limit=$(($(_to_us "$1") * ${G2M_WAIT_SCALE:-1}))
	shift
	end=$(($(_now_us) + limit))
	max=$((limit / 20000 + 2))
	for ((i = 0; i < max; i++)); do
		"$@" && return 0
		[ "$(_now_us)" -lt "$end" ] || return 1
		sleep 0.02
	done
	return 1
}

# holds DURATION_S CMD...: CMD stays true for the whole duration (polled).
# For "nothing changes" checks that have no event to wait for.
holds() {
	local limit end i max
	limit=$(_to_us "$1")
	shift
	end=$(($(_now_us) + limit))
	max=$((limit / 20000 + 2))
	for ((i = 0; i < max; i++)); do
		"$@" || return 1
		[ "$(_now_us)" -lt "$end" ] || return 0
		sleep 0.02
	done
	return 0
}

# True while PID runs (a zombie counts as ended).
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

dead() { ! alive "$1"; }

# stop_pid PID [TIMEOUT_S]: SIGTERM, then SIGKILL when it lingers.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	wait_for "${2:-5}" dead "$1" && return 0
	kill -KILL "$1" 2>/dev/null
	wait_for 5 dead "$1"
}

# Remembers a background process to stop at exit.
track() { _pids+=("$@"); }

# --- gpio-sim ------------------------------------------------------------

# sim_chip NAME LABEL NUM_LINES [OFFSET:LINENAME ...]: a live gpio-sim chip
# with one bank. Sets SIM_CHIP (gpiochipN) and SIM_DIR (its sysfs directory).
sim_chip() {
	local name=$1 label=$2 n=$3 cfg spec
	shift 3
	cfg=/sys/kernel/config/gpio-sim/$name
	mkdir "$cfg" "$cfg/bank0" || return 1
	_sim_chips+=("$name")
	echo "$n" >"$cfg/bank0/num_lines" || return 1
	echo "$label" >"$cfg/bank0/label" || return 1
	for spec in "$@"; do
		mkdir "$cfg/bank0/line${spec%%:*}" || return 1
		echo "${spec#*:}" >"$cfg/bank0/line${spec%%:*}/name" || return 1
	done
	echo 1 >"$cfg/live" || return 1
	SIM_CHIP=$(cat "$cfg/bank0/chip_name")
	SIM_DIR=/sys/devices/platform/$(cat "$cfg/dev_name")/$SIM_CHIP
	export SIM_CHIP SIM_DIR
	wait_for 5 test -c "/dev/$SIM_CHIP"
}

# sim_remove NAME: takes a chip made by sim_chip down again.
sim_remove() {
	local cfg=/sys/kernel/config/gpio-sim/$1 d
	[ -d "$cfg" ] || return 0
	echo 0 >"$cfg/live" 2>/dev/null
	for d in "$cfg"/bank0/line*; do [ -d "$d" ] && rmdir "$d"; done
	rmdir "$cfg/bank0" "$cfg"
}

_sim_line() {
	local d
	for d in /sys/devices/platform/gpio-sim.*/"$1"; do
		echo "$d/sim_gpio$2"
		return
	done
}

# sim_value CHIP OFFSET: what the line drives (0/1) as seen from outside.
sim_value() { cat "$(_sim_line "$1" "$2")/value"; }

# sim_pull CHIP OFFSET up|down: drives an input line from outside.
sim_pull() { echo "pull-$3" >"$(_sim_line "$1" "$2")/pull"; }

# sim_is CHIP OFFSET VALUE: for wait_for.
sim_is() { [ "$(sim_value "$1" "$2")" = "$3" ]; }

# --- broker --------------------------------------------------------------

_port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

_broker_up() {
	alive "$BROKER_PID" &&
		mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 0 -t g2m-test/probe -n 2>/dev/null
}

# Starts mosquitto on BROKER_PORT with its own configuration and log.
_broker_launch() {
	BROKER_DIR=$LOG_DIR/broker
	mkdir -p "$BROKER_DIR"
	cat >"$BROKER_DIR/mosquitto.conf" <<-EOF
		listener $BROKER_PORT 127.0.0.1
		allow_anonymous true
		persistence false
		user root
		log_dest stderr
		log_type all
		log_timestamp_format %H:%M:%S
		connection_messages true
		${BROKER_EXTRA_CONF:-}
	EOF
	mosquitto -c "$BROKER_DIR/mosquitto.conf" >>"$BROKER_DIR/mosquitto.log" 2>&1 &
	BROKER_PID=$!
	export BROKER_PORT BROKER_PID
	track "$BROKER_PID"
	wait_for 5 _broker_up
}

# broker_start: a fresh broker on a free random port of 127.0.0.1; sets and
# exports BROKER_PORT, BROKER_PID, BROKER_DIR (log: $BROKER_DIR/mosquitto.log).
# BROKER_EXTRA_CONF: more lines for its configuration (also on restarts).
broker_start() {
	local try
	for ((try = 0; try < 20; try++)); do
		BROKER_PORT=$((20000 + RANDOM % 40000))
		_port_free "$BROKER_PORT" || continue
		_broker_launch && return 0
		stop_pid "$BROKER_PID" 2
	done
	echo "broker_start: no broker after $try attempts" >&2
	return 1
}

broker_stop() { stop_pid "$BROKER_PID"; }

# broker_restart: stops the broker and starts a new one on the same port.
broker_restart() {
	local try
	broker_stop || return 1
	for ((try = 0; try < 10; try++)); do
		_broker_launch && return 0
		stop_pid "$BROKER_PID" 2
	done
	return 1
}

# --- MQTT clients --------------------------------------------------------

# pub TOPIC PAYLOAD [mosquitto_pub options...]
pub() {
	local topic=$1 payload=$2
	shift 2
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$topic" -m "$payload" "$@"
}

# pub_file TOPIC FILE: the payload is the file's bytes, whatever they are.
pub_file() { mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$1" -f "$2"; }

# sub_start FILE TOPIC...: appends every message as "topic payload" to FILE
# from a background mosquitto_sub; returns once it is subscribed (a probe
# message went round trip). Sets SUB_PID. "> FILE" clears it safely.
sub_start() {
	local file=$1 probe try args=()
	shift
	probe=g2m-test/probe/$$/$RANDOM
	for t in "$@"; do args+=(-t "$t"); done
	: >>"$file"
	mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -v -t "$probe" "${args[@]}" \
		>>"$file" 2>>"$file.err" &
	SUB_PID=$!
	track "$SUB_PID"
	for ((try = 0; try < 25; try++)); do
		mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t "$probe" -m ready 2>/dev/null
		wait_for 0.2 grep -qxF "$probe ready" "$file" && return 0
	done
	echo "sub_start: no subscription on ${*}" >&2
	return 1
}

sub_stop() { stop_pid "${1:-$SUB_PID}"; }

# wait_msg FILE PATTERN TIMEOUT_S: a line of FILE matches the extended regular
# expression PATTERN as a whole ("topic payload").
wait_msg() { wait_for "$3" grep -qxE -- "$2" "$1"; }

# count_msg FILE PATTERN: how many lines match PATTERN as a whole.
count_msg() { grep -cxE -- "$2" "$1"; }

# --- cleanup -------------------------------------------------------------

_cleanup() {
	local i
	for ((i = ${#_pids[@]} - 1; i >= 0; i--)); do
		alive "${_pids[i]}" && stop_pid "${_pids[i]}" 2
	done
	for i in "${_sim_chips[@]}"; do sim_remove "$i"; done
	return 0
}
trap _cleanup EXIT
