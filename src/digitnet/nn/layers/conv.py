"""2-D convolution layer, vectorised as im2col + one matrix product.

    x (N, I, H, W)   weight (O, I, kh, kw)   bias (O,)   y (N, O, Ho, Wo)
    y[n, o, r, q] = b[o] + sum_{i,u,v} w[o, i, u, v] xpad[n, i, r*s + u, q*s + v]
    Ho = (H + pad_top + pad_bottom - kh) // s + 1                  (likewise Wo)

With cols (I*kh*kw, Ho*Wo*N) the patches of all images (see im2col.py: built
from a batch-last copy of x, one strided copy), W2 = weight.reshape(O, I*kh*kw)
and Y, dY as (O, Ho*Wo*N) matrices:

    forward    Y     = W2 @ cols + b                  (returned as an NCHW view: batch_last_as_nchw)
    backward   dW2   = dY @ cols.T                    db = dY @ 1
               dcols = W2.T @ dY  ->  dx by col2im (kh*kw slice-adds), or dx as a
               convolution of dY with the flipped kernel when that moves less memory

Three matrix products per step; no Python loop over samples or pixels, only
the kh*kw slice-adds. ``conv_naive.py`` holds the loop definition the tests
compare against.

``connections`` (O, I) booleans restrict which input maps feed each output
map, as in LeNet-5's C3 (``LENET5_C3_TABLE``); it is a fixed mask applied to
the weight in forward and to its gradient in backward.
"""

from __future__ import annotations

import numpy as np

from digitnet.nn import backend
from digitnet.nn import init as initialisers
from digitnet.nn.layers import im2col
from digitnet.nn.layers.base import Layer

# LeCun et al. 1998, table I: the S2 maps (of 6) each C3 map (of 16) reads.
_C3_INPUTS = ((0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
              (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
              (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5))
LENET5_C3_TABLE = [[i in inputs for i in range(6)] for inputs in _C3_INPUTS]  # (16, 6), 60 connections

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


def _pair(value, what, minimum=1):
    pair = (value, value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    ok = isinstance(pair, (tuple, list)) and len(pair) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum for v in pair)
    if not ok:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise ValueError(f"{what} must be {kind} int or pair, got {value!r}")
    return int(pair[0]), int(pair[1])


class Conv2D(Layer):
    """``Conv2D(in_channels, out_channels, kernel_size, stride=1, padding=0 | "same" | "valid")``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, init: str = "he_normal", connections=None):
        super().__init__()
        self.in_channels = _pair(in_channels, "in_channels")[0]
        self.out_channels = _pair(out_channels, "out_channels")[0]
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        kh, kw = self.kernel_size
        if padding == "same":
            if self.stride != (1, 1):
                raise ValueError(f"padding='same' needs stride 1, got stride={stride!r}")
            self.pads = ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)  # extra row/col at the end, as torch
        elif padding == "valid":
            self.pads = (0, 0), (0, 0)
        elif isinstance(padding, str):
            raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
        else:
            ph, pw = _pair(padding, "padding", minimum=0)
            self.pads = (ph, ph), (pw, pw)
            padding = [ph, pw] if isinstance(padding, (tuple, list)) else ph
        self.padding = padding  # as given, JSON-able: int, [ph, pw], "same" or "valid"
        self.use_bias = bool(bias)
        initialisers.get(init)  # ValueError naming an unknown initialiser
        self.init = init
        self.connections = None
        if connections is not None:
            table = np.asarray(connections)
            if table.shape != (self.out_channels, self.in_channels) or table.dtype.kind not in "bi":
                raise ValueError(f"connections must be a ({self.out_channels}, {self.in_channels}) table of booleans, "
                                 f"got shape {table.shape}")
            self.connections = table.astype(bool).tolist()
        self.needs_input_grad = True  # False skips dL/dx (a model's first layer); backward then returns None
        self._work = im2col.Workspace()

    # --- construction ---------------------------------------------------
    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3 or input_shape[0] != self.in_channels:
            raise ValueError(f"Conv2D expects inputs (N, {self.in_channels}, H, W), got per-sample shape {input_shape}")
        (pt, pb), (pl, pr) = self.pads
        hp, wp = input_shape[1] + pt + pb, input_shape[2] + pl + pr
        kh, kw = self.kernel_size
        if hp < kh or wp < kw:
            raise ValueError(f"kernel {self.kernel_size} is larger than the padded input {(hp, wp)}")
        return self.out_channels, (hp - kh) // self.stride[0] + 1, (wp - kw) // self.stride[1] + 1

    def init_params(self, rng):
        kh, kw = self.kernel_size
        shape = (self.out_channels, self.in_channels, kh, kw)
        if self.connections is None:
            self.params["weight"] = initialisers.initialise(self.init, shape, rng)
        else:  # each output map's fan-in counts only the input maps it is connected to
            mask = np.asarray(self.connections, dtype=float)
            rows = [initialisers.initialise(self.init, (1,) + shape[1:], rng, fan_in=max(int(m.sum()), 1) * kh * kw)
                    for m in mask]
            self.params["weight"] = np.concatenate(rows) * mask[:, :, None, None]
        if self.use_bias:
            self.params["bias"] = np.zeros(self.out_channels)

    def param_shapes(self, input_shape):
        weight = (self.out_channels, self.in_channels, *self.kernel_size)
        return {"weight": weight, **({"bias": (self.out_channels,)} if self.use_bias else {})}

    def _mask(self, dtype):
        if self.connections is None:
            return None
        return backend.to_device(np.asarray(self.connections, dtype=dtype)[:, :, None, None])

    # --- computation ----------------------------------------------------
    def _batch_last(self, x, name="xt"):
        """x (N, C, H, W) as a zero-padded batch-last image (C, Hp, Wp, N) in a reused buffer."""
        (pt, pb), (pl, pr) = self.pads
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
        """Patch matrix cols (I*kh*kw, Ho*Wo*N), rows ordered (i, u, v), columns (r, q, n)."""
        xt = self._batch_last(x)
        c, _, _, n = xt.shape
        kh, kw = self.kernel_size
        cols = self._work.get("cols", (c, kh, kw, ho, wo, n), x.dtype)
        backend.xp().copyto(cols, im2col.windows(xt, kh, kw, *self.stride, ho, wo))
        return cols.reshape(c * kh * kw, ho * wo * n)

    def _weight2d(self):
        weight = self.params["weight"]
        mask = self._mask(weight.dtype)
        if mask is not None:
            weight = weight * mask
        return weight.reshape(self.out_channels, -1)

    def forward(self, x, training=False):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2D expected input (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        xp = backend.xp()
        n = x.shape[0]
        per_sample = self.in_channels * self.kernel_size[0] * self.kernel_size[1] * x.shape[2] * x.shape[3]
        chunk = max(1, INFERENCE_COLS_BYTES // (per_sample * x.itemsize))
        if not training and n > chunk:
            parts = [self.forward(x[i:i + chunk]).transpose(1, 2, 3, 0) for i in range(0, n, chunk)]
            y = batch_last_as_nchw(xp.concatenate(parts, axis=3))
            self._x, self._cols = x, None  # a backward after a split forward recomputes the patches
            return y
        ho, wo, _, _ = self._geometry(x.shape)
        self._x = x
        self._cols = cols = self._im2col(x, ho, wo)
        y_cols = self._weight2d() @ cols  # (O, Ho*Wo*N), a fresh array: batch-last memory
        if self.use_bias:
            y_cols += self.params["bias"][:, None]
        return batch_last_as_nchw(y_cols.reshape(self.out_channels, ho, wo, n))

    def backward(self, dy):
        xp = backend.xp()
        x = self._x
        n, o = x.shape[0], self.out_channels
        ho, wo, hp, wp = self._geometry(x.shape)
        if dy.shape != (n, o, ho, wo):
            raise ValueError(f"Conv2D.backward expected dy of shape {(n, o, ho, wo)}, got {tuple(dy.shape)}")
        cols = self._cols if self._cols is not None else self._im2col(x, ho, wo)
        dy_t = dy.transpose(1, 2, 3, 0)  # a free view when dy has batch-last memory (from the next layers)
        if not dy_t.flags.c_contiguous:
            dy_t = im2col.to_batch_last(dy, self._work.get("dy_t", (o, ho, wo, n), dy.dtype))
        dy_cols = dy_t.reshape(o, ho * wo * n)
        if self.use_bias:  # a matrix-vector product beats dy.sum(axis=(0, 2, 3))
            self.grads["bias"] = dy_cols @ xp.ones(ho * wo * n, dtype=dy.dtype)
        d_weight = (cols @ dy_cols.T).T.reshape(self.params["weight"].shape)  # this order: up to 15% faster
        mask = self._mask(d_weight.dtype)
        self.grads["weight"] = d_weight if mask is None else d_weight * mask
        if not self.needs_input_grad:
            return None
        return self._input_grad(dy, dy_cols, x.shape, ho, wo, hp, wp)

    def input_grad_by_flipped_kernel(self, input_hw) -> bool:
        """Whether backward computes dx as a flipped-kernel convolution of dY (else by col2im).

        Possible for stride 1 with at least half the kernel as padding on every side; chosen when
        its patch matrix (O*kh*kw, H*W*N) is at most 1.5x col2im's (I*kh*kw, Ho*Wo*N).
        """
        kh, kw = self.kernel_size
        (pt, pb), (pl, pr) = self.pads
        h, w = input_hw
        _, ho, wo = self.compute_output_shape((self.in_channels, h, w))
        possible = self.stride == (1, 1) and min(kh - 1 - pt, kh - 1 - pb, kw - 1 - pl, kw - 1 - pr) >= 0
        return possible and self.out_channels * h * w <= 1.5 * self.in_channels * ho * wo

    def _input_grad(self, dy, dy_cols, x_shape, ho, wo, hp, wp):
        """dx (N, I, H, W), by whichever of two exact methods moves less memory.

        Stride 1 with at least half the kernel as padding ('same'): dx is itself a convolution of dY,
        padded by k-1-p, with the kernel flipped and in/out swapped: im2col + one product again.
        Otherwise dcols = W2.T @ dY is added back onto the padded image by col2im.
        """
        xp = backend.xp()
        n, c, h, w = x_shape
        o = self.out_channels
        kh, kw = self.kernel_size
        (pt, pb), (pl, pr) = self.pads
        full = (kh - 1 - pt, kh - 1 - pb, kw - 1 - pl, kw - 1 - pr)
        if self.input_grad_by_flipped_kernel((h, w)):
            dy_pad = self._work.get("dy_pad", (o, ho + full[0] + full[1], wo + full[2] + full[3], n), dy.dtype,
                                    zeros=True)
            dy_pad[:, full[0]:full[0] + ho, full[2]:full[2] + wo, :] = dy_cols.reshape(o, ho, wo, n)
            dy_patches = self._work.get("dy_patches", (o, kh, kw, h, w, n), dy.dtype)
            xp.copyto(dy_patches, im2col.windows(dy_pad, kh, kw, 1, 1, h, w))
            flipped = self._weight2d().reshape(o, c, kh, kw)[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
            dx_t = xp.ascontiguousarray(flipped).reshape(c, -1) @ dy_patches.reshape(o * kh * kw, -1)
            dx_t = dx_t.reshape(c, h, w, n)
        else:
            dcols = (self._weight2d().T @ dy_cols).reshape(c, kh, kw, ho, wo, n)
            dx_t = self._work.get("dx_t", (c, hp, wp, n), dy.dtype)
            dx_t.fill(0)
            im2col.col2im_add(dcols, dx_t, *self.stride)
            dx_t = dx_t[:, pt:pt + h, pl:pl + w, :].copy()  # out of the reused buffer
        return batch_last_as_nchw(dx_t)

    # --- description ----------------------------------------------------
    def get_config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": self.padding,
                "bias": self.use_bias, "init": self.init, "connections": self.connections}

    def n_params(self):
        """Trainable weights: masked-out connections are not counted."""
        if self.connections is None:
            return super().n_params()
        kh, kw = self.kernel_size
        return int(np.sum(self.connections)) * kh * kw + (self.out_channels if self.use_bias else 0)

