"""Fully connected (dense) layer.

    y = x @ W + b        x: (N, in)   W: (in, out)   b: (out,)   y: (N, out)

Backward, for dL/dy = dy (N, out):

    dL/dW = x.T @ dy     dL/db = 1 @ dy (sum over the batch)     dL/dx = dy @ W.T
"""

from __future__ import annotations

from digitnet.nn import backend, init
from digitnet.nn.layers.base import Layer


class Dense(Layer):
    """``Dense(units)``: out = x @ weight + bias, weight (in, out); ``in`` is taken from the input."""

    def __init__(self, units: int, init: str = "xavier_uniform", bias: bool = True, in_features: int | None = None):
        super().__init__()
        if not isinstance(units, int) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Dense units must be a positive int, got {units!r}")
        if in_features is not None and (not isinstance(in_features, int) or in_features < 1):
            raise ValueError(f"Dense in_features must be a positive int or None, got {in_features!r}")
        _check_init(init)
        self.units = units
        self.init = init
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
        self.params["weight"] = init.initialise(self.init, (fan_in, self.units), rng)
        if self.use_bias:
            self.params["bias"] = init.initialise("zeros", (self.units,), rng)

    def param_shapes(self, input_shape):
        return {"weight": (int(input_shape[0]), self.units), **({"bias": (self.units,)} if self.use_bias else {})}

    def forward(self, x, training=False):
        if x.ndim != 2 or x.shape[1] != self.params["weight"].shape[0]:
            raise ValueError(f"Dense expected input (N, {self.params['weight'].shape[0]}), got {tuple(x.shape)}")
        self._x = x
        y = x @ self.params["weight"]
        if self.use_bias:
            y += self.params["bias"]
        return y

    def backward(self, dy):
        xp = backend.xp()
        x = self._x
        self.grads["weight"] = x.T @ dy
        if self.use_bias:
            # ones @ dy is a single BLAS call, much faster than dy.sum(axis=0) on tall matrices
            self.grads["bias"] = xp.ones(dy.shape[0], dtype=dy.dtype) @ dy
        return dy @ self.params["weight"].T if self.needs_input_grad else None

    def get_config(self):
        return {"units": self.units, "init": self.init, "bias": self.use_bias, "in_features": self.in_features}


def _check_init(name):
    init.get(name)  # raises ValueError naming the bad initialiser
