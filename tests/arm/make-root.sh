#!/bin/bash
# SPDX-License-Identifier: MIT
# Usage: tests/arm/make-root.sh SUITE ARCH PACKAGE...     (ARCH: arm64, armhf)
#
# A Debian SUITE root of one architecture for the emulated arm64 board:
# mmdebstrap's minbase variant plus PACKAGEs. An armhf root on the board's
# 64-bit kernel is 32-bit Raspberry Pi OS's case: every program, systemd
# too, is 32-bit. mmdebstrap runs the maintainer scripts under
# qemu-user-static through binfmt_misc, which this script mounts and
# registers when the machine has not (tests/arm/binfmt.sh). Built once and
# cached under /var/cache/gpio2mqtt-tests (GPIO2MQTT_TEST_CACHE), keyed by
# SUITE, ARCH, the package list and this recipe; older roots of the same
# SUITE and ARCH are removed. Prints the path. Callers copy it before
# changing anything.
set -euo pipefail

CACHE=${GPIO2MQTT_TEST_CACHE:-/var/cache/gpio2mqtt-tests}
MIRROR=http://deb.debian.org/debian
RECIPE="v2 mmdebstrap minbase hosts hostname fstab apt-clean"

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 3 ] || {
	echo "usage: $0 SUITE ARCH PACKAGE..." >&2
	exit 2
}
suite=$1 arch=$2
shift 2
case $arch in
arm64) cpu=aarch64 ;;
armhf) cpu=arm ;;
*)
	echo "make-arm-root: ARCH is arm64 or armhf, not $arch" >&2
	exit 2
	;;
esac
packages=$(printf '%s\n' "$@" | sort -u | paste -sd, -)
key=$(printf '%s|%s|%s|%s|%s\n' "$RECIPE" "$suite" "$arch" "$MIRROR" "$packages" |
	sha256sum | cut -c1-16)
out=$CACHE/root-$arch-$suite-$key

log() { echo "make-arm-root: $*" >&2; }

mkdir -p "$CACHE"
exec 9>"$CACHE/root-$arch-$suite.lock"
flock -w 1800 9 || {
	log "another build of the $arch $suite root holds the lock"
	exit 1
}
if [ -f "$out/.complete" ]; then
	echo "$out"
	exit 0
fi
missing=""
for p in mmdebstrap qemu-user-static arch-test; do
	dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	log "installing$missing"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2
fi
"$here/binfmt.sh" "$cpu"

log "creating the $arch $suite root (once; cached in $out)"
tmp=$(mktemp -d "$CACHE/root-$arch-$suite.tmp.XXXXXX")
trap 'rm -rf "$tmp" "$tmp.log"' EXIT
chmod 0755 "$tmp"
if ! timeout 2400 mmdebstrap --variant=minbase --architectures="$arch" \
	--include="$packages" "$suite" "$tmp" "$MIRROR" >"$tmp.log" 2>&1; then
	tail -n 30 "$tmp.log" >&2
	exit 1
fi
rm -f "$tmp.log"
# What an installed system has and minbase lacks.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$tmp/etc/hosts"
echo "g2m-$arch-$suite" >"$tmp/etc/hostname"
echo '/dev/vda / ext4 rw,noatime 0 1' >"$tmp/etc/fstab"
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
touch "$tmp/.complete"
for old in "$CACHE/root-$arch-$suite-"*; do
	[ "$old" = "$out" ] || rm -rf "$old"
done
mv "$tmp" "$out"
trap - EXIT
echo "$out"
