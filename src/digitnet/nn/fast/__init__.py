"""The fast tier: the reference classes with their hot paths tuned (the default of ``digitnet.nn``).

Each module here subclasses a reference class of the same name and overrides
only forward/backward (layers) or ``_update`` (optimisers); constructors,
parameters, get_config and therefore model files are the reference's.

    conv.py + im2col.py   Conv2D: batch-last memory, reused buffers, two ways to dx;
    + row_shifts.py       partial im2col (kw shifts stacked, kh shifts as column-offset views)
    norm.py               BatchNorm1D / 2D: per-channel sums as matrix products
    pool.py               MaxPool2D / AvgPool2D by strided taps (max: which taps won, kept for backward),
                          GlobalAvgPool2D as a matvec
    dense.py              Dense: in-place bias, bias gradient as ones @ dy
    elementwise.py        Sigmoid, ReLU, Dropout(2D), Flatten
    optim.py              every optimiser into a reused work array
    compiled.py           loops compiled by Numba, for NumPy arrays: Adam in one pass, max-pool forward
                          and backward, BatchNorm2D training, col2im, ReLU (CuPy arrays take the
                          NumPy-style code)

Layers without an entry here (Tanh, GELU, Reshape, ...) are the reference classes.
"""

from digitnet.nn.fast.conv import Conv2D
from digitnet.nn.fast.dense import Dense
from digitnet.nn.fast.elementwise import Dropout, Dropout2D, Flatten, ReLU, Sigmoid
from digitnet.nn.fast.norm import BatchNorm1D, BatchNorm2D
from digitnet.nn.fast.optim import SGD, Adagrad, Adam, AdamW, Momentum, Nesterov, RMSprop
from digitnet.nn.fast.pool import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from digitnet.nn.layers import ELU, GELU, Identity, Layer, LeakyReLU, Reshape, Softmax, Tanh
from digitnet.nn.optim import Optimizer

TIER = "fast"
__all__ = [
    "Layer",
    "Dense",
    "Flatten",
    "Reshape",
    "Dropout",
    "Dropout2D",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "GlobalAvgPool2D",
    "BatchNorm1D",
    "BatchNorm2D",
    "Identity",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "Softmax",
    "Optimizer",
    "SGD",
    "Momentum",
    "Nesterov",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
]
