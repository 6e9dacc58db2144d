"""The trained plate head as an ONNX graph (what the reader loads and joins onto the PP-OCR backbone).

Built node by node from the weights with onnx.helper: the head is a handful of standard operators
(Transpose, Conv, Relu, Add, Softmax), at the backbone's opset so the two join as they are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from rtcc.alpr.reader.models import HEAD_INPUT, HEAD_OUTPUT, PLATE_HEAD_CLASSES
from rtcc.alpr.training.head import ADAPTERS

OPSET = 11  # the PP-OCR recogniser's (models.opset_of checks the two match at load time)
IR_VERSION = 6


def head_graph(params: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> onnx.ModelProto:
    """An ONNX model: features (N, T, 120) in, probabilities (N, T, 37) out."""
    initialisers: list = []
    nodes = [helper.make_node("Transpose", [HEAD_INPUT], ["h_in"], perm=[0, 2, 1])]  # (N, 120, T) for Conv
    previous = "h_in"
    for index, (kernel, dilation) in enumerate(ADAPTERS):
        pad = dilation * (kernel - 1) // 2
        names = [f"a{index}_w1", f"a{index}_b1", f"a{index}_w2", f"a{index}_b2"]
        initialisers += [numpy_helper.from_array(params[name].astype(np.float32), name) for name in names]
        convolution = {"kernel_shape": [kernel], "dilations": [dilation], "pads": [pad, pad], "strides": [1]}
        nodes += [
            helper.make_node("Conv", [previous, names[0], names[1]], [f"a{index}_inner"], **convolution),
            helper.make_node("Relu", [f"a{index}_inner"], [f"a{index}_relu"]),
            helper.make_node("Conv", [f"a{index}_relu", names[2], names[3]], [f"a{index}_out"], **convolution),
            helper.make_node("Add", [previous, f"a{index}_out"], [f"h{index}"]),
        ]
        previous = f"h{index}"
    initialisers += [numpy_helper.from_array(params["out_w"].astype(np.float32)[:, :, None], "out_w"),
                     numpy_helper.from_array(params["out_b"].astype(np.float32), "out_b")]
    nodes += [
        helper.make_node("Conv", [previous, "out_w", "out_b"], ["logits_nct"], kernel_shape=[1]),
        helper.make_node("Transpose", ["logits_nct"], ["logits"], perm=[0, 2, 1]),
        helper.make_node("Softmax", ["logits"], [HEAD_OUTPUT], axis=2),
    ]
    graph = helper.make_graph(
        nodes, "plate_head",
        [helper.make_tensor_value_info(HEAD_INPUT, TensorProto.FLOAT, ["n", "t", params["out_w"].shape[1]])],
        [helper.make_tensor_value_info(HEAD_OUTPUT, TensorProto.FLOAT, ["n", "t", len(PLATE_HEAD_CLASSES) + 1])],
        initialisers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rtcc alpr train",
                              ir_version=IR_VERSION)
    helper.set_model_props(model, {"classes": PLATE_HEAD_CLASSES, **(metadata or {})})
    onnx.checker.check_model(model)
    return model


def write_head(params: dict[str, np.ndarray], path: Path, metadata: dict[str, str] | None = None) -> Path:
    """Write the head's ONNX file (atomically: a reader never opens half a model)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    onnx.save(head_graph(params, metadata), str(partial))
    partial.replace(path)
    return path
