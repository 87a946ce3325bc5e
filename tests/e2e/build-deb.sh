#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/e2e/build-deb.sh OUTDIR [ARCH]
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
#
# With ARCH (a Debian architecture such as arm64 or armhf) other than this
# machine's, the packages are cross-built for it (dpkg-buildpackage -a ARCH
# -Pcross): as root, ARCH is added to dpkg's architectures and the cross
# compiler (crossbuild-essential-ARCH), the build dependencies for ARCH and
# qemu-user-static, which runs the unit tests, are installed first.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)

die() {
	echo "build-deb: $*" >&2
	exit 1
}

[ $# -eq 1 ] || [ $# -eq 2 ] || die "usage: $0 OUTDIR [ARCH]"
mkdir -p "$1"
out=$(cd "$1" && pwd)
build_arch=$(dpkg --print-architecture)
arch=${2:-$build_arch}
[ -n "$arch" ] || arch=$build_arch
if [ "$arch" = "$build_arch" ]; then
	cross="" cross_args=""
else
	cross=$arch cross_args="-a $arch -Pcross"
fi

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

# For a cross build: the cross compiler, and qemu-user-static for the unit
# tests (debian/rules skips them without it).
cross_tools() {
	[ -n "$cross" ] || return 0
	echo "crossbuild-essential-$cross"
	case " ${DEB_BUILD_OPTIONS:-} " in
	*" nocheck "*) ;;
	*) echo qemu-user-static ;;
	esac
}

cross_tools_missing() {
	for p in $(cross_tools); do
		dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
			return 0
	done
	return 1
}

install_build_deps() {
	# shellcheck disable=SC2086 # cross_args: words
	dpkg-checkbuilddeps $cross_args 2>/dev/null && ! cross_tools_missing && return 0
	[ "$(id -u)" -eq 0 ] ||
		die "missing build dependencies (as root: apt-get build-dep ${cross:+-a $cross }$src)"
	echo "build-deb: installing build dependencies${cross:+ for $cross}" >&2
	if [ -n "$cross" ] && ! dpkg --print-foreign-architectures | grep -qx "$cross"; then
		dpkg --add-architecture "$cross"
		apt-get update >&2
	fi
	# Again after an update when the package lists are missing or stale.
	apt_build_dep || { apt-get update >&2 && apt_build_dep; }
}

apt_build_dep() {
	# shellcheck disable=SC2046 # cross_tools: words
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y --no-install-recommends \
		${cross:+-a "$cross"} "$src" >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			$(cross_tools) dpkg-dev >&2
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
# shellcheck disable=SC2086 # cross_args: words
timeout 1800 dpkg-buildpackage -us -uc $cross_args >&2
cd "$out"

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
