"""Fully connected (dense) layer.

    y = x @ W + b        x: (N, in)   W: (in, out)   b: (out,)   y: (N, out)

Backward, for dL/dy = dy (N, out):

    dL/dW = x.T @ dy     dL/db = sum_n dy[n]     dL/dx = dy @ W.T
"""

from __future__ import annotations

import numpy as np

from digitnet.nn import init
from digitnet.nn.layers.base import Layer


class Dense(Layer):
    """``Dense(units)``: out = x @ weight + bias, weight (in, out); ``in`` is taken from the input."""

    def __init__(
        self, units: int, weight_init: str = "xavier_uniform", bias: bool = True, in_features: int | None = None
    ):
        super().__init__()
        if not isinstance(units, int) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Dense units must be a positive int, got {units!r}")
        if in_features is not None and (not isinstance(in_features, int) or in_features < 1):
            raise ValueError(f"Dense in_features must be a positive int or None, got {in_features!r}")
        init.get(weight_init)  # ValueError naming an unknown initialiser
        self.units = units
        self.weight_init = weight_init
        self.use_bias = bool(bias)
        self.in_features = in_features

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense expects flat inputs (N, features), got per-sample shape {input_shape}; add Flatten() first"
            )
        if self.in_features is not None and input_shape[0] != self.in_features:
            raise ValueError(f"Dense was declared with in_features={self.in_features}, got inputs of {input_shape[0]}")
        return (self.units,)

    def init_params(self, rng):
        fan_in = self.input_shape[0]
        self.in_features = fan_in
        self.params["weight"] = init.initialise(self.weight_init, (fan_in, self.units), rng)
        if self.use_bias:
            self.params["bias"] = np.zeros(self.units)

    def param_shapes(self, input_shape):
        return {"weight": (int(input_shape[0]), self.units), **({"bias": (self.units,)} if self.use_bias else {})}

    def _check_input(self, x):
        if x.ndim != 2 or x.shape[1] != self.params["weight"].shape[0]:
            raise ValueError(f"Dense expected input (N, {self.params['weight'].shape[0]}), got {tuple(x.shape)}")

    def forward(self, x, training=False):
        self._check_input(x)
        self._x = x
        y = x @ self.params["weight"]
        if self.use_bias:
            y = y + self.params["bias"]
        return y

    def backward(self, dy):
        self.grads["weight"] = self._x.T @ dy
        if self.use_bias:
            self.grads["bias"] = dy.sum(axis=0)
        return dy @ self.params["weight"].T if self.needs_input_grad else None

    def get_config(self):
        return {
            "units": self.units,
            "weight_init": self.weight_init,
            "bias": self.use_bias,
            "in_features": self.in_features,
        }
