"""Run folders and model files: where ``digitnet train`` puts models, and how commands and the app find them.

runs/<run name>/model.npz      a run folder (plus config.json, metrics.jsonl, ...)

model_file("runs/lenet5")      -> "runs/lenet5/model.npz" (a file path is returned as given)
find_models(["runs"])          every model file a list of files / run folders / folders of runs names
model_name("runs/lenet5/model.npz") -> "lenet5"
"""

from __future__ import annotations

import glob
import os

MODEL_FILE = "model.npz"
RUNS = "runs"


def model_file(path) -> str:
    """The model file a path names: the path itself, or ``<path>/model.npz`` for a run folder."""
    path = os.fspath(path)
    if os.path.isdir(path):
        candidate = os.path.join(path, MODEL_FILE)
        if not os.path.exists(candidate):
            raise FileNotFoundError(
                f"{path} is a folder without {MODEL_FILE} (expected a run folder from 'digitnet train')"
            )
        return candidate
    return path


def find_models(paths=None, cwd=".") -> list[str]:
    """Model files named by ``paths`` (files, run folders, folders of run folders); default every
    ``runs/*/model.npz`` under ``cwd``."""
    found = []
    for p in [os.fspath(p) for p in paths] if paths else [os.path.join(cwd, RUNS)]:
        if os.path.isdir(p):
            direct = os.path.join(p, MODEL_FILE)
            found += [direct] if os.path.exists(direct) else sorted(glob.glob(os.path.join(p, "*", MODEL_FILE)))
        elif os.path.exists(p):
            found.append(p)
        elif paths:
            raise FileNotFoundError(f"no model file or folder at {p!r}")
    return found


def model_name(path) -> str:
    """A short name for a model file: its run folder's name, or the file name without extension."""
    path = os.path.abspath(os.fspath(path))
    base = os.path.basename(path)
    return os.path.basename(os.path.dirname(path)) if base == MODEL_FILE else os.path.splitext(base)[0]
