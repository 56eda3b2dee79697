# The data collector (docs/collect.md) through a real lighttpd (`scorepoint
# serve`, 4 workers, a free loopback port):
#   - sampling_rate 1.0: 1,000 requests from 16 concurrent connections give
#     exactly 1,000 model_inputs and 1,000 model_outputs lines, each valid
#     JSON with the contract's keys in order, joined on correlationid = the
#     x-request-id each client got; inputs equal to the rows each client
#     sent (as float32), outputs equal to each client's answer byte for byte;
#   - sampling_rate 0.1 (set with online-deployment update while serving):
#     the count within 5 standard deviations of the binomial's mean, the
#     same ids in both collections;
#   - a full disk (a 64 KiB tmpfs on DIR/data; root only): every request
#     still 200, the lost lines counted in /metrics and reported on stderr,
#     and what was written is whole lines;
#   - --collect-max-bytes: the oldest hours (made by hand) go first;
#     get-data prints and lists them.
. tests/e2e/lib.sh
. tests/e2e/lib_ws.sh
PY=python3
MNT=
cleanup() {
	serve_stop
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

make_endpoint_1 && ok "endpoint 1 made" || { not_ok "endpoint 1 made"; exit 1; }
DEP="--name blue --endpoint-name endpoint-online-1"
lib_ws_quiet "$SP" online-deployment update $DEP --set data_collector.collections.model_inputs.enabled=True \
	--set data_collector.collections.model_outputs.enabled=True --set data_collector.sampling_rate=1.0 &&
	ok "data_collector enabled with online-deployment update --set" ||
	not_ok "data_collector enabled with online-deployment update --set"

serve_start --workers 4 || { not_ok "serve" "$(cat "$T/serve.err")"; exit 1; }
URL=http://127.0.0.1:$PORT/endpoint-online-1

# bodies N DIR: N distinct request bodies DIR/I.json (1 or 2 rows of
# multiples of 1/256, every 5th with params.top_k 3, every 10th for
# /invocations), and DIR/I.route.
bodies() {
	$PY - "$1" "$2" <<'EOF'
import json, sys
n, d = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    rows = [[((i * 7 + j * (r + 1)) % 256) / 256 for j in range(784)] for r in range(1 + i % 2)]
    route = "invocations" if i % 10 == 9 else "score"
    body = {"dataframe_split": {"data": rows}} if route == "invocations" else {"input_data": {"data": rows}}
    if i % 5 == 0:
        body["params"] = {"top_k": 3}
    open(f"{d}/{i}.json", "w").write(json.dumps(body))
    open(f"{d}/{i}.route", "w").write(route)
EOF
}

# send N DIR PARALLEL [ID-PREFIX]: POST each body with curl, PARALLEL at a
# time (each its own connection), within 20 s each; DIR/I.code, .hdr, .out.
send() {
	seq 0 $(($1 - 1)) | N_DIR=$2 N_URL=$URL N_KEY=$KEY N_PFX=${4:-} xargs -P "$3" -n 1 sh -c '
		i=$1
		set -- -H "Authorization: Bearer $N_KEY" -H "Content-Type: application/json"
		[ -n "$N_PFX" ] && set -- "$@" -H "x-request-id: $N_PFX$i"
		curl -s --max-time 20 -D "$N_DIR/$i.hdr" -o "$N_DIR/$i.out" -w "%{http_code}\n" "$@" \
			--data-binary @"$N_DIR/$i.json" "$N_URL/$(cat "$N_DIR/$i.route")" >"$N_DIR/$i.code"' sh
}

# all_200 N DIR: every answer was 200.
all_200() { [ "$(cat "$2"/*.code | grep -c '^200$')" = "$1" ]; }

# ---- sampling_rate 1.0: 1,000 requests, 16 at a time ----
mkdir -p "$T/a"
bodies 1000 "$T/a"
t0=$(date +%s)
send 1000 "$T/a" 16
all_200 1000 "$T/a" && ok "1,000 requests from 16 connections: all 200 ($(($(date +%s) - t0)) s)" ||
	not_ok "1,000 requests: all 200" "$(cat "$T"/a/*.code | sort | uniq -c)"
sleep 0.5   # the last lines are written after the last answers
"$SP" online-deployment get-data $DEP -c model_inputs >"$T/in.jsonl" 2>"$T/gd.err" &&
	"$SP" online-deployment get-data $DEP --collection model_outputs >"$T/outs.jsonl" 2>>"$T/gd.err" ||
	not_ok "get-data" "$(cat "$T/gd.err")"
out=$($PY - "$T/a" 1000 "$T/in.jsonl" "$T/outs.jsonl" <<'EOF'
import json, struct, sys
d, n, fin, fout = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
KEYS = ["specversion", "id", "source", "type", "datacontenttype", "time", "correlationid", "endpoint",
        "deployment", "route", "params", "data"]
f32 = lambda v: struct.pack("<f", v)
def lines(path, kind):
    got = {}
    for raw in open(path, "rb").read().split(b"\n")[:-1]:
        o = json.loads(raw)
        want = [k for k in KEYS if k != "params" or "params" in o]
        assert list(o) == want, ("keys", list(o))
        assert o["type"] == "azureml.inference." + kind and o["specversion"] == "1.0"
        assert o["source"] == "/endpoints/endpoint-online-1/deployments/blue" and o["deployment"] == "blue"
        assert len(o["id"]) == 32 and o["time"].endswith("Z")
        assert o["correlationid"] not in got, "twice: " + o["correlationid"]
        got[o["correlationid"]] = (o, raw)
    return got
ins, outs = lines(fin, "model_inputs"), lines(fout, "model_outputs")
ids = {}
for i in range(n):
    hdr = open(f"{d}/{i}.hdr").read().lower()
    rid = [l.split(":", 1)[1].strip() for l in hdr.splitlines() if l.startswith("x-request-id:")][0]
    ids[rid] = i
assert len(ins) == n and len(outs) == n, ("lines", len(ins), len(outs))
assert set(ins) == set(ids) == set(outs), "the ids differ"
for rid, i in ids.items():
    body = json.load(open(f"{d}/{i}.json"))
    route = open(f"{d}/{i}.route").read()
    sent = (body.get("input_data") or body.get("dataframe_split"))["data"]
    o, _ = ins[rid]
    assert o["route"] == route and o.get("params") == body.get("params"), ("route/params", i)
    assert [[f32(v) for v in r] for r in o["data"]] == [[f32(v) for v in r] for r in sent], ("inputs", i)
    oo, raw = outs[rid]
    answer = open(f"{d}/{i}.out", "rb").read()
    assert raw.split(b'"data": ', 1)[1] == answer + b"}", ("output bytes", i)
    assert oo["params"] == body["params"] if "params" in body else "params" not in oo
print("ok")
EOF
)
[ "$out" = ok ] && ok "1,000 input and 1,000 output lines, valid JSON, joined on x-request-id, equal to what was sent and answered" ||
	not_ok "the collected lines" "$out"
m=$(curl -s "http://127.0.0.1:$PORT/metrics")
check_contains "/metrics counts the lines" \
	'scorepoint_collect_lines_total{deployment="endpoint-online-1/blue",collection="model_outputs"} 1000' "$m"
mode=$(find "$W/data" -name data.jsonl -exec stat -c %a {} + | sort -u; find "$W/data" -type d -exec stat -c %a {} + | sort -u)
[ "$mode" = "$(printf '600\n700')" ] && ok "files 0600, folders 0700" || not_ok "files 0600, folders 0700" "$mode"

# ---- sampling_rate 0.1, changed while serving ----
lib_ws_quiet "$SP" online-deployment update $DEP --set data_collector.sampling_rate=0.1
send 1000 "$T/a" 8 s10-
all_200 1000 "$T/a" && ok "1,000 requests at sampling_rate 0.1: all 200" || not_ok "sampling 0.1: all 200"
sleep 0.5
"$SP" online-deployment get-data $DEP -c model_inputs | grep -o '"correlationid": "s10-[0-9]*"' | sort >"$T/s-in"
"$SP" online-deployment get-data $DEP -c model_outputs | grep -o '"correlationid": "s10-[0-9]*"' | sort >"$T/s-out"
k=$(wc -l <"$T/s-in")
# n = 1000, p = 0.1: mean 100, sd 9.49; 5 sd either side.
[ "$k" -ge 53 ] && [ "$k" -le 147 ] && cmp -s "$T/s-in" "$T/s-out" &&
	ok "sampling_rate 0.1: $k of 1,000 collected (53..147), the same ids in both collections" ||
	not_ok "sampling_rate 0.1" "k=$k" "$(diff "$T/s-in" "$T/s-out" | head -5)"
serve_stop

# ---- a full disk ----
if [ "$(id -u)" = 0 ] && mkdir -p "$W/data" && mount -t tmpfs -o size=64k,mode=0700 tmpfs "$W/data" 2>/dev/null; then
	MNT=$W/data
	lib_ws_quiet "$SP" online-deployment update $DEP --set data_collector.sampling_rate=1
	serve_start --workers 2 || { not_ok "serve (full disk)" "$(cat "$T/serve.err")"; exit 1; }
	URL=http://127.0.0.1:$PORT/endpoint-online-1
	mkdir -p "$T/f"
	bodies 100 "$T/f"
	send 100 "$T/f" 4
	all_200 100 "$T/f" && ok "a full disk: all 100 requests answered 200" ||
		not_ok "a full disk: all 100 requests answered 200" "$(cat "$T"/f/*.code | sort | uniq -c)"
	sleep 0.5
	m=$(curl -s "http://127.0.0.1:$PORT/metrics")
	sum() { printf '%s\n' "$m" | grep "^scorepoint_collect_$1_total{" | awk '{ s += $2 } END { print s + 0 }'; }
	lines=$(sum lines) errors=$(sum errors)
	[ "$errors" -gt 0 ] && [ $((lines + errors)) = 200 ] &&
		ok "a full disk: $errors lost lines counted in /metrics ($lines written)" ||
		not_ok "a full disk: lost lines counted" "lines=$lines errors=$errors" "$m"
	serve_stop
	grep -q "data collection: .* lost: .*No space left on device" "$T/serve.err" &&
		ok "a full disk: reported on stderr" || not_ok "a full disk: reported on stderr" "$(tail -5 "$T/serve.err")"
	out=$(find "$W/data" -name data.jsonl -exec cat {} + | $PY -c '
import json, sys
n = 0
for l in sys.stdin.buffer.read().split(b"\n")[:-1]:
    json.loads(l); n += 1
print(n)' 2>&1)
	[ "$out" = "$lines" ] && ok "a full disk: the files hold whole lines only ($out)" ||
		not_ok "a full disk: whole lines only" "$out"
	umount "$MNT" && MNT=
else
	ok "a full disk # SKIP needs root to mount a tmpfs"
fi

# ---- --collect-max-bytes: the oldest hours first ----
rm -rf "$W/data/modelDataCollector"
B=$W/data/modelDataCollector/endpoint-online-1/blue
old() {   # old COLLECTION HH: 400 lines of 100 bytes, ids old-HH-K
	mkdir -p "$B/$1/2020/01/01/$2"
	$PY -c "
import sys
for k in range(400):
    sys.stdout.write(('{\"correlationid\": \"old-$2-%03d\", \"data\": [[0.0]]}' % k).ljust(99) + '\n')" \
		>"$B/$1/2020/01/01/$2/data.jsonl"
}
old model_inputs 00
old model_outputs 01
old model_inputs 02
out=$("$SP" online-deployment get-data $DEP --list --from 2020-01-01T01 --to 2020-01-01T02)
[ "$(printf '%s\n' "$out" | wc -l)" = 2 ] &&
	check_contains "get-data --list: path, collection, hour, lines, bytes" \
	'{"path": "data/modelDataCollector/endpoint-online-1/blue/model_outputs/2020/01/01/01/data.jsonl", "collection": "model_outputs", "hour": "2020-01-01T01", "lines": 400, "bytes": 40000}' "$out" ||
	not_ok "get-data --list" "$out"
n=$("$SP" online-deployment get-data $DEP -c model_inputs --from 2020-01-01 --to 2020-01-01 | grep -c '"old-0[02]-')
[ "$n" = 800 ] && ok "get-data prints the lines of the hours asked for" || not_ok "get-data prints" "$n"
# 120,000 bytes there; the limit 100,000: one request's lines make the
# oldest hour go, and only it.
SCOREPOINT_COLLECT_MAX_BYTES=100000 serve_start --workers 2 || { not_ok "serve (limit)"; exit 1; }
URL=http://127.0.0.1:$PORT/endpoint-online-1
mkdir -p "$T/p"
bodies 12 "$T/p"
sendone() { seq "$1" "$1" | while read -r i; do
	curl -s -o /dev/null -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
		--data-binary @"$T/p/1.json" "$URL/score"; done; }
sendone 1
sleep 0.3
[ ! -e "$B/model_inputs/2020/01/01/00" ] && [ -e "$B/model_outputs/2020/01/01/01/data.jsonl" ] &&
	[ -e "$B/model_inputs/2020/01/01/02/data.jsonl" ] &&
	ok "--collect-max-bytes: the oldest hour removed first, the others kept" ||
	not_ok "--collect-max-bytes: the oldest hour first" "$(find "$W/data" -name data.jsonl)"
i=0
while [ -e "$B/model_outputs/2020/01/01/01" ] && [ $i -lt 10 ]; do sendone 1; sleep 0.2; i=$((i + 1)); done
[ ! -e "$B/model_outputs/2020/01/01/01" ] && [ -e "$B/model_inputs/2020/01/01/02/data.jsonl" ] &&
	ok "--collect-max-bytes: then the next oldest, across collections" ||
	not_ok "--collect-max-bytes: then the next oldest" "$(find "$W/data" -name data.jsonl)"
total=$(find "$W/data" -name data.jsonl -exec stat -c %s {} + | awk '{ s += $1 } END { print s }')
[ "$total" -le 100000 ] && ok "--collect-max-bytes: $total bytes kept" || not_ok "the total" "$total"
serve_stop
