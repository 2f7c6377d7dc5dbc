"""Not-a-digit scores, threshold fitting, ink checks and the rejection record's validation."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet import rejection


def test_scores_of_each_method():
    z = np.array([[2.0, 0.0, 0.0, 0, 0, 0, 0, 0, 0, 0, 0.0], [0.0] * 10 + [5.0]])
    e = np.exp(z)
    p_reject = e[:, 10] / e.sum(axis=1)
    assert rejection.scores(z, {"method": "reject_class"}) == pytest.approx(p_reject)
    digits = e[:, :10] / e[:, :10].sum(axis=1, keepdims=True)
    assert rejection.scores(z, {"method": "max_softmax"}) == pytest.approx(1 - digits.max(axis=1))
    energy = -np.log(np.exp(z[:, :10] / 2).sum(axis=1)) * 2
    assert rejection.scores(z, {"method": "energy"}, temperature=2.0) == pytest.approx(energy)
    assert rejection.scores(z, {}).tolist() == [0.0, 0.0]


def test_fit_threshold_rejects_at_most_the_target_share():
    s = np.arange(1000) / 1000.0
    t = rejection.fit_threshold(s, target=0.01)
    assert (s > t).mean() <= 0.01 and (s > t).sum() == 10
    assert rejection.fit_threshold(s, target=0.0) == s.max()
    with pytest.raises(ValueError, match="target rejection share"):
        rejection.fit_threshold(s, target=1.5)


def test_check_names_the_bad_value():
    with pytest.raises(ValueError, match="unknown rejection method 'magic'"):
        rejection.check({"method": "magic", "threshold": 0.5})
    with pytest.raises(ValueError, match="threshold must be a finite number, got nan"):
        rejection.check({"method": "max_softmax", "threshold": float("nan")})
    with pytest.raises(ValueError, match="needs reject_class 10"):
        rejection.check({"method": "reject_class", "threshold": 0.5})
    with pytest.raises(ValueError, match="has 11 outputs, this one has 10"):
        rejection.check({"method": "reject_class", "threshold": 0.5, "reject_class": 10}, n_outputs=10)
    record = rejection.config("max_softmax", np.linspace(0, 1, 201), target=0.01)
    assert record["method"] == "max_softmax" and record["threshold"] == pytest.approx(0.99)


def _canvas(draw, size=200):
    img = Image.new("L", (size, size), 255)
    draw(ImageDraw.Draw(img))
    return img


def test_ink_checks_catch_blank_and_specks_but_pass_digits():
    rules = {"method": "ink"}
    blank = _canvas(lambda d: None)
    dot = _canvas(lambda d: d.ellipse([90, 90, 104, 104], fill=0))
    big_dot = _canvas(lambda d: d.ellipse([40, 40, 160, 160], fill=0))
    one = _canvas(lambda d: d.line([(100, 30), (100, 170)], fill=0, width=14))
    seven = _canvas(lambda d: d.line([(50, 40), (150, 40), (90, 170)], fill=0, width=10))
    assert rejection.ink_reason(blank, rules) == "blank"
    assert rejection.ink_reason(dot, rules) == "too little ink"
    assert rejection.ink_reason(big_dot, rules) == "too little ink"
    assert rejection.ink_reason(one, rules) is None and rejection.ink_reason(seven, rules) is None
    assert rejection.ink_reason(dot, {}) is None  # no rejection settings: never rejects
    light_on_dark = Image.fromarray(255 - np.asarray(dot))
    assert rejection.ink_reason(light_on_dark, rules) == "too little ink"


def test_ink_features_when_the_brightest_pixel_was_a_dropped_speck():
    # a faint blob and, far from it, one black pixel: to_mnist's speck removal drops the pixel, and with it
    # the ink's peak, so no ink is above 0.5 any more (this crashed `evaluate --images` on a generated dot)
    img = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(img).ellipse([60, 60, 120, 120], fill=170)
    img.putpixel((180, 180), 0)
    features = rejection.ink_features(img)
    assert not features["blank"] and 40 <= features["stroke_width"] <= 62 and features["longer_side"] >= 55
    assert rejection.ink_reason(img, {"method": "ink"}) == "too little ink"
