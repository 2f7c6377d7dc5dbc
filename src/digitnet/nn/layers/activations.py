"""Activation functions as layers (no parameters).

Each keeps what its derivative needs and returns dL/dx = dL/dy * f'(x):

    Identity   y = x                               f' = 1
    Sigmoid    y = 1 / (1 + e^-x) = (1 + tanh(x/2)) / 2      f' = y (1 - y)
    Tanh       y = tanh(x)                         f' = 1 - y^2
    ReLU       y = max(x, 0)                       f' = [x > 0]
    LeakyReLU  y = x if x > 0 else a x             f' = 1 or a
    ELU        y = x if x > 0 else a (e^x - 1)     f' = 1 or y + a
    GELU       y = x/2 (1 + tanh(c (x + 0.044715 x^3))),  c = sqrt(2/pi)   (tanh approximation)
    Softmax    y_i = e^x_i / sum_j e^x_j           dx = y * (dy - sum(dy * y))

Sigmoid via tanh never overflows (|x| = 1000 gives exactly 0 or 1 and a zero,
finite gradient); Softmax subtracts the row maximum first. For classification
prefer a linear output with the fused ``SoftmaxCrossEntropy`` loss.

Every backward is one line: dy times the derivative at the point forward saw.
"""

from __future__ import annotations

import math

import numpy as np

from digitnet.nn.layers.base import Layer


class Identity(Layer):
    """y = x (the 'linear' activation)."""

    def forward(self, x, training=False):
        return x

    def backward(self, dy):
        return dy


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x)), computed as (1 + tanh(x / 2)) / 2, which never overflows."""

    outputs_probabilities = True

    def forward(self, x, training=False):
        self._y = 0.5 * (1 + np.tanh(0.5 * x))
        return self._y

    def backward(self, dy):
        y = self._y
        return dy * y * (1 - y)


class Tanh(Layer):
    """y = tanh(x)."""

    def forward(self, x, training=False):
        self._y = np.tanh(x)
        return self._y

    def backward(self, dy):
        y = self._y
        return dy * (1 - y * y)


class ReLU(Layer):
    """y = max(x, 0)."""

    def forward(self, x, training=False):
        self._x = x
        return np.maximum(x, 0)

    def backward(self, dy):
        return dy * (self._x > 0)


class LeakyReLU(Layer):
    """y = x for x > 0, slope * x otherwise."""

    def __init__(self, slope: float = 0.01):
        super().__init__()
        if not 0 <= slope < 1:
            raise ValueError(f"LeakyReLU slope must be in [0, 1), got {slope!r}")
        self.slope = float(slope)

    def forward(self, x, training=False):
        self._factor = np.where(x > 0, 1.0, self.slope).astype(x.dtype)
        return x * self._factor

    def backward(self, dy):
        return dy * self._factor

    def get_config(self):
        return {"slope": self.slope}


class ELU(Layer):
    """y = x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        if alpha <= 0:
            raise ValueError(f"ELU alpha must be positive, got {alpha!r}")
        self.alpha = float(alpha)

    def forward(self, x, training=False):
        self._pos = x > 0
        neg = self.alpha * np.expm1(np.minimum(x, 0))  # min() keeps exp from overflowing
        self._y = np.where(self._pos, x, neg)
        return self._y

    def backward(self, dy):
        return dy * np.where(self._pos, 1.0, self._y + self.alpha).astype(dy.dtype)

    def get_config(self):
        return {"alpha": self.alpha}


class GELU(Layer):
    """y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the tanh approximation."""

    C = math.sqrt(2.0 / math.pi)

    def forward(self, x, training=False):
        self._x = x
        self._t = np.tanh(self.C * (x + 0.044715 * x * x * x))
        return 0.5 * x * (1 + self._t)

    def backward(self, dy):
        x, t = self._x, self._t
        dinner = self.C * (1 + 3 * 0.044715 * x * x)
        return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner)


class Softmax(Layer):
    """y = exp(x - max x) / sum exp(x - max x) along ``axis`` (default the last)."""

    outputs_probabilities = True

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = int(axis)

    def forward(self, x, training=False):
        self._y = softmax(x, self.axis)
        return self._y

    def backward(self, dy):
        y = self._y
        return y * (dy - (dy * y).sum(axis=self.axis, keepdims=True))

    def get_config(self):
        return {"axis": self.axis}


def softmax(x, axis=-1):
    """Numerically stable softmax (finite for |x| up to the dtype's range)."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ACTIVATIONS = {
    "linear": Identity,
    "identity": Identity,
    "none": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "leakyrelu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "softmax": Softmax,
}


def get(name: str, **kwargs) -> Layer:
    """A new activation layer by name: linear, sigmoid, tanh, relu, leaky_relu, elu, gelu, softmax."""
    cls = ACTIVATIONS.get(str(name).lower().replace("-", "_"))
    if cls is None:
        raise ValueError(f"unknown activation {name!r}; expected one of: {', '.join(sorted(set(ACTIVATIONS)))}")
    return cls(**kwargs)
