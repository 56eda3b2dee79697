"""
A stand-in for the Python scoring stack that scorepoint replaces: a Flask
app, served by gunicorn, that follows MLflow's scoring path (see README.md
beside this file).  It is not MLflow: MLflow is not a Debian package, so the
steps of `mlflow models serve` that run for this model are written out here.

    gunicorn --chdir bench/python-reference -w 2 -b 127.0.0.1:PORT app:app

The model folder is $PYREF_MODEL (default: fixtures/model of this checkout).
"""

import json
import os
import sys

import numpy as np
import pandas as pd
import torch
import yaml
from flask import Flask, Response, request

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.environ.get("PYREF_MODEL") or os.path.join(HERE, "..", "..", "fixtures", "model")

# One intra-op thread per worker: the FastCGI benchmark runs each worker with
# OPENBLAS_NUM_THREADS=1, and 2 workers share 2 cores.
torch.set_num_threads(1)


def load_model(model_dir):
    """mlflow.pytorch's _load_pyfunc: the code folder on sys.path, then
    torch.load of data/model.pth (a pickled whole module)."""
    with open(os.path.join(model_dir, "MLmodel")) as f:
        mlmodel = yaml.safe_load(f)
    code = mlmodel["flavors"]["python_function"].get("code")
    if code:
        sys.path.insert(0, os.path.join(model_dir, code))
    data = os.path.join(model_dir, mlmodel["flavors"]["pytorch"]["model_data"])
    # MLflow passes pickle_module=mlflow.pytorch.pickle_module, which is
    # cloudpickle; loading a cloudpickle file is a plain pickle.load, which
    # is torch.load's default.
    model = torch.load(os.path.join(data, "model.pth"), map_location="cpu")
    model.eval()
    # The column-based input signature: names and types, in order.
    inputs = json.loads(mlmodel["signature"]["inputs"])
    return model, [(c["name"], c["type"], c.get("required", True)) for c in inputs]


MODEL, SCHEMA = load_model(MODEL_DIR)
if "gunicorn" in sys.modules:
    # bench/python.sh waits for this line from both workers before measuring.
    print(f"python-reference: worker {os.getpid()} loaded {MODEL_DIR}", file=sys.stderr, flush=True)
NUMPY_TYPES = {"double": np.float64, "float": np.float32, "long": np.int64, "integer": np.int32}


class BadInput(Exception):
    pass


def dataframe_from_split(split):
    """proto_json_utils.dataframe_from_parsed_json(orient="split")."""
    if not isinstance(split, dict):
        raise BadInput("Dataframe split format must be a dictionary.")
    keys = set(split)
    if "data" not in keys or keys - {"columns", "data", "index"}:
        raise BadInput("Dataframe split format must have 'data' field and optionally "
                       f"'columns' and 'index' fields. Got {keys}.")
    try:
        return pd.DataFrame(index=split.get("index"), columns=split.get("columns"), data=split["data"])
    except Exception as ex:
        raise BadInput(f"Provided dataframe_split field is not a valid dataframe "
                       f"representation in 'split' format. Error: '{ex}'")


def cast_to_schema(pdf):
    """proto_json_utils.cast_df_types_according_to_schema, which the scoring
    server runs right after building the DataFrame: one astype and one
    column assignment per schema column present in the input."""
    actual = set(pdf.columns)
    for name, typ, _ in SCHEMA:
        if name in actual:
            try:
                pdf[name] = pdf[name].astype(NUMPY_TYPES[typ], copy=False)
            except Exception as ex:
                raise BadInput(f"Data is not compatible with model signature. Failed to convert "
                               f"column {name} to type '{typ}'. Error: '{ex!r}'")
    return pdf


def enforce_schema(pdf):
    """models.utils._enforce_named_col_schema: every required column present,
    safe conversions only, extra columns dropped, schema order kept."""
    out = {}
    for name, typ, required in SCHEMA:
        if name not in pdf:
            if required:
                raise BadInput(f"The input column '{name}' is required by the model "
                               "signature but missing from the input data.")
            continue
        values, want = pdf[name], np.dtype(NUMPY_TYPES[typ])
        if values.dtype != want:
            kind = values.dtype.kind
            if (kind == want.kind and values.dtype.itemsize <= want.itemsize) or \
                    (kind in "iu" and want == np.float64 and values.dtype.itemsize <= 6):
                values = values.astype(want, errors="raise")
            else:
                raise BadInput(f"Incompatible input types for column {name}. "
                               f"Can not safely convert {values.dtype} to {want}.")
        out[name] = values
    return pd.DataFrame(out)


def predict(pdf):
    """mlflow.pytorch._PyTorchWrapper.predict on a DataFrame: float32 values,
    a no-grad forward, a DataFrame of the outputs with the input's index."""
    inp = pdf.values.astype(np.float32)
    with torch.no_grad():
        preds = MODEL(torch.from_numpy(inp))
    out = pd.DataFrame(preds.numpy())
    out.index = pdf.index
    return out


def score_split(split):
    """Split-orient dict in, records (a list of {"0": v, ...}) out, as
    _get_jsonable_obj(pandas_orient="records") makes them."""
    pdf = cast_to_schema(dataframe_from_split(split))
    return predict(enforce_schema(pdf)).to_dict(orient="records")


def answer(obj, status=200):
    return Response(json.dumps(obj), status=status, mimetype="application/json")


app = Flask(__name__)


@app.route("/", methods=["GET"])
def healthy():  # azureml-inference-server-http's liveness answer
    return Response("Healthy", mimetype="text/plain")


@app.route("/ping", methods=["GET"])
@app.route("/health", methods=["GET"])
def ping():  # MLflow's: a single newline
    return Response("\n", mimetype="application/json")


@app.route("/score", methods=["POST"])
def score():
    """Azure ML's no-code MLflow deployment: {"input_data": split}, a bare
    records list back.  (Only the split shape is in this stand-in.)"""
    try:
        body = json.loads(request.get_data().decode("utf-8"))
        if not isinstance(body, dict) or "input_data" not in body:
            raise BadInput("A value is not provided for the 'input_data' parameter.")
        return answer(score_split(body["input_data"]))
    except (BadInput, ValueError) as ex:
        return answer({"message": str(ex)}, 400)


@app.route("/invocations", methods=["POST"])
def invocations():
    """`mlflow models serve`: {"dataframe_split": split} in, {"predictions":
    records} out.  (Only dataframe_split is in this stand-in.)"""
    ctype = (request.content_type or "").split(";")[0].strip()
    if ctype != "application/json":
        return Response("This predictor only supports the following content types: "
                        f"Types: ['application/json']. Got '{ctype}'.", 415, mimetype="text/plain")
    try:
        body = json.loads(request.get_data().decode("utf-8"))
        keys = [k for k in ("dataframe_split", "dataframe_records", "instances", "inputs")
                if isinstance(body, dict) and k in body]
        if keys != ["dataframe_split"]:
            raise BadInput("This stand-in takes a JSON dictionary with exactly the input field "
                           "'dataframe_split'.")
        return answer({"predictions": score_split(body["dataframe_split"])})
    except (BadInput, ValueError) as ex:
        return answer({"error_code": "BAD_REQUEST", "message": "Invalid input. " + str(ex)}, 400)
