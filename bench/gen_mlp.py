#!/usr/bin/python3
"""gen_mlp.py OUT.pth WIDTH... - a torch.save state_dict of an MLP
(Linear, ReLU, ..., Linear) with the given layer widths and seeded random
weights, written with Python's standard library alone: `make bench` needs a
large model, and installing PyTorch for one file is not worth it.

The file is what torch.save writes for nn.Sequential(...).state_dict() in
the zip format (docs/pth-format.md section 2: data.pkl, data/N, version,
byteorder), the pickle made with the same GLOBALs and persistent ids: the
classes torch would name are stood in for by placeholders registered under
torch's module names, so pickle writes the same references.

  bench/gen_mlp.py big.pth 784 1024 1024 10
  build/release/pth2blob --arch linear,relu,linear,relu,linear big.pth big.blob
"""
import array
import collections
import io
import os
import pickle
import random
import sys
import types
import zipfile


def torch_placeholders():
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("placeholder")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage = FloatStorage
    torch._utils = utils
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    return FloatStorage, _rebuild_tensor_v2


FloatStorage, rebuild = torch_placeholders()


class Storage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class Tensor:
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, tuple(shape)

    def __reduce__(self):
        stride = (self.shape[1], 1) if len(self.shape) == 2 else (1,)
        return (rebuild, (self.storage, 0, self.shape, stride, False, collections.OrderedDict()))


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
        return None


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: gen_mlp.py OUT.pth WIDTH WIDTH [WIDTH...]")
    out, widths = sys.argv[1], [int(w) for w in sys.argv[2:]]
    rng = random.Random(20261125)
    sd = collections.OrderedDict()
    blobs = []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        bound = 1 / n_in ** 0.5   # nn.Linear's default init range
        for name, shape in (("weight", (n_out, n_in)), ("bias", (n_out,))):
            numel = shape[0] * (shape[1] if len(shape) == 2 else 1)
            data = array.array("f", (rng.uniform(-bound, bound) for _ in range(numel)))
            if sys.byteorder != "little":
                data.byteswap()
            key = str(len(blobs))
            blobs.append((key, data.tobytes()))
            sd["%d.%s" % (2 * i, name)] = Tensor(Storage(key, numel), shape)
    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump(sd)
    with zipfile.ZipFile(out + ".tmp", "w", zipfile.ZIP_STORED) as z:
        z.writestr("mlp/data.pkl", buf.getvalue())
        z.writestr("mlp/byteorder", "little")
        for key, raw in blobs:
            z.writestr("mlp/data/" + key, raw)
        z.writestr("mlp/version", "3\n")
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
