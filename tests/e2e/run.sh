#!/bin/bash
# SPDX-License-Identifier: MIT
# Usage: tests/e2e/run.sh [SUITE...]        (make e2e; default: bookworm trixie)
#
# The package, proven the way a user installs it. For each Debian SUITE:
# build the .deb (on this machine when it runs SUITE, else in a cached SUITE
# chroot), make a cached minbase root with systemd, udev and mosquitto, boot
# it under the User-Mode Linux test kernel (tests/uml/build-kernel.sh) with
# systemd as init, and run tests/e2e/inside.sh there as a boot-time unit.
#
# Prints "ok N - ..." / "not ok N - ..." per step, a summary and, last,
# "P passed, F failed"; exits non-zero when anything failed. Caches live in
# /var/cache/gpio2mqtt-tests (GPIO2MQTT_TEST_CACHE).
#   G2M_E2E_TIMEOUT  seconds allowed per boot (default 900)
#   G2M_UML_SECCOMP  auto (default), on or off, as for tests/uml/run.sh
#   G2M_KEEP=1       keep the work directory (booted roots included)
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
boot_timeout=${G2M_E2E_TIMEOUT:-900}
[ $# -gt 0 ] || set -- bookworm trixie
host_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e-root.sh
. "$top/tests/lib/e2e-root.sh"

# --- reporting, per section as in tests/integration/run-all.sh ------------

total_passed=0
total_failed=0
summary=""
section() {
	echo "=== $1"
	section_name=$1 n_passed=0 n_failed=0
}
ok() {
	n_passed=$((n_passed + 1))
	echo "ok $((n_passed + n_failed)) - $*"
}
not_ok() {
	n_failed=$((n_failed + 1))
	echo "not ok $((n_passed + n_failed)) - $*"
}
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
diag() { printf '# %s\n' "$*"; }
end_section() {
	total_passed=$((total_passed + n_passed + ${1:-0}))
	total_failed=$((total_failed + n_failed + ${2:-0}))
	summary="$summary$(printf '%-28s %4d passed, %d failed' "$section_name" \
		$((n_passed + ${1:-0})) $((n_failed + ${2:-0})))
"
}
elapsed() { echo "$(($(date +%s) - $1)) s"; }

# tap_result NAME OUTPUT STATUS: closes a section whose lines a script
# printed to OUTPUT, counting its "P passed, F failed"; a script that ended
# without that line or with a failing status counts as one failure more.
tap_result() {
	local line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$2" 2>/dev/null | tail -n 1)
	p=$(echo "${line:-0 passed, 0 failed}" | cut -d' ' -f1)
	f=$(echo "${line:-0 passed, 0 failed}" | cut -d' ' -f3)
	if [ -z "$line" ] || { [ "$f" -eq 0 ] && [ "$3" != 0 ]; }; then
		echo "not ok - $1 ended without a result (status '${3:-none}')"
		f=$((f + 1))
	fi
	end_section "$p" "$f"
}

# --- host tools ----------------------------------------------------------

host_deps() {
	local p missing=""
	for p in debootstrap dpkg-dev debhelper lintian; do
		dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "e2e: installing$missing" >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y --no-install-recommends \
		$missing >&2
}

# What the build chroot needs: debian/control's Build-Depends.
build_packages() {
	sed -n '/^Build-Depends:/,/^[A-Z]/p' "$top/debian/control" |
		sed '1s/^Build-Depends://; /^[A-Z][A-Za-z-]*:/d' | package_names |
		sed 's/^debhelper-compat$/debhelper/; s/^dh-sequence-.*$/debhelper/'
	echo build-essential
}

# Tracked and new files of the tree, as a tar stream.
tree_tar() {
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		(cd "$top" && tar -cf - --null --no-recursion --ignore-failed-read -T -)
}

# --- building ------------------------------------------------------------

# build_in_chroot SUITE OUTDIR: the package built in a cached SUITE chroot.
build_in_chroot() {
	local suite=$1 out=$2 chroot job rc=0 packages
	mapfile -t packages < <(build_packages)
	chroot=$("$here/make-root.sh" build "$suite" "${packages[@]}") || return 1
	exec 8>"$chroot.lock"
	flock -w 1800 8 || return 1
	job=$(mktemp -d "$chroot/build.XXXXXX") || return 1
	mkdir "$job/tree"
	tree_tar | tar -C "$job/tree" -xf -
	mount -t proc proc "$chroot/proc" || return 1
	timeout 1800 chroot "$chroot" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 LINTIAN=0 DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-}" \
		"/${job#"$chroot"/}/tree/tests/e2e/build-deb.sh" \
		"/${job#"$chroot"/}/out" >"$out/build.log" 2>&1 || rc=$?
	umount "$chroot/proc"
	cp "$job"/out/*.deb "$out/" 2>/dev/null
	rm -rf "$job"
	exec 8>&-
	return $rc
}

# build SUITE OUTDIR: sets DEB to the package's path.
build() {
	local suite=$1 out=$2
	mkdir -p "$out"
	if [ "$suite" = "$host_suite" ]; then
		LINTIAN=0 "$here/build-deb.sh" "$out" >"$out/build.log" 2>&1 || return 1
	else
		build_in_chroot "$suite" "$out" || return 1
	fi
	DEB=$(find "$out" -maxdepth 1 -name 'gpio2mqtt_*.deb' | head -n 1)
	[ -n "$DEB" ]
}

contents_ok() {
	"$here/check-deb.sh" "$DEB" >"$1" 2>&1
}

lintian_clean() {
	timeout 600 lintian --pedantic --display-info --fail-on error,warning,info,pedantic \
		"${DEB%.deb}.changes" >"$1" 2>&1
}

# --- booting -------------------------------------------------------------

# prepare_root ROOT SUITE: the test, its unit and its packages in ROOT.
prepare_root() {
	e2e_prepare_root "$1" "$here/inside.sh" "$DEB" "$DEB_UPGRADE" "$2"
}

# boot ROOT LOG: boots ROOT with systemd as init; the test's lines are shown
# as they come, the whole console goes to LOG.
boot() {
	local root=$1 log=$2 uml
	uml=$(mktemp -d) || return 1
	"$top/tests/uml/pin.sh" timeout -k 10 "$boot_timeout" "$KERNEL" mem=512M \
		root=/dev/root rootfstype=hostfs \
		hostfs="$root" rw init=/lib/systemd/systemd uml_dir="$uml" \
		seccomp="${G2M_UML_SECCOMP:-auto}" \
		con0=fd:0,fd:1 con=null quiet systemd.show_status=false </dev/null 2>&1 |
		sed -u 's/\r$//' | tee "$log" |
		grep --line-buffered -E '^(ok |not ok |# |[0-9]+ passed, [0-9]+ failed$)'
	rm -rf "$uml"
}

# --- one suite -----------------------------------------------------------

run_suite() {
	local suite=$1 dir=$WORK/$1 t root status runtime
	mkdir -p "$dir"
	section "$suite: package"
	t=$(date +%s)
	if ! build "$suite" "$dir/deb"; then
		not_ok "$suite: package built (log: $dir/deb/build.log)"
		tail -n 20 "$dir/deb/build.log" | sed 's/^/#   /'
		end_section
		return
	fi
	ok "$suite: package built: $(basename "$DEB") ($(elapsed "$t"))"
	if [ "$suite" = "$host_suite" ]; then
		check "$suite: lintian --pedantic reports nothing unexplained" \
			lintian_clean "$dir/deb/lintian.log"
		sed 's/^/#   /' "$dir/deb/lintian.log" | grep -v 'root privileges'
	fi
	check "$suite: package contents (check-deb.sh)" contents_ok "$dir/deb/contents.log"
	grep -v '^ok' "$dir/deb/contents.log" | sed 's/^/#   /'
	local gpiod
	gpiod=$(dpkg-deb -f "$DEB" Depends | package_names | grep '^libgpiod')
	case $suite in
	bookworm) check "$suite: built for libgpiod 1.6 ($gpiod)" test "$gpiod" = libgpiod2 ;;
	*) check "$suite: built for libgpiod 2.x ($gpiod)" test "$gpiod" = libgpiod3 ;;
	esac
	DEB_UPGRADE=$dir/deb/upgrade/$(basename "$DEB" .deb)+e2e1.deb
	mkdir -p "$dir/deb/upgrade"
	check "$suite: upgrade package made" upgrade_deb "$DEB" "$DEB_UPGRADE"

	t=$(date +%s)
	mapfile -t runtime < <(dpkg-deb -f "$DEB" Depends | package_names)
	# man-db: systemd-analyze verify looks up the unit's Documentation=.
	root=$("$here/make-root.sh" boot "$suite" systemd systemd-sysv udev dbus mosquitto \
		mosquitto-clients man-db "${runtime[@]}")
	if [ -z "$root" ]; then
		not_ok "$suite: root file system"
		end_section
		return
	fi
	ok "$suite: root file system ($(elapsed "$t"))"
	t=$(date +%s)
	cp -a "$root" "$dir/root" && prepare_root "$dir/root" "$suite"
	check "$suite: booted root prepared ($(elapsed "$t"))" test -f "$dir/root/e2e/env"
	end_section

	section "$suite: booted system"
	t=$(date +%s)
	boot "$dir/root" "$dir/console.log"
	diag "$suite: boot and test took $(elapsed "$t")"
	cp -r "$dir/root/e2e/out" "$dir/out" 2>/dev/null
	status=$(cat "$dir/out/status" 2>/dev/null)
	[ "$status" = 0 ] || tail -n 25 "$dir/console.log" | sed 's/^/#   /'
	[ "${G2M_KEEP:-0}" = 1 ] || rm -rf "$dir/root"
	tap_result "$suite: the test in the booted system" "$dir/out/tap.log" "$status"
}

# The notify protocol, on this machine, with a daemon built from the tree.
notify_protocol() {
	local out=$WORK/notify rc
	section "notify protocol (this machine)"
	mkdir -p "$out"
	if ! make -s -C "$top" O="$out/build" "$out/build/gpio2mqtt" >"$out/build.log" 2>&1 ||
		! cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$out/notify-listen" \
			"$here/notify-listen.c" >>"$out/build.log" 2>&1; then
		not_ok "daemon and listener built (log: $out/build.log)"
		end_section
		return
	fi
	G2M_OUT=$out timeout 120 "$here/notify-check.sh" "$out/build/gpio2mqtt" \
		"$out/notify-listen" 2>&1 | tee "$out/tap.log"
	rc=${PIPESTATUS[0]}
	tap_result "notify-check.sh" "$out/tap.log" "$rc"
}

# --- main ----------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || {
	echo "e2e: run as root (debootstrap, chroot and dpkg need it)" >&2
	exit 2
}
start=$(date +%s)
WORK=$(mktemp -d /tmp/gpio2mqtt-e2e.XXXXXX)
section "host"
check "host tools (debootstrap, debhelper, lintian)" host_deps
t=$(date +%s)
diag "test kernel: built once (about 10 minutes) unless cached; log: $WORK/kernel.log"
KERNEL=$("$top/tests/uml/build-kernel.sh" 2>"$WORK/kernel.log")
if [ -x "${KERNEL:-/nonexistent}" ]; then
	ok "test kernel ($(elapsed "$t"))"
else
	not_ok "test kernel"
	tail -n 20 "$WORK/kernel.log" | sed 's/^/#   /'
fi
end_section
notify_protocol
if [ -x "${KERNEL:-/nonexistent}" ]; then
	for suite in "$@"; do
		run_suite "$suite"
	done
fi
echo "==="
printf '%s' "$summary"
diag "make e2e took $(elapsed "$start")"
if [ "$total_failed" -eq 0 ] && [ "${G2M_KEEP:-0}" != 1 ]; then
	rm -rf "$WORK"
else
	echo "e2e: logs kept in $WORK" >&2
fi
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
