"""Would Winograd's F(2x2, 3x3) lift the cnn's ceiling? Its forward for a 'same' 3x3 convolution, timed
against the fast Conv2D's forward (tried, not built into the fast tier: docs/speed.md).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/winograd_lab.py [--threads 2] [--calls 20]

F(2x2, 3x3) computes each 2x2 block of outputs from a 4x4 tile d of the padded input (tiles overlap by 2)
with 16 multiplications per (input, output) channel pair instead of 36:

    V = B^T d B (per input channel)    U = G g G^T (per kernel g)    Y = A^T [sum_c U_oc * V_c] A

so the products become 16 batched (O, C) @ (C, tiles) ones with 2.25x fewer multiply-adds than the
patch-matrix product, plus the input and output transforms (here plain NumPy passes over strided views).
The table shows the whole Winograd forward, its 16 products alone, and the fast tier's forward.
"""

from __future__ import annotations

import os

from digitnet.bench import kernel_timing_args

ARGS = kernel_timing_args(__doc__.splitlines()[0], threads=2, calls=20)

import numpy as np  # noqa: E402  (after the thread settings)

from digitnet.bench import blas_kernels, latency_ms  # noqa: E402
from digitnet.nn.fast.conv import Conv2D  # noqa: E402

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])


def kernel_transform(weight):
    """U (16, O, C) = G g G^T of every 3x3 kernel g of weight (O, C, 3, 3), float32."""
    o, c = weight.shape[:2]
    return np.einsum("au,ocuv,bv->aboc", G, weight, G).reshape(16, o, c).astype(np.float32)


def input_transform(xt, th, tw):
    """V (16, C, th*tw*N) = B^T d B of every 4x4 tile d of the padded batch-last image xt (C, Hp, Wp, N),
    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], first along the rows, then the columns."""
    c, _, wp, n = xt.shape
    r = [xt[:, a : a + 2 * th : 2] for a in range(4)]  # tile row a of every tile: (C, th, Wp, N) views
    rows = np.empty((4, c, th, wp, n), np.float32)
    np.subtract(r[0], r[2], out=rows[0])
    np.add(r[1], r[2], out=rows[1])
    np.subtract(r[2], r[1], out=rows[2])
    np.subtract(r[1], r[3], out=rows[3])
    q = [rows[:, :, :, b : b + 2 * tw : 2] for b in range(4)]
    v = np.empty((4, 4, c, th, tw, n), np.float32)
    np.subtract(q[0], q[2], out=v[:, 0])
    np.add(q[1], q[2], out=v[:, 1])
    np.subtract(q[2], q[1], out=v[:, 2])
    np.subtract(q[1], q[3], out=v[:, 3])
    return v.reshape(16, c, th * tw * n)


def output_transform(m, o, th, tw, n):
    """Y (O, 2th, 2tw, N) = A^T M A of the products M (16, O, tiles), A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]."""
    m = m.reshape(4, 4, o, th, tw, n)
    y = np.empty((o, th, 2, tw, 2, n), np.float32)
    for a, t in enumerate((m[0] + m[1] + m[2], m[1] - m[2] - m[3])):
        np.add(t[0] + t[1], t[2], out=y[:, :, a, :, 0])
        np.subtract(t[1] - t[2], t[3], out=y[:, :, a, :, 1])
    return y.reshape(o, 2 * th, 2 * tw, n)


def winograd_forward(x, u):
    """Y (O, H, W, N), batch last, of a 'same' 3x3 convolution of x (N, C, H, W), H and W even."""
    n, c, h, w = x.shape
    xt = np.zeros((c, h + 2, w + 2, n), np.float32)
    xt[:, 1:-1, 1:-1] = x.transpose(1, 2, 3, 0)
    th, tw = h // 2, w // 2
    return output_transform(np.matmul(u, input_transform(xt, th, tw)), u.shape[1], th, tw, n)


def main() -> int:
    rng = np.random.default_rng(0)
    kernels = ", ".join(f"{k.get('internal_api')} {k.get('architecture', '')}" for k in blas_kernels())
    print(f"threads={ARGS.threads} kernels: {kernels} load={os.getloadavg()[0]:.1f}")
    print(f"  {'layer, batch 64 (median ms)':26s} {'fast tier':>9s} {'Winograd':>9s} {'its products':>12s}  rel. diff")
    for c, o, hw in ((32, 32, 28), (32, 64, 14), (64, 64, 14)):
        layer = Conv2D(c, o, 3, padding="same", bias=False)
        layer.build((c, hw, hw), rng, np.float32)
        x = np.ascontiguousarray(rng.standard_normal((c, hw, hw, 64), dtype=np.float32)).transpose(3, 0, 1, 2)
        u = kernel_transform(layer.params["weight"].astype(np.float64))
        fast = layer.forward(x, training=True).transpose(1, 2, 3, 0)
        diff = np.abs(winograd_forward(x, u) - fast).max() / np.abs(fast).max()
        v = input_transform(np.zeros((c, hw + 2, hw + 2, 64), np.float32), hw // 2, hw // 2)
        times = [
            latency_ms(lambda: layer.forward(x, training=True), ARGS.calls),
            latency_ms(lambda: winograd_forward(x, u), ARGS.calls),
            latency_ms(lambda: np.matmul(u, v), ARGS.calls),
        ]
        print(f"  {c:>3d} -> {o:<3d} {hw}x{hw}{'':12s} {times[0]:9.2f} {times[1]:9.2f} {times[2]:12.2f}  {diff:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
