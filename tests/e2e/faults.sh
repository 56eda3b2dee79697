# Faults: what scorepoint does when things go wrong around it.
#
#   1. a worker killed (SIGKILL) under load behind lighttpd;
#   2. a damaged blob at start-up, and a blob overwritten, truncated or
#      replaced under a running server;
#   3. workspace files the server may not read (run as nobody: root reads
#      everything), at start-up and while it serves;
#   4. a full disk (RLIMIT_FSIZE) while the CLI writes, with SIGXFSZ ignored
#      (EFBIG) and at its default (the CLI killed mid-write);
#   5. CLI writers at once.
#
# Every server listens on 127.0.0.1 ephemeral ports and is stopped here.
. tests/e2e/lib.sh
. tests/e2e/lib_httpd.sh
. tests/e2e/lib_ws.sh
CONNS=16

quiet() { "$@" >/dev/null 2>"$T/cli-err" || { echo "# $*: $(cat "$T/cli-err")"; return 1; }; }
workers() { pgrep -f "score.fcgi --(model|workspace) $1" | sort -n | tr '\n' ' ' | sed 's/ $//'; }
nwords() { set -- $1; echo $#; }
# post URL [CREDENTIAL [curl args...]]: the tutorial's request; body to
# $T/out, status to stdout.
post() {
	url=$1 cred=${2:-}
	shift
	[ $# -gt 0 ] && shift
	[ -n "$cred" ] && set -- -H "Authorization: Bearer $cred" "$@"
	curl -s -o "$T/out" -w '%{http_code}' -H "Content-Type: application/json" --data-binary @$REQ "$@" "$url"
}
# wrk_split SECONDS URL KEY OUT: wrk at $CONNS connections (tests/e2e/split.lua)
wrk_split() {
	BODY=$REQ KEY=$3 wrk -t2 -c$CONNS -d"$1"s -s tests/e2e/split.lua "$2" >"$4" 2>&1
}
field() { sed -n "s/^$1 //p" "$2" | head -1; }
# snapshot DIR: every file, folder and link of DIR with its type and mode,
# and every file's checksum.
snapshot() {
	(cd "$1" && find . -printf '%y %m %p\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

make_endpoint_1 || { not_ok "endpoint 1 made with the CLI"; exit 1; }

# ---- 1. SIGKILL of a worker under load ----
start_lighttpd "--workspace $W" 2 || { not_ok "lighttpd serves the workspace"; exit 1; }
U1=$URL/endpoint-online-1/score
[ "$(post "$U1" "$KEY")" = 200 ] && cp "$T/out" "$T/good.json" || not_ok "the tutorial's request answers 200"
before=$(workers "$W")
wrk_split 6 "$U1" "$KEY" "$T/wrk1.txt" &
loader=$!
sleep 2
victim=${before%% *}
survivor=${before#* }
kill -9 "$victim"
t0=$(date +%s%N)
i=0
while [ $i -lt 200 ]; do
	now=$(workers "$W")
	[ "$(nwords "$now")" = 2 ] && break
	sleep 0.05
	i=$((i + 1))
done
respawn_ms=$((($(date +%s%N) - t0) / 1000000))
wait $loader
bad=$(field BAD "$T/wrk1.txt") errors=$(field ERRORS "$T/wrk1.txt") served=$(field 'DEPLOYMENT blue' "$T/wrk1.txt")
if [ -n "$bad" ] && [ "$bad" -le $CONNS ] && [ "$errors" -le $CONNS ] && [ "${served:-0}" -gt 1000 ]; then
	ok "SIGKILL of worker $victim under $CONNS connections: $errors failed requests ($bad non-200 answers) of $((served + bad)), at most the $CONNS in flight"
else
	not_ok "SIGKILL of a worker under load: at most $CONNS failures" "$(cat "$T/wrk1.txt")"
fi
case " $now " in
*" $victim "*) not_ok "lighttpd respawns the killed worker" "before: $before, now: $now" ;;
*" $survivor "*)
	if [ "$(nwords "$now")" = 2 ] && [ "$now" = "$(workers "$W")" ]; then
		ok "lighttpd respawned the killed worker under load in $respawn_ms ms (workers $before -> $now)"
	else
		not_ok "lighttpd respawns the killed worker" "before: $before, now: $now"
	fi ;;
*) not_ok "lighttpd respawns the killed worker (the other one lives on)" "before: $before, now: $now" ;;
esac
grep -q 'child signalled: 9' "$T/lighttpd-error.log" && ok "lighttpd logged the SIGKILL" ||
	not_ok "lighttpd logged the SIGKILL" "$(tail -5 "$T/lighttpd-error.log")"
wrk_split 2 "$U1" "$KEY" "$T/wrk2.txt"
if [ "$(field BAD "$T/wrk2.txt")" = 0 ] && [ "$(field ERRORS "$T/wrk2.txt")" = 0 ] &&
	[ "$(field 'DEPLOYMENT blue' "$T/wrk2.txt")" -gt 100 ]; then
	ok "after the kill: $(field 'DEPLOYMENT blue' "$T/wrk2.txt") requests in 2 s, zero non-200"
else
	not_ok "after the kill: zero non-200" "$(cat "$T/wrk2.txt")"
fi
[ "$(post "$U1" "$KEY")" = 200 ] && cmp -s "$T/out" "$T/good.json" && ok "... and the same answer bytes" ||
	not_ok "... and the same answer bytes" "$(head -c 200 "$T/out")"
stop_lighttpd

# ---- 2. damaged blobs ----
B=$T/blob
mkdir -p "$B"
quiet "$BUILD/pth2blob" fixtures/model "$B/m.blob"
quiet "$BUILD/pth2blob" --labels fixtures/labels.txt --postprocess labels fixtures/model "$B/labels.blob"
size=$(stat -c %s "$B/m.blob")
cp "$B/m.blob" "$B/flipped.blob"
printf '\377' | dd of="$B/flipped.blob" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
head -c $((size - 1000)) "$B/m.blob" >"$B/truncated.blob"
head -c 100 "$B/m.blob" >"$B/stub.blob"
for b in flipped:'checksum mismatch' truncated:'truncated or extended' stub:'truncated: 100 bytes'; do
	name=${b%%:*} why=${b#*:}
	for mode in --cgi ""; do
		REQUEST_METHOD=GET REQUEST_URI=/health "$BUILD/score.fcgi" $mode --model "$B/$name.blob" \
			</dev/null >"$T/out" 2>"$T/err"
		rc=$?
		if [ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -qF "$B/$name.blob: $why" "$T/err"; then
			ok "$name blob, ${mode:-CGI by default}: refused at start-up, exit $rc, one line ($(cat "$T/err"))"
		else
			not_ok "$name blob, ${mode:-CGI by default}: refused at start-up in one line" "rc=$rc" "$(cat "$T/err")"
		fi
	done
done
# ... and when lighttpd spawns it: the workers exit, the error log has the line.
# lighttpd spawns again after a failure, so a worker may be seen starting:
# every one seen must be gone within 3 s (none stays up).
exited() {
	for _ in $(seq 30); do
		alive=
		for p in $1; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ -z "$alive" ] && return 0
		sleep 0.1
	done
	return 1
}
start_lighttpd "$B/flipped.blob" 2
code=$(post "$URL/score")
nline=$(grep -c "score.fcgi: $B/flipped.blob: checksum mismatch" "$T/lighttpd-error.log")
seen=$(workers "$B/")
if [ "$code" -ge 500 ] && [ "$nline" -ge 1 ] && exited "$seen"; then
	ok "a flipped byte under lighttpd: no worker runs, $code, the error log names the file ($nline lines)"
else
	not_ok "a flipped byte under lighttpd: refused" "code $code, $nline lines, workers still up: $(workers "$B/")" \
		"$(tail -5 "$T/lighttpd-error.log")"
fi
stop_lighttpd

# A running server keeps serving what it mapped, whatever happens to the
# file: the blob is shared under a read lease, copied when a writer comes.
cp "$B/m.blob" "$B/live.blob"
start_lighttpd "$B/live.blob" 2 || { not_ok "lighttpd serves live.blob"; exit 1; }
[ "$(post "$URL/score")" = 200 ] && cmp -s "$T/out" "$T/good.json" && ok "live.blob answers the tutorial's logits" ||
	not_ok "live.blob answers the tutorial's logits" "$(head -c 200 "$T/out")"
pids=$(workers "$B/")
shared=0
for p in $pids; do grep -q "$B/live.blob$" /proc/$p/maps && shared=$((shared + 1)); done
[ $shared = 2 ] && ok "both workers map live.blob from the page cache (shared)" ||
	not_ok "both workers map live.blob shared" "$shared of $pids"
# still_serving WHAT: 20 requests, every one 200 with the first answer's bytes.
still_serving() {
	n=0
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		[ "$(post "$URL/score")" = 200 ] && cmp -s "$T/out" "$T/good.json" && n=$((n + 1))
	done
	if [ $n = 20 ] && [ "$(workers "$B/")" = "$pids" ]; then
		ok "$1: the same workers answer the old logits, 20 of 20"
	else
		not_ok "$1: the same workers answer the old logits" "$n of 20; workers $pids -> $(workers "$B/")" \
			"$(head -c 200 "$T/out")" "$(tail -3 "$T/lighttpd-error.log")"
	fi
}
start=$(date +%s)
cp "$B/labels.blob" "$B/live.blob"   # in place: open(O_TRUNC), write
[ $(($(date +%s) - start)) -lt 5 ] && ok "cp over the served blob is not held back (lease broken at once)" ||
	not_ok "cp over the served blob is not held back" "$(($(date +%s) - start)) s"
still_serving "overwritten in place with another model (labels)"
shared=0
for p in $pids; do grep -q "$B/live.blob$" /proc/$p/maps && shared=$((shared + 1)); done
[ $shared = 0 ] && ok "... now from a private copy" || not_ok "... now from a private copy" "$shared still map the file"
truncate -s 4096 "$B/live.blob"
still_serving "truncated to 4096 bytes"
: >"$B/live.blob"
still_serving "truncated to 0 bytes"
stop_lighttpd
# The same with a truncation first, and a blob replaced by rename (what
# pth2blob and the CLI do): the old file stays mapped, shared.
cp "$B/m.blob" "$B/live.blob"
start_lighttpd "$B/live.blob" 2 || { not_ok "lighttpd serves live.blob again"; exit 1; }
post "$URL/score" >/dev/null
pids=$(workers "$B/")
# dd, not truncate(1): coreutils' truncate opens with O_NONBLOCK, so under
# a lease its first try fails with EAGAIN (while the workers copy the blob).
dd if=/dev/null of="$B/live.blob" bs=1 seek=100 2>/dev/null
[ "$(stat -c %s "$B/live.blob")" = 100 ] || not_ok "dd cut live.blob to 100 bytes" "$(stat -c %s "$B/live.blob")"
still_serving "truncated in place first (to 100 bytes)"
cp "$B/m.blob" "$B/live.blob"
stop_lighttpd
start_lighttpd "$B/live.blob" 2 || { not_ok "lighttpd serves live.blob a third time"; exit 1; }
post "$URL/score" >/dev/null
pids=$(workers "$B/")
quiet "$BUILD/pth2blob" --labels fixtures/labels.txt --postprocess labels fixtures/model "$B/live.blob"
still_serving "replaced by pth2blob (rename)"
deleted=0
for p in $pids; do grep -q "$B/live.blob (deleted)$" /proc/$p/maps && deleted=$((deleted + 1)); done
[ $deleted = 2 ] && ok "... from the old file, still shared" || not_ok "... from the old file, still shared" "$deleted"
stop_lighttpd
start_lighttpd "$B/live.blob" 2 || { not_ok "lighttpd serves the new live.blob"; exit 1; }
[ "$(post "$URL/score")" = 200 ] && grep -q '^\["Ankle Boot", "Pullover"\]$' "$T/out" &&
	ok "a restarted server serves the new blob (labels)" || not_ok "a restarted server serves the new blob" "$(cat "$T/out")"
stop_lighttpd

# ---- 3. unreadable workspace files (as nobody: root reads everything) ----
# As root, everything of this part runs as nobody on nobody's copy of the
# workspace; as another user, as that user.
N=$T/nobody
mkdir -p "$N"
cp -a "$W" "$N/ws"
rm -rf "$N/ws/logs"
if [ "$(id -u)" = 0 ]; then
	AS="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	USER_AS=nobody
	chmod 755 "$T"
	chown -R nobody:nogroup "$N"
else
	AS= USER_AS=$(id -un)
fi
# cgi_as_nobody PATH: one CGI GET of PATH by score.fcgi --workspace $N/ws as nobody
cgi_as_nobody() {
	REQUEST_METHOD=GET REQUEST_URI=$1 $AS "$BUILD/score.fcgi" --cgi --workspace "$N/ws" \
		--metrics-file "$N/metrics" --log - </dev/null >"$T/out" 2>"$T/err"
}
cgi_as_nobody /health && grep -q '^Status: 200' "$T/out" && ok "nobody serves its own copy of the workspace (CGI)" ||
	not_ok "nobody serves its own copy of the workspace" "$(cat "$T/err")" "$(head -3 "$T/out")"
# refused_as_nobody NAME FRAGMENT: start-up refused with one line holding FRAGMENT
refused_as_nobody() {
	cgi_as_nobody /health
	rc=$?
	if [ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -qF -- "$2" "$T/err" &&
	   head -1 "$T/out" | grep -q '^Status: 500 ' && grep -q '"WORKSPACE_NOT_LOADED"' "$T/out" && ! grep -qF "$N" "$T/out"; then
		ok "$1: refused at start-up in one line ($(cat "$T/err"))"
	else
		not_ok "$1: refused at start-up in one line" "rc=$rc" "$(cat "$T/err")" "$(head -3 "$T/out")"
	fi
}
chmod 000 "$N/ws/state.yaml"
refused_as_nobody "state.yaml mode 000" "$N/ws/state.yaml: Permission denied"
chmod 600 "$N/ws/state.yaml"
chmod 000 "$N/ws"
refused_as_nobody "workspace folder mode 000" "$N/ws/state.yaml: Permission denied"
chmod 700 "$N/ws"
chmod 000 "$N/ws/models/model-online-1"
refused_as_nobody "model folder mode 000" "$N/ws/models/model-online-1/1/model.blob: Permission denied"
chmod 700 "$N/ws/models/model-online-1"
chmod 000 "$N/ws/models/model-online-1/1/model.blob"
refused_as_nobody "model.blob mode 000" "model.blob: Permission denied"
chmod 644 "$N/ws/models/model-online-1/1/model.blob"
cgi_as_nobody /health && ok "... and serves again once the modes are back" || not_ok "... serves again" "$(cat "$T/err")"

# A running server (lighttpd and its workers as nobody) keeps its last good
# state when state.yaml or its folder become unreadable.
rm -f "$T/metrics"
if [ -n "$AS" ]; then
	# start_lighttpd runs `lighttpd`: this function, as nobody, in its place.
	lighttpd() { exec $AS /usr/sbin/lighttpd "$@"; }
	chown nobody:nogroup "$T"
	: >"$T/lighttpd-error.log"
	chown nobody:nogroup "$T/lighttpd-error.log"
fi
start_lighttpd "--workspace $N/ws" 2 || { not_ok "lighttpd as $USER_AS serves the copy"; exit 1; }
unset -f lighttpd
UN=$URL/endpoint-online-1/score
[ "$(post "$UN" "$KEY")" = 200 ] && cmp -s "$T/out" "$T/good.json" && [ "$(ps -o user= -p "$LIGHTTPD_PID")" = $USER_AS ] &&
	ok "lighttpd and score.fcgi as $USER_AS serve endpoint 1" || not_ok "lighttpd as $USER_AS serves endpoint 1" "$(cat "$T/out")"
pids=$(workers "$N/ws")
for p in $pids; do [ "$(ps -o user= -p "$p")" = $USER_AS ] || not_ok "worker $p runs as $USER_AS" "$(ps -o user= -p "$p")"; done
# serving_as_nobody WHAT: 10 requests, every one 200 with the known bytes, same workers
serving_as_nobody() {
	n=0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(post "$UN" "$KEY")" = 200 ] && cmp -s "$T/out" "$T/good.json" && n=$((n + 1))
	done
	[ $n = 10 ] && [ "$(workers "$N/ws")" = "$pids" ] && ok "$1: still served, 10 of 10, same workers" ||
		not_ok "$1: still served" "$n of 10; workers $pids -> $(workers "$N/ws")" "$(cat "$T/out")"
}
chmod 000 "$N/ws/state.yaml"
serving_as_nobody "state.yaml made mode 000 under a running server"
grep -q "workspace change not served: $N/ws/state.yaml: Permission denied" "$T/lighttpd-error.log" &&
	ok "... which says once why it does not reload" || not_ok "... says why it does not reload" "$(tail -3 "$T/lighttpd-error.log")"
chmod 600 "$N/ws/state.yaml"
chmod 000 "$N/ws"
serving_as_nobody "workspace folder made mode 000"
chmod 700 "$N/ws"
# Back to readable: a change made now is served (regenerate the key).
$AS "$SP" online-endpoint regenerate-keys --name endpoint-online-1 --key-type primary --workspace "$N/ws" >/dev/null 2>"$T/err"
KEY2=$($AS "$SP" online-endpoint get-credentials --name endpoint-online-1 --query primaryKey -o tsv --workspace "$N/ws")
[ "$(post "$UN" "$KEY")" = 401 ] && [ "$(post "$UN" "$KEY2")" = 200 ] &&
	ok "modes restored: the next change is served (old key 401, new key 200)" ||
	not_ok "modes restored: the next change is served" "$(cat "$T/err")" "$(cat "$T/out")"
stop_lighttpd
rm -f "$T/metrics"   # nobody's: root's workers would refuse it
if [ -n "$AS" ]; then
	chown root:root "$T"
	chmod 700 "$T"
fi

# ---- 4. a full disk while the CLI writes ----
# A second endpoint with blue and green, so that traffic can change.
quiet "$SP" online-endpoint create -f $EX/endpoint_4/cloud/endpoint.yml &&
	quiet "$SP" model create --path fixtures/model --name model-online-4 --version 1 --type mlflow_model &&
	quiet "$SP" online-deployment create -f $EX/endpoint_4/cloud/deployment-blue.yml --all-traffic ||
	not_ok "endpoint 4 with blue"
FSIZE=1024
[ "$(stat -c %s "$W/state.yaml")" -gt $FSIZE ] || not_ok "state.yaml is larger than the $FSIZE-byte limit"
# full NAME XFSZ CMD...: CMD under RLIMIT_FSIZE=$FSIZE with SIGXFSZ ignored
# (XFSZ=ignore: it must fail with one line) or at its default (XFSZ=kill: it
# is killed mid-write).  Either way the workspace must be byte-identical,
# right away when ignored, after the next CLI writer when killed.
full() {
	name=$1 xfsz=$2
	shift 2
	before=$(snapshot "$W")
	# An inner shell, so that its "File size limit exceeded" goes nowhere.
	if [ "$xfsz" = ignore ]; then trap="trap '' XFSZ"; else trap="trap - XFSZ"; fi
	sh -c "$trap"'; out=$1 err=$2; shift 2; exec prlimit --fsize='$FSIZE' --core=0 "$@" >"$out" 2>"$err" </dev/null' \
		sh "$T/out" "$T/err" "$@" 2>/dev/null
	rc=$?
	mid=$(snapshot "$W")
	# The next writer: a refused change, which changes nothing itself.
	"$SP" online-endpoint create -f $EX/endpoint_1/cloud/endpoint.yml >/dev/null 2>&1
	after=$(snapshot "$W")
	printf '%s\n' "$before" >"$T/snap-before"
	printf '%s\n' "$after" >"$T/snap-after"
	if [ "$xfsz" = ignore ]; then
		if [ $rc = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q '^scorepoint: .*File too large$' "$T/err" &&
			[ "$before" = "$mid" ] && [ "$before" = "$after" ]; then
			ok "full disk, $name: exit 1, one line ($(cat "$T/err")), workspace byte-identical"
		else
			not_ok "full disk, $name: one line, workspace byte-identical" "rc=$rc" "$(cat "$T/err")" \
				"$(printf '%s\n' "$mid" | diff "$T/snap-before" -)" "$(diff "$T/snap-before" "$T/snap-after")"
		fi
	else
		left=$(printf '%s\n' "$mid" | grep -c '^f .*\.tmp')
		if [ $rc = $((128 + 25)) ] && [ "$before" = "$after" ]; then
			ok "killed by SIGXFSZ, $name: $left temporary file(s) left, gone after the next writer; workspace byte-identical"
		else
			not_ok "killed by SIGXFSZ, $name: workspace byte-identical after the next writer" "rc=$rc" "$(cat "$T/err")" \
				"$(diff "$T/snap-before" "$T/snap-after")"
		fi
	fi
}
for x in ignore kill; do
	full "model create" $x "$SP" model create --path fixtures/model --name model-online-9 --version 1 --type mlflow_model
	full "online-endpoint create" $x "$SP" online-endpoint create -f $EX/endpoint_2/cloud/endpoint.yml
	full "online-deployment create" $x "$SP" online-deployment create -f $EX/endpoint_4/cloud/deployment-green.yml
	full "online-endpoint update --traffic" $x "$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=0"
done
# Without the limit the same commands work (the limit was the only reason).
quiet "$SP" online-deployment create -f $EX/endpoint_4/cloud/deployment-green.yml &&
	quiet "$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=90 green=10" &&
	ok "without the limit the same changes land" || not_ok "without the limit the same changes land"

# ---- 5. CLI writers at once ----
i=1
while [ $i -le 8 ]; do
	sed "s/^name: blue/name: dep-$i/" $EX/endpoint_1/cloud/deployment.yml >"$T/dep-$i.yml"
	i=$((i + 1))
done
# A reader that checks state.yaml parses all along.
(
	n=0 broken=0
	while [ ! -e "$T/stop-reader" ]; do
		"$SP" online-endpoint show --name endpoint-online-1 >/dev/null 2>>"$T/reader-err" || broken=$((broken + 1))
		n=$((n + 1))
	done
	echo "$n $broken" >"$T/reader"
) &
reader=$!
i=1 writers=
while [ $i -le 8 ]; do
	"$SP" online-deployment create -f "$T/dep-$i.yml" >"$T/create-$i.out" 2>"$T/create-$i.err" &
	writers="$writers $!"
	"$SP" online-endpoint update --name endpoint-online-1 --traffic "blue=$((100 - i)) dep-$i=$i" \
		>"$T/update-$i.out" 2>"$T/update-$i.err" &
	writers="$writers $!"
	"$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=$((100 - i)) green=$i" \
		>"$T/update4-$i.out" 2>"$T/update4-$i.err" &
	writers="$writers $!"
	i=$((i + 1))
done
for p in $writers; do wait "$p"; done
touch "$T/stop-reader"
wait $reader
created=0 landed=0 refused=0 other=""
i=1
while [ $i -le 8 ]; do
	[ -s "$T/create-$i.err" ] || created=$((created + 1))
	if [ ! -s "$T/update-$i.err" ]; then
		landed=$((landed + 1))
	elif [ "$(wc -l <"$T/update-$i.err")" = 1 ] && grep -q "dep-$i" "$T/update-$i.err"; then
		refused=$((refused + 1))
	else
		other="$other $(cat "$T/update-$i.err")"
	fi
	i=$((i + 1))
done
deps=$("$SP" online-deployment list --endpoint-name endpoint-online-1 --query name -o tsv | sort | tr '\n' ' ')
[ $created = 8 ] && [ "$deps" = "blue dep-1 dep-2 dep-3 dep-4 dep-5 dep-6 dep-7 dep-8 " ] &&
	ok "8 concurrent online-deployment create: all 8 landed" || not_ok "8 concurrent creates: all landed" "$created: $deps" \
	"$(cat "$T"/create-*.err)"
[ $((landed + refused)) = 8 ] && [ -z "$other" ] &&
	ok "8 concurrent traffic updates naming them: $landed landed, $refused refused in one line naming the deployment" ||
	not_ok "concurrent traffic updates land or are refused clearly" "$landed landed, $refused refused" "$other"
traffic=$("$SP" online-endpoint show --name endpoint-online-1 --query traffic -o json | tr -d ' \n')
# The traffic is what one update that landed set.
match=0
i=1
while [ $i -le 8 ]; do
	[ ! -s "$T/update-$i.err" ] && [ "$traffic" = "{\"blue\":$((100 - i)),\"dep-$i\":$i}" ] && match=1
	i=$((i + 1))
done
[ $landed = 0 ] && [ "$traffic" = '{"blue":100}' ] && match=1
[ $match = 1 ] && ok "endpoint 1's traffic is one update's whole: $traffic" || not_ok "traffic is one update's whole" "$traffic"
t4=$("$SP" online-endpoint show --name endpoint-online-4 --query traffic -o json | tr -d ' \n')
n4=$(cat "$T"/update4-*.err | wc -l)
case $t4 in
'{"blue":9'[2-9]',"green":'[1-8]'}') [ "$n4" = 0 ] && ok "8 concurrent updates of endpoint 4: all landed, the last wins ($t4)" ||
	not_ok "8 concurrent updates of endpoint 4: all landed" "$(cat "$T"/update4-*.err)" ;;
*) not_ok "8 concurrent updates of endpoint 4" "$t4" ;;
esac
read -r nread broken <"$T/reader"
[ "$broken" = 0 ] && [ "$nread" -gt 0 ] && ok "a reader all along: state.yaml parsed $nread times of $nread" ||
	not_ok "a reader all along: state.yaml always parses" "$broken of $nread broken" "$(head -5 "$T/reader-err")"
[ "$(find "$W" -name '*.tmp*' | wc -l)" = 0 ] && ok "no temporary file left" || not_ok "no temporary file left" "$(find "$W" -name '*.tmp*')"
# The state the writers left serves: every deployment by its pin.
start_lighttpd "--workspace $W" 2 || { not_ok "lighttpd serves the workspace after the writers"; exit 1; }
U1=$URL/endpoint-online-1/score
good=0
for d in blue dep-1 dep-4 dep-8; do
	[ "$(post "$U1" "$KEY" -H "azureml-model-deployment: $d")" = 200 ] && cmp -s "$T/out" "$T/good.json" && good=$((good + 1))
done
[ $good = 4 ] && ok "the state they left is served: blue, dep-1, dep-4, dep-8 answer" || not_ok "the state they left is served" "$good of 4" "$(cat "$T/out")" "$(grep score.fcgi "$T/lighttpd-error.log" | tail -3)"
stop_lighttpd
