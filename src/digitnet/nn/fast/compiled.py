"""Compiled kernels of the fast tier: element-by-element loops, as the loops tier writes them, compiled by Numba.

NumPy runs a chain of k operations as k passes over memory, one operation each. A loop that does the
whole chain for one element before moving to the next makes one pass, but in Python it is slow; Numba
compiles it to machine code. Only chains that NumPy cannot shorten live here (docs/speed.md gives the
measurements that put each one here):

    adam_update(p, g, m, v, c1, b2, c2, step, eps)   Adam's update of flat float arrays, in place, with
        m <- m + c1 (g - m)                          c1 = 1 - b1 (so m becomes b1 m + (1 - b1) g),
        v <- b2 v + (g g) c2                         c2 = 1 - b2, and step and eps already corrected
        p <- p - (m / (sqrt(v) + eps)) step          for bias (fast/blocked.adam_update says how)
    max_pool_forward(x, k, y, first)                 disjoint k*k windows of x (C, H, W, N), batch last:
        y[c, i, j, n]     = max over the window's taps t = u*k + v of x[c, i*k + u, j*k + v, n]
        first[c, i, j, n] = the first such t (row-major) whose value is the maximum (uint8)
    max_pool_backward(dy, first, k, dx)              dx[c, i*k + u, j*k + v, n] = dy[c, i, j, n] if
                                                     first[c, i, j, n] == u*k + v else 0
    col2im_add(dcols, sh, sw, dx)                    Conv2D's input gradient from dcols = W2.T @ dY:
        dx[c, r*sh + u, q*sw + v, n] += dcols[c, u, v, r, q, n]      dcols (C, kh, kw, Ho, Wo, N), dx (C, Hp, Wp, N)
    relu_forward(x, y, positive)                     flat arrays: positive = x > 0, y = maximum(x, 0)
    relu_backward(dy, positive, dx)                  dx = dy * positive
    batch_norm_forward(rows, gamma, beta, eps, xc, y, mean, var)     training, rows (C, M) of x:
        mean_c = sum_i x_ci / M,   xc = x - mean,   var_c = sum_i xc_ci^2 / M,
        y = xc * (gamma / sqrt(var + eps)) + beta                    (two passes over each row, then y)
    batch_norm_backward(dy, xc, scale, inv_std, dx, d_beta, dy_xc)   rows (C, M), scale = gamma * inv_std:
        d_beta_c = sum_i dy_ci,   dy_xc_c = sum_i dy_ci xc_ci,
        dx = dy * scale - (xc * (scale inv_std^2 dy_xc / M) + scale d_beta / M)

Adam, the max-pool and ReLU do the operations of the NumPy code they replace in the same order and the same
dtype (no fast-math: nothing is reassociated or fused), so their results are equal to the last bit;
tests/nn check that (a NaN in a pooling window wins, as with np.maximum). col2im_add adds the kh*kw
contributions to each element in another order than the NumPy code, so the two agree to rounding.
Batch norm's sums run in float64 and may be reordered (``reassociate``, so that they run in SIMD
lanes); the NumPy code sums in another order too. Scalars are passed in the arrays' dtype so that
float32 stays float32.

A kernel is compiled for each new combination of argument types at its first call, and the machine code
is cached on disk (``cache=True``: next to this file, or Numba's user cache directory when that is not
writable; without a writable place, compiled anew in each process), so only the first process pays;
``benchmarks/compile_time.py`` measures both. ``usable`` says whether arrays can go to a kernel: NumPy
arrays only (CuPy arrays take the NumPy-style path), and only when Numba can be imported (it is a
dependency of digitnet; without it every layer and optimiser runs its NumPy code, more slowly).
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np

NUMBA = importlib.util.find_spec("numba") is not None  # without it, usable() is False: the NumPy code runs


def compiled(loops=None, *, reassociate=False):
    """``loops`` compiled by Numba at its first call; ``.python`` keeps the plain Python function.

    ``reassociate``: let the compiler reorder sums (Numba's fastmath flag "reassoc"), nothing else.
    """
    if loops is None:
        return functools.partial(compiled, reassociate=reassociate)
    kernel = None

    @functools.wraps(loops)
    def call(*args):
        nonlocal kernel
        if kernel is None:
            import numba

            options = {"error_model": "numpy", "fastmath": {"reassoc"} if reassociate else False}
            try:
                kernel = numba.njit(cache=True, **options)(loops)
            except RuntimeError:  # no writable cache directory: compile in this process only
                kernel = numba.njit(**options)(loops)
        return kernel(*args)

    call.python = loops
    return call


def usable(*arrays) -> bool:
    """True when Numba is there and every array is a NumPy array of float32 or float64 (what the kernels
    are written for)."""
    if not NUMBA:
        return False
    for a in arrays:
        if not isinstance(a, np.ndarray) or a.dtype.char not in "fd":
            return False
    return True


def flat_views(*arrays):
    """Flat views of arrays of one shape that walk their memory in the same order, or None when one of
    them is not dense in the first one's order (a transposed view of a contiguous array is dense:
    batch-last activations, fast/conv.py). Element i of every view is then the same array element."""
    first = arrays[0]
    if all(a.flags.c_contiguous and a.shape == first.shape for a in arrays):
        return [a.reshape(-1) for a in arrays]
    order = tuple(np.argsort([-stride for stride in first.strides], kind="stable"))
    views = []
    for a in arrays:
        walked = a.transpose(order)
        if a.shape != first.shape or not walked.flags.c_contiguous:
            return None
        views.append(walked.reshape(-1))
    return views


@compiled
def adam_update(p, g, m, v, c1, b2, c2, step, eps):
    for i in range(p.size):
        gi = g[i]
        mi = m[i] + c1 * (gi - m[i])
        vi = b2 * v[i] + (gi * gi) * c2
        m[i] = mi
        v[i] = vi
        p[i] -= (mi / (np.sqrt(vi) + eps)) * step


@compiled
def max_pool_forward(x, k, y, first):
    # the running maximum and its tap for one window across the batch live in two small local arrays, so
    # that the compiler can keep them in vector registers (with y and first, which could alias x, it
    # did not vectorise the loop on AVX2 CPUs); each window's result is then written once
    channels, rows, cols, batch = y.shape
    best = np.empty(batch, x.dtype)
    tap = np.empty(batch, np.int32)
    for c in range(channels):
        for i in range(rows):
            for j in range(cols):
                for n in range(batch):
                    best[n] = x[c, i * k, j * k, n]
                    tap[n] = 0
                for u in range(k):
                    for v in range(k):
                        if u == 0 and v == 0:
                            continue
                        t = u * k + v
                        for n in range(batch):
                            value = x[c, i * k + u, j * k + v, n]
                            b = best[n]
                            # as NumPy's maximum: a NaN wins and then stays
                            wins = (value > b) | ((value != value) & (b == b))
                            best[n] = value if wins else b
                            tap[n] = t if wins else tap[n]
                for n in range(batch):
                    y[c, i, j, n] = best[n]
                    first[c, i, j, n] = tap[n]


@compiled
def max_pool_backward(dy, first, k, dx):
    channels, rows, cols, batch = dy.shape
    for c in range(channels):
        for i in range(rows):
            for u in range(k):
                for j in range(cols):
                    for v in range(k):
                        tap = u * k + v
                        for n in range(batch):
                            dx[c, i * k + u, j * k + v, n] = dy[c, i, j, n] if first[c, i, j, n] == tap else 0.0


@compiled
def relu_forward(x, y, positive):
    zero = x.dtype.type(0)
    for i in range(x.size):
        value = x[i]
        positive[i] = value > zero
        # as NumPy's maximum(x, 0): a NaN passes through
        y[i] = value if (value > zero) | (value != value) else zero


@compiled
def relu_backward(dy, positive, dx):
    one, zero = dy.dtype.type(1), dy.dtype.type(0)
    for i in range(dy.size):
        dx[i] = dy[i] * (one if positive[i] else zero)  # as dy * mask: 0 * inf is NaN


@compiled
def col2im_add(dcols, sh, sw, dx):
    channels, kh, kw, rows, cols, batch = dcols.shape
    for c in range(channels):
        for u in range(kh):
            for r in range(rows):
                for v in range(kw):
                    for q in range(cols):
                        for n in range(batch):
                            dx[c, r * sh + u, q * sw + v, n] += dcols[c, u, v, r, q, n]


@compiled(reassociate=True)
def batch_norm_forward(rows, gamma, beta, eps, xc, y, mean, var):
    channels, m = rows.shape
    for c in range(channels):
        total = 0.0  # float64
        for i in range(m):
            total += rows[c, i]
        mu = rows.dtype.type(total / m)
        squares = 0.0
        for i in range(m):
            d = rows[c, i] - mu
            xc[c, i] = d
            squares += d * d
        mean[c] = mu
        var[c] = squares / m
        scale = gamma[c] / np.sqrt(var[c] + eps)
        shift = beta[c]
        for i in range(m):
            y[c, i] = xc[c, i] * scale + shift


@compiled(reassociate=True)
def batch_norm_backward(dy, xc, scale, inv_std, dx, d_beta, dy_xc):
    channels, m = dy.shape
    for c in range(channels):
        total = 0.0  # float64
        product = 0.0
        for i in range(m):
            total += dy[c, i]
            product += dy[c, i] * xc[c, i]
        d_beta[c] = total
        dy_xc[c] = product
        s = scale[c]
        slope = dy.dtype.type(s * inv_std[c] * inv_std[c] * product / m)
        offset = dy.dtype.type(s * total / m)
        for i in range(m):
            dx[c, i] = dy[c, i] * s - (xc[c, i] * slope + offset)
