"""The reference tier: plain vectorised NumPy in NCHW, every equation in the docstrings.

    from digitnet.nn import reference as nn
    model = Sequential([nn.Conv2D(1, 6, 5), nn.ReLU(), nn.MaxPool2D(2), nn.Flatten(), nn.Dense(10)],
                       input_shape=(1, 28, 28))
    model.compile(nn.Adam(lr=1e-3))

The code lives in digitnet/nn/layers/*.py (layers) and digitnet/nn/optim.py
(optimisers); ``digitnet.nn.fast`` and ``digitnet.nn.loops`` export classes of
the same names computing the same numbers (see docs/framework.md).
"""

from digitnet.nn.layers import *  # noqa: F401,F403
from digitnet.nn.layers import __all__ as _layers
from digitnet.nn.optim import SGD, Adagrad, Adam, AdamW, Momentum, Nesterov, Optimizer, RMSprop

TIER = "reference"
__all__ = _layers + ["Optimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam", "AdamW"]
