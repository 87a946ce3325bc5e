#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: tests/e2e/make-dist.sh OUTDIR          (make dist: OUTDIR is build)
#
# The upstream tarball, OUTDIR/gpio2mqtt-VERSION.tar.gz (VERSION from the
# Makefile), with everything under gpio2mqtt-VERSION/; prints its path. In a
# git checkout: the files git tracks or would add (what .gitignore names,
# the build outputs, stays out); elsewhere every file but build/. debian/
# is left out: the Debian package adds it. Owners, modes, order and times
# are fixed (times to the last commit's, or SOURCE_DATE_EPOCH), so the same
# files give the same bytes.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -eq 1 ] || {
	echo "usage: $0 OUTDIR" >&2
	exit 2
}
mkdir -p "$1"
out=$(cd "$1" && pwd)
version=$(sed -n 's/^VERSION *= *//p' "$top/Makefile")
[ -n "$version" ] || {
	echo "make-dist: no VERSION in $top/Makefile" >&2
	exit 1
}
name=gpio2mqtt-$version

stage=$(mktemp -d "$out/.dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"

cd "$top"
if [ -d .git ] && command -v git >/dev/null; then
	epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || true)}
	list_files() {
		# Files deleted but not yet committed are listed too: skip them.
		git ls-files -z --cached --others --exclude-standard |
			tr '\0' '\n' | grep -v -e '^debian/' -e '^build/' |
			while IFS= read -r f; do
				if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
			done
	}
else
	epoch=${SOURCE_DATE_EPOCH:-}
	list_files() {
		find . \( -path ./build -o -path ./debian -o -path ./.git \) -prune -o \
			\( -type f -o -type l \) -printf '%P\0'
	}
fi
list_files | tar -cf - --null --no-recursion -T - | tar -C "$stage/$name" -xf -

[ -n "$epoch" ] || epoch=$(find "$stage/$name" -type f -printf '%T@\n' | sort -n |
	tail -n 1 | cut -d. -f1)
tarball=$out/$name.tar.gz
tar -C "$stage" --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
	--mode=a+rX,u+w,go-w --mtime="@$epoch" -cf - "$name" | gzip -9n >"$tarball.tmp"
mv "$tarball.tmp" "$tarball"
echo "$tarball"
