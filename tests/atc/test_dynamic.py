"""Gears (dynamic batch / image size / dims) and shape ranges: the exact metadata records the
runtime relies on, the models' behaviour at every gear, and ATC's consistency errors."""

import numpy as np
import onnx
import pytest

from openacl.atc import AtcError
from openacl.atc.shapes import plan_inputs
from tests.atc.builders import atc, image_model, metadata, nd_model, random_input, run

IMAGE = {"x": ["N", 3, "H", "W"]}                        # model inputs as plan_inputs takes them
TWO = {"a": ["B", "T"], "b": ["B", 4]}


def _dims(path, name):
    value = next(v for v in onnx.load(path).graph.input if v.name == name)
    return [d.dim_value if d.HasField("dim_value") else d.dim_param
            for d in value.type.tensor_type.shape.dim]


def test_dynamic_batch_record_and_every_gear_runs(tmp_path):
    source = image_model(tmp_path / "m.onnx")
    path = atc(tmp_path, f"--model={source}", "--input_shape=x:-1,3,8,8",
               "--dynamic_batch_size=1,2,4")

    record = metadata(path)
    assert record["dynamic"] == {"kind": "batch", "gears": [[1], [2], [4]],
                                 "input_dims": {"x": [-1, 3, 8, 8]}, "input_order": ["x"]}
    assert record["shape_range"] is None and record["inputs"]["x"]["format"] == "NCHW"
    dims = _dims(path, "x")
    assert isinstance(dims[0], str) and dims[0] and dims[1:] == [3, 8, 8]
    for batch in (1, 2, 4):
        x = random_input((batch, 3, 8, 8), seed=batch)
        expected, actual = run(source, {"x": x}), run(path, {"x": x})
        for name in ("y", "z"):
            np.testing.assert_array_equal(actual[name], expected[name])


def test_dynamic_batch_over_two_inputs(tmp_path):
    source = nd_model(tmp_path / "m.onnx")
    path = atc(tmp_path, f"--model={source}", "--input_shape=a:-1,5;b:-1,4",
               "--dynamic_batch_size=2,3")
    assert metadata(path)["dynamic"] == {"kind": "batch", "gears": [[2], [3]],
                                         "input_dims": {"a": [-1, 5], "b": [-1, 4]},
                                         "input_order": ["a", "b"]}
    assert _dims(path, "a")[0] == _dims(path, "b")[0]          # one shared batch axis
    for batch in (2, 3):
        feeds = {"a": random_input((batch, 5)), "b": random_input((batch, 4), seed=1)}
        np.testing.assert_array_equal(run(path, feeds)["out"], run(source, feeds)["out"])


def test_dynamic_image_size_nchw(tmp_path):
    source = image_model(tmp_path / "m.onnx")
    path = atc(tmp_path, f"--model={source}", "--input_shape=x:1,3,-1,-1",
               "--dynamic_image_size=8,8;16,12")
    assert metadata(path)["dynamic"] == {"kind": "hw", "gears": [[8, 8], [16, 12]],
                                         "input_dims": {"x": [1, 3, -1, -1]},
                                         "input_order": ["x"]}
    assert metadata(path)["inputs"]["x"]["format"] == "NCHW"
    for height, width in ((8, 8), (16, 12)):
        x = random_input((1, 3, height, width))
        np.testing.assert_array_equal(run(path, {"x": x})["z"], run(source, {"x": x})["z"])


def test_dynamic_image_size_nhwc(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=("N", "H", "W", 3), layout="NHWC")
    path = atc(tmp_path, f"--model={source}", "--input_format=NHWC",
               "--input_shape=x:1,-1,-1,3", "--dynamic_image_size=4,6;10,2")
    record = metadata(path)
    assert record["dynamic"] == {"kind": "hw", "gears": [[4, 6], [10, 2]],
                                 "input_dims": {"x": [1, -1, -1, 3]}, "input_order": ["x"]}
    assert record["inputs"]["x"]["format"] == "NHWC"
    for height, width in ((4, 6), (10, 2)):
        x = random_input((1, height, width, 3))
        np.testing.assert_array_equal(run(path, {"x": x})["y"], run(source, {"x": x})["y"])


def test_dynamic_dims_nd(tmp_path):
    source = nd_model(tmp_path / "m.onnx")
    path = atc(tmp_path, f"--model={source}", "--input_format=ND",
               "--input_shape=a:-1,-1;b:-1,4", "--dynamic_dims=1,5,1;2,7,2")
    record = metadata(path)
    assert record["dynamic"] == {"kind": "dims", "gears": [[1, 5, 1], [2, 7, 2]],
                                 "input_dims": {"a": [-1, -1], "b": [-1, 4]},
                                 "input_order": ["a", "b"]}
    assert record["inputs"] == {"a": {"format": "ND", "fp16": False},
                                "b": {"format": "ND", "fp16": False}}
    for batch, length, _ in record["dynamic"]["gears"]:
        feeds = {"a": random_input((batch, length)), "b": random_input((batch, 4), seed=1)}
        np.testing.assert_array_equal(run(path, feeds)["out"], run(source, feeds)["out"])


def test_dynamic_dims_follow_the_input_shape_order(tmp_path):
    source = nd_model(tmp_path / "m.onnx")
    path = atc(tmp_path, f"--model={source}", "--input_shape=b:-1,4;a:-1,-1",
               "--dynamic_dims=1,1,5;2,2,7")
    dynamic = metadata(path)["dynamic"]
    assert dynamic["input_order"] == ["b", "a"]
    assert dynamic["input_dims"] == {"b": [-1, 4], "a": [-1, -1]}
    assert metadata(path)["input_order"] == ["a", "b"]              # the graph's own order


def test_shape_range_record_and_model(tmp_path):
    source = image_model(tmp_path / "m.onnx")
    path = atc(tmp_path, f"--model={source}", "--input_shape_range=x:[1~8,3,8,-1]")
    record = metadata(path)
    assert record["shape_range"] == {"x": [[1, 8], [3, 3], [8, 8], [1, -1]]}
    assert record["dynamic"] is None
    dims = _dims(path, "x")
    assert isinstance(dims[0], str) and dims[1:3] == [3, 8] and isinstance(dims[3], str)
    x = random_input((3, 3, 8, 5))
    np.testing.assert_array_equal(run(path, {"x": x})["y"], run(source, {"x": x})["y"])


@pytest.mark.parametrize("args", [["--input_shape_range=[1~8,3,8,-1]"],
                                  ["--input_shape=x:1~8,3,8,-1"]])
def test_shape_range_spellings(tmp_path, args):
    source = image_model(tmp_path / "m.onnx")
    assert metadata(atc(tmp_path, f"--model={source}", *args))["shape_range"] == {
        "x": [[1, 8], [3, 3], [8, 8], [1, -1]]}


def test_shape_range_and_fixed_inputs_together(tmp_path):
    source = nd_model(tmp_path / "m.onnx")
    path = atc(tmp_path, f"--model={source}", "--input_shape=b:2,4",
               "--input_shape_range=a:[2,1~16]")
    assert metadata(path)["shape_range"] == {"a": [[2, 2], [1, 16]]}
    assert _dims(path, "b") == [2, 4]
    feeds = {"a": random_input((2, 11)), "b": random_input((2, 4), seed=1)}
    np.testing.assert_array_equal(run(path, feeds)["out"], run(source, feeds)["out"])


@pytest.mark.parametrize("options, code", [
    ({"input_shape": "x:-1,3,-1,-1", "dynamic_batch_size": "1,2",
      "dynamic_image_size": "8,8;4,4"}, "E10009"),
    ({"input_shape": "x:-1,3,8,8", "dynamic_batch_size": "1,2",
      "input_shape_range": "x:[1~2,3,8,8]"}, "E10009"),
    ({"input_shape": "x:1,3,8,8", "dynamic_batch_size": "1,2"}, "E10031"),
    ({"input_shape": "x:1,3,8,8", "dynamic_image_size": "8,8;4,4"}, "E10040"),
    ({"input_shape": "x:1~2,3,-1,8", "dynamic_dims": "1;2", "input_format": "ND"}, "E10040"),
    ({"dynamic_batch_size": "1,2"}, "E10031"),
    ({"input_shape": "x:-1,3,-1,8", "dynamic_batch_size": "1,2"}, "E10018"),
    ({"input_shape": "x:-1,3,-1,-1", "dynamic_image_size": "8,8;4,4"}, "E10019"),
    ({"input_shape": "x:1,3,-1,-1", "dynamic_image_size": "8,8;4,4",
      "input_format": "NHWC"}, "E10019"),
    ({"input_shape": "x:1,3,-1,-1", "dynamic_image_size": "8,8,8;4,4,4"}, "E10020"),
    ({"input_shape": "x:1,3,-1,-1", "dynamic_image_size": "8,8;4,4",
      "input_format": "ND"}, "E10001"),
    ({"input_shape": "x:1,3,-1,-1", "dynamic_dims": "8,8;4,4", "input_format": "NCHW"},
     "E10001"),
    ({"input_shape": "x:-1,3,-1,8", "dynamic_dims": "1;2"}, "E10045"),
    ({"input_shape": "x:-1,3,8,8", "dynamic_dims": "1,2;3,4"}, "E10045"),
    ({"input_shape": "x:-1,3,8,8", "dynamic_batch_size": "4"}, "E10035"),
    ({"input_shape": "x:-1,3,8,8",
      "dynamic_batch_size": ",".join(str(n) for n in range(1, 102))}, "E10036"),
    ({"input_shape": "x:-1,3,-1,8", "dynamic_dims": "1,2;3"}, "E10037"),
    ({"input_shape": "x:-1,3,8,8", "dynamic_batch_size": "1,2,2"}, "E10039"),
    ({"input_shape": "x:1,3,-1,-1", "dynamic_image_size": "8,8;8,8"}, "E10039"),
    ({"input_shape": "x:-1,3,8,8", "dynamic_batch_size": "0,1"}, "E10038"),
    ({"input_shape": "x:-1,3,8,8", "dynamic_batch_size": "-2,1"}, "E10038"),
    ({"input_shape": "x:-1,3,8,8", "dynamic_batch_size": "one,2"}, "E10001"),
    ({"input_shape": "x:-1,3,8,8"}, "E10011"),
    ({"input_shape": "x:-2,3,8,8", "dynamic_batch_size": "1,2"}, "E10011"),
    ({"input_shape": "x:1,3,8,8", "input_shape_range": "x:[1,3,8,8]"}, "E10047"),
    ({"input_shape_range": "x:1~8,3,8,8"}, "E10048"),
    ({"input_shape_range": "x:[8~1,3,8,8]"}, "E10048"),
    ({"input_shape_range": "x:[1~8,3,8]"}, "E10049"),
    ({"input_shape_range": "images:[1~8,3,8,8]"}, "E10016"),
])
def test_inconsistent_dynamic_options_are_refused_like_atc(options, code):
    with pytest.raises(AtcError) as caught:
        plan_inputs(IMAGE, **options)
    assert caught.value.code == code, caught.value


def test_gears_need_every_other_input_static():
    with pytest.raises(AtcError) as caught:
        plan_inputs(TWO, input_shape="a:-1,5", dynamic_batch_size="1,2")
    assert caught.value.code == "E11005" and "[b]" in caught.value.message


def test_a_dynamic_input_left_unfixed_converts_with_a_note():
    plan = plan_inputs(TWO, input_shape="a:2,5")
    assert plan.dims == {"a": [2, 5]}
    assert len(plan.notes) == 1 and "[b]" in plan.notes[0]


def test_gear_limits_are_inclusive():
    plan = plan_inputs(IMAGE, input_shape="x:-1,3,8,8",
                       dynamic_batch_size=",".join(str(n) for n in range(1, 101)))
    assert len(plan.dynamic["gears"]) == 100
    plan = plan_inputs(IMAGE, input_shape="x:-1,3,8,8", dynamic_batch_size="1,2")
    assert plan.dynamic["gears"] == [[1], [2]]


def test_dynamic_errors_reach_the_converter(tmp_path):
    source = image_model(tmp_path / "m.onnx")
    with pytest.raises(AtcError) as caught:
        atc(tmp_path, f"--model={source}", "--input_shape=x:-1,3,-1,8",
            "--dynamic_batch_size=1,2")
    assert caught.value.code == "E10018"
    assert not (tmp_path / "out.om").exists()
