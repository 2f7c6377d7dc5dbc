"""The model's input preprocessing as ONNX nodes: raw image (N, 1, H, W), values 0..255 -> model input.

Follows ``digitnet.data.inputs.apply_spec`` for integer images, key by key:

    x = image * scale                     "scale" (default 1/255)
    x = centre_by_mass(x)                 only with "centre": "mass" (see below)
    x = (x - mean) / std                  "mean", "std" (default 0 and 1)
    reshape to (N, *model.input_shape)    "layout" image (N, 1, H, W) or flat (N, H*W)

"augment" is a record of training and changes nothing at inference. "test_time_rotations" (the
Recognizer's test-time views, digitnet.test_time) is left out of the graph, which answers from each
image alone, as ``digitnet evaluate --no-tta`` does; ``digitnet export`` says so when it writes one.
Any other key is refused (ExportError naming it) rather than silently left out of the graph.

Centre by mass moves each image by whole pixels, filling with 0, so its centre of mass lands on
(H/2, W/2); blank images stay as they are:

    m = sum x      r = sum_rows r * x / m      c = sum_cols c * x / m
    dr = round(H/2 - r), dc = round(W/2 - c)   (0 when m = 0; clipped to [-H, H], [-W, W]; ties to even)
    out[n, 0, i, j] = pad(x)[n, 0, H - dr + i, W - dc + j]     pad: H rows / W columns of zeros each side

The two gathers are GatherElements along the rows, then the columns (opset 13 has no per-sample shift).
"""

from __future__ import annotations

import math

import numpy as np

from digitnet.data.inputs import LAYOUTS, preprocessing_spec
from digitnet.export.layers import ExportError

KNOWN_KEYS = {"scale", "mean", "std", "layout", "centre", "augment", "test_time_rotations"}
CENTRES = ("none", "mass")


def checked_spec(model) -> dict:
    """The model's preprocessing spec (default: scale 1/255, images), validated for export."""
    spec = dict(model.preprocessing or preprocessing_spec("image"))
    unknown = sorted(set(spec) - KNOWN_KEYS)
    if unknown:
        raise ExportError(
            f"cannot export preprocessing key(s) {', '.join(map(repr, unknown))}: "
            f"the exporter knows {', '.join(sorted(KNOWN_KEYS))}"
        )
    for key, default in (("scale", 1 / 255), ("mean", 0.0), ("std", 1.0)):
        v = spec.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ExportError(f"preprocessing {key} must be a finite number, got {v!r}")
        spec[key] = float(v)
    if spec["std"] <= 0:
        raise ExportError(f"preprocessing std must be positive, got {spec['std']!r}")
    if spec.get("layout", "image") not in LAYOUTS:
        raise ExportError(f"preprocessing layout must be one of {LAYOUTS}, got {spec.get('layout')!r}")
    if spec.get("centre", "none") not in CENTRES:
        raise ExportError(f"preprocessing centre must be one of {CENTRES}, got {spec.get('centre')!r}")
    return spec


def preprocessing(g, model, x: str, image_hw) -> str:
    """Nodes from the raw image tensor ``x`` (N, 1, H, W) to the model's input; returns its name."""
    spec = checked_spec(model)
    if spec["scale"] != 1.0:
        x = g.node("Mul", [x, g.constant("preprocess.scale", spec["scale"])], "preprocess.scaled")
    if spec.get("centre", "none") == "mass":
        x = centre_by_mass(g, x, *image_hw)
    if spec["mean"] != 0.0:
        x = g.node("Sub", [x, g.constant("preprocess.mean", spec["mean"])], "preprocess.centred")
    if spec["std"] != 1.0:
        x = g.node("Div", [x, g.constant("preprocess.std", spec["std"])], "preprocess.standardised")
    if len(model.input_shape) != 3:  # layout "flat" or a 2-D input: (N, 1, H, W) -> (N, *input_shape)
        shape = g.constant("preprocess.shape", [0] + list(model.input_shape), np.int64)
        x = g.node("Reshape", [x, shape], "preprocess.input")
    return x


def _offset(g, x, mass, positive, axes, size, arange, what):
    """round(size/2 - centre of mass along one axis), 0 for blank images, as int64 (N,)."""
    profile = g.node(
        "ReduceSum", [x, g.constant(f"centre.{what}_axes", axes, np.int64)], f"centre.{what}_profile", keepdims=0
    )  # (N, size)
    safe = g.node("Where", [positive, mass, g.constant("centre.one", 1.0)], f"centre.{what}_mass")
    com = g.node("Div", [g.node("MatMul", [profile, arange], f"centre.{what}_moment"), safe], f"centre.{what}_com")
    shift = g.node(
        "Round", [g.node("Sub", [g.constant(f"centre.{what}_half", size / 2), com], f"centre.{what}")], f"centre.{what}"
    )
    shift = g.node("Where", [positive, shift, g.constant("centre.zero", 0.0)], f"centre.{what}")
    shift = g.node(
        "Clip",
        [shift, g.constant(f"centre.{what}_min", -size), g.constant(f"centre.{what}_max", size)],
        f"centre.{what}",
    )
    return g.node("Cast", [shift], f"centre.{what}_shift", to=g.onnx.TensorProto.INT64)


def centre_by_mass(g, x: str, h: int, w: int) -> str:
    """(N, 1, H, W) -> the same images moved by whole pixels to centre their mass (module docstring)."""
    mass = g.node("ReduceSum", [x, g.constant("centre.all_axes", [1, 2, 3], np.int64)], "centre.mass", keepdims=0)
    positive = g.node("Greater", [mass, g.constant("centre.zero", 0.0)], "centre.has_ink")
    dr = _offset(g, x, mass, positive, [1, 3], h, g.constant("centre.rows", np.arange(h)), "row")
    dc = _offset(g, x, mass, positive, [1, 2], w, g.constant("centre.cols", np.arange(w)), "col")
    padded = g.node("Pad", [x, g.constant("centre.pads", [0, 0, h, w, 0, 0, h, w], np.int64)], "centre.padded")

    def indices(shift, size, arange_shape, expand_to, what):
        start = g.node("Sub", [g.constant(f"centre.{what}_size", size, np.int64), shift], f"centre.{what}_start")
        start = g.node(
            "Unsqueeze", [start, g.constant(f"centre.{what}_unsqueeze", [1, 2, 3], np.int64)], f"centre.{what}_start"
        )  # (N, 1, 1, 1)
        index = g.node(
            "Add",
            [start, g.constant(f"centre.{what}_arange", np.arange(size).reshape(arange_shape), np.int64)],
            f"centre.{what}_index",
        )
        return g.node(
            "Expand", [index, g.constant(f"centre.{what}_expand", expand_to, np.int64)], f"centre.{what}_index"
        )

    rows = indices(dr, h, (1, 1, h, 1), [1, 1, 1, 3 * w], "row")  # (N, 1, H, 3W)
    x = g.node("GatherElements", [padded, rows], "centre.rows_taken", axis=2)
    cols = indices(dc, w, (1, 1, 1, w), [1, 1, h, 1], "col")  # (N, 1, H, W)
    return g.node("GatherElements", [x, cols], "centre.centred", axis=3)
