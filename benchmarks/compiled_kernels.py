"""Do the fast tier's compiled kernels pay on this CPU? Each layer that has one, with its kernel and with
the NumPy code it replaces (``compiled.usable`` switched off), alternating, in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/compiled_kernels.py [--threads 1] [--calls 25]

Batch 64, float32, batch-last inputs as a fast Conv2D leaves them; figures are the better of two medians
of ``--calls`` calls per side (ms). A kernel that Numba's compiler cannot turn into vector code for this
CPU shows up here as slower than NumPy: the max-pool forward did on an AVX2 AMD EPYC (11 ms against
1.5 ms) until its loop was rewritten (docs/speed.md, "A second machine").
"""

from __future__ import annotations

import os

from digitnet.bench import kernel_timing_args

ARGS = kernel_timing_args(__doc__.splitlines()[0], threads=1, calls=25)

import numpy as np  # noqa: E402  (after the thread settings)

from digitnet.bench import blas_kernels, latency_ms  # noqa: E402
from digitnet.nn.fast import compiled, conv, elementwise, norm, optim, pool  # noqa: E402

RNG = np.random.default_rng(0)
KERNELS_ON = compiled.usable


def batch_last(c, hw, n=64):
    """(N, C, H, W) float32 with batch-last memory."""
    return np.ascontiguousarray(RNG.standard_normal((c, hw, hw, n), dtype=np.float32)).transpose(3, 0, 1, 2)


def on_and_off(label, make, calls):
    """``make()`` returns the call to time; it is made again with the kernels on and off, twice each."""
    best = {True: float("inf"), False: float("inf")}
    for on in (True, False, True, False):
        compiled.usable = KERNELS_ON if on else (lambda *arrays: False)
        try:
            best[on] = min(best[on], latency_ms(make(), calls))
        finally:
            compiled.usable = KERNELS_ON
    print(f"  {label:44s} {best[True]:8.3f} {best[False]:8.3f}  x{best[False] / best[True]:5.2f}", flush=True)


def built(layer, shape):
    layer.build(shape, RNG, np.float32)
    return layer


def after_forward(layer, x, dy):
    layer.forward(x, training=True)
    return lambda: layer.backward(dy)


def main() -> int:
    kernels = ", ".join(f"{k.get('internal_api')} {k.get('architecture', '')}" for k in blas_kernels())
    print(f"threads={ARGS.threads} kernels: {kernels or '(threadpoolctl missing)'} load={os.getloadavg()[0]:.1f}")
    if not KERNELS_ON(np.zeros(1, np.float32)):
        print("numba is not installed: every layer runs its NumPy code")
        return 0
    print(f"  {'layer (median ms)':44s} {'compiled':>8s} {'NumPy':>8s}")
    calls = ARGS.calls
    for c, hw in ((32, 28), (64, 14)):
        x, dy, dy_pooled = batch_last(c, hw), batch_last(c, hw), batch_last(c, hw // 2)
        bn = built(norm.BatchNorm2D(c), (c, hw, hw))
        on_and_off(f"BatchNorm2D forward {c}x{hw}x{hw}", lambda: lambda: bn.forward(x, training=True), calls)
        on_and_off(f"BatchNorm2D backward {c}x{hw}x{hw}", lambda: after_forward(bn, x, dy), calls)
        mp = built(pool.MaxPool2D(2), (c, hw, hw))
        on_and_off(f"MaxPool2D(2) forward {c}x{hw}x{hw}", lambda: lambda: mp.forward(x, training=True), calls)
        on_and_off(f"MaxPool2D(2) backward {c}x{hw}x{hw}", lambda: after_forward(mp, x, dy_pooled), calls)
        relu = elementwise.ReLU()
        on_and_off(f"ReLU forward {c}x{hw}x{hw}", lambda: lambda: relu.forward(x, training=True), calls)
        on_and_off(f"ReLU backward {c}x{hw}x{hw}", lambda: after_forward(relu, x, dy), calls)
    for c, o, hw, k in ((16, 48, 12, 5), (32, 64, 14, 3)):  # the reader's conv2 and the cnn's 32 -> 64 (col2im)
        layer = built(conv.Conv2D(c, o, k, padding="same" if k == 3 else 0), (c, hw, hw))
        x = batch_last(c, hw)
        dy = batch_last(o, layer.compute_output_shape((c, hw, hw))[1])
        on_and_off(f"Conv2D {c}->{o} k{k} {hw}x{hw} backward (col2im)", lambda: after_forward(layer, x, dy), calls)
    for size in (219_355, 1_276_810):  # the reader's and mlp-800-800's parameter counts
        p, g = RNG.standard_normal(size).astype(np.float32), RNG.standard_normal(size).astype(np.float32)

        def adam_step():
            adam = optim.Adam(lr=1e-3)
            return lambda: adam.step([("w", p, g)])

        on_and_off(f"Adam step, {size:,} parameters", adam_step, calls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
