#!/bin/bash
# SPDX-License-Identifier: MIT
# The end-to-end test proper. Runs inside a booted Debian (systemd as init,
# udev, mosquitto on 127.0.0.1:1883) as the unit g2m-e2e.service that
# tests/e2e/run.sh installs, and does what a user does with the package:
# dpkg -i, edit the mapping, systemctl restart, mosquitto_pub, journalctl,
# upgrade, remove, purge. /e2e holds the packages, lib.sh, env (SUITE, DEB,
# DEB_UPGRADE, GPIOD_MAJOR) and the package's debian/tests; results go to
# the console and /e2e/out.
export G2M_OUT=/e2e/out
. /e2e/lib.sh
. /e2e/env

SVC=gpio2mqtt
CONF=/etc/gpio2mqtt/gpio2mqtt.conf
BASE=gpio2mqtt
LED=0 BUTTON=1 LAMP=2
export BROKER_PORT=1883 # for lib.sh's sub_start

diag "gpio2mqtt end-to-end on Debian $SUITE ($(uname -r), systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'))"

# --- helpers -------------------------------------------------------------

sc() { timeout 120 systemctl "$@"; }
prop() { systemctl show -P "$1" "$SVC"; }
main_pid() { prop MainPID; }
active() { [ "$(systemctl is-active "$SVC")" = active ]; }
failed() { [ "$(systemctl is-active "$SVC")" = failed ]; }
# The service's journal since this test began, messages only.
journal() { journalctl -u "$SVC" --no-pager -o cat --since "@$T0"; }
journal_has() { journal | grep -qF -- "$1"; }
running_as() { [ "$(ps -o user= -p "$(main_pid)")" = "$1" ]; }
has_group() {
	local gid
	gid=$(getent group "$2" | cut -d: -f3) || return 1
	grep -E "^Groups:" "/proc/$1/status" | grep -qw "$gid"
}
new_pid() { local p; p=$(main_pid) && [ "$p" != 0 ] && [ "$p" != "$1" ] && active; }
same_pid() { [ "$(main_pid)" = "$1" ] && active; }
restarts_are() { [ "$(prop NRestarts)" = "$1" ]; }
retained() { mosquitto_sub -t "$1" -C 1 -W 5 --retained-only 2>/dev/null; }
retained_is() { [ "$(retained "$1")" = "$2" ]; }
status_text_starts() { [[ "$(prop StatusText)" == "$1"* ]]; }
failed_with() { failed && [ "$(prop ExecMainStatus)" = "$1" ]; }
stays_failed() { failed && restarts_are "$1"; }
unit_gone() { [ "$(prop LoadState)" = not-found ] && ! active; }
after_broker_only() {
	prop After | grep -qw mosquitto.service &&
		! prop Requires | grep -qw mosquitto.service &&
		! prop Wants | grep -qw mosquitto.service
}
in_group() { id -nG "$1" | grep -qw "$2"; }
# in_service CMD: runs the shell command CMD (as root) inside the service's
# control group, where its device allow-list applies.
in_service() {
	local cg
	cg=/sys/fs/cgroup$(prop ControlGroup)
	[ -d "$cg" ] && sh -c 'echo $$ >"$1/cgroup.procs" && eval "$2"' - "$cg" "$1"
}
conffile_registered() { dpkg-query -W -f '${Conffiles}' "$SVC" | grep -q " *$1 "; }
gpiod_major() { gpio2mqtt --version | grep -q "^libgpiod $1\\."; }
dev_is() { [ "$(stat -c '%G %a' "/dev/$SIM_CHIP")" = "$1" ]; }

# What is on disk, for "purge leaves nothing behind". Left out: files that
# change anyway (logs, caches, dpkg's own state and backups).
snapshot() {
	find /etc /usr /var/lib /opt /srv -xdev 2>/dev/null | grep -vE \
		'^/var/lib/(dpkg|apt|systemd/(timers|random-seed|catalog|coredump))(/|$)|^/etc/(passwd|group|shadow|gshadow)-$|^/etc/ld\.so\.cache$' |
		sort
}

# Uncomments the shipped LED and button examples and points them at the
# simulated lines, as README tells a user to.
edit_mapping() {
	sed -i -e '/^# outputs = (/,/^# );/s/^# \{0,1\}//' \
		-e '/^# inputs = (/,/^# );/s/^# \{0,1\}//' \
		-e 's/line = "GPIO13"/line = "LED"/' -e 's/line = "GPIO17"/line = "BUTTON"/' "$CONF"
}

add_lamp() {
	sed -i 's|^\(  { name = "led";.*\) }$|\1 },\n  { name = "lamp"; line = "LAMP"; command_topic = "public/lamp"; initial = "on"; }|' "$CONF"
}

lamp_off() { mosquitto_pub -t public/lamp -m off && wait_for 0.5 sim_is "$SIM_CHIP" "$LAMP" 0; }

# The package's autopkgtests as autopkgtest runs them on an installed
# package: each test of debian/tests/control, as root, from the source tree,
# with AUTOPKGTEST_TMP set; it passes when it exits 0 and, unless
# Restrictions: has allow-stderr, writes nothing to stderr.
autopkgtest_list() {
	awk 'BEGIN { RS = ""; FS = "\n" }
	{
		tests = ""; restrictions = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^Tests:/) { tests = $i; sub(/^Tests:/, "", tests) }
			if ($i ~ /^Restrictions:/) { restrictions = $i; sub(/^Restrictions:/, "", restrictions) }
		}
		gsub(/,/, " ", tests); gsub(/,/, " ", restrictions)
		n = split(tests, t, " ")
		for (j = 1; j <= n; j++) print t[j] "\t" restrictions
	}' /e2e/src/debian/tests/control
}
autopkgtest_run() {
	local name=$1 restrictions=$2 tmp rc
	tmp=$(mktemp -d)
	(cd /e2e/src && AUTOPKGTEST_TMP=$tmp timeout 300 "debian/tests/$name") \
		>"$LOG_DIR/autopkgtest-$name.out" 2>"$LOG_DIR/autopkgtest-$name.err"
	rc=$?
	rm -rf "$tmp"
	[ "$rc" = 0 ] || return 1
	[[ " $restrictions " == *" allow-stderr "* ]] || [ ! -s "$LOG_DIR/autopkgtest-$name.err" ]
}

# --- the machine ---------------------------------------------------------

T0=$(date +%s)
check "systemd is PID 1" test "$(cat /proc/1/comm)" = systemd
check "mosquitto is running" wait_for 60 systemctl is-active -q mosquitto
check "udev is running" wait_for 60 systemctl is-active -q systemd-udevd
sim_chip e2e e2e-bank 8 "$LED:LED" "$BUTTON:BUTTON" "$LAMP:LAMP" || {
	not_ok "gpio-sim chip with named lines"
	finish
}
ok "gpio-sim chip $SIM_CHIP with lines LED, BUTTON, LAMP"
check "before the package, /dev/$SIM_CHIP is root's alone" wait_for 10 dev_is "root 600"
before=$LOG_DIR/files.before
snapshot >"$before"

# --- install -------------------------------------------------------------

check "dpkg -i $(basename "$DEB")" timeout 300 dpkg -i "/e2e/$DEB"
check "user gpio2mqtt exists, in group gpio" in_group gpio2mqtt gpio
check "udev rule: /dev/$SIM_CHIP is group gpio, mode 0660" wait_for 10 dev_is "gpio 660"
check "service enabled" test "$(systemctl is-enabled "$SVC")" = enabled
check "ordered after mosquitto.service without requiring it" after_broker_only
check "service running after install" wait_for 30 active
check "runs as gpio2mqtt" running_as gpio2mqtt
check "process is in group gpio" has_group "$(main_pid)" gpio
check "device allow-list: /dev/$SIM_CHIP opens in the service" \
	in_service "exec 3<>/dev/$SIM_CHIP"
check "device allow-list: /dev/kmsg opens outside the service" sh -c ': </dev/kmsg'
check "device allow-list: ... but not in the service" not in_service ': </dev/kmsg'
check "gpio2mqtt --version: libgpiod $GPIOD_MAJOR.x" gpiod_major "$GPIOD_MAJOR"
check "default mapping: online on $BASE/status" \
	wait_for 20 retained_is "$BASE/status" online
check "default mapping touches no line (journal)" \
	wait_for 10 journal_has "0 outputs and 0 inputs ready"
check "$CONF is a conffile" conffile_registered "$CONF"
n_autopkgtests=0
while IFS=$'\t' read -r name restrictions; do
	n_autopkgtests=$((n_autopkgtests + 1))
	if autopkgtest_run "$name" "$restrictions"; then
		ok "autopkgtest $name (debian/tests)"
	else
		not_ok "autopkgtest $name (debian/tests)"
		sed 's/^/#   /' "$LOG_DIR/autopkgtest-$name.out" "$LOG_DIR/autopkgtest-$name.err"
	fi
done < <(autopkgtest_list)
check "debian/tests/control names a test" test "$n_autopkgtests" -gt 0

# --- the user's mapping --------------------------------------------------

edit_mapping
cp "$CONF" "$LOG_DIR/user.conf"
check "edited mapping passes gpio2mqtt --check" gpio2mqtt --check
msgs=$LOG_DIR/msgs.txt
sub_start "$msgs" "$BASE/#" 'public/#' || not_ok "subscriber"
check "systemctl restart gpio2mqtt" sc restart "$SVC"
check "running after restart" active
check "status text from the daemon" status_text_starts "1 outputs, 1 inputs"
check "online after restart" wait_msg "$msgs" "$BASE/status online" 20
mosquitto_pub -t public/led -m on
check "mosquitto_pub -t public/led -m on: line LED reads 1" wait_for 10 sim_is "$SIM_CHIP" "$LED" 1
check "LED state published" wait_msg "$msgs" "$BASE/output/led ON" 10
mosquitto_pub -t public/led -m toggle
check "toggle: line LED reads 0" wait_for 10 sim_is "$SIM_CHIP" "$LED" 0
sim_pull "$SIM_CHIP" "$BUTTON" down
check "button pressed: mosquitto_sub sees ON on public/button" wait_msg "$msgs" "public/button ON" 10
sim_pull "$SIM_CHIP" "$BUTTON" up
check "button released: OFF" wait_msg "$msgs" "public/button OFF" 10

# --- reload --------------------------------------------------------------

pid=$(main_pid)
add_lamp
check "systemctl reload with a new output" sc reload "$SVC"
check "reload applied the new output (LAMP initial on)" wait_for 10 sim_is "$SIM_CHIP" "$LAMP" 1
check "the new output obeys public/lamp" wait_for 10 lamp_off
check "reload kept the process" same_pid "$pid"
check "journal: reloaded" wait_for 10 journal_has "reloaded: 2 outputs, 1 inputs"
check "status text after reload" status_text_starts "2 outputs, 1 inputs"
cp "$CONF" "$LOG_DIR/good.conf"
echo 'outputs = oops' >>"$CONF"
check "systemctl reload of a broken mapping fails" not sc reload "$SVC"
check "... and the service keeps running" same_pid "$pid"
mosquitto_pub -t public/lamp -m on
check "... with the old mapping" wait_for 10 sim_is "$SIM_CHIP" "$LAMP" 1
check "journal says where the mapping is broken" journal_has "$CONF:"
cp "$LOG_DIR/good.conf" "$CONF"

# --- stop ----------------------------------------------------------------

: >"$msgs"
check "systemctl stop" sc stop "$SVC"
check "offline published on stop" wait_msg "$msgs" "$BASE/status offline" 10
check "offline is retained" test "$(retained "$BASE/status")" = offline
check "stopped cleanly (exit 0)" test "$(prop Result)/$(prop ExecMainStatus)" = success/0
check "journal: the daemon's own messages" journal_has "Terminated: stopping"
startup_logged() {
	journal | grep -q "1 outputs and 1 inputs ready in [0-9.]* ms (reading the mapping .*); broker localhost:1883"
}
check "journal: startup message" startup_logged

# --- watchdog ------------------------------------------------------------

mkdir -p "/etc/systemd/system/$SVC.service.d"
printf '[Service]\nWatchdogSec=3\n' >"/etc/systemd/system/$SVC.service.d/e2e-watchdog.conf"
sc daemon-reload
check "stopped: line LAMP released (reads 0)" wait_for 5 sim_is "$SIM_CHIP" "$LAMP" 0
check "start with WatchdogSec=3" sc start "$SVC"
# systemctl start returns on READY=1, which comes after the lines are set.
check "READY=1 after the lines: LAMP reads 1 as start returns" sim_is "$SIM_CHIP" "$LAMP" 1
check "watchdog armed" test "$(prop WatchdogUSec)" = 3s
pid=$(main_pid)
restarts=$(prop NRestarts)
check "pings keep it alive for 8 s" holds 8 same_pid "$pid"
[ "$pid" -gt 1 ] 2>/dev/null && kill -STOP "$pid"
check "SIGSTOP: restarted by the watchdog" wait_for 40 new_pid "$pid"
check "journal: watchdog timeout" journal_has "Watchdog timeout"
check "restart counted" test "$(prop NRestarts)" -gt "$restarts"
mosquitto_pub -t public/led -m on
check "the restarted daemon drives the LED" wait_for 10 sim_is "$SIM_CHIP" "$LED" 1
rm -r "/etc/systemd/system/$SVC.service.d"
sc daemon-reload

# --- a broken mapping ----------------------------------------------------

printf 'outputs = ( { name = "led"; line = "NO_SUCH_LINE"; command_topic = "public/led"; } );\n' >"$CONF"
check "restart with a broken mapping fails" not sc restart "$SVC"
check "service failed with exit status 1" failed_with 1
check "journal names the missing line" journal_has "NO_SUCH_LINE"
# At error priority, so that journalctl -p err shows why it did not start.
errors_only() { journalctl -u "$SVC" --no-pager -o cat -p err --since "@$T0"; }
check "journalctl -p err: the missing line, as FILE:LINE" \
	eval 'errors_only | grep -q "^$CONF:1: led: .*NO_SUCH_LINE"'
check "journalctl -p err: not starting, and why" \
	eval 'errors_only | grep -q "^not starting: 1 problem in $CONF"'
check "journalctl -p err: nothing of the normal start" \
	not eval 'errors_only | grep -q "ready in"'
restarts=$(prop NRestarts)
check "no restart loop (6 s)" holds 6 stays_failed "$restarts"
cp "$LOG_DIR/good.conf" "$CONF"
sc reset-failed "$SVC"
check "fixed mapping: starts again" sc start "$SVC"
mkdir -p "/etc/systemd/system/$SVC.service.d"
printf '[Service]\nExecStart=\nExecStart=/usr/sbin/gpio2mqtt --no-such-option\n' \
	>"/etc/systemd/system/$SVC.service.d/e2e-usage.conf"
sc daemon-reload
check "a bad command line fails" not sc restart "$SVC"
check "... with exit status 2" failed_with 2
restarts=$(prop NRestarts)
check "... and is not restarted either (4 s)" holds 4 stays_failed "$restarts"
rm -r "/etc/systemd/system/$SVC.service.d"
sc daemon-reload
sc reset-failed "$SVC"
check "started again" sc start "$SVC"

# --- systemd's opinion of the unit ---------------------------------------

exposure=$(systemd-analyze security "$SVC.service" 2>/dev/null |
	sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
diag "systemd-analyze security: exposure $exposure"
check "systemd-analyze security: exposure ${exposure:-?} <= 2.0" \
	awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.0) }'
unit=$(prop FragmentPath)
verify=$(systemd-analyze verify "$unit" 2>&1)
check "systemd-analyze verify $unit is clean" test -z "$verify"
[ -z "$verify" ] || diag "$verify"

# --- upgrade, remove, purge ----------------------------------------------

pid=$(main_pid)
# The new default mapping differs from the edited one: dpkg would ask; the
# answer "keep your currently-installed version" is --force-confold.
check "upgrade: dpkg --force-confold -i $(basename "$DEB_UPGRADE")" \
	timeout 300 dpkg --force-confold -i "/e2e/$DEB_UPGRADE"
check "upgrade kept the edited mapping" cmp -s "$CONF" "$LOG_DIR/good.conf"
check "upgrade left the new default beside it" test -f "$CONF.dpkg-dist"
check "upgrade restarted the service" wait_for 30 new_pid "$pid"
mosquitto_pub -t public/led -m off
check "after the upgrade the LED obeys" wait_for 10 sim_is "$SIM_CHIP" "$LED" 0
check "dpkg -r gpio2mqtt" timeout 300 dpkg -r "$SVC"
check "removed: service gone" unit_gone
check "removed: binary gone" test ! -e /usr/sbin/gpio2mqtt
check "removed: the edited mapping stays" cmp -s "$CONF" "$LOG_DIR/good.conf"
check "dpkg -P gpio2mqtt" timeout 300 dpkg -P "$SVC"
check "purged: /etc/gpio2mqtt gone" test ! -e /etc/gpio2mqtt
check "purged: dpkg forgot the package" not dpkg-query -W "$SVC"
snapshot >"$LOG_DIR/files.after"
check "purge leaves no file behind" diff "$before" "$LOG_DIR/files.after"
diag "kept by design: user $(id gpio2mqtt 2>&1)"
finish
