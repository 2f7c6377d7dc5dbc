"""Synthetic out-of-MNIST test and training data: digits from handwriting fonts and pen strokes, and
"not a digit" negatives, each with a fixed train / heldout style split (docs/handwriting.md)."""

from digitnet.data.synth.folder import write_folder
from digitnet.data.synth.handwritten import SIZES, digits, mnist_style_digits
from digitnet.data.synth.not_digits import (
    NEGATIVE_KINDS,
    mnist_style_negatives,
    negatives,
)

__all__ = [
    "NEGATIVE_KINDS",
    "SIZES",
    "digits",
    "mnist_style_digits",
    "mnist_style_negatives",
    "negatives",
    "write_folder",
]
