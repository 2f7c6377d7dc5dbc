"""Batch normalisation (Ioffe & Szegedy 2015) for dense (N, C) and image (N, C, H, W) inputs.

Per channel c, over the m = N (or N*H*W) values x of that channel in the batch:

    mu = mean(x)     var = mean((x - mu)^2)     xhat = (x - mu) / sqrt(var + eps)
    y  = gamma * xhat + beta

Training uses the batch statistics and updates the running estimates as
PyTorch does (the running variance is the unbiased m/(m-1) * var):

    running_mean = (1 - momentum) * running_mean + momentum * mu
    running_var  = (1 - momentum) * running_var  + momentum * var * m / (m - 1)

Inference uses the running estimates, so y is an affine map of x:
dx = gamma / sqrt(running_var + eps) * dy. Backward in training, with the
batch statistics depending on x:

    dbeta  = sum(dy)        dgamma = sum(dy * xhat)
    dx     = gamma / sqrt(var + eps) * (dy - dbeta / m - xhat * dgamma / m)

(sums over every axis but the channel axis).
"""

from __future__ import annotations

import numpy as np

from digitnet.nn import checks
from digitnet.nn.layers.base import Layer


class _BatchNorm(Layer):
    ndim = 2  # dimensions of an input including N

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.num_features = checks.positive_int(num_features, "num_features")
        self.momentum = checks.number("momentum", momentum, 0.0, 1.0, low_open=True)
        self.eps = checks.positive("eps", eps)

    @property
    def axes(self):
        """The axes statistics are taken over: every axis but the channel axis 1."""
        return (0,) if self.ndim == 2 else (0, 2, 3)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.ndim - 1 or input_shape[0] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects inputs {self._expected} with "
                f"C = {self.num_features}, got per-sample shape {input_shape}"
            )
        return input_shape

    @property
    def _expected(self):
        return "(N, C)" if self.ndim == 2 else "(N, C, H, W)"

    def init_params(self, rng):
        c = self.num_features
        self.params = {"gamma": np.ones(c), "beta": np.zeros(c)}
        self.buffers = {"running_mean": np.zeros(c), "running_var": np.ones(c)}

    def param_shapes(self, input_shape):
        return {k: (self.num_features,) for k in ("gamma", "beta", "running_mean", "running_var")}

    def check_input(self, x):
        if x.ndim != self.ndim or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__} expected input {self._expected} with C = {self.num_features}, "
                f"got {tuple(x.shape)}"
            )

    def per_channel(self, v):
        """A (C,) vector shaped to broadcast against the input: (C,) or (C, 1, 1)."""
        return v if self.ndim == 2 else v[:, None, None]

    def update_running_statistics(self, mean, var, m):
        mom = self.momentum
        self.buffers["running_mean"] = (1 - mom) * self.buffers["running_mean"] + mom * mean
        self.buffers["running_var"] = (1 - mom) * self.buffers["running_var"] + mom * var * m / max(m - 1, 1)

    def forward(self, x, training=False):
        self.check_input(x)
        self._training = training
        if training:
            mean, var = x.mean(axis=self.axes), x.var(axis=self.axes)
            self.update_running_statistics(mean, var, x.size // self.num_features)
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        self._inv_std = 1 / np.sqrt(var + self.eps)
        self._xhat = (x - self.per_channel(mean)) * self.per_channel(self._inv_std)
        return self.per_channel(self.params["gamma"]) * self._xhat + self.per_channel(self.params["beta"])

    def backward(self, dy):
        xhat, m = self._xhat, dy.size // self.num_features
        self.grads["beta"] = d_beta = dy.sum(axis=self.axes)
        self.grads["gamma"] = d_gamma = (dy * xhat).sum(axis=self.axes)
        scale = self.per_channel(self.params["gamma"] * self._inv_std)
        if not self._training:  # the statistics were constants
            return scale * dy
        return scale * (dy - self.per_channel(d_beta / m) - xhat * self.per_channel(d_gamma / m))

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
