# `scorepoint serve`, the lighttpd files of deploy/lighttpd and `make run`,
# end to end: each server binds 127.0.0.1 on a free ephemeral port, answers
# the tutorial's request with torch's logits, and is stopped by this test,
# which then checks that none of its processes is left.
. tests/e2e/lib.sh
SP=$BUILD/scorepoint
W=$T/ws
REQ=fixtures/test_data/images_azureml.json
WANT=fixtures/expected/images_logits.json
mkdir -p "$T/tmp" "$T/tmp2" "$T/www"

SERVE_PID= HTTPD_PID= RUN_PGID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill -KILL "$SERVE_PID" 2>/dev/null
	[ -n "$HTTPD_PID" ] && kill -KILL "$HTTPD_PID" 2>/dev/null
	[ -n "$RUN_PGID" ] && kill -KILL "-$RUN_PGID" 2>/dev/null
	pkill -KILL -f "$T/" 2>/dev/null
	rm -rf "$T"
}
# A signal (a closed pipe too) ends the test, and the exit cleans up.
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

quiet() { "$@" >/dev/null 2>"$T/cli-err" || { echo "# $*: $(cat "$T/cli-err")"; return 1; }; }

# running PID: PID is alive (not gone, not a zombie).
running() { ps -o stat= -p "$1" | grep -qv '^Z'; }

# up PORT SECONDS PID: GET /health answers 200 within SECONDS, while PID
# (the server) runs.
up() {
	i=0
	while [ $i -lt $(($2 * 10)) ] && running "$3"; do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/health")" = 200 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# spawn SECONDS LOG CMD...: pick a free PORT and run CMD (a function that
# reads $PORT and execs the server, so that SPAWNED is the server's pid) in
# the background until GET /health answers there within SECONDS; should
# another program take the port meanwhile ("in use" in LOG), again on
# another.  0, or 1 when the server did not come up.
spawn() {
	secs=$1 log=$2
	shift 2
	for _ in 1 2 3 4 5; do
		PORT=$(free_port) || return 1
		"$@" &
		SPAWNED=$!
		up "$PORT" "$secs" "$SPAWNED" && return 0
		running "$SPAWNED" && return 1
		wait "$SPAWNED"
		grep -q "in use" "$log" || return 1
	done
	return 1
}

# finish PID SECONDS: wait up to SECONDS for our child PID to exit (it is a
# zombie until reaped), then reap it: FIN_RC is its exit status ("timeout"
# when it had to be killed), FIN_MS the milliseconds it took.
finish() {
	t0=$(date +%s%N)
	i=0
	while [ $i -lt $(($2 * 20)) ] && running "$1"; do
		sleep 0.05
		i=$((i + 1))
	done
	FIN_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
	if running "$1"; then
		kill -KILL "$1"
		wait "$1"
		FIN_RC=timeout
	else
		wait "$1"
		FIN_RC=$?
	fi
}

# left: this test's lighttpd and score.fcgi processes still running.
left() { pgrep -af "$T/" | grep -v pgrep; }

# score PORT CREDENTIAL: the tutorial's request; body to $T/out, status out.
score() {
	if [ -n "$2" ]; then set -- "$1" -H "Authorization: Bearer $2"; else set -- "$1"; fi
	p=$1
	shift
	curl -s -o "$T/out" -w '%{http_code}' "$@" -H "Content-Type: application/json" --data-binary @$REQ \
		"http://127.0.0.1:$p/endpoint-online-1/score"
}

# refuse NAME STATUS FRAGMENT CMD...: exits STATUS with one line on stderr
# holding FRAGMENT, and leaves the workspace alone and no private folder.
refuse() {
	name=$1 status=$2 fragment=$3
	shift 3
	before=$(sha256sum "$W/state.yaml")
	TMPDIR=$T/tmp2 "$@" >"$T/r-out" 2>"$T/r-err" </dev/null
	rc=$?
	if [ $rc -eq "$status" ] && [ "$(wc -l <"$T/r-err")" -eq 1 ] && grep -qF -- "$fragment" "$T/r-err" &&
	   [ "$before" = "$(sha256sum "$W/state.yaml")" ] && [ -z "$(ls "$T/tmp2")" ]; then
		ok "refused: $name"
	else
		not_ok "refused: $name" "rc=$rc" "$(cat "$T/r-err")" "$(ls "$T/tmp2")"
	fi
}

# ---- the workspace: endpoint 1 from the tutorial's files ----
export SCOREPOINT_WORKSPACE="$W"
quiet "$SP" model create --path fixtures/model --name model-online-1 --version 1 --type mlflow_model &&
	quiet "$SP" online-endpoint create -f deploy/examples/endpoint_1/cloud/endpoint.yml &&
	quiet "$SP" online-deployment create -f deploy/examples/endpoint_1/cloud/deployment.yml --all-traffic &&
	ok "endpoint 1 made with the CLI" || { not_ok "endpoint 1 made with the CLI"; exit 1; }
KEY=$("$SP" online-endpoint get-credentials --name endpoint-online-1 --query primaryKey -o tsv)

out=$("$SP" serve --help) && printf '%s\n' "$out" | grep -q '^usage: scorepoint serve' &&
	printf '%s' "$out" | grep -q -- '--workers N' && ok "serve --help" || not_ok "serve --help" "$out"
"$SP" --help | grep -q '^  serve ' && ok "scorepoint --help lists serve" || not_ok "scorepoint --help lists serve"

# ---- scorepoint serve: 2 workers, SIGINT ----
serve() { export TMPDIR="$T/tmp"; exec "$SP" serve --port "$PORT" "$@" >"$T/serve.out" 2>"$T/serve.err" </dev/null; }
spawn 20 "$T/serve.err" serve --workers 2
started=$?
SERVE_PID=$SPAWNED P=$PORT
if [ $started = 0 ]; then ok "serve --port $P: GET /health answers"; else
	not_ok "serve --port $P: GET /health answers" "$(cat "$T/serve.err")"
	exit 1
fi
URI=http://127.0.0.1:$P/endpoint-online-1/score
got=$("$SP" online-endpoint show --name endpoint-online-1 --query scoring_uri -o tsv)
[ "$got" = "$URI" ] && ok "online-endpoint show: the scoring URI names 127.0.0.1:$P" || not_ok "scoring_uri" "$got"
sleep 0.3   # the banner follows the first answer to GET /health
grep -q "^  endpoint-online-1 .*key .*$URI\$" "$T/serve.out" && ok "the banner gives the endpoint's scoring URI" ||
	not_ok "the banner gives the endpoint's scoring URI" "$(cat "$T/serve.out")"
priv=$(ls -d "$T"/tmp/scorepoint-serve-* 2>/dev/null)
[ "$(printf '%s\n' "$priv" | grep -c .)" = 1 ] && [ "$(stat -c %a "$priv")" = 700 ] &&
	[ -f "$priv/lighttpd.conf" ] && ok "lighttpd's configuration is in a private 0700 folder" ||
	not_ok "lighttpd's configuration is in a private 0700 folder" "$priv"

code=$(score "$P" "$KEY")
cp "$T/out" "$T/fcgi.json"
[ "$code" = 200 ] && logits_like "$T/fcgi.json" "$WANT" && ok "the tutorial's request with the primary key: torch's logits" ||
	not_ok "the tutorial's request with the primary key: torch's logits" "$code" "$(cat "$T/out")"
code=$(score "$P" "")
[ "$code" = 401 ] && ok "no key: 401" || not_ok "no key: 401" "$code"

pids=$(pgrep -f "score.fcgi --workspace $W " | tr '\n' ' ')
httpd=$(pgrep -f "lighttpd -D -f $priv/lighttpd.conf")
nw=0 parents_ok=1
for w in $pids; do
	nw=$((nw + 1))
	[ "$(ps -o ppid= -p "$w" | tr -d ' ')" = "$httpd" ] || parents_ok=0
done
[ "$nw" = 2 ] && [ $parents_ok = 1 ] && [ "$(ps -o ppid= -p "$httpd" | tr -d ' ')" = "$SERVE_PID" ] &&
	ok "--workers 2: two score.fcgi processes under lighttpd, under scorepoint" ||
	not_ok "--workers 2: two score.fcgi processes under lighttpd" "$(ps -o pid,ppid,pgid,args -p "$SERVE_PID $httpd $pids" 2>&1)"

sleep 0.3   # the log is followed every 0.1 s
n=$(grep -c '"endpoint": "endpoint-online-1", "deployment": "blue", "route": "score", "method": "POST", "status": 200' "$W/logs/requests.log")
[ "$n" = 1 ] && grep -q '"status": 200' "$T/serve.out" && grep -q '"status": 401' "$T/serve.out" &&
	ok "requests are logged in the workspace's log, and shown" ||
	not_ok "requests are logged in the workspace's log, and shown" "$n" "$(tail -3 "$T/serve.out")"
"$SP" online-deployment get-logs -n blue -e endpoint-online-1 | grep -q '"status": 200' &&
	ok "online-deployment get-logs sees them" || not_ok "online-deployment get-logs sees them"

refuse "the port in use" 1 "127.0.0.1:$P is in use" "$SP" serve --port "$P"
refuse "a host name" 1 "--host localhost: not an IP address" "$SP" serve --host localhost --port "$P"
refuse "no lighttpd" 1 "apt-get install lighttpd" "$SP" serve --port "$P" --lighttpd "$T/no/lighttpd"
refuse "--port 0" 2 "--port 0: expected a whole number from 1 to 65535" "$SP" serve --port 0
refuse "--workers x" 2 "--workers x" "$SP" serve --workers x
refuse "an unknown flag" 2 "unknown option --hots" "$SP" serve --hots 127.0.0.1

kill -INT "$SERVE_PID"
finish "$SERVE_PID" 15
SERVE_PID=
[ "$FIN_RC" = 0 ] && [ "$FIN_MS" -lt 5000 ] && ok "SIGINT: exit status 0 within 5 s ($FIN_MS ms)" ||
	not_ok "SIGINT: exit status 0 within 5 s" "status $FIN_RC after $FIN_MS ms" "$(cat "$T/serve.err")"
[ -z "$(left)" ] && ok "... and no lighttpd or score.fcgi of this test is left" ||
	not_ok "... and no lighttpd or score.fcgi of this test is left" "$(left)"
[ -z "$(ls "$T/tmp")" ] && ok "... nor the private folder" || not_ok "... nor the private folder" "$(ls "$T/tmp")"
tail -1 "$T/serve.out" | grep -q 'stopped' && ok "... and it says so" || not_ok "... and it says so" "$(tail -2 "$T/serve.out")"

# ---- the default worker count, SIGTERM ----
quiet "$SP" online-deployment update -n blue -e endpoint-online-1 --set instance_count=3
spawn 20 "$T/serve.err" serve || not_ok "serve answers again" "$(cat "$T/serve.err")"
SERVE_PID=$SPAWNED P=$PORT
n=$(pgrep -f "score.fcgi --workspace $W " | grep -c .)
[ "$n" = 3 ] && ok "no --workers: instance_count (3) worker processes" || not_ok "no --workers: instance_count (3) workers" "$n"
code=$(score "$P" "$KEY")
[ "$code" = 200 ] && cmp -s "$T/out" "$T/fcgi.json" && ok "... the same answer, byte for byte" ||
	not_ok "... the same answer, byte for byte" "$code"
kill -TERM "$SERVE_PID"
finish "$SERVE_PID" 15
SERVE_PID=
[ "$FIN_RC" = 0 ] && [ "$FIN_MS" -lt 5000 ] && [ -z "$(left)" ] && [ -z "$(ls "$T/tmp")" ] &&
	ok "SIGTERM: exit status 0 within 5 s ($FIN_MS ms), nothing left" ||
	not_ok "SIGTERM: exit status 0 within 5 s, nothing left" "status $FIN_RC after $FIN_MS ms" "$(left)"

# ---- serve follows the workspace's instance_count ----
# workers_become N: within 20 s, exactly N score.fcgi processes of this
# workspace (the old ones of a graceful restart gone); WB_S the seconds.
workers_become() {
	i=0
	while [ $i -lt 200 ]; do
		[ "$(pgrep -f "score.fcgi --workspace $W " | grep -c .)" = "$1" ] && { WB_S=$((i / 10)); return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# load SECONDS: the tutorial's request, one after another, for SECONDS;
# each status a line of $T/load.
load() {
	end=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt $end ]; do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 -H "Authorization: Bearer $KEY" \
			-H "Content-Type: application/json" --data-binary @$REQ "http://127.0.0.1:$P/endpoint-online-1/score"
	done >"$T/load"
}
quiet "$SP" online-deployment update -n blue -e endpoint-online-1 --set instance_count=1
spawn 20 "$T/serve.err" serve || not_ok "serve answers again" "$(cat "$T/serve.err")"
SERVE_PID=$SPAWNED P=$PORT
workers_become 1 && ok "instance_count 1: one worker" || not_ok "instance_count 1: one worker" "$(pgrep -af "score.fcgi --workspace $W ")"
load 8 &
LOAD_PID=$!
sleep 1
quiet "$SP" online-deployment create -f deploy/examples/endpoint_1/cloud/deployment.yml -n green --set instance_count=2
workers_become 3 && ok "a deployment with instance_count 2 added while serving: 3 workers (within $WB_S s)" ||
	not_ok "a deployment with instance_count 2 added while serving: 3 workers" "$(pgrep -af "score.fcgi --workspace $W ")" \
		"$(cat "$T/serve.err")"
quiet "$SP" online-deployment update -n green -e endpoint-online-1 --set instance_count=1
workers_become 2 && ok "its instance_count changed to 1: 2 workers (within $WB_S s)" ||
	not_ok "its instance_count changed to 1: 2 workers" "$(pgrep -af "score.fcgi --workspace $W ")"
wait "$LOAD_PID"
n=$(grep -c . "$T/load")
bad=$(grep -vc '^200$' "$T/load")
[ "$n" -gt 0 ] && [ "$bad" = 0 ] && ok "every request answered 200 meanwhile ($n requests)" ||
	not_ok "every request answered 200 meanwhile" "$n requests, $bad not 200" "$(sort "$T/load" | uniq -c)"
grep -q '^scorepoint serve: 3 score.fcgi workers (was 1' "$T/serve.out" && ok "serve says so" ||
	not_ok "serve says so" "$(cat "$T/serve.out")"
httpd=$(pgrep -f "lighttpd -D -f $T/tmp/")
[ "$(ps -o ppid= -p "$httpd" | tr -d ' ')" = "$SERVE_PID" ] && ok "the same lighttpd, restarted gracefully" ||
	not_ok "the same lighttpd, restarted gracefully" "$(ps -o pid,ppid,args -p "$httpd")"
quiet "$SP" online-deployment delete -n green -e endpoint-online-1 --yes
workers_become 1 && ok "the deployment deleted: one worker again" || not_ok "the deployment deleted: one worker again"
kill -TERM "$SERVE_PID"
finish "$SERVE_PID" 15
SERVE_PID=
[ "$FIN_RC" = 0 ] && [ -z "$(left)" ] && [ -z "$(ls "$T/tmp")" ] && ok "... stopped, nothing left" ||
	not_ok "... stopped, nothing left" "status $FIN_RC" "$(left)"

# ---- deploy/lighttpd: a lighttpd of ours including each file ----
# instantiate FILE OUT: FILE with its EDIT values pointing at this test.
instantiate() {
	sed -e "s|/usr/local/bin/score.fcgi|$PWD/$BUILD/score.fcgi|" \
	    -e "s|--workspace /srv/scorepoint|--workspace $W --metrics-file $T/metrics|" \
	    -e "s|\"/srv/scorepoint\"|\"$W\"|" \
	    -e "s|/run/lighttpd/scorepoint.sock|$T/fcgi.sock|" "$1" >"$2"
}

# httpd INCLUDED [LINE]: lighttpd with the instantiated file included
# (after LINE), on HPORT.
httpd() {
	included=$1 extra=${2:-}
	if spawn 20 "$T/httpd-error.log" httpd_exec; then
		HTTPD_PID=$SPAWNED HPORT=$PORT
		return 0
	fi
	echo "# lighttpd did not start:"
	sed 's/^/#   /' "$T/httpd-error.log" | tail -5
	return 1
}
httpd_exec() {
	cat >"$T/main.conf" <<CONF
server.bind = "127.0.0.1"
server.port = $PORT
server.document-root = "$T/www"
server.errorlog = "$T/httpd-error.log"
$extra
include "$included"
CONF
	: >"$T/httpd-error.log"
	exec lighttpd -D -f "$T/main.conf" </dev/null 2>>"$T/httpd-error.log"
}

# settings FILE: its lines that are not comments.
settings() { grep -v '^[[:space:]]*#' "$1"; }

stop_httpd() {
	kill -TERM "$HTTPD_PID"
	finish "$HTTPD_PID" 10
	HTTPD_PID=
	i=0
	while [ -n "$(left)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done   # lighttpd does not wait for its workers
}

instantiate deploy/lighttpd/scorepoint-cgi.conf "$T/cgi.conf"
if settings "$T/cgi.conf" | grep -q '/srv/\|/usr/local/' || ! grep -qF "\"SCOREPOINT_WORKSPACE\" => \"$W\"" "$T/cgi.conf"; then
	not_ok "scorepoint-cgi.conf: the EDIT values found" "$(grep -n 'EDIT' -A3 deploy/lighttpd/scorepoint-cgi.conf)"
elif httpd "$T/cgi.conf" "server.modules += ( \"mod_setenv\" )
setenv.add-environment += ( \"SCOREPOINT_METRICS_FILE\" => \"$T/metrics\" )"; then
	code=$(score "$HPORT" "$KEY")
	[ "$code" = 200 ] && cmp -s "$T/out" "$T/fcgi.json" &&
		ok "scorepoint-cgi.conf: score.fcgi as CGI answers the same bytes as through FastCGI" ||
		not_ok "scorepoint-cgi.conf: the same bytes as through FastCGI" "$code" "$(head -c 300 "$T/out")"
	code=$(score "$HPORT" "")
	code2=$(score "$HPORT" "${KEY%?}x")
	[ "$code" = 401 ] && [ "$code2" = 401 ] && [ "$(score "$HPORT" "$KEY")" = 200 ] &&
		ok "scorepoint-cgi.conf: key auth (lighttpd passes Authorization to CGI): 401 without, 401 wrong, 200 right" ||
		not_ok "scorepoint-cgi.conf: key auth" "$code $code2"
	pids=$(tail -4 "$W/logs/requests.log" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p' | sort -u | grep -c .)
	[ "$pids" = 4 ] && ok "scorepoint-cgi.conf: each request is one exec (4 requests, 4 process ids in the log)" ||
		not_ok "scorepoint-cgi.conf: each request is one exec" "$(tail -4 "$W/logs/requests.log")"
	stop_httpd
else
	not_ok "scorepoint-cgi.conf: lighttpd starts with it"
fi

instantiate deploy/lighttpd/scorepoint-fastcgi.conf "$T/fastcgi.conf"
if settings "$T/fastcgi.conf" | grep -q '/srv/\|/usr/local/\|/run/'; then
	not_ok "scorepoint-fastcgi.conf: the EDIT values found" "$(grep -n 'EDIT' -A3 deploy/lighttpd/scorepoint-fastcgi.conf)"
elif httpd "$T/fastcgi.conf"; then
	code=$(score "$HPORT" "$KEY")
	[ "$code" = 200 ] && cmp -s "$T/out" "$T/fcgi.json" &&
		ok "scorepoint-fastcgi.conf: the same bytes" || not_ok "scorepoint-fastcgi.conf: the same bytes" "$code"
	[ "$(score "$HPORT" "")" = 401 ] && ok "scorepoint-fastcgi.conf: no key: 401" || not_ok "scorepoint-fastcgi.conf: no key: 401"
	n=$(pgrep -f "score.fcgi --workspace $W " | grep -c .)
	[ "$n" = 2 ] && ok "scorepoint-fastcgi.conf: max-procs 2 workers" || not_ok "scorepoint-fastcgi.conf: max-procs 2 workers" "$n"
	code=$(head -c $((64 * 1048576 + 1)) /dev/zero | curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" \
		-H "Content-Type: application/json" --data-binary @- "http://127.0.0.1:$HPORT/endpoint-online-1/score")
	[ "$code" = 413 ] && ok "scorepoint-fastcgi.conf: a body over 64 MiB: 413" || not_ok "a body over 64 MiB: 413" "$code"
	stop_httpd
	[ -z "$(left)" ] && ok "scorepoint-fastcgi.conf: stopped, nothing left" || not_ok "scorepoint-fastcgi.conf: stopped, nothing left" "$(left)"
else
	not_ok "scorepoint-fastcgi.conf: lighttpd starts with it"
fi

# ---- make run, and the curl line README.md tells users to paste ----
# (It serves this checkout's build/run-workspace, made if missing; the port
# it records there is ours until the next `make run`.)  README's line names
# the port as $PORT (or 8080); make run prints it with the port it serves on.
# (Not $line: not_ok's loop sets that.)
readme=$(grep -E '^curl .*endpoint-online-1/score$' README.md)
if [ "$(printf '%s\n' "$readme" | grep -c .)" != 1 ] || ! printf '%s' "$readme" | grep -q 'http://127.0.0.1:\(8080\|\$PORT\)/'; then
	not_ok "README.md holds one curl line for endpoint-online-1 on 127.0.0.1:\$PORT" "$readme"
	exit 1
fi
# Built first, so that make run's own build has nothing to do: it says
# nothing about that either.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -s all SAN= >"$T/build.out" 2>&1 ||
	not_ok "make all (for make run)" "$(tail -5 "$T/build.out")"
mkdir -p "$T/run"
# As a user types it, in a session of its own: the release build (SAN=
# undoes `make test SAN=1`'s SAN=1, which make exports), not a sub-make.
make_run() {
	export TMPDIR="$T/run"
	exec setsid env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory run PORT="$PORT" SAN= \
		>"$T/run.out" 2>&1 </dev/null
}
spawn 240 "$T/run.out" make_run
started=$?
RUN_PGID=$SPAWNED P=$PORT
if [ $started = 0 ]; then ok "make run PORT=$P serves"; else
	not_ok "make run PORT=$P serves" "$(tail -20 "$T/run.out")"
	exit 1
fi
i=0
while ! grep -q "^scorepoint serve: http://127.0.0.1:$P/" "$T/run.out" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -qE '^make(\[[0-9]+\])?: ' "$T/run.out" && not_ok "make run prints no make message" "$(grep -E '^make' "$T/run.out")" ||
	ok "make run prints no make message"
mine=$(printf '%s' "$readme" | sed -e "s|127.0.0.1:8080/|127.0.0.1:$P/|" -e 's|127.0.0.1:$PORT/|127.0.0.1:'"$P"'/|')
grep -qxF "  $mine" "$T/run.out" && ok "make run printed README's curl line (on port $P) before serving" ||
	not_ok "make run printed README's curl line" "$mine" "$(grep curl "$T/run.out")"
n=0
for e in 1 2 3 4; do
	grep -q "^  scoring URI: http://127.0.0.1:$P/endpoint-online-$e/score\$" "$T/run.out" &&
		grep -q "^  endpoint-online-$e .*http://127.0.0.1:$P/endpoint-online-$e/score\$" "$T/run.out" && n=$((n + 1))
done
[ $n = 4 ] && ok "make run: the four endpoints' scoring URIs, in its lines and in serve's banner" ||
	not_ok "make run: the four endpoints' scoring URIs" "$(cat "$T/run.out")"
studio=$(sed -n 's|^Studio: \(http://127.0.0.1:[0-9]*/_ui/\) .*|\1|p' "$T/run.out")
[ "$studio" = "http://127.0.0.1:$P/_ui/" ] &&
	[ "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$studio")" = "200 text/html; charset=utf-8" ] &&
	ok "make run prints the Studio page's URL, and it answers" ||
	not_ok "make run prints the Studio page's URL, and it answers" "$(grep -i studio "$T/run.out")"
PORT=$P sh -c "$readme" >"$T/readme.json" 2>"$T/readme.err"
logits_like "$T/readme.json" "$WANT" && ok "README's curl line, with PORT=$P: torch's logits" ||
	not_ok "README's curl line, with PORT=$P: torch's logits" "$(cat "$T/readme.json" "$T/readme.err")"
sh -c "$(grep -E '^  curl .*endpoint-online-2/score$' "$T/run.out")" >"$T/labels.json"
[ "$(cat "$T/labels.json")" = '["Ankle Boot", "Pullover"]' ] && ok "make run's curl line for endpoint 2: the labels" ||
	not_ok "make run's curl line for endpoint 2" "$(cat "$T/labels.json")"
sh -c "$(grep -E '^  curl .*endpoint-online-3/score$' "$T/run.out")" >"$T/token.json"
cmp -s "$T/token.json" "$T/readme.json" && ok "make run's curl line for endpoint 3 (a token): the logits" ||
	not_ok "make run's curl line for endpoint 3" "$(cat "$T/token.json")"

kill -TERM "-$RUN_PGID"
finish "$RUN_PGID" 20
i=0
while { [ -n "$(left)" ] || pgrep -g "$RUN_PGID" >/dev/null; } && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -z "$(left)" ] && ! pgrep -g "$RUN_PGID" >/dev/null && [ -z "$(ls "$T/run")" ] &&
	ok "make run stopped (its process group killed): nothing left running" ||
	not_ok "make run stopped: nothing left running" "$(left)" "$(pgrep -ag "$RUN_PGID")" "$(ls "$T/run")"
RUN_PGID=
