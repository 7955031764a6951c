"""What the OpenVINO engine does beyond the shared contract: the models it refuses (and
why), ONNX names on merged ports, graph inputs that are also outputs, and a model run
through acl.mdl.execute on it."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto as T
from onnx import helper, numpy_helper

from openacl.engines import EngineUnsupported, get_engine

from tests.engines.test_contract import _bind, _io, _model, _reference

pytest.importorskip("openvino")


def _cast(source, target, to):
    return helper.make_node("Cast", [source], [target], to=to)


HALF_INSIDE = {
    "cast pair": ([_cast("x", "h", T.FLOAT16), _cast("h", "y", T.FLOAT)], T.FLOAT, T.FLOAT),
    "float16 Add": ([helper.make_node("Add", ["x", "x"], ["y"])], T.FLOAT16, T.FLOAT16),
    "bfloat16 Mul": ([helper.make_node("Mul", ["x", "x"], ["y"])], T.BFLOAT16, T.BFLOAT16),
    "cast, move, cast back": ([_cast("x", "h", T.FLOAT16),
                               helper.make_node("Concat", ["h", "h"], ["c"], axis=0),
                               _cast("c", "y", T.FLOAT)], T.FLOAT, T.FLOAT),
}
HALF_ALLOWED = {
    "float16 input widened": ([_cast("x", "y", T.FLOAT)], T.FLOAT16, T.FLOAT),
    "float16 output": ([helper.make_node("Relu", ["x"], ["r"]), _cast("r", "y", T.FLOAT16)],
                       T.FLOAT, T.FLOAT16),
    "float16 moved then widened": ([helper.make_node("Concat", ["x", "x"], ["c"], axis=0),
                                    _cast("c", "y", T.FLOAT)], T.FLOAT16, T.FLOAT),
    "bfloat16 passed through": ([helper.make_node("Identity", ["x"], ["y"])], T.BFLOAT16,
                                T.BFLOAT16),
}


@pytest.mark.parametrize("case", list(HALF_INSIDE))
def test_half_precision_inside_the_graph_is_refused_with_the_node(case):
    nodes, elem_in, elem_out = HALF_INSIDE[case]
    model = _model(nodes, [_io("x", elem_in, [4])], [_io("y", elem_out, None)])
    with pytest.raises(EngineUnsupported, match=r"computes in half precision inside "
                                                r"\(node '\w+' \(\w+\)\)"):
        get_engine("openvino").load(model)


@pytest.mark.parametrize("case", list(HALF_ALLOWED))
def test_exact_half_precision_inputs_outputs_and_moves_are_run(case):
    nodes, elem_in, elem_out = HALF_ALLOWED[case]
    model = _model(nodes, [_io("x", elem_in, [4])], [_io("y", elem_out, None)])
    get_engine("openvino").load(model).close()


def test_unreadable_models_are_refused_with_openvinos_reason():
    custom = _model([helper.make_node("FooBar", ["x"], ["y"], domain="com.example")],
                    [_io("x", T.FLOAT, [2])], [_io("y", T.FLOAT, [2])])
    proto = onnx.load_from_string(custom)
    proto.opset_import.append(helper.make_opsetid("com.example", 1))
    with pytest.raises(EngineUnsupported, match="No conversion rule found for operations: "
                                                "com.example.FooBar") as caught:
        get_engine("openvino").load(proto.SerializeToString())
    assert "Exception from" not in str(caught.value)          # no C++ source locations
    with pytest.raises(EngineUnsupported, match="cannot read this model"):
        get_engine("openvino").load(b"not an onnx model")


def test_ports_are_named_as_the_onnx_graph_names_them():
    """OpenVINO gives an input read through Identity the Identity's output name too."""
    model = _model([helper.make_node("Relu", ["x"], ["a"]),
                    helper.make_node("Identity", ["a"], ["zz"]),
                    helper.make_node("Identity", ["x"], ["b"]),
                    helper.make_node("Relu", ["b"], ["c"])],
                   [_io("x", T.FLOAT, [2])],
                   [_io("zz", T.FLOAT, [2]), _io("c", T.FLOAT, [2]), _io("a", T.FLOAT, [2])])
    session = get_engine("openvino").load(model)
    assert [s.name for s in session.inputs] == ["x"]
    assert [s.name for s in session.outputs] == ["zz", "c", "a"]


def test_a_graph_input_that_is_an_output_is_copied_and_leaves_the_others_intact():
    model = _model([helper.make_node("Relu", ["x"], ["y"])], [_io("x", T.FLOAT, [3])],
                   [_io("x", T.FLOAT, [3]), _io("y", T.FLOAT, [3])])
    session = get_engine("openvino").load(model)
    x = np.array([1, -2, 3], np.float32)
    first, second = np.zeros(3, np.float32), np.zeros(3, np.float32)
    outputs = {"x": first, "y": np.zeros(3, np.float32)}
    binding = session.new_binding()
    _bind(session, binding, {"x": x}, outputs)
    session.run(binding)
    np.testing.assert_array_equal(outputs["x"], x)
    np.testing.assert_array_equal(outputs["y"], [1, 0, 3])
    binding.bind_output("x", np.float32, (3,), second.ctypes.data)   # rebound: only there
    first[...] = 0
    session.run(binding)
    np.testing.assert_array_equal(second, x)
    np.testing.assert_array_equal(first, 0)


def test_a_model_runs_through_acl_mdl_execute_on_openvino(context, tmp_path, monkeypatch,
                                                          caplog):
    """The model layer loads, binds and runs on OpenVINO when the policy picks it."""
    import acl

    from openacl.model.model import MODELS

    rng = np.random.default_rng(3)
    weight = numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "w")
    raw = _model([helper.make_node("MatMul", ["x", "w"], ["m"]),
                  helper.make_node("Softmax", ["m"], ["y"], axis=1)],
                 [_io("x", T.FLOAT, [2, 8])], [_io("y", T.FLOAT, [2, 4])], [weight])
    path = tmp_path / "mm.onnx"
    path.write_bytes(raw)
    monkeypatch.setenv("OPENACL_PRECISION", "exact")
    monkeypatch.setenv("OPENACL_ENGINE", "openvino")
    model_id, ret = acl.mdl.load_from_file(str(path))
    assert ret == 0, acl.get_recent_err_msg()
    assert MODELS.get(model_id).precision.engine == "openvino"
    x = rng.standard_normal((2, 8)).astype(np.float32)
    pointers, datasets = [], []
    for array in (x, np.zeros((2, 4), np.float32)):
        pointer, ret = acl.rt.malloc(array.nbytes, 0)
        data = array.tobytes()
        acl.rt.memcpy(pointer, array.nbytes, acl.util.bytes_to_ptr(data), array.nbytes, 1)
        dataset = acl.mdl.create_dataset()
        acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(pointer, array.nbytes))
        pointers.append(pointer)
        datasets.append(dataset)
    assert acl.mdl.execute(model_id, *datasets) == 0, acl.get_recent_err_msg()
    out = bytes(32)
    acl.rt.memcpy(acl.util.bytes_to_ptr(out), 32, pointers[1], 32, 2)
    got = np.frombuffer(out, np.float32).reshape(2, 4)
    np.testing.assert_allclose(got, _reference(raw, {"x": x})[0], rtol=1e-5, atol=1e-6)
    for dataset in datasets:
        acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, 0))
        acl.mdl.destroy_dataset(dataset)
    for pointer in pointers:
        acl.rt.free(pointer)
    assert acl.mdl.unload(model_id) == 0
