#!/bin/bash
# SPDX-License-Identifier: MIT
# Usage: tests/arm/run.sh                                  (make e2e-arm)
#
# The arm64 and armhf packages, proven on an emulated ARM board the way a
# user installs them: cross-build both for bookworm (tests/arm/cross-deb.sh,
# unit tests under qemu-user), build (once, cached) an arm64 kernel with
# gpio-sim and 32-bit compat (tests/arm/build-kernel.sh) and, per
# architecture, a bookworm root with systemd, udev and mosquitto
# (tests/arm/make-root.sh): arm64 as on 64-bit Raspberry Pi OS, armhf as on
# 32-bit Raspberry Pi OS (32-bit programs, systemd too, on a 64-bit kernel).
# Two boards, one per root, boot side by side with qemu-system-aarch64 -M
# virt on the same kernel; each runs, as a boot-time unit, the end-to-end
# test of tests/e2e/inside.sh with its package (tests/arm/inside.sh).
#
# Prints "ok N - ..." / "not ok N - ..." per step, a summary and, last,
# "P passed, F failed"; exits non-zero when anything failed. Caches live in
# /var/cache/gpio2mqtt-tests (GPIO2MQTT_TEST_CACHE).
#   G2M_ARM_TIMEOUT  seconds allowed for the boot (default 1800)
#   G2M_ARM_SMP      virtual CPUs of each board (default 1: the two boards
#                    run side by side, one host CPU each)
#   G2M_KEEP=1       keep the work directory (the disk image included)
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
suite=bookworm
arches="arm64 armhf"
boot_timeout=${G2M_ARM_TIMEOUT:-1800}
# shellcheck source-path=SCRIPTDIR source=../lib/e2e-root.sh
. "$top/tests/lib/e2e-root.sh"

passed=0 failed=0
ok() {
	passed=$((passed + 1))
	echo "ok $((passed + failed)) - $*"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok $((passed + failed)) - $*"
}
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
diag() { printf '# %s\n' "$*"; }
elapsed() { echo "$(($(date +%s) - $1)) s"; }
show() { tail -n "${2:-20}" "$1" 2>/dev/null | sed 's/^/#   /'; }

# The result of a script that printed TAP to FILE: its "P passed, F
# failed" counted, a missing line as a failure.
tap_result() {
	local line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$2" 2>/dev/null | tail -n 1)
	p=$(echo "${line:-0 passed, 0 failed}" | cut -d' ' -f1)
	f=$(echo "${line:-0 passed, 0 failed}" | cut -d' ' -f3)
	passed=$((passed + p))
	failed=$((failed + f))
	if [ -z "$line" ]; then
		not_ok "$1 ended without a result"
	else
		diag "$1: $p passed, $f failed"
	fi
}

host_deps() {
	local p missing=""
	for p in qemu-system-arm qemu-user-static mmdebstrap arch-test e2fsprogs dpkg-dev; do
		dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "e2e-arm: installing$missing" >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y --no-install-recommends \
		$missing >&2
}

# Package names of a Depends field: first alternatives, no versions.
unit_tests_ran() {
	grep -q "^unit tests for $2 under .*qemu" "$1" &&
		grep -qE '^100%: Checks: [0-9]+, Failures: 0, Errors: 0' "$1"
}

contents_ok() { "$top/tests/e2e/check-deb.sh" "$1" >"$2" 2>&1; }

# prepare_root ROOT ARCH: the test, ARCH's packages and a unit that runs
# the test at boot (tests/arm/inside.sh, then tests/e2e/inside.sh).
prepare_root() {
	e2e_prepare_root "$1" "$here/inside.sh" "${DEBS[$2]}" "${UPGRADES[$2]}" "$suite" &&
		echo "$2" >"$1/e2e/arch"
}

# make_root ARCH: the cached root for ARCH with the package's run-time
# dependencies; prints its path (log: $WORK/root-ARCH.log).
make_root() {
	local arch=$1 runtime
	mapfile -t runtime < <(dpkg-deb -f "${DEBS[$arch]}" Depends | package_names)
	# man-db: systemd-analyze verify looks up the unit's Documentation=.
	"$here/make-root.sh" "$suite" "$arch" systemd systemd-sysv udev dbus mosquitto \
		mosquitto-clients man-db iproute2 "${runtime[@]}" 2>"$WORK/root-$arch.log"
}

# disk_image ARCH ROOT: ROOT copied, prepared and written to $WORK/ARCH.img.
disk_image() {
	local arch=$1 copy
	copy=$WORK/root-$arch
	cp -a "$2" "$copy" && prepare_root "$copy" "$arch" &&
		rm -f "$copy/.complete" &&
		mke2fs -q -t ext4 -d "$copy" -L root "$WORK/$arch.img" 3G >/dev/null
	local rc=$?
	rm -rf "$copy"
	return $rc
}

# boot ARCH: boots $WORK/ARCH.img; the console goes to $WORK/console-ARCH.log
# and the test's lines, marked [ARCH], to stdout.
boot() {
	local arch=$1
	nice -n 5 timeout -k 10 "$boot_timeout" qemu-system-aarch64 -M virt -cpu cortex-a57 \
		-smp "${G2M_ARM_SMP:-1}" -m 1024 -kernel "$KERNEL" \
		-append "root=/dev/vda rw rootwait console=ttyAMA0 init=/lib/systemd/systemd quiet systemd.show_status=false" \
		-drive "if=none,file=$WORK/$arch.img,format=raw,id=root" -device virtio-blk-device,drive=root \
		-nic none -display none -monitor none -serial stdio -no-reboot </dev/null 2>&1 |
		sed -u 's/\r$//' | tee "$WORK/console-$arch.log" |
		grep --line-buffered -E '^(ok |not ok |# |[0-9]+ passed, [0-9]+ failed$)' |
		sed -u "s/^/[$arch] /"
}

# board_results ARCH: the board's checks and the package's test, as counted.
board_results() {
	local arch=$1 out status
	out=$WORK/out-$arch
	rm -rf "$out" "$WORK/out"
	debugfs -R "rdump /e2e/out $WORK" "$WORK/$arch.img" >/dev/null 2>&1
	mv "$WORK/out" "$out" 2>/dev/null
	status=$(cat "$out/status" 2>/dev/null)
	[ "$status" = 0 ] || show "$WORK/console-$arch.log" 25
	tap_result "$arch: the board's checks" "$out/tap.log"
	tap_result "$arch: the package's end-to-end test" "$out/e2e.tap"
	[ "${G2M_KEEP:-0}" = 1 ] || rm -f "$WORK/$arch.img"
}

[ "$(id -u)" -eq 0 ] || {
	echo "e2e-arm: run as root (chroots, mmdebstrap and binfmt_misc need it)" >&2
	exit 2
}
start=$(date +%s)
WORK=$(mktemp -d /tmp/gpio2mqtt-e2e-arm.XXXXXX)
declare -A DEBS UPGRADES

echo "=== host"
check "host tools (qemu-system-arm, qemu-user-static, mmdebstrap)" host_deps
t=$(date +%s)
diag "arm64 kernel: cross-built once (cached); log: $WORK/kernel.log"
KERNEL=$("$here/build-kernel.sh" 2>"$WORK/kernel.log")
if [ -f "${KERNEL:-/nonexistent}" ]; then
	ok "arm64 kernel with gpio-sim and compat ($(elapsed "$t"))"
else
	not_ok "arm64 kernel"
	show "$WORK/kernel.log"
fi

echo "=== packages"
for arch in $arches; do
	t=$(date +%s)
	if deb=$("$here/cross-deb.sh" "$suite" "$arch" "$WORK/deb-$arch" 2>"$WORK/deb-$arch.log"); then
		DEBS[$arch]=$deb
		ok "$suite $arch package cross-built: $(basename "$deb") ($(elapsed "$t"))"
		check "$arch: unit tests ran under qemu-user and passed" \
			unit_tests_ran "$WORK/deb-$arch/build.log" "$arch"
		grep -E '^(unit tests|[0-9]+%: Checks)' "$WORK/deb-$arch/build.log" | sed 's/^/#   /'
		check "$arch: package contents (check-deb.sh)" \
			contents_ok "$deb" "$WORK/contents-$arch.log"
		UPGRADES[$arch]=$WORK/upgrade-$arch/$(basename "$deb" .deb)+e2e1.deb
		mkdir -p "$WORK/upgrade-$arch"
		check "$arch: upgrade package made" upgrade_deb "$deb" "${UPGRADES[$arch]}"
	else
		not_ok "$suite $arch package (log: $WORK/deb-$arch/build.log)"
		show "$WORK/deb-$arch.log"
	fi
done

if [ -f "${KERNEL:-/nonexistent}" ] && [ ${#DEBS[@]} -eq 2 ]; then
	echo "=== roots"
	t=$(date +%s)
	declare -A ROOTS
	for arch in $arches; do
		make_root "$arch" >"$WORK/root-$arch.path" &
	done
	wait
	images=0
	for arch in $arches; do
		ROOTS[$arch]=$(cat "$WORK/root-$arch.path")
		if [ -n "${ROOTS[$arch]}" ]; then
			ok "$arch $suite root ($(elapsed "$t"), both built side by side)"
			if disk_image "$arch" "${ROOTS[$arch]}"; then
				ok "$arch: disk image of the prepared root"
				images=$((images + 1))
			else
				not_ok "$arch: disk image of the prepared root"
			fi
		else
			not_ok "$arch $suite root"
			show "$WORK/root-$arch.log"
		fi
	done

	if [ "$images" -eq 2 ]; then
		echo "=== two boards side by side (qemu-system-aarch64 -M virt, one kernel)"
		t=$(date +%s)
		for arch in $arches; do
			boot "$arch" &
		done
		wait
		diag "boot and test took $(elapsed "$t")"
		for arch in $arches; do
			board_results "$arch"
		done
	fi
fi
echo "==="
diag "make e2e-arm took $(elapsed "$start")"
if [ "$failed" -eq 0 ] && [ "${G2M_KEEP:-0}" != 1 ]; then
	rm -rf "$WORK"
else
	echo "e2e-arm: logs kept in $WORK" >&2
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
