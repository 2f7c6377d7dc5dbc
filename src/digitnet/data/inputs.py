"""Turn uint8 images into model inputs, following a JSON-able preprocessing spec a model file can record.

A spec is a plain dict, for example ``{"scale": 1/255, "layout": "image"}``::

    x = images * scale            (integer images only: float images are taken to be in [0, 1] already)
    x = (x - mean) / std          ("mean" and "std" are optional, default 0 and 1)
    layout "image" -> (N, 1, H, W)    layout "flat" -> (N, H*W)

Other keys (e.g. "augment", recorded by training) are informational and ignored here.
"""

from __future__ import annotations

import math

import numpy as np

LAYOUTS = ("image", "flat")
DEFAULT_PREPROCESSING = {"scale": 1 / 255, "layout": "image"}  # uint8 (N, 28, 28) -> float (N, 1, 28, 28) in [0, 1]


def preprocessing_spec(layout: str = "image", scale: float = 1 / 255, mean: float = 0.0, std: float = 1.0) -> dict:
    """The spec for ``to_input``: a dict with only JSON types. mean/std are left out when 0 and 1."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if not std > 0:
        raise ValueError(f"std must be positive, got {std!r}")
    spec = {"scale": float(scale), "layout": layout}
    if mean != 0.0 or std != 1.0:
        spec.update(mean=float(mean), std=float(std))
    return spec


def _image_shape(images: np.ndarray) -> tuple[int, int]:
    if images.ndim == 3:
        return images.shape[1:]
    if images.ndim == 4 and images.shape[1] == 1:
        return images.shape[2:]
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side == images.shape[1]:
            return side, side
    raise ValueError(f"expected images (N, H, W), (N, 1, H, W) or flat square (N, H*W), got shape {images.shape}")


def apply_spec(images, spec: dict, dtype=np.float32) -> np.ndarray:
    """Images (N, H, W) [or (N, 1, H, W), (N, H*W)] -> model inputs as described by ``spec``."""
    images = np.asarray(images)
    layout = spec.get("layout", "image")
    if layout not in LAYOUTS:
        raise ValueError(f"spec layout must be one of {LAYOUTS}, got {layout!r}")
    h, w = _image_shape(images)
    x = images.astype(dtype)  # always a fresh array, safe to modify in place
    if images.dtype.kind in "ui":
        x *= spec.get("scale", 1 / 255)
    mean, std = spec.get("mean", 0.0), spec.get("std", 1.0)
    if mean != 0.0:
        x -= mean
    if std != 1.0:
        x /= std
    n = images.shape[0]
    return x.reshape((n, 1, h, w) if layout == "image" else (n, h * w))


def model_inputs(images, model, default_spec=None) -> np.ndarray:
    """Images (N, 28, 28), uint8 or floats in [0, 1], as the inputs ``model`` was trained on.

    Follows ``model.preprocessing`` (else ``default_spec``, else ``DEFAULT_PREPROCESSING``) and
    reshapes to (N, *model.input_shape) in the model's dtype. Needs only those three attributes.
    """
    spec = model.preprocessing or default_spec or DEFAULT_PREPROCESSING
    x = apply_spec(images, spec, dtype=model.dtype)
    return x if model.input_shape is None else x.reshape((x.shape[0],) + tuple(model.input_shape))


def to_input(images, layout: str = "image", dtype=np.float32) -> np.ndarray:
    """uint8 images (N, 28, 28) -> floats in [0, 1], shaped (N, 1, 28, 28) ("image") or (N, 784) ("flat")."""
    return apply_spec(images, preprocessing_spec(layout), dtype=dtype)
