"""``digitnet bench``: training throughput (vs PyTorch), loops vs vectorised, inference latency -> one JSON file."""

from __future__ import annotations

from digitnet.commands import _options as opt
from digitnet.commands._common import formatter

EXAMPLES = """examples:
  digitnet bench --quick                       # 3 models, short runs: 3 min 41 s measured on a shared
                                               # 2-core machine (136 s of it the loops section)
  digitnet bench --out bench.json              # every zoo model, one epoch each, 2 repeats
  digitnet bench --threads 1 --models lenet5,cnn --section training

The JSON holds the machine (CPU, cores, NumPy's BLAS build, OPENBLAS_CORETYPE, thread
settings), per-model training samples/s with the ratio to eager PyTorch measured in the
same run (when torch is installed; > 1 means digitnet is faster), the seed's
loop-vs-vectorised timing, and batch-1 latency / batch-1000 throughput.
"""


def register(sub):
    p = sub.add_parser(
        "bench",
        help="benchmarks: throughput vs PyTorch, loops vs vectorised, latency",
        formatter_class=formatter,
        epilog=EXAMPLES,
        description="Run the benchmark harness and write one JSON file with the machine's facts "
        "and every figure (training throughput runs digitnet.bench_throughput in worker "
        "processes).",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="short runs of 3 models (mlp-16-16, mlp-100-100, lenet5); about 4 minutes on 2 cores, most "
        "of it the loops section (without it, --section training --section inference: about 1.5 minutes)",
    )
    p.add_argument("--out", help="JSON file to write (default runs/bench-DATE-TIME.json)")
    p.add_argument("--threads", type=int, help="BLAS/OpenMP threads for every section (default: all cores)")
    p.add_argument("--models", help="comma-separated zoo names (default: all; --quick: 3)")
    p.add_argument(
        "--section",
        action="append",
        choices=["training", "loops", "inference"],
        help="run only these sections (repeatable; default all)",
    )
    p.add_argument("--data-dir", help="MNIST folder for the loops section (default $DIGITNET_DATA)")
    p.set_defaults(func=run)


def run(args) -> int:
    from digitnet import bench

    if args.threads is not None:
        opt.positive_int("threads", args.threads, high=4096)
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    report = bench.run_all(
        quick=args.quick,
        out=args.out,
        threads=args.threads,
        models=models,
        sections=tuple(args.section or ("training", "loops", "inference")),
        data_dir=args.data_dir,
    )
    print(bench.format_report(report))
    print(f"written {report['out']}")
    return 0
