#!/usr/bin/python3
"""Generate the small torch.save fixtures of fixtures/pth/ for the C tests.

Run with Debian's python3 (python3-torch 1.13, python3-cloudpickle):

    /usr/bin/python3 tools/make_pth_fixtures.py [OUTDIR]

For each model that pth_load should accept, <name>.pth comes with
<name>.tsv: a seeded random input batch and torch's output for it, as
"in\\t<v>..." and "out\\t<v>..." lines of repr(float) (the float32 values
widened to double), so a test can run its own forward pass over the ops
pth_load produced and compare within 1e-4.  The other files are inputs that
must be refused with a clear message (see tests/unit/test_pth.c).

Nothing here loads a pickle: the hostile file is written byte by byte.

Two runs write identical files, except legacy.pth, whose storage keys are
memory addresses (the legacy format's own choice).
"""
import io
import os
import pickle
import sys
import types
import uuid
import zipfile

import torch
import torch.nn as nn

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'pth')

# Classes saved by reference as mymodels.<Name>, the way a user's own module
# (e.g. neural_network.NeuralNetwork) appears in a whole-module pickle.
MYMODELS_SRC = '''
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = nn.Sequential(nn.Flatten(), nn.Linear(32, 16), nn.ReLU(),
                                 nn.Linear(16, 10))

    def forward(self, x):
        return self.seq(x)

class TwoPart(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Flatten(), nn.Linear(32, 16),
                                      nn.Tanh())
        self.head = nn.Linear(16, 6)

    def forward(self, x):
        return self.head(self.features(x))

class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.sequence = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(),
                                      nn.Flatten(), nn.Linear(8, 4))

    def forward(self, x):
        return self.sequence(x)
'''
mymodels = types.ModuleType('mymodels')
exec(MYMODELS_SRC, mymodels.__dict__)
sys.modules['mymodels'] = mymodels


def path(name):
    return os.path.join(OUT, name)


def write_tsv(name, x, y):
    x = x.reshape(x.shape[0], -1).float()
    y = y.reshape(y.shape[0], -1).float()
    with open(path(name + '.tsv'), 'w') as f:
        f.write('# %s: %d rows, %d inputs, %d outputs (torch %s)\n'
                % (name, x.shape[0], x.shape[1], y.shape[1], torch.__version__))
        for row in x.tolist():
            f.write('in\t' + '\t'.join(repr(float(v)) for v in row) + '\n')
        for row in y.tolist():
            f.write('out\t' + '\t'.join(repr(float(v)) for v in row) + '\n')


def batch(seed, *shape):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(4, *shape, generator=g)


def expect(name, model, x):
    """torch's output for x, computed in float32 from the saved values."""
    ref = model.float() if model is not None else None
    with torch.no_grad():
        write_tsv(name, x, ref(x))


def save(obj, name, **kw):
    torch.save(obj, path(name), **kw)


def zoo():
    torch.manual_seed(1)
    m = nn.Sequential(
        nn.Flatten(),
        nn.Linear(32, 24),
        nn.BatchNorm1d(24),
        nn.LeakyReLU(0.2),
        nn.Dropout(0.1),
        nn.Linear(24, 20, bias=False),
        nn.ELU(0.7),
        nn.Identity(),
        nn.Linear(20, 16),
        nn.Sigmoid(),
        nn.Linear(16, 16),
        nn.GELU(approximate='tanh'),
        nn.Linear(16, 12),
        nn.GELU(),
        nn.AlphaDropout(0.1),
        nn.Linear(12, 12),
        nn.Tanh(),
        nn.Dropout1d(0.2),
        nn.ReLU(),
        nn.Softmax(dim=1),
        nn.Linear(12, 10),
        nn.LogSoftmax(dim=-1),
    )
    bn = m[2]
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(24) * 0.5)
        bn.running_var.copy_(torch.rand(24) + 0.5)
        bn.weight.copy_(torch.randn(24))
        bn.bias.copy_(torch.randn(24))
        bn.num_batches_tracked.fill_(7)
    return m.eval()


def mlp(seed=2, width=32):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(width, 16), nn.ReLU(),
                         nn.Linear(16, 10)).eval()


def views():
    """Tied weights, a transposed (non-contiguous) weight and offset views."""
    torch.manual_seed(3)
    m = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 16),
                      nn.ReLU(), nn.Linear(16, 12), nn.Tanh(),
                      nn.Linear(12, 16)).eval()
    m[2].weight = m[0].weight                       # tied: one Parameter
    m[6].weight = nn.Parameter(m[4].weight.detach().t())  # stride (1, 16)
    pool = torch.randn(40)
    m[4].bias = nn.Parameter(pool[4:16])            # storage_offset 4
    m[6].bias = nn.Parameter(pool[20:36])           # same storage, offset 20
    assert not m[6].weight.is_contiguous()
    assert m[6].weight.storage().data_ptr() == m[4].weight.storage().data_ptr()
    return m


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(('.pth', '.pt', '.tsv')):
            os.remove(path(f))
    img = batch(100, 2, 4, 4)     # flattened to 32 by a leading Flatten
    x32 = batch(101, 32)

    # The zoo: every supported layer, whole module and state_dict.
    m = zoo()
    save(m, 'zoo.pth')
    expect('zoo', m, img)
    save(m.state_dict(), 'zoo_sd.pth')
    expect('zoo_sd', m, img)
    for dtype, tag in ((torch.float16, 'f16'), (torch.bfloat16, 'bf16'),
                       (torch.float64, 'f64')):
        mt = zoo().to(dtype)
        save(mt, 'zoo_%s.pth' % tag)
        expect('zoo_%s' % tag, mt, img)

    # One ReLU instance used twice (BINGET of the module).
    torch.manual_seed(4)
    relu = nn.ReLU()
    m = nn.Sequential(nn.Linear(32, 16), relu, nn.Linear(16, 16), relu,
                      nn.Linear(16, 4)).eval()
    save(m, 'shared_relu.pth')
    expect('shared_relu', m, x32)

    # Tied, transposed and offset tensors sharing storages.
    m = views()
    save(m, 'views.pth')
    expect('views', m, batch(102, 16))
    save(m.state_dict(), 'views_sd.pth')
    expect('views_sd', m, batch(102, 16))

    # Checkpoints that nest the state_dict.
    m = mlp()
    save({'model': m.state_dict(), 'epoch': 3, 'best_acc': 0.91,
          'args': {'lr': 0.01, 'name': 'mlp'}}, 'checkpoint.pth')
    expect('checkpoint', m, x32)
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    m(x32).sum().backward()
    opt.step()
    m.zero_grad()
    save({'epoch': 3, 'model_state_dict': m.state_dict(),
          'optimizer_state_dict': opt.state_dict()}, 'checkpoint_msd.pth')
    expect('checkpoint_msd', m, x32)

    # Protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL).
    m = mlp(5)
    save(m, 'proto4.pth', pickle_protocol=4)
    expect('proto4', m, x32)

    # User classes saved by reference: one child, and two (warning).
    torch.manual_seed(6)
    m = mymodels.Net().eval()
    save(m, 'usernet.pth')
    expect('usernet', m, img)
    m = mymodels.TwoPart().eval()
    save(m, 'usernet2.pth')
    expect('usernet2', m, img)

    # BatchNorm1d without affine parameters; Softmax with dim=None.
    torch.manual_seed(7)
    m = nn.Sequential(nn.Linear(32, 12), nn.BatchNorm1d(12, affine=False),
                      nn.ReLU(), nn.Linear(12, 5), nn.Softmax()).eval()
    with torch.no_grad():
        m[1].running_mean.copy_(torch.randn(12))
        m[1].running_var.copy_(torch.rand(12) + 0.2)
    save(m, 'bn_noaffine.pth')
    expect('bn_noaffine', m, x32)

    # A state_dict stored big-endian, with a 'byteorder' record saying so.
    m = mlp(8)
    save(m.state_dict(), 'bigendian_sd.pth')
    expect('bigendian_sd', m, x32)
    to_big_endian('bigendian_sd.pth')

    # A class cloudpickle saves by value, as MLflow does for __main__ classes.
    byvalue(img)

    # ---- inputs that must be refused ----
    save(mymodels.ConvNet(), 'conv.pth')
    save(nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(8, 2)),
         'embedding.pth')
    save(nn.LSTM(4, 4), 'lstm.pth')
    save(mlp(9).state_dict(), 'legacy.pth',
         _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(mlp(10)), path('script.pt'))
    save(nn.Sequential(nn.Linear(32, 8), nn.Softmax(dim=0)),
         'softmax_dim0.pth')
    save(nn.Sequential(nn.Linear(32, 8), nn.Flatten(), nn.Linear(8, 2)),
         'flatten_mid.pth')
    save(nn.Sequential(nn.BatchNorm1d(32), nn.Linear(32, 2)), 'bn_first.pth')
    torch.manual_seed(11)
    sd = mlp(11).state_dict()
    sd['2.weight'] = torch.randn(10, 15)
    save(sd, 'mismatch_sd.pth')
    save({'0.weight': torch.ones(4, 32, dtype=torch.int64)},
         'int_weight_sd.pth')
    evil()


def to_big_endian(name):
    """Rewrite a float32 torch.save zip with byte-swapped storages and a
    'byteorder' record of 'big', as torch 2.x writes on a big-endian host."""
    src = path(name)
    with zipfile.ZipFile(src) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    prefix = items[0][0].split('/')[0]
    with zipfile.ZipFile(src, 'w', zipfile.ZIP_STORED) as z:
        for fn, data in items:
            if fn.startswith(prefix + '/data/'):
                data = swap4(data)
            zwrite(z, fn, data)
            if fn == prefix + '/data.pkl':
                zwrite(z, prefix + '/byteorder', b'big')


def zwrite(z, name, data):
    """A stored entry with a fixed time stamp, so that runs are identical."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    z.writestr(info, data)


def swap4(b):
    out = bytearray(len(b))
    for i in range(0, len(b), 4):
        out[i:i + 4] = b[i:i + 4][::-1]
    return bytes(out)


def byvalue(img):
    try:
        import cloudpickle
    except ImportError:
        print('cloudpickle missing: byvalue.pth not made', file=sys.stderr)
        return

    # Defined in __main__, so cloudpickle pickles the class by value.
    class ByValueNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(32, 12),
                                      nn.ReLU(), nn.Linear(12, 3))

        def forward(self, x):
            return self.body(x)

    ByValueNet.__module__ = '__main__'
    ByValueNet.__qualname__ = 'ByValueNet'
    pm = types.ModuleType('cp_pickle_module')
    pm.Pickler = cloudpickle.CloudPickler
    pm.Unpickler = pickle.Unpickler
    pm.load = pickle.load
    pm.dump = cloudpickle.dump
    torch.manual_seed(12)
    m = ByValueNet().eval()
    # cloudpickle names the class with a random uuid4 tracker id: fix it.
    real_uuid4 = uuid.uuid4
    uuid.uuid4 = lambda: uuid.UUID(int=0x5C0E9017)
    try:
        save(m, 'byvalue.pth', pickle_module=pm)
    finally:
        uuid.uuid4 = real_uuid4
    expect('byvalue', m, img)


def evil():
    """A torch.save-shaped zip whose data.pkl calls os.system: written by
    hand, never loaded."""
    cmd = b'echo pwned >&2'
    pkl = (b'\x80\x02cos\nsystem\nX' + len(cmd).to_bytes(4, 'little') + cmd +
           b'\x85R.')
    with zipfile.ZipFile(path('evil.pth'), 'w', zipfile.ZIP_STORED) as z:
        zwrite(z, 'evil/data.pkl', pkl)
        zwrite(z, 'evil/version', b'3\n')
    # REDUCE of a user class, reached through an allowed-looking root.
    pkl = (b'\x80\x02ccollections\nOrderedDict\n)RX\x01\x00\x00\x00a'
           b'cmymodels\nNet\n)RX\x08\x00\x00\x00junk.pth\x85Rs.')
    with zipfile.ZipFile(path('evil_reduce.pth'), 'w', zipfile.ZIP_STORED) as z:
        zwrite(z, 'evil_reduce/data.pkl', pkl)
        zwrite(z, 'evil_reduce/version', b'3\n')


if __name__ == '__main__':
    main()
