"""``digitnet train``: train a zoo model or a custom MLP, save the run folder, report test accuracy."""

from __future__ import annotations

import json
import math
import os
import time
import tomllib

from digitnet.commands._common import PREPROCESSING, add_data_options, formatter, load_split, model_inputs

EXAMPLES = """examples:
  digitnet train                                   # the main job: the reader CNN (digits, shifts, "not a digit")
  digitnet train --model lenet5                    # LeNet-5 with light augmentation: 99.2% in ~40 s
  digitnet train --model cnn --epochs 12           # the strongest zoo model
  digitnet train --model mlp --hidden 128,64 --activation relu --dropout 0.2 --epochs 10
  digitnet train --model mlp-16-16 --optimizer sgd --lr 0.5 --loss mse   # a seed's network
  digitnet train --model lenet5 --augment shift=2,rotate=10 --out runs/lenet5-aug
  digitnet train --config my-run.toml              # the same options as TOML keys (hidden = [128, 64])
"""

DEFAULTS = {"model": "reader", "epochs": 8, "batch_size": 64, "optimizer": "adam", "lr": 1e-3, "schedule": "cosine",
            "weight_decay": 0.0, "loss": "cross_entropy", "label_smoothing": 0.0, "seed": 0, "dtype": "float32",
            "validation": 5000, "train_size": None, "augment": None, "patience": None, "hidden": [128],
            "activation": "relu", "dropout": 0.0, "init": None, "dataset": "mnist", "out": None,
            "synthetic": 0, "negatives": 0, "centre": "none"}  # generator digits / "not a digit" images added (digitnet.handwriting)


def register(sub):
    p = sub.add_parser("train", help="train a model and save it in a run folder", formatter_class=formatter,
                       description="Train a network on MNIST (or another IDX dataset). Writes RUN/model.npz (the "
                                   "best epoch by validation accuracy), RUN/config.json and RUN/metrics.jsonl, then "
                                   "prints the test accuracy.", epilog=EXAMPLES)
    p.add_argument("--model", help="zoo name (reader, lenet5, lenet-wide, cnn, mlp-16-16, mlp-10, mlp-30, mlp-100-100, "
                                   "mlp-800-800) or 'mlp' for --hidden/--activation (default reader)")
    p.add_argument("--config", help="TOML file with any of these options as keys")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--optimizer", help="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw")
    p.add_argument("--lr", type=float, help="learning rate (the peak rate for cosine/onecycle)")
    p.add_argument("--schedule", help="constant, step, exponential, cosine, onecycle")
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--loss", help="cross_entropy, mse, bce")
    p.add_argument("--label-smoothing", type=float)
    p.add_argument("--hidden", help="hidden layer sizes for --model mlp, e.g. 128,64")
    p.add_argument("--activation", help="for --model mlp: linear, sigmoid, tanh, relu, leaky_relu, elu, gelu")
    p.add_argument("--dropout", type=float, help="for --model mlp: dropout rate after each hidden layer")
    p.add_argument("--init", help="weight initialiser for --model mlp (he_normal, xavier_uniform, normal, ...)")
    p.add_argument("--augment", help="on-the-fly augmentation, e.g. shift=2,rotate=12,zoom=0.1,elastic=34:4")
    p.add_argument("--synthetic", type=int, help="generator digits (train styles) added to the training set")
    p.add_argument("--negatives", type=int, help="'not a digit' pictures added as class 10 (reader, lenet5, ...)")
    p.add_argument("--centre", choices=["none", "mass"], help="re-centre inputs by their centre of mass")
    p.add_argument("--validation", type=float, help="validation images taken from the end of the training set: "
                                                    "a count, or a fraction < 1 (default 5000)")
    p.add_argument("--train-size", type=int, help="use only the first N training images (quick experiments)")
    p.add_argument("--patience", type=int, help="early stopping after N epochs without val_accuracy gains")
    p.add_argument("--seed", type=int)
    p.add_argument("--dtype", choices=["float32", "float64"])
    p.add_argument("--out", help="run folder (default runs/<model>-<date>-<time>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    add_data_options(p)
    p.set_defaults(func=run)


def resolve(args) -> dict:
    """Options in force: built-in defaults < the zoo recipe < --config TOML < flags on the command line."""
    from digitnet import zoo

    flags = {k: v for k, v in vars(args).items() if k in DEFAULTS and v is not None}
    toml = {}
    if args.config:
        with open(args.config, "rb") as f:
            try:
                toml = {k.replace("-", "_"): v for k, v in tomllib.load(f).items()}
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"{args.config}: not valid TOML ({exc})") from None
        unknown = sorted(set(toml) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"{args.config}: unknown option(s) {', '.join(unknown)}; expected some of "
                             f"{', '.join(sorted(DEFAULTS))}")
    name = flags.get("model") or toml.get("model") or DEFAULTS["model"]
    recipe = zoo.recipe(name) if name != "mlp" else {}
    cfg = {**DEFAULTS, **recipe, **toml, **flags, "model": name}
    if isinstance(cfg["hidden"], str):
        try:
            cfg["hidden"] = [int(h) for h in cfg["hidden"].split(",") if h.strip()]
        except ValueError:
            raise ValueError(f"--hidden must be comma-separated sizes like 128,64, got {cfg['hidden']!r}") from None
    return cfg


def build_model(cfg):
    from digitnet import zoo

    if cfg["model"] == "mlp":
        return zoo.mlp(cfg["hidden"], activation=cfg["activation"], dropout=cfg["dropout"],
                       init=cfg["init"], seed=cfg["seed"], dtype=cfg["dtype"])
    from digitnet.handwriting import model_options

    return zoo.build(cfg["model"], seed=cfg["seed"], dtype=cfg["dtype"], **model_options(cfg))


def make_schedule(cfg, steps_per_epoch):
    from digitnet.nn import schedules

    name, lr, epochs = cfg["schedule"], cfg["lr"], cfg["epochs"]
    total = epochs * steps_per_epoch
    table = {
        "constant": lambda: schedules.Constant(lr),
        "step": lambda: schedules.Step(lr, step_size=max(1, epochs // 3), gamma=0.1),
        "exponential": lambda: schedules.Exponential(lr, gamma=0.85),
        "cosine": lambda: schedules.Cosine(lr, total=total, warmup=min(steps_per_epoch // 2, total // 10),
                                           unit="step"),
        "onecycle": lambda: schedules.OneCycle(lr, total=total, unit="step"),
    }
    if name not in table:
        raise ValueError(f"unknown schedule {name!r}; expected one of: {', '.join(table)}")
    return table[name]()


def _validation_count(value, n):
    if value is None:
        return 0
    count = int(round(value * n)) if 0 < value < 1 else int(value)
    if not 0 <= count < n:
        raise ValueError(f"--validation must leave training images: got {value} of {n}")
    return count


def run(args) -> int:
    from digitnet.nn import EarlyStopping, JSONLinesLogger, ModelCheckpoint, io
    from digitnet.nn import losses

    cfg = resolve(args)
    for key in ("epochs", "batch_size"):
        if not isinstance(cfg[key], int) or cfg[key] < 1:
            raise ValueError(f"{key.replace('_', '-')} must be a positive integer, got {cfg[key]!r}")
    t_start = time.perf_counter()
    images, labels = load_split(args if args.dataset else args, "train")
    n_val = _validation_count(cfg["validation"], len(images))
    train_x, train_y = images[:len(images) - n_val], labels[:len(images) - n_val]
    if cfg["train_size"]:
        train_x, train_y = train_x[:cfg["train_size"]], train_y[:cfg["train_size"]]
    from digitnet import handwriting

    train_x, train_y = handwriting.training_images(train_x, train_y, cfg)
    model = build_model(cfg)
    model.preprocessing = handwriting.preprocessing(PREPROCESSING, cfg)
    x_train = model_inputs(train_x, model)
    val = (model_inputs(images[len(images) - n_val:], model), labels[len(images) - n_val:]) if n_val else None

    steps = math.ceil(len(x_train) / cfg["batch_size"])
    loss_kwargs = {"label_smoothing": cfg["label_smoothing"]} if cfg["loss"] in ("cross_entropy", "ce") else {}
    model.compile(cfg["optimizer"], losses.get(cfg["loss"], **loss_kwargs), schedule=make_schedule(cfg, steps),
                  lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    augment = None
    if cfg["augment"]:
        from digitnet.data.augment import Augmenter

        augment = Augmenter.from_string(cfg["augment"])
        model.preprocessing["augment"] = augment.to_string()

    out = cfg["out"] or os.path.join("runs", f"{cfg['model']}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(out, exist_ok=True)
    model.training_config = {k: v for k, v in cfg.items() if k != "out"}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(model.training_config, f, indent=2)
    model_path = os.path.join(out, "model.npz")
    callbacks = [JSONLinesLogger(os.path.join(out, "metrics.jsonl"))]
    callbacks.append(ModelCheckpoint(model_path, monitor="val_accuracy" if val else "loss", save_best_only=True))
    if cfg["patience"] and val:
        callbacks.append(EarlyStopping(monitor="val_accuracy", patience=cfg["patience"]))
    if not args.quiet:
        print(f"training {cfg['model']} ({model.n_params():,} parameters) on {len(x_train):,} images, "
              f"validating on {n_val:,}; run folder {out}")
    model.fit(x_train, train_y, epochs=cfg["epochs"], batch_size=cfg["batch_size"], validation_data=val,
              callbacks=callbacks, augment=augment, verbose=not args.quiet)

    best = io.load(model_path)
    if n_val:  # temperature and "not a digit" threshold, fitted on the validation split
        handwriting.fit_after_training(best, images[len(images) - n_val:], labels[len(images) - n_val:], cfg)
    test_images, test_labels = load_split(args, "test")
    result = handwriting.test_scores(best, test_images, test_labels)
    seconds = time.perf_counter() - t_start
    best.metrics.update(test_accuracy=result["accuracy"], test_loss=result["loss"], wall_seconds=seconds)
    io.save(best, model_path)
    print(f"test accuracy {result['accuracy']:.4f} ({result['accuracy'] * len(test_labels):.0f}/{len(test_labels)})"
          f"  best epoch val_accuracy {best.metrics.get('val_accuracy', float('nan')):.4f}  "
          f"wall time {seconds:.0f}s  model {model_path}")
    return 0
