"""Do NumPy's elementwise passes gain from a second core here? Each pass over a cnn-sized activation
(64, 32, 28, 28) float32 (6.4 MB), once in one thread and split by batch halves over two Python threads
(NumPy releases the GIL inside ufunc loops). Run as the other benchmarks are:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 python benchmarks/elementwise_threads.py

Prints ms per pass (median of --repeats timings of --calls calls) for: ReLU, the batch-norm apply
(x - mean) * scale, and the per-channel sum of the batch-norm backward; alone, and each call after a
(256, 256) matrix product (as every pass of a training step follows one). It also prints the CPU time
the process burns during a 200 ms sleep after one product: OpenBLAS's own worker thread spinning.
With OPENBLAS_NUM_THREADS=2 this is what a split pass meets in a 2-thread training step (docs/speed.md,
"Splitting the non-BLAS passes over two threads").
"""

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from digitnet.bench import per_call_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    x = np.random.default_rng(0).standard_normal((64, 32, 28, 28)).astype(np.float32)
    out = np.empty_like(x)
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    scale = 1 / x.std(axis=(0, 2, 3), keepdims=True)
    passes = {
        "relu": lambda a, o: np.maximum(a, 0, out=o),
        "batch-norm apply": lambda a, o: np.multiply(np.subtract(a, mean, out=o), scale, out=o),
        "channel sum": lambda a, o: a.sum(axis=(0, 2, 3)),
    }
    half = len(x) // 2
    a = np.ones((256, 256), np.float32)
    product = a @ a
    spin = time.process_time()
    time.sleep(0.2)
    spin = time.process_time() - spin
    print(f"load={os.getloadavg()[0]:.2f}; CPU ms burnt in a 200 ms sleep after one product: {spin * 1e3:.0f}")
    with ThreadPoolExecutor(2) as pool:
        print(
            f"{'pass':18s} {'1 thread ms':>12s} {'2 threads ms':>13s}   after a product: {'product ms':>10s} "
            f"{'+1 thread':>10s} {'+2 threads':>10s}"
        )
        for name, fn in passes.items():
            split = (
                lambda: [  # noqa: E731
                    f.result() for f in (pool.submit(fn, x[:half], out[:half]), pool.submit(fn, x[half:], out[half:]))
                ]
            )
            time.sleep(0.3)  # OpenBLAS's thread asleep again
            one = per_call_ms(lambda: fn(x, out), args.calls, args.repeats)
            both = per_call_ms(split, args.calls, args.repeats)
            alone = per_call_ms(lambda: np.matmul(a, a, out=product), args.calls, args.repeats)
            one_after = per_call_ms(lambda: (np.matmul(a, a, out=product), fn(x, out)), args.calls, args.repeats)
            both_after = per_call_ms(lambda: (np.matmul(a, a, out=product), split()), args.calls, args.repeats)
            print(
                f"{name:18s} {one:12.3f} {both:13.3f}   {'':16s} {alone:10.3f} {one_after - alone:10.3f} "
                f"{both_after - alone:10.3f}"
            )


if __name__ == "__main__":
    main()
