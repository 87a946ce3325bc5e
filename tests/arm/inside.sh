#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs inside an emulated arm64 board (tests/arm/run.sh) as the unit
# g2m-e2e.service: checks what makes this board the ARM system it stands
# for (/e2e/arch: arm64, or armhf: 32-bit programs, systemd too, on the
# 64-bit kernel, through its compat system calls, as 32-bit Raspberry Pi
# OS runs), then runs the end-to-end test of the Debian package
# (tests/e2e/inside.sh) with /e2e/env. The lines go to the console and
# /e2e/out/tap.log (through the unit); the package's test's also to
# /e2e/out/e2e.tap.
# shellcheck disable=SC2317 # functions called through check
export G2M_OUT=/e2e/out
# shellcheck source-path=SCRIPTDIR source=../uml/lib.sh
. /e2e/lib.sh
# shellcheck disable=SC1091
. /e2e/env
arch=$(</e2e/arch)

# ELF header of FILE: byte 4 is the class (01 32-bit, 02 64-bit), bytes
# 18-19 the machine (0x28 ARM, 0xb7 AArch64), little-endian.
elf_kind() { head -c 20 "$1" | od -An -tx1 | tr -d ' \n' | sed 's/^.\{8\}\(..\).\{26\}\(....\).*/\1\/\2/'; }
elf_is() { [ "$(elf_kind "$1")" = "$2" ]; }
daemon_of_deb() { dpkg-deb --fsys-tarfile "/e2e/$DEB" | tar -xOf - ./usr/sbin/gpio2mqtt >"$1"; }

case $arch in
arm64) kind=02/b700 bits="a 64-bit AArch64" ;;
armhf) kind=01/2800 bits="a 32-bit ARM" ;;
esac

# A 32-bit kernel says armv7l; a 64-bit one aarch64, or armv8l to a
# program that asked for the 32-bit personality.
kernel_is_arm64() { [[ "$(uname -m)" =~ ^(aarch64|armv8l)$ ]]; }
check "the kernel is arm64 ($(uname -r), $(uname -m))" kernel_is_arm64
check "dpkg's architecture is $arch" test "$(dpkg --print-architecture)" = "$arch"
check "systemd is PID 1" test "$(cat /proc/1/comm)" = systemd
check "systemd is $bits program" elf_is /proc/1/exe "$kind"
daemon_of_deb /tmp/gpio2mqtt.elf
check "$DEB: $bits daemon" elf_is /tmp/gpio2mqtt.elf "$kind"
[ "$arch" = armhf ] &&
	check "programs here are 32-bit (getconf LONG_BIT)" test "$(getconf LONG_BIT)" = 32

diag "the package for $arch: $DEB"
bash /e2e/e2e-inside.sh 2>&1 | tee /e2e/out/e2e.tap
status=${PIPESTATUS[0]}
check "$arch: the end-to-end test passed (status $status)" test "$status" = 0
finish
