"""Tiny ONNX models for the atc tests, the converter helpers, and the onnxruntime reference.

Every converted model is checked against the original run directly in onnxruntime, so the
converter is never its own reference.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

from openacl.atc import convert, parse
from openacl.model.om import MetadataKey, read_model_file

SOC = "Ascend310P3"
OPSET = [helper.make_opsetid("", 13)]


def save(graph: onnx.GraphProto, path) -> str:
    model = helper.make_model(graph, opset_imports=OPSET)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def image_model(path, dims=("N", 3, "H", "W"), layout="NCHW", extra_outputs=()) -> str:
    """x -> Mul(w) -> Relu -> GlobalAveragePool -> Flatten = y [N, 3]; Sigmoid(Relu) = z.

    Node names look like exported ones (``/layer1/Relu``). ``layout="NHWC"`` takes x as NHWC
    and transposes it first. ``extra_outputs`` declares intermediate tensors as outputs too
    (the reference for ``--out_nodes``).
    """
    nodes = []
    source = "x"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["x"], ["x_nchw"], name="/to_nchw",
                                      perm=[0, 3, 1, 2]))
        source = "x_nchw"
    nodes += [
        helper.make_node("Mul", [source, "w"], ["/layer1/Mul_output_0"], name="/layer1/Mul"),
        helper.make_node("Relu", ["/layer1/Mul_output_0"], ["/layer1/Relu_output_0"],
                         name="/layer1/Relu"),
        helper.make_node("GlobalAveragePool", ["/layer1/Relu_output_0"], ["pooled"], name="pool"),
        helper.make_node("Flatten", ["pooled"], ["y"], name="flat"),
        helper.make_node("Sigmoid", ["/layer1/Relu_output_0"], ["z"], name="/head/Sigmoid"),
    ]
    weight = numpy_helper.from_array(np.array([0.5, -1.25, 2.0], np.float32).reshape(1, 3, 1, 1),
                                     "w")
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [dims[0], 3])]
    outputs += [helper.make_tensor_value_info(name, TensorProto.FLOAT, [None] * 4)
                for name in ("z", *extra_outputs)]
    graph = helper.make_graph(nodes, "image", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, list(dims))], outputs, [weight])
    return save(graph, path)


def nd_model(path) -> str:
    """a [B, T], b [B, 4] -> out = ReduceSum(a, axis 1, keepdims) + b  [B, 4]."""
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    nodes = [helper.make_node("ReduceSum", ["a", "axes"], ["a_sum"], name="reduce", keepdims=1),
             helper.make_node("Add", ["a_sum", "b"], ["out"], name="add")]
    graph = helper.make_graph(
        nodes, "nd",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["B", "T"]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["B", 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["B", 4])], [axes])
    return save(graph, path)


def split_model(path, extra_outputs=()) -> str:
    """x [2, 6] -> Split (node "split", 2 outputs) -> y0 = Relu(s0), y1 = Neg(s1)."""
    nodes = [helper.make_node("Split", ["x"], ["s0", "s1"], name="split", axis=1),
             helper.make_node("Relu", ["s0"], ["y0"], name="relu"),
             helper.make_node("Neg", ["s1"], ["y1"], name="neg")]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [2, 3])
               for name in ("y0", "y1", *extra_outputs)]
    graph = helper.make_graph(nodes, "split", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [2, 6])], outputs)
    return save(graph, path)


def run(path, feeds: dict) -> dict:
    """Run a model file in onnxruntime; return {output name: array}."""
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds), strict=True))


def atc(tmp_path, *args, output="out", on_warning=None) -> str:
    """Convert with the usual required flags plus ``args``; return the .om path."""
    argv = ["--framework=5", f"--soc_version={SOC}", f"--output={tmp_path / output}", *args]
    return convert(parse(argv), on_warning=on_warning or (lambda message: None))


def metadata(path) -> dict:
    """The metadata record as JSON, after the runtime has read and checked the model."""
    model = read_model_file(str(path))
    entry = next(e for e in model.proto.metadata_props if e.key == MetadataKey)
    return json.loads(entry.value)


def random_input(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
