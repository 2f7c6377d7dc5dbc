"""What an exporter sees of a layer, and batch-norm folding on that view (NumPy only, no onnx).

A ``LayerSpec`` holds a layer's saved description, nothing of its implementation:

    kind          the class name in the model file ("Conv2D", "BatchNorm2D", ...)
    config        its ``get_config()`` (JSON hyperparameters)
    arrays        its params and buffers as float64 NumPy arrays ("weight", "running_mean", ...)
    index         its position in the Sequential (names the ONNX nodes: "3.Conv2D")
    input_shape, output_shape   per-sample shapes (without N)

Folding (inference only, with the running statistics): a batch norm right after a Conv2D or Dense
is an affine map per output channel c,

    s_c = gamma_c / sqrt(running_var_c + eps)        y_c = s_c * z_c + (beta_c - running_mean_c * s_c)

so with z = W x + b it is the same layer with W'_c = s_c W_c and b'_c = s_c b_c + beta_c - running_mean_c s_c
(a Conv2D weight (O, I, kh, kw) scales along O, a Dense weight (in, out) along out). A Conv2D's
connection table is applied to its weight here too (masked weights), so exporters see plain layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from digitnet.nn import backend

BATCH_NORMS = ("BatchNorm1D", "BatchNorm2D")
FOLDS_INTO = {"Conv2D": "BatchNorm2D", "Dense": "BatchNorm1D"}  # layer kind: the batch norm it can absorb


@dataclass
class LayerSpec:
    kind: str
    config: dict
    arrays: dict
    index: int
    input_shape: tuple
    output_shape: tuple
    folded: list = field(default_factory=list)  # indices of batch norms folded into this layer

    @property
    def label(self) -> str:
        """'3.Conv2D' (or '3.Conv2D+4.BatchNorm2D' after folding): the layer's name in the ONNX graph."""
        return "+".join([f"{self.index}.{self.kind}"] + [f"{i}.BatchNorm" for i in self.folded])


def layer_specs(model) -> list[LayerSpec]:
    """One LayerSpec per layer of a built Sequential, in order."""
    if model.input_shape is None:
        raise ValueError("the model is not built (no input shape): build it before exporting")
    specs, shape = [], tuple(model.input_shape)
    for i, layer in enumerate(model.layers):
        description = layer.to_config()
        arrays = {k: backend.to_numpy(v).astype(np.float64) for k, v in {**layer.params, **layer.buffers}.items()}
        out = tuple(layer.output_shape) if layer.output_shape is not None else shape
        specs.append(LayerSpec(description["class"], dict(description.get("config") or {}), arrays, i, shape, out))
        shape = out
    return specs


def batchnorm_affine(spec: LayerSpec):
    """(scale (C,), shift (C,)) of a batch norm in inference: y = scale * x + shift per channel."""
    a = spec.arrays
    scale = a["gamma"] / np.sqrt(a["running_var"] + float(spec.config.get("eps", 1e-5)))
    return scale, a["beta"] - a["running_mean"] * scale


def masked_conv_weight(spec: LayerSpec) -> np.ndarray:
    """A Conv2D's weight (O, I, kh, kw) with its connection table (O, I) applied (zeros where unconnected)."""
    weight = spec.arrays["weight"]
    table = spec.config.get("connections")
    if table is None:
        return weight
    mask = np.asarray(table, dtype=np.float64)
    if mask.shape != weight.shape[:2]:
        raise ValueError(
            f"layer {spec.index} (Conv2D): connection table of shape {mask.shape} does not match "
            f"the weight's (out, in) {weight.shape[:2]}"
        )
    return weight * mask[:, :, None, None]


def prepare(specs: list[LayerSpec]) -> list[LayerSpec]:
    """Apply connection tables and fold each batch norm that directly follows a Conv2D/Dense into it."""
    out: list[LayerSpec] = []
    for spec in specs:
        if spec.kind == "Conv2D":
            spec = replace(
                spec,
                arrays={**spec.arrays, "weight": masked_conv_weight(spec)},
                config={**spec.config, "connections": None},
            )
        previous = out[-1] if out else None
        if (
            spec.kind in BATCH_NORMS
            and previous is not None
            and not previous.folded
            and FOLDS_INTO.get(previous.kind) == spec.kind
        ):
            out[-1] = fold(previous, spec)
        else:
            out.append(spec)
    return out


def fold(linear: LayerSpec, norm: LayerSpec) -> LayerSpec:
    """The Conv2D/Dense ``linear`` followed by the batch norm ``norm``, as one layer with a bias."""
    scale, shift = batchnorm_affine(norm)
    weight = linear.arrays["weight"]
    n_out = weight.shape[0] if linear.kind == "Conv2D" else weight.shape[1]
    if scale.shape != (n_out,):
        raise ValueError(
            f"layer {norm.index} ({norm.kind}) has {scale.shape[0]} channels but layer "
            f"{linear.index} ({linear.kind}) outputs {n_out}"
        )
    if linear.kind == "Conv2D":
        weight = weight * scale[:, None, None, None]
    else:
        weight = weight * scale[None, :]
    bias = linear.arrays.get("bias", np.zeros(n_out))
    arrays = {"weight": weight, "bias": bias * scale + shift}
    return replace(
        linear,
        arrays=arrays,
        config={**linear.config, "bias": True},
        output_shape=norm.output_shape,
        folded=linear.folded + [norm.index],
    )
