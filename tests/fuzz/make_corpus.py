#!/usr/bin/env python3
"""tests/fuzz/make_corpus.py - (re)write the seed corpora of tests/fuzz/corpus/.

Run from the repository root after `make` (the blob seeds come from
build/release/pth2blob).  Seeds are small: the fixtures' request bodies cut
to two rows, the e2e refusal cases' bodies, the tutorial's YAML files, the
fixture MLmodel files, small .pth files and their data.pkl, blobs converted
from them, tokens, traffic strings.  Each seed stays under 64 KiB.

    python3 tests/fuzz/make_corpus.py [build/release/pth2blob]
"""
import base64
import glob
import hashlib
import hmac
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

ROOT = "tests/fuzz/corpus"
MAX_SEED = 64 * 1024
seeds = {}


def add(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED:
        return
    name = name or hashlib.sha1(data).hexdigest()[:16]
    seeds.setdefault(target, {})[name] = data


# ---- requests: selector byte (fuzz_req.c) + body ----
JSON, MLFLOW, CSV = 0, 1, 2
S_ABC, S_ANON, S_784 = 0, 1, 2


def sel(mode, schema, tight=False):
    return bytes([mode | schema << 2 | (16 if tight else 0)])


def trim(v, rows=2):
    """Cut every list of rows in a fixture body to `rows` rows."""
    if isinstance(v, dict):
        return {k: trim(x, rows) for k, x in v.items()}
    if isinstance(v, list):
        if v and isinstance(v[0], (list, dict)):
            return [trim(x, rows) for x in v[:rows]]
        if len(v) > 784:   # a column of 200 values (columns orient)
            return v[:rows]
        return v
    return v


for path in sorted(glob.glob("fixtures/test_data/batch200_*.json")):
    body = trim(json.load(open(path)))
    if "input_data" in body and isinstance(body["input_data"], dict) and "index" in body["input_data"]:
        body["input_data"]["index"] = body["input_data"]["index"][:2]
    text = json.dumps(body, separators=(",", ":"))
    mode = JSON if "azureml" in path else MLFLOW
    add("fuzz_req", sel(mode, S_784) + text.encode(), os.path.basename(path))
csv = open("fixtures/test_data/batch200.csv").read().split("\n")
add("fuzz_req", sel(CSV, S_784) + "\n".join(csv[:3]).encode() + b"\n", "batch200.csv")

SMALL = [
    (JSON, '{"input_data": {"columns": ["a","b","c"], "index": [0, 1], "data": [[1,2,3],[4,5,6]]}}'),
    (JSON, '{"input_data": {"columns": ["c","x","a","b"], "data": [[3,"s",1,2],[6,null,4,5]]}}'),
    (JSON, '{"input_data": [[1,2,3],[4,5,6]]}'),
    (JSON, '{"input_data": {"b": [2,5], "a": [1,4], "c": [3,6]}}'),
    (JSON, '{"data": [[1,2,3]]}'),
    (JSON, '[[1,2,3],[4,5,6]]'),
    (JSON, ' {"input_data" : [ [ 1 , 2.0e0 , 3 ] , [4,5,6.000000000000000000001] ] } \n'),
    (JSON, '{"input_data": [[-0.0, 1e-45, 0.1], [16777217, 3.4028234663852886e+38, 1e-50]]}'),
    (JSON, '{"input_data": {"columns": ["\\u0061","b","\\u0063"], "data": [[1,2,3],[4,5,6]]}}'),
    (MLFLOW, '{"dataframe_split": {"columns": ["a","b","c"], "data": [[1,2,3],[4,5,6]]}}'),
    (MLFLOW, '{"dataframe_split": {"data": [[1,2,3],[4,5,6]]}}'),
    (MLFLOW, '{"dataframe_records": [{"c":3,"b":2,"a":1},{"a":4,"b":5,"c":6,"z":"extra"}]}'),
    (MLFLOW, '{"instances": [[1,2,3],[4,5,6]]}'),
    (MLFLOW, '{"instances": [{"a":1,"b":2,"c":3},{"a":4,"b":5,"c":6}]}'),
    (MLFLOW, '{"inputs": [[1,2,3],[4,5,6]]}'),
    (MLFLOW, '{"inputs": {"a":[1,4],"b":[2,5],"c":[3,6]}}'),
    (MLFLOW, '{"inputs": {"x": [[1,2,3],[4,5,6]]}}'),
    (MLFLOW, '{"inputs": [[1,2,3],[4,5,6]], "params": {"top_k": 2, "other": "ok"}}'),
    (CSV, 'a,b,c\n1,2,3\n4,5,6\n'),
    (CSV, 'c,"b",a,extra\r\n3, 2 ,1,x\r\n6,+5.,.4,"y,z"\r\n'),
    (CSV, 'a,b,c\n1,nan,3\n'),
]
# What fuzzing found (each fixed, with a unit test in tests/unit/test_req.c).
SMALL += [
    (JSON, '{"input_data": [[0,0.0,'),
    (CSV, 'a,b\0,c\n1,2,3\n'),
    (MLFLOW, '{"inputs": {"a":[1,4],"b":[2],"c":[3,6]}}'),
    (JSON, '{"input_data": {"columns": ["061","b","\\u0063"], "data": [[1,2,3],[1e39,5,6]]}}'),
]
for i, (mode, body) in enumerate(SMALL):
    add("fuzz_req", sel(mode, S_ABC) + body.encode(), "abc-%02d" % i)
    add("fuzz_req", sel(mode, S_ANON, tight=i % 2 == 1) + body.encode(), "anon-%02d" % i)


def case(path):
    head, _, body = open(path, "rb").read().partition(b"\nbody:\n")
    fields = dict(l.split(": ", 1) for l in head.decode().split("\n") if ": " in l)
    return fields, body


V2_HEAD = b"\x02"   # fuzz_v2.c: schema 2 (784 columns)
for path in sorted(glob.glob("tests/e2e/bad/*.case")):
    f, body = case(path)
    name = "bad-" + os.path.basename(path)[:-5]
    if f.get("path", "").startswith("/v2/"):
        add("fuzz_v2", V2_HEAD + body, name)
    elif f.get("path") in ("/score", "/invocations"):
        ctype = f.get("content-type", "")
        mode = CSV if "csv" in ctype else MLFLOW if f["path"] == "/invocations" else JSON
        add("fuzz_req", sel(mode, S_784) + body, name)
        if mode != CSV:
            add("fuzz_json", body, name)

# ---- KServe V2 ----
V2_SMALL = [
    '{"inputs": [{"name": "input-0", "shape": [2, 3], "datatype": "FP32", "data": [1,2,3,4,5,6]}]}',
    '{"id": "r1", "inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [[1,2,3],[4,5,6]]}],'
    ' "outputs": [{"name": "output-0", "parameters": {"classification": 2}}]}',
    '{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "INT32", "data": [1, 2, 3]}], "parameters": {}}',
    '{"inputs": [{"name": "x", "shape": [2, 1, 3], "datatype": "FP32", "data": [[[1,2,3]],[[4,5,6]]]}]}',
    '{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "UINT8", "data": [1, 2, 3]}]}',
]
for i, body in enumerate(V2_SMALL):
    add("fuzz_v2", b"\x00" + body.encode(), "abc-%02d" % i)
    add("fuzz_v2", b"\x11" + body.encode(), "anon-tight-%02d" % i)
    add("fuzz_json", body, "v2-%02d" % i)
img = json.load(open("fixtures/test_data/images_azureml.json"))["input_data"]["data"]
add("fuzz_v2", V2_HEAD + json.dumps({"id": "tutorial", "inputs": [
    {"name": "input-0", "shape": [1, 784], "datatype": "FP32", "data": img[0]}]}).encode(), "tutorial-1row")

# ---- numbers ----
for t in ["0", "-0", "1", "-1.5", "0.1", "1e5", "1E-5", "2.2250738585072014e-308", "4.9e-324",
          "2.4703282292062327e-324", "2.4703282292062328e-324", "1.7976931348623157e308",
          "1.7976931348623159e308", "1e999", "-1e-999", "9007199254740993", "0.30000000000000004",
          "123456789012345678901234567890", "1." + "0" * 40 + "1", "00", "1.", ".5", "+1", " 1 ",
          "nan", "-Infinity", "inf", "1e", "0x10", "3.4028234663852886e+38",
          "8.98846567431158e307", "0.000001", "1e-7", "100000000000000000000000"]:
    add("fuzz_num", t)

# ---- zip, .pth, pickle ----
pths = sorted(glob.glob("fixtures/pth/*.pth")) + ["fixtures/pth/script.pt", "fixtures/model/data/model.pth"]
for path in pths:
    data = open(path, "rb").read()
    if len(data) > 20000 and "model.pth" not in path:
        continue
    add("fuzz_pth", data, os.path.basename(path))
    add("fuzz_zip", data, os.path.basename(path))
    try:
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.endswith("data.pkl"):
                    add("fuzz_pickle", z.read(n), os.path.basename(path) + ".pkl")
    except zipfile.BadZipFile:
        add("fuzz_pickle", data, os.path.basename(path))

# ---- blobs ----
pth2blob = sys.argv[1] if len(sys.argv) > 1 else "build/release/pth2blob"
tmp = tempfile.mkdtemp()
try:
    open(os.path.join(tmp, "labels.txt"), "w").write("zero\none\ntwo\nthree\n")
    jobs = [("zoo", ["fixtures/pth/zoo.pth"]), ("views", ["fixtures/pth/views.pth"]),
            ("usernet", ["fixtures/pth/usernet.pth"]),
            ("labels", ["--labels", os.path.join(tmp, "labels.txt"), "--postprocess", "labels",
                        "fixtures/pth/shared_relu.pth"]),
            ("arch", ["--arch", "linear,tanh,linear,gelu,linear,leaky_relu:0.2,linear", "fixtures/pth/views_sd.pth"]),
            # format version 2: spatial ops, an input shape, the assumed-order flag
            ("cnn-bn", ["fixtures/pth/cnn_bn.pth"]), ("cnn-avgpool", ["fixtures/pth/cnn_avgpool.pth"]),
            ("cnn-adaptive", ["fixtures/pth/cnn_adaptive.pth"]),
            ("assumed", ["--assume-registration-order", "fixtures/pth/usernet2.pth"])]
    for name, args in jobs:
        out = os.path.join(tmp, name + ".blob")
        if subprocess.run([pth2blob, "--name", "fuzz"] + args + [out], capture_output=True).returncode == 0:
            add("fuzz_blob", open(out, "rb").read(), name + ".blob")
finally:
    shutil.rmtree(tmp)

# ---- YAML ----
for path in sorted(glob.glob("deploy/examples/*/cloud/*.yml")):
    add("fuzz_ws_yaml", open(path, "rb").read(), path.split("/")[2] + "-" + os.path.basename(path))
add("fuzz_ws_yaml", "name: blue\ncount: 3\nratio: 0.5\nflag: True\nnothing: ~\nquoted: '123'\n"
    "environment:\n  image: x/y:1\n  conda: [a, b]\ntags: {}\n", "round-trip")
add("fuzz_ws_yaml", "name: e1\nauth_mode: aml_token\ntraffic:\n  blue: 90\n  green: 10\n"
    "mirror_traffic:\n  green: 0\nsecrets:\n  primary_key: AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n",
    "state-endpoint")
add("fuzz_ws_yaml", "name: blue\nendpoint_name: e1\nmodel: azureml:m:1\nrequest_settings:\n"
    "  request_timeout_ms: 3000\n  max_concurrent_requests_per_instance: 2\nenvironment_variables:\n"
    "  A_B: '1'\nliveness_probe:\n  period: 10\ninstance_count: 2\n", "deployment-settings")
for path in ["fixtures/model/MLmodel", "fixtures/pyfunc_model/MLmodel"]:
    add("fuzz_mlmodel", open(path, "rb").read(), path.split("/")[1] + "-MLmodel")
cols = json.dumps([{"type": "double", "name": n} for n in "abc"])
add("fuzz_mlmodel", "artifact_path: model\nflavors:\n  pytorch:\n    model_data: data\n    pytorch_version: 2.1.0\n"
    "  python_function:\n    loader_module: mlflow.pytorch\nsignature:\n  inputs: '%s'\n"
    "  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, 10]}}]'\n" % cols,
    "small-columns")
add("fuzz_mlmodel", "flavors:\n  pytorch:\n    model_data: data\nsignature:\n  inputs: '[{\"type\": \"tensor\","
    " \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, 28, 28]}}]'\n", "small-tensor")
add("fuzz_mlmodel", "flavors:\n  pytorch:\n    model_data: data\nsignature:\n  inputs: '[{\"type\": \"double\","
    " \"name\": \"a\"}, {\"type\":}]'\n", "found-key-without-value")   # tests/unit/test_mlmodel.c
add("fuzz_mlmodel", "flavors:\n  python_function:\n    artifacts:\n      model:\n        path: artifacts/model.pth\n"
    "        uri: /tmp/model.pth\n    loader_module: mlflow.pyfunc.model\n", "pyfunc")

# ---- tokens and keys (fuzz_auth.c: fixed secret, audience, time) ----
KEY = bytes(range(1, 33))
AUD, NOW = "endpoint-online-1", 1700000000


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def token(payload, header=b'{"alg":"HS256","typ":"JWT"}', key=KEY):
    signing = b64(header) + b"." + b64(payload)
    return signing + b"." + b64(hmac.new(key, signing, hashlib.sha256).digest())


def claims(**kw):
    c = {"iss": "scorepoint", "aud": AUD, "iat": NOW - 10, "exp": NOW + 3590}
    c.update(kw)
    return json.dumps(c, separators=(",", ":")).encode()


add("fuzz_auth", b"\x00" + token(claims()), "valid")
add("fuzz_auth", b"\x00" + token(claims(exp=NOW - 1)), "expired")
add("fuzz_auth", b"\x00" + token(claims(aud=[AUD], nbf=NOW)), "aud-array-nbf")
add("fuzz_auth", b"\x00" + token(claims(aud="other")), "other-audience")
add("fuzz_auth", b"\x00" + token(claims(), key=bytes(32)), "other-secret")
add("fuzz_auth", b"\x00" + token(claims(), header=b'{"alg":"none"}'), "alg-none")
add("fuzz_auth", b"\x01" + b'{"alg":"HS256","typ":"JWT"}\n' + claims(), "signed-claims")
add("fuzz_auth", b"\x01" + b'{"alg":"HS256","crit":["x"]}\n' + claims(iat=NOW + 61), "signed-crit")
add("fuzz_auth", b"\x01" + b'{"alg":"HS256","alg":"HS256"}\n{"aud":"endpoint-online-1","exp":1e10,"iat":0}',
    "signed-duplicate")
add("fuzz_auth", b"\x02Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "bearer")
add("fuzz_auth", b"\x02 \tbEaReR   AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA \t", "bearer-spaces")
add("fuzz_auth", b"\x02Basic dXNlcjpwYXNz", "basic")
add("fuzz_auth", b"\x03" + b"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA" * 2, "key-equal")
add("fuzz_auth", b"\x03" + b"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA" + b"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyB",
    "key-differs")
add("fuzz_auth", b"\x04" + struct.pack(">IH", NOW, 3599), "mint")
add("fuzz_auth", b"\x04" + struct.pack(">IH", NOW, 3599) + bytes([0, 5, 1, 0, 200, 0, 255, 255, 0x41]), "mint-edit")
add("fuzz_auth", b"\x04" + struct.pack(">IH", 0, 0) + bytes([0, 150, 1]), "mint-edit-signature")
add("fuzz_json", b'{"alg":"HS256","typ":"JWT"}', "jwt-header")
add("fuzz_json", claims(aud=[AUD]), "jwt-claims")
add("fuzz_json", '[1, -0.0e+5, "\\ud83d\\ude00", true, false, null, {"a": {}}, []]', "all-values")

# ---- traffic ----
for t in ["blue=90 green=10", "", "  a=100  ", "blue=0", "x-1=50 y_2=50 z=0", "blue=101", "blue=90 blue=10",
          "a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10 k=11 l=12 m=13 n=14 o=15 p=16 q=17 r=18 s=19 t=20",
          "blue=007", "Blue=50 blue=50", "a" * 32 + "=100"]:
    add("fuzz_traffic", t)

PYLIT_SEEDS = [
    b"labels = {2: 'c', 0: 'a', 1: 'b'}\n",
    b'classes = (\'x\\n\\t\\\\\\\'\\"\', \'\\x41\\u00e9\\U0001F600\\101\',\n  # c\n  \'y\' \\\n  \'z\')\n',
    b"labels = [[['a']], {0: (1, 2.5, None)}, {'s'}]\n",
    b'labels = [\'a\', "b", \'\'\'c\'\'\', """d""", r\'\\e\', u\'f\' \'g\',]  # comment\n',
    b"labels = [f'{x}', b'y', str(1), name, x[0], -1, 0x1F, '\\N{BULLET}']\n",
    b"labels_map = {0: 'T-Shirt', 1: 'Trouser', 2: 'Pullover'}\n",
]
# ---- Python literals of a pyfunc wrapper's code (tools/pylit.c) ----
add("fuzz_pylit", open("fixtures/pyfunc_model/code/model_wrapper.py", "rb").read())
for lit in PYLIT_SEEDS:
    add("fuzz_pylit", lit)

shutil.rmtree(ROOT, ignore_errors=True)
total = 0
for target, files in sorted(seeds.items()):
    os.makedirs(os.path.join(ROOT, target))
    for name, data in sorted(files.items()):
        with open(os.path.join(ROOT, target, name), "wb") as f:
            f.write(data)
        total += len(data)
    print("%-14s %3d seeds" % (target, len(files)))
print("total %d bytes" % total)
