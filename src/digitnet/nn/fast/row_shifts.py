"""Partial im2col: only the kw horizontal shifts stacked; the kh vertical shifts as column offsets.

A full patch matrix (im2col.py) stacks all kh*kw shifts of a batch-last image
xt (C, Hp, Wp, N) into its rows. Stacking only the kw horizontal shifts of
every row of the image,

    P[(c, v), (r, q, n)] = xt[c, r, q*sw + v, n]            P: (C*kw, Hp*Wo*N), rows (c, v)

leaves the vertical shifts to be taken for free: for vertical stride 1 the
columns (r + u, q, n), r < Ho, of P are one contiguous run starting at column
u*Wo*N, so

    P_u = P[:, u*Wo*N : u*Wo*N + Ho*Wo*N]                    (C*kw, Ho*Wo*N), a view
    cols = [P_0; P_1; ...; P_{kh-1}]                           (rows (u, c, v))

and a product with the patch matrix becomes kh products over views of a
matrix kh times smaller than cols:

    Y = W2 @ cols    = sum_u W[:, :, u, :] (O, C*kw) @ P_u                      (conv_product)
                     (or one product [W[:, :, 0, :]; ...] @ P, then the kh shifted sums)
    dW = dY @ cols.T : dW[:, :, u, :] = dY @ P_u.T                               (weight_grad)
    dx = col2im(W2.T @ dY) : dP[:, u*Wo*N : ...] += W[:, :, u, :].T @ dY for every u,
                       then dx[c, r, q*sw + v, n] += dP[(c, v), (r, q, n)]       (col2im)

The last is the adjoint of the first (kh + kw slice-adds instead of im2col's
kh*kw). All need vertical stride 1; horizontal strides are any.
"""

from __future__ import annotations

from digitnet.nn import backend
from digitnet.nn.fast import im2col

MIN_ROWS = 96  # Conv2D works from P only when P has at least this many rows C*kw (see docs/speed.md)


def row_windows(xt, kw: int, sw: int, wo: int):
    """View (C, kw, Hp, Wo, N) of a batch-last image: view[c, v, r, q, n] = xt[c, r, q*sw + v, n]."""
    c, hp, _, n = xt.shape
    bc, bh, bw, bn = xt.strides
    return im2col.as_strided(xt, (c, kw, hp, wo, n), (bc, bw, bh, bw * sw, bn))


def row_matrix(xt, kw: int, sw: int, wo: int, out):
    """P (C*kw, Hp*Wo*N): the kw horizontal shifts of xt (C, Hp, Wp, N) copied into ``out`` (C, kw, Hp, Wo, N)."""
    backend.xp().copyto(out, row_windows(xt, kw, sw, wo))
    return out.reshape(out.shape[0] * kw, -1)


def shift(p, u: int, ho: int, wo: int, n: int):
    """P_u = P[:, u*Wo*N : (u + Ho)*Wo*N], the rows of P moved up by u image rows: a view."""
    return p[:, u * wo * n : (u + ho) * wo * n]


def weight_rows(weight, u: int):
    """W[:, :, u, :] of a weight (O, C, kh, kw) as a contiguous (O, C*kw) matrix (columns (c, v))."""
    o = weight.shape[0]
    return backend.xp().ascontiguousarray(weight[:, :, u, :]).reshape(o, -1)


def conv_product(weight, p, ho: int, wo: int, n: int, work, prefix: str):
    """Y (O, Ho*Wo*N) = W2 @ cols = sum_u W[:, :, u, :] @ P_u, for weight (O, C, kh, kw). Returns a fresh array.

    When kh*O <= C*kw, as one product Z = [W[:, :, 0, :]; ...; W[:, :, kh-1, :]] @ P (kh*O, Hp*Wo*N),
    no larger than P, then Y = sum_u Z[u*O : (u+1)*O] shifted by u rows (P is packed for BLAS once);
    else as kh products over the views P_u. ``work`` (an im2col.Workspace) holds Z, the stacked weight
    (``stacked_weight``) or the product buffer under names starting with ``prefix``.
    """
    xp = backend.xp()
    o, c, kh, kw = weight.shape
    if kh == 1:
        return weight_rows(weight, 0) @ shift(p, 0, ho, wo, n)
    m = ho * wo * n
    if kh * o <= c * kw:
        z = work.get(prefix + "stacked", (kh * o, p.shape[1]), p.dtype)
        xp.matmul(stacked_weight(weight, work, prefix), p, out=z)
        y = z[:o, :m] + shift(z[o : 2 * o], 1, ho, wo, n)
        for u in range(2, kh):
            y += shift(z[u * o : (u + 1) * o], u, ho, wo, n)
        return y
    term = work.get(prefix + "term", (o, m), p.dtype)
    y = weight_rows(weight, 0) @ shift(p, 0, ho, wo, n)
    for u in range(1, kh):
        xp.matmul(weight_rows(weight, u), shift(p, u, ho, wo, n), out=term)
        y += term
    return y


def stacked_weight(weight, work, prefix: str):
    """[W[:, :, 0, :]; ...; W[:, :, kh-1, :]] (kh*O, C*kw), rows (u, o), for weight (O, C, kh, kw).

    The reordering copy moves runs of only kw numbers (docs/speed.md: batch-1 latency); ``work`` keeps
    the result with a copy of the weight it came from, and it is redone only when the weight's values
    changed (an equality check reads the weight once). Both start at zero, which agree.
    """
    xp = backend.xp()
    o, c, kh, kw = weight.shape
    source = work.get(prefix + "weight_source", weight.shape, weight.dtype, zeros=True)
    stacked = work.get(prefix + "weight_stacked", (kh, o, c, kw), weight.dtype, zeros=True)
    if not xp.array_equal(source, weight):
        xp.copyto(stacked, weight.transpose(2, 0, 1, 3))
        xp.copyto(source, weight)
    return stacked.reshape(kh * o, c * kw)


def weight_grad(p, dy_cols, kh: int, kw: int, ho: int, wo: int, n: int):
    """dW (O, C, kh, kw) = dY @ cols.T, as dW[:, :, u, :] = (P_u @ dY.T).T for each u (a fresh array)."""
    xp = backend.xp()
    c, o = p.shape[0] // kw, dy_cols.shape[0]
    parts = xp.empty((kh, p.shape[0], o), dtype=dy_cols.dtype)  # (u, (c, v), o)
    for u in range(kh):
        xp.matmul(shift(p, u, ho, wo, n), dy_cols.T, out=parts[u])  # this order: faster than dY @ P_u.T
    return xp.ascontiguousarray(parts.reshape(kh, c, kw, o).transpose(3, 1, 0, 2))


def col2im(weight, dy_cols, dxt, ho: int, wo: int, sw: int, work) -> None:
    """dxt (C, Hp, Wp, N) += col2im(W2.T @ dY) for weight (O, C, kh, kw) and dY (O, Ho*Wo*N), vertical
    stride 1: the kh products accumulated into dP (C*kw, Hp*Wo*N), then kw strided slice-adds.
    ``work`` (an im2col.Workspace) holds dP and a product buffer."""
    xp = backend.xp()
    o, c, kh, kw = weight.shape
    hp, n = dxt.shape[1], dxt.shape[3]
    m = ho * wo * n
    d_rows = work.get("d_rows", (c * kw, hp * wo * n), dy_cols.dtype)
    xp.matmul(weight_rows(weight, 0).T, dy_cols, out=d_rows[:, :m])
    d_rows[:, m:] = 0
    if kh > 1:
        term = work.get("d_term", (c * kw, m), dy_cols.dtype)
        for u in range(1, kh):
            xp.matmul(weight_rows(weight, u).T, dy_cols, out=term)
            shift(d_rows, u, ho, wo, n)[...] += term
    d_rows = d_rows.reshape(c, kw, hp, wo, n)
    for v in range(kw):
        dxt[:, :, v : v + sw * (wo - 1) + 1 : sw, :] += d_rows[:, v]
