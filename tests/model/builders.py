"""Tiny ONNX models built with onnx.helper, and their references (onnxruntime run directly)."""

from __future__ import annotations

import numpy as np
import onnx
import onnx.helper as helper
import onnxruntime as ort
from onnx import TensorProto as T
from onnx import numpy_helper


def _model(nodes, inputs, outputs, initializers=(), name="tiny") -> onnx.ModelProto:
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def classifier(classes: int = 1000, size: int = 16, seed: int = 0) -> onnx.ModelProto:
    """Image [1,3,size,size] -> Conv -> Relu -> GlobalAveragePool -> Gemm -> Softmax [1,classes]."""
    rng = np.random.default_rng(seed)
    weight = numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "b")
    fc = numpy_helper.from_array(rng.standard_normal((8, classes)).astype(np.float32), "fc")
    nodes = [
        helper.make_node("Conv", ["data", "w", "b"], ["conv"], pads=[1, 1, 1, 1], name="/conv/Conv"),
        helper.make_node("Relu", ["conv"], ["relu"], name="/relu/Relu"),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"], name="/pool/Pool"),
        helper.make_node("Flatten", ["pool"], ["flat"], name="/flatten/Flatten"),
        helper.make_node("MatMul", ["flat", "fc"], ["logits"], name="/fc/MatMul"),
        helper.make_node("Softmax", ["logits"], ["prob"], axis=1, name="/softmax/Softmax"),
    ]
    return _model(nodes, [helper.make_tensor_value_info("data", T.FLOAT, [1, 3, size, size])],
                  [helper.make_tensor_value_info("prob", T.FLOAT, [1, classes])],
                  [weight, bias, fc], name="classifier")


def mixed_types() -> onnx.ModelProto:
    """Six inputs of float32, float16, int32, int64, uint8 and bool; five outputs of mixed types."""
    v = helper.make_tensor_value_info
    inputs = [v("f32", T.FLOAT, [2, 3]), v("f16", T.FLOAT16, [2, 3]), v("i32", T.INT32, [4]),
              v("i64", T.INT64, [4]), v("u8", T.UINT8, [5]), v("flag", T.BOOL, [3])]
    nodes = [
        helper.make_node("Cast", ["f16"], ["f16_as_f32"], to=T.FLOAT),
        helper.make_node("Mul", ["f32", "f16_as_f32"], ["product"]),
        helper.make_node("Cast", ["product"], ["product_f16"], to=T.FLOAT16),
        helper.make_node("Cast", ["i32"], ["i32_as_i64"], to=T.INT64),
        helper.make_node("Add", ["i32_as_i64", "i64"], ["sum_i64"]),
        helper.make_node("Cast", ["sum_i64"], ["sum_i32"], to=T.INT32),
        helper.make_node("Add", ["u8", "u8"], ["u8_twice"]),
        helper.make_node("Not", ["flag"], ["not_flag"]),
    ]
    outputs = [v("product", T.FLOAT, [2, 3]), v("product_f16", T.FLOAT16, [2, 3]),
               v("sum_i64", T.INT64, [4]), v("sum_i32", T.INT32, [4]),
               v("u8_twice", T.UINT8, [5]), v("not_flag", T.BOOL, [3])]
    return _model(nodes, inputs, outputs, name="mixed")


def mixed_inputs(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "f32": rng.standard_normal((2, 3)).astype(np.float32),
        "f16": rng.standard_normal((2, 3)).astype(np.float16),
        "i32": rng.integers(-1000, 1000, 4).astype(np.int32),
        "i64": rng.integers(-10**12, 10**12, 4).astype(np.int64),
        "u8": rng.integers(0, 255, 5).astype(np.uint8),
        "flag": rng.integers(0, 2, 3).astype(np.bool_),
    }


def long_names() -> onnx.ModelProto:
    """One input and one output whose names are 140 characters long."""
    name_in, name_out = "i" * 140, "o" * 140
    v = helper.make_tensor_value_info
    return _model([helper.make_node("Relu", [name_in], [name_out])],
                  [v(name_in, T.FLOAT, [2])], [v(name_out, T.FLOAT, [2])], name="long")


def nhwc_and_nd() -> onnx.ModelProto:
    """A 4-d input (NCHW by default) and a 2-d input (ND)."""
    v = helper.make_tensor_value_info
    nodes = [helper.make_node("ReduceSum", ["image"], ["total"], keepdims=0),
             helper.make_node("MatMul", ["matrix", "matrix"], ["square"])]
    return _model(nodes, [v("image", T.FLOAT, [1, 2, 3, 4]), v("matrix", T.FLOAT, [3, 3])],
                  [v("total", T.FLOAT, []), v("square", T.FLOAT, [3, 3])], name="formats")


def reference(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The independent reference: the same ONNX run directly in onnxruntime."""
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)
