"""Sequential: a stack of layers trained by backpropagation.

    logits = layer_k(... layer_1(x))            forward
    dx     = layer_1.backward(... layer_k.backward(dL/dlogits))   backward, in reverse

Typical use (Keras-like):

    model = Sequential([Flatten(), Dense(128), ReLU(), Dense(10)], input_shape=(1, 28, 28), seed=0)
    model.compile(optimizer=Adam(lr=1e-3), loss="cross_entropy")
    history = model.fit(x_train, y_train, epochs=5, batch_size=64, validation_data=(x_val, y_val))
    model.evaluate(x_test, y_test)    # {"loss": ..., "accuracy": ...}

Parameters are named "<layer index>.<key>" ("0.weight"); ``parameters()``
returns (name, param, grad) triples for an optimiser. All randomness (weight
initialisation, then shuffling, dropout, augmentation) comes from one
``np.random.Generator`` seeded by ``seed``, so runs repeat exactly.

``tier`` (see tiers.py): the layers run as given (``digitnet.nn``'s classes are
the fast tier's), or, with ``tier="reference"`` / ``"fast"`` / ``"loops"``, as
that tier's classes; ``compile`` picks optimisers named by string from the
model's tier. The config (and so the model file) does not depend on the tier.
"""

from __future__ import annotations

import numpy as np

from digitnet.nn import backend, losses, modelfile, optim, schedules, tiers
from digitnet.nn.layers.base import Layer
from digitnet.nn.training import fit as _fit


class Sequential:
    """An ordered list of layers with forward/backward, fitting and prediction."""

    def __init__(
        self,
        layers,
        input_shape=None,
        dtype="float32",
        seed: int | None = 0,
        name: str = "model",
        tier: str | None = None,
    ):
        self.layers: list[Layer] = list(layers)
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} is {layer!r}, expected a digitnet Layer")
        if tier is not None:
            self.layers = [tiers.convert(layer, tier) for layer in self.layers]
        self.tier = tiers.model_tier(self.layers)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
        self.seed = seed
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.input_shape = None
        self.optimizer = None
        self.loss = None
        self.schedule = None
        self.epochs_done = 0
        self.stop_training = False
        self.preprocessing: dict = {}  # how raw images become inputs (recorded in model files)
        self.training_config: dict = {}  # free-form record of how the model was trained
        self.metrics: dict = {}  # e.g. {"test_accuracy": 0.991}
        self.calibration: dict = {}  # optional, saved verbatim (see digitnet.calibration)
        self.rejection: dict = {}  # optional, saved verbatim (see digitnet.rejection)
        if input_shape is not None:
            self.build(input_shape)

    # --- construction ---------------------------------------------------
    def build(self, input_shape):
        """Create every layer's parameters for inputs of shape (N, *input_shape)."""
        shape = tuple(int(d) for d in input_shape)
        self.input_shape = shape
        for i, layer in enumerate(self.layers):
            try:
                shape = layer.build(shape, self.rng, self.dtype)
            except ValueError as exc:
                raise ValueError(f"layer {i} ({type(layer).__name__}): {exc}") from None
        return self

    def _require_built(self, x=None):
        if self.input_shape is None:
            if x is None:
                raise RuntimeError("model is not built: pass input_shape to Sequential or call build()")
            self.build(x.shape[1:])

    def to_tier(self, tier: str) -> "Sequential":
        """Run every layer (parameters kept) and an optimiser chosen by name in ``tier`` from now on; returns self."""
        self.layers = [tiers.convert(layer, tier) for layer in self.layers]
        self.tier = tiers.model_tier(self.layers)
        if self.optimizer is not None and type(self.optimizer).tier != self.tier:
            state = self.optimizer.state_dict()
            self.optimizer = optim.from_state_dict(state, tier=self.tier)
        return self

    def compile(self, optimizer="adam", loss="cross_entropy", schedule=None, **optimizer_kwargs):
        """Choose the optimiser (name or object), loss (name or object) and an optional lr schedule.

        An optimiser named by string comes from the model's tier.
        """
        self.optimizer = optim.get(optimizer, tier=self.tier, **optimizer_kwargs)
        self.loss = losses.get(loss)
        self.schedule = None if schedule is None else schedules.get(schedule)
        return self

    def astype(self, dtype):
        """Convert every parameter to ``dtype`` (float32 or float64) in place."""
        self.dtype = np.dtype(dtype)
        for layer in self.layers:
            layer.astype(self.dtype)
        return self

    # --- computation ----------------------------------------------------
    def forward(self, x, training: bool = False):
        self._require_built(x)
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    __call__ = forward

    def backward(self, dy, input_grad: bool = True):
        """Backpropagate dL/doutput through every layer; returns dL/dinput.

        With ``input_grad=False`` (training steps) nothing is computed that only dL/dinput needs:
        parameter-free layers in front of the first layer with parameters are skipped, and that
        layer is told not to form its input gradient (``needs_input_grad``); None is returned.
        """
        first = 0 if input_grad else next((i for i, layer in enumerate(self.layers) if layer.params), 0)
        for layer in reversed(self.layers[first + 1 :]):
            dy = layer.backward(dy)
        if not self.layers:
            return dy
        head = self.layers[first]
        if input_grad:
            return head.backward(dy)
        head.needs_input_grad = False
        try:
            head.backward(dy)
        finally:
            head.needs_input_grad = True
        return None

    def parameters(self):
        """[(name, param, grad)] for every trainable array, e.g. ("0.weight", W, dW)."""
        return [(f"{i}.{k}", p, layer.grads[k]) for i, layer in enumerate(self.layers) for k, p in layer.params.items()]

    def buffers(self):
        """[(name, array)] of saved, untrained state (batch-norm running statistics)."""
        return [(f"{i}.{k}", b) for i, layer in enumerate(self.layers) for k, b in layer.buffers.items()]

    def _device_batch(self, x):
        return backend.to_device(x, self.dtype)

    def train_step(self, x, y):
        """One optimiser step on a batch; returns (loss, number of correct predictions)."""
        if self.optimizer is None:
            raise RuntimeError("call model.compile(optimizer=..., loss=...) before training")
        x = self._device_batch(x)
        logits = self.forward(x, training=True)
        loss = self.loss(logits, y)
        self.backward(self.loss.grad(), input_grad=False)
        self.optimizer.step(self.parameters())
        return loss, count_correct(logits, y)

    def predict_logits(self, x, batch_size: int = 1000):
        """Raw network outputs for x, computed in batches, as a NumPy array."""
        x = np.asarray(x) if not hasattr(x, "__cuda_array_interface__") else x
        self._require_built(x)
        outs = [
            backend.to_numpy(self.forward(self._device_batch(x[i : i + batch_size]), training=False))
            for i in range(0, x.shape[0], batch_size)
        ]
        return np.concatenate(outs) if outs else np.zeros((0,) + self._output_shape(), self.dtype)

    def predict_proba(self, x, batch_size: int = 1000):
        """Class probabilities (N, C): softmax of the logits; a sigmoid/softmax output is normalised to sum 1."""
        out = self.predict_logits(x, batch_size).astype(np.float64)
        if self.layers and self.layers[-1].outputs_probabilities:
            return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)
        out -= out.max(axis=1, keepdims=True)
        np.exp(out, out=out)
        return out / out.sum(axis=1, keepdims=True)

    def predict(self, x, batch_size: int = 1000):
        """Predicted class index for each sample (N,)."""
        return self.predict_logits(x, batch_size).argmax(axis=1)

    def evaluate(self, x, y, batch_size: int = 1000) -> dict:
        """{"loss": mean loss, "accuracy": fraction correct} over (x, y)."""
        if self.loss is None:
            self.loss = losses.get("cross_entropy")
        total_loss, correct, n = 0.0, 0, x.shape[0]
        for i in range(0, n, batch_size):
            xb = self._device_batch(x[i : i + batch_size])
            yb = y[i : i + batch_size]
            logits = self.forward(xb, training=False)
            total_loss += self.loss(logits, yb) * xb.shape[0]
            correct += count_correct(logits, yb)
        return {"loss": total_loss / max(n, 1), "accuracy": correct / max(n, 1)}

    fit = _fit

    # --- description ----------------------------------------------------
    def _output_shape(self):
        return self.layers[-1].output_shape if self.layers else self.input_shape

    def n_params(self) -> int:
        return sum(layer.n_params() for layer in self.layers)

    def summary(self) -> str:
        """A table of layers, output shapes and parameter counts."""
        rows = [("#", "layer", "output shape", "params")]
        for i, layer in enumerate(self.layers):
            shape = "?" if layer.output_shape is None else str(("N",) + layer.output_shape).replace("'", "")
            rows.append((str(i), layer.describe(), shape, f"{layer.n_params():,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        line = "-" * (sum(widths) + 6)
        text = [f"{self.name}: input {self.input_shape}, {self.dtype.name}", line]
        for j, r in enumerate(rows):
            text.append(f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:>{widths[3]}}")
            if j == 0:
                text.append(line)
        text += [line, f"total parameters: {self.n_params():,}"]
        return "\n".join(text)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "input_shape": None if self.input_shape is None else list(self.input_shape),
            "dtype": self.dtype.name,
            "seed": self.seed,
            "layers": [layer.to_config() for layer in self.layers],
        }

    @classmethod
    def from_config(cls, config: dict, tier: str = tiers.DEFAULT) -> "Sequential":
        """Rebuild an (untrained, freshly initialised) model from ``get_config()``, with ``tier``'s layers."""
        layers = [Layer.from_config(c, tiers.check(tier)) for c in config["layers"]]
        return cls(
            layers,
            input_shape=config.get("input_shape"),
            dtype=config.get("dtype", "float32"),
            seed=config.get("seed", 0),
            name=config.get("name", "model"),
        )

    def save(self, path, include_optimizer: bool = True) -> str:
        """Write this model to one .npz file (see digitnet.nn.modelfile); returns the path written."""
        return modelfile.save(self, path, include_optimizer=include_optimizer)

    @classmethod
    def load(cls, path, compile: bool = True) -> "Sequential":
        """The model saved at ``path``, with weights, optimiser and rng state (a checked load: a bad
        file raises ``modelfile.ModelFileError`` naming the field)."""
        return modelfile.load(path, cls, compile=compile)

    def __repr__(self):
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"Sequential([\n{inner}\n], input_shape={self.input_shape}, dtype={self.dtype.name})"


def count_correct(outputs, y) -> int:
    """How many rows of ``outputs`` have their argmax at the label (labels or one-hot rows)."""
    pred = outputs.argmax(axis=1)
    y = backend.to_device(y)
    if y.ndim == 2:
        y = y.argmax(axis=1)
    return int((pred == y).sum())
