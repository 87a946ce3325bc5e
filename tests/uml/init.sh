#!/bin/sh
# SPDX-License-Identifier: MIT
# PID 1 of the test kernel (see run.sh). The root file system is the host's,
# read-only through hostfs; G2M_SHARED (from the kernel command line) names a
# host directory that is mounted writable at the same path. It holds job.sh,
# the command to run, and receives the job's exit status in "status".
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

die() {
	echo "uml-init: $*" >&2
	poweroff -f >/dev/null 2>&1
	exit 1
}

mountpoint -q /proc || mount -t proc proc /proc || die "cannot mount /proc"
mountpoint -q /sys || mount -t sysfs sysfs /sys || die "cannot mount /sys"
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev || die "cannot mount /dev"
mount -t configfs configfs /sys/kernel/config || die "cannot mount configfs"
# Scratch space for the tests. Not over /tmp: that would hide the host's /tmp.
mount -t tmpfs -o mode=0755 tmpfs /run || die "cannot mount /run"
mkdir -p /run/tmp /run/lock /dev/shm /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t devpts devpts /dev/pts
# devtmpfs lacks these; bash's process substitution needs /dev/fd.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr
chmod 1777 /run/tmp
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up || die "cannot bring lo up"
# The kernel's default is "(none)"; the classroom mappings put the short host
# name (%h) into the client id and topics, and the tests ask hostname -s.
hostname uml-board || die "cannot set the host name"

[ -n "${G2M_SHARED:-}" ] && [ -r "$G2M_SHARED/job.sh" ] || die "no job in '${G2M_SHARED:-}'"
mount -t hostfs hostfs "$G2M_SHARED" -o "$G2M_SHARED" || die "cannot mount $G2M_SHARED"

TMPDIR=/run/tmp sh "$G2M_SHARED/job.sh" </dev/null
echo "$?" >"$G2M_SHARED/status.tmp" && mv "$G2M_SHARED/status.tmp" "$G2M_SHARED/status"
sync
poweroff -f >/dev/null 2>&1
