"""The comparison studies run end to end through the CLI on tiny slices and write the promised files."""

import json

import numpy as np
import pytest

from digitnet.cli import main
from digitnet.studies import BASE, compare, load_subsets, run_one, variants
from digitnet.studies import report

TINY = ["--train-size", "300", "--val-size", "200", "--epochs", "1", "--seeds", "2", "--quiet"]
PNG = b"\x89PNG\r\n\x1a\n"


def read_results(folder):
    with open(folder / "results.json") as f:
        return json.load(f)


@pytest.mark.parametrize(
    "kind,names", [("optimizers", "sgd,adam"), ("activations", "sigmoid,relu"), ("lr", "0.01,0.1")]
)
def test_compare_writes_results_and_curves(kind, names, tmp_path, mnist_path, capsys):
    out = tmp_path / kind
    rc = main(["compare", kind, *TINY, "--variants", names, "--out", str(out), "--data-dir", str(mnist_path)])
    assert rc == 0
    res = read_results(out)
    assert res["study"] == kind and res["config"]["train_size"] == 300 and res["config"]["seeds"] == [0, 1]
    expected_name = {"batch-size": lambda n: f"b{n}", "lr": lambda n: f"lr{float(n):g}"}.get(kind, str)
    assert [v["name"] for v in res["variants"]] == [expected_name(n) for n in names.split(",")]
    for v in res["variants"]:
        assert len(v["runs"]) == 2 and [r["seed"] for r in v["runs"]] == [0, 1]
        for r in v["runs"]:
            h = r["history"]
            assert h["epoch"] == [0, 1] and h["wall_seconds"][0] == 0.0 < h["wall_seconds"][1]
            assert set(h) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "wall_seconds"}
            assert r["final_val_accuracy"] == h["val_accuracy"][-1] and 0 <= r["final_val_accuracy"] <= 1
        values = v["final_val_accuracy"]["values"]
        assert v["final_val_accuracy"]["mean"] == pytest.approx(np.mean(values))
        assert v["final_val_accuracy"]["std"] == pytest.approx(np.std(values, ddof=1))
    assert (out / "curves.png").read_bytes()[:8] == PNG
    printed = capsys.readouterr().out
    assert "val accuracy (mean ± std)" in printed and res["variants"][0]["label"] in printed


def test_every_variant_changes_only_its_own_setting():
    assert [v.name for v in variants("optimizers", BASE)] == [
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "rmsprop",
        "adam",
        "adamw",
    ]
    assert [v.name for v in variants("activations", BASE)] == [
        "linear",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "elu",
        "gelu",
    ]
    assert [v.changes["init"] for v in variants("init", BASE)] == ["normal", "xavier_normal", "he_normal"]
    assert [v.changes["batch_size"] for v in variants("batch-size", BASE, ["1", "256"])] == [1, 256]
    assert [v.name for v in variants("lr", BASE)][:2] == ["lr0.001", "lr0.003"]
    assert variants("init", BASE, ["lecun_uniform"])[0].changes == {"init": "lecun_uniform"}
    fixed = variants("optimizers", {**BASE, "lr": 0.05}, ["sgd", "adam"], lr_fixed=True)
    assert [v.changes["lr"] for v in fixed] == [0.05, 0.05]
    with pytest.raises(ValueError, match="unknown optimizers variant.*'lion'"):
        variants("optimizers", BASE, ["adam", "lion"])
    with pytest.raises(ValueError, match="batch-size variants must be positive"):
        variants("batch-size", BASE, ["0"])


def test_same_seed_same_history_and_divergence_is_reported(mnist_train):
    images, labels = mnist_train
    data = ((images[:200], labels[:200].astype(np.int64)), (images[200:300], labels[200:300].astype(np.int64)))
    a = run_one({**BASE, "hidden": [16]}, 3, 1, *data)
    b = run_one({**BASE, "hidden": [16]}, 3, 1, *data)
    assert a["history"]["loss"] == b["history"]["loss"] and a["history"]["val_accuracy"] == b["history"]["val_accuracy"]
    huge = run_one({**BASE, "hidden": [16], "activation": "linear", "optimizer": "sgd", "lr": 1e9}, 0, 2, *data)
    assert huge["diverged"] and huge["final_val_accuracy"] is None and huge["diverged_in_epoch"] == 1


def test_diverged_variant_in_table(tmp_path, mnist_train):
    images, labels = mnist_train
    data = ((images[:200], labels[:200].astype(np.int64)), (images[200:300], labels[200:300].astype(np.int64)))
    res = compare(
        "lr",
        epochs=1,
        seeds=2,
        base={"hidden": [16], "activation": "linear", "optimizer": "sgd"},
        variant_names=["0.1", "1e9"],
        data=data,
        out=str(tmp_path),
        verbose=False,
    )
    good, bad = res["variants"]
    assert good["diverged"] == 0 and bad["diverged"] == 2 and bad["final_val_accuracy"]["mean"] is None
    text = report.table(res)
    assert "diverged 2/2" in text and "best" in text.splitlines()[3]
    assert report.markdown_table(res).count("\n") == 3
    assert (tmp_path / "curves.png").exists()


def test_compare_loops_agrees_and_times_every_version(tmp_path, mnist_path, capsys):
    out = tmp_path / "loops"
    rc = main(
        [
            "compare",
            "loops",
            "--train-size",
            "12",
            "--epochs",
            "2",
            "--loop-epochs",
            "1",
            "--numpy-loop-epochs",
            "1",
            "--batch-size",
            "4",
            "--tier-batch",
            "0",
            "--out",
            str(out),
            "--data-dir",
            str(mnist_path),
        ]
    )
    assert rc == 0
    res = read_results(out)
    keys = [r["key"] for r in res["rows"]]
    assert keys == [
        "loops-list-b1",
        "loops-numpy-b1",
        "vectorised-float64-b1",
        "vectorised-float32-b1",
        "vectorised-float64-b4",
        "vectorised-float32-b4",
    ]
    for r in res["rows"]:
        assert r["seconds_per_epoch"] > 0 and r["peak_memory_bytes"] > 0 and 0 <= r["test_accuracy"] <= 1
    assert res["rows"][0]["speedup_vs_list_loops"] == 1.0
    assert res["agreement"]["max_abs_loss_difference"] < 1e-12  # same start, same order, same arithmetic
    assert res["rows"][0]["final_loss"] == pytest.approx(res["rows"][1]["final_loss"], abs=1e-12)
    assert res["seed_reference"]["loop_seconds"] == 136.0 and res["seed_reference"]["vectorised_epochs"] == 200
    assert (out / "loops.png").read_bytes()[:8] == PNG
    assert "seed (its machine)" in capsys.readouterr().out


def test_user_errors_are_one_line(tmp_path, mnist_path, capsys):
    base = ["--out", str(tmp_path / "x"), "--data-dir", str(mnist_path)]
    assert main(["compare", "activations", "--model", "lenet5", *base]) == 2
    assert "use --model mlp" in capsys.readouterr().err
    assert main(["compare", "optimizers", "--variants", "sgd,lion", *base]) == 2
    assert "'lion'" in capsys.readouterr().err
    assert main(["compare", "init", "--hidden", "12,x", *base]) == 2
    assert "--hidden must be" in capsys.readouterr().err
    assert main(["compare", "optimizers", "--train-size", "70000", *base]) == 2
    assert "at most the 60000" in capsys.readouterr().err


def test_load_subsets_are_disjoint_and_fixed(mnist_path):
    (tx, ty), (vx, vy) = load_subsets(50, 30, data_dir=mnist_path)
    (tx2, _), _ = load_subsets(50, 30, data_dir=mnist_path)
    assert tx.shape == (50, 28, 28) and vx.shape == (30, 28, 28) and ty.dtype == np.int64
    np.testing.assert_array_equal(tx, tx2)
    assert not {t.tobytes() for t in tx} & {v.tobytes() for v in vx}


def test_bench_quick_inference_structure(tmp_path):
    from digitnet import bench

    out = tmp_path / "bench.json"
    rep = bench.run_all(quick=True, out=str(out), models=["mlp-10"], sections=("inference",), verbose=False)
    saved = json.loads(out.read_text())
    assert saved["machine"]["numpy"] == np.__version__ and saved["machine"]["cores"] >= 1
    assert "OPENBLAS_CORETYPE" in saved["machine"]["environment"]
    assert saved["machine"]["numpy_config"] is None or "Build Dependencies" in saved["machine"]["numpy_config"]
    (row,) = saved["inference"]
    assert row["model"] == "mlp-10" and row["latency_ms_batch1"] > 0 and row["samples_per_s_batch1000"] > 0
    assert saved["summary"][0]["model"] == "mlp-10" and rep["out"] == str(out)
    assert "mlp-10" in bench.format_report(rep)


def test_per_call_ms_calls_warmup_then_calls_times_repeats():
    from digitnet import bench

    count = []
    ms = bench.per_call_ms(lambda: count.append(1), calls=4, repeats=3, warmup=2)
    assert len(count) == 2 + 4 * 3 and ms >= 0


@pytest.mark.slow
def test_bench_quick_everything(tmp_path, mnist_path):
    rc = main(
        ["bench", "--quick", "--models", "mlp-16-16", "--out", str(tmp_path / "b.json"), "--data-dir", str(mnist_path)]
    )
    assert rc == 0
    saved = json.loads((tmp_path / "b.json").read_text())
    assert set(saved) >= {"machine", "training", "loops", "inference", "summary"}
    assert saved["loops"]["rows"] and "error" not in saved["training"]


def test_time_tiers_times_every_tier_on_the_same_batch():
    from digitnet.studies import loop_speed, report

    rng = np.random.default_rng(0)
    rows = loop_speed.time_tiers(
        rng.integers(0, 256, (2, 28, 28)),
        rng.integers(0, 10, 2),
        batch_size=2,
        repeats=1,
        models=("mlp-16-16",),
        verbose=False,
    )
    assert [r["tier"] for r in rows] == ["loops", "reference", "fast"]
    assert all(r["seconds_per_step"] > 0 and r["peak_memory_bytes"] > 0 for r in rows)
    assert rows[2]["times_fast"] == 1.0
    lines = report.tiers_table({"tiers": rows})
    assert len(lines) == 5 and "loops" in lines[2]


@pytest.mark.parametrize(
    "option, value",
    [("--numpy-loop-epochs", "-1"), ("--loop-epochs", "-2"), ("--tier-batch", "-1"), ("--tier-batch", "100000")],
)
def test_compare_loops_rejects_bad_counts_but_zero_skips(option, value, capsys):
    assert main(["compare", "loops", option, value]) != 0
    assert option.lstrip("-") in capsys.readouterr().err
