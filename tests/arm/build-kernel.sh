#!/bin/sh
# SPDX-License-Identifier: MIT
# Build (once) an arm64 kernel for qemu-system-aarch64's "virt" board, with
# gpio-sim and 32-bit compat (armhf processes), cross-compiled from Debian's
# linux-source package; print the path of its Image. Cached under
# GPIO2MQTT_TEST_CACHE (default /var/cache/gpio2mqtt-tests), keyed by the
# source version and this recipe; the downloaded source package is kept
# beside it, so a changed recipe rebuilds without downloading again.
#
# The configuration is arm64's defconfig trimmed to what the board needs:
# no modules (every "=m" of defconfig goes), no SoC platform, no graphics,
# sound, wireless, USB or virtualisation; then the options below enabled.
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
# Off: whole subsystems a virtual board without screen, sound or USB never
# uses (MODULES off also drops every "=m" of defconfig).
DISABLE="MODULES DRM SOUND MEDIA_SUPPORT WLAN WIRELESS CFG80211 BT NFC CAN
 USB_SUPPORT MMC MTD VIRTUALIZATION ACPI EFI INFINIBAND DEBUG_INFO_BTF
 STAGING CHROME_PLATFORMS SURFACE_PLATFORMS FPGA IIO PWM INPUT_TOUCHSCREEN
 ETHERNET PHYLIB MDIO_DEVICE NETFILTER NET_SCHED BRIDGE VLAN_8021Q NET_DSA
 MACSEC VXLAN IP_VS NETWORK_FILESYSTEMS BTRFS_FS XFS_FS F2FS_FS SQUASHFS
 QUOTA SCSI ATA MD NVME_CORE BLK_DEV_NVME I2C SPI SPMI HWMON THERMAL
 WATCHDOG REGULATOR POWER_SUPPLY RESET_CONTROLLER GENERIC_PHY NEW_LEDS
 IOMMU_SUPPORT MAILBOX REMOTEPROC RPMSG SOUNDWIRE SLIMBUS INTERCONNECT
 PM_DEVFREQ CPU_FREQ CPU_IDLE SUSPEND HIBERNATION KEXEC CRASH_DUMP FTRACE
 KPROBES PROFILING DMADEVICES EXTCON VFIO VHOST_MENU ARM_SCMI_PROTOCOL
 ARM_SCPI_PROTOCOL TEE NUMA XEN HID INPUT_KEYBOARD INPUT_MOUSE NVMEM
 ARM_SMMU ARM_SMMU_V3 HW_RANDOM_ARM_SMCCC_TRNG"
# On: the board (virtio over MMIO and PCI, PL011 console, PL031 clock), an
# ext4 root on virtio-blk, gpio-sim over configfs, 32-bit processes, and
# what systemd and the service's sandbox use.
ENABLE="GPIOLIB GPIO_CDEV GPIO_CDEV_V1 GPIO_SIM CONFIGFS_FS COMPAT
 DEVTMPFS DEVTMPFS_MOUNT TMPFS TMPFS_POSIX_ACL VIRTIO_MMIO VIRTIO_PCI
 PCI_HOST_GENERIC VIRTIO_BLK VIRTIO_NET EXT4_FS SERIAL_AMBA_PL011
 SERIAL_AMBA_PL011_CONSOLE RTC_DRV_PL031 HW_RANDOM_VIRTIO UNIX INET
 SIGNALFD TIMERFD EVENTFD EPOLL FHANDLE CGROUPS BPF_SYSCALL CGROUP_BPF
 SECCOMP SECCOMP_FILTER NAMESPACES AUTOFS_FS BINFMT_ELF COMPAT_BINFMT_ELF"
DEBUG_OFF="DEBUG_INFO_NONE"
RECIPE="$SRC_PKG defconfig -platforms -[$DISABLE] +[$ENABLE] +$DEBUG_OFF v2"

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

$KMAKE defconfig >&2
platforms=$(sed -n 's/^config \(ARCH_[A-Z0-9_]*\)$/\1/p' arch/arm64/Kconfig.platforms)
args=""
for o in $platforms $DISABLE; do args="$args -d $o"; done
for o in $ENABLE $DEBUG_OFF; do args="$args -e $o"; done
# shellcheck disable=SC2086
./scripts/config $args -d DEBUG_INFO -d DEBUG_INFO_DWARF4 -d DEBUG_INFO_DWARF5 \
	-d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT
$KMAKE olddefconfig >&2
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
