"""Elementwise layers, tuned: fewer temporaries, the input's memory order kept, arrays on the active device.

Same numbers as the reference classes (digitnet/nn/layers/activations.py,
dropout.py, reshape.py, which give the equations):

    Sigmoid   (1 + tanh(x/2)) / 2 with in-place updates of one array
    ReLU      maximum(x, 0), and one boolean mask (x > 0) for backward; for NumPy arrays each way is
              one compiled pass
    Dropout   the mask made on the active device (CuPy when in use)
    Flatten   backward hands dx back in the input's memory order, so the layers below keep
              Conv2D's batch-last layout (see fast/conv.py)
"""

from __future__ import annotations

import numpy as np

from digitnet.nn import backend
from digitnet.nn.fast import compiled
from digitnet.nn.layers import activations, dropout, reshape

RELU_COMPILED_MIN_SIZE = 1 << 17  # ReLU's compiled passes from this many elements (smaller: NumPy's, docs/speed.md)


class Sigmoid(activations.Sigmoid):
    tier = "fast"

    def forward(self, x, training=False):
        y = backend.xp().tanh(x * 0.5)
        y *= 0.5
        y += 0.5
        self._y = y
        return y


class ReLU(activations.ReLU):
    """For NumPy arrays of at least RELU_COMPILED_MIN_SIZE elements the mask and the output come from one
    compiled pass (compiled.relu_forward), and dx from another; else NumPy's maximum and the product with
    the mask. Both give the same numbers."""

    tier = "fast"

    def forward(self, x, training=False):
        if x.size >= RELU_COMPILED_MIN_SIZE and compiled.usable(x):
            y, mask = np.empty_like(x), np.empty_like(x, dtype=bool)  # in x's memory order
            views = compiled.flat_views(x, y, mask)
            if views is not None:
                compiled.relu_forward(*views)
                self._mask = mask
                return y
        self._mask = x > 0
        return backend.xp().maximum(x, 0)  # measured 2x faster than x * mask here (one read, no bool input)

    def backward(self, dy):
        if dy.size >= RELU_COMPILED_MIN_SIZE and compiled.usable(dy) and dy.shape == self._mask.shape:
            dx = np.empty_like(dy)
            views = compiled.flat_views(dy, self._mask, dx)
            if views is not None:
                compiled.relu_backward(*views)
                return dx
        return dy * self._mask


class Dropout(dropout.Dropout):
    tier = "fast"

    def scaled_mask(self, keep, dtype):
        return backend.to_device(keep, dtype) * backend.xp().asarray(1.0 / (1.0 - self.rate), dtype=dtype)


class Dropout2D(dropout.Dropout2D, Dropout):
    tier = "fast"


class Flatten(reshape.Flatten):
    tier = "fast"

    def backward(self, dy):
        x = self._x
        if x.flags.c_contiguous:
            return dy.reshape(x.shape)
        xp = backend.xp()
        dx = xp.empty_like(x, dtype=dy.dtype)  # same memory order as x
        xp.copyto(dx, dy.reshape(x.shape))
        return dx
