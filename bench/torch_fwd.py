#!/usr/bin/python3
"""Time torch's forward pass of a whole-module .pth on the rows of a CSV
request, one thread, the way bench/fwd times the converted blob; for
`make bench` (bench/cnn.sh).  Run with Debian's /usr/bin/python3.

    torch_fwd.py MODEL.pth CSV REPS ROWS.f32 LOGITS.f32 [C,H,W]

Writes the CSV's rows as raw float32 (the input bench/fwd reads) and
torch's outputs as raw float32; prints "median_ms N torch_version".  With
C,H,W the rows are reshaped to [N, C, H, W] before the call (for a model
whose forward() does not reshape them itself).
"""
import statistics
import sys
import time

import numpy
import torch


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    model_path, csv, reps, rows_out, logits_out = sys.argv[1:6]
    torch.set_num_threads(1)
    x = numpy.loadtxt(csv, delimiter=',', skiprows=1, dtype=numpy.float64)
    x = numpy.ascontiguousarray(x.astype(numpy.float32))
    x.tofile(rows_out)
    t = torch.from_numpy(x)
    if len(sys.argv) == 7:
        t = t.reshape([-1] + [int(v) for v in sys.argv[6].split(',')])
    model = torch.load(model_path, map_location='cpu').float().eval()
    times = []
    with torch.no_grad():
        y = model(t)   # warm-up
        for _ in range(int(reps)):
            t0 = time.perf_counter()
            y = model(t)
            times.append(time.perf_counter() - t0)
    y.numpy().astype(numpy.float32).tofile(logits_out)
    print('%.4f %d %s' % (statistics.median(times) * 1e3, x.shape[0],
                          torch.__version__))


main()
