"""Tests of precision modes, the run-time policy and ``openacl compare``.

Shared here: a small MLP whose every rounding point is known, its atc conversion, a run
through the pyACL stack (``InferSession``), and independent references: float32 ONNX
Runtime on the source ONNX, and float16 / bfloat16 numpy references (numpy's float16 and
``ml_dtypes.bfloat16`` conversions, not openacl's).
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

from openacl.atc import convert

SOC = "Ascend910B1"          # INF/NaN overflow mode (float16 overflow gives inf)
SATURATING_SOC = "Ascend310P3"


def mlp(path, opset: int = 17, scale: float = 1.0) -> str:
    """x[8,16] -> fc1 (MatMul) -> bias1 (Add) -> relu1 (Relu) -> fc2 (MatMul) = logits
    -> softmax (Softmax) = prob. ``scale`` multiplies W1 (large values overflow float16)."""
    rng = np.random.default_rng(7)
    weights = {"W1": (rng.standard_normal((16, 32)) * scale).astype(np.float32),
               "b1": rng.standard_normal(32).astype(np.float32),
               "W2": (rng.standard_normal((32, 10)) * 0.3).astype(np.float32)}
    nodes = [helper.make_node("MatMul", ["x", "W1"], ["h"], name="fc1"),
             helper.make_node("Add", ["h", "b1"], ["a"], name="bias1"),
             helper.make_node("Relu", ["a"], ["r"], name="relu1"),
             helper.make_node("MatMul", ["r", "W2"], ["logits"], name="fc2"),
             helper.make_node("Softmax", ["logits"], ["prob"], name="softmax", axis=-1)]
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [8, 10]),
         helper.make_tensor_value_info("prob", TensorProto.FLOAT, [8, 10])],
        [numpy_helper.from_array(value, name) for name, value in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def mlp_weights(path) -> dict:
    model = onnx.load(str(path))
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def mlp_input(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((8, 16)).astype(np.float32)


def build(tmp_path, source: str, *flags, output: str = "model", soc: str = SOC,
          on_warning=None) -> str:
    """atc --model=source ... -> the .om path."""
    return convert([f"--model={source}", "--framework=5", f"--output={tmp_path / output}",
                    f"--soc_version={soc}", *flags], on_warning=on_warning or (lambda _: None))


def run_model(path: str, feeds: list, acl_json: str | None = None) -> tuple[list, object]:
    """Run a model through the pyACL stack (InferSession); (outputs, the policy's choice)."""
    from ais_bench.infer.interface import InferSession
    from openacl.model.model import MODELS

    session = InferSession(0, str(path), acl_json_path=acl_json)
    try:
        outputs = session.infer(feeds)
        (model,) = MODELS.live()
        choice = model.precision
    finally:
        session.free_resource()
        InferSession.finalize()
    return [np.array(o) for o in outputs], choice


def ort_reference(path: str, feeds: dict) -> list:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def f16(values) -> np.ndarray:
    """numpy's IEEE float16 rounding, back to float32 (overflow: inf)."""
    with np.errstate(over="ignore"):
        return np.asarray(values, np.float32).astype(np.float16).astype(np.float32)


def bf16(values) -> np.ndarray:
    """ml_dtypes' bfloat16 rounding, back to float32."""
    return np.asarray(values, np.float32).astype(ml_dtypes.bfloat16).astype(np.float32)


def softmax(values) -> np.ndarray:
    values = np.asarray(values, np.float64)
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return (shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32)


def within_half_ulp(actual, expected, half: str = "f16") -> float:
    """The fraction of elements equal, after asserting every element is within one ulp of
    the half type (the two runs differ only in float32 summation order)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    ulp = 2.0 ** (-10 if half == "f16" else -7)
    assert np.all(np.abs(actual - expected) <= ulp * np.abs(expected) + 1e-6), \
        np.max(np.abs(actual - expected) / (np.abs(expected) + 1e-6))
    return float(np.mean(actual == expected))
