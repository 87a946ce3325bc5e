#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/e2e/build-deb.sh OUTDIR
#
# Builds the Debian package the way `make deb` does: copies this tree to
# OUTDIR/src, runs `dpkg-buildpackage -us -uc -b` there (the .deb, .changes
# and .buildinfo land in OUTDIR) and removes the copy, so the tree itself
# is left as it was. Missing build dependencies are installed with
# `apt-get build-dep` when run as root. When lintian is installed, any tag
# it reports with --pedantic that debian/gpio2mqtt.lintian-overrides does
# not explain fails the build (LINTIAN=0 skips it).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)

die() {
	echo "build-deb: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
mkdir -p "$1"
out=$(cd "$1" && pwd)
src=$out/src

# The package version follows the Makefile's VERSION.
upstream=$(sed -n 's/^VERSION *= *//p' "$top/Makefile")
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
case $version in
"$upstream"-*) ;;
*) die "debian/changelog says $version but the Makefile's VERSION is $upstream" ;;
esac

copy_tree() {
	rm -rf "$src"
	mkdir -p "$src"
	if [ -d "$top/.git" ] && command -v git >/dev/null; then
		# Tracked and new files; what .gitignore names (builds) stays out.
		git -C "$top" ls-files -z --cached --others --exclude-standard |
			(cd "$top" && tar -cf - --null --no-recursion --ignore-failed-read -T -) |
			tar -C "$src" -xf -
	else
		(cd "$top" && tar -cf - --exclude=./build .) | tar -C "$src" -xf -
	fi
}

install_build_deps() {
	dpkg-checkbuilddeps 2>/dev/null && return 0
	[ "$(id -u)" -eq 0 ] || die "missing build dependencies (as root: apt-get build-dep $src)"
	echo "build-deb: installing build dependencies" >&2
	# Again after an update when the package lists are missing or stale.
	apt_build_dep || { apt-get update >&2 && apt_build_dep; }
}

apt_build_dep() {
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y --no-install-recommends "$src" >&2
}

command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null ||
	[ "$(id -u)" -ne 0 ] ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		dpkg-dev debhelper build-essential >&2
copy_tree
trap 'rm -rf "$src"' EXIT
rm -f "$out"/gpio2mqtt*_*.deb "$out"/gpio2mqtt_*.changes "$out"/gpio2mqtt_*.buildinfo
cd "$src"
install_build_deps
timeout 1800 dpkg-buildpackage -us -uc -b >&2
cd "$out"

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes=$out/gpio2mqtt_${version}_$arch.changes
deb=$out/gpio2mqtt_${version}_$arch.deb
[ -f "$deb" ] || die "no $deb"
if [ "${LINTIAN:-1}" != 0 ] && command -v lintian >/dev/null; then
	echo "build-deb: lintian --pedantic $changes" >&2
	timeout 600 lintian --pedantic --display-info --fail-on error,warning,info,pedantic \
		"$changes" >&2 || die "lintian found tags that no override explains"
fi
echo "build-deb: built $deb" >&2
echo "$deb"
