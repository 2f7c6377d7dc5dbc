"""Optimisers: hand-computed steps, weight decay, clipping, max-norm, convergence, checkpoints, errors."""

import io
import json

import numpy as np
import pytest

from digitnet.nn import optim

P0 = np.array([1.0, -2.0])
G1 = np.array([0.5, -1.0])
G2 = np.array([-0.25, 2.0])


def two_steps(opt, p0=P0, g1=G1, g2=G2):
    """Params after the first and the second step with gradients g1 then g2."""
    p = np.array(p0, dtype=np.float64)
    opt.step([("w", p, np.array(g1))])
    p1 = p.copy()
    opt.step([("w", p, np.array(g2))])
    return p1, p


# --- one step by hand, then a second step that uses the state ---------------------------
def test_sgd_by_hand():
    p1, p2 = two_steps(optim.SGD(lr=0.1))
    np.testing.assert_allclose(p1, [1.0 - 0.1 * 0.5, -2.0 + 0.1 * 1.0], rtol=1e-15)  # [0.95, -1.9]
    np.testing.assert_allclose(p2, [0.95 + 0.1 * 0.25, -1.9 - 0.1 * 2.0], rtol=1e-15)  # [0.975, -2.1]


def test_momentum_by_hand():
    p1, p2 = two_steps(optim.Momentum(lr=0.1, momentum=0.9))
    # v1 = g1 = [0.5, -1];  p1 = p0 - 0.1 v1
    np.testing.assert_allclose(p1, [0.95, -1.9], rtol=1e-15)
    # v2 = 0.9 v1 + g2 = [0.45 - 0.25, -0.9 + 2] = [0.2, 1.1];  p2 = p1 - 0.1 v2
    np.testing.assert_allclose(p2, [0.95 - 0.02, -1.9 - 0.11], rtol=1e-14)


def test_nesterov_by_hand():
    p1, p2 = two_steps(optim.Nesterov(lr=0.1, momentum=0.9))
    # v1 = g1; p1 = p0 - 0.1 (g1 + 0.9 v1) = p0 - 0.19 g1
    np.testing.assert_allclose(p1, [1.0 - 0.095, -2.0 + 0.19], rtol=1e-14)
    # v2 = [0.2, 1.1]; g2 + 0.9 v2 = [-0.07, 2.99]; p2 = p1 - 0.1 * that
    np.testing.assert_allclose(p2, [0.905 + 0.007, -1.81 - 0.299], rtol=1e-14)


def test_adagrad_by_hand():
    eps = 1e-10
    p1, p2 = two_steps(optim.Adagrad(lr=0.1, eps=eps))
    # s1 = g1^2 = [0.25, 1]; sqrt(s1) = |g1|
    np.testing.assert_allclose(p1, [1.0 - 0.1 * 0.5 / (0.5 + eps), -2.0 + 0.1 * 1.0 / (1.0 + eps)], rtol=1e-14)
    # s2 = [0.25 + 0.0625, 1 + 4] = [0.3125, 5]
    step2 = 0.1 * np.array([-0.25 / (np.sqrt(0.3125) + eps), 2.0 / (np.sqrt(5.0) + eps)])
    np.testing.assert_allclose(p2, p1 - step2, rtol=1e-14)


def test_rmsprop_by_hand():
    eps = 1e-8
    p1, p2 = two_steps(optim.RMSprop(lr=0.01, rho=0.9, eps=eps))
    # s1 = 0.1 g1^2 = [0.025, 0.1]
    step1 = 0.01 * np.array([0.5 / (np.sqrt(0.025) + eps), -1.0 / (np.sqrt(0.1) + eps)])
    np.testing.assert_allclose(p1, P0 - step1, rtol=1e-14)
    # s2 = 0.9 s1 + 0.1 g2^2 = [0.0225 + 0.00625, 0.09 + 0.4] = [0.02875, 0.49]
    step2 = 0.01 * np.array([-0.25 / (np.sqrt(0.02875) + eps), 2.0 / (0.7 + eps)])
    np.testing.assert_allclose(p2, p1 - step2, rtol=1e-14)


def test_adam_by_hand():
    eps = 1e-8
    p1, p2 = two_steps(optim.Adam(lr=0.1, beta1=0.9, beta2=0.999, eps=eps))
    # step 1: m = 0.1 g1, v = 0.001 g1^2; m_hat = g1, v_hat = g1^2: a step of lr * g1 / (|g1| + eps)
    np.testing.assert_allclose(p1, [1.0 - 0.1 * 0.5 / (0.5 + eps), -2.0 + 0.1 * 1.0 / (1.0 + eps)], rtol=1e-14)
    # step 2: m = 0.9 * 0.1 g1 + 0.1 g2 = [0.02, 0.11]
    #         v = 0.999 * 0.001 g1^2 + 0.001 g2^2 = [0.00031225, 0.004999]
    m_hat = np.array([0.02, 0.11]) / (1 - 0.9**2)
    v_hat = np.array([0.00031225, 0.004999]) / (1 - 0.999**2)
    np.testing.assert_allclose(p2, p1 - 0.1 * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-13)


def test_l2_weight_decay_on_weights_only_by_default():
    w = P0.reshape(1, 2).copy()
    b = P0.copy()
    opt = optim.SGD(lr=0.1, weight_decay=0.5)
    opt.step([("0.weight", w, G1.reshape(1, 2)), ("0.bias", b, G1.copy())])
    # weight: g + 0.5 p = [0.5 + 0.5, -1 - 1] = [1, -2]; bias: no decay
    np.testing.assert_allclose(w, [[0.9, -1.8]], rtol=1e-15)
    np.testing.assert_allclose(b, [0.95, -1.9], rtol=1e-15)
    b = P0.copy()
    optim.SGD(lr=0.1, weight_decay=0.5, decay_all=True).step([("0.bias", b, G1.copy())])
    np.testing.assert_allclose(b, [0.9, -1.8], rtol=1e-15)


def test_adamw_decay_is_decoupled():
    w = P0.reshape(1, 2)
    # Adam + L2: g' = g1 + 0.1 p0 = [0.6, -1.2]; step 1 is lr * g' / (|g'| + eps), about lr * sign(g1)
    p_adam, _ = two_steps(optim.Adam(lr=0.1, weight_decay=0.1), w, G1.reshape(1, 2), G2.reshape(1, 2))
    np.testing.assert_allclose(p_adam, [[1.0 - 0.1 * 0.6 / (0.6 + 1e-8), -2.0 + 0.1 * 1.2 / (1.2 + 1e-8)]], rtol=1e-14)
    # AdamW: p0 * (1 - 0.1 * 0.1) - lr * g1 / (|g1| + eps), about [0.99 - 0.1, -1.98 + 0.1]
    p_adamw, _ = two_steps(optim.AdamW(lr=0.1, weight_decay=0.1), w, G1.reshape(1, 2), G2.reshape(1, 2))
    expected = [[0.99 - 0.1 * 0.5 / (0.5 + 1e-8), -1.98 + 0.1 * 1.0 / (1.0 + 1e-8)]]
    np.testing.assert_allclose(p_adamw, expected, rtol=1e-14)
    np.testing.assert_allclose(p_adamw, [[0.89, -1.88]], rtol=1e-7)
    assert optim.AdamW().weight_decay == 0.01


# --- clipping and max-norm -------------------------------------------------------------
def test_clip_norm_in_step_scales_to_global_norm_and_leaves_grads():
    w, b = np.zeros((1, 2)), np.zeros(1)
    gw, gb = np.array([[3.0, 4.0]]), np.array([12.0])  # global norm sqrt(9 + 16 + 144) = 13
    optim.SGD(lr=1.0, clip_norm=1.3).step([("w", w, gw), ("b", b, gb)])
    step = np.concatenate([w.ravel(), b])
    np.testing.assert_allclose(np.linalg.norm(step), 1.3, rtol=1e-6)
    np.testing.assert_allclose(step, -np.array([3.0, 4.0, 12.0]) * 0.1, rtol=1e-6)  # direction kept
    np.testing.assert_array_equal(gw, [[3.0, 4.0]])  # the layer's grads are not touched
    w = np.zeros((1, 2))
    optim.SGD(lr=1.0, clip_norm=100.0).step([("w", w, gw)])  # below the bound: unchanged
    np.testing.assert_array_equal(w, -gw)


def test_clip_grad_norm_function():
    grads = [np.array([3.0, 4.0]), np.array([[12.0]])]
    total = optim.clip_grad_norm(grads, 6.5)
    assert total == pytest.approx(13.0, rel=1e-15)
    np.testing.assert_allclose(optim.global_norm(grads), 6.5, rtol=1e-6)
    np.testing.assert_allclose(grads[0], [1.5, 2.0], rtol=1e-6)
    grads = [np.array([0.3, 0.4])]
    assert optim.clip_grad_norm(grads, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(grads[0], [0.3, 0.4])


def test_max_norm_caps_dense_columns():
    w = np.array([[3.0, 0.1, 0.0], [4.0, 0.2, 6.0]])  # (in=2, out=3): column norms 5, ~0.22, 6
    before = w.copy()
    optim.apply_max_norm(w, 2.0)
    np.testing.assert_allclose(np.linalg.norm(w, axis=0), [2.0, np.hypot(0.1, 0.2), 2.0], rtol=1e-14)
    np.testing.assert_allclose(w[:, 0], before[:, 0] * 0.4, rtol=1e-14)  # direction kept
    np.testing.assert_array_equal(w[:, 1], before[:, 1])  # short columns untouched


def test_max_norm_caps_conv_filters_in_step():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 2, 3, 3))
    w[1] *= 0.01  # one short filter
    b = np.full(4, 10.0)
    before = w.copy()
    opt = optim.SGD(lr=0.1, max_norm=1.5)
    opt.step([("0.weight", w, np.zeros_like(w)), ("0.bias", b, np.zeros_like(b))])
    norms = np.sqrt((w**2).sum(axis=(1, 2, 3)))
    np.testing.assert_allclose(norms[[0, 2, 3]], 1.5, rtol=1e-14)
    np.testing.assert_array_equal(w[1], before[1])
    np.testing.assert_array_equal(b, 10.0)  # 1-D params are not constrained


# --- each optimiser minimises a small least-squares problem ------------------------------
LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.05, "adamw": 0.05}


def regression_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 5))
    y = x @ rng.normal(size=(5, 1)) + 0.3 + 0.01 * rng.normal(size=(64, 1))
    return x, y


def loss_and_grads(x, y, w, b):
    """L = mean((x w + b - y)^2) / 2 and its gradients."""
    r = x @ w + b - y
    return 0.5 * float(np.mean(r**2)), x.T @ r / len(x), r.mean(axis=0)


def train(opt, x, y, w, b, steps):
    for _ in range(steps):
        _, gw, gb = loss_and_grads(x, y, w, b)
        opt.step([("0.weight", w, gw), ("0.bias", b, gb)])


@pytest.mark.parametrize("name", sorted(LR))
def test_each_optimiser_reduces_the_loss(name):
    x, y = regression_problem()
    w, b = np.zeros((5, 1)), np.zeros(1)
    opt = optim.get(name, lr=LR[name])
    first, _, _ = loss_and_grads(x, y, w, b)
    train(opt, x, y, w, b, 200)
    last, _, _ = loss_and_grads(x, y, w, b)
    assert last < 1e-3 * first, (name, first, last)  # all reach the noise floor, ~3e-5
    assert opt.t == 200


# --- checkpoints --------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LR))
def test_state_dict_round_trip_through_npz_resumes_bit_for_bit(name):
    x, y = regression_problem(1)
    w, b = np.zeros((5, 1)), np.zeros(1)
    opt = optim.get(name, lr=LR[name], weight_decay=0.01, clip_norm=5.0, max_norm=3.0)
    train(opt, x, y, w, b, 3)
    opt.lr *= 0.5  # as a schedule would
    state = opt.state_dict()
    buf = io.BytesIO()
    np.savez(buf, header=json.dumps({k: state[k] for k in ("class", "config", "t")}), **state["slots"])
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as f:
        saved = json.loads(str(f["header"]))
        saved["slots"] = {k: f[k] for k in f.files if k != "header"}
    resumed = optim.from_state_dict(saved)
    assert resumed.get_config() == opt.get_config() and resumed.t == 3
    w2, b2 = w.copy(), b.copy()
    train(opt, x, y, w, b, 3)
    train(resumed, x, y, w2, b2, 3)
    np.testing.assert_array_equal(w2, w)
    np.testing.assert_array_equal(b2, b)


def test_state_dict_layout_and_class_check():
    opt = optim.Adam()
    opt.step([("3.weight", np.ones((2, 2)), np.ones((2, 2)))])
    state = opt.state_dict()
    assert state["class"] == "Adam" and state["t"] == 1
    assert sorted(state["slots"]) == ["3.weight/m", "3.weight/v"]
    json.dumps(state["config"])
    with pytest.raises(ValueError, match="Adam"):
        optim.SGD(lr=0.1).load_state_dict(state)


# --- errors and the registry ---------------------------------------------------------------
def test_get_by_name_and_instance():
    assert isinstance(optim.get("ADAMW", lr=0.01), optim.AdamW)
    opt = optim.Nesterov(lr=0.1)
    assert optim.get(opt) is opt
    assert type(opt)(**opt.get_config()).get_config() == opt.get_config()
    with pytest.raises(ValueError, match="'adamx'.*sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw"):
        optim.get("adamx")


@pytest.mark.parametrize(
    "make, bad",
    [
        (lambda: optim.SGD(lr=0.0), "lr"),
        (lambda: optim.Adam(lr=-1e-3), "lr"),
        (lambda: optim.Momentum(0.1, momentum=1.0), "momentum"),
        (lambda: optim.Nesterov(0.1, momentum=-0.1), "momentum"),
        (lambda: optim.Adam(beta1=1.0), "beta1"),
        (lambda: optim.AdamW(beta2=-0.5), "beta2"),
        (lambda: optim.RMSprop(rho=1.5), "rho"),
        (lambda: optim.SGD(0.1, weight_decay=-0.01), "weight_decay"),
        (lambda: optim.SGD(0.1, clip_norm=0), "clip_norm"),
        (lambda: optim.SGD(0.1, max_norm=-1), "max_norm"),
        (lambda: optim.Adagrad(eps=0.0), "eps"),
        (lambda: optim.SGD(lr="fast"), "lr"),
    ],
)
def test_bad_hyperparameters_are_named(make, bad):
    with pytest.raises(ValueError, match=bad):
        make()


@pytest.mark.parametrize("name", sorted(LR))
def test_float32_params_and_state_stay_float32(name):
    w = np.ones((3, 2), dtype=np.float32)
    opt = optim.get(name, lr=0.01, weight_decay=0.1, clip_norm=0.5, max_norm=1.0)
    for _ in range(2):
        opt.step([("0.weight", w, np.full((3, 2), 0.5, dtype=np.float32))])
    assert w.dtype == np.float32 and np.all(np.isfinite(w)) and np.all(w < 1.0)
    assert all(a.dtype == np.float32 for a in opt.state_dict()["slots"].values())
