#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/fuzz/run.sh NAME BINARY SECONDS
#
# Replays tests/fuzz/regressions/NAME, then fuzzes for SECONDS starting from a
# temporary copy of tests/fuzz/corpus/NAME (new inputs stay out of the
# repository). Exits non-zero on any crash, leak, timeout or sanitizer report;
# the offending input is kept under build/fuzz/artifacts/.
set -eu

[ $# -eq 3 ] || {
	echo "usage: $0 NAME BINARY SECONDS" >&2
	exit 2
}
name=$1 bin=$2 seconds=$3
here=$(cd "$(dirname "$0")" && pwd)
artifacts=build/fuzz/artifacts
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/gpio2mqtt-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$here/corpus/$name" "$work/corpus"

# Every failure ends the process with an error report: never hide it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}"
common="-timeout=5 -rss_limit_mb=512 -detect_leaks=1 -artifact_prefix=$artifacts/$name-"
dict=""
[ -r "$here/$name.dict" ] && dict="-dict=$here/$name.dict"

regressions=$(find "$here/regressions/$name" -type f 2>/dev/null | sort)
if [ -n "$regressions" ]; then
	echo "fuzz $name: replaying $(echo "$regressions" | wc -l) regression inputs"
	# shellcheck disable=SC2086
	"$bin" $common $regressions </dev/null >"$work/replay.log" 2>&1 || {
		cat "$work/replay.log" >&2
		echo "fuzz $name: a regression input fails again" >&2
		exit 1
	}
fi

echo "fuzz $name: ${seconds}s from $(find "$work/corpus" -type f | wc -l) seed inputs"
start=$(date +%s)
# Standard input is /dev/null: a mapping that names /dev/stdin must not block.
# shellcheck disable=SC2086
if ! "$bin" $common $dict -max_total_time="$seconds" -print_final_stats=1 \
	"$work/corpus" </dev/null >"$work/fuzz.log" 2>&1; then
	cat "$work/fuzz.log" >&2
	echo "fuzz $name: FAILED; input saved as $artifacts/$name-*" >&2
	exit 1
fi
grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov: ' "$work/fuzz.log" | tail -n 3
grep -A1 'disabled leak detection' "$work/fuzz.log" || true
echo "fuzz $name: passed in $(($(date +%s) - start))s, corpus grew to $(find "$work/corpus" -type f | wc -l) inputs"
