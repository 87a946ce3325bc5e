#!/bin/sh
# SPDX-License-Identifier: MIT
# Stands in for the daemon during a memcheck run (see in-uml.sh): notes the
# run, then becomes the real binary under the checker that G2M_MEMCHECK
# names, with the same process id, arguments and standard streams.
logs=$G2M_MEMCHECK_LOGS
here=$(dirname "$(readlink -f "$0")")
echo "$*" >"$logs/run.$$"

case $G2M_MEMCHECK in
valgrind)
	exec valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 --suppressions="$here/valgrind.supp" \
		--log-file="$logs/valgrind.%p.log" "$G2M_MEMCHECK_DAEMON" "$@"
	;;
sanitizer)
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$logs/sanitizer"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/sanitizer"
	export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
	exec "$G2M_MEMCHECK_DAEMON" "$@"
	;;
esac
echo "wrap-daemon: unknown G2M_MEMCHECK '$G2M_MEMCHECK'" >&2
exit 125
