"""``digitnet view MODEL``: the seed's "viewtest" — a test image, its label, the guess and the 10 probabilities.

Probabilities and verdicts come from ``digitnet.Recognizer`` as in ``evaluate``: the 10 digit
probabilities at the model file's temperature, and "not a digit" when the model file's rejection says so.
A mistake is a test image whose most likely digit is not its label (the count ``evaluate`` reports)."""

from __future__ import annotations

import numpy as np

from digitnet.commands import _options as opt
from digitnet.commands._common import add_data_options, formatter, load_split
from digitnet.metrics import percent
from digitnet.runs import model_name

SHADES = " .:-=+*#%@"
EXAMPLES = """examples:
  digitnet view runs/lenet5-20261121-101500 --index 0
  digitnet view model.npz --wrong              # the first test image the model gets wrong (K = 1)
  digitnet view model.npz --wrong 3 --png wrong3.png   # the third
"""


def register(sub):
    p = sub.add_parser(
        "view",
        help="show a test image with the model's guess in the terminal",
        formatter_class=formatter,
        epilog=EXAMPLES,
        description="Draw a test image in the terminal with its true label, the model's guess and "
        "the ten probabilities as bars; optionally save it as a PNG.",
    )
    p.add_argument("model", help="model file (.npz) or run folder")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--index", type=int, default=0, help="test image index (default 0)")
    which.add_argument(
        "--wrong",
        type=int,
        nargs="?",
        const=1,
        metavar="K",
        help="the K-th misclassified test image, counting from 1 (default 1: the first)",
    )
    p.add_argument("--png", help="also save the image with its probabilities to this PNG file")
    add_data_options(p)
    p.set_defaults(func=run)


def render(image) -> str:
    """A 28x28 image in [0, 1] or uint8 as text, two characters per pixel."""
    image = np.asarray(image, dtype=np.float64)
    if image.max() > 1:
        image = image / 255
    levels = np.clip((image * (len(SHADES) - 1)).round().astype(int), 0, len(SHADES) - 1)
    return "\n".join("".join(SHADES[v] * 2 for v in row) for row in levels)


def bars(proba, width: int = 30) -> str:
    top = int(np.argmax(proba))
    return "\n".join(
        f"{d}  {'█' * int(round(p * width)):<{width}} {percent(p):>6}{'  <- guess' if d == top else ''}"
        for d, p in enumerate(proba)
    )


def run(args) -> int:
    opt.integer("index", args.index, low=0)
    if args.wrong is not None:
        opt.integer("wrong", args.wrong, low=0)
    from digitnet.recognizer import Recognizer

    recognizer = Recognizer.load(args.model)
    images, labels = load_split(args, "test")
    if args.wrong is not None:
        pred = recognizer.probabilities(images).argmax(axis=1)
        wrong = np.flatnonzero(pred != labels)
        if args.wrong < 1:
            raise ValueError(f"--wrong counts from 1 (the first mistake), got {args.wrong}")
        if args.wrong > len(wrong):
            raise ValueError(f"--wrong {args.wrong}: the model makes only {len(wrong)} mistakes on the test set")
        index = int(wrong[args.wrong - 1])
        print(f"mistake {args.wrong} of {len(wrong)}")
    else:
        index = args.index
        if not 0 <= index < len(images):
            raise ValueError(f"--index must be in [0, {len(images) - 1}], got {index}")
    answer = recognizer.predict_mnist_style(images[index : index + 1])[0]
    proba = np.asarray(answer.probabilities)
    guess = answer.digit
    verdict = "right" if guess == labels[index] else "WRONG"
    print(render(images[index]))
    print(f"test image {index}: true label {labels[index]}, guess {guess} ({percent(proba[guess])}) — {verdict}")
    if answer.not_a_digit:
        print(f"the model says: not a digit (score {answer.score}, {answer.reason})")
    print(bars(proba))
    if args.png:
        save_png(images[index], labels[index], proba, args.png, index, model_name(args.model))
        print(f"saved {args.png}")
    return 0


def save_png(image, label, proba, path, index, name="model"):
    from digitnet.plots import _save, plt

    fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(7, 3))
    ax_img.imshow(image, cmap="gray")
    ax_img.axis("off")
    ax_img.set_title(f"test image {index}, label {label}")
    colours = ["C2" if d == label else ("C3" if d == int(np.argmax(proba)) else "C0") for d in range(10)]
    ax_bar.barh(range(10), proba, color=colours)
    ax_bar.set(yticks=range(10), xlim=(0, 1), xlabel="probability", title=f"guess {int(np.argmax(proba))}")
    ax_bar.invert_yaxis()
    fig.suptitle(f"{name} on test image {index}", fontsize=10, y=1.04)
    _save(fig, path)
