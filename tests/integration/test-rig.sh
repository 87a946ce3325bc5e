#!/bin/bash
# SPDX-License-Identifier: MIT
# The rig itself: gpio-sim lines in this kernel, driven and watched with
# libgpiod's own tools, so that a failure here is not blamed on the daemon.
. "$(dirname "$0")/../uml/lib.sh"

OUT=3 IN=5

if ! sim_chip rig rig-bank 8 "$OUT:RIG_OUT" "$IN:RIG_IN"; then
	not_ok "gpio-sim chip created"
	finish
fi
ok "gpio-sim chip created: $SIM_CHIP"

check "gpiofind finds a named line" test "$(gpiofind RIG_OUT)" = "$SIM_CHIP $OUT"
check "gpiodetect shows the chip label" grep -q rig-bank <(gpiodetect)

# gpioset --mode=signal holds the line until signalled.
drive() {
	gpioset --mode=signal "$SIM_CHIP" "$OUT=$1" &
	local pid=$!
	track "$pid"
	check "gpioset $OUT=$1 reads back as $1" wait_for 3 sim_is "$SIM_CHIP" "$OUT" "$1"
	stop_pid "$pid"
}
drive 1
drive 0
drive 1

# gpiomon needs an edge-event request: this is what fails without enough IRQs.
events=$LOG_DIR/gpiomon.txt
stdbuf -oL gpiomon --format='%e %o' "$SIM_CHIP" "$IN" >"$events" 2>"$events.err" &
mon=$!
track "$mon"
dump_on_fail "$events.err"
used() { gpioinfo "$SIM_CHIP" | grep -q "line *$IN:.*\"gpiomon\""; }
check "gpiomon holds the input line" wait_for 3 used
sim_pull "$SIM_CHIP" "$IN" up
check "gpiomon sees a rising edge" wait_for 3 grep -qx "1 $IN" "$events"
sim_pull "$SIM_CHIP" "$IN" down
check "gpiomon sees a falling edge" wait_for 3 grep -qx "0 $IN" "$events"
for i in 1 2 3; do
	sim_pull "$SIM_CHIP" "$IN" up
	sim_pull "$SIM_CHIP" "$IN" down
done
check "gpiomon sees every edge of three pulses" wait_for 3 test "$(wc -l <"$events")" -eq 8
check "gpiomon is still running" alive "$mon"

broker_start
check "broker runs on 127.0.0.1:$BROKER_PORT" alive "$BROKER_PID"
msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" 'rig/#'
pub rig/x hello
check "a message goes round trip" wait_msg "$msgs" 'rig/x hello' 3
broker_restart
check "the broker restarts on the same port" _broker_up

finish
