# The Studio page (/_ui/, docs/studio.md) in a real browser: Debian's
# chromium, headless, driven by playwright-core, with axe-core's
# accessibility rules (both pinned by tests/ui/package-lock.json and
# installed by `make deps` into tests/ui/node_modules).  This script makes
# the tutorial's four endpoints as tools/run_demo.sh does, serves them with
# `scorepoint serve` on a free loopback port, and runs tests/ui/studio.test.js,
# which prints the TAP lines of the page's checks and writes a screenshot of
# each tab into $BUILD/studio/.  Then the server is stopped and no process of
# this test (lighttpd, score.fcgi, chromium) may be left.
. tests/e2e/lib.sh
. tests/e2e/lib_ws.sh
UI=tests/ui
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# left: this test's processes still running (every one names $T: the
# workspace, serve's private folder, chromium's profile).
left() { pgrep -f "$T/" | grep -vx "$$"; }
cleanup() {
	stop_pid "$SERVE_PID"
	for pid in $(left); do kill -KILL "$pid" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

# ---- what the browser test needs: no silent pass without it ----
if ! command -v node >/dev/null; then
	not_ok "node is installed (apt-get install nodejs npm)"
	exit 1
fi
if [ ! -x "$CHROMIUM" ]; then
	not_ok "chromium is installed at $CHROMIUM (apt-get install chromium; make deps)"
	exit 1
fi
if [ ! -f "$UI/node_modules/playwright-core/package.json" ] || [ ! -f "$UI/node_modules/axe-core/axe.min.js" ]; then
	not_ok "tests/ui/node_modules holds playwright-core and axe-core (make deps, or: sh tools/npm_deps.sh tests/ui)"
	exit 1
fi
if ! cmp -s "$UI/package-lock.json" "$UI/node_modules/.scorepoint-lock"; then
	not_ok "tests/ui/node_modules was installed from tests/ui/package-lock.json as it is (make deps)"
	exit 1
fi

# ---- the tutorial's four endpoints, as tools/run_demo.sh makes them ----
make_tutorial_endpoints && ok "the tutorial's four endpoints made with the CLI" ||
	{ not_ok "the tutorial's four endpoints made with the CLI"; exit 1; }

# ---- scorepoint serve on a free loopback port ----
if serve_start; then ok "scorepoint serve answers on 127.0.0.1:$PORT"; else
	not_ok "scorepoint serve answers on 127.0.0.1:$PORT" "$(cat "$T/serve.err")"
	exit 1
fi

# ---- the page, in chromium ----
OUT=$BUILD/studio
rm -rf "$OUT"
mkdir -p "$OUT"
# (timeout: a browser that hangs fails the test, it does not stall it)
mkdir -p "$T/tmp"
TMPDIR=$T/tmp STUDIO_URL=http://127.0.0.1:$PORT STUDIO_SP=$SP STUDIO_WS=$W STUDIO_OUT=$OUT CHROMIUM=$CHROMIUM \
	timeout -k 5 300 node $UI/studio.test.js >"$T/node.out" 2>"$T/node.err"
rc=$?
cat "$T/node.out"
if [ $rc != 0 ] || grep -q '^not ok' "$T/node.out"; then
	not_ok "the page's checks ran to their end (node exited $rc)" "$(tail -n 20 "$T/node.err")"
else
	ok "the page's checks ran to their end; screenshots in $OUT"
fi

# ---- stopped, and nothing left ----
serve_stop
i=0
while [ $i -lt 50 ] && [ -n "$(left)" ]; do sleep 0.1; i=$((i + 1)); done
[ -z "$(left)" ] && ok "serve stopped: no lighttpd, score.fcgi or chromium of this test is left" ||
	not_ok "no process of this test is left" "$(pgrep -af "$T/")"
