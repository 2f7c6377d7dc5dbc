"""The fast tier's compiled kernels (fast/compiled.py) against the code they replace and the reference tier.

Adam, max-pooling and ReLU do the same float operations in the same order as the NumPy code, so they are
compared bit for bit; batch norm's sums run in another order, so it is compared to 1e-10 in float64
(test_tiers.py compares every layer in batch-last memory with the reference as well). The plain Python
loops kept beside each kernel (``.python``) give the same numbers as the compiled ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_tiers import LAYERS, LAYOUTS, TOL, batch_last, run

from digitnet.nn import optim
from digitnet.nn.fast import blocked, compiled
from digitnet.nn.fast import pool as fast_pool

COMPARES_TIERS = True  # each test compares the tiers itself (see conftest.py)


def adam_arrays(rng, n, dtype):
    return [
        rng.standard_normal(n).astype(dtype),
        rng.standard_normal(n).astype(dtype),
        (0.1 * rng.standard_normal(n)).astype(dtype),
        (0.01 * rng.random(n)).astype(dtype),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, blocked.BLOCK + 3])
def test_compiled_adam_equals_blocked_adam_bit_for_bit(dtype, n):
    rng = np.random.default_rng(0)
    before = adam_arrays(rng, n, dtype)
    blocked_arrays, compiled_arrays = [a.copy() for a in before], [a.copy() for a in before]
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    for t in (1, 2, 3):
        blocked.adam_update(*blocked_arrays, np.empty(min(n, blocked.BLOCK), dtype), lr, b1, b2, eps, t)
        step, sq = lr / (1 - b1**t), math.sqrt(1 - b2**t)
        f = np.dtype(dtype).type
        compiled.adam_update(*compiled_arrays, f(1 - b1), f(b2), f(1 - b2), f(step * sq), f(eps * sq))
    for name, a, b in zip(("p", "g", "m", "v"), blocked_arrays, compiled_arrays):
        np.testing.assert_array_equal(b, a, err_msg=name)
    assert not np.array_equal(compiled_arrays[0], before[0])  # it did update


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_fast_adam_on_numpy_arrays_equals_reference(name, monkeypatch):
    calls = []
    kernel = compiled.adam_update
    monkeypatch.setattr(compiled, "adam_update", lambda *args: calls.append(1) or kernel(*args))
    rng = np.random.default_rng(1)
    start = {"w": rng.standard_normal((5, 9)), "b": rng.standard_normal(3), "k": rng.standard_normal((2, 3, 3, 3))}
    grads = [{k: rng.standard_normal(v.shape) for k, v in start.items()} for _ in range(4)]
    result = {}
    for tier in ("reference", "fast"):
        opt = optim.get(name, tier=tier, lr=0.01, weight_decay=0.05)
        p = {k: v.copy() for k, v in start.items()}
        for step in grads:
            opt.step([(k, p[k], step[k]) for k in p])
        result[tier] = p
    assert len(calls) == 4 * len(start)  # every update went through the kernel
    for k in start:
        np.testing.assert_allclose(result["fast"][k], result["reference"][k], rtol=TOL, atol=TOL, err_msg=k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, hw", [(2, (8, 6)), (2, (9, 7)), (3, (9, 10))])
def test_compiled_max_pool_equals_reference_bit_for_bit(dtype, k, hw):
    rng = np.random.default_rng(2)
    x = np.maximum(rng.standard_normal((5, 3) + hw), 0).astype(dtype)  # ReLU zeros: ties in many windows
    x[0, 0, :k, :k] = 0.5  # a window of equal maxima
    dy = rng.standard_normal((5, 3, hw[0] // k, hw[1] // k)).astype(dtype)
    results = {}
    for tier in ("reference", "fast"):
        layer = run(tier, "MaxPool2D", {"kernel_size": k}, x.shape[1:], x, lambda s: dy, True)[0]
        xin = batch_last(x)
        y = layer.forward(xin, training=True)
        if tier == "fast":
            assert layer._first is not None  # the compiled path ran
            assert y.transpose(1, 2, 3, 0).flags.c_contiguous
        dx = layer.backward(batch_last(dy))
        results[tier] = np.array(y), np.array(dx)
    np.testing.assert_array_equal(results["fast"][0], results["reference"][0])
    np.testing.assert_array_equal(results["fast"][1], results["reference"][1])


def test_compiled_max_pool_propagates_nan_like_numpy_maximum():
    x = np.zeros((1, 1, 2, 4), np.float32)
    x[0, 0, 1, 1] = np.nan  # window 0 has a NaN late; window 1 has one first
    x[0, 0, 0, 2] = np.nan
    x[0, 0, 1, 3] = 5.0
    layer = fast_pool.MaxPool2D(2)
    y = layer.forward(batch_last(x), training=True)
    assert layer._first is not None
    assert np.isnan(y).all()


def test_compiled_max_pool_is_not_used_where_it_does_not_fit():
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 6))
    for layer, data in (
        (fast_pool.MaxPool2D(2), x),  # NCHW memory
        (fast_pool.MaxPool2D(3, stride=2), batch_last(x)),  # overlapping windows
        (fast_pool.MaxPool2D(2), batch_last(x).astype(np.float16)),
    ):
        layer.forward(data, training=True)
        assert layer._first is None


@pytest.mark.parametrize("dtype, tol", [(np.float64, TOL), (np.float32, 2e-5)])
def test_compiled_batch_norm_equals_reference(dtype, tol):
    rng = np.random.default_rng(4)
    x = batch_last((rng.standard_normal((4, 3, 5, 6)) * 2 + 1).astype(dtype))
    dy = batch_last(rng.standard_normal((4, 3, 5, 6)).astype(dtype))
    out = {}
    for tier in ("reference", "fast"):
        layer, y, dx, grads = run(
            tier, "BatchNorm2D", {"num_channels": 3, "momentum": 0.2}, (3, 5, 6), x, lambda s: dy, True
        )
        out[tier] = layer, y, dx, grads
    fast_layer = out["fast"][0]
    assert fast_layer._xc_rows is not None
    for got, want in zip(out["fast"][1:3], out["reference"][1:3]):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    for key in out["reference"][3]:
        np.testing.assert_allclose(out["fast"][3][key], out["reference"][3][key], rtol=tol, atol=tol, err_msg=key)
    for key in out["reference"][0].buffers:
        np.testing.assert_allclose(fast_layer.buffers[key], out["reference"][0].buffers[key], rtol=tol, atol=tol)


def test_python_loops_equal_the_compiled_kernels():
    rng = np.random.default_rng(5)
    arrays = adam_arrays(rng, 11, np.float64)
    a, b = [x.copy() for x in arrays], [x.copy() for x in arrays]
    scalars = (0.1, 0.999, 0.001, 0.002, 1e-8)
    compiled.adam_update(*a, *scalars)
    compiled.adam_update.python(*b, *scalars)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)

    x = rng.standard_normal((2, 4, 6, 3))  # (C, H, W, N)
    y = [np.empty((2, 2, 3, 3)) for _ in range(2)]
    first = [np.empty((2, 2, 3, 3), np.uint8) for _ in range(2)]
    compiled.max_pool_forward(x, 2, y[0], first[0])
    compiled.max_pool_forward.python(x, 2, y[1], first[1])
    np.testing.assert_array_equal(y[0], y[1])
    np.testing.assert_array_equal(first[0], first[1])
    dx = [np.empty_like(x) for _ in range(2)]
    compiled.max_pool_backward(y[0], first[0], 2, dx[0])
    compiled.max_pool_backward.python(y[0], first[0], 2, dx[1])
    np.testing.assert_array_equal(dx[0], dx[1])

    dcols = rng.standard_normal((2, 3, 3, 4, 3, 2))  # (C, kh, kw, Ho, Wo, N), stride (1, 2)
    dx = [np.zeros((2, 6, 7, 2)) for _ in range(2)]
    compiled.col2im_add(dcols, 1, 2, dx[0])
    compiled.col2im_add.python(dcols, 1, 2, dx[1])
    np.testing.assert_array_equal(dx[0], dx[1])

    rows = rng.standard_normal((3, 20))
    gamma, beta = rng.random(3) + 0.5, rng.standard_normal(3)
    got = [[np.empty_like(rows), np.empty_like(rows), np.empty(3), np.empty(3)] for _ in range(2)]
    compiled.batch_norm_forward(rows, gamma, beta, 1e-5, *got[0])
    compiled.batch_norm_forward.python(rows, gamma, beta, 1e-5, *got[1])
    for u, v in zip(*got):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-12)


def test_usable_takes_numpy_float_arrays_only():
    assert compiled.usable(np.zeros(3, np.float32), np.zeros(2))
    assert not compiled.usable(np.zeros(3, np.int64))
    assert not compiled.usable(np.zeros(3, np.float16))
    assert not compiled.usable([1.0, 2.0])


KERNEL_LAYERS = [case for case in LAYERS if case[0] in ("Conv2D", "MaxPool2D", "BatchNorm2D")]


@pytest.mark.parametrize("layout", ["c-order", "batch-last"])
@pytest.mark.parametrize(
    "name, kwargs, shape", KERNEL_LAYERS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(KERNEL_LAYERS)]
)
def test_fast_layers_without_their_kernels_equal_reference(name, kwargs, shape, layout, monkeypatch):
    """The NumPy-style paths the kernels replace (what CuPy arrays take) still equal the reference."""
    monkeypatch.setattr(compiled, "usable", lambda *arrays: False)
    rng = np.random.default_rng(6)
    x = LAYOUTS[layout](rng.standard_normal((3,) + shape))
    g = rng.standard_normal(1000)
    results = [
        run(t, name, kwargs, shape, x, lambda s: LAYOUTS[layout](np.resize(g, s)), True) for t in ("reference", "fast")
    ]
    (_, y0, dx0, g0), (_, y1, dx1, g1) = results
    np.testing.assert_allclose(y1, y0, rtol=TOL, atol=TOL)
    np.testing.assert_allclose(dx1, dx0, rtol=TOL, atol=TOL)
    for key in g0:
        np.testing.assert_allclose(g1[key], g0[key], rtol=TOL, atol=TOL, err_msg=key)


@pytest.mark.parametrize("stride", [1, 2, (3, 1)])
def test_conv_input_gradient_goes_through_the_compiled_col2im(stride, monkeypatch):
    calls = []
    kernel = compiled.col2im_add
    monkeypatch.setattr(compiled, "col2im_add", lambda *args: calls.append(1) or kernel(*args))
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 9, 8))
    kwargs = {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": stride}
    (_, y0, dx0, g0), (_, y1, dx1, g1) = [
        run(t, "Conv2D", kwargs, x.shape[1:], x, lambda s: np.cos(np.arange(np.prod(s))).reshape(s), True)
        for t in ("reference", "fast")
    ]
    assert calls == [1]
    np.testing.assert_allclose(dx1, dx0, rtol=TOL, atol=TOL)


def test_without_numba_the_fast_tier_runs_its_numpy_code(monkeypatch):
    from digitnet import zoo

    monkeypatch.setattr(compiled, "NUMBA", False)
    assert not compiled.usable(np.zeros(3))
    rng = np.random.default_rng(8)
    model = zoo.build("lenet5", seed=0)
    model.compile("adam", lr=1e-3)
    calls = []
    monkeypatch.setattr(compiled, "adam_update", lambda *args: calls.append(1))
    loss, _ = model.train_step(rng.random((4, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 4))
    assert np.isfinite(loss) and calls == []


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["nchw", "batch-last"])
def test_compiled_relu_equals_reference_bit_for_bit(dtype, layout, monkeypatch):
    """Above the size threshold the fast ReLU runs its compiled passes; output, memory order and gradient
    are the reference's (NaN, infinities and signed zeros included)."""
    from digitnet.nn.fast import elementwise
    from digitnet.nn.layers import activations

    rng = np.random.default_rng(7)
    shape = (8, 4, 64, 64)  # 131,072 elements: the compiled passes
    assert np.prod(shape) >= elementwise.RELU_COMPILED_MIN_SIZE
    x, dy = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    x[0, 0, 0, :5] = np.nan, np.inf, -np.inf, -0.0, 0.0
    dy[0, 0, 0, 5:8] = np.inf, np.nan, -0.0
    x[0, 0, 0, 5:8] = 1.0, -1.0, 2.0
    if layout == "batch-last":  # as Conv2D's outputs: NCHW views of (C, H, W, N) memory
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
        dy = np.ascontiguousarray(dy.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    calls = []
    for name in ("relu_forward", "relu_backward"):
        kernel = getattr(compiled, name)
        monkeypatch.setattr(compiled, name, lambda *args, k=kernel, n=name: calls.append(n) or k(*args))
    fast, reference = elementwise.ReLU(), activations.ReLU()
    y, want = fast.forward(x, training=True), reference.forward(x, training=True)
    np.testing.assert_array_equal(y, want)
    assert y.strides == x.strides  # the input's memory order is kept
    np.testing.assert_array_equal(fast.backward(dy), reference.backward(dy))
    assert calls == ["relu_forward", "relu_backward"]
    # dy in another memory order than x: the NumPy product, the same numbers
    other = np.asfortranarray(dy)
    np.testing.assert_array_equal(fast.backward(other), reference.backward(other))


def test_compiled_relu_python_loops_equal_kernels():
    rng = np.random.default_rng(8)
    x = rng.standard_normal(40)
    x[:3] = np.nan, -0.0, np.inf
    out = [[np.empty(40), np.empty(40, bool), np.empty(40)] for _ in range(2)]
    for arrays, f, b in (
        (out[0], compiled.relu_forward, compiled.relu_backward),
        (out[1], compiled.relu_forward.python, compiled.relu_backward.python),
    ):
        f(x, arrays[0], arrays[1])
        b(x, arrays[1], arrays[2])
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_flat_views_walk_memory_in_one_order():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = np.ascontiguousarray(a.transpose(2, 0, 1)).transpose(1, 2, 0)  # same values, other memory order
    copy = np.empty_like(t)  # empty_like keeps t's memory order
    views = compiled.flat_views(t, copy)
    assert views is not None and np.shares_memory(views[0], t) and np.shares_memory(views[1], copy)
    views[1][:] = views[0]
    np.testing.assert_array_equal(copy, t)  # element i of both views is the same array element
    assert compiled.flat_views(t, a) is None  # orders differ
    assert compiled.flat_views(a[:, :, ::2]) is None  # not dense
