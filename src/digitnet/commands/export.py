"""``digitnet export MODEL -o model.onnx``: write a model as ONNX (raw 28x28 pixels in, probabilities out)."""

from __future__ import annotations

import os

from digitnet import test_time
from digitnet.commands._common import add_data_options, formatter, load_model, load_split

EXAMPLES = """examples:
  digitnet export runs/lenet5-20261121-101500               # writes runs/lenet5-.../model.onnx
  digitnet export model.npz -o lenet5.onnx --verify 1000     # and compare with digitnet on 1,000 test images
"""
DESCRIPTION = """Write an ONNX file (opset 13) that runs the whole model without digitnet:
  input  'image'          float32 (N, 1, 28, 28), raw pixel values 0..255, white digit on black (like MNIST)
  output 'probabilities'  float32 (N, 10): the model's preprocessing, layers and calibration temperature
                          applied (11 columns for a model with a not-a-digit output)
  output 'logits'         float32 (N, 10): the network's raw outputs
The model file's header (architecture, training, metrics, calibration) is stored as ONNX metadata.
Needs the onnx package: pip install 'digitnet[onnx]'."""


def register(sub):
    p = sub.add_parser(
        "export",
        help="write a model as ONNX, to run it without digitnet",
        formatter_class=formatter,
        epilog=EXAMPLES,
        description=DESCRIPTION,
    )
    p.add_argument("model", help="model file (.npz) or run folder")
    p.add_argument("-o", "--out", help="the .onnx file to write (default: model.onnx next to the model)")
    p.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    p.add_argument(
        "--verify",
        type=int,
        metavar="N",
        default=0,
        help="run the file with onnxruntime on the first N test images and print the largest "
        "difference from digitnet's probabilities (needs onnxruntime and the dataset)",
    )
    add_data_options(p)
    p.set_defaults(func=run)


def default_output(model_path: str) -> str:
    if os.path.isdir(model_path):
        return os.path.join(model_path, "model.onnx")
    return os.path.splitext(model_path)[0] + ".onnx"


def run(args) -> int:
    from digitnet.export import to_onnx
    from digitnet.export.verify import compare

    out = args.out or default_output(args.model)
    if not out.endswith(".onnx"):
        raise ValueError(f"the output file must end in .onnx, got {out!r}")
    if os.path.exists(out) and not args.overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    if args.verify < 0:
        raise ValueError(f"--verify must be a count >= 0, got {args.verify}")
    model = load_model(args.model)
    try:
        to_onnx(model, out)
    except ImportError as exc:  # the optional onnx package is missing: a one-line error, not a traceback
        raise RuntimeError(str(exc)) from None
    n_out = model.layers[-1].output_shape[0] if model.layers else "?"
    print(
        f"wrote {out} ({os.path.getsize(out):,} bytes, ONNX opset 13): input 'image' float32 (N, 1, 28, 28) "
        f"raw 0..255 -> 'probabilities' (N, {n_out}), 'logits' (N, {n_out})"
    )
    angles = test_time.rotations(model)
    if angles:
        print(
            f"note: the graph answers from each image alone; the model's test-time views (copies rotated by "
            f"{test_time.describe(angles)} degrees) are not in it (as digitnet evaluate --no-tta)"
        )
    if args.verify:
        images, _ = load_split(args, "test")
        if args.verify > len(images):
            raise ValueError(f"--verify must be at most {len(images)} (the test images), got {args.verify}")
        try:
            result = compare(model, out, images[: args.verify])
        except ImportError as exc:
            raise RuntimeError(str(exc)) from None
        print(
            f"onnxruntime vs digitnet on {result['n']} test images: max abs difference in probabilities "
            f"{result['max_abs_diff']:.2e}, same predicted class for {result['same_predictions']}/{result['n']}"
        )
    return 0
