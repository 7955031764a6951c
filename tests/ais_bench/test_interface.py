"""ais_bench's InferSession on openacl: programs written for Huawei's API, checked against
onnxruntime running the same ONNX."""

import numpy as np
import onnx
import onnx.helper as helper
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import numpy_helper

from ais_bench.infer.interface import InferSession
from openacl.atc import convert
from tests.model import gear_models


def _atc(tmp_path, model, name, *flags):
    source = tmp_path / f"{name}.onnx"
    onnx.save(model, source)
    path = convert([f"--model={source}", "--framework=5", f"--output={tmp_path / name}",
                    "--soc_version=Ascend310P3", *flags], on_warning=lambda _: None)
    return path, str(source)


def _reference(onnx_path, feeds):
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, feeds)))


def _static_model():
    """x float32 [2, 4] @ w [4, 3] -> y [2, 3]; plus an int64 input k [3] -> Neg -> nk [3]."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Neg", ["k"], ["nk"])]
    graph = helper.make_graph(nodes, "static",
                              [helper.make_tensor_value_info("x", T.FLOAT, [2, 4]),
                               helper.make_tensor_value_info("k", T.INT64, [3])],
                              [helper.make_tensor_value_info("y", T.FLOAT, [2, 3]),
                               helper.make_tensor_value_info("nk", T.INT64, [3])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.fixture
def sessions():
    """Sessions made by a test, released (and the runtime finalized) afterwards."""
    made = []
    yield made
    for session in made:
        session.free_resource()
    InferSession.finalize()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    batch, _ = gear_models.batch_model()
    return {
        "static": _atc(folder, _static_model(), "static"),
        "batch": _atc(folder, batch, "batch", "--input_shape=x:-1,3,4,4",
                      "--dynamic_batch_size=1,2,4,8"),
    }


def test_static_infer_equals_onnxruntime(models, sessions):
    path, source = models["static"]
    session = InferSession(0, path)
    sessions.append(session)
    rng = np.random.default_rng(1)
    feeds = [rng.standard_normal((2, 4)).astype(np.float32), np.array([1, -2, 3], np.int64)]
    outputs = session.infer(feeds)
    for got, want in zip(outputs, _reference(source, feeds)):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert len(session.summary().exec_time_list) == 1


@pytest.mark.parametrize("batch", [1, 2, 3, 5, 8])
def test_dymbatch_pads_to_the_next_gear_and_cuts_back(models, sessions, batch):
    path, source = models["batch"]
    session = InferSession(0, path)
    sessions.append(session)
    x = np.random.default_rng(batch).standard_normal((batch, 3, 4, 4)).astype(np.float32)
    (y,) = session.infer([x], mode="dymbatch")
    (want,) = _reference(source, [x])
    assert y.shape == (batch, 5)
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)
