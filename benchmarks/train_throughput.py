"""Training throughput and batch-1 latency of every zoo model against PyTorch: see digitnet.bench_throughput.

    python benchmarks/train_throughput.py [--batches 938] [--models lenet5,cnn] [--threads 2] [--repeats 3]
                                          [--json out.json] [--keep-blas-pinning]

A thin wrapper around ``python -m digitnet.bench_throughput`` (same options), kept for source checkouts.
"""

import sys

from digitnet.bench_throughput import main

if __name__ == "__main__":
    sys.exit(main())
