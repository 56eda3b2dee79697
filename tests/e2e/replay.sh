# `scorepoint online-deployment replay` end to end: real traffic to blue
# through `scorepoint serve` (lighttpd, 127.0.0.1, a free port) collected
# by the data collector (sampling 1.0), then replayed through score.fcgi as
# CGI: against blue every body is the one collected (100 % agreement);
# against green (blue with one output bias changed) the rows that disagree
# are exactly the argmax flips computed apart (Python over `scorepoint
# predict` of both models on the same rows), and the worst difference is
# the bias change; --min-agreement gates with exit status 3.
. tests/e2e/lib.sh
. tests/e2e/lib_ws.sh
. tests/e2e/lib_servers.sh
PY=tests/e2e/replay_drive.py
N=150           # requests (1 to 3 rows each)
DELTA=3.0       # green's change to the bias of class 0
mkdir -p "$T/tmp" "$T/run"
export TMPDIR="$T/tmp"

quiet() { "$@" >/dev/null 2>"$T/cli-err" || { echo "# $*: $(cat "$T/cli-err")"; return 1; }; }
field() { python3 "$PY" field "$1" "$2"; }

# ---- blue (the tutorial's model), green (one bias changed), collection on blue ----
make_endpoint_1 || { not_ok "the workspace"; exit 0; }
/usr/bin/python3 -c "
import torch
sd = torch.load('fixtures/model_state_dict.pth')
sd['sequence.3.bias'][0] += $DELTA
torch.save(sd, '$T/green.pth')" || { not_ok "green's .pth (torch)"; exit 0; }
cat >"$T/green.yml" <<EOF
name: green
endpoint_name: endpoint-online-1
model: azureml:model-green:1
instance_count: 1
EOF
if quiet "$SP" model create --path "$T/green.pth" --name model-green --version 1 &&
   quiet "$SP" online-deployment create -f "$T/green.yml"; then
	ok "green: blue with one output bias changed"
else
	not_ok "green: blue with one output bias changed"
fi
if quiet "$SP" online-deployment update -n blue -e endpoint-online-1 \
	--set data_collector.collections.model_inputs.enabled=True \
	--set data_collector.collections.model_outputs.enabled=True \
	--set data_collector.sampling_rate=1.0; then
	ok "blue collects its inputs and outputs (sampling_rate 1.0)"
else
	not_ok "blue collects its inputs and outputs (sampling_rate 1.0)"
fi

# ---- real traffic ----
start_serve() {
	"$SP" serve --port "$1" --workers 2 >"$T/serve.out" 2>"$T/serve.err" </dev/null &
	SERVER_PID=$!
}
if start_on_free_port start_serve; then
	out=$(python3 "$PY" drive "$URL" "$KEY" $N "$T/run")
	set -- $out
	OK200=$1 ROWS=$2
	[ "$OK200" = $N ] && ok "traffic: $N requests answered 200 ($ROWS rows)" ||
		not_ok "traffic: $N requests answered 200" "$out"
else
	not_ok "scorepoint serve" "$(cat "$T/serve.err")"
	exit 0
fi
stop_tracked
# Blue still collects: a replay is not collected again (score.fcgi
# --collect off), so each replay below reads the same lines.
collected() {
	cat "$W"/data/modelDataCollector/endpoint-online-1/blue/model_inputs/*/*/*/*/data.jsonl 2>/dev/null | wc -l
}
lines=$(collected)
[ "$lines" = $N ] && ok "collected: $N input lines" || not_ok "collected: $N input lines" "got $lines"

# ---- flips computed apart: scorepoint predict of both models on every row sent ----
"$SP" predict -m models:/model-online-1/1 -i "$T/run/rows.json" >"$T/blue.json" &&
	"$SP" predict -m "$T/green.pth" -i "$T/run/rows.json" >"$T/green.json" &&
	FLIPS=$(python3 "$PY" flips "$T/blue.json" "$T/green.json") || FLIPS=
if [ -n "$FLIPS" ] && [ "$FLIPS" -gt 0 ] && [ "$FLIPS" -lt "$ROWS" ]; then
	ok "independent flips: $FLIPS of $ROWS rows"
else
	not_ok "independent flips" "flips=$FLIPS rows=$ROWS"
fi

# ---- replay against blue: the collected bodies, byte for byte ----
"$SP" online-deployment replay -n blue -e endpoint-online-1 --collected --min-agreement 1 \
	>"$T/blue-report.json" 2>"$T/err"
rc=$?
want="$N $N $N $ROWS $ROWS $ROWS 1.0 0"
got="$(field "$T/blue-report.json" requests) $(field "$T/blue-report.json" requests_compared)"
got="$got $(field "$T/blue-report.json" identical_bodies) $(field "$T/blue-report.json" rows)"
got="$got $(field "$T/blue-report.json" rows_compared) $(field "$T/blue-report.json" rows_agreeing)"
got="$got $(field "$T/blue-report.json" agreement) $(field "$T/blue-report.json" requests_failed)"
if [ $rc = 0 ] && [ "$got" = "$want" ]; then
	ok "replay against blue: every body identical, 100 % agreement"
else
	not_ok "replay against blue: every body identical, 100 % agreement" "rc=$rc want '$want' got '$got'" \
		"$(cat "$T/err")"
fi
lines=$(collected)
[ "$lines" = $N ] && ok "the replay into blue, which collects, added no line" ||
	not_ok "the replay into blue, which collects, added no line" "$lines lines, not $N"
p50=$(field "$T/blue-report.json" latency_ms.p50)
p99=$(field "$T/blue-report.json" latency_ms.p99)
python3 -c "import sys; sys.exit(not (0 < $p50 <= $p99))" 2>/dev/null && ok "latency percentiles: p50 $p50 ms, p99 $p99 ms" ||
	not_ok "latency percentiles" "p50=$p50 p99=$p99"

# ---- replay against green: the flips, the worst difference, the gate ----
"$SP" online-deployment replay -n green -e endpoint-online-1 --collected --source-deployment blue --worst 3 \
	>"$T/green-report.json" 2>"$T/err"
rc=$?
compared=$(field "$T/green-report.json" rows_compared)
agreeing=$(field "$T/green-report.json" rows_agreeing)
if [ $rc = 0 ] && [ "$compared" = "$ROWS" ] && [ $((compared - agreeing)) = "$FLIPS" ]; then
	ok "replay against green: $((compared - agreeing)) rows disagree = the independent flips"
else
	not_ok "replay against green: the rows that disagree are the flips" "rc=$rc compared=$compared" \
		"agreeing=$agreeing flips=$FLIPS" "$(cat "$T/err")"
fi
worst=$(field "$T/green-report.json" worst_rows.0.max_abs_diff)
agree0=$(field "$T/green-report.json" worst_rows.0.agree)
nworst=$(python3 -c "import json; print(len(json.load(open('$T/green-report.json'))['worst_rows']))" 2>/dev/null)
if python3 -c "import sys; sys.exit(not abs($worst - $DELTA) < 1e-5)" 2>/dev/null && [ "$agree0" = false ] && [ "$nworst" = 3 ]
then
	ok "worst rows: a flipped row first, its difference the bias change ($worst)"
else
	not_ok "worst rows" "worst=$worst agree=$agree0 n=$nworst"
fi
agreement=$(field "$T/green-report.json" agreement)
above=$(python3 -c "print(min(1.0, $agreement + 0.001))" 2>/dev/null)
below=$(python3 -c "print(max(0.0, $agreement - 0.001))" 2>/dev/null)
"$SP" online-deployment replay -n green -e endpoint-online-1 --collected --min-agreement "$above" \
	>"$T/gate.json" 2>"$T/gate.err"
rc=$?
if [ $rc = 3 ] && [ "$(field "$T/gate.json" gate)" = '"failed"' ] && grep -q "under --min-agreement $above" "$T/gate.err"
then
	ok "--min-agreement $above (above $agreement): exit status 3"
else
	not_ok "--min-agreement above the agreement: exit status 3" "rc=$rc" "$(cat "$T/gate.err")"
fi
"$SP" online-deployment replay -n green -e endpoint-online-1 --collected --min-agreement "$below" \
	>"$T/gate.json" 2>"$T/gate.err"
rc=$?
[ $rc = 0 ] && [ "$(field "$T/gate.json" gate)" = '"passed"' ] && ok "--min-agreement $below (below): exit status 0" ||
	not_ok "--min-agreement below the agreement: exit status 0" "rc=$rc" "$(cat "$T/gate.err")"

# ---- the same requests from a file, green --against blue ----
"$SP" online-deployment replay -n green -e endpoint-online-1 --requests "$T/run/bodies.jsonl" --against blue \
	>"$T/against.json" 2>"$T/err"
rc=$?
got="$(field "$T/against.json" requests) $(field "$T/against.json" rows_compared)"
got="$got $(($(field "$T/against.json" rows_compared) - $(field "$T/against.json" rows_agreeing)))"
[ $rc = 0 ] && [ "$got" = "$N $ROWS $FLIPS" ] && ok "--requests FILE --against blue: the same flips" ||
	not_ok "--requests FILE --against blue: the same flips" "rc=$rc got '$got' want '$N $ROWS $FLIPS'" \
		"$(cat "$T/err")"

# The collected lines themselves as --requests: inputs joined with outputs.
cat "$W"/data/modelDataCollector/endpoint-online-1/blue/model_*/*/*/*/*/data.jsonl >"$T/lines.jsonl" 2>/dev/null
"$SP" online-deployment replay -n blue -e endpoint-online-1 --requests "$T/lines.jsonl" --max 50 \
	>"$T/lines-report.json" 2>"$T/err"
got="$(field "$T/lines-report.json" requests) $(field "$T/lines-report.json" identical_bodies)"
[ "$got" = "50 50" ] && ok "--requests of collected lines, --max 50: 50 identical bodies" ||
	not_ok "--requests of collected lines, --max 50" "got '$got'" "$(cat "$T/err")"

# An hour range with nothing in it; -o tsv --query.
got=$("$SP" online-deployment replay -n blue -e endpoint-online-1 --collected --from 2001-01-01T00 \
	--to 2001-01-01T05 --query requests -o tsv 2>&1)
[ "$got" = 0 ] && ok "--from/--to outside the data: no request" || not_ok "--from/--to outside the data" "$got"

# ---- refusals ----
check_fails "no source: usage error" "give one of --collected" "$SP" online-deployment replay -n blue \
	-e endpoint-online-1
check_fails "two sources: usage error" "give one of" "$SP" online-deployment replay -n blue -e endpoint-online-1 \
	--collected --requests "$T/run/bodies.jsonl"
check_fails "--from not a time" "--from 2026-13-01: expected a UTC day" "$SP" online-deployment replay -n blue \
	-e endpoint-online-1 --collected --from 2026-13-01
check_fails "--min-agreement 1.5" "expected a fraction from 0 to 1" "$SP" online-deployment replay -n blue \
	-e endpoint-online-1 --collected --min-agreement 1.5
check_fails "an unknown deployment" "has no deployment \"purple\"" "$SP" online-deployment replay -n purple \
	-e endpoint-online-1 --collected
printf '{"input_data": [[1]]}\nnot json\n' >"$T/bad.jsonl"
check_fails "a bad --requests line names FILE:LINE" "bad.jsonl:2: not JSON" "$SP" online-deployment replay \
	-n blue -e endpoint-online-1 --requests "$T/bad.jsonl"
"$SP" online-deployment replay -n blue -e endpoint-online-1 -r fixtures/test_data/images_azureml.json \
	--min-agreement 0.5 >/dev/null 2>"$T/err"
rc=$?
[ $rc = 3 ] && grep -q "no rows to compare" "$T/err" && ok "nothing to compare with under --min-agreement: exit 3" ||
	not_ok "nothing to compare with under --min-agreement: exit 3" "rc=$rc" "$(cat "$T/err")"
out=$("$SP" online-deployment replay --help)
check_contains "--help names exit status 3" "Exit status 3" "$out"
