"""fast/halves.py: passes split over the BLAS threads. That the split layers and optimisers compute the
reference's numbers is tested in test_tiers.py and test_fast_blocked.py (each test at one worker and at
two); here: the parts, the threads, errors, and the worker count following the BLAS setting."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from digitnet import zoo
from digitnet.nn.fast import blocked, halves

COMPARES_TIERS = True  # the fast tier only (see conftest.py)


@pytest.fixture
def two_workers(monkeypatch):
    monkeypatch.setattr(halves, "workers", lambda: 2)
    monkeypatch.setattr(halves, "MIN_PART_BYTES", 1)


def test_bounds_cut_into_near_equal_parts(two_workers, monkeypatch):
    assert halves.bounds(3, 100) == [(0, 1), (1, 3)]
    assert halves.bounds(1, 100) == [(0, 1)]  # nothing to share
    monkeypatch.setattr(halves, "MIN_PART_BYTES", 60)
    assert halves.bounds(8, 100) == [(0, 8)]  # two parts would be under MIN_PART_BYTES each
    assert halves.bounds(8, 120) == [(0, 4), (4, 8)]


def test_one_worker_never_splits(monkeypatch):
    monkeypatch.setattr(halves, "workers", lambda: 1)
    monkeypatch.setattr(halves, "MIN_PART_BYTES", 1)
    assert halves.bounds(64, 1 << 30) == [(0, 64)]


def test_run_gives_the_parts_in_order_on_two_threads(two_workers):
    threads = {}

    def fn(i, j):
        threads[i] = threading.get_ident()
        return list(range(i, j))

    assert halves.run(fn, 5, 1000) == [[0, 1], [2, 3, 4]]
    assert threads[0] == threading.get_ident() and threads[2] != threads[0]


def test_no_split_inside_a_pool_thread(two_workers):
    inner = []
    halves.run(lambda i, j: inner.append(halves.bounds(10, 1000)), 2, 1000)
    assert sorted(inner, key=len) == [[(0, 10)], [(0, 5), (5, 10)]]  # the pool's part ran whole


def test_a_failing_part_raises_after_every_part_finished(two_workers):
    finished = []

    def fn(i, j):
        if i > 0:
            raise ValueError(f"part {i}:{j} failed")
        finished.append(i)

    with pytest.raises(ValueError, match="part 1:2 failed"):
        halves.run(fn, 2, 1000)
    assert finished == [0]


def test_each_splits_along_the_outer_axis_and_broadcasts(two_workers):
    x = np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1)  # (4, 2, 3), axis 1 outermost in memory
    assert halves.outer_axis(x) == 1
    out = np.empty_like(x)
    seen = []
    halves.each(lambda o, a, b: (seen.append(o.shape), np.add(a, b, out=o)), out, x, np.ones(3))
    assert seen == [(4, 1, 3), (4, 1, 3)]
    np.testing.assert_array_equal(out, x + 1)


def test_every_large_pass_of_a_cnn_step_is_split(two_workers, monkeypatch):
    split = set()
    run = halves.run

    def spy(fn, length, nbytes):
        if len(halves.bounds(length, nbytes)) > 1:
            split.add(fn.__qualname__.split(".<locals>")[0])
        return run(fn, length, nbytes)

    monkeypatch.setattr(halves, "run", spy)
    monkeypatch.setattr(blocked, "GROUP_BYTES", 1)  # batch norm by groups on these small images
    model = zoo.build("cnn", width=4, tier="fast")
    model.compile("adam", lr=1e-3)
    rng = np.random.default_rng(0)
    model.train_step(rng.random((4, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 4))
    assert {"each", "col2im_add", "_FastStatistics._grouped_forward", "_FastStatistics._grouped_backward"} <= split
    assert "Adam._update" in split


def _workers_in_a_process(threads):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": threads}
    code = "from digitnet.nn.fast import halves; print(halves.workers())"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_workers_follow_the_blas_threads_of_the_process():
    assert _workers_in_a_process("1").strip() == "1"
    assert _workers_in_a_process("2").strip() == "2"


def test_workers_follow_a_threadpoolctl_limit():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert halves.workers() == 1
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        assert halves.workers() == 2
