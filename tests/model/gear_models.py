"""Gear (dynamic batch / image size / dims) models for runtime tests.

Each builder returns (onnx model with symbolic axes, the .om metadata record atc writes for
it). The record follows openacl.model.om's format; the atc tests check that atc writes it.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnx.helper as helper
from onnx import TensorProto as T
from onnx import numpy_helper


def _model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "gears", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def batch_model(gears=(1, 2, 4, 8)):
    """x [b,3,4,4] -> Conv(1x1, 5 ch) -> GlobalAveragePool -> Flatten -> y [b,5]."""
    rng = np.random.default_rng(3)
    w = numpy_helper.from_array(rng.standard_normal((5, 3, 1, 1)).astype(np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]),
             helper.make_node("GlobalAveragePool", ["c"], ["p"]),
             helper.make_node("Flatten", ["p"], ["y"])]
    model = _model(nodes, [helper.make_tensor_value_info("x", T.FLOAT, ["ascend_dynamic_0", 3, 4, 4])],
                   [helper.make_tensor_value_info("y", T.FLOAT, ["ascend_dynamic_0", 5])], [w])
    record = {"framework": 5, "input_order": ["x"], "inputs": {"x": {"format": "NCHW"}},
              "dynamic": {"kind": "batch", "gears": [[g] for g in gears],
                          "input_dims": {"x": [-1, 3, 4, 4]}, "input_order": ["x"]}}
    return model, record


def hw_model(gears=((4, 4), (8, 6), (16, 16))):
    """x [1,2,h,w] -> Conv(3x3 pad 1, 3 ch) -> y [1,3,h,w]."""
    rng = np.random.default_rng(4)
    w = numpy_helper.from_array(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])]
    model = _model(nodes, [helper.make_tensor_value_info("x", T.FLOAT, [1, 2, "h", "w"])],
                   [helper.make_tensor_value_info("y", T.FLOAT, [1, 3, "h", "w"])], [w])
    record = {"framework": 5, "input_order": ["x"], "inputs": {"x": {"format": "NCHW"}},
              "dynamic": {"kind": "hw", "gears": [list(g) for g in gears],
                          "input_dims": {"x": [1, 2, -1, -1]}, "input_order": ["x"]}}
    return model, record


def dims_model(gears=((1, 2), (3, 5), (2, 7))):
    """Two ND inputs a [n,4] and b [m] (gear = (n, m)); outputs Relu(a) [n,4], Neg(b) [m]."""
    nodes = [helper.make_node("Relu", ["a"], ["ra"]), helper.make_node("Neg", ["b"], ["nb"])]
    model = _model(nodes, [helper.make_tensor_value_info("a", T.FLOAT, ["n", 4]),
                           helper.make_tensor_value_info("b", T.INT64, ["m"])],
                   [helper.make_tensor_value_info("ra", T.FLOAT, ["n", 4]),
                    helper.make_tensor_value_info("nb", T.INT64, ["m"])])
    record = {"framework": 5, "input_order": ["a", "b"],
              "inputs": {"a": {"format": "ND"}, "b": {"format": "ND"}},
              "dynamic": {"kind": "dims", "gears": [list(g) for g in gears],
                          "input_dims": {"a": [-1, 4], "b": [-1]}, "input_order": ["a", "b"]}}
    return model, record


def range_model():
    """x [n,3] with n in 1..16 (shape range) -> outputs Relu(x) [n,3] and ReduceSum [n]."""
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("ReduceSum", ["x", "axes"], ["s"], keepdims=0)]
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    model = _model(nodes, [helper.make_tensor_value_info("x", T.FLOAT, ["n", 3])],
                   [helper.make_tensor_value_info("r", T.FLOAT, ["n", 3]),
                    helper.make_tensor_value_info("s", T.FLOAT, ["n"])], [axes])
    record = {"framework": 5, "input_order": ["x"], "inputs": {"x": {"format": "ND"}},
              "shape_range": {"x": [[1, 16], [3, 3]]}}
    return model, record


def nonzero_model():
    """A data-dependent output shape: NonZero(x) for x [n] (free axis, no range recorded)."""
    nodes = [helper.make_node("NonZero", ["x"], ["idx"])]
    model = _model(nodes, [helper.make_tensor_value_info("x", T.FLOAT, ["n"])],
                   [helper.make_tensor_value_info("idx", T.INT64, [1, "k"])])
    return model, None
