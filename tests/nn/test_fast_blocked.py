"""The fast tier's cache-blocked paths (fast/blocked.py) equal the reference tier to 1e-10 in float64.

On the small inputs of the equality tests the blocks would hold everything at once, so the block sizes
are shrunk here until every array spans several blocks (and the last one is partial). NumPy arrays
take the compiled kernels (fast/compiled.py, tests in test_fast_compiled.py) where there is one, so
these tests turn them off: the blocked paths are what CuPy arrays take."""

from __future__ import annotations

import numpy as np
import pytest
from test_tiers import TOL, batch_last, run

from digitnet.nn import optim
from digitnet.nn.fast import blocked, compiled

COMPARES_TIERS = True  # each test compares the tiers itself (see conftest.py)


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(blocked, "BLOCK", 7)
    monkeypatch.setattr(blocked, "GROUP_BYTES", 1)  # one channel per group
    monkeypatch.setattr(compiled, "usable", lambda *arrays: False)  # the blocked paths, not the kernels


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("adam", {"lr": 0.01}),
        ("adamw", {"lr": 0.01, "weight_decay": 0.1}),
        ("adam", {"lr": 0.01, "clip_norm": 0.5, "weight_decay": 0.05}),
    ],
)
def test_blocked_adam_equals_reference(small_blocks, name, kwargs):
    rng = np.random.default_rng(1)
    start = {"w": rng.standard_normal((5, 9)), "b": rng.standard_normal(3), "k": rng.standard_normal((2, 3, 3, 3))}
    grads = [{k: rng.standard_normal(v.shape) for k, v in start.items()} for _ in range(5)]
    result = {}
    for tier in ("reference", "fast"):
        opt = optim.get(name, tier=tier, **kwargs)
        p = {k: v.copy() for k, v in start.items()}
        for step in grads:
            opt.step([(k, p[k], step[k]) for k in p])
        result[tier] = p, opt.state_dict()["slots"]
    (p0, s0), (p1, s1) = result["reference"], result["fast"]
    for k in p0:
        np.testing.assert_allclose(p1[k], p0[k], rtol=TOL, atol=TOL, err_msg=k)
    for k in s0:
        np.testing.assert_allclose(s1[k], s0[k], rtol=TOL, atol=TOL, err_msg=k)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dy_layout", ["batch-last", "c-order"])
def test_grouped_batchnorm2d_equals_reference(small_blocks, training, dy_layout):
    rng = np.random.default_rng(2)
    x = batch_last(rng.standard_normal((3, 4, 5, 6)) * 2 + 1)  # as a Conv2D hands it over
    dy_values = rng.standard_normal((3, 4, 5, 6))
    make_dy = batch_last if dy_layout == "batch-last" else np.ascontiguousarray
    kwargs = {"num_channels": 4, "momentum": 0.2}
    (ref, y0, dx0, g0), (fast, y1, dx1, g1) = [
        run(tier, "BatchNorm2D", kwargs, (4, 5, 6), x, lambda shape: make_dy(dy_values), training)
        for tier in ("reference", "fast")
    ]
    if training:
        assert fast._xc_rows is not None  # the grouped path ran
    np.testing.assert_allclose(y1, y0, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(dx1, dx0, rtol=TOL, atol=TOL)
    for key in g0:
        np.testing.assert_allclose(g1[key], g0[key], rtol=TOL, atol=TOL, err_msg=key)
    for key in ref.buffers:
        np.testing.assert_allclose(fast.buffers[key], ref.buffers[key], rtol=TOL, atol=TOL, err_msg=key)


def test_grouped_batchnorm2d_keeps_batch_last_memory(small_blocks):
    x = batch_last(np.random.default_rng(3).standard_normal((2, 3, 4, 5)))
    _, _, _, _ = fast = run(
        "fast", "BatchNorm2D", {"num_channels": 3}, (3, 4, 5), x, lambda shape: batch_last(np.ones(shape)), True
    )
    layer = fast[0]
    y = layer.forward(x, training=True)
    dx = layer.backward(batch_last(np.ones(y.shape)))
    assert y.transpose(1, 2, 3, 0).flags.c_contiguous and dx.transpose(1, 2, 3, 0).flags.c_contiguous


@pytest.mark.parametrize("in_channels, kernel, padding", [(1, 5, 0), (3, 3, "same"), (2, 3, 1)])
def test_stacked_weight_gradient_equals_reference(in_channels, kernel, padding):
    assert in_channels * kernel * kernel <= blocked.STACKED_MAX_FAN_IN  # these take the stacked path
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, in_channels, 9, 8))
    kwargs = {"in_channels": in_channels, "out_channels": 5, "kernel_size": kernel, "padding": padding}
    results = [
        run(
            tier, "Conv2D", kwargs, x.shape[1:], x, lambda shape: np.cos(np.arange(np.prod(shape))).reshape(shape), True
        )
        for tier in ("reference", "fast")
    ]
    (_, y0, dx0, g0), (_, y1, dx1, g1) = results
    np.testing.assert_allclose(y1, y0, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(dx1, dx0, rtol=TOL, atol=TOL)
    for key in g0:
        np.testing.assert_allclose(g1[key], g0[key], rtol=TOL, atol=TOL, err_msg=key)


@pytest.mark.parametrize(
    "o, m, rows",
    [(32, 24 * 24 * 64, 24), (16, 24 * 24 * 64, 24), (32, 28 * 28 * 64, 28), (6, 24 * 24 * 7, 24), (32, 28, 28)],
)
def test_stacked_parts_divide_into_small_slices_or_fall_back_to_rows(o, m, rows):
    parts = blocked.stacked_parts((o, m), rows, 4)
    assert parts % rows == 0 and m % parts == 0
    small = [
        p for p in range(rows, 64 * rows + 1, rows) if m % p == 0 and o * (m // p) * 4 <= blocked.STACKED_PART_BYTES
    ]
    assert parts == (small[0] if small else rows)


def test_stacked_parts_of_the_zoo_first_layers():
    assert blocked.stacked_parts((32, 24 * 24 * 64), 24, 4) == 48  # lenet-wide: slices of 768 columns
    assert blocked.stacked_parts((16, 24 * 24 * 64), 24, 4) == 24  # reader: one part per output row
    assert blocked.stacked_parts((32, 28 * 28 * 64), 28, 4) == 56  # cnn: slices of 896


def test_stacked_weight_grad_is_the_same_product_for_any_part_count():
    rng = np.random.default_rng(5)
    dy, cols = rng.standard_normal((4, 96)), rng.standard_normal((7, 96))
    for parts in (1, 2, 12, 48, 96):
        np.testing.assert_allclose(blocked.stacked_weight_grad(dy, cols, parts), dy @ cols.T, rtol=1e-12, atol=1e-12)
