# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034 # FLEET_* are for the caller
# A fleet of gpio2mqtt daemons from one mapping: each board in a UTS
# namespace of its own, so that %h gives it its own client id and topics,
# and on its own line of one gpio-sim chip. Shared by
# tests/integration/test-fleet.sh and the benchmark (tests/bench/); source it
# from bash after tests/uml/lib.sh.

FLEET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# board_name I: board-00 ... board-99; board I drives line I.
board_name() { printf 'board-%02d' "$1"; }

# fleet_confs DIR CHIP PORT BOARDS DELAY_MAX: the one mapping of the
# classroom, as DIR/board-NN.conf. Each board needs a line of its own on the
# one simulated chip, so the line is the only thing filled in per board.
fleet_confs() {
	local dir=$1 i
	mkdir -p "$dir"
	cat >"$dir/fleet.conf.in" <<EOF
mqtt = {
  host = "127.0.0.1";
  port = $3;
  client_id = "gpio2mqtt-%h";
  base_topic = "classroom/%h";
  keepalive = 30;
  reconnect_delay_max = $5;
};
outputs = ( {
  name = "led"; chip = "$2"; line = @LINE@;
  command_topic = ( "classroom/all/led", "classroom/%h/led" );
} );
EOF
	for ((i = 0; i < $4; i++)); do
		sed "s/@LINE@/$i/" "$dir/fleet.conf.in" >"$dir/$(board_name "$i").conf"
	done
}

# "${AS_BOARD[@]}" NAME CMD...: CMD in a UTS namespace of its own whose host
# name is NAME. Not a function: started with &, $! is then CMD's own PID.
# shellcheck disable=SC2016 # expanded by the inner shell
AS_BOARD=(unshare --uts sh -c 'hostname "$1" && shift && exec "$@"' sh)

# fleet_start DIR BOARDS [DAEMON_ARGS...]: starts the daemons of DIR's
# mappings (fleet_confs), board-NN's output in DIR/board-NN.log. Sets
# FLEET_PIDS, and FLEET_STARTED and FLEET_SPAWNED (epoch seconds) before
# the first and after the last was started.
fleet_start() {
	local dir=$1 n=$2 i b
	shift 2
	FLEET_PIDS=()
	FLEET_STARTED=$(epoch)
	for ((i = 0; i < n; i++)); do
		b=$(board_name "$i")
		"${AS_BOARD[@]}" "$b" "$GPIO2MQTT" "$@" -c "$dir/$b.conf" >"$dir/$b.log" 2>&1 &
		FLEET_PIDS+=($!)
		track $!
	done
	FLEET_SPAWNED=$(epoch)
}

epoch() { echo "${EPOCHREALTIME/,/.}"; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f\n", (b - a) * 1000 }'; }

# timed_sub FILE FILTER...: appends "EPOCH_SECONDS TOPIC PAYLOAD" to FILE for
# every message, from a background mosquitto_sub; returns once a probe went
# round trip. Sets SUB_PID.
timed_sub() {
	local file=$1 probe=classroom/probe/$$/$RANDOM try t args=()
	shift
	for t in "$@"; do args+=(-t "$t"); done
	: >>"$file"
	mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -F '%U %t %p' -t "$probe" "${args[@]}" \
		>>"$file" 2>>"$file.err" &
	SUB_PID=$!
	track "$SUB_PID"
	for ((try = 0; try < 25; try++)); do
		mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t "$probe" -m ready 2>/dev/null
		wait_for 0.2 grep -qE "^[0-9.]+ $probe ready\$" "$file" && return 0
	done
	return 1
}

# boards_with FILE SUFFIX PAYLOAD [PREFIX]: how many boards' last message on
# PREFIX/SUFFIX in FILE (timed_sub lines) is PAYLOAD. PREFIX is a regular
# expression, the boards' base topic by default.
boards_with() {
	awk -v re="^${4:-classroom/board-[0-9][0-9]}/$2\$" -v want="$3" '
		$2 ~ re { last[$2] = $3 }
		END { for (t in last) if (last[t] == want) n++; print n + 0 }' "$1"
}
all_boards_with() { [ "$(boards_with "$@")" = "$BOARDS" ]; }

# last_at FILE SUFFIX PAYLOAD SINCE [PREFIX]: milliseconds from SINCE (epoch
# seconds) to the last board's first PAYLOAD on SUFFIX after SINCE.
last_at() {
	awk -v re="^${5:-classroom/board-[0-9][0-9]}/$2\$" -v want="$3" -v since="$4" '
		$1 >= since && $2 ~ re && $3 == want && !($2 in seen) { seen[$2] = $1; if ($1 > last) last = $1 }
		END { printf "%.0f\n", (last - since) * 1000 }' "$1"
}

# stamp_follow LOG OUT: stamps every line appended to the broker's LOG from
# now on into OUT (stamp.py): mosquitto stamps its log in whole seconds, this
# adds milliseconds. Its time is when it read a line (polled every 2 ms, at
# high priority): one clock for the broker's stop and start and every
# client's connection. Returns once it follows.
stamp_follow() {
	nice -n -10 python3 "$FLEET_DIR/stamp.py" "$1" >"$2" 2>&1 &
	track $!
	wait_for 10 grep -qx ready "$2"
}

# reconnects STAMPED FROM_LINE: from the stamped log's line FROM_LINE on, "up
# DOWN_MS" (stop to start), then "ACCEPTED CONNECTED BOARD" for each board's
# first connection after the start: when the broker accepted its TCP
# connection and when its CONNECT, in ms after the start. The first is the
# daemon's timing; the second adds the broker's queue, one CONNECT after
# another.
reconnects() {
	tail -n +"$2" "$1" | awk '
		/ mosquitto version .* terminating/ && !down { down = $1 }
		down && / mosquitto version .* running/ && !up { up = $1; printf "up %.1f\n", (up - down) * 1000 }
		!up { next }
		{ p = $0; sub(/.* from 127\.0\.0\.1:/, "", p); sub(/ .*/, "", p) }
		/ New connection from 127\.0\.0\.1:[0-9]+ on port / { accepted[p] = $1 }
		/ New client connected from .* as gpio2mqtt-board-[0-9][0-9] / {
			b = $0; sub(/.* as gpio2mqtt-/, "", b); sub(/ .*/, "", b)
			if (!(b in seen) && (p in accepted)) {
				seen[b] = 1
				printf "%.1f %.1f %s\n", (accepted[p] - up) * 1000, ($1 - up) * 1000, b
			}
		}'
}
reconnected() { [ "$(reconnects "$1" "$2" | grep -vc '^up ')" = "$BOARDS" ]; }

# spread FILE COLUMN: of the times in COLUMN of reconnects' output, "N FIRST
# MEDIAN LAST EARLY EARLY_UP BUSIEST": how many within 100 ms of the first
# and of the broker's start, and the most within any 100 ms.
spread() {
	grep -v '^up ' "$1" | sort -k"$2,$2n" | awk -v c="$2" '
		{ t[++n] = $c }
		END {
			for (i = 1; i <= n; i++) {
				if (t[i] <= t[1] + 100) early++
				if (t[i] <= 100) early_up++
				while (t[i] - t[j + 1] > 100) j++
				if (i - j > most) most = i - j
			}
			print n + 0, t[1] + 0, t[int((n + 1) / 2)] + 0, t[n] + 0, early + 0, early_up + 0, most + 0
		}'
}
