# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# Sourced by the test scripts that fetch packages from Debian's archive. apt
# runs with a sources list, package lists and a download cache of its own
# under $APT_DIR, so the machine's apt configuration is neither needed nor
# changed. Set APT_DIR, SUITE, MIRROR and APT_TIMEOUT, and define die, before
# sourcing.

APT_OPTS="-q -o Acquire::Retries=2 -o Acquire::http::Timeout=30
 -o Dir::Etc::SourceList=$APT_DIR/sources.list -o Dir::Etc::SourceParts=-
 -o Dir::State::Lists=$APT_DIR/lists -o Dir::Cache=$APT_DIR/cache
 -o Debug::NoLocking=1 -o APT::Sandbox::User=root"

# archive_field PACKAGE FIELD: the field of PACKAGE in $SUITE's list as last
# read, empty when apt does not know the package.
archive_field() {
	# shellcheck disable=SC2086
	apt-cache $APT_OPTS show "$1/$SUITE" 2>/dev/null | sed -n "s/^$2: //p" | head -n 1
}

# archive_run LOG COMMAND...: runs COMMAND within APT_TIMEOUT seconds, its
# output kept in LOG and shown only when it fails.
archive_run() {
	_log=$1
	shift
	if ! timeout "$APT_TIMEOUT" "$@" >"$_log" 2>&1; then
		cat "$_log" >&2
		die "failed (or timed out after ${APT_TIMEOUT}s): $*"
	fi
}

# archive_refresh LOG: reads the package list of $SUITE from $MIRROR.
archive_refresh() {
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" ||
		die "cannot create $APT_DIR"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" \
		>"$APT_DIR/sources.list"
	# shellcheck disable=SC2086
	archive_run "$1" apt-get $APT_OPTS update
}

# archive_download LOG DIR PACKAGE...: downloads the packages of $SUITE into DIR.
archive_download() {
	_log=$1 _dir=$2
	shift 2
	# shellcheck disable=SC2086
	(cd "$_dir" && archive_run "$_log" apt-get $APT_OPTS download "$@")
}
