"""Bad image files for predict / evaluate --images / load_image: one line, the pixel cap checked before
decoding, decompression bombs refused, odd colour modes read."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from badinput_helpers import bounded_memory, cli_error, one_line, tiny_model
from digitnet.data.preprocess import MAX_PIXELS, load_image, to_mnist


def png_claiming(width, height) -> bytes:
    """A tiny PNG whose header claims width x height pixels (its data are a few bytes)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def digit(mode="L", size=64):
    img = Image.new("L", (size, size), 255)
    ImageDraw.Draw(img).line([(size // 3, size // 5), (size // 3, 4 * size // 5)], fill=0, width=max(2, size // 8))
    return img.convert(mode) if mode != "L" else img


BAD_FILES = [  # (id, bytes, fragment)
    ("bomb-18000", png_claiming(18000, 18000), "too many pixels"),
    ("over-cap", png_claiming(6000, 6000), f"the limit is {MAX_PIXELS:,}"),
    ("wide-strip", png_claiming(2**20, 100), "the limit is"),
    ("zero-bytes", b"", "not a readable image"),
    ("text", b"this is not an image at all", "not a readable image"),
    ("png-signature-only", b"\x89PNG\r\n\x1a\n", "not a readable image"),
    ("truncated-png", None, "not a readable image"),
    ("html", b"<html><body>hi</body></html>", "not a readable image"),
]


def _write_bad(tmp_path, raw):
    path = tmp_path / "bad.png"
    if raw is None:
        digit(size=200).save(path)
        raw = path.read_bytes()[:200]
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize("raw,fragment", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_load_image_refuses_in_one_line(tmp_path, raw, fragment):
    path = _write_bad(tmp_path, raw)
    with bounded_memory(32 << 20):
        with pytest.raises(ValueError) as info:
            load_image(path)
    message = one_line(str(info.value))
    assert fragment in message and "bad.png" in message


@pytest.fixture(scope="module")
def digit_model(tmp_path_factory):
    return str(tiny_model(optimizer=False).save(tmp_path_factory.mktemp("m") / "model.npz"))


@pytest.mark.parametrize("raw,fragment", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_predict_refuses_bad_images_in_one_line(tmp_path, capsys, digit_model, raw, fragment):
    path = _write_bad(tmp_path, raw)
    assert fragment in cli_error(capsys, ["predict", digit_model, path])


@pytest.mark.parametrize("raw,fragment", [c[1:] for c in BAD_FILES[:3]], ids=[c[0] for c in BAD_FILES[:3]])
def test_evaluate_images_refuses_bad_images(tmp_path, capsys, digit_model, raw, fragment):
    folder = tmp_path / "drawings"
    folder.mkdir()
    digit().save(folder / "a.png")
    (folder / "b.png").write_bytes(raw)
    (folder / "labels.csv").write_text("file,label\na.png,1\nb.png,1\n")
    assert fragment in cli_error(capsys, ["evaluate", digit_model, "--images", folder])


def test_folder_as_image(tmp_path, capsys, digit_model):
    cli_error(capsys, ["predict", digit_model, tmp_path])


def test_missing_image(tmp_path, capsys, digit_model):
    assert "no image file" in cli_error(capsys, ["predict", digit_model, tmp_path / "nope.png"])


@pytest.mark.parametrize("mode", ["CMYK", "YCbCr", "LAB", "HSV", "I", "I;16", "F", "1", "P", "LA", "RGBA", "PA"])
def test_odd_colour_modes_are_read(tmp_path, mode):
    img = digit(size=40)
    try:
        img = img.convert(mode)
    except ValueError:
        img = Image.merge(mode, [img.convert("L")] * len(mode)) if mode not in ("PA",) else img.convert("P")
    if mode in ("CMYK",):
        path = tmp_path / "x.jpg"
        img.save(path, "JPEG")
        img = load_image(path)
    out = to_mnist(img)
    assert out.shape == (28, 28) and np.isfinite(out).all()
