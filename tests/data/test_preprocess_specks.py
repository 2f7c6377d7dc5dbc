"""to_mnist drops isolated noise specks before cropping, so noise cannot shrink the digit."""

import numpy as np
from PIL import Image, ImageDraw

from digitnet.data.preprocess import to_mnist


def _box(image28):
    rows, cols = np.flatnonzero((image28 > 0.05).any(1)), np.flatnonzero((image28 > 0.05).any(0))
    return max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)


def test_a_noise_speck_far_from_the_digit_does_not_shrink_it():
    img = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(img).line([(150, 100), (150, 200)], fill=0, width=12)  # a "1" in the middle
    clean = to_mnist(img)
    a = np.asarray(img).copy()
    a[5, 5] = a[290, 295] = 0  # two dark noise pixels in corners
    noisy = to_mnist(a)
    assert _box(clean) >= 19 and _box(noisy) == _box(clean)
    assert np.abs(noisy - clean).max() < 1e-6
