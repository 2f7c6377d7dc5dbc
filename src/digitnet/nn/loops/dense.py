"""Dense layer written element by element (the loops tier).

forward    y[n][j] = b[j] + sum_i x[n][i] W[i][j]
backward   dW[i][j] = sum_n x[n][i] dy[n][j]     db[j] = sum_n dy[n][j]
           dx[n][i] = sum_j W[i][j] dy[n][j]
"""

from __future__ import annotations

import numpy as np

from digitnet.nn.layers import dense as reference


class Dense(reference.Dense):
    """The reference Dense computed one multiply-add at a time."""

    tier = "loops"

    def forward(self, x, training=False):
        self._check_input(x)
        self._x = x
        w = self.params["weight"]
        n_in, n_out = w.shape
        y = np.zeros((x.shape[0], n_out), dtype=x.dtype)
        for n in range(x.shape[0]):
            for j in range(n_out):
                total = self.params["bias"][j] if self.use_bias else 0.0
                for i in range(n_in):
                    total += x[n, i] * w[i, j]
                y[n, j] = total
        return y

    def backward(self, dy):
        x, w = self._x, self.params["weight"]
        n_in, n_out = w.shape
        dw, db, dx = np.zeros_like(w), np.zeros(n_out, dtype=dy.dtype), np.zeros_like(x, dtype=dy.dtype)
        for n in range(x.shape[0]):
            for j in range(n_out):
                g = dy[n, j]
                db[j] += g
                for i in range(n_in):
                    dw[i, j] += x[n, i] * g
                    dx[n, i] += w[i, j] * g
        self.grads["weight"] = dw
        if self.use_bias:
            self.grads["bias"] = db
        return dx if self.needs_input_grad else None
