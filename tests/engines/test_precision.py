"""Engine precisions: what each engine offers here, refusals, and half-precision runs
within documented tolerances of onnxruntime's float32 (docs/engines.md).

A small CNN (two convolutions, pooling, a dense layer, softmax) with random weights on
random inputs. Tolerances against float32, on this suite's model:

- ``bf16`` (8 significant bits): softmax max |delta| <= 1e-2, logits max |delta| <= 1e-2 of
  the logits' range (measured with OpenVINO on an AVX512-BF16 CPU: 1.1e-3 and 1.4e-3);
- ``f16`` (11 significant bits): softmax <= 2e-3, logits <= 2e-3 of the range.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper, numpy_helper

from openacl.engines import PRECISIONS, EngineUnsupported, get_engine

from tests.engines.test_contract import ENGINES, _bind

TOLERANCES = {"bf16": (1e-2, 1e-2), "f16": (2e-3, 2e-3)}   # (softmax abs, logits / range)


def cnn_model(batch=2) -> bytes:
    rng = np.random.default_rng(5)

    def weight(name, *shape, scale=None):
        scale = scale or (1 / np.sqrt(np.prod(shape[1:])))
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32),
                                       name)

    weights = [weight("w1", 16, 3, 3, 3), weight("b1", 16, scale=0.1),
               weight("w2", 32, 16, 3, 3), weight("b2", 32, scale=0.1),
               weight("fc", 10, 32), weight("fb", 10, scale=0.1)]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1],
                              strides=[2, 2]),
             helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "fc", "fb"], ["logits"], transB=1),
             helper.make_node("Softmax", ["logits"], ["prob"], axis=1)]
    graph = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("x", T.FLOAT, [batch, 3, 32, 32])],
        [helper.make_tensor_value_info("logits", T.FLOAT, [batch, 10]),
         helper.make_tensor_value_info("prob", T.FLOAT, [batch, 10])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


MODEL = cnn_model()
X = np.random.default_rng(9).standard_normal((2, 3, 32, 32)).astype(np.float32) * 4


def _run(session) -> list[np.ndarray]:
    outputs = {"logits": np.zeros((2, 10), np.float32), "prob": np.zeros((2, 10), np.float32)}
    binding = session.new_binding()
    _bind(session, binding, {"x": X}, outputs)
    session.run(binding)
    return list(outputs.values())


@pytest.fixture(scope="module")
def reference():
    return ort.InferenceSession(MODEL, providers=["CPUExecutionProvider"]).run(None, {"x": X})


@pytest.mark.parametrize("engine", ENGINES)
def test_capabilities_are_precisions_and_include_exact(engine):
    capabilities = get_engine(engine).capabilities()
    assert "f32" in capabilities and capabilities <= set(PRECISIONS)
    if engine == "onnxruntime":
        assert capabilities == {"f32"}


def test_openvino_capabilities_follow_the_cpu():
    pytest.importorskip("openvino")
    from openacl.engines.openvino_cpu import core

    found = set(core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    assert get_engine("openvino").capabilities() == (
        {"f32"} | ({"bf16"} if "BF16" in found else set()) | ({"f16"} if "FP16" in found
                                                              else set()))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_precision_the_engine_lacks_is_refused_and_an_unknown_one_is_an_error(engine):
    missing = set(PRECISIONS) - get_engine(engine).capabilities()
    for precision in missing:
        with pytest.raises(EngineUnsupported, match=f"cannot compute in {precision}"):
            get_engine(engine).load(MODEL, precision)
    with pytest.raises(ValueError, match="unknown precision") as caught:
        get_engine(engine).load(MODEL, "int8")
    assert not isinstance(caught.value, EngineUnsupported)   # a caller's error: no fallback


@pytest.mark.parametrize("engine", ENGINES)
def test_f32_is_exact_float32(engine, reference):
    session = get_engine(engine).load(MODEL, "f32")
    logits, prob = _run(session)
    if engine == "onnxruntime":
        np.testing.assert_array_equal(logits, reference[0])
        np.testing.assert_array_equal(prob, reference[1])
    else:
        np.testing.assert_allclose(logits, reference[0], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(prob, reference[1], rtol=1e-4, atol=1e-6)
    session.close()


@pytest.mark.parametrize("precision", ["bf16", "f16"])
@pytest.mark.parametrize("engine", ENGINES)
def test_half_precisions_stay_within_tolerance(engine, precision, reference):
    if precision not in get_engine(engine).capabilities():
        pytest.skip(f"{engine} has no {precision} on this CPU")
    session = get_engine(engine).load(MODEL, precision)
    assert session.precision == precision
    logits, prob = _run(session)
    softmax_tol, logits_tol = TOLERANCES[precision]
    scale = float(np.ptp(reference[0]))
    assert np.abs(prob - reference[1]).max() <= softmax_tol
    assert np.abs(logits - reference[0]).max() <= logits_tol * scale
    # The precision took effect: half-precision results are not float32's.
    assert not np.allclose(logits, reference[0], rtol=1e-5, atol=1e-6)
    assert (prob.argmax(1) == reference[1].argmax(1)).all()
    session.close()
