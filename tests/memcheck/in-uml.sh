#!/bin/bash
# SPDX-License-Identifier: MIT
# Usage (inside the test kernel, see run.sh): in-uml.sh TEST_SCRIPT
#
# Runs an integration test with GPIO2MQTT pointing at wrap-daemon.sh, then
# adds results of its own: every daemon run must have left a clean checker
# report. The test's count line is followed by a new one that includes them.
here=$(dirname "$(readlink -f "$0")")
test=$1
name=$(basename "$test")
logs=${G2M_OUT:-$TMPDIR}/memcheck.${name%.sh}
out=$TMPDIR/memcheck.$name.out
mkdir -p "$logs" || exit 1

export G2M_MEMCHECK_LOGS=$logs G2M_MEMCHECK_DAEMON=$GPIO2MQTT
export GPIO2MQTT=$here/wrap-daemon.sh

bash "$test" | tee "$out"
status=${PIPESTATUS[0]}
count=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
passed=$(echo "${count:-0 passed, 0 failed}" | cut -d' ' -f1)
failed=$(echo "${count:-0 passed, 0 failed}" | cut -d' ' -f3)
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1

# result CONDITION DESCRIPTION: CONDITION is a shell test, e.g. "1 -eq 1".
result() {
	# shellcheck disable=SC2086
	if [ $1 ]; then
		passed=$((passed + 1))
		echo "ok $((passed + failed)) - $2"
	else
		failed=$((failed + 1))
		echo "not ok $((passed + failed)) - $2"
	fi
}

excerpt() { head -n 60 "$1" | sed 's/^/#   /'; }

runs=$(find "$logs" -name 'run.*' | wc -l)
result "$runs -gt 0" "$G2M_MEMCHECK: the test started the daemon ($runs runs)"

# A run killed before valgrind opened its log, or by SIGKILL (the tests' last
# resort), leaves no summary and counts as unchecked; every other one must
# report 0 errors (with --errors-for-leak-kinds, definite and indirect leaks
# are errors). At least one run must have been checked.
verdict_valgrind() {
	local clean=0 dirty=0 f
	for f in "$logs"/valgrind.*.log; do
		[ -e "$f" ] || continue
		if grep -q 'ERROR SUMMARY: 0 errors' "$f"; then
			clean=$((clean + 1))
		elif grep -q 'ERROR SUMMARY:' "$f"; then
			dirty=$((dirty + 1))
			echo "# valgrind found errors or leaks: $f"
			excerpt "$f"
		fi
	done
	local unchecked=$((runs - clean - dirty))
	result "$dirty -eq 0 -a $clean -gt 0" \
		"valgrind: $clean runs without errors or leaks, $dirty with, $unchecked killed"
}

# Sanitizers write a log only when they report something.
verdict_sanitizer() {
	local n=0 f
	for f in "$logs"/sanitizer.*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		echo "# sanitizer report: $f"
		excerpt "$f"
	done
	result "$n -eq 0" "sanitizers: $n reports from $runs runs"
}

verdict_"$G2M_MEMCHECK"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
