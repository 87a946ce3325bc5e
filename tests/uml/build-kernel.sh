#!/bin/sh
# SPDX-License-Identifier: MIT
# Build (once) a User-Mode Linux kernel with gpio-sim from Debian's linux-source
# package and print its path. The result is cached outside the repository, keyed
# by the source version and this recipe, so a changed recipe rebuilds.
#
# The source comes from trixie-backports: since Linux 6.13, 64-bit UML has
# 4-level page tables, which give its processes the 47-bit address space that
# AddressSanitizer's fixed shadow layout needs (6.12's 3 levels give 512 GiB).
# apt runs with state of its own under the cache (tests/lib/archive.sh); once
# the kernel is built, a second run needs no network.
#
# Environment: GPIO2MQTT_TEST_CACHE (default /var/cache/gpio2mqtt-tests),
# UML_SOURCE_PACKAGE (default linux-source-7.3), UML_SOURCE_SUITE (default
# trixie-backports), UML_SOURCE_MIRROR (default http://deb.debian.org/debian).
set -eu

CACHE=${GPIO2MQTT_TEST_CACHE:-/var/cache/gpio2mqtt-tests}
SRC_PKG=${UML_SOURCE_PACKAGE:-linux-source-7.3}
SUITE=${UML_SOURCE_SUITE:-trixie-backports}
MIRROR=${UML_SOURCE_MIRROR:-http://deb.debian.org/debian}
# shellcheck disable=SC2034 # APT_DIR and APT_TIMEOUT: for tests/lib/archive.sh
APT_DIR="$CACHE/apt-$SUITE"
APT_TIMEOUT=600
BUILD_TOOLS="flex bison bc xz-utils make gcc libc6-dev"
# Why the PCI/virtio options: without them UML has too few IRQs for gpio-sim's
# interrupt domain and every edge-event request fails. BPF_SYSCALL and
# CGROUP_BPF: without them systemd does not enforce a unit's DeviceAllow=.
OPTIONS="GPIOLIB GPIO_CDEV GPIO_CDEV_V1 GPIO_SIM CONFIGFS_FS HOSTFS DEVTMPFS
 DEVTMPFS_MOUNT VIRTIO_UML UML_PCI_OVER_VIRTIO UNIX INET SIGNALFD TIMERFD EVENTFD
 EPOLL TMPFS BINFMT_ELF BPF_SYSCALL CGROUP_BPF"
# UML fixes its tick at HZ=100 in arch/um/Kconfig; gpio-sim's edges wait for
# the next tick, which on hardware they would not. 1000 makes that wait 1 ms.
TICK_HZ=1000
RECIPE="$SRC_PKG $OPTIONS UML_PCI_OVER_VIRTIO_DEVICE_ID=0 HZ=$TICK_HZ v1"

log() { echo "build-kernel: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source-path=SCRIPTDIR source=../lib/archive.sh
. "$(dirname "$0")/../lib/archive.sh"

# Version of the source package in $SUITE's cached list, empty when unknown.
source_version() {
	archive_field "$SRC_PKG" Version
}

# Directory of the kernel built from source version $1 with this recipe.
kernel_dir() {
	key=$(printf '%s %s\n' "$1" "$RECIPE" | sha256sum | cut -c1-16)
	echo "$CACHE/uml-$key"
}

refresh_list() {
	log "reading the package list of $SUITE from $MIRROR"
	archive_refresh "$work/apt.log"
}

# Downloads the source package into $work and unpacks its tree there.
unpack_source() {
	log "downloading $SRC_PKG $version from $SUITE"
	mkdir "$work/deb" "$work/pkg"
	archive_download "$work/apt.log" "$work/deb" "$SRC_PKG/$SUITE"
	dpkg -x "$work"/deb/*.deb "$work/pkg"
	rm -rf "$work/deb"
	tarball=$(find "$work/pkg/usr/src" -name "$SRC_PKG.tar.*" | head -n 1)
	[ -n "$tarball" ] || die "no /usr/src/$SRC_PKG.tar.* in $SRC_PKG $version"
	tar -C "$work" -xf "$tarball"
	rm -rf "$work/pkg"
}

# HZ has no prompt on UML: its default is the only way to set it.
set_tick_rate() {
	sed -i "/^config HZ\$/,/^\$/ s/^\(\tdefault\) [0-9][0-9]*\$/\1 $TICK_HZ/" arch/um/Kconfig
}

configure() {
	set_tick_rate
	make ARCH=um defconfig >&2
	enable=""
	for o in $OPTIONS; do enable="$enable -e $o"; done
	# shellcheck disable=SC2086
	./scripts/config $enable --set-val UML_PCI_OVER_VIRTIO_DEVICE_ID 0
	make ARCH=um olddefconfig >&2
	for o in $OPTIONS; do
		grep -q "^CONFIG_$o=y" .config || die "CONFIG_$o did not stick"
	done
	grep -q "^CONFIG_HZ=$TICK_HZ\$" .config || die "CONFIG_HZ=$TICK_HZ did not stick"
}

version=$(source_version)
if [ -n "$version" ] && [ -x "$(kernel_dir "$version")/linux" ]; then
	echo "$(kernel_dir "$version")/linux"
	exit 0
fi

for tool in $BUILD_TOOLS; do
	dpkg-query -W -f '${Status}\n' "$tool" 2>/dev/null | grep -q 'ok installed' ||
		missing="${missing:-} $tool"
done
if [ -n "${missing:-}" ]; then
	log "installing$missing"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2
fi

mkdir -p "$CACHE"
work=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
refresh_list
version=$(source_version)
[ -n "$version" ] || die "$SRC_PKG not found in $SUITE (set UML_SOURCE_PACKAGE)"
out=$(kernel_dir "$version")
if [ -x "$out/linux" ]; then
	echo "$out/linux"
	exit 0
fi

log "building UML kernel from $SRC_PKG $version; this takes several minutes once"
unpack_source
cd "$work"/linux-source-*
configure
make ARCH=um -j"$(nproc)" linux >&2
mkdir -p "$out.tmp"
cp linux "$out.tmp/linux"
cp .config "$out.tmp/config"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out/linux"
