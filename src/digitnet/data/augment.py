"""On-the-fly augmentation of image batches, drawn from an explicit ``np.random.Generator``.

Per image, in this order:

1. stroke thickness: grey dilation (thicker) or erosion (thinner) with a disk of radius k, k drawn
   uniformly from {-thickness, ..., thickness};
2. ONE resampling (bilinear, see ``warp``) combining every geometric change, so the image is blurred once:
   output pixel q = (row, col) is read from the source at

       src(q) = F^-1 (q - c - t) + c + d(q),    F = R(theta) Sh(phi) Z(z)

   with c the image centre, t ~ U(-shift, shift)^2 a (sub-pixel) translation, theta ~ U(-rotate, rotate)
   degrees counter-clockwise, phi ~ U(-shear, shear) degrees (x' = x + tan(phi) y), z ~ U(1-zoom, 1+zoom),
   and d the elastic displacement of Simard et al. 2003: d = alpha * G_sigma * U(-1, 1) per axis
   (uniform random fields smoothed by a Gaussian of std sigma px, zero beyond the edges; for
   alpha=34, sigma=4 about 1.3 px rms). Outside the source is 0 (never wraps);
3. Gaussian noise of std ``noise``, then clipped to [0, 1].

Images are floats in [0, 1] (apply before any mean/std normalisation), shaped (N, H, W), (N, 1, H, W)
or flat square (N, H*W); shape and dtype are kept. All N images are resampled at once (``warp``), not
one by one.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import ndimage

KEYS = ("shift", "rotate", "zoom", "shear", "elastic", "noise", "thickness")


def _as_stack(images: np.ndarray) -> np.ndarray:
    """View of a batch as (N, H, W); accepts (N, H, W), (N, 1, H, W) and flat square (N, H*W)."""
    if images.ndim == 3:
        return images
    if images.ndim == 4 and images.shape[1] == 1:
        return images[:, 0]
    if images.ndim == 2 and math.isqrt(images.shape[1]) ** 2 == images.shape[1]:
        side = math.isqrt(images.shape[1])
        return images.reshape(len(images), side, side)
    raise ValueError(f"expected images (N, H, W), (N, 1, H, W) or flat square (N, H*W), got shape {images.shape}")


def warp(stack: np.ndarray, inverse: np.ndarray, shift: np.ndarray, displacement=None) -> np.ndarray:
    """Resample (N, H, W) images: out[n, q] = stack[n, inverse[n] @ (q - c - shift[n]) + c + displacement[n, :, q]].

    ``inverse`` (N, 2, 2) and ``shift`` (N, 2) are in (row, col) order; ``displacement`` (N, 2, H, W) or None.
    Bilinear: a source point (r, s) = (r0 + a, s0 + b), r0 and s0 whole, a and b in [0, 1), reads

        out = (1-a)(1-b) x[r0, s0] + (1-a) b x[r0, s0+1] + a (1-b) x[r0+1, s0] + a b x[r0+1, s0+1]

    with x = 0 outside the image (never wraps), so a pixel moved partly out fades linearly (as for
    ``ndimage.map_coordinates`` with mode "grid-constant"). The N images are gathered from one zero-padded
    copy (a 1-pixel rim before, 2 after, so every corner index stays inside it once the source point is
    clipped to [-1, H] x [-1, W]), all at once; arithmetic in the images' float dtype.
    """
    n, h, w = stack.shape
    dtype = stack.dtype if stack.dtype.kind == "f" else np.dtype(np.float64)
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    offset = centre - np.einsum("nij,nj->ni", inverse, centre + shift)  # src = inverse @ q + offset
    a = inverse.astype(dtype)[:, :, :, None, None]
    rows = np.arange(h, dtype=dtype)[:, None]
    cols = np.arange(w, dtype=dtype)[None, :]
    src_row = a[:, 0, 0] * rows + a[:, 0, 1] * cols + offset[:, 0, None, None].astype(dtype)  # (N, H, W)
    src_col = a[:, 1, 0] * rows + a[:, 1, 1] * cols + offset[:, 1, None, None].astype(dtype)
    if displacement is not None:
        src_row += displacement[:, 0]
        src_col += displacement[:, 1]
    np.clip(src_row, -1, h, out=src_row)
    np.clip(src_col, -1, w, out=src_col)
    row0, col0 = np.floor(src_row), np.floor(src_col)
    frac_row, frac_col = src_row - row0, src_col - col0
    padded = np.zeros((n, h + 3, w + 3), dtype=dtype)
    padded[:, 1 : h + 1, 1 : w + 1] = stack
    pw = w + 3
    index = (row0.astype(np.intp) + 1) * pw + (col0.astype(np.intp) + 1)
    index += (np.arange(n) * (h + 3) * pw)[:, None, None]
    flat = padded.ravel()
    top, top_right = flat[index], flat[index + 1]
    top += frac_col * (top_right - top)
    index += pw
    bottom, bottom_right = flat[index], flat[index + 1]
    bottom += frac_col * (bottom_right - bottom)
    top += frac_row * (bottom - top)
    return top.astype(stack.dtype, copy=False)


def rotation_matrices(degrees) -> np.ndarray:
    """(N, 2, 2) matrices in (row, col) order turning points counter-clockwise on screen (rows go down)."""
    theta = np.deg2rad(np.asarray(degrees, dtype=np.float64))
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def rotate_images(images, degrees: float) -> np.ndarray:
    """Rotate every image counter-clockwise by ``degrees`` about its centre (bilinear, zero fill).

    Same shape and dtype as ``images``; integer images (e.g. uint8 MNIST) are rounded back to integers.
    """
    images = np.asarray(images)
    stack = _as_stack(images)
    work = stack.astype(np.float32) if stack.dtype.kind in "uib" else stack
    inverse = np.linalg.inv(rotation_matrices(np.full(len(stack), float(degrees))))
    out = warp(work, inverse, np.zeros((len(stack), 2)))
    if stack.dtype.kind in "ui":
        info = np.iinfo(stack.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(images.dtype, copy=False).reshape(images.shape)


def shift_images(images, dx: int, dy: int) -> np.ndarray:
    """Move every image (..., H, W) right by ``dx`` and down by ``dy`` whole pixels; vacated pixels are 0."""
    if int(dx) != dx or int(dy) != dy:
        raise ValueError(f"shift_images moves by whole pixels, got dx={dx!r}, dy={dy!r}")
    dx, dy = int(dx), int(dy)
    images = np.asarray(images)
    out = np.zeros_like(images)
    h, w = images.shape[-2:]
    if abs(dx) >= w or abs(dy) >= h:
        return out
    out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[
        ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


@functools.lru_cache(maxsize=16)
def _gaussian_matrix(size: int, sigma: float) -> np.ndarray:
    """G (size, size) with G @ v == ndimage.gaussian_filter1d(v, sigma, mode="constant") for any vector v."""
    return ndimage.gaussian_filter1d(np.eye(size), sigma, axis=0, mode="constant").astype(np.float32)


def smooth(fields: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-smooth the last two axes of (..., H, W) fields, as ``ndimage.gaussian_filter`` with sigma
    (0, ..., sigma, sigma) and mode "constant" (zero beyond the edges, as in the usual implementations of
    Simard's distortion) does, but as two matrix products."""
    h, w = fields.shape[-2:]
    cols = fields @ _gaussian_matrix(w, sigma).T  # filter along each row
    return np.swapaxes(np.swapaxes(cols, -1, -2) @ _gaussian_matrix(h, sigma).T, -1, -2)


def _disk(radius: int) -> np.ndarray:
    r = np.arange(-radius, radius + 1)
    return (r[:, None] ** 2 + r[None, :] ** 2) <= radius**2


def thicken(images, k: int) -> np.ndarray:
    """Strokes of (N, H, W) images made thicker (grey dilation, k > 0) or thinner (erosion, k < 0) with a disk
    of radius |k| (outside the image counts as background); k = 0 returns the images unchanged.

    The one stroke-thickness operation: augmentation draws k per image, robustness sweeps it.
    """
    k = int(k)
    if k == 0:
        return images
    op = ndimage.grey_dilation if k > 0 else ndimage.grey_erosion
    return op(images, footprint=_disk(abs(k))[None], mode="constant", cval=0)


def _check(key: str, value, low: float, high: float, integer: bool = False):
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not (low <= value < high) or (integer and int(value) != value):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"augmentation {key} must be {kind} in [{low:g}, {high:g}), got {value!r}")
    return int(value) if integer else float(value)


class Augmenter:
    """Random shift/rotate/zoom/shear/elastic/noise/thickness; ``augment(batch, rng) -> batch``.

    shift: max translation in px; rotate, shear: max angle in degrees; zoom: max relative scale change;
    elastic: (alpha, sigma) or None; noise: Gaussian std; thickness: max dilation/erosion radius in px.
    """

    def __init__(self, shift=0, rotate=0, zoom=0, shear=0, elastic=None, noise=0, thickness=0):
        self.shift = _check("shift", shift, 0, math.inf)
        self.rotate = _check("rotate", rotate, 0, 180.0001)
        self.zoom = _check("zoom", zoom, 0, 1)
        self.shear = _check("shear", shear, 0, 90)
        if elastic is not None:
            if not isinstance(elastic, (tuple, list)) or len(elastic) != 2:
                raise ValueError(f"augmentation elastic must be (alpha, sigma), got {elastic!r}")
            elastic = (
                _check("elastic alpha", elastic[0], 0, math.inf),
                _check("elastic sigma", elastic[1], 1e-9, math.inf),
            )
        self.elastic = elastic
        self.noise = _check("noise", noise, 0, math.inf)
        self.thickness = _check("thickness", thickness, 0, 100, integer=True)

    def _affine(self, n: int, rng: np.random.Generator):
        """Inverse matrices (N, 2, 2) and shifts (N, 2) of random R(theta) Sh(phi) Z(z) transforms."""
        theta = rng.uniform(-self.rotate, self.rotate, n)
        phi = np.deg2rad(rng.uniform(-self.shear, self.shear, n))
        zoom = rng.uniform(1 - self.zoom, 1 + self.zoom, n)
        shear = np.zeros((n, 2, 2))
        shear[:, 0, 0] = shear[:, 1, 1] = 1.0
        shear[:, 1, 0] = np.tan(phi)  # col' = col + tan(phi) * row
        forward = rotation_matrices(theta) @ shear * zoom[:, None, None]
        return np.linalg.inv(forward), rng.uniform(-self.shift, self.shift, (n, 2))

    def _thicken(self, stack: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        radii = rng.integers(-self.thickness, self.thickness + 1, len(stack))
        out = stack.copy()
        for r in np.unique(radii[radii != 0]):
            pick = radii == r
            out[pick] = thicken(stack[pick], int(r))
        return out

    def __call__(self, batch, rng: np.random.Generator) -> np.ndarray:
        batch = np.asarray(batch)
        if batch.dtype.kind != "f":
            raise ValueError(f"augmentation expects float images in [0, 1], got dtype {batch.dtype}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a np.random.Generator, got {type(rng).__name__}")
        stack = original = _as_stack(batch)
        if self.thickness:
            stack = self._thicken(stack, rng)
        if self.shift or self.rotate or self.zoom or self.shear or self.elastic:
            inverse, shift = self._affine(len(stack), rng)
            displacement = None
            if self.elastic:
                alpha, sigma = self.elastic
                fields = rng.random((len(stack), 2) + stack.shape[1:], dtype=np.float32) * 2 - 1  # U(-1, 1)
                displacement = alpha * smooth(fields, sigma)
            stack = warp(stack, inverse, shift, displacement)
        if self.noise:
            noise = rng.standard_normal(stack.shape, dtype=np.float32)
            noise *= self.noise
            stack = np.clip(stack + noise, 0.0, 1.0)
        if stack is original:
            stack = stack.copy()  # never hand back the caller's array
        return stack.astype(batch.dtype, copy=False).reshape(batch.shape)

    def get_config(self) -> dict:
        """Constructor keyword arguments, JSON-able: ``Augmenter(**a.get_config())`` rebuilds ``a``."""
        config = {key: getattr(self, key) for key in KEYS}
        config["elastic"] = list(self.elastic) if self.elastic else None
        return config

    def to_string(self) -> str:
        """The non-default settings as "shift=2,rotate=12,elastic=34:4" (empty for no augmentation)."""
        parts = []
        for key, value in self.get_config().items():
            if key == "elastic" and value:
                parts.append(f"elastic={value[0]:g}:{value[1]:g}")
            elif key != "elastic" and value:
                parts.append(f"{key}={value:g}")
        return ",".join(parts)

    @classmethod
    def from_string(cls, text: str) -> "Augmenter":
        """Parse "shift=2,rotate=12,zoom=0.1,shear=8,elastic=34:4,noise=0.05,thickness=1" ("" or "none": none)."""
        kwargs = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            if item.lower() == "none":
                continue
            key, sep, value = (s.strip() for s in item.partition("="))
            if key not in KEYS:
                raise ValueError(
                    f"unknown augmentation {key!r} in {text!r}; expected key=value with key one of {', '.join(KEYS)}"
                )
            try:
                if not sep:
                    raise ValueError
                if key == "elastic":
                    alpha, sigma = value.split(":")
                    kwargs[key] = (float(alpha), float(sigma))
                else:
                    number = float(value)
                    kwargs[key] = int(number) if key == "thickness" and number.is_integer() else number
            except ValueError:
                form = "ALPHA:SIGMA, e.g. elastic=34:4" if key == "elastic" else f"a number, e.g. {key}=2"
                raise ValueError(f"bad value in augmentation {item!r}; expected {form}") from None
        return cls(**kwargs)

    def __repr__(self) -> str:
        return f"Augmenter({self.to_string() or 'none'})"
