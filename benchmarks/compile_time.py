"""What the fast tier's compiled kernels cost before they run: importing Numba, compiling, loading the cache.

    python benchmarks/compile_time.py [--model reader] [--repeats 3]

Each round runs three fresh processes against a new, empty Numba cache directory (``NUMBA_CACHE_DIR``):
1. *first run*: builds the zoo model, then times its first training step (batch 64, float32), which
   compiles every kernel the model uses, and a second step (nothing left to compile);
2. *cached run*: the same in a new process, which loads the machine code the first one cached;
3. the time to import numba alone.
A user pays (1) once per machine (and again after upgrading digitnet or Numba), (2) at every
``digitnet train``. Medians over ``--repeats`` rounds, in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="reader")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--side", choices=["steps", "import"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def time_steps(model_name):
    import numpy as np

    from digitnet import zoo

    rng = np.random.default_rng(0)
    model = zoo.build(model_name, seed=0)
    model.compile("adam", lr=1e-3)
    x = rng.random((64,) + tuple(model.input_shape), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        model.train_step(x, y)
        times.append(1e3 * (time.perf_counter() - start))
    return {"first_step_ms": times[0], "second_step_ms": times[1]}


def time_import():
    start = time.perf_counter()
    import numba  # noqa: F401

    return {"import_numba_ms": 1e3 * (time.perf_counter() - start)}


def child(side, model_name, cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    argv = [sys.executable, os.path.abspath(__file__), "--side", side, "--model", model_name]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    args = parse_args(argv)
    if args.side == "steps":
        print(json.dumps(time_steps(args.model)))
        return
    if args.side == "import":
        print(json.dumps(time_import()))
        return
    rounds = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache_dir:
            first = child("steps", args.model, cache_dir)
            cached = child("steps", args.model, cache_dir)
            imported = child("import", args.model, cache_dir)
        rounds.append((first, cached, imported))
    med = lambda pick: statistics.median(pick(r) for r in rounds)  # noqa: E731
    print(f"model {args.model}, batch 64, float32; medians of {args.repeats} rounds (ms)")
    print(
        f"  first run:  first step {med(lambda r: r[0]['first_step_ms']):8.1f}   second step "
        f"{med(lambda r: r[0]['second_step_ms']):6.1f}   (compiles the kernels)"
    )
    print(
        f"  cached run: first step {med(lambda r: r[1]['first_step_ms']):8.1f}   second step "
        f"{med(lambda r: r[1]['second_step_ms']):6.1f}   (loads them from the cache)"
    )
    print(f"  import numba alone: {med(lambda r: r[2]['import_numba_ms']):.1f}")


if __name__ == "__main__":
    main()
