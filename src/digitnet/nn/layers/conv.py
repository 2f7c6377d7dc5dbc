"""2-D convolution as im2col and one matrix product (the reference tier).

    x (N, I, H, W)   weight (O, I, kh, kw)   bias (O,)   y (N, O, Ho, Wo)
    y[n, o, r, q] = b[o] + sum_{i,u,v} w[o, i, u, v] xpad[n, i, r*sh + u, q*sw + v]
    Ho = (H + pad_top + pad_bottom - kh) // sh + 1                  (likewise Wo)

im2col lays every patch out as one row, cols[(n, r, q), (i, u, v)] =
xpad[n, i, r*sh + u, q*sw + v], a (N*Ho*Wo, I*kh*kw) matrix; with
W2 = weight.reshape(O, I*kh*kw) and Y, dY as (N*Ho*Wo, O) matrices:

    forward    Y     = cols @ W2.T + b
    backward   dW2   = dY.T @ cols          db = sum over the rows of dY
               dcols = dY @ W2              dxpad[n, i, r*sh + u, q*sw + v] += dcols[(n, r, q), (i, u, v)]
               dx    = dxpad without its padding                                        (col2im)

``connections`` (O, I) booleans restrict which input maps feed each output
map, as in LeNet-5's C3 (``LENET5_C3_TABLE``): a fixed 0/1 mask multiplied
into the weight in forward and into its gradient in backward.

The loop definition is digitnet/nn/loops/conv.py; the tuned version (same
numbers) is digitnet/nn/fast/conv.py.
"""

from __future__ import annotations

import numpy as np

from digitnet.nn import checks, init
from digitnet.nn.layers.base import Layer

# LeCun et al. 1998, table I: the S2 maps (of 6) each C3 map (of 16) reads.
_C3_INPUTS = (
    (0, 1, 2),
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 5),
    (4, 5, 0),
    (5, 0, 1),
    (0, 1, 2, 3),
    (1, 2, 3, 4),
    (2, 3, 4, 5),
    (3, 4, 5, 0),
    (4, 5, 0, 1),
    (5, 0, 1, 2),
    (0, 1, 3, 4),
    (1, 2, 4, 5),
    (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)
LENET5_C3_TABLE = [[i in inputs for i in range(6)] for inputs in _C3_INPUTS]  # (16, 6), 60 connections


def im2col(xpad, kh, kw, sh, sw):
    """cols (N*Ho*Wo, I*kh*kw) of a padded image batch xpad (N, I, Hp, Wp)."""
    windows = np.lib.stride_tricks.sliding_window_view(xpad, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    n, i, ho, wo = windows.shape[:4]  # windows[n, i, r, q, u, v] = xpad[n, i, r*sh + u, q*sw + v]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, i * kh * kw)


def col2im(dcols, xpad_shape, kh, kw, sh, sw, ho, wo):
    """dxpad (N, I, Hp, Wp): each patch row of dcols added back where im2col took it from."""
    n, i = xpad_shape[:2]
    patches = dcols.reshape(n, ho, wo, i, kh, kw).transpose(0, 3, 1, 2, 4, 5)  # (N, I, Ho, Wo, kh, kw)
    dxpad = np.zeros(xpad_shape, dtype=dcols.dtype)
    for u in range(kh):  # kh*kw slice-adds, one per kernel offset
        for v in range(kw):
            dxpad[:, :, u : u + sh * (ho - 1) + 1 : sh, v : v + sw * (wo - 1) + 1 : sw] += patches[..., u, v]
    return dxpad


class Conv2D(Layer):
    """``Conv2D(in_channels, out_channels, kernel_size, stride=1, padding=0 | "same" | "valid")``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        bias: bool = True,
        weight_init: str = "he_normal",
        connections=None,
    ):
        super().__init__()
        self.in_channels = checks.positive_int(in_channels, "in_channels")
        self.out_channels = checks.positive_int(out_channels, "out_channels")
        self.kernel_size = checks.int_pair(kernel_size, "kernel_size")
        self.stride = checks.int_pair(stride, "stride")
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
            ph, pw = checks.int_pair(padding, "padding", minimum=0)
            self.pads = (ph, ph), (pw, pw)
            padding = [ph, pw] if isinstance(padding, (tuple, list)) else ph
        self.padding = padding  # as given, JSON-able: int, [ph, pw], "same" or "valid"
        self.use_bias = bool(bias)
        init.get(weight_init)  # ValueError naming an unknown initialiser
        self.weight_init = weight_init
        self.connections = None
        if connections is not None:
            table = np.asarray(connections)
            if table.shape != (self.out_channels, self.in_channels) or table.dtype.kind not in "bi":
                raise ValueError(
                    f"connections must be a ({self.out_channels}, {self.in_channels}) table of booleans, "
                    f"got shape {table.shape}"
                )
            self.connections = table.astype(bool).tolist()

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
            self.params["weight"] = init.initialise(self.weight_init, shape, rng)
        else:  # each output map's fan-in counts only the input maps it is connected to
            mask = np.asarray(self.connections, dtype=float)
            rows = [
                init.initialise(self.weight_init, (1,) + shape[1:], rng, fan_in=max(int(m.sum()), 1) * kh * kw)
                for m in mask
            ]
            self.params["weight"] = np.concatenate(rows) * mask[:, :, None, None]
        if self.use_bias:
            self.params["bias"] = np.zeros(self.out_channels)

    def param_shapes(self, input_shape):
        weight = (self.out_channels, self.in_channels, *self.kernel_size)
        return {"weight": weight, **({"bias": (self.out_channels,)} if self.use_bias else {})}

    def check_input(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2D expected input (N, {self.in_channels}, H, W), got {tuple(x.shape)}")

    def connection_mask(self, dtype):
        """(O, I, 1, 1) ones where an input map feeds an output map, else zeros; 1 without a table."""
        if self.connections is None:
            return 1
        return np.asarray(self.connections, dtype=dtype)[:, :, None, None]

    def masked_weight(self):
        """The weight with unconnected (output, input) map pairs zeroed."""
        return self.params["weight"] * self.connection_mask(self.params["weight"].dtype)

    # --- computation ----------------------------------------------------
    def forward(self, x, training=False):
        self.check_input(x)
        (pt, pb), (pl, pr) = self.pads
        xpad = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
        _, ho, wo = self.compute_output_shape(x.shape[1:])
        cols = im2col(xpad, *self.kernel_size, *self.stride)
        y = cols @ self.masked_weight().reshape(self.out_channels, -1).T  # (N*Ho*Wo, O)
        if self.use_bias:
            y = y + self.params["bias"]
        self._x_shape, self._xpad_shape, self._cols = x.shape, xpad.shape, cols
        return y.reshape(x.shape[0], ho, wo, self.out_channels).transpose(0, 3, 1, 2)

    def backward(self, dy):
        n, _, h, w = self._x_shape
        _, ho, wo = dy.shape[1:]
        dy_rows = dy.transpose(0, 2, 3, 1).reshape(n * ho * wo, self.out_channels)
        d_weight = (dy_rows.T @ self._cols).reshape(self.params["weight"].shape)
        self.grads["weight"] = d_weight * self.connection_mask(d_weight.dtype)
        if self.use_bias:
            self.grads["bias"] = dy_rows.sum(axis=0)
        if not self.needs_input_grad:
            return None
        dcols = dy_rows @ self.masked_weight().reshape(self.out_channels, -1)
        dxpad = col2im(dcols, self._xpad_shape, *self.kernel_size, *self.stride, ho, wo)
        (pt, _), (pl, _) = self.pads
        return dxpad[:, :, pt : pt + h, pl : pl + w]

    # --- description ----------------------------------------------------
    def get_config(self):
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": self.padding,
            "bias": self.use_bias,
            "weight_init": self.weight_init,
            "connections": self.connections,
        }

    def n_params(self):
        """Trainable weights: masked-out connections are not counted."""
        if self.connections is None:
            return super().n_params()
        kh, kw = self.kernel_size
        return int(np.sum(self.connections)) * kh * kw + (self.out_channels if self.use_bias else 0)
