"""What each JSON endpoint does, apart from HTTP (digitnet.app.server does the transport).

    POST /api/predict            {"image": data URL} or {"pixels": 2-D array}, optional "threshold"
                                 -> {"models": [{"name", "probabilities", "prediction", "confidence",
                                                  "unsure", "not_a_digit", "score", "reason", "saliency"}],
                                     "input": 28x28, "blank", "threshold"}
    GET  /api/models             -> {"models": [...], "threshold", "save_dir", "testset": {...}}
    GET  /api/testset/N          -> {"index", "label", "image", "models": [{"name", "prediction", ...}]}
    GET  /api/testset/mistakes?model=NAME[&offset=K]  -> {"model", "indices", "count", "accuracy",
                                 "page": [{"index", "label", "prediction", "confidence", "image"}...]}
    POST /api/save               {"image": data URL, "label": 0-9} -> {"file", "folder", "count"}
    POST /api/insides            {"image" or "pixels", "model": NAME} -> {"model", "input", "layers": [...]}
                                 (every layer's output: digitnet.app.insides)

The drawing goes through the same preprocessing as ``digitnet predict``
(``digitnet.data.preprocess.to_mnist``) and the same rules as ``digitnet predict``
(``digitnet.Recognizer``: temperature, "not a digit" with its reason when the model file has rejection
settings); a prediction is "unsure" when the drawing is blank, not a digit, or the top probability
is below the threshold. Problems raise ``ApiError(status, message)``.
"""

from __future__ import annotations

import csv
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

import atomicfile
from digitnet.app import images
from digitnet.app.testset import TestSet, TestSetUnavailable


class ApiError(Exception):
    """An HTTP error answer: ``status`` and a message naming the problem."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _preprocess(drawing) -> tuple[np.ndarray, bool]:
    """(28x28 float32 in [0, 1] as the models see it, whether the drawing is blank)."""
    from digitnet.data.preprocess import is_blank, to_mnist

    if is_blank(drawing):
        return np.zeros((28, 28), np.float32), True
    return np.asarray(to_mnist(drawing), dtype=np.float32), False


def _short(value) -> str:
    """repr(value), cut to 60 characters (a request may send a 4,000-digit number)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_threshold(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ApiError(400, f"'threshold' must be a number between 0 and 1, got {_short(value)}")
    return float(value)


@dataclass(frozen=True)
class SaveLimits:
    """Quotas on ``POST /api/save`` (``digitnet draw --save-rate/--save-quota``)."""

    per_minute: int = 60  # saves accepted in any 60 s window
    max_file_bytes: int = 256 * 1024  # one saved drawing (the page's canvas PNG is ~10 kB)
    quota_bytes: int = 50 * 1024 * 1024  # all drawings in save_dir together
    max_files: int = 10_000  # drawings in save_dir


def _folder_usage(folder: Path) -> tuple[int, int]:
    """(files, bytes) of the PNGs directly in ``folder``."""
    files = size = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".png") and entry.is_file(follow_symlinks=False):
                    files += 1
                    size += entry.stat(follow_symlinks=False).st_size
    except OSError:
        pass
    return files, size


class DrawingApp:
    """The state behind the endpoints: models, threshold, test set and the folder drawings are saved to."""

    def __init__(
        self,
        models,
        testset: TestSet | None = None,
        threshold: float = 0.6,
        save_dir="drawings",
        save_limits: SaveLimits | None = None,
    ):
        if not models:
            raise ValueError("the drawing app needs at least one model")
        self.models = list(models)
        self.by_name = {m.name: m for m in self.models}
        self.threshold = _check_threshold(threshold)
        self.testset = testset
        self.save_dir = Path(save_dir)
        self.save_limits = save_limits or SaveLimits()
        self._save_lock = threading.Lock()
        self._save_times: deque = deque()
        self._usage = None  # (files, bytes) in save_dir, counted on the first save

    # --- requests ------------------------------------------------------
    @staticmethod
    def _object(body) -> dict:
        if not isinstance(body, dict):
            raise ApiError(400, f"request body must be a JSON object, got {type(body).__name__}")
        return body

    def _drawing(self, body: dict):
        """The decoded PIL image in a request's "image" field, or the array in its "pixels" field."""
        if ("image" in body) == ("pixels" in body):
            raise ApiError(400, "send exactly one of 'image' (a data URL) or 'pixels' (a 2-D array)")
        try:
            if "image" in body:
                return images.decoded(images.decode_data_url(body["image"])[1])
            return images.pixels_to_array(body["pixels"])
        except images.BadInput as exc:
            raise ApiError(400, str(exc)) from None

    # --- endpoints -----------------------------------------------------
    def models_info(self) -> dict:
        testset = (
            self.testset.status()
            if self.testset is not None
            else {"available": False, "size": 0, "error": "no test set was configured"}
        )
        return {
            "models": [m.describe() for m in self.models],
            "threshold": self.threshold,
            "save_dir": str(self.save_dir.resolve()),
            "testset": testset,
        }

    def predict(self, body) -> dict:
        body = self._object(body)
        unknown = set(body) - {"image", "pixels", "threshold"}
        if unknown:
            raise ApiError(400, f"unknown field(s) {sorted(unknown)}; expected 'image' or 'pixels', and 'threshold'")
        threshold = _check_threshold(body["threshold"]) if "threshold" in body else self.threshold
        drawing = self._drawing(body)
        image28, blank = _preprocess(drawing)
        answers = []
        for model in self.models:
            probabilities, saliency, verdict = model.answer_drawing(image28, drawing)
            top = int(probabilities.argmax())
            confidence = float(probabilities[top])
            answers.append(
                {
                    "name": model.name,
                    "probabilities": np.round(probabilities, 4).tolist(),
                    "prediction": top,
                    "confidence": confidence,
                    "unsure": bool(blank or verdict.not_a_digit or confidence < threshold),
                    "not_a_digit": verdict.not_a_digit,
                    "score": verdict.score,
                    "reason": verdict.reason,
                    "saliency": images.round_significant(saliency),
                }
            )
        return {"models": answers, "input": np.round(image28, 3).tolist(), "blank": blank, "threshold": threshold}

    def insides(self, body) -> dict:
        """Every layer's activations of one model for a drawing (the page's layer view)."""
        from digitnet.app import insides

        body = self._object(body)
        unknown = set(body) - {"image", "pixels", "model"}
        if unknown or "model" not in body:
            raise ApiError(
                400,
                "send {'image' or 'pixels', 'model': NAME}"
                + (f"; unknown field(s) {sorted(unknown)}" if unknown else ""),
            )
        model = self.by_name.get(body["model"]) if isinstance(body["model"], str) else None
        if model is None:
            raise ApiError(404, f"unknown model {body['model']!r}; loaded models: {', '.join(self.by_name)}")
        image28, blank = _preprocess(self._drawing(body))
        return {
            "model": model.name,
            "blank": blank,
            "input": np.round(image28, 3).tolist(),
            "layers": insides.activations(model, image28),
        }

    def _testset(self) -> TestSet:
        if self.testset is None:
            raise ApiError(503, "no test set was configured for this server")
        return self.testset

    def testset_item(self, index_text: str) -> dict:
        shown = index_text[:20] + ("..." if len(index_text) > 20 else "")
        if not (index_text.isascii() and index_text.isdigit()):
            raise ApiError(400, f"test image index must be a non-negative integer, got {shown!r}")
        if len(index_text) > 9:
            raise ApiError(404, f"test image index {shown} is out of range")
        try:
            return self._testset().item(int(index_text), self.models)
        except TestSetUnavailable as exc:
            raise ApiError(503, str(exc)) from None
        except IndexError as exc:
            raise ApiError(404, str(exc)) from None

    def testset_mistakes(self, query: dict) -> dict:
        names = query.get("model", [])
        if len(names) != 1:
            raise ApiError(400, "give exactly one model: /api/testset/mistakes?model=NAME")
        model = self.by_name.get(names[0])
        if model is None:
            raise ApiError(404, f"unknown model {names[0]!r}; loaded models: {', '.join(self.by_name)}")
        offset_text = query.get("offset", ["0"])[0]
        if not offset_text.isdigit():
            raise ApiError(400, f"'offset' must be a non-negative integer, got {offset_text!r}")
        try:
            return self._testset().mistakes(model, offset=int(offset_text))
        except TestSetUnavailable as exc:
            raise ApiError(503, str(exc)) from None

    def save(self, body) -> dict:
        """Write the drawing as ``<timestamp>_<label>.png`` and append ``file,label`` to labels.csv."""
        body = self._object(body)
        unknown = set(body) - {"image", "label"}
        if unknown or "image" not in body or "label" not in body:
            raise ApiError(
                400,
                "send {'image': data URL, 'label': digit 0-9}"
                + (f"; unknown field(s) {sorted(unknown)}" if unknown else ""),
            )
        label = body["label"]
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label <= 9:
            raise ApiError(400, f"'label' must be an integer digit 0-9, got {_short(label)}")
        try:
            raw, img = images.decode_data_url(body["image"])
            is_png = img.format == "PNG"
            img = images.decoded(img)  # decodes fully: a damaged file is refused, not saved
        except images.BadInput as exc:
            raise ApiError(400, str(exc)) from None
        data = raw if is_png else images.png_bytes(img)  # the drawing exactly as the page sent it
        limits = self.save_limits
        if len(data) > limits.max_file_bytes:
            raise ApiError(
                413,
                f"the drawing is {len(data)} bytes as PNG; the limit per saved drawing is "
                f"{limits.max_file_bytes} bytes",
            )
        with self._save_lock:
            now = time.monotonic()
            while self._save_times and now - self._save_times[0] > 60:
                self._save_times.popleft()
            if len(self._save_times) >= limits.per_minute:
                raise ApiError(429, f"too many saves: the limit is {limits.per_minute} per minute")
            if self._usage is None:
                self._usage = _folder_usage(self.save_dir)
            files, used = self._usage
            if files + 1 > limits.max_files or used + len(data) > limits.quota_bytes:
                raise ApiError(
                    507,
                    f"the save folder's quota is full ({files} drawings, {used} bytes; limits "
                    f"{limits.max_files} drawings, {limits.quota_bytes} bytes)",
                )
            try:
                return self._write_drawing(data, label, now, files, used)
            except OSError as exc:
                raise ApiError(
                    507, f"could not save the drawing in {self.save_dir}: {exc.strerror or type(exc).__name__}"
                ) from None

    def _write_drawing(self, data: bytes, label: int, now: float, files: int, used: int) -> dict:
        """Write the PNG (atomically) and its labels.csv row; the caller holds the save lock."""
        self.save_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = self.save_dir / f"{stamp}_{label}.png"
        k = 2
        while path.exists():
            path, k = self.save_dir / f"{stamp}-{k}_{label}.png", k + 1
        atomicfile.write(path, lambda f: f.write(data))
        self._save_times.append(now)
        self._usage = (files + 1, used + len(data))
        table = self.save_dir / "labels.csv"
        new_table = not table.exists() or table.stat().st_size == 0
        with open(table, "a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            if new_table:
                writer.writerow(["file", "label"])
            writer.writerow([path.name, label])
        with open(table, newline="", encoding="utf-8") as f:
            count = sum(1 for _ in f) - 1
        return {"file": path.name, "folder": str(self.save_dir.resolve()), "label": label, "count": count}
