"""The command line with bad options and in bad situations: exit 2 (or 130/143) with one line, no run
destroyed, SIGTERM like Ctrl-C, no temporary files left behind, --resume continues exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import atomicfile
from badinput_helpers import bounded_memory, cli_error, one_line, snapshot, tiny_model
from digitnet.cli import main
from digitnet.nn import Sequential

TRAIN_OPTIONS = [  # (id, extra args, fragment)
    ("train-size-0", ["--train-size", "0"], "--train-size must be a positive integer, got 0"),
    ("train-size-negative", ["--train-size", "-5"], "--train-size must be a positive integer, got -5"),
    ("validation-1.5", ["--validation", "1.5"], "--validation must be a count"),
    ("validation-negative", ["--validation", "-1"], "--validation must be a count"),
    ("validation-nan", ["--validation", "nan"], "--validation must be a count"),
    ("validation-too-many", ["--validation", "120"], "must leave training images"),
    ("hidden-huge", ["--model", "mlp", "--hidden", "100000000"], "--hidden must be a positive integer"),
    ("hidden-too-many-params", ["--model", "mlp", "--hidden", "90000,90000"], "the limit is 50,000,000"),
    (
        "hidden-zero",
        ["--model", "mlp", "--hidden", "0"],
        "--hidden must be a positive integer (at most 100,000), got 0",
    ),
    ("hidden-text", ["--model", "mlp", "--hidden", "big"], "comma-separated sizes"),
    ("hidden-on-zoo", ["--model", "lenet5", "--hidden", "64"], "--hidden applies to --model mlp only"),
    ("activation-on-zoo", ["--model", "mlp-30", "--activation", "tanh"], "--activation applies to --model mlp"),
    ("dropout-on-zoo", ["--model", "cnn", "--dropout", "0.1"], "--dropout applies to --model mlp"),
    ("init-on-zoo", ["--model", "cnn", "--init", "normal"], "--init applies to --model mlp"),
    ("activation-unknown", ["--model", "mlp", "--activation", "swish"], "--activation must be one of"),
    ("init-unknown", ["--model", "mlp", "--init", "magic"], "--init must be one of"),
    ("dropout-1", ["--model", "mlp", "--dropout", "1"], "--dropout must be a finite number in [0, 1)"),
    ("epochs-0", ["--epochs", "0"], "--epochs must be a positive integer, got 0"),
    ("batch-size-0", ["--batch-size", "0"], "--batch-size must be a positive integer"),
    ("batch-size-huge", ["--batch-size", "100000000"], "--batch-size must be a positive integer"),
    ("lr-0", ["--lr", "0"], "--lr must be a finite number in (0, 10]"),
    ("lr-inf", ["--lr", "inf"], "--lr must be a finite number"),
    ("lr-nan", ["--lr", "nan"], "--lr must be a finite number"),
    ("weight-decay-negative", ["--weight-decay", "-1"], "--weight-decay must be"),
    ("label-smoothing-1", ["--label-smoothing", "1"], "--label-smoothing must be"),
    ("optimizer-unknown", ["--optimizer", "lbfgs"], "--optimizer must be one of"),
    ("schedule-unknown", ["--schedule", "warm"], "--schedule must be one of"),
    ("loss-unknown", ["--loss", "hinge"], "--loss must be one of"),
    ("seed-negative", ["--seed", "-1"], "--seed must be an integer in 0.."),
    ("patience-0", ["--patience", "0"], "--patience must be a positive integer"),
    ("patience-without-validation", ["--patience", "2", "--validation", "0"], "needs validation images"),
    ("model-unknown", ["--model", "resnet"], "--model 'resnet' is not a model"),
    ("augment-bad", ["--augment", "spin=3"], "unknown augmentation 'spin'"),
    ("dataset-unknown", ["--dataset", "kmnist"], "unknown dataset 'kmnist'"),
]


@pytest.mark.parametrize("extra,fragment", [c[1:] for c in TRAIN_OPTIONS], ids=[c[0] for c in TRAIN_OPTIONS])
def test_train_options_are_checked_before_anything_runs(idx_folder, tmp_path, capsys, extra, fragment):
    args = [
        "train",
        "--dataset",
        idx_folder,
        "--validation",
        "20",
        "--epochs",
        "1",
        "--out",
        tmp_path / "run",
        "--quiet",
    ]
    with bounded_memory():  # refused before any model or data is built
        line = cli_error(capsys, args + extra)
    assert fragment in line
    assert not (tmp_path / "run").exists() or not os.listdir(tmp_path / "run")


TOML_CASES = [
    ("epochs-string", 'epochs = "5"', "--epochs must be a positive integer, got '5'"),
    ("epochs-float", "epochs = 2.5", "--epochs must be a positive integer, got 2.5"),
    ("hidden-strings", 'model = "mlp"\nhidden = ["a"]', "--hidden must be a list of layer sizes"),
    ("hidden-table", 'model = "mlp"\nhidden = {a = 1}', "--hidden must be a list"),
    ("lr-string", 'lr = "fast"', "--lr must be a finite number"),
    ("lr-bool", "lr = true", "--lr must be a finite number"),
    ("model-number", "model = 5", "--model 5 is not a model"),
    ("validation-string", 'validation = "all"', "--validation must be a count"),
    ("out-number", "out = 3", "--out must be a folder name"),
    ("unknown-key", "colour = 1", "unknown option(s) colour"),
    ("not-toml", "epochs = = 3", "not valid TOML"),
    ("augment-number", "augment = 3", "--augment must be text"),
]


@pytest.mark.parametrize("text,fragment", [c[1:] for c in TOML_CASES], ids=[c[0] for c in TOML_CASES])
def test_toml_types_are_one_line(idx_folder, tmp_path, capsys, text, fragment):
    config = tmp_path / "run.toml"
    config.write_text(text + "\n")
    assert fragment in cli_error(capsys, ["train", "--dataset", idx_folder, "--config", config, "--quiet"])


def test_toml_not_utf8(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_bytes(b"epochs = \xff\n")
    assert "not valid TOML" in cli_error(capsys, ["train", "--config", config])


def test_toml_dataset_key_is_honoured(idx_folder, tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text(f'dataset = "{idx_folder}"\nmodel = "mlp"\nhidden = [8]\nepochs = 1\nvalidation = 20\n')
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["dataset"] == str(idx_folder)


def test_zoo_model_config_records_no_mlp_options(idx_folder, tmp_path):
    assert (
        main(
            [
                "train",
                "--dataset",
                str(idx_folder),
                "--model",
                "mlp-10",
                "--epochs",
                "1",
                "--validation",
                "20",
                "--out",
                str(tmp_path / "run"),
                "--quiet",
            ]
        )
        == 0
    )
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert not {"hidden", "activation", "dropout", "init"} & set(config)


def _train(folder, out, *extra):
    return main(
        [
            "train",
            "--dataset",
            str(folder),
            "--model",
            "mlp",
            "--hidden",
            "8",
            "--epochs",
            "2",
            "--validation",
            "20",
            "--schedule",
            "constant",
            "--out",
            str(out),
            "--quiet",
            *map(str, extra),
        ]
    )


def test_existing_run_is_never_replaced_without_overwrite(idx_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(idx_folder, out) == 0
    capsys.readouterr()
    before = snapshot(out)
    for extra in ([], ["--epochs", "1"]):
        line = cli_error(capsys, ["train", "--dataset", idx_folder, "--model", "mlp", "--out", out, *extra])
        assert "--overwrite" in line and "--resume" in line
    assert snapshot(out) == before
    assert _train(idx_folder, out, "--overwrite", "--seed", "3") == 0
    assert json.loads((out / "config.json").read_text())["seed"] == 3


def test_out_that_is_a_file(idx_folder, tmp_path, capsys):
    (tmp_path / "f").write_text("keep me")
    assert "is a file" in cli_error(capsys, ["train", "--dataset", idx_folder, "--out", tmp_path / "f"])
    assert (tmp_path / "f").read_text() == "keep me"


def test_resume_continues_exactly(idx_folder, tmp_path):
    straight, stopped = tmp_path / "a", tmp_path / "b"
    assert _train(idx_folder, straight, "--epochs", "3") == 0
    assert _train(idx_folder, stopped, "--epochs", "1") == 0
    assert main(["train", "--resume", str(stopped), "--epochs", "3", "--quiet"]) == 0
    a, b = Sequential.load(straight / "last.npz"), Sequential.load(stopped / "last.npz")
    for (_, p, _), (_, q, _) in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)
    rows = [json.loads(line) for line in (stopped / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]


RESUME_CASES = [
    ("no-folder", lambda t: t / "nope", [], "no config.json"),
    (
        "no-last",
        lambda t: (t / "r").mkdir() or (t / "r" / "config.json").write_text("{}") and t / "r",
        [],
        "no last.npz",
    ),
    ("bad-config", lambda t: _fake_run(t, "{not json"), [], "config.json is damaged"),
    ("foreign-config", lambda t: _fake_run(t, '{"colour": 1}'), [], "does not hold digitnet train options"),
    ("with-options", lambda t: _fake_run(t, "{}"), ["--lr", "0.1"], "only --epochs may be given"),
    ("with-out", lambda t: _fake_run(t, "{}"), ["--out", "x"], "only --epochs may be given"),
    ("epochs-0", lambda t: _fake_run(t, "{}"), ["--epochs", "0"], "--epochs must be a positive integer"),
    ("bad-last", lambda t: _fake_run(t, '{"model": "mlp"}'), [], "not a digitnet model file"),
]


def _fake_run(tmp, config_text):
    run = tmp / "r"
    run.mkdir()
    (run / "config.json").write_text(config_text)
    (run / "last.npz").write_bytes(b"garbage")
    return run


@pytest.mark.parametrize("make,extra,fragment", [c[1:] for c in RESUME_CASES], ids=[c[0] for c in RESUME_CASES])
def test_bad_resume_is_one_line(tmp_path, capsys, make, extra, fragment):
    run = make(tmp_path)
    assert fragment in cli_error(capsys, ["train", "--resume", run, *extra])


def test_sigterm_saves_says_how_to_resume_and_leaves_no_temp_files(idx_folder, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "digitnet",
            "train",
            "--dataset",
            str(idx_folder),
            "--model",
            "mlp",
            "--hidden",
            "8",
            "--epochs",
            "100000",
            "--validation",
            "20",
            "--schedule",
            "constant",
            "--out",
            str(out),
            "--quiet",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        (out / "metrics.jsonl").exists() and (out / "metrics.jsonl").stat().st_size > 0
    ):
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143
    line = one_line(err)
    assert line.startswith("digitnet: terminated: stopped during epoch") and f"--resume {out}" in line
    assert not [p for p in os.listdir(out) if p.startswith(".tmp-")]
    epochs = Sequential.load(out / "last.npz").epochs_done
    assert main(["train", "--resume", str(out), "--epochs", str(epochs + 1), "--quiet"]) == 0
    assert Sequential.load(out / "last.npz").epochs_done == epochs + 1


def test_interrupt_before_the_first_epoch_says_nothing_was_saved(idx_folder, tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Sequential, "fit", interrupted)
    status = main(
        [
            "train",
            "--dataset",
            str(idx_folder),
            "--model",
            "mlp",
            "--validation",
            "20",
            "--out",
            str(tmp_path / "run"),
            "--quiet",
        ]
    )
    assert status == 130
    line = one_line(capsys.readouterr().err)
    assert "nothing was saved yet" in line and "--overwrite" in line


def test_stale_temp_files_are_removed_by_the_next_save(tmp_path):
    model = tiny_model(optimizer=False)
    dead = tmp_path / f"{atomicfile.temp_prefix(tmp_path / 'model.npz')}999999999-abc.tmp"  # no such pid
    dead.write_bytes(b"half a model")
    old = tmp_path / ".tmp-abcd1234.npz"  # the old naming, from a killed save long ago
    old.write_bytes(b"half")
    os.utime(old, (time.time() - 2 * atomicfile.STALE_SECONDS,) * 2)
    mine = tmp_path / f"{atomicfile.temp_prefix(tmp_path / 'model.npz')}{os.getpid()}-x.tmp"  # a live writer
    mine.write_bytes(b"in progress")
    model.save(tmp_path / "model.npz")
    assert not dead.exists() and not old.exists() and mine.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")) == [mine.name]


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError, ValueError])
def test_temp_file_removed_on_every_exit_path(tmp_path, error):
    def writer(f):
        f.write(b"half")
        raise error("stopped")

    with pytest.raises(error):
        atomicfile.write(tmp_path / "x.npz", writer)
    assert os.listdir(tmp_path) == []


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    model = tiny_model(optimizer=False)
    path = model.save(tmp_path / "model.npz")
    before = open(path, "rb").read()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert open(path, "rb").read() == before and os.listdir(tmp_path) == ["model.npz"]


OTHER_COMMANDS = [
    ("view-index", ["view", "M", "--index", "-1"], "--index must be an integer >= 0"),
    ("view-wrong", ["view", "M", "--wrong", "-2"], "--wrong must be an integer >= 0"),
    ("robustness-n", ["robustness", "M", "--n", "0"], "--n must be an integer in 1..10000"),
    ("robustness-shift", ["robustness", "M", "--max-shift", "99"], "--max-shift must be an integer in 0..14"),
    ("compare-seeds", ["compare", "optimizers", "--seeds", "0"], "--seeds must be a positive integer"),
    ("compare-epochs", ["compare", "optimizers", "--epochs", "-1"], "--epochs must be a positive integer"),
    ("compare-lr", ["compare", "optimizers", "--lr", "-1"], "--lr must be a finite number"),
    ("bench-threads", ["bench", "--threads", "0"], "--threads must be a positive integer"),
    ("draw-threshold", ["draw", "M", "--threshold", "2"], "--threshold must be between 0 and 1"),
    ("draw-port", ["draw", "M", "--port", "70000"], "--port must be between 0 and 65535"),
    ("draw-save-rate", ["draw", "M", "--save-rate", "-1"], "--save-rate must be an integer"),
    ("draw-save-quota", ["draw", "M", "--save-quota", "nan"], "--save-quota must be a finite number"),
    ("predict-missing-model", ["predict", "nope.npz", "x.png"], "does not exist"),
    ("evaluate-folder-without-model", ["evaluate", "."], "without model.npz"),
]


@pytest.mark.parametrize("argv,fragment", [c[1:] for c in OTHER_COMMANDS], ids=[c[0] for c in OTHER_COMMANDS])
def test_other_commands_validate_options(tmp_path, capsys, monkeypatch, argv, fragment):
    monkeypatch.chdir(tmp_path)
    model = tiny_model(optimizer=False).save(tmp_path / "m.npz")
    argv = [model if a == "M" else a for a in argv]
    assert fragment in cli_error(capsys, argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--epochs", "abc"],
        ["train", "--dtype", "float16"],
        ["nope"],
        ["train", "--lr"],
        ["predict"],
        ["draw", "--port", "http"],
    ],
    ids=["int-text", "bad-choice", "no-command", "missing-value", "missing-arg", "port-text"],
)
def test_usage_errors_are_one_line(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    line = one_line(capsys.readouterr().err)
    assert ": error: " in line and "--help" in line
