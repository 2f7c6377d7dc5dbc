"""``compare_loops``: the seed's element-wise vs vectorised experiment, measured again.

The seed trained a 784-16-16-10 sigmoid network (MSE loss, N(0, 1) weights, SGD)
on 100 MNIST images: "136 s for 20 epochs" with for-loops, "13.4 s for 200 epochs"
vectorised. Here the same network is trained from the same initial weights, in
the same sample order, by

    loops (lists)    digitnet.nn.loops.LoopMLP, weights as nested Python lists, batch 1
    loops (NumPy)    the same loops indexing float64 arrays one element at a time, batch 1
    vectorised       digitnet.nn.Sequential, batch 1 and mini-batches, float64 and float32

and for each we report seconds per epoch, the speed-up over the list loops,
the peak traced memory (``tracemalloc``: building the network and taking two
training steps; NumPy reports its buffers to tracemalloc), the final training loss
and accuracy on 1,000 test images (computed by the vectorised forward pass from
the trained weights, which the tests show equal to the loop forward pass).

``time_tiers`` then times one Adam step of zoo models (an MLP and LeNet-5) in
each of the framework's three tiers — loops, reference, fast — on the same
batch, with the peak traced memory of a step. The
largest loss difference between the list loops and vectorised float64, batch 1
(same order, same start), shows that they compute the same thing.
"""

from __future__ import annotations

import os
import time
import tracemalloc

import numpy as np

from digitnet import machine
from digitnet.studies import report

SEED_REFERENCE = {
    "loop_seconds": 136.0,
    "loop_epochs": 20,
    "vectorised_seconds": 13.4,
    "vectorised_epochs": 200,
    "source": "seed 000 README: 100 samples, 784-16-16-10",
}
SIZES = (784, 16, 16, 10)


def seed_network(dtype="float64", seed=0):
    """The seed's vectorised network: Dense layers with N(0, 1) weights, sigmoid after each (MSE loss)."""
    from digitnet.nn import Dense, Sequential, Sigmoid

    layers = []
    for width in SIZES[1:]:
        layers += [Dense(width, weight_init="normal"), Sigmoid()]
    return Sequential(layers, input_shape=(SIZES[0],), dtype=dtype, seed=seed, name="seed-784-16-16-10")


def _orders(n, epochs, seed):
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


def _train_vectorised(x, y, dtype, batch_size, epochs, lr, seed, orders):
    from digitnet.nn import SGD

    model = seed_network(dtype, seed)
    model.compile(SGD(lr=lr), "mse")
    xd = x.astype(dtype, copy=False)
    losses = []
    for order in orders[:epochs]:
        total = 0.0
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            loss, _ = model.train_step(xd[idx], y[idx])
            total += loss * len(idx)
        losses.append(total / len(order))
    return model, losses


def _train_loops(x, y, storage, epochs, lr, seed, orders):
    from digitnet.nn.loops import LoopMLP

    net = LoopMLP.from_sequential(seed_network("float64", seed), loss="mse", storage=storage)
    rows = x.tolist() if storage == "list" else x
    losses = []
    for order in orders[:epochs]:
        total = 0.0
        for i in order:
            total += net.train_step(rows[i : i + 1] if storage == "numpy" else [rows[i]], [y[i]], lr)
        losses.append(total / len(order))
    return net, losses


def _peak_memory(train, *args):
    """Peak bytes traced while building the network and training it on the given (short) data."""
    tracemalloc.start()
    try:
        train(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _accuracy(weights, biases, x_test, y_test):
    model = seed_network("float64")
    for k, (W, b) in enumerate(zip(weights, biases)):
        model.layers[2 * k].params["weight"][...] = W
        model.layers[2 * k].params["bias"][...] = b
    return float((model.predict(x_test) == y_test).mean())


TIER_MODELS = ("mlp-16-16", "lenet5")  # zoo models timed in every tier on the same batch


def _step_seconds(model, xb, yb, repeats, warmup=True):
    """Median wall time of one training step (after one untimed step) and the peak traced bytes of one more."""
    if warmup:
        model.train_step(xb, yb)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.train_step(xb, yb)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    try:
        model.train_step(xb, yb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return float(np.median(times)), int(peak)


def time_tiers(images, labels, batch_size=8, repeats=5, models=TIER_MODELS, verbose=True) -> list[dict]:
    """One Adam training step of each zoo model in each tier (loops, reference, fast), on the same batch.

    Same initial weights, same batch, float32 (the zoo's default). The vectorised tiers: the median
    of ``repeats`` steps after one untimed step; the loops tier: its first step, timed once. Peak
    memory: tracemalloc over one further step.
    """
    from digitnet import zoo
    from digitnet.nn import tiers

    xb = (np.asarray(images[:batch_size], dtype=np.float32) / 255).reshape(batch_size, 1, 28, 28)
    yb = np.asarray(labels[:batch_size]).astype(np.int64)
    rows = []
    for name in models:
        for tier in tiers.TIERS:
            model = zoo.build(name, tier=tier)
            model.compile("adam", lr=1e-3)
            loops = tier == "loops"
            seconds, peak = _step_seconds(model, xb, yb, 1 if loops else repeats, warmup=not loops)
            rows.append(
                {
                    "model": name,
                    "tier": tier,
                    "batch_size": batch_size,
                    "seconds_per_step": seconds,
                    "peak_memory_bytes": peak,
                }
            )
            if verbose:
                print(f"{name} {tier}: {seconds * 1e3:,.1f} ms/step, peak {peak / 1024:,.0f} KiB", flush=True)
    for row in rows:
        fast = next(r for r in rows if r["model"] == row["model"] and r["tier"] == "fast")
        row["times_fast"] = row["seconds_per_step"] / fast["seconds_per_step"]
    return rows


def compare_loops(
    train_size=100,
    epochs=200,
    loop_epochs=20,
    numpy_loop_epochs=2,
    batch_size=10,
    lr=3.0,
    seed=0,
    data=None,
    dataset="mnist",
    data_dir=None,
    out=None,
    command=None,
    verbose=True,
    tier_batch=8,
) -> dict:
    """Time the element-wise and vectorised versions of the seed's setup; write OUT/results.json and loops.png.

    Then ``time_tiers``: one training step of each of ``TIER_MODELS`` in each tier on the same batch of
    ``tier_batch`` images (0 skips it).

    data: ((train_images, train_labels), (test_images, test_labels)) instead of loading MNIST; the first
    ``train_size`` training images are used, as the seed did, and up to 1,000 test images.
    """
    for key, value in (
        ("train_size", train_size),
        ("epochs", epochs),
        ("loop_epochs", loop_epochs),
        ("numpy_loop_epochs", numpy_loop_epochs),
        ("batch_size", batch_size),
    ):
        if not isinstance(value, int) or value < 0 or (value == 0 and key in ("train_size", "batch_size")):
            raise ValueError(f"{key} must be a non-negative integer (positive for sizes), got {value!r}")
    if data is None:
        from digitnet.data import load

        data = (load(dataset, split="train", data_dir=data_dir), load(dataset, split="test", data_dir=data_dir))
    (images, labels), (test_images, test_labels) = data
    x = np.asarray(images[:train_size], dtype=np.float64).reshape(train_size, -1) / 255
    y = np.asarray(labels[:train_size]).astype(np.int64)
    x_test = np.asarray(test_images[:1000], dtype=np.float64).reshape(-1, x.shape[1]) / 255
    y_test = np.asarray(test_labels[:1000]).astype(np.int64)
    orders = _orders(train_size, max(epochs, loop_epochs, numpy_loop_epochs), seed)

    specs = [
        ("loops (Python lists)", "loops", "list", 1, "float64", loop_epochs),
        ("loops (NumPy elements)", "loops", "numpy", 1, "float64", numpy_loop_epochs),
        ("vectorised", "vectorised", None, 1, "float64", epochs),
        ("vectorised", "vectorised", None, 1, "float32", epochs),
        ("vectorised", "vectorised", None, batch_size, "float64", epochs),
        ("vectorised", "vectorised", None, batch_size, "float32", epochs),
    ]
    if batch_size == 1:
        specs = specs[:4]
    rows, trajectories = [], {}
    for name, impl, storage, batch, dtype, n_epochs in specs:
        if n_epochs == 0:
            continue
        px, py = x[: 2 * batch], y[: 2 * batch]  # two steps show the peak: each step frees what it allocated
        probe_order = [np.arange(len(px))]
        if impl == "loops":
            t0 = time.perf_counter()
            net, losses = _train_loops(x, y, storage, n_epochs, lr, seed, orders)
            seconds = time.perf_counter() - t0
            weights, biases = net.get_weights()
            peak = _peak_memory(_train_loops, px, py, storage, 1, lr, seed, probe_order)
        else:
            t0 = time.perf_counter()
            model, losses = _train_vectorised(x, y, dtype, batch, n_epochs, lr, seed, orders)
            seconds = time.perf_counter() - t0
            weights = [np.asarray(model.layers[k].params["weight"], np.float64) for k in (0, 2, 4)]
            biases = [np.asarray(model.layers[k].params["bias"], np.float64) for k in (0, 2, 4)]
            peak = _peak_memory(_train_vectorised, px, py, dtype, batch, 1, lr, seed, probe_order)
        key = f"{impl}-{storage or dtype}-b{batch}"
        trajectories[key] = losses
        rows.append(
            {
                "name": name,
                "key": key,
                "implementation": impl,
                "storage": storage,
                "batch_size": batch,
                "dtype": dtype,
                "epochs": n_epochs,
                "seconds": seconds,
                "seconds_per_epoch": seconds / n_epochs,
                "peak_memory_bytes": int(peak),
                "final_loss": losses[-1],
                "test_accuracy": _accuracy(weights, biases, x_test, y_test),
            }
        )
        if verbose:
            print(f"{name}, batch {batch}, {dtype}: {n_epochs} epochs in {seconds:.2f}s", flush=True)
    reference = next((r for r in rows if r["key"] == "loops-list-b1"), rows[0])
    for r in rows:
        r["speedup_vs_list_loops"] = reference["seconds_per_epoch"] / r["seconds_per_epoch"]
    agreement = None
    if "loops-list-b1" in trajectories and "vectorised-float64-b1" in trajectories:
        a, b = trajectories["loops-list-b1"], trajectories["vectorised-float64-b1"]
        m = min(len(a), len(b))
        agreement = {"epochs_compared": m, "max_abs_loss_difference": float(np.max(np.abs(np.subtract(a[:m], b[:m]))))}
    tier_rows = time_tiers(images, labels, batch_size=tier_batch, verbose=verbose) if tier_batch else []
    ref = SEED_REFERENCE
    results = {
        "study": "loops",
        "tiers": tier_rows,
        "command": command,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "config": {
            "network": "784-16-16-10 sigmoid, MSE, N(0,1) weights, SGD",
            "train_size": train_size,
            "lr": lr,
            "seed": seed,
            "test_images": len(y_test),
            "machine": machine.summary(),
        },
        "rows": rows,
        "agreement": agreement,
        "seed_reference": {
            **ref,
            "loop_seconds_per_epoch": ref["loop_seconds"] / ref["loop_epochs"],
            "vectorised_seconds_per_epoch": ref["vectorised_seconds"] / ref["vectorised_epochs"],
            "speedup": (ref["loop_seconds"] / ref["loop_epochs"])
            / (ref["vectorised_seconds"] / ref["vectorised_epochs"]),
        },
    }
    out = out or os.path.join("runs", f"compare-loops-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(out, exist_ok=True)
    return report.write(results, out, "loops.png", report.plot_loops, report.loops_table, verbose)
