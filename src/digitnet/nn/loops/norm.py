"""Batch normalisation written channel by channel, value by value (the loops tier).

For each channel c, over its m values x_k (every sample, and every pixel for images):

    mu = (1/m) sum_k x_k        var = (1/m) sum_k (x_k - mu)^2       xhat_k = (x_k - mu) / sqrt(var + eps)
    y_k = gamma * xhat_k + beta

    dbeta = sum_k dy_k          dgamma = sum_k dy_k xhat_k
    dx_k  = gamma / sqrt(var + eps) * (dy_k - dbeta / m - xhat_k dgamma / m)     (training)
    dx_k  = gamma / sqrt(running_var + eps) * dy_k                                 (inference)
"""

from __future__ import annotations

import math

import numpy as np

from digitnet.nn.layers import norm as reference


class _ChannelLoops:
    tier = "loops"

    def _channel_values(self, a):
        """(C, m) array: row c lists channel c's values (a copy; the loops then walk it one value at a time)."""
        return np.moveaxis(a, 1, 0).reshape(a.shape[1], -1)

    def forward(self, x, training=False):
        self.check_input(x)
        self._training = training
        values = self._channel_values(x)
        m = values.shape[1]
        xhat, self._inv_std = np.zeros_like(values), np.zeros(self.num_features, dtype=x.dtype)
        means, variances = np.zeros(self.num_features), np.zeros(self.num_features)
        for c in range(self.num_features):
            if training:
                mu = sum(values[c, k] for k in range(m)) / m
                var = sum((values[c, k] - mu) ** 2 for k in range(m)) / m
                means[c], variances[c] = mu, var
            else:
                mu, var = self.buffers["running_mean"][c], self.buffers["running_var"][c]
            self._inv_std[c] = 1.0 / math.sqrt(var + self.eps)
            for k in range(m):
                xhat[c, k] = (values[c, k] - mu) * self._inv_std[c]
        if training:
            self.update_running_statistics(means.astype(x.dtype), variances.astype(x.dtype), m)
        self._xhat = xhat
        y = np.zeros_like(xhat)
        for c in range(self.num_features):
            for k in range(m):
                y[c, k] = self.params["gamma"][c] * xhat[c, k] + self.params["beta"][c]
        return self._back_to_shape(y, x.shape)

    def backward(self, dy):
        g = self._channel_values(dy)
        xhat, m = self._xhat, g.shape[1]
        dx = np.zeros_like(g)
        d_beta, d_gamma = np.zeros(self.num_features, dtype=dy.dtype), np.zeros(self.num_features, dtype=dy.dtype)
        for c in range(self.num_features):
            d_beta[c] = sum(g[c, k] for k in range(m))
            d_gamma[c] = sum(g[c, k] * xhat[c, k] for k in range(m))
            scale = self.params["gamma"][c] * self._inv_std[c]
            for k in range(m):
                if self._training:
                    dx[c, k] = scale * (g[c, k] - d_beta[c] / m - xhat[c, k] * d_gamma[c] / m)
                else:
                    dx[c, k] = scale * g[c, k]
        self.grads["beta"], self.grads["gamma"] = d_beta, d_gamma
        return self._back_to_shape(dx, dy.shape)

    def _back_to_shape(self, rows, shape):
        """The inverse of ``_channel_values``."""
        return np.moveaxis(rows.reshape((shape[1], shape[0]) + tuple(shape[2:])), 0, 1)


class BatchNorm1D(_ChannelLoops, reference.BatchNorm1D):
    """The reference BatchNorm1D computed by loops."""


class BatchNorm2D(_ChannelLoops, reference.BatchNorm2D):
    """The reference BatchNorm2D computed by loops."""
