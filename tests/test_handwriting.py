"""The main job's hooks: generator digits and negatives mixed in, temperature and threshold fitted after training."""

import numpy as np
import pytest

from digitnet import handwriting, zoo
from digitnet.data.inputs import centre_by_mass
from digitnet.recognizer import Recognizer


def test_training_images_appends_digits_and_label_10_negatives():
    x = np.zeros((5, 28, 28), np.uint8)
    y = np.arange(5)
    cfg = {"synthetic": 20, "negatives": 18, "seed": 1}
    xx, yy = handwriting.training_images(x, y, cfg)
    assert xx.shape == (43, 28, 28) and xx.dtype == np.uint8
    assert (yy[5:25] < 10).all() and (yy[25:] == 10).all()
    assert handwriting.model_options({**cfg, "model": "reader"}) == {"classes": 11}
    assert handwriting.model_options({"model": "reader"}) == {"classes": 10} and handwriting.model_options({}) == {}
    with pytest.raises(ValueError, match="negatives need a model"):
        handwriting.model_options({"model": "cnn", "negatives": 10})
    assert handwriting.training_images(x, y, {})[0] is x
    with pytest.raises(ValueError, match="counts >= 0"):
        handwriting.training_images(x, y, {"synthetic": -1})


def test_two_processes_draw_the_same_training_images_as_one():
    x, y = np.zeros((2, 28, 28), np.uint8), np.arange(2)
    cfg = {"synthetic": 12, "negatives": 9, "seed": 3}
    one = handwriting.training_images(x, y, cfg, workers=1)
    two = handwriting.training_images(x, y, cfg, workers=2)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])


def test_fit_after_training_stores_a_valid_temperature_and_threshold():
    rng = np.random.default_rng(0)
    model = zoo.build("lenet-wide", classes=11, c1=4, c2=8, dense=16, seed=2)
    images = (rng.random((300, 28, 28)) ** 8 * 255).astype(np.uint8)
    labels = rng.integers(0, 10, 300)
    out = handwriting.fit_after_training(model, images, labels)
    assert model.calibration["temperature"] > 0 and model.rejection["method"] == "reject_class"
    assert out["rejection"]["reject_class"] == 10
    rec = Recognizer(model)  # the fitted record passes the library's validation
    verdict = rec.verdicts(images)
    assert verdict["rejected"].mean() <= 0.05  # the threshold rejects at most ~0.5% of these + ink checks


def test_centre_by_mass_moves_whole_pixels_and_keeps_blanks():
    a = np.zeros((2, 28, 28), np.float32)
    a[0, 2:6, 3:7] = 1.0  # centre of mass (3.5, 4.5): moved by rint(10.5), rint(9.5) = (10, 10) px
    out = centre_by_mass(a)
    assert out[0].sum() == a[0].sum() and out[0, 12:16, 13:17].all() and not out[1].any()
    assert handwriting.preprocessing({"scale": 1}, {"centre": "mass"})["centre"] == "mass"
    with pytest.raises(ValueError, match="centre must be one of"):
        handwriting.preprocessing({}, {"centre": "middle"})
