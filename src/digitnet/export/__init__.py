"""Export a digitnet model to ONNX, to run it without digitnet (onnxruntime, a phone, a browser).

    from digitnet.export import to_onnx
    to_onnx(model, "model.onnx")        # input "image" (N, 1, 28, 28) raw 0..255 -> "probabilities" (N, 10)

Needs the optional ``onnx`` package (``pip install 'digitnet[onnx]'``); importing this package does not.
See onnx_model.py for what the graph computes, layers.py for how each layer is written.
"""

from digitnet.export.layers import EXPORTERS, ExportError
from digitnet.export.onnx_model import INPUT, LOGITS, OPSET, PROBABILITIES, build, to_onnx

__all__ = ["EXPORTERS", "INPUT", "LOGITS", "OPSET", "PROBABILITIES", "ExportError", "build", "to_onnx"]
