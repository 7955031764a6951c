"""atc --mode=1: the ATC-style JSON description of a model."""

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from openacl.atc import AtcError, model_to_json, write_json
from tests.atc.builders import SOC, atc, image_model, metadata, save


def test_description_of_a_converted_model(tmp_path):
    source = image_model(tmp_path / "m.onnx")
    path = atc(tmp_path, f"--model={source}", "--input_shape=x:-1,3,8,8",
               "--dynamic_batch_size=1,2", output="net")
    description = model_to_json(path)

    assert list(description) == ["name", "version", "custom_version", "graph", "attr"]
    assert description["name"] == "net"
    assert description["custom_version"].startswith("openacl atc ")
    main = description["graph"][0]
    assert set(main) == {"name", "input", "output", "op"}
    assert main["input"] == ["x"] and main["output"] == ["y", "z"]
    ops = {op["name"]: op for op in main["op"]}
    assert ops["x"]["type"] == "Data"
    assert ops["x"]["output_desc"] == [{"name": "x", "dtype": "FP32", "shape": [-1, 3, 8, 8]}]
    assert ops["w"]["type"] == "Const"
    assert ops["/layer1/Relu"]["type"] == "Relu"
    assert ops["/layer1/Relu"]["input"] == ["/layer1/Mul_output_0"]
    assert ops["/layer1/Relu"]["output_desc"][0]["shape"] == [-1, 3, 8, 8]
    assert ops["NetOutput"]["input"] == ["y", "z"]
    attrs = {attr["key"]: attr["value"] for attr in description["attr"]}
    assert attrs["soc_version"] == {"s": SOC}
    assert attrs["atc_cmdline"]["s"].startswith("atc ")
    assert json.loads(attrs["openacl.om"]["s"]) == metadata(path)
    write_json(description, str(tmp_path / "net.json"))
    assert json.loads((tmp_path / "net.json").read_text()) == description


def test_weights_are_summarised_not_dumped(tmp_path):
    weight = numpy_helper.from_array(np.arange(100_000, dtype=np.float32), "big")
    small = numpy_helper.from_array(np.array([2, 50_000], np.int64), "shape")
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "big"], ["s"], name="add"),
         helper.make_node("Reshape", ["s", "shape"], ["y"], name="reshape")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [100_000])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 50_000])], [weight, small])
    path = save(graph, tmp_path / "big.onnx")
    text = json.dumps(model_to_json(path))
    assert len(text) < 10_000
    ops = {op["name"]: op for op in model_to_json(path)["graph"][0]["op"]}
    assert ops["big"]["attr"][0]["value"]["t"] == {"dtype": "FP32", "shape": [100_000],
                                                   "bytes": 400_000}
    assert ops["shape"]["attr"][0]["value"]["t"]["value"] == [2, 50_000]


def test_plain_onnx_and_subgraphs(tmp_path):
    branch = helper.make_graph([helper.make_node("Neg", ["x"], ["n"], name="neg")], "then",
                               [], [helper.make_tensor_value_info("n", TensorProto.FLOAT, [2])])
    other = helper.make_graph([helper.make_node("Abs", ["x"], ["a"], name="abs")], "else",
                              [], [helper.make_tensor_value_info("a", TensorProto.FLOAT, [2])])
    graph = helper.make_graph(
        [helper.make_node("If", ["c"], ["y"], name="choose", then_branch=branch,
                          else_branch=other)], "main",
        [helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    path = save(graph, tmp_path / "if.onnx")
    description = model_to_json(path)
    names = [g["name"] for g in description["graph"]]
    assert names[0] == "main"
    assert sorted(names[1:]) == ["main/choose/else_branch", "main/choose/then_branch"]
    choose = next(op for op in description["graph"][0]["op"] if op["name"] == "choose")
    assert {a["key"]: a["value"] for a in choose["attr"]}["then_branch"] == {
        "g": "main/choose/then_branch"}
    keys = {attr["key"] for attr in description["attr"]}
    assert "soc_version" not in keys and "opset_import" in keys


def test_unreadable_models(tmp_path):
    with pytest.raises(AtcError) as caught:
        model_to_json(str(tmp_path / "none.om"))
    assert caught.value.code == "E10001"
    (tmp_path / "bad.om").write_bytes(b"IMOD" + bytes(64))
    with pytest.raises(AtcError) as caught:
        model_to_json(str(tmp_path / "bad.om"))
    assert caught.value.code == "E10041" and "Huawei" in caught.value.message
    onnx.save(onnx.ModelProto(), tmp_path / "empty.onnx")
    with pytest.raises(AtcError) as caught:
        model_to_json(str(tmp_path / "empty.onnx"))
    assert caught.value.code == "E10041"
