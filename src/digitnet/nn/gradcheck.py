"""Numerical gradient checking by central differences, in float64.

For a layer or model f and a fixed random projection R (same shape as f(x)),
the scalar L = sum(f(x) * R) has analytic gradients from ``backward(R)``.
Each is compared with the central difference

    dL/dv[i] ~= (L(v + eps e_i) - L(v - eps e_i)) / (2 eps)

and the relative error ||analytic - numeric|| / (||analytic|| + ||numeric||)
is reported per tensor ("input", and every parameter name). Values below
~1e-7 mean the backward pass is right; a wrong one is typically > 1e-2.
"""

from __future__ import annotations

import numpy as np

from digitnet.nn import backend


def relative_error(a, b) -> float:
    """||a - b|| / (||a|| + ||b||), 0.0 when both are zero."""
    a = np.asarray(backend.to_numpy(a), dtype=np.float64)
    b = np.asarray(backend.to_numpy(b), dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def numerical_gradient(f, v, eps=1e-6, max_entries=None, rng=None):
    """Central-difference gradient of scalar ``f()`` w.r.t. array ``v`` (perturbed in place).

    With ``max_entries`` only that many randomly chosen entries are probed; the
    others are NaN in the result (and ignored by ``gradcheck``).
    """
    grad = np.full(v.shape, np.nan)
    flat = v.reshape(-1)  # a view: v must be contiguous
    idx = np.arange(flat.size)
    if max_entries is not None and flat.size > max_entries:
        idx = np.random.default_rng(rng).choice(flat.size, size=max_entries, replace=False)
    gflat = grad.reshape(-1)
    for i in idx:
        old = float(flat[i])
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def _projected_loss(module, x, r, training, before_forward):
    def loss():
        if before_forward is not None:
            before_forward()
        y = module.forward(x, training=training)
        return float(np.sum(backend.to_numpy(y) * r))

    return loss


def _param_items(module):
    if hasattr(module, "parameters"):
        return [(name, p, g) for name, p, g in module.parameters()]
    return [(k, module.params[k], None) for k in module.params]


def gradcheck(module, x, eps=1e-6, training=False, max_entries=200, seed=0, before_forward=None):
    """Check ``module.backward`` (a layer or Sequential) against central differences at ``x``.

    Parameters and x must be float64 (use ``module.astype(np.float64)``).
    ``before_forward`` is called before every forward pass (e.g. to reseed a
    dropout layer so that every evaluation uses the same mask). Returns a dict
    ``{"input": err, "<param name>": err, ...}`` of relative errors.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    rng = np.random.default_rng(seed)
    if before_forward is not None:
        before_forward()
    y = backend.to_numpy(module.forward(x, training=training))
    r = rng.standard_normal(y.shape)
    dx = backend.to_numpy(module.backward(r.astype(y.dtype)))
    if hasattr(module, "parameters"):
        analytic = {name: backend.to_numpy(g).copy() for name, _, g in module.parameters()}
    else:
        analytic = {k: backend.to_numpy(g).copy() for k, g in module.grads.items()}
    loss = _projected_loss(module, x, r, training, before_forward)

    errors = {}
    num = numerical_gradient(loss, x, eps, max_entries, rng)
    mask = ~np.isnan(num)
    errors["input"] = relative_error(dx[mask], num[mask])
    for name, p, _ in _param_items(module):
        num = numerical_gradient(loss, p, eps, max_entries, rng)
        mask = ~np.isnan(num)
        errors[name] = relative_error(analytic[name][mask], num[mask])
    return errors


def gradcheck_loss(loss_fn, pred, target, eps=1e-6):
    """Relative error of ``loss_fn.grad()`` against central differences of ``loss_fn(pred, target)``."""
    pred = np.array(pred, dtype=np.float64, copy=True)
    loss_fn(pred, target)
    analytic = backend.to_numpy(loss_fn.grad()).copy()
    num = numerical_gradient(lambda: float(loss_fn(pred, target)), pred, eps)
    return relative_error(analytic, num)
