"""IDX reading and writing: byte layout, round trips, and every way a file can be damaged."""

import gzip
import os

import numpy as np
import pytest

from digitnet.data.idx import IDXError, read_idx, write_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (2, 1, 3, 2)])
def test_round_trip_every_type_shape_and_compression(tmp_path, dtype, suffix, shape):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        array = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    else:
        array = rng.standard_normal(shape).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_raw_bytes_are_big_endian_mnist_layout(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32))
    data = path.read_bytes()
    assert data[:4] == bytes([0, 0, 0x0C, 2])
    assert data[4:12] == bytes([0, 0, 0, 2, 0, 0, 0, 3])
    assert data[12:16] == bytes([0, 0, 0, 1]) and len(data) == 12 + 6 * 4


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])))
    np.testing.assert_array_equal(read_idx(path), [7, 8, 9])


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "x.gz"
    write_idx(path, np.zeros((2, 2), np.uint8))
    write_idx(path, np.ones((3,), np.uint8))  # replaces the old file
    np.testing.assert_array_equal(read_idx(path), [1, 1, 1])
    assert sorted(os.listdir(tmp_path)) == ["x.gz"]
    assert os.stat(path).st_mode & 0o044 == 0o044  # readable by others, not mkstemp's private 0600


def test_write_rejects_unsupported_dtype_without_leaving_a_file(tmp_path):
    with pytest.raises(ValueError, match="uint16"):
        write_idx(tmp_path / "x", np.zeros(3, np.uint16))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "x", np.float32(1.0))
    assert os.listdir(tmp_path) == []


def _expect_error(path, *fragments):
    with pytest.raises(IDXError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_truncated_gzip(tmp_path):
    good = tmp_path / "good.gz"
    write_idx(good, np.arange(1000, dtype=np.int32))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(good.read_bytes()[:-30])
    _expect_error(cut, "truncated gzip")


def test_corrupt_gzip(tmp_path):
    good = tmp_path / "good.gz"
    write_idx(good, np.arange(1000, dtype=np.int32))
    data = bytearray(good.read_bytes())
    data[-8] ^= 0xFF  # CRC of the content
    bad = tmp_path / "bad.gz"
    bad.write_bytes(bytes(data))
    _expect_error(bad, "corrupt gzip")


@pytest.mark.parametrize("magic", [b"\x01\x00\x08\x01", b"\x00\x00\x0a\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_wrong_magic(tmp_path, magic):
    path = tmp_path / "bad"
    path.write_bytes(magic + bytes([0, 0, 0, 1, 5]))
    _expect_error(path, "bad magic number", "expected 00 00 <type> <ndim>")


def test_zero_dimensions(tmp_path):
    path = tmp_path / "scalar"
    path.write_bytes(bytes([0, 0, 8, 0, 5]))
    _expect_error(path, "0 dimensions")


def test_file_shorter_than_header(tmp_path):
    path = tmp_path / "short-header"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0]))
    _expect_error(path, "3 dimension sizes", "expected 12 bytes, got 6")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    _expect_error(empty, "magic number", "expected 4 bytes, got 0")


@pytest.mark.parametrize("compress", [False, True])
def test_short_payload_names_expected_and_actual_size(tmp_path, compress):
    data = bytes([0, 0, 0x0B, 2, 0, 0, 0, 3, 0, 0, 0, 4]) + bytes(23)  # int16 3x4 needs 24 bytes
    path = tmp_path / ("short.gz" if compress else "short")
    path.write_bytes(gzip.compress(data) if compress else data)
    _expect_error(path, "payload too short", "expected 24 bytes, got 23")


def test_payload_longer_than_the_dimensions_say(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3]) + bytes(5))
    _expect_error(path, "2 bytes after the payload", "expected exactly 3 bytes")


def test_idx_error_is_a_value_error():
    assert issubclass(IDXError, ValueError)
