"""Inverted dropout, active only in training.

    training:   mask ~ Bernoulli(1 - rate),  y = x * mask / (1 - rate),  dx = dy * mask / (1 - rate)
    inference:  y = x,  dx = dy

``Dropout`` drops single units; ``Dropout2D`` drops whole feature maps of an
NCHW input (mask shape (N, C, 1, 1)). Masks are drawn from ``self.rng``, an
``np.random.Generator`` (the layer contract's ``rng``: ``Sequential.fit`` points
it at the fit's generator, so a run is reproducible from one seed).
"""

from __future__ import annotations

import numpy as np

from digitnet.nn.layers.base import Layer


class Dropout(Layer):
    """Zero each unit with probability ``rate`` during training; scale the rest by 1/(1-rate)."""

    def __init__(self, rate: float = 0.5, seed: int | None = None):
        super().__init__()
        if not 0 <= rate < 1:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def mask_shape(self, x_shape):
        return x_shape

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self._mask = None
            return x
        keep = self.rng.random(self.mask_shape(x.shape), dtype=np.float32) >= self.rate
        self._mask = self.scaled_mask(keep, x.dtype)
        return x * self._mask

    def scaled_mask(self, keep, dtype):
        """mask / (1 - rate) as an array of ``dtype``."""
        return keep.astype(dtype) * np.asarray(1.0 / (1.0 - self.rate), dtype=dtype)

    def backward(self, dy):
        return dy if self._mask is None else dy * self._mask

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed}


class Dropout2D(Dropout):
    """Drop whole channels of an (N, C, H, W) input (spatial dropout)."""

    def mask_shape(self, x_shape):
        if len(x_shape) != 4:
            raise ValueError(f"Dropout2D expects NCHW input, got shape {tuple(x_shape)}")
        return (x_shape[0], x_shape[1], 1, 1)
