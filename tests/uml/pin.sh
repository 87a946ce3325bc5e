#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/uml/pin.sh COMMAND [ARGS...]
#
# Runs COMMAND (a boot of the test kernel) on one host CPU. The instance's
# kernel and each of its processes are host processes that hand over to each
# other on every system call; on two host CPUs each hand-over is a wake-up
# across CPUs, and a system call costs 10 to 60 µs depending on where the
# host scheduler put them. The kernel has one CPU, so one host CPU loses
# nothing and gives a steady 10 µs (measured by "make bench").
#   G2M_UML_CPU  auto (default: the last CPU this process may use), a CPU
#                number, or off (no pinning)
set -eu

cpu=${G2M_UML_CPU:-auto}
case $cpu in
off) exec "$@" ;;
auto)
	cpu=$(taskset -pc $$ 2>/dev/null | sed -n 's/.*: *//p' | tr ',' '\n' | tail -n 1)
	cpu=${cpu##*-}
	[ -n "$cpu" ] || exec "$@"
	;;
*[!0-9]* | '')
	echo "pin.sh: G2M_UML_CPU must be auto, off or a CPU number: $cpu" >&2
	exit 125
	;;
esac
exec taskset -c "$cpu" "$@"
