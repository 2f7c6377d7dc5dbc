"""``digitnet synth``: writes a folder evaluate reads; one-line errors for bad options."""

import csv

import pytest

from digitnet.cli import main


def test_synth_writes_digits_and_negatives(tmp_path, capsys):
    out = tmp_path / "set"
    assert (
        main(
            [
                "synth",
                str(out),
                "--n",
                "10",
                "--sizes",
                "16,28",
                "--negatives",
                "dot,blank",
                "--n-negatives",
                "2",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    assert "wrote 14 pictures" in capsys.readouterr().out
    with open(out / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 14 and sorted({r["kind"] for r in rows}) == ["blank", "digit", "dot"]
    assert {r["label"] for r in rows if r["kind"] != "digit"} == {"-1"}
    assert main(["synth", str(out), "--n", "3", "--sizes", "16"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["synth", str(out), "--n", "3", "--sizes", "16", "--overwrite"]) == 0


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--split", "test", "--split must be heldout or train, got 'test'"),
        ("--n", "many", "--n must be an integer"),
        ("--sizes", "16,4", "--sizes must be comma-separated"),
        ("--seed", "-2", "--seed must be an integer"),
        ("--negatives", "dots", "unknown kind 'dots'"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, capsys, option, value, message):
    assert main(["synth", str(tmp_path / "x"), option, value]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()
