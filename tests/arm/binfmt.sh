#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/arm/binfmt.sh CPU...        (CPU as qemu names it: aarch64, arm)
#
# Makes the kernel run CPU's programs under qemu-user-static, as installing
# qemu-user-static does on a machine whose init is systemd or that has
# binfmt-support: mounts binfmt_misc when it is not, and registers each
# CPU from qemu-user-static's /usr/lib/binfmt.d/qemu-CPU.conf unless it is
# registered. The "F" flag there makes the registration work in chroots.
set -eu

dir=/proc/sys/fs/binfmt_misc
die() {
	echo "binfmt: $*" >&2
	exit 1
}
[ -f "$dir/register" ] || mount -t binfmt_misc binfmt_misc "$dir" ||
	die "cannot mount binfmt_misc on $dir"
for cpu in "$@"; do
	[ -f "$dir/qemu-$cpu" ] && continue
	conf=/usr/lib/binfmt.d/qemu-$cpu.conf
	[ -f "$conf" ] || die "no $conf (apt-get install qemu-user-static)"
	cat "$conf" >"$dir/register" || die "cannot register $conf"
	echo "binfmt: registered qemu-$cpu" >&2
done
