"""Shape-only layers.

    Flatten:  (N, d1, d2, ...) -> (N, d1*d2*...)   (C-order, so NCHW flattens as PyTorch does)
    Reshape:  (N, *a) -> (N, *target_shape)
Backward reshapes the gradient back to the input's shape.
"""

from __future__ import annotations

import math

from digitnet.nn.layers.base import Layer


class Flatten(Layer):
    """Flatten every axis but the batch axis."""

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, x, training=False):
        self._x = x
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self._x.shape)


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (e.g. (1, 28, 28) to turn flat MNIST into images)."""

    def __init__(self, target_shape):
        super().__init__()
        self.target_shape = tuple(int(d) for d in target_shape)
        if any(d < 1 for d in self.target_shape):
            raise ValueError(f"Reshape target_shape must hold positive sizes, got {target_shape!r}")

    def compute_output_shape(self, input_shape):
        if math.prod(input_shape) != math.prod(self.target_shape):
            raise ValueError(f"cannot reshape per-sample shape {input_shape} to {self.target_shape}")
        return self.target_shape

    def forward(self, x, training=False):
        self._shape = x.shape
        return x.reshape((x.shape[0],) + self.target_shape)

    def backward(self, dy):
        return dy.reshape(self._shape)

    def get_config(self):
        return {"target_shape": list(self.target_shape)}
