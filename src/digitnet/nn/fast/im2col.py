"""im2col / col2im: turning a convolution into one matrix product, and back.

Conv2D works internally on images stored batch-last, (C, H, W, N): one
copy of the input, done together with the zero padding (a plain contiguous
copy when the input is another Conv2D's output, which is batch-last memory
already; see ``fast.conv.batch_last_as_nchw``). Then a
patch of every image at every output position is a *view*

    windows[c, u, v, r, q, n] = xt[c, r*sh + u, q*sw + v, n]          (C, kh, kw, Ho, Wo, N)

and copying it gives the patch matrix cols (C*kh*kw, Ho*Wo*N) with a single
``copyto``, so that a convolution is one matrix product ``W2 @ cols``. In this
layout, for stride 1, each output row (q, n) is one contiguous run of Wo*N
numbers in the image, so the copy moves long runs (from NCHW images the runs
are only Wo long). ``col2im_add`` is the adjoint: kh*kw strided slice-adds of
column gradients back onto the image (benchmarks/conv_layers.py times them).

The view is made with ``as_strided`` (what NumPy's ``sliding_window_view``
does inside) so that CuPy can run the same code.
"""

from __future__ import annotations

from digitnet.nn import backend


def as_strided(array, shape, strides):
    """A strided view of ``array`` in whichever array module is active (NumPy or CuPy)."""
    return backend.xp().lib.stride_tricks.as_strided(array, shape=shape, strides=strides)


def to_batch_last(x, out, top: int = 0, left: int = 0):
    """out[c, top + h, left + w, n] = x[n, c, h, w]; ``out`` (C, Hp, Wp, N) keeps its borders."""
    _, _, h, w = x.shape
    backend.xp().copyto(out[:, top : top + h, left : left + w, :], x.transpose(1, 2, 3, 0))
    return out


def windows(xt, kh: int, kw: int, sh: int, sw: int, ho: int, wo: int):
    """View (C, kh, kw, Ho, Wo, N) of a batch-last image: view[c, u, v, r, q, n] = xt[c, r*sh + u, q*sw + v, n]."""
    c, _, _, n = xt.shape
    bc, bh, bw, bn = xt.strides
    return as_strided(xt, (c, kh, kw, ho, wo, n), (bc, bh, bw, bh * sh, bw * sw, bn))


def col2im_add(dcols, dxt, sh: int, sw: int) -> None:
    """dxt[c, r*sh + u, q*sw + v, n] += dcols[c, u, v, r, q, n] for all u, v (kh*kw slice-adds)."""
    _, kh, kw, ho, wo, _ = dcols.shape
    for u in range(kh):
        for v in range(kw):
            dxt[:, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw, :] += dcols[:, u, v]


class Workspace:
    """Arrays kept between calls and reallocated only when shape or dtype change.

    Fresh large temporaries cost page faults on every step. A buffer made with ``zeros=True`` starts at zero and the
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
