"""Explicit, per-image random streams: image ``i`` of (seed, split, stream) is drawn from its own Generator.

``image_rng(seed, split, stream, i)`` seeds ``np.random.default_rng`` with the SeedSequence
``[seed, split code, crc32(stream), i]``: the same arguments give the same image whatever ``n`` is (the
first 100 of ``digits(1000)`` are ``digits(100)``), and train and heldout never share a stream.
"""

from __future__ import annotations

import zlib

import numpy as np

SPLITS = ("train", "heldout")
_SPLIT_CODE = {"train": 1, "heldout": 2}


def check_split(split) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    return split


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def check_count(n, limit: int = 1_000_000) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= limit:
        raise ValueError(f"n must be an integer in [0, {limit}], got {n!r}")
    return int(n)


def image_rng(seed: int, split: str, stream: str, index: int) -> np.random.Generator:
    """The Generator of image ``index`` of the stream named ``stream`` (e.g. "digits", "negatives/dot")."""
    code = zlib.crc32(stream.encode())
    return np.random.default_rng(np.random.SeedSequence([seed, _SPLIT_CODE[split], code, int(index)]))


def balanced_labels(n: int, classes: int, seed: int, split: str, stream: str) -> np.ndarray:
    """int64 (n,): each class n // classes or n // classes + 1 times, in a seeded random order."""
    rng = image_rng(seed, split, stream + "/labels", n)
    return rng.permutation(np.arange(n, dtype=np.int64) % classes)
