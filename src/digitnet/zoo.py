"""Named architectures and how to train them.

    model = zoo.build("lenet5")                 # a Sequential, input (1, 28, 28), untrained
    cfg = zoo.recipe("lenet5")                  # {"optimizer": "adam", "lr": ..., "epochs": ..., ...}

Models (all take (N, 1, 28, 28) images in [0, 1] and output 10 logits; the readers 11):

    reader       the main job (``digitnet train``): lenet-wide with 16 and 48 maps, dense 256, dropout
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
                 rotations and zoom.
    mlp-10       784-10: multinomial logistic regression
    mlp-16-16    784-16-16-10 sigmoid (the 3Blue1Brown network)
    mlp-30       784-30-10 sigmoid (Nielsen's "Neural Networks and Deep Learning")
    mlp-100-100  784-100-100-10 ReLU
    mlp-800-800  784-800-800-10 ReLU with dropout (Hinton et al. 2012, Simard et al. 2003 sizes)

Every builder takes ``tier`` ("fast", the default, "reference" or "loops"; see
digitnet/nn/tiers.py): the same network, the same initial weights and the same
config, computed by that tier's classes.

With max pooling the activation is applied *after* the pool: max and a monotone activation commute
(max(f(x)) = f(max x), gradients included), so the network is the same function as conv -> act -> pool,
with the activation computed on 4x fewer values.
"""

from __future__ import annotations

from digitnet.nn import tiers
from digitnet.nn.layers import activations
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
READER = {"c1": 16, "c2": 48, "dense": 256, "dropout": 0.25, "classes": 11}  # the main job's network
READER_LARGE = {"c1": 20, "c2": 50, "dense": 256, "dropout": 0.3, "classes": 11}

_RECIPES = {  # CLI keys (see digitnet.commands.train). Test accuracy measured with each, seed 0, 5000 validation:
    "lenet5": {
        "optimizer": "adam",
        "lr": 1e-3,
        "epochs": 10,
        "batch_size": 64,
        "schedule": "cosine",
        "augment": "shift=1,rotate=8",
    },  # light augmentation: 99.2% (no augmentation, lr 2e-3: 99.1%)
    "cnn": {
        "optimizer": "adam",
        "lr": 2e-3,
        "epochs": 12,
        "batch_size": 64,
        "schedule": "cosine",
        "weight_decay": 0.0,
    },  # 99.52%
    "reader": {
        "optimizer": "adam",
        "lr": 2e-3,
        "epochs": 6,
        "batch_size": 64,
        "schedule": "cosine",
        "augment": "shift=2,rotate=10,zoom=0.1,shear=10",
        "centre": "mass",
        "synthetic": 8000,
        "negatives": 6000,
        "tta": 10,
    },
    # reader (conv2 48, dense 256, test-time views +-10 degrees, 18 train font families): see
    # docs/handwriting.md, "Fourth round": 99.48% test, held-out out-of-MNIST digits 96.98% (mean of the
    # check seeds 12-16); the third round's (conv2 32, 13 fonts): 99.51% / 96.90% (seeds 2-5)
    # reader-large: 99.50% / 99.51% test, held-out out-of-MNIST digits 96.98% (seeds 0 / 1; docs/handwriting.md)
    "lenet-wide": {
        "optimizer": "adam",
        "lr": 1.5e-3,
        "epochs": 12,
        "batch_size": 64,
        "schedule": "cosine",
        "augment": "shift=4,rotate=10,zoom=0.1",
    },
    "mlp-10": {"optimizer": "adam", "lr": 1e-3, "epochs": 10, "batch_size": 64, "schedule": "cosine"},  # 92.53%
    "mlp-16-16": {"optimizer": "adam", "lr": 3e-3, "epochs": 15, "batch_size": 64, "schedule": "cosine"},  # 94.68%
    "mlp-30": {"optimizer": "adam", "lr": 3e-3, "epochs": 15, "batch_size": 64, "schedule": "cosine"},  # 96.13%
    "mlp-100-100": {"optimizer": "adam", "lr": 1e-3, "epochs": 12, "batch_size": 64, "schedule": "cosine"},  # 98.07%
    "mlp-800-800": {"optimizer": "adam", "lr": 5e-4, "epochs": 20, "batch_size": 64, "schedule": "cosine"},  # 98.55%
}
_RECIPES["reader-large"] = {**_RECIPES["reader"], "lr": 1.5e-3, "epochs": 12}  # the reader recipe, longer
AUGMENT = "shift=2,rotate=10,zoom=0.1"


def _default_init(activation: str) -> str:
    return "he_normal" if activation in ("relu", "leaky_relu", "elu", "gelu") else "xavier_uniform"


def mlp(
    hidden=(128,),
    activation="relu",
    dropout=0.0,
    weight_init=None,
    output_init=None,
    seed=0,
    dtype="float32",
    name="mlp",
    tier=tiers.DEFAULT,
    input_shape=INPUT_SHAPE,
):
    """Flatten -> [Dense(h) -> activation -> Dropout] per hidden size -> Dense(10) — the one MLP builder.

    ``weight_init`` defaults to He for ReLU-like activations, else Xavier; ``output_init`` (the last
    Dense) to ``weight_init``, or Xavier for a network without hidden layers.
    """
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    nn = tiers.namespace(tier)
    weight_init = weight_init or _default_init(activation)
    output_init = output_init or (weight_init if hidden else "xavier_uniform")
    layers = [nn.Flatten()]
    for width in hidden:
        layers += [nn.Dense(int(width), weight_init=weight_init), activations.get(activation)]
        if dropout:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Dense(10, weight_init=output_init))
    return Sequential(layers, input_shape=input_shape, dtype=dtype, seed=seed, name=name, tier=tier)


def _classes(classes) -> int:
    if classes not in (10, 11):
        raise ValueError(f"classes must be 10 (digits) or 11 (digits and 'not a digit'), got {classes!r}")
    return int(classes)


def lenet5(activation="relu", pool="max", c3_table=False, classes=10, seed=0, dtype="float32", tier=tiers.DEFAULT):
    """LeNet-5 on 28x28 digits (see the module docstring); 6 and 16 feature maps, 120-84-10 head
    (``classes=11``: a "not a digit" output as well)."""
    if pool not in ("max", "avg"):
        raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}")
    if activation not in ("relu", "tanh", "sigmoid"):
        raise ValueError(f"lenet5 activation must be relu, tanh or sigmoid, got {activation!r}")
    nn = tiers.namespace(tier)
    weight_init = _default_init(activation)
    act = lambda: activations.get(activation)  # noqa: E731

    def block(conv):
        if pool == "max":  # act(max(x)) == max(act(x)), on 4x fewer values
            return [conv, nn.MaxPool2D(2), act()]
        return [conv, act(), nn.AvgPool2D(2)]

    layers = (
        block(nn.Conv2D(1, 6, 5, weight_init=weight_init))
        + block(nn.Conv2D(6, 16, 5, weight_init=weight_init, connections=LENET5_C3_TABLE if c3_table else None))
        + [
            nn.Flatten(),
            nn.Dense(120, weight_init=weight_init),
            act(),
            nn.Dense(84, weight_init=weight_init),
            act(),
            nn.Dense(_classes(classes)),
        ]
    )
    return Sequential(layers, input_shape=INPUT_SHAPE, dtype=dtype, seed=seed, name="lenet5", tier=tier)


def cnn(width=32, dropout=0.4, dense=256, seed=0, dtype="float32", tier=tiers.DEFAULT):
    """Two blocks of two 3x3 conv + BatchNorm + ReLU, max-pool after each block, then a dense head."""
    nn = tiers.namespace(tier)

    def conv_bn(c_in, c_out):
        return [nn.Conv2D(c_in, c_out, 3, padding="same", bias=False), nn.BatchNorm2D(c_out)]

    relu = lambda: activations.get("relu")  # noqa: E731
    w, w2 = int(width), 2 * int(width)
    layers = (
        conv_bn(1, w)
        + [relu()]
        + conv_bn(w, w)
        + [nn.MaxPool2D(2), relu()]
        + conv_bn(w, w2)
        + [relu()]
        + conv_bn(w2, w2)
        + [nn.MaxPool2D(2), relu()]
        + [
            nn.Flatten(),
            nn.Dense(dense, weight_init="he_normal", bias=False),
            nn.BatchNorm1D(dense),
            relu(),
            nn.Dropout(dropout),
            nn.Dense(10),
        ]
    )
    return Sequential(layers, input_shape=INPUT_SHAPE, dtype=dtype, seed=seed, name="cnn", tier=tier)


def lenet_wide(c1=32, c2=64, dense=256, dropout=0.3, pad1=0, classes=10, seed=0, dtype="float32", tier=tiers.DEFAULT):
    """A wider LeNet without batch norm: conv c1@5x5 -> pool 2 -> conv c2@5x5 -> pool 2 -> dense -> classes.

    (N, 1, 28, 28) -> conv (c1, 24, 24) -> pool (c1, 12, 12) -> conv (c2, 8, 8) -> pool (c2, 4, 4)
    -> Dense(dense) -> ReLU -> Dropout -> Dense(classes) (``pad1=2``: the first conv keeps 28x28, then
    (c1, 14, 14), (c2, 10, 10), (c2, 5, 5)). ``classes=11`` adds a "not a digit" output (index 10, see
    digitnet.rejection).
    """
    nn = tiers.namespace(tier)
    relu = lambda: activations.get("relu")  # noqa: E731
    layers = [
        nn.Conv2D(1, int(c1), 5, padding=int(pad1)),
        nn.MaxPool2D(2),
        relu(),
        nn.Conv2D(int(c1), int(c2), 5),
        nn.MaxPool2D(2),
        relu(),
        nn.Flatten(),
        nn.Dense(int(dense), weight_init="he_normal"),
        relu(),
    ]
    if dropout:
        layers.append(nn.Dropout(float(dropout)))
    layers.append(nn.Dense(_classes(classes)))
    return Sequential(layers, input_shape=INPUT_SHAPE, dtype=dtype, seed=seed, name="lenet-wide", tier=tier)


def build(name: str, seed: int = 0, dtype: str = "float32", tier: str = tiers.DEFAULT, **options) -> Sequential:
    """The zoo model called ``name`` (see NAMES), built for (N, 1, 28, 28) inputs, computed by ``tier``."""
    if name == "lenet5":
        return lenet5(seed=seed, dtype=dtype, tier=tier, **options)
    if name == "cnn":
        return cnn(seed=seed, dtype=dtype, tier=tier, **options)
    if name == "lenet-wide":
        return lenet_wide(seed=seed, dtype=dtype, tier=tier, **options)
    if name in ("reader", "reader-large"):
        spec = {**(READER if name == "reader" else READER_LARGE), **options}
        model = lenet_wide(seed=seed, dtype=dtype, tier=tier, **spec)
        model.name = name
        return model
    if name in MLP_SPECS:
        hidden, activation, dropout = MLP_SPECS[name]
        spec = {"hidden": hidden, "activation": activation, "dropout": dropout, **options}
        return mlp(seed=seed, dtype=dtype, name=name, tier=tier, **spec)
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
