#!/bin/sh
# SPDX-License-Identifier: MIT
# Build (once) an arm64 kernel for qemu-system-aarch64's "virt" board, with
# gpio-sim and 32-bit compat (armhf processes), cross-compiled from Debian's
# linux-source package; print the path of its Image. Cached under
# GPIO2MQTT_TEST_CACHE (default /var/cache/gpio2mqtt-tests), keyed by the
# source version and this recipe; the downloaded source package is kept
# beside it, so a changed recipe rebuilds without downloading again.
#
# The configuration is allnoconfig plus only what the board needs (about
# 540 options built in, no modules): about 8 minutes on two cores, where
# arm64's defconfig trimmed took 25. Options that depend on others are
# listed with them, so a missing dependency is caught by "did not stick".
#
# Environment: GPIO2MQTT_TEST_CACHE, ARM_SOURCE_PACKAGE (default
# linux-source-7.3, as the UML test kernel), ARM_SOURCE_SUITE (default
# trixie-backports), ARM_SOURCE_MIRROR (default http://deb.debian.org/debian).
set -eu

CACHE=${GPIO2MQTT_TEST_CACHE:-/var/cache/gpio2mqtt-tests}
SRC_PKG=${ARM_SOURCE_PACKAGE:-linux-source-7.3}
SUITE=${ARM_SOURCE_SUITE:-trixie-backports}
MIRROR=${ARM_SOURCE_MIRROR:-http://deb.debian.org/debian}
# shellcheck disable=SC2034 # APT_DIR and APT_TIMEOUT: for tests/lib/archive.sh
APT_DIR="$CACHE/apt-$SUITE"
APT_TIMEOUT=600
BUILD_TOOLS="flex bison bc xz-utils make gcc libc6-dev libssl-dev
 gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu"
KMAKE="make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
# The board: virtio over MMIO (virtio-blk root), the PL011 console, the
# PL031 clock; ext4; gpio-sim over configfs with both character device
# ABIs (libgpiod 1.6 uses v1); 32-bit processes (armhf: bookworm's still
# make the 32-bit time_t system calls); loopback TCP for mosquitto; and
# what systemd and the service's sandbox use (cgroups with BPF for
# DeviceAllow=, seccomp, the namespaces of PrivateTmp=, ProtectHostname=
# and PrivateIPC=, which mounts its own mqueue). allnoconfig turns off
# every option it is asked about, default or not; options only EXPERT asks
# about (epoll, signalfd, futex...) keep their defaults.
ENABLE="PRINTK TTY HIGH_RES_TIMERS NO_HZ_IDLE SYSVIPC NET UNIX INET IPV6
 BLOCK BLK_DEV VIRTIO_MENU VIRTIO_MMIO VIRTIO_BLK EXT4_FS EXT4_FS_POSIX_ACL
 SERIAL_AMBA_PL011 SERIAL_AMBA_PL011_CONSOLE RTC_CLASS RTC_DRV_PL031
 HW_RANDOM HW_RANDOM_VIRTIO GPIOLIB GPIO_CDEV GPIO_CDEV_V1 GPIO_SIM
 CONFIGFS_FS SYSFS PROC_FS SYSCTL TMPFS TMPFS_POSIX_ACL TMPFS_XATTR DEVTMPFS
 DEVTMPFS_MOUNT AUTOFS_FS INOTIFY_USER FHANDLE CGROUPS CGROUP_BPF
 BPF_SYSCALL NAMESPACES UTS_NS IPC_NS PID_NS NET_NS USER_NS SECCOMP
 SECCOMP_FILTER COMPAT BINFMT_ELF COMPAT_BINFMT_ELF BINFMT_SCRIPT
 UNIX98_PTYS SIGNALFD TIMERFD EVENTFD EPOLL FUTEX MULTIUSER SHMEM
 POSIX_TIMERS FILE_LOCKING COMPAT_32BIT_TIME KUSER_HELPERS POSIX_MQUEUE
 RTC_HCTOSYS RTC_INTF_DEV"
RECIPE="$SRC_PKG allnoconfig +[$ENABLE] v3"

log() { echo "build-arm-kernel: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source-path=SCRIPTDIR source=../lib/archive.sh
. "$(dirname "$0")/../lib/archive.sh"

kernel_dir() {
	key=$(printf '%s %s\n' "$1" "$RECIPE" | sha256sum | cut -c1-16)
	echo "$CACHE/arm64-kernel-$key"
}

version=$(archive_field "$SRC_PKG" Version)
if [ -n "$version" ] && [ -f "$(kernel_dir "$version")/Image" ]; then
	echo "$(kernel_dir "$version")/Image"
	exit 0
fi

missing=""
for tool in $BUILD_TOOLS; do
	dpkg-query -W -f '${Status}\n' "$tool" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $tool"
done
if [ -n "$missing" ]; then
	log "installing$missing"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2
fi

mkdir -p "$CACHE/downloads"
work=$(mktemp -d "$CACHE/arm-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "reading the package list of $SUITE from $MIRROR"
archive_refresh "$work/apt.log"
version=$(archive_field "$SRC_PKG" Version)
[ -n "$version" ] || die "$SRC_PKG not found in $SUITE (set ARM_SOURCE_PACKAGE)"
out=$(kernel_dir "$version")
if [ -f "$out/Image" ]; then
	echo "$out/Image"
	exit 0
fi

deb=$CACHE/downloads/${SRC_PKG}_$(echo "$version" | sed 's/:/%3a/')_all.deb
if [ ! -f "$deb" ]; then
	log "downloading $SRC_PKG $version from $SUITE"
	rm -f "$CACHE/downloads/${SRC_PKG}_"*.deb
	archive_download "$work/apt.log" "$CACHE/downloads" "$SRC_PKG/$SUITE"
	[ -f "$deb" ] || die "no $deb after the download"
fi
log "building the arm64 kernel from $SRC_PKG $version; once, several minutes"
dpkg-deb --fsys-tarfile "$deb" | tar -C "$work" -xf - --wildcards './usr/src/*.tar.*'
tar -C "$work" -xf "$work"/usr/src/"$SRC_PKG".tar.*
rm -rf "${work:?}/usr"
cd "$work/$SRC_PKG"

for o in $ENABLE; do echo "CONFIG_$o=y"; done >"$work/fragment"
echo "# CONFIG_MODULES is not set" >>"$work/fragment"
KCONFIG_ALLCONFIG="$work/fragment" $KMAKE allnoconfig >&2
for o in $ENABLE; do
	grep -q "^CONFIG_$o=y" .config || die "CONFIG_$o did not stick"
done
grep -q '^CONFIG_MODULES=y' .config && die "CONFIG_MODULES is still on"
# shellcheck disable=SC2086 # KMAKE: words
nice -n 10 $KMAKE -j"$(nproc)" Image >&2
mkdir -p "$out.tmp"
cp arch/arm64/boot/Image "$out.tmp/Image"
cp .config "$out.tmp/config"
rm -rf "$out"
mv "$out.tmp" "$out"
for old in "$CACHE"/arm64-kernel-*; do
	[ "$old" = "$out" ] || rm -rf "$old"
done
echo "$out/Image"
