"""The command line through main(argv), on a small slice of real MNIST."""

import json

import pytest

from digitnet.cli import main


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, mnist_path):
    """A small MLP trained for 2 epochs on 3,000 images: enough to be clearly better than chance."""
    out = tmp_path_factory.mktemp("runs") / "mlp-small"
    code = main(
        [
            "train",
            "--model",
            "mlp",
            "--hidden",
            "64",
            "--epochs",
            "2",
            "--train-size",
            "3000",
            "--validation",
            "500",
            "--data-dir",
            str(mnist_path),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    return out


def test_train_writes_run_folder(trained_run, capsys):
    assert (trained_run / "model.npz").exists()
    config = json.loads((trained_run / "config.json").read_text())
    assert config["hidden"] == [64] and config["epochs"] == 2
    rows = [json.loads(line) for line in (trained_run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[-1]["val_accuracy"] > 0.8


def test_evaluate_json(trained_run, mnist_path, capsys):
    assert main(["evaluate", str(trained_run), "--json", "--data-dir", str(mnist_path)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["n"] == 10000 and rep["accuracy"] > 0.8
    assert len(rep["confusion_matrix"]) == 10 and sum(map(sum, rep["confusion_matrix"])) == 10000
    assert set(rep["halves"]) == {"first", "last", "split_at"}
    assert rep["top2_accuracy"] >= rep["accuracy"]
    assert len(rep["confident_mistakes"]) == 10


def test_evaluate_text_view_info(trained_run, mnist_path, capsys, tmp_path):
    assert main(["evaluate", str(trained_run), "--data-dir", str(mnist_path)]) == 0
    out = capsys.readouterr().out
    assert "confusion matrix" in out and "top-2 accuracy" in out and "first 5000 images" in out
    png = tmp_path / "view.png"
    assert main(["view", str(trained_run), "--wrong", "--png", str(png), "--data-dir", str(mnist_path)]) == 0
    out = capsys.readouterr().out
    assert "WRONG" in out and "<- guess" in out and png.exists()
    assert main(["info", str(trained_run)]) == 0
    out = capsys.readouterr().out
    assert "total parameters" in out and "test_accuracy" in out


def test_predict_own_image(trained_run, tmp_path, capsys):
    from PIL import Image, ImageDraw

    img = Image.new("L", (200, 300), 255)  # a dark "1" on white paper, off-centre
    ImageDraw.Draw(img).line([(60, 40), (60, 260)], fill=0, width=18)
    path = tmp_path / "one.png"
    img.save(path)
    assert main(["predict", str(trained_run), str(path), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res[0]["file"] == str(path) and len(res[0]["probabilities"]) == 10
    assert res[0]["prediction"] == 1


def test_plot_writes_pngs(trained_run, mnist_path, tmp_path, capsys):
    out = tmp_path / "plots"
    assert main(["plot", str(trained_run), "--out", str(out), "--data-dir", str(mnist_path)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "confusion.png",
        "learning_curves.png",
        "mistakes.png",
        "reliability.png",
        "selective.png",
        "weights.png",
    ]


def test_robustness_small(trained_run, mnist_path, tmp_path, capsys):
    out = tmp_path / "rob"
    assert (
        main(
            [
                "robustness",
                str(trained_run),
                "--n",
                "300",
                "--only",
                "shift",
                "--only",
                "fgsm",
                "--out",
                str(out),
                "--data-dir",
                str(mnist_path),
            ]
        )
        == 0
    )
    res = json.loads((out / "results.json").read_text())["mlp-small"]
    right = res["shift"]["accuracy"]["right"]
    assert len(right) == 7 and right[4] < right[0] - 0.2  # a 4-px shift hurts an MLP badly
    assert res["fgsm"]["accuracy"][-1] < res["fgsm"]["accuracy"][0]
    assert (out / "shift.png").exists() and (out / "fgsm_examples.png").exists()
    sample = json.loads((out / "sample.json").read_text())
    assert sample["n"] == 300 and sample["of"] == 10000 and sample["seed"] == 0 and len(set(sample["indices"])) == 300
    assert max(sample["indices"]) > 300, "a random sample, not the first 300"
    assert "using 300 of 10000 test images, a random sample with seed 0" in capsys.readouterr().out


def test_view_wrong_counts_from_one(trained_run, mnist_path, capsys):
    assert main(["view", str(trained_run), "--wrong", "--data-dir", str(mnist_path)]) == 0
    first = capsys.readouterr().out
    assert main(["view", str(trained_run), "--wrong", "1", "--data-dir", str(mnist_path)]) == 0
    assert capsys.readouterr().out == first and first.startswith("mistake 1 of ")
    assert main(["view", str(trained_run), "--wrong", "2", "--data-dir", str(mnist_path)]) == 0
    assert capsys.readouterr().out.startswith("mistake 2 of ")
    assert main(["view", str(trained_run), "--wrong", "0", "--data-dir", str(mnist_path)]) == 2
    assert "--wrong counts from 1" in capsys.readouterr().err


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digitnet: error: ") and "nope.npz" in err and "Traceback" not in err
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert main(["info", str(bad)]) == 2
    assert "not a digitnet model file" in capsys.readouterr().err
    assert main(["train", "--model", "mlp", "--epochs", "0", "--data-dir", str(tmp_path)]) == 2
    assert "epochs must be a positive integer, got 0" in capsys.readouterr().err


def test_help_has_examples(capsys):
    for cmd in ["train", "evaluate", "predict", "view", "plot", "info", "robustness"]:
        with pytest.raises(SystemExit) as exc:
            main([cmd, "--help"])
        assert exc.value.code == 0
        assert "examples:" in capsys.readouterr().out


def test_view_and_robustness_score_digits_of_an_11_output_model(mnist_path, tmp_path, capsys):
    """A reader-style model (11th output "not a digit"): view counts the mistakes evaluate counts (the most
    likely of the 10 digits), shows 10 bars, and robustness scores the same digits."""
    from digitnet import robustness as rb
    from digitnet import zoo
    from digitnet.calibration import predict_digits
    from digitnet.data.datasets import load
    from digitnet.data.inputs import model_inputs

    model = zoo.build("lenet-wide", classes=11, c1=2, c2=4, dense=8, seed=3)
    model.rejection = {"method": "reject_class", "threshold": 0.9, "reject_class": 10}
    path = tmp_path / "m.npz"
    model.save(str(path))
    images, labels = load("mnist", "test", data_dir=str(mnist_path))
    pred = predict_digits(model, model_inputs(images, model))
    assert pred.max() <= 9
    assert main(["view", str(path), "--wrong", "--data-dir", str(mnist_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"mistake 1 of {int((pred != labels).sum())}\n")
    assert "\n10 " not in out and out.count("%") >= 10
    assert rb.accuracy(model, images[:500], labels[:500]) == float((pred[:500] == labels[:500]).mean())
