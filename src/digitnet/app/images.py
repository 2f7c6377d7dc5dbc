"""Turn what the browser sends into a grayscale image array, checking everything on the way.

Two request forms are accepted (see digitnet.app.api):

    {"image": "data:image/png;base64,..."}   a PNG/JPEG/GIF/BMP/WebP data URL, any size,
                                             grayscale, RGB or RGBA (transparent canvases: opacity is the ink)
    {"pixels": [[...], ...]}                  a 2-D array of numbers, 0..1 or 0..255, any size

Both are checked, then handed as they are (a decoded PIL image, or a float array) to
``digitnet.data.preprocess.to_mnist``, exactly as ``digitnet predict`` hands it image files;
it scales 0..255 values to 0..1. Every problem raises ``BadInput`` with a message naming it.
"""

from __future__ import annotations

import base64
import binascii
import io
import math

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MIN_SIDE = 8  # smaller than this cannot hold a recognisable digit
MAX_SIDE = 2048  # larger is not a drawing; also keeps decoding cheap
IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "BMP", "WEBP"}
NATIVE_MODES = {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "I", "I;16", "F"}  # others are converted on decoding


class BadInput(ValueError):
    """The request's image or pixels are unusable; the message says why (HTTP 400)."""


def check_side(height: int, width: int, what: str) -> None:
    """Raise BadInput unless both sides lie in MIN_SIDE..MAX_SIDE."""
    if not (MIN_SIDE <= height <= MAX_SIDE and MIN_SIDE <= width <= MAX_SIDE):
        raise BadInput(f"{what} is {width}x{height} pixels; expected each side between {MIN_SIDE} and {MAX_SIDE}")


def decode_data_url(url) -> tuple[bytes, Image.Image]:
    """(raw file bytes, opened PIL image) from ``data:image/<type>;base64,<data>``."""
    if not isinstance(url, str):
        raise BadInput(f"'image' must be a string data URL, got {type(url).__name__}")
    head, sep, payload = url.partition(",")
    if not sep or not head.startswith("data:image/") or not head.endswith(";base64"):
        start = url[:30] + ("..." if len(url) > 30 else "")
        raise BadInput(f"'image' must be a data URL like 'data:image/png;base64,...', got {start!r}")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput("'image' data URL does not hold valid base64") from None
    try:
        img = Image.open(io.BytesIO(raw))  # lazy: reads the header only
    except Image.DecompressionBombError:
        raise BadInput(
            f"'image' declares too many pixels; expected each side between {MIN_SIDE} and {MAX_SIDE}"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise BadInput("'image' data is not a readable image (expected PNG, JPEG, GIF, BMP or WebP)") from None
    if img.format not in IMAGE_FORMATS:
        raise BadInput(f"'image' is a {img.format} file; expected PNG, JPEG, GIF, BMP or WebP")
    check_side(img.height, img.width, "'image'")
    return raw, img


def decoded(img: Image.Image) -> Image.Image:
    """The image fully decoded, EXIF rotation applied (as ``digitnet predict`` reads files)."""
    try:
        img.load()
        img = ImageOps.exif_transpose(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise BadInput("'image' data is damaged: it could not be decoded") from None
    check_side(img.height, img.width, "'image'")  # EXIF rotation swaps the sides; frames can differ
    if img.mode not in NATIVE_MODES:
        try:
            img = img.convert("RGBA" if "A" in img.mode else "RGB")  # CMYK, YCbCr, LAB, I;16B, ...
        except (OSError, ValueError):
            raise BadInput(f"'image' has colour mode {img.mode!r}, which cannot be read as a drawing") from None
    return img


def pixels_to_array(pixels) -> np.ndarray:
    """float64 (H, W) from a list of equal-length rows of numbers, all in 0..1 or all in 0..255."""
    if not isinstance(pixels, list) or not pixels or not all(isinstance(row, list) for row in pixels):
        raise BadInput("'pixels' must be a non-empty list of rows (a 2-D array of numbers)")
    width = len(pixels[0])
    for i, row in enumerate(pixels):
        if len(row) != width:
            raise BadInput(f"'pixels' row {i} has {len(row)} values but row 0 has {width}; rows must be equal")
    check_side(len(pixels), width, "'pixels'")
    for row in pixels:
        for v in row:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise BadInput(f"'pixels' must hold numbers only, found {v!r}")
    try:
        values = np.asarray(pixels, dtype=np.float64)
    except (OverflowError, ValueError):
        raise BadInput("'pixels' holds a number too large for a pixel value; expected 0..1 or 0..255") from None
    if not np.isfinite(values).all():
        raise BadInput("'pixels' holds a non-finite value (NaN or infinity)")
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 255:
        bad = low if low < 0 else high
        raise BadInput(f"'pixels' value {bad:g} is out of range; expected 0..1 or 0..255")
    return values


def round_significant(values: np.ndarray, digits: int = 4) -> list:
    """Nested lists of ``values`` rounded to about ``digits`` significant figures (small JSON)."""
    values = np.asarray(values, dtype=np.float64)
    biggest = float(np.abs(values).max()) if values.size else 0.0
    if biggest == 0 or not math.isfinite(biggest):
        return np.nan_to_num(values).tolist()
    decimals = max(0, digits - 1 - math.floor(math.log10(biggest)))
    return np.round(values, decimals).tolist()


def png_bytes(img: Image.Image) -> bytes:
    """The image re-encoded as PNG."""
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()
