"""``digitnet export``: writes the file, refuses to overwrite, verifies, and fails in one line without onnx."""

import sys

import numpy as np
from export_helpers import ort, run_session

from digitnet import cli, nn, zoo


def saved_model(tmp_path):
    model = zoo.build("mlp-16-16", seed=1)
    model.preprocessing = {"scale": 1 / 255, "layout": "image"}
    return model, nn.save(model, tmp_path / "run" / "model.npz")


def test_export_run_folder_writes_model_onnx(tmp_path, capsys, random_images):
    model, _ = saved_model(tmp_path)
    assert cli.main(["export", str(tmp_path / "run")]) == 0
    target = tmp_path / "run" / "model.onnx"
    assert "wrote" in capsys.readouterr().out and target.exists()
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    expected = model.predict_proba(random_images[:, None].astype(np.float32) / 255)
    assert np.abs(run_session(session, random_images)["probabilities"] - expected).max() < 1e-5
    assert cli.main(["export", str(tmp_path / "run")]) == 2  # exists: refused
    assert "--overwrite" in capsys.readouterr().err
    assert cli.main(["export", str(tmp_path / "run"), "--overwrite", "-o", str(tmp_path / "x.onnx")]) == 0


def test_test_time_views_are_left_out_of_the_graph_and_said_so(tmp_path, capsys, random_images):
    model = zoo.build("mlp-16-16", seed=1)
    model.preprocessing = {"scale": 1 / 255, "layout": "image", "test_time_rotations": [-10.0, 10.0]}
    nn.save(model, tmp_path / "run" / "model.npz")
    assert cli.main(["export", str(tmp_path / "run")]) == 0
    assert "copies rotated by -10, +10 degrees) are not in it" in capsys.readouterr().out
    session = ort.InferenceSession(str(tmp_path / "run" / "model.onnx"), providers=["CPUExecutionProvider"])
    expected = model.predict_proba(random_images[:, None].astype(np.float32) / 255)  # the image alone
    assert np.abs(run_session(session, random_images)["probabilities"] - expected).max() < 1e-5


def test_export_with_verify(tmp_path, capsys, mnist_path):
    _, path = saved_model(tmp_path)
    out = tmp_path / "m.onnx"
    assert cli.main(["export", path, "-o", str(out), "--verify", "200", "--data-dir", str(mnist_path)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "on 200 test images" in line and "200/200" in line
    assert float(line.split("probabilities ")[1].split(",")[0]) < 1e-5


def test_export_errors_are_one_line(tmp_path, capsys, monkeypatch):
    _, path = saved_model(tmp_path)
    assert cli.main(["export", path, "-o", str(tmp_path / "m.txt")]) == 2
    assert "must end in .onnx" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if the optional package were not installed
    assert cli.main(["export", path, "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'digitnet[onnx]'" in err
    assert not (tmp_path / "m.onnx").exists()
