"""Training throughput (samples/s) and batch-1 inference latency of every zoo model, against PyTorch.

    python -m digitnet.bench_throughput [--batches 938] [--models lenet5,cnn] [--threads 2] [--json out.json]
    python benchmarks/train_throughput.py ...        (the same, from a source checkout)

``digitnet bench`` runs this module too, so an installed digitnet measures training speed without
the source tree.

For each model: ``--batches`` training steps (default: one epoch of 60000 images at batch 64) of
digitnet's ``train_step`` (float32, Adam with the zoo recipe's lr, softmax cross-entropy), and, when
PyTorch is installed, the same architecture in plain eager PyTorch (nn layers, torch.optim.Adam,
F.cross_entropy) on the same batches. Each (model, side) runs in its own subprocess: in one process
OpenBLAS worker threads, spinning after every NumPy product, slow torch down many times over on 2
cores (and torch's OpenMP threads do the same to NumPy). Sides alternate ``--repeats`` times and
each keeps its best. ratio = digitnet samples/s / torch samples/s (> 1: digitnet is faster).
Latency: median of ``--latency-calls`` forward passes on one image (torch under inference_mode).
Images come from $DIGITNET_DATA (MNIST) when present, else uniform noise (speed does not depend on it).
With --threads 2 on a 2-core machine, another busy process stalls the threaded BLAS/OpenMP kernels of
both sides (measured: LeNet-5 training 70x slower in NumPy, 8x in torch): use a quiet machine or
--threads 1 for figures worth comparing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from digitnet import zoo
from digitnet.bench import latency_ms
from digitnet.nn import Adam

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=938, help="training steps per model (938 = one epoch)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--models", default="all", help="comma-separated zoo names (default all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="alternating subprocess runs per side")
    parser.add_argument("--latency-calls", type=int, default=200)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--side", choices=["digitnet", "torch"], help=argparse.SUPPRESS)  # worker mode
    return parser.parse_args(argv)


def _torch():
    """The torch module, or None when it is not installed (imported only where it is used)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def child_environment(threads: int) -> dict:
    """The environment of a worker process: the thread counts set (BLAS and OpenMP pools are sized when
    they load, so a process cannot change its own) and this digitnet importable."""
    env = {**os.environ, **{k: str(threads) for k in THREAD_VARIABLES}}
    package_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def training_images(n: int, rng):
    """(x float32 (n, 1, 28, 28) in [0, 1], y int64 (n,)): MNIST if available, else noise."""
    try:
        from digitnet.data import load

        images, labels = load("mnist", split="train", data_dir=os.environ["DIGITNET_DATA"], download=False)
        idx = rng.choice(len(images), size=n, replace=n > len(images))
        return (images[idx].astype(np.float32) / 255)[:, None], labels[idx].astype(np.int64), "mnist"
    except Exception:  # no data folder: random images are as fast to train on
        return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n), "noise"


def torch_model(model):
    """The same layer sequence in torch.nn (shapes, padding, pooling, dropout and order as in ``model``)."""
    torch = _torch()
    mods = []
    for layer in model.layers:
        kind, cfg = type(layer).__name__, layer.get_config()
        if kind == "Conv2D":
            if layer.connections is not None:
                raise ValueError("torch reference has no connection tables")
            (pt, pb), (pl, pr) = layer.pads
            if (pt, pl) != (pb, pr):
                mods.append(torch.nn.ZeroPad2d((pl, pr, pt, pb)))
            pad = (pt, pl) if (pt, pl) == (pb, pr) else 0
            mods.append(torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                                        pad, bias=layer.use_bias))
        elif kind in ("MaxPool2D", "AvgPool2D"):
            cls = torch.nn.MaxPool2d if kind == "MaxPool2D" else torch.nn.AvgPool2d
            mods.append(cls(tuple(cfg["kernel_size"]), tuple(cfg["stride"])))
        elif kind in ("BatchNorm2D", "BatchNorm1D"):
            cls = torch.nn.BatchNorm2d if kind == "BatchNorm2D" else torch.nn.BatchNorm1d
            mods.append(cls(layer.num_features, eps=layer.eps, momentum=layer.momentum))
        elif kind == "Dense":
            mods.append(torch.nn.Linear(layer.input_shape[0], layer.units, bias=layer.use_bias))
        elif kind == "Flatten":
            mods.append(torch.nn.Flatten())
        elif kind == "Dropout":
            mods.append(torch.nn.Dropout(layer.rate))
        else:
            mods.append({"ReLU": torch.nn.ReLU, "Sigmoid": torch.nn.Sigmoid, "Tanh": torch.nn.Tanh,
                         "Identity": torch.nn.Identity}[kind]())
    return torch.nn.Sequential(*mods)


def digitnet_run(name, x, y, batch):
    """(train(steps) closure, batch-1 forward closure) for the zoo model."""
    model = zoo.build(name, seed=0)
    model.compile(optimizer=Adam(lr=zoo.recipe(name)["lr"]), loss="cross_entropy")

    def train(i, j):
        for k in range(i, j):
            model.train_step(x[k * batch:(k + 1) * batch], y[k * batch:(k + 1) * batch])
    one = x[:1]
    return train, lambda: model.forward(one)


def torch_run(name, x, y, batch):
    torch = _torch()
    import torch.nn.functional as F

    net = torch_model(zoo.build(name, seed=0))
    opt = torch.optim.Adam(net.parameters(), lr=zoo.recipe(name)["lr"])
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def train(i, j):
        net.train()
        for k in range(i, j):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(xt[k * batch:(k + 1) * batch]), yt[k * batch:(k + 1) * batch])
            loss.backward()
            opt.step()

    def forward():
        net.eval()
        with torch.inference_mode():
            net(xt[:1])
    return train, forward


def worker(args, side, name) -> int:
    """Train ``--batches`` steps of one model on one side; print {samples_per_s, latency_ms} as JSON."""
    if side == "torch":
        torch = _torch()
        torch.set_num_threads(args.threads)
        torch.manual_seed(0)
    x, y, _ = training_images(args.batches * args.batch_size, np.random.default_rng(0))
    train, forward = (digitnet_run if side == "digitnet" else torch_run)(name, x, y, args.batch_size)
    train(0, min(3, args.batches))  # warm-up: buffers and caches
    t0 = time.perf_counter()
    train(0, args.batches)
    seconds = time.perf_counter() - t0
    print(json.dumps({"samples_per_s": args.batches * args.batch_size / seconds,
                      "latency_ms": latency_ms(forward, args.latency_calls)}))
    return 0


def run_side(args, side, name) -> dict:
    argv = [sys.executable, "-m", "digitnet.bench_throughput", "--side", side, "--models", name, "--batches", str(args.batches),
            "--batch-size", str(args.batch_size), "--threads", str(args.threads),
            "--latency-calls", str(args.latency_calls)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env=child_environment(args.threads)).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> int:
    args = parse_args(argv)
    names = zoo.NAMES if args.models == "all" else tuple(args.models.split(","))
    if args.side:  # a worker: its parent set the thread counts in its environment (child_environment)
        return worker(args, args.side, names[0])
    torch = _torch()
    _, _, source = training_images(1, np.random.default_rng(0))
    env = {"numpy": np.__version__, "torch": torch.__version__ if torch else None, "threads": args.threads,
           "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"), "python": platform.python_version(),
           "cores": os.cpu_count(), "data": source, "batches": args.batches, "batch_size": args.batch_size}
    print(" ".join(f"{k}={v}" for k, v in env.items()))
    print(f"{'model':12s} {'digitnet/s':>11s} {'torch/s':>9s} {'ratio':>6s} {'lat ms':>7s} {'torch ms':>8s}")
    sides = ["digitnet"] + (["torch"] if torch is not None else [])
    rows = []
    for name in names:
        best = {side: {"samples_per_s": 0.0, "latency_ms": float("inf")} for side in sides}
        for _ in range(args.repeats):
            for side in sides:
                got = run_side(args, side, name)
                best[side] = {"samples_per_s": max(best[side]["samples_per_s"], got["samples_per_s"]),
                              "latency_ms": min(best[side]["latency_ms"], got["latency_ms"])}
        row = {"model": name, "digitnet_samples_per_s": best["digitnet"]["samples_per_s"],
               "digitnet_latency_ms": best["digitnet"]["latency_ms"]}
        line = f"{name:12s} {row['digitnet_samples_per_s']:11.0f} "
        if "torch" in best:
            row.update(torch_samples_per_s=best["torch"]["samples_per_s"], torch_latency_ms=best["torch"]["latency_ms"],
                       ratio=best["digitnet"]["samples_per_s"] / best["torch"]["samples_per_s"])
            line += (f"{row['torch_samples_per_s']:9.0f} {row['ratio']:6.2f} {row['digitnet_latency_ms']:7.3f} "
                     f"{row['torch_latency_ms']:8.3f}")
        else:
            line += f"{'-':>9s} {'-':>6s} {row['digitnet_latency_ms']:7.3f}"
        print(line, flush=True)
        rows.append(row)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"environment": env, "results": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
