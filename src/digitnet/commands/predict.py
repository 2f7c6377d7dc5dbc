"""``digitnet predict MODEL IMAGE...``: classify your own image files."""

from __future__ import annotations

import json

import numpy as np

from digitnet.commands._common import formatter, load_model, model_inputs

EXAMPLES = """examples:
  digitnet predict runs/lenet5-20261121-101500 my-seven.png
  digitnet predict model.npz photos/*.jpg --json
Images may be any size, dark ink on light paper or light on dark: each is converted like MNIST
(crop to the ink, fit in 20x20 keeping the aspect ratio, centre by centre of mass in 28x28).
"""


def register(sub):
    p = sub.add_parser("predict", help="classify image files (PNG/JPG, any size)", formatter_class=formatter,
                       description="Classify image files with MNIST-style preprocessing.", epilog=EXAMPLES)
    p.add_argument("model", help="model file (.npz) or run folder")
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("--json", action="store_true", help="one JSON object per image, in a list")
    p.set_defaults(func=run)


def run(args) -> int:
    from digitnet.data.preprocess import is_blank, load_image, to_mnist

    model = load_model(args.model)
    results = []
    for path in args.images:
        image = load_image(path)
        digit = to_mnist(image)
        proba = model.predict_proba(model_inputs(digit[None], model))[0]
        results.append({"file": path, "prediction": int(proba.argmax()), "confidence": float(proba.max()),
                        "blank": bool(is_blank(image)), "probabilities": [round(float(p), 6) for p in proba]})
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    for r in results:
        note = "  (blank image)" if r["blank"] else ""
        top = np.argsort(r["probabilities"])[::-1][:3]
        others = ", ".join(f"{d}: {r['probabilities'][d]:.1%}" for d in top[1:])
        print(f"{r['file']}: {r['prediction']} ({r['confidence']:.1%}; next {others}){note}")
    return 0
