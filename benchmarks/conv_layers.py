"""Forward + backward time of the convolutional layers, against PyTorch eager CPU in the same run.

    python benchmarks/conv_layers.py [--batch 64] [--threads 2] [--rounds 15] [--number 10] [--json out.json]

Shapes (float32, NCHW): the LeNet-5 layers on 28x28 digits (conv 1->6 5x5, max-pool 2, conv 6->16 5x5,
max-pool 2) and a small CNN block (conv 32->64 3x3 'same' on 14x14 + BatchNorm2D + ReLU + max-pool 2).
The first conv, like a model's first layer, computes no input gradient (nor does torch: x needs no grad).

Timing: rounds alternate digitnet and torch (so both see the same machine load); each round times
``number`` calls; the figure is the median round, in ms per call. ratio = torch time / digitnet time
(> 1 means digitnet is faster). NumPy's BLAS threads are set through OPENBLAS_NUM_THREADS before NumPy
is imported; torch.set_num_threads uses the same count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=10, help="calls per timed round")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    return parser.parse_args(argv)


ARGS = parse_args()
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread settings)

from digitnet.nn.layers.activations import ReLU  # noqa: E402
from digitnet.nn.layers.conv import Conv2D  # noqa: E402
from digitnet.nn.layers.norm import BatchNorm2D  # noqa: E402
from digitnet.nn.layers.pool import MaxPool2D  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the digitnet figures are still printed
    torch = None


def digitnet_case(layers, in_shape, rng, first=False):
    """A closure running forward (training) and backward through ``layers`` on a fixed batch."""
    shape = in_shape[1:]
    for layer in layers:
        shape = layer.build(shape, rng, np.float32)
    if first:
        layers[0].needs_input_grad = False
    x = rng.standard_normal(in_shape, dtype=np.float32)
    dy = np.ones((in_shape[0],) + tuple(shape), np.float32)

    def step():
        out = x
        for layer in layers:
            out = layer.forward(out, training=True)
        grad = dy
        for layer in reversed(layers):
            grad = layer.backward(grad)
    return step


def torch_case(build, in_shape, first=False):
    x = torch.randn(in_shape, requires_grad=not first)
    fn = build()

    def step():
        y = fn(x)
        y.backward(torch.ones_like(y))
    return step


def torch_conv(c, o, k, pad):
    w = torch.randn(o, c, k, k, requires_grad=True)
    b = torch.zeros(o, requires_grad=True)
    return lambda x: F.conv2d(x, w, b, padding=pad)


def torch_block():
    conv = torch_conv(32, 64, 3, 1)
    bn = torch.nn.BatchNorm2d(64)
    return lambda x: F.max_pool2d(F.relu(bn(conv(x))), 2)


def cases(n, rng):
    """(name, digitnet step, torch step or None)."""
    specs = [
        ("conv1 1->6 5x5 @28 (no dx)", lambda: [Conv2D(1, 6, 5)], (n, 1, 28, 28), True,
         lambda: torch_conv(1, 6, 5, 0)),
        ("maxpool2 6@24x24", lambda: [MaxPool2D(2)], (n, 6, 24, 24), False, lambda: lambda x: F.max_pool2d(x, 2)),
        ("conv2 6->16 5x5 @12", lambda: [Conv2D(6, 16, 5)], (n, 6, 12, 12), False, lambda: torch_conv(6, 16, 5, 0)),
        ("maxpool2 16@8x8", lambda: [MaxPool2D(2)], (n, 16, 8, 8), False, lambda: lambda x: F.max_pool2d(x, 2)),
        ("conv 32->64 3x3 same @14", lambda: [Conv2D(32, 64, 3, padding="same")], (n, 32, 14, 14), False,
         lambda: torch_conv(32, 64, 3, 1)),
        ("block conv+BN+ReLU+maxpool @14",
         lambda: [Conv2D(32, 64, 3, padding="same"), BatchNorm2D(64), ReLU(), MaxPool2D(2)], (n, 32, 14, 14),
         False, torch_block),
    ]
    for name, layers, shape, first, torch_build in specs:
        ours = digitnet_case(layers(), shape, rng, first)
        theirs = torch_case(torch_build, shape, first) if torch is not None else None
        yield name, ours, theirs


def median_ms(step, rounds, number, other=None):
    """Median over rounds of ms per call; ``other`` (if given) is timed in alternate rounds."""
    ours, theirs = [], []
    for fn in (step, other):
        if fn is not None:
            for _ in range(3):
                fn()  # warm-up: buffers, caches, lazy initialisation
    for _ in range(rounds):
        for fn, store in ((step, ours), (other, theirs)):
            if fn is None:
                continue
            start = time.perf_counter()
            for _ in range(number):
                fn()
            store.append((time.perf_counter() - start) / number * 1e3)
    return statistics.median(ours), (statistics.median(theirs) if theirs else None)


def environment() -> dict:
    blas = "?"
    try:
        config = np.show_config(mode="dicts")
        blas = f"{config['Build Dependencies']['blas']['name']} {config['Build Dependencies']['blas']['version']}"
    except Exception:
        pass
    return {"python": platform.python_version(), "numpy": np.__version__, "blas": blas,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"), "threads": ARGS.threads,
            "torch": torch.__version__ if torch is not None else None, "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count()}


def main() -> int:
    if torch is not None:
        torch.set_num_threads(ARGS.threads)
        torch.manual_seed(0)
    rng = np.random.default_rng(0)
    env = environment()
    print(" ".join(f"{k}={v}" for k, v in env.items()))
    print(f"batch {ARGS.batch}, float32, forward + backward, ms per call (median of {ARGS.rounds} rounds)")
    print(f"{'layer':34s} {'digitnet':>9s} {'torch':>9s} {'ratio':>6s}")
    rows = []
    for name, ours, theirs in cases(ARGS.batch, rng):
        ms, torch_ms = median_ms(ours, ARGS.rounds, ARGS.number, theirs)
        ratio = torch_ms / ms if torch_ms else None
        rows.append({"layer": name, "digitnet_ms": ms, "torch_ms": torch_ms, "ratio": ratio})
        t = f"{torch_ms:9.3f} {ratio:6.2f}" if torch_ms else f"{'-':>9s} {'-':>6s}"
        print(f"{name:34s} {ms:9.3f} {t}")
    if ARGS.json:
        with open(ARGS.json, "w") as fh:
            json.dump({"environment": env, "batch": ARGS.batch, "results": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
