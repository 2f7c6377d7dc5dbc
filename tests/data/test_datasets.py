"""Datasets: real MNIST figures, where files are looked for, downloads through a fake opener, splits, inputs."""

import gzip
import hashlib
import io
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from digitnet.data import (
    DATASETS,
    DataNotFoundError,
    apply_spec,
    dataset_dir,
    download,
    load,
    preprocessing_spec,
    to_input,
    write_idx,
)
from digitnet.data.datasets import FILES, SPLITS, Dataset

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # from the data README
FASHION_DEBIAN = Path("/usr/share/datasets/fashion-mnist")


# ----------------------------------------------------------------------------- real MNIST


def test_mnist_train_matches_the_published_figures(mnist_train):
    images, labels = mnist_train
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == MNIST_TRAIN_COUNTS
    assert images.mean() == pytest.approx(33.318, abs=5e-4)
    assert images.std() == pytest.approx(78.567, abs=5e-4)


def test_mnist_test_split(mnist_test):
    images, labels = mnist_test
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert labels.max() == 9 and np.bincount(labels).min() > 800


def test_loaded_arrays_are_cached_and_read_only(mnist_path):
    a = load("mnist", "test", data_dir=mnist_path, download=False)
    b = load("mnist", "test", data_dir=mnist_path, download=False)
    assert a[0] is b[0]
    with pytest.raises(ValueError, match="read-only"):
        a[0][0, 0, 0] = 1


def test_checksum_table_matches_the_real_mnist_files(mnist_path):
    for name in FILES:
        ok, detail = DATASETS["mnist"].verify(mnist_path / name, name)
        assert ok and detail == "sha256 ok", detail


@pytest.mark.skipif(not FASHION_DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_table_accepts_debians_recompressed_copy():
    for name in FILES:  # Debian re-gzipped the files: the content checksum is what matches
        assert DATASETS["fashion-mnist"].verify(FASHION_DEBIAN / name, name) == (True, "content sha256 ok")
    images, labels = load("fashion-mnist", "test", data_dir=FASHION_DEBIAN, download=False)
    assert images.shape == (10000, 28, 28) and np.bincount(labels).tolist() == [1000] * 10


# ----------------------------------------------------------------------------- where files are looked for


def test_env_var_may_point_straight_at_the_mnist_folder(mnist_path, monkeypatch):
    monkeypatch.setenv("DIGITNET_DATA", str(mnist_path))
    assert dataset_dir("mnist") == mnist_path
    assert dataset_dir("fashion-mnist") == mnist_path / "fashion-mnist"  # same file names, other content


def test_folder_is_recognised_by_content_whatever_its_name(mnist_path, tmp_path):
    folder = tmp_path / "my-digits"
    folder.mkdir()
    shutil.copy(mnist_path / "t10k-labels-idx1-ubyte.gz", folder)
    assert dataset_dir("mnist", folder) == folder
    assert dataset_dir("fashion-mnist", folder) == folder / "fashion-mnist"


def test_parent_folder_with_subfolders_and_precedence(tmp_path, monkeypatch):
    (tmp_path / "env" / "mnist").mkdir(parents=True)
    monkeypatch.setenv("DIGITNET_DATA", str(tmp_path / "env"))
    assert dataset_dir("mnist") == tmp_path / "env" / "mnist"
    assert dataset_dir("mnist", tmp_path / "arg") == tmp_path / "arg" / "mnist"  # the argument wins
    assert dataset_dir("mnist", tmp_path / "mnist") == tmp_path / "mnist"  # named after the dataset
    monkeypatch.delenv("DIGITNET_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert dataset_dir("fashion-mnist") == tmp_path / "home" / ".cache" / "digitnet" / "fashion-mnist"


def test_unknown_names(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'kmnist'"):
        load("kmnist")
    with pytest.raises(ValueError, match="unknown split 'val'"):
        load("mnist", split="val", data_dir=tmp_path)


# ----------------------------------------------------------------------------- a tiny dataset and a fake server


def _tiny_files(folder: Path, n_train=5, n_test=3) -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        write_idx(folder / SPLITS[split][0], rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / SPLITS[split][1], rng.integers(0, 10, n, dtype=np.uint8))
    return {name: (folder / name).read_bytes() for name in FILES}


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A registered dataset "tiny" whose files a FakeServer serves; returns (files, data folder)."""
    files = _tiny_files(tmp_path / "origin")
    sums = {
        name: (hashlib.sha256(data).hexdigest(), hashlib.sha256(gzip.decompress(data)).hexdigest())
        for name, data in files.items()
    }
    mirrors = ("https://a.example/", "https://b.example/", "https://c.example/")
    monkeypatch.setitem(DATASETS, "tiny", Dataset("tiny", "Tiny test set", mirrors, sums, {"train": 5, "test": 3}))
    return files, tmp_path / "data"


class FakeResponse(io.BytesIO):
    def __init__(self, body, status, length=None):
        super().__init__(body)
        self.status = status
        self.headers = {"Content-Length": str(len(body) if length is None else length)}


class FakeServer:
    """opener(request, timeout): serves {url: bytes}; honours Range unless told not to; records requests."""

    def __init__(self, files, mirror="https://a.example/", down=(), corrupt=(), no_range=False, cut=None):
        self.files = {mirror + name: data for name, data in files.items()}
        self.down, self.corrupt, self.no_range, self.cut = down, corrupt, no_range, cut
        self.requests = []

    def __call__(self, request, timeout=None):
        url, wanted = request.full_url, request.get_header("Range")
        self.requests.append((url, wanted))
        if any(url.startswith(m) for m in self.down):
            raise urllib.error.URLError("connection refused")
        if url not in self.files:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        data = self.files[url]
        if any(url.startswith(m) for m in self.corrupt):
            data = data[:-1] + bytes([data[-1] ^ 1])
        if wanted and not self.no_range:
            start = int(wanted.removeprefix("bytes=").removesuffix("-"))
            if start >= len(data):
                raise urllib.error.HTTPError(url, 416, "Range Not Satisfiable", {}, None)
            return FakeResponse(data[start:], 206)
        if self.cut is not None:  # the connection drops after `cut` bytes
            return FakeResponse(data[: self.cut], 200, length=len(data))
        return FakeResponse(data, 200)


def test_download_falls_back_to_the_next_mirror(tiny):
    files, root = tiny
    server = FakeServer(files, mirror="https://b.example/", down=("https://a.example/",))
    folder = download("tiny", root, opener=server)
    assert folder == root / "tiny"
    assert {name: (folder / name).read_bytes() for name in FILES} == files
    assert [u for u, _ in server.requests[:2]] == ["https://a.example/" + FILES[0], "https://b.example/" + FILES[0]]
    assert not list(folder.glob("*.part"))


def test_bad_checksum_deletes_the_file_and_moves_on(tiny):
    files, root = tiny
    server = FakeServer(files, corrupt=("https://a.example/",))
    server.files.update({u.replace("a.example", "b.example"): d for u, d in server.files.items()})
    download("tiny", root, opener=server, files=[FILES[1]])
    assert (root / "tiny" / FILES[1]).read_bytes() == files[FILES[1]]
    assert server.requests == [("https://a.example/" + FILES[1], None), ("https://b.example/" + FILES[1], None)]


def test_resume_partial_file_with_a_range_request(tiny):
    files, root = tiny
    name = FILES[0]
    (root / "tiny").mkdir(parents=True)
    (root / "tiny" / (name + ".part")).write_bytes(files[name][:1000])
    server = FakeServer(files)
    download("tiny", root, opener=server, files=[name])
    assert server.requests == [("https://a.example/" + name, "bytes=1000-")]
    assert (root / "tiny" / name).read_bytes() == files[name]


def test_server_ignoring_range_gets_a_full_download(tiny):
    files, root = tiny
    name = FILES[0]
    (root / "tiny").mkdir(parents=True)
    (root / "tiny" / (name + ".part")).write_bytes(files[name][:1000])
    download("tiny", root, opener=FakeServer(files, no_range=True), files=[name])
    assert (root / "tiny" / name).read_bytes() == files[name]  # rewritten from byte 0, not appended


def test_dropped_connection_is_resumed_from_the_next_mirror(tiny):
    files, root = tiny
    name = FILES[0]
    first = FakeServer(files, cut=500)
    second = FakeServer(files, mirror="https://b.example/")
    opener = lambda request, timeout=None: (first if "a.example" in request.full_url else second)(request)  # noqa: E731
    download("tiny", root, opener=opener, files=[name])
    assert second.requests == [("https://b.example/" + name, "bytes=500-")]
    assert (root / "tiny" / name).read_bytes() == files[name]


def test_complete_part_file_answered_416_is_verified_and_kept(tiny):
    files, root = tiny
    name = FILES[1]
    (root / "tiny").mkdir(parents=True)
    (root / "tiny" / (name + ".part")).write_bytes(files[name])
    download("tiny", root, opener=FakeServer(files), files=[name])
    assert (root / "tiny" / name).read_bytes() == files[name]


def test_offline_error_says_which_files_go_where(tiny):
    files, root = tiny
    server = FakeServer(files, down=("https://a.example/", "https://b.example/"), corrupt=("https://c.example/",))
    server.files.update({u.replace("a.example", "c.example"): d for u, d in server.files.items()})
    with pytest.raises(DataNotFoundError) as info:
        download("tiny", root, opener=server)
    message = str(info.value)
    for needle in [
        *FILES,
        str(root / "tiny"),
        "--data-dir",
        "DIGITNET_DATA",
        "https://b.example/",
        "connection refused",
        "checksum mismatch",
    ]:
        assert needle in message
    assert not [p for p in (root / "tiny").iterdir()]  # no half files, no .part files left
    assert isinstance(info.value, FileNotFoundError)


def test_load_downloads_missing_files_of_the_split(tiny, monkeypatch):
    files, root = tiny
    server = FakeServer(files)
    monkeypatch.setattr(urllib.request, "urlopen", server)
    images, labels = load("tiny", "test", data_dir=root)
    assert images.shape == (3, 28, 28) and labels.shape == (3,)
    assert sorted(p.name for p in (root / "tiny").iterdir()) == sorted(SPLITS["test"])


def test_load_without_download_reports_missing_files(tiny):
    _, root = tiny
    with pytest.raises(DataNotFoundError, match="missing t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz"):
        load("tiny", "test", data_dir=root, download=False)


def test_progress_bar_is_silent_off_a_terminal_and_shown_on_request(tiny, capsys):
    files, root = tiny
    download("tiny", root, opener=FakeServer(files), files=[FILES[0]])
    assert capsys.readouterr().err == ""
    download("tiny", root / "again", opener=FakeServer(files), files=[FILES[0]], progress=True)
    assert FILES[0] in capsys.readouterr().err


def test_real_checksums_accept_original_and_recompressed_mnist(mnist_path, tmp_path):
    name = "t10k-labels-idx1-ubyte.gz"
    original = (mnist_path / name).read_bytes()
    recompressed = gzip.compress(gzip.decompress(original), mtime=0)
    assert recompressed != original
    for i, data in enumerate([original, recompressed]):
        server = FakeServer({name: data}, mirror=DATASETS["mnist"].mirrors[0])
        folder = download("mnist", tmp_path / f"copy{i}", opener=server, files=[name])
        assert (folder / name).read_bytes() == data


# ----------------------------------------------------------------------------- folders of IDX files


def test_any_idx_folder_loads_by_path(tmp_path):
    _tiny_files(tmp_path / "mine")
    (tmp_path / "mine" / SPLITS["test"][0]).rename(tmp_path / "mine" / "t10k-images-idx3-ubyte.raw")
    images = np.zeros((3, 28, 28), np.uint8)
    write_idx(tmp_path / "mine" / "t10k-images-idx3-ubyte", images)  # uncompressed files are found too
    x, y = load(str(tmp_path / "mine"), "test")
    assert x.shape == (3, 28, 28) and y.shape == (3,)


def test_image_and_label_counts_must_agree(tmp_path):
    _tiny_files(tmp_path / "mine")
    write_idx(tmp_path / "mine" / SPLITS["train"][1], np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="holds 5 images but .* holds 4 labels"):
        load(str(tmp_path / "mine"), "train")


def test_missing_files_in_a_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="Put the files in"):
        load(str(tmp_path / "empty"))


# ----------------------------------------------------------------------------- inputs


def test_to_input_scales_and_lays_out():
    images = np.array([[[0, 255], [51, 102]]] * 3, dtype=np.uint8)
    x = to_input(images)
    assert x.shape == (3, 1, 2, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, 0], [[0, 1], [0.2, 0.4]], rtol=1e-6)
    flat = to_input(images, layout="flat", dtype=np.float64)
    assert flat.shape == (3, 4) and flat.dtype == np.float64


def test_spec_is_json_and_replays_exactly():
    spec = json.loads(json.dumps(preprocessing_spec("flat", mean=0.1307, std=0.3081)))
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    expected = ((images / 255 - 0.1307) / 0.3081).reshape(4, 784)
    np.testing.assert_allclose(apply_spec(images, spec), expected, rtol=1e-5, atol=1e-6)
    floats = images / 255.0  # float images are taken as already in [0, 1]
    np.testing.assert_allclose(
        apply_spec(floats, {"scale": 1 / 255, "layout": "image", "augment": "shift=2"}), floats[:, None], rtol=1e-6
    )
    with pytest.raises(ValueError, match="layout"):
        apply_spec(images, {"layout": "nhwc"})
