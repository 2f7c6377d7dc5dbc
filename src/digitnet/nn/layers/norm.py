"""Batch normalisation (Ioffe & Szegedy 2015) for dense (N, C) and image (N, C, H, W) inputs.

Per channel c, over the m = N (or N*H*W) values x of that channel in the batch:

    mu = mean(x)     var = mean((x - mu)^2)     xhat = (x - mu) / sqrt(var + eps)
    y  = gamma * xhat + beta

Training uses the batch statistics and updates the running estimates as
PyTorch does (the running variance is the unbiased m/(m-1) * var):

    running_mean = (1 - momentum) * running_mean + momentum * mu
    running_var  = (1 - momentum) * running_var  + momentum * var * m / (m - 1)

Inference uses the running estimates, so y is an affine map of x.
Backward in training, with the batch statistics depending on x:

    dbeta  = sum(dy)        dgamma = sum(dy * xhat)
    dx     = gamma / sqrt(var + eps) * (dy - dbeta / m - xhat * dgamma / m)

Per-channel sums are matrix-vector products with a vector of ones, much
faster in NumPy than ``sum(axis=(0, 2, 3))``.
"""

from __future__ import annotations

import numpy as np

from digitnet.nn import backend
from digitnet.nn.layers.base import Layer


class _BatchNorm(Layer):
    ndim = 2  # dimensions of an input including N

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        if not isinstance(num_features, (int, np.integer)) or isinstance(num_features, bool) or num_features < 1:
            raise ValueError(f"num_features must be a positive int, got {num_features!r}")
        if not 0.0 < float(momentum) <= 1.0:
            raise ValueError(f"momentum must be in (0, 1], got {momentum!r}")
        if not float(eps) > 0.0:
            raise ValueError(f"eps must be positive, got {eps!r}")
        self.num_features = int(num_features)
        self.momentum = float(momentum)
        self.eps = float(eps)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.ndim - 1 or input_shape[0] != self.num_features:
            expected = "(N, C)" if self.ndim == 2 else "(N, C, H, W)"
            raise ValueError(f"{type(self).__name__}({self.num_features}) expects inputs {expected} with "
                             f"C = {self.num_features}, got per-sample shape {input_shape}")
        return input_shape

    def init_params(self, rng):
        c = self.num_features
        self.params = {"gamma": np.ones(c), "beta": np.zeros(c)}
        self.buffers = {"running_mean": np.zeros(c), "running_var": np.ones(c)}

    def param_shapes(self, input_shape):
        return {k: (self.num_features,) for k in ("gamma", "beta", "running_mean", "running_var")}

    def _per_channel(self, v):
        """A (C,) vector shaped to broadcast against the input: (C,) or (C, 1, 1)."""
        return v if self.ndim == 2 else v[:, None, None]

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
        if x.ndim != self.ndim or x.shape[1] != self.num_features:
            expected = "(N, C)" if self.ndim == 2 else "(N, C, H, W)"
            raise ValueError(f"{type(self).__name__} expected input {expected} with C = {self.num_features}, "
                             f"got {tuple(x.shape)}")
        gamma, beta = self.params["gamma"], self.params["beta"]
        self._training = training
        if not training:  # y = x * scale + shift with the running statistics
            inv_std = 1.0 / xp.sqrt(self.buffers["running_var"] + self.eps)
            scale = gamma * inv_std
            self._x, self._inv_std = x, inv_std
            y = x * self._per_channel(scale)
            y += self._per_channel(beta - self.buffers["running_mean"] * scale)
            return y
        m = x.size // self.num_features
        mean = self._channel_sum(x) / m
        xc = x - self._per_channel(mean)
        var = self._channel_dot(xc, xc) / m
        inv_std = 1.0 / xp.sqrt(var + self.eps)
        self._xc, self._inv_std, self._m = xc, inv_std, m
        mom = self.momentum
        self.buffers["running_mean"] *= 1.0 - mom
        self.buffers["running_mean"] += mom * mean
        self.buffers["running_var"] *= 1.0 - mom
        self.buffers["running_var"] += (mom * m / max(m - 1, 1)) * var
        y = xc * self._per_channel(gamma * inv_std)
        y += self._per_channel(beta)
        return y

    def backward(self, dy):
        inv_std = self._inv_std
        scale = self.params["gamma"] * inv_std
        d_beta = self._channel_sum(dy)
        self.grads["beta"] = d_beta
        if not self._training:  # the statistics were constants: an affine map
            dy_xc = self._channel_dot(dy, self._x) - self.buffers["running_mean"] * d_beta
            self.grads["gamma"] = dy_xc * inv_std
            return dy * self._per_channel(scale)
        xc, m = self._xc, self._m
        dy_xc = self._channel_dot(dy, xc)  # sum(dy * (x - mu)) = dgamma / inv_std
        self.grads["gamma"] = dy_xc * inv_std
        correction = xc * self._per_channel(scale * inv_std * inv_std * dy_xc / m)
        correction += self._per_channel(scale * d_beta / m)
        dx = dy * self._per_channel(scale)
        dx -= correction
        return dx

    def get_config(self):
        return {"num_features": self.num_features, "momentum": self.momentum, "eps": self.eps}


class BatchNorm1D(_BatchNorm):
    """``BatchNorm1D(num_features)`` for (N, C) inputs, e.g. after a Dense layer."""

    ndim = 2


class BatchNorm2D(_BatchNorm):
    """``BatchNorm2D(num_channels)`` for (N, C, H, W) images: statistics per channel over N, H, W."""

    ndim = 4

    def __init__(self, num_channels: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__(num_channels, momentum, eps)

    def get_config(self):
        return {"num_channels": self.num_features, "momentum": self.momentum, "eps": self.eps}
