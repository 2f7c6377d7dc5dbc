"""The network's insides for one drawing: every layer's output, ready for the page's layer view.

    layers = activations(app_model, image28)      # image28: (28, 28) floats in [0, 1]
    layers[i] = {"index": i, "name": "3  Conv2D(in_channels=6, ...)", "type": "Conv2D",
                 "shape": [16, 8, 8], "kind": "maps", "maps": [PNG data URL, ...], "shown": 16,
                 "total": 16, "range": [lo, hi]}
             or {"kind": "bars", "values": [...], "shown": K, "total": F, "range": [lo, hi], ...}

The model runs layer by layer, ``y_i = layer_i.forward(y_{i-1})`` from the model's input ``y_0``,
exactly as ``Sequential.forward`` does (inference mode). Each layer's name is its row in
``model.summary()`` (index and ``layer.describe()``).

An output of shape (C, H, W) becomes "maps": one grayscale PNG per channel (at most ``max_maps``),
all channels of a layer on one scale, ``pixel = 255 (y - lo) / (hi - lo)`` with (lo, hi) the layer's
minimum and maximum, so brighter means larger on every tile of that layer. A flat output (F,)
becomes "bars": the first ``max_values`` numbers, rounded to 4 significant digits.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from digitnet.nn import backend

MAX_MAPS = 64  # channels shown per conv layer
MAX_VALUES = 512  # numbers shown per flat layer


def layer_names(model) -> list[str]:
    """Each layer's row in ``model.summary()``: "<index>  <describe()>"."""
    return [f"{i}  {layer.describe()}" for i, layer in enumerate(model.layers)]


def png_data_url(tile: np.ndarray) -> str:
    """A 2-D uint8 array as a grayscale PNG data URL."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(tile, dtype=np.uint8), mode="L").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _scaled(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """y as uint8 on the scale of its own minimum and maximum; (tiles, lo, hi)."""
    lo, hi = float(y.min()), float(y.max())
    span = hi - lo
    if not np.isfinite(span) or span <= 0:
        return np.zeros(y.shape, np.uint8), lo, hi
    return np.round(255 * (y - lo) / span).astype(np.uint8), lo, hi


def describe_output(
    index: int, name: str, layer_type: str, y: np.ndarray, max_maps: int = MAX_MAPS, max_values: int = MAX_VALUES
) -> dict:
    """One layer's entry for the page from its output ``y`` for one image (C, H, W) or (F,)."""
    entry = {"index": index, "name": name, "type": layer_type, "shape": list(y.shape)}
    if y.ndim == 3:
        shown = y[:max_maps]
        tiles, lo, hi = _scaled(shown)
        entry.update(
            kind="maps", maps=[png_data_url(t) for t in tiles], shown=len(tiles), total=int(y.shape[0]), range=[lo, hi]
        )
    else:
        flat = y.reshape(-1)
        shown = flat[:max_values].astype(np.float64)
        entry.update(
            kind="bars",
            values=[float(f"{v:.4g}") for v in shown],
            shown=int(shown.size),
            total=int(flat.size),
            range=[float(flat.min()), float(flat.max())],
        )
    return entry


def forward_each(model, x) -> list[np.ndarray]:
    """Every layer's output for a batch ``x`` (as NumPy arrays), running the layers one by one."""
    outputs = []
    y = backend.to_device(x, model.dtype)
    for layer in model.layers:
        y = layer.forward(y, training=False)
        outputs.append(np.array(backend.to_numpy(y)))  # a copy: layers may reuse their buffers
    return outputs


def activations(app_model, image28: np.ndarray, max_maps: int = MAX_MAPS, max_values: int = MAX_VALUES) -> list[dict]:
    """Every layer's output for one 28x28 image in [0, 1], as ``describe_output`` entries in layer order."""
    image28 = np.asarray(image28, dtype=np.float32)
    if image28.shape != (28, 28):
        raise ValueError(f"expected one 28x28 image, got shape {image28.shape}")
    model = app_model.model
    x = app_model.inputs(image28[None])
    with app_model.lock:
        outputs = forward_each(model, x)
    names = layer_names(model)
    return [
        describe_output(i, names[i], type(layer).__name__, out[0], max_maps, max_values)
        for i, (layer, out) in enumerate(zip(model.layers, outputs))
    ]
