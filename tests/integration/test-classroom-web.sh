#!/bin/bash
# SPDX-License-Identifier: MIT
# uml-mem: 1536M (headless Chromium runs inside the test kernel)
# The browser example (tests/classroom/web): a static page with the "mqtt"
# npm package's browser build, over the classroom broker's websockets
# listener, in headless Chromium driven by playwright-core, for this board
# (?board=, its host name). Clicking its button toggles the LED line through
# the board's own topic; the page shows the states it receives.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../classroom/lib.sh"

LED=3 BUTTON=4
WEB=$CLASSROOM/web
NPM_DIR=$("$WEB/prepare.sh" --path)
# Installed on the host by tests/classroom/web/prepare.sh (make deps): there
# is no network in here.
check "npm packages in $NPM_DIR" test -r "$NPM_DIR/node_modules/mqtt/dist/mqtt.min.js" \
	-a -d "$NPM_DIR/node_modules/playwright-core"
check "node and chromium" command -v node /usr/bin/chromium
classroom_rig
conf=$LOG_DIR/plain.conf
classroom_conf plain "$conf"
daemon_start "$conf"
check "daemon comes online" wait_msg "$msgs" "public/$BOARD/status online" 5
sim_pull "$CHIP" "$BUTTON" down
check "the pressed button is published" wait_msg "$msgs" "public/$BOARD/button ON" 3

# The page as a user would serve it: its files and the package's browser build.
site=$LOG_DIR/web
mkdir -p "$site"
cp "$WEB/index.html" "$WEB/app.js" "$NPM_DIR/node_modules/mqtt/dist/mqtt.min.js" "$site/"
out=$LOG_DIR/browser.out
dump_on_fail "$out"
: >"$msgs"
started=$(_now_us)
HOME=$TMPDIR timeout -k 5 240 node "$WEB/check-page.js" "$NPM_DIR/node_modules" \
	"file://$site/index.html?broker=ws://127.0.0.1:$WS_PORT&board=$BOARD" "$TMPDIR/chromium-profile" \
	>"$out" 2>&1
status=$?
diag "browser test took $((($(_now_us) - started) / 1000)) ms:" \
	"$(grep -E '^(browser started|connected|done) after ms' "$out" | tr '\n' ' ')"
check "browser: the page ran to the end" test "$status" = 0
check "browser: the page connected over websockets" grep -q '^connected after ms' "$out"
check "browser: the page shows the pressed button" grep -qx 'button: ON' "$out"
check "browser: the page showed the LED off" grep -qx 'led before: OFF' "$out"
check "browser: the toggle drove the line" sim_is "$CHIP" "$LED" 1
check "browser: the toggle reached the broker" wait_msg "$msgs" "public/$BOARD/led toggle" 3
check "browser: the page shows the LED on" grep -qx 'led after: ON' "$out"
check "daemon still running" alive "$DAEMON_PID"
finish
