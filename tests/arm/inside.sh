#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs inside the emulated arm64 board (tests/arm/run.sh) as the unit
# g2m-e2e.service: checks what makes this board an ARM one, then runs the
# end-to-end test of the Debian package (tests/e2e/inside.sh) once per
# package in /e2e/arches (arm64, then armhf: a 32-bit program on the 64-bit
# kernel, through its compat system calls), each from its own env file.
# Each run's lines go to the console and /e2e/out/ARCH.tap.
# shellcheck disable=SC2317 # elf_is is called through check
export G2M_OUT=/e2e/out
# shellcheck source-path=SCRIPTDIR source=../uml/lib.sh
. /e2e/lib.sh

elf_of() { dpkg-deb --fsys-tarfile "/e2e/$1" | tar -xOf - ./usr/sbin/gpio2mqtt | head -c 20 | od -An -tx1 | tr -d ' \n'; }
# ELF header: byte 4 is the class (01 32-bit, 02 64-bit), bytes 18-19 the
# machine (0x28 ARM, 0xb7 AArch64), little-endian.
elf_is() { [ "$(elf_of "$1" | cut -c9-10)/$(elf_of "$1" | cut -c37-40)" = "$2" ]; }

check "the kernel is arm64 ($(uname -r))" test "$(uname -m)" = aarch64
check "dpkg's architecture is arm64" test "$(dpkg --print-architecture)" = arm64
check "armhf is a foreign architecture (multiarch)" \
	eval 'dpkg --print-foreign-architectures | grep -qx armhf'
check "32-bit processes run (CONFIG_COMPAT): armhf's ld-linux-armhf.so.3 --help" \
	eval '/lib/ld-linux-armhf.so.3 --help >/dev/null'
check "systemd is PID 1" test "$(cat /proc/1/comm)" = systemd

for arch in $(</e2e/arches); do
	# shellcheck disable=SC1090
	. "/e2e/env-$arch"
	case $arch in
	arm64) check "$DEB: a 64-bit AArch64 daemon" elf_is "$DEB" 02/b700 ;;
	armhf) check "$DEB: a 32-bit ARM daemon" elf_is "$DEB" 01/2800 ;;
	esac
	cp "/e2e/env-$arch" /e2e/env
	diag "the package for $arch: $DEB"
	bash /e2e/e2e-inside.sh 2>&1 | tee "/e2e/out/$arch.tap" | sed -u "s/^/[$arch] /"
	status=${PIPESTATUS[0]}
	check "$arch: the end-to-end test passed (status $status)" test "$status" = 0
done
finish
