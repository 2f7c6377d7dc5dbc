"""Pooling layers on NCHW images: max, average, global average.

    MaxPool2D   y[n, c, r, q] = max_{u, v} x[n, c, r*s + u, q*s + v]
    AvgPool2D   y[n, c, r, q] = mean_{u, v} x[n, c, r*s + u, q*s + v]
    Ho = (H - kh) // sh + 1 (likewise Wo); the stride s defaults to the kernel size.
    GlobalAvgPool2D   y[n, c] = mean_{h, w} x[n, c, h, w]

The windows are a view windows[n, c, r, q, u, v] = x[n, c, r*sh + u, q*sw + v]
(``sliding_window_view``), so one reduction over its last two axes pools;
this covers overlapping windows (s < k), gaps (s > k) and sizes that do not
divide (last rows dropped).

Backward adds each window's gradient back where the window came from, one
kernel offset (u, v) at a time:

    max   dx[n, c, r*sh + u, q*sw + v] += dy[n, c, r, q] * [(u, v) is the window's first maximum]
    avg   dx[n, c, r*sh + u, q*sw + v] += dy[n, c, r, q] / (kh * kw)

"First" in row-major order, as PyTorch: with ties (all-zero windows after
ReLU) exactly one input gets the gradient.
"""

from __future__ import annotations

import numpy as np

from digitnet.nn import checks
from digitnet.nn.layers.base import Layer


class _Pool2D(Layer):
    def __init__(self, kernel_size=2, stride=None):
        super().__init__()
        self.kernel_size = checks.int_pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else checks.int_pair(stride, "stride")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{type(self).__name__} expects NCHW inputs, got per-sample shape {input_shape}")
        c, h, w = input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        if h < kh or w < kw:
            raise ValueError(f"pool kernel {self.kernel_size} is larger than the input {(h, w)}")
        return c, (h - kh) // sh + 1, (w - kw) // sw + 1

    def out_size(self, x):
        """(Ho, Wo) for an input batch x, which must be (N, C, H, W)."""
        if x.ndim != 4:
            raise ValueError(f"{type(self).__name__} expected input (N, C, H, W), got {tuple(x.shape)}")
        _, ho, wo = self.compute_output_shape(x.shape[1:])
        return ho, wo

    def windows(self, x):
        """The view (N, C, Ho, Wo, kh, kw) of every pooling window."""
        ho, wo = self.out_size(x)
        (sh, sw) = self.stride
        view = np.lib.stride_tricks.sliding_window_view(x, self.kernel_size, axis=(2, 3))
        return view[:, :, ::sh, ::sw][:, :, :ho, :wo]

    def add_back(self, dx, per_offset):
        """dx[:, :, r*sh + u, q*sw + v] += per_offset(u, v)[:, :, r, q] for every kernel offset (u, v)."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        for u in range(kh):
            for v in range(kw):
                dx[:, :, u : u + sh * (self._ho - 1) + 1 : sh, v : v + sw * (self._wo - 1) + 1 : sw] += per_offset(u, v)
        return dx

    def get_config(self):
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride)}


class MaxPool2D(_Pool2D):
    """``MaxPool2D(kernel_size=2, stride=None)``: the maximum of each k x k window."""

    def forward(self, x, training=False):
        windows = self.windows(x)
        n, c, self._ho, self._wo, kh, kw = windows.shape
        self._x_shape = x.shape
        self._first_max = windows.reshape(n, c, self._ho, self._wo, kh * kw).argmax(axis=-1)
        return windows.max(axis=(-2, -1))

    def backward(self, dy):
        kw = self.kernel_size[1]
        dx = np.zeros(self._x_shape, dtype=dy.dtype)
        return self.add_back(dx, lambda u, v: dy * (self._first_max == u * kw + v))


class AvgPool2D(_Pool2D):
    """``AvgPool2D(kernel_size=2, stride=None)``: the mean of each k x k window."""

    def forward(self, x, training=False):
        windows = self.windows(x)
        self._x_shape, self._ho, self._wo = x.shape, windows.shape[2], windows.shape[3]
        return windows.mean(axis=(-2, -1))

    def backward(self, dy):
        share = dy / (self.kernel_size[0] * self.kernel_size[1])
        return self.add_back(np.zeros(self._x_shape, dtype=dy.dtype), lambda u, v: share)


class GlobalAvgPool2D(Layer):
    """``GlobalAvgPool2D()``: y[n, c] = mean over H, W of x[n, c] -> (N, C)."""

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"GlobalAvgPool2D expects NCHW inputs, got per-sample shape {input_shape}")
        return (input_shape[0],)

    def check_input(self, x):
        if x.ndim != 4:
            raise ValueError(f"GlobalAvgPool2D expected input (N, C, H, W), got {tuple(x.shape)}")

    def forward(self, x, training=False):
        self.check_input(x)
        self._x_shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dy):
        n, c, h, w = self._x_shape
        return np.broadcast_to(dy[:, :, None, None] / (h * w), self._x_shape).copy()
