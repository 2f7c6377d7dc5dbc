"""``digitnet train``: train a zoo model or a custom MLP, save the run folder, report test accuracy.

A run folder holds model.npz (the best epoch by validation accuracy), last.npz (the latest epoch, with
optimiser and random-generator state), config.json and metrics.jsonl. An existing run is never
replaced silently: a non-empty --out is refused unless --overwrite. Ctrl-C or SIGTERM stops after
saying what was saved; ``digitnet train --resume RUN`` continues a stopped (or finished, with a
larger --epochs) run exactly where it stopped.
"""

from __future__ import annotations

import json
import math
import os
import time
import tomllib

import atomicfile
from digitnet.commands import _options as opt
from digitnet.commands._common import PREPROCESSING, add_data_options, formatter, model_inputs

EXAMPLES = """examples:
  digitnet train                                   # the main job: the reader CNN (digits, shifts, "not a digit")
  digitnet train --model lenet5                    # LeNet-5 with light augmentation: 99.2% in ~40 s
  digitnet train --model cnn --epochs 12           # the strongest zoo model
  digitnet train --model mlp --hidden 128,64 --activation relu --dropout 0.2 --epochs 10
  digitnet train --model mlp-16-16 --optimizer sgd --lr 0.5 --loss mse   # a seed's network
  digitnet train --model lenet5 --augment shift=2,rotate=10 --out runs/lenet5-aug
  digitnet train --config my-run.toml              # the same options as TOML keys (hidden = [128, 64])
  digitnet train --resume runs/lenet5-aug          # continue a stopped run exactly where it stopped
  digitnet train --resume runs/lenet5-aug --epochs 15   # train a finished run for more epochs
"""

DEFAULTS = {
    "model": "reader",
    "epochs": 8,
    "batch_size": 64,
    "optimizer": "adam",
    "lr": 1e-3,
    "schedule": "cosine",
    "weight_decay": 0.0,
    "loss": "cross_entropy",
    "label_smoothing": 0.0,
    "seed": 0,
    "dtype": "float32",
    "validation": 5000,
    "train_size": None,
    "augment": None,
    "patience": None,
    "hidden": [128],
    "activation": "relu",
    "dropout": 0.0,
    "init": None,
    "dataset": "mnist",
    "out": None,
    "synthetic": 0,
    "negatives": 0,
    "centre": "none",
    "tta": 0,
}  # generator digits / "not a digit" images (digitnet.handwriting)
MLP_ONLY = ("hidden", "activation", "dropout", "init")
SCHEDULES = ("constant", "step", "exponential", "cosine", "onecycle")
RUN_FILES = ("model.npz", "last.npz", "config.json", "metrics.jsonl")


def register(sub):
    p = sub.add_parser(
        "train",
        help="train a model and save it in a run folder",
        formatter_class=formatter,
        description="Train a network on MNIST (or another IDX dataset). Writes RUN/model.npz (the "
        "best epoch by validation accuracy), RUN/last.npz (the latest epoch, to resume), "
        "RUN/config.json and RUN/metrics.jsonl, then prints the test accuracy.",
        epilog=EXAMPLES,
    )
    p.add_argument(
        "--model",
        help="zoo name (reader, reader-large, lenet5, lenet-wide, cnn, mlp-16-16, mlp-10, mlp-30, "
        "mlp-100-100, mlp-800-800) or 'mlp' for --hidden/--activation (default reader)",
    )
    p.add_argument("--config", help="TOML file with any of these options as keys")
    p.add_argument("--epochs", type=int, help="number of epochs (with --resume: the new total)")
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
    p.add_argument(
        "--tta",
        type=float,
        metavar="DEGREES",
        help="test-time views: answers average the image and copies rotated by +-DEGREES (0: off)",
    )
    p.add_argument(
        "--validation",
        type=float,
        help="validation images taken from the end of the training set: a count, or a fraction < 1 (default 5000)",
    )
    p.add_argument("--train-size", type=int, help="use only the first N training images (quick experiments)")
    p.add_argument("--patience", type=int, help="early stopping after N epochs without val_accuracy gains")
    p.add_argument("--seed", type=int)
    p.add_argument("--dtype", choices=["float32", "float64"])
    p.add_argument("--out", help="run folder (default runs/<model>-<date>-<time>); must be new or empty")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    p.add_argument("--resume", metavar="RUN", help="continue the run in folder RUN (its config.json and last.npz)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    add_data_options(p, dataset_default=None)
    p.set_defaults(func=run)


# --- options -----------------------------------------------------------------
def _read_toml(path) -> dict:
    try:
        with open(path, "rb") as f:
            toml = {k.replace("-", "_"): v for k, v in tomllib.load(f).items()}
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({' '.join(str(exc).split())})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not valid TOML (not UTF-8 text)") from None
    unknown = sorted(set(toml) - set(DEFAULTS))
    if unknown:
        raise ValueError(
            f"{path}: unknown option(s) {', '.join(unknown)}; expected some of {', '.join(sorted(DEFAULTS))}"
        )
    return toml


def resolve(args) -> dict:
    """Options in force: built-in defaults < the zoo recipe < --config TOML < flags on the command line.
    Every value is checked (``validate``); mlp-only options given for a zoo model are refused."""
    from digitnet import zoo

    flags = {k: v for k, v in vars(args).items() if k in DEFAULTS and v is not None}
    toml = _read_toml(args.config) if getattr(args, "config", None) else {}
    name = flags.get("model") or toml.get("model") or DEFAULTS["model"]
    if not isinstance(name, str) or (name != "mlp" and name not in zoo.NAMES):
        raise ValueError(f"--model {name!r} is not a model; expected mlp or one of {', '.join(zoo.NAMES)}")
    given = {**toml, **flags}
    if name != "mlp":
        extra = [k for k in MLP_ONLY if k in given]
        if extra:
            shown = ", ".join("--" + k for k in extra)
            raise ValueError(
                f"{shown} appl{'y' if len(extra) > 1 else 'ies'} to --model mlp only; {name} has a "
                f"fixed architecture (use --model mlp with --hidden/--activation for your own)"
            )
    recipe = zoo.recipe(name) if name != "mlp" else {}
    cfg = {**DEFAULTS, **recipe, **given, "model": name}
    if isinstance(cfg["hidden"], str):
        cfg["hidden"] = opt.int_list("hidden", cfg["hidden"])
    validate(cfg)
    if name != "mlp":
        for key in MLP_ONLY:
            cfg.pop(key)
    return cfg


def validate(cfg) -> None:
    """One-line ValueError naming the option, the value and what is allowed, for the first bad value."""
    from digitnet.nn import init, losses, modelschema, optim

    opt.positive_int("epochs", cfg["epochs"])
    opt.positive_int("batch-size", cfg["batch_size"], high=1 << 20)
    opt.choice("optimizer", cfg["optimizer"], sorted(optim.Optimizer.registry["reference"]), lower=True)
    opt.number("lr", cfg["lr"], low=0.0, low_open=True, high=10.0)
    opt.choice("schedule", cfg["schedule"], SCHEDULES)
    opt.number("weight-decay", cfg["weight_decay"], low=0.0, high=1.0)
    opt.choice("loss", cfg["loss"], sorted(losses.LOSSES))
    opt.number("label-smoothing", cfg["label_smoothing"], low=0.0, high=1.0, high_open=True)
    opt.integer("seed", cfg["seed"], low=0, high=2**63 - 1)
    opt.choice("dtype", cfg["dtype"], ("float32", "float64"))
    validation = cfg["validation"]
    if isinstance(validation, float) and validation.is_integer():
        validation = cfg["validation"] = int(validation)
    if not (
        (isinstance(validation, float) and 0 < validation < 1)
        or (isinstance(validation, int) and not isinstance(validation, bool) and validation >= 0)
    ):
        raise ValueError(
            f"--validation must be a count of images (an integer >= 0) or a fraction in (0, 1), got {validation!r}"
        )
    if cfg["train_size"] is not None:
        opt.positive_int("train-size", cfg["train_size"])
    if cfg["patience"] is not None:
        opt.positive_int("patience", cfg["patience"])
        if validation == 0:
            raise ValueError("--patience watches val_accuracy, so it needs validation images; --validation is 0")
    opt.integer("synthetic", cfg["synthetic"], low=0, high=1_000_000)
    opt.integer("negatives", cfg["negatives"], low=0, high=1_000_000)
    opt.choice("centre", cfg["centre"], ("none", "mass"))
    opt.number("tta", cfg["tta"], low=0.0, high=45.0)
    if cfg["augment"] is not None and not isinstance(cfg["augment"], str):
        raise ValueError(f"--augment must be text like 'shift=2,rotate=10', got {cfg['augment']!r}")
    if cfg["augment"]:
        from digitnet.data.augment import Augmenter

        Augmenter.from_string(cfg["augment"])  # a bad spec is refused before any data is read
    if not isinstance(cfg["dataset"], str) or not cfg["dataset"]:
        raise ValueError(f"--dataset must be a dataset name or folder, got {cfg['dataset']!r}")
    if cfg["out"] is not None and not isinstance(cfg["out"], str):
        raise ValueError(f"--out must be a folder name, got {cfg['out']!r}")
    if cfg["model"] == "mlp":
        hidden = cfg["hidden"]
        if not isinstance(hidden, list) or not all(isinstance(h, int) and not isinstance(h, bool) for h in hidden):
            raise ValueError(f"--hidden must be a list of layer sizes like 128,64, got {hidden!r}")
        for h in hidden:
            opt.positive_int("hidden", h, high=100_000)
        sizes = [28 * 28, *hidden, 10]
        params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
        if params > modelschema.MAX_PARAMETERS:
            raise ValueError(
                f"--hidden {','.join(map(str, hidden))} makes {params:,} parameters; the limit is "
                f"{modelschema.MAX_PARAMETERS:,}"
            )
        opt.choice(
            "activation",
            cfg["activation"],
            ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu"),
            lower=True,
        )
        opt.number("dropout", cfg["dropout"], low=0.0, high=1.0, high_open=True)
        if cfg["init"] is not None:
            opt.choice("init", cfg["init"], sorted(init.INITIALISERS) + sorted(init.ALIASES))


# --- building ----------------------------------------------------------------
def build_model(cfg):
    from digitnet import zoo

    if cfg["model"] == "mlp":
        return zoo.mlp(
            cfg["hidden"],
            activation=cfg["activation"],
            dropout=cfg["dropout"],
            weight_init=cfg["init"],
            seed=cfg["seed"],
            dtype=cfg["dtype"],
        )
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
        "cosine": lambda: schedules.Cosine(lr, total=total, warmup=min(steps_per_epoch // 2, total // 10), unit="step"),
        "onecycle": lambda: schedules.OneCycle(lr, total=total, unit="step"),
    }
    if name not in table:
        raise ValueError(f"unknown schedule {name!r}; expected one of: {', '.join(table)}")
    return table[name]()


def _validation_count(value, n):
    if value is None:
        return 0
    count = int(round(value * n)) if isinstance(value, float) else int(value)
    if not 0 <= count < n:
        raise ValueError(f"--validation {value} must leave training images: the training set has {n}")
    return count


def _load(cfg, args, split):
    from digitnet.data import load
    from digitnet.data.datasets import check_base_dir

    check_base_dir(args.data_dir)
    images, labels = load(cfg["dataset"], split=split, data_dir=args.data_dir)
    return images, labels.astype("int64")


# --- the run folder ------------------------------------------------------------
def _out_folder(cfg, args) -> str:
    """A folder for a new run: --out (new, empty, or with --overwrite) or a fresh runs/<model>-<time>."""
    if cfg["out"] is None:
        base = os.path.join("runs", f"{cfg['model']}-{time.strftime('%Y%m%d-%H%M%S')}")
        out, k = base, 2
        while os.path.exists(out):
            out, k = f"{base}-{k}", k + 1
        return out
    out = cfg["out"]
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out {out!r} is a file; expected a run folder")
    if os.path.isdir(out) and os.listdir(out):
        if not args.overwrite:
            held = [f for f in RUN_FILES if os.path.exists(os.path.join(out, f))] or sorted(os.listdir(out))[:3]
            raise ValueError(
                f"--out {out!r} is not empty (it holds {', '.join(held)}); pass --overwrite to "
                f"replace it, 'digitnet train --resume {out}' to continue it, or another --out"
            )
    return out


def _clear_run(out) -> None:
    """With --overwrite: remove the old run's files (only once everything else has been checked)."""
    for name in RUN_FILES:
        path = os.path.join(out, name)
        if os.path.exists(path):
            os.remove(path)


def _history(metrics_path, epochs_done) -> list[dict]:
    """The metrics.jsonl rows of epochs 1..epochs_done (later rows, of an epoch not saved, are dropped)."""
    rows = []
    if os.path.exists(metrics_path):
        with open(metrics_path, encoding="utf-8") as f:
            for line in f:
                try:
                    row = json.loads(line)
                except ValueError:
                    break  # a line cut by a kill: the epochs after it were never saved
                if isinstance(row, dict) and isinstance(row.get("epoch"), int) and row["epoch"] <= epochs_done:
                    rows.append(row)
    return rows


def _resume_state(args):
    """(cfg, model, history rows) of the run folder named by --resume."""
    from digitnet.nn import Sequential

    run_dir = args.resume
    for name in ("config.json", "last.npz"):
        if not os.path.isfile(os.path.join(run_dir, name)):
            raise FileNotFoundError(
                f"--resume {run_dir!r}: no {name} there; expected a run folder written by "
                "'digitnet train' (runs older than --resume support have no last.npz)"
            )
    ignored = [k for k, v in vars(args).items() if k in DEFAULTS and k not in ("epochs", "out") and v is not None]
    if ignored or args.config or args.overwrite or args.out:
        given = ignored + [k for k in ("config", "out", "overwrite") if getattr(args, k)]
        raise ValueError(
            f"--resume continues a run with its own options; only --epochs may be given with it "
            f"(got {', '.join('--' + k.replace('_', '-') for k in given)})"
        )
    try:
        with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
            saved = json.load(f)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{run_dir}/config.json is damaged ({' '.join(str(exc).split())})") from None
    if not isinstance(saved, dict) or set(saved) - set(DEFAULTS):
        raise ValueError(f"{run_dir}/config.json does not hold digitnet train options")
    cfg = {**DEFAULTS, **saved}
    if saved.get("model") != "mlp":
        for key in MLP_ONLY:
            cfg.pop(key, None)
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    if cfg["model"] == "mlp":
        validate(cfg)
    else:
        validate({**cfg, **{k: DEFAULTS[k] for k in MLP_ONLY}})
    cfg["out"] = run_dir
    model = Sequential.load(os.path.join(run_dir, "last.npz"))
    return cfg, model, _history(os.path.join(run_dir, "metrics.jsonl"), model.epochs_done)


# --- the command -----------------------------------------------------------------
def run(args) -> int:
    from digitnet.nn import EarlyStopping, JSONLinesLogger, ModelCheckpoint, Sequential
    from digitnet.nn.training import split_validation
    from digitnet.nn import losses

    resuming = bool(getattr(args, "resume", None))
    if resuming:
        cfg, model, history = _resume_state(args)
    else:
        cfg, model, history = resolve(args), None, []
    out = cfg["out"] if resuming else _out_folder(cfg, args)  # refused now, before any work
    t_start = time.perf_counter()
    images, labels = _load(cfg, args, "train")
    test_images, test_labels = _load(cfg, args, "test")  # before training: missing files are named now
    n_val = _validation_count(cfg["validation"], len(images))
    (train_x, train_y), (val_x, val_y) = split_validation(images, labels, n_val)  # the last n_val images
    if cfg["train_size"]:
        train_x, train_y = train_x[: cfg["train_size"]], train_y[: cfg["train_size"]]
    from digitnet import handwriting

    train_x, train_y = handwriting.training_images(train_x, train_y, cfg, handwriting.generation_workers(cfg))
    if model is None:
        model = build_model(cfg)
    model.preprocessing = handwriting.preprocessing(PREPROCESSING, cfg)
    x_train = model_inputs(train_x, model)
    val = (model_inputs(val_x, model), val_y) if n_val else None

    steps = math.ceil(len(x_train) / cfg["batch_size"])
    if not resuming:
        loss_kwargs = {"label_smoothing": cfg["label_smoothing"]} if cfg["label_smoothing"] else {}
        model.compile(
            cfg["optimizer"],
            losses.get(cfg["loss"], **loss_kwargs),
            schedule=make_schedule(cfg, steps),
            lr=cfg["lr"],
            weight_decay=cfg["weight_decay"],
        )
    elif model.training_config.get("epochs") != cfg["epochs"]:
        model.schedule = make_schedule(cfg, steps)  # a longer run: the schedule spans the new total
    augment = None
    if cfg["augment"]:
        from digitnet.data.augment import Augmenter

        augment = Augmenter.from_string(cfg["augment"])
        model.preprocessing["augment"] = augment.to_string()

    if not resuming and args.overwrite:
        _clear_run(out)
    os.makedirs(out, exist_ok=True)
    model.training_config = {k: v for k, v in cfg.items() if k != "out"}
    config_text = json.dumps(model.training_config, indent=2).encode("utf-8")
    atomicfile.write(os.path.join(out, "config.json"), lambda f: f.write(config_text))
    model_path, last_path = os.path.join(out, "model.npz"), os.path.join(out, "last.npz")
    metrics_path = os.path.join(out, "metrics.jsonl")
    if resuming:  # drop rows of an epoch that was logged but never saved
        rows = "".join(json.dumps(row) + "\n" for row in history).encode("utf-8")
        atomicfile.write(metrics_path, lambda f: f.write(rows))
    monitor = "val_accuracy" if val else "loss"
    best = ModelCheckpoint(model_path, monitor=monitor, save_best_only=True)
    seen = [row[monitor] for row in history if isinstance(row.get(monitor), (int, float))]
    if seen:
        best.best = max(seen) if best.mode == "max" else min(seen)
    callbacks = [JSONLinesLogger(metrics_path, append=resuming), best, ModelCheckpoint(last_path, save_best_only=False)]
    if cfg["patience"] and val:
        stopper = EarlyStopping(monitor="val_accuracy", patience=cfg["patience"])
        for row in history:  # the patience count where the run stopped
            value = row.get("val_accuracy")
            if isinstance(value, (int, float)):
                if stopper.best is None or value > stopper.best + stopper.min_delta:
                    stopper.best, stopper.wait = value, 0
                else:
                    stopper.wait += 1
        callbacks.append(stopper)
    if not args.quiet:
        verb = f"resuming at epoch {model.epochs_done + 1}/{cfg['epochs']}:" if resuming else "training"
        print(
            f"{verb} {cfg['model']} ({model.n_params():,} parameters) on {len(x_train):,} images, "
            f"validating on {n_val:,}; run folder {out}"
        )
    if model.epochs_done < cfg["epochs"]:
        try:
            model.fit(
                x_train,
                train_y,
                epochs=cfg["epochs"],
                batch_size=cfg["batch_size"],
                validation_data=val,
                callbacks=callbacks,
                augment=augment,
                verbose=not args.quiet,
            )
        except KeyboardInterrupt as exc:
            raise _stopped(exc, out, model, cfg, best) from None
    elif not os.path.exists(model_path):
        raise ValueError(f"{out} has no model.npz to evaluate")

    best_model = Sequential.load(model_path)
    if n_val:  # temperature and "not a digit" threshold, fitted on the validation split
        handwriting.fit_after_training(best_model, val_x, val_y, cfg)
    result = handwriting.test_scores(best_model, test_images, test_labels)
    seconds = time.perf_counter() - t_start
    best_model.metrics.update(test_accuracy=result["accuracy"], test_loss=result["loss"], wall_seconds=seconds)
    best_model.save(model_path)
    print(
        f"test accuracy {result['accuracy']:.4f} ({result['accuracy'] * len(test_labels):.0f}/{len(test_labels)})"
        f"  best epoch val_accuracy {best_model.metrics.get('val_accuracy', float('nan')):.4f}  "
        f"wall time {seconds:.0f}s  model {model_path}"
    )
    return 0


def _stopped(exc, out, model, cfg, best) -> KeyboardInterrupt:
    """The interruption, carrying a message that says what was saved and how to go on."""
    done = model.epochs_done
    if done:
        what = (
            f"{out}/last.npz holds epoch {done} of {cfg['epochs']} and {out}/model.npz the best epoch so far "
            f"({best.monitor} {best.best:.4f})"
            if best.best is not None
            else f"{out}/last.npz holds epoch {done}"
        )
        exc.args = (f"stopped during epoch {done + 1}: {what}; continue with: digitnet train --resume {out}",)
    else:
        exc.args = (
            f"stopped during epoch 1: nothing was saved yet in {out} (the first epoch saves last.npz); "
            f"start again with --out {out} --overwrite",
        )
    return exc
