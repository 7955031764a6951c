"""atc --mode=0: static conversion, input shapes and formats, float16 inputs, output types and
output selection. Every converted model runs in onnxruntime against the original."""

import numpy as np
import onnx
import pytest

from openacl.atc import AtcError, AtcOptions, convert
from tests.atc.builders import (SOC, atc, image_model, metadata, nd_model, random_input, run,
                                split_model)


def _error(function, *args, **kwargs) -> AtcError:
    with pytest.raises(AtcError) as caught:
        function(*args, **kwargs)
    return caught.value


def test_static_model_converts_and_computes_what_the_original_computes(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 8, 8))
    path = atc(tmp_path, f"--model={source}")

    assert path == str(tmp_path / "out.om")
    x = random_input((1, 3, 8, 8))
    expected, actual = run(source, {"x": x}), run(path, {"x": x})
    for name in ("y", "z"):
        np.testing.assert_array_equal(actual[name], expected[name])
    record = metadata(path)
    assert record["format_version"] == 1
    assert record["framework"] == 5 and record["soc_version"] == SOC
    assert record["source"] == source and record["producer"].startswith("openacl atc ")
    assert record["cmdline"].startswith("atc ") and "--soc_version=Ascend310P3" in record["cmdline"]
    assert record["inputs"] == {"x": {"format": "NCHW", "fp16": False}}
    assert record["input_order"] == ["x"] and record["output_order"] == ["y", "z"]
    assert record["outputs"] == {"y": {"type": "FP32", "node": "flat", "index": 0},
                                 "z": {"type": "FP32", "node": "/head/Sigmoid", "index": 0}}
    assert record["dynamic"] is None and record["shape_range"] is None


@pytest.mark.parametrize("output, written", [("name.om", "name.om"), ("name", "name.om"),
                                             ("sub/dir/name", "sub/dir/name.om")])
def test_output_gets_one_om_suffix_and_its_folder_is_created(tmp_path, output, written):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    assert atc(tmp_path, f"--model={source}", output=output) == str(tmp_path / written)
    assert (tmp_path / written).is_file()


def test_output_must_name_a_file(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    error = _error(convert, [f"--model={source}", "--framework=5", f"--soc_version={SOC}",
                             f"--output={tmp_path}/folder/"])
    assert error.code == "E10022" and "does not include the file name" in error.message


def test_input_shape_fixes_symbolic_dims_and_output_shapes_follow(tmp_path):
    source = image_model(tmp_path / "m.onnx")
    path = atc(tmp_path, f"--model={source}", "--input_shape=x:2,3,6,5")

    graph = onnx.load(path).graph
    assert [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim] == [2, 3, 6, 5]
    assert [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim] == [2, 3]
    x = random_input((2, 3, 6, 5))
    np.testing.assert_array_equal(run(path, {"x": x})["y"], run(source, {"x": x})["y"])


def test_input_shape_errors_name_the_culprit(tmp_path):
    source = image_model(tmp_path / "m.onnx")
    error = _error(atc, tmp_path, f"--model={source}", "--input_shape=images:1,3,8,8")
    assert error.code == "E10016" and "[images]" in error.message and "x" in error.message
    assert _error(atc, tmp_path, f"--model={source}", "--input_shape=x:1,3,8").code == "E10049"
    assert _error(atc, tmp_path, f"--model={source}", "--input_shape=x:1,a,8,8").code == "E10002"
    assert _error(atc, tmp_path, f"--model={source}", "--input_shape=x:0,3,8,8").code == "E10011"


def test_input_format_is_recorded_per_input(tmp_path):
    image = image_model(tmp_path / "m.onnx", dims=(1, 8, 8, 3), layout="NHWC")
    assert metadata(atc(tmp_path, f"--model={image}", "--input_format=NHWC"))["inputs"] == {
        "x": {"format": "NHWC", "fp16": False}}
    nd = nd_model(tmp_path / "nd.onnx")
    shapes = "--input_shape=a:2,5;b:2,4"
    assert metadata(atc(tmp_path, f"--model={nd}", shapes))["inputs"] == {
        "a": {"format": "ND", "fp16": False}, "b": {"format": "ND", "fp16": False}}
    # a 4-D format does not fit a 2-D input: that input is ND
    record = metadata(atc(tmp_path, f"--model={nd}", shapes, "--input_format=NCHW"))
    assert record["inputs"]["a"]["format"] == "ND"
    error = _error(atc, tmp_path, f"--model={image}", "--input_format=NCWH")
    assert error.code == "E10001" and "--input_format" in error.message


def test_fp16_input_keeps_the_name_and_the_math(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 8, 8))
    path = atc(tmp_path, f"--model={source}", "--input_fp16_nodes=x")

    graph = onnx.load(path).graph
    assert graph.input[0].name == "x"
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT16
    assert metadata(path)["inputs"]["x"] == {"format": "NCHW", "fp16": True}
    x16 = random_input((1, 3, 8, 8)).astype(np.float16)
    expected = run(source, {"x": x16.astype(np.float32)})
    actual = run(path, {"x": x16})
    for name in ("y", "z"):
        assert actual[name].dtype == np.float32
        np.testing.assert_array_equal(actual[name], expected[name])


def test_fp16_input_errors(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 8, 8))
    assert _error(atc, tmp_path, f"--model={source}", "--input_fp16_nodes=x;q").code == "E10016"
    integers = tmp_path / "int.onnx"
    model = onnx.load(nd_model(tmp_path / "nd.onnx"))
    model.graph.input[0].type.tensor_type.elem_type = onnx.TensorProto.INT64
    cast = onnx.helper.make_node("Cast", ["a"], ["a_float"], to=onnx.TensorProto.FLOAT)
    model.graph.node[0].input[0] = "a_float"
    model.graph.node.insert(0, cast)
    onnx.save(model, integers)
    error = _error(atc, tmp_path, f"--model={integers}", "--input_shape=a:1,2;b:1,4",
                   "--input_fp16_nodes=a")
    assert error.code == "E10001" and "INT64" in error.message


def test_output_type_fp16_for_every_output(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(2, 3, 4, 4))
    path = atc(tmp_path, f"--model={source}", "--output_type=FP16")

    x = random_input((2, 3, 4, 4))
    expected, actual = run(source, {"x": x}), run(path, {"x": x})
    for name in ("y", "z"):
        assert actual[name].dtype == np.float16
        np.testing.assert_array_equal(actual[name], expected[name].astype(np.float16))
    assert {name: o["type"] for name, o in metadata(path)["outputs"].items()} == {
        "y": "FP16", "z": "FP16"}
    assert [o.name for o in onnx.load(path).graph.output] == ["y", "z"]


def test_output_type_uint8(tmp_path):
    source = split_model(tmp_path / "m.onnx")
    path = atc(tmp_path, f"--model={source}", "--output_type=UINT8")
    x = np.arange(12, dtype=np.float32).reshape(2, 6) * 20.0       # whole numbers, 0..220
    expected, actual = run(source, {"x": x}), run(path, {"x": x})
    assert actual["y0"].dtype == np.uint8
    np.testing.assert_array_equal(actual["y0"], expected["y0"].astype(np.uint8))


def test_output_type_per_output_leaves_the_others_alone(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    path = atc(tmp_path, f"--model={source}", "--output_type=flat:0:FP16")

    x = random_input((1, 3, 4, 4))
    expected, actual = run(source, {"x": x}), run(path, {"x": x})
    assert actual["y"].dtype == np.float16 and actual["z"].dtype == np.float32
    np.testing.assert_array_equal(actual["y"], expected["y"].astype(np.float16))
    np.testing.assert_array_equal(actual["z"], expected["z"])
    outputs = metadata(path)["outputs"]
    assert outputs["y"]["type"] == "FP16" and outputs["z"]["type"] == "FP32"


def test_output_type_errors(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    for value in ("INT4", "flat:0:INT4", "flat:FP16"):
        assert _error(atc, tmp_path, f"--model={source}", f"--output_type={value}").code == "E10001"
    error = _error(atc, tmp_path, f"--model={source}", "--output_type=/layer1/Relu:0:FP16")
    assert error.code == "E10001" and "not a model output" in error.message
    assert _error(atc, tmp_path, f"--model={source}",
                  "--output_type=nothing:0:FP16").code == "E10016"


def test_out_nodes_choose_intermediate_tensors_in_the_order_given(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    reference = image_model(tmp_path / "ref.onnx", dims=(1, 3, 4, 4),
                            extra_outputs=["/layer1/Relu_output_0"])
    path = atc(tmp_path, f"--model={source}", "--out_nodes=/head/Sigmoid:0;/layer1/Relu:0")

    graph = onnx.load(path).graph
    assert [o.name for o in graph.output] == ["z", "/layer1/Relu_output_0"]
    assert [d.dim_value for d in graph.output[1].type.tensor_type.shape.dim] == [1, 3, 4, 4]
    assert {node.name for node in graph.node} == {"/layer1/Mul", "/layer1/Relu", "/head/Sigmoid"}
    x = random_input((1, 3, 4, 4))
    expected, actual = run(reference, {"x": x}), run(path, {"x": x})
    for name in ("z", "/layer1/Relu_output_0"):
        np.testing.assert_array_equal(actual[name], expected[name])
    record = metadata(path)
    assert record["output_order"] == ["z", "/layer1/Relu_output_0"]
    assert record["outputs"]["/layer1/Relu_output_0"] == {"type": "FP32", "node": "/layer1/Relu",
                                                          "index": 0}


def test_out_nodes_pick_one_output_of_a_multi_output_node(tmp_path):
    source = split_model(tmp_path / "m.onnx")
    reference = split_model(tmp_path / "ref.onnx", extra_outputs=["s1"])
    path = atc(tmp_path, f"--model={source}", "--out_nodes=split:1")

    x = random_input((2, 6))
    actual = run(path, {"x": x})
    assert list(actual) == ["s1"]
    np.testing.assert_array_equal(actual["s1"], run(reference, {"x": x})["s1"])


def test_out_nodes_then_output_type_on_the_chosen_tensor(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    reference = image_model(tmp_path / "ref.onnx", dims=(1, 3, 4, 4),
                            extra_outputs=["/layer1/Relu_output_0"])
    path = atc(tmp_path, f"--model={source}", "--out_nodes=/layer1/Relu:0",
               "--output_type=/layer1/Relu:0:FP16")
    x = random_input((1, 3, 4, 4))
    actual = run(path, {"x": x})["/layer1/Relu_output_0"]
    expected = run(reference, {"x": x})["/layer1/Relu_output_0"]
    np.testing.assert_array_equal(actual, expected.astype(np.float16))


def test_out_nodes_errors(tmp_path):
    source = split_model(tmp_path / "m.onnx")
    error = _error(atc, tmp_path, f"--model={source}", "--out_nodes=/layer9/Relu:0")
    assert error.code == "E10016" and "[/layer9/Relu]" in error.message
    error = _error(atc, tmp_path, f"--model={source}", "--out_nodes=split:2")
    assert error.code == "E10001" and "2 outputs" in error.message
    assert _error(atc, tmp_path, f"--model={source}", "--out_nodes=split").code == "E10001"


def test_edits_reach_tensors_read_inside_subgraphs(tmp_path):
    """An If branch reads the outer input x and writes the output: both edits must follow."""
    from onnx import TensorProto, helper

    from tests.atc.builders import save

    branch = helper.make_graph([helper.make_node("Neg", ["x"], ["n"], name="neg")], "then",
                               [], [helper.make_tensor_value_info("n", TensorProto.FLOAT, [3])])
    other = helper.make_graph([helper.make_node("Sqrt", ["x"], ["r"], name="sqrt")], "else",
                              [], [helper.make_tensor_value_info("r", TensorProto.FLOAT, [3])])
    graph = helper.make_graph(
        [helper.make_node("If", ["c"], ["y"], name="choose", then_branch=branch,
                          else_branch=other),
         helper.make_node("Mul", ["y", "x"], ["z"], name="mul")], "main",
        [helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [3])])
    source = save(graph, tmp_path / "if.onnx")
    path = atc(tmp_path, f"--model={source}", "--input_fp16_nodes=x", "--output_type=FP16")
    x16 = np.array([0.3, 2.0, 7.1], np.float16)
    for condition in (True, False):
        expected = run(source, {"c": np.array(condition), "x": x16.astype(np.float32)})
        actual = run(path, {"c": np.array(condition), "x": x16})
        for name in ("y", "z"):
            np.testing.assert_array_equal(actual[name], expected[name].astype(np.float16))


def test_weights_listed_as_inputs_are_not_inputs(tmp_path):
    model = onnx.load(image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4)))
    model.graph.input.append(onnx.helper.make_tensor_value_info("w", onnx.TensorProto.FLOAT,
                                                                [1, 3, 1, 1]))
    onnx.save(model, tmp_path / "old.onnx")
    record = metadata(atc(tmp_path, f"--model={tmp_path / 'old.onnx'}"))
    assert record["input_order"] == ["x"] and list(record["inputs"]) == ["x"]


@pytest.mark.parametrize("content, code, words", [
    (b"not a model at all", "E10041", "not an ONNX model"),
    (b"IMOD" + bytes(60), "E10041", "Huawei ATC-compiled .om"),
    (b"", "E10041", "not an ONNX model"),
])
def test_unreadable_models_are_refused(tmp_path, content, code, words):
    (tmp_path / "bad.onnx").write_bytes(content)
    error = _error(atc, tmp_path, f"--model={tmp_path / 'bad.onnx'}")
    assert error.code == code and words in error.message


def test_missing_model_file(tmp_path):
    error = _error(atc, tmp_path, f"--model={tmp_path / 'none.onnx'}")
    assert error.code == "E10001" and "does not exist" in error.message


@pytest.mark.parametrize("framework, words", [
    ("3", "TensorFlow"), ("0", "Caffe"), ("1", "MindSpore")])
def test_other_frameworks_are_told_to_export_to_onnx(tmp_path, framework, words):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    error = _error(convert, [f"--model={source}", f"--framework={framework}",
                             f"--output={tmp_path / 'o'}", f"--soc_version={SOC}"])
    assert error.code == "E10001" and words in error.message
    assert "export the model to ONNX first and use --framework=5" in error.message


@pytest.mark.parametrize("argv, code, words", [
    (["--framework=9", "--output=o", "--soc_version=A"], "E10001", "[--framework]"),
    (["--output=o", "--soc_version=A"], "E10007", "[--framework]"),
    (["--framework=5", "--soc_version=A"], "E10004", "[--output]"),
    (["--framework=5", "--output=o"], "E10007", "[--soc_version]"),
    (["--framework=5", "--output=o", "--soc_version="], "E10007", "[--soc_version]"),
])
def test_required_parameters(tmp_path, argv, code, words):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    error = _error(convert, [f"--model={source}", *argv])
    assert error.code == code and words in error.message
    error = _error(convert, ["--framework=5", "--output=o", "--soc_version=A"])
    assert error.code == "E10004" and "[--model]" in error.message


def test_ascend_only_options_convert_with_a_warning(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    warnings = []
    path = atc(tmp_path, f"--model={source}", "--fusion_switch_file=fusion.cfg",
               "--op_select_implmode=high_performance", on_warning=warnings.append)
    assert len(warnings) == 2
    assert "--fusion_switch_file=fusion.cfg has no effect in openacl" in warnings[0]
    assert "--op_select_implmode" in warnings[1]
    assert metadata(path)["aipp"] is None


def test_warnings_go_to_the_warnings_module_without_a_callback(tmp_path):
    from openacl.atc import AtcWarning

    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    with pytest.warns(AtcWarning, match="--enable_small_channel"):
        convert([f"--model={source}", "--framework=5", f"--output={tmp_path / 'o'}",
                 f"--soc_version={SOC}", "--enable_small_channel=1"])


def test_options_object_for_programmatic_use(tmp_path):
    source = image_model(tmp_path / "m.onnx")
    path = convert(AtcOptions(model=source, framework="5", output=str(tmp_path / "api"),
                              soc_version=SOC, input_shape="x:1,3,4,4"))
    record = metadata(path)
    assert record["cmdline"].startswith("atc --model=") and "--input_shape=x:1,3,4,4" in \
        record["cmdline"]
    x = random_input((1, 3, 4, 4))
    np.testing.assert_array_equal(run(path, {"x": x})["y"], run(source, {"x": x})["y"])
