"""Read and write IDX files, the format of the MNIST distribution, raw or gzip-compressed.

Layout (all integers big-endian)::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then        d sizes, each a 4-byte unsigned int
    then        prod(sizes) elements of that type, big-endian, C (row-major) order

A file is treated as gzip when it starts with the gzip magic 0x1f 0x8b, whatever its name.
Anything that does not match (truncated gzip, wrong magic, short or overlong payload) raises
``IDXError`` naming the file and what was expected. Sizes are checked before anything is allocated:
the payload a header declares must fit the file (exactly, for a raw file; within deflate's maximum
ratio of about 1032:1, for gzip) and at most ``MAX_BYTES`` (1 GiB; MNIST's largest file holds 47 MB;
pass ``max_bytes`` to read larger files).
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

import atomicfile

# IDX type code -> big-endian dtype as stored in the file
IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in IDX_TYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"
MAX_DIMS = 32  # NumPy arrays hold at most 64; IDX files in use hold 1 to 4
MAX_BYTES = 1 << 30  # payload bytes read_idx allocates at most (by default)
DEFLATE_MAX_RATIO = 1100  # deflate expands at most ~1032x; a larger claim cannot be in the file


class IDXError(ValueError):
    """An IDX file that is damaged or not an IDX file at all."""


def _open(path):
    with open(path, "rb") as f:
        is_gzip = f.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if is_gzip else open(path, "rb")


def _read_exactly(f, n: int, path, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise IDXError(f"{path}: file ends inside the {what} (expected {n} bytes, got {len(data)})")
    return data


def read_header(f, path) -> tuple[np.dtype, tuple[int, ...]]:
    """Parse the magic number and sizes from an open binary stream: (stored dtype, shape)."""
    magic = _read_exactly(f, 4, path, "magic number")
    if magic[:2] != b"\x00\x00" or magic[2] not in IDX_TYPES:
        codes = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise IDXError(
            f"{path}: bad magic number 0x{magic.hex().upper()}; expected 00 00 <type> <ndim> with type one of {codes}"
        )
    ndim = magic[3]
    if ndim == 0:
        raise IDXError(f"{path}: magic number 0x{magic.hex().upper()} declares 0 dimensions; expected at least 1")
    if ndim > MAX_DIMS:
        raise IDXError(
            f"{path}: magic number 0x{magic.hex().upper()} declares {ndim} dimensions; expected at most {MAX_DIMS}"
        )
    shape = struct.unpack(f">{ndim}I", _read_exactly(f, 4 * ndim, path, f"{ndim} dimension sizes"))
    return IDX_TYPES[magic[2]], shape


def check_size(path, stored: np.dtype, shape, header_bytes: int, max_bytes: int = MAX_BYTES) -> int:
    """The payload size the header declares, after checking it against the file and ``max_bytes``."""
    payload = math.prod(shape) * stored.itemsize
    file_size = os.path.getsize(path)
    with open(path, "rb") as f:
        is_gzip = f.read(2) == GZIP_MAGIC
    if payload > max_bytes:
        raise IDXError(
            f"{path}: header declares shape {tuple(shape)} of {stored.name}, {payload:,} bytes; "
            f"the limit is {max_bytes:,} bytes"
        )
    if is_gzip and payload + header_bytes > file_size * DEFLATE_MAX_RATIO:
        raise IDXError(
            f"{path}: header declares {payload:,} bytes of data but the {file_size:,}-byte gzip file "
            f"cannot hold more than {file_size * DEFLATE_MAX_RATIO:,}; the file is damaged"
        )
    held = file_size - header_bytes
    if not is_gzip and payload > held:
        raise IDXError(
            f"{path}: payload too short for shape {tuple(shape)} of {stored.name}: expected {payload} bytes, got {held}"
        )
    if not is_gzip and payload < held:
        raise IDXError(
            f"{path}: {held - payload} bytes after the payload; expected exactly {payload} bytes "
            f"for shape {tuple(shape)}"
        )
    return payload


def read_idx(path, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """The array stored in an IDX file (gz or raw), in native byte order, e.g. uint8 (60000, 28, 28)."""
    try:
        with _open(path) as f:
            stored, shape = read_header(f, path)
            check_size(path, stored, shape, 4 + 4 * len(shape), max_bytes)
            out = np.empty(shape, dtype=stored)
            buffer = memoryview(out.reshape(-1)).cast("B")
            filled = 0
            while filled < len(buffer):
                got = f.readinto(buffer[filled:])
                if not got:
                    break
                filled += got
            if filled != len(buffer):
                raise IDXError(
                    f"{path}: payload too short for shape {shape} of {stored.name}: "
                    f"expected {len(buffer)} bytes, got {filled}"
                )
            extra = len(f.read(1 << 16))
            if extra:
                raise IDXError(
                    f"{path}: {'at least ' if extra == 1 << 16 else ''}{extra} bytes after the "
                    f"payload; expected exactly {len(buffer)} bytes for shape {shape}"
                )
    except EOFError as e:  # gzip stream cut short
        raise IDXError(f"{path}: truncated gzip file ({e}); expected a complete .gz stream") from None
    except (gzip.BadGzipFile, zlib.error) as e:
        raise IDXError(f"{path}: corrupt gzip data ({e}); expected a valid .gz file") from None
    return out.astype(stored.newbyteorder("="), copy=False)


def write_idx(path, array) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in .gz.

    The data go through ``atomicfile.write`` (a temporary file in the same folder, renamed over
    ``path``), so readers never see a half-written file.
    """
    array = np.asarray(array)
    code = _CODE_OF_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise ValueError(
            f"cannot store dtype {array.dtype} in IDX; expected uint8, int8, int16, int32, float32 or float64"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX stores 1 to 255 dimensions, got an array of shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()

    def fill(raw):
        if str(path).endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                gz.write(header)
                gz.write(payload)
        else:
            raw.write(header)
            raw.write(payload)

    atomicfile.write(path, fill, make_folder=False)
