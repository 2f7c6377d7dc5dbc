"""Pooling, tuned: k*k strided taps instead of a window view; the input's memory order kept.

The same numbers as the reference (digitnet/nn/layers/pool.py, which gives
the equations). Here both poolings run over the k*k strided "taps"
x[:, :, u::s, v::s] (views, no copy): k*k - 1 elementwise max/add calls, and
dx is allocated like x (batch-last memory stays batch-last, see fast/conv.py).

Max-pool backward sends each output's gradient to the *first* maximal input of
its window in row-major order, as PyTorch does: with ties (all-zero windows
after ReLU, flat background) exactly one input gets it. Walking the taps in
order with the not-yet-routed gradient r:

    g_t = r * [x_t == y];   dx_t += g_t;   r -= g_t        (the last tap takes the rest)

With disjoint windows (stride >= kernel) a training forward records instead, while it takes the
maxima tap by tap, where each tap beats all earlier ones (boolean arrays, one per tap after the
first); the first maximum is the last tap that did, so backward writes each tap of dx once:

    b_t = [x_t > max(x_0 .. x_{t-1})],   t >= 1
    dx_t = dy * b_t * not(b_{t+1} or ... or b_last),   dx_0 = dy * not(b_1 or ... or b_last)

For NumPy arrays in batch-last memory (what a fast Conv2D gives) and disjoint square windows, a
training forward and its backward are one compiled pass each instead (fast/compiled.py): the forward
keeps the index of each window's first maximum, the backward writes every element of dx once from it.
"""

from __future__ import annotations

from digitnet.nn import backend
from digitnet.nn.fast import compiled
from digitnet.nn.layers import pool as reference


class _Taps:
    """Helpers of the fast poolings (mixed in before the reference class)."""

    tier = "fast"

    def _taps(self, a, ho, wo):
        """The k*k strided views a[:, :, u + r*s, v + q*s] (each (N, C, Ho, Wo)), row-major in (u, v)."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return [
            a[:, :, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw]
            for u in range(kh)
            for v in range(kw)
        ]

    def _grad_buffer(self, x, ho, wo, dtype):
        """dx laid out in memory like x, zeroed unless the windows tile x exactly (then each element is written once)."""
        xp = backend.xp()
        tiles = self.stride == self.kernel_size and (ho * self.stride[0], wo * self.stride[1]) == tuple(x.shape[2:])
        return xp.empty_like(x, dtype=dtype) if tiles else xp.zeros_like(x, dtype=dtype)

    @property
    def _overlapping(self):
        return self.stride[0] < self.kernel_size[0] or self.stride[1] < self.kernel_size[1]


class MaxPool2D(_Taps, reference.MaxPool2D):
    """The reference MaxPool2D with tuned forward and backward."""

    def forward(self, x, training=False):
        xp = backend.xp()
        ho, wo = self.out_size(x)
        self._beats = self._first = None
        if training and self._compiled_fits(x):
            return self._forward_compiled(x, ho, wo)
        taps = self._taps(x, ho, wo)
        if len(taps) == 1:
            y = taps[0].copy()
        elif training and not self._overlapping:  # record which taps beat the earlier ones (b_t above)
            y = xp.maximum(taps[0], taps[1])
            self._beats = [taps[1] > taps[0]]
            for tap in taps[2:]:
                self._beats.append(tap > y)
                xp.maximum(y, tap, out=y)
        else:
            y = xp.maximum(taps[0], taps[1])
            for tap in taps[2:]:
                xp.maximum(y, tap, out=y)
        self._x, self._y = x, y
        return y

    def backward(self, dy):
        if self._first is not None:
            return self._backward_compiled(dy)
        if self._beats is not None:
            return self._backward_from_beats(dy)
        xp = backend.xp()
        x, y = self._x, self._y
        dx = self._grad_buffer(x, *y.shape[2:], dy.dtype)
        rest = xp.copy(dy)  # gradient not yet routed to an earlier maximal tap (memory order kept)
        x_taps, dx_taps = self._taps(x, *y.shape[2:]), self._taps(dx, *y.shape[2:])
        for i, (x_tap, dx_tap) in enumerate(zip(x_taps, dx_taps)):
            if i == len(x_taps) - 1:  # the last tap is the maximum wherever no earlier one was
                if self._overlapping:
                    dx_tap += rest
                else:
                    dx_tap[...] = rest
            elif self._overlapping:
                routed = rest * (x_tap == y)
                dx_tap += routed
                rest -= routed
            else:  # disjoint windows: write straight into dx
                xp.multiply(rest, x_tap == y, out=dx_tap)
                rest -= dx_tap
        return dx

    def _compiled_fits(self, x):
        """NumPy float array in batch-last memory (C, H, W, N contiguous), disjoint square windows,
        1 < k < 16 (the window's tap index fits a uint8)."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return (
            16 > kh == kw == sh == sw > 1
            and compiled.usable(x)
            and x.ndim == 4
            and x.transpose(1, 2, 3, 0).flags.c_contiguous
        )

    def _forward_compiled(self, x, ho, wo):
        xp = backend.xp()
        n, c = x.shape[:2]
        y = xp.empty((c, ho, wo, n), dtype=x.dtype)
        self._first = xp.empty((c, ho, wo, n), dtype=xp.uint8)
        compiled.max_pool_forward(x.transpose(1, 2, 3, 0), self.kernel_size[0], y, self._first)
        self._x, self._y = x, y.transpose(3, 0, 1, 2)
        return self._y

    def _backward_compiled(self, dy):
        xp = backend.xp()
        ho, wo = dy.shape[2:]
        dx = self._grad_buffer(self._x, ho, wo, dy.dtype)  # batch-last like x; zeroed where no window reaches
        dy_last = dy.transpose(1, 2, 3, 0)
        if not dy_last.flags.c_contiguous:
            dy_last = xp.ascontiguousarray(dy_last)
        compiled.max_pool_backward(dy_last, self._first, self.kernel_size[0], dx.transpose(1, 2, 3, 0))
        return dx

    def _backward_from_beats(self, dy):
        """Disjoint windows after a training forward: dx_t = dy * [tap t is the first maximum]."""
        xp = backend.xp()
        beats = self._beats
        dx = self._grad_buffer(self._x, *dy.shape[2:], dy.dtype)
        dx_taps = self._taps(dx, *dy.shape[2:])
        xp.multiply(dy, beats[-1], out=dx_taps[-1])
        later = xp.copy(beats[-1])  # a later tap beat this one's value (memory order kept)
        first = xp.empty_like(later)
        for t in range(len(beats) - 1, 0, -1):
            xp.greater(beats[t - 1], later, out=first)  # beats[t - 1] and not later
            xp.multiply(dy, first, out=dx_taps[t])
            later |= beats[t - 1]
        xp.logical_not(later, out=later)
        xp.multiply(dy, later, out=dx_taps[0])
        return dx


class AvgPool2D(_Taps, reference.AvgPool2D):
    """The reference AvgPool2D with tuned forward and backward."""

    def forward(self, x, training=False):
        ho, wo = self.out_size(x)
        taps = self._taps(x, ho, wo)
        y = taps[0] + taps[1] if len(taps) > 1 else taps[0].copy()
        for tap in taps[2:]:
            y += tap
        y *= 1.0 / len(taps)
        self._x = x
        return y

    def backward(self, dy):
        ho, wo = dy.shape[2:]
        dx = self._grad_buffer(self._x, ho, wo, dy.dtype)
        share = dy * (1.0 / (self.kernel_size[0] * self.kernel_size[1]))
        for dx_tap in self._taps(dx, ho, wo):
            if self._overlapping:
                dx_tap += share
            else:
                dx_tap[...] = share
        return dx


class GlobalAvgPool2D(reference.GlobalAvgPool2D):
    """The reference GlobalAvgPool2D; the mean as a matrix-vector product."""

    tier = "fast"

    def forward(self, x, training=False):
        xp = backend.xp()
        self.check_input(x)
        n, c, h, w = x.shape
        self._x_shape = x.shape
        flat = xp.ascontiguousarray(x).reshape(n, c, h * w)
        return flat @ xp.full(h * w, 1.0 / (h * w), dtype=x.dtype)

    def backward(self, dy):
        xp = backend.xp()
        n, c, h, w = self._x_shape
        return xp.broadcast_to((dy * (1.0 / (h * w)))[:, :, None, None], self._x_shape).copy()
