"""Dense layers, activations, losses and a whole model compared with PyTorch (skipped without torch).

Tolerances: float64 throughout, forward and gradients agree to rtol 1e-10 / atol 1e-12
(only summation order differs).
"""

import numpy as np
import pytest

from digitnet.nn import Adam, Sequential, losses
from digitnet.nn.layers import ELU, GELU, Dense, Flatten, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh

torch = pytest.importorskip("torch")
F = torch.nn.functional
RTOL, ATOL = 1e-10, 1e-12


def close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


def torch_grad(fn, x, dy):
    xt = torch.tensor(x, requires_grad=True)
    y = fn(xt)
    y.backward(torch.tensor(dy))
    return y, xt.grad


@pytest.mark.parametrize(
    "layer,fn",
    [
        (Identity(), lambda t: t * 1),
        (Sigmoid(), torch.sigmoid),
        (Tanh(), torch.tanh),
        (ReLU(), F.relu),
        (LeakyReLU(0.1), lambda t: F.leaky_relu(t, 0.1)),
        (ELU(0.7), lambda t: F.elu(t, 0.7)),
        (GELU(), lambda t: F.gelu(t, approximate="tanh")),
        (Softmax(), lambda t: torch.softmax(t, -1)),
    ],
    ids=lambda v: type(v).__name__ if not callable(v) or hasattr(v, "params") else "",
)
def test_activations_match_torch(layer, fn, rng):
    x = rng.standard_normal((4, 9)) * 3
    dy = rng.standard_normal((4, 9))
    y_t, dx_t = torch_grad(fn, x, dy)
    close(layer.forward(x, training=True), y_t)
    close(layer.backward(dy), dx_t)


@pytest.mark.parametrize("batch", [1, 7])
def test_dense_matches_torch_linear(batch, rng):
    layer = Dense(5)
    layer.build((3,), rng, np.float64)
    lin = torch.nn.Linear(3, 5).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(layer.params["weight"].T))  # torch stores (out, in)
        lin.bias.copy_(torch.tensor(layer.params["bias"]))
    x, dy = rng.standard_normal((batch, 3)), rng.standard_normal((batch, 5))
    y_t, dx_t = torch_grad(lin, x, dy)
    close(layer.forward(x), y_t)
    close(layer.backward(dy), dx_t)
    close(layer.grads["weight"], lin.weight.grad.T)
    close(layer.grads["bias"], lin.bias.grad)


def _loss_and_grad(torch_fn, pred, *args):
    pt = torch.tensor(pred, requires_grad=True)
    out = torch_fn(pt, *args)
    out.backward()
    return out, pt.grad


@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_cross_entropy_matches_torch(smoothing, rng):
    z, y = rng.standard_normal((6, 10)) * 5, rng.integers(0, 10, 6)
    ours = losses.SoftmaxCrossEntropy(smoothing)
    value = ours(z, y)
    t_value, t_grad = _loss_and_grad(lambda p: F.cross_entropy(p, torch.tensor(y), label_smoothing=smoothing), z)
    assert value == pytest.approx(t_value.item(), rel=RTOL)
    close(ours.grad(), t_grad)


def test_mse_and_bce_match_torch(rng):
    pred, y = rng.uniform(0.05, 0.95, (5, 4)), rng.integers(0, 4, 5)
    target = torch.tensor(np.eye(4)[y])
    for ours, fn in [
        (losses.MSE(), F.mse_loss),
        (losses.BinaryCrossEntropy(), F.binary_cross_entropy_with_logits),
        (losses.BinaryCrossEntropy(from_logits=False), F.binary_cross_entropy),
    ]:
        value = ours(pred, y)
        t_value, t_grad = _loss_and_grad(lambda p: fn(p, target), pred)
        assert value == pytest.approx(t_value.item(), rel=RTOL)
        close(ours.grad(), t_grad)


def test_training_steps_match_torch(rng):
    """Five Adam steps of a small MLP: same weights as torch.nn + torch.optim.Adam."""
    model = Sequential([Flatten(), Dense(6), Tanh(), Dense(3)], input_shape=(2, 2), dtype="float64", seed=3)
    model.compile(Adam(lr=0.05), "cross_entropy")
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3)
    ).double()
    with torch.no_grad():
        for ours, theirs in [(model.layers[1], net[1]), (model.layers[3], net[3])]:
            theirs.weight.copy_(torch.tensor(ours.params["weight"].T))
            theirs.bias.copy_(torch.tensor(ours.params["bias"]))
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(5):
        x, y = rng.standard_normal((8, 2, 2)), rng.integers(0, 3, 8)
        loss, _ = model.train_step(x, y)
        opt.zero_grad()
        t_loss = F.cross_entropy(net(torch.tensor(x)), torch.tensor(y))
        t_loss.backward()
        opt.step()
        assert loss == pytest.approx(t_loss.item(), rel=1e-9)
    close(model.layers[1].params["weight"], net[1].weight.T)
    close(model.layers[3].params["bias"], net[3].bias)
