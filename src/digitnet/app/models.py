"""The models the drawing app serves: finding them, feeding them a 28x28 image, explaining the answer.

    find_model_files(["runs/mlp", "cnn.npz"])   -> [("mlp", "runs/mlp/model.npz"), ("cnn", "cnn.npz")]
    AppModel.load(name, path)                   -> an AppModel
    app_model.answer(image28)                   -> probabilities (10,), saliency (28, 28)
    app_model.answer_drawing(image28, drawing)  -> the same and a digitnet.recognizer.Prediction ("not a digit")

Saliency is the gradient of the top class's logit with respect to the input pixels,

    saliency = d logit[k] / d x,   k = argmax(logits),

obtained by one ``model.forward(x)`` and one ``model.backward(onehot(k))``: red where more ink
would raise the score of k, blue where it would lower it.
"""

from __future__ import annotations

import math
import os
import threading

import numpy as np

from digitnet import digitmodel
from digitnet.nn import backend
from digitnet.runs import find_models, model_name

IMAGE_SIDE = 28


def find_model_files(paths, cwd=".") -> list[tuple[str, str]]:
    """(display name, model file) for each path given; with none, every ``runs/*/model.npz`` under ``cwd``.

    A path may be a model file, a run folder holding ``model.npz``, or a folder of run folders.
    The display name is the run folder's name for ``<run>/model.npz``, else the file's stem;
    repeated names get "-2", "-3", ...
    """
    files = find_models(list(paths), cwd) if paths else find_models(None, cwd)
    if not files:
        where = ", ".join(map(str, paths)) if paths else f"{os.path.abspath(cwd)}/runs/*/model.npz"
        raise ValueError(
            f"no trained models found ({where}): run 'digitnet train' first, or pass a model file or run folder"
        )
    named, used = [], set()
    for file in files:
        base = model_name(file)
        name, k = base, 2
        while name in used:
            name, k = f"{base}-{k}", k + 1
        used.add(name)
        named.append((name, file))
    return named


class AppModel:
    """One loaded model with its display name; calls are serialised (layers keep forward state)."""

    def __init__(self, name: str, model, path=None):
        shape = tuple(model.input_shape or ())
        if math.prod(shape) != IMAGE_SIDE * IMAGE_SIDE:
            raise ValueError(
                f"model {name!r} takes inputs of shape {shape}; the drawing app needs "
                f"{IMAGE_SIDE}x{IMAGE_SIDE} = {IMAGE_SIDE * IMAGE_SIDE} pixel inputs"
            )
        from digitnet.recognizer import Recognizer

        try:
            self.recognizer = Recognizer(model, path)
        except ValueError as exc:
            raise ValueError(f"model {name!r}: {exc}; the drawing app needs a digit model") from None
        self.name = name
        self.model = model
        self.path = None if path is None else str(path)
        self.lock = threading.Lock()

    @classmethod
    def load(cls, name: str, path) -> "AppModel":
        return cls(name, digitmodel.load(path, compile=False), path)

    def inputs(self, images: np.ndarray) -> np.ndarray:
        """Images (N, 28, 28), uint8 or floats in [0, 1] -> (N, *input_shape), as ``digitnet predict`` feeds them."""
        from digitnet.data.inputs import model_inputs

        return model_inputs(images, self.model)

    def answer(self, image28: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (10,), saliency (28, 28)) for one image (28, 28) in [0, 1] (temperature-calibrated)."""
        probabilities, saliency, _ = self._forward(image28)
        return probabilities, saliency

    def answer_drawing(self, image28: np.ndarray, drawing):
        """(probabilities (10,), saliency (28, 28), Prediction) for a raw drawing and its MNIST-style image
        ``image28`` (``to_mnist`` of it): one forward pass and one per test-time view, judged by the Recognizer's
        rule (temperature, the ink checks on the raw drawing, the not-a-digit threshold), as ``digitnet predict``
        judges a file."""
        from digitnet import rejection

        probabilities, saliency, logits = self._forward(image28)
        reasons = [rejection.ink_reason(drawing, self.recognizer.rejection)]
        return probabilities, saliency, self.recognizer.answer(logits.astype(np.float64), reasons)[0]

    def _forward(self, image28):
        """(probabilities (10,), saliency (28, 28), logits (1, outputs)) for one image (28, 28) in [0, 1]."""
        x = self.inputs(image28[None])
        with self.lock:
            logits = self.model.forward(backend.to_device(x, self.model.dtype), training=False)
            probabilities = self.recognizer.probabilities_from_logits(backend.to_numpy(logits))[0]
            top = int(probabilities.argmax())
            seed = backend.xp().zeros_like(logits)
            seed[0, top] = 1
            dx = self.model.backward(seed)
            logits = backend.to_numpy(logits)
            if self.recognizer.rotations:  # the answer averages the test-time views; saliency is of the image
                logits = self.recognizer.logits_from_network(logits, image28[None])
                probabilities = self.recognizer.probabilities_from_logits(logits)[0]
        return probabilities, backend.to_numpy(dx).reshape(IMAGE_SIDE, IMAGE_SIDE), logits

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Digit probabilities (N, 10) for images (N, 28, 28), uint8 or floats in [0, 1] (temperature-calibrated)."""
        with self.lock:
            return self.recognizer.probabilities(images)

    def describe(self) -> dict:
        """JSON-able facts shown on the page."""
        m = self.model
        return {
            "name": self.name,
            "path": self.path,
            "input_shape": list(m.input_shape),
            "temperature": self.recognizer.temperature,
            "rejection": self.recognizer.rejection.get("method"),
            "parameters": m.n_params(),
            "layers": [type(layer).__name__ for layer in m.layers],
            "metrics": m.metrics,
        }
