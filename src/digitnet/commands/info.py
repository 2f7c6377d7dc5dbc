"""``digitnet info MODEL``: the architecture summary and the model file's header."""

from __future__ import annotations

import json

from digitnet.commands._common import add_data_options, formatter, load_model


def register(sub):
    p = sub.add_parser(
        "info",
        help="show a model's layers and its file header",
        formatter_class=formatter,
        description="Print the layer summary and the JSON header of a model file (training options, "
        "metrics, preprocessing, optimiser).",
        epilog="examples:\n  digitnet info runs/lenet5-20261121-101500\n  digitnet info model.npz --json\n"
        "  digitnet info --card runs/lenet5-20261121-101500   # writes its MODEL_CARD.md",
    )
    p.add_argument("model", help="model file (.npz) or run folder")
    p.add_argument("--json", action="store_true", help="print only the header, as JSON")
    p.add_argument(
        "--card",
        action="store_true",
        help="write MODEL_CARD.md next to the model (scores computed on the test set when the dataset "
        "is found, else taken from the header; robustness from RUN/robustness/results.json)",
    )
    add_data_options(p, dataset=False)
    p.set_defaults(func=run)


def run(args) -> int:
    import os

    from digitnet.nn import modelfile

    model = load_model(args.model, digit=False)  # info describes any digitnet model
    path = args.model if not os.path.isdir(args.model) else os.path.join(args.model, "model.npz")
    header = modelfile.read_header(path)
    header.get("state", {}).pop("rng", None)  # internal
    if args.card:
        return write_card(model, path, args)
    if args.json:
        print(json.dumps(header, indent=1))
        return 0
    print(model.summary())
    for key in ("metrics", "training", "preprocessing", "optimizer"):
        if header.get(key):
            print(f"\n{key}:")
            for k, v in header[key].items():
                print(f"  {k}: {v}")
    print(
        f"\nepochs trained: {header.get('state', {}).get('epochs_done', 0)}   file format version {header['version']}"
    )
    return 0


def write_card(model, path, args) -> int:
    from digitnet import modelcard
    from digitnet.data import load

    dataset = (model.training_config or {}).get("dataset", "mnist")
    try:
        images, labels = load(dataset, split="test", data_dir=args.data_dir, download=False)
        test = (images, labels)
    except (OSError, ValueError) as exc:  # no test data here: the card uses the header's figures
        print(f"test data not found ({str(exc).splitlines()[0]}); using the figures in the model file")
        test = None
    card = modelcard.write_card(model, path, test)
    print(f"wrote {card}")
    return 0
