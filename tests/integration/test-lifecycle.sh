#!/bin/bash
# SPDX-License-Identifier: MIT
# Connection life cycle: online/offline status, the broker's will after a
# crash, reconnection after a broker restart, SIGTERM and SIGHUP.
. "$(dirname "$0")/common.sh"

LED=0 LAMP=1 BUTTON=2

sim_chip life life-bank 8 "$LED:LED" "$LAMP:LAMP" "$BUTTON:BUTTON" || {
	not_ok "gpio-sim chip"
	finish
}
CHIP=$SIM_CHIP
broker_start || { not_ok "broker"; finish; }

# Small keepalive so that even a silently lost connection is noticed soon.
conf=$LOG_DIR/life.conf
write_conf() {
	{
		mqtt_block 10
		cat
	} >"$conf"
}
write_conf <<'CONF'
outputs = ( { name = "led"; line = "LED"; command_topic = "public/led"; initial = "off"; } );
inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; active_low = true; } );
CONF

msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" "$BASE/#" 'public/#'

# --- online, then a crash: the broker publishes the will -----------------
daemon_start "$conf"
check "online after start" online "$msgs" 5
check "status online is retained" test "$(retained "$BASE/status")" = online
: >"$msgs"
kill -KILL "$DAEMON_PID"
check "kill -9: the will says offline" wait_msg "$msgs" "$BASE/status offline" 15
check "offline is retained after the crash" test "$(retained "$BASE/status")" = offline

# --- broker restarts -----------------------------------------------------
daemon_start "$conf"
check "online after restart of the daemon" online "$msgs" 5
pub public/led on
check "LED on before the broker restart" wait_for 3 sim_is "$CHIP" "$LED" 1

broker_restart || not_ok "broker restart"
# The new broker has no retained messages: what arrives now was republished.
sub_stop
: >"$msgs"
sub_start "$msgs" "$BASE/#"
check "daemon reconnects after a broker restart" online "$msgs" 10
check "output state republished after reconnect" wait_msg "$msgs" "$BASE/output/led ON" 3
check "input state republished after reconnect" wait_msg "$msgs" "$BASE/input/button OFF" 3
pub public/led off
check "commands work after reconnect (resubscribed)" wait_for 3 sim_is "$CHIP" "$LED" 0
check "state published after reconnect" wait_msg "$msgs" "$BASE/output/led OFF" 3

# A broker that stays away for a while: the daemon keeps trying (back-off is
# capped at 10 s) and keeps the lines as they were.
broker_stop
sim_pull "$CHIP" "$BUTTON" down
check "daemon survives a missing broker" holds 3 alive "$DAEMON_PID"
check "line kept while disconnected" sim_is "$CHIP" "$LED" 0
t0=$(_now_us)
broker_restart || not_ok "broker start"
sub_stop
: >"$msgs"
sub_start "$msgs" "$BASE/#"
check "daemon reconnects after 3 s without broker (within 12 s)" online "$msgs" 12
diag "reconnected $((($(_now_us) - t0) / 1000)) ms after the broker came back"
check "input change made while offline is published on reconnect" \
	wait_msg "$msgs" "$BASE/input/button ON" 3
pub public/led toggle
check "commands work after the long outage" wait_for 3 sim_is "$CHIP" "$LED" 1

# --- SIGHUP: the changed mapping is applied ------------------------------
write_conf <<'CONF'
outputs = (
  { name = "led"; line = "LED"; command_topic = "public/led2"; initial = "off"; },
  { name = "lamp"; line = "LAMP"; command_topic = "public/lamp"; initial = "off"; }
);
inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; active_low = true; } );
CONF
kill -HUP "$DAEMON_PID"
# Until the reload is done, the lamp topic is unknown: retry the command.
lamp_on() { pub public/lamp on && wait_for 0.3 sim_is "$CHIP" "$LAMP" 1; }
check "SIGHUP: a new output works" wait_for 10 lamp_on
check "SIGHUP: daemon still running" alive "$DAEMON_PID"
: >"$msgs"
pub public/led2 on
check "SIGHUP: a changed command topic works" wait_for 3 sim_is "$CHIP" "$LED" 1
pub public/led off
check "SIGHUP: the old command topic is dropped" holds 1 sim_is "$CHIP" "$LED" 1

# A broken mapping on SIGHUP: keep running with the old one.
cp "$conf" "$conf.good"
echo 'outputs = ( { name = "led"; line = "NO_SUCH_LINE"; } );' >"$conf"
: >"$msgs"
kill -HUP "$DAEMON_PID"
check "SIGHUP with a broken mapping: daemon keeps running" holds 1 alive "$DAEMON_PID"
pub public/lamp off
check "SIGHUP with a broken mapping: old mapping still works" \
	wait_for 3 sim_is "$CHIP" "$LAMP" 0

# Default command topics: one wildcard filter carries them; a reload to
# topics of their own drops it.
write_conf <<'CONF'
outputs = (
  { name = "led"; line = "LED"; },
  { name = "lamp"; line = "LAMP"; }
);
inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; active_low = true; } );
CONF
kill -HUP "$DAEMON_PID"
set_to() { pub "$BASE/output/$1/set" "$2" && wait_for 0.3 sim_is "$CHIP" "$3" "$4"; }
check "SIGHUP to default topics: the first output obeys" wait_for 10 set_to led off "$LED" 0
check "SIGHUP to default topics: the second output obeys" wait_for 3 set_to lamp on "$LAMP" 1
pub public/lamp off
check "SIGHUP to default topics: the old topic is dropped" holds 1 sim_is "$CHIP" "$LAMP" 1
pub "$BASE/output/nosuch/set" on
check "a command for no output is logged and ignored" wait_for 3 \
	grep -q "no output listens on \"$BASE/output/nosuch/set\"" "$DAEMON_LOG"
write_conf <<'CONF'
outputs = (
  { name = "led"; line = "LED"; },
  { name = "lamp"; line = "LAMP"; command_topic = "public/lamp"; }
);
inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; active_low = true; } );
CONF
kill -HUP "$DAEMON_PID"
lamp_off() { pub public/lamp off && wait_for 0.3 sim_is "$CHIP" "$LAMP" 0; }
check "SIGHUP back to a topic of its own: it works" wait_for 10 lamp_off
check "SIGHUP back to a topic of its own: the default topic still works" \
	wait_for 3 set_to led on "$LED" 1
pub "$BASE/output/nosuch2/set" on
pub "$BASE/output/led/set" off
check "SIGHUP back to a topic of its own: the wildcard is dropped" wait_for 3 \
	sim_is "$CHIP" "$LED" 0
check "SIGHUP back to a topic of its own: nothing else arrives" \
	not grep -q "no output listens on \"$BASE/output/nosuch2/set\"" "$DAEMON_LOG"

# --- SIGHUP that changes only an output's settings -----------------------
# The line is reconfigured in place, with both libgpiod generations: the
# kernel's line-info watch sees its settings change and never a release, so
# no other program can take it in between. Its logical value stays on.
watch=$LOG_DIR/led-watch.txt
: >"$watch"
python3 "$(dirname "$0")/line_watch.py" "$CHIP" "$LED" "$watch" &
track $!
check "settings-only SIGHUP: the LED's line-info is watched" \
	wait_for 5 grep -qx watching "$watch"
check "settings-only SIGHUP: the LED is on before" wait_for 3 set_to led on "$LED" 1
write_conf <<'CONF'
outputs = (
  { name = "led"; line = "LED"; active_low = true; },
  { name = "lamp"; line = "LAMP"; command_topic = "public/lamp"; }
);
inputs = ( { name = "button"; line = "BUTTON"; bias = "pull-up"; active_low = true; } );
CONF
kill -HUP "$DAEMON_PID"
check "settings-only SIGHUP: the LED is reconfigured" wait_for 10 grep -q '^config' "$watch"
check "settings-only SIGHUP: the LED is never released" not grep -q '^released' "$watch"
check "settings-only SIGHUP: gpio2mqtt keeps the LED" \
	not grep -qv -e '^watching$' -e 'consumer=gpio2mqtt ' "$watch"
check "settings-only SIGHUP: still on, the wire low under active_low" \
	wait_for 3 sim_is "$CHIP" "$LED" 0
check "settings-only SIGHUP: off drives the wire high" wait_for 3 set_to led off "$LED" 1
diag "line-info changes of the LED: $(grep -v '^watching$' "$watch" | tr '\n' ';')"

# --- SIGTERM: offline, exit 0 --------------------------------------------
: >"$msgs"
kill -TERM "$DAEMON_PID"
check "SIGTERM: daemon exits" daemon_exit_status 5
check "SIGTERM: exit status 0" test "${DAEMON_STATUS:-x}" = 0
check "SIGTERM: offline published" wait_msg "$msgs" "$BASE/status offline" 3
check "SIGTERM: offline retained" test "$(retained "$BASE/status")" = offline

# --- a broker whose TCP handshake never completes ------------------------
# As behind a firewall that drops packets: connecting must not block the
# event loop (TCP would take minutes to give up), so the attempt is given up
# within the keepalive, retried, and SIGTERM is still handled at once.
tarpit=$LOG_DIR/tarpit.port
python3 "$(dirname "$0")/tarpit.py" "$tarpit" 60 &
track $!
check "a port that drops SYNs" wait_for 5 test -s "$tarpit"
sed "s/port = [0-9]*;/port = $(cat "$tarpit");/" "$conf.good" >"$conf.tarpit"
daemon_start "$conf.tarpit"
no_answer() { grep -q "no answer from 127.0.0.1:$(cat "$tarpit")" "$DAEMON_LOG"; }
check "unanswered handshake: given up within the keepalive" wait_for 11 no_answer
# CONNECTs sent by this run of the daemon (the log holds earlier runs too).
attempts() {
	[ "$(awk '/^=== /{n=0} /sending CONNECT/{n++} END{print n+0}' "$DAEMON_LOG")" -ge "$1" ]
}
check "unanswered handshake: tried again" wait_for 5 attempts 2
t0=$(_now_us)
kill -TERM "$DAEMON_PID"
check "unanswered handshake: SIGTERM still ends the daemon at once" daemon_exit_status 1
diag "exit $((($(_now_us) - t0) / 1000)) ms after SIGTERM"
check "unanswered handshake: exit status 0" test "${DAEMON_STATUS:-x}" = 0

# --- a broker that imposes a shorter keep-alive (MQTT 5) ------------------
# keepalive = 60 announces 30 s; this broker allows 10 and drops a client
# that is silent for 15 s unless the daemon pings as the broker says.
BROKER_EXTRA_CONF="max_keepalive 10" broker_restart || not_ok "broker with max_keepalive"
sed "s/keepalive = [0-9]*;/keepalive = 60;/" "$conf.good" >"$conf.slow"
daemon_start "$conf.slow"
check "max_keepalive: online" wait_for 5 eval 'test "$(retained "$BASE/status")" = online'
check "max_keepalive: the broker's keep-alive is followed" \
	wait_for 3 grep -q "sets the keep-alive to 10 s" "$DAEMON_LOG"
pings() { grep -c "Received PINGREQ" "$BROKER_DIR/mosquitto.log"; }
n_pings=$(pings)
connections=$(grep -c "connected to" "$DAEMON_LOG")
check "max_keepalive: still connected after 20 s" holds 20 eval \
	'test "$(grep -c "connected to" "$DAEMON_LOG")" = "$connections"'
check "max_keepalive: pinged within each 10 s" test "$(pings)" -ge $((n_pings + 2))
check "max_keepalive: the broker dropped nobody" \
	not grep -q "exceeded timeout" "$BROKER_DIR/mosquitto.log"
finish
