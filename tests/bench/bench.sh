#!/bin/sh
# Usage: tests/bench/bench.sh DAEMON BIN_DIR OUT_DIR quick|full
#
# Runs the benchmark in one boot of the test kernel (run-bench.sh), then
# writes OUT_DIR/results.md (printed too) and OUT_DIR/latency-cdf.png.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 4 ] || { echo "usage: $0 DAEMON BIN_DIR OUT_DIR quick|full" >&2; exit 2; }
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
mkdir -p "$3"
# A copy: a rebuild during the run must not change the contestant.
cp "$1" "$2/gpio2mqtt"
GPIO2MQTT=$(abs "$2/gpio2mqtt") G2M_BENCH_BIN=$(abs "$2") G2M_BENCH_OUT=$(cd "$3" && pwd)
export GPIO2MQTT G2M_BENCH_BIN G2M_BENCH_OUT
if [ "$4" = quick ]; then export G2M_BENCH_QUICK=1; else export G2M_BENCH_QUICK=0; fi
# The fleets take about 160 MB (100 daemons and 100 echo clients at once).
export G2M_UML_MEM="${G2M_UML_MEM:-768M}" G2M_UML_TIMEOUT="${G2M_UML_TIMEOUT:-5400}"
# Figures from one known mode of the test kernel (see tests/uml/run.sh); a
# host that cannot trap with seccomp needs G2M_UML_SECCOMP=off.
export G2M_UML_SECCOMP="${G2M_UML_SECCOMP:-on}"
rm -f "$G2M_BENCH_OUT"/*.txt "$G2M_BENCH_OUT"/results.md "$G2M_BENCH_OUT"/*.png

"$here/../uml/run.sh" "$here/run-bench.sh"
# The same costs outside the test kernel, for scale.
"$2/drive" -n 1000 rig | sed 's/^/host /' >>"$G2M_BENCH_OUT/results.txt"
"$2/pulses" -p 1 -n 200 -w 50 timers | sed 's/^/host /' >>"$G2M_BENCH_OUT/results.txt"
"$here/report.sh" "$G2M_BENCH_OUT" >"$G2M_BENCH_OUT/results.md"
cat "$G2M_BENCH_OUT/results.md"
gnuplot -e "out='$G2M_BENCH_OUT'" "$here/cdf.gp"
echo "bench: $G2M_BENCH_OUT/results.md, $G2M_BENCH_OUT/latency-cdf.png"
