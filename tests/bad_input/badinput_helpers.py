"""Helpers for the bad-input suite: tiny model files, header rewriting, one-line-error and memory checks."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tracemalloc
import zipfile

import numpy as np

from digitnet.nn import Adam, Dense, Flatten, ReLU, Sequential
from digitnet.nn.schedules import Cosine

MEMORY_LIMIT = 64 << 20  # bytes a loader may allocate on a bad file (Python + NumPy, via tracemalloc)


def tiny_model(outputs=10, optimizer=True, seed=0) -> Sequential:
    """Flatten -> Dense(8) -> ReLU -> Dense(outputs) on 28x28 images, with Adam state after one step."""
    model = Sequential([Flatten(), Dense(8), ReLU(), Dense(outputs)], input_shape=(1, 28, 28), seed=seed)
    if optimizer:
        model.compile(Adam(lr=1e-3), "cross_entropy", schedule=Cosine(1e-3, total=10))
        rng = np.random.default_rng(seed)
        model.fit(
            rng.random((8, 1, 28, 28), dtype=np.float32),
            rng.integers(0, outputs, 8),
            epochs=1,
            batch_size=8,
            verbose=False,
        )
    model.metrics = {"val_accuracy": 0.5}
    return model


def arrays_of(path) -> dict:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def header_of(path) -> dict:
    return json.loads(bytes(arrays_of(path)["__header__"]).decode("utf-8"))


def write_model(out, header=None, arrays=None, raw_header: bytes | None = None, compress=False) -> str:
    """A model file from a header dict (or raw header bytes) and arrays, written as np.savez would."""
    arrays = dict(arrays or {})
    text = raw_header if raw_header is not None else json.dumps(header).encode("utf-8")
    arrays["__header__"] = np.frombuffer(text, dtype=np.uint8)
    (np.savez_compressed if compress else np.savez)(out, **arrays)
    return str(out)


def rewrite(path, out, change_header=None, change_arrays=None) -> str:
    """A copy of a model file with its header and/or arrays changed by the given functions."""
    arrays = arrays_of(path)
    header = json.loads(bytes(arrays.pop("__header__")).decode("utf-8"))
    if change_header is not None:
        header = change_header(header) or header
    if change_arrays is not None:
        arrays = change_arrays(arrays) or arrays
    return write_model(out, header, arrays)


def write_zip_member(out, members: dict[str, bytes]) -> str:
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return str(out)


def npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


@contextlib.contextmanager
def bounded_memory(limit=MEMORY_LIMIT):
    """Assert that the block allocates at most ``limit`` bytes at its peak (NumPy arrays included)."""
    tracemalloc.start()
    try:
        yield
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak <= limit, f"peak allocation {peak:,} bytes > {limit:,}"


def one_line(message: str) -> str:
    """The message, asserted to be a single line without a traceback."""
    assert "Traceback" not in message
    lines = [line for line in message.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {len(lines)}: {message!r}"
    return lines[0]


def cli_error(capsys, argv, code=2) -> str:
    """Run ``digitnet argv`` in-process; assert the exit code and ONE 'digitnet: error:' line on stderr."""
    from digitnet.cli import main

    status = main(list(map(str, argv)))
    err = capsys.readouterr().err
    assert status == code, f"exit {status}, stderr {err!r}"
    line = one_line(err)
    assert line.startswith("digitnet: error: "), line
    return line


def snapshot(folder) -> dict:
    """{relative path: bytes} of every file under ``folder`` (to assert nothing was damaged or added)."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out
