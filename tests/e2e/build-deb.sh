#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/e2e/build-deb.sh OUTDIR
#
# Builds the Debian packages the way `make deb` does: the upstream tarball
# (tests/e2e/make-dist.sh) becomes OUTDIR/gpio2mqtt_VERSION.orig.tar.gz, is
# unpacked beside it with this tree's debian/ added, and `dpkg-buildpackage
# -us -uc` builds the source package (.dsc, .debian.tar.xz) and the binary
# packages there; everything lands in OUTDIR and the unpacked tree is
# removed, so the tree itself is left as it was. Missing build dependencies
# are installed with `apt-get build-dep` when run as root. Then the .deb's
# contents are checked (tests/e2e/check-deb.sh) and, when lintian is
# installed, any tag it reports with --pedantic on the .changes (source and
# binaries) that no override explains fails the build (LINTIAN=0 skips it).
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)

die() {
	echo "build-deb: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
mkdir -p "$1"
out=$(cd "$1" && pwd)

# The package version follows the Makefile's VERSION.
upstream=$(sed -n 's/^VERSION *= *//p' "$top/Makefile")
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
case $version in
"$upstream"-*) ;;
*) die "debian/changelog says $version but the Makefile's VERSION is $upstream" ;;
esac
src=$out/gpio2mqtt-$upstream
orig=$out/gpio2mqtt_$upstream.orig.tar.gz

# debian/ as the tree has it: tracked and new files, not what .gitignore names.
copy_debian() {
	if [ -d "$top/.git" ] && command -v git >/dev/null; then
		git -C "$top" ls-files -z --cached --others --exclude-standard debian |
			(cd "$top" && tar -cf - --null --no-recursion --ignore-failed-read -T -) |
			tar -C "$src" -xf -
	else
		(cd "$top" && tar -cf - debian) | tar -C "$src" -xf -
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
rm -rf "$src" "$out"/gpio2mqtt*_*.deb "$out"/gpio2mqtt_*.changes \
	"$out"/gpio2mqtt_*.buildinfo "$out"/gpio2mqtt_*.dsc "$out"/gpio2mqtt_*.debian.tar.* \
	"$out"/gpio2mqtt_*.orig.tar.*
tarball=$("$top/tests/e2e/make-dist.sh" "$out")
mv "$tarball" "$orig"
trap 'rm -rf "$src"' EXIT
tar -C "$out" -xzf "$orig"
[ -d "$src" ] || die "$orig does not unpack to $(basename "$src")"
copy_debian
cd "$src"
install_build_deps
timeout 1800 dpkg-buildpackage -us -uc >&2
cd "$out"

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes=$out/gpio2mqtt_${version}_$arch.changes
deb=$out/gpio2mqtt_${version}_$arch.deb
[ -f "$deb" ] || die "no $deb"
[ -f "$out/gpio2mqtt_$version.dsc" ] || die "no source package gpio2mqtt_$version.dsc"
"$top/tests/e2e/check-deb.sh" "$deb" >&2 || die "$deb lacks what it should have"
if [ "${LINTIAN:-1}" != 0 ] && command -v lintian >/dev/null; then
	echo "build-deb: lintian --pedantic $changes" >&2
	timeout 600 lintian --pedantic --display-info --fail-on error,warning,info,pedantic \
		"$changes" >&2 || die "lintian found tags that no override explains"
fi
echo "build-deb: built $deb" >&2
echo "$deb"
