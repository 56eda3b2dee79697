"""replay_drive.py - the traffic of tests/e2e/replay.sh, and the numbers it
checks, with nothing but Python's standard library.

  drive URL KEY N OUT_DIR   N scoring requests of 1 to 3 rows of the
      tutorial's test set to URL (/endpoint-online-1/score, every fifth to
      /invocations, every seventh with params.top_k), one after another;
      writes OUT_DIR/sent.jsonl (a line per request: route, params, rows,
      x-request-id, status, the answer's body), OUT_DIR/bodies.jsonl (the
      request bodies, one per line) and OUT_DIR/rows.json (every row sent,
      in order, as one request for `scorepoint predict`)
  flips A.json B.json   how many rows' argmax differ between two answers of
      `scorepoint predict` (lists of {"0": v, ...})
  field REPORT PATH   a field of a replay report (dotted path), as JSON
"""
import json
import os
import sys
import urllib.error
import urllib.request

ROWS = "fixtures/test_data/batch200_azureml_list.json"


def drive(url, key, n, out):
    rows = json.load(open(ROWS))["input_data"]
    sent, bodies, every_row, at = [], [], [], 0
    for i in range(n):
        k = 1 + i % 3
        chunk = [rows[(at + j) % len(rows)] for j in range(k)]
        at += k
        route = "invocations" if i % 5 == 4 else "score"
        body = {"inputs" if route == "invocations" else "input_data": chunk}
        params = {"top_k": 3} if i % 7 == 6 else None
        if params:
            body["params"] = params
        text = json.dumps(body)
        req = urllib.request.Request(url + "/endpoint-online-1/" + route, data=text.encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, answer, rid = r.status, r.read().decode(), r.headers["x-request-id"]
        except urllib.error.HTTPError as e:
            status, answer, rid = e.code, e.read().decode(), e.headers["x-request-id"]
        sent.append({"route": route, "params": params, "rows": chunk, "id": rid, "status": status,
                     "answer": answer})
        bodies.append(text)
        every_row.extend(chunk)
    with open(os.path.join(out, "sent.jsonl"), "w") as f:
        for s in sent:
            f.write(json.dumps(s) + "\n")
    with open(os.path.join(out, "bodies.jsonl"), "w") as f:
        f.write("\n".join(bodies) + "\n")
    with open(os.path.join(out, "rows.json"), "w") as f:
        json.dump({"input_data": every_row}, f)
    print(sum(1 for s in sent if s["status"] == 200), len(every_row))


def argmax(row):
    best = None
    for k in sorted(row, key=int):
        if best is None or row[k] > row[best]:
            best = k
    return best


def flips(a, b):
    a, b = json.load(open(a)), json.load(open(b))
    assert len(a) == len(b), (len(a), len(b))
    print(sum(1 for x, y in zip(a, b) if argmax(x) != argmax(y)))


def field(report, path):
    """The field as JSON text, or "(missing)" (no report, no such field)."""
    try:
        v = json.load(open(report))
        for p in path.split("."):
            v = v[int(p)] if isinstance(v, list) else v[p]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        print("(missing)")
        return
    print(json.dumps(v))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "drive":
        drive(args[0], args[1], int(args[2]), args[3])
    elif cmd == "flips":
        flips(args[0], args[1])
    elif cmd == "field":
        field(args[0], args[1])
