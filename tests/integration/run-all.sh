#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/integration/run-all.sh DAEMON_BINARY [TEST...]
#
# Runs every tests/integration/test-*.sh (or the named ones) inside the test
# kernel, one boot each so that a test cannot leave chips, brokers or daemons
# behind for the next. Prints each test's output, then the total as
# "N passed, M failed"; exits non-zero when anything failed.
#   G2M_UML_TIMEOUT  seconds allowed per test file (default 300)
# A test file that needs more memory than run.sh gives says so in a comment
# of its own near the top: "# uml-mem: 1536M".
set -u

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || {
	echo "usage: $0 DAEMON_BINARY [TEST...]" >&2
	exit 2
}
daemon=$1
shift
case $daemon in /*) ;; *) daemon=$PWD/$daemon ;; esac
[ -x "$daemon" ] || {
	echo "run-all: $daemon is not an executable" >&2
	exit 2
}
export GPIO2MQTT="$daemon"
export G2M_UML_TIMEOUT="${G2M_UML_TIMEOUT:-300}"

if [ $# -eq 0 ]; then
	set -- "$here"/test-*.sh
fi

out=$(mktemp)
trap 'rm -f "$out" "$out.rc"' EXIT
passed=0
failed=0
summary=""
for t in "$@"; do
	[ -f "$t" ] || t=$here/$t
	name=$(basename "$t" .sh)
	echo "=== $name"
	mem=$(head -n 5 "$t" | sed -n 's/^# uml-mem: *\([0-9][0-9]*[MG]\).*/\1/p')
	{
		rc=0
		G2M_UML_MEM=${mem:-${G2M_UML_MEM:-256M}} "$here/../uml/run.sh" "$t" || rc=$?
		echo "$rc" >"$out.rc"
	} 2>&1 | tee "$out"
	rc=$(cat "$out.rc")
	# The script's own count; a crash or a timeout counts as one failure more.
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	p=$(echo "${line:-0 passed, 0 failed}" | cut -d' ' -f1)
	f=$(echo "${line:-0 passed, 0 failed}" | cut -d' ' -f3)
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name ended with status $rc${line:+ despite \"$line\"}"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	summary="$summary$(printf '%-16s %4d passed, %d failed' "$name" "$p" "$f")
"
done
echo "==="
printf '%s' "$summary"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
