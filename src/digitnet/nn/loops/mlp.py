"""The dense network written element by element with plain Python loops — for teaching and benchmarks.

Nothing here uses a matrix product: every multiply-add of the forward and
backward pass is one line of Python, per sample, per unit, per weight, so the
equations can be read straight off the code. The vectorised framework
(``Dense`` + activation layers + ``MSE`` / ``SoftmaxCrossEntropy``) computes
exactly the same numbers (tests/test_loops.py checks it to 1e-10 in float64);
``digitnet compare loops`` measures how much slower this version is.

Layer l has weights W[i][j] (input i -> unit j, the framework's (in, out)
layout) and biases b[j]. For one sample a^0 = x:

    forward     z^l_j = b^l_j + sum_i a^(l-1)_i W^l[i][j]          a^l_j = f(z^l_j)
    output      delta^L_j = dL/da^L_j * f'(z^L_j)
    backward    dL/dW^l[i][j] = a^(l-1)_i delta^l_j               dL/db^l_j = delta^l_j
                delta^(l-1)_i = f'(z^(l-1)_i) * sum_j W^l[i][j] delta^l_j

Losses, per sample with one-hot target t over C classes (a batch averages them,
as the framework does, so every gradient carries 1/N):

    mse            L = 1/C sum_c (a_c - t_c)^2              dL/da_c = 2 (a_c - t_c) / C
    cross_entropy  L = log sum_c e^(a_c) - a_y              dL/da_c = softmax(a)_c - t_c

Weights may be nested Python lists (fast, for Python) or NumPy arrays (indexed
one element at a time, as a first from-scratch attempt often does).
"""

from __future__ import annotations

import math

import numpy as np

from digitnet.nn import init as initialisers

LEAKY_SLOPE = 0.01  # as digitnet.nn.LeakyReLU()
ELU_ALPHA = 1.0  # as digitnet.nn.ELU()
GELU_C = math.sqrt(2.0 / math.pi)


def sigmoid(z):
    """1 / (1 + e^-z), never overflowing."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _gelu(z):
    return 0.5 * z * (1.0 + math.tanh(GELU_C * (z + 0.044715 * z**3)))


def _gelu_derivative(z, a):
    t = math.tanh(GELU_C * (z + 0.044715 * z**3))
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * GELU_C * (1.0 + 3 * 0.044715 * z * z)


# name -> (f(z), f'(z, a)) where a = f(z) is passed in because several derivatives reuse it
ACTIVATIONS = {
    "linear": (lambda z: z, lambda z, a: 1.0),
    "sigmoid": (sigmoid, lambda z, a: a * (1.0 - a)),
    "tanh": (math.tanh, lambda z, a: 1.0 - a * a),
    "relu": (lambda z: z if z > 0 else 0.0, lambda z, a: 1.0 if z > 0 else 0.0),
    "leaky_relu": (lambda z: z if z > 0 else LEAKY_SLOPE * z, lambda z, a: 1.0 if z > 0 else LEAKY_SLOPE),
    "elu": (lambda z: z if z > 0 else ELU_ALPHA * math.expm1(z), lambda z, a: 1.0 if z > 0 else a + ELU_ALPHA),
    "gelu": (_gelu, _gelu_derivative),
}
LOSSES = ("mse", "cross_entropy")


def activation_functions(name):
    """(f, f') for an activation name: linear, sigmoid, tanh, relu, leaky_relu, elu, gelu."""
    key = str(name).lower().replace("-", "_")
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[key]


def _layer_activations(n_layers, activation, output_activation):
    hidden = activation_functions(activation)
    out = activation_functions(activation if output_activation is None else output_activation)
    return [hidden] * (n_layers - 1) + [out]


def forward_loops(weights, biases, x, activation="sigmoid", output_activation=None):
    """One sample through the network, unit by unit.

    x: a sequence of n_0 numbers. weights[l]: n_(l-1) x n_l nested sequence, biases[l]: n_l numbers.
    Returns (zs, acts): zs[l] the pre-activations of layer l, acts[0] = x and acts[l + 1] = f(zs[l]);
    acts[-1] is the network output.
    """
    fs = _layer_activations(len(weights), activation, output_activation)
    a = [float(v) for v in x]
    zs, acts = [], [a]
    for W, b, (f, _) in zip(weights, biases, fs):
        z = []
        for j in range(len(b)):  # every unit of this layer
            total = float(b[j])
            for i in range(len(a)):  # every incoming weight
                total += a[i] * W[i][j]
            z.append(total)
        a = [f(z_j) for z_j in z]
        zs.append(z)
        acts.append(a)
    return zs, acts


def loss_and_output_gradient(output, label, loss="mse"):
    """(L, [dL/da_c]) for one sample: ``output`` a^L (C numbers), ``label`` the class index."""
    n_classes = len(output)
    target = [1.0 if c == label else 0.0 for c in range(n_classes)]
    if loss == "mse":
        diff = [output[c] - target[c] for c in range(n_classes)]
        return sum(d * d for d in diff) / n_classes, [2.0 * d / n_classes for d in diff]
    if loss == "cross_entropy":
        top = max(output)
        exps = [math.exp(v - top) for v in output]
        total = sum(exps)
        log_sum = top + math.log(total)
        return log_sum - output[label], [exps[c] / total - target[c] for c in range(n_classes)]
    raise ValueError(f"unknown loss {loss!r}; expected one of: {', '.join(LOSSES)}")


def backward_loops(weights, zs, acts, output_gradient, activation="sigmoid", output_activation=None):
    """Gradients of one sample's loss, weight by weight.

    output_gradient: dL/da^L (from ``loss_and_output_gradient``); zs, acts: from ``forward_loops``.
    Returns (dweights, dbiases) shaped like weights and biases (nested lists), and dL/dx.
    """
    fs = _layer_activations(len(weights), activation, output_activation)
    n_layers = len(weights)
    dweights, dbiases = [None] * n_layers, [None] * n_layers
    _, df = fs[-1]
    delta = [output_gradient[j] * df(zs[-1][j], acts[-1][j]) for j in range(len(output_gradient))]
    for l in range(n_layers - 1, -1, -1):
        a_in, W = acts[l], weights[l]
        dweights[l] = [[a_in[i] * delta[j] for j in range(len(delta))] for i in range(len(a_in))]
        dbiases[l] = list(delta)
        d_in = []
        for i in range(len(a_in)):  # dL/da^(l-1)_i = sum_j W[i][j] delta_j
            total = 0.0
            for j in range(len(delta)):
                total += W[i][j] * delta[j]
            d_in.append(total)
        if l > 0:
            _, df = fs[l - 1]
            delta = [d_in[i] * df(zs[l - 1][i], a_in[i]) for i in range(len(a_in))]
    return dweights, dbiases, d_in


def batch_gradients(weights, biases, xs, labels, activation="sigmoid", output_activation=None, loss="mse"):
    """Mean loss and mean gradients over a batch, one sample at a time.

    Returns (loss, dweights, dbiases, outputs) with outputs the network output of every sample.
    """
    n = len(xs)
    if n == 0 or n != len(labels):
        raise ValueError(f"need a non-empty batch with one label per sample, got {n} samples, {len(labels)} labels")
    sum_w = [[[0.0] * len(b) for _ in range(len(W))] for W, b in zip(weights, biases)]
    sum_b = [[0.0] * len(b) for b in biases]
    total_loss, outputs = 0.0, []
    for x, label in zip(xs, labels):
        zs, acts = forward_loops(weights, biases, x, activation, output_activation)
        sample_loss, d_out = loss_and_output_gradient(acts[-1], int(label), loss)
        dws, dbs, _ = backward_loops(weights, zs, acts, d_out, activation, output_activation)
        total_loss += sample_loss
        outputs.append(acts[-1])
        for l in range(len(weights)):
            for i in range(len(sum_w[l])):
                row, drow = sum_w[l][i], dws[l][i]
                for j in range(len(row)):
                    row[j] += drow[j]
            for j in range(len(sum_b[l])):
                sum_b[l][j] += dbs[l][j]
    scale = 1.0 / n
    dweights = [[[g * scale for g in row] for row in layer] for layer in sum_w]
    dbiases = [[g * scale for g in layer] for layer in sum_b]
    return total_loss * scale, dweights, dbiases, outputs


_FRAMEWORK_NAMES = {
    "Identity": "linear",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "ReLU": "relu",
    "LeakyReLU": "leaky_relu",
    "ELU": "elu",
    "GELU": "gelu",
}


class LoopMLP:
    """A fully connected network trained by SGD with the element-wise code above.

        net = LoopMLP([784, 16, 16, 10], activation="sigmoid", loss="mse", seed=0)
        loss = net.train_step(x_batch, labels, lr=0.5)   # x_batch (N, 784), labels (N,)

    ``storage="list"`` keeps weights as nested Python lists; ``"numpy"`` as float64
    arrays indexed element by element (much slower: each W[i][j] builds a view).
    """

    def __init__(
        self,
        sizes,
        activation="sigmoid",
        output_activation=None,
        loss="mse",
        weight_init="normal",
        seed=0,
        storage="list",
    ):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least 2 positive layer widths, got {sizes}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; expected one of: {', '.join(LOSSES)}")
        if storage not in ("list", "numpy"):
            raise ValueError(f"storage must be 'list' or 'numpy', got {storage!r}")
        for name in (activation, output_activation or activation):
            activation_functions(name)
        self.activation, self.output_activation, self.loss, self.storage = activation, output_activation, loss, storage
        rng = np.random.default_rng(seed)
        weights = [initialisers.initialise(weight_init, (a, b), rng) for a, b in zip(sizes[:-1], sizes[1:])]
        self.set_weights(weights, [np.zeros(b) for b in sizes[1:]])

    def set_weights(self, weights, biases):
        """Replace the parameters (any nested sequences / arrays of float) with copies in float64."""
        if self.storage == "list":
            self.weights = [np.asarray(W, dtype=np.float64).tolist() for W in weights]
            self.biases = [np.asarray(b, dtype=np.float64).tolist() for b in biases]
        else:
            self.weights = [np.array(W, dtype=np.float64) for W in weights]
            self.biases = [np.array(b, dtype=np.float64) for b in biases]

    def get_weights(self):
        """([W^l as (in, out) arrays], [b^l as (out,) arrays]) — copies."""
        return (
            [np.array(W, dtype=np.float64) for W in self.weights],
            [np.array(b, dtype=np.float64) for b in self.biases],
        )

    @classmethod
    def from_sequential(cls, model, loss="mse", storage="list"):
        """A LoopMLP with the weights of a digitnet ``Sequential`` of [Flatten], Dense, activation, ... layers."""
        weights, biases, acts = [], [], []
        for i, layer in enumerate(model.layers):
            kind = type(layer).__name__
            if kind == "Dense":
                weights.append(np.asarray(layer.params["weight"], dtype=np.float64))
                biases.append(np.asarray(layer.params.get("bias", np.zeros(layer.units)), dtype=np.float64))
                acts.append("linear")
            elif kind in _FRAMEWORK_NAMES and weights and acts[-1] == "linear":
                slope, alpha = getattr(layer, "slope", LEAKY_SLOPE), getattr(layer, "alpha", ELU_ALPHA)
                if slope != LEAKY_SLOPE or alpha != ELU_ALPHA:
                    raise ValueError(
                        f"layer {i} ({layer!r}): the loop version has fixed slope {LEAKY_SLOPE} and alpha {ELU_ALPHA}"
                    )
                acts[-1] = _FRAMEWORK_NAMES[kind]
            elif not (kind == "Flatten" and not weights):
                raise ValueError(f"layer {i} ({kind}) has no loop version; expected [Flatten], Dense and activations")
        if not weights or len(set(acts[:-1])) > 1:
            raise ValueError(f"expected Dense layers sharing one hidden activation, got activations {acts}")
        sizes = [weights[0].shape[0]] + [W.shape[1] for W in weights]
        net = cls(sizes, activation=acts[0], output_activation=acts[-1], loss=loss, storage=storage)
        net.set_weights(weights, biases)
        return net

    def _rows(self, x):
        rows = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        return rows.tolist() if self.storage == "list" else rows

    def forward(self, x):
        """Network outputs (N, C) for inputs (N, ...), one sample at a time."""
        return np.array(
            [
                forward_loops(self.weights, self.biases, row, self.activation, self.output_activation)[1][-1]
                for row in self._rows(x)
            ]
        )

    def predict(self, x):
        """Predicted class per sample (N,)."""
        return self.forward(x).argmax(axis=1)

    def gradients(self, x, labels):
        """(mean loss, dweights, dbiases) over the batch; gradients as nested lists shaped like the weights."""
        loss, dws, dbs, _ = batch_gradients(
            self.weights,
            self.biases,
            self._rows(x),
            [int(v) for v in labels],
            self.activation,
            self.output_activation,
            self.loss,
        )
        return loss, dws, dbs

    def train_step(self, x, labels, lr):
        """One SGD step on a batch, weight by weight:  W[i][j] -= lr * dL/dW[i][j].  Returns the mean loss."""
        loss, dws, dbs = self.gradients(x, labels)
        for W, b, dW, db in zip(self.weights, self.biases, dws, dbs):
            for i in range(len(dW)):
                for j in range(len(db)):
                    W[i][j] -= lr * dW[i][j]
            for j in range(len(db)):
                b[j] -= lr * db[j]
        return loss
