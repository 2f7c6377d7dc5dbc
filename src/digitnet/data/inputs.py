"""Turn uint8 images into model inputs, following a JSON-able preprocessing spec a model file can record.

A spec is a plain dict, for example ``{"scale": 1/255, "layout": "image"}``::

    x = images * scale            (integer images only: float images are taken to be in [0, 1] already)
    x = centre_by_mass(x)         (only with "centre": "mass": each image moved by whole pixels so its
                                   centre of mass lands on the middle, as preprocess.to_mnist places it)
    x = (x - mean) / std          ("mean" and "std" are optional, default 0 and 1)
    layout "image" -> (N, 1, H, W)    layout "flat" -> (N, H*W)

Other keys (e.g. "augment", recorded by training) are informational and ignored here.
"""

from __future__ import annotations

import math

import numpy as np

LAYOUTS = ("image", "flat")
DEFAULT_PREPROCESSING = {"scale": 1 / 255, "layout": "image"}  # uint8 (N, 28, 28) -> float (N, 1, 28, 28) in [0, 1]


CENTRES = ("none", "mass")


def centre_by_mass(stack: np.ndarray) -> np.ndarray:
    """(N, H, W) images translated by whole pixels (zero fill) so each centre of mass lands on (H/2, W/2).

    offset = round((H/2, W/2) - (sum_r r I / sum I, sum_c c I / sum I)); blank images are left as they are.
    Images sharing an offset are moved together by one slice copy (a loop over offsets, not images).
    """
    n, h, w = stack.shape
    mass = stack.sum(axis=(1, 2))
    safe = np.where(mass > 0, mass, 1.0)
    com_r = (stack.sum(axis=2) @ np.arange(h, dtype=stack.dtype)) / safe
    com_c = (stack.sum(axis=1) @ np.arange(w, dtype=stack.dtype)) / safe
    dr = np.where(mass > 0, np.rint(h / 2 - com_r), 0).astype(np.int64).clip(-h, h)
    dc = np.where(mass > 0, np.rint(w / 2 - com_c), 0).astype(np.int64).clip(-w, w)
    out = stack.copy()
    moved = (dr != 0) | (dc != 0)
    for r, c in set(zip(dr[moved].tolist(), dc[moved].tolist())):  # a few distinct offsets, not N images
        pick = np.flatnonzero(moved & (dr == r) & (dc == c))
        out[pick] = 0
        out[pick, max(r, 0) : h + min(r, 0), max(c, 0) : w + min(c, 0)] = stack[
            pick, max(-r, 0) : h + min(-r, 0), max(-c, 0) : w + min(-c, 0)
        ]
    return out


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
    centre = spec.get("centre", "none")
    if centre not in CENTRES:
        raise ValueError(f"spec centre must be one of {CENTRES}, got {centre!r}")
    if centre == "mass":
        x = centre_by_mass(x.reshape((images.shape[0], h, w))).reshape(x.shape)
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
