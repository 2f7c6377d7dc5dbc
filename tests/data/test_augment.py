"""Augmentation: exact geometry on synthetic images, no wrap-around, determinism, parsing."""

import json

import numpy as np
import pytest
from scipy import ndimage

from digitnet.data.augment import Augmenter, rotate_images, shift_images, smooth, warp


def bar(rows=slice(5, 8), cols=slice(8, 20), n=1, dtype=np.float32):
    x = np.zeros((n, 28, 28), dtype)
    x[:, rows, cols] = 1
    return x


def test_shift_images_moves_ink_exactly_and_never_wraps():
    x = np.zeros((2, 1, 28, 28), np.float32)
    x[:, 0, 5, 5] = 1
    x[:, 0, 10, 27] = 2  # on the right edge
    moved = shift_images(x, dx=3, dy=-2)
    assert moved.shape == x.shape and moved.dtype == x.dtype
    assert moved[0, 0, 3, 8] == 1 and moved.sum() == 2  # the edge pixel left the image, not wrapped
    np.testing.assert_array_equal(shift_images(moved, -3, 2)[..., 2:, :-3], x[..., 2:, :-3])
    assert not shift_images(x, 28, 0).any() and not shift_images(x, 0, -40).any()
    with pytest.raises(ValueError, match="whole pixels"):
        shift_images(x, 0.5, 0)


def test_warp_with_whole_pixel_shift_equals_shift_images():
    x = np.random.default_rng(0).random((4, 28, 28))
    out = warp(x, np.tile(np.eye(2), (4, 1, 1)), np.tile([2.0, -3.0], (4, 1)))  # (row, col) = down 2, left 3
    np.testing.assert_allclose(out, shift_images(x, dx=-3, dy=2), atol=1e-12)


def _warp_by_scipy(x, inverse, shift, displacement):
    """warp's equation, image by image, through ndimage.map_coordinates (bilinear, zero outside, fading)."""
    h, w = x.shape[1:]
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    grid = np.stack(np.meshgrid(np.arange(h), np.arange(w), indexing="ij")).reshape(2, -1)
    out = []
    for n in range(len(x)):
        src = (inverse[n] @ (grid - (centre + shift[n])[:, None])).reshape(2, h, w) + centre[:, None, None]
        out.append(ndimage.map_coordinates(x[n], src + displacement[n], order=1, mode="grid-constant"))
    return np.stack(out)


def test_warp_equals_map_coordinates_for_any_affine_map_and_displacement():
    rng = np.random.default_rng(7)
    x = rng.random((6, 28, 28))
    inverse = np.eye(2) + rng.normal(0, 0.3, (6, 2, 2))  # rotation, shear, zoom, flips: any matrix
    shift = rng.uniform(-9, 9, (6, 2))  # far enough to push ink out of the image
    displacement = rng.normal(0, 1.5, (6, 2, 28, 28))
    expected = _warp_by_scipy(x, inverse, shift, displacement)
    np.testing.assert_allclose(warp(x, inverse, shift, displacement), expected, atol=1e-12)
    single = warp(x.astype(np.float32), inverse, shift, displacement.astype(np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, expected, atol=2e-5)


def test_rotation_by_90_degrees_turns_a_top_bar_into_a_left_bar():
    turned = rotate_images(bar(), 90)[0]
    rows, cols = np.nonzero(turned > 0.5)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (8, 19, 5, 7)  # counter-clockwise
    np.testing.assert_allclose(turned, np.rot90(bar()[0]), atol=1e-6)


def test_rotation_of_uint8_images_rounds_back_to_uint8():
    x = (np.random.default_rng(3).random((2, 1, 28, 28)) * 255).astype(np.uint8)
    out = rotate_images(x, 30)
    assert out.dtype == np.uint8 and out.shape == x.shape
    expected = np.rint(rotate_images(x.astype(np.float64), 30))
    assert np.abs(out - expected).max() <= 1  # float32 vs float64 rounding at .5 boundaries


@pytest.mark.parametrize("degrees", [30, -45, 12.5])
def test_rotation_agrees_with_scipy_rotate(degrees):
    x = np.random.default_rng(1).random((2, 28, 28))
    expected = [ndimage.rotate(im, degrees, reshape=False, order=1, mode="grid-constant") for im in x]
    np.testing.assert_allclose(rotate_images(x, degrees), expected, atol=1e-12)


def test_random_shift_stays_within_range_without_wrapping():
    x = np.zeros((200, 28, 28), np.float32)
    x[:, 10:18, 24:28] = 1  # ink touching the right edge
    out = Augmenter(shift=3)(x, np.random.default_rng(0))
    assert not out[:, :, :20].any()  # nothing reappears on the left
    com = np.array([ndimage.center_of_mass(im) for im in out if im.sum() > 1])
    assert np.all(np.abs(com[:, 0] - 13.5) <= 3.01)


def _orientation(image):
    """Angle (degrees, counter-clockwise on screen) of an image's principal axis, from second moments."""
    rows, cols = np.indices(image.shape)
    w = image / image.sum()
    y, x = (rows * w).sum(), (cols * w).sum()
    cyy, cxx, cxy = (((rows - y) ** 2) * w).sum(), (((cols - x) ** 2) * w).sum(), ((rows - y) * (cols - x) * w).sum()
    return np.degrees(0.5 * np.arctan2(-2 * cxy, cxx - cyy))


def test_random_rotation_angles_lie_within_the_range():
    x = bar(rows=slice(13, 15), cols=slice(4, 24), n=100)
    angles = np.array([_orientation(im) for im in Augmenter(rotate=15)(x, np.random.default_rng(2))])
    assert np.abs(angles).max() <= 15.5 and np.abs(angles).max() > 10 and angles.min() < -5 < 5 < angles.max()


def test_zoom_scales_the_ink_area():
    x = bar(rows=slice(9, 19), cols=slice(9, 19), n=300, dtype=np.float64)
    mass = Augmenter(zoom=0.2)(x, np.random.default_rng(3)).sum(axis=(1, 2)) / 100
    assert 0.8**2 - 0.05 < mass.min() < 0.75 and 1.3 < mass.max() < 1.2**2 + 0.05


def test_shear_slants_a_vertical_bar():
    x = bar(rows=slice(4, 24), cols=slice(13, 15), n=50)
    out = Augmenter(shear=20)(x, np.random.default_rng(4))
    widths = [np.ptp(np.nonzero(im > 0.3)[1]) + 1 for im in out]
    assert max(widths) > 6 and min(widths) >= 2  # tan(20 deg) * 20 rows ~ 7 px of slant at most


def test_elastic_displacement_is_smooth_and_proportional_to_alpha():
    # bilinear interpolation of a ramp is exact, so out * 27 - col is the column displacement itself
    x = np.tile(np.arange(28) / 27.0, (20, 28, 1))
    d34 = Augmenter(elastic=(34, 4))(x, np.random.default_rng(5)) * 27 - np.arange(28)
    d17 = Augmenter(elastic=(17, 4))(x, np.random.default_rng(5)) * 27 - np.arange(28)
    inner = (slice(None), slice(6, 22), slice(6, 22))
    np.testing.assert_allclose(d17[inner], 0.5 * d34[inner], atol=1e-5)
    assert 0.7 < np.sqrt(np.mean(d34[inner] ** 2)) < 2.5
    assert np.abs(d34[inner]).mean(axis=(1, 2)).min() > 0.1  # every image is distorted
    assert np.abs(np.diff(d34[inner], axis=2)).mean() < 0.3 * np.abs(d34[inner]).mean()  # smooth field
    np.testing.assert_array_equal(Augmenter(elastic=(0, 4))(x, np.random.default_rng(5)), x)  # alpha 0: identity


def test_smooth_equals_gaussian_filter():
    fields = np.random.default_rng(6).random((3, 2, 20, 28))
    expected = ndimage.gaussian_filter(fields, (0, 0, 3, 3), mode="constant")
    np.testing.assert_allclose(smooth(fields, 3.0), expected, atol=1e-6)


def test_noise_has_the_requested_std_and_stays_in_range():
    x = np.full((20, 28, 28), 0.5, np.float32)
    out = Augmenter(noise=0.1)(x, np.random.default_rng(7))
    assert np.std(out - x) == pytest.approx(0.1, rel=0.05)
    assert out.min() >= 0 and out.max() <= 1 and out.dtype == np.float32


def test_thickness_dilates_or_erodes_strokes():
    x = bar(rows=slice(10, 13), cols=slice(5, 23), n=60)  # 3 px thick stroke, 54 px of ink
    mass = Augmenter(thickness=1)(x, np.random.default_rng(8)).sum(axis=(1, 2))
    assert set(mass.round().astype(int)) == {16, 54, 96}  # eroded to 1x16, unchanged, dilated to 5x18 + 2x3


@pytest.mark.parametrize(
    "shape,dtype", [((8, 28, 28), np.float32), ((8, 1, 28, 28), np.float64), ((8, 784), np.float32)]
)
def test_shape_and_dtype_kept_input_untouched(shape, dtype):
    x = np.random.default_rng(9).random(shape).astype(dtype)
    before = x.copy()
    out = Augmenter.from_string("shift=2,rotate=12,zoom=0.1,shear=5,elastic=34:4,noise=0.05,thickness=1")(
        x, np.random.default_rng(0)
    )
    assert out.shape == shape and out.dtype == dtype
    np.testing.assert_array_equal(x, before)


def test_same_seed_same_batch():
    x = np.random.default_rng(10).random((16, 28, 28)).astype(np.float32)
    aug = Augmenter.from_string("shift=2,rotate=12,elastic=34:4,noise=0.05")
    a, b = aug(x, np.random.default_rng(42)), aug(x, np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, aug(x, np.random.default_rng(43)))


def test_no_augmentation_returns_an_equal_copy():
    x = np.random.default_rng(11).random((4, 28, 28))
    out = Augmenter()(x, np.random.default_rng(0))
    assert out is not x and np.array_equal(out, x)


def test_bad_inputs():
    with pytest.raises(ValueError, match="float images"):
        Augmenter(shift=1)(np.zeros((2, 28, 28), np.uint8), np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        Augmenter(shift=1)(np.zeros((2, 28, 28)), 0)
    with pytest.raises(ValueError, match="expected images"):
        Augmenter(shift=1)(np.zeros((2, 3, 28, 28)), np.random.default_rng(0))


def test_from_string_to_string_and_config_round_trip():
    aug = Augmenter.from_string(" shift=2, rotate=12,zoom=0.1,elastic=34:4,noise=0.05 ")
    assert aug.get_config() == {
        "shift": 2.0,
        "rotate": 12.0,
        "zoom": 0.1,
        "shear": 0.0,
        "elastic": [34.0, 4.0],
        "noise": 0.05,
        "thickness": 0,
    }
    assert aug.to_string() == "shift=2,rotate=12,zoom=0.1,elastic=34:4,noise=0.05"
    assert Augmenter.from_string(aug.to_string()).get_config() == aug.get_config()
    assert Augmenter(**json.loads(json.dumps(aug.get_config()))).get_config() == aug.get_config()
    assert Augmenter.from_string("").to_string() == "" == Augmenter.from_string("none").to_string()


@pytest.mark.parametrize(
    "text,message",
    [
        ("shift=2,twist=3", "unknown augmentation 'twist'"),
        ("rotate=abc", "bad value in augmentation 'rotate=abc'"),
        ("elastic=34", "ALPHA:SIGMA"),
        ("shift", "bad value in augmentation 'shift'"),
        ("shift=-1", "shift must be a number in"),
        ("zoom=1.5", "zoom must be a number in"),
        ("thickness=1.5", "thickness must be an integer"),
        ("elastic=34:0", "elastic sigma"),
    ],
)
def test_from_string_errors_name_the_problem(text, message):
    with pytest.raises(ValueError, match=message):
        Augmenter.from_string(text)
