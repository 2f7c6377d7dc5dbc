"""How long does one Adam step over a model's parameters take: digitnet's fast tier against PyTorch's?

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/optimizer_step.py [--model mlp-800-800]
        [--threads 2] [--steps 200] [--repeats 3]

Each side runs in its own subprocess (digitnet.bench.benchmark_environment: the thread count set, the
BLAS pinning variables removed, raised malloc thresholds), alternating d t, t d, ... ``--repeats`` times;
the figures are medians of ms per step over random gradients of the zoo model's parameter shapes.
PyTorch is timed as the throughput benchmark uses it (``torch.optim.Adam`` with its defaults, which on
CPU is the per-tensor loop) and with ``foreach=True`` and ``fused=True``. The "copy floor" is the time
to read and write every Adam array once (param, grad, m, v read; param, m, v written: 7 arrays of the
parameter count) with NumPy copies, a lower bound for any implementation that passes over memory once.
For mlp-800-800 (1.27 M parameters, 35 MB of traffic per step) this is the part of a training step no
faster matrix product removes (docs/speed.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

import numpy as np

from digitnet.bench import per_call_ms


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp-800-800")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--side", choices=["digitnet", "torch"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _shapes(name):
    from digitnet import zoo

    return [p.shape for _, p, _ in zoo.build(name, seed=0).parameters()]


def worker(args) -> dict:
    rng = np.random.default_rng(0)
    arrays = [
        (rng.standard_normal(s).astype(np.float32), rng.standard_normal(s).astype(np.float32))
        for s in _shapes(args.model)
    ]
    if args.side == "digitnet":
        from digitnet.nn.fast.optim import Adam

        opt = Adam(lr=1e-3)
        params = [(f"{i}", p, g) for i, (p, g) in enumerate(arrays)]
        total = sum(p.size for p, _ in arrays)
        a, b = np.empty(7 * total, np.float32), np.empty(7 * total, np.float32)
        return {
            "adam": per_call_ms(lambda: opt.step(params), args.steps),
            "copy floor": per_call_ms(lambda: np.copyto(b, a), args.steps) / 2,  # read + write = 2x traffic
        }
    import torch

    torch.set_num_threads(args.threads)
    out = {}
    for label, options in (("adam", {}), ("adam foreach", {"foreach": True}), ("adam fused", {"fused": True})):
        params = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p, _ in arrays]
        for param, (_, g) in zip(params, arrays):
            param.grad = torch.from_numpy(g.copy())
        opt = torch.optim.Adam(params, lr=1e-3, **options)
        out[label] = per_call_ms(opt.step, args.steps)
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.side:
        print(json.dumps(worker(args)))
        return 0
    from digitnet.bench import benchmark_environment

    env = benchmark_environment(args.threads)
    runs = {"digitnet": [], "torch": []}
    for r in range(args.repeats):
        for side in ("digitnet", "torch") if r % 2 == 0 else ("torch", "digitnet"):
            cmd = [sys.executable, __file__, "--side", side, "--model", args.model, "--steps", str(args.steps)]
            cmd += ["--threads", str(args.threads)]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            runs[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
    total = sum(int(np.prod(s)) for s in _shapes(args.model))
    print(f"{args.model}: {total:,} parameters, threads={args.threads}, medians of {args.repeats} runs (ms per step)")
    for side, rows in runs.items():
        for key in rows[0]:
            print(f"  {side:8s} {key:14s} {statistics.median(row[key] for row in rows):7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
