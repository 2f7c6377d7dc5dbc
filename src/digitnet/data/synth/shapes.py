"""Pen paths of things that are not digits: letters, shapes, scribbles; each with its train / heldout split.

Same conventions as ``skeletons.py`` (strokes of (x, y) points, box height 1, y down, corners as strokes
sharing an end point). STYLE SPLIT:
- letters: ``LETTER_SKELETONS[c]`` has two ways of writing each letter; variant 0 is train, variant 1 heldout
  (font letters are split by font family, as the digits are);
- shapes: ``SHAPES`` maps each shape to its split; the held-out shapes are other shapes, never drawn for
  training: train = triangle, square (filled), five-point star, plus, arrows pointing right, left, up, down,
  down-left and down-right, a two-headed arrow, hash (#), check mark, crescent (filled), lightning bolt
  (filled), and random filled polygons (``random_polygon``: 5-12 corners at random radii, so jagged,
  concave outlines); heldout = diamond (filled), hexagon (filled), six-point star, heart (filled), house,
  envelope, four-point star (filled), cloud (filled), hourglass (filled), sun. No circle or oval (a 0).
  (Until 2026-12-02 the up arrow and the bolt were held out; docs/handwriting.md says why they moved);
- scribbles: train = random tangle, zigzag; heldout = random tangle (other seeds), coil.
"""

from __future__ import annotations

import numpy as np

LETTERS = "AEFHKMNRVWX"  # letters whose capitals do not look like a digit (no B, D, I, O, S, Z, G, L, T, Q, Y)

LETTER_SKELETONS = {
    "A": (
        (((0.15, 1.0), (0.5, 0.0)), ((0.5, 0.0), (0.85, 1.0)), ((0.3, 0.6), (0.72, 0.6))),
        (((0.2, 1.0), (0.45, 0.1), (0.52, 0.0)), ((0.52, 0.0), (0.66, 0.5), (0.82, 1.0)), ((0.25, 0.66), (0.78, 0.56))),
    ),
    "E": (
        (((0.8, 0.0), (0.25, 0.0)), ((0.25, 0.0), (0.25, 1.0)), ((0.25, 1.0), (0.8, 1.0)), ((0.25, 0.5), (0.65, 0.5))),
        (((0.8, 0.02), (0.3, 0.0), (0.25, 0.5), (0.22, 1.0), (0.82, 0.98)), ((0.26, 0.5), (0.7, 0.48))),
    ),
    "F": (
        (((0.8, 0.0), (0.28, 0.0)), ((0.28, 0.0), (0.28, 1.0)), ((0.28, 0.48), (0.68, 0.48))),
        (((0.3, 1.0), (0.32, 0.0)), ((0.32, 0.0), (0.82, 0.04)), ((0.2, 0.5), (0.7, 0.46))),
    ),
    "H": (
        (((0.2, 0.0), (0.2, 1.0)), ((0.8, 0.0), (0.8, 1.0)), ((0.2, 0.5), (0.8, 0.5))),
        (((0.22, 0.0), (0.2, 1.0)), ((0.2, 0.55), (0.5, 0.5), (0.8, 0.45)), ((0.8, 0.0), (0.82, 1.0))),
    ),
    "K": (
        (((0.25, 0.0), (0.25, 1.0)), ((0.8, 0.0), (0.25, 0.55)), ((0.4, 0.45), (0.82, 1.0))),
        (((0.22, 0.0), (0.22, 1.0)), ((0.78, 0.02), (0.25, 0.5)), ((0.25, 0.5), (0.8, 0.98))),
    ),
    "M": (
        (((0.12, 1.0), (0.15, 0.0)), ((0.15, 0.0), (0.5, 0.7)), ((0.5, 0.7), (0.85, 0.0)), ((0.85, 0.0), (0.88, 1.0))),
        (
            (
                (0.1, 1.0),
                (0.2, 0.2),
                (0.3, 0.02),
                (0.42, 0.3),
                (0.5, 0.55),
                (0.6, 0.3),
                (0.72, 0.02),
                (0.82, 0.3),
                (0.9, 1.0),
            ),
        ),
    ),
    "N": (
        (((0.2, 1.0), (0.2, 0.0)), ((0.2, 0.0), (0.8, 1.0)), ((0.8, 1.0), (0.8, 0.0))),
        (((0.2, 1.0), (0.22, 0.05)), ((0.22, 0.05), (0.5, 0.5), (0.78, 0.95)), ((0.78, 0.95), (0.8, 0.0))),
    ),
    "R": (
        (
            ((0.25, 1.0), (0.25, 0.0)),
            ((0.25, 0.0), (0.6, 0.02), (0.75, 0.22), (0.6, 0.45), (0.25, 0.48)),
            ((0.42, 0.48), (0.8, 1.0)),
        ),
        (((0.25, 1.0), (0.25, 0.0), (0.62, 0.04), (0.72, 0.25), (0.52, 0.44), (0.28, 0.46), (0.55, 0.7), (0.82, 1.0)),),
    ),
    "V": (
        (((0.15, 0.0), (0.5, 1.0)), ((0.5, 1.0), (0.85, 0.0))),
        (((0.18, 0.0), (0.35, 0.6), (0.5, 1.0), (0.62, 0.55), (0.86, 0.0)),),
    ),
    "W": (
        (((0.05, 0.0), (0.28, 1.0)), ((0.28, 1.0), (0.5, 0.3)), ((0.5, 0.3), (0.72, 1.0)), ((0.72, 1.0), (0.95, 0.0))),
        (
            (
                (0.05, 0.0),
                (0.15, 0.6),
                (0.25, 1.0),
                (0.38, 0.6),
                (0.5, 0.3),
                (0.6, 0.65),
                (0.75, 1.0),
                (0.85, 0.6),
                (0.95, 0.0),
            ),
        ),
    ),
    "X": (
        (((0.15, 0.0), (0.85, 1.0)), ((0.85, 0.0), (0.15, 1.0))),
        (((0.2, 0.05), (0.5, 0.5), (0.82, 0.98)), ((0.8, 0.02), (0.55, 0.45), (0.18, 1.0))),
    ),
}


def _ring(points):
    """A closed outline as strokes between consecutive corners (sharp corners)."""
    return tuple((points[i], points[(i + 1) % len(points)]) for i in range(len(points)))


def _star(tips: int, inner: float = 0.42):
    angles = -np.pi / 2 + np.arange(2 * tips) * np.pi / tips
    radius = np.where(np.arange(2 * tips) % 2 == 0, 0.5, 0.5 * inner)
    return tuple((0.5 + r * np.cos(a), 0.5 + r * np.sin(a)) for r, a in zip(radius, angles))


def _polygon(sides: int, turn: float = 0.0):
    angles = -np.pi / 2 + turn + np.arange(sides) * 2 * np.pi / sides
    return tuple((0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)) for a in angles)


# name -> (split, outline or filled, corner points or strokes)
SHAPES = {
    "triangle": ("train", "outline", _ring(((0.5, 0.0), (1.0, 0.9), (0.0, 0.9)))),
    "square": ("train", "filled", ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))),
    "star5": ("train", "outline", _ring(_star(5))),
    "plus": ("train", "outline", (((0.5, 0.0), (0.5, 1.0)), ((0.0, 0.5), (1.0, 0.5)))),
    "arrow-right": (
        "train",
        "outline",
        (((0.0, 0.5), (1.0, 0.5)), ((0.65, 0.2), (1.0, 0.5)), ((1.0, 0.5), (0.65, 0.8))),
    ),
    "arrow-left": (
        "train",
        "outline",
        (((1.0, 0.5), (0.0, 0.5)), ((0.35, 0.2), (0.0, 0.5)), ((0.0, 0.5), (0.35, 0.8))),
    ),
    "arrow-down-left": (
        "train",
        "outline",
        (((1.0, 0.0), (0.0, 1.0)), ((0.0, 0.55), (0.0, 1.0)), ((0.0, 1.0), (0.45, 1.0))),
    ),
    "arrow-down-right": (
        "train",
        "outline",
        (((0.0, 0.0), (1.0, 1.0)), ((1.0, 0.55), (1.0, 1.0)), ((1.0, 1.0), (0.55, 1.0))),
    ),
    "arrow-down": ("train", "outline", (((0.5, 0.0), (0.5, 1.0)), ((0.2, 0.7), (0.5, 1.0)), ((0.5, 1.0), (0.8, 0.7)))),
    "arrow-both": (
        "train",
        "outline",
        (
            ((0.0, 0.5), (1.0, 0.5)),
            ((0.25, 0.25), (0.0, 0.5)),
            ((0.0, 0.5), (0.25, 0.75)),
            ((0.75, 0.25), (1.0, 0.5)),
            ((1.0, 0.5), (0.75, 0.75)),
        ),
    ),
    "hash": (
        "train",
        "outline",
        (
            ((0.35, 0.0), (0.25, 1.0)),
            ((0.75, 0.0), (0.65, 1.0)),
            ((0.0, 0.33), (1.0, 0.33)),
            ((0.0, 0.67), (1.0, 0.67)),
        ),
    ),
    "check": ("train", "outline", (((0.0, 0.55), (0.35, 1.0)), ((0.35, 1.0), (1.0, 0.0)))),
    "crescent": (
        "train",
        "filled",
        tuple((0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)) for a in np.linspace(0.5 * np.pi, 1.5 * np.pi, 12))
        + tuple((0.72 + 0.4 * np.cos(a), 0.5 + 0.42 * np.sin(a)) for a in np.linspace(1.5 * np.pi, 0.5 * np.pi, 10)),
    ),
    "polygon": ("train", "filled", None),  # random_polygon(rng): a new outline every picture
    "arrow-up": ("train", "outline", (((0.5, 1.0), (0.5, 0.0)), ((0.2, 0.3), (0.5, 0.0)), ((0.5, 0.0), (0.8, 0.3)))),
    "lightning": (
        "train",
        "filled",
        ((0.55, 0.0), (0.15, 0.55), (0.45, 0.55), (0.3, 1.0), (0.85, 0.38), (0.55, 0.38), (0.75, 0.0)),
    ),
    "diamond": ("heldout", "filled", ((0.5, 0.0), (1.0, 0.5), (0.5, 1.0), (0.0, 0.5))),
    "hexagon": ("heldout", "filled", _polygon(6)),
    "star6": ("heldout", "outline", _ring(_star(6, 0.55))),
    "heart": (
        "heldout",
        "filled",
        (
            (0.5, 0.25),
            (0.62, 0.05),
            (0.85, 0.02),
            (1.0, 0.2),
            (0.95, 0.45),
            (0.5, 1.0),
            (0.05, 0.45),
            (0.0, 0.2),
            (0.15, 0.02),
            (0.38, 0.05),
        ),
    ),
    "house": (
        "heldout",
        "outline",
        _ring(((0.0, 1.0), (0.0, 0.45), (0.5, 0.0), (1.0, 0.45), (1.0, 1.0)))
        + (((0.38, 1.0), (0.38, 0.68), (0.62, 0.68), (0.62, 1.0)),),
    ),
    "envelope": (
        "heldout",
        "outline",
        _ring(((0.0, 0.15), (1.0, 0.15), (1.0, 0.85), (0.0, 0.85))) + (((0.0, 0.15), (0.5, 0.55), (1.0, 0.15)),),
    ),
    "sparkle": ("heldout", "filled", _star(4, 0.28)),
    "cloud": (
        "heldout",
        "filled",
        tuple(
            (0.5 + (0.42 + 0.08 * np.cos(7 * a)) * np.cos(a), 0.5 + 0.6 * (0.42 + 0.08 * np.cos(7 * a)) * np.sin(a))
            for a in np.linspace(0, 2 * np.pi, 57)[:-1]
        ),
    ),
    "hourglass": ("heldout", "filled", ((0.0, 0.0), (1.0, 0.0), (0.56, 0.5), (1.0, 1.0), (0.0, 1.0), (0.44, 0.5))),
    "sun": (
        "heldout",
        "outline",
        (tuple((0.5 + 0.24 * np.cos(a), 0.5 + 0.24 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 17)),)
        + tuple(
            ((0.5 + 0.34 * np.cos(a), 0.5 + 0.34 * np.sin(a)), (0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)))
            for a in np.arange(8) * np.pi / 4
        ),
    ),
}


def random_polygon(rng: np.random.Generator):
    """Corners (k, 2) of a random filled polygon in the unit box: 5-12 corners at sorted random angles, each at a
    random radius (0.15-0.5 from the centre), so most outlines are jagged and concave."""
    k = int(rng.integers(5, 13))
    angles = np.sort(rng.uniform(0, 2 * np.pi, k))
    radius = rng.uniform(0.15, 0.5, k)
    return tuple(zip(0.5 + radius * np.cos(angles), 0.5 + radius * np.sin(angles)))


def letter_variant(char: str, split: str):
    return LETTER_SKELETONS[char][0 if split == "train" else 1]


def shapes(split: str) -> tuple[str, ...]:
    return tuple(name for name, (s, _, _) in SHAPES.items() if s == split)


def scribble(rng: np.random.Generator, style: str):
    """Strokes of a scribble in the unit box: "tangle" (8-14 random points, one stroke), "zigzag"
    (back-and-forth hatching) or "coil" (a run of loops, like a cursive line of e's)."""
    if style == "tangle":
        return (tuple(map(tuple, rng.uniform(0, 1, size=(int(rng.integers(8, 15)), 2)))),)
    if style == "zigzag":
        k = int(rng.integers(7, 13))
        x = np.where(np.arange(k) % 2 == 0, 0.0, 1.0) + rng.normal(0, 0.05, k)
        y = np.linspace(0, 1, k) + rng.normal(0, 0.03, k)
        return tuple(((x[i], y[i]), (x[i + 1], y[i + 1])) for i in range(k - 1))
    loops = int(rng.integers(3, 7))
    t = np.linspace(0, loops * 2 * np.pi, loops * 8)
    x = t / t[-1] * 2.2 + 0.35 * np.cos(t + np.pi)
    y = 0.5 + 0.45 * np.sin(t + np.pi / 2) * rng.uniform(0.7, 1.0)
    return (tuple(zip(x, y)),)


SCRIBBLES = {"train": ("tangle", "zigzag"), "heldout": ("tangle", "coil")}
