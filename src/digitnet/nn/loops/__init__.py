"""The loops tier: element by element, one multiply-add per line of Python — for reading and measuring.

    mlp.py     a whole fully connected network and its SGD step as nested loops (``LoopMLP``)
    conv.py    convolution forward and backward as seven nested loops (+ the ``Conv2D`` layer)
    dense.py   ``Dense`` as loops over samples, units and weights
    pool.py    ``MaxPool2D`` / ``AvgPool2D`` window by window
    norm.py    ``BatchNorm1D`` / ``2D`` channel by channel
    optim.py   ``SGD`` and ``Adam`` (``AdamW``) one coordinate at a time

The layers here subclass the reference classes of the same name (same
constructor, parameters and config) and override forward/backward (optimisers:
the update) only; every other layer and optimiser of this tier is the reference one.
"""

from digitnet.nn.layers import (
    ELU,
    GELU,
    Dropout,
    Dropout2D,
    Flatten,
    GlobalAvgPool2D,
    Identity,
    Layer,
    LeakyReLU,
    ReLU,
    Reshape,
    Sigmoid,
    Softmax,
    Tanh,
)
from digitnet.nn.loops.conv import Conv2D, conv2d_backward_naive, conv2d_forward_naive
from digitnet.nn.loops.dense import Dense
from digitnet.nn.loops.mlp import (
    LoopMLP,
    activation_functions,
    backward_loops,
    batch_gradients,
    forward_loops,
    loss_and_output_gradient,
    sigmoid,
)
from digitnet.nn.loops.norm import BatchNorm1D, BatchNorm2D
from digitnet.nn.loops.pool import AvgPool2D, MaxPool2D
from digitnet.nn.loops.optim import SGD, Adam, AdamW
from digitnet.nn.optim import Adagrad, Momentum, Nesterov, Optimizer, RMSprop

TIER = "loops"
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
    "LoopMLP",
    "forward_loops",
    "backward_loops",
    "batch_gradients",
    "loss_and_output_gradient",
    "activation_functions",
    "sigmoid",
    "conv2d_forward_naive",
    "conv2d_backward_naive",
]
