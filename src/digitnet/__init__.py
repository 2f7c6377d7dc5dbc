"""digitnet: neural networks from scratch in NumPy, for handwritten-digit recognition."""

__version__ = "0.1.0"
