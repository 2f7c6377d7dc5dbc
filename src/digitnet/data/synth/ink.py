"""Ink on a canvas from the two sources: a font glyph, or pen strokes through a skeleton.

Both take the canvas shape (H, W) and a ``fill`` range (the ink's height as a fraction of the canvas height)
and return float32 (H, W) ink coverage in [0, 1], placed by ``scan.placement`` (size, aspect, slant,
rotation, position). Stroke width is drawn as a fraction of the ink's height: ``width`` (a range).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from digitnet.data.synth import scan, strokes
from digitnet.data.synth.fonts import stroke_width

PEN = (0.06, 0.18)  # pen width / digit height (MNIST's strokes are about 0.1-0.15 of the 20-px box)
JITTER = (0.008, 0.03)  # point jitter, in digit heights


def glyph_ink(
    rng: np.random.Generator, mask: np.ndarray, canvas_hw, fill=(0.5, 0.85), width=PEN, lean=0.0, **placement
) -> np.ndarray:
    """A font glyph (uint8 mask) re-stroked to a random width, then placed on the canvas; ``lean`` is the
    font's own slant (``fonts.font_lean``), so that the added slant keeps the total within bounds."""
    h = mask.shape[0]
    current = stroke_width(mask)
    target = rng.uniform(*width) * h
    change = float(np.clip((target - current) / 2, -0.3 * current, 0.25 * h))
    pad = int(np.ceil(abs(change) + 3 * max(abs(change), 1.0))) if abs(change) >= 0.25 else 0
    ink = np.pad(mask.astype(np.float32) / 255.0, pad)
    ink = scan.thicken(ink, change)
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.5), np.flatnonzero(ink.max(axis=0) > 0.5)
    if len(rows) == 0:  # thinned away: keep the glyph as drawn
        ink, rows, cols = mask.astype(np.float32) / 255.0, np.arange(mask.shape[0]), np.arange(mask.shape[1])
    box = (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
    matrix = scan.placement(rng, box, canvas_hw, fill, lean=lean, **placement)
    return scan.warp_mask(ink, matrix, canvas_hw)


def stroke_ink(
    rng: np.random.Generator, skeleton, canvas_hw, fill=(0.5, 0.85), width=PEN, jitter=JITTER, **placement
) -> np.ndarray:
    """Pen strokes through a jittered skeleton, drawn with a random pen width and pressure."""
    paths = strokes.jitter(skeleton, rng, rng.uniform(*jitter))
    points = np.vstack(paths)
    box = (*points.min(axis=0), *points.max(axis=0))
    box = (box[0], box[1], max(box[2], box[0] + 0.05), max(box[3], box[1] + 0.05))
    return pen_ink(rng, paths, box, canvas_hw, fill, width, **placement)


def pen_ink(rng: np.random.Generator, paths, box, canvas_hw, fill=(0.5, 0.85), width=PEN, **placement) -> np.ndarray:
    """Draw ``paths`` (float (k, 2) arrays, source units) whose ink box is ``box``, placed on the canvas."""
    matrix = scan.placement(rng, box, canvas_hw, fill, **placement)
    height = (box[3] - box[1]) * np.sqrt(abs(np.linalg.det(matrix[:, :2])))
    placed = [p @ matrix[:, :2].T + matrix[:, 2] for p in paths]
    canvas = Image.new("L", (canvas_hw[1], canvas_hw[0]), 0)
    strokes.draw(canvas, placed, max(1.0, rng.uniform(*width) * height), rng)
    return np.asarray(canvas, dtype=np.float32) / 255.0
