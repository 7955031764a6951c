"""A shape-range model fed ever new shapes keeps a bounded number of bindings."""

import numpy as np
import onnx
from onnx import TensorProto, helper

from openacl.model import ranged
from openacl.model.executor import _CACHE_LIMIT


def test_ranged_executor_caches_a_bounded_number_of_shapes(tmp_path):
    from ais_bench.infer.interface import InferSession

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "relu.onnx"
    onnx.save(model, path)
    session = InferSession(0, str(path))
    try:
        executor = session.session._state.model.executor
        assert isinstance(executor, ranged.RangedExecutor)
        for n in range(1, _CACHE_LIMIT + 20):
            x = np.arange(n * 4, dtype=np.float32).reshape(n, 4) - 10
            (y,) = session.infer([x], mode="dymshape", custom_sizes=n * 16)
            np.testing.assert_array_equal(y.reshape(n, 4), np.maximum(x, 0))
        assert len(executor._cache) <= _CACHE_LIMIT
        assert len(executor._inferred) <= _CACHE_LIMIT
    finally:
        session.free_resource()
