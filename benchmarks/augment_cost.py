"""Cost of on-the-fly augmentation: milliseconds per batch of 64 MNIST images, per augmentation.

    DIGITNET_DATA=../shared/data/mnist python benchmarks/augment_cost.py [--batch 64] [--repeats 200]

Uses real MNIST test images when $DIGITNET_DATA holds them, else random strokes. Compare the figures
with a model's training step time per batch to see what augmentation adds to an epoch.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import scipy

from digitnet.data import load, to_input
from digitnet.data.augment import Augmenter

SPECS = [
    "shift=2",
    "rotate=12",
    "zoom=0.1",
    "shear=10",
    "elastic=34:4",
    "noise=0.05",
    "thickness=1",
    "shift=2,rotate=12,zoom=0.1",
    "shift=2,rotate=12,zoom=0.1,elastic=34:4,noise=0.05",
    "shift=2,rotate=10,zoom=0.1,shear=10",  # the reader's recipe
]


def images(batch: int, rng: np.random.Generator) -> np.ndarray:
    try:
        x, _ = load("mnist", split="test", download=False)
        source = "MNIST test images"
    except (FileNotFoundError, ValueError):
        x = (rng.random((1000, 28, 28)) > 0.8).astype(np.uint8) * 255
        source = "random images (MNIST not found)"
    print(f"input: {batch} {source}, float32 (N, 1, 28, 28)")
    return to_input(x[:batch], layout="image")


def time_spec(spec: str, batch: np.ndarray, repeats: int, rng: np.random.Generator) -> float:
    augment = Augmenter.from_string(spec)
    augment(batch, rng)  # warm-up
    best = float("inf")
    for _ in range(5):  # best of 5 rounds, each the mean of repeats // 5 calls
        t0 = time.perf_counter()
        for _ in range(repeats // 5):
            augment(batch, rng)
        best = min(best, (time.perf_counter() - t0) / (repeats // 5))
    return best * 1e3


def step_ms(name: str, batch: np.ndarray, repeats: int) -> float:
    """Best-of-3 mean time of one training step (forward, backward, Adam) of a zoo model on ``batch``."""
    from digitnet import zoo

    model = zoo.build(name).compile("adam", "cross_entropy", lr=1e-3)
    labels = np.arange(len(batch)) % 10
    model.train_step(batch, labels)  # warm-up
    n = max(1, repeats // 10)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(n):
            model.train_step(batch, labels)
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    batch = images(args.batch, rng)
    print(
        f"numpy {np.__version__}, scipy {scipy.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'augmentation':58s} ms/batch")
    for spec in SPECS:
        print(f"{spec:58s} {time_spec(spec, batch, args.repeats, rng):8.3f}")
    print(f"\n{'training step of a zoo model, same batch (for comparison)':58s} ms/batch")
    for name in ("mlp-100-100", "lenet5", "reader", "cnn"):
        print(f"{name:58s} {step_ms(name, batch, args.repeats):8.3f}")


if __name__ == "__main__":
    main()
