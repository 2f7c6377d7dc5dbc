"""A small builder for an ONNX graph: unique tensor names, float32 constants, nodes.

    g = GraphBuilder()
    w = g.constant("0.weight", array)              # an initializer (stored as float32), returns its name
    y = g.node("Gemm", [x, w, b], name="0.dense")   # one output, named after the node; returns that name
    g.graph(inputs, outputs)                        # the onnx.GraphProto

Every tensor gets a readable, unique name ("3.conv", "3.conv_1", ...) so a graph viewer such as
Netron shows which digitnet layer each node came from. Constants are float32 (ONNX's "float"), the
type every value in an exported digitnet graph has; int64 is used only for shape tensors.
"""

from __future__ import annotations

import numpy as np


def onnx_modules():
    """(onnx, onnx.helper, onnx.numpy_helper), or a one-line ImportError saying how to install them."""
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise ImportError(
            "ONNX export needs the 'onnx' package: pip install 'digitnet[onnx]' (or pip install onnx onnxruntime)"
        ) from None
    return onnx, helper, numpy_helper


class GraphBuilder:
    """Collects nodes and initializers; hands out unique tensor names."""

    def __init__(self):
        self.onnx, self.helper, self.numpy_helper = onnx_modules()
        self.nodes = []
        self.initializers = []
        self._used: set[str] = set()

    def name(self, base: str) -> str:
        """``base`` if unused, else ``base_1``, ``base_2``, ... (and mark it used)."""
        candidate, i = base, 0
        while candidate in self._used:
            i += 1
            candidate = f"{base}_{i}"
        self._used.add(candidate)
        return candidate

    def reserve(self, name: str) -> str:
        """Claim an exact name (a graph input or output); it must not be taken yet."""
        if name in self._used:
            raise ValueError(f"tensor name {name!r} is already used in the graph")
        self._used.add(name)
        return name

    def constant(self, base: str, value, dtype=np.float32) -> str:
        """Store ``value`` as an initializer of ``dtype`` (float32 unless a shape: int64); returns its name."""
        array = np.asarray(value, dtype=dtype)
        name = self.name(base)
        self.initializers.append(self.numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs, name: str, output: str | None = None, **attributes) -> str:
        """Add one ``op`` node reading ``inputs``; its single output is ``output`` or a fresh name from ``name``."""
        node_name = self.name(f"{name}/{op}")
        out = output if output is not None else self.name(name)
        self.nodes.append(self.helper.make_node(op, list(inputs), [out], name=node_name, **attributes))
        return out

    def graph(self, name: str, inputs, outputs, doc_string: str = ""):
        return self.helper.make_graph(
            self.nodes, name, inputs, outputs, initializer=self.initializers, doc_string=doc_string
        )
