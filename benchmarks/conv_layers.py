"""Forward + backward time of the convolutional layers, against PyTorch eager CPU in the same run.

    python benchmarks/conv_layers.py [--batch 64] [--threads 2] [--rounds 15] [--number 10] [--json out.json]

Shapes (float32, NCHW): the LeNet-5 layers on 28x28 digits (conv 1->6 5x5, max-pool 2, conv 6->16 5x5,
max-pool 2) and a small CNN block (conv 32->64 3x3 'same' on 14x14 + BatchNorm2D + ReLU + max-pool 2).
The first conv, like a model's first layer, computes no input gradient (nor does torch: x needs no grad).

Timing: each side runs in its own subprocess (in one process, OpenBLAS worker threads that keep
spinning after a NumPy product slow torch down by up to 50x on 2 cores, and torch's OpenMP threads
do the same to NumPy); the two alternate ``--repeats`` times and each keeps its best. Within a
process each round times ``number`` calls; the figure is the median round, in ms per call.
ratio = torch time / digitnet time (> 1 means digitnet is faster). NumPy's BLAS threads are set
through OPENBLAS_NUM_THREADS before NumPy is imported; torch.set_num_threads uses the same count.
With 2 threads on 2 cores, any other busy process makes both libraries' threaded kernels wait for a
descheduled worker (measured: up to 70x slower); compare figures only from a quiet machine, or use
--threads 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=10, help="calls per timed round")
    parser.add_argument("--repeats", type=int, default=2, help="alternating subprocess runs per side")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--side", choices=["digitnet", "torch"], help=argparse.SUPPRESS)  # worker mode
    return parser.parse_args(argv)


ARGS = parse_args()
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread settings)

from digitnet.bench import per_call_ms  # noqa: E402
from digitnet.nn import BatchNorm2D, Conv2D, MaxPool2D, ReLU  # noqa: E402  (the fast tier)

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


def cases(n, rng, side):
    """(name, step) for one side: digitnet layers, or the torch functional equivalent."""
    specs = [
        ("conv1 1->6 5x5 @28 (no dx)", lambda: [Conv2D(1, 6, 5)], (n, 1, 28, 28), True, lambda: torch_conv(1, 6, 5, 0)),
        ("maxpool2 6@24x24", lambda: [MaxPool2D(2)], (n, 6, 24, 24), False, lambda: lambda x: F.max_pool2d(x, 2)),
        ("conv2 6->16 5x5 @12", lambda: [Conv2D(6, 16, 5)], (n, 6, 12, 12), False, lambda: torch_conv(6, 16, 5, 0)),
        ("maxpool2 16@8x8", lambda: [MaxPool2D(2)], (n, 16, 8, 8), False, lambda: lambda x: F.max_pool2d(x, 2)),
        (
            "conv 32->64 3x3 same @14",
            lambda: [Conv2D(32, 64, 3, padding="same")],
            (n, 32, 14, 14),
            False,
            lambda: torch_conv(32, 64, 3, 1),
        ),
        (
            "block conv+BN+ReLU+maxpool @14",
            lambda: [Conv2D(32, 64, 3, padding="same"), BatchNorm2D(64), ReLU(), MaxPool2D(2)],
            (n, 32, 14, 14),
            False,
            torch_block,
        ),
    ]
    for name, layers, shape, first, torch_build in specs:
        if side == "digitnet":
            yield name, digitnet_case(layers(), shape, rng, first)
        else:
            yield name, torch_case(torch_build, shape, first)


def worker(side) -> int:
    """Time every case for one side and print {name: ms} as JSON."""
    if side == "torch":
        torch.set_num_threads(ARGS.threads)
        torch.manual_seed(0)
    rng = np.random.default_rng(0)
    print(
        json.dumps(
            {name: per_call_ms(step, ARGS.number, ARGS.rounds, warmup=3) for name, step in cases(ARGS.batch, rng, side)}
        )
    )
    return 0


def run_side(side) -> dict:
    argv = [
        sys.executable,
        __file__,
        "--side",
        side,
        "--batch",
        str(ARGS.batch),
        "--threads",
        str(ARGS.threads),
        "--rounds",
        str(ARGS.rounds),
        "--number",
        str(ARGS.number),
    ]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def environment() -> dict:
    blas = "?"
    try:
        config = np.show_config(mode="dicts")
        blas = f"{config['Build Dependencies']['blas']['name']} {config['Build Dependencies']['blas']['version']}"
    except Exception:
        pass
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "threads": ARGS.threads,
        "torch": torch.__version__ if torch is not None else None,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
    }


def main() -> int:
    if ARGS.side:
        return worker(ARGS.side)
    env = environment()
    print(" ".join(f"{k}={v}" for k, v in env.items()))
    sides = ["digitnet"] + (["torch"] if torch is not None else [])
    best: dict = {side: {} for side in sides}
    for _ in range(ARGS.repeats):
        for side in sides:
            for name, ms in run_side(side).items():
                best[side][name] = min(ms, best[side].get(name, float("inf")))
    print(
        f"batch {ARGS.batch}, float32, forward + backward, ms per call "
        f"(median of {ARGS.rounds} rounds, best of {ARGS.repeats} runs)"
    )
    print(f"{'layer':34s} {'digitnet':>9s} {'torch':>9s} {'ratio':>6s}")
    rows = []
    for name, ms in best["digitnet"].items():
        torch_ms = best.get("torch", {}).get(name)
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
