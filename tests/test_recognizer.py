"""digitnet.Recognizer: one inference path for paths, PIL images and arrays; predict/evaluate through it."""

import csv
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

import digitnet
from digitnet import zoo
from digitnet.cli import main
from digitnet.data.preprocess import to_mnist
from digitnet.nn import modelfile

REJECT = {"method": "max_softmax", "threshold": 0.5, "min_shape_ratio": 1.6}


def _seven(size=120, dark_on_light=True):
    img = Image.new("L", (size, size), 255 if dark_on_light else 0)
    s = size / 120
    ImageDraw.Draw(img).line(
        [(30 * s, 20 * s), (90 * s, 20 * s), (50 * s, 100 * s)],
        fill=0 if dark_on_light else 255,
        width=max(2, int(9 * s)),
    )
    return img


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    model = zoo.build("lenet5", seed=3)
    model.preprocessing = {"scale": 1 / 255, "layout": "image"}
    model.calibration = {"method": "temperature", "temperature": 2.0, "fitted_on": "validation"}
    model.rejection = dict(REJECT)
    return modelfile.save(model, tmp_path_factory.mktemp("rec") / "model.npz")


def test_paths_pil_arrays_and_both_polarities_agree(model_file, tmp_path):
    rec = digitnet.Recognizer.load(model_file)
    path = tmp_path / "seven.png"
    _seven().save(path)
    dark = np.asarray(_seven())
    answers = rec.predict([str(path), _seven(), dark, 255 - dark, _seven(300), np.asarray(_seven(), float) / 255])
    ref = answers[0]
    for r in answers[1:3] + answers[5:]:
        assert r.digit == ref.digit and r.probabilities == pytest.approx(ref.probabilities, abs=1e-6)
    assert answers[3].probabilities == pytest.approx(ref.probabilities, abs=1e-6)  # light on dark: same input
    assert len(ref.probabilities) == 10 and sum(ref.probabilities) == pytest.approx(1.0)
    assert rec.predict(str(path))[0].digit == ref.digit  # a single item works too
    rgb = np.stack([dark] * 3, axis=-1)
    assert len(rec.predict(rgb)) == 1 and rec.predict(rgb)[0].digit == ref.digit
    assert len(rec.predict(np.stack([dark, dark]))) == 2  # a stack (N, H, W)


def test_temperature_and_rejection_are_applied(model_file):
    rec = digitnet.Recognizer.load(model_file)
    image28 = to_mnist(_seven())
    logits = rec.model.predict_logits(image28[None, None])[0].astype(np.float64)
    expected = np.exp(logits / 2 - (logits / 2).max())
    expected /= expected.sum()
    r = rec.predict([_seven()])[0]
    assert r.probabilities == pytest.approx(expected, rel=1e-5)
    assert r.score == pytest.approx(1 - expected.max(), abs=1e-5)
    assert r.not_a_digit == (r.score > REJECT["threshold"])
    blank = rec.predict([np.full((50, 50), 255, np.uint8)])[0]
    assert blank.not_a_digit and blank.reason == "blank" and blank.blank


def test_old_model_files_without_the_new_fields_behave_as_before(tmp_path):
    model = zoo.build("lenet5", seed=4)
    path = modelfile.save(model, tmp_path / "old.npz")
    data = dict(np.load(path))
    header = json.loads(bytes(data["__header__"]).decode())
    for key in ("calibration", "rejection"):
        header.pop(key, None)
    data["__header__"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(tmp_path / "older.npz", **data)
    rec = digitnet.Recognizer.load(tmp_path / "older.npz")
    assert rec.temperature == 1.0 and rec.rejection == {}
    r = rec.predict([_seven(), np.full((40, 40), 255, np.uint8)])
    assert r[0].probabilities == pytest.approx(model.predict_proba(to_mnist(_seven())[None, None])[0], rel=1e-5)
    assert not r[0].not_a_digit and r[0].score is None
    assert not r[1].not_a_digit and r[1].blank  # a blank is flagged, but an old model never rejects


def test_bad_model_settings_are_refused(tmp_path):
    model = zoo.build("lenet5")
    model.rejection = {"method": "reject_class", "threshold": 0.5, "reject_class": 10}
    with pytest.raises(ValueError, match="has 11 outputs"):
        digitnet.Recognizer(model)
    model = zoo.build("lenet-wide", classes=11, c1=4, c2=8, dense=16)
    with pytest.raises(ValueError, match="has 10 outputs"):
        digitnet.Recognizer(model)
    model.rejection = {"method": "reject_class", "threshold": 0.5, "reject_class": 10}
    r = digitnet.Recognizer(model).predict([_seven()])[0]
    assert len(r.probabilities) == 10 and 0 <= r.score <= 1


def test_predict_command_text_and_json(model_file, tmp_path, capsys):
    seven, white = tmp_path / "seven.png", tmp_path / "white.png"
    _seven().save(seven)
    Image.new("L", (64, 64), 255).save(white)
    assert main(["predict", str(model_file), str(seven), str(white)]) == 0
    out = capsys.readouterr().out
    assert "white.png: not a digit (blank)" in out and "nan" not in out.lower()
    assert main(["predict", str(model_file), str(seven), str(white), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res[1]["not_a_digit"] is True and res[1]["reason"] == "blank"
    assert set(res[0]) >= {"file", "prediction", "confidence", "probabilities", "not_a_digit", "score", "reason"}


def test_evaluate_images_counts_rejections_separately(model_file, tmp_path, capsys):
    rows = []
    for i in range(4):
        _seven(80 + 20 * i, dark_on_light=i % 2 == 0).save(tmp_path / f"d{i}.png")
        rows.append([f"d{i}.png", 7, ""])
    Image.new("L", (60, 60), 255).save(tmp_path / "blank.png")
    rows.append(["blank.png", -1, "blank"])
    with open(tmp_path / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows([["file", "label", "kind"], *rows])
    assert main(["evaluate", str(model_file), "--images", str(tmp_path), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["n"] == 4 and rep["rejection"]["negatives"]["blank"] == {"n": 1, "rejected": 1.0}
    assert 0 <= rep["calibration"]["ece"] <= 1 and rep["calibration"]["temperature"] == 2.0
    assert [s["coverage"] for s in rep["selective_accuracy"]][0] == 1.0
    assert main(["evaluate", str(model_file), "--images", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ECE (15 bins)" in out and "not a digit, blank" in out and "selective accuracy" in out
