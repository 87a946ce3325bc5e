#!/bin/sh
# SPDX-License-Identifier: MIT
# Fetch the libgpiod 2.x runtime and -dev packages from Debian's archive, unpack
# them into a cache directory outside the repository (the 2.x -dev package
# conflicts with the system's 1.6 one, so it is never installed), and print the
# directory to use as PKG_CONFIG_PATH. A second run only prints.
#
# Build and run the 2.x flavour of the daemon:
#
#   PKG_CONFIG_PATH="$(tests/gpiod2/fetch.sh)" make O=build/gpiod2
#   build/gpiod2/gpio2mqtt --version
#
# PKG_CONFIG_PATH goes in the environment, not on make's command line: GNU make
# 4.3 does not pass command-line variables to $(shell pkg-config ...), which
# would then quietly pick the system's 1.6.
#
# The libgpiod.pc written here carries -Wl,-rpath to its own libdir, so the
# binary finds libgpiod.so.3 without LD_LIBRARY_PATH: that keeps working under
# sudo, systemd and inside the UML test rig (which sees the host's / at the
# same path), and does not leak into child processes. It is the same as
#   LDFLAGS=-Wl,-rpath,$(PKG_CONFIG_PATH=<dir> pkg-config --variable=libdir libgpiod)
#
# apt runs with state of its own under the cache (tests/lib/archive.sh).
#
# Environment: GPIO2MQTT_TEST_CACHE (default /var/cache/gpio2mqtt-tests),
# GPIOD2_SUITE (default bookworm-backports), GPIOD2_MIRROR (default
# http://deb.debian.org/debian).
set -eu

CACHE=${GPIO2MQTT_TEST_CACHE:-/var/cache/gpio2mqtt-tests}
SUITE=${GPIOD2_SUITE:-bookworm-backports}
DEV_PKG=libgpiod-dev
MIRROR=${GPIOD2_MIRROR:-http://deb.debian.org/debian}
# shellcheck disable=SC2034 # APT_DIR and APT_TIMEOUT: for tests/lib/archive.sh
APT_DIR="$CACHE/apt-$SUITE"
APT_TIMEOUT=300

log() { echo "gpiod2-fetch: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source-path=SCRIPTDIR source=../lib/archive.sh
. "$(dirname "$0")/../lib/archive.sh"

# The runtime package that the -dev package depends on (libgpiod3 for 2.x).
runtime_package() {
	archive_field "$DEV_PKG" Depends | tr ',' '\n' |
		sed -n 's/^ *\(libgpiod[0-9][0-9]*\) .*/\1/p' | head -n 1
}

# Points the .pc file's prefix into the cache, or writes one when the package
# has none, and adds the rpath (see the header of this file).
write_pc() {
	root=$1 final=$2 version=$3
	libdir=$(dirname "$(find "$root" -name 'libgpiod.so.*' -type f | head -n 1)")
	[ "$libdir" != . ] || die "no libgpiod.so.* in the $DEV_PKG/runtime packages"
	rel=${libdir#"$root"/usr/}
	pcdir="$libdir/pkgconfig"
	pc="$pcdir/libgpiod.pc"
	mkdir -p "$pcdir"
	if [ ! -f "$pc" ]; then
		cat >"$pc" <<-EOF
		prefix=/usr
		libdir=\${prefix}/$rel
		includedir=\${prefix}/include

		Name: libgpiod
		Description: Library for the Linux GPIO chardev (unpacked for tests)
		Version: ${version%%-*}
		Libs: -L\${libdir} -lgpiod
		Cflags: -I\${includedir}
		EOF
	fi
	# shellcheck disable=SC2016 # ${libdir} is pkg-config's, not the shell's
	sed -i -e "s|^prefix=.*|prefix=$final/usr|" \
		-e 's|^Libs: -L${libdir}|Libs: -L${libdir} -Wl,-rpath,${libdir}|' "$pc"
	grep -q -- '-rpath' "$pc" || die "could not add the rpath to $pc"
	echo "$final/usr/$rel/pkgconfig"
}

command -v apt-get >/dev/null || die "needs Debian's apt-get"
command -v dpkg >/dev/null || die "needs dpkg"

version=$(archive_field "$DEV_PKG" Version)
if [ -z "$version" ]; then
	log "reading the package list of $SUITE from $MIRROR"
	log_file=$(mktemp)
	trap 'rm -f "$log_file"' EXIT
	archive_refresh "$log_file"
	version=$(archive_field "$DEV_PKG" Version)
	[ -n "$version" ] || die "$DEV_PKG not found in $SUITE at $MIRROR"
fi
case $version in
2.*) ;;
*) die "$DEV_PKG/$SUITE is $version, not 2.x" ;;
esac

key=$(printf '%s' "$version" | tr -c 'A-Za-z0-9.+~-' '_')
dir="$CACHE/libgpiod-$key"
if [ -f "$dir/.complete" ]; then
	cat "$dir/.complete"
	exit 0
fi

runtime=$(runtime_package)
[ -n "$runtime" ] || die "cannot tell the runtime package from $DEV_PKG $version's Depends"

mkdir -p "$CACHE" || die "cannot create $CACHE"
work=$(mktemp -d "$CACHE/libgpiod-fetch.XXXXXX")
log_file="$work/apt.log"
trap 'rm -rf "$work"' EXIT
mkdir "$work/debs" "$work/root"

log "downloading $DEV_PKG and $runtime $version from $SUITE"
archive_download "$log_file" "$work/debs" "$DEV_PKG/$SUITE" "$runtime/$SUITE"
for deb in "$work"/debs/*.deb; do
	[ -f "$deb" ] || die "apt-get download produced no .deb"
	dpkg -x "$deb" "$work/root" || die "dpkg -x $deb failed"
done
[ -f "$work/root/usr/include/gpiod.h" ] || die "no gpiod.h in $DEV_PKG $version"

pcpath=$(write_pc "$work/root" "$dir" "$version")
echo "$pcpath" >"$work/root/.complete"
rm -rf "$dir"
mv "$work/root" "$dir"
log "libgpiod $version unpacked in $dir"
echo "$pcpath"
