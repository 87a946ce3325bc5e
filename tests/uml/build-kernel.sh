#!/bin/sh
# Build (once) a User-Mode Linux kernel with gpio-sim from Debian's linux-source
# package and print its path. The result is cached outside the repository, keyed
# by the source version and this recipe, so a changed recipe rebuilds.
set -eu

CACHE=${GPIO2MQTT_TEST_CACHE:-/var/cache/gpio2mqtt-tests}
SRC_PKG=${UML_SOURCE_PACKAGE:-linux-source-6.12}
# Why the PCI/virtio options: without them UML has too few IRQs for gpio-sim's
# interrupt domain and every edge-event request fails. BPF_SYSCALL and
# CGROUP_BPF: without them systemd does not enforce a unit's DeviceAllow=.
OPTIONS="GPIOLIB GPIO_CDEV GPIO_CDEV_V1 GPIO_SIM CONFIGFS_FS HOSTFS DEVTMPFS
 DEVTMPFS_MOUNT VIRTIO_UML UML_PCI_OVER_VIRTIO UNIX INET SIGNALFD TIMERFD EVENTFD
 EPOLL TMPFS BINFMT_ELF BPF_SYSCALL CGROUP_BPF"
RECIPE="$SRC_PKG $OPTIONS UML_PCI_OVER_VIRTIO_DEVICE_ID=0 v1"

log() { echo "build-kernel: $*" >&2; }

tarball() {
	ls /usr/src/"$SRC_PKG".tar.* 2>/dev/null | head -n 1
}

if [ -z "$(tarball)" ]; then
	log "installing $SRC_PKG"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"$SRC_PKG" flex bison bc xz-utils make gcc libc6-dev >&2
fi
src=$(tarball)
version=$(dpkg-query -W -f '${Version}' "$SRC_PKG")
key=$(printf '%s %s\n' "$version" "$RECIPE" | sha256sum | cut -c1-16)
out="$CACHE/uml-$key"

if [ -x "$out/linux" ]; then
	echo "$out/linux"
	exit 0
fi

log "building UML kernel from $src ($version); this takes several minutes once"
mkdir -p "$CACHE"
work=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xf "$src"
cd "$work"/linux-source-*
make ARCH=um defconfig >&2
enable=""
for o in $OPTIONS; do enable="$enable -e $o"; done
# shellcheck disable=SC2086
./scripts/config $enable --set-val UML_PCI_OVER_VIRTIO_DEVICE_ID 0
make ARCH=um olddefconfig >&2
for o in $OPTIONS; do
	grep -q "^CONFIG_$o=y" .config || { log "CONFIG_$o did not stick"; exit 1; }
done
make ARCH=um -j"$(nproc)" linux >&2
mkdir -p "$out.tmp"
cp linux "$out.tmp/linux"
cp .config "$out.tmp/config"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out/linux"
