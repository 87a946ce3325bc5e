#!/bin/bash
# SPDX-License-Identifier: MIT
# Usage: tests/arm/make-build-root.sh SUITE
#
# A Debian SUITE chroot that builds the package for amd64, arm64 and armhf:
# mmdebstrap's buildd variant for this machine's architecture with arm64 and
# armhf added (multiarch), the cross compilers (crossbuild-essential-*),
# qemu-user-static for the cross-built unit tests, and debian/control's
# build dependencies for each architecture (apt-get build-dep -a). Nothing
# in it runs emulated, so no binfmt is needed to make it. Built once and
# cached under /var/cache/gpio2mqtt-tests (GPIO2MQTT_TEST_CACHE), keyed by
# SUITE, this recipe and debian/control's Build-Depends; older ones are
# removed. Prints the path. Builds in it change nothing but /build.
set -euo pipefail

CACHE=${GPIO2MQTT_TEST_CACHE:-/var/cache/gpio2mqtt-tests}
MIRROR=http://deb.debian.org/debian
ARCHES="arm64 armhf"
RECIPE="v1 buildd $ARCHES crossbuild-essential qemu-user-static build-dep"

top=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -eq 1 ] || {
	echo "usage: $0 SUITE" >&2
	exit 2
}
suite=$1
native=$(dpkg --print-architecture)
build_depends=$(sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*:/p' "$top/debian/control" |
	sed '$d')
key=$(printf '%s|%s|%s|%s|%s\n' "$RECIPE" "$native" "$suite" "$MIRROR" "$build_depends" |
	sha256sum | cut -c1-16)
out=$CACHE/root-cross-$suite-$key

log() { echo "make-build-root: $*" >&2; }

mkdir -p "$CACHE"
exec 9>"$CACHE/root-cross-$suite.lock"
flock -w 1800 9 || {
	log "another build of the $suite cross root holds the lock"
	exit 1
}
if [ -f "$out/.complete" ]; then
	echo "$out"
	exit 0
fi
command -v mmdebstrap >/dev/null || {
	log "installing mmdebstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap >&2
}

log "creating the $suite cross-build root (once; cached in $out)"
tmp=$(mktemp -d "$CACHE/root-cross-$suite.tmp.XXXXXX")
trap 'rm -rf "$tmp" "$tmp.log"' EXIT
chmod 0755 "$tmp"
includes="build-essential,dpkg-dev,debhelper,fakeroot,qemu-user-static"
# shellcheck disable=SC2016 # $1: the hooks' argument, the chroot
deps_hook='set -e; mkdir -p "$1/tmp/src/debian"; cp "'$top'/debian/control" "$1/tmp/src/debian/"'
for a in $ARCHES; do
	includes="$includes,crossbuild-essential-$a"
done
build_dep="apt-get build-dep -y --no-install-recommends ./"
for a in $ARCHES; do
	build_dep="$build_dep && apt-get build-dep -y --no-install-recommends -a $a ./"
done
# shellcheck disable=SC2016
if ! timeout 1800 mmdebstrap --variant=buildd --architectures="$native,${ARCHES// /,}" \
	--include="$includes" \
	--customize-hook="$deps_hook" \
	--customize-hook="chroot \"\$1\" sh -c 'cd /tmp/src && $build_dep'" \
	--customize-hook='rm -rf "$1/tmp/src"' \
	"$suite" "$tmp" "$MIRROR" >"$tmp.log" 2>&1; then
	tail -n 30 "$tmp.log" >&2
	exit 1
fi
rm -f "$tmp.log"
touch "$tmp/.complete"
for old in "$CACHE/root-cross-$suite-"*; do
	[ "$old" = "$out" ] || rm -rf "$old"
done
mv "$tmp" "$out"
trap - EXIT
echo "$out"
