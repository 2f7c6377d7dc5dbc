"""Read and write IDX files, the format of the MNIST distribution, raw or gzip-compressed.

Layout (all integers big-endian)::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then        d sizes, each a 4-byte unsigned int
    then        prod(sizes) elements of that type, big-endian, C (row-major) order

A file is treated as gzip when it starts with the gzip magic 0x1f 0x8b, whatever its name.
Anything that does not match (truncated gzip, wrong magic, short or overlong payload) raises
``IDXError`` naming the file and what was expected.
"""

from __future__ import annotations

import gzip
import os
import struct
import tempfile
import zlib

import numpy as np

# IDX type code -> big-endian dtype as stored in the file
IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in IDX_TYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"


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
        raise IDXError(f"{path}: bad magic number 0x{magic.hex().upper()}; expected 00 00 <type> <ndim> "
                       f"with type one of {codes}")
    ndim = magic[3]
    if ndim == 0:
        raise IDXError(f"{path}: magic number 0x{magic.hex().upper()} declares 0 dimensions; expected at least 1")
    shape = struct.unpack(f">{ndim}I", _read_exactly(f, 4 * ndim, path, f"{ndim} dimension sizes"))
    return IDX_TYPES[magic[2]], shape


def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file (gz or raw), in native byte order, e.g. uint8 (60000, 28, 28)."""
    try:
        with _open(path) as f:
            stored, shape = read_header(f, path)
            out = np.empty(shape, dtype=stored)
            buffer = memoryview(out.reshape(-1)).cast("B")
            filled = 0
            while filled < len(buffer):
                got = f.readinto(buffer[filled:])
                if not got:
                    break
                filled += got
            if filled != len(buffer):
                raise IDXError(f"{path}: payload too short for shape {shape} of {stored.name}: "
                               f"expected {len(buffer)} bytes, got {filled}")
            extra = len(f.read(1 << 16))
            if extra:
                raise IDXError(f"{path}: {'at least ' if extra == 1 << 16 else ''}{extra} bytes after the "
                               f"payload; expected exactly {len(buffer)} bytes for shape {shape}")
    except EOFError as e:  # gzip stream cut short
        raise IDXError(f"{path}: truncated gzip file ({e}); expected a complete .gz stream") from None
    except (gzip.BadGzipFile, zlib.error) as e:
        raise IDXError(f"{path}: corrupt gzip data ({e}); expected a valid .gz file") from None
    return out.astype(stored.newbyteorder("="), copy=False)


def write_idx(path, array) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in .gz.

    The data go to a temporary file in the same folder, which is then renamed over ``path``,
    so readers never see a half-written file.
    """
    array = np.asarray(array)
    code = _CODE_OF_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise ValueError(f"cannot store dtype {array.dtype} in IDX; expected uint8, int8, int16, int32, "
                         f"float32 or float64")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX stores 1 to 255 dimensions, got an array of shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as raw:
            if str(path).endswith(".gz"):
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                    gz.write(header)
                    gz.write(payload)
            else:
                raw.write(header)
                raw.write(payload)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a data file is normally world-readable
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
