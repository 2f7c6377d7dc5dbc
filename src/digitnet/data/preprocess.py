"""Any picture of a digit -> a 28x28 image prepared the way MNIST's were (LeCun et al. 1998).

Steps of ``to_mnist``:

1. grayscale in [0, 1] (an alpha channel that varies is taken as the ink: strokes on a transparent canvas);
2. polarity: if the border is mostly light (median > 0.5) the digit is dark on light; invert so ink is
   bright on black, as in MNIST;
3. background removal: subtract the border's median, stretch so the brightest ink is 1, and fade the
   faintest 10% (paper texture, JPEG noise) to 0; then drop specks: 8-connected blobs of ink smaller
   than SPECK_SHARE of the biggest blob (isolated noise pixels would otherwise stretch the crop);
4. crop to the ink's bounding box and scale it, keeping its aspect ratio, so the longer side is 20 px
   (Pillow, LANCZOS: an antialiasing filter, giving grey edges like MNIST's);
5. paste into a 28x28 black field and translate by a whole number of pixels so the centre of mass
   (row, col) lands on (14, 14) +- 0.5. MNIST's own training images have centres of mass in
   [13.5, 14.5] on both axes, mean 14.0, which is what this integer shift reproduces.
"""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

BOX, FIELD, CENTRE = 20, 28, 14.0
NOISE_FLOOR = 0.1  # ink below this fraction of the brightest stroke is background
MIN_CONTRAST = 0.1  # an image whose ink is fainter than this (on a 0..1 scale) is blank
SPECK_SHARE = 0.02  # ink blobs smaller than this share of the biggest blob's area are noise
_LUMA = np.array([0.299, 0.587, 0.114])
MAX_PIXELS = 25_000_000  # width x height an image file may declare (a 5000x5000 photo), checked before decoding


def _as_unit_float(a: np.ndarray) -> np.ndarray:
    """uint8 / 255, uint16 / 65535, other ints / max(255, max), floats / 255 only if above 1."""
    if a.dtype == bool:
        return a.astype(np.float64)
    if a.dtype.kind in "ui":
        top = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}.get(a.dtype) or max(255, int(a.max()))
        return a.astype(np.float64) / top
    a = a.astype(np.float64)
    return a / 255 if a.max() > 1 else a


def to_gray(image) -> np.ndarray:
    """float64 (H, W) in [0, 1] from a PIL image or an array (H, W), (H, W, C) or (C, H, W), C in 1, 3, 4."""
    if isinstance(image, Image.Image):
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            image = image.convert("RGBA")
        elif image.mode not in ("L", "I", "I;16", "F", "1"):
            image = image.convert("RGB")
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[-1] not in (1, 3, 4) and a.shape[0] in (1, 3, 4):
        a = np.moveaxis(a, 0, -1)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (1, 3, 4)) or 0 in a.shape:
        raise ValueError(f"expected an image (H, W), (H, W, C) or (C, H, W) with C in 1, 3, 4, got shape {a.shape}")
    a = _as_unit_float(a)
    if a.ndim == 2:
        return a
    if a.shape[-1] in (1, 3):
        return a[..., 0] if a.shape[-1] == 1 else a @ _LUMA
    alpha = a[..., 3]
    if alpha.max() - alpha.min() > MIN_CONTRAST:
        return alpha  # strokes on a transparent canvas: opacity is the ink
    return a[..., :3] @ _LUMA


def _ink(image) -> np.ndarray | None:
    """Ink bright on black, background 0, brightest ink 1; None for a blank image."""
    gray = to_gray(image)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = np.median(border)
    if background > 0.5:
        gray, background = 1.0 - gray, 1.0 - background
    ink = np.clip(gray - background, 0.0, None)
    peak = ink.max()
    if peak < MIN_CONTRAST:
        return None
    return _drop_specks(np.clip((ink / peak - NOISE_FLOOR) / (1 - NOISE_FLOOR), 0.0, 1.0))


def _drop_specks(ink: np.ndarray) -> np.ndarray:
    """``ink`` with 8-connected blobs smaller than SPECK_SHARE x the biggest blob's area set to 0."""
    blobs, count = ndimage.label(ink > 0, structure=np.ones((3, 3), bool))
    if count <= 1:
        return ink
    area = np.bincount(blobs.ravel())
    area[0] = 0
    keep = area >= SPECK_SHARE * area.max()
    keep[0] = False
    return np.where(keep[blobs], ink, 0.0)


def ink_map(image) -> np.ndarray | None:
    """float64 (H, W) ink at the image's own size (steps 1-3 of ``to_mnist``), or None for a blank image."""
    return _ink(image)


def is_blank(image) -> bool:
    """True for an empty canvas: no stroke stands out from the background by MIN_CONTRAST or more."""
    return _ink(image) is None


def to_mnist(image) -> np.ndarray:
    """float32 (28, 28) in [0, 1], ink bright on black, fitted in 20x20 and centred by mass (zeros if blank)."""
    ink = _ink(image)
    if ink is None:
        return np.zeros((FIELD, FIELD), np.float32)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32)
    h, w = crop.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # Pillow wants (width, height)
    fitted = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.LANCZOS))
    field = np.zeros((FIELD, FIELD), np.float32)
    top, left = (FIELD - size[1]) // 2, (FIELD - size[0]) // 2
    field[top : top + size[1], left : left + size[0]] = np.clip(fitted, 0.0, 1.0)
    com = ndimage.center_of_mass(field)
    offset = np.round(CENTRE - np.asarray(com))
    centred = ndimage.shift(field, offset, order=1, mode="constant", cval=0.0)
    return np.clip(centred, 0.0, 1.0).astype(np.float32)


def check_pixels(img: Image.Image, what, max_pixels: int = MAX_PIXELS) -> None:
    """Raise ValueError when an opened (not yet decoded) image declares more than ``max_pixels``."""
    width, height = img.size
    if width * height > max_pixels:
        raise ValueError(
            f"{what} is {width}x{height} = {width * height:,} pixels; the limit is {max_pixels:,} "
            "(checked before decoding)"
        )


def open_image(source, what, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """``Image.open`` (header only) with Pillow's decompression-bomb refusal and the pixel cap as one
    ValueError naming ``what``."""
    try:
        with warnings.catch_warnings():  # Pillow warns above its own limit; ours is lower and an error
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(source)
    except Image.DecompressionBombError as e:
        raise ValueError(
            f"{what} declares too many pixels ({' '.join(str(e).split())[:120]}); the limit is {max_pixels:,}"
        ) from None
    try:
        check_pixels(img, what, max_pixels)
    except ValueError:
        img.close()
        raise
    return img


def load_image(path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open a PNG/JPEG/... file as a PIL image (EXIF rotation applied); a clear error if it is not one.

    The pixel count the file declares is checked against ``max_pixels`` before anything is decoded."""
    try:
        with open_image(path, str(path), max_pixels) as opened:
            opened.load()
            return ImageOps.exif_transpose(opened)
    except FileNotFoundError:
        raise FileNotFoundError(f"no image file at {path}") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, expected an image file") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        text = " ".join(str(e).split())[:200]
        if text.startswith(str(path)):
            raise ValueError(text) from None
        raise ValueError(
            f"{path} is not a readable image (expected PNG, JPEG or another format Pillow reads): {text}"
        ) from None
