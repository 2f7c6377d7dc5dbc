"""The benchmark harness behind ``digitnet bench`` and ``benchmarks/run_all.py``: one JSON file with

    machine     CPU model and flags, cores, memory, Python, NumPy and its BLAS build
                (numpy.show_config(mode="dicts")), OPENBLAS_CORETYPE and thread settings, torch version
    training    per zoo model: training samples/s of digitnet and, when torch is installed, of the same
                architecture in eager PyTorch, measured in the same run by digitnet.bench_throughput
                (each side in its own process); ratio = digitnet / torch (> 1: digitnet is faster)
    loops       the seed's loop-vs-vectorised experiment (digitnet.studies.compare_loops)
    inference   per zoo model: median batch-1 forward latency and batch-1000 throughput
    summary     one row per model joining the above

Every section runs in a child process with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set to ``threads``
(thread pools cannot be resized once NumPy is loaded, and torch's OpenMP threads must not share a
process with NumPy's). ``quick`` shrinks every section to well under a minute in all.
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
from pathlib import Path

from digitnet import machine

QUICK_MODELS = ("mlp-16-16", "mlp-100-100", "lenet5")
# Variables that pin OpenBLAS to older kernels than the CPU's own (set by some environments for old builds);
# a benchmark's worker processes run without them, so that NumPy runs the kernels a user's machine runs.
BLAS_PINNING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# glibc's allocator: a fixed mmap threshold (instead of the dynamic one, which rises only after a process has
# freed a large block) keeps big per-step tensors off fresh page-faulting mmaps, for both sides alike.
MALLOC_SETTINGS = {"MALLOC_MMAP_THRESHOLD_": "67108864", "MALLOC_TRIM_THRESHOLD_": "268435456"}


def benchmark_environment(threads: int, keep_blas_pinning: bool = False, base=None) -> dict:
    """The environment a benchmark worker process runs in: ``base`` (default os.environ) with the thread
    counts set, OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed (unless ``keep_blas_pinning``), and
    MALLOC_SETTINGS added where ``base`` does not set them itself. Only benchmark workers get this."""
    env = dict(os.environ if base is None else base)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(threads)
    if not keep_blas_pinning:
        for name in BLAS_PINNING_VARIABLES:
            env.pop(name, None)
    for name, value in MALLOC_SETTINGS.items():
        env.setdefault(name, value)
    return env


def blas_kernels() -> list[dict]:
    """What each loaded BLAS / OpenMP library runs (threadpoolctl): library, version, kernel architecture
    (e.g. OpenBLAS 'SkylakeX' = AVX-512, 'Haswell' = AVX2), threads. [] without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("user_api", "internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: info.get(k) for k in keys if info.get(k) is not None} for info in threadpool_info()]


def per_call_ms(fn, calls: int, repeats: int = 1, warmup: int = 1) -> float:
    """Median over ``repeats`` timings of the mean wall time of ``fn()`` over ``calls`` back-to-back calls
    (ms per call), after ``warmup`` calls (buffers, caches, lazy initialisation)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t0) / calls * 1e3)
    return statistics.median(times)


def kernel_timing_args(description: str, threads: int, calls: int, argv=None):
    """Parse ``--threads`` and ``--calls`` for a kernel-timing benchmark and pin the BLAS/OpenMP thread
    count to ``--threads``. Call it before NumPy is imported (this module does not import it)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=threads)
    parser.add_argument("--calls", type=int, default=calls)
    args = parser.parse_args(argv)
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
    return args


def latency_ms(fn, calls, warmup: int = 3) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``calls`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def inference_section(models, calls=200, repeats=3) -> list[dict]:
    """Per model: median batch-1 latency (ms) and best-of-``repeats`` batch-1000 forward throughput."""
    import numpy as np

    from digitnet import zoo

    x = np.random.default_rng(0).random((1000, 1, 28, 28), dtype=np.float32)
    rows = []
    for name in models:
        model = zoo.build(name, seed=0)
        one = x[:1]
        latency = latency_ms(lambda: model.forward(one), calls)
        best = min(_timed(lambda: model.forward(x)) for _ in range(repeats))
        rows.append(
            {
                "model": name,
                "latency_ms_batch1": latency,
                "samples_per_s_batch1000": len(x) / best,
                "parameters": model.n_params(),
            }
        )
    return rows


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def loops_section(quick) -> dict:
    """The seed's comparison: quick = 1 loop epoch, 20 vectorised, no per-tier steps; full = the seed's 20 and
    200, and one step of each tier."""
    from digitnet.studies import compare_loops

    settings = dict(loop_epochs=1, epochs=20, numpy_loop_epochs=0, tier_batch=0) if quick else {}
    with tempfile.TemporaryDirectory() as tmp:
        result = compare_loops(out=tmp, verbose=False, **settings)
    result.pop("out", None)
    return result


def _child(section, quick, threads, models, data_dir) -> dict:
    """Run one section in a fresh interpreter with the thread settings; returns its JSON."""
    env = benchmark_environment(threads)
    if data_dir:
        env["DIGITNET_DATA"] = str(data_dir)
    argv = [
        sys.executable,
        "-m",
        "digitnet.bench",
        "--section",
        section,
        "--threads",
        str(threads),
        "--models",
        ",".join(models),
    ] + (["--quick"] if quick else [])
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def training_section(quick, threads, models) -> dict:
    """digitnet.bench_throughput (digitnet vs torch, same run), in its own process."""
    from digitnet.bench_throughput import child_environment

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "train.json"
        argv = [
            sys.executable,
            "-m",
            "digitnet.bench_throughput",
            "--models",
            ",".join(models),
            "--threads",
            str(threads),
            "--json",
            str(out),
        ] + (["--batches", "20", "--repeats", "1", "--latency-calls", "50"] if quick else [])
        done = subprocess.run(argv, capture_output=True, text=True, env=child_environment(threads))
        if done.returncode != 0:
            return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1], "command": argv}
        result = json.loads(out.read_text())
    result["command"] = " ".join(argv[1:])
    return result


def summary(report: dict) -> list[dict]:
    """One row per model: training samples/s (digitnet, torch, ratio), latency, batch-1000 throughput."""
    rows = {}
    for r in report.get("training", {}).get("results", []):
        rows[r["model"]] = {
            "model": r["model"],
            "train_samples_per_s": r["digitnet_samples_per_s"],
            "torch_train_samples_per_s": r.get("torch_samples_per_s"),
            "train_ratio": r.get("ratio"),
            "torch_latency_ms_batch1": r.get("torch_latency_ms"),
        }
    inference = report.get("inference")
    for r in inference if isinstance(inference, list) else []:
        row = rows.setdefault(r["model"], {"model": r["model"]})
        row.update(
            latency_ms_batch1=r["latency_ms_batch1"], inference_samples_per_s_batch1000=r["samples_per_s_batch1000"]
        )
        if row.get("torch_latency_ms_batch1"):
            row["latency_ratio"] = row["torch_latency_ms_batch1"] / r["latency_ms_batch1"]  # > 1: digitnet faster
    return list(rows.values())


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def format_report(report: dict) -> str:
    """A short text version: machine line, per-model table, the loop comparison's headline."""
    m = report["machine"]
    blas = (m.get("numpy_config") or {}).get("Build Dependencies", {}).get("blas", {}) or {}
    workers = report.get("training", {}).get("environment", {}) if isinstance(report.get("training"), dict) else {}
    kernel = workers.get("numpy_blas_kernel") or "?"
    lines = [
        (
            f"{m.get('cpu')}, {m.get('cores')} cores, NumPy {m.get('numpy')} ({blas.get('name', '?')} "
            f"{blas.get('version', '')}), OPENBLAS_CORETYPE={m['environment'].get('OPENBLAS_CORETYPE')} "
            f"(workers: unset, kernel {kernel}), threads {report['threads']}, torch {m.get('torch')}"
        )
    ]
    head = ("model", "train/s", "torch/s", "ratio", "lat ms", "torch ms", "infer/s b1000")
    rows = [head] + [
        (
            r["model"],
            _fmt(r.get("train_samples_per_s"), ",.0f"),
            _fmt(r.get("torch_train_samples_per_s"), ",.0f"),
            _fmt(r.get("train_ratio"), ".2f"),
            _fmt(r.get("latency_ms_batch1"), ".3f"),
            _fmt(r.get("torch_latency_ms_batch1"), ".3f"),
            _fmt(r.get("inference_samples_per_s_batch1000"), ",.0f"),
        )
        for r in report["summary"]
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    lines += ["  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(zip(r, widths))) for r in rows]
    for section in ("training", "loops", "inference"):
        value = report.get(section)
        if isinstance(value, dict) and ("error" in value or "skipped" in value):
            lines.append(f"{section}: {value.get('error') or value.get('skipped')}")
    loops = report.get("loops")
    if isinstance(loops, dict) and "rows" in loops:
        from digitnet.studies.report import loops_summary

        lines.append(loops_summary(loops))
    return "\n".join(lines)


def run_all(
    quick=False,
    out=None,
    threads=None,
    models=None,
    sections=("training", "loops", "inference"),
    data_dir=None,
    verbose=True,
) -> dict:
    """Run the chosen sections and write one JSON file (default runs/bench-DATE-TIME.json); returns the report."""
    from digitnet import zoo

    threads = int(threads or os.cpu_count() or 1)
    models = list(models or (QUICK_MODELS if quick else zoo.NAMES))
    unknown = [m for m in models if m not in zoo.NAMES]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; expected some of: {', '.join(zoo.NAMES)}")
    report = {
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "quick": bool(quick),
        "threads": threads,
        "models": models,
        "machine": machine.facts(),
    }
    for section in sections:
        if verbose:
            print(f"bench: {section} ...", flush=True)
        t0 = time.perf_counter()
        if section == "training":
            report["training"] = training_section(quick, threads, models)
        elif section in ("loops", "inference"):
            report[section] = _child(section, quick, threads, models, data_dir)
        else:
            raise ValueError(f"unknown section {section!r}; expected training, loops or inference")
        report.setdefault("seconds", {})[section] = time.perf_counter() - t0
    report["summary"] = summary(report)
    out = out or os.path.join("runs", f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    report["out"] = out
    return report


def main(argv=None) -> int:
    """Child-process entry point: ``python -m digitnet.bench --section loops|inference``; prints JSON."""
    p = argparse.ArgumentParser(description="one section of digitnet's benchmark harness (see digitnet bench)")
    p.add_argument("--section", choices=["loops", "inference"], required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", type=int)
    p.add_argument("--models", default=",".join(QUICK_MODELS))
    args = p.parse_args(argv)
    if args.section == "loops":
        result = loops_section(args.quick)
    else:
        result = inference_section(args.models.split(","), calls=50 if args.quick else 200)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
