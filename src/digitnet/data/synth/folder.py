"""Write pictures as a folder ``digitnet evaluate --images`` reads: NNNNN.png files and labels.csv.

labels.csv has the columns ``file,label`` and, when any picture is a negative, ``kind``: digits have label
0-9 and kind "digit"; "not a digit" pictures have label -1 and their negative kind (blank, dot, ...).
The folder is written under a temporary name beside ``path`` and renamed into place at the end, so an
interrupted run leaves nothing half-written at ``path``.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

NOT_A_DIGIT = -1


def _is_synth_folder(path: Path) -> bool:
    """Does ``path`` look like a folder this module wrote (labels.csv and only .png / .csv files)?"""
    names = os.listdir(path)
    return "labels.csv" in names and all(n.endswith((".png", ".csv")) and (path / n).is_file() for n in names)


def write_folder(path, images, labels, kinds=None, overwrite=False) -> Path:
    """Write ``images`` (uint8 (h, w) arrays) with ``labels`` (ints: 0-9, or -1 for not a digit) and
    optional ``kinds`` (str per image) to the folder ``path``; returns it.

    Refuses an existing non-empty folder unless ``overwrite``, and even then only one that holds nothing but
    a previous output (labels.csv and .png files)."""
    path = Path(path)
    labels = [int(v) for v in np.asarray(labels).ravel()]
    if len(labels) != len(images):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels; expected the same count")
    if any(not (0 <= v <= 9 or v == NOT_A_DIGIT) for v in labels):
        raise ValueError(f"labels must be digits 0-9 or {NOT_A_DIGIT} (not a digit), got {sorted(set(labels))}")
    if kinds is not None and len(kinds) != len(images):
        raise ValueError(f"got {len(images)} images but {len(kinds)} kinds; expected the same count")
    if kinds is None and NOT_A_DIGIT in labels:
        raise ValueError("negatives (label -1) need their kinds")
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} exists and is not a folder")
    if path.is_dir() and os.listdir(path):
        if not overwrite:
            raise ValueError(f"{path} exists and is not empty; choose a new folder or pass --overwrite")
        if not _is_synth_folder(path):
            raise ValueError(
                f"{path} holds files other than a previous labels.csv and .png pictures; refusing to overwrite it"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        rows = []
        for i, image in enumerate(images):
            image = np.asarray(image)
            if image.dtype != np.uint8 or image.ndim != 2:
                raise ValueError(f"image {i}: expected uint8 (h, w) grayscale, got {image.dtype} {image.shape}")
            name = f"{i:05d}.png"
            Image.fromarray(image).save(work / name)
            row = {"file": name, "label": labels[i]}
            if kinds is not None:
                row["kind"] = kinds[i]
            rows.append(row)
        with open(work / "labels.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["file", "label"] + (["kind"] if kinds is not None else []))
            writer.writeheader()
            writer.writerows(rows)
        if path.is_dir():
            shutil.rmtree(path)
        os.replace(work, path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return path
