"""From what size does splitting a pass over the BLAS threads pay (digitnet.nn.fast.halves)?

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 python benchmarks/halves_threshold.py

For float32 arrays of 32 KB .. 8 MB: a ReLU pass (maximum(x, 0) into a reused array) and a strided copy
(a batch-last transpose, as Conv2D's im2col does), whole on the calling thread and split by
``halves.run`` (parts of at least 1 byte, so every size is split). Prints microseconds per pass (median
of --repeats timings of --calls calls each) and the ratio; a matrix product runs before every timed
batch, so OpenBLAS's threads are awake as they are in a training step. The load average is printed.
"""

import argparse
import os
import time

import numpy as np

from digitnet.nn.fast import halves


def per_call_us(fn, calls, repeats, before):
    fn()
    times = []
    for _ in range(repeats):
        before()
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"workers={halves.workers()} load={os.getloadavg()[0]:.2f}")
    a = np.random.default_rng(0).standard_normal((256, 256), dtype=np.float32)
    gemm = lambda: a @ a  # noqa: E731
    halves.MIN_PART_BYTES = 1
    print(f"{'KB':>6s} {'relu whole':>11s} {'split':>8s} {'x':>5s}   {'copy whole':>11s} {'split':>8s} {'x':>5s}")
    for kb in (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192):
        n = kb * 1024 // 4
        c = 32
        x = np.random.default_rng(1).standard_normal((64, c, n // (64 * c))).astype(np.float32)
        y = np.empty_like(x)
        t = np.empty((c, x.shape[2], 64), np.float32)
        src = x.transpose(1, 2, 0)
        rw = per_call_us(lambda: np.maximum(x, 0, out=y), args.calls, args.repeats, gemm)
        rs = per_call_us(
            lambda: halves.each(lambda o, i: np.maximum(i, 0, out=o), y, x, axis=1), args.calls, args.repeats, gemm
        )
        cw = per_call_us(lambda: np.copyto(t, src), args.calls, args.repeats, gemm)
        cs = per_call_us(lambda: halves.copyto(t, src, axis=0), args.calls, args.repeats, gemm)
        print(f"{kb:6d} {rw:11.1f} {rs:8.1f} {rw / rs:5.2f}   {cw:11.1f} {cs:8.1f} {cw / cs:5.2f}")
    print(f"load={os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
