"""Named architectures and how to train them.

    model = zoo.build("lenet5")                 # a Sequential, input (1, 28, 28), untrained
    cfg = zoo.recipe("lenet5")                  # {"optimizer": "adam", "lr": ..., "epochs": ..., ...}

Models (all take (N, 1, 28, 28) images in [0, 1] and output 10 logits; the readers 11):

    reader       the main job (``digitnet train``): lenet-wide with 16 and 32 maps, dense 128, dropout
                 0.25 and an 11th "not a digit" output; its recipe mixes generator digits and negatives
                 into training and re-centres inputs by mass (docs/handwriting.md)
    reader-large the same recipe on lenet-wide 20/50/256 (slower, stronger)
    lenet-wide   conv c1@5x5 -> pool -> conv c2@5x5 -> pool -> dense -> 10 (or 11), no batch norm

    lenet5       LeCun et al. 1998 on 28x28 input: conv 6@5x5 -> pool 2 -> conv 16@5x5 -> pool 2
                 -> 120 -> 84 -> 10. Options: activation relu|tanh|sigmoid (default relu: it trains
                 fastest and best with Adam; tanh is closest to the paper), pool max|avg (default max),
                 c3_table=False (True: C3 reads only the paper's subsets of S2's maps).
    cnn          a stronger small CNN: [conv 32 -> conv 32] -> pool -> [conv 64 -> conv 64] -> pool
                 -> dense 256 -> 10, 3x3 'same' convs with BatchNorm and ReLU, dropout. 99.52% test
                 accuracy without augmentation (12 epochs); recipe(name, augmented=True) adds shifts,
                 rotations and zoom, aimed at >= 99.6% (not measured yet: ~45 min of one core).
    mlp-10       784-10: multinomial logistic regression
    mlp-16-16    784-16-16-10 sigmoid (the 3Blue1Brown network)
    mlp-30       784-30-10 sigmoid (Nielsen's "Neural Networks and Deep Learning")
    mlp-100-100  784-100-100-10 ReLU
    mlp-800-800  784-800-800-10 ReLU with dropout (Hinton et al. 2012, Simard et al. 2003 sizes)

With max pooling the activation is applied *after* the pool: max and a monotone activation commute
(max(f(x)) = f(max x), gradients included), so the network is the same function as conv -> act -> pool,
with the activation computed on 4x fewer values.
"""

from __future__ import annotations

from digitnet.nn.layers import (AvgPool2D, BatchNorm1D, BatchNorm2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D,
                                activations)
from digitnet.nn.layers.conv import LENET5_C3_TABLE
from digitnet.nn.model import Sequential

INPUT_SHAPE = (1, 28, 28)
MLP_SPECS = {  # name: (hidden sizes, activation, dropout)
    "mlp-10": ((), "linear", 0.0),
    "mlp-16-16": ((16, 16), "sigmoid", 0.0),
    "mlp-30": ((30,), "sigmoid", 0.0),
    "mlp-100-100": ((100, 100), "relu", 0.0),
    "mlp-800-800": ((800, 800), "relu", 0.5),
}
NAMES = ("reader", "reader-large", "lenet5", "cnn", "lenet-wide") + tuple(MLP_SPECS)
READER = {"c1": 16, "c2": 32, "dense": 128, "dropout": 0.25, "classes": 11}   # the main job's network
READER_LARGE = {"c1": 20, "c2": 50, "dense": 256, "dropout": 0.3, "classes": 11}

_RECIPES = {  # CLI keys (see digitnet.commands.train). Test accuracy measured with each, seed 0, 5000 validation:
    "lenet5": {"optimizer": "adam", "lr": 1e-3, "epochs": 10, "batch_size": 64, "schedule": "cosine",
               "augment": "shift=1,rotate=8"},  # light augmentation: 99.2% (no augmentation, lr 2e-3: 99.1%)
    "cnn": {"optimizer": "adam", "lr": 2e-3, "epochs": 12, "batch_size": 64, "schedule": "cosine",
            "weight_decay": 0.0},                                                                          # 99.52%
    "reader": {"optimizer": "adam", "lr": 2e-3, "epochs": 6, "batch_size": 64, "schedule": "cosine",
               "augment": "shift=2,rotate=10,zoom=0.1", "centre": "mass", "synthetic": 5000, "negatives": 4500},
    # reader: 99.50% / 99.42% test (seeds 0 / 1), held-out out-of-MNIST digits 96.30% / 96.75%, 163-213 s
    # (docs/handwriting.md); with --epochs 10: 99.40% / 99.37%
    "reader-large": {"optimizer": "adam", "lr": 1.5e-3, "epochs": 12, "batch_size": 64, "schedule": "cosine",
                     "augment": "shift=2,rotate=10,zoom=0.1", "centre": "mass", "synthetic": 5000, "negatives": 4500},
    "lenet-wide": {"optimizer": "adam", "lr": 1.5e-3, "epochs": 12, "batch_size": 64, "schedule": "cosine",
                   "augment": "shift=4,rotate=10,zoom=0.1"},
    "mlp-10": {"optimizer": "adam", "lr": 1e-3, "epochs": 10, "batch_size": 64, "schedule": "cosine"},      # 92.53%
    "mlp-16-16": {"optimizer": "adam", "lr": 3e-3, "epochs": 15, "batch_size": 64, "schedule": "cosine"},   # 94.68%
    "mlp-30": {"optimizer": "adam", "lr": 3e-3, "epochs": 15, "batch_size": 64, "schedule": "cosine"},      # 96.13%
    "mlp-100-100": {"optimizer": "adam", "lr": 1e-3, "epochs": 12, "batch_size": 64, "schedule": "cosine"},  # 98.07%
    "mlp-800-800": {"optimizer": "adam", "lr": 5e-4, "epochs": 20, "batch_size": 64, "schedule": "cosine"},  # 98.55%
}
AUGMENT = "shift=2,rotate=10,zoom=0.1"


def _default_init(activation: str) -> str:
    return "he_normal" if activation in ("relu", "leaky_relu", "elu", "gelu") else "xavier_uniform"


def mlp(hidden=(128,), activation="relu", dropout=0.0, init=None, seed=0, dtype="float32", name="mlp"):
    """Flatten -> [Dense(h) -> activation -> Dropout] per hidden size -> Dense(10)."""
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    init = init or _default_init(activation)
    layers = [Flatten()]
    for width in hidden:
        layers += [Dense(int(width), init=init), activations.get(activation)]
        if dropout:
            layers.append(Dropout(dropout))
    layers.append(Dense(10, init="xavier_uniform" if not hidden else init))
    return Sequential(layers, input_shape=INPUT_SHAPE, dtype=dtype, seed=seed, name=name)


def _classes(classes) -> int:
    if classes not in (10, 11):
        raise ValueError(f"classes must be 10 (digits) or 11 (digits and 'not a digit'), got {classes!r}")
    return int(classes)


def lenet5(activation="relu", pool="max", c3_table=False, classes=10, seed=0, dtype="float32"):
    """LeNet-5 on 28x28 digits (see the module docstring); 6 and 16 feature maps, 120-84-10 head
    (``classes=11``: a "not a digit" output as well)."""
    if pool not in ("max", "avg"):
        raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}")
    if activation not in ("relu", "tanh", "sigmoid"):
        raise ValueError(f"lenet5 activation must be relu, tanh or sigmoid, got {activation!r}")
    init = _default_init(activation)
    act = lambda: activations.get(activation)  # noqa: E731

    def block(conv):
        if pool == "max":  # act(max(x)) == max(act(x)), on 4x fewer values
            return [conv, MaxPool2D(2), act()]
        return [conv, act(), AvgPool2D(2)]

    layers = (block(Conv2D(1, 6, 5, init=init))
              + block(Conv2D(6, 16, 5, init=init, connections=LENET5_C3_TABLE if c3_table else None))
              + [Flatten(), Dense(120, init=init), act(), Dense(84, init=init), act(), Dense(_classes(classes))])
    return Sequential(layers, input_shape=INPUT_SHAPE, dtype=dtype, seed=seed, name="lenet5")


def cnn(width=32, dropout=0.4, dense=256, seed=0, dtype="float32"):
    """Two blocks of two 3x3 conv + BatchNorm + ReLU, max-pool after each block, then a dense head."""
    def conv_bn(c_in, c_out):
        return [Conv2D(c_in, c_out, 3, padding="same", bias=False), BatchNorm2D(c_out)]

    relu = lambda: activations.get("relu")  # noqa: E731
    w, w2 = int(width), 2 * int(width)
    layers = (conv_bn(1, w) + [relu()] + conv_bn(w, w) + [MaxPool2D(2), relu()]
              + conv_bn(w, w2) + [relu()] + conv_bn(w2, w2) + [MaxPool2D(2), relu()]
              + [Flatten(), Dense(dense, init="he_normal", bias=False), BatchNorm1D(dense), relu(), Dropout(dropout),
                 Dense(10)])
    return Sequential(layers, input_shape=INPUT_SHAPE, dtype=dtype, seed=seed, name="cnn")


def lenet_wide(c1=32, c2=64, dense=256, dropout=0.3, pad1=0, classes=10, seed=0, dtype="float32"):
    """A wider LeNet without batch norm: conv c1@5x5 'same' -> pool 2 -> conv c2@5x5 -> pool 2 -> dense -> classes.

    (N, 1, 28, 28) -> conv (c1, 28, 28) -> pool (c1, 14, 14) -> conv (c2, 10, 10) -> pool (c2, 5, 5)
    -> Dense(dense) -> ReLU -> Dropout -> Dense(classes). ``classes=11`` adds a "not a digit" output
    (index 10, see digitnet.rejection).
    """
    relu = lambda: activations.get("relu")  # noqa: E731
    layers = [Conv2D(1, int(c1), 5, padding=int(pad1)), MaxPool2D(2), relu(),
              Conv2D(int(c1), int(c2), 5), MaxPool2D(2), relu(),
              Flatten(), Dense(int(dense), init="he_normal"), relu()]
    if dropout:
        layers.append(Dropout(float(dropout)))
    layers.append(Dense(_classes(classes)))
    return Sequential(layers, input_shape=INPUT_SHAPE, dtype=dtype, seed=seed, name="lenet-wide")


def build(name: str, seed: int = 0, dtype: str = "float32", **options) -> Sequential:
    """The zoo model called ``name`` (see NAMES), built for (N, 1, 28, 28) inputs."""
    if name == "lenet5":
        return lenet5(seed=seed, dtype=dtype, **options)
    if name == "cnn":
        return cnn(seed=seed, dtype=dtype, **options)
    if name == "lenet-wide":
        return lenet_wide(seed=seed, dtype=dtype, **options)
    if name in ("reader", "reader-large"):
        model = lenet_wide(seed=seed, dtype=dtype, **{**(READER if name == "reader" else READER_LARGE), **options})
        model.name = name
        return model
    if name in MLP_SPECS:
        hidden, activation, dropout = MLP_SPECS[name]
        spec = {"hidden": hidden, "activation": activation, "dropout": dropout, **options}
        return mlp(seed=seed, dtype=dtype, name=name, **spec)
    raise ValueError(f"unknown model {name!r}; expected one of: {', '.join(NAMES)}")


def recipe(name: str, augmented: bool = False) -> dict:
    """Recommended training options for ``name`` (keys as the CLI's: optimizer, lr, epochs, batch_size, ...)."""
    if name not in _RECIPES:
        raise ValueError(f"unknown model {name!r}; expected one of: {', '.join(NAMES)}")
    options = dict(_RECIPES[name])
    if augmented:
        options["augment"] = AUGMENT
        options["epochs"] = int(options["epochs"] * 1.5)
    return options
