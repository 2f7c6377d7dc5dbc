"""The one validation split (digitnet.nn.training.split_validation), used by fit(validation_split=) and the CLI."""

import numpy as np
import pytest

from digitnet.nn.training import split_validation


def test_default_split_takes_the_last_images():
    images, labels = np.arange(100).reshape(100, 1, 1), np.arange(100)
    (xt, yt), (xv, yv) = split_validation(images, labels, validation=10)
    assert yv.tolist() == list(range(90, 100)) and yt.tolist() == list(range(90))
    (_, yt), (_, yv) = split_validation(images, labels, validation=0.25)
    assert len(yv) == 25 and len(yt) == 75


def test_seeded_split_is_a_reproducible_random_subset():
    images, labels = np.arange(1000).reshape(1000, 1, 1), np.arange(1000)
    (_, yt), (_, yv) = split_validation(images, labels, validation=100, seed=3)
    (_, _), (_, yv2) = split_validation(images, labels, validation=100, seed=3)
    (_, _), (_, yv3) = split_validation(images, labels, validation=100, seed=4)
    assert np.array_equal(yv, yv2) and not np.array_equal(yv, yv3)
    assert sorted(np.concatenate([yt, yv]).tolist()) == list(range(1000))
    assert not np.array_equal(yv, np.arange(900, 1000))  # a random subset, not the tail
    assert np.all(np.diff(yv) > 0)  # kept in original order


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -1, 100, True, "10"])
def test_split_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="validation must be"):
        split_validation(np.zeros((100, 2, 2)), np.zeros(100), validation=bad)
