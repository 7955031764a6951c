"""atc refuses input shapes the graph cannot take, at every shape the model will bind.

The reference for "the graph cannot take this shape" is onnxruntime itself: the source model
with free input axes, run directly on zeros of that shape (:func:`runs_with_shapes`). atc
must refuse exactly those shapes (E10001 naming the option, the input and the
inconsistency; exit 1; no .om) and convert the others into models that run.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from openacl.atc import AtcError, cli
from tests.atc.atc_fuzz import build_sources, check_atc, random_shape_flags, runs_with_shapes
from tests.atc.builders import SOC, atc, run
from tests.model import builders
from tests.model.model_fuzz import DataChooser, Mutant

FAILURE = "ATC run failed, Please check the detail log, Try 'atc --help' for more information"


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    return build_sources(tmp_path_factory.mktemp("sources"))


def _source(tmp_path, model, name="m.onnx") -> str:
    onnx.save(model, tmp_path / name)
    return str(tmp_path / name)


def _refused(tmp_path, *args) -> AtcError:
    with pytest.raises(AtcError) as caught:
        atc(tmp_path, *args)
    assert not (tmp_path / "out.om").exists()
    return caught.value


def _reshape_source(tmp_path) -> str:
    from tests.atc.atc_fuzz import reshape_model
    return _source(tmp_path, reshape_model(), "reshape.onnx")


# ---------------------------------------------------------------- what is refused

def test_conv_channels_that_do_not_match_the_weight(tmp_path):
    source = _source(tmp_path, builders.classifier(classes=10))
    error = _refused(tmp_path, f"--model={source}", "--input_shape=data:1,4,16,16")
    assert error.code == "E10001"
    assert error.message == (
        "Value [data:1,4,16,16] for parameter [--input_shape] is invalid. Reason: with input "
        "[data] of shape [1,4,16,16] the graph is inconsistent: node [/conv/Conv] (Conv) reads "
        "4 channels from [data], but its weight [w] takes 3")


def test_matmul_inner_sizes_and_reshape_counts(tmp_path):
    source = _reshape_source(tmp_path)
    error = _refused(tmp_path, f"--model={source}", "--input_shape=x:2,3,5;z:2,6")
    assert error.code == "E10001" and "input [x] of shape [2,3,5]" in error.message
    assert "(op_type:MatMul, node name: fc)" in error.message
    assert "Incompatible dimensions for matrix multiplication" in error.message
    error = _refused(tmp_path, f"--model={source}", "--input_shape=x:2,3,4;z:2,5")
    assert error.code == "E10001"
    assert ("node [grid] (Reshape) cannot reshape [z] of shape [2, 5] (10 elements) to "
            "[3, 4]") in error.message


def test_every_gear_is_checked(tmp_path):
    source = _source(tmp_path, builders.classifier(classes=10))
    error = _refused(tmp_path, f"--model={source}", "--input_shape=data:1,-1,-1,16",
                     "--dynamic_dims=3,8;4,8", "--input_format=ND")
    assert error.message.startswith("Value [3,8;4,8] for parameter [--dynamic_dims] is "
                                    "invalid. Reason: at gear [4, 8] (input [data] of shape "
                                    "[1,4,8,16]) the graph is inconsistent: node [/conv/Conv]")


def test_both_ends_of_a_shape_range_are_checked(tmp_path):
    source = _reshape_source(tmp_path)
    error = _refused(tmp_path, f"--model={source}", "--input_shape_range=x:[1~4,3,4~5]")
    assert error.message.startswith(
        "Value [x:[1~4,3,4~5]] for parameter [--input_shape_range] is invalid. Reason: at "
        "the upper end of the ranges (input [x] of shape [4,3,5]) the graph is inconsistent")


def test_a_model_inconsistent_as_given_is_a_load_failure(tmp_path):
    model = builders.classifier(classes=10)
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 5
    source = _source(tmp_path, model)
    error = _refused(tmp_path, f"--model={source}")
    assert error.code == "E10041"
    assert "its graph is inconsistent: node [/conv/Conv] (Conv) reads 5 channels" in \
        error.message
    # The user's shape does not fix it, so the model is still what is wrong.
    error = _refused(tmp_path, f"--model={source}", "--input_shape=data:1,6,16,16")
    assert error.code == "E10041"


def test_the_console_says_it_atc_style(tmp_path, capsys):
    source = _source(tmp_path, builders.classifier(classes=10))
    status = cli.main([f"--model={source}", "--framework=5", f"--output={tmp_path / 'o'}",
                       f"--soc_version={SOC}", "--input_shape=data:1,2,16,16"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 1 and lines[-1] == FAILURE
    assert lines[1].startswith("E10001: Value [data:1,2,16,16] for parameter [--input_shape]")
    assert not (tmp_path / "o.om").exists()


@pytest.mark.parametrize("shape, code, says", [
    ("data:1,3,99999999999999999999,16", "E10002", "[99999999999999999999] is not a 64-bit "
                                                   "integer"),
    ("data:1,3,\u00b2,16", "E10002", "[\u00b2] is not a 64-bit integer"),
    ("data:1,3,4611686018427387904,16", "E10001", "needs 885443715538058477568 bytes, more "
                                                  "than any device holds"),
])
def test_sizes_no_device_holds_or_that_are_not_integers(tmp_path, shape, code, says):
    """Found by fuzzing: these ended in E19999 (an int64 overflow, int("\u00b2"))."""
    source = _source(tmp_path, builders.classifier(classes=10))
    error = _refused(tmp_path, f"--model={source}", f"--input_shape={shape}")
    assert error.code == code and says in error.message


# ---------------------------------------------------------------- what still converts

def test_valid_shapes_convert_and_compute_what_the_source_computes(tmp_path):
    source = _reshape_source(tmp_path)
    path = atc(tmp_path, f"--model={source}", "--input_shape=x:3,2,6;z:4,3")
    rng = np.random.default_rng(0)
    feeds = {"x": rng.standard_normal((3, 2, 6)).astype(np.float32),
             "z": rng.standard_normal((4, 3)).astype(np.float32)}
    got, want = run(path, feeds), run(source, {"x": feeds["x"].reshape(3, 3, 4),
                                               "z": feeds["z"].reshape(2, 6)})
    np.testing.assert_array_equal(got["y"], want["y"])
    np.testing.assert_array_equal(got["r"], want["r"])


def test_shape_constants_computed_by_the_graph_are_followed(tmp_path):
    """Reshape to Shape(x)[:1] ++ [-1]: data propagation follows the computed target."""
    nodes = [helper.make_node("Shape", ["x"], ["s"], start=0, end=1),
             helper.make_node("Concat", ["s", "minus"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["flat"]),
             helper.make_node("MatMul", ["flat", "w"], ["y"])]
    weights = [numpy_helper.from_array(np.array([-1], np.int64), "minus"),
               numpy_helper.from_array(np.ones((6, 2), np.float32), "w")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["n", "a", "b"])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, ["n", 2])], weights)
    source = _source(tmp_path, helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 15)]))
    path = atc(tmp_path, f"--model={source}", "--input_shape=x:4,2,3")
    x = np.arange(24, dtype=np.float32).reshape(4, 2, 3)
    np.testing.assert_array_equal(run(path, {"x": x})["y"], run(source, {"x": x})["y"])
    (tmp_path / "out.om").unlink()
    error = _refused(tmp_path, f"--model={source}", "--input_shape=x:4,2,4")
    assert "Incompatible dimensions for matrix multiplication" in error.message


@settings(max_examples=40, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_atc_refuses_exactly_the_shapes_onnxruntime_refuses(context, sources, tmp_path, data):
    choose = DataChooser(data)
    kind = choose.choice(["static", "reshape"])
    source, flags = sources[kind]
    flags = random_shape_flags(flags, choose)
    problems = check_atc(Mutant(source, "shapes"), flags, tmp_path, must_run=True)
    assert not problems, (kind, flags, problems)
    assert (tmp_path / "out.om").exists() == runs_with_shapes(source, flags), (kind, flags)
