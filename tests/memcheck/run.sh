#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/memcheck/run.sh valgrind|sanitizer DAEMON_BINARY [TEST...]
#
# Runs integration tests (all, or the named tests/integration/test-*.sh)
# through tests/integration/run-all.sh with every daemon they start wrapped:
#   valgrind   under valgrind memcheck (full leak check)
#   sanitizer  a binary built with sanitizers, their reports sent to files
# Each test also fails when a checker reported anything (see in-uml.sh).
# Checker logs are kept with the test's logs when it fails.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || {
	echo "usage: $0 valgrind|sanitizer DAEMON_BINARY [TEST...]" >&2
	exit 2
}
mode=$1 daemon=$2
shift 2
case $mode in valgrind | sanitizer) ;; *)
	echo "$0: unknown mode '$mode'" >&2
	exit 2
	;;
esac
# By default every test that starts the daemon.
# shellcheck disable=SC2046,SC2016
[ $# -gt 0 ] || set -- $(grep -l -e daemon_start -e '"$GPIO2MQTT"' "$here"/../integration/test-*.sh)

# run-all.sh boots one kernel per test script; each script here, named like
# the test it stands for, runs that test through in-uml.sh (the host's /tmp is
# visible inside the test kernel). A memory size the test asks for is kept.
links=$(mktemp -d /tmp/gpio2mqtt-memcheck.XXXXXX)
trap 'rm -rf "$links"' EXIT
tests=""
for t in "$@"; do
	case $t in */*) ;; *) t=$here/../integration/$t ;; esac
	[ -r "$t" ] || {
		echo "$0: no test $t" >&2
		exit 2
	}
	t=$(readlink -f "$t")
	link=$links/$(basename "$t")
	{
		echo '#!/bin/sh'
		head -n 5 "$t" | grep '^# uml-mem:' || true
		printf 'exec %s %s\n' "$here/in-uml.sh" "$t"
	} >"$link"
	chmod +x "$link"
	tests="$tests $link"
done

export G2M_MEMCHECK="$mode"
# valgrind makes the daemon start about 20 times slower (6 s instead of 0.3 s
# inside the test kernel): stretch the tests' waits and give it memory.
if [ "$mode" = valgrind ]; then
	export G2M_WAIT_SCALE="${G2M_WAIT_SCALE:-4}"
	export G2M_UML_MEM="${G2M_UML_MEM:-512M}"
	export G2M_UML_TIMEOUT="${G2M_UML_TIMEOUT:-900}"
fi
# shellcheck disable=SC2086
"$here/../integration/run-all.sh" "$daemon" $tests
