"""Conv2D: numerical gradients, agreement with the loop oracle and with PyTorch, the C3 table, errors."""

import json

import numpy as np
import pytest

from digitnet.nn.gradcheck import gradcheck
from digitnet.nn.layers.base import Layer
from digitnet.nn.layers.conv import LENET5_C3_TABLE, Conv2D
from digitnet.nn.loops.conv import conv2d_backward_naive, conv2d_forward_naive

TOL = 1e-6

# (batch, in, out, H, W, kernel, stride, padding): batch 1, odd sizes, stride 2, 'same', even and
# rectangular kernels, 1x1; together they reach the fast tier's three input-gradient methods (see
# test_cases_reach_every_input_gradient_method).
CASES = [
    (1, 1, 2, 7, 7, 3, 1, 0),
    (2, 3, 4, 7, 9, 3, 1, "same"),
    (2, 2, 3, 9, 7, 3, 2, 1),
    (3, 2, 2, 6, 5, (2, 3), (2, 1), (1, 2)),
    (2, 3, 2, 6, 6, 4, 1, "same"),
    (2, 6, 5, 12, 12, 5, 1, 0),
    (1, 2, 3, 5, 5, 5, 1, 2),
    (2, 4, 3, 8, 8, 3, 2, "valid"),
    (2, 2, 3, 7, 9, (3, 2), (1, 2), (1, 0)),
    (2, 3, 2, 6, 6, 1, 1, 0),
    (2, 17, 3, 8, 11, (3, 4), (1, 3), (2, 1)),
    (2, 33, 6, 7, 6, 3, 1, "same"),
]


def built(layer, shape, seed=0, dtype=np.float64):
    layer.build(shape, np.random.default_rng(seed), dtype)
    return layer


def make(case, rng, **kwargs):
    n, c, o, h, w, k, s, p = case
    conv = built(Conv2D(c, o, k, stride=s, padding=p, **kwargs), (c, h, w))
    if "bias" in conv.params:
        conv.params["bias"][:] = rng.standard_normal(o)
    return conv, rng.standard_normal((n, c, h, w))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_gradcheck(case, rng):
    conv, x = make(case, rng)
    errors = gradcheck(conv, x)
    assert set(errors) == {"input", "weight", "bias"}
    assert max(errors.values()) < TOL, errors


def test_conv_gradcheck_without_bias(rng):
    conv, x = make(CASES[1], rng, bias=False)
    errors = gradcheck(conv, x)
    assert set(errors) == {"input", "weight"} and max(errors.values()) < TOL, errors


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fast_conv_equals_naive_loops(case, rng):
    conv, x = make(case, rng)
    y = conv.forward(x)
    (pt, pb), (pl, pr) = conv.pads
    y_ref = conv2d_forward_naive(x, conv.params["weight"], conv.params["bias"], conv.stride, ((pt, pb), (pl, pr)))
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    dx = conv.backward(dy)
    dx_ref, dw_ref, db_ref = conv2d_backward_naive(x, conv.params["weight"], dy, conv.stride, ((pt, pb), (pl, pr)))
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.grads["weight"], dw_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.grads["bias"], db_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.tiers("fast")
def test_cases_reach_every_input_gradient_method(rng):
    """Flipped kernel by row shifts, col2im by row shifts (vertical stride 1), col2im by k*k slice-adds;
    patches as the full patch matrix and as the row matrix."""
    methods, patches = set(), set()
    for case in CASES:
        conv, _ = make(case, rng)
        patches.add(conv.patches_by_row_shifts())
        if conv.input_grad_by_flipped_kernel(case[3:5]):
            methods.add("flipped")
        else:
            methods.add("row shifts" if conv.stride[0] == 1 else "slice-adds")
    assert methods == {"flipped", "row shifts", "slice-adds"} and patches == {True, False}


@pytest.mark.tiers("fast")
def test_output_shapes_and_layouts(rng):
    conv = built(Conv2D(1, 6, 5), (1, 28, 28))
    assert conv.output_shape == (6, 24, 24) and conv.params["weight"].shape == (6, 1, 5, 5)
    assert built(Conv2D(3, 4, 3, padding="same"), (3, 11, 9)).output_shape == (4, 11, 9)
    assert built(Conv2D(3, 4, 4, padding="same"), (3, 10, 7)).output_shape == (4, 10, 7)
    assert built(Conv2D(3, 4, 3, stride=2, padding=1), (3, 28, 28)).output_shape == (4, 14, 14)
    x = rng.standard_normal((2, 1, 28, 28)).astype(np.float64)
    y = conv.forward(x)
    assert y.shape == (2, 6, 24, 24)
    assert y.transpose(1, 2, 3, 0).flags.c_contiguous  # NCHW values, batch-last memory (no transposing copy)
    np.testing.assert_allclose(
        y, conv2d_forward_naive(x, conv.params["weight"], conv.params["bias"]), rtol=1e-12, atol=1e-12
    )


def test_float32_stays_float32(rng):
    conv = built(Conv2D(2, 3, 3, padding="same"), (2, 8, 8), dtype=np.float32)
    x = rng.standard_normal((4, 2, 8, 8)).astype(np.float32)
    y = conv.forward(x, training=True)
    dx = conv.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == conv.grads["weight"].dtype == np.float32


def test_outputs_are_fresh_arrays(rng):
    """Buffers are reused inside the layer, but an earlier output must not change under a later call."""
    conv = built(Conv2D(2, 3, 3, padding=1), (2, 6, 6))
    x1, x2 = rng.standard_normal((2, 2, 2, 6, 6))
    y1 = conv.forward(x1)
    y1_copy = y1.copy()
    dx1 = conv.backward(np.ones_like(y1)).copy()
    conv.forward(x2)
    np.testing.assert_array_equal(y1, y1_copy)
    conv.forward(x1)
    np.testing.assert_allclose(conv.backward(np.ones_like(y1)), dx1)


@pytest.mark.tiers("fast")
def test_weights_changed_in_place_are_used_by_the_next_forward(rng):
    """The fast tier keeps its reordered weight between calls; changing the weight in place (as
    optimisers do), to zero included, must show in the next output."""
    from digitnet.nn.layers.conv import Conv2D as ReferenceConv2D

    conv = built(Conv2D(96, 32, 3, padding="same"), (96, 6, 6))  # wide: the row-shift path
    assert conv.patches_by_row_shifts()
    reference = built(ReferenceConv2D(96, 32, 3, padding="same"), (96, 6, 6))
    x = rng.standard_normal((2, 96, 6, 6))
    for change in (lambda w: w.__imul__(-0.5), lambda w: w.__setitem__((0, 0, 1, 2), 7.0), lambda w: w.fill(0)):
        change(conv.params["weight"])
        reference.params["weight"][...] = conv.params["weight"]
        reference.params["bias"][...] = conv.params["bias"]
        np.testing.assert_allclose(conv.forward(x), reference.forward(x), rtol=1e-10, atol=1e-12)


@pytest.mark.tiers("fast")
def test_large_inference_batches_are_split_exactly(rng, monkeypatch):
    import digitnet.nn.fast.conv as conv_module

    conv, x = make((7, 2, 3, 6, 6, 3, 1, 1), rng)
    whole = conv.forward(x)
    monkeypatch.setattr(conv_module, "INFERENCE_COLS_BYTES", 2 * 2 * 9 * 36 * 8)  # two samples per chunk
    np.testing.assert_allclose(conv.forward(x), whole, rtol=1e-13)
    errors = gradcheck(conv, x, max_entries=30)  # backward after a split forward recomputes the patches
    assert max(errors.values()) < TOL, errors


def test_skipping_the_input_gradient(rng):
    conv, x = make(CASES[0], rng)
    y = conv.forward(x)
    conv.backward(np.ones_like(y))
    dw = conv.grads["weight"].copy()
    conv.needs_input_grad = False
    assert conv.backward(np.ones_like(y)) is None
    np.testing.assert_allclose(conv.grads["weight"], dw)


def test_lenet5_c3_table_matches_lecun_1998():
    table = np.array(LENET5_C3_TABLE)
    assert table.shape == (16, 6) and table.sum() == 60
    assert table.sum(axis=1).tolist() == [3] * 6 + [4] * 9 + [6]
    assert np.flatnonzero(table[:, 0]).tolist() == [0, 4, 5, 6, 9, 10, 11, 12, 14, 15]  # row 0 of table I
    conv = built(Conv2D(6, 16, 5, connections=LENET5_C3_TABLE), (6, 14, 14))
    assert conv.n_params() == 1516  # as in the paper


def test_connection_table_masks_weights_and_gradients(rng):
    table = [[True, False, True], [False, True, False]]
    conv = built(Conv2D(3, 2, 3, padding=1, connections=table), (3, 5, 5))
    mask = np.array(table)[:, :, None, None]
    assert np.all(conv.params["weight"][~np.broadcast_to(mask, conv.params["weight"].shape)] == 0)
    x = rng.standard_normal((2, 3, 5, 5))
    errors = gradcheck(conv, x)
    assert max(errors.values()) < TOL, errors
    y = conv.forward(x)
    conv.backward(rng.standard_normal(y.shape))
    assert np.all(conv.grads["weight"] * ~mask == 0)
    conv.params["weight"][...] = rng.standard_normal(conv.params["weight"].shape)  # even if set densely,
    x_cut = x.copy()
    x_cut[:, 1] = 0  # input map 1 reaches only output map 1
    np.testing.assert_allclose(conv.forward(x)[:, 0], conv.forward(x_cut)[:, 0])


def test_config_round_trip_is_json():
    conv = Conv2D(
        6, 16, 5, stride=1, padding="same", bias=False, weight_init="lecun_normal", connections=LENET5_C3_TABLE
    )
    config = json.loads(json.dumps(conv.to_config()))
    clone = Layer.from_config(config)
    assert isinstance(clone, Conv2D) and clone.get_config() == conv.get_config()
    assert clone.pads == conv.pads and clone.connections == conv.connections


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"in_channels": 0, "out_channels": 2, "kernel_size": 3}, "in_channels"),
        ({"in_channels": 1, "out_channels": 2, "kernel_size": -1}, "-1"),
        ({"in_channels": 1, "out_channels": 2, "kernel_size": (3,)}, "kernel_size"),
        ({"in_channels": 1, "out_channels": 2, "kernel_size": 3, "stride": 0}, "stride"),
        ({"in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": -2}, "-2"),
        ({"in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": "full"}, "'full'"),
        ({"in_channels": 1, "out_channels": 2, "kernel_size": 3, "stride": 2, "padding": "same"}, "same"),
        ({"in_channels": 1, "out_channels": 2, "kernel_size": 3, "weight_init": "nope"}, "'nope'"),
        (
            {"in_channels": (3, 9), "out_channels": 4, "kernel_size": 3},
            "in_channels must be a positive int, got (3, 9)",
        ),
        ({"in_channels": 3, "out_channels": [4, 4], "kernel_size": 3}, "out_channels"),
        ({"in_channels": 2, "out_channels": 2, "kernel_size": 3, "connections": [[1, 0]]}, "(1, 2)"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_value(kwargs, word):
    with pytest.raises(ValueError, match=word.replace("(", r"\(").replace(")", r"\)")):
        Conv2D(**kwargs)


def test_bad_inputs_raise_value_error(rng):
    with pytest.raises(ValueError, match="8, 8"):
        built(Conv2D(1, 2, 9), (1, 8, 8))
    with pytest.raises(ValueError, match=r"\(3, 8, 8\)"):
        built(Conv2D(1, 2, 3), (3, 8, 8))
    conv = built(Conv2D(1, 2, 3), (1, 8, 8))
    with pytest.raises(ValueError, match=r"\(2, 8, 8\)"):
        conv.forward(np.zeros((2, 8, 8)))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_against_torch(case, rng):
    torch = pytest.importorskip("torch")
    n, c, o, h, w, k, s, p = case
    conv, x = make(case, rng)
    (pt, pb), (pl, pr) = conv.pads
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(conv.params["weight"], requires_grad=True)
    bt = torch.tensor(conv.params["bias"], requires_grad=True)
    padded = torch.nn.functional.pad(xt, (pl, pr, pt, pb))
    yt = torch.nn.functional.conv2d(padded, wt, bt, stride=conv.stride)
    y = conv.forward(x, training=True)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    dx = conv.backward(dy)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.grads["weight"], wt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.grads["bias"], bt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_float32_lenet_shapes_against_torch(rng):
    torch = pytest.importorskip("torch")
    conv = built(Conv2D(6, 16, 5, connections=LENET5_C3_TABLE), (6, 12, 12), dtype=np.float32)
    x = rng.standard_normal((8, 6, 12, 12)).astype(np.float32)
    y = conv.forward(x, training=True)
    yt = torch.nn.functional.conv2d(
        torch.tensor(x), torch.tensor(conv.params["weight"]), torch.tensor(conv.params["bias"])
    )
    np.testing.assert_allclose(y, yt.numpy(), rtol=1e-4, atol=1e-4)
