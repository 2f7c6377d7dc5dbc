"""2-D convolution, tuned: batch-last memory, reused buffers, partial im2col, three ways to dx.

The same numbers as the reference Conv2D (digitnet/nn/layers/conv.py, which
explains the im2col formulation); this class changes only how they are
computed:

    x (N, I, H, W) is copied once, with its zero padding, into a batch-last
    image (I, Hp, Wp, N) in a reused buffer; the patch matrix cols
    (I*kh*kw, Ho*Wo*N) is one strided copy of it (see im2col.py), or for vertical stride 1 and
    wide layers only its kw horizontal shifts are copied, the kh vertical ones being views
    (row_shifts.py: every product below then becomes kh smaller ones), so

    forward    Y     = W2 @ cols + b                  (returned as an NCHW view: batch_last_as_nchw)
    backward   dW2   = dY @ cols.T                    db = dY @ 1
               (with cols, b and db come through a row of ones appended to cols)
               dx = col2im(W2.T @ dY), or for 'same' padding a convolution of dY with the
               flipped kernel; both by row shifts where the vertical stride is 1 (row_shifts.py),
               but for NumPy arrays col2im is one product and one compiled pass (compiled.py)

Inference splits batches whose patch matrix would exceed
``INFERENCE_COLS_BYTES``.
"""

from __future__ import annotations

import numpy as np

from digitnet.nn import backend
from digitnet.nn.fast import blocked, compiled, im2col, row_shifts
from digitnet.nn.layers import conv as reference

INFERENCE_COLS_BYTES = 64 << 20  # inference splits large batches so the patch matrix stays below this


def batch_last_as_nchw(a):
    """An (N, C, H, W) view of a batch-last (C, H, W, N) array: no copy.

    Conv2D returns its output (and backward its dx) this way. The values are
    NCHW to every reader; only the memory order differs, and NumPy keeps that
    order through elementwise layers (ReLU, BatchNorm2D, pooling allocate
    like their input), so the next Conv2D finds its batch-last copy already
    contiguous and no layer pays for a transposing copy.
    """
    return a.transpose(3, 0, 1, 2)


class Conv2D(reference.Conv2D):
    """The reference Conv2D (same constructor, parameters and config) with tuned forward and backward."""

    tier = "fast"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._work = im2col.Workspace()

    def _mask(self, dtype):
        if self.connections is None:
            return None
        return backend.to_device(np.asarray(self.connections, dtype=dtype)[:, :, None, None])

    # --- computation ----------------------------------------------------
    def _batch_last(self, x, name="xt"):
        """x (N, C, H, W) as a zero-padded batch-last image (C, Hp, Wp, N) in a reused buffer, or without
        padding x's own memory when that is batch-last already (the patches are copied from it at once)."""
        (pt, pb), (pl, pr) = self.pads
        if pt == pb == pl == pr == 0 and x.transpose(1, 2, 3, 0).flags.c_contiguous:
            return x.transpose(1, 2, 3, 0)
        n, c, h, w = x.shape
        buffer = self._work.get(name, (c, h + pt + pb, w + pl + pr, n), x.dtype, zeros=True)
        return im2col.to_batch_last(x, buffer, pt, pl)  # the borders stay zero

    def _geometry(self, x_shape):
        """(Ho, Wo, Hp, Wp): output and padded image sizes."""
        kh, kw = self.kernel_size
        (pt, pb), (pl, pr) = self.pads
        hp, wp = x_shape[2] + pt + pb, x_shape[3] + pl + pr
        return (hp - kh) // self.stride[0] + 1, (wp - kw) // self.stride[1] + 1, hp, wp

    def _im2col(self, x, ho, wo):
        """Patch matrix cols (I*kh*kw, Ho*Wo*N), rows ordered (i, u, v), columns (r, q, n), and with a
        bias a last row of ones: then [W2 | b] @ cols adds the bias, and dY @ cols.T ends with db."""
        xp = backend.xp()
        xt = self._batch_last(x)
        c, _, _, n = xt.shape
        kh, kw = self.kernel_size
        k = c * kh * kw
        cols = self._work.get("cols", (k + int(self.use_bias), ho * wo * n), x.dtype)
        xp.copyto(cols[:k].reshape(c, kh, kw, ho, wo, n), im2col.windows(xt, kh, kw, *self.stride, ho, wo))
        if self.use_bias:
            cols[k] = 1
        return cols

    def patches_by_row_shifts(self) -> bool:
        """Whether the layer works from the row matrix P (row_shifts.py) instead of the patch matrix cols.

        For vertical stride 1, a kernel taller than one row, at least ``row_shifts.MIN_ROWS`` rows
        I*kw in P (thinner products lose what the smaller copy saves; a small fan-in also keeps cols
        for its stacked weight gradient), and kh*O <= I*kw, so that the forward is one product
        (row_shifts.conv_product): kh smaller products lost to one from cols at 2 threads (docs/speed.md).
        """
        kh, kw = self.kernel_size
        rows = self.in_channels * kw
        return self.stride[0] == 1 and kh > 1 and rows >= row_shifts.MIN_ROWS and kh * self.out_channels <= rows

    def _patches_of(self, x, ho, wo):
        """("rows", P (I*kw, Hp*Wo*N)) or ("cols", cols (I*kh*kw [+ 1], Ho*Wo*N)) of x, in reused buffers."""
        if not self.patches_by_row_shifts():
            return "cols", self._im2col(x, ho, wo)
        xt = self._batch_last(x)
        c, hp, _, n = xt.shape
        kw = self.kernel_size[1]
        rows = self._work.get("rows", (c, kw, hp, wo, n), x.dtype)
        return "rows", row_shifts.row_matrix(xt, kw, self.stride[1], wo, rows)

    def _weight2d(self):
        weight = self.params["weight"]
        mask = self._mask(weight.dtype)
        if mask is not None:
            weight = weight * mask
        return weight.reshape(self.out_channels, -1)

    def forward(self, x, training=False):
        self.check_input(x)
        xp = backend.xp()
        n, o = x.shape[0], self.out_channels
        per_sample = self.in_channels * self.kernel_size[0] * self.kernel_size[1] * x.shape[2] * x.shape[3]
        chunk = max(1, INFERENCE_COLS_BYTES // (per_sample * x.itemsize))
        if not training and n > chunk:
            parts = [self.forward(x[i : i + chunk]).transpose(1, 2, 3, 0) for i in range(0, n, chunk)]
            y = batch_last_as_nchw(xp.concatenate(parts, axis=3))
            self._x, self._patches = x, None  # a backward after a split forward recomputes the patches
            return y
        ho, wo, _, _ = self._geometry(x.shape)
        self._x = x
        self._patches = kind, patches = self._patches_of(x, ho, wo)
        if kind == "rows":
            weight = self._weight2d().reshape(self.params["weight"].shape)
            y_cols = row_shifts.conv_product(weight, patches, ho, wo, n, self._work, "y_")
            if self.use_bias:
                y_cols += self.params["bias"][:, None]
        else:  # (O, Ho*Wo*N), a fresh array: batch-last memory
            weight = self._weight2d()
            if self.use_bias:  # [W2 | b] against cols' row of ones
                weight = xp.concatenate([weight, self.params["bias"][:, None]], axis=1)
            y_cols = weight @ patches
        return batch_last_as_nchw(y_cols.reshape(o, ho, wo, n))

    def backward(self, dy):
        xp = backend.xp()
        x = self._x
        n, o = x.shape[0], self.out_channels
        ho, wo, hp, wp = self._geometry(x.shape)
        if dy.shape != (n, o, ho, wo):
            raise ValueError(f"Conv2D.backward expected dy of shape {(n, o, ho, wo)}, got {tuple(dy.shape)}")
        kind, patches = self._patches if self._patches is not None else self._patches_of(x, ho, wo)
        dy_t = dy.transpose(1, 2, 3, 0)  # a free view when dy has batch-last memory (from the next layers)
        if not dy_t.flags.c_contiguous:
            dy_t = im2col.to_batch_last(dy, self._work.get("dy_t", (o, ho, wo, n), dy.dtype))
        dy_cols = dy_t.reshape(o, ho * wo * n)
        shape = self.params["weight"].shape
        if kind == "rows":
            if self.use_bias:  # a matrix-vector product beats dy.sum(axis=(0, 2, 3))
                self.grads["bias"] = dy_cols @ xp.ones(ho * wo * n, dtype=dy.dtype)
            d_weight = row_shifts.weight_grad(patches, dy_cols, *self.kernel_size, ho, wo, n)
        else:  # with a bias, cols' row of ones makes the last column of dY @ cols.T the bias gradient
            if self.in_channels * self.kernel_size[0] * self.kernel_size[1] <= blocked.STACKED_MAX_FAN_IN and ho > 1:
                d_cols = blocked.stacked_weight_grad(
                    dy_cols, patches, blocked.stacked_parts(dy_cols.shape, ho, dy_cols.itemsize)
                )
            else:
                d_cols = (patches @ dy_cols.T).T  # this order: up to 15% faster
            if self.use_bias:
                self.grads["bias"], d_cols = d_cols[:, -1].copy(), d_cols[:, :-1]
            d_weight = d_cols.reshape(shape)
        mask = self._mask(d_weight.dtype)
        self.grads["weight"] = d_weight if mask is None else d_weight * mask
        if not self.needs_input_grad:
            return None
        return self._input_grad(dy, dy_cols, x.shape, ho, wo, hp, wp)

    def input_grad_by_flipped_kernel(self, input_hw) -> bool:
        """Whether backward computes dx as a flipped-kernel convolution of dY (else by col2im).

        Possible for stride 1 with at most kernel - 1 padding on every side. Chosen when the output is
        at least as large as the input (else the flipped convolution also multiplies the zero border of
        its padded dY: H*W / (Ho*Wo) times col2im's products) and its row matrix (O*kw, Hq*W*N), Hq the
        padded dY's height, is no larger than col2im's accumulator (I*kw, Hp*Wo*N): for 'same', O <= I.
        """
        kh, kw = self.kernel_size
        (pt, pb), (pl, pr) = self.pads
        h, w = input_hw
        _, ho, wo = self.compute_output_shape((self.in_channels, h, w))
        full = (kh - 1 - pt, kh - 1 - pb, kw - 1 - pl, kw - 1 - pr)
        if self.stride != (1, 1) or min(full) < 0 or ho * wo < h * w:
            return False
        flipped_rows = self.out_channels * (ho + full[0] + full[1]) * w
        return flipped_rows <= self.in_channels * (h + pt + pb) * wo

    def _input_grad(self, dy, dy_cols, x_shape, ho, wo, hp, wp):
        """dx (N, I, H, W), by one of three exact methods (see row_shifts.py for the last two).

        Stride 1 with 'same' padding: dx is itself a convolution of dY, padded by k-1-p, with the
        kernel flipped and in/out swapped, computed by row shifts (kh products over views).
        Otherwise dcols = W2.T @ dY is added back onto the padded image: for NumPy arrays by one
        compiled pass (compiled.col2im_add); else by row shifts when the vertical stride is 1, else
        by im2col.col2im_add (kh*kw slice-adds).
        """
        xp = backend.xp()
        n, c, h, w = x_shape
        o = self.out_channels
        kh, kw = self.kernel_size
        (pt, pb), (pl, pr) = self.pads
        full = (kh - 1 - pt, kh - 1 - pb, kw - 1 - pl, kw - 1 - pr)
        weight = self._weight2d().reshape(o, c, kh, kw)
        if self.input_grad_by_flipped_kernel((h, w)):
            dy_pad = self._work.get(
                "dy_pad", (o, ho + full[0] + full[1], wo + full[2] + full[3], n), dy.dtype, zeros=True
            )
            dy_pad[:, full[0] : full[0] + ho, full[2] : full[2] + wo, :] = dy_cols.reshape(o, ho, wo, n)
            rows = self._work.get("dy_rows", (o, kw, dy_pad.shape[1], w, n), dy.dtype)
            flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (I, O, kh, kw)
            dy_rows = row_shifts.row_matrix(dy_pad, kw, 1, w, rows)
            dx_t = row_shifts.conv_product(flipped, dy_rows, h, w, n, self._work, "dx_")
            return batch_last_as_nchw(dx_t.reshape(c, h, w, n))
        dx_t = self._work.get("dx_t", (c, hp, wp, n), dy.dtype)
        dx_t.fill(0)
        if compiled.usable(dy_cols, weight):  # one product, then one compiled pass adding it back
            dcols = self._work.get("dcols", (c * kh * kw, ho * wo * n), dy.dtype)
            xp.matmul(weight.reshape(o, -1).T, dy_cols, out=dcols)
            compiled.col2im_add(dcols.reshape(c, kh, kw, ho, wo, n), *self.stride, dx_t)
        elif self.stride[0] == 1:
            row_shifts.col2im(weight, dy_cols, dx_t, ho, wo, self.stride[1], self._work)
        else:
            dcols = (weight.reshape(o, -1).T @ dy_cols).reshape(c, kh, kw, ho, wo, n)
            im2col.col2im_add(dcols, dx_t, *self.stride)
        dx_t = dx_t[:, pt : pt + h, pl : pl + w, :].copy()  # out of the reused buffer
        return batch_last_as_nchw(dx_t)
