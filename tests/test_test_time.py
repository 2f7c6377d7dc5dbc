"""Test-time views (digitnet.test_time): logits averaged over rotated copies, recorded in the model file."""

import numpy as np
import pytest

import digitnet
from digitnet import handwriting, test_time, zoo
from digitnet.data.augment import rotate_images
from digitnet.nn import modelfile


def test_spec_and_check():
    assert test_time.spec(0) == {}
    assert test_time.spec(10) == {"test_time_rotations": [-10.0, 10.0]}
    assert test_time.check([5, -7.5]) == (5.0, -7.5)
    for bad in ("10", [10, "x"], [True], [float("nan")], [46], list(range(9)), {"a": 1}):
        with pytest.raises(ValueError, match="test_time_rotations"):
            test_time.check(bad)


def test_averaged_logits_is_the_mean_over_the_views():
    rng = np.random.default_rng(0)
    images = rng.random((5, 28, 28)).astype(np.float32)
    weights = rng.standard_normal((28 * 28, 3))

    def logits_of(x):
        return x.reshape(len(x), -1) @ weights

    got = test_time.averaged_logits(logits_of, images, (-10.0, 10.0))
    views = [images, rotate_images(images, -10.0), rotate_images(images, 10.0)]
    np.testing.assert_allclose(got, np.mean([logits_of(v) for v in views], axis=0), rtol=1e-6)
    np.testing.assert_array_equal(test_time.averaged_logits(logits_of, images, ()), logits_of(images))


def test_recognizer_applies_the_views_the_model_file_records(tmp_path):
    model = zoo.build("lenet5", seed=1)
    model.preprocessing = handwriting.preprocessing({"scale": 1 / 255, "layout": "image"}, {"tta": 8})
    assert model.preprocessing["test_time_rotations"] == [-8.0, 8.0]
    path = modelfile.save(model, tmp_path / "m.npz")
    rec = digitnet.Recognizer.load(path)
    plain = digitnet.Recognizer.load(path, views=False)
    assert rec.rotations == (-8.0, 8.0) and plain.rotations == ()
    images = (np.random.default_rng(2).random((4, 28, 28)) * 255).astype(np.uint8)
    expected = np.mean([plain.logits(v) for v in (images, rotate_images(images, -8), rotate_images(images, 8))], axis=0)
    np.testing.assert_allclose(rec.logits(images), expected, rtol=1e-6)
    np.testing.assert_array_equal(plain.logits(images), rec.network_logits(images))
    assert not np.allclose(rec.logits(images), plain.logits(images))


def test_a_bad_angle_in_a_model_file_is_refused(tmp_path):
    model = zoo.build("lenet5", seed=1)
    model.preprocessing = {"scale": 1 / 255, "layout": "image", "test_time_rotations": [90]}
    path = modelfile.save(model, tmp_path / "bad.npz")
    with pytest.raises(ValueError, match=r"test_time_rotations holds 90; expected angles in degrees within \+-45"):
        digitnet.Recognizer.load(path)


def test_train_records_the_views_and_evaluate_can_leave_them_out(mnist_path, tmp_path, capsys):
    import json

    from digitnet.cli import main

    run = tmp_path / "run"
    args = ["--dataset", str(mnist_path), "--model", "lenet5", "--epochs", "1", "--train-size", "300"]
    assert main(["train", *args, "--validation", "100", "--tta", "6", "--out", str(run), "--quiet"]) == 0
    model = digitnet.Recognizer.load(run).model
    assert model.preprocessing["test_time_rotations"] == [-6.0, 6.0]
    capsys.readouterr()
    assert main(["evaluate", str(run), "--dataset", str(mnist_path)]) == 0
    assert "rotated by -6, +6 degrees" in capsys.readouterr().out
    assert main(["evaluate", str(run), "--dataset", str(mnist_path), "--json", "--no-tta"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["test_time_rotations"] == [] and report["n"] == 10000


def test_the_app_answers_with_the_views_as_predict_does(tmp_path):
    from PIL import Image, ImageDraw

    from digitnet.app import AppModel
    from digitnet.data.preprocess import to_mnist

    model = zoo.build("lenet5", seed=2)
    model.preprocessing = {"scale": 1 / 255, "layout": "image", "test_time_rotations": [-10.0, 10.0]}
    path = modelfile.save(model, tmp_path / "m.npz")
    drawing = Image.new("L", (120, 120), 0)
    ImageDraw.Draw(drawing).line([(30, 20), (90, 20), (50, 100)], fill=255, width=9)
    drawing = np.asarray(drawing)
    probabilities, saliency, answer = AppModel.load("m", path).answer_drawing(to_mnist(drawing), drawing)
    expected = digitnet.Recognizer.load(path).predict([drawing])[0]
    np.testing.assert_allclose(probabilities, expected.probabilities, rtol=1e-5)
    assert answer.digit == expected.digit and saliency.shape == (28, 28)
    plain = digitnet.Recognizer.load(path, views=False).predict([drawing])[0]
    assert not np.allclose(probabilities, plain.probabilities)
