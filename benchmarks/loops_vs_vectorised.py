"""The seed's experiment: the 784-16-16-10 sigmoid network on 100 images, for-loops vs NumPy vectorised.

    python benchmarks/loops_vs_vectorised.py [--loop-epochs 20] [--epochs 200] [--out DIR]

A thin wrapper around ``digitnet compare loops`` (digitnet.studies.compare_loops); same options.
"""

import sys

from digitnet.cli import main

if __name__ == "__main__":
    sys.exit(main(["compare", "loops", *sys.argv[1:]]))
