"""Loading a model file as a digit recogniser: the library's one checked way from a path to a model.

    model = load("runs/lenet5")        # a run folder holding model.npz, or a .npz file

On top of ``digitnet.nn``'s checked file loading (schema, sizes, finite weights), a digit model must
take 28x28 = 784-value inputs and give 10 outputs, or 11 when its ``rejection`` object says
``"reject_class": 10`` (an extra "not a digit" output), and its ``preprocessing`` spec must be one
``digitnet.data.inputs`` can apply (layout "image" or "flat"; scale, mean finite numbers; std > 0).
Anything else is a one-line ``ModelFileError``.
"""

from __future__ import annotations

import math

from digitnet.data.inputs import LAYOUTS
from digitnet.nn import ModelFileError, Sequential
from digitnet.runs import model_file

IMAGE_VALUES = 28 * 28


def expected_outputs(model) -> int:
    """10, or 11 when the model's rejection object names output 10 as the "not a digit" class."""
    rejection = getattr(model, "rejection", None) or {}
    return 11 if rejection.get("reject_class") == 10 else 10


def check_digit_model(model, path="model") -> None:
    """Raise ModelFileError unless ``model`` takes 28x28 images and has the digit outputs."""
    shape = tuple(model.input_shape or ())
    if math.prod(shape) != IMAGE_VALUES:
        raise ModelFileError(
            f"{path}: model takes inputs of shape {shape}; a digit model takes 28x28 = {IMAGE_VALUES} values"
        )
    out = model.layers[-1].output_shape if model.layers else shape
    want = expected_outputs(model)
    if tuple(out) != (want,):
        extra = " (rejection.reject_class is 10)" if want == 11 else " (or 11 with rejection.reject_class 10)"
        raise ModelFileError(f"{path}: model has output shape {tuple(out)}; a digit model has {want} outputs{extra}")


def check_preprocessing(spec, path="model") -> None:
    """Raise ModelFileError unless ``spec`` (a model's preprocessing) can be applied to images."""
    if spec.get("layout", "image") not in LAYOUTS:
        raise ModelFileError(f"{path}: preprocessing.layout is {spec.get('layout')!r}; expected one of {LAYOUTS}")
    for key, default in (("scale", 1 / 255), ("mean", 0.0), ("std", 1.0)):
        value = spec.get(key, default)
        number = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
        if not number or abs(value) > 1e6 or (key == "std" and value <= 0):
            expected = "a number in (0, 1e6]" if key == "std" else "a finite number of magnitude <= 1e6"
            raise ModelFileError(f"{path}: preprocessing.{key} is {value!r}; expected {expected}")


def load(path, compile: bool = True):
    """The digit model in a run folder or .npz file, fully checked."""
    path = model_file(path)
    model = Sequential.load(path, compile=compile)
    check_digit_model(model, path)
    check_preprocessing(model.preprocessing or {}, path)
    return model
