"""From ink to a photo or scan: placement on the page, stroke thickness, blur, paper, noise, JPEG, polarity.

All images here are float ink coverage in [0, 1] (1 = full ink) until ``finish`` turns one into the uint8
grayscale picture a user would give ``digitnet evaluate --images``:

    picture = paper + shading + grain - contrast * ink * opacity + noise   (dark on light, maybe inverted)

The ink is drawn on a canvas ``scale`` times larger than the picture and reduced with an antialiasing
filter, so thin strokes keep grey edges at 16 px as well as at 300 px.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage

LIGHT_ON_DARK = 0.3  # probability of a light-on-dark picture (chalkboard, inverted scan, dark-mode screen)
JPEG = 0.4  # probability of a JPEG round trip


def frame_shape(rng: np.random.Generator, size: int) -> tuple[int, int]:
    """(height, width) of a picture whose longer side is ``size``; a third are not square (3:4 to 1:1)."""
    if rng.random() < 0.35:
        short = max(8, round(size * rng.uniform(0.75, 1.0)))
        return (size, short) if rng.random() < 0.7 else (short, size)
    return size, size


def canvas_scale(size: int) -> int:
    """How many canvas pixels per picture pixel: enough for a canvas of at least 96 px, at most 4."""
    return int(np.clip(np.ceil(96 / size), 1, 4))


MAX_LEAN = 0.5  # a picture's total lean (the source's own plus the added slant), px across per px up


def placement(
    rng: np.random.Generator,
    src_box,
    canvas_hw,
    fill=(0.5, 0.85),
    slant=0.35,
    rotate=12.0,
    aspect=(0.75, 1.3),
    lean=0.0,
) -> np.ndarray:
    """float (2, 3) M: canvas (x, y) = M @ (x, y, 1) of a source whose ink box is ``src_box`` (x0, y0, x1, y1).

    The source is scaled so its height is ``fill`` (a range) of the canvas height, stretched in x by
    ``aspect``, slanted by k drawn in +-``slant`` (x -= k * y, y down: k > 0 leans right) but so that the
    source's own ``lean`` plus k stays within +-MAX_LEAN (an italic font is not slanted much further),
    rotated by up to ``rotate`` degrees, then put at a random position where it fits inside the canvas with
    a 4% margin (shrunk if it would not fit).
    """
    x0, y0, x1, y1 = src_box
    ch, cw = canvas_hw
    height = max(y1 - y0, 1e-6)
    s = rng.uniform(*fill) * ch / height
    a = rng.uniform(*aspect)
    k = float(np.clip(rng.uniform(-slant, slant), -MAX_LEAN - lean, MAX_LEAN - lean))
    t = np.deg2rad(rng.uniform(-rotate, rotate))
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    linear = rot @ np.array([[1.0, -k], [0.0, 1.0]]) @ np.diag([s * a, s])
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    corners = (np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) - centre) @ linear.T
    extent = corners.max(axis=0) - corners.min(axis=0)
    room = np.array([cw, ch]) * 0.92
    shrink = min(1.0, *(room / np.maximum(extent, 1e-6)))
    linear, corners, extent = linear * shrink, corners * shrink, extent * shrink
    free = np.maximum(np.array([cw, ch]) - extent, 0) / 2 - np.array([cw, ch]) * 0.04
    position = np.array([cw, ch]) / 2 + rng.uniform(-1, 1, size=2) * np.maximum(free, 0)
    translation = position - (corners.max(axis=0) + corners.min(axis=0)) / 2 - linear @ centre
    return np.hstack([linear, translation[:, None]])


def warp_mask(mask: np.ndarray, matrix: np.ndarray, canvas_hw) -> np.ndarray:
    """float32 canvas (H, W) in [0, 1]: the uint8/float mask (h, w) mapped by ``matrix`` (mask px -> canvas px)."""
    full = np.vstack([matrix, [0, 0, 1]])
    inverse = np.linalg.inv(full)[:2].ravel()
    image = Image.fromarray(np.asarray(mask, dtype=np.float32) / (255.0 if mask.dtype == np.uint8 else 1.0))
    out = image.transform(
        (canvas_hw[1], canvas_hw[0]), Image.Transform.AFFINE, tuple(inverse), resample=Image.Resampling.BICUBIC
    )
    return np.clip(np.asarray(out), 0.0, 1.0)


def thicken(ink: np.ndarray, change: float) -> np.ndarray:
    """Grow (change > 0) or thin (change < 0) strokes by about ``change`` px on each side: Gaussian blur,
    then a soft threshold at the level where a straight edge has moved by ``change``."""
    if abs(change) < 0.25:
        return ink
    sigma = max(abs(change), 1.0)
    blurred = ndimage.gaussian_filter(ink.astype(np.float32), sigma)
    level = 0.5 - 0.4 * np.tanh(change / sigma)  # about Phi(-change / sigma), kept inside (0.1, 0.9)
    return np.clip((blurred - level) / 0.2 + 0.5, 0.0, 1.0)


@lru_cache(maxsize=256)
def _hat_weights(n: int, cells: int) -> np.ndarray:
    """float (n, cells): bilinear weights of n evenly spaced pixels on ``cells`` grid nodes (read-only)."""
    w = np.maximum(0.0, 1 - np.abs(np.linspace(0, cells - 1, n)[:, None] - np.arange(cells)))
    w.flags.writeable = False
    return w


def smooth_field(rng: np.random.Generator, shape, cells: int = 3) -> np.ndarray:
    """float32 (h, w) smooth random field in [-1, 1]: a cells x cells uniform grid, bilinearly enlarged
    (field = Wy @ grid @ Wx.T, W the hat-function weights of each pixel on the grid nodes)."""
    grid = rng.uniform(-1, 1, size=(cells, cells))
    return (_hat_weights(shape[0], cells) @ grid @ _hat_weights(shape[1], cells).T).astype(np.float32)


def reduce(ink: np.ndarray, out_hw) -> np.ndarray:
    """float32 (h, w): the canvas reduced to the picture's size with an antialiasing filter (the mean of
    each k x k block when the canvas is k times the picture, else Lanczos)."""
    image = Image.fromarray(ink.astype(np.float32))
    k = ink.shape[0] // out_hw[0]
    if image.size == (out_hw[1], out_hw[0]):
        return np.clip(ink, 0.0, 1.0).astype(np.float32)
    if k >= 1 and ink.shape == (out_hw[0] * k, out_hw[1] * k):
        image = image.reduce(k)
    else:
        image = image.resize((out_hw[1], out_hw[0]), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(image), 0.0, 1.0)


def finish(
    ink: np.ndarray,
    rng: np.random.Generator,
    out_hw,
    blur: float = 0.7,
    noise: float = 0.025,
    polarity: str | None = None,
    contrast=(0.4, 1.0),
) -> np.ndarray:
    """uint8 (h, w) picture from canvas ink (H, W): blur up to ``blur`` picture px, paper tone, ink contrast
    drawn in ``contrast`` (at most the paper's tone), shading, uneven ink, paper grain (half of the
    pictures), noise up to ``noise``, light-on-dark with probability LIGHT_ON_DARK (or as ``polarity``
    says: "dark-on-light" / "light-on-dark"), JPEG with probability JPEG."""
    ink = reduce(ink, out_hw)
    if rng.random() < 0.6:
        ink = ndimage.gaussian_filter(ink, rng.uniform(0.2, blur))
    opacity = rng.uniform(0.8, 1.0) * (1 - rng.uniform(0, 0.25) * (smooth_field(rng, out_hw) + 1) / 2)
    paper = rng.uniform(0.72, 1.0)
    contrast = rng.uniform(contrast[0], min(contrast[1], paper))
    shading = rng.uniform(0, 0.06) * smooth_field(rng, out_hw, cells=2)
    picture = paper + shading - contrast * ink * opacity
    if rng.random() < 0.5:  # paper grain: noise blurred over about a pixel
        picture = picture + ndimage.gaussian_filter(rng.normal(0, rng.uniform(0, 0.03), size=out_hw), 1.0)
    picture = picture + rng.normal(0, rng.uniform(0, noise), size=out_hw)
    dark = rng.random() < LIGHT_ON_DARK if polarity is None else polarity == "light-on-dark"
    if dark:
        picture = 1.0 - picture
    return to_uint8(picture, rng)


def to_uint8(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 (h, w) of a [0, 1] float picture, through a JPEG round trip (quality 30-95) with probability JPEG."""
    out = np.clip(np.rint(picture * 255), 0, 255).astype(np.uint8)
    if rng.random() < JPEG and min(out.shape) >= 8:
        buffer = io.BytesIO()
        Image.fromarray(out).save(buffer, format="JPEG", quality=int(rng.integers(30, 96)))
        out = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L")).copy()
    return out
