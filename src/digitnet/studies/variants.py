"""What each study varies: a base training setup and, per kind, the variants that each change one thing.

    base = {"optimizer": "momentum", "lr": 0.01, "batch_size": 64, "activation": "relu", "init": "xavier_uniform", ...}
    variants("optimizers", base)  ->  [Variant("sgd", "SGD lr=0.1", {"optimizer": "sgd", "lr": 0.1}), ...]

A variant's ``changes`` are merged over the base setup; everything else (network,
data, seeds, epochs) stays the same. Optimisers each get their customary
learning rate unless the user fixes one for all (``lr_fixed=True``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("optimizers", "activations", "init", "batch-size", "lr")

BASE = {
    "model": "mlp",
    "hidden": [128, 64],
    "activation": "relu",
    "init": "xavier_uniform",
    "optimizer": "momentum",
    "lr": 0.01,
    "batch_size": 64,
    "loss": "cross_entropy",
    "dtype": "float32",
}

# optimiser name -> (label, the customary learning rate, extra constructor kwargs)
OPTIMIZERS = {
    "sgd": ("SGD", 0.1, {}),
    "momentum": ("Momentum 0.9", 0.01, {"momentum": 0.9}),
    "nesterov": ("Nesterov 0.9", 0.01, {"momentum": 0.9}),
    "adagrad": ("Adagrad", 0.01, {}),
    "rmsprop": ("RMSprop", 0.001, {}),
    "adam": ("Adam", 0.001, {}),
    "adamw": ("AdamW wd=0.01", 0.001, {"weight_decay": 0.01}),
}
ACTIVATIONS = {
    "linear": "linear",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "elu": "ELU",
    "gelu": "GELU",
}
INITIALISERS = {"normal": "N(0, 1)", "xavier_normal": "Xavier N(0, 2/(in+out))", "he_normal": "He N(0, 2/in)"}
BATCH_SIZES = (1, 8, 32, 128, 512)
LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass
class Variant:
    """One line of a study: a short name, a label for plots and tables, and the settings it changes."""

    name: str
    label: str
    changes: dict = field(default_factory=dict)


def _numbers(values, kind, cast):
    out = []
    for v in values:
        try:
            number = cast(v)
        except (TypeError, ValueError):
            raise ValueError(f"{kind} variants must be numbers, got {v!r}") from None
        if number <= 0:
            raise ValueError(f"{kind} variants must be positive, got {v!r}")
        out.append(number)
    return out


def _pick(table, names, kind):
    if names is None:
        return list(table)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(
            f"unknown {kind} variant(s) {', '.join(map(repr, unknown))}; expected some of: {', '.join(table)}"
        )
    return list(names)


def variants(kind: str, base: dict, names=None, lr_fixed: bool = False) -> list[Variant]:
    """The variants of study ``kind``; ``names`` picks a subset (or, for lr / batch-size, gives the values)."""
    if kind == "optimizers":
        out = []
        for name in _pick(OPTIMIZERS, names, kind):
            label, lr, extra = OPTIMIZERS[name]
            lr = base["lr"] if lr_fixed else lr
            out.append(Variant(name, f"{label} lr={lr:g}", {"optimizer": name, "lr": lr, "optimizer_kwargs": extra}))
        return out
    if kind == "activations":
        return [Variant(n, ACTIVATIONS[n], {"activation": n}) for n in _pick(ACTIVATIONS, names, kind)]
    if kind == "init":
        table = dict(INITIALISERS)
        if names is not None:  # any initialiser of digitnet.nn.init may be named
            from digitnet.nn import init

            for n in names:
                init.get(n)
                table.setdefault(n, n)
        return [Variant(n, table[n], {"init": n}) for n in _pick(table, names, kind)]
    if kind == "batch-size":
        sizes = _numbers(BATCH_SIZES if names is None else names, kind, _int)
        return [Variant(f"b{b}", f"batch {b}", {"batch_size": b}) for b in sizes]
    if kind == "lr":
        rates = _numbers(LEARNING_RATES if names is None else names, kind, float)
        return [Variant(f"lr{r:g}", f"lr={r:g}", {"lr": r}) for r in rates]
    raise ValueError(f"unknown study {kind!r}; expected one of: loops, {', '.join(KINDS)}")


def _int(v):
    if isinstance(v, float) and not v.is_integer():
        raise ValueError(v)
    return int(v)
