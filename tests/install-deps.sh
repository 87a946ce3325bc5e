#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs, through apt, what building and testing gpio2mqtt needs and is not
# on this machine yet, and the packages named as arguments. Quiet when
# everything is present.
set -eu

PACKAGES="build-essential pkg-config libmosquitto-dev libgpiod-dev gpiod
 libconfig-dev libcjson-dev libssl-dev check mosquitto mosquitto-clients
 iproute2 flex bison bc xz-utils $*"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null; then
	echo "install-deps: this is not Debian; install these packages by hand:$missing" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
apt-get update >&2
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2
