"""Fuzz-style: mutate a valid model file and valid IDX files byte by byte and field by field (seeded loops);
the loaders only ever raise their own error types (or succeed), never anything else, never hang."""

from __future__ import annotations

import copy
import json
import random

import numpy as np
import pytest

from badinput_helpers import arrays_of, write_model
from digitnet.data.idx import IDXError, read_idx, write_idx
from digitnet.nn import ModelFileError, Sequential

WEIRD = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**31,
    2**64,
    10**30,
    -(10**30),
    0.5,
    -0.0,
    1e308,
    -1e308,
    1e-320,
    float("nan"),
    float("inf"),
    "",
    "x",
    "Dense",
    "PCG64",
    "float64",
    "__init__",
    [],
    [1],
    [[1, 2]],
    {},
    {"a": 1},
    {"class": "Dense"},
    [None] * 5,
    "9" * 50,
]


def _paths(obj, prefix=()):
    """Every (path to a value) in a JSON object."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _replace(obj, path, value):
    if not path:
        return value
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


def _load_only_model_errors(path):
    try:
        Sequential.load(path)
    except ModelFileError:
        pass


def test_model_header_fields_mutated_one_by_one(model_file, tmp_path):
    """Every field of the header replaced by each of a set of odd values, plus deletions."""
    arrays = arrays_of(model_file)
    header = json.loads(bytes(arrays.pop("__header__")).decode())
    paths = [p for p in _paths(header) if not (len(p) >= 3 and p[:2] == ("state", "rng") and p[2] == "state")]
    rng = random.Random(0)
    out = tmp_path / "f.npz"
    tried = 0
    for path in paths:
        for value in rng.sample(WEIRD, 6):
            mutated = _replace(copy.deepcopy(header), path, value)
            if not isinstance(mutated, dict):
                continue
            write_model(out, mutated, arrays)
            _load_only_model_errors(out)
            tried += 1
        if path and isinstance(path[-1], str):
            mutated = copy.deepcopy(header)
            target = mutated
            for key in path[:-1]:
                target = target[key]
            del target[path[-1]]
            write_model(out, mutated, arrays)
            _load_only_model_errors(out)
            tried += 1
    assert tried > 300


def test_model_arrays_mutated(model_file, tmp_path):
    arrays = arrays_of(model_file)
    rng = np.random.default_rng(1)
    header = json.loads(bytes(arrays.pop("__header__")).decode())
    out = tmp_path / "a.npz"
    variants = [
        lambda a: a.astype(np.float64),
        lambda a: a.astype(np.float16),
        lambda a: a.T,
        lambda a: a.reshape(-1),
        lambda a: a[:1],
        lambda a: np.asfortranarray(a),
        lambda a: a.astype(">f4"),
        lambda a: np.zeros((0,), np.float32),
        lambda a: a * np.nan,
    ]
    for key in list(arrays):
        for change in variants:
            mutated = dict(arrays)
            mutated[key] = change(arrays[key])
            write_model(out, header, mutated)
            _load_only_model_errors(out)
    del rng


@pytest.mark.parametrize("seed", range(4))
def test_model_file_bytes_flipped(model_file, tmp_path, seed):
    raw = bytearray(open(model_file, "rb").read())
    rng = random.Random(seed)
    out = tmp_path / "b.npz"
    for _ in range(60):
        mutated = bytearray(raw)
        for _ in range(rng.choice([1, 1, 2, 8])):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        if rng.random() < 0.2:
            del mutated[rng.randrange(len(mutated)) :]
        out.write_bytes(bytes(mutated))
        _load_only_model_errors(out)


def test_model_header_bytes_flipped_with_valid_zip(model_file, tmp_path):
    """Bytes of the JSON header itself changed (the zip re-written, so its checksums still hold)."""
    arrays = arrays_of(model_file)
    text = bytearray(bytes(arrays.pop("__header__")))
    rng = random.Random(5)
    out = tmp_path / "h.npz"
    for _ in range(200):
        mutated = bytearray(text)
        for _ in range(rng.choice([1, 2, 4])):
            mutated[rng.randrange(len(mutated))] = rng.choice(b'{}[]",:0123456789-.eE ntrufalsxyz\x00\xff')
        write_model(out, raw_header=bytes(mutated), arrays=arrays)
        _load_only_model_errors(out)


def _read_idx_only_own_errors(path):
    try:
        read_idx(path)
    except IDXError:
        pass


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
def test_idx_header_bytes_mutated(tmp_path, gz):
    valid = tmp_path / ("v.idx" + (".gz" if gz else ""))
    write_idx(valid, np.arange(2 * 5 * 3, dtype=np.uint8).reshape(2, 5, 3))
    raw = bytearray(valid.read_bytes())
    rng = random.Random(2)
    out = tmp_path / "m.idx"
    limit = 16 if not gz else len(raw)
    for position in range(min(limit, len(raw))):  # every byte of the header (raw), or of the whole .gz
        for value in (0, 1, 0x08, 0x0E, 0x7F, 0xFF, rng.randrange(256)):
            mutated = bytearray(raw)
            mutated[position] = value
            out.write_bytes(bytes(mutated))
            _read_idx_only_own_errors(out)
    for _ in range(100):
        mutated = bytearray(raw)
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        if rng.random() < 0.3:
            del mutated[rng.randrange(len(mutated)) :]
        out.write_bytes(bytes(mutated))
        _read_idx_only_own_errors(out)


def test_idx_header_fields_mutated(tmp_path):
    """Type code, dimension count and each size set to odd values, the payload left as it is."""
    out = tmp_path / "f.idx"
    payload = bytes(30)
    for code in (0x00, 0x07, 0x08, 0x0B, 0x0D, 0x0E, 0x10, 0xFF):
        for ndim in (0, 1, 2, 3, 4, 255):
            for size in (0, 1, 30, 2**31, 2**32 - 1):
                sizes = [size] + [1] * (ndim - 1) if ndim else []
                header = bytes([0, 0, code, ndim]) + b"".join(s.to_bytes(4, "big") for s in sizes)
                out.write_bytes(header + payload)
                _read_idx_only_own_errors(out)
