"""``digitnet compare KIND``: reproducible studies (loops vs vectorised, optimisers, activations, init, batch, lr)."""

from __future__ import annotations

import shlex
import sys

from digitnet.commands import _options as opt
from digitnet.commands._common import add_data_options, formatter

KINDS = ("loops", "optimizers", "activations", "init", "batch-size", "lr")

EXAMPLES = """examples:
  digitnet compare loops                     # the seed's 100-image, 784-16-16-10 timing: loops vs vectorised
  digitnet compare optimizers                # SGD, momentum, Nesterov, Adagrad, RMSprop, Adam, AdamW
  digitnet compare activations --epochs 10   # linear, sigmoid, tanh, ReLU, leaky ReLU, ELU, GELU
  digitnet compare init --activation sigmoid # N(0,1) vs Xavier vs He under sigmoid
  digitnet compare batch-size --variants 1,16,256
  digitnet compare lr --optimizer adam --variants 0.0001,0.001,0.01
  digitnet compare optimizers --train-size 55000 --epochs 20 --seeds 5    # a full run
  digitnet compare optimizers --model lenet5 --train-size 20000           # any zoo model

Each study trains the same network on the same data subset with the same seeds,
once per variant, and writes OUT/results.json (every seed's per-epoch history,
mean ± std of the final validation accuracy, wall times) and OUT/curves.png
(loss and validation accuracy vs epoch and vs wall time). 'loops' writes
OUT/results.json and OUT/loops.png instead.
"""


def register(sub):
    p = sub.add_parser(
        "compare",
        help="comparison studies: loops, optimizers, activations, init, batch-size, lr",
        formatter_class=formatter,
        epilog=EXAMPLES,
        description="Train the same network under several variants of one choice and compare final "
        "validation accuracy (mean ± std over seeds), learning curves and time.",
    )
    p.add_argument("kind", choices=KINDS, help="what to compare")
    p.add_argument("--train-size", type=int, help="training images (default 10000; loops: 100)")
    p.add_argument(
        "--val-size",
        type=int,
        default=5000,
        help="validation images, disjoint, also from the training split (default 5000)",
    )
    p.add_argument("--epochs", type=int, help="epochs per run (default 5; loops: vectorised epochs, 200)")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per variant (default 3)")
    p.add_argument("--variants", help="comma-separated subset of variants, or values for lr / batch-size")
    p.add_argument("--model", default="mlp", help="'mlp' (default; --hidden/--activation/--init) or a zoo name")
    p.add_argument("--hidden", default="128,64", help="MLP hidden layer sizes (default 128,64)")
    p.add_argument("--activation", default="relu", help="MLP activation when not the thing compared (default relu)")
    p.add_argument(
        "--init", default="xavier_uniform", help="MLP initialiser when not compared (default xavier_uniform)"
    )
    p.add_argument("--optimizer", default="momentum", help="optimiser when not compared (default momentum 0.9)")
    p.add_argument(
        "--lr",
        type=float,
        help="learning rate (default 0.01; in 'optimizers' it replaces each optimiser's customary rate; loops: 3.0)",
    )
    p.add_argument("--batch-size", type=int, help="mini-batch size (default 64; loops: 10)")
    p.add_argument("--loss", default="cross_entropy", help="cross_entropy (default) or mse")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--loop-epochs", type=int, default=20, help="loops: epochs of the Python-list loops (default 20)")
    p.add_argument(
        "--numpy-loop-epochs",
        type=int,
        default=2,
        help="loops: epochs of the NumPy-element loops (default 2; 0 skips them)",
    )
    p.add_argument(
        "--tier-batch",
        type=int,
        default=8,
        help="loops: batch of the per-tier step timings (loops, reference, fast; default 8; 0 skips them)",
    )
    p.add_argument("--seed", type=int, default=0, help="loops: the seed of the initial weights and order")
    p.add_argument("--out", help="run folder (default runs/compare-KIND-DATE-TIME)")
    p.add_argument("--quiet", action="store_true", help="print only the final table")
    add_data_options(p)
    p.set_defaults(func=run)


def _hidden(text):
    try:
        sizes = [int(h) for h in text.split(",") if h.strip()]
    except ValueError:
        raise ValueError(f"--hidden must be comma-separated sizes like 128,64, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise ValueError(f"--hidden must list positive sizes, got {text!r}")
    return sizes


def run(args) -> int:
    from digitnet import studies

    for name in ("train_size", "epochs", "batch_size", "seeds"):
        if getattr(args, name, None) is not None:
            opt.positive_int(name.replace("_", "-"), getattr(args, name), high=10**7)
    for name in ("loop_epochs", "numpy_loop_epochs", "tier_batch"):  # 0 skips those rows
        opt.integer(name.replace("_", "-"), getattr(args, name), low=0, high=10**7 if "epochs" in name else 10**4)
    opt.integer("val-size", args.val_size, low=0)
    opt.integer("seed", args.seed, low=0, high=2**63 - 1)
    if args.lr is not None:
        opt.number("lr", args.lr, low=0.0, low_open=True, high=10.0)
    command = "digitnet " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else None
    verbose = not args.quiet
    if args.kind == "loops":
        if args.variants:
            raise ValueError("'compare loops' has fixed rows; --variants is for the other studies")
        result = studies.compare_loops(
            train_size=args.train_size or 100,
            epochs=200 if args.epochs is None else args.epochs,
            loop_epochs=args.loop_epochs,
            numpy_loop_epochs=args.numpy_loop_epochs,
            batch_size=args.batch_size or 10,
            lr=3.0 if args.lr is None else args.lr,
            seed=args.seed,
            dataset=args.dataset,
            data_dir=args.data_dir,
            out=args.out,
            command=command,
            verbose=verbose,
            tier_batch=args.tier_batch,
        )
        if not verbose:
            from digitnet.studies import report

            print(report.loops_table(result))
        return 0
    base = {
        "model": args.model,
        "hidden": _hidden(args.hidden),
        "activation": args.activation,
        "init": args.init,
        "optimizer": args.optimizer,
        "lr": 0.01 if args.lr is None else args.lr,
        "batch_size": args.batch_size or 64,
        "loss": args.loss,
        "dtype": args.dtype,
    }
    names = None
    if args.variants:
        names = [v.strip() for v in args.variants.split(",") if v.strip()]
    result = studies.compare(
        args.kind,
        train_size=args.train_size or 10000,
        val_size=args.val_size,
        epochs=5 if args.epochs is None else args.epochs,
        seeds=args.seeds,
        base=base,
        variant_names=names,
        lr_fixed=args.lr is not None,
        dataset=args.dataset,
        data_dir=args.data_dir,
        out=args.out,
        command=command,
        verbose=verbose,
    )
    if not verbose:
        from digitnet.studies import report

        print(report.table(result))
    return 0
