#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/uml/run.sh SCRIPT [ARGS...]
#
# Boots the test kernel (User-Mode Linux with gpio-sim, see build-kernel.sh) on
# the host's root file system, read-only, and runs SCRIPT with ARGS inside it as
# root, in the current directory. The script's output goes to this terminal and
# its exit status becomes ours.
#
# Inside, G2M_OUT names a directory writable from both sides (kept on the host
# when the script fails, for its logs), TMPDIR a scratch tmpfs, and variables
# named GPIO2MQTT* or G2M_* are passed through from this environment.
#
#   G2M_UML_TIMEOUT  seconds before the instance is killed (default 600)
#   G2M_UML_MEM      memory of the instance (default 256M)
#   G2M_UML_SECCOMP  how the kernel traps its processes' system calls: auto
#                    (default: seccomp where the host allows, else ptrace),
#                    on (seccomp or fail) or off (ptrace)
#   G2M_UML_CPU      host CPU the instance runs on (see pin.sh): auto
#                    (default), a CPU number, or off
#   G2M_KEEP=1       keep the shared directory even on success
set -eu

here=$(cd "$(dirname "$0")" && pwd)
timeout_s=${G2M_UML_TIMEOUT:-600}
mem=${G2M_UML_MEM:-256M}
# Since Linux 6.16 UML can trap its processes' system calls with seccomp
# instead of ptrace: system calls cost about a third less and page faults half
# (measured by "make bench"), which brings timings nearer a board's and
# shortens the test run by a quarter. auto falls back to ptrace on a host
# that cannot.
seccomp=${G2M_UML_SECCOMP:-auto}

die() {
	echo "run.sh: $*" >&2
	exit 125
}

# Single-quotes $1 for sh.
quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# Writes the job that init.sh runs: directory, environment, command.
write_job() {
	{
		printf 'cd %s || exit 125\n' "$(quote "$PWD")"
		printf 'export G2M_SHARED=%s G2M_OUT=%s\n' "$(quote "$shared")" "$(quote "$shared/out")"
		env | sed -n 's/^\(\(GPIO2MQTT\|G2M_\)[A-Za-z0-9_]*\)=.*/\1/p' |
			grep -v -e '^G2M_SHARED$' -e '^G2M_OUT$' | while read -r name; do
				eval "value=\${$name}"
				printf 'export %s=%s\n' "$name" "$(quote "$value")"
			done
		printf 'exec'
		[ -x "$script" ] || printf ' sh'
		for arg in "$script" "$@"; do
			printf ' %s' "$(quote "$arg")"
		done
		printf '\n'
	} >"$shared/job.sh"
}

[ $# -ge 1 ] || die "usage: $0 SCRIPT [ARGS...]"
script=$1
shift
case $script in /*) ;; *) script=$PWD/$script ;; esac
[ -r "$script" ] || die "cannot read $script"
# The kernel command line cannot carry spaces.
case "$here$PWD" in *[[:space:]]*) die "paths with spaces are not supported: $here" ;; esac

kernel=$("$here/build-kernel.sh") || die "no kernel"
# Under /tmp on purpose: the instance mounts its own /run and /dev/shm.
shared=$(mktemp -d /tmp/gpio2mqtt-uml.XXXXXX)
mkdir "$shared/out" "$shared/uml"
write_job "$@"

# timeout(1) kills the whole process group of the instance (UML forks helper
# processes); on an interrupt we ask it to stop the instance the same way.
(
	"$here/pin.sh" timeout -k 10 "$timeout_s" "$kernel" mem="$mem" root=/dev/root rootfstype=hostfs \
		rootflags=/ ro init="$here/init.sh" G2M_SHARED="$shared" seccomp="$seccomp" \
		uml_dir="$shared/uml" con0=fd:0,fd:1 con=null quiet </dev/null &
	echo $! >"$shared/timeout.pid"
	rc=0
	wait $! || rc=$?
	echo "$rc" >"$shared/uml-rc"
) | sed -u -e 's/\r$//' -e '/^Failed to initialize ubd device/d' &
pipe=$!
interrupted=0
trap 'interrupted=1; kill -TERM "$(cat "$shared/timeout.pid")" 2>/dev/null || true' INT TERM
wait $pipe || true
# A trapped signal ends the first wait early; the instance stops within seconds.
[ "$interrupted" = 0 ] || wait $pipe || true
trap - INT TERM
[ "$interrupted" = 0 ] || { echo "run.sh: interrupted; logs in $shared/out" >&2; exit 130; }

if [ -r "$shared/status" ]; then
	status=$(cat "$shared/status")
else
	uml_rc=$(cat "$shared/uml-rc" 2>/dev/null || echo '?')
	if [ "$uml_rc" = 124 ] || [ "$uml_rc" = 137 ]; then
		echo "run.sh: killed the test kernel after ${timeout_s}s" >&2
	else
		echo "run.sh: the test kernel ended without a result (exit $uml_rc)" >&2
	fi
	status=124
fi
if [ "$status" -eq 0 ] && [ "${G2M_KEEP:-0}" != 1 ]; then
	rm -rf "$shared"
else
	echo "run.sh: logs kept in $shared/out" >&2
fi
exit "$status"
