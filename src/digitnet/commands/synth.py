"""``digitnet synth OUT``: write an out-of-MNIST test (or training) set of pictures with labels.csv."""

from __future__ import annotations

EXAMPLES = """examples:
  digitnet synth heldout-digits                       1000 held-out-style digits, sizes 16-300 px
  digitnet evaluate runs/lenet5-... --images heldout-digits
  digitnet synth small --n 200 --sizes 28 --seed 1
  digitnet synth rejects --n 0 --negatives all --n-negatives 200
  digitnet synth train-set --split train --negatives dot,line,letter
The held-out split draws only the held-out font families and pen-stroke styles (docs/handwriting.md);
train on --split train, report on --split heldout. Negatives get label -1 and their kind in labels.csv.
"""


def register(sub):
    from digitnet.commands._common import formatter

    p = sub.add_parser(
        "synth",
        help="write synthetic out-of-MNIST digits (and not-a-digit pictures)",
        formatter_class=formatter,
        epilog=EXAMPLES,
        description="Write handwriting-style digits from fonts and pen strokes (and, if asked,\n"
        "not-a-digit pictures) as PNG files and labels.csv, the format\n"
        "'digitnet evaluate --images' reads.",
    )
    p.add_argument("out", help="folder to write (must not exist or be empty, unless --overwrite)")
    p.add_argument("--split", default="heldout", help="heldout (default) or train: which styles to draw")
    p.add_argument("--n", default="1000", help="number of digits (default 1000; labels balanced)")
    p.add_argument(
        "--sizes",
        default="16,28,64,300",
        help="picture sizes in px (longer side), comma-separated, 8-1024 (default 16,28,64,300)",
    )
    p.add_argument("--seed", default="0", help="random seed, an integer >= 0 (default 0)")
    p.add_argument(
        "--negatives",
        default="",
        metavar="KIND,...|all",
        help="also write not-a-digit pictures of these kinds (label -1): all, or some of "
        "blank, faint, dot, line, scribble, letter, shape, fashion, noise",
    )
    p.add_argument("--n-negatives", default="100", help="pictures per negative kind (default 100)")
    p.add_argument("--overwrite", action="store_true", help="replace a folder a previous 'digitnet synth' wrote")
    p.set_defaults(func=run)


def _int(name, text, low, high):
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high:
        raise ValueError(f"--{name} must be an integer in [{low}, {high}], got {text!r}")
    return value


def parse_sizes(text):
    parts = [s.strip() for s in str(text).split(",")]
    try:
        sizes = tuple(int(s) for s in parts)
    except ValueError:
        sizes = ()
    if not sizes or any(not 8 <= s <= 1024 for s in sizes):
        raise ValueError(f"--sizes must be comma-separated picture sizes in [8, 1024] px, got {text!r}")
    return sizes


def parse_kinds(text):
    from digitnet.data.synth import NEGATIVE_KINDS

    if not text:
        return ()
    if text.strip() == "all":
        return NEGATIVE_KINDS
    kinds = tuple(k.strip() for k in text.split(","))
    bad = [k for k in kinds if k not in NEGATIVE_KINDS]
    if bad:
        raise ValueError(f"--negatives: unknown kind {bad[0]!r}; expected all or some of {', '.join(NEGATIVE_KINDS)}")
    return tuple(dict.fromkeys(kinds))


def run(args) -> int:
    import os

    from digitnet.data.synth import digits, fonts, negatives, write_folder

    if args.split not in ("train", "heldout"):
        raise ValueError(f"--split must be heldout or train, got {args.split!r}")
    n = _int("n", args.n, 0, 1_000_000)
    seed = _int("seed", args.seed, 0, 2**63 - 1)
    sizes = parse_sizes(args.sizes)
    kinds = parse_kinds(args.negatives)
    per_kind = _int("n-negatives", args.n_negatives, 1, 1_000_000) if kinds else 0
    if n + per_kind * len(kinds) == 0:
        raise ValueError("nothing to write: --n is 0 and no --negatives")
    if os.path.exists(args.out) and (not os.path.isdir(args.out) or (os.listdir(args.out) and not args.overwrite)):
        raise ValueError(f"{args.out} exists and is not an empty folder; choose a new one or pass --overwrite")
    installed = fonts.available(args.split)
    pictures, labels = digits(n, split=args.split, seed=seed, sizes=sizes)
    labels, names = [int(v) for v in labels], ["digit"] * n
    for kind in kinds:
        more = negatives(kind, per_kind, split=args.split, seed=seed, sizes=sizes)
        pictures += more
        labels += [-1] * len(more)
        names += [kind] * len(more)
    write_folder(args.out, pictures, labels, kinds=names if kinds else None, overwrite=args.overwrite)
    print(
        f"wrote {len(pictures)} pictures ({n} digits"
        + (f", {per_kind} of each of {', '.join(kinds)}" if kinds else "")
        + f") to {args.out}/ with labels.csv; split {args.split}, seed {seed}, sizes "
        f"{','.join(map(str, sizes))}; fonts: {len(installed)} of {len(fonts.families(args.split))} "
        f"{args.split} families installed"
    )
    return 0
