"""Batch normalisation, tuned: per-channel sums as matrix products, fewer passes over the data.

The same numbers as the reference (digitnet/nn/layers/norm.py, which gives
the equations), computed differently:

    sum over N, H, W of a           rows (C, N*H*W) @ ones when a has Conv2D's batch-last memory
                                    (a free view), else (N, C, H*W) @ ones then ones @ (N, C)
    sum over N, H, W of a * b       C dot products, without an (N, C, H, W) temporary
    y = (x - mu) * (gamma/std) + beta, and dx, written with in-place updates
    training on batch-last rows larger than a cache-sized group of channels: statistics,
    normalisation and the backward's sums and corrections one group of channels at a time
    (fast/blocked.py), each group's passes in cache; for NumPy arrays, one compiled loop over each
    channel's row instead (fast/compiled.py)
"""

from __future__ import annotations

from digitnet.nn import backend
from digitnet.nn.fast import blocked, compiled
from digitnet.nn.layers import norm as reference


def _nchw_view(rows, shape):
    """The (N, C, H, W) view of batch-last rows (C, H*W*N), for an NCHW ``shape``: no copy."""
    n, c, h, w = shape
    return rows.reshape(c, h, w, n).transpose(3, 0, 1, 2)


class _FastStatistics:
    """Forward and backward of the fast BatchNorm1D / BatchNorm2D (mixed in before the reference class)."""

    tier = "fast"

    def _channel_rows(self, a):
        """(C, M) view of an (N, C, H, W) ``a`` whose memory is batch-last (C, H, W, N), as Conv2D
        outputs it, else None (then the sums go through an NCHW copy)."""
        if self.ndim == 4:
            rows = a.transpose(1, 2, 3, 0)
            return rows.reshape(a.shape[1], -1) if rows.flags.c_contiguous else None
        return None

    def _channel_sum(self, a):
        """sum over every axis but the channel axis, as matrix-vector products: (C,)."""
        xp = backend.xp()
        rows = self._channel_rows(a)
        if rows is not None:
            return rows @ xp.ones(rows.shape[1], dtype=a.dtype)
        a = xp.ascontiguousarray(a)
        if self.ndim == 4:
            n, c, h, w = a.shape
            a = a.reshape(n, c, h * w) @ xp.ones(h * w, dtype=a.dtype)
        return xp.ones(a.shape[0], dtype=a.dtype) @ a

    def _channel_dot(self, a, b):
        """sum over every axis but the channel axis of a * b: (C,), without an (N, C, H, W) temporary."""
        xp = backend.xp()
        if self.ndim == 2:
            return self._channel_sum(a * b)
        rows_a, rows_b = self._channel_rows(a), self._channel_rows(b)
        if rows_a is not None and rows_b is not None:  # C dot products of length N*H*W
            return (rows_a[:, None, :] @ rows_b[:, :, None]).reshape(-1)
        n, c, h, w = a.shape
        a3, b3 = xp.ascontiguousarray(a).reshape(n, c, 1, h * w), xp.ascontiguousarray(b).reshape(n, c, h * w, 1)
        return xp.ones(n, dtype=a.dtype) @ (a3 @ b3).reshape(n, c)  # N*C dot products

    def forward(self, x, training=False):
        xp = backend.xp()
        self.check_input(x)
        gamma, beta = self.params["gamma"], self.params["beta"]
        self._training = training
        if not training:  # y = x * scale + shift with the running statistics
            inv_std = 1.0 / xp.sqrt(self.buffers["running_var"] + self.eps)
            scale = gamma * inv_std
            self._x, self._inv_std = x, inv_std
            y = x * self.per_channel(scale)
            y += self.per_channel(beta - self.buffers["running_mean"] * scale)
            return y
        m = x.size // self.num_features
        rows = self._channel_rows(x)
        self._xc_rows = None
        if rows is not None and (compiled.usable(x) or len(blocked.channel_groups(rows.shape[0], m, x.itemsize)) > 1):
            return self._rows_forward(x, rows, m)
        mean = self._channel_sum(x) / m
        xc = x - self.per_channel(mean)
        var = self._channel_dot(xc, xc) / m
        inv_std = 1.0 / xp.sqrt(var + self.eps)
        self._xc, self._inv_std, self._m = xc, inv_std, m
        self._update_running(mean, var, m)
        y = xc * self.per_channel(gamma * inv_std)
        y += self.per_channel(beta)
        return y

    def _update_running(self, mean, var, m):
        mom = self.momentum
        self.buffers["running_mean"] *= 1.0 - mom
        self.buffers["running_mean"] += mom * mean
        self.buffers["running_var"] *= 1.0 - mom
        self.buffers["running_var"] += (mom * m / max(m - 1, 1)) * var

    def _rows_forward(self, x, rows, m):
        """Training forward on batch-last rows (C, M): one compiled loop per channel's row for NumPy arrays
        (fast/compiled.py), else one group of channels at a time (fast/blocked.py): mean, x - mean,
        variance and y of a group while its rows are in cache. Returns y batch-last."""
        xp = backend.xp()
        c = rows.shape[0]
        gamma, beta = self.params["gamma"], self.params["beta"]
        xc, y = xp.empty_like(rows), xp.empty_like(rows)
        mean, var = xp.empty(c, dtype=x.dtype), xp.empty(c, dtype=x.dtype)
        if compiled.usable(x):
            compiled.batch_norm_forward(rows, gamma, beta, x.dtype.type(self.eps), xc, y, mean, var)
        else:
            ones = xp.ones(m, dtype=x.dtype)
            for i, j in blocked.channel_groups(c, m, x.itemsize):
                x_g, xc_g = rows[i:j], xc[i:j]
                xp.matmul(x_g, ones, out=mean[i:j])
                mean[i:j] /= m
                xp.subtract(x_g, mean[i:j, None], out=xc_g)
                var[i:j] = (xc_g[:, None, :] @ xc_g[:, :, None]).reshape(-1)
                var[i:j] /= m
                inv_std = 1.0 / xp.sqrt(var[i:j] + self.eps)
                xp.multiply(xc_g, (gamma[i:j] * inv_std)[:, None], out=y[i:j])
                y[i:j] += beta[i:j, None]
        self._xc_rows, self._xc = xc, _nchw_view(xc, x.shape)
        self._inv_std, self._m = 1.0 / xp.sqrt(var + self.eps), m
        self._update_running(mean, var, m)
        return _nchw_view(y, x.shape)

    def _rows_backward(self, dy_rows, shape):
        """Training backward on batch-last rows: compiled for NumPy arrays, else one group of channels at a
        time; dx batch-last."""
        xp = backend.xp()
        c, m = dy_rows.shape
        scale = self.params["gamma"] * self._inv_std
        d_beta, dy_xc = xp.empty(c, dtype=dy_rows.dtype), xp.empty(c, dtype=dy_rows.dtype)
        dx = xp.empty_like(dy_rows)
        if compiled.usable(dy_rows, self._xc_rows):
            compiled.batch_norm_backward(dy_rows, self._xc_rows, scale, self._inv_std, dx, d_beta, dy_xc)
        else:
            ones = xp.ones(m, dtype=dy_rows.dtype)
            groups = blocked.channel_groups(c, m, dy_rows.itemsize)
            correction = xp.empty((max(j - i for i, j in groups), m), dtype=dy_rows.dtype)
            for i, j in groups:
                dy_g, xc_g, corr = dy_rows[i:j], self._xc_rows[i:j], correction[: j - i]
                xp.matmul(dy_g, ones, out=d_beta[i:j])
                dy_xc[i:j] = (dy_g[:, None, :] @ xc_g[:, :, None]).reshape(-1)
                s, inv = scale[i:j], self._inv_std[i:j]
                xp.multiply(xc_g, (s * inv * inv * dy_xc[i:j] / m)[:, None], out=corr)
                corr += (s * d_beta[i:j] / m)[:, None]
                xp.multiply(dy_g, s[:, None], out=dx[i:j])
                dx[i:j] -= corr
        self.grads["beta"] = d_beta
        self.grads["gamma"] = dy_xc * self._inv_std
        return _nchw_view(dx, shape)

    def backward(self, dy):
        if self._training and getattr(self, "_xc_rows", None) is not None:
            dy_rows = self._channel_rows(dy)
            if dy_rows is not None:
                return self._rows_backward(dy_rows, dy.shape)
        inv_std = self._inv_std
        scale = self.params["gamma"] * inv_std
        d_beta = self._channel_sum(dy)
        self.grads["beta"] = d_beta
        if not self._training:  # the statistics were constants: an affine map
            dy_xc = self._channel_dot(dy, self._x) - self.buffers["running_mean"] * d_beta
            self.grads["gamma"] = dy_xc * inv_std
            return dy * self.per_channel(scale)
        xc, m = self._xc, self._m
        dy_xc = self._channel_dot(dy, xc)  # sum(dy * (x - mu)) = dgamma / inv_std
        self.grads["gamma"] = dy_xc * inv_std
        correction = xc * self.per_channel(scale * inv_std * inv_std * dy_xc / m)
        correction += self.per_channel(scale * d_beta / m)
        dx = dy * self.per_channel(scale)
        dx -= correction
        return dx


class BatchNorm1D(_FastStatistics, reference.BatchNorm1D):
    """The reference BatchNorm1D with tuned forward and backward."""


class BatchNorm2D(_FastStatistics, reference.BatchNorm2D):
    """The reference BatchNorm2D with tuned forward and backward."""
