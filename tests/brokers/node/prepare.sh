#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/brokers/node/prepare.sh [--path]
#
# Installs the node brokers' and clients' npm packages (package-lock.json:
# aedes, ws, paho-mqtt) into a cache directory outside the repository, named
# after a hash of package.json and package-lock.json, and prints that
# directory. With --path it only prints the name (the test, inside the
# read-only test kernel without network, looks there).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${G2M_CACHE:-/var/cache/gpio2mqtt-tests}
hash=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
dir=$cache/brokers-npm-$hash

if [ "${1:-}" = --path ]; then
	echo "$dir"
	exit 0
fi
if [ -d "$dir/node_modules/aedes" ] && [ -d "$dir/node_modules/ws" ] &&
	[ -d "$dir/node_modules/paho-mqtt" ]; then
	echo "$dir"
	exit 0
fi
command -v npm >/dev/null || {
	echo "prepare: npm is missing (apt-get install nodejs npm)" >&2
	exit 1
}
mkdir -p "$cache"
# Installed beside the final place and moved there whole: an interrupted
# install never looks complete.
tmp=$(mktemp -d "$cache/brokers-npm-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$tmp/"
echo "prepare: npm ci into $dir" >&2
(cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error >&2)
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "$dir"
