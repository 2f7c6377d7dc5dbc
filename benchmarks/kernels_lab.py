"""Kernel lab: where a training step's time goes, and candidate fast-tier kernels timed against today's.

    python benchmarks/kernels_lab.py profile [--models cnn,lenet5] [--threads 2] [--steps 30]
    python benchmarks/kernels_lab.py try [--only NAME,...] [--threads 2] [--rounds 15]
    python benchmarks/kernels_lab.py ab --before OTHER/src [--models cnn,lenet5] [--threads 1] [--steps 30]

``profile``: one zoo model's training step (batch 64, float32, Adam) split per layer into forward and
backward, plus the loss and the optimiser, as medians over ``--steps`` steps (perf_counter around each
layer call; the sum is checked against the whole step).

``try``: every experiment is a pair of standalone functions, today's implementation and a candidate, on
the shapes of the cnn/lenet5 layers. They are timed alternately (one call of each per round, so both see
the same machine load), medians over ``--rounds`` rounds, and their outputs compared (max abs difference,
float32). A candidate is worth porting only if it wins alone, measured here.
``ab``: the training step of zoo models in this tree against another source tree (``--before``, e.g. an
export of an earlier commit: ``git archive COMMIT src | tar -x -C /tmp/before``), each step timing in
its own process, the trees alternating ``--repeats`` times; medians of CPU and wall ms per step.
Run with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (see benchmarks/train_throughput.py).
"""
# ruff: noqa: B023  (the timed lambdas run inside their loop iteration)

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["profile", "try", "ab", "step"])
    parser.add_argument("--before", help="ab: the other tree's src folder")
    parser.add_argument("--repeats", type=int, default=3, help="ab: alternating runs per tree")
    parser.add_argument("--models", default="cnn,lenet5")
    parser.add_argument("--only", help="comma-separated experiment names (try)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--clock",
        choices=["cpu", "wall"],
        default="cpu",
        help="cpu: process CPU time (robust on a shared machine; counts every thread, spinning "
        "BLAS threads included: use --threads 1), wall: perf_counter",
    )
    return parser.parse_args(argv)


ARGS = parse_args()
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402  (after the thread settings)

BATCH = 64
clock = time.process_time if ARGS.clock == "cpu" else time.perf_counter


# --------------------------------------------------------------------------------------------- profile
def profile(name, steps):
    from digitnet import zoo
    from digitnet.nn import Adam

    model = zoo.build(name, seed=0)
    model.compile(optimizer=Adam(lr=1e-3), loss="cross_entropy")
    rng = np.random.default_rng(0)
    x = model._device_batch(rng.random((BATCH, 1, 28, 28), dtype=np.float32))
    y = rng.integers(0, 10, BATCH)
    layers = model.layers
    fwd = {i: [] for i in range(len(layers))}
    bwd = {i: [] for i in range(len(layers))}
    extra = {"loss": [], "optimiser": [], "step": []}
    for step in range(steps + 3):
        t_step = clock()
        a = x
        for i, layer in enumerate(layers):
            t0 = clock()
            a = layer.forward(a, training=True)
            fwd[i].append(clock() - t0)
        t0 = clock()
        model.loss(a, y)
        d = model.loss.grad()
        extra["loss"].append(clock() - t0)
        first = next(i for i, layer in enumerate(layers) if layer.params)  # leading layers get no dx
        for i in range(len(layers) - 1, -1, -1):
            if i < first:
                bwd[i].append(0.0)
                continue
            layers[i].needs_input_grad = i > first  # as Sequential.backward(input_grad=False) in train_step
            t0 = clock()
            d = layers[i].backward(d)
            bwd[i].append(clock() - t0)
            layers[i].needs_input_grad = True
        t0 = clock()
        model.optimizer.step(model.parameters())
        extra["optimiser"].append(clock() - t0)
        extra["step"].append(clock() - t_step)
        if step < 3:  # warm-up: buffers
            for series in (*fwd.values(), *bwd.values(), *extra.values()):
                series.clear()
    med = lambda s: 1e3 * statistics.median(s)  # noqa: E731
    print(
        f"{name}: median ms ({ARGS.clock} clock) per training step over {steps} steps (batch {BATCH}, "
        f"{ARGS.threads} threads)"
    )
    print(f"  {'layer':34s} {'forward':>8s} {'backward':>8s}")
    total = 0.0
    for i, layer in enumerate(layers):
        f, b = med(fwd[i]), med(bwd[i])
        total += f + b
        shape = "x".join(str(s) for s in layer.output_shape)
        print(f"  {i:2d} {type(layer).__name__:14s} {shape:16s} {f:8.3f} {b:8.3f}")
    for key in ("loss", "optimiser"):
        total += med(extra[key])
        print(f"  {key:34s} {med(extra[key]):8.3f}")
    print(f"  {'sum of parts':34s} {total:8.3f}   whole step {med(extra['step']):.3f}")


# --------------------------------------------------------------------------------------------- try
EXPERIMENTS = {}


def experiment(fn):
    EXPERIMENTS[fn.__name__] = fn
    return fn


def compare(label, current, candidate, rounds, check=None):
    """Alternate ``current()`` and ``candidate()``; print medians (ms), the speed-up and the max difference."""
    out_a, out_b = current(), candidate()  # warm-up (buffers) and outputs
    for _ in range(2):
        current(), candidate()
    ta, tb = [], []
    for _ in range(rounds):
        t0 = clock()
        current()
        ta.append(clock() - t0)
        t0 = clock()
        candidate()
        tb.append(clock() - t0)
    a, b = 1e3 * statistics.median(ta), 1e3 * statistics.median(tb)
    diff = check(out_a, out_b) if check else _max_diff(out_a, out_b)
    print(f"  {label:58s} {a:8.3f} {b:8.3f}  x{a / b:5.2f}  diff {diff:.2e}", flush=True)
    return a, b


def _max_diff(a, b):
    if isinstance(a, (tuple, list)):
        return max(_max_diff(p, q) for p, q in zip(a, b))
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


# --- conv: im2col + one product (today) vs shifted-view accumulation --------------------------------
def _sgemm():
    """scipy's Fortran sgemm (scipy.linalg.cython_blas) called through ctypes: strided operands (any leading
    dimension) and C += A @ B in place, which neither NumPy's matmul nor scipy.linalg.blas (copies
    non-contiguous arrays) offer."""
    import ctypes

    from scipy.linalg import cython_blas

    capsule = cython_blas.__pyx_capi__["sgemm"]
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    name = ctypes.pythonapi.PyCapsule_GetName
    name.restype, name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    address = get(capsule, name(capsule))
    p_int, p_f = ctypes.POINTER(ctypes.c_int), ctypes.c_void_p
    proto = ctypes.CFUNCTYPE(
        None, ctypes.c_char_p, ctypes.c_char_p, p_int, p_int, p_int, p_f, p_f, p_int, p_f, p_int, p_f, p_f, p_int
    )
    fn = proto(address)
    one, zero = np.ones(1, np.float32), np.zeros(1, np.float32)
    ints = [ctypes.c_int() for _ in range(6)]

    def gemm(a, b, c, accumulate):
        """c (M, N) [+]= a (M, K) @ b (K, N); all float32 row-major views with unit inner stride."""
        m, k = a.shape
        n = b.shape[1]
        # row-major C = A B is column-major C^T = B^T A^T: Fortran sgemm('N', 'N', n, m, k, B, ldb, A, lda, C, ldc)
        for box, v in zip(ints, (n, m, k, b.strides[0] // 4, a.strides[0] // 4, c.strides[0] // 4)):
            box.value = v
        fn(
            b"N",
            b"N",
            ints[0],
            ints[1],
            ints[2],
            one.ctypes.data,
            b.ctypes.data,
            ints[3],
            a.ctypes.data,
            ints[4],
            (one if accumulate else zero).ctypes.data,
            c.ctypes.data,
            ints[5],
        )

    return gemm


def _conv_case(c, o, hw, rng):
    x = rng.standard_normal((c, hw, hw, BATCH), dtype=np.float32)  # batch-last, as Conv2D's outputs
    w = rng.standard_normal((o, c, 3, 3), dtype=np.float32) * 0.1
    return x, w


def conv_im2col(x, w, work):
    """Today: padded batch-last copy, im2col copy (C*9, H*W*N), one product."""
    c, h, wd, n = x.shape
    o = w.shape[0]
    xt = work.setdefault("xt", np.zeros((c, h + 2, wd + 2, n), np.float32))
    xt[:, 1:-1, 1:-1, :] = x
    cols = work.setdefault("cols", np.empty((c, 3, 3, h, wd, n), np.float32))
    bc, bh, bw, bn = xt.strides
    np.copyto(cols, np.lib.stride_tricks.as_strided(xt, (c, 3, 3, h, wd, n), (bc, bh, bw, bh, bw, bn)))
    return (w.reshape(o, -1) @ cols.reshape(c * 9, -1)).reshape(o, h, wd, n)


def conv_shifted(x, w, work, gemm):
    """9 products W[:, :, u, v] (O, C) @ shifted flat view of the padded image, accumulated in place (beta=1)
    into a padded-width output (O, H, Wp, N); the valid (O, H, W, N) part copied out."""
    c, h, wd, n = x.shape
    o = w.shape[0]
    hp, wp = h + 2, wd + 2
    xt = work.setdefault("xt2", np.zeros((c, hp + 1, wp, n), np.float32))  # one spare row: the last shift's tail
    xt[:, 1 : h + 1, 1:-1, :] = x
    flat = xt.reshape(c, -1)
    length = h * wp * n
    y = work.setdefault("ypad", np.empty((o, h, wp, n), np.float32))
    y2 = y.reshape(o, length)
    wk = work.setdefault("wk", np.empty((3, 3, o, c), np.float32))
    np.copyto(wk, w.transpose(2, 3, 0, 1))
    for u in range(3):
        for v in range(3):
            off = (u * wp + v) * n
            gemm(wk[u, v], flat[:, off : off + length], y2, accumulate=(u or v))
    return y[:, :, :wd, :].copy()


@experiment
def conv_forward(rounds):
    rng = np.random.default_rng(0)
    gemm = _sgemm()
    for c, o, hw in ((32, 32, 28), (32, 64, 14), (64, 64, 14)):
        x, w = _conv_case(c, o, hw, rng)
        wa, wb = {}, {}
        compare(
            f"conv {c}->{o} {hw}x{hw} forward: im2col | shifted sgemm",
            lambda: conv_im2col(x, w, wa),
            lambda: conv_shifted(x, w, wb, gemm),
            rounds,
        )
        cols = conv_im2col(x, w, wa) * 0
        w2 = w.reshape(o, -1)
        colsm = wa["cols"].reshape(c * 9, -1)
        compare(
            "  the product alone | im2col copy alone",
            lambda: w2 @ colsm,
            lambda: np.copyto(
                wa["cols"],
                np.lib.stride_tricks.as_strided(
                    wa["xt"], wa["cols"].shape, wa["xt"].strides[:3] + wa["xt"].strides[1:]
                ),
            ),
            rounds,
            check=lambda a, b: 0.0,
        )
        del cols


# --- batch norm + ReLU -------------------------------------------------------------------------------
def _bl(c, hw, rng):
    """An (N, C, H, W) view of batch-last memory, as Conv2D hands it to the next layer."""
    return rng.standard_normal((c, hw, hw, BATCH), dtype=np.float32).transpose(3, 0, 1, 2)


def _layers(*kinds):
    from digitnet.nn.layers import BatchNorm2D, MaxPool2D, ReLU

    made = {"bn": BatchNorm2D, "relu": ReLU, "pool": MaxPool2D}
    return [made[k](*args) for k, *args in kinds]


def _built(layer, shape):
    layer.build(shape) if hasattr(layer, "build") else None
    return layer


def bn_relu_today(bn, relu, x, dy):
    y = relu.forward(bn.forward(x, training=True), training=True)
    return y, bn.backward(relu.backward(dy))


class FusedBNReLU:
    """Training forward y = max((x - mu) * gamma/std + beta, 0) and its backward, in batch-last rows (C, M).

    forward:  mean = rows @ 1 / m (BLAS)  xc = x - mean  var = <xc, xc> / m (BLAS)
              y = xc * s; y += beta; max(y, 0, out=y)                     (s = gamma / std)
    backward: dz = dy * [y > 0]  db = dz @ 1  dxc = <dz, xc>  (BLAS)
              dx = dz * s - xc * (s * dxc / (m var+eps)) - s * db / m     (in place in dz)
    """

    def __init__(self, gamma, beta, eps=1e-5):
        self.gamma, self.beta, self.eps = gamma, beta, eps
        self.work = {}

    def forward(self, x):
        c = x.shape[1]
        rows = x.transpose(1, 2, 3, 0).reshape(c, -1)
        m = rows.shape[1]
        ones = self.work.get("ones")
        if ones is None or ones.shape[0] != m:
            ones = self.work["ones"] = np.ones(m, np.float32)
        mean = rows @ ones
        mean /= m
        xc = rows - mean[:, None]
        var = (xc[:, None, :] @ xc[:, :, None]).reshape(-1) / m
        inv = 1.0 / np.sqrt(var + self.eps)
        s = (self.gamma * inv).astype(np.float32)
        y = xc * s[:, None]
        y += self.beta[:, None]
        np.maximum(y, 0, out=y)
        self.xc, self.y, self.inv, self.s, self.m = xc, y, inv, s, m
        return y.reshape(x.shape[1:] + x.shape[:1]).transpose(3, 0, 1, 2)

    def backward(self, dy):
        c = dy.shape[1]
        dyr = dy.transpose(1, 2, 3, 0).reshape(c, -1)
        dz = dyr * (self.y > 0)
        db = dz @ self.work["ones"]
        dxc = (dz[:, None, :] @ self.xc[:, :, None]).reshape(-1)
        k1 = (self.s * self.inv * self.inv * dxc / self.m).astype(np.float32)
        k2 = (self.s * db / self.m).astype(np.float32)
        dz *= self.s[:, None]
        dz -= k2[:, None]
        t = self.xc * k1[:, None]
        dz -= t
        return dz.reshape(dy.shape[1:] + dy.shape[:1]).transpose(3, 0, 1, 2)


class BlockedBNReLU(FusedBNReLU):
    """FusedBNReLU on groups of channels whose rows fit in L2: every pass after the first read of a group
    finds it in cache (statistics are per channel, so each group is complete on its own)."""

    def __init__(self, gamma, beta, eps=1e-5, block_bytes=1 << 19):
        super().__init__(gamma, beta, eps)
        self.block_bytes = block_bytes

    def forward(self, x):
        c = x.shape[1]
        rows = x.transpose(1, 2, 3, 0).reshape(c, -1)
        m = rows.shape[1]
        ones = self.work.get("ones")
        if ones is None or ones.shape[0] != m:
            ones = self.work["ones"] = np.ones(m, np.float32)
        xc, y = np.empty_like(rows), np.empty_like(rows)
        inv, s = np.empty(c, np.float32), np.empty(c, np.float32)
        step = max(1, self.block_bytes // (4 * m))
        for i in range(0, c, step):
            j = min(c, i + step)
            xb, xcb, yb = rows[i:j], xc[i:j], y[i:j]
            mean = xb @ ones
            mean /= m
            np.subtract(xb, mean[:, None], out=xcb)
            var = (xcb[:, None, :] @ xcb[:, :, None]).reshape(-1) / m
            inv[i:j] = 1.0 / np.sqrt(var + self.eps)
            s[i:j] = self.gamma[i:j] * inv[i:j]
            np.multiply(xcb, s[i:j, None], out=yb)
            yb += self.beta[i:j, None]
            np.maximum(yb, 0, out=yb)
        self.xc, self.y, self.inv, self.s, self.m = xc, y, inv, s, m
        return y.reshape(x.shape[1:] + x.shape[:1]).transpose(3, 0, 1, 2)

    def backward(self, dy):
        c = dy.shape[1]
        dyr = dy.transpose(1, 2, 3, 0).reshape(c, -1)
        m = self.m
        dx = np.empty_like(dyr)
        t = np.empty((max(1, self.block_bytes // (4 * m)), m), np.float32)
        step = t.shape[0]
        ones = self.work["ones"]
        for i in range(0, c, step):
            j = min(c, i + step)
            dz, xcb, tb = dx[i:j], self.xc[i:j], t[: j - i]
            np.multiply(dyr[i:j], self.y[i:j] > 0, out=dz)
            db = dz @ ones
            dxc = (dz[:, None, :] @ xcb[:, :, None]).reshape(-1)
            s, inv = self.s[i:j], self.inv[i:j]
            k1 = s * inv * inv * dxc / m
            k2 = s * db / m
            dz *= s[:, None]
            dz -= k2[:, None]
            np.multiply(xcb, k1[:, None], out=tb)
            dz -= tb
        return dx.reshape(dy.shape[1:] + dy.shape[:1]).transpose(3, 0, 1, 2)


@experiment
def bn_relu(rounds):
    from digitnet.nn.layers import BatchNorm2D, ReLU

    rng = np.random.default_rng(0)
    for c, hw in ((32, 28), (64, 14)):
        x, dy = _bl(c, hw, rng), _bl(c, hw, rng)
        bn, relu = BatchNorm2D(c), ReLU()
        bn.init_params(rng)
        bn.params = {k: v.astype(np.float32) for k, v in bn.params.items()}
        bn.buffers = {k: v.astype(np.float32) for k, v in bn.buffers.items()}
        fused = FusedBNReLU(bn.params["gamma"], bn.params["beta"])
        compare(
            f"BN2D({c})+ReLU {hw}x{hw} fwd: layers | fused",
            lambda: relu.forward(bn.forward(x, True), True),
            lambda: fused.forward(x),
            rounds,
        )
        relu.forward(bn.forward(x, True), True), fused.forward(x)
        compare(
            f"BN2D({c})+ReLU {hw}x{hw} bwd: layers | fused",
            lambda: bn.backward(relu.backward(dy)),
            lambda: fused.backward(dy),
            rounds,
        )
        blocked = BlockedBNReLU(bn.params["gamma"], bn.params["beta"])
        compare(
            "  fwd: fused | fused, channel blocks in L2", lambda: fused.forward(x), lambda: blocked.forward(x), rounds
        )
        fused.forward(x), blocked.forward(x)
        compare(
            "  bwd: fused | fused, channel blocks in L2",
            lambda: fused.backward(dy),
            lambda: blocked.backward(dy),
            rounds,
        )
        compare(
            "  fwd+bwd: layers | blocked",
            lambda: bn_relu_today(bn, relu, x, dy),
            lambda: (blocked.forward(x), blocked.backward(dy)),
            rounds,
        )


class BlockedBN(BlockedBNReLU):
    """Batch norm alone (no ReLU), channel groups in L2: forward stores xc, backward without the ReLU mask."""

    def forward(self, x):
        self.y_is_relu = False
        return self._forward(x, relu=False)

    def _forward(self, x, relu):
        c = x.shape[1]
        rows = x.transpose(1, 2, 3, 0).reshape(c, -1)
        m = rows.shape[1]
        ones = self.work.get("ones")
        if ones is None or ones.shape[0] != m:
            ones = self.work["ones"] = np.ones(m, np.float32)
        xc, y = np.empty_like(rows), np.empty_like(rows)
        inv, s = np.empty(c, np.float32), np.empty(c, np.float32)
        step = max(1, self.block_bytes // (4 * m))
        for i in range(0, c, step):
            j = min(c, i + step)
            xb, xcb, yb = rows[i:j], xc[i:j], y[i:j]
            mean = xb @ ones
            mean /= m
            np.subtract(xb, mean[:, None], out=xcb)
            var = (xcb[:, None, :] @ xcb[:, :, None]).reshape(-1) / m
            inv[i:j] = 1.0 / np.sqrt(var + self.eps)
            s[i:j] = self.gamma[i:j] * inv[i:j]
            np.multiply(xcb, s[i:j, None], out=yb)
            yb += self.beta[i:j, None]
        self.xc, self.y, self.inv, self.s, self.m = xc, y, inv, s, m
        return y.reshape(x.shape[1:] + x.shape[:1]).transpose(3, 0, 1, 2)

    def backward(self, dy):
        c = dy.shape[1]
        dyr = dy.transpose(1, 2, 3, 0).reshape(c, -1)
        m = self.m
        dx = np.empty_like(dyr)
        step = max(1, self.block_bytes // (4 * m))
        t = np.empty((step, m), np.float32)
        ones = self.work["ones"]
        for i in range(0, c, step):
            j = min(c, i + step)
            dyb, dxb, xcb, tb = dyr[i:j], dx[i:j], self.xc[i:j], t[: j - i]
            db = dyb @ ones
            dxc = (dyb[:, None, :] @ xcb[:, :, None]).reshape(-1)
            s, inv = self.s[i:j], self.inv[i:j]
            np.multiply(dyb, s[:, None], out=dxb)
            dxb -= (s * db / m)[:, None]
            np.multiply(xcb, (s * inv * inv * dxc / m)[:, None], out=tb)
            dxb -= tb
        return dx.reshape(dy.shape[1:] + dy.shape[:1]).transpose(3, 0, 1, 2)


@experiment
def bn_blocked(rounds):
    from digitnet.nn.layers import BatchNorm2D

    rng = np.random.default_rng(0)
    for c, hw in ((32, 28), (64, 14)):
        x, dy = _bl(c, hw, rng), _bl(c, hw, rng)
        bn = BatchNorm2D(c)
        bn.init_params(rng)
        bn.params = {k: v.astype(np.float32) for k, v in bn.params.items()}
        bn.buffers = {k: v.astype(np.float32) for k, v in bn.buffers.items()}
        blocked = BlockedBN(bn.params["gamma"], bn.params["beta"])
        compare(
            f"BN2D({c}) {hw}x{hw} fwd: today | channel blocks",
            lambda: bn.forward(x, True),
            lambda: blocked.forward(x),
            rounds,
        )
        bn.forward(x, True), blocked.forward(x)
        compare(
            f"BN2D({c}) {hw}x{hw} bwd: today | channel blocks",
            lambda: bn.backward(dy),
            lambda: blocked.backward(dy),
            rounds,
        )


# --- ReLU ----------------------------------------------------------------------------------------------
@experiment
def relu_variants(rounds):
    rng = np.random.default_rng(0)
    x = _bl(32, 28, rng)
    dy = _bl(32, 28, rng)
    mask = x > 0
    compare("ReLU fwd: x * (x > 0) | maximum(x, 0)", lambda: x * (x > 0), lambda: np.maximum(x, 0), rounds)
    y = np.maximum(x, 0)
    compare(
        "ReLU fwd+mask: m = x > 0; x * m | m = x > 0; maximum(x, 0)",
        lambda: (x > 0, x * (x > 0)),
        lambda: (x > 0, np.maximum(x, 0)),
        rounds,
    )
    compare("ReLU bwd: dy * mask | dy * (y > 0)", lambda: dy * mask, lambda: dy * (y > 0), rounds)
    compare("ReLU bwd: dy * mask | where(mask, dy, 0)", lambda: dy * mask, lambda: np.where(mask, dy, 0), rounds)


# --- max pooling ----------------------------------------------------------------------------------------
class ArgmaxPool:
    """2x2 max-pool: forward keeps the index (0..3) of the first maximal tap; backward writes dy * [idx == t]
    into each tap (disjoint windows: each dx element written once). Optionally ReLU fused: y = max(., 0) and
    dy masked by [y > 0] on the pooled (4x smaller) array."""

    def __init__(self, relu=False):
        self.relu = relu

    def forward(self, x):
        n, c, h, w = x.shape
        taps = [x[:, :, u::2, v::2] for u in range(2) for v in range(2)]
        y = np.maximum(taps[0], taps[1])
        np.maximum(y, taps[2], out=y)
        np.maximum(y, taps[3], out=y)
        idx = np.full(y.shape, 3, np.uint8)  # the first tap equal to the max, walking backwards
        for t in (2, 1, 0):
            idx[taps[t] == y] = t
        if self.relu:
            np.maximum(y, 0, out=y)
        self.x_shape, self.x, self.y, self.idx = x.shape, x, y, idx
        return y

    def backward(self, dy):
        if self.relu:
            dy = dy * (self.y > 0)
        dx = np.empty_like(self.x)
        for t, (u, v) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            np.multiply(dy, self.idx == t, out=dx[:, :, u::2, v::2])
        return dx


@experiment
def maxpool(rounds):
    from digitnet.nn.layers import MaxPool2D, ReLU

    rng = np.random.default_rng(0)
    for c, hw in ((32, 28), (64, 14)):
        x = _bl(c, hw, rng)
        dy = _bl(c, hw // 2, rng)
        pool, relu = MaxPool2D(2), ReLU()
        arg = ArgmaxPool()
        compare(
            f"maxpool {c}x{hw}x{hw} fwd: today | argmax", lambda: pool.forward(x, True), lambda: arg.forward(x), rounds
        )
        pool.forward(x, True), arg.forward(x)
        compare(
            f"maxpool {c}x{hw}x{hw} bwd: today | argmax", lambda: pool.backward(dy), lambda: arg.backward(dy), rounds
        )
        fused = ArgmaxPool(relu=True)
        compare(
            f"pool+ReLU {c}x{hw}x{hw} fwd+bwd: today | argmax fused",
            lambda: (relu.forward(pool.forward(x, True), True), pool.backward(relu.backward(dy)))[1],
            lambda: (fused.forward(x), fused.backward(dy))[1],
            rounds,
        )


# --- GEMM orientation -------------------------------------------------------------------------------
@experiment
def gemm_orientation(rounds):
    """The conv products as digitnet writes them vs the same product transposed ((B.T @ A.T).T, no copy)."""
    rng = np.random.default_rng(0)
    for c, o, hw in ((1, 32, 28), (32, 32, 28), (32, 64, 14), (64, 64, 14)):
        k, m = c * 9, hw * hw * BATCH
        w2 = rng.standard_normal((o, k), dtype=np.float32)
        cols = rng.standard_normal((k, m), dtype=np.float32)
        dy = rng.standard_normal((o, m), dtype=np.float32)
        compare(
            f"{c}->{o} {hw}: fwd W2 @ cols | (cols.T @ W2.T).T", lambda: w2 @ cols, lambda: (cols.T @ w2.T).T, rounds
        )
        compare(
            f"{c}->{o} {hw}: dW (cols @ dY.T).T | dY @ cols.T", lambda: (cols @ dy.T).T, lambda: dy @ cols.T, rounds
        )
        if c == 1:  # tiny output, long K: split K into a batch of products, then sum
            parts = 16
            compare(
                f"{c}->{o} {hw}: dW (cols @ dY.T).T | {parts} stacked products, summed",
                lambda: (cols @ dy.T).T,
                lambda: (
                    dy.reshape(o, parts, -1).transpose(1, 0, 2) @ cols.reshape(k, parts, -1).transpose(1, 2, 0)
                ).sum(axis=0),
                rounds,
            )


# --- Adam: whole arrays vs cache-sized blocks -------------------------------------------------------------
def adam_whole(p, g, m, v, work, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, t=10):
    """Today's update (optim.Adam._update + _scaled_step), 12 passes over whole arrays."""
    np.subtract(g, m, out=work)
    work *= 1.0 - b1
    m += work
    v *= b2
    np.multiply(g, g, out=work)
    work *= 1.0 - b2
    v += work
    step, sq_scale = lr / (1.0 - b1**t), (1.0 - b2**t) ** 0.5
    np.sqrt(v, out=work)
    work += eps * sq_scale
    np.divide(m, work, out=work)
    work *= step * sq_scale
    p -= work


def adam_blocked(p, g, m, v, work, block=1 << 15, **kw):
    """The same 12 operations on blocks of ``block`` elements: each block's passes stay in L2."""
    pf, gf, mf, vf = p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1)
    for i in range(0, pf.size, block):
        j = min(i + block, pf.size)
        adam_whole(pf[i:j], gf[i:j], mf[i:j], vf[i:j], work[: j - i], **kw)


@experiment
def adam(rounds):
    rng = np.random.default_rng(0)
    for shape in ((784, 800), (800, 800), (3136, 256), (64, 64, 3, 3)):
        arrays = [rng.standard_normal(shape, dtype=np.float32) for _ in range(2)]
        states = [
            [a.copy() for a in arrays] + [np.zeros(shape, np.float32), np.zeros(shape, np.float32)] for _ in range(2)
        ]
        work_a, work_b = np.empty(shape, np.float32), np.empty(1 << 15, np.float32)
        compare(
            f"Adam step {shape}: whole arrays | blocks of 32K",
            lambda: adam_whole(*states[0], work_a),
            lambda: adam_blocked(*states[1], work_b),
            rounds,
            check=lambda a, b: _max_diff(states[0], states[1]),
        )
        if shape == (784, 800):
            for block in (1 << 13, 1 << 14, 1 << 16, 1 << 17):
                compare(
                    f"  blocks of 32K | blocks of {block >> 10}K",
                    lambda: adam_blocked(*states[0], work_b),
                    lambda: adam_blocked(*states[1], work_a.reshape(-1), block=block),
                    rounds,
                    check=lambda a, b: 0.0,
                )


# --- weight gradients with a small output and a long inner dimension --------------------------------------
def dw_stacked(dy_cols, cols, parts):
    """dY (O, M) @ cols.T (M, K) as ``parts`` products over slices of M, summed: (O, K). M % parts == 0."""
    o, m = dy_cols.shape
    k = cols.shape[0]
    return (
        dy_cols.reshape(o, parts, m // parts).transpose(1, 0, 2) @ cols.reshape(k, parts, m // parts).transpose(1, 2, 0)
    ).sum(axis=0)


@experiment
def weight_grad(rounds):
    rng = np.random.default_rng(0)
    for label, o, k, m in (
        ("lenet5 conv1 6@5x5 on 28x28", 6, 25, 24 * 24 * BATCH),
        ("lenet5 conv2 16@5x5 on 12x12", 16, 150, 8 * 8 * BATCH),
        ("cnn conv1 32@3x3", 32, 9, 28 * 28 * BATCH),
        ("cnn conv2 32@3x3x32", 32, 288, 28 * 28 * BATCH),
    ):
        cols = rng.standard_normal((k, m), dtype=np.float32)
        dy = rng.standard_normal((o, m), dtype=np.float32)
        for parts in (8, 16, 64):
            compare(
                f"{label}: dW (cols @ dY.T).T | {parts} stacked",
                lambda: (cols @ dy.T).T,
                lambda: dw_stacked(dy, cols, parts),
                rounds,
            )


# --------------------------------------------------------------------------------------------- ab
def step_times(name, steps):
    """(median CPU ms, median wall ms) per training step of zoo model ``name`` in the imported digitnet."""
    from digitnet import zoo
    from digitnet.nn import Adam

    model = zoo.build(name, seed=0)
    model.compile(optimizer=Adam(lr=1e-3), loss="cross_entropy")
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    cpu, wall = [], []
    for i in range(steps + 3):
        c0, w0 = time.process_time(), time.perf_counter()
        model.train_step(x, y)
        if i >= 3:
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
    return 1e3 * statistics.median(cpu), 1e3 * statistics.median(wall)


def ab(models, steps):
    import json
    import subprocess

    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    trees = {"before": os.path.abspath(ARGS.before), "after": here}
    print(
        f"  {'model':12s} {'before cpu':>10s} {'after cpu':>10s} {'speed-up':>8s} {'before wall':>11s} "
        f"{'after wall':>10s}   (median ms per step over {ARGS.repeats} alternating runs)"
    )
    for name in models:
        got = {k: [] for k in trees}
        for r in range(ARGS.repeats):
            for label in list(trees) if r % 2 == 0 else list(trees)[::-1]:
                env = {**os.environ, "PYTHONPATH": trees[label]}
                argv = [
                    sys.executable,
                    os.path.abspath(__file__),
                    "step",
                    "--models",
                    name,
                    "--steps",
                    str(steps),
                    "--threads",
                    str(ARGS.threads),
                ]
                out = subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout
                got[label].append(json.loads(out.strip().splitlines()[-1]))
        med = {k: (statistics.median(g[0] for g in v), statistics.median(g[1] for g in v)) for k, v in got.items()}
        b, a = med["before"], med["after"]
        print(f"  {name:12s} {b[0]:10.2f} {a[0]:10.2f} {b[0] / a[0]:8.2f} {b[1]:11.2f} {a[1]:10.2f}", flush=True)


# --- max-pool backward: first-max one-hot masks from boolean algebra --------------------------------------
def maxpool_backward_onehot(pool, dy, use_copyto=False):
    """Disjoint windows: e_t = [x_t == y]; tap t gets dy where e_t and no earlier e_s (first maximum, as the
    reference); the last tap where no earlier one matched. Float passes: k*k-1 compares, k*k multiplies."""
    x, y = pool._x, pool._y
    ho, wo = y.shape[2:]
    dx = np.empty_like(x, dtype=dy.dtype) if not use_copyto else np.zeros_like(x, dtype=dy.dtype)
    x_taps, dx_taps = pool._taps(x, ho, wo), pool._taps(dx, ho, wo)
    taken = None
    for i, (x_tap, dx_tap) in enumerate(zip(x_taps, dx_taps)):
        if i == len(x_taps) - 1:
            first = ~taken
        else:
            eq = x_tap == y
            if taken is None:
                first, taken = eq, eq.copy()
            else:
                first = eq & ~taken
                taken |= eq
        if use_copyto:
            np.copyto(dx_tap, dy, where=first)
        else:
            np.multiply(dy, first, out=dx_tap)
    return dx


@experiment
def maxpool_backward(rounds):
    from digitnet.nn.fast import MaxPool2D

    rng = np.random.default_rng(0)
    for c, hw in ((6, 24), (16, 8), (32, 28), (64, 14)):
        x = _bl(c, hw, rng)
        x[:, :, ::3, ::2] = 0.0  # ties: equal maxima in many windows
        pool = MaxPool2D(2)
        y = pool.forward(x, True)
        dy = np.ascontiguousarray(rng.standard_normal(y.shape, dtype=np.float32).transpose(1, 2, 3, 0)).transpose(
            3, 0, 1, 2
        )
        compare(
            f"maxpool {c}x{hw}x{hw} bwd: today | one-hot masks",
            lambda: pool.backward(dy),
            lambda: maxpool_backward_onehot(pool, dy),
            rounds,
        )
        compare(
            f"maxpool {c}x{hw}x{hw} bwd: today | one-hot masks, copyto",
            lambda: pool.backward(dy),
            lambda: maxpool_backward_onehot(pool, dy, True),
            rounds,
        )


# --- Adam as one numexpr pass (a compiled accelerator: measured only, not a dependency) -----------------
@experiment
def adam_numexpr(rounds):
    """Blocked NumPy Adam (fast tier) against numexpr evaluating m, v and p in three fused expressions."""
    try:
        import numexpr as ne
    except ImportError:
        print("  numexpr is not installed (pip install numexpr to run this one)")
        return

    rng = np.random.default_rng(0)
    ne.set_num_threads(ARGS.threads)
    lr, b1, b2, eps, t = 1e-3, 0.9, 0.999, 1e-8, 10
    step, sq_scale = lr / (1.0 - b1**t), (1.0 - b2**t) ** 0.5
    t0 = time.perf_counter()
    a = np.ones(10, np.float32)
    ne.evaluate("a * 2", out=np.empty_like(a))
    print(
        f"  numexpr {ne.__version__}: first evaluate {1e3 * (time.perf_counter() - t0):.2f} ms (compiles nothing ahead)"
    )
    for shape in ((784, 800), (3136, 256)):
        arrays = [rng.standard_normal(shape, dtype=np.float32) for _ in range(2)]
        states = [
            [a.copy() for a in arrays] + [np.zeros(shape, np.float32), np.zeros(shape, np.float32)] for _ in range(2)
        ]
        work = np.empty(1 << 15, np.float32)
        c1, c2 = np.float32(1.0 - b1), np.float32(1.0 - b2)
        fb2, s, e = np.float32(b2), np.float32(step * sq_scale), np.float32(eps * sq_scale)

        def numexpr_step(p, g, m, v):
            names = {"p": p, "g": g, "m": m, "v": v, "c1": c1, "c2": c2, "fb2": fb2, "s": s, "e": e}
            ne.evaluate("m + c1 * (g - m)", local_dict=names, out=m)
            ne.evaluate("v * fb2 + c2 * g * g", local_dict=names, out=v)
            ne.evaluate("p - s * m / (sqrt(v) + e)", local_dict=names, out=p)

        compare(
            f"Adam {shape}: NumPy blocks | numexpr",
            lambda: adam_blocked(*states[0], work),
            lambda: numexpr_step(*states[1]),
            rounds,
            check=lambda a, b: _max_diff(states[0], states[1]),
        )


def main() -> int:
    print(
        f"clock={ARGS.clock} threads={ARGS.threads} OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
        f"load={os.getloadavg()[0]:.1f}"
    )
    if ARGS.what == "step":  # worker of ab
        import json

        print(json.dumps(step_times(ARGS.models.split(",")[0], ARGS.steps)))
        return 0
    if ARGS.what == "ab":
        ab(ARGS.models.split(","), ARGS.steps)
        print(f"load={os.getloadavg()[0]:.1f}")
        return 0
    if ARGS.what == "profile":
        for name in ARGS.models.split(","):
            profile(name, ARGS.steps)
        return 0
    names = ARGS.only.split(",") if ARGS.only else list(EXPERIMENTS)
    print(f"  {'experiment (median ms)':58s} {'current':>8s} {'candidate':>8s}")
    for name in names:
        print(f"{name}:")
        EXPERIMENTS[name](ARGS.rounds)
    print(f"load={os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
