"""Fixtures of the ONNX export tests (helpers: export_helpers.py)."""

import numpy as np
import pytest


@pytest.fixture
def random_images():
    """200 random uint8 'images' (200, 28, 28): enough to exercise every value range, no dataset needed."""
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, size=(200, 28, 28), dtype=np.uint8)
    images[:100, :, :14] = 0  # half dark on the left, like a digit's background
    return images
