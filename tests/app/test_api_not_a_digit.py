"""The app's prediction answers come from digitnet.Recognizer: temperature and 'not a digit' with its reason."""

import numpy as np
from PIL import Image, ImageDraw

from digitnet import zoo
from digitnet.app import DrawingApp
from digitnet.app.models import AppModel
from digitnet.nn import modelfile


def _pixels(image):
    return (np.asarray(image, np.float64) / 255).tolist()


def test_rejected_drawings_carry_the_reason_and_calibrated_probabilities(tmp_path):
    model = zoo.build("lenet5", seed=5)
    model.calibration = {"method": "temperature", "temperature": 3.0}
    model.rejection = {"method": "max_softmax", "threshold": 0.99, "min_shape_ratio": 1.6}
    app_model = AppModel.load("calibrated", modelfile.save(model, tmp_path / "m.npz"))
    app = DrawingApp([app_model], save_dir=tmp_path / "drawings")
    dot = Image.new("L", (140, 140), 255)
    ImageDraw.Draw(dot).ellipse([60, 60, 74, 74], fill=0)
    seven = Image.new("L", (140, 140), 255)
    ImageDraw.Draw(seven).line([(30, 20), (110, 20), (60, 120)], fill=0, width=10)
    dot_answer = app.predict({"pixels": _pixels(dot)})["models"][0]
    assert dot_answer["not_a_digit"] and dot_answer["reason"] == "too little ink" and dot_answer["unsure"]
    answer = app.predict({"pixels": _pixels(seven)})["models"][0]
    assert answer["not_a_digit"] is False and answer["reason"] is None
    verdict = app_model.recognizer.predict([seven])[0]
    assert np.allclose(answer["probabilities"], verdict.probabilities, atol=1e-4)  # the same numbers as predict
