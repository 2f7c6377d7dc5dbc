"""digitnet: neural networks from scratch in NumPy, for handwritten-digit recognition.

``digitnet.Recognizer`` (loaded on first use, so ``import digitnet`` stays light) reads digits from
file paths, PIL images or arrays and says "not a digit" when a model was trained to.
"""

__version__ = "0.1.0"
__all__ = ["Recognizer", "__version__"]


def __getattr__(name):
    if name in ("Recognizer", "Prediction"):
        from digitnet import recognizer

        return getattr(recognizer, name)
    raise AttributeError(f"module 'digitnet' has no attribute {name!r}")
