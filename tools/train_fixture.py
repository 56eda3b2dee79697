#!/usr/bin/python3
"""
Re-creates the models of the endpoint tutorial and writes the project's fixtures.

    train_fixture.py train --data CLOTHES_DIR --out DIR
    train_fixture.py compare OLD_DIR NEW_DIR [--tolerance 1e-6] [--allow-missing]

`train` reads Fashion-MNIST from the npm package fashion-mnist@1.1.0
(CLOTHES_DIR = package/src/clothes), trains the tutorial's model and a second,
float64 model, and writes into DIR everything that tools/make_fixtures.sh then
moves into fixtures/: MLflow model directories laid out the way MLflow 2.9.2
writes them (MLflow itself cannot be installed here, so its on-disk output is
emulated; see docs/pth-format.md section 6), plain torch.save files, request
bodies in every shape the server accepts, the outputs torch computes for them,
a float-formatting table and README.md.

`compare` prints the largest absolute difference between the logits of two
such directories and fails when it exceeds the tolerance.

Everything is deterministic: fixed seeds, one thread, and fixed identifiers
where MLflow would use random ones, so that a rerun on the same machine gives
byte-identical files.

Run it with Debian's /usr/bin/python3, which has python3-torch.
"""

import argparse
import contextlib
import importlib.metadata
import json
import math
import pickle
import platform
import random
import shutil
import string
import sys
import types
import uuid
from fractions import Fraction
from pathlib import Path

import cloudpickle
import numpy as np
import pandas
import torch
import yaml
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

FIXTURE_SRC = Path(__file__).resolve().parent / "fixture_src"
RELATIVE_FILE = "tools/train_fixture.py"
# The tutorial's training script imports the network from its own folder;
# doing the same here makes the whole-module pickle name the class
# `neural_network.NeuralNetwork`, as it does in a model saved with code_paths.
sys.path.insert(0, str(FIXTURE_SRC))
from neural_network import NeuralNetwork  # noqa: E402
from utils_train_nn import evaluate, fit  # noqa: E402

# The tutorial's labels_map (tools/fixture_src/model_wrapper.py), by index.
LABELS = ["T-Shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
          "Shirt", "Sneaker", "Bag", "Ankle Boot"]

N_CLASSES = 10
N_PIXELS = 28 * 28
PER_CLASS = 7000
TEST_PER_CLASS = 1000
VALIDATION_FRACTION = 0.2
BATCH_ROWS = 200

# One seed per random stream, so that changing one part (say, model 2's
# training) leaves the others untouched.
SPLIT_SEED = 20220719
TUTORIAL_SEED = 1
MODEL2_SEED = 2
FLOATS_SEED = 3

# Hyper-parameters of the tutorial (endpoint_1/src/train.py).
TUTORIAL_LEARNING_RATE = 0.1
TUTORIAL_BATCH_SIZE = 64
TUTORIAL_EPOCHS = 5
MODEL2_LEARNING_RATE = 0.1
MODEL2_BATCH_SIZE = 64
MODEL2_EPOCHS = 2
MODEL2_ARCH = "linear,tanh,linear,gelu,linear"

# What MLflow would record.  mlflow_version names the release whose layout is
# emulated; the identifiers MLflow draws at random (model_uuid) or from the
# clock (utc_time_created) are fixed so that reruns give identical files.
MLFLOW_VERSION = "2.9.2"
UTC_TIME_CREATED = "2024-01-15 14:03:27.418263"
PICKLE_MODULE_NAME = "mlflow.pytorch.pickle_module"
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "scorepoint/fixtures")


class TanhGeluNet(nn.Sequential):
    """
    Model 2: a deeper Sequential with other activations and a Dropout.

    It is defined here, in the script that runs as __main__, on purpose:
    cloudpickle then pickles the class by value (its code travels inside the
    .pth file), which is the second way a whole-module pickle can look
    (docs/pth-format.md section 6.4).  forward() is nn.Sequential's own.
    """

    def __init__(self):
        super().__init__(
            nn.Flatten(),
            nn.Linear(N_PIXELS, 64),
            nn.Tanh(),
            nn.Linear(64, 32),
            nn.GELU(),
            nn.Dropout(0.1),
            nn.Linear(32, N_CLASSES),
        )


# ---------------------------------------------------------------- data

def load_dataset(clothes_dir: Path) -> dict:
    """
    Reads <class>.json for the ten classes and splits them.

    Per class, the last 1000 images are the test set; the first 6000 are
    shuffled with SPLIT_SEED and cut 80/20 into training and validation
    (4800/1200 per class, 48000/12000 in all).  The test set is ordered by
    (index within class, class): row k is class k % 10, so any 10 consecutive
    rows from a multiple of 10 hold one image of each class.
    """
    rng = np.random.default_rng(SPLIT_SEED)
    n_val = int(round((PER_CLASS - TEST_PER_CLASS) * VALIDATION_FRACTION))
    parts = {"train": [], "validation": [], "test": []}
    for label in range(N_CLASSES):
        path = clothes_dir / f"{label}.json"
        with open(path, encoding="utf-8") as file:
            rows = json.load(file)["data"]
        # 0.json holds two empty lists (at positions 1000 and 7001) besides
        # its 7000 images; anything else malformed is an error.
        images = [row for row in rows if len(row) != 0]
        if len(images) != PER_CLASS or any(len(r) != N_PIXELS for r in images):
            sys.exit(f"{path}: expected {PER_CLASS} rows of {N_PIXELS} pixels")
        pixels = np.asarray(images, dtype=np.int64)
        if pixels.min() < 0 or pixels.max() > 255:
            sys.exit(f"{path}: pixel values outside 0..255")
        pixels = pixels.astype(np.uint8)
        rest = pixels[:PER_CLASS - TEST_PER_CLASS]
        order = rng.permutation(len(rest))
        parts["validation"].append((rest[order[:n_val]], label))
        parts["train"].append((rest[order[n_val:]], label))
        parts["test"].append((pixels[PER_CLASS - TEST_PER_CLASS:], label))

    data = {}
    for name in ("train", "validation"):
        data[name + "_x"] = np.concatenate([x for (x, _) in parts[name]])
        data[name + "_y"] = np.concatenate(
            [np.full(len(x), label, dtype=np.int64) for (x, label) in parts[name]])
    # (class, index, pixel) -> (index, class, pixel) -> rows.
    test = np.stack([x for (x, _) in parts["test"]])
    data["test_x"] = test.transpose(1, 0, 2).reshape(-1, N_PIXELS)
    data["test_y"] = np.tile(np.arange(N_CLASSES, dtype=np.int64), TEST_PER_CLASS)
    return data


def to_doubles(pixels: np.ndarray) -> np.ndarray:
    """Pixels as the tutorial's generate_images.py sends them: pixel / 255.0."""
    return pixels.astype(np.float64) / 255.0


def to_model_input(pixels: np.ndarray) -> torch.Tensor:
    """
    The float32 tensor the model sees.  It is the double pixel/255.0 rounded
    to float32, exactly what the server computes from a request's numbers;
    dividing in float32 instead would round differently for some pixels.
    """
    return torch.from_numpy(to_doubles(pixels).astype(np.float32))


def loader(pixels, labels, batch_size, seed=None) -> DataLoader:
    """Batches of (x, y); shuffled with its own seeded generator if seed is set."""
    dataset = TensorDataset(to_model_input(pixels), torch.from_numpy(labels))
    if seed is None:
        return DataLoader(dataset, batch_size=batch_size, shuffle=False)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True,
                      generator=generator)


# ---------------------------------------------------------------- training

def train(model, data, seed, learning_rate, batch_size, epochs) -> dict:
    """SGD on cross-entropy, as in the tutorial; returns per-epoch metrics."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    train_batches = loader(data["train_x"], data["train_y"], batch_size, seed)
    val_batches = loader(data["validation_x"], data["validation_y"], 1000)
    history = []
    for epoch in range(epochs):
        (train_loss, train_acc) = fit("cpu", train_batches, model, loss_fn,
                                      optimizer)
        (val_loss, val_acc) = evaluate("cpu", val_batches, model, loss_fn)
        print(f"  epoch {epoch + 1}: training loss {train_loss:.4f} "
              f"accuracy {train_acc:.4f}, validation loss {val_loss:.4f} "
              f"accuracy {val_acc:.4f}", flush=True)
        history.append({"epoch": epoch + 1,
                        "training_loss": train_loss,
                        "training_accuracy": train_acc,
                        "validation_loss": val_loss,
                        "validation_accuracy": val_acc})
    return {"history": history}


def test_accuracy(model, data, dtype) -> float:
    """Accuracy on the 10,000 test images, computed in the given dtype."""
    model.eval()
    with torch.no_grad():
        x = torch.from_numpy(to_doubles(data["test_x"])).to(dtype)
        predicted = model(x).argmax(1).numpy()
    return float((predicted == data["test_y"]).mean())


# ---------------------------------------------------------------- MLflow emulation

def mlflow_pickle_module() -> types.ModuleType:
    """
    What mlflow.pytorch.pickle_module provides to torch.save: cloudpickle's
    CloudPickler as Pickler (and the standard Unpickler for torch.load).
    torch.save only uses Pickler, so the stream is protocol 2 as usual.
    """
    module = types.ModuleType(PICKLE_MODULE_NAME)
    module.Pickler = cloudpickle.CloudPickler
    module.Unpickler = pickle.Unpickler
    module.load = pickle.load
    return module


def make_class_pickle_reproducible(cls) -> None:
    """
    A class pickled by value carries two things that change from run to run
    or from checkout to checkout; pin both so reruns write identical bytes.

    1. Its methods' code objects record the absolute path of this script,
       and so does the __file__ that cloudpickle copies from their globals:
       use the path relative to the repository instead.
    2. cloudpickle tags the class with a random uuid4 (so that two
       unpicklings in one process share the class): register a name-derived
       id first.  This reaches into cloudpickle internals; if they change,
       the id is random again and only the bytes of model2_f64.pth differ
       between runs, not its meaning.
    """
    for attribute in vars(cls).values():
        if isinstance(attribute, types.FunctionType):
            attribute.__code__ = attribute.__code__.replace(
                co_filename=RELATIVE_FILE)
    globals()["__file__"] = RELATIVE_FILE
    internals = cloudpickle.cloudpickle
    if not hasattr(internals, "_DYNAMIC_CLASS_TRACKER_BY_CLASS"):
        print("warning: cloudpickle internals changed; class id stays random")
        return
    tracker_id = uuid.uuid5(UUID_NAMESPACE, cls.__qualname__).hex
    with internals._DYNAMIC_CLASS_TRACKER_LOCK:
        internals._DYNAMIC_CLASS_TRACKER_BY_CLASS[cls] = tracker_id
        internals._DYNAMIC_CLASS_TRACKER_BY_ID[tracker_id] = cls


def installed_version(package: str) -> str:
    """The version pip would report, without a local label (as MLflow pins it)."""
    return importlib.metadata.version(package).split("+")[0]


def tensor_spec(dtype: str, shape) -> dict:
    return {"type": "tensor", "tensor-spec": {"dtype": dtype, "shape": list(shape)}}


def column_specs() -> list:
    """MLflow's ColSpec(type="double", name=f"col_{i}") for the 784 pixels."""
    return [{"type": "double", "name": f"col_{i}", "required": True}
            for i in range(N_PIXELS)]


def signature(inputs: list, outputs: list) -> dict:
    """ModelSignature.to_dict(): each schema is a JSON string; no params."""
    return {"inputs": json.dumps(inputs), "outputs": json.dumps(outputs),
            "params": None}


def write_mlmodel(model_dir: Path, flavors: dict, sig: dict) -> None:
    """MLmodel as Model.to_yaml() writes it: PyYAML block style, keys sorted."""
    mlmodel = {
        "flavors": flavors,
        "mlflow_version": MLFLOW_VERSION,
        "model_uuid": uuid.uuid5(UUID_NAMESPACE, model_dir.name).hex,
        "signature": sig,
        "utc_time_created": UTC_TIME_CREATED,
    }
    with open(model_dir / "MLmodel", "w", encoding="utf-8") as file:
        yaml.safe_dump(mlmodel, stream=file, default_flow_style=False)


def write_environment(model_dir: Path, packages: list) -> None:
    """conda.yaml, python_env.yaml and requirements.txt as MLflow 2.x writes them."""
    requirements = [f"mlflow=={MLFLOW_VERSION}"] + [
        f"{name}=={installed_version(name)}" for name in packages]
    pip_version = installed_version("pip")
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [f"python={platform.python_version()}",
                         f"pip<={pip_version}",
                         {"pip": requirements}],
        "name": "mlflow-env",
    }
    with open(model_dir / "conda.yaml", "w", encoding="utf-8") as file:
        yaml.safe_dump(conda, stream=file, default_flow_style=False)
    python_env = {
        "python": platform.python_version(),
        "build_dependencies": [f"{name}=={installed_version(name)}"
                               for name in ("pip", "setuptools", "wheel")],
        "dependencies": ["-r requirements.txt"],
    }
    # python_env.yaml keeps this key order (MLflow dumps it unsorted).
    with open(model_dir / "python_env.yaml", "w", encoding="utf-8") as file:
        yaml.safe_dump(python_env, stream=file, default_flow_style=False,
                       sort_keys=False)
    (model_dir / "requirements.txt").write_text(
        "\n".join(requirements) + "\n", encoding="utf-8")


def copy_code(model_dir: Path, names: list) -> None:
    """code_paths: MLflow copies each file into <model>/code/."""
    (model_dir / "code").mkdir()
    for name in names:
        shutil.copyfile(FIXTURE_SRC / name, model_dir / "code" / name)


def save_pytorch_model(model_dir: Path, model: nn.Module, sig: dict) -> None:
    """mlflow.pytorch.save_model(model, model_dir, code_paths=[...], signature=sig)."""
    model_dir.mkdir(parents=True)
    (model_dir / "data").mkdir()
    torch.save(model, model_dir / "data" / "model.pth",
               pickle_module=mlflow_pickle_module())
    (model_dir / "data" / "pickle_module_info.txt").write_text(
        PICKLE_MODULE_NAME, encoding="utf-8")
    copy_code(model_dir, ["neural_network.py", "utils_train_nn.py"])
    flavors = {
        "python_function": {
            "code": "code",
            "data": "data",
            "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            "loader_module": "mlflow.pytorch",
            "pickle_module_name": PICKLE_MODULE_NAME,
            "python_version": platform.python_version(),
        },
        "pytorch": {
            "code": "code",
            "model_data": "data",
            "pytorch_version": str(torch.__version__),
        },
    }
    write_mlmodel(model_dir, flavors, sig)
    write_environment(model_dir, ["cloudpickle", "numpy", "torch"])


@contextlib.contextmanager
def stand_in_mlflow():
    """
    Just enough of an `mlflow` package for model_wrapper.py to import.

    MLflow cannot be installed here.  The wrapper instance has no state and
    its class is importable as model_wrapper.ModelWrapper, so cloudpickle
    pickles it by reference and none of this stand-in reaches the file: the
    bytes are what mlflow.pyfunc.save_model writes for the real class.
    """
    mlflow = types.ModuleType("mlflow")
    mlflow.pyfunc = types.ModuleType("mlflow.pyfunc")
    mlflow.pytorch = types.ModuleType("mlflow.pytorch")

    class PythonModel:
        """Stands in for mlflow.pyfunc.PythonModel (no state, no __init__)."""

    mlflow.pyfunc.PythonModel = PythonModel
    names = ["mlflow", "mlflow.pyfunc", "mlflow.pytorch", "model_wrapper", "common"]
    saved = {name: sys.modules.get(name) for name in names}
    sys.modules.update({"mlflow": mlflow, "mlflow.pyfunc": mlflow.pyfunc,
                        "mlflow.pytorch": mlflow.pytorch})
    try:
        yield
    finally:
        for (name, module) in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def save_pyfunc_model(model_dir: Path, pytorch_model_dir: Path) -> None:
    """
    The tutorial's endpoint 2: mlflow.pyfunc.save_model(python_model=
    ModelWrapper(), artifacts={"pytorch_model": <pytorch model dir>},
    code_path=[model_wrapper.py, common.py], signature=...).
    """
    from common import ARTIFACT_NAME
    model_dir.mkdir(parents=True)
    artifact_path = f"artifacts/{pytorch_model_dir.name}"
    shutil.copytree(pytorch_model_dir, model_dir / artifact_path)
    copy_code(model_dir, ["model_wrapper.py", "common.py"])
    with stand_in_mlflow():
        from model_wrapper import ModelWrapper
        pickled = cloudpickle.dumps(ModelWrapper())
    if b"ModelWrapper" not in pickled or b"PythonModel" in pickled:
        sys.exit("python_model.pkl: ModelWrapper was not pickled by reference")
    (model_dir / "python_model.pkl").write_bytes(pickled)
    flavors = {
        "python_function": {
            "artifacts": {ARTIFACT_NAME: {
                "path": artifact_path,
                # The URI passed to save_model: the tutorial's relative folder.
                "uri": pytorch_model_dir.name,
            }},
            "cloudpickle_version": cloudpickle.__version__,
            "code": "code",
            "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            "loader_module": "mlflow.pyfunc.model",
            "python_model": "python_model.pkl",
            "python_version": platform.python_version(),
        },
    }
    write_mlmodel(model_dir, flavors,
                  signature(column_specs(), [tensor_spec("int32", (-1, 1))]))
    write_environment(model_dir, ["cloudpickle", "numpy", "pandas", "torch"])


# ---------------------------------------------------------------- requests

def dumps(obj) -> str:
    """Compact JSON like pandas writes it; floats as Python's repr."""
    return json.dumps(obj, separators=(",", ":"))


def write_requests(out: Path, name: str, pixels: np.ndarray, shapes: bool) -> None:
    """
    Writes the request bodies for one set of images.  The numbers are the
    doubles pixel/255.0, printed as repr() in both CSV and JSON so that every
    file carries exactly the same values.  (pandas' to_json would round them
    to 10 decimals, which for pixels 1, 4, 8 and 16 gives another float32.)
    """
    x = to_doubles(pixels)
    columns = [f"col_{i}" for i in range(N_PIXELS)]
    rows = x.tolist()
    index = list(range(len(rows)))
    split = {"columns": columns, "index": index, "data": rows}
    records = [dict(zip(columns, row)) for row in rows]
    by_column = {column: x[:, i].tolist() for (i, column) in enumerate(columns)}

    frame = pandas.DataFrame(data=x, index=index, columns=columns)
    frame.to_csv(out / f"{name}.csv", index=False)

    bodies = {}
    if not shapes:
        # The tutorial's two files: df.to_json(orient="split"), bare and
        # wrapped in Azure ML's {"input_data": ...}.
        bodies[f"{name}.json"] = dumps(split)
        bodies[f"{name}_azureml.json"] = '{"input_data":' + dumps(split) + '}'
    else:
        bodies.update({
            f"{name}_azureml_split.json": dumps({"input_data": split}),
            f"{name}_azureml_list.json": dumps({"input_data": rows}),
            f"{name}_azureml_columns.json": dumps({"input_data": by_column}),
            f"{name}_dataframe_split.json": dumps(
                {"dataframe_split": {"columns": columns, "data": rows}}),
            f"{name}_dataframe_records.json": dumps({"dataframe_records": records}),
            f"{name}_instances.json": dumps({"instances": rows}),
            f"{name}_instances_records.json": dumps({"instances": records}),
            f"{name}_inputs.json": dumps({"inputs": rows}),
            f"{name}_inputs_columns.json": dumps({"inputs": by_column}),
        })
    for (file_name, body) in bodies.items():
        (out / file_name).write_text(body, encoding="utf-8")


def tsv(rows) -> str:
    """One row per line, values as repr(float) so that C's strtod reads them back."""
    return "".join("\t".join(repr(float(v)) for v in row) + "\n" for row in rows)


def write_expected(out: Path, name: str, model: nn.Module, pixels: np.ndarray) -> list:
    """
    What the tutorial's endpoints answer for the request `name`: logits
    (endpoint 1), their softmax, the argmax and its label (endpoint 2).
    Returns the predicted labels.
    """
    model.eval()
    with torch.no_grad():
        # torch.Tensor(model_input.values), as in model_wrapper.py.
        logits = model(torch.from_numpy(to_doubles(pixels)).float())
        probabilities = torch.nn.functional.softmax(logits, dim=1)
        predicted = probabilities.argmax(1).tolist()
    logit_rows = logits.tolist()
    # mlflow's JSON encoder turns each float32 logit into a Python float.
    as_dicts = [{str(j): float(v) for (j, v) in enumerate(row)} for row in logit_rows]
    (out / f"{name}_logits.json").write_text(json.dumps(as_dicts) + "\n",
                                             encoding="utf-8")
    (out / f"{name}_logits.tsv").write_text(tsv(logit_rows), encoding="utf-8")
    (out / f"{name}_probabilities.tsv").write_text(tsv(probabilities.tolist()),
                                                   encoding="utf-8")
    (out / f"{name}_argmax.txt").write_text(
        "".join(f"{i}\n" for i in predicted), encoding="utf-8")
    labels = [LABELS[i] for i in predicted]
    (out / f"{name}_labels.json").write_text(json.dumps(labels) + "\n",
                                             encoding="utf-8")
    return labels


# ---------------------------------------------------------------- floats.tsv

def float32_bits(value) -> int:
    return int(np.float32(value).view(np.uint32))


def nearest_float32(exact: Fraction) -> np.float32:
    """
    The float32 nearest to an exact rational (ties to even).  Rounding a
    decimal to double and then to float32 can be off by one unit, so the
    neighbours of that first guess are compared exactly.
    """
    guess = np.float32(float(exact))
    candidates = {guess, np.nextafter(guess, np.float32(-np.inf)),
                  np.nextafter(guess, np.float32(np.inf))}
    candidates = [c for c in candidates if np.isfinite(c)]
    return min(candidates, key=lambda c: (abs(Fraction(float(c)) - exact),
                                          float32_bits(c) & 1))


def float_table() -> list:
    """Edge cases first, then 10,000 seeded random float32 values."""
    edge = [0.0, -0.0,
            np.uint32(0x00000001).view(np.float32),   # smallest subnormal
            np.uint32(0x007fffff).view(np.float32),   # largest subnormal
            np.uint32(0x00800000).view(np.float32),   # FLT_MIN
            np.uint32(0x7f7fffff).view(np.float32),   # FLT_MAX
            1.0, -1.0, 0.1, -0.1, 1.0 / 3.0, 2.0 / 3.0, 0.5, 2.0, 1e-7,
            16777216.0, 16777217.0, 16777218.0, 8388607.5, 123456789.0,
            -2.581446647644043, 7.203756332397461]   # tutorial logits
    edge = [np.float32(v) for v in edge]
    edge += [-v for v in edge[2:6]]
    edge += [nearest_float32(Fraction(10) ** k) for k in range(-45, 39)]

    rng = np.random.default_rng(FLOATS_SEED)
    bits = rng.integers(0, 2 ** 32, size=6000, dtype=np.uint64).astype(np.uint32)
    finite = bits[(bits & 0x7f800000) != 0x7f800000][:4000]
    if len(finite) != 4000:
        sys.exit("floats.tsv: too few finite random bit patterns")
    randoms = np.concatenate([
        finite.view(np.float32),
        rng.uniform(0.0, 1.0, 2000).astype(np.float32),
        rng.uniform(-1e4, 1e4, 2000).astype(np.float32),
        rng.normal(0.0, 10.0, 2000).astype(np.float32),
    ])
    return edge + list(randoms)


def write_floats(path: Path) -> None:
    lines = ["# float32 bits (hex)\tPython repr of the value as a double; "
             "edge cases first, then 10000 values from numpy "
             f"default_rng({FLOATS_SEED}) (tools/train_fixture.py)\n"]
    for value in float_table():
        lines.append(f"{float32_bits(value):08x}\t{float(value)!r}\n")
    path.write_text("".join(lines), encoding="utf-8")


# ---------------------------------------------------------------- main steps

def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_train(args) -> int:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    print(f"reading {args.data}", flush=True)
    data = load_dataset(Path(args.data))
    test_x = data["test_x"]
    # The tutorial's two images: an ankle boot, then a pullover.
    tutorial_rows = [9, 2]
    if [int(data["test_y"][k]) for k in tutorial_rows] != [9, 2]:
        sys.exit("test-set order is not (index within class, class)")

    print("training the tutorial model", flush=True)
    seed_everything(TUTORIAL_SEED)
    model = NeuralNetwork()
    tutorial = train(model, data, TUTORIAL_SEED, TUTORIAL_LEARNING_RATE,
                     TUTORIAL_BATCH_SIZE, TUTORIAL_EPOCHS)
    model.eval()
    tutorial["test_accuracy"] = test_accuracy(model, data, torch.float32)
    print(f"  test accuracy {tutorial['test_accuracy']:.4f}", flush=True)

    print("training model 2", flush=True)
    seed_everything(MODEL2_SEED)
    model2 = TanhGeluNet()
    second = train(model2, data, MODEL2_SEED, MODEL2_LEARNING_RATE,
                   MODEL2_BATCH_SIZE, MODEL2_EPOCHS)
    model2 = model2.double().eval()
    second["test_accuracy"] = test_accuracy(model2, data, torch.float64)
    print(f"  test accuracy {second['test_accuracy']:.4f}", flush=True)

    print(f"writing {out}", flush=True)
    tensor_in = [tensor_spec("float32", (-1, N_PIXELS))]
    logits_out = [tensor_spec("float32", (-1, N_CLASSES))]
    save_pytorch_model(out / "model", model, signature(column_specs(), logits_out))
    torch.save(model.state_dict(), out / "model_state_dict.pth")

    # Endpoint 2 wraps a PyTorch model saved with a tensor signature.
    staging = out / ".staging"
    save_pytorch_model(staging / "pytorch_model", model,
                       signature(tensor_in, logits_out))
    save_pyfunc_model(out / "pyfunc_model", staging / "pytorch_model")
    shutil.rmtree(staging)

    if TanhGeluNet.__module__ != "__main__":
        sys.exit("TanhGeluNet must live in __main__ to be pickled by value")
    make_class_pickle_reproducible(TanhGeluNet)
    torch.save(model2, out / "model2_f64.pth", pickle_module=mlflow_pickle_module())
    torch.save(model2.state_dict(), out / "model2_f64_state_dict.pth")

    test_data = out / "test_data"
    test_data.mkdir()
    write_requests(test_data, "images", test_x[tutorial_rows], shapes=False)
    write_requests(test_data, "batch200", test_x[:BATCH_ROWS], shapes=True)

    expected = out / "expected"
    expected.mkdir()
    labels = write_expected(expected, "images", model, test_x[tutorial_rows])
    if labels != ["Ankle Boot", "Pullover"]:
        print(f"warning: the tutorial images are predicted as {labels}")
    write_expected(expected, "batch200", model, test_x[:BATCH_ROWS])
    with torch.no_grad():
        logits2 = model2(torch.from_numpy(to_doubles(test_x[:BATCH_ROWS])))
    (expected / "model2_batch200_logits.tsv").write_text(
        tsv(logits2.float().tolist()), encoding="utf-8")

    (out / "labels.txt").write_text("".join(f"{name}\n" for name in LABELS),
                                    encoding="utf-8")
    write_floats(out / "floats.tsv")

    metrics = {
        "tutorial": {
            "test_accuracy": tutorial["test_accuracy"],
            "validation_accuracy": tutorial["history"][-1]["validation_accuracy"],
            "epochs": TUTORIAL_EPOCHS,
            "batch_size": TUTORIAL_BATCH_SIZE,
            "learning_rate": TUTORIAL_LEARNING_RATE,
            "optimizer": "SGD",
            "seed": TUTORIAL_SEED,
            "history": tutorial["history"],
        },
        "model2": {
            "test_accuracy": second["test_accuracy"],
            "validation_accuracy": second["history"][-1]["validation_accuracy"],
            "epochs": MODEL2_EPOCHS,
            "batch_size": MODEL2_BATCH_SIZE,
            "learning_rate": MODEL2_LEARNING_RATE,
            "optimizer": "SGD",
            "seed": MODEL2_SEED,
            "dtype": "float64",
            "arch": MODEL2_ARCH,
            "history": second["history"],
        },
        "split": {
            "seed": SPLIT_SEED,
            "train": int(len(data["train_y"])),
            "validation": int(len(data["validation_y"])),
            "test": int(len(data["test_y"])),
        },
        "torch_version": str(torch.__version__),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n",
                                      encoding="utf-8")
    write_readme(out / "README.md", metrics)
    return 0


def write_readme(path: Path, metrics: dict) -> None:
    """README.md from tools/fixture_src/fixtures-README.md.in ($-placeholders)."""
    template = string.Template(
        (FIXTURE_SRC / "fixtures-README.md.in").read_text(encoding="utf-8"))
    values = {
        "tutorial_test_accuracy": f"{metrics['tutorial']['test_accuracy']:.4f}",
        "tutorial_validation_accuracy":
            f"{metrics['tutorial']['validation_accuracy']:.4f}",
        "model2_test_accuracy": f"{metrics['model2']['test_accuracy']:.4f}",
        "model2_validation_accuracy":
            f"{metrics['model2']['validation_accuracy']:.4f}",
        "model2_arch": MODEL2_ARCH,
        "torch_version": metrics["torch_version"],
        "numpy_version": metrics["numpy_version"],
        "python_version": metrics["python_version"],
        "cloudpickle_version": cloudpickle.__version__,
        "mlflow_version": MLFLOW_VERSION,
        "utc_time_created": UTC_TIME_CREATED,
        "split_seed": SPLIT_SEED,
        "tutorial_seed": TUTORIAL_SEED,
        "model2_seed": MODEL2_SEED,
        "floats_seed": FLOATS_SEED,
        "model2_epochs": MODEL2_EPOCHS,
    }
    path.write_text(template.substitute(values), encoding="utf-8")


# ---------------------------------------------------------------- compare

COMPARED = ["expected/images_logits.tsv", "expected/batch200_logits.tsv",
            "expected/model2_batch200_logits.tsv"]


def read_tsv(path: Path) -> list:
    with open(path, encoding="utf-8") as file:
        return [[float(v) for v in line.split("\t")] for line in file]


def run_compare(args) -> int:
    """Max |old - new| over the logits files; 1 when above the tolerance."""
    worst = 0.0
    for name in COMPARED:
        old = Path(args.old) / name
        new = Path(args.new) / name
        if not old.exists():
            print(f"{name}: no committed file to compare with")
            if args.allow_missing:
                continue
            return 2
        (a, b) = (read_tsv(old), read_tsv(new))
        if len(a) != len(b) or any(len(x) != len(y) for (x, y) in zip(a, b)):
            print(f"{name}: shapes differ")
            return 1
        diff = max((abs(x - y) for (ra, rb) in zip(a, b) for (x, y) in zip(ra, rb)),
                   default=0.0)
        if math.isnan(diff):
            diff = math.inf
        print(f"{name}: max abs difference {diff:.3g}")
        worst = max(worst, diff)
    print(f"max abs difference {worst:.3g} (tolerance {args.tolerance:g})")
    return 0 if worst <= args.tolerance else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p_train = commands.add_parser("train", help="train and write the fixtures")
    p_train.add_argument("--data", required=True,
                         help="fashion-mnist package's src/clothes folder")
    p_train.add_argument("--out", required=True, help="output folder")
    p_compare = commands.add_parser("compare", help="compare two fixture folders")
    p_compare.add_argument("old")
    p_compare.add_argument("new")
    p_compare.add_argument("--tolerance", type=float, default=1e-6)
    p_compare.add_argument("--allow-missing", action="store_true")
    args = parser.parse_args()
    return run_train(args) if args.command == "train" else run_compare(args)


if __name__ == "__main__":
    sys.exit(main())
