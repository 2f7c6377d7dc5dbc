"""One small ONNX exporter per digitnet layer kind, chosen by the class name in the model file.

    @exporter("Dense")
    def dense(g, spec, x) -> str:      # g: GraphBuilder, spec: LayerSpec (specs.py), x: input tensor name
        ...                            # adds nodes, returns the output tensor name

Exporters read only what a model file records (class name, ``get_config()``, params and buffers),
never a layer's implementation, so they keep working when the framework's internals change. A kind
with no exporter fails with ``ExportError`` naming the layer. Opset 13 operators only:

    Dense         Gemm(x, W, b)                        W (in, out) as stored: no transpose
    Conv2D        Conv, pads [top, left, bottom, right] ("same": the extra row/column at the end)
    pooling       MaxPool / AveragePool (floor mode, no padding); GlobalAveragePool + Flatten -> (N, C)
    BatchNorm     folded into the Conv2D/Dense before it (specs.py); else Mul + Add per channel
    activations   Sigmoid, Tanh, Relu, LeakyRelu, Elu, Softmax(axis); GELU (tanh form) from Mul/Add/Tanh
    Flatten       Flatten(axis=1);  Reshape: Reshape to [N, *target_shape]
    Dropout       nothing (inference)
"""

from __future__ import annotations

import math

import numpy as np

from digitnet.export.specs import batchnorm_affine

EXPORTERS: dict = {}


class ExportError(ValueError):
    """The model cannot be written as ONNX (one line, naming the layer)."""


def exporter(*kinds):
    """Register the decorated function as the exporter of these layer class names."""

    def register(fn):
        for kind in kinds:
            EXPORTERS[kind] = fn
        return fn

    return register


def export_layer(g, spec, x: str) -> str:
    fn = EXPORTERS.get(spec.kind)
    if fn is None:
        raise ExportError(
            f"cannot export layer {spec.index} ({spec.kind}) to ONNX: no exporter for {spec.kind!r}; "
            f"supported layers: {', '.join(sorted(EXPORTERS))}"
        )
    return fn(g, spec, x)


def _pair(value):
    return [int(value), int(value)] if isinstance(value, (int, float)) else [int(v) for v in value]


@exporter("Dense")
def dense(g, spec, x):
    inputs = [x, g.constant(f"{spec.index}.weight", spec.arrays["weight"])]  # (in, out): Gemm's B, transB=0
    if "bias" in spec.arrays:
        inputs.append(g.constant(f"{spec.index}.bias", spec.arrays["bias"]))
    return g.node("Gemm", inputs, spec.label)


def conv_pads(config) -> list[int]:
    """ONNX pads [top, left, bottom, right] from a Conv2D config's padding (int, pair, 'same', 'valid')."""
    kh, kw = _pair(config["kernel_size"])
    padding = config.get("padding", 0)
    if padding == "same":
        return [(kh - 1) // 2, (kw - 1) // 2, kh // 2, kw // 2]
    if padding == "valid":
        return [0, 0, 0, 0]
    ph, pw = _pair(padding)
    return [ph, pw, ph, pw]


@exporter("Conv2D")
def conv2d(g, spec, x):
    weight = spec.arrays["weight"]  # (O, I, kh, kw), connection table already applied (specs.prepare)
    inputs = [x, g.constant(f"{spec.index}.weight", weight)]
    if "bias" in spec.arrays:
        inputs.append(g.constant(f"{spec.index}.bias", spec.arrays["bias"]))
    return g.node(
        "Conv",
        inputs,
        spec.label,
        kernel_shape=list(weight.shape[2:]),
        strides=_pair(spec.config.get("stride", 1)),
        pads=conv_pads(spec.config),
    )


@exporter("MaxPool2D", "AvgPool2D")
def pool2d(g, spec, x):
    kernel = _pair(spec.config["kernel_size"])
    stride = _pair(spec.config.get("stride") or kernel)
    op = "MaxPool" if spec.kind == "MaxPool2D" else "AveragePool"
    return g.node(op, [x], spec.label, kernel_shape=kernel, strides=stride)


@exporter("GlobalAvgPool2D")
def global_avg_pool(g, spec, x):
    pooled = g.node("GlobalAveragePool", [x], spec.label)  # (N, C, 1, 1)
    return g.node("Flatten", [pooled], spec.label, axis=1)  # digitnet's (N, C)


@exporter("BatchNorm1D", "BatchNorm2D")
def batchnorm(g, spec, x):
    """A batch norm with no Conv2D/Dense right before it: y = x * scale + shift per channel (axis 1)."""
    scale, shift = batchnorm_affine(spec)
    per_channel = (-1,) if spec.kind == "BatchNorm1D" else (-1, 1, 1)
    scaled = g.node("Mul", [x, g.constant(f"{spec.index}.scale", scale.reshape(per_channel))], spec.label)
    return g.node("Add", [scaled, g.constant(f"{spec.index}.shift", shift.reshape(per_channel))], spec.label)


@exporter("Dropout", "Dropout2D", "Identity")
def passthrough(g, spec, x):
    return x  # inference: y = x


@exporter("Sigmoid", "Tanh", "ReLU")
def pointwise(g, spec, x):
    op = {"Sigmoid": "Sigmoid", "Tanh": "Tanh", "ReLU": "Relu"}[spec.kind]
    return g.node(op, [x], spec.label)


@exporter("LeakyReLU")
def leaky_relu(g, spec, x):
    return g.node("LeakyRelu", [x], spec.label, alpha=float(spec.config.get("slope", 0.01)))


@exporter("ELU")
def elu(g, spec, x):
    return g.node("Elu", [x], spec.label, alpha=float(spec.config.get("alpha", 1.0)))


@exporter("GELU")
def gelu(g, spec, x):
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), from primitives (opset 13 has no Gelu)."""

    def c(name, value):
        return g.constant(f"{spec.index}.{name}", np.float32(value))

    x3 = g.node("Mul", [g.node("Mul", [x, x], spec.label), x], spec.label)
    inner = g.node("Add", [x, g.node("Mul", [x3, c("k", 0.044715)], spec.label)], spec.label)
    t = g.node("Tanh", [g.node("Mul", [inner, c("sqrt_2_over_pi", math.sqrt(2.0 / math.pi))], spec.label)], spec.label)
    half_x = g.node("Mul", [x, c("half", 0.5)], spec.label)
    return g.node("Mul", [half_x, g.node("Add", [t, c("one", 1.0)], spec.label)], spec.label)


@exporter("Softmax")
def softmax(g, spec, x):
    return g.node("Softmax", [x], spec.label, axis=int(spec.config.get("axis", -1)))


@exporter("Flatten")
def flatten(g, spec, x):
    return g.node("Flatten", [x], spec.label, axis=1)


@exporter("Reshape")
def reshape(g, spec, x):
    shape = g.constant(f"{spec.index}.shape", [0] + [int(d) for d in spec.config["target_shape"]], np.int64)
    return g.node("Reshape", [x, shape], spec.label)  # 0 keeps N
