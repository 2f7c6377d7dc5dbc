"""Test-time views: a digit model's logits averaged over the image and a few rotated copies of it.

For an MNIST-style image x (28x28) and the angles a_1..a_k recorded in the model file
(``model.preprocessing["test_time_rotations"]``, degrees, counter-clockwise),

    z(x) = (f(x) + f(R_a1 x) + ... + f(R_ak x)) / (k + 1)

where f is the network (its raw logits, after the model's own input preprocessing) and R_a the rotation
of ``data.augment.rotate_images`` (bilinear, zero fill), the one training augments with. softmax(z)
is the normalised geometric mean of the views' softmax probabilities (each view's log-softmax differs
from its logits by a constant per image), so the temperature and the not-a-digit threshold fitted on
validation data apply to z as they would to f. The model file records the angles; nothing else about
the views is read from it. A model file without them gives z = f.

    rotations(model)      the checked angles, () when absent
    spec(degrees)         {"test_time_rotations": [-degrees, degrees]} for training to record (0: {})
    describe(angles)      "-10, +10", as the commands print them
    averaged_logits(f, images28, angles[, image_logits])
"""

from __future__ import annotations

import math

import numpy as np

KEY = "test_time_rotations"
MAX_VIEWS = 8  # rotated copies at most (each costs one more forward pass)
MAX_DEGREES = 45.0


def check(angles) -> tuple[float, ...]:
    """The angles as floats; one-line ValueError unless a list of at most MAX_VIEWS finite numbers in
    [-MAX_DEGREES, MAX_DEGREES]."""
    if not isinstance(angles, (list, tuple)) or len(angles) > MAX_VIEWS:
        raise ValueError(f"{KEY} must be a list of at most {MAX_VIEWS} angles in degrees, got {angles!r}")
    out = []
    for a in angles:
        if isinstance(a, bool) or not isinstance(a, (int, float)) or not math.isfinite(a) or abs(a) > MAX_DEGREES:
            raise ValueError(f"{KEY} holds {a!r}; expected angles in degrees within +-{MAX_DEGREES:g}")
        out.append(float(a))
    return tuple(out)


def rotations(model) -> tuple[float, ...]:
    """The test-time rotation angles a model file records (checked), () when it records none."""
    spec = getattr(model, "preprocessing", None) or {}
    return check(spec.get(KEY, []))


def describe(angles) -> str:
    """The angles as the commands print them: "-10, +10"."""
    return ", ".join(f"{a:+g}" for a in angles)


def spec(degrees: float) -> dict:
    """The preprocessing entry training records for views at +-``degrees`` ({} for 0)."""
    if not degrees:
        return {}
    return {KEY: list(check([-float(degrees), float(degrees)]))}


def averaged_logits(logits_of, images28, angles, image_logits=None) -> np.ndarray:
    """Mean of ``logits_of(view)`` over the images (N, 28, 28) and their copies rotated by each angle;
    ``image_logits``, when given, is ``logits_of(images28)`` computed already."""
    from digitnet.data.augment import rotate_images

    images28 = np.asarray(images28)
    total = np.asarray(logits_of(images28) if image_logits is None else image_logits, dtype=np.float64)
    for angle in angles:
        total = total + logits_of(rotate_images(images28, angle))
    return total / (len(angles) + 1)
