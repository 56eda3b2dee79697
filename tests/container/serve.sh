# tests/container/serve.sh - one image, run with podman as a FaaS platform
# runs it: IMAGE (the image) and KIND (full or slim: the name in the test
# lines, and the extra checks of each) in the environment, BUILD the build
# folder whose scorepoint CLI makes the workspace.
#
# The tutorial's endpoint 1 (key auth, the tutorial's blob), made with the
# CLI as tests/e2e/lib_ws.sh does, owned by the image's uid 10001 and
# mounted read-only at /workspace; the container on 127.0.0.1 and a free
# port.  Checks: torch's logits with the key, 401 without it, GET /health
# 200, the non-root user, and SIGTERM under load: two clients posting one
# request after another for 3 s and one slow upload in flight; SIGTERM 1 s
# in; every request gets a complete 200 (the same bytes as the first
# answer) or is refused before it is accepted (curl's "could not
# connect"), never a cut or missing answer, and the container exits 0.
. tests/e2e/lib.sh
. tests/e2e/lib_ws.sh
. tests/container/lib.sh
: "${IMAGE:?IMAGE names the image}" "${KIND:?KIND is full or slim}"
WANT=fixtures/expected/images_logits.json
C=sp-ctest-$KIND-$$

if make_endpoint_1 && chown -R 10001:10001 "$W"; then
	ok "$KIND: the tutorial's endpoint 1 in a workspace made with the CLI, owned by uid 10001"
else
	not_ok "$KIND: the tutorial's endpoint 1 in a workspace made with the CLI, owned by uid 10001"
	exit 1
fi
RUN_WS="-v $W:/workspace:ro"

# score FILE [CURL-OPTION...]: the tutorial's request with the key; the
# answer in FILE, "CURL-EXIT HTTP-CODE" on stdout.
score() {
	sc_out=$1
	shift
	sc_code=$(curl -s -o "$sc_out" -w '%{http_code}' --max-time 20 "$@" -H "Authorization: Bearer $KEY" \
		-H "Content-Type: application/json" --data-binary @$REQ "$URL/endpoint-online-1/score")
	echo "$? $sc_code"
}

if ctr_start "$C" "$IMAGE" $RUN_WS; then
	ok "$KIND: podman run serves GET /health on 127.0.0.1:\$PORT"
	echo "# $KIND: podman run to the first /health 200: $READY_MS ms"
else
	not_ok "$KIND: podman run serves GET /health on 127.0.0.1:\$PORT" "$(tail -n 20 "$T/$C.log")"
	exit 1
fi

pid=$(ctr_pid "$C")
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
lighttpd=$(pgrep -P "$pid" -x lighttpd)
workers=$(pgrep -P "$lighttpd" | wc -l)
[ "$uid" = 10001 ] && [ "$workers" = 2 ] && ok "$KIND: the entry point, lighttpd and 2 workers run as uid 10001" ||
	not_ok "$KIND: the entry point, lighttpd and 2 workers run as uid 10001" \
		"uid $uid, lighttpd $lighttpd, $workers workers"

r=$(score "$T/first")
[ "$r" = "0 200" ] && logits_like "$T/first" $WANT && ok "$KIND: the tutorial's request with the key: torch's logits" ||
	not_ok "$KIND: the tutorial's request with the key: torch's logits" "curl exit, HTTP: $r" \
		"$(head -c 300 "$T/first")"
code=$(curl -s -o "$T/out" -w '%{http_code}' -H "Content-Type: application/json" --data-binary @$REQ \
	"$URL/endpoint-online-1/score")
[ "$code" = 401 ] && ok "$KIND: without the key, 401" ||
	not_ok "$KIND: without the key, 401" "$code $(head -c 300 "$T/out")"
code=$(curl -s -o "$T/out" -w '%{http_code}' "$URL/health")
[ "$code" = 200 ] && ok "$KIND: GET /health 200" || not_ok "$KIND: GET /health 200" "$code"
podman logs "$C" >"$T/log" 2>&1
line='"endpoint": "endpoint-online-1", "deployment": "blue", "route": "score", "method": "POST", "status": 200'
grep -qF "$line" "$T/log" &&
	ok "$KIND: score.fcgi's request log is the container's log" ||
	not_ok "$KIND: score.fcgi's request log is the container's log" "$(tail -n 5 "$T/log")"

if [ "$KIND" = full ]; then
	out=$(podman healthcheck run "$C" 2>&1) && ok "full: the image's HEALTHCHECK passes" ||
		not_ok "full: the image's HEALTHCHECK passes" "$out"
	out=$(podman run --rm --network none $RUN_WS "$IMAGE" scorepoint online-endpoint list 2>&1)
	check_contains "full: the image's scorepoint CLI reads the mounted workspace" endpoint-online-1 "$out"
fi

# ---- SIGTERM under load ----
# load TAG: one request after another for 3 s; a line per request in
# $T/load.TAG: "answered", "refused" or what went wrong.
load() {
	ld_end=$(($(date +%s) + 3))
	ld_n=0
	while [ "$(date +%s)" -lt $ld_end ]; do
		ld_n=$((ld_n + 1))
		r=$(score "$T/l.$1")
		if [ "$r" = "0 200" ] && cmp -s "$T/l.$1" "$T/first"; then
			echo answered
		elif [ "$r" = "7 000" ]; then
			echo refused
		else
			echo "request $ld_n: curl exit, HTTP: $r, $(wc -c <"$T/l.$1") bytes"
		fi
	done >"$T/load.$1"
}
# The slow one: 27 KB at 8 KB/s, about 3 s of upload.
score "$T/slow" --limit-rate 8k >"$T/slow.r" &
slow=$!
load 1 &
l1=$!
load 2 &
l2=$!
sleep 1
podman kill -s TERM "$C" >/dev/null
t0=$(date +%s%N)
rc=$(ctr_wait "$C")
stop_ms=$((($(date +%s%N) - t0) / 1000000))
wait $slow $l1 $l2
answered=$(cat "$T/load.1" "$T/load.2" | grep -c '^answered$')
refused=$(cat "$T/load.1" "$T/load.2" | grep -c '^refused$')
lost=$(cat "$T/load.1" "$T/load.2" | grep -v '^answered$' | grep -v '^refused$')
echo "# $KIND: SIGTERM under load: $answered answered, $refused refused; stopped in $stop_ms ms"
# Some answered before the stop and some refused after it: the load spanned it.
[ -z "$lost" ] && [ "$answered" -gt 0 ] && [ "$refused" -gt 0 ] &&
	ok "$KIND: SIGTERM under load: every request got a complete 200 or was refused before it was accepted" ||
	not_ok "$KIND: SIGTERM under load: every request got a complete 200 or was refused before it was accepted" \
		"$answered answered, $refused refused" "$lost"
[ "$(cat "$T/slow.r")" = "0 200" ] && cmp -s "$T/slow" "$T/first" &&
	ok "$KIND: SIGTERM: the request still uploading is answered first" ||
	not_ok "$KIND: SIGTERM: the request still uploading is answered first" "curl exit, HTTP: $(cat "$T/slow.r")"
podman logs "$C" >"$T/log" 2>&1
[ "$rc" = 0 ] && ok "$KIND: SIGTERM: the container exits 0" ||
	not_ok "$KIND: SIGTERM: the container exits 0" "exit status: $rc" "$(tail -n 10 "$T/log")"
ctr_rm "$C"
[ -z "$(podman ps -a -q --filter "name=^$C\$")" ] && ok "$KIND: the container is removed" ||
	not_ok "$KIND: the container is removed"
