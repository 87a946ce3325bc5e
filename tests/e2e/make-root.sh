#!/bin/bash
# SPDX-License-Identifier: MIT
# Usage: tests/e2e/make-root.sh NAME SUITE PACKAGE...
#
# A Debian SUITE root file system: debootstrap's minbase variant from
# deb.debian.org plus PACKAGEs. Built once and cached under
# /var/cache/gpio2mqtt-tests (GPIO2MQTT_TEST_CACHE), keyed by NAME, SUITE,
# the package list and this recipe; older roots of the same NAME and SUITE
# are removed. Prints the path. Callers copy it before changing anything.
set -euo pipefail

CACHE=${GPIO2MQTT_TEST_CACHE:-/var/cache/gpio2mqtt-tests}
MIRROR=http://deb.debian.org/debian
RECIPE="v2 minbase mode-755 hosts hostname apt-clean"

[ $# -ge 3 ] || {
	echo "usage: $0 NAME SUITE PACKAGE..." >&2
	exit 2
}
name=$1 suite=$2
shift 2
packages=$(printf '%s\n' "$@" | sort -u | paste -sd, -)
key=$(printf '%s|%s|%s|%s|%s\n' "$RECIPE" "$name" "$suite" "$MIRROR" "$packages" |
	sha256sum | cut -c1-16)
out=$CACHE/root-$name-$suite-$key

log() { echo "make-root: $*" >&2; }

mkdir -p "$CACHE"
# One builder at a time; a second caller waits and then finds the result.
exec 9>"$CACHE/root-$name-$suite.lock"
flock -w 1800 9 || {
	log "another build of $name-$suite holds the lock"
	exit 1
}
if [ -f "$out/.complete" ]; then
	echo "$out"
	exit 0
fi

command -v debootstrap >/dev/null || {
	log "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >&2
}
log "creating the $suite root '$name' (once; cached in $out)"
tmp=$(mktemp -d "$CACHE/root-$name-$suite.tmp.XXXXXX")
trap 'rm -rf "$tmp" "$tmp.log"' EXIT
# mktemp's 0700 would be the booted system's "/": no user could reach a file.
chmod 0755 "$tmp"
if ! timeout 1800 debootstrap --variant=minbase --include="$packages" "$suite" "$tmp" \
	"$MIRROR" >"$tmp.log" 2>&1; then
	tail -n 20 "$tmp.log" >&2
	rm -f "$tmp.log"
	exit 1
fi
rm -f "$tmp.log"
# What an installed system has and minbase lacks.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$tmp/etc/hosts"
echo "g2m-$suite" >"$tmp/etc/hostname"
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
touch "$tmp/.complete"
for old in "$CACHE/root-$name-$suite-"*; do
	[ "$old" = "$out" ] || rm -rf "$old"
done
mv "$tmp" "$out"
trap - EXIT
echo "$out"
