"""Out-of-MNIST digits: raw pictures of several sizes (``digits``) and MNIST-style 28x28 (``mnist_style_digits``).

Each picture is a font digit (half of them, from the split's font families) or a pen-stroke digit (the
split's skeleton variants), placed, re-stroked and finished as a scan or photo by ``scan.finish``. Labels
are balanced (each digit n // 10 or n // 10 + 1 times) in a seeded order. Image ``i`` depends only on
(seed, split, i), never on n.
"""

from __future__ import annotations

import warnings

import numpy as np

from digitnet.data.synth import fonts, scan, seeds, skeletons
from digitnet.data.synth.ink import glyph_ink, stroke_ink

SIZES = (16, 28, 64, 300)
MNIST_STYLE_SIZES = (16, 28, 40, 64)  # picture sizes behind the MNIST-style digits (to_mnist removes the size)
FONT_SHARE = 0.5


def check_sizes(sizes) -> tuple[int, ...]:
    """``sizes`` as a tuple of ints in [8, 1024] (an int is one size)."""
    if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        out = tuple(int(s) for s in sizes)
        ok = len(out) > 0 and all(s == v and 8 <= s <= 1024 for s, v in zip(out, sizes))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"sizes must be picture sizes in [8, 1024] px (an int or a list of ints), got {sizes!r}")
    return out


def fill_range(size: int) -> tuple[float, float]:
    """The ink's height as a fraction of the picture's: bigger in tiny pictures so 16 px stays legible."""
    return (0.7, 0.9) if size <= 20 else (0.5, 0.85)


def font_glyph(rng: np.random.Generator, char: str, split: str):
    """(family name, uint8 mask, the font's lean) of ``char`` in a random installed font of ``split``;
    (None, None, 0.0) if there is none.

    A family is drawn uniformly, then one of its installed faces, so big families do not dominate; pairs in
    ``fonts.EXCLUDED`` are skipped."""
    found = [(f, files) for f, files in fonts.available(split)]
    rng.shuffle(found)
    for family, files in found:
        if (family.name, char) in fonts.EXCLUDED:
            continue
        path = files[int(rng.integers(len(files)))]
        mask = fonts.glyph(path, char)
        if mask is not None:
            return family.name, mask, fonts.font_lean(path)
    return None, None, 0.0


def digit_ink(rng: np.random.Generator, digit: int, split: str, canvas_hw, fill):
    """(source, canvas ink) of one digit: source is a font family name or "strokes vK"."""
    if rng.random() < FONT_SHARE:
        name, mask, lean = font_glyph(rng, str(digit), split)
        if mask is not None:
            return name, glyph_ink(rng, mask, canvas_hw, fill, lean=lean)
    options = skeletons.variants(digit, split)
    k = int(rng.integers(len(options)))
    variant = skeletons.DIGIT_SKELETONS[digit].index(options[k])
    return f"strokes v{variant}", stroke_ink(rng, options[k], canvas_hw, fill)


def picture(rng: np.random.Generator, digit: int, split: str, size: int):
    """(source, uint8 (h, w) picture) of ``digit``, longer side ``size``."""
    out_hw = scan.frame_shape(rng, size)
    scale = scan.canvas_scale(size)
    source, ink = digit_ink(rng, digit, split, (out_hw[0] * scale, out_hw[1] * scale), fill_range(size))
    return source, scan.finish(ink, rng, out_hw)


def generate(n, split, seed, sizes, stream="digits"):
    """(pictures list of uint8 (h, w), labels int64 (n,), sources list of str) — the worker of ``digits``."""
    n, seed, split, sizes = seeds.check_count(n), seeds.check_seed(seed), seeds.check_split(split), check_sizes(sizes)
    if not fonts.available(split):
        warnings.warn(
            f"no {split} font family is installed (apt-get install {' '.join(fonts.PACKAGES)}): "
            f"drawing pen-stroke digits only",
            stacklevel=3,
        )
    labels = seeds.balanced_labels(n, 10, seed, split, stream)
    pictures, sources = [], []
    for i, label in enumerate(labels):
        rng = seeds.image_rng(seed, split, stream, i)
        source, image = picture(rng, int(label), split, sizes[int(rng.integers(len(sizes)))])
        pictures.append(image)
        sources.append(source)
    return pictures, labels, sources


def digits(n, split="heldout", seed=0, sizes=SIZES):
    """(pictures: list of n uint8 (h, w) grayscale arrays, longer side one of ``sizes``; labels int64 (n,)).

    Raw pictures as a user would give ``digitnet evaluate --images`` (both polarities, noise, JPEG)."""
    pictures, labels, _ = generate(n, split, seed, sizes)
    return pictures, labels


def mnist_style_digits(n, split="train", seed=0, sizes=MNIST_STYLE_SIZES):
    """(uint8 (n, 28, 28) prepared by ``digitnet.data.preprocess.to_mnist``, light on dark; labels int64 (n,)).

    The pictures behind them have sizes ``sizes`` (default 16, 28, 40, 64 px; to_mnist removes the size, but
    not what noise and JPEG did at that size)."""
    from digitnet.data.preprocess import to_mnist

    pictures, labels, _ = generate(n, split, seed, sizes, stream="mnist_style_digits")
    out = np.zeros((len(pictures), 28, 28), np.uint8)
    for i, image in enumerate(pictures):
        out[i] = np.rint(to_mnist(image) * 255)
    return out, labels
