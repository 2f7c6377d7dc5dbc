"""A whole digitnet model as one ONNX graph: raw pixels in, calibrated probabilities out.

    image (N, 1, H, W) float32, raw pixel values 0..255 (MNIST polarity: white digit on black, H = W = 28)
      -> the model's preprocessing   x = image * scale; [centre by mass]; x = (x - mean) / std;
                                     reshape to (N, *input_shape)              (preprocess.py)
      -> the layers (layers.py; batch norms folded, specs.py)
      -> logits (N, C)
      -> probabilities (N, C) = softmax(logits / T)      T = model.calibration["temperature"] (absent: 1)

That is ``softmax(model.predict_logits(model_inputs(images)) / T)``, which is ``predict_proba`` when T = 1.
A model whose last layer is already Softmax or Sigmoid is treated as ``predict_proba`` does: its outputs
are divided by their sum (at least 1e-12); a temperature then raises them to the power 1/T before that
division (the same as softmax(log p / T)).

C is 10, or 11 for a model with a "not a digit" output (model.rejection["reject_class"] == 10): the
graph returns all 11 probabilities, and two more outputs as digitnet's Recognizer sees such a network,
"digit_probabilities" (N, 10) = softmax(logits[:, :10] / T) and "not_a_digit_score" (N,) =
softmax(logits)[:, 10]. The threshold the score is compared with, and every other setting of the
rejection rule, are in the metadata ("digitnet.rejection"): applying them (and the Recognizer's ink
checks on the picture) is left to the program that runs the model.
"""

from __future__ import annotations

import json
import math

import numpy as np

import atomicfile

from digitnet import __version__
from digitnet.data.inputs import preprocessing_spec
from digitnet.export.graph import GraphBuilder, onnx_modules
from digitnet.export.layers import ExportError, export_layer
from digitnet.export.preprocess import preprocessing
from digitnet.export.specs import layer_specs, prepare

OPSET = 13
IR_VERSION = 7  # the IR version that came with opset 13, so that older runtimes read the file too
INPUT, LOGITS, PROBABILITIES = "image", "logits", "probabilities"
DIGIT_PROBABILITIES, NOT_A_DIGIT = "digit_probabilities", "not_a_digit_score"  # 11-output models only


def temperature_of(model) -> float:
    """The model's calibration temperature (1 when it has none); ExportError unless finite and > 0."""
    calibration = getattr(model, "calibration", None) or {}
    t = calibration.get("temperature", 1.0)
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t <= 0:
        raise ExportError(f"calibration temperature must be a finite number > 0, got {t!r}")
    return float(t)


def class_names(n_classes: int, model) -> list[str]:
    """'0'..'9', plus 'not a digit' at the model's reject_class when it has that output."""
    names = [str(i) for i in range(n_classes)]
    reject = (getattr(model, "rejection", None) or {}).get("reject_class")
    if isinstance(reject, int) and not isinstance(reject, bool) and 0 <= reject < n_classes:
        names[reject] = "not a digit"
    return names


def image_size(input_shape) -> tuple[int, int]:
    """(H, W) of the raw images a model with this per-sample input shape reads."""
    shape = tuple(input_shape)
    if len(shape) == 3 and shape[0] == 1:
        return shape[1], shape[2]
    if len(shape) == 2:
        return shape
    if len(shape) == 1 and math.isqrt(shape[0]) ** 2 == shape[0]:
        return math.isqrt(shape[0]), math.isqrt(shape[0])
    raise ExportError(
        f"cannot export a model with input shape {shape}: expected (1, H, W), (H, W) or (H*W,) for one grey image"
    )


def probabilities(g, model, logits: str, temperature: float) -> str:
    """(N, C) calibrated probabilities from the last layer's output, named PROBABILITIES."""
    last = model.layers[-1].to_config()["class"] if model.layers else None
    if last not in ("Softmax", "Sigmoid"):
        if temperature != 1.0:
            logits = g.node("Div", [logits, g.constant("temperature", temperature)], "calibrated_logits")
        return g.node("Softmax", [logits], "probabilities", output=PROBABILITIES, axis=1)
    p = logits  # already probabilities (or per-class sigmoids): normalise as predict_proba does
    if temperature != 1.0:
        p = g.node("Pow", [p, g.constant("inverse_temperature", 1.0 / temperature)], "calibrated")
    axes = g.constant("class_axis", [1], np.int64)
    total = g.node("ReduceSum", [p, axes], "total", keepdims=1)
    total = g.node("Max", [total, g.constant("tiny", 1e-12)], "total")
    return g.node("Div", [p, total], "probabilities", output=PROBABILITIES)


def has_reject_class(model, n_classes: int) -> bool:
    """True for a network with an 11th "not a digit" logit (model.rejection["reject_class"] == 10)."""
    reject = (getattr(model, "rejection", None) or {}).get("reject_class")
    last = model.layers[-1].to_config()["class"] if model.layers else None
    return n_classes == 11 and reject == 10 and last not in ("Softmax", "Sigmoid")


def reject_class_outputs(g, logits: str, temperature: float):
    """The Recognizer's view of an 11-output network (digitnet.recognizer / rejection):

    digit_probabilities = softmax(z[:, :10] / T)   (N, 10)
    not_a_digit_score   = softmax(z)[:, 10]         (N,)   compared with model.rejection["threshold"]
    """
    digits = g.node(
        "Slice",
        [
            logits,
            g.constant("digits.start", [0], np.int64),
            g.constant("digits.end", [10], np.int64),
            g.constant("digits.axis", [1], np.int64),
        ],
        "digit_logits",
    )
    if temperature != 1.0:
        digits = g.node("Div", [digits, g.constant("digits.temperature", temperature)], "digit_logits")
    g.node("Softmax", [digits], "digit_probabilities", output=DIGIT_PROBABILITIES, axis=1)
    all_classes = g.node("Softmax", [logits], "uncalibrated_probabilities", axis=1)
    g.node(
        "Gather",
        [all_classes, g.constant("not_a_digit.index", 10, np.int64)],
        "not_a_digit",
        output=NOT_A_DIGIT,
        axis=1,
    )


def metadata(model, n_classes: int, temperature: float) -> dict:
    """The ONNX metadata_props: the model file's header, as JSON strings, and a few plain facts."""
    h, w = image_size(model.input_shape)
    props = {
        "digitnet.version": __version__,
        "digitnet.architecture": json.dumps(model.get_config()),
        "digitnet.preprocessing": json.dumps(model.preprocessing or preprocessing_spec("image")),
        "digitnet.training": json.dumps(model.training_config or {}),
        "digitnet.metrics": json.dumps(model.metrics or {}),
        "digitnet.calibration": json.dumps(getattr(model, "calibration", None) or {}),
        "digitnet.rejection": json.dumps(getattr(model, "rejection", None) or {}),
        "classes": json.dumps(class_names(n_classes, model)),
        "temperature": repr(temperature),
        "input": f"{INPUT}: float32 (N, 1, {h}, {w}), raw pixel values 0..255, white digit on black (MNIST style)",
        "outputs": f"{LOGITS}: float32 (N, {n_classes}) network outputs; {PROBABILITIES}: float32 (N, {n_classes}) "
        f"calibrated class probabilities (temperature {temperature:g})",
    }
    if isinstance((model.metrics or {}).get("test_accuracy"), (int, float)):
        props["test_accuracy"] = repr(float(model.metrics["test_accuracy"]))
    return props


def build(model):
    """The onnx.ModelProto of ``model`` (built, with 2-D outputs (N, classes))."""
    specs = layer_specs(model)
    out_shape = specs[-1].output_shape if specs else tuple(model.input_shape)
    if len(out_shape) != 1:
        raise ExportError(
            f"cannot export a model whose output is per-sample shape {out_shape}: expected (classes,) "
            f"(end with Flatten/Dense)"
        )
    n_classes = int(out_shape[0])
    temperature = temperature_of(model)
    h, w = image_size(model.input_shape)
    g = GraphBuilder()
    helper, onnx = g.helper, g.onnx
    x = g.reserve(INPUT)
    g.reserve(LOGITS)
    g.reserve(PROBABILITIES)
    x = preprocessing(g, model, x, (h, w))
    for spec in prepare(specs):
        x = export_layer(g, spec, x)
    logits = g.node("Identity", [x], "logits", output=LOGITS)
    probabilities(g, model, logits, temperature)
    f32 = onnx.TensorProto.FLOAT
    outputs = [
        helper.make_tensor_value_info(LOGITS, f32, ["N", n_classes]),
        helper.make_tensor_value_info(PROBABILITIES, f32, ["N", n_classes]),
    ]
    if has_reject_class(model, n_classes):
        g.reserve(DIGIT_PROBABILITIES)
        g.reserve(NOT_A_DIGIT)
        reject_class_outputs(g, logits, temperature)
        outputs += [
            helper.make_tensor_value_info(DIGIT_PROBABILITIES, f32, ["N", 10]),
            helper.make_tensor_value_info(NOT_A_DIGIT, f32, ["N"]),
        ]
    graph = g.graph(
        f"digitnet {model.name}",
        [helper.make_tensor_value_info(INPUT, f32, ["N", 1, h, w])],
        outputs,
        doc_string=__doc__.split("\n\n")[1],
    )
    proto = helper.make_model(
        graph,
        producer_name="digitnet",
        producer_version=__version__,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        doc_string=f"digitnet model {model.name!r}: raw 28x28 images in, probabilities out",
    )
    helper.set_model_props(proto, metadata(model, n_classes, temperature))
    return proto


def to_onnx(model, path, check: bool = True) -> str:
    """Write ``model`` as an ONNX file at ``path`` (written to a temporary file and renamed); returns the path.

    ``check`` runs ``onnx.checker.check_model`` (with shape inference) before writing.
    """
    proto = build(model)
    if check:
        onnx_modules()[0].checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    return atomicfile.write(path, lambda f: f.write(data))
