"""Save and load a model as one self-describing ``.npz`` file.

Layout (NumPy's zip of ``.npy`` arrays, read with ``allow_pickle=False``):

    __header__          uint8 bytes of a UTF-8 JSON object:
                          format "digitnet-model", version, architecture (Sequential.get_config()),
                          preprocessing, training (config), metrics, loss, optimizer (class, config, t),
                          schedule, state (epochs_done, rng state)
    param/<name>        every trainable array, e.g. param/0.weight
    buffer/<name>       batch-norm running statistics, e.g. buffer/1.running_mean
    optim/<name>/<slot> optimiser state per parameter (with include_optimizer=True)

Files are written to a temporary file in the target folder and renamed, so a
crash never leaves a half-written model behind.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from digitnet.nn import backend, losses, optim, schedules

FORMAT = "digitnet-model"
VERSION = 1


class ModelFileError(ValueError):
    """The file is not a readable digitnet model."""


def save(model, path, include_optimizer: bool = True) -> str:
    """Write ``model`` to ``path`` (".npz" is appended if missing); returns the path written."""
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    header = {
        "format": FORMAT, "version": VERSION,
        "architecture": model.get_config(),
        "preprocessing": model.preprocessing, "training": model.training_config,
        "metrics": {k: float(v) if isinstance(v, (float, np.floating)) else v for k, v in model.metrics.items()},
        "loss": None if model.loss is None else {"name": model.loss.name, "config": model.loss.get_config()},
        "schedule": None if model.schedule is None else
        {"name": type(model.schedule).__name__, "config": model.schedule.get_config()},
        "optimizer": None,
        "calibration": dict(getattr(model, "calibration", None) or {}),
        "rejection": dict(getattr(model, "rejection", None) or {}),
        "state": {"epochs_done": model.epochs_done, "rng": model.rng.bit_generator.state},
    }
    arrays = {f"param/{name}": backend.to_numpy(p) for name, p, _ in model.parameters()}
    arrays.update({f"buffer/{name}": backend.to_numpy(b) for name, b in model.buffers()})
    if include_optimizer and model.optimizer is not None:
        state = model.optimizer.state_dict()
        header["optimizer"] = {"class": state["class"], "config": state["config"], "t": state["t"]}
        arrays.update({f"optim/{k}": backend.to_numpy(v) for k, v in state["slots"].items()})
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def read_header(path) -> dict:
    """The JSON header of a model file (no weights)."""
    with _open(path) as data:
        return _header(path, data)


def load(path, compile: bool = True):
    """Rebuild the model saved at ``path``, with its weights, optimiser and rng state."""
    from digitnet.nn.model import Sequential  # model imports io's users; avoid a cycle

    with _open(path) as data:
        header = _header(path, data)
        model = Sequential.from_config(header["architecture"])
        arrays = {k: data[k] for k in data.files}
    for prefix, items in (("param", [(n, p) for n, p, _ in model.parameters()]), ("buffer", model.buffers())):
        for name, live in items:
            key = f"{prefix}/{name}"
            if key not in arrays:
                raise ModelFileError(f"{path}: missing array {key!r}; the file is incomplete or damaged")
            if tuple(arrays[key].shape) != tuple(live.shape):
                raise ModelFileError(f"{path}: array {key!r} has shape {arrays[key].shape}, expected {live.shape}")
            live[...] = backend.to_device(arrays[key], live.dtype)
    model.preprocessing = header.get("preprocessing") or {}
    model.training_config = header.get("training") or {}
    model.metrics = header.get("metrics") or {}
    model.calibration = header.get("calibration") or {}   # optional (absent in older files): see HELPERS.md
    model.rejection = header.get("rejection") or {}
    state = header.get("state") or {}
    model.epochs_done = int(state.get("epochs_done", 0))
    if state.get("rng"):
        model.rng = _generator_from_state(state["rng"])
    if compile:
        if header.get("loss"):
            model.loss = losses.get(header["loss"]["name"], **header["loss"]["config"])
        if header.get("schedule"):
            model.schedule = schedules.get(header["schedule"]["name"], **header["schedule"]["config"])
        if header.get("optimizer"):
            o = header["optimizer"]
            model.optimizer = optim.get(o["class"], **o["config"])
            slots = {k[len("optim/"):]: v for k, v in arrays.items() if k.startswith("optim/")}
            model.optimizer.load_state_dict({"class": o["class"], "config": o["config"], "t": o["t"], "slots": slots})
    return model


def _generator_from_state(state):
    bitgen = getattr(np.random, state["bit_generator"], None)
    if bitgen is None:
        raise ModelFileError(f"unknown random generator {state['bit_generator']!r} in model file")
    gen = np.random.Generator(bitgen())
    gen.bit_generator.state = state
    return gen


def _open(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file {path!r} does not exist")
    try:
        return np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ModelFileError(f"{path}: not a digitnet model file ({exc})") from None


def _header(path, data) -> dict:
    if "__header__" not in data.files:
        raise ModelFileError(f"{path}: not a digitnet model file (no __header__ entry)")
    try:
        header = json.loads(bytes(data["__header__"]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ModelFileError(f"{path}: damaged header ({exc})") from None
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: format {header.get('format')!r} is not {FORMAT!r}")
    version = header.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ModelFileError(f"{path}: written by a newer digitnet (format version {version}); "
                             f"this version reads up to {VERSION} — upgrade digitnet")
    return header
