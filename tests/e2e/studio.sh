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
SP=$BUILD/scorepoint
W=$T/ws
EX=deploy/examples
UI=tests/ui
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
SERVE_PID=

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
quiet() { "$@" >/dev/null 2>"$T/cli-err" || { echo "# $*: $(cat "$T/cli-err")"; return 1; }; }
sp() { quiet "$SP" "$@" --workspace "$W"; }
make_workspace() {
	for n in 1 3 4; do
		sp model create --path fixtures/model --name model-online-$n --version 1 --type mlflow_model || return 1
	done
	sp model create --path fixtures/pyfunc_model --name model-online-2 --version 1 --type mlflow_model || return 1
	for n in 1 2 3; do
		sp online-endpoint create -f $EX/endpoint_$n/cloud/endpoint.yml &&
			sp online-deployment create -f $EX/endpoint_$n/cloud/deployment.yml --all-traffic || return 1
	done
	sp online-endpoint create -f $EX/endpoint_4/cloud/endpoint.yml &&
		sp online-deployment create -f $EX/endpoint_4/cloud/deployment-blue.yml --all-traffic &&
		sp online-deployment create -f $EX/endpoint_4/cloud/deployment-green.yml
}
make_workspace && ok "the tutorial's four endpoints made with the CLI" ||
	{ not_ok "the tutorial's four endpoints made with the CLI"; exit 1; }

# ---- scorepoint serve on a free loopback port ----
mkdir -p "$T/tmp"
serve_up() {
	for _ in 1 2 3 4 5; do
		P=$(free_port)
		TMPDIR=$T/tmp "$SP" serve --workspace "$W" --host 127.0.0.1 --port "$P" \
			>"$T/serve.out" 2>"$T/serve.err" </dev/null &
		SERVE_PID=$!
		i=0
		while [ $i -lt 200 ] && kill -0 "$SERVE_PID" 2>/dev/null; do
			[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$P/health")" = 200 ] &&
				return 0
			sleep 0.1
			i=$((i + 1))
		done
		kill -0 "$SERVE_PID" 2>/dev/null && return 1
		grep -q "in use" "$T/serve.err" || return 1
	done
	return 1
}
if serve_up; then ok "scorepoint serve answers on 127.0.0.1:$P"; else
	not_ok "scorepoint serve answers on 127.0.0.1:$P" "$(cat "$T/serve.err")"
	exit 1
fi

# ---- the page, in chromium ----
OUT=$BUILD/studio
rm -rf "$OUT"
mkdir -p "$OUT"
# (timeout: a browser that hangs fails the test, it does not stall it)
TMPDIR=$T/tmp STUDIO_URL=http://127.0.0.1:$P STUDIO_SP=$SP STUDIO_WS=$W STUDIO_OUT=$OUT CHROMIUM=$CHROMIUM \
	timeout -k 5 300 node $UI/studio.test.js >"$T/node.out" 2>"$T/node.err"
rc=$?
cat "$T/node.out"
if [ $rc != 0 ] || grep -q '^not ok' "$T/node.out"; then
	not_ok "the page's checks ran to their end (node exited $rc)" "$(tail -n 20 "$T/node.err")"
else
	ok "the page's checks ran to their end; screenshots in $OUT"
fi

# ---- stopped, and nothing left ----
stop_pid "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
SERVE_PID=
i=0
while [ $i -lt 50 ] && [ -n "$(left)" ]; do sleep 0.1; i=$((i + 1)); done
[ -z "$(left)" ] && ok "serve stopped: no lighttpd, score.fcgi or chromium of this test is left" ||
	not_ok "no process of this test is left" "$(pgrep -af "$T/")"
