"""Check an exported file against digitnet: run it with onnxruntime and compare probabilities.

    expected  = reference_probabilities(model, images)     # digitnet's own computation
    got       = run_onnx(path, images)                     # onnxruntime on the .onnx file
    max |got - expected|                                   # compare(...) returns it and more

``reference_probabilities`` is what the exported graph is meant to compute (onnx_model.py):
softmax(model.predict_logits(inputs) / T), or ``predict_proba``'s normalisation for a model that ends
in Softmax/Sigmoid (with p^(1/T) for T != 1). With T = 1 it is exactly ``model.predict_proba``.
"""

from __future__ import annotations

import numpy as np

from digitnet.data.inputs import model_inputs
from digitnet.export.onnx_model import INPUT, LOGITS, PROBABILITIES, temperature_of


def reference_probabilities(model, images) -> np.ndarray:
    """(N, C) float64: the calibrated probabilities digitnet gives for uint8 images (N, 28, 28)."""
    x = model_inputs(images, model)
    t = temperature_of(model)
    last = model.layers[-1].to_config()["class"] if model.layers else None
    if t == 1.0:
        return model.predict_proba(x)
    if last in ("Softmax", "Sigmoid"):
        p = model.predict_proba(x) ** (1.0 / t)
        return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
    z = model.predict_logits(x).astype(np.float64) / t
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=1, keepdims=True)


def onnx_session(path):
    try:
        import onnxruntime
    except ImportError:
        raise ImportError("checking an exported model needs onnxruntime: pip install 'digitnet[onnx]'") from None
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run_onnx(path_or_session, images) -> dict:
    """{"logits", "probabilities"} from onnxruntime for images (N, 28, 28) of raw values 0..255."""
    session = onnx_session(path_or_session) if not hasattr(path_or_session, "run") else path_or_session
    feed = {INPUT: np.asarray(images, dtype=np.float32)[:, None, :, :]}
    logits, probabilities = session.run([LOGITS, PROBABILITIES], feed)
    return {"logits": logits, "probabilities": probabilities}


def compare(model, path, images) -> dict:
    """How far the exported file's probabilities are from digitnet's on ``images`` (uint8 (N, 28, 28))."""
    expected = reference_probabilities(model, images)
    got = run_onnx(path, images)["probabilities"]
    diff = np.abs(got.astype(np.float64) - expected)
    return {
        "n": len(images),
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "same_predictions": int((got.argmax(axis=1) == expected.argmax(axis=1)).sum()),
    }
