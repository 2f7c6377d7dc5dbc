"""The element-wise (for-loop) network computes exactly what the vectorised framework computes (float64, 1e-10)."""

import numpy as np
import pytest

from digitnet.nn import SGD, Sequential
from digitnet.nn.layers import ELU, GELU, Dense, Flatten, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from digitnet.nn.loops import LoopMLP, backward_loops, forward_loops, loss_and_output_gradient

ACTIVATION_LAYERS = {
    "sigmoid": Sigmoid,
    "linear": Identity,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
}
TOL = 1e-10


def framework_net(sizes, activation, output_activation, seed=0, init="xavier_uniform", flatten=False):
    layers = [Flatten()] if flatten else []
    for k, units in enumerate(sizes[1:]):
        last = k == len(sizes) - 2
        layers += [Dense(units, weight_init=init), ACTIVATION_LAYERS[output_activation if last else activation]()]
    shape = (1, sizes[0]) if flatten else (sizes[0],)
    return Sequential(layers, input_shape=shape, dtype="float64", seed=seed)


def framework_gradients(model, x, y, loss):
    model.compile(SGD(lr=0.1), loss)
    out = model.forward(x, training=True)
    value = model.loss(out, y)
    model.backward(model.loss.grad())
    return out, value, {name: g.copy() for name, _, g in model.parameters()}


def loop_gradients_by_name(dws, dbs):
    grads = {}
    for l, (dw, db) in enumerate(zip(dws, dbs)):
        grads[f"{2 * l}.weight"], grads[f"{2 * l}.bias"] = np.array(dw), np.array(db)
    return grads


def assert_close(a, b, what):
    err = np.max(np.abs(np.asarray(a) - np.asarray(b)))
    assert err < TOL, f"{what}: max abs difference {err:.3g}"


@pytest.mark.parametrize("activation", sorted(ACTIVATION_LAYERS))
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_forward_loss_and_every_gradient_match_the_framework(activation, loss, rng):
    output = "sigmoid" if loss == "mse" else "linear"
    model = framework_net([7, 5, 4, 3], activation, output, init="he_normal")
    x = rng.standard_normal((4, 7))
    y = np.array([0, 2, 1, 2])
    out, value, grads = framework_gradients(model, x, y, loss)
    net = LoopMLP.from_sequential(model, loss=loss)
    assert (net.activation, net.output_activation) == (activation, output)
    assert_close(net.forward(x), out, "forward")
    loop_loss, dws, dbs = net.gradients(x, y)
    assert abs(loop_loss - value) < TOL
    loop_grads = loop_gradients_by_name(dws, dbs)
    assert set(loop_grads) == set(grads)
    for name in grads:
        assert_close(loop_grads[name], grads[name], name)


def test_the_seed_network_784_16_16_10_sigmoid_mse_with_numpy_storage(rng):
    model = framework_net([784, 16, 16, 10], "sigmoid", "sigmoid", init="normal", flatten=True)
    x = rng.random((2, 1, 784))
    y = np.array([3, 7])
    out, value, grads = framework_gradients(model, x, y, "mse")
    model_grads = {f"{int(k.split('.')[0]) - 1}.{k.split('.')[1]}": g for k, g in grads.items()}  # Flatten is layer 0
    for storage in ("list", "numpy"):
        net = LoopMLP.from_sequential(model, loss="mse", storage=storage)
        assert_close(net.forward(x), out, f"forward ({storage})")
        loop_loss, dws, dbs = net.gradients(x, y)
        assert abs(loop_loss - value) < TOL
        for name, g in loop_gradients_by_name(dws, dbs).items():
            assert_close(g, model_grads[name], f"{name} ({storage})")


def test_training_steps_stay_equal_to_sgd_in_the_framework(rng):
    model = framework_net([6, 8, 3], "tanh", "linear")
    net = LoopMLP.from_sequential(model, loss="cross_entropy")
    model.compile(SGD(lr=0.3), "cross_entropy")
    x = rng.standard_normal((10, 6))
    y = rng.integers(0, 3, 10)
    for step in range(3):
        batch = slice(3 * step, 3 * step + 4)
        loss_vec, _ = model.train_step(x[batch], y[batch])
        loss_loop = net.train_step(x[batch], y[batch], lr=0.3)
        assert abs(loss_vec - loss_loop) < TOL
    weights, biases = net.get_weights()
    assert_close(weights[0], model.layers[0].params["weight"], "weight after 3 steps")
    assert_close(biases[1], model.layers[2].params["bias"], "bias after 3 steps")


def test_single_sample_functions_follow_the_equations():
    W = [[[1.0, -1.0], [0.5, 2.0]]]  # 2 inputs -> 2 units
    b = [[0.1, 0.0]]
    zs, acts = forward_loops(W, b, [2.0, 1.0], activation="relu")
    assert zs == [[2.6, 0.0]] and acts[-1] == [2.6, 0.0]
    loss, d_out = loss_and_output_gradient(acts[-1], 0, "mse")
    assert loss == pytest.approx((1.6**2 + 0.0) / 2) and d_out == pytest.approx([1.6, 0.0])
    dws, dbs, dx = backward_loops(W, zs, acts, d_out, activation="relu")
    np.testing.assert_allclose(dws[0], [[3.2, 0.0], [1.6, 0.0]])  # a_i * delta_j; relu'(0) = 0
    assert dbs[0] == pytest.approx([1.6, 0.0]) and dx == pytest.approx([1.6, 0.8])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        LoopMLP([4, 2], activation="swish")
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        LoopMLP([4, 2], loss="hinge")
    with pytest.raises(ValueError, match="sizes must list"):
        LoopMLP([4])
    model = Sequential([Dense(3), LeakyReLU(0.2), Dense(2)], input_shape=(4,), dtype="float64")
    with pytest.raises(ValueError, match="fixed slope"):
        LoopMLP.from_sequential(model)


def test_loop_network_learns_a_tiny_problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    net = LoopMLP(
        [4, 6, 2],
        activation="tanh",
        output_activation="linear",
        loss="cross_entropy",
        weight_init="xavier_normal",
        seed=1,
    )
    first = net.train_step(x, y, lr=0.5)
    for _ in range(30):
        last = net.train_step(x, y, lr=0.5)
    assert last < 0.5 * first
    assert (net.predict(x) == y).mean() > 0.9
