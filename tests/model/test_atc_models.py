"""Models converted by atc, run through pyACL: the Ascend build-then-run flow end to end."""

import subprocess
import sys

import numpy as np
import onnx
import onnx.helper as helper
import pytest
from onnx import TensorProto as T
from onnx import numpy_helper

import acl
from openacl.atc import convert
from tests.model import builders, gear_models
from tests.model.sample_net import SampleNet
from tests.model.test_dynamic import GearNet

ACL_FLOAT, ACL_FLOAT16 = 0, 1
ACL_FORMAT_NCHW, ACL_FORMAT_NHWC, ACL_FORMAT_ND = 0, 1, 2


def _atc(tmp_path, model, name, *flags):
    source = tmp_path / f"{name}.onnx"
    onnx.save(model, source)
    return convert([f"--model={source}", "--framework=5", f"--output={tmp_path / name}",
                    "--soc_version=Ascend310P3", *flags], on_warning=lambda _: None)


def test_seed_flow_on_an_atc_model(tmp_path):
    model = builders.classifier(classes=1000)
    path = _atc(tmp_path, model, "classifier", "--input_format=NCHW",
                "--input_shape=data:1,3,16,16")
    net = SampleNet(path)
    try:
        assert acl.mdl.get_input_format(net.model_desc, 0) == ACL_FORMAT_NCHW
        image = np.random.default_rng(0).standard_normal((1, 3, 16, 16)).astype(np.float32)
        (prob,) = net.run([image])
        np.testing.assert_array_equal(prob, builders.reference(model, {"data": image})[0])
    finally:
        net.release()


def test_fp16_input_and_output_types(tmp_path):
    model = builders.classifier(classes=10)
    path = _atc(tmp_path, model, "half", "--input_fp16_nodes=data", "--output_type=FP16")
    net = SampleNet(path)
    try:
        desc = net.model_desc
        assert acl.mdl.get_input_data_type(desc, 0) == ACL_FLOAT16
        assert acl.mdl.get_input_size_by_index(desc, 0) == 3 * 16 * 16 * 2
        assert acl.mdl.get_output_data_type(desc, 0) == ACL_FLOAT16
        image = np.random.default_rng(1).standard_normal((1, 3, 16, 16)).astype(np.float16)
        (prob,) = net.run([image])
        expected = builders.reference(model, {"data": image.astype(np.float32)})[0]
        assert prob.dtype == np.float16
        np.testing.assert_array_equal(prob, expected.astype(np.float16))
    finally:
        net.release()


def test_out_nodes_pick_an_intermediate_tensor(tmp_path):
    model = builders.classifier(classes=10)
    path = _atc(tmp_path, model, "cut", "--out_nodes=/relu/Relu:0;/softmax/Softmax:0")
    # The reference: the same graph with the intermediate declared as an output.
    reference_model = builders.classifier(classes=10)
    reference_model.graph.output.insert(0, helper.make_tensor_value_info("relu", T.FLOAT,
                                                                         [1, 8, 16, 16]))
    net = SampleNet(path)
    try:
        assert acl.mdl.get_num_outputs(net.model_desc) == 2
        assert acl.mdl.get_output_dims(net.model_desc, 0)[0]["dims"] == [1, 8, 16, 16]
        image = np.random.default_rng(2).standard_normal((1, 3, 16, 16)).astype(np.float32)
        relu, prob = net.run([image])
        want_relu, want_prob = builders.reference(reference_model, {"data": image})
        np.testing.assert_array_equal(relu, want_relu)
        np.testing.assert_array_equal(prob, want_prob)
    finally:
        net.release()


def _nhwc_model():
    """x [1,h,w,3] NHWC -> Transpose -> Conv 3x3 -> y [1,4,h,w]."""
    w = numpy_helper.from_array(
        np.random.default_rng(5).standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
             helper.make_node("Conv", ["t", "w"], ["y"], pads=[1, 1, 1, 1])]
    graph = helper.make_graph(nodes, "nhwc", [helper.make_tensor_value_info("x", T.FLOAT,
                                                                            [1, "h", "w", 3])],
                              [helper.make_tensor_value_info("y", T.FLOAT, [1, 4, "h", "w"])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.mark.parametrize("kind", ["batch_nchw", "hw_nchw", "hw_nhwc", "dims_nd"])
def test_every_atc_gear_equals_onnxruntime(context, tmp_path, kind):
    rng = np.random.default_rng(7)
    if kind == "batch_nchw":
        model, _ = gear_models.batch_model()
        path = _atc(tmp_path, model, kind, "--input_shape=x:-1,3,4,4",
                    "--dynamic_batch_size=1,2,4,8", "--input_format=NCHW")
        gears = [(b,) for b in (1, 2, 4, 8)]
        feeds = lambda g: {"x": rng.standard_normal((g[0], 3, 4, 4)).astype(np.float32)}  # noqa
        choose = lambda net, g: acl.mdl.set_dynamic_batch_size(  # noqa: E731
            net.model_id, net.inputs, net.dynamic_index, g[0])
        fmt = ACL_FORMAT_NCHW
    elif kind == "hw_nchw":
        model, _ = gear_models.hw_model()
        path = _atc(tmp_path, model, kind, "--input_shape=x:1,2,-1,-1",
                    "--dynamic_image_size=4,4;8,6;16,16")
        gears = [(4, 4), (8, 6), (16, 16)]
        feeds = lambda g: {"x": rng.standard_normal((1, 2, *g)).astype(np.float32)}  # noqa
        choose = lambda net, g: acl.mdl.set_dynamic_hw_size(  # noqa: E731
            net.model_id, net.inputs, net.dynamic_index, *g)
        fmt = ACL_FORMAT_NCHW
    elif kind == "hw_nhwc":
        model = _nhwc_model()
        path = _atc(tmp_path, model, kind, "--input_shape=x:1,-1,-1,3", "--input_format=NHWC",
                    "--dynamic_image_size=6,6;10,4")
        gears = [(6, 6), (10, 4)]
        feeds = lambda g: {"x": rng.standard_normal((1, *g, 3)).astype(np.float32)}  # noqa
        choose = lambda net, g: acl.mdl.set_dynamic_hw_size(  # noqa: E731
            net.model_id, net.inputs, net.dynamic_index, *g)
        fmt = ACL_FORMAT_NHWC
    else:
        model, _ = gear_models.dims_model()
        path = _atc(tmp_path, model, kind, "--input_shape=a:-1,4;b:-1", "--input_format=ND",
                    "--dynamic_dims=1,2;3,5;2,7")
        gears = [(1, 2), (3, 5), (2, 7)]
        feeds = lambda g: {"a": rng.standard_normal((g[0], 4)).astype(np.float32),  # noqa
                           "b": rng.integers(-9, 9, g[1]).astype(np.int64)}
        choose = lambda net, g: acl.mdl.set_input_dynamic_dims(  # noqa: E731
            net.model_id, net.inputs, net.dynamic_index,
            {"dimCount": 3, "name": "", "dims": [g[0], 4, g[1]]})
        fmt = ACL_FORMAT_ND
    net = GearNet(path)
    try:
        assert acl.mdl.get_input_format(net.desc, 0) == fmt
        for gear in gears + gears[::-1]:
            inputs = feeds(gear)
            for index, name in enumerate(inputs):
                net.write(index, inputs[name])
            assert choose(net, gear) == 0, acl.get_recent_err_msg()
            assert net.execute() == 0, acl.get_recent_err_msg()
            expected = builders.reference(model, inputs)
            for index, want in enumerate(expected):
                np.testing.assert_array_equal(net.read(index, want.dtype), want)
    finally:
        net.release()


def test_atc_shape_range_model_runs(context, tmp_path):
    from tests.model.test_shape_range import RangeNet

    model, _ = gear_models.range_model()
    path = _atc(tmp_path, model, "range", "--input_shape_range=x:[1~16,3]")
    net = RangeNet(path, output_sizes=[16 * 3 * 4, 16 * 4])
    try:
        assert acl.mdl.get_input_dims_range(net.desc, 0)[0]["range"] == [[1, 16], [3, 3]]
        x = np.random.default_rng(3).standard_normal((6, 3)).astype(np.float32)
        assert net.run(x) == 0, acl.get_recent_err_msg()
        relu, total = builders.reference(model, {"x": x})
        np.testing.assert_array_equal(net.output(0, np.float32), relu)
        np.testing.assert_array_equal(net.output(1, np.float32), total)
    finally:
        net.release()


def test_the_demo_runs_with_no_arguments():
    result = subprocess.run([sys.executable, "-m", "openacl"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "ATC run success" in out and "top5 inference results" in out
    line = next(l for l in out.splitlines() if l.startswith("held-out accuracy"))
    correct, total = map(int, line.split(":")[1].split("=")[0].split("/"))
    assert total == 450 and correct / total >= 0.95
