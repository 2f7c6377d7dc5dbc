"""Optimisers against torch.optim: the same float64 parameters and gradients, 5 steps each.

A dense weight (4, 3) and a bias (3,): torch decays every parameter of a group, so the
bias is put in a group with weight_decay=0 to mirror digitnet's weights-only default.
"""

import numpy as np
import pytest

from digitnet.nn import optim

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-12, 1e-15  # float64; atol only for entries that happen to be ~0
STEPS = 5

# (digitnet name, digitnet kwargs, torch class name, torch kwargs)
CASES = [
    ("sgd", {"lr": 0.1}, "SGD", {"lr": 0.1}),
    ("momentum", {"lr": 0.1, "momentum": 0.9}, "SGD", {"lr": 0.1, "momentum": 0.9}),
    ("momentum", {"lr": 0.05, "momentum": 0.5}, "SGD", {"lr": 0.05, "momentum": 0.5}),
    ("nesterov", {"lr": 0.1, "momentum": 0.9}, "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("adagrad", {"lr": 0.1, "eps": 1e-10}, "Adagrad", {"lr": 0.1, "eps": 1e-10}),
    ("rmsprop", {"lr": 0.01, "rho": 0.9, "eps": 1e-8}, "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-8}),
    ("rmsprop", {}, "RMSprop", {"lr": 0.001, "alpha": 0.99, "eps": 1e-8}),
    ("adam", {"lr": 0.01}, "Adam", {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}),
    (
        "adam",
        {"lr": 0.003, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
        "Adam",
        {"lr": 0.003, "betas": (0.8, 0.99), "eps": 1e-6},
    ),
    ("adamw", {"lr": 0.01}, "AdamW", {"lr": 0.01, "weight_decay": 0.01}),
]


def run_both(name, kwargs, torch_name, torch_kwargs, weight_decay=None, clip_norm=None, seed=0):
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    grads = [(rng.normal(size=(4, 3)), rng.normal(size=3)) for _ in range(STEPS)]
    if weight_decay is not None:
        kwargs = {**kwargs, "weight_decay": weight_decay}
        torch_kwargs = {**torch_kwargs, "weight_decay": weight_decay}

    opt = optim.get(name, clip_norm=clip_norm, **kwargs)
    ours_w, ours_b = w.copy(), b.copy()
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    groups = [{"params": [tw]}, {"params": [tb], "weight_decay": 0.0}]
    topt = getattr(torch.optim, torch_name)(groups, foreach=False, **torch_kwargs)
    for gw, gb in grads:
        opt.step([("0.weight", ours_w, gw.copy()), ("0.bias", ours_b, gb.copy())])
        tw.grad, tb.grad = torch.tensor(gw), torch.tensor(gb)
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_([tw, tb], clip_norm)
        topt.step()
    return (ours_w, ours_b), (tw.detach().numpy(), tb.detach().numpy())


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}")
@pytest.mark.parametrize("weight_decay", [None, 0.05])
def test_matches_torch(case, weight_decay):
    ours, theirs = run_both(*case, weight_decay=weight_decay)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    if weight_decay:  # the decay really acted: the result differs from the run without it
        no_decay, _ = run_both(*case, weight_decay=0.0)
        assert not np.allclose(no_decay[0], ours[0], rtol=1e-9)
        np.testing.assert_allclose(no_decay[1], ours[1], rtol=RTOL, atol=ATOL)  # bias never decayed


@pytest.mark.parametrize("case", [CASES[1], CASES[7], CASES[9]], ids=lambda c: c[0])
def test_clip_norm_matches_torch_clip_grad_norm(case):
    # gradient norms are ~3.5, so a bound of 1 clips every step
    ours, theirs = run_both(*case, clip_norm=1.0)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def test_clip_grad_norm_function_matches_torch():
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=(5, 4)), rng.normal(size=4), rng.normal(size=(2, 1, 3, 3))]
    tensors = [torch.tensor(g, requires_grad=True) for g in grads]
    for t, g in zip(tensors, grads):
        t.grad = torch.tensor(g)
    total_torch = torch.nn.utils.clip_grad_norm_(tensors, 0.7)
    total = optim.clip_grad_norm(grads, 0.7)
    assert total == pytest.approx(float(total_torch), rel=RTOL)
    for t, g in zip(tensors, grads):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=RTOL, atol=ATOL)
