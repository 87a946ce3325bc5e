#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs Debian's rabbitmq-server (and erlang) for tests/integration/
# test-rabbitmq.sh, which runs the broker inside the test kernel with a
# configuration of its own. The host only needs the files: the package must
# not start a rabbitmq-server or an epmd here, so a policy-rc.d that denies
# every service start is in place during the install, and any beam or epmd
# process that appears anyway is stopped. Quiet when everything is present.
set -eu

PACKAGES="rabbitmq-server mosquitto-clients python3-paho-mqtt"
POLICY=/usr/sbin/policy-rc.d

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null; then
	echo "rabbitmq: this is not Debian; install these packages by hand:$missing" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "rabbitmq: missing packages:$missing (run as root)" >&2
	exit 1
fi

# PIDs of the Erlang VM and of epmd, one per line.
erlang_pids() {
	for c in beam.smp epmd; do pgrep -x "$c" || true; done | sort
}

# A policy-rc.d already there (a container's, say) is put back afterwards.
saved=""
if [ -e "$POLICY" ] || [ -L "$POLICY" ]; then
	saved=$(mktemp "$POLICY.saved.XXXXXX")
	cp -a "$POLICY" "$saved"
fi
before=$(mktemp)
restore() {
	if [ -n "$saved" ]; then
		mv -f "$saved" "$POLICY"
	else
		rm -f "$POLICY"
	fi
	rm -f "$before"
}
trap restore EXIT
trap 'exit 130' INT TERM
erlang_pids >"$before"
rm -f "$POLICY"
printf '#!/bin/sh\n# No service starts while the test dependencies are installed.\nexit 101\n' \
	>"$POLICY"
chmod 755 "$POLICY"

echo "rabbitmq: installing$missing" >&2
apt-get update >&2
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2

# Whatever Erlang process the install left behind (rabbitmq's or an epmd
# started by a maintainer script) is stopped, by its PID.
stray=$(erlang_pids | comm -13 "$before" -)
if [ -n "$stray" ]; then
	echo "rabbitmq: stopping what the install started: $(echo "$stray" | tr '\n' ' ')" >&2
	# shellcheck disable=SC2086
	kill -TERM $stray 2>/dev/null || true
	i=0
	while [ $i -lt 50 ] && erlang_pids | comm -13 "$before" - | grep -q .; do
		sleep 0.1
		i=$((i + 1))
	done
	stray=$(erlang_pids | comm -13 "$before" -)
	# shellcheck disable=SC2086
	[ -z "$stray" ] || kill -KILL $stray 2>/dev/null || true
fi
