"""Every benchmark in one run, written to one JSON file (a thin wrapper around digitnet.bench).

    python benchmarks/run_all.py [--quick] [--out FILE] [--threads N] [--models a,b] [--section training]

Same options as ``digitnet bench``; see ``digitnet bench --help``.
"""

import sys

from digitnet.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
