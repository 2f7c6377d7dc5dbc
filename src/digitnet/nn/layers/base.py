"""The layer contract every building block of digitnet.nn follows.

A layer owns two dicts with the same keys:

    params[name]  the trainable array (e.g. "weight", "bias")
    grads[name]   dLoss/d params[name], written by the last ``backward`` call

and may own ``buffers`` (state that is saved but not trained, such as batch
norm running statistics).

    y  = layer.forward(x, training)   # keeps what backward needs
    dx = layer.backward(dy)           # fills layer.grads, returns dL/dx

``backward`` overwrites ``grads`` (no accumulation) and must follow the
``forward`` whose input it differentiates. Shapes always include the batch
axis N first; ``input_shape``/``output_shape`` exclude it.

``build(input_shape, rng, dtype)`` creates the parameters once the input shape
is known (Sequential calls it); ``get_config()`` returns JSON-able
hyperparameters and ``Layer.from_config(config, tier)`` rebuilds any layer by its
class name, as the class of that name in the tier asked for.

Two attributes let generic code (the model, the training loop) treat every
layer alike:

    rng                     the np.random.Generator a layer draws from in training
                            (Dropout); ``Sequential.fit`` points every layer's at the fit's
    outputs_probabilities   True when the layer's output is already a probability
                            (Sigmoid, Softmax): ``predict_proba`` then only normalises

Tiers: every class belongs to one tier (``tier``: "loops", "reference" or
"fast"; see digitnet/nn/tiers.py). A class of the same name in another tier has
the same constructor, get_config, parameters and results; only the code that
computes them differs.
"""

from __future__ import annotations

import inspect

import numpy as np

from digitnet.nn import backend


class Layer:
    """Base class: a differentiable map from a batch to a batch."""

    registry: dict[str, dict[str, type["Layer"]]] = {}  # tier -> class name -> class
    tier = "reference"
    needs_input_grad = True  # a model sets it False on its first layer during training steps
    outputs_probabilities = False
    rng = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            Layer.registry.setdefault(cls.tier, {})[cls.__name__] = cls

    def __init__(self):
        self.params: dict = {}
        self.grads: dict = {}
        self.buffers: dict = {}
        self.input_shape: tuple[int, ...] | None = None
        self.output_shape: tuple[int, ...] | None = None
        self.dtype = np.dtype(np.float32)
        self.built = False

    # --- construction -------------------------------------------------
    def build(self, input_shape, rng=None, dtype=np.float32):
        """Create parameters for inputs of shape (N, *input_shape); return the output shape."""
        self.input_shape = tuple(int(d) for d in input_shape)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(rng)
        self.output_shape = tuple(self.compute_output_shape(self.input_shape))
        self.init_params(rng)
        self.params = {k: backend.to_device(v, self.dtype) for k, v in self.params.items()}
        self.buffers = {k: backend.to_device(v, self.dtype) for k, v in self.buffers.items()}
        self.grads = {k: backend.xp().zeros_like(v) for k, v in self.params.items()}
        self.built = True
        return self.output_shape

    def compute_output_shape(self, input_shape):
        """Output shape (without N) for an input shape (without N). Identity by default."""
        return input_shape

    def init_params(self, rng: np.random.Generator) -> None:
        """Fill self.params / self.buffers with NumPy arrays. No parameters by default."""

    def param_shapes(self, input_shape) -> dict[str, tuple[int, ...]]:
        """{name: shape} of every array ``build(input_shape)`` would create (params and buffers),
        without creating them: model-file loading checks sizes with it before allocating.
        A layer that overrides ``init_params`` must override this too."""
        if type(self).init_params is not Layer.init_params:
            raise NotImplementedError(f"{type(self).__name__} creates parameters but does not say their shapes")
        return {}

    def astype(self, dtype):
        """Convert parameters, buffers and grads to ``dtype`` in place; returns self."""
        self.dtype = np.dtype(dtype)
        for store in (self.params, self.grads, self.buffers):
            for k in store:
                store[k] = store[k].astype(self.dtype)
        return self

    # --- computation ---------------------------------------------------
    def forward(self, x, training: bool = False):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    def __call__(self, x, training: bool = False):
        return self.forward(x, training)

    # --- description ---------------------------------------------------
    def get_config(self) -> dict:
        """JSON-able hyperparameters; ``type(self)(**config)`` rebuilds the layer."""
        return {}

    @staticmethod
    def lookup(name: str, tier: str = "fast") -> type["Layer"] | None:
        """The class called ``name`` in ``tier``; a tier without its own falls back to the reference one."""
        return Layer.registry.get(tier, {}).get(name) or Layer.registry.get("reference", {}).get(name)

    @staticmethod
    def from_config(config: dict, tier: str = "fast") -> "Layer":
        """Rebuild a layer from ``{"class": name, "config": {...}}`` as ``tier``'s class of that name."""
        try:
            name = config["class"]
        except (KeyError, TypeError):
            raise ValueError(f"layer config {config!r} has no 'class' key") from None
        if tier not in Layer.registry:
            raise ValueError(f"unknown tier {tier!r}; expected one of: {', '.join(sorted(Layer.registry))}")
        cls = Layer.lookup(name, tier) if isinstance(name, str) else None
        if cls is None:
            known = ", ".join(sorted(Layer.registry["reference"]))
            raise ValueError(f"unknown layer class {name!r}; expected one of: {known}")
        kwargs = dict(config.get("config", {}))
        if "init" in kwargs and "weight_init" not in kwargs:  # model files written before the rename
            kwargs["weight_init"] = kwargs.pop("init")
        return cls(**kwargs)

    def to_config(self) -> dict:
        """``{"class": ..., "config": ...}``, the inverse of ``from_config``."""
        return {"class": type(self).__name__, "config": self.get_config()}

    def n_params(self) -> int:
        return int(sum(int(np.prod(p.shape)) for p in self.params.values()))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def describe(self) -> str:
        """A short repr: only the settings that differ from the constructor's defaults."""
        defaults = {
            k: p.default
            for k, p in inspect.signature(type(self).__init__).parameters.items()
            if p.default is not inspect.Parameter.empty
        }
        shown = []
        for k, v in self.get_config().items():
            if k == "in_features":  # derived from the input shape
                continue
            d = defaults.get(k, inspect.Parameter.empty)
            same = (d == v) or (isinstance(v, list) and not isinstance(d, list) and all(x == d for x in v))
            if not same or k in ("units", "in_channels", "out_channels", "kernel_size", "rate"):
                shown.append(f"{k}={v!r}" if k not in ("units",) else repr(v))
        return f"{type(self).__name__}({', '.join(shown)})"
