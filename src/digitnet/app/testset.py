"""The "test set" tab: MNIST test images with every model's guess (the seed's ``viewtest``).

The images are loaded on first use through ``digitnet.data.load("mnist", split="test")``
(no download: the app never fetches data behind the user's back). Each model's predictions on
the whole set are computed once, when its mistakes are first asked for, and kept.

    testset = TestSet.from_mnist(data_dir)          # or TestSet(images, labels) in tests
    testset.item(7, models)      -> {"index", "label", "image" 28x28 0..255, "models": [...]}
    testset.mistakes(model)      -> indices the model gets wrong, and a page of them with thumbnails
"""

from __future__ import annotations

import threading

import numpy as np

PAGE = 120  # mistakes per page of the grid


class TestSetUnavailable(RuntimeError):
    """MNIST's test files are not where the app looked; the message says where and what to do."""


class TestSet:
    """Images (N, 28, 28) uint8 and labels (N,), or a loader that produces them on first use."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, images=None, labels=None, loader=None):
        if (images is None) != (labels is None) or (images is None and loader is None):
            raise ValueError("TestSet needs images and labels, or a loader")
        self._images, self._labels, self._loader = images, labels, loader
        self._error: str | None = None
        self._predictions: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_mnist(cls, data_dir=None) -> "TestSet":
        def loader():
            from digitnet.data import load

            return load("mnist", split="test", data_dir=data_dir, download=False)

        return cls(loader=loader)

    def _data(self) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            if self._images is None and self._error is None:
                try:
                    images, labels = self._loader()
                    self._images, self._labels = np.asarray(images), np.asarray(labels)
                except Exception as exc:  # any failure to load is reported on the tab, never fatal
                    self._error = (
                        f"the MNIST test set is not available ({exc}). Put the MNIST files in "
                        "the data folder (set DIGITNET_DATA or pass --data-dir), e.g. by running "
                        "'digitnet train' once, then restart 'digitnet draw'"
                    )
            if self._error is not None:
                raise TestSetUnavailable(self._error)
            return self._images, self._labels

    def status(self) -> dict:
        """{"available": bool, "size": N or 0, "error": message or None}."""
        try:
            images, _ = self._data()
        except TestSetUnavailable as exc:
            return {"available": False, "size": 0, "error": str(exc)}
        return {"available": True, "size": int(images.shape[0]), "error": None}

    def __len__(self) -> int:
        return int(self._data()[0].shape[0])

    def item(self, index: int, models) -> dict:
        """Image ``index`` with its label and each model's probabilities and guess."""
        images, labels = self._data()
        if not 0 <= index < images.shape[0]:
            raise IndexError(f"test image index {index} is out of range; expected 0..{images.shape[0] - 1}")
        image = images[index]
        label = int(labels[index])
        answers = []
        for model in models:
            p, saliency = model.answer(image.astype(np.float32) / 255)
            guess = int(p.argmax())
            answers.append(
                {
                    "name": model.name,
                    "prediction": guess,
                    "confidence": float(p[guess]),
                    "probabilities": np.round(p, 4).tolist(),
                    "correct": guess == label,
                    "saliency": np.round(saliency, 6).tolist(),
                }
            )
        return {
            "index": index,
            "size": int(images.shape[0]),
            "label": label,
            "image": image.astype(int).tolist(),
            "models": answers,
        }

    def predictions(self, model) -> tuple[np.ndarray, np.ndarray]:
        """The model's guess (N,) and its probability (N,) for every test image, computed once."""
        images, _ = self._data()
        if model.name not in self._predictions:
            proba = np.concatenate([model.probabilities(images[i : i + 1000]) for i in range(0, images.shape[0], 1000)])
            guesses = proba.argmax(axis=1)
            self._predictions[model.name] = (guesses, proba[np.arange(len(guesses)), guesses])
        return self._predictions[model.name]

    def mistakes(self, model, offset: int = 0, limit: int = PAGE) -> dict:
        """{"model", "indices": [...wrong...], "count", "accuracy", "offset", "page"} for one model.

        "page" holds mistakes ``offset .. offset + limit - 1`` (in test-set order) for the grid:
        {"index", "label", "prediction", "confidence", "image": 28x28 PNG data URL}.
        """
        from digitnet.app.insides import png_data_url

        guesses, confidence = self.predictions(model)
        images, labels = self._data()
        wrong = np.flatnonzero(guesses != labels)
        page = [
            {
                "index": int(i),
                "label": int(labels[i]),
                "prediction": int(guesses[i]),
                "confidence": float(confidence[i]),
                "image": png_data_url(images[i]),
            }
            for i in wrong[offset : offset + limit]
        ]
        return {
            "model": model.name,
            "indices": wrong.tolist(),
            "count": int(wrong.size),
            "accuracy": float(1 - wrong.size / max(labels.size, 1)),
            "offset": offset,
            "page": page,
        }
