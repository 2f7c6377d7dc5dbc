"""THE inference path: any picture -> digit, 10 calibrated probabilities, and a "not a digit" verdict.

    rec = digitnet.Recognizer.load("runs/main")          # a model file or a run folder
    [r] = rec.predict(["seven.png"])                      # paths, PIL images, arrays (any size, polarity)
    r.digit, r.probabilities, r.not_a_digit, r.score, r.reason

Per image:

1. ink checks on the raw image (``rejection.ink_reason``: "blank", "too little ink"), when the model
   has a rejection config;
2. ``preprocess.to_mnist``: crop to the ink, fit in 20x20, centre by mass in 28x28 (skipped by
   ``predict_mnist_style`` for images that are MNIST-style already, e.g. the MNIST test set);
3. the network's logits z (10, or 11 with a "not a digit" output), averaged over the image and its
   rotated copies when the model file records test-time views (``test_time``);
4. probabilities p = softmax(z[:10] / T), T from ``model.calibration`` (1 when absent);
5. the not-a-digit score of ``rejection.scores``, rejected when above the fitted threshold.

``digitnet predict``, ``digitnet evaluate`` and the drawing app all go through this class. A model file
without calibration or rejection fields gives exactly the old answers (T = 1, never rejects).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from digitnet import calibration, digitmodel, rejection, test_time


@dataclass
class Prediction:
    """One image's answer. ``digit`` is the most probable digit (given even when ``not_a_digit``)."""

    digit: int | None
    probabilities: list | None  # 10 floats summing to 1 (None if the network's output was not finite)
    not_a_digit: bool
    score: float | None  # not-a-digit score (higher = less like a digit); None without rejection
    reason: str | None  # why it was rejected ("blank", "too little ink", ...), else None
    blank: bool = False

    @property
    def confidence(self) -> float | None:
        return None if self.probabilities is None else max(self.probabilities)

    def to_dict(self) -> dict:
        return {
            "prediction": self.digit,
            "confidence": self.confidence,
            "not_a_digit": self.not_a_digit,
            "score": self.score,
            "reason": self.reason,
            "blank": self.blank,
            "probabilities": None if self.probabilities is None else [round(p, 6) for p in self.probabilities],
        }


def output_count(model) -> int | None:
    shape = model.layers[-1].output_shape if model.layers else None
    return int(shape[0]) if shape and len(shape) == 1 else None


def check_digit_model(model) -> None:
    """A digit model (28x28 inputs; 10 outputs, or 11 when ``rejection.reject_class == 10``: see
    digitnet.digitmodel) whose calibration and rejection objects this module can apply."""
    digitmodel.check_digit_model(model)
    calibration.check(getattr(model, "calibration", None) or {})
    rejection.check(getattr(model, "rejection", None) or {})
    test_time.rotations(model)


def load_model(path, compile: bool = False):
    """A model from a .npz file or a run folder holding model.npz (with its calibration and rejection)."""
    return digitmodel.load(path, compile=compile)


class Recognizer:
    """A digit model with its preprocessing, temperature and rejection rule (see the module docstring)."""

    def __init__(self, model, path=None, views: bool = True):
        """``views=False`` answers from the image alone, ignoring the model file's test-time views."""
        check_digit_model(model)
        self.model = model
        self.path = None if path is None else str(path)
        self.temperature = calibration.temperature(model)
        self.rejection = rejection.check(getattr(model, "rejection", None) or {})
        self.rotations = test_time.rotations(model) if views else ()

    @classmethod
    def load(cls, path, views: bool = True) -> "Recognizer":
        return cls(load_model(path), path, views)

    # --- the steps ------------------------------------------------------------
    @staticmethod
    def _image(item):
        """A path is opened; PIL images and arrays pass through."""
        from digitnet.data.preprocess import load_image

        if isinstance(item, (str, os.PathLike)):
            return load_image(item)
        return item

    def prepare(self, images) -> tuple[np.ndarray, list]:
        """(MNIST-style (N, 28, 28) float32, [ink reason or None per image], [blank per image])."""
        from digitnet.data.preprocess import is_blank, to_mnist

        if isinstance(images, np.ndarray) and (images.ndim == 2 or (images.ndim == 3 and images.shape[-1] in (3, 4))):
            images = [images]  # one picture (H, W) or (H, W, C); a 3-D stack (N, H, W) is N pictures
        elif isinstance(images, (str, os.PathLike)) or not hasattr(images, "__iter__"):
            images = [images]
        out, reasons, blanks = [], [], []
        for item in images:
            image = self._image(item)
            reasons.append(rejection.ink_reason(image, self.rejection))
            blanks.append(bool(is_blank(image)))
            out.append(to_mnist(image))
        return (np.stack(out) if out else np.zeros((0, 28, 28), np.float32)), reasons, blanks

    def logits(self, images28) -> np.ndarray:
        """Network outputs (N, 10 or 11) for MNIST-style images (N, 28, 28), uint8 or floats in [0, 1]:
        the raw logits, averaged over the test-time views when the model has them."""
        return test_time.averaged_logits(self.network_logits, images28, self.rotations)

    def logits_from_network(self, network_logits, images28) -> np.ndarray:
        """``logits`` when the network's outputs for the images themselves are already at hand (only the
        rotated views are run)."""
        return test_time.averaged_logits(self.network_logits, images28, self.rotations, network_logits)

    def network_logits(self, images28) -> np.ndarray:
        """The network's raw outputs (N, 10 or 11) for the images themselves (no test-time views)."""
        from digitnet.data.inputs import model_inputs

        x = model_inputs(np.asarray(images28), self.model, {"scale": 1 / 255, "layout": "image"})
        return np.asarray(self.model.predict_logits(x), dtype=np.float64)

    def answer(self, logits, ink_reasons=None, blanks=None) -> list[Prediction]:
        """Predictions from outputs (N, 10 or 11) and the ink checks' reasons."""
        proba = self.probabilities_from_logits(logits)
        score = rejection.scores(logits, self.rejection, self.temperature)
        threshold = self.rejection.get("threshold")
        results = []
        for i in range(len(logits)):
            ink = ink_reasons[i] if ink_reasons is not None else None
            blank = bool(blanks[i]) if blanks is not None else False
            if not np.isfinite(logits[i]).all():
                results.append(Prediction(None, None, True, None, "the network's output is not finite", blank))
                continue
            s = float(score[i]) if self.rejection else None
            by_score = threshold is not None and s is not None and s > threshold
            why = ink or (rejection.reason(self.rejection["method"]) if by_score else None)
            results.append(
                Prediction(
                    int(proba[i].argmax()),
                    proba[i].tolist(),
                    why is not None,
                    None if s is None else round(s, 6),
                    why,
                    blank,
                )
            )
        return results

    def probabilities_from_logits(self, logits) -> np.ndarray:
        """softmax(z[:10] / T), (N, 10) float64."""
        return calibration.softmax(calibration.digit_logits(logits), self.temperature)

    def probabilities(self, images28) -> np.ndarray:
        """The 10 digit probabilities (N, 10) of MNIST-style images (N, 28, 28), views and temperature applied."""
        return self.probabilities_from_logits(self.logits(images28))

    # --- the entry points -----------------------------------------------------
    def predict(self, images) -> list[Prediction]:
        """One Prediction per image: file paths, PIL images or arrays (H, W) / (H, W, C), any size and polarity.

        ``images`` is a list of those, a single one, or a stack (N, H, W) of grayscale pictures."""
        images28, reasons, blanks = self.prepare(images)
        if not len(images28):
            return []
        return self.answer(self.logits(images28), reasons, blanks)

    def predict_mnist_style(self, images28) -> list[Prediction]:
        """Predictions for images that are MNIST-style already ((N, 28, 28), e.g. the MNIST test set)."""
        images28 = np.asarray(images28)
        reasons = [rejection.ink_reason(im, self.rejection) for im in images28] if self.rejection else None
        return self.answer(self.logits(images28), reasons)

    def verdicts(self, images28, raw_images=None) -> dict:
        """Arrays for evaluation: {"logits", "proba" (N, 10), "score" (N,), "rejected" (N,), "reason" [str|None]}."""
        images28 = np.asarray(images28)
        sources = images28 if raw_images is None else raw_images
        reasons = [rejection.ink_reason(im, self.rejection) for im in sources]
        logits = self.logits(images28)
        results = self.answer(logits, reasons)
        proba = np.array([r.probabilities if r.probabilities is not None else [0.1] * 10 for r in results])
        score = np.array([np.nan if r.score is None else r.score for r in results])
        return {
            "logits": logits,
            "proba": proba,
            "score": score,
            "rejected": np.array([r.not_a_digit for r in results], dtype=bool),
            "reason": [r.reason for r in results],
        }
