# Shadow verdicts (docs/shadow.md) through a real lighttpd (`scorepoint
# serve`, 2 workers, a free loopback port): blue is the tutorial's model,
# green the same weights with ONE output bias (class 6) raised by 2.0 (made
# with torch), mirror green=50; 300 requests of 1 to 4 test-set rows each:
#   - each mirror log line's "shadow" says the rows and disagreements of
#     its request, as `scorepoint predict` of blue's and green's models on
#     that request's body says them (argmax, computed in Python);
#   - shadow-report and /metrics: rows compared and agreeing equal those
#     sums, the worst difference is the bias change within 1e-6;
#   - only mirror lines have "shadow"; --reset zeroes the counts and
#     restarts the clock; an endpoint without mirror traffic has no pairs.
. tests/e2e/lib.sh
. tests/e2e/lib_ws.sh
PY=/usr/bin/python3
cleanup() {
	serve_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
export OPENBLAS_NUM_THREADS=1

# ---- the workspace: blue, green = blue + 2.0 on bias 6 ----
delta=$($PY - "$T/green.pth" <<'EOF'
import sys, numpy, torch
sd = torch.load("fixtures/model_state_dict.pth")
b = sd["sequence.3.bias"]
old = numpy.float32(b[6].item())
b[6] = b[6] + 2.0
torch.save(sd, sys.argv[1])
print(repr(float(numpy.float64(numpy.float32(b[6].item())) - numpy.float64(old))))   # the change as float32 holds it
EOF
) && ok "green.pth: blue's bias 6 raised by $delta" || { not_ok "green.pth made with torch" "$delta"; exit 1; }
cat >"$T/blue.yml" <<'EOF'
name: blue
endpoint_name: shadow-ep
model: azureml:model-blue:1
instance_count: 1
EOF
sed -e 's/^name: blue/name: green/' -e 's/model-blue/model-green/' "$T/blue.yml" >"$T/green.yml"
lib_ws_quiet "$SP" model create --name model-blue --path fixtures/model --type mlflow_model &&
	lib_ws_quiet "$SP" model create --name model-green --path "$T/green.pth" --arch "linear,relu,linear" &&
	lib_ws_quiet "$SP" online-endpoint create --name shadow-ep &&
	lib_ws_quiet "$SP" online-deployment create -f "$T/blue.yml" --all-traffic &&
	lib_ws_quiet "$SP" online-deployment create -f "$T/green.yml" &&
	lib_ws_quiet "$SP" online-endpoint update --name shadow-ep --mirror-traffic "green=50" &&
	lib_ws_quiet "$SP" online-endpoint create --name plain-ep &&
	ok "endpoint shadow-ep: blue 100 %, mirror green=50" || { not_ok "the workspace"; exit 1; }
KEY=$("$SP" online-endpoint get-credentials --name shadow-ep --query primaryKey -o tsv)

# ---- 300 requests of 1 to 4 rows of the 200-row test batch ----
N=300
mkdir -p "$T/r"
$PY - "$T/r" $N <<'EOF'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
src = json.load(open("fixtures/test_data/batch200_azureml_split.json"))["input_data"]
k = 0
for i in range(n):
    rows = [(k + j) % 200 for j in range(1 + i % 4)]
    k += len(rows)
    body = {"input_data": {"columns": src["columns"], "index": list(range(len(rows))),
                           "data": [src["data"][r] for r in rows]}}
    open(f"{d}/{i}.json", "w").write(json.dumps(body))
EOF
serve_start --workers 2 || { not_ok "serve" "$(cat "$T/serve.err")"; exit 1; }
URL=http://127.0.0.1:$PORT/shadow-ep/score
# serve's workers count into a file of its private directory.
MFILE=$(ls "$T"/serve-tmp/scorepoint-serve-*/metrics 2>/dev/null | head -n 1)
seq 0 $((N - 1)) | S_DIR=$T/r S_URL=$URL S_KEY=$KEY xargs -P 4 -n 1 sh -c '
	curl -s --max-time 20 -o "$S_DIR/$1.out" -w "%{http_code}\n" -H "Authorization: Bearer $S_KEY" \
		-H "Content-Type: application/json" -H "x-request-id: sh-$1" --data-binary @"$S_DIR/$1.json" \
		"$S_URL" >"$S_DIR/$1.code"' sh
[ "$(cat "$T"/r/*.code | grep -c '^200$')" = $N ] && ok "$N requests answered 200" ||
	not_ok "$N requests answered 200" "$(cat "$T"/r/*.code | sort | uniq -c)"

# The copies run after the answers: wait until the log stops growing (5 s at most).
LOG=$W/logs/requests.log
prev=-1 i=0
while [ $i -lt 50 ]; do
	now=$(wc -l <"$LOG")
	[ "$now" = "$prev" ] && break
	prev=$now
	sleep 0.2
	i=$((i + 1))
done
grep '"endpoint": "shadow-ep"' "$LOG" >"$T/ep.log"

# ---- the independent verdict: predict of both models, per mirrored request ----
grep '"shadow": ' "$T/ep.log" | sed 's/.*"request_id": "sh-\([0-9]*\)".*/\1/' >"$T/mirrored"
nm=$(wc -l <"$T/mirrored")
[ "$nm" -ge 100 ] && [ "$nm" -le 200 ] && ok "green=50: $nm of $N requests mirrored, each with a shadow verdict" ||
	not_ok "about half the requests mirrored" "$nm"
mkdir -p "$T/p"
while read -r i; do
	"$SP" predict -m models:/model-blue/1 -i "$T/r/$i.json" -o json >"$T/p/$i.blue" &&
		"$SP" predict -m models:/model-green/1 -i "$T/r/$i.json" -o json >"$T/p/$i.green" ||
		echo "predict failed on $i" >>"$T/p/errors"
done <"$T/mirrored"
[ ! -s "$T/p/errors" ] && ok "scorepoint predict of blue and green on the $nm mirrored bodies" ||
	not_ok "predict" "$(head -3 "$T/p/errors")"

verdict=$($PY - "$T/ep.log" "$T/p" "$delta" <<'EOF'
import json, sys
log, p, delta = sys.argv[1], sys.argv[2], float(sys.argv[3])
def argmax(row):
    vals = [row[str(j)] for j in range(len(row))]
    return vals.index(max(vals))
rows = agree = 0
worst = 0.0
bad = []
for line in open(log):
    o = json.loads(line)
    if "shadow" not in o:
        continue
    s, i = o["shadow"], o["request_id"][3:]
    assert o["deployment"] == "green" and s["live"] == "blue", o
    blue, green = json.load(open(f"{p}/{i}.blue")), json.load(open(f"{p}/{i}.green"))
    a = sum(argmax(x) == argmax(y) for x, y in zip(blue, green))
    d = max(abs(x[k] - y[k]) for x, y in zip(blue, green) for k in x)
    if (s["rows"], s["agree"], s["disagree"], s["not_comparable"]) != (len(blue), a, len(blue) - a, 0):
        bad.append((i, s, len(blue), a))
    if abs(s["worst_abs_diff"] - d) > 1e-6:
        bad.append((i, "worst", s["worst_abs_diff"], d))
    rows += len(blue)
    agree += a
    worst = max(worst, d)
print(json.dumps({"rows": rows, "agree": agree, "worst": worst, "bad": bad[:5]}))
EOF
)
rows=$(printf '%s' "$verdict" | $PY -c 'import json,sys; print(json.load(sys.stdin)["rows"])')
agree=$(printf '%s' "$verdict" | $PY -c 'import json,sys; print(json.load(sys.stdin)["agree"])')
case $verdict in
*'"bad": []'*) ok "each mirror line's rows and disagreements equal predict's argmax flips ($((rows - agree)) of $rows rows)" ;;
*) not_ok "mirror lines agree with predict" "$verdict" ;;
esac
[ "$rows" -gt "$agree" ] && ok "the bias change flips some rows" || not_ok "the bias change flips some rows" "$verdict"
n=$(grep -c '"shadow": ' "$T/ep.log")
[ "$(grep -c '"deployment": "green"' "$T/ep.log")" = "$n" ] && [ "$(grep -c '"deployment": "blue"' "$T/ep.log")" = $N ] &&
	! grep '"deployment": "blue"' "$T/ep.log" | grep -q '"shadow": ' &&
	ok "only the mirror lines carry \"shadow\"" || not_ok "only the mirror lines carry \"shadow\"" "$(head -3 "$T/ep.log")"

# ---- shadow-report and /metrics: the same numbers ----
"$SP" online-endpoint shadow-report --metrics-file "$MFILE" --name shadow-ep >"$T/report.json" 2>"$T/report.err" ||
	not_ok "shadow-report" "$(cat "$T/report.err")"
out=$($PY - "$T/report.json" "$rows" "$agree" "$delta" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
rows, agree, delta = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
assert len(r) == 1, r
r = r[0]
assert (r["endpoint"], r["live_deployment"], r["mirror_deployment"]) == ("shadow-ep", "blue", "green"), r
assert r["rows_compared"] == rows and r["rows_agreeing"] == agree, (r, rows, agree)
assert r["rows_disagreeing"] == rows - agree and r["rows_not_comparable"] == 0, r
assert abs(r["agreement_rate"] - agree / rows) < 1e-12, r
assert abs(r["worst_abs_diff"] - delta) <= 1e-6, (r["worst_abs_diff"], delta)
assert r["since"].endswith("Z") and len(r["since"]) == 24, r
print("ok", r["worst_abs_diff"])
EOF
)
case $out in
"ok "*) ok "shadow-report: rows $rows, agreeing $agree, worst ${out#ok } = the bias change $delta within 1e-6" ;;
*) not_ok "shadow-report" "$out" "$(cat "$T/report.json")" ;;
esac
m=$(curl -s "http://127.0.0.1:$PORT/metrics")
L='endpoint="shadow-ep",live="blue",mirror="green"'
check_contains "/metrics: scorepoint_shadow_rows_total" "scorepoint_shadow_rows_total{$L} $rows" "$m"
check_contains "/metrics: scorepoint_shadow_agree_rows_total" "scorepoint_shadow_agree_rows_total{$L} $agree" "$m"
check_contains "/metrics: the histogram counts every row" "scorepoint_shadow_abs_diff_count{$L} $rows" "$m"
w=$(printf '%s\n' "$m" | grep "^scorepoint_shadow_worst_abs_diff{$L} " | cut -d' ' -f2)
$PY -c "import sys; sys.exit(abs(float('$w') - $delta) > 1e-6)" 2>/dev/null &&
	ok "/metrics: scorepoint_shadow_worst_abs_diff $w" || not_ok "/metrics: worst" "$w" "$m"
q=$("$SP" online-endpoint shadow-report --metrics-file "$MFILE" --name shadow-ep --query "[].rows_compared" -o tsv)
[ "$q" = "$rows" ] && ok "shadow-report --query -o tsv" || not_ok "shadow-report --query -o tsv" "$q"

# ---- --reset, and endpoints without pairs ----
"$SP" online-endpoint shadow-report --metrics-file "$MFILE" --name shadow-ep --reset >"$T/reset.json" &&
	"$SP" online-endpoint shadow-report --metrics-file "$MFILE" --name shadow-ep >"$T/after.json"
out=$($PY - "$T/report.json" "$T/reset.json" "$T/after.json" <<'EOF'
import json, sys
before, reset, after = (json.load(open(f))[0] for f in sys.argv[1:])
assert reset["rows_compared"] >= before["rows_compared"], (reset, before)
assert after["rows_compared"] == after["rows_agreeing"] == 0 and after["worst_abs_diff"] == 0, after
assert after["agreement_rate"] is None and after["since"] > before["since"], (after, before)
print("ok")
EOF
)
[ "$out" = ok ] && ok "--reset prints the counts, then zeroes them from now" || not_ok "--reset" "$out"
out=$("$SP" online-endpoint shadow-report --metrics-file "$MFILE" --name plain-ep)
[ "$out" = "[]" ] && ok "an endpoint without mirror traffic: []" || not_ok "an endpoint without mirror traffic: []" "$out"
check_fails "an unknown endpoint is refused" 'endpoint "nope-ep" does not exist' \
	"$SP" online-endpoint shadow-report --metrics-file "$MFILE" --name nope-ep
check_fails "no counter file: refused, naming it" "does not exist" \
	"$SP" online-endpoint shadow-report --name shadow-ep --metrics-file "$T/none"
serve_stop
