"""``digitnet robustness MODEL...``: accuracy under shifts, rotations, noise, thickness and FGSM/PGD attacks.

It scores the network itself (the 10 digits of its logits): a model file's test-time views
(digitnet.test_time) are left out, as attacks need the network's gradient.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from digitnet.commands import _options as opt
from digitnet.commands._common import add_data_options, formatter, load_model, load_split
from digitnet.progress import progress
from digitnet.runs import find_models, model_name

EXAMPLES = """examples:
  digitnet robustness runs/mlp-100-100-x                      # every sweep, tables + PNGs in robustness/
  digitnet robustness runs/cnn-plain runs/cnn-aug --only shift --n 10000
  digitnet robustness model.npz --only fgsm --only pgd --json
"""
SWEEPS = ("shift", "rotation", "noise", "thickness", "fgsm", "pgd")
ROTATIONS = [-45, -30, -20, -10, 0, 10, 20, 30, 45]
NOISE = [0.0, 0.1, 0.2, 0.3, 0.5, 0.8]
THICKNESS = [-2, -1, 0, 1, 2, 3]
EPS = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3]
VALUES = {"rotation": ROTATIONS, "noise": NOISE, "thickness": THICKNESS}
PGD_IMAGES = 1000  # PGD runs 10 gradient steps per image: it uses the first 1000 images of the sample
FGSM_EXAMPLE_EPS = 0.15


def register(sub):
    p = sub.add_parser(
        "robustness",
        help="accuracy under shifts, rotations, noise, thickness and attacks",
        formatter_class=formatter,
        epilog=EXAMPLES,
        description="Sweep perturbations of growing strength over the test set and report accuracy "
        "for each model: shift 0..6 px in 8 directions, rotation, Gaussian noise, stroke "
        "thickness, and FGSM / PGD adversarial attacks (L-infinity, eps sweep).",
    )
    p.add_argument("models", nargs="+", help="model files or run folders")
    p.add_argument("--only", choices=SWEEPS, action="append", help="run only these sweeps (repeatable)")
    p.add_argument(
        "--n",
        type=int,
        default=2000,
        help="test images to use: a random sample drawn with --seed (default 2000; 10000 for all); "
        "the indices are written to OUT/sample.json",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random sample of test images (default 0)")
    p.add_argument("--max-shift", type=int, default=6)
    p.add_argument("--out", default="robustness", help="folder for results.json and PNGs (default ./robustness)")
    p.add_argument("--json", action="store_true", help="print results as JSON instead of tables")
    add_data_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from digitnet import robustness as rb

    opt.integer("n", args.n, low=1, high=10000)
    opt.integer("max-shift", args.max_shift, low=0, high=14)
    wanted = args.only or SWEEPS
    images, labels = load_split(args, "test")
    if not 1 <= args.n <= len(images):
        raise ValueError(f"--n must be in [1, {len(images)}], got {args.n}")
    total = len(images)
    indices = sample_indices(total, args.n, args.seed)
    images, labels = images[indices], labels[indices]
    sample = {"n": int(args.n), "of": int(total), "seed": args.seed, "indices": indices.tolist()}
    models = {model_name(p): load_model(p) for p in find_models(args.models)}
    print(
        describe_sample(args.n, total, args.seed, args.out, "pgd" in wanted),
        file=sys.stderr if args.json else sys.stdout,
    )
    results = {name: {} for name in models}
    steps = [kind for kind in SWEEPS if kind in wanted]
    with progress(total=len(models) * len(steps), desc="robustness", unit="sweep") as bar:
        for name, model in models.items():
            r = results[name]
            for kind in steps:
                bar.set_postfix_str(f"{name}: {kind}")
                if kind == "shift":
                    r["shift"] = rb.shift_sweep(model, images, labels, args.max_shift)
                elif kind in ("rotation", "noise", "thickness"):
                    r[kind] = rb.sweep(model, images, labels, kind, VALUES[kind])
                else:
                    n_attack = min(len(images), PGD_IMAGES if kind == "pgd" else len(images))
                    r[kind] = rb.attack_sweep(model, images[:n_attack], labels[:n_attack], EPS, kind)
                    r[kind]["values"] = r[kind]["eps"]
                bar.update(1)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(args.out, "sample.json"), "w") as f:
        json.dump(sample, f)
    pngs = _figures(results, wanted, args.out, models, images, labels, args.n == total)
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        _print_tables(results)
        print("\n" + "\n".join([os.path.join(args.out, "results.json")] + pngs))
    return 0


def sample_indices(total: int, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` test images drawn without replacement with ``seed``; all of them when n == total.

    MNIST's test set is ordered (its two halves come from different writers), so its first images are
    not a fair sample; a seeded random sample is, and it is reproducible.
    """
    if n == total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))


def describe_sample(n: int, total: int, seed: int, out: str, pgd: bool = False) -> str:
    """The line saying which test images a run uses."""
    pgd_text = f"; PGD uses the first {PGD_IMAGES} of them" if pgd and n > PGD_IMAGES else ""
    if n == total:
        return f"using all {total} test images{pgd_text}"
    return (
        f"using {n} of {total} test images, a random sample with seed {seed} "
        f"(indices in {os.path.join(out, 'sample.json')}{pgd_text})"
    )


def _figures(results, wanted, out, models, images, labels, all_images):
    from digitnet import plots, robustness as rb
    from digitnet.calibration import predict_digits

    names = ", ".join(results)
    n_text = f"{len(images)} test images" + ("" if all_images else ", random sample")
    pngs = []
    if "shift" in wanted:
        pngs.append(
            plots.shift_grid(
                {n: r["shift"] for n, r in results.items()},
                os.path.join(out, "shift.png"),
                title=f"accuracy under shifts: {names} ({n_text})",
            )
        )
    labels_x = {
        "rotation": "degrees",
        "noise": "noise sigma",
        "thickness": "dilation (+) / erosion (-) px",
        "fgsm": "epsilon (L-inf)",
        "pgd": "epsilon (L-inf)",
    }
    for kind in ("rotation", "noise", "thickness", "fgsm", "pgd"):
        if kind in wanted:
            n_kind = f"{min(len(images), PGD_IMAGES)} test images" if kind == "pgd" else n_text
            what = {"fgsm": "FGSM attack", "pgd": "PGD attack (10 steps)"}.get(kind, kind)
            pngs.append(
                plots.sweep_curves(
                    {n: r[kind] for n, r in results.items()},
                    os.path.join(out, f"{kind}.png"),
                    labels_x[kind],
                    f"accuracy under {what}: {names}\n({n_kind})",
                )
            )
    if "fgsm" in wanted:
        name, model = next(iter(models.items()))
        x = rb._inputs(images[:6], model)
        adv = rb.fgsm(model, x, labels[:6], FGSM_EXAMPLE_EPS)
        pngs.append(
            plots.adversarial_examples(
                x,
                adv - x,
                adv,
                labels[:6],
                predict_digits(model, x),
                predict_digits(model, adv),
                os.path.join(out, "fgsm_examples.png"),
                title=f"FGSM on {name}, epsilon {FGSM_EXAMPLE_EPS} (L-inf)",
            )
        )
    return pngs


def _print_tables(results):
    for name, r in results.items():
        print(f"\n== {name}")
        if "shift" in r:
            s = r["shift"]
            print("shift px    " + "".join(f"{v:>7}" for v in s["shifts"]))
            for d, acc in s["accuracy"].items():
                print(f"{d:<11} " + "".join(f"{a:7.1%}" for a in acc))
        for kind in ("rotation", "noise", "thickness", "fgsm", "pgd"):
            if kind in r:
                print(f"{kind:<11} " + "".join(f"{v:>7g}" for v in r[kind]["values"]))
                print(f"{'accuracy':<11} " + "".join(f"{a:7.1%}" for a in r[kind]["accuracy"]))
