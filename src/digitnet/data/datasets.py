"""MNIST, Fashion-MNIST and any folder of IDX files in the same layout: find, download, load, split.

Layout: four files per dataset (gzip-compressed ``.gz`` or raw)::

    train-images-idx3-ubyte.gz   uint8 (N_train, 28, 28)     train-labels-idx1-ubyte.gz   uint8 (N_train,)
    t10k-images-idx3-ubyte.gz    uint8 (N_test, 28, 28)      t10k-labels-idx1-ubyte.gz    uint8 (N_test,)

Where the files are looked for (``dataset_dir``). The base folder is the ``data_dir`` argument (CLI
``--data-dir``), else ``$DIGITNET_DATA``, else ``~/.cache/digitnet``. Then:

1. ``<base>/<name>/`` if that folder exists (a parent folder holding one subfolder per dataset);
2. else ``<base>`` itself if it holds the dataset directly: it is named ``<name>``, or its labels file
   has this dataset's content (so ``DIGITNET_DATA=../shared/data/mnist`` works for "mnist" but is not
   mistaken for Fashion-MNIST, whose file names are the same);
3. else ``<base>/<name>/``, where ``download`` puts the files.

``load("path/to/folder")`` reads any folder in this layout (no download, no checksums). The names
"mnist" and "fashion-mnist" take precedence over folders with those names; write "./mnist" for those.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitnet.data.download import fetch
from digitnet.data.idx import read_idx

SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
FILES = SPLITS["train"] + SPLITS["test"]
ENV_VAR = "DIGITNET_DATA"


class DataNotFoundError(FileNotFoundError):
    """Dataset files are missing and could not be downloaded; the message says what to put where."""


@dataclass(frozen=True)
class Dataset:
    """A published dataset: mirrors (base URLs) and, per .gz file, (SHA-256 of the .gz, SHA-256 of its content)."""

    name: str
    title: str
    mirrors: tuple[str, ...]
    sha256: dict[str, tuple[str, str]]
    counts: dict[str, int] = field(default_factory=lambda: {"train": 60000, "test": 10000})
    class_names: tuple[str, ...] = tuple(str(d) for d in range(10))

    def verify(self, path, filename: str) -> tuple[bool, str]:
        """Is ``path`` the published ``filename``? The .gz must match byte for byte, or (a re-compressed
        copy) its decompressed content must match. Returns (ok, what was found)."""
        gz_sum, raw_sum = self.sha256[filename]
        got = _sha256(path)
        if got == gz_sum:
            return True, "sha256 ok"
        try:
            with gzip.open(path, "rb") as f:
                if _sha256(f) == raw_sum:
                    return True, "content sha256 ok"
        except (OSError, EOFError):
            pass
        return False, f"checksum mismatch for {filename}: sha256 {got}, expected {gz_sum}"


# MNIST: the widely published SHA-256 sums of the original files.
# Fashion-MNIST: Debian's dataset-fashion-mnist package ships upstream's data re-compressed and upstream's
# README with the MD5s of the original .gz files. Re-adding the original gzip header (file name, mtime
# 2017-08-31) to Debian's deflate streams reproduces all four published MD5s; the SHA-256s below are of
# those reconstructed originals, and of the decompressed content (identical in both).
DATASETS = {
    "mnist": Dataset(
        "mnist",
        "MNIST handwritten digits",
        (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        {
            "train-images-idx3-ubyte.gz": (
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            "train-labels-idx1-ubyte.gz": (
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
            "t10k-images-idx3-ubyte.gz": (
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        },
    ),
    "fashion-mnist": Dataset(
        "fashion-mnist",
        "Fashion-MNIST (Zalando) clothing images",
        (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        ),
        {
            "train-images-idx3-ubyte.gz": (
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            ),
            "train-labels-idx1-ubyte.gz": (
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            ),
            "t10k-images-idx3-ubyte.gz": (
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ),
        },
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
}

_CACHE: OrderedDict = OrderedDict()  # (paths, mtimes, sizes) -> (images, labels), read-only arrays
_CACHE_SIZE = 4


def _sha256(source) -> str:
    h = hashlib.sha256()
    f = open(source, "rb") if isinstance(source, (str, os.PathLike)) else source
    with f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def find_file(folder, filename: str) -> Path | None:
    """``folder/filename`` (a .gz name), or its uncompressed twin without .gz, or None."""
    for candidate in (filename, filename.removesuffix(".gz")):
        path = Path(folder) / candidate
        if path.is_file():
            return path
    return None


def base_dir(data_dir=None) -> Path:
    """``data_dir``, else ``$DIGITNET_DATA``, else ``~/.cache/digitnet``."""
    return Path(data_dir or os.environ.get(ENV_VAR) or Path.home() / ".cache" / "digitnet").expanduser()


def _holds(folder: Path, dataset: Dataset) -> bool:
    """Does ``folder`` directly hold ``dataset``? True if named after it or its labels content matches."""
    if folder.name == dataset.name:
        return True
    for labels in (SPLITS["test"][1], SPLITS["train"][1]):
        path = find_file(folder, labels)
        if path is not None:
            try:
                with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
                    return _sha256(f) == dataset.sha256[labels][1]
            except (OSError, EOFError):
                return False
    return False


def check_base_dir(data_dir=None) -> Path:
    """The base folder, which must exist when ``data_dir`` or ``$DIGITNET_DATA`` names it (the command
    line calls this first, so a mistyped --data-dir creates no folders). Only the default cache is created."""
    base = base_dir(data_dir)
    named = data_dir or os.environ.get(ENV_VAR)
    if named and not base.is_dir():
        where = "--data-dir" if data_dir else f"${ENV_VAR}"
        what = "is not a folder" if base.exists() else "does not exist"
        raise DataNotFoundError(
            f"data folder {str(base)!r} ({where}) {what}; expected a folder holding the "
            f"dataset files or a subfolder per dataset"
        )
    return base


def dataset_dir(name: str = "mnist", data_dir=None) -> Path:
    """The folder holding (or to hold) dataset ``name``; the rule is in this module's docstring."""
    dataset = _registered(name)
    base = base_dir(data_dir)
    if (base / name).is_dir() or not _holds(base, dataset):
        return base / name
    return base


def _registered(name: str) -> Dataset:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)} or a folder of IDX files")
    return DATASETS[name]


def _missing_message(title: str, folder: Path, missing, failures=(), mirrors=()) -> str:
    text = f"{title}: missing {', '.join(missing)} in {folder}\n"
    if failures:
        text += "Download failed:\n  " + "\n  ".join(failures) + "\n"
    if mirrors:
        text += f"Download the files from one of {', '.join(mirrors)} and put them in {folder}\n"
    else:
        text += f"Put the files in {folder}\n"
    return text + (
        f"or point --data-dir (or ${ENV_VAR}) at a folder holding the four files {', '.join(FILES)}, "
        f"or at its parent folder holding them in a subfolder named after the dataset."
    )


def download(name: str = "mnist", data_dir=None, opener=None, progress=None, files=FILES) -> Path:
    """Fetch the missing ``files`` of dataset ``name``, trying its mirrors in turn; return its folder.

    Each file is verified against its SHA-256 before it is renamed into place. Raises
    ``DataNotFoundError`` listing every failure and what to put where when a file cannot be had.
    """
    dataset = _registered(name)
    folder = dataset_dir(name, data_dir)
    failures, missing = [], []
    for filename in files:
        if find_file(folder, filename) is not None:
            continue
        errors = fetch(
            [m + filename for m in dataset.mirrors],
            folder / filename,
            lambda path, f=filename: dataset.verify(path, f),
            opener=opener,
            progress=progress,
        )
        if errors:
            failures += errors
            missing.append(filename)
    if missing:
        raise DataNotFoundError(_missing_message(dataset.title, folder, missing, failures, dataset.mirrors))
    return folder


_download = download  # load() has a parameter named download


def load(name: str = "mnist", split: str = "train", data_dir=None, download: bool = True, progress=None):
    """(images uint8 (N, 28, 28), labels uint8 (N,)) of a split of a dataset or of an IDX folder.

    ``name``: "mnist", "fashion-mnist" or a folder path. Missing files of a named dataset are downloaded
    unless ``download=False``. Results are cached in-process and returned READ-ONLY (copy to modify).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'test'")
    dataset = DATASETS.get(name)
    if dataset is None:
        if not Path(name).is_dir():
            raise ValueError(
                f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)} "
                f"or a folder holding {', '.join(FILES)}"
            )
        folder, title = Path(name), f"IDX folder {name}"
    else:
        folder, title = dataset_dir(name, data_dir), dataset.title
    paths = [find_file(folder, f) for f in SPLITS[split]]
    if None in paths:
        missing = _all_missing(folder, split)
        if dataset is None or not download:
            raise DataNotFoundError(
                _missing_message(title, folder, missing, mirrors=dataset.mirrors if dataset else ())
            )
        try:
            _download(name, data_dir, progress=progress, files=SPLITS[split])
        except DataNotFoundError as exc:  # name every file still missing, not only this split's
            still = _all_missing(folder, split)
            rest = str(exc).split("\n", 1)[1] if "\n" in str(exc) else ""
            raise DataNotFoundError(f"{title}: missing {', '.join(still)} in {folder}\n{rest}") from None
        paths = [find_file(folder, f) for f in SPLITS[split]]
    key = tuple((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    _check(images, labels, paths, dataset.counts[split] if dataset else None)
    images.flags.writeable = False
    labels.flags.writeable = False
    _CACHE[key] = (images, labels)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return images, labels


def _check(images, labels, paths, expected_count):
    if images.dtype != np.uint8 or images.ndim != 3 or 0 in images.shape:
        raise ValueError(f"{paths[0]}: expected uint8 images (N, rows, cols), got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"{paths[1]}: expected uint8 labels (N,), got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(
            f"{paths[0]} holds {len(images)} images but {paths[1]} holds {len(labels)} labels; expected the same count"
        )
    if expected_count is not None and images.shape != (expected_count, 28, 28):
        raise ValueError(f"{paths[0]}: expected shape ({expected_count}, 28, 28), got {images.shape}")


def _all_missing(folder, split) -> list[str]:
    """Every missing file, this split's first: commands need both splits, so a user hears of all at once."""
    order = list(SPLITS[split]) + [f for f in FILES if f not in SPLITS[split]]
    return [f for f in order if find_file(folder, f) is None]
