"""Shared fixtures: small slices of real MNIST (skipped, with the reason, when the files are absent)."""

import os
from pathlib import Path

import numpy as np
import pytest

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def mnist_dir():
    """The folder named by $DIGITNET_DATA if it holds the four MNIST files, else None."""
    env = os.environ.get("DIGITNET_DATA")
    if not env:
        return None
    for folder in (Path(env), Path(env) / "mnist"):
        if all((folder / f).exists() for f in MNIST_FILES):
            return folder
    return None


@pytest.fixture(scope="session")
def mnist_path():
    folder = mnist_dir()
    if folder is None:
        pytest.skip(
            "MNIST files not found: set DIGITNET_DATA to a folder holding the four MNIST .gz files "
            "(CI uses ../shared/data/mnist)"
        )
    return folder


@pytest.fixture(scope="session")
def mnist_train(mnist_path):
    """(images uint8 (60000, 28, 28), labels uint8 (60000,))."""
    from digitnet.data import load

    return load("mnist", split="train", data_dir=mnist_path, download=False)


@pytest.fixture(scope="session")
def mnist_test(mnist_path):
    from digitnet.data import load

    return load("mnist", split="test", data_dir=mnist_path, download=False)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
