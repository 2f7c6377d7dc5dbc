"""im2col / col2im: turning a convolution into one matrix product, and back.

A convolution ``y = w * x`` becomes ``Y[n] = W2 @ cols[n]`` once the input
patches are laid out as columns:

    cols[n, (c, u, v), (r, q)] = xpad[n, c, r*s + u, q*s + v]      (N, C*kh*kw, Ho*Wo)
    W2 = weight.reshape(O, C*kh*kw)

``windows`` gives that as a strided *view* (no copy, like NumPy's
``sliding_window_view``, but written with ``as_strided`` so CuPy can run it);
the layer copies it once into a reused buffer. ``col2im_add`` is the adjoint:
it adds column gradients back onto the image with kh*kw strided slice-adds
(14x faster here than ``np.add.at``).

For stride 1 there is a faster "wide" layout. In the flattened padded image
(row length Wp) patch offset (u, v) is just the shift ``u*Wp + v``, so

    wide[n, c, u, v, t] = xflat[n, c, u*Wp + v + t],   t < L = (Ho-1)*Wp + Wo

is one contiguous run per (n, c, u, v): copying it is ~4x faster than the
short rows of the usual layout. Output position (r, q) sits at t = r*Wp + q;
the t with q >= Wo are junk columns, cropped after the product (forward) or
kept at zero (backward), and ``col2im_wide_add`` adds whole runs back.
"""

from __future__ import annotations

from digitnet.nn import backend


def as_strided(array, shape, strides):
    """A strided view of ``array`` in whichever array module is active (NumPy or CuPy)."""
    return backend.xp().lib.stride_tricks.as_strided(array, shape=shape, strides=strides)


def windows(xpad, kh: int, kw: int, sh: int, sw: int, ho: int, wo: int):
    """View (N, C, kh, kw, Ho, Wo) with view[n, c, u, v, r, q] = xpad[n, c, r*sh + u, q*sw + v]."""
    n, c = xpad.shape[:2]
    bn, bc, bh, bw = xpad.strides
    return as_strided(xpad, (n, c, kh, kw, ho, wo), (bn, bc, bh, bw, bh * sh, bw * sw))


def wide_length(ho: int, wo: int, wp: int) -> int:
    """Number of wide columns L = (Ho-1)*Wp + Wo (the last one is output pixel (Ho-1, Wo-1))."""
    return (ho - 1) * wp + wo


def wide_windows(xpad, kh: int, kw: int, length: int):
    """Stride-1 view (N, C, kh, kw, L) with view[n, c, u, v, t] = xpad[n, c].flat[u*Wp + v + t].

    ``xpad`` must be C-contiguous in its last two axes.
    """
    n, c, _, wp = xpad.shape
    sn, sc, sh, sw = xpad.strides
    if sh != wp * sw:
        raise ValueError(f"wide_windows needs rows of the padded image back to back, got strides {xpad.strides}")
    return as_strided(xpad, (n, c, kh, kw, length), (sn, sc, sh, sw, sw))


def wide_to_image(wide, ho: int, wo: int, wp: int):
    """View (N, O, Ho, Wo) of the valid columns of a contiguous wide array (N, O, L)."""
    n, o = wide.shape[:2]
    sn, so, st = wide.strides
    return as_strided(wide, (n, o, ho, wo), (sn, so, st * wp, st))


def col2im_add(dcols, dxpad, sh: int, sw: int) -> None:
    """dxpad[a, b, r*sh + u, q*sw + v] += dcols[a, b, u, v, r, q] for all u, v (kh*kw slice-adds).

    (a, b) are the two leading axes, (N, C) or (C, N): any layout works.
    """
    _, _, kh, kw, ho, wo = dcols.shape
    for u in range(kh):
        for v in range(kw):
            dxpad[:, :, u:u + sh * (ho - 1) + 1:sh, v:v + sw * (wo - 1) + 1:sw] += dcols[:, :, u, v]


def col2im_wide_add(dcols, dxpad) -> None:
    """Adjoint of ``wide_windows``: dxpad[a, b].flat[u*Wp + v + t] += dcols[a, b, u, v, t]."""
    a, b, hp, wp = dxpad.shape
    flat = dxpad.reshape(a, b, hp * wp)
    _, _, kh, kw, length = dcols.shape
    for u in range(kh):
        for v in range(kw):
            start = u * wp + v
            flat[:, :, start:start + length] += dcols[:, :, u, v]


class Workspace:
    """Arrays kept between calls and reallocated only when shape or dtype change.

    Fresh large temporaries cost page faults on every step; reusing them is
    measurably faster. A buffer made with ``zeros=True`` starts at zero and the
    caller keeps the parts it never writes (padding borders) at zero.
    """

    def __init__(self):
        self._arrays = {}

    def get(self, name: str, shape, dtype, zeros: bool = False):
        shape = tuple(int(d) for d in shape)
        array = self._arrays.get(name)
        xp = backend.xp()
        if array is None or array.shape != shape or array.dtype != dtype or not isinstance(array, xp.ndarray):
            array = xp.zeros(shape, dtype) if zeros else xp.empty(shape, dtype)
            self._arrays[name] = array
        return array

    def clear(self) -> None:
        self._arrays.clear()
