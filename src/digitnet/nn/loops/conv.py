"""2-D convolution written as plain loops: slow, short, obviously correct.

This is the definition the reference and fast ``Conv2D`` must agree with (the
tests use it as an oracle) and the version to read first when learning how a
convolution works. ``Conv2D`` at the end is the loops tier's layer: the
reference layer's constructor and parameters, these loops for the numbers.
Shapes follow PyTorch: x (N, I, H, W), weight (O, I, kh, kw).

Forward (cross-correlation, as in every deep-learning library), with x
zero-padded by ``padding`` on each side:

    y[n, o, r, c] = b[o] + sum_{i, u, v} w[o, i, u, v] * xpad[n, i, r*s + u, c*s + v]

    Ho = (H + pad_top + pad_bottom - kh) // s + 1      (likewise Wo; s may be a pair (sh, sw))

Backward: every product above contributes to three gradients,

    dw[o, i, u, v]             += dy[n, o, r, c] * xpad[n, i, r*s + u, c*s + v]
    dxpad[n, i, r*s+u, c*s+v]  += dy[n, o, r, c] * w[o, i, u, v]
    db[o]                      += dy[n, o, r, c]

and dx is dxpad with the padding cut off.
"""

from __future__ import annotations

import numpy as np

from digitnet.nn.layers import conv as reference


def _strides(stride):
    """(sh, sw) from an int or a pair."""
    return (stride, stride) if isinstance(stride, int) else tuple(stride)


def _pads(padding):
    """((top, bottom), (left, right)) from an int or such a nested pair."""
    if isinstance(padding, int):
        return (padding, padding), (padding, padding)
    (top, bottom), (left, right) = padding
    return (top, bottom), (left, right)


def conv2d_forward_naive(x, weight, bias=None, stride=1, padding=0):
    """y (N, O, Ho, Wo) for x (N, I, H, W), weight (O, I, kh, kw), bias (O,) or None."""
    x, weight = np.asarray(x), np.asarray(weight)
    (pt, pb), (pl, pr) = _pads(padding)
    xpad = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    n_batch, n_in, hp, wp = xpad.shape
    n_out, _, kh, kw = weight.shape
    sh, sw = _strides(stride)
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    y = np.zeros((n_batch, n_out, ho, wo), dtype=np.result_type(x, weight))
    for n in range(n_batch):
        for o in range(n_out):
            for r in range(ho):
                for c in range(wo):
                    total = 0.0 if bias is None else bias[o]
                    for i in range(n_in):
                        for u in range(kh):
                            for v in range(kw):
                                total += weight[o, i, u, v] * xpad[n, i, r * sh + u, c * sw + v]
                    y[n, o, r, c] = total
    return y


def conv2d_backward_naive(x, weight, dy, stride=1, padding=0):
    """(dx, dweight, dbias) for the forward above, given dL/dy (N, O, Ho, Wo)."""
    x, weight, dy = np.asarray(x), np.asarray(weight), np.asarray(dy)
    (pt, pb), (pl, pr) = _pads(padding)
    xpad = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    dxpad = np.zeros_like(xpad, dtype=np.result_type(x, weight, dy))
    dweight = np.zeros(weight.shape, dtype=dxpad.dtype)
    dbias = np.zeros(weight.shape[0], dtype=dxpad.dtype)
    n_batch, n_in = x.shape[:2]
    n_out, _, kh, kw = weight.shape
    _, _, ho, wo = dy.shape
    sh, sw = _strides(stride)
    for n in range(n_batch):
        for o in range(n_out):
            for r in range(ho):
                for c in range(wo):
                    g = dy[n, o, r, c]
                    dbias[o] += g
                    for i in range(n_in):
                        for u in range(kh):
                            for v in range(kw):
                                rr, cc = r * sh + u, c * sw + v
                                dweight[o, i, u, v] += g * xpad[n, i, rr, cc]
                                dxpad[n, i, rr, cc] += g * weight[o, i, u, v]
    h, w = x.shape[2:]
    dx = dxpad[:, :, pt : pt + h, pl : pl + w]
    return dx, dweight, dbias


class Conv2D(reference.Conv2D):
    """The reference Conv2D computed by the loops above (same constructor, parameters, config)."""

    tier = "loops"

    def forward(self, x, training=False):
        self.check_input(x)
        self._x = x
        bias = self.params["bias"] if self.use_bias else None
        return conv2d_forward_naive(x, self.masked_weight(), bias, self.stride, self.pads)

    def backward(self, dy):
        dx, d_weight, d_bias = conv2d_backward_naive(self._x, self.masked_weight(), dy, self.stride, self.pads)
        self.grads["weight"] = d_weight * self.connection_mask(d_weight.dtype)
        if self.use_bias:
            self.grads["bias"] = d_bias
        return dx if self.needs_input_grad else None
