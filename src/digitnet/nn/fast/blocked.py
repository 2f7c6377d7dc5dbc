"""Cache-blocked kernels of the fast tier: a chain of elementwise passes run block by block.

NumPy runs each operation as one pass over whole arrays; a chain of k operations on arrays larger than
the L2 cache (2 MB per core here) reads and writes main memory k times. Run on blocks of ~128 KB per
array, every pass after the first finds its block in cache. The numbers are those of the unblocked
chain, element for element (each element goes through the same operations in the same order); only
per-channel sums change their summation order.

    adam_update      Adam's 12 passes (fast/optim.py) on blocks of BLOCK elements of the flat arrays
    BatchNorm2D      per-channel groups of the batch-last rows (C, N*H*W): statistics, normalisation
                     and the backward's sums and corrections for one group at a time (fast/norm.py)
    stacked_weight_grad   dW = dY @ cols.T for a small fan-in K (a network's first convolution) as
                     ``parts`` products over slices of the long inner dimension M, summed, instead of
                     one (O, M) @ (M, K) product; used for K <= STACKED_MAX_FAN_IN, with dY's slices
                     (O, M / parts) of at most STACKED_PART_BYTES (``stacked_parts``; the bounds and the
                     block sizes are chosen by benchmarks/kernels_lab.py's measurements and docs/speed.md)
"""

from __future__ import annotations

import math

from digitnet.nn import backend

BLOCK = 1 << 15  # elements per block (128 KB of float32): measured best of 8K..128K for Adam
GROUP_BYTES = 1 << 19  # bytes of one channel group's rows in batch norm
STACKED_MAX_FAN_IN = 32  # Conv2D weight gradients by stacked_weight_grad up to this in_channels * kh * kw
STACKED_PART_BYTES = 1 << 17  # bytes of one slice of dY in stacked_weight_grad, at most (when a divisor allows)


def adam_update(param, g, m, v, work, lr, beta1, beta2, eps, t):
    """Adam's update of ``param`` in place (m, v updated), as optim.Adam: block by block when large.

    ``work`` holds at least min(param.size, BLOCK) elements.
    """
    xp = backend.xp()
    step_size = lr / (1.0 - beta1**t)
    sq_scale = math.sqrt(1.0 - beta2**t)
    flat = [a.reshape(-1) for a in (param, g, m, v)]
    size = param.size
    for i in range(0, size, BLOCK):
        j = min(size, i + BLOCK)
        p_b, g_b, m_b, v_b = (a[i:j] for a in flat)
        w_b = work[: j - i]
        xp.subtract(g_b, m_b, out=w_b)  # m <- m + (1 - b1) (g - m)  ==  b1 m + (1 - b1) g
        w_b *= 1.0 - beta1
        m_b += w_b
        v_b *= beta2
        xp.multiply(g_b, g_b, out=w_b)
        w_b *= 1.0 - beta2
        v_b += w_b
        xp.sqrt(v_b, out=w_b)  # p -= (step sq_scale) m / (sqrt(v) + eps sq_scale)
        w_b += eps * sq_scale
        xp.divide(m_b, w_b, out=w_b)
        w_b *= step_size * sq_scale
        p_b -= w_b


def channel_groups(channels: int, row_length: int, itemsize: int):
    """[(start, stop)] groups of channels whose rows together take about GROUP_BYTES."""
    step = max(1, GROUP_BYTES // max(1, row_length * itemsize))
    return [(i, min(channels, i + step)) for i in range(0, channels, step)]


def stacked_weight_grad(dy_cols, cols, parts: int):
    """(O, K) = dY (O, M) @ cols.T (M, K) as ``parts`` products over equal slices of M, summed."""
    o, m = dy_cols.shape
    k = cols.shape[0]
    return (
        dy_cols.reshape(o, parts, m // parts).transpose(1, 0, 2) @ cols.reshape(k, parts, m // parts).transpose(1, 2, 0)
    ).sum(axis=0)


def stacked_parts(dy_shape, rows: int, itemsize: int) -> int:
    """The part count for stacked_weight_grad of dY (O, M): the smallest multiple of ``rows`` (a layer's output
    rows Ho, which always divides M = Ho*Wo*N) up to 64 * rows that divides M into slices (O, M / parts) of at
    most STACKED_PART_BYTES; ``rows`` itself when none does."""
    o, m = dy_shape
    for parts in range(rows, 64 * rows + 1, rows):
        if m % parts == 0 and o * (m // parts) * itemsize <= STACKED_PART_BYTES:
            return parts
    return rows
