#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what the classroom tests need besides tests/install-deps.sh:
# openssl (throw-away certificates), Debian's paho-mqtt for the Python
# example, chromium, node and npm for the browser example, and then the
# browser example's npm packages (tests/classroom/web/prepare.sh).
# Quiet when everything is present.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
PACKAGES="openssl python3-paho-mqtt chromium"
# node and npm may come from elsewhere; Debian's packages when they are missing.
command -v node >/dev/null || PACKAGES="$PACKAGES nodejs"
command -v npm >/dev/null || PACKAGES="$PACKAGES npm"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		echo "classroom: missing packages:$missing (run as root on Debian)" >&2
		exit 1
	fi
	echo "classroom: installing$missing" >&2
	apt-get update >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2
fi
"$here/web/prepare.sh" >/dev/null
