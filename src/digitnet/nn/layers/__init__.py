"""Every layer of digitnet.nn, importable from one place."""

from digitnet.nn.layers.activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from digitnet.nn.layers.base import Layer
from digitnet.nn.layers.dense import Dense
from digitnet.nn.layers.dropout import Dropout, Dropout2D
from digitnet.nn.layers.reshape import Flatten, Reshape

__all__ = ["Layer", "Dense", "Flatten", "Reshape", "Dropout", "Dropout2D",
           "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Softmax"]
