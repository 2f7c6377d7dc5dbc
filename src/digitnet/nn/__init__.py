"""digitnet.nn — the from-scratch framework (NumPy only; CuPy optionally through ``backend``).

    from digitnet.nn import Sequential, Dense, ReLU, Flatten, Adam
"""

from digitnet.nn.layers import *  # noqa: F401,F403
from digitnet.nn.layers import __all__ as _layers_all
from digitnet.nn.losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from digitnet.nn.model import Sequential
from digitnet.nn.optim import SGD, Adagrad, Adam, AdamW, Momentum, Nesterov, RMSprop
from digitnet.nn.callbacks import EarlyStopping, History, JSONLinesLogger, ModelCheckpoint, ProgressBar
from digitnet.nn.training import TrainingDiverged
from digitnet.nn.modelfile import ModelFileError, read_header, save
from digitnet.nn.gradcheck import gradcheck

__all__ = _layers_all + ["Sequential", "MSE", "SoftmaxCrossEntropy", "BinaryCrossEntropy", "SGD", "Momentum",
                         "Nesterov", "Adagrad", "RMSprop", "Adam", "AdamW", "EarlyStopping", "History",
                         "JSONLinesLogger", "ModelCheckpoint", "ProgressBar", "TrainingDiverged", "load", "save",
                         "read_header", "ModelFileError", "gradcheck"]

load = Sequential.load  # digitnet.nn.load(path): the model saved at path
