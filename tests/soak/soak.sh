#!/bin/sh
# tests/soak/soak.sh BUILD_DIR - `make soak`: SOAK_SECONDS (default 60) of
# wrk at 64 connections through lighttpd (2 score.fcgi workers) serving the
# tutorial's endpoint 1 with key auth, 70 % valid requests and 30 % bad ones
# (tests/soak/mix.lua), every answer checked as it comes back.
#
# The workers run with --max-body 65536, so that the oversize request is a
# small one (64 KiB + 1).  Passes when: every valid answer is byte for byte the known-good answer
# (fetched once with curl before the soak), no 5xx, every bad request gets
# its 4xx, no socket error, the same two worker PIDs from start to end, and
# each worker's VmRSS grows by less than 1 MB (1024 KiB) from WARM seconds
# in to the end.  WARM is 10 s: the first requests grow each worker's
# buffers (body, decoder, encoder, forward-pass scratch, malloc's arenas)
# to the largest request of the mix; after that a worker that does not leak
# allocates nothing new.  Prints a table of the measured values; exits 1 when
# any criterion fails.
set -u
build=${1:?usage: tests/soak/soak.sh BUILD_DIR}
cd "$(dirname "$0")/../.." || exit 2
BUILD=$build
SECONDS_=${SOAK_SECONDS:-60}
CONNS=64
MAX_BODY=65536
WARM=10
[ "$SECONDS_" -lt 20 ] && WARM=$((SECONDS_ / 2))
. tests/e2e/lib.sh
. tests/e2e/lib_httpd.sh
. tests/e2e/lib_ws.sh

die() { echo "soak: $*" >&2; exit 1; }
make_endpoint_1 >&2 || die "could not make endpoint 1"
start_lighttpd "--workspace $W --max-body $MAX_BODY" 2 >&2 || die "lighttpd did not start"

# The known-good answer: one request with curl, checked against torch's.
code=$(curl -s -o "$T/answer.json" -w '%{http_code}' -H "Content-Type: application/json" \
	-H "Authorization: Bearer $KEY" --data-binary @$REQ "$URL/endpoint-online-1/score")
[ "$code" = 200 ] && logits_like "$T/answer.json" fixtures/expected/images_logits.json ||
	die "the first answer ($code) is not torch's logits: $(head -c 200 "$T/answer.json")"

workers() { pgrep -f "score.fcgi --workspace $W" | sort -n | tr '\n' ' ' | sed 's/ $//'; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }
pids0=$(workers)
set -- $pids0
[ $# = 2 ] || die "expected 2 workers, found: $pids0"

rss_start=
for p in $pids0; do rss_start="$rss_start$(rss "$p") "; done
echo "soak: ${SECONDS_} s, $CONNS connections, lighttpd with 2 workers ($pids0), $URL/endpoint-online-1/score"
BODY=$REQ ANSWER=$T/answer.json KEY=$KEY ENDPOINT=/endpoint-online-1 MAX_BODY=$MAX_BODY \
	wrk -t2 -c$CONNS -d"${SECONDS_}s" --timeout 10s -s tests/soak/mix.lua "$URL" >"$T/wrk.txt" 2>&1 &
loader=$!
sleep "$WARM"
rss_warm=
for p in $pids0; do rss_warm="$rss_warm$(rss "$p") "; done
wait $loader
rss_end=
for p in $pids0; do rss_end="$rss_end $(rss "$p")"; done
pids1=$(workers)
stop_lighttpd

get() { sed -n "s/^$1 //p" "$T/wrk.txt" | head -1; }
grep -q '^REQUESTS ' "$T/wrk.txt" || die "wrk failed: $(cat "$T/wrk.txt")"
set -- $(get REQUESTS)
total=$1 dur=$2 rps=$3 p50=$4 p99=$5
wrong=$(get WRONG_ANSWERS) s5xx=$(get S5XX) unknown=$(get UNKNOWN)
set -- $(get SOCKET_ERRORS)
sockerr=$1 sockdetail="$2 $3, $4 $5, $6 $7, $8 $9"

fail=0
# check CRITERION MEASURED BAD: one row of the table; BAD is 0 when it passes.
check() {
	if [ "$3" = 0 ]; then v=PASS; else v=FAIL fail=1; fi
	printf '| %-40s | %-46s | %-7s |\n' "$1" "$2" "$v"
}
echo
printf '| %-20s | %6s | %9s | %13s |\n' "request" "expect" "answers" "other status"
printf '|%s|%s|%s|%s|\n' "----------------------" "--------" "-----------" "---------------"
off=0 nvalid=0
while read -r _ name want n other; do
	printf '| %-20s | %6s | %9s | %13s |\n' "$name" "$want" "$n" "$other"
	[ "$name" = valid ] && nvalid=$n
	off=$((off + other))
	[ "$n" -gt 0 ] || off=$((off + 1))
done <<EOT
$(grep '^KIND ' "$T/wrk.txt")
EOT
echo
echo "$total requests in $dur s: $rps requests/s, latency p50 $p50 ms, p99 $p99 ms."
echo "VmRSS is compared from $WARM s in (after warm-up: the first requests grow each worker's"
echo "buffers to the mix's largest request; a worker that does not leak grows no more) to the end."
echo
printf '| %-40s | %-46s | %-7s |\n' "criterion" "measured" "verdict"
printf '|%s|%s|%s|\n' "------------------------------------------" "------------------------------------------------" "---------"
check "valid answers = the known-good bytes" "$wrong wrong of $nvalid" "$wrong"
check "no 5xx" "$s5xx" "$s5xx"
check "every bad request gets its 4xx" "$off off the expected status" "$off"
check "every answer names its request" "$unknown without a known x-request-id" "$unknown"
check "no socket error" "$sockerr ($sockdetail)" "$sockerr"
same=1
[ "$pids0" = "$pids1" ] && same=0
check "no worker restart (same 2 PIDs)" "$pids0 -> $pids1" "$same"
set -- $rss_end
for p in $pids0; do
	w=${rss_warm%% *} rss_warm=${rss_warm#* }
	b=${rss_start%% *} rss_start=${rss_start#* }
	e=$1
	shift
	grow=$((e - w))
	big=0
	[ "$grow" -lt 1024 ] && [ "$w" -gt 0 ] && [ "$e" -gt 0 ] || big=1
	check "worker $p VmRSS growth < 1024 KiB" "start $b, ${WARM} s $w, end $e KiB (+$grow)" "$big"
done
echo
if [ $fail = 0 ]; then echo "soak: PASS"; else echo "soak: FAIL"; fi
exit $fail
