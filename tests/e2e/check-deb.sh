#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/e2e/check-deb.sh DEB
#
# What the package must ship, read from DEB with dpkg-deb: the daemon, both
# man pages, the mapping as a conffile, the unit, udev rule and sysusers
# file exactly as systemd/ has them, README, every mappings/*.conf as an
# example, the copyright file, and maintainer scripts that create the user
# and enable and start the service. Prints "ok"/"missing" per item; fails
# when anything is missing.
# shellcheck disable=SC2317 # has and same are called through item
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
	echo "usage: $0 DEB" >&2
	exit 2
fi
deb=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! dpkg-deb -x "$deb" "$tmp/root" || ! dpkg-deb -e "$deb" "$tmp/control"; then
	exit 1
fi
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$tmp/list"

failed=0
# item DESC CHECK...: one line of the report.
item() {
	desc=$1
	shift
	if "$@"; then
		echo "ok: $desc"
	else
		echo "missing: $desc"
		failed=1
	fi
}
# has REGEX: a path in the package matches (anchored).
has() { grep -qE "^$1\$" "$tmp/list"; }
# same PATH-REGEX FILE: the packaged file is FILE, byte for byte.
same() {
	path=$(grep -E "^$1\$" "$tmp/list" | head -n 1)
	[ -n "$path" ] && cmp -s "$tmp/root$path" "$2"
}

item "/usr/sbin/gpio2mqtt, executable" test -x "$tmp/root/usr/sbin/gpio2mqtt"
item "man page gpio2mqtt(8)" has /usr/share/man/man8/gpio2mqtt\\.8\\.gz
item "man page gpio2mqtt.conf(5)" has /usr/share/man/man5/gpio2mqtt\\.conf\\.5\\.gz
item "/etc/gpio2mqtt/gpio2mqtt.conf, a conffile" \
	grep -qx /etc/gpio2mqtt/gpio2mqtt.conf "$tmp/control/conffiles"
item "the unit, systemd/gpio2mqtt.service" \
	same '(/usr)?/lib/systemd/system/gpio2mqtt\.service' "$top/systemd/gpio2mqtt.service"
item "the udev rule 60-gpio2mqtt.rules, systemd/gpio2mqtt.rules" \
	same '(/usr)?/lib/udev/rules\.d/60-gpio2mqtt\.rules' "$top/systemd/gpio2mqtt.rules"
item "/usr/lib/sysusers.d/gpio2mqtt.conf, systemd/gpio2mqtt.sysusers" \
	same /usr/lib/sysusers\\.d/gpio2mqtt\\.conf "$top/systemd/gpio2mqtt.sysusers"
item "/usr/share/doc/gpio2mqtt/copyright" has /usr/share/doc/gpio2mqtt/copyright
item "/usr/share/doc/gpio2mqtt/README.md" has '/usr/share/doc/gpio2mqtt/README\.md(\.gz)?'
for conf in "$top"/mappings/*.conf; do
	name=$(basename "$conf")
	item "example $name" has "/usr/share/doc/gpio2mqtt/examples/${name%.conf}\\.conf(\\.gz)?"
done
item "postinst creates the user (dh_installsysusers' systemd-sysusers)" \
	grep -q 'systemd-sysusers .*DPKG_ROOT.* gpio2mqtt\.conf' "$tmp/control/postinst"
item "postinst enables the service" \
	grep -q 'deb-systemd-helper .*enable .*gpio2mqtt\.service' "$tmp/control/postinst"
item "postinst starts the service" \
	grep -q 'deb-systemd-invoke .*gpio2mqtt\.service' "$tmp/control/postinst"
exit $failed
