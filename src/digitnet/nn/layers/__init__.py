"""The layers of the reference tier (plain NumPy, NCHW), importable from one place.

``digitnet.nn`` exports the fast tier's classes of the same names (the default);
``digitnet.nn.reference`` this tier's layers together with its optimisers.
"""

from digitnet.nn.layers.activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from digitnet.nn.layers.base import Layer
from digitnet.nn.layers.conv import Conv2D
from digitnet.nn.layers.dense import Dense
from digitnet.nn.layers.dropout import Dropout, Dropout2D
from digitnet.nn.layers.norm import BatchNorm1D, BatchNorm2D
from digitnet.nn.layers.pool import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from digitnet.nn.layers.reshape import Flatten, Reshape

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
]
