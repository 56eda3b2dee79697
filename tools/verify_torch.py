# verify_torch.py - torch's side of `pth2blob --verify` (tools/verify.c).
#
# tools/verify.c embeds this text and runs it as `PYTHON -I -B -c TEXT DIR`,
# stdin /dev/null, stdout and stderr into DIR/log.txt.  DIR is a private
# temporary folder holding:
#   plan.json   what was converted (written by verify.c, see plan_write())
#   in.f32      the input rows, little-endian float32 [rows][width]
# and this script writes, in that order:
#   torch.txt   torch.__version__, as soon as torch imports (without it
#               verify.c knows that this python has no torch)
#   out.f32     torch's answer, little-endian float32 [rows][out_width]
#   result.txt  one line: how torch was called
# On failure it exits non-zero; the last line of its stderr says why.
#
# This runs the user's Python: torch.load of a whole module unpickles the
# classes it names, from the model's own code folders.
import array
import json
import os
import sys


def fail(msg):
    sys.stderr.write(msg + '\n')
    sys.exit(4)


def read_f32(path, count):
    a = array.array('f')
    with open(path, 'rb') as f:
        a.frombytes(f.read())
    if len(a) != count:
        fail('%s holds %d floats, expected %d' % (path, len(a), count))
    if sys.byteorder == 'big':
        a.byteswap()
    return a


def write_f32(path, values):
    a = array.array('f', values)
    if sys.byteorder == 'big':
        a.byteswap()
    with open(path, 'wb') as f:
        f.write(a.tobytes())


def load(torch, path):
    try:
        return torch.load(path, map_location='cpu', weights_only=False)
    except TypeError:   # torch < 1.13 has no weights_only
        return torch.load(path, map_location='cpu')


def shape_str(t):
    return '[' + ', '.join(str(d) for d in t.shape) + ']'


def run_module(torch, plan, x):
    """The whole module, as the user's own forward() runs it."""
    model = load(torch, plan['pth'])
    if not isinstance(model, torch.nn.Module):
        fail('%s holds a %s, not an nn.Module' % (plan['pth'], type(model).__name__))
    model = model.eval().float()
    shape = plan['input_shape']
    try:
        return model(x), 'model(x) on ' + shape_str(x)
    except Exception as e:
        if not shape:
            raise
        first = e
    x4 = x.reshape(x.shape[0], *shape)
    try:
        return model(x4), 'model(x) on ' + shape_str(x4) + ' (on ' + shape_str(x) + ': ' + \
            type(first).__name__ + ')'
    except Exception as e:
        fail('the model fails on %s (%s: %s) and on %s (%s: %s)' % (
            shape_str(x), type(first).__name__, first, shape_str(x4), type(e).__name__, e))


def state_dicts(obj, depth=0):
    """Every mapping of tensors in obj: a state_dict or a checkpoint's."""
    if isinstance(obj, dict) and depth < 4:
        yield obj
        for v in obj.values():
            yield from state_dicts(v, depth + 1)


def key(prefix, leaf):
    return prefix + '.' + leaf if prefix else leaf


def find_state_dict(torch, plan):
    obj = load(torch, plan['pth'])
    need = [key(op['path'], 'weight') for op in plan['ops'] if op['kind'] in ('linear', 'conv2d')]
    for sd in state_dicts(obj):
        if all(k in sd for k in need):
            return sd
    fail('%s: no state_dict with the keys %s' % (plan['pth'], ', '.join(need)))


def tensor(sd, prefix, leaf):
    t = sd.get(key(prefix, leaf))
    return None if t is None else t.float()


def batch_norm(F, sd, prefix, eps, y):
    return F.batch_norm(y, tensor(sd, prefix, 'running_mean'), tensor(sd, prefix, 'running_var'),
                        tensor(sd, prefix, 'weight'), tensor(sd, prefix, 'bias'), False, 0.0, eps)


def image(x, g):
    return x.reshape(x.shape[0], g['c'], g['h'], g['w'])


def conv2d(F, sd, op, x):
    g = op['g']
    # The padding after is what the stored output size implies (torch's
    # asymmetric "same"); rows and columns past it are never read.
    pb = max(0, (g['oh'] - 1) * g['sh'] + g['dh'] * (g['kh'] - 1) + 1 - g['h'] - g['ph'])
    pr = max(0, (g['ow'] - 1) * g['sw'] + g['dw'] * (g['kw'] - 1) + 1 - g['w'] - g['pw'])
    xp = F.pad(image(x, g), (g['pw'], pr, g['ph'], pb))
    y = F.conv2d(xp, tensor(sd, op['path'], 'weight'), tensor(sd, op['path'], 'bias'),
                 stride=(g['sh'], g['sw']), dilation=(g['dh'], g['dw']))
    return y[:, :, :g['oh'], :g['ow']]


def linear(F, sd, op, x):
    return F.linear(x, tensor(sd, op['path'], 'weight'), tensor(sd, op['path'], 'bias'))


def pool(F, op, x):
    g = op['g']
    k, s, p = (g['kh'], g['kw']), (g['sh'], g['sw']), (g['ph'], g['pw'])
    ceil = bool(g['flags'] & 2)
    if op['kind'] == 'maxpool2d':
        return F.max_pool2d(image(x, g), k, s, p, (g['dh'], g['dw']), ceil_mode=ceil)
    return F.avg_pool2d(image(x, g), k, s, p, ceil_mode=ceil, count_include_pad=bool(g['flags'] & 1),
                        divisor_override=g['divisor'] or None)


def ops_table(torch):
    F = torch.nn.functional
    return {
        'linear': lambda sd, op, x: linear(F, sd, op, x),
        'conv2d': lambda sd, op, x: conv2d(F, sd, op, x),
        'maxpool2d': lambda sd, op, x: pool(F, op, x),
        'avgpool2d': lambda sd, op, x: pool(F, op, x),
        'adaptive_avgpool2d': lambda sd, op, x: F.adaptive_avg_pool2d(image(x, op['g']),
                                                                      (op['g']['oh'], op['g']['ow'])),
        'adaptive_maxpool2d': lambda sd, op, x: F.adaptive_max_pool2d(image(x, op['g']),
                                                                      (op['g']['oh'], op['g']['ow'])),
        'scale_shift': lambda sd, op, x: batch_norm(F, sd, op['path'], op['eps'], image(x, op['g'])),
        'relu': lambda sd, op, x: F.relu(x),
        'leaky_relu': lambda sd, op, x: F.leaky_relu(x, op['param']),
        'tanh': lambda sd, op, x: torch.tanh(x),
        'sigmoid': lambda sd, op, x: torch.sigmoid(x),
        'gelu': lambda sd, op, x: F.gelu(x),
        'gelu_tanh': lambda sd, op, x: F.gelu(x, approximate='tanh'),
        'elu': lambda sd, op, x: F.elu(x, op['param']),
        'softmax': lambda sd, op, x: F.softmax(x, dim=1),
        'log_softmax': lambda sd, op, x: F.log_softmax(x, dim=1),
    }


def run_ops(torch, plan, x):
    """A state_dict: the converter's ops, with torch.nn.functional over the
    file's own tensors (BatchNorms applied, not folded)."""
    sd = find_state_dict(torch, plan)
    table = ops_table(torch)
    F = torch.nn.functional
    for i, op in enumerate(plan['ops']):
        fn = table.get(op['kind'])
        if fn is None:
            fail('op %d: %s is not known to this script' % (i, op['kind']))
        y = fn(sd, op, x)
        if op.get('folded'):
            y = batch_norm(F, sd, op['folded'], op['eps'], y)
        # Between ops a row is flat, [C][H][W] in that order, as in the blob.
        x = y.reshape(y.shape[0], -1)
        if x.shape[1] != op['out']:
            fail('op %d (%s, %s) gives %d values per row, the blob %d' % (
                i, op['kind'], op['path'], x.shape[1], op['out']))
    return x, 'torch.nn.functional over the state_dict, %d ops' % len(plan['ops'])


def main():
    d = sys.argv[1]
    try:
        import torch
    except BaseException as e:
        sys.stderr.write('cannot import torch: %s: %s\n' % (type(e).__name__, e))
        sys.exit(3)
    with open(os.path.join(d, 'torch.txt'), 'w') as f:
        f.write(torch.__version__)
    torch.set_num_threads(1)
    with open(os.path.join(d, 'plan.json')) as f:
        plan = json.load(f)
    sys.path[:0] = plan['sys_path']
    n, w, o = plan['rows'], plan['width'], plan['out_width']
    x = torch.tensor(read_f32(os.path.join(d, 'in.f32'), n * w).tolist(), dtype=torch.float32).reshape(n, w)
    with torch.no_grad():
        y, how = (run_ops if plan['state_dict'] else run_module)(torch, plan, x)
        if isinstance(y, (tuple, list)) or not hasattr(y, 'reshape'):
            fail('the model returns a %s, not a tensor' % type(y).__name__)
        if y.numel() != n * o:
            fail('torch answers %s for %d rows; the blob gives %d values per row' % (shape_str(y), n, o))
        write_f32(os.path.join(d, 'out.f32'), y.float().reshape(-1).tolist())
    with open(os.path.join(d, 'result.txt'), 'w') as f:
        f.write(how)


try:
    main()
except SystemExit:
    raise
except BaseException as e:
    import traceback
    traceback.print_exc()
    sys.stderr.write('%s: %s\n' % (type(e).__name__, e))
    sys.exit(4)
