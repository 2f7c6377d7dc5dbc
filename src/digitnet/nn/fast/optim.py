"""Optimisers, tuned: every update written into one reused work array per parameter (``out=``).

The same numbers as the reference classes (digitnet/nn/optim.py, which gives
each update rule as in its paper) up to rounding: Adam's and RMSprop's step is
rearranged to save a pass over the arrays (see ``_scaled_step``). Fresh
temporaries of a large layer's size cost page faults and memory traffic on
every step; these updates allocate nothing after the first. Adam runs its
passes block by block over the flat arrays (fast/blocked.py), so that all
but the first pass over a block find it in cache.
"""

from __future__ import annotations

import math

from digitnet.nn import backend
from digitnet.nn import optim as reference
from digitnet.nn.fast import blocked, compiled


class _WorkArrays:
    """A scratch array per parameter name (not state: never saved), reused every step."""

    tier = "fast"

    def _work(self, name, param):
        scratch = self.__dict__.setdefault("_scratch", {})
        work = scratch.get(name)
        if work is None or work.shape != param.shape or work.dtype != param.dtype:
            work = scratch[name] = backend.xp().empty_like(param)
        return work


def _scaled_step(xp, param, numerator, sq, step_size, sq_scale, eps, work):
    """param -= step_size * numerator / (sqrt(sq) / sq_scale + eps), every intermediate in ``work``.

    Computed as (step_size * sq_scale) * numerator / (sqrt(sq) + eps * sq_scale): the same value
    (to rounding) with one pass less over the arrays.
    """
    xp.sqrt(sq, out=work)
    work += eps * sq_scale
    xp.divide(numerator, work, out=work)
    work *= step_size * sq_scale
    param -= work


class SGD(_WorkArrays, reference.SGD):
    def _update(self, name, param, g):
        work = self._work(name, param)
        backend.xp().multiply(g, self.lr, out=work)
        param -= work


class Momentum(_WorkArrays, reference.Momentum):
    def _update(self, name, param, g):
        v = self._slot("velocity", name, param)
        v *= self.momentum
        v += g
        work = self._work(name, param)
        backend.xp().multiply(v, self.lr, out=work)
        param -= work


class Nesterov(_WorkArrays, reference.Nesterov):
    def _update(self, name, param, g):
        xp = backend.xp()
        v = self._slot("velocity", name, param)
        v *= self.momentum
        v += g
        work = self._work(name, param)
        xp.multiply(v, self.momentum, out=work)  # the direction g + mu * v
        work += g
        work *= self.lr
        param -= work


class Adagrad(_WorkArrays, reference.Adagrad):
    def _update(self, name, param, g):
        xp = backend.xp()
        s = self._slot("sum_sq", name, param)
        work = self._work(name, param)
        xp.multiply(g, g, out=work)
        s += work
        _scaled_step(xp, param, g, s, self.lr, 1.0, self.eps, work)


class RMSprop(_WorkArrays, reference.RMSprop):
    def _update(self, name, param, g):
        xp = backend.xp()
        s = self._slot("square_avg", name, param)
        work = self._work(name, param)
        s *= self.rho
        xp.multiply(g, g, out=work)
        work *= 1.0 - self.rho
        s += work
        _scaled_step(xp, param, g, s, self.lr, 1.0, self.eps, work)


class Adam(_WorkArrays, reference.Adam):
    """Adam in one compiled pass over NumPy arrays (fast/compiled.py); otherwise (CuPy) its 12 passes run
    block by block (fast/blocked.py: each block's passes stay in cache), with one block-sized work array
    shared by every parameter. Both compute the same numbers."""

    def _update(self, name, param, g):
        m = self._slot("m", name, param)
        v = self._slot("v", name, param)
        if (
            compiled.usable(param, g, m, v)
            and param.flags.c_contiguous
            and m.flags.c_contiguous
            and v.flags.c_contiguous
        ):
            flat = param.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1)
            compiled.adam_update(*flat, *self._compiled_scalars(param.dtype))
            return
        work = self._block_work(param)
        blocked.adam_update(param, g, m, v, work, self.lr, self.beta1, self.beta2, self.eps, self.t)

    def _compiled_scalars(self, dtype):
        """(1 - b1, b2, 1 - b2, step, eps) in ``dtype`` for compiled.adam_update, with the bias corrections
        of step t folded into step and eps as in blocked.adam_update; kept until t, lr or dtype change."""
        key = (self.t, self.lr, self.beta1, self.beta2, self.eps, dtype)
        cached = self.__dict__.get("_scalars")
        if cached is None or cached[0] != key:
            f = dtype.type
            b1, b2 = self.beta1, self.beta2
            step_size, sq_scale = self.lr / (1.0 - b1**self.t), math.sqrt(1.0 - b2**self.t)
            values = f(1.0 - b1), f(b2), f(1.0 - b2), f(step_size * sq_scale), f(self.eps * sq_scale)
            cached = self._scalars = (key, values)
        return cached[1]

    def _block_work(self, param):
        scratch = self.__dict__.setdefault("_scratch", {})
        size = min(param.size, blocked.BLOCK)
        work = scratch.get("block")
        if work is None or work.size < size or work.dtype != param.dtype or not isinstance(work, type(param)):
            work = scratch["block"] = backend.xp().empty(max(size, 1), dtype=param.dtype)
        return work


class AdamW(Adam, reference.AdamW):
    pass
