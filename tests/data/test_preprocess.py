"""Preprocessing any picture into an MNIST-style 28x28 digit: polarity, crop, 20x20 fit, centre of mass."""

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from digitnet.data.preprocess import is_blank, load_image, to_mnist


def seven(size=(300, 200), box=(20, 10, 140, 190), ink=0, paper=255, width=14) -> Image.Image:
    """A dark-on-light "7" drawn into ``box`` (left, top, right, bottom) of a large, off-centre canvas."""
    image = Image.new("L", size, paper)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = box
    draw.line([(left, top), (right, top), (left + (right - left) // 3, bottom)], fill=ink, width=width)
    return image


def zero(size=(300, 200), box=(20, 10, 140, 190), ink=0, paper=255, width=14) -> Image.Image:
    """A dark-on-light "0" (an ellipse outline) in ``box`` of a large canvas, well away from its centre."""
    image = Image.new("L", size, paper)
    ImageDraw.Draw(image).ellipse(box, outline=ink, width=width)
    return image


def ink_box(digit, level=0.05):
    rows, cols = np.flatnonzero((digit > level).any(1)), np.flatnonzero((digit > level).any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def check_mnist_like(digit, border=True):
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() >= 0 and digit.max() == pytest.approx(1, abs=0.05)
    if border:  # a balanced shape keeps MNIST's black margin (a top-heavy 7 may reach the bottom edge)
        assert np.all(digit[[0, 1, -2, -1]] == 0) and np.all(digit[:, [0, 1, -2, -1]] == 0)
    cy, cx = ndimage.center_of_mass(digit)
    assert abs(cy - 14) <= 0.5 + 1e-9 and abs(cx - 14) <= 0.5 + 1e-9
    h, w = ink_box(digit)
    assert max(h, w) in (20, 21) and min(h, w) >= 8  # fitted into the 20x20 box (+1 antialiased edge)


@pytest.mark.parametrize("draw", [zero, seven])
def test_off_centre_oversized_dark_on_light_digit_ends_centred(draw):
    digit = to_mnist(draw())
    check_mnist_like(digit, border=draw is zero)
    if draw is zero:
        assert digit[14, 14] < 0.1  # the hole of the 0 stays in the middle
    h, w = ink_box(digit)
    assert h > w and abs(w / h - (120 / 180 if draw is zero else 134 / 194)) < 0.1  # aspect ratio kept


def test_polarity_does_not_matter():
    dark_on_light = to_mnist(seven())
    light_on_dark = to_mnist(seven(ink=255, paper=0))
    np.testing.assert_allclose(dark_on_light, light_on_dark, atol=1e-6)


def test_grey_paper_photo_and_colour_inputs():
    grey = to_mnist(zero(ink=60, paper=190))  # low contrast, grey paper
    check_mnist_like(grey)
    np.testing.assert_allclose(grey, to_mnist(zero()), atol=0.02)
    rgb = np.asarray(seven().convert("RGB"))
    np.testing.assert_allclose(to_mnist(rgb), to_mnist(seven()), atol=1e-6)  # (H, W, 3) array
    np.testing.assert_allclose(to_mnist(np.moveaxis(rgb, -1, 0)), to_mnist(seven()), atol=1e-6)  # (3, H, W)
    np.testing.assert_allclose(to_mnist(np.asarray(seven()) / 255.0), to_mnist(seven()), atol=1e-6)


def test_strokes_on_a_transparent_canvas():
    canvas = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    canvas.putalpha(seven(ink=255, paper=0))  # black strokes, opaque only where drawn
    np.testing.assert_allclose(to_mnist(canvas), to_mnist(seven()), atol=1e-6)


def test_thin_tall_one_keeps_its_aspect_ratio():
    image = np.zeros((400, 400), np.uint8)
    image[50:350, 300:320] = 255  # 300 x 20 bar
    digit = to_mnist(image)
    h, w = ink_box(digit)
    assert h in (20, 21) and w <= 4


def test_real_mnist_digits_pass_through_nearly_unchanged(mnist_test):
    images = mnist_test[0][:200]
    corr = [np.corrcoef(to_mnist(im).ravel(), im.ravel())[0, 1] for im in images]
    assert np.percentile(corr, 5) > 0.98  # the same preparation as MNIST's own


@pytest.mark.parametrize(
    "canvas", [np.full((200, 300), 255, np.uint8), np.zeros((50, 50)), np.full((60, 60, 3), 128, np.uint8), "noisy"]
)
def test_blank_canvases(canvas):
    if isinstance(canvas, str):
        canvas = np.clip(0.9 + np.random.default_rng(0).normal(0, 0.01, (100, 100)), 0, 1)
    assert is_blank(canvas)
    assert not np.any(to_mnist(canvas))


def test_a_drawing_is_not_blank():
    assert not is_blank(seven())
    dot = np.full((100, 100), 255, np.uint8)
    dot[40:44, 40:44] = 0
    assert not is_blank(dot)


def test_bad_array_shapes():
    with pytest.raises(ValueError, match="expected an image"):
        to_mnist(np.zeros((5, 5, 7)))
    with pytest.raises(ValueError, match="expected an image"):
        to_mnist(np.zeros(10))


def test_load_image_round_trip_and_errors(tmp_path):
    zero().save(tmp_path / "zero.png")
    zero().convert("RGB").save(tmp_path / "zero.jpg", quality=90)
    np.testing.assert_array_equal(to_mnist(load_image(tmp_path / "zero.png")), to_mnist(zero()))
    check_mnist_like(to_mnist(load_image(tmp_path / "zero.jpg")))
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match="notes.png is not a readable image"):
        load_image(tmp_path / "notes.png")
    with pytest.raises(FileNotFoundError, match="missing.png"):
        load_image(tmp_path / "missing.png")
