"""digitnet.nn — the from-scratch framework (NumPy only; CuPy optionally through ``backend``).

    from digitnet.nn import Sequential, Dense, ReLU, Flatten, Adam

The classes exported here are the fast tier's (the default); ``digitnet.nn.reference``
and ``digitnet.nn.loops`` export the same names computed plainly or element by element
(see tiers.py and docs/framework.md).
"""

from digitnet.nn.fast import *  # noqa: F401,F403
from digitnet.nn.fast import __all__ as _fast_all
from digitnet.nn import loops as loops  # noqa: F401  (registers the loops tier's classes)
from digitnet.nn.losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from digitnet.nn.model import Sequential
from digitnet.nn.callbacks import EarlyStopping, History, JSONLinesLogger, ModelCheckpoint, ProgressBar
from digitnet.nn.training import TrainingDiverged
from digitnet.nn.modelfile import ModelFileError, read_header, save
from digitnet.nn.gradcheck import gradcheck

__all__ = _fast_all + [
    "Sequential",
    "MSE",
    "SoftmaxCrossEntropy",
    "BinaryCrossEntropy",
    "EarlyStopping",
    "History",
    "JSONLinesLogger",
    "ModelCheckpoint",
    "ProgressBar",
    "TrainingDiverged",
    "load",
    "save",
    "read_header",
    "ModelFileError",
    "gradcheck",
]

load = Sequential.load  # digitnet.nn.load(path): the model saved at path
