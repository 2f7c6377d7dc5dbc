"""Fixtures for the bad-input suite: a valid tiny model file to mutate, a tiny IDX dataset, a live server."""

import numpy as np
import pytest

from badinput_helpers import tiny_model


@pytest.fixture(scope="session")
def model_file(tmp_path_factory):
    """A valid model file (28x28 -> 10, Adam state, schedule) that every mutation starts from."""
    return tiny_model().save(tmp_path_factory.mktemp("valid") / "model.npz")


@pytest.fixture(scope="session")
def idx_folder(tmp_path_factory):
    """A valid 4-file IDX dataset folder: 120 training and 30 test images with learnable stripes."""
    from digitnet.data.datasets import SPLITS
    from digitnet.data.idx import write_idx

    folder = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    for split, n in (("train", 120), ("test", 30)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = (rng.random((n, 28, 28)) * 40).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label : 2 * label + 6, 5:20] = 255
        write_idx(folder / SPLITS[split][0], images)
        write_idx(folder / SPLITS[split][1], labels)
    return folder
