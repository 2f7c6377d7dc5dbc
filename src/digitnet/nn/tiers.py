"""The three tiers of digitnet.nn and how a model or the zoo picks one.

    loops       element by element (digitnet/nn/loops/): for reading, and to measure what vectorising buys
    reference   plain vectorised NumPy in NCHW (digitnet/nn/layers/, optim.py): textbook-short
    fast        the reference classes with tuned hot paths (digitnet/nn/fast/): the default

A class of a given name has the same constructor, parameters and get_config
in every tier, so a model file does not record (or depend on) the tier that
wrote it. A tier without its own class of some name uses the reference one.

    tiers.namespace("reference").Conv2D        the class
    tiers.convert(layer, "fast")               the same layer (parameters included) as another tier's class
    Sequential(layers, tier="reference")       every layer converted
    zoo.build("lenet5", tier="reference")
"""

from __future__ import annotations

import importlib

from digitnet.nn.layers.base import Layer

TIERS = ("loops", "reference", "fast")
DEFAULT = "fast"
_MODULES = {"loops": "digitnet.nn.loops", "reference": "digitnet.nn.reference", "fast": "digitnet.nn.fast"}


def check(tier: str) -> str:
    """``tier`` if it names a tier, else ValueError."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; expected one of: {', '.join(TIERS)}")
    return tier


def namespace(tier: str):
    """The module exporting ``tier``'s layers and optimisers under their usual names."""
    return importlib.import_module(_MODULES[check(tier)])


def layer_class(name: str, tier: str) -> type[Layer]:
    """``tier``'s layer class called ``name``."""
    cls = Layer.lookup(name, check(tier))
    if cls is None:
        raise ValueError(f"no layer class {name!r} in tier {tier!r}")
    return cls


def tiers_of(layer: Layer) -> set[str]:
    """The tiers whose class of this layer's name is the layer's class."""
    return {t for t in TIERS if Layer.lookup(type(layer).__name__, t) is type(layer)}


def convert(layer: Layer, tier: str) -> Layer:
    """``layer`` as ``tier``'s class: the same object if it already is, else a new layer with the same config,
    parameters, buffers and dtype."""
    cls = layer_class(type(layer).__name__, tier)
    if type(layer) is cls:
        return layer
    new = cls(**layer.get_config())
    if layer.built:
        new.input_shape, new.output_shape, new.dtype, new.built = (
            layer.input_shape,
            layer.output_shape,
            layer.dtype,
            True,
        )
        new.params = {k: v.copy() for k, v in layer.params.items()}
        new.buffers = {k: v.copy() for k, v in layer.buffers.items()}
        new.grads = {k: v.copy() for k, v in layer.grads.items()}
    new.rng = layer.rng
    return new


def model_tier(layers) -> str:
    """The tier a list of layers runs in: the default if every layer's class is its, else the one they share."""
    common = set(TIERS)
    for layer in layers:
        common &= tiers_of(layer)
    for tier in (DEFAULT, "reference", "loops"):
        if tier in common:
            return tier
    names = ", ".join(f"{type(layer).__name__} ({'/'.join(sorted(tiers_of(layer))) or 'custom'})" for layer in layers)
    raise ValueError(f"the layers come from different tiers: {names}; pass tier=... to Sequential to convert them")
