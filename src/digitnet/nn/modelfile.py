"""Save and load a model as one self-describing ``.npz`` file, treating every file as untrusted.

Layout (NumPy's zip of ``.npy`` arrays):

    __header__          uint8 bytes of a UTF-8 JSON object:
                          format "digitnet-model", version, architecture (Sequential.get_config()),
                          preprocessing, training (config), metrics, loss, optimizer (class, config, t),
                          schedule, state (epochs_done, rng state), optional calibration and rejection
    param/<name>        every trainable array, e.g. param/0.weight
    buffer/<name>       batch-norm running statistics, e.g. buffer/1.running_mean
    optim/<name>/<slot> optimiser state per parameter (with include_optimizer=True)

Loading checks, in this order, and answers anything wrong with one ``ModelFileError`` line
naming the field and what was expected:

1. the zip opens; ``__header__`` is at most MAX_HEADER_BYTES; it is UTF-8 JSON (depth and size bounded);
2. the header against a schema: known top-level keys; every name that selects code (layer class,
   initialiser, loss, optimiser, schedule, random bit generator) from a fixed allow-list of digitnet.nn's
   own classes; every argument name from the constructor's signature, with its JSON type; free-form
   objects (preprocessing, training, metrics, calibration, rejection) only as bounded JSON;
3. sizes from the architecture alone, before anything is allocated: per-sample activations at most
   MAX_ACTIVATION values per layer, parameters and buffers at most MAX_PARAMETERS values in all;
4. only the arrays the architecture names are read; for each, the ``.npy`` header inside the zip is
   read first and its dtype (float32/float64) and shape must match, and the zip member's declared
   size must equal header + data, before the data are read; values must be finite.

Files are written through ``atomicfile`` (a temporary file in the target folder, renamed), so a crash
never leaves a half-written model behind.
"""

from __future__ import annotations

import json
import math
import os
import zipfile

import numpy as np

import atomicfile
from digitnet.nn import backend, losses, modelschema, optim, schedules
from digitnet.nn.modelschema import (  # noqa: F401  (the limits, re-exported for users of this module)
    BIT_GENERATORS,
    MAX_ACTIVATION,
    MAX_HEADER_BYTES,
    MAX_JSON_DEPTH,
    MAX_JSON_ITEMS,
    MAX_LAYERS,
    MAX_PARAMETERS,
)

FORMAT = modelschema.FORMAT
VERSION = modelschema.VERSION

FLOAT_DTYPES = (np.dtype("<f4"), np.dtype(">f4"), np.dtype("<f8"), np.dtype(">f8"))


class ModelFileError(ValueError):
    """The file is not a readable digitnet model; the message names the file and the field."""


# --- saving ----------------------------------------------------------------
def save(model, path, include_optimizer: bool = True) -> str:
    """Write ``model`` to ``path`` (".npz" is appended if missing); returns the path written."""
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    header = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": model.get_config(),
        "preprocessing": model.preprocessing,
        "training": model.training_config,
        "metrics": {k: _finite_or_none(v) for k, v in model.metrics.items()},
        "loss": None if model.loss is None else {"name": model.loss.name, "config": model.loss.get_config()},
        "schedule": None
        if model.schedule is None
        else {"name": type(model.schedule).__name__, "config": model.schedule.get_config()},
        "optimizer": None,
        "state": {"epochs_done": model.epochs_done, "rng": model.rng.bit_generator.state},
    }
    for key in ("calibration", "rejection"):
        if getattr(model, key, None):
            header[key] = getattr(model, key)
    arrays = {f"param/{name}": backend.to_numpy(p) for name, p, _ in model.parameters()}
    arrays.update({f"buffer/{name}": backend.to_numpy(b) for name, b in model.buffers()})
    if include_optimizer and model.optimizer is not None:
        state = model.optimizer.state_dict()
        header["optimizer"] = {"class": state["class"], "config": state["config"], "t": state["t"]}
        arrays.update({f"optim/{k}": backend.to_numpy(v) for k, v in state["slots"].items()})
    text = json.dumps(header, allow_nan=False)
    arrays["__header__"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    return atomicfile.write(path, lambda f: np.savez(f, **arrays))


def _finite_or_none(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return v


# --- loading ---------------------------------------------------------------
def read_header(path) -> dict:
    """The validated JSON header of a model file (no weights are read)."""
    path = _existing(path)
    with _open_zip(path) as zf:
        return _validated_header(path, zf)


def load(path, model_class, compile: bool = True):
    """Rebuild the model saved at ``path`` as a ``model_class`` (Sequential), with its weights,
    optimiser and rng state; raises ModelFileError (one line) for anything wrong with the file."""
    path = _existing(path)
    with _open_zip(path) as zf:
        header = _validated_header(path, zf)
        try:
            model = model_class.from_config(header["architecture"])
        except (ValueError, TypeError) as exc:
            raise ModelFileError(f"{path}: architecture: {_one_line(exc)}") from None
        for prefix, items in (("param", [(n, p) for n, p, _ in model.parameters()]), ("buffer", model.buffers())):
            for name, live in items:
                live[...] = backend.to_device(_read_array(path, zf, f"{prefix}/{name}", tuple(live.shape)), live.dtype)
        optimizer_slots = {}
        if compile and header.get("optimizer"):
            cls = modelschema.OPTIMIZERS[header["optimizer"]["class"].lower()]
            for name, live, _ in model.parameters():
                for slot in cls.slot_names:
                    key = f"optim/{name}/{slot}"
                    if f"{key}.npy" in zf.NameToInfo:
                        optimizer_slots[f"{name}/{slot}"] = _read_array(path, zf, key, tuple(live.shape))
    model.preprocessing = header.get("preprocessing") or {}
    model.training_config = header.get("training") or {}
    model.metrics = header.get("metrics") or {}
    for key in ("calibration", "rejection"):
        setattr(model, key, header.get(key) or {})
    state = header.get("state") or {}
    model.epochs_done = state.get("epochs_done", 0)
    if state.get("rng"):
        model.rng = _generator_from_state(path, state["rng"])
    if compile:
        _compile(path, model, header, optimizer_slots)
    return model


def _compile(path, model, header, slots):
    try:
        if header.get("loss"):
            model.loss = losses.get(header["loss"]["name"], **header["loss"].get("config", {}))
        if header.get("schedule"):
            model.schedule = schedules.get(header["schedule"]["name"], **header["schedule"].get("config", {}))
        if header.get("optimizer"):
            o = header["optimizer"]
            model.optimizer = optim.get(o["class"], **o.get("config", {}))
            model.optimizer.load_state_dict(
                {"class": o["class"], "config": o.get("config", {}), "t": o.get("t", 0), "slots": slots}
            )
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: loss/optimizer/schedule: {_one_line(exc)}") from None


def _generator_from_state(path, state):
    name = state["bit_generator"]  # checked against BIT_GENERATORS by the schema
    gen = np.random.Generator(getattr(np.random, name)())
    try:
        gen.bit_generator.state = state
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ModelFileError(f"{path}: state.rng: not a valid {name} state ({_one_line(exc)})") from None
    return gen


def _one_line(exc) -> str:
    return " ".join(str(exc).split())[:300]


def _existing(path) -> str:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file {path!r} does not exist")
    if os.path.isdir(path):
        raise ModelFileError(f"{path}: is a folder, expected a .npz model file")
    return path


def _open_zip(path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ModelFileError(f"{path}: not a digitnet model file ({_one_line(exc)})") from None


# --- arrays inside the zip --------------------------------------------------
def _read_member(path, zf, key, check_header):
    """Open ``<key>.npy``, read its .npy header, let ``check_header(shape, fortran, dtype)`` refuse it,
    then read exactly the data it declares."""
    info = zf.NameToInfo.get(f"{key}.npy")
    if info is None:
        raise ModelFileError(f"{path}: missing array {key!r}; the file is incomplete or damaged")
    try:
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ModelFileError(f"{path}: array {key!r}: .npy format version {version}; expected 1.0 or 2.0")
            check_header(shape, dtype)
            nbytes = math.prod(shape) * dtype.itemsize
            if info.file_size != f.tell() + nbytes:
                raise ModelFileError(
                    f"{path}: array {key!r}: zip member holds {info.file_size} bytes; its .npy "
                    f"header declares {f.tell() + nbytes}"
                )
            data = f.read(nbytes)
            if len(data) != nbytes:
                raise ModelFileError(f"{path}: array {key!r} is cut short: {len(data)} of {nbytes} bytes")
    except ModelFileError:
        raise
    except (
        zipfile.BadZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
        RuntimeError,
        SyntaxError,
        TypeError,
        OverflowError,
    ) as exc:
        raise ModelFileError(f"{path}: array {key!r} is damaged ({_one_line(exc)})") from None
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def _read_array(path, zf, key, expected_shape):
    def check(shape, dtype):
        if dtype not in FLOAT_DTYPES:
            raise ModelFileError(f"{path}: array {key!r} has dtype {dtype}; expected float32 or float64")
        if tuple(shape) != expected_shape:
            raise ModelFileError(
                f"{path}: array {key!r} has shape {tuple(shape)}, expected {expected_shape} from the architecture"
            )

    array = _read_member(path, zf, key, check)
    if not np.isfinite(array).all():
        raise ModelFileError(f"{path}: array {key!r} holds NaN or infinite values; expected finite weights")
    return array


def _validated_header(path, zf) -> dict:
    def check(shape, dtype):
        if dtype != np.uint8 or len(shape) != 1:
            raise ModelFileError(f"{path}: __header__ is {dtype} {shape}; expected uint8 bytes of JSON")
        if shape[0] > MAX_HEADER_BYTES:
            raise ModelFileError(f"{path}: __header__ is {shape[0]} bytes; the limit is {MAX_HEADER_BYTES}")

    if "__header__.npy" not in zf.NameToInfo:
        raise ModelFileError(f"{path}: not a digitnet model file (no __header__ entry)")
    raw = _read_member(path, zf, "__header__", check).tobytes()
    try:
        header = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{path}: damaged header: not UTF-8 JSON ({_one_line(exc)})") from None
    try:
        modelschema.check_header(header)
    except modelschema.SchemaError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return header
