"""Learning-rate schedules: t (counted from 0) -> absolute learning rate.

    sched = schedules.get("cosine", lr=0.1, total=30, warmup=2)
    for epoch in range(30):
        opt.lr = sched(epoch)             # sched.unit == "epoch": called once per epoch
        ...

``unit`` says what t counts, "epoch" or "step" (mini-batch); the training loop
reads it. Each schedule is a small class with ``__call__(t)``, ``get_config()``
(JSON-able constructor kwargs) and ``to_config()``; ``from_config`` rebuilds one.

    Constant     lr
    Step         lr * gamma^floor(t / step_size)                    (torch StepLR)
    Exponential  lr * gamma^t                                       (torch ExponentialLR)
    Cosine       linear warm-up, then min_lr + (lr - min_lr) (1 + cos(pi s)) / 2
    OneCycle     cosine up from max_lr/div_factor to max_lr, then down to
                 max_lr/(div_factor*final_div_factor)             (torch OneCycleLR, 'cos')
"""

from __future__ import annotations

import math
import numbers

from digitnet.nn import checks

UNITS = ("epoch", "step")


def _count(name, value, low=1):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


class Schedule:
    """Base class: ``sched(t)`` is the learning rate for epoch/step t >= 0."""

    registry: dict[str, type["Schedule"]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Schedule.registry[cls.__name__.lower()] = cls

    def __init__(self, unit="epoch"):
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
        self.unit = unit

    def __call__(self, t) -> float:
        t = _count("t", t, low=0)
        return float(self.lr_at(t))

    def lr_at(self, t: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"unit": self.unit}

    def to_config(self) -> dict:
        return {"class": type(self).__name__, "config": self.get_config()}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """lr(t) = lr."""

    def __init__(self, lr, unit="epoch"):
        super().__init__(unit)
        self.lr = checks.positive("lr", lr)

    def lr_at(self, t):
        return self.lr

    def get_config(self):
        return {"lr": self.lr, **super().get_config()}


class Step(Schedule):
    """lr(t) = lr * gamma ** floor(t / step_size): drop by gamma every step_size units."""

    def __init__(self, lr, step_size, gamma=0.1, unit="epoch"):
        super().__init__(unit)
        self.lr = checks.positive("lr", lr)
        self.step_size = _count("step_size", step_size)
        self.gamma = checks.positive("gamma", gamma)

    def lr_at(self, t):
        return self.lr * self.gamma ** (t // self.step_size)

    def get_config(self):
        return {"lr": self.lr, "step_size": self.step_size, "gamma": self.gamma, **super().get_config()}


class Exponential(Schedule):
    """lr(t) = lr * gamma ** t."""

    def __init__(self, lr, gamma, unit="epoch"):
        super().__init__(unit)
        self.lr = checks.positive("lr", lr)
        self.gamma = checks.positive("gamma", gamma)

    def lr_at(self, t):
        return self.lr * self.gamma**t

    def get_config(self):
        return {"lr": self.lr, "gamma": self.gamma, **super().get_config()}


class Cosine(Schedule):
    """Linear warm-up, then cosine annealing (Loshchilov & Hutter 2017, one cycle):

        t <  warmup:          lr * (t + 1) / (warmup + 1)        (lr/(warmup+1) ... up to lr)
        warmup <= t <= total: min_lr + (lr - min_lr) * (1 + cos(pi * (t - warmup) / (total - warmup))) / 2
        t > total:            min_lr

    With warmup=0 this is torch's CosineAnnealingLR(T_max=total, eta_min=min_lr) for t <= total.
    """

    def __init__(self, lr, total, warmup=0, min_lr=0.0, unit="epoch"):
        super().__init__(unit)
        self.lr = checks.positive("lr", lr)
        self.total = _count("total", total)
        self.warmup = _count("warmup", warmup, low=0)
        if self.warmup >= self.total:
            raise ValueError(f"warmup must be < total ({self.total}), got {warmup!r}")
        self.min_lr = checks.number("min_lr", min_lr, 0.0, self.lr)

    def lr_at(self, t):
        if t < self.warmup:
            return self.lr * (t + 1) / (self.warmup + 1)
        progress = min(1.0, (t - self.warmup) / (self.total - self.warmup))
        return self.min_lr + (self.lr - self.min_lr) * (1.0 + math.cos(math.pi * progress)) / 2.0

    def get_config(self):
        return {
            "lr": self.lr,
            "total": self.total,
            "warmup": self.warmup,
            "min_lr": self.min_lr,
            **super().get_config(),
        }


class OneCycle(Schedule):
    """The 1cycle policy (Smith & Topin 2019) as torch's OneCycleLR(anneal_strategy='cos'),
    without momentum cycling. With a = max_lr / div_factor, z = a / final_div_factor and
    the peak at u = pct_start * total - 1 (torch's float step index):

        t <= u:  cos_anneal(a, max_lr, t / u)
        t >  u:  cos_anneal(max_lr, z, (t - u) / (total - 1 - u)),  z for t >= total - 1
        cos_anneal(start, end, p) = end + (start - end) * (1 + cos(pi p)) / 2
    """

    def __init__(self, max_lr, total, pct_start=0.3, div_factor=25.0, final_div_factor=1e4, unit="step"):
        super().__init__(unit)
        self.max_lr = checks.positive("max_lr", max_lr)
        self.total = _count("total", total, low=2)
        self.pct_start = checks.number("pct_start", pct_start, 0.0, 1.0, low_open=True, high_open=True)
        self.div_factor = checks.positive("div_factor", div_factor)
        self.final_div_factor = checks.positive("final_div_factor", final_div_factor)

    @staticmethod
    def _anneal(start, end, progress):
        return end + (start - end) / 2.0 * (math.cos(math.pi * progress) + 1.0)

    def lr_at(self, t):
        initial = self.max_lr / self.div_factor
        final = initial / self.final_div_factor
        peak = self.pct_start * self.total - 1.0
        last = self.total - 1.0
        if t <= peak:  # peak == 0 (t == 0 only): torch divides by zero, we start at the peak
            return self._anneal(initial, self.max_lr, t / peak) if peak > 0 else self.max_lr
        return self._anneal(self.max_lr, final, min(1.0, (t - peak) / (last - peak)))

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total": self.total,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            **super().get_config(),
        }


def get(name_or_schedule, **kwargs) -> Schedule:
    """A schedule by (case-insensitive) name with ``kwargs``; a Schedule is returned unchanged
    and a bare number is a Constant learning rate."""
    if isinstance(name_or_schedule, Schedule) and not kwargs:
        return name_or_schedule
    if isinstance(name_or_schedule, numbers.Real) and not isinstance(name_or_schedule, bool) and not kwargs:
        return Constant(name_or_schedule)
    cls = Schedule.registry.get(name_or_schedule.lower()) if isinstance(name_or_schedule, str) else None
    if cls is None:
        raise ValueError(
            f"unknown schedule {name_or_schedule!r}; expected one of: "
            f"{', '.join(Schedule.registry)} (or a number for a constant lr)"
        )
    return cls(**kwargs)


def from_config(config: dict) -> Schedule:
    """Rebuild a schedule from ``{"class": name, "config": {...}}`` (as ``to_config`` gives)."""
    if not isinstance(config, dict) or "class" not in config:
        raise ValueError(f"schedule config {config!r} has no 'class' key")
    return get(config["class"], **config.get("config", {}))
