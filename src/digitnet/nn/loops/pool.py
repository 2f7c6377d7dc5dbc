"""Max and average pooling written element by element (the loops tier).

max   y[n, c, r, q] = max over (u, v) of x[n, c, r*sh + u, q*sw + v]
      backward: the whole dy[n, c, r, q] goes to the first (row-major) maximal input
avg   y[n, c, r, q] = sum over (u, v) of x[n, c, r*sh + u, q*sw + v] / (kh * kw)
      backward: every input of the window gets dy[n, c, r, q] / (kh * kw)
"""

from __future__ import annotations

import numpy as np

from digitnet.nn.layers import pool as reference


def _windows(layer, shape):
    """Every (n, c, r, q) output position with the list of (row, col) inputs of its window, row-major."""
    n_batch, n_chan, _, _ = shape
    (kh, kw), (sh, sw) = layer.kernel_size, layer.stride
    _, ho, wo = layer.compute_output_shape(shape[1:])
    for n in range(n_batch):
        for c in range(n_chan):
            for r in range(ho):
                for q in range(wo):
                    yield n, c, r, q, [(r * sh + u, q * sw + v) for u in range(kh) for v in range(kw)]


class MaxPool2D(reference.MaxPool2D):
    tier = "loops"

    def forward(self, x, training=False):
        ho, wo = self.out_size(x)
        self._x, self._argmax = x, {}
        y = np.zeros(x.shape[:2] + (ho, wo), dtype=x.dtype)
        for n, c, r, q, window in _windows(self, x.shape):
            best = window[0]
            for i, j in window[1:]:
                if x[n, c, i, j] > x[n, c, best[0], best[1]]:  # strictly greater: the first maximum wins
                    best = (i, j)
            y[n, c, r, q] = x[n, c, best[0], best[1]]
            self._argmax[n, c, r, q] = best
        return y

    def backward(self, dy):
        dx = np.zeros(self._x.shape, dtype=dy.dtype)
        for (n, c, r, q), (i, j) in self._argmax.items():
            dx[n, c, i, j] += dy[n, c, r, q]
        return dx


class AvgPool2D(reference.AvgPool2D):
    tier = "loops"

    def forward(self, x, training=False):
        ho, wo = self.out_size(x)
        self._x_shape = x.shape
        y = np.zeros(x.shape[:2] + (ho, wo), dtype=x.dtype)
        for n, c, r, q, window in _windows(self, x.shape):
            total = 0.0
            for i, j in window:
                total += x[n, c, i, j]
            y[n, c, r, q] = total / len(window)
        return y

    def backward(self, dy):
        dx = np.zeros(self._x_shape, dtype=dy.dtype)
        for n, c, r, q, window in _windows(self, self._x_shape):
            for i, j in window:
                dx[n, c, i, j] += dy[n, c, r, q] / len(window)
        return dx
