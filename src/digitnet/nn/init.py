"""Weight initialisers, chosen per layer by name.

Each takes the weight shape, fan_in, fan_out and an ``np.random.Generator``
and returns a float64 NumPy array (layers cast to their dtype):

    normal          N(0, 1)                              the seeds' naive choice
    scaled_normal   N(0, 0.01^2)
    uniform         U(-0.05, 0.05)
    xavier_normal   N(0, 2 / (fan_in + fan_out))         Glorot & Bengio 2010
    xavier_uniform  U(-a, a), a = sqrt(6 / (fan_in + fan_out))
    he_normal       N(0, 2 / fan_in)                     He et al. 2015 (ReLU)
    he_uniform      U(-a, a), a = sqrt(6 / fan_in)
    lecun_normal    N(0, 1 / fan_in)                     LeCun et al. 1998
    lecun_uniform   U(-a, a), a = sqrt(3 / fan_in)
    zeros, ones

For a dense weight (in, out): fan_in = in, fan_out = out. For a conv weight
(O, I, kh, kw): fan_in = I*kh*kw, fan_out = O*kh*kw.
"""

from __future__ import annotations

import math

import numpy as np


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) for a dense (in, out) or conv (O, I, kh, kw) weight shape."""
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    if len(shape) >= 3:
        receptive = int(np.prod(shape[2:]))
        return int(shape[1]) * receptive, int(shape[0]) * receptive
    return int(shape[0]), int(shape[0])


def _normal(std):
    return lambda shape, fan_in, fan_out, rng: rng.normal(0.0, std(fan_in, fan_out), size=shape)


def _uniform(limit):
    def draw(shape, fan_in, fan_out, rng):
        a = limit(fan_in, fan_out)
        return rng.uniform(-a, a, size=shape)

    return draw


INITIALISERS = {
    "normal": _normal(lambda i, o: 1.0),
    "scaled_normal": _normal(lambda i, o: 0.01),
    "uniform": _uniform(lambda i, o: 0.05),
    "xavier_normal": _normal(lambda i, o: math.sqrt(2.0 / (i + o))),
    "xavier_uniform": _uniform(lambda i, o: math.sqrt(6.0 / (i + o))),
    "he_normal": _normal(lambda i, o: math.sqrt(2.0 / i)),
    "he_uniform": _uniform(lambda i, o: math.sqrt(6.0 / i)),
    "lecun_normal": _normal(lambda i, o: math.sqrt(1.0 / i)),
    "lecun_uniform": _uniform(lambda i, o: math.sqrt(3.0 / i)),
    "zeros": lambda shape, fan_in, fan_out, rng: np.zeros(shape),
    "ones": lambda shape, fan_in, fan_out, rng: np.ones(shape),
}
ALIASES = {
    "glorot_normal": "xavier_normal",
    "glorot_uniform": "xavier_uniform",
    "kaiming_normal": "he_normal",
    "kaiming_uniform": "he_uniform",
    "xavier": "xavier_normal",
    "glorot": "xavier_normal",
    "he": "he_normal",
    "kaiming": "he_normal",
    "lecun": "lecun_normal",
}


def get(name: str):
    """The initialiser called ``name`` (or an alias such as "glorot_uniform", "kaiming_normal")."""
    key = ALIASES.get(name, name)
    if key not in INITIALISERS:
        known = ", ".join(sorted(INITIALISERS) + sorted(ALIASES))
        raise ValueError(f"unknown initialiser {name!r}; expected one of: {known}")
    return INITIALISERS[key]


def initialise(name: str, shape, rng: np.random.Generator, fan_in=None, fan_out=None) -> np.ndarray:
    """Draw an array of ``shape`` with the initialiser ``name``."""
    f_in, f_out = fans(shape)
    return get(name)(tuple(shape), fan_in or f_in, fan_out or f_out, rng)
