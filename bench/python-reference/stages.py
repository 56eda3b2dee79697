"""stages.py REPS BODY.json... - where the stand-in's time goes, in process
(no HTTP): for each Azure-style body ({"input_data": split}), the median
over REPS runs of each step of app.py's /score path, in milliseconds:

    rows loads frame cast enforce predict encode total azure_parse

loads = json.loads of the body, frame = the pandas DataFrame, cast = the
per-column cast to the signature's types, enforce = the schema check and
reordering, predict = float32 values + the no-grad forward + the output
DataFrame, encode = records + json.dumps.  azure_parse is not part of the
stand-in: it is what Azure ML's generated scoring script for MLflow models
does instead of frame + cast, json.dumps of the parsed "input_data" and
pd.read_json(orient="split", dtype=False), for comparison."""

import json
import statistics
import sys
import time

import app


def once(raw):
    t = [time.perf_counter()]
    body = json.loads(raw.decode("utf-8"))
    t.append(time.perf_counter())
    pdf = app.dataframe_from_split(body["input_data"])
    t.append(time.perf_counter())
    pdf = app.cast_to_schema(pdf)
    t.append(time.perf_counter())
    pdf = app.enforce_schema(pdf)
    t.append(time.perf_counter())
    out = app.predict(pdf)
    t.append(time.perf_counter())
    json.dumps(out.to_dict(orient="records"))
    t.append(time.perf_counter())
    t0 = time.perf_counter()
    app.pd.read_json(json.dumps(body["input_data"]), orient="split", dtype=False)
    azure = time.perf_counter() - t0
    return len(pdf), [1e3 * (b - a) for a, b in zip(t, t[1:])] + [1e3 * (t[-1] - t[0]), 1e3 * azure]


def main():
    reps = int(sys.argv[1])
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            raw = f.read()
        once(raw)  # warm
        runs = [once(raw) for _ in range(reps)]
        cols = zip(*(r[1] for r in runs))
        print(runs[0][0], " ".join(f"{statistics.median(c):.3f}" for c in cols))


main()
