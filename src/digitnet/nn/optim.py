"""Gradient-descent optimisers: SGD, Momentum, Nesterov, Adagrad, RMSprop, Adam, AdamW (the reference tier).

    opt = optim.get("adam", lr=1e-3, weight_decay=1e-4)
    opt.step(model.parameters())      # [(name, param, grad), ...], params updated IN PLACE

Each step, for every (name, param, grad) triple, with g the gradient:

1. ``clip_norm``: g <- g * c / (||G|| + 1e-6) when the global norm ||G|| (over all
   gradients of the call) exceeds c, as torch.nn.utils.clip_grad_norm_. The layers'
   grad arrays are never modified; a scaled copy is used.
2. weight decay wd (L2): g <- g + wd * param; AdamW instead decouples it,
   param <- param * (1 - lr * wd). Only parameters with ndim >= 2 (weights, not
   biases or batch-norm scales) are decayed unless ``decay_all=True``.
3. the optimiser's update rule (in each class docstring), in place on ``param``.
4. ``max_norm``: each unit's incoming weight vector (a column of a dense (in, out)
   weight, an output filter of a conv (O, I, kh, kw) weight) is rescaled to L2 norm
   <= max_norm (Srivastava et al. 2014 used 3-4 with dropout).

State (velocities, moment estimates) is kept per parameter name in ``self.slots``
[slot][name], allocated lazily as zeros; ``t`` counts steps. ``state_dict()`` is flat
(``"<param name>/<slot>"`` keys, NumPy arrays) so it can go straight into an .npz,
and ``load_state_dict`` restores it so that resumed training continues bit for bit.
``opt.lr`` may be changed between steps (a schedule does).

The update rules here are the papers' equations, one NumPy line each;
digitnet/nn/fast/optim.py computes the same numbers into reused arrays.
"""

from __future__ import annotations

import math

import numpy as np

from digitnet.nn import backend, checks, tiers


def global_norm(grads) -> float:
    """sqrt(sum_i ||g_i||^2) over a sequence of arrays."""
    xp = backend.xp()
    return math.sqrt(sum(float(xp.vdot(g.ravel(), g.ravel())) for g in grads))


def clip_factor(grads, max_norm) -> float:
    """The factor clipping scales ``grads`` by: max_norm / (||G|| + 1e-6) if ||G|| > max_norm, else 1."""
    total = global_norm(grads)
    return max_norm / (total + 1e-6) if total > max_norm else 1.0


def clip_grad_norm(grads, max_norm) -> float:
    """Scale the arrays in ``grads`` IN PLACE by ``clip_factor``, as torch.nn.utils.clip_grad_norm_.

    Returns the norm before clipping.
    """
    max_norm = checks.positive("max_norm", max_norm)
    total = global_norm(grads)
    scale = clip_factor(grads, max_norm)
    if scale != 1.0:
        for g in grads:
            g *= scale
    return total


def apply_max_norm(param, max_norm):
    """Rescale IN PLACE each unit's incoming weights to L2 norm <= ``max_norm``; returns param.

    Dense weight (in, out): the norm of each column, over axis 0. Conv weight (O, I, kh, kw)
    (or any ndim >= 3): the norm of each output filter, over all axes but 0. 1-D arrays are
    left alone. Vectors already within the bound are unchanged (scale exactly 1).
    """
    max_norm = checks.positive("max_norm", max_norm)
    if param.ndim < 2:
        return param
    xp = backend.xp()
    axes = (0,) if param.ndim == 2 else tuple(range(1, param.ndim))
    norms = xp.sqrt(xp.sum(param * param, axis=axes, keepdims=True))
    param *= max_norm / xp.maximum(norms, max_norm)  # exactly 1 where norm <= max_norm
    return param


class Optimizer:
    """Base class: gradient clipping, weight decay, max-norm and state; subclasses give ``_update``."""

    registry: dict[str, dict[str, type["Optimizer"]]] = {}  # tier -> lower-case class name -> class
    tier = "reference"
    slot_names: tuple[str, ...] = ()
    decoupled_weight_decay = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Optimizer.registry.setdefault(cls.tier, {})[cls.__name__.lower()] = cls

    def __init__(self, lr, weight_decay=0.0, clip_norm=None, max_norm=None, decay_all=False):
        self.lr = checks.positive("lr", lr)
        self.weight_decay = checks.non_negative("weight_decay", weight_decay)
        self.clip_norm = None if clip_norm is None else checks.positive("clip_norm", clip_norm)
        self.max_norm = None if max_norm is None else checks.positive("max_norm", max_norm)
        self.decay_all = bool(decay_all)
        self.t = 0
        self.slots: dict[str, dict] = {s: {} for s in self.slot_names}

    def step(self, parameters) -> None:
        """One update of every param in ``parameters``, a list of (name, param, grad) triples."""
        parameters = list(parameters)
        self.t += 1
        scale = 1.0 if self.clip_norm is None else clip_factor([g for _, _, g in parameters], self.clip_norm)
        for name, param, grad in parameters:
            g = grad if scale == 1.0 else grad * scale
            decay = self.weight_decay if (self.decay_all or param.ndim >= 2) else 0.0
            if decay:
                if self.decoupled_weight_decay:
                    param *= 1.0 - self.lr * decay
                else:
                    g = g + decay * param
            self._update(name, param, g)
            if self.max_norm is not None:
                apply_max_norm(param, self.max_norm)

    def _update(self, name, param, g) -> None:
        raise NotImplementedError

    def _slot(self, slot, name, param):
        """The state array ``slot`` of parameter ``name``, zeros the first time."""
        store = self.slots[slot]
        if name not in store:
            store[name] = backend.xp().zeros_like(param)
        return store[name]

    # --- description and checkpoints ------------------------------------
    def get_config(self) -> dict:
        """JSON-able constructor kwargs (the current lr included)."""
        return {
            "lr": float(self.lr),
            "weight_decay": self.weight_decay,
            "clip_norm": self.clip_norm,
            "max_norm": self.max_norm,
            "decay_all": self.decay_all,
        }

    def state_dict(self) -> dict:
        """{"class", "config", "t", "slots": {"<param name>/<slot>": np.ndarray}}."""
        slots = {
            f"{name}/{slot}": backend.to_numpy(arr).copy()
            for slot, store in self.slots.items()
            for name, arr in store.items()
        }
        return {"class": type(self).__name__, "config": self.get_config(), "t": int(self.t), "slots": slots}

    def load_state_dict(self, state: dict) -> None:
        """Restore hyperparameters, step count and slots saved by ``state_dict``."""
        if str(state.get("class", "")).lower() != type(self).__name__.lower():
            raise ValueError(f"state is for optimiser {state.get('class')!r}, not {type(self).__name__!r}")
        checked = type(self)(**state.get("config", {}))  # validates the hyperparameters
        for key in checked.get_config():
            setattr(self, key, getattr(checked, key))
        self.t = int(state["t"])
        self.slots = {s: {} for s in self.slot_names}
        for key, arr in state.get("slots", {}).items():
            name, _, slot = key.rpartition("/")
            if slot not in self.slots:
                raise ValueError(f"unknown slot {slot!r} in {key!r}; {type(self).__name__} has {self.slot_names}")
            self.slots[slot][name] = backend.to_device(arr).copy()

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain gradient descent:  p <- p - lr * g."""

    def _update(self, name, param, g):
        param -= self.lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum, PyTorch's convention (the velocity is not scaled by lr):

        v <- mu * v + g
        p <- p - lr * v

    (Sutskever et al. 2013 write v <- mu v - lr g; p <- p + v: the same for a constant lr.)
    """

    slot_names = ("velocity",)

    def __init__(self, lr, momentum=0.9, **kwargs):
        super().__init__(lr, **kwargs)
        self.momentum = checks.number("momentum", momentum, 0.0, 1.0, high_open=True)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}

    def _update(self, name, param, g):
        v = self.slots["velocity"][name] = self.momentum * self._slot("velocity", name, param) + g
        param -= self.lr * self._direction(g, v)

    def _direction(self, g, v):
        """The step direction: v itself."""
        return v


class Nesterov(Momentum):
    """Nesterov momentum in PyTorch's form (SGD(nesterov=True)):

    v <- mu * v + g
    p <- p - lr * (g + mu * v)
    """

    def _direction(self, g, v):
        return g + self.momentum * v


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011): per-coordinate steps shrink with the summed squares.

    s <- s + g^2
    p <- p - lr * g / (sqrt(s) + eps)
    """

    slot_names = ("sum_sq",)

    def __init__(self, lr=0.01, eps=1e-10, **kwargs):
        super().__init__(lr, **kwargs)
        self.eps = checks.positive("eps", eps)

    def get_config(self):
        return {**super().get_config(), "eps": self.eps}

    def _update(self, name, param, g):
        s = self.slots["sum_sq"][name] = self._slot("sum_sq", name, param) + g * g
        param -= self.lr * g / (np.sqrt(s) + self.eps)


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012), PyTorch's form (rho is torch's ``alpha``):

    s <- rho * s + (1 - rho) * g^2
    p <- p - lr * g / (sqrt(s) + eps)
    """

    slot_names = ("square_avg",)

    def __init__(self, lr=0.001, rho=0.99, eps=1e-8, **kwargs):
        super().__init__(lr, **kwargs)
        self.rho = checks.number("rho", rho, 0.0, 1.0, high_open=True)
        self.eps = checks.positive("eps", eps)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "eps": self.eps}

    def _update(self, name, param, g):
        s = self.rho * self._slot("square_avg", name, param) + (1 - self.rho) * g * g
        self.slots["square_avg"][name] = s
        param -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, algorithm 1), with eps outside the corrected root as in PyTorch:

    m <- b1 * m + (1 - b1) * g                 first moment
    v <- b2 * v + (1 - b2) * g^2               second moment
    m_hat = m / (1 - b1^t)    v_hat = v / (1 - b2^t)
    p <- p - lr * m_hat / (sqrt(v_hat) + eps)
    """

    slot_names = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, **kwargs):
        super().__init__(lr, **kwargs)
        self.beta1 = checks.number("beta1", beta1, 0.0, 1.0, high_open=True)
        self.beta2 = checks.number("beta2", beta2, 0.0, 1.0, high_open=True)
        self.eps = checks.positive("eps", eps)

    def get_config(self):
        return {**super().get_config(), "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def _update(self, name, param, g):
        b1, b2 = self.beta1, self.beta2
        m = self.slots["m"][name] = b1 * self._slot("m", name, param) + (1 - b1) * g
        v = self.slots["v"][name] = b2 * self._slot("v", name, param) + (1 - b2) * g * g
        m_hat = m / (1 - b1**self.t)
        v_hat = v / (1 - b2**self.t)
        param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW:

    p <- p * (1 - lr * wd), then the Adam update with the raw gradient.
    """

    decoupled_weight_decay = True

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, **kwargs):
        super().__init__(lr, beta1, beta2, eps, weight_decay=weight_decay, **kwargs)


def get(name_or_optimizer, tier: str = "fast", **kwargs) -> Optimizer:
    """An optimiser of ``tier`` by (case-insensitive) name with ``kwargs``, or an Optimizer instance unchanged."""
    if isinstance(name_or_optimizer, Optimizer):
        if kwargs:
            raise ValueError(f"got an optimiser instance and extra arguments {sorted(kwargs)}")
        return name_or_optimizer
    key = str(name_or_optimizer).lower()
    cls = Optimizer.registry.get(tiers.check(tier), {}).get(key) or Optimizer.registry["reference"].get(key)
    if cls is None or not isinstance(name_or_optimizer, str):
        raise ValueError(
            f"unknown optimiser {name_or_optimizer!r}; expected one of: {', '.join(Optimizer.registry['reference'])}"
        )
    return cls(**kwargs)


def from_state_dict(state: dict, tier: str = "fast") -> Optimizer:
    """A new optimiser of the saved class and config (from ``tier``), with its state loaded."""
    opt = get(state.get("class", ""), tier=tier, **state.get("config", {}))
    opt.load_state_dict(state)
    return opt
