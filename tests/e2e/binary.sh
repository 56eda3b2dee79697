# Binary tensors (issue 21): a raw float32 body on /score
# (application/octet-stream) and the Open Inference Protocol's binary data
# extension on /v2/models/NAME/infer, through lighttpd + score.fcgi
# (FastCGI) and score.fcgi as CGI by hand.  Each binary answer is compared
# with the answer to the same rows sent as JSON: the same bytes, or for a
# binary output the same float32 values.
. tests/e2e/lib.sh
. tests/e2e/lib_httpd.sh
P=$BUILD/pth2blob
S=$BUILD/score.fcgi

"$P" -q --name m fixtures/model "$T/m.blob" || { not_ok "convert the tutorial model"; exit 1; }
start_lighttpd "$T/m.blob" 2 || { not_ok "lighttpd starts with score.fcgi"; exit 1; }
ok "lighttpd starts with score.fcgi as its FastCGI backend"

# The fixtures' rows as little-endian float32 (python3's struct), as a V2
# JSON request, and as V2 binary-extension requests (JSON header + bytes;
# the header's length in NAME.hlen).
python3 - "$T" <<'PY' || { not_ok "make the binary bodies"; exit 1; }
import json, struct, sys
t = sys.argv[1]
def rows(path):
    return json.load(open(path))["input_data"]["data"]
def f32(rs):
    return b"".join(struct.pack("<%df" % len(r), *r) for r in rs)
def binary(name, rs, head):
    raw = f32(rs)
    head["inputs"][0]["parameters"] = {"binary_data_size": len(raw)}
    h = json.dumps(head).encode()
    open("%s/%s.bin" % (t, name), "wb").write(h + raw)
    open("%s/%s.hlen" % (t, name), "w").write(str(len(h)))
two = rows("fixtures/test_data/images_azureml.json")
many = rows("fixtures/test_data/batch200_azureml_split.json")
open(t + "/two.f32", "wb").write(f32(two))
open(t + "/many.f32", "wb").write(f32(many))
open(t + "/odd.f32", "wb").write(f32(two)[:-4])
open(t + "/nan.f32", "wb").write(f32(two)[:400] + struct.pack("<f", float("nan")) + f32(two)[404:])
inp = lambda rs: {"name": "input-0", "shape": [len(rs), 784], "datatype": "FP32"}
json.dump({"id": "r1", "inputs": [dict(inp(two), data=two)]}, open(t + "/v2.json", "w"))
binary("v2in", two, {"id": "r1", "inputs": [inp(two)]})
binary("v2both", two, {"id": "r1", "inputs": [inp(two)], "outputs": [{"name": "output-0",
       "parameters": {"binary_data": True}}]})
binary("v2reqlevel", two, {"id": "r1", "inputs": [inp(two)], "parameters": {"binary_data_output": True}})
binary("v2int", two, {"inputs": [dict(inp(two), datatype="INT32")]})
bad = {"inputs": [inp(two)]}
raw = f32(two)
bad["inputs"][0]["parameters"] = {"binary_data_size": len(raw) - 4}
h = json.dumps(bad).encode()
open(t + "/v2size.bin", "wb").write(h + raw)
open(t + "/v2size.hlen", "w").write(str(len(h)))
PY

# post ROUTE FILE CONTENT-TYPE [HEADER]: body to $T/out, headers to $T/hdr, status to stdout
post() {
	curl -s -o "$T/out" -D "$T/hdr" -w '%{http_code}' -H "Content-Type: $3" ${4:+-H "$4"} \
		--data-binary "@$2" "$URL$1"
}
same() {   # NAME CODE WANT-FILE
	if [ "$2" = 200 ] && cmp -s "$T/out" "$3"; then ok "$1"
	else not_ok "$1" "status $2" "$(head -c 300 "$T/out")"; fi
}
refused() {   # NAME CODE FRAGMENT
	if [ "$2" = 400 ] && grep -qF -- "$3" "$T/out"; then ok "$1"
	else not_ok "$1" "status $2" "$(head -c 300 "$T/out")"; fi
}

# /score: raw float32 = the JSON request's bytes, 2 and 200 rows.
post /score fixtures/test_data/images_azureml.json application/json >/dev/null && cp "$T/out" "$T/want2.json"
post /score fixtures/test_data/batch200_azureml_split.json application/json >/dev/null && cp "$T/out" "$T/want200.json"
same "/score octet-stream, 2 rows: the JSON request's bytes" "$(post /score "$T/two.f32" application/octet-stream)" \
	"$T/want2.json"
same "/score octet-stream, 200 rows: the JSON request's bytes" \
	"$(post /score "$T/many.f32" application/octet-stream)" "$T/want200.json"
refused "/score octet-stream: a length not a whole number of rows is a 400 naming the width" \
	"$(post /score "$T/odd.f32" application/octet-stream)" "rows of 784 little-endian float32 values"
refused "/score octet-stream: a NaN is a 400 naming its place" \
	"$(post /score "$T/nan.f32" application/octet-stream)" "row 0, column 100: NaN"
code=$(post /invocations "$T/two.f32" application/octet-stream)
[ "$code" = 415 ] && ok "/invocations: octet-stream stays a 415 (MLflow's types)" \
	|| not_ok "/invocations: octet-stream stays a 415 (MLflow's types)" "status $code"

# V2: a binary input answers the JSON request's bytes.
post /v2/models/m/infer "$T/v2.json" application/json >/dev/null && cp "$T/out" "$T/wantv2.json"
same "V2 binary input, JSON output: the JSON request's bytes" \
	"$(post /v2/models/m/infer "$T/v2in.bin" application/octet-stream \
		"Inference-Header-Content-Length: $(cat "$T/v2in.hlen")")" "$T/wantv2.json"

# V2: binary output, per output and request-wide: the header's length, the
# type, and the same float32 values as the JSON answer's "data".
for form in v2both v2reqlevel; do
	name="V2 binary output ($form): Inference-Header-Content-Length, octet-stream, the JSON answer's values"
	code=$(post /v2/models/m/infer "$T/$form.bin" application/octet-stream \
		"Inference-Header-Content-Length: $(cat "$T/$form.hlen")")
	hl=$(tr -d '\r' <"$T/hdr" | sed -n 's/^Inference-Header-Content-Length: //p')
	if [ "$code" = 200 ] && grep -qi '^Content-Type: application/octet-stream' "$T/hdr" && python3 - "$T/out" \
		"$T/wantv2.json" "$hl" <<'PY'
import json, struct, sys
body, want, hl = open(sys.argv[1], "rb").read(), json.load(open(sys.argv[2])), int(sys.argv[3])
head = json.loads(body[:hl])
out = head["outputs"][0]
n = out["parameters"]["binary_data_size"]
assert "data" not in out and out["shape"] == want["outputs"][0]["shape"] and head["id"] == "r1", head
assert len(body) == hl + n, (len(body), hl, n)
got = struct.unpack("<%df" % (n // 4), body[hl:])
exp = [struct.unpack("<f", struct.pack("<f", v))[0] for v in want["outputs"][0]["data"]]
assert list(got) == exp
PY
	then ok "$name"; else not_ok "$name" "status $code" "$(cat "$T/hdr")"; fi
done

# V2: malformed binary requests are 400s with a V2 error.
hl=$(cat "$T/v2in.hlen")
refused "V2: Inference-Header-Content-Length past the body's end" \
	"$(post /v2/models/m/infer "$T/v2in.bin" application/octet-stream \
		"Inference-Header-Content-Length: 99999999")" \
	"Inference-Header-Content-Length 99999999 is not within the body's"
refused "V2: binary_data_size that does not match the shape" \
	"$(post /v2/models/m/infer "$T/v2size.bin" application/octet-stream \
		"Inference-Header-Content-Length: $(cat "$T/v2size.hlen")")" "takes 6272 bytes"
refused "V2: a binary input of a datatype other than FP32" \
	"$(post /v2/models/m/infer "$T/v2int.bin" application/octet-stream \
		"Inference-Header-Content-Length: $(cat "$T/v2int.hlen")")" "binary inputs are FP32 only"
refused "V2: binary_data_size without Inference-Header-Content-Length" \
	"$(post /v2/models/m/infer "$T/v2in.bin" application/octet-stream)" \
	"binary data after the JSON needs the Inference-Header-Content-Length header"
refused "V2: a header length that is not a number" \
	"$(post /v2/models/m/infer "$T/v2in.bin" application/octet-stream "Inference-Header-Content-Length: 12x")" \
	"is not a byte count"
same "the tutorial's JSON request after the bad ones: the same bytes" \
	"$(post /score fixtures/test_data/images_azureml.json application/json)" "$T/want2.json"
stop_lighttpd

# score.fcgi as CGI by hand: the same bytes for the binary bodies.
# cgi_same NAME BODY WANT [VAR=VALUE...]: POST BODY with those variables.
cgi_same() {
	cs_name=$1 cs_body=$2 cs_want=$3
	shift 3
	env REQUEST_METHOD=POST CONTENT_LENGTH="$(wc -c <"$cs_body")" "$@" \
		"$S" --model "$T/m.blob" --metrics-file "$T/metrics-cgi" --log - <"$cs_body" >"$T/cgi-out" 2>/dev/null
	sed '1,/^\r$/d' "$T/cgi-out" >"$T/cgi-body"
	if head -1 "$T/cgi-out" | grep -q '^Status: 200 OK' && cmp -s "$T/cgi-body" "$cs_want"; then
		ok "$cs_name"
	else
		not_ok "$cs_name" "$(head -c 400 "$T/cgi-out")"
	fi
}
cgi_same "CGI by hand: octet-stream /score, the JSON request's bytes" "$T/two.f32" "$T/want2.json" \
	REQUEST_URI=/score CONTENT_TYPE=application/octet-stream
cgi_same "CGI by hand: V2 binary input, the JSON request's bytes" "$T/v2in.bin" "$T/wantv2.json" \
	REQUEST_URI=/v2/models/m/infer HTTP_INFERENCE_HEADER_CONTENT_LENGTH="$(cat "$T/v2in.hlen")"
