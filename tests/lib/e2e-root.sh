# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2154 # $top: the caller's
# Sourced by tests/e2e/run.sh and tests/arm/run.sh: what both do to a
# Debian root before booting it to run the package's end-to-end test
# (tests/e2e/inside.sh) as a boot-time unit, and to the package under test.
# Needs bash; $top is the source tree (set by the caller).

# Package names of a Depends-like field: first alternatives, no versions.
package_names() {
	tr ',' '\n' | sed 's/|.*//; s/([^)]*)//g; s/<[^>]*>//g; s/:any//; s/[[:space:]]//g' |
		sed '/^$/d'
}

# upgrade_deb DEB OUT: DEB again as a newer version whose default mapping
# changed, so that upgrading has a conffile to ask about.
upgrade_deb() {
	local dir version rc
	dir=$(mktemp -d) || return 1
	dpkg-deb -R "$1" "$dir" || return 1
	version=$(dpkg-deb -f "$1" Version)
	sed -i "s/^Version: .*/Version: $version+e2e1/" "$dir/DEBIAN/control"
	echo "# changed by the upgrade test" >>"$dir/etc/gpio2mqtt/gpio2mqtt.conf"
	dpkg-deb --root-owner-group -b "$dir" "$2" >/dev/null
	rc=$?
	rm -rf "$dir"
	return $rc
}

# e2e_prepare_root ROOT ENTRY DEB DEB_UPGRADE SUITE: puts in ROOT's /e2e the
# test (tests/e2e/inside.sh as e2e-inside.sh, tests/uml/lib.sh, the
# package's debian/tests), the packages, their env file, and ENTRY as
# inside.sh; installs the unit g2m-e2e.service that runs /e2e/inside.sh
# once booted, keeps its lines in /e2e/out (tap.log, journal.txt, status)
# and powers off; masks what would compete with it for a slow CPU.
e2e_prepare_root() {
	local root=$1 entry=$2 deb=$3 upgrade=$4 suite=$5 u
	mkdir -p "$root/e2e/out" "$root/e2e/src/debian"
	cp "$top/tests/uml/lib.sh" "$deb" "$upgrade" "$root/e2e/"
	cp "$top/tests/e2e/inside.sh" "$root/e2e/e2e-inside.sh"
	cp "$entry" "$root/e2e/inside.sh"
	cp -r "$top/debian/tests" "$root/e2e/src/debian/"
	cat >"$root/e2e/env" <<-EOF
		SUITE=$suite
		DEB=$(basename "$deb")
		DEB_UPGRADE=$(basename "$upgrade")
		GPIOD_MAJOR=$([ "$suite" = bookworm ] && echo 1 || echo 2)
	EOF
	cat >"$root/etc/systemd/system/g2m-e2e.service" <<-'EOF'
		[Unit]
		Description=gpio2mqtt end-to-end test
		After=multi-user.target

		[Service]
		Type=oneshot
		ExecStart=/bin/bash -c 'set -o pipefail; /bin/bash /e2e/inside.sh 2>&1 | tee /e2e/out/tap.log'
		StandardOutput=tty
		StandardError=tty
		TTYPath=/dev/console
		TimeoutStartSec=1500
		ExecStopPost=/bin/sh -c 'journalctl -b --no-pager >/e2e/out/journal.txt 2>&1'
		ExecStopPost=/bin/sh -c 'echo "$EXIT_STATUS" >/e2e/out/status; sync'
		ExecStopPost=/bin/systemctl --no-block poweroff

		[Install]
		WantedBy=multi-user.target
	EOF
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants" \
		"$root/etc/systemd/journald.conf.d"
	ln -sf /etc/systemd/system/g2m-e2e.service \
		"$root/etc/systemd/system/multi-user.target.wants/g2m-e2e.service"
	# Nobody logs in, and nothing but the test should use the slow CPU.
	for u in getty@.service serial-getty@.service console-getty.service \
		apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer man-db.timer \
		e2scrub_all.timer fstrim.timer; do
		ln -sf /dev/null "$root/etc/systemd/system/$u"
	done
	printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/e2e.conf"
}
