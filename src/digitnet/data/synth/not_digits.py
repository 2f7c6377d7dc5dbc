"""Not-a-digit pictures of each kind in ``NEGATIVE_KINDS``, finished like the digits (scan.finish).

Kinds and their train / heldout split (held-out variants never appear in split="train"):

    blank     paper only (tone, shading, noise)                         split by seed
    faint     paper with strong noise and a faint smudge (contrast <= 0.08)   split by seed
    dot       one to three specks (2-9% of the picture)                 split by seed
    line      a stroke within 35 degrees of horizontal (never a "1")    train straight, heldout curved
    scribble  a tangle of random curves / zigzag / coil                 shapes.SCRIBBLES
    letter    A E F H K M N R V W X, fonts or pen strokes                font families / letter variants
    shape     polygons, stars, arrows, ... (no circle)                  shapes.SHAPES
    fashion   a Fashion-MNIST item (Debian dataset-fashion-mnist)       train file / t10k file
    noise     a picture of pure noise                                   train iid gaussian, salt and pepper,
                                                                        blurred gaussian, stripes;
                                                                        heldout blobs, blocks
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from digitnet.data.synth import scan, seeds, shapes, strokes
from digitnet.data.synth.handwritten import (
    MNIST_STYLE_SIZES,
    SIZES,
    check_sizes,
    fill_range,
    font_glyph,
)
from digitnet.data.synth.ink import glyph_ink, stroke_ink

NEGATIVE_KINDS = ("blank", "faint", "dot", "line", "scribble", "letter", "shape", "fashion", "noise")
FASHION_DIRS = ("/usr/share/datasets", None)  # Debian's dataset-fashion-mnist, then --data-dir's rule


def _canvas(rng, size):
    out_hw = scan.frame_shape(rng, size)
    scale = scan.canvas_scale(size)
    return out_hw, (out_hw[0] * scale, out_hw[1] * scale)


def blank(rng, split, size):
    out_hw, canvas_hw = _canvas(rng, size)
    return scan.finish(np.zeros(canvas_hw, np.float32), rng, out_hw, noise=0.015)


def faint(rng, split, size):
    out_hw, canvas_hw = _canvas(rng, size)
    smudge = np.clip(scan.smooth_field(rng, canvas_hw, cells=4), 0, 1)
    return scan.finish(smudge, rng, out_hw, noise=0.06, contrast=(0.02, 0.08))


def dot(rng, split, size):
    out_hw, canvas_hw = _canvas(rng, size)
    canvas = Image.new("L", (canvas_hw[1], canvas_hw[0]), 0)
    pen = ImageDraw.Draw(canvas)
    for _ in range(1 if rng.random() < 0.7 else int(rng.integers(2, 4))):
        r = rng.uniform(0.01, 0.045) * canvas_hw[0]
        x, y = rng.uniform(0.15, 0.85) * canvas_hw[1], rng.uniform(0.15, 0.85) * canvas_hw[0]
        rx, ry = r * rng.uniform(0.7, 1.3), r * rng.uniform(0.7, 1.3)
        pen.ellipse((x - rx, y - ry, x + rx, y + ry), fill=255)
    return scan.finish(np.asarray(canvas, np.float32) / 255.0, rng, out_hw)


def line(rng, split, size):
    out_hw, canvas_hw = _canvas(rng, size)
    angle = np.deg2rad(rng.uniform(-35, 35))
    along = np.array([np.cos(angle), np.sin(angle)])
    across = np.array([-along[1], along[0]])
    t = np.linspace(-0.5, 0.5, 5)[:, None]
    bend = rng.uniform(-0.15, 0.15) * (1 - (2 * t) ** 2) if split == "heldout" else 0.0 * t
    length = rng.uniform(0.3, 0.85) * canvas_hw[1]
    centre = np.array([canvas_hw[1], canvas_hw[0]]) * rng.uniform(0.35, 0.65, size=2)
    points = centre + length * (t * along + bend * across) + rng.normal(0, 0.01 * length, (5, 2))
    canvas = Image.new("L", (canvas_hw[1], canvas_hw[0]), 0)
    strokes.draw(canvas, [points], max(1.0, rng.uniform(0.03, 0.1) * canvas_hw[0]), rng)
    return scan.finish(np.asarray(canvas, np.float32) / 255.0, rng, out_hw)


def scribble(rng, split, size):
    out_hw, canvas_hw = _canvas(rng, size)
    options = shapes.SCRIBBLES[split]
    path = shapes.scribble(rng, options[int(rng.integers(len(options)))])
    return scan.finish(stroke_ink(rng, path, canvas_hw, fill_range(size), jitter=(0.0, 0.01)), rng, out_hw)


def letter(rng, split, size):
    out_hw, canvas_hw = _canvas(rng, size)
    char = shapes.LETTERS[int(rng.integers(len(shapes.LETTERS)))]
    _, mask, lean = font_glyph(rng, char, split) if rng.random() < 0.5 else (None, None, 0.0)
    if mask is not None:
        ink = glyph_ink(rng, mask, canvas_hw, fill_range(size), lean=lean)
    else:
        ink = stroke_ink(rng, shapes.letter_variant(char, split), canvas_hw, fill_range(size))
    return scan.finish(ink, rng, out_hw)


def shape(rng, split, size):
    out_hw, canvas_hw = _canvas(rng, size)
    names = shapes.shapes(split)
    _, style, geometry = shapes.SHAPES[names[int(rng.integers(len(names)))]]
    geometry = shapes.random_polygon(rng) if geometry is None else geometry
    fill = fill_range(size)
    if style == "outline":
        ink = stroke_ink(rng, geometry, canvas_hw, fill, width=(0.05, 0.12), jitter=(0.005, 0.02), aspect=(0.8, 1.25))
    else:
        points = np.asarray(geometry) + rng.normal(0, 0.015, (len(geometry), 2))
        box = (*points.min(axis=0), *points.max(axis=0))
        matrix = scan.placement(rng, box, canvas_hw, fill, aspect=(0.8, 1.25))
        canvas = Image.new("L", (canvas_hw[1], canvas_hw[0]), 0)
        ImageDraw.Draw(canvas).polygon([tuple(p) for p in points @ matrix[:, :2].T + matrix[:, 2]], fill=255)
        ink = np.asarray(canvas, np.float32) / 255.0
    return scan.finish(ink, rng, out_hw)


@lru_cache(maxsize=2)
def fashion_items(split: str) -> np.ndarray:
    """uint8 (N, 28, 28) Fashion-MNIST items: the train file for split="train", t10k for "heldout"."""
    from digitnet.data.datasets import DataNotFoundError, load

    errors = []
    for folder in FASHION_DIRS:
        try:
            return load("fashion-mnist", "train" if split == "train" else "test", data_dir=folder, download=False)[0]
        except DataNotFoundError as e:
            errors.append(str(e).splitlines()[0])
    raise FileNotFoundError(
        "Fashion-MNIST not found (install the Debian package dataset-fashion-mnist, or put "
        "its files where --data-dir / $DIGITNET_DATA point): " + "; ".join(errors)
    )


def fashion(rng, split, size):
    out_hw, canvas_hw = _canvas(rng, size)
    items = fashion_items(split)
    item = items[int(rng.integers(len(items)))]
    rows, cols = np.flatnonzero(item.max(axis=1) > 30), np.flatnonzero(item.max(axis=0) > 30)
    if len(rows) == 0:
        rows, cols = np.arange(28), np.arange(28)
    box = (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
    matrix = scan.placement(rng, box, canvas_hw, (0.6, 0.9), slant=0.1, rotate=8.0, aspect=(0.9, 1.1))
    return scan.finish(scan.warp_mask(item, matrix, canvas_hw), rng, out_hw)


def noise(rng, split, size):
    out_hw = scan.frame_shape(rng, size)
    style = ("gaussian", "salt-and-pepper", "blurred", "stripes") if split == "train" else ("blobs", "blocks")
    kind = style[int(rng.integers(len(style)))]
    if kind == "gaussian":
        picture = rng.uniform(0.3, 0.7) + rng.normal(0, rng.uniform(0.1, 0.3), out_hw)
    elif kind == "salt-and-pepper":
        picture = np.full(out_hw, rng.uniform(0.2, 0.8))
        spots = rng.random(out_hw)
        share = rng.uniform(0.05, 0.3)
        picture[spots < share / 2] = 0.0
        picture[spots > 1 - share / 2] = 1.0
    elif kind == "blurred":
        sigma = rng.uniform(0.6, 2.5) * max(out_hw) / 28
        field = ndimage.gaussian_filter(rng.normal(0, 1, out_hw), sigma)
        picture = 0.5 + rng.uniform(0.2, 0.5) * field / (field.std() + 1e-9)
    elif kind == "stripes":
        angle, period = rng.uniform(0, np.pi), rng.uniform(0.08, 0.3) * max(out_hw)
        rows, cols = np.mgrid[: out_hw[0], : out_hw[1]]
        wave = np.sin(2 * np.pi * (cols * np.cos(angle) + rows * np.sin(angle)) / period + rng.uniform(0, 2 * np.pi))
        picture = 0.5 + 0.4 * wave + rng.normal(0, rng.uniform(0.05, 0.2), out_hw)
    elif kind == "blobs":
        picture = 0.5 + 0.5 * scan.smooth_field(rng, out_hw, cells=int(rng.integers(5, 10)))
        picture = picture + rng.normal(0, 0.05, out_hw)
    else:
        cells = int(rng.integers(3, 9))
        small = rng.random((cells, cells))
        picture = np.asarray(
            Image.fromarray(small.astype(np.float32)).resize((out_hw[1], out_hw[0]), Image.Resampling.NEAREST)
        )
    return scan.to_uint8(np.clip(picture, 0, 1), rng)


GENERATORS = {
    "blank": blank,
    "faint": faint,
    "dot": dot,
    "line": line,
    "scribble": scribble,
    "letter": letter,
    "shape": shape,
    "fashion": fashion,
    "noise": noise,
}


def check_kind(kind) -> str:
    if kind not in GENERATORS:
        raise ValueError(f"unknown negative kind {kind!r}; expected one of {', '.join(NEGATIVE_KINDS)}")
    return kind


def negatives(kind, n, split="heldout", seed=0, sizes=SIZES, *, size=None):
    """list of n uint8 (h, w) "not a digit" pictures of ``kind``, longer side one of ``sizes``
    (``size=S`` is the same as ``sizes=(S,)``). Their label, in folders, is -1."""
    kind, n = check_kind(kind), seeds.check_count(n)
    seed, split = seeds.check_seed(seed), seeds.check_split(split)
    sizes = check_sizes(sizes if size is None else size)
    make = GENERATORS[kind]
    out = []
    for i in range(n):
        rng = seeds.image_rng(seed, split, f"negatives/{kind}", i)
        out.append(make(rng, split, sizes[int(rng.integers(len(sizes)))]))
    return out


def mnist_style_negatives(kind, n, split="train", seed=0, sizes=MNIST_STYLE_SIZES):
    """(uint8 (n, 28, 28) as ``to_mnist`` prepares them, bool (n,) True where to_mnist found the picture blank
    and returned zeros). Pictures are drawn at ``sizes`` (default 16, 28, 40, 64 px)."""
    from digitnet.data.preprocess import is_blank, to_mnist

    pictures = negatives(kind, n, split, seed, sizes=sizes)
    out = np.zeros((len(pictures), 28, 28), np.uint8)
    blank_mask = np.zeros(len(pictures), bool)
    for i, image in enumerate(pictures):
        blank_mask[i] = is_blank(image)
        out[i] = np.rint(to_mnist(image) * 255)
    return out, blank_mask
