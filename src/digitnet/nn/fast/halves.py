"""Large passes of the fast tier split over the threads the BLAS library runs with.

OpenBLAS runs the matrix products on every thread it has; NumPy's other passes (copies, ufuncs)
run on the calling thread alone. NumPy releases the GIL inside those passes, so a pass over an array
cut into parts along one axis can run on several Python threads at once. Every part computes the
same numbers as the whole (elementwise passes split anywhere; reductions only over the axes that are
not split), so the results do not depend on how many parts there are.

    workers()                      threads the BLAS runs with (numpy's OpenBLAS, asked through ctypes;
                                   else $OPENBLAS_NUM_THREADS / $OMP_NUM_THREADS; else the CPUs usable)
    bounds(length, nbytes)         [(start, stop)]: ``length`` cut into at most workers() parts of at least
                                   MIN_PART_BYTES each (one part when the pass is smaller)
    run(fn, length, nbytes)        fn(start, stop) for every part, the first on the calling thread, the
                                   rest on a pool of threads; returns the results in order
    part(a, axis, start, stop)     a[..., start:stop, ...] along ``axis`` (``axis`` counted from the end
                                   when negative; arrays that broadcast along it are returned whole)
    each(fn, *arrays, axis)        fn(*parts of the arrays) for every part along ``axis`` of the first
    copyto(dst, src, axis)         numpy's copyto, part by part
    outer_axis(a, axes)            the axis of ``axes`` with the largest stride: parts along it are
                                   contiguous runs of memory

With one BLAS thread (``OPENBLAS_NUM_THREADS=1``, or threadpoolctl's limit of 1) every pass runs whole
on the calling thread; nothing is split on a GPU backend, nor inside a pool thread.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from digitnet.nn import backend

MIN_PART_BYTES = 1 << 18  # the smallest part worth a thread (benchmarks/halves_threshold.py)
_THREAD_SYMBOLS = (
    "scipy_openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
    "openblas_get_num_threads64_",
    "openblas_get_num_threads",
)
_lock = threading.Lock()
_state = {"pool": None, "size": 0, "blas_query": None}
_in_pool = threading.local()


def _find_blas_query():
    """numpy's OpenBLAS ``get_num_threads`` as a ctypes function, or None (another BLAS, or not found)."""
    root = os.path.dirname(os.path.dirname(np.__file__))
    names = []
    for folder in ("numpy.libs", os.path.join("numpy", ".dylibs")):
        names += sorted(glob.glob(os.path.join(root, folder, "*openblas*")))
    for name in names:
        try:
            library = ctypes.CDLL(name)  # already loaded by numpy: the same library and its thread pool
        except OSError:
            continue
        for symbol in _THREAD_SYMBOLS:
            query = getattr(library, symbol, None)
            if query is not None:
                query.restype, query.argtypes = ctypes.c_int, []
                return query
    return None


def _environment_threads() -> int:
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(variable, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def workers() -> int:
    """The number of threads numpy's BLAS uses now (1 or more)."""
    if _state["blas_query"] is None:
        _state["blas_query"] = _find_blas_query() or _environment_threads
    return max(1, int(_state["blas_query"]()))


def _count(nbytes: int) -> int:
    """How many parts a pass over ``nbytes`` bytes is cut into (before the length of the axis)."""
    if nbytes < 2 * MIN_PART_BYTES or getattr(_in_pool, "active", False) or backend.xp() is not np:
        return 1
    return min(workers(), int(nbytes) // MIN_PART_BYTES)


def bounds(length: int, nbytes: int) -> list[tuple[int, int]]:
    """``range(length)`` cut into near-equal parts: as many as workers(), at most one per MIN_PART_BYTES."""
    count = min(_count(nbytes), int(length))
    if count <= 1:
        return [(0, int(length))]
    edges = [length * k // count for k in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))


def _pool(size: int) -> ThreadPoolExecutor:
    with _lock:
        if _state["pool"] is None or _state["size"] < size:
            if _state["pool"] is not None:
                _state["pool"].shutdown(wait=False)
            _state["pool"] = ThreadPoolExecutor(size, thread_name_prefix="digitnet-halves", initializer=_mark_pool)
            _state["size"] = size
        return _state["pool"]


def _mark_pool():
    _in_pool.active = True


def run(fn, length: int, nbytes: int) -> list:
    """[fn(start, stop) for each part of bounds(length, nbytes)], the parts on concurrent threads."""
    parts = bounds(length, nbytes)
    if len(parts) == 1:
        return [fn(*parts[0])]
    pool = _pool(len(parts) - 1)
    futures = [pool.submit(fn, start, stop) for start, stop in parts[1:]]
    try:
        first = fn(*parts[0])
    finally:  # every part has finished (or failed) before this returns or raises
        rest = [future.exception() for future in futures]
    for error in rest:
        if error is not None:
            raise error
    return [first] + [future.result() for future in futures]


def part(a, axis: int, start: int, stop: int):
    """``a`` sliced to [start, stop) along ``axis`` (negative: from the end, as broadcasting aligns
    arrays); scalars and arrays of length 1 (or without that axis) are returned as they are."""
    ndim = getattr(a, "ndim", 0)
    index = axis if axis >= 0 else ndim + axis
    if not 0 <= index < ndim or a.shape[index] == 1:
        return a
    return a[(slice(None),) * index + (slice(start, stop),)]


def outer_axis(a, axes=None) -> int:
    """The axis (of ``axes``, default all) along which ``a``'s memory steps furthest."""
    axes = range(a.ndim) if axes is None else axes
    return max(axes, key=lambda i: (a.shape[i] > 1, abs(a.strides[i])))


def each(fn, *arrays, axis: int | None = None):
    """fn(*parts) for the parts of ``arrays`` along ``axis`` of the first (default: its outer axis).

    The other arrays are aligned with the first from the right, as broadcasting aligns them; scalars
    and arrays that broadcast along the axis go to every part whole. The size that decides the split
    is the sum of the arrays' bytes.
    """
    nbytes = sum(getattr(a, "nbytes", 0) for a in arrays)
    if _count(nbytes) <= 1:
        fn(*arrays)
        return
    first = arrays[0]
    axis = outer_axis(first) if axis is None else axis
    from_end = axis - first.ndim
    run(lambda i, j: fn(*(part(a, from_end, i, j) for a in arrays)), first.shape[axis], nbytes)


def copyto(dst, src, axis: int | None = None):
    """dst[...] = src (broadcast as numpy's copyto), part by part along ``axis`` of ``dst``."""
    each(backend.xp().copyto, dst, src, axis=axis)
    return dst
