"""Bad IDX files and dataset folders: one IDXError/DataNotFoundError line, sizes checked before allocating."""

from __future__ import annotations

import gzip
import shutil
import struct

import numpy as np
import pytest

from badinput_helpers import bounded_memory, cli_error, one_line, snapshot
from digitnet.data import load
from digitnet.data.datasets import FILES, SPLITS, DataNotFoundError
from digitnet.data.idx import IDXError, read_idx


def _idx(code, shape, payload=b""):
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


IDX_CASES = [  # (id, raw bytes, fragment)
    ("100GB-raw", _idx(0x08, (100_000, 1_000_000)), "the limit is"),
    ("100GB-float64", _idx(0x0E, (60000, 28, 28, 1000)), "the limit is"),
    ("claims-more-than-file", _idx(0x08, (60000, 28, 28), bytes(1000)), "payload too short"),
    ("claims-less-than-file", _idx(0x08, (2, 2), bytes(10)), "bytes after the payload"),
    ("bad-magic", b"\x01\x02\x08\x01" + bytes(8), "bad magic number"),
    ("bad-type", _idx(0x0A, (3,), bytes(3)), "bad magic number"),
    ("zero-dims", b"\x00\x00\x08\x00", "0 dimensions"),
    ("255-dims", b"\x00\x00\x08\xff" + bytes(4 * 255), "at most 32"),
    ("cut-in-magic", b"\x00\x00", "magic number"),
    ("cut-in-sizes", b"\x00\x00\x08\x03\x00\x00", "dimension sizes"),
    ("empty", b"", "magic number"),
    ("text", b"hello, world, this is text", "bad magic number"),
]


@pytest.mark.parametrize("raw,fragment", [c[1:] for c in IDX_CASES], ids=[c[0] for c in IDX_CASES])
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_bad_idx_files(tmp_path, raw, fragment, gz):
    path = tmp_path / ("f.idx" + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(raw, mtime=0) if gz else raw)
    with bounded_memory():
        with pytest.raises(IDXError) as info:
            read_idx(path)
    message = one_line(str(info.value))
    assert str(path) in message
    if not (gz and fragment in ("payload too short",)):
        assert fragment in message or (gz and "cannot hold" in message)


def test_gzip_claim_beyond_deflate_ratio_is_refused_before_allocating(tmp_path):
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(_idx(0x08, (900_000, 28, 28)) + bytes(1000)))  # 700 MB claimed in <1 kB
    with bounded_memory(8 << 20):
        with pytest.raises(IDXError, match="cannot hold more than"):
            read_idx(path)


def test_corrupt_and_truncated_gzip(tmp_path):
    good = gzip.compress(_idx(0x08, (4, 4), bytes(16)))
    path = tmp_path / "c.gz"
    path.write_bytes(good[:-6])
    with pytest.raises(IDXError, match="truncated gzip"):
        read_idx(path)
    path.write_bytes(good[:10] + b"\xff" * 8 + good[18:])
    with pytest.raises(IDXError):
        read_idx(path)


def _copy(idx_folder, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(idx_folder, folder)
    return folder


def test_dataset_claiming_100GB_gives_one_line(idx_folder, tmp_path, capsys):
    folder = _copy(idx_folder, tmp_path)
    (folder / SPLITS["train"][0]).write_bytes(gzip.compress(_idx(0x08, (130_000_000, 28, 28)) + bytes(100)))
    with bounded_memory():
        with pytest.raises(IDXError):
            load(str(folder), "train")
    line = cli_error(
        capsys, ["train", "--dataset", folder, "--model", "mlp", "--epochs", "1", "--out", tmp_path / "run"]
    )
    assert "the limit is" in line or "cannot hold" in line
    assert not (tmp_path / "run").exists()


DATASET_CASES = [
    ("labels-count", lambda f: _write(f, SPLITS["train"][1], np.zeros(7, np.uint8)), "the same count"),
    ("labels-2d", lambda f: _write(f, SPLITS["train"][1], np.zeros((120, 2), np.uint8)), "expected uint8 labels"),
    ("labels-int32", lambda f: _write(f, SPLITS["train"][1], np.zeros(120, np.int32)), "expected uint8 labels"),
    ("images-2d", lambda f: _write(f, SPLITS["train"][0], np.zeros((120, 784), np.uint8)), "expected uint8 images"),
    (
        "images-float",
        lambda f: _write(f, SPLITS["train"][0], np.zeros((120, 28, 28), np.float32)),
        "expected uint8 images",
    ),
    ("images-empty", lambda f: _write(f, SPLITS["train"][0], np.zeros((0, 28, 28), np.uint8)), "expected uint8 images"),
    ("images-garbage", lambda f: (f / SPLITS["train"][0]).write_bytes(b"garbage"), "not"),
]


def _write(folder, name, array):
    from digitnet.data.idx import write_idx

    write_idx(folder / name, array)


@pytest.mark.parametrize("damage,fragment", [c[1:] for c in DATASET_CASES], ids=[c[0] for c in DATASET_CASES])
def test_damaged_dataset_folders(idx_folder, tmp_path, damage, fragment):
    folder = _copy(idx_folder, tmp_path)
    damage(folder)
    with pytest.raises(ValueError) as info:
        load(str(folder), "train")
    assert fragment in one_line(str(info.value)) or fragment == "not"


def test_offline_error_lists_every_missing_file(tmp_path, capsys):
    folder = tmp_path / "mnist"
    folder.mkdir()
    with pytest.raises(DataNotFoundError) as info:
        load("mnist", "train", data_dir=folder, download=False)
    for name in FILES:
        assert name in str(info.value)
    line = cli_error(capsys, ["evaluate", tmp_path / "nope.npz", "--data-dir", folder])
    assert "nope.npz" in line


def test_offline_error_in_a_folder_names_the_other_split_too(idx_folder, tmp_path):
    folder = _copy(idx_folder, tmp_path)
    (folder / SPLITS["test"][0]).unlink()
    (folder / SPLITS["train"][1]).unlink()
    with pytest.raises(DataNotFoundError) as info:
        load(str(folder), "train")
    assert SPLITS["train"][1] in str(info.value) and SPLITS["test"][0] in str(info.value)


def test_mistyped_data_dir_creates_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    line = cli_error(capsys, ["train", "--model", "mlp", "--epochs", "1", "--data-dir", tmp_path / "typo" / "x"])
    assert "does not exist" in line and "typo" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_data_dir_that_is_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert "is not a folder" in cli_error(capsys, ["train", "--model", "mlp", "--data-dir", tmp_path / "f"])


def test_failed_load_damages_nothing(idx_folder, tmp_path):
    folder = _copy(idx_folder, tmp_path)
    (folder / SPLITS["train"][1]).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    before = snapshot(folder)
    with pytest.raises(IDXError):
        load(str(folder), "train")
    assert snapshot(folder) == before


class _Response:
    def __init__(self, length_header, chunks):
        self.status, self.headers, self._chunks = (
            200,
            {"Content-Length": length_header} if length_header else {},
            list(chunks),
        )

    def read(self, n):
        return self._chunks.pop(0) if self._chunks else b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(
    "length,chunks,fragment",
    [
        ("99999999999", [b"x"], "the limit is"),
        ("\u00b2", [b"x"], "bad Content-Length"),
        (None, [bytes(1 << 16)] * 20, "sent more than"),
    ],
    ids=["declared-too-big", "odd-content-length", "endless-stream"],
)
def test_download_size_is_bounded(tmp_path, monkeypatch, length, chunks, fragment):
    import importlib

    dl = importlib.import_module("digitnet.data.download")  # the package exports a function of that name

    monkeypatch.setattr(dl, "MAX_BYTES", 1 << 20)
    failures = dl.fetch(
        ["https://mirror.example/f.gz"],
        tmp_path / "f.gz",
        lambda p: (True, "ok"),
        opener=lambda request, timeout: _Response(length, chunks),
        progress=False,
    )
    assert len(failures) == 1 and fragment in failures[0]
    assert list(tmp_path.iterdir()) == []  # nothing half-written kept for a refused file
