"""Training throughput and batch-1 latency of every zoo model against PyTorch: a thin wrapper.

    python benchmarks/train_throughput.py [--batches 938] [--models lenet5,cnn] [--threads 2] [--json out.json]

The benchmark lives in the package (digitnet/bench_throughput.py, also run by ``digitnet bench``);
see its docstring for what is measured and how.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from digitnet.bench_throughput import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
