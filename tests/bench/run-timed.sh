# SPDX-License-Identifier: MIT
# Timed outputs in the benchmark, sourced by run-bench.sh (whose broker,
# conf, fig, start and stop helpers it uses): how exact a pulse's width is on
# the line, and what 1,000 pending pulses cost (tests/bench/pulses.c).
# Figures: gpio2mqtt pulse_err_* (µs), pending_* and *_cpu_us.

PULSES=$G2M_BENCH_BIN/pulses
PULSE_W=50 # ms: about a garage door opener's press

# pulse_widths: PULSE_N timed pulses on o0 of the standard mapping, one at
# a time, the line sampled; first as many timers of a plain process, the
# test kernel's own lateness.
pulse_widths() {
	fig kernel "$PULSE_N timers of $PULSE_W ms, how late" '' \
		"$PULSES" -p "$BROKER_PORT" -n "$PULSE_N" -w "$PULSE_W" timers
	start_gpio2mqtt "$LOG_DIR/std.conf" "$NIN" || { not_ok "gpio2mqtt for pulse widths"; return 1; }
	fig gpio2mqtt "$PULSE_N pulses of $PULSE_W ms, widths on the line" '' \
		"$PULSES" -p "$BROKER_PORT" -n "$PULSE_N" -w "$PULSE_W" -V "${VALUES[1]}" \
		-t bench/output/o0/set -s "$OUT/pulse-widths.txt" widths
	stop_contestant gpio2mqtt
}

retained_output() { # K: the state of output oK is retained
	[ -n "$(mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t "bench/output/o$1" -C 1 -W 2 \
		--retained-only 2>/dev/null)" ]
}

# pending_pulses: 1,000 outputs, plain commands and then a pulse each, all
# pending at once, three rounds: file descriptors and CPU time.
pending_pulses() {
	local c=$LOG_DIR/outputs1000.conf
	conf "$c" 1000 0
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -r -t bench/output/o999 -n
	"$GPIO2MQTT" -c "$c" >>"$LOG_DIR/gpio2mqtt.log" 2>&1 &
	ROOT=$!
	track "$ROOT"
	if ! wait_for 20 status_online || ! wait_for 30 retained_output 999; then
		not_ok "gpio2mqtt with 1,000 outputs"
		stop_contestant gpio2mqtt
		return 1
	fi
	fig gpio2mqtt "1,000 outputs with a pulse pending each" '' \
		"$PULSES" -p "$BROKER_PORT" -k 1000 -r 3 -P "$ROOT" pending
	stop_contestant gpio2mqtt
}

timed_outputs() {
	pulse_widths
	pending_pulses
}
