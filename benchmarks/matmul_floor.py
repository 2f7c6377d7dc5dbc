"""How fast could a NumPy training step be? The time of its matrix products alone, against PyTorch.

    python benchmarks/matmul_floor.py [--models cnn,lenet5,mlp-800-800] [--threads 2] [--batches 100] [--clock cpu]

For each zoo model this lists the matrix products one digitnet training step makes (batch 64,
float32; Conv2D: forward W2 @ cols, weight gradient cols @ dY.T, input gradient by the flipped-kernel
product or W2.T @ dY, none for the first layer, each as kh smaller products where the layer works by row
shifts (fast/row_shifts.py); Dense: x @ W, x.T @ dy, dy @ W.T), times them alone
with NumPy's BLAS on random matrices of the same shapes and orientations (best of ``--rounds``),
and prints them next to the whole step of digitnet and of PyTorch (both from
digitnet.bench_throughput's workers, each in its own process).

    ceiling = torch step / products

is the best ratio digitnet/PyTorch any NumPy implementation calling this BLAS could reach if
everything but the products took no time at all. ``--clock cpu`` times products and steps in process
CPU time instead of wall time (robust to other jobs on a shared machine; use it with --threads 1, since
at 2 threads it also counts spinning BLAS threads). Workers run in digitnet.bench.benchmark_environment
(OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, fixed malloc thresholds), and the kernel OpenBLAS runs is
printed (threadpoolctl). Under the environment's OPENBLAS_CORETYPE=Haswell
the cnn's products alone take about as long as PyTorch's whole step (ceiling ~0.9): the cnn's ratio
target of 1.0 cannot be met by trimming the rest; only a faster BLAS or fewer multiplications can.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="cnn,lenet5,mlp-800-800")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", type=int, default=100, help="training steps per side for the step times")
    parser.add_argument("--rounds", type=int, default=20, help="timed repetitions of each product (best kept)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    return parser.parse_args(argv)


ARGS = parse_args()
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread settings)

from digitnet import zoo  # noqa: E402
from digitnet.bench import blas_kernels  # noqa: E402

BATCH = 64


def step_products(model):
    """[(label, A shape, B shape, transpose A?, transpose B?)]: one training step's products, as digitnet makes them."""
    products, first = [], True
    for i, layer in enumerate(model.layers):
        kind = type(layer).__name__
        if kind == "Conv2D":
            c, o = layer.in_channels, layer.out_channels
            kh, kw = layer.kernel_size
            _, ho, wo = layer.output_shape
            _, h, w = layer.input_shape
            k, m = c * kh * kw, ho * wo * BATCH
            if layer.patches_by_row_shifts():  # kh products over row-shifted views (fast/row_shifts.py)
                products += [(f"{i} conv fwd", (o, c * kw), (c * kw, m), False, False)] * kh
                products += [(f"{i} conv dW", (c * kw, m), (o, m), False, True)] * kh
            else:
                products += [(f"{i} conv fwd", (o, k), (k, m), False, False)]
                products += [(f"{i} conv dW", (k, m), (o, m), False, True)]
            if not first:  # the flipped-kernel products, or W2.T @ dY for col2im (by row shifts for stride 1)
                if layer.input_grad_by_flipped_kernel((h, w)):
                    products += [(f"{i} conv dx", (c, o * kw), (o * kw, h * w * BATCH), False, False)] * kh
                elif layer.stride[0] == 1:
                    products += [(f"{i} conv dx", (o, c * kw), (o, m), True, False)] * kh
                else:
                    products.append((f"{i} conv dx", (o, k), (o, m), True, False))
            first = False
        elif kind == "Dense":
            n_in, n_out = layer.input_shape[0], layer.units
            products += [
                (f"{i} dense fwd", (BATCH, n_in), (n_in, n_out), False, False),
                (f"{i} dense dW", (BATCH, n_in), (BATCH, n_out), True, False),
            ]
            if not first:
                products.append((f"{i} dense dx", (BATCH, n_out), (n_in, n_out), False, True))
            first = False
    return products


def time_products(products, rounds) -> float:
    """Seconds for all ``products`` once, each timed alone (best of ``rounds``)."""
    rng = np.random.default_rng(0)
    total = 0.0
    for _, a_shape, b_shape, transpose_a, transpose_b in products:
        a = rng.random(a_shape, dtype=np.float32)
        b = rng.random(b_shape, dtype=np.float32)
        a, b = (a.T if transpose_a else a), (b.T if transpose_b else b)

        def run():
            return a @ b

        run()
        best = float("inf")
        clock = time.process_time if ARGS.clock == "cpu" else time.perf_counter
        for _ in range(rounds):
            t0 = clock()
            run()
            best = min(best, clock() - t0)
        total += best
    return total


def step_ms(side, name) -> float:
    """ms per training step of one side, from digitnet.bench_throughput's worker in its own process."""
    from digitnet.bench_throughput import run_side

    worker = argparse.Namespace(
        batches=ARGS.batches, batch_size=BATCH, threads=ARGS.threads, latency_calls=3, keep_blas_pinning=False
    )
    key = "samples_per_cpu_s" if ARGS.clock == "cpu" else "samples_per_s"
    return 1e3 * BATCH / run_side(worker, side, name)[key]


def main() -> int:
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    kernels = ", ".join(f"{k.get('internal_api')} {k.get('architecture', '')}" for k in blas_kernels())
    print(
        f"threads={ARGS.threads} clock={ARGS.clock} OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
        f"kernel: {kernels} numpy={np.__version__} batch={BATCH} float32 load={os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'model':12s} {'products ms':>11s} {'digitnet ms':>11s} {'rest ms':>8s} {'torch ms':>8s} "
        f"{'ratio':>6s} {'ceiling':>7s}"
    )
    for name in ARGS.models.split(","):
        products = time_products(step_products(zoo.build(name)), ARGS.rounds) * 1e3
        ours = step_ms("digitnet", name)
        line = f"{name:12s} {products:11.2f} {ours:11.2f} {ours - products:8.2f}"
        if have_torch:
            theirs = step_ms("torch", name)
            line += f" {theirs:8.2f} {theirs / ours:6.2f} {theirs / products:7.2f}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
