"""Helpers of the ONNX export tests: skip without onnx/onnxruntime, run a model with onnxruntime."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install 'digitnet[onnx]'): export tests skipped")
ort = pytest.importorskip(
    "onnxruntime", reason="onnxruntime is not installed (pip install 'digitnet[onnx]'): export tests skipped"
)


def exported(model):
    """(ModelProto, onnxruntime session) of ``model``, after onnx.checker (full check) has passed."""
    from digitnet.export import build

    proto = build(model)
    onnx.checker.check_model(proto, full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the tests share two cores with others
    session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return proto, session


def run_session(session, images):
    """{"logits", "probabilities"} for uint8 images (N, H, W) fed as raw float32 values 0..255."""
    feed = {"image": np.asarray(images, dtype=np.float32)[:, None]}
    logits, probabilities = session.run(["logits", "probabilities"], feed)
    return {"logits": logits, "probabilities": probabilities}
