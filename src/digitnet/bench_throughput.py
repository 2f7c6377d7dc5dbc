"""Training throughput (samples/s) and batch-1 inference latency of every zoo model, against PyTorch.

    python -m digitnet.bench_throughput [--batches 938] [--models lenet5,cnn] [--threads 2] [--repeats 3]
                                        [--json out.json] [--keep-blas-pinning]
    python benchmarks/train_throughput.py ...        (the same, from a source checkout)

``digitnet bench`` runs this module too, so an installed digitnet measures training speed without
the source tree.

For each model: ``--batches`` training steps (default: one epoch of 60000 images at batch 64) of
digitnet's ``train_step`` (float32, Adam with the zoo recipe's lr, softmax cross-entropy), and, when
PyTorch is installed, the same architecture in plain eager PyTorch (nn layers, torch.optim.Adam,
F.cross_entropy) on the same batches. Each (model, side, repeat) runs in its own fresh subprocess: in
one process OpenBLAS worker threads, spinning after every NumPy product, slow torch down many times
over on 2 cores (and torch's OpenMP threads do the same to NumPy). The sides alternate ``--repeats``
times (d t, t d, d t, ...: each side goes first equally often, so both see the same load) and the
figures are the medians; ratio = median digitnet samples/s / median torch samples/s (> 1: digitnet is
faster). Latency: median of ``--latency-calls`` forward passes on one image (torch under
inference_mode), median over the repeats.

Fairness, for both sides alike (digitnet.bench.benchmark_environment): the workers run without
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (environments that pin OpenBLAS to older AVX2 kernels; a user's
machine runs the CPU's own, and PyTorch's MKL/oneDNN ignores them; --keep-blas-pinning keeps them),
and with glibc's MALLOC_MMAP_THRESHOLD_=64 MiB and MALLOC_TRIM_THRESHOLD_=256 MiB unless set: with the
default dynamic threshold, a fresh large tensor is a fresh mmap that page-faults on first touch until
the process has freed one big block, so torch's speed would depend on what ran before it in the
process. Each worker reports the BLAS kernels it ran (threadpoolctl) and the allocator settings; the
header line and the JSON record them, with the load average before and after each model.
Images come from $DIGITNET_DATA (MNIST) when present, else uniform noise (speed does not depend on it).
With --threads 2 on a 2-core machine, another busy process stalls the threaded BLAS/OpenMP kernels of
both sides (measured: LeNet-5 training 70x slower in NumPy, 8x in torch): use a quiet machine or
--threads 1 for figures worth comparing, and read the recorded load average.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from digitnet import zoo
from digitnet.bench import benchmark_environment, blas_kernels, latency_ms
from digitnet.nn import Adam

WORKER_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=938, help="training steps per model (938 = one epoch)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--models", default="all", help="comma-separated zoo names (default all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="alternating subprocess runs per side (medians)")
    parser.add_argument("--latency-calls", type=int, default=200)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument(
        "--keep-blas-pinning",
        action="store_true",
        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the workers' environment",
    )
    parser.add_argument("--side", choices=["digitnet", "torch"], help=argparse.SUPPRESS)  # worker mode
    return parser.parse_args(argv)


def have_torch() -> bool:
    return importlib.util.find_spec("torch") is not None


def _torch():
    """The torch module (imported only in the torch worker: the digitnet worker never loads its libraries)."""
    import torch

    return torch


def child_environment(threads: int, keep_blas_pinning: bool = False) -> dict:
    """The environment of a worker process: digitnet.bench.benchmark_environment (thread counts, which BLAS
    pools size when they load; no OPENBLAS_CORETYPE / L2_SIZE; fixed malloc thresholds) with this digitnet
    importable."""
    env = benchmark_environment(threads, keep_blas_pinning=keep_blas_pinning)
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
            mods.append(
                torch.nn.Conv2d(
                    layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, pad, bias=layer.use_bias
                )
            )
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
            mods.append(
                {
                    "ReLU": torch.nn.ReLU,
                    "Sigmoid": torch.nn.Sigmoid,
                    "Tanh": torch.nn.Tanh,
                    "Identity": torch.nn.Identity,
                }[kind]()
            )
    return torch.nn.Sequential(*mods)


def digitnet_run(name, x, y, batch):
    """(train(steps) closure, batch-1 forward closure) for the zoo model."""
    model = zoo.build(name, seed=0)
    model.compile(optimizer=Adam(lr=zoo.recipe(name)["lr"]), loss="cross_entropy")

    def train(i, j):
        for k in range(i, j):
            model.train_step(x[k * batch : (k + 1) * batch], y[k * batch : (k + 1) * batch])

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
            loss = F.cross_entropy(net(xt[k * batch : (k + 1) * batch]), yt[k * batch : (k + 1) * batch])
            loss.backward()
            opt.step()

    def forward():
        net.eval()
        with torch.inference_mode():
            net(xt[:1])

    return train, forward


def worker(args, side, name) -> int:
    """Train ``--batches`` steps of one model on one side; print {samples_per_s, samples_per_cpu_s, latency_ms,
    kernels, environment} as JSON."""
    if side == "torch":
        torch = _torch()
        torch.set_num_threads(args.threads)
        torch.manual_seed(0)
    x, y, _ = training_images(args.batches * args.batch_size, np.random.default_rng(0))
    train, forward = (digitnet_run if side == "digitnet" else torch_run)(name, x, y, args.batch_size)
    train(0, min(3, args.batches))  # warm-up: buffers and caches
    t0, c0 = time.perf_counter(), time.process_time()
    train(0, args.batches)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    kernels = blas_kernels()
    if side == "torch":  # MKL / oneDNN are linked into torch, out of threadpoolctl's sight: torch's own report
        kernels.append(
            {
                "user_api": "torch",
                "internal_api": "aten",
                "version": torch.__version__,
                "architecture": torch.backends.cpu.get_cpu_capability(),
                "num_threads": torch.get_num_threads(),
            }
        )
    print(
        json.dumps(
            {
                "samples_per_s": args.batches * args.batch_size / seconds,
                "samples_per_cpu_s": args.batches * args.batch_size / cpu_seconds,
                "latency_ms": latency_ms(forward, args.latency_calls),
                "kernels": kernels,
                "environment": {k: os.environ.get(k) for k in WORKER_VARIABLES},
            }
        )
    )
    return 0


def run_side(args, side, name) -> dict:
    """One worker process: {samples_per_s, samples_per_cpu_s, latency_ms, kernels, environment}."""
    argv = [
        sys.executable,
        "-m",
        "digitnet.bench_throughput",
        "--side",
        side,
        "--models",
        name,
        "--batches",
        str(args.batches),
        "--batch-size",
        str(args.batch_size),
        "--threads",
        str(args.threads),
        "--latency-calls",
        str(args.latency_calls),
    ]
    env = child_environment(args.threads, keep_blas_pinning=args.keep_blas_pinning)
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def kernel_names(kernels) -> str:
    """'openblas 0.3.31 SkylakeX x2' style summary of threadpoolctl's report."""
    return (
        ", ".join(
            f"{k.get('internal_api')} {k.get('version', '')} {k.get('architecture', '')} "
            f"x{k.get('num_threads')}".replace("  ", " ")
            for k in kernels
        )
        or "(threadpoolctl missing)"
    )


def measure(args, name, sides) -> dict:
    """Alternating runs of every side on one model; medians, all runs and the load average around them."""
    runs = {side: [] for side in sides}
    load_before = os.getloadavg()[0]
    for r in range(args.repeats):
        for side in sides if r % 2 == 0 else sides[::-1]:
            runs[side].append(run_side(args, side, name))
    row = {"model": name, "load_average_before": load_before, "load_average_after": os.getloadavg()[0]}
    for side in sides:
        rates = [got["samples_per_s"] for got in runs[side]]
        row[f"{side}_samples_per_s"] = statistics.median(rates)
        row[f"{side}_latency_ms"] = statistics.median(got["latency_ms"] for got in runs[side])
        row[f"{side}_runs_samples_per_s"] = rates
        row[f"{side}_samples_per_cpu_s"] = statistics.median(got["samples_per_cpu_s"] for got in runs[side])
        row[f"{side}_kernels"] = runs[side][-1]["kernels"]
        row[f"{side}_environment"] = runs[side][-1]["environment"]
    if "torch" in sides:
        row["ratio"] = row["digitnet_samples_per_s"] / row["torch_samples_per_s"]
        row["ratio_runs"] = [d["samples_per_s"] / t["samples_per_s"] for d, t in zip(runs["digitnet"], runs["torch"])]
        # per CPU-second of the process (all its threads): robust to other jobs' load at 1 thread; at 2 threads
        # it also counts BLAS/OpenMP threads' spinning, so it is no substitute for the wall-clock ratio
        row["cpu_ratio"] = row["digitnet_samples_per_cpu_s"] / row["torch_samples_per_cpu_s"]
        row["latency_ratio"] = row["torch_latency_ms"] / row["digitnet_latency_ms"]  # > 1: digitnet faster
    return row


def main(argv=None) -> int:
    args = parse_args(argv)
    names = zoo.NAMES if args.models == "all" else tuple(args.models.split(","))
    if args.side:
        return worker(args, args.side, names[0])
    _, _, source = training_images(1, np.random.default_rng(0))
    worker_env = child_environment(args.threads, keep_blas_pinning=args.keep_blas_pinning)
    env = {
        "numpy": np.__version__,
        "torch": metadata.version("torch") if have_torch() else None,
        "threads": args.threads,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "workers": {k: worker_env.get(k, "(unset)") for k in WORKER_VARIABLES},
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "data": source,
        "batches": args.batches,
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "statistic": "median of alternating runs",
    }
    print(" ".join(f"{k}={v}" for k, v in env.items() if k != "workers"))
    print("workers: " + " ".join(f"{k}={v}" for k, v in env["workers"].items()))
    sides = ["digitnet"] + (["torch"] if have_torch() else [])
    rows = []
    for name in names:
        row = measure(args, name, sides)
        if not rows:
            env["numpy_blas_kernel"] = kernel_names(row["digitnet_kernels"])
            print(
                f"kernels: digitnet: {env['numpy_blas_kernel']}"
                + (f"; torch: {kernel_names(row['torch_kernels'])}" if "torch" in sides else "")
            )
            print(
                f"{'model':12s} {'digitnet/s':>11s} {'torch/s':>9s} {'ratio':>6s} {'(runs)':>16s} {'lat ms':>7s} "
                f"{'torch ms':>8s} {'load':>9s} {'cpu-ratio':>9s}"
            )
        line = f"{name:12s} {row['digitnet_samples_per_s']:11.0f} "
        if "torch" in sides:
            spread = "/".join(f"{r:.2f}" for r in row["ratio_runs"])
            line += (
                f"{row['torch_samples_per_s']:9.0f} {row['ratio']:6.2f} {spread:>16s} "
                f"{row['digitnet_latency_ms']:7.3f} {row['torch_latency_ms']:8.3f}"
            )
        else:
            line += f"{'-':>9s} {'-':>6s} {'-':>16s} {row['digitnet_latency_ms']:7.3f} {'-':>8s}"
        line += f" {row['load_average_before']:4.1f}-{row['load_average_after']:<4.1f}"
        if "torch" in sides:
            line += f" {row['cpu_ratio']:9.2f}"
        print(line, flush=True)
        rows.append(row)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"environment": env, "results": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
