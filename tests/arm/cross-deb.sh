#!/bin/bash
# SPDX-License-Identifier: MIT
# Usage: tests/arm/cross-deb.sh SUITE ARCH OUTDIR   (make deb ARCH=... SUITE=...)
#
# The packages for Debian SUITE on ARCH (amd64, arm64, armhf), built in the
# cached SUITE chroot of tests/arm/make-build-root.sh: the tree's files (as
# `make dist` takes them) are copied there and tests/e2e/build-deb.sh runs
# in it, cross-building when ARCH is not this machine's; its unit tests run
# under qemu-user. Everything it makes (source package, .deb, .changes,
# .buildinfo) lands in OUTDIR, the build log as OUTDIR/build.log. Then,
# when lintian is installed here and LINTIAN is not 0, lintian --pedantic
# checks the .changes as `make deb` does. Prints the .deb's path.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

top=$(cd "$(dirname "$0")/../.." && pwd)
die() {
	echo "cross-deb: $*" >&2
	exit 1
}
[ $# -eq 3 ] || die "usage: $0 SUITE ARCH OUTDIR"
suite=$1 arch=$2
[ "$(id -u)" -eq 0 ] || die "run as root (the build chroot needs it)"
mkdir -p "$3"
out=$(cd "$3" && pwd)

# Tracked and new files of the tree, as a tar stream (as make-dist.sh).
tree_tar() {
	if [ -d "$top/.git" ] && command -v git >/dev/null; then
		git -C "$top" ls-files -z --cached --others --exclude-standard |
			(cd "$top" && tar -cf - --null --no-recursion --ignore-failed-read -T -)
	else
		(cd "$top" && tar -cf - --exclude=./build --exclude=./.git .)
	fi
}

chroot=$("$top/tests/arm/make-build-root.sh" "$suite") || die "no $suite build root"
exec 8>"$chroot.lock"
flock -w 1800 8 || die "the $suite build root stays busy"
job=$(mktemp -d "$chroot/build.XXXXXX")
cleanup() {
	mountpoint -q "$chroot/proc" && umount "$chroot/proc"
	rm -rf "$job"
}
trap cleanup EXIT
mkdir "$job/tree"
tree_tar | tar -C "$job/tree" -xf -
mount -t proc proc "$chroot/proc"
rm -f "$out"/gpio2mqtt*_*
echo "cross-deb: building for $suite $arch in $chroot (log: $out/build.log)" >&2
rc=0
timeout 1800 chroot "$chroot" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	LC_ALL=C.UTF-8 LINTIAN=0 DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-}" \
	"/${job#"$chroot"/}/tree/tests/e2e/build-deb.sh" "/${job#"$chroot"/}/out" "$arch" \
	>"$out/build.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || {
	tail -n 30 "$out/build.log" >&2
	die "the build failed (status $rc; log: $out/build.log)"
}
cp "$job"/out/gpio2mqtt*_* "$out/"
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
deb=$out/gpio2mqtt_${version}_$arch.deb
[ -f "$deb" ] || die "no $deb"
grep -E '^(unit tests|[0-9]+%: Checks)' "$out/build.log" >&2 || true
if [ "${LINTIAN:-1}" != 0 ] && command -v lintian >/dev/null; then
	echo "cross-deb: lintian --pedantic gpio2mqtt_${version}_$arch.changes" >&2
	timeout 600 lintian --pedantic --display-info --fail-on error,warning,info,pedantic \
		"$out/gpio2mqtt_${version}_$arch.changes" >&2 ||
		die "lintian found tags that no override explains"
fi
echo "cross-deb: built $deb" >&2
echo "$deb"
