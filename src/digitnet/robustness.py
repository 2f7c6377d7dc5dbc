"""Robustness studies: how accuracy falls as test digits are shifted, rotated, noised, thickened or attacked.

Perturbation sweeps apply one transformation of growing strength to the whole test set and record
accuracy at each strength:

    shift       0..6 px in each of the 8 directions (one seed's attack was 4 px to the right: 26.3%)
    rotation    -45..45 degrees
    noise       Gaussian noise of standard deviation sigma (pixels in [0, 1], clipped)
    thickness   grey dilation (k > 0) or erosion (k < 0) with a disk of radius |k| (data.augment.thicken)

Adversarial attacks use the model's own input gradient g = dL/dx (``model.backward`` returns it):

    FGSM   x' = clip(x + eps * sign(g), 0, 1)                                   (Goodfellow et al. 2015)
    PGD    x_{t+1} = clip(P_eps(x_t + alpha * sign(g_t)), 0, 1), from x_0 = x    (Madry et al. 2018)
           where P_eps projects back onto the L-infinity ball of radius eps around x
"""

from __future__ import annotations

import numpy as np

from digitnet.calibration import predict_digits
from digitnet.data.augment import rotate_images, shift_images, thicken  # noqa: F401  (thicken: part of this API)
from digitnet.data.inputs import model_inputs
from digitnet.nn import backend, losses

DIRECTIONS = {
    "right": (1, 0),
    "left": (-1, 0),
    "down": (0, 1),
    "up": (0, -1),
    "down-right": (1, 1),
    "down-left": (-1, 1),
    "up-right": (1, -1),
    "up-left": (-1, -1),
}


def _inputs(images, model):
    return model_inputs(images, model)


def accuracy(model, images, labels) -> float:
    """Accuracy of ``model`` on images (N, 28, 28) given as floats in [0, 1] or uint8."""
    return float((predict_digits(model, _inputs(images, model)) == labels).mean())


def shift(images, dx: int, dy: int):
    """Shift (N, H, W) images by whole pixels (dx right, dy down), filling with background 0; never wraps."""
    return shift_images(images, dx, dy)


def rotate(images, degrees: float):
    return rotate_images(images, degrees)


def add_noise(images, sigma: float, rng):
    x = images.astype(np.float32) / (255 if images.dtype == np.uint8 else 1)
    return np.clip(x + rng.normal(0, sigma, x.shape).astype(np.float32), 0, 1)


def shift_sweep(model, images, labels, max_shift: int = 6, directions=None) -> dict:
    """{direction: [accuracy at shift 0, 1, ..., max_shift]}."""
    directions = directions or list(DIRECTIONS)
    base = accuracy(model, images, labels)
    out = {}
    for name in directions:
        if name not in DIRECTIONS:
            raise ValueError(f"unknown direction {name!r}; expected one of {', '.join(DIRECTIONS)}")
        ux, uy = DIRECTIONS[name]
        out[name] = [base] + [accuracy(model, shift(images, ux * s, uy * s), labels) for s in range(1, max_shift + 1)]
    return {"shifts": list(range(max_shift + 1)), "accuracy": out}


def sweep(model, images, labels, kind: str, values, seed: int = 0) -> dict:
    """Accuracy for each strength in ``values`` of kind "rotation", "noise" or "thickness"."""
    rng = np.random.default_rng(seed)
    transforms = {
        "rotation": lambda v: rotate(images, v),
        "noise": lambda v: add_noise(images, v, rng),
        "thickness": lambda v: thicken(images, int(v)),
    }
    if kind not in transforms:
        raise ValueError(f"unknown sweep {kind!r}; expected one of {', '.join(transforms)}")
    return {"values": list(values), "accuracy": [accuracy(model, transforms[kind](v), labels) for v in values]}


def input_gradient(model, x, labels):
    """dL/dx of the cross-entropy loss at inputs x (model layout, float), as a NumPy array."""
    loss = losses.SoftmaxCrossEntropy()
    logits = model.forward(backend.to_device(x, model.dtype), training=False)
    loss(logits, labels)
    return backend.to_numpy(model.backward(loss.grad()))


def fgsm(model, x, labels, eps: float):
    """One signed-gradient step of size eps, kept in [0, 1]."""
    return np.clip(x + eps * np.sign(input_gradient(model, x, labels)), 0, 1).astype(x.dtype)


def pgd(model, x, labels, eps: float, steps: int = 10, alpha: float | None = None):
    """Projected gradient descent in the L-infinity ball of radius eps (no random start)."""
    alpha = alpha if alpha is not None else 2.5 * eps / steps
    adv = x.copy()
    for _ in range(steps):
        adv = adv + alpha * np.sign(input_gradient(model, adv, labels))
        adv = np.clip(np.clip(adv, x - eps, x + eps), 0, 1).astype(x.dtype)
    return adv


def attack_sweep(
    model, images, labels, eps_values, method: str = "fgsm", batch_size: int = 500, steps: int = 10
) -> dict:
    """Accuracy under FGSM or PGD for each eps (inputs scaled to [0, 1])."""
    if method not in ("fgsm", "pgd"):
        raise ValueError(f"unknown attack {method!r}; expected fgsm or pgd")
    x = _inputs(images, model)
    acc = []
    for eps in eps_values:
        correct = 0
        for i in range(0, len(x), batch_size):
            xb, yb = x[i : i + batch_size], labels[i : i + batch_size]
            adv = xb if eps == 0 else (fgsm(model, xb, yb, eps) if method == "fgsm" else pgd(model, xb, yb, eps, steps))
            correct += int((predict_digits(model, adv) == yb).sum())
        acc.append(correct / len(x))
    return {"method": method, "eps": list(eps_values), "accuracy": acc}
