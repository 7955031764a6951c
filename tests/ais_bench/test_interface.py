"""ais_bench's InferSession on openacl: programs written for Huawei's API, checked against
onnxruntime running the same ONNX."""

import os
import threading
from configparser import ConfigParser

import numpy as np
import onnx
import onnx.helper as helper
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import numpy_helper

import acl
from ais_bench.infer.interface import InferSession, MemorySummary, MultiDeviceSession
from openacl.atc import convert
from openacl.runtime import RUNTIME
from tests.model import gear_models
from tests.model.aipp_reference import aipp_reference, random_image


def _atc(folder, model, name, *flags):
    source = folder / f"{name}.onnx"
    onnx.save(model, source)
    path = convert([f"--model={source}", "--framework=5", f"--output={folder / name}",
                    "--soc_version=Ascend310P3", *flags], on_warning=lambda _: None)
    return path, str(source)


def _reference(onnx_path, feeds):
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, feeds)))


def _static_model():
    """x float32 [2, 4] @ w [4, 3] -> y [2, 3]; and k int64 [3] -> Neg -> nk [3]."""
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


def _loop_model():
    """h float32 [1, 4] -> h * 0.5 + 1 (an iteration feeds its output back)."""
    nodes = [helper.make_node("Mul", ["h", "half"], ["m"]), helper.make_node("Add", ["m", "one"], ["o"])]
    graph = helper.make_graph(nodes, "loop", [helper.make_tensor_value_info("h", T.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("o", T.FLOAT, [1, 4])],
                              [numpy_helper.from_array(np.array(0.5, np.float32), "half"),
                               numpy_helper.from_array(np.array(1.0, np.float32), "one")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    batch, _ = gear_models.batch_model()
    hw, _ = gear_models.hw_model()
    dims, _ = gear_models.dims_model()
    ranged, _ = gear_models.range_model()
    return {
        "static": _atc(folder, _static_model(), "static"),
        "loop": _atc(folder, _loop_model(), "loop"),
        "batch": _atc(folder, batch, "batch", "--input_shape=x:-1,3,4,4",
                      "--dynamic_batch_size=1,2,4,8"),
        "hw": _atc(folder, hw, "hw", "--input_shape=x:1,2,-1,-1",
                   "--dynamic_image_size=4,4;8,6;16,16"),
        "dims": _atc(folder, dims, "dims", "--input_shape=a:-1,4;b:-1",
                     "--dynamic_dims=1,2;3,5;2,7"),
        "shape": _atc(folder, ranged, "shape", "--input_shape_range=x:[1~16,3]"),
    }


@pytest.fixture
def open_session():
    """Open sessions the way a program does; release them (and the runtime) afterwards."""
    made = []

    def make(*args, **kwargs):
        session = InferSession(*args, **kwargs)
        made.append(session)
        return session

    yield make
    for session in made:
        session.free_resource()
    InferSession.finalize()
    MemorySummary.reset()


def _assert_equal(outputs, expected):
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------- modes
def test_static_outputs_equal_onnxruntime(models, open_session):
    path, source = models["static"]
    session = open_session(0, path)
    rng = np.random.default_rng(1)
    feeds = [rng.standard_normal((2, 4)).astype(np.float32), np.array([1, -2, 3], np.int64)]
    _assert_equal(session.infer(feeds), _reference(source, feeds))
    _assert_equal(session.infer(feeds, "static"), _reference(source, feeds))


@pytest.mark.parametrize("batch", [1, 2, 4, 8])
def test_dymbatch_on_a_gear_equals_onnxruntime(models, open_session, batch):
    path, source = models["batch"]
    session = open_session(0, path)
    x = np.random.default_rng(batch).standard_normal((batch, 3, 4, 4)).astype(np.float32)
    _assert_equal(session.infer([x], mode="dymbatch"), _reference(source, [x]))
    assert session.get_inputs()[0].realsize == batch * 3 * 4 * 4 * 4


@pytest.mark.parametrize("batch", [3, 5, 7])
def test_dymbatch_pads_to_the_smallest_gear_and_cuts_the_outputs_back(models, open_session,
                                                                       batch):
    path, source = models["batch"]
    session = open_session(0, path)
    x = np.random.default_rng(batch).standard_normal((batch, 3, 4, 4)).astype(np.float32)
    (y,) = session.infer([x], mode="dymbatch")
    gear = 4 if batch <= 4 else 8
    padded = np.concatenate([x, np.zeros((gear - batch, 3, 4, 4), np.float32)])
    (want,) = _reference(source, [padded])
    assert y.shape == (batch, 5)
    np.testing.assert_array_equal(y, want[:batch])
    assert session.get_inputs()[0].realsize == gear * 3 * 4 * 4 * 4


def test_dymhw_equals_onnxruntime(models, open_session):
    path, source = models["hw"]
    session = open_session(0, path)
    rng = np.random.default_rng(2)
    for h, w in ((4, 4), (8, 6), (16, 16), (8, 6)):
        x = rng.standard_normal((1, 2, h, w)).astype(np.float32)
        _assert_equal(session.infer([x], mode="dymhw"), _reference(source, [x]))
    assert session.get_dynamic_hw() == [[4, 4], [8, 6], [16, 16]]
    with pytest.raises(RuntimeError, match=r"\[6, 8\] is not a gear .* \[\[4, 4\], \[8, 6\]"):
        session.infer([np.zeros((1, 2, 6, 8), np.float32)], mode="dymhw")


def test_dymdims_equals_onnxruntime(models, open_session):
    path, source = models["dims"]
    session = open_session(0, path)
    rng = np.random.default_rng(3)
    for n, m in ((1, 2), (3, 5), (2, 7)):
        feeds = [rng.standard_normal((n, 4)).astype(np.float32),
                 rng.integers(-9, 9, m).astype(np.int64)]
        _assert_equal(session.infer(feeds, mode="dymdims"), _reference(source, feeds))
    assert session.get_dynamic_dims() == [[1, 4, 2], [3, 4, 5], [2, 4, 7]]
    with pytest.raises(RuntimeError, match="not a gear"):
        session.infer([np.zeros((2, 4), np.float32), np.zeros(2, np.int64)], mode="dymdims")


def test_dymshape_equals_onnxruntime_with_outputs_sized_by_custom_sizes(models, open_session):
    path, source = models["shape"]
    session = open_session(0, path)
    rng = np.random.default_rng(4)
    for n in (1, 7, 16, 3):
        x = rng.standard_normal((n, 3)).astype(np.float32)
        _assert_equal(session.infer([x], mode="dymshape", custom_sizes=[16 * 3 * 4, 16 * 4]),
                      _reference(source, [x]))
    assert session.get_inputs()[0].realsize == 3 * 3 * 4
    x = rng.standard_normal((16, 3)).astype(np.float32)
    _assert_equal(session.infer([x], mode="dymshape"), _reference(source, [x]))
    with pytest.raises(RuntimeError, match="custom_sizes"):
        session.infer([x], mode="dymshape", custom_sizes=8)
    with pytest.raises(RuntimeError, match="outside the model's range"):
        session.infer([np.zeros((17, 3), np.float32)], mode="dymshape")


def test_mode_spellings_of_the_issue_are_accepted(models, open_session):
    path, source = models["batch"]
    session = open_session(0, path)
    x = np.ones((2, 3, 4, 4), np.float32)
    _assert_equal(session.infer([x], mode="dynbatch"), _reference(source, [x]))


def test_wrong_mode_names_the_right_one(models, open_session):
    session = open_session(0, models["batch"][0])
    x = np.ones((2, 3, 4, 4), np.float32)
    with pytest.raises(RuntimeError, match="not a static model! .* mode='dymbatch'"):
        session.infer([x])
    with pytest.raises(RuntimeError, match="wrong infer_mode:fast"):
        session.infer([x], mode="fast")
    with pytest.raises(RuntimeError, match="batch 9 is larger than the largest batch gear 8"):
        session.infer([np.ones((9, 3, 4, 4), np.float32)], mode="dymbatch")


# ---------------------------------------------------------------------- API surface
def test_descriptions_have_ais_bench_attributes(models, open_session):
    session = open_session(0, models["batch"][0])
    (x,) = session.get_inputs()
    assert (x.name, x.shape, x.size, x.realsize, x.format) == ("x", [-1, 3, 4, 4], 8 * 192,
                                                               8 * 192, 0)
    assert x.datatype.name == "float32" and int(x.datatype) == 0
    assert str(x.datatype) == "dtype.float32"
    (y,) = session.get_outputs()
    assert (y.name, y.shape, y.size) == ("y", [-1, 5], 8 * 20)
    assert session.get_dynamic_batch() == [1, 2, 4, 8]
    assert session.get_max_dym_batchsize() == 8
    assert session.outputs_names == ["y"]


def test_summary_loop_and_reset(models, open_session):
    path, source = models["static"]
    session = open_session(0, path, loop=3)
    feeds = [np.ones((2, 4), np.float32), np.arange(3, dtype=np.int64)]
    session.infer(feeds)
    session.infer(feeds)
    times = session.summary().exec_time_list
    assert len(times) == 6 and all(t > 0 for t in times)
    timings = session.last_timings()
    assert set(timings) == {"h2d", "compute", "d2h"}
    assert timings["compute"] >= sum(times[-3:]) * 0.99
    assert len(session.timings) == 2
    assert len(MemorySummary.get_h2d_time_list()) == 4       # 2 inputs, 2 inferences
    assert len(MemorySummary.get_d2h_time_list()) == 4
    session.reset_summaryinfo()
    assert session.summary().exec_time_list == [] and session.last_timings() is None
    session.set_loop_count(1)
    session.infer(feeds)
    assert len(session.summary().exec_time_list) == 1


def test_out_array_false_gives_device_tensors(models, open_session):
    path, source = models["static"]
    session = open_session(0, path)
    feeds = [np.ones((2, 4), np.float32), np.arange(3, dtype=np.int64)]
    tensors = session.infer(feeds, out_array=False)
    with pytest.raises(RuntimeError, match="tensor is in npu"):
        np.array(tensors[0])
    session.convert_tensors_to_host(tensors)
    _assert_equal(session.convert_tensors_to_arrays(tensors), _reference(source, feeds))
    # Device tensors feed an inference as they are (copied device to device).
    on_device = [session.create_tensor_from_arrays_to_device(a) for a in feeds]
    _assert_equal(session.infer(on_device), _reference(source, feeds))


def test_run_after_set_dynamic_batchsize(models, open_session):
    path, source = models["batch"]
    session = open_session(0, path)
    session.set_dynamic_batchsize(2)
    x = np.ones((2, 3, 4, 4), np.float32)
    (y,) = session.run([x], out_array=True)
    np.testing.assert_array_equal(y, _reference(source, [x])[0])
    with pytest.raises(RuntimeError, match=r"3 is not a gear of the model: its batch gears"):
        session.set_dynamic_batchsize(3)


def test_infer_pipeline_returns_one_output_list_per_feeds(models, open_session):
    path, source = models["dims"]
    session = open_session(0, path)
    feeds_list = [[np.ones((n, 4), np.float32), np.arange(m, dtype=np.int64)]
                  for n, m in ((1, 2), (3, 5), (2, 7))]
    results = session.infer_pipeline(feeds_list, mode="dymdims")
    assert len(results) == 3
    for outputs, feeds in zip(results, feeds_list):
        _assert_equal(outputs, _reference(source, feeds))


def test_infer_iteration_feeds_outputs_back(models, open_session):
    path, _ = models["loop"]
    session = open_session(0, path)
    h = np.arange(4, dtype=np.float32).reshape(1, 4)
    (out,) = session.infer_iteration([h], in_out_list=[0], iteration_times=5)
    want = h
    for _ in range(5):
        want = want * np.float32(0.5) + np.float32(1)
    np.testing.assert_array_equal(out, want)
    (once,) = session.infer_iteration([h], [-1], 3)
    np.testing.assert_array_equal(once, h * np.float32(0.5) + np.float32(1))
    with pytest.raises(RuntimeError, match="inputs' amount and length of in_out_list not matched"):
        session.infer_iteration([h], [0, 0], 2)


class _FakeTorchTensor:
    """What InferSession reads of a torch tensor: ``.numpy()`` (torch is not installed)."""

    def __init__(self, array):
        self.array = array

    def numpy(self):
        return self.array


def test_numpy_scalars_and_torch_like_tensors_are_feeds(models, open_session):
    path, source = models["static"]
    session = open_session(0, path)
    x = np.random.default_rng(5).standard_normal((2, 4)).astype(np.float32)
    k = np.arange(3, dtype=np.int64)
    _assert_equal(session.infer([_FakeTorchTensor(x), k]), _reference(source, [x, k]))
    # A flat array of the right size is accepted, as ais_bench compares sizes.
    _assert_equal(session.infer([x.reshape(-1), k]), _reference(source, [x, k]))
    # Non-contiguous arrays are copied contiguous first.
    wide = np.zeros((2, 8), np.float32)
    wide[:, ::2] = x
    _assert_equal(session.infer([wide[:, ::2], k]), _reference(source, [x, k]))


# ---------------------------------------------------------------------- bad input
def test_bad_inputs_name_what_the_model_takes(models, open_session):
    session = open_session(0, models["static"][0])
    x, k = np.ones((2, 4), np.float32), np.arange(3, dtype=np.int64)
    with pytest.raises(RuntimeError, match=r"input datas and intensors nums not matched! .* "
                                           r"takes 2 input\(s\) \['x', 'k'\]; 1 were given"):
        session.infer([x])
    with pytest.raises(RuntimeError, match=r"input 0 \('x'\) has dtype float64; the model takes "
                                           r"float32"):
        session.infer([x.astype(np.float64), k])
    with pytest.raises(RuntimeError, match=r"input 1 \('k'\) has shape \(4,\) \(32 bytes\); the "
                                           r"model takes dtype int64, shape \(3,\) \(24 bytes\)"):
        session.infer([x, np.arange(4, dtype=np.int64)])
    with pytest.raises(RuntimeError, match=r"type:<class 'list'> invalid"):
        session.infer([[1.0] * 8, k])
    with pytest.raises(RuntimeError, match="custom_sizes:abc"):
        session.infer([x, k], mode="dymshape", custom_sizes="abc")


def test_bad_arguments_get_ais_bench_messages(models, tmp_path):
    with pytest.raises(RuntimeError, match="empty model path!"):
        InferSession(0, "")
    with pytest.raises(RuntimeError, match="om path:.*missing.om is illegal. Please check."):
        InferSession(0, str(tmp_path / "missing.om"))
    with pytest.raises(TypeError, match="device:0 is not a integer!"):
        InferSession("0", models["static"][0])
    with pytest.raises(ValueError, match=r"device:256 is illegal. legal value range is \[0, 255\]"):
        InferSession(256, models["static"][0])
    with pytest.raises(RuntimeError, match="device id 1 is invalid: 1 device"):
        InferSession(1, models["static"][0])
    with pytest.raises(RuntimeError, match="acl json path:.*acl.txt is illegal"):
        InferSession(0, models["static"][0], acl_json_path=str(tmp_path / "acl.txt"))
    InferSession.finalize()
    assert not RUNTIME.initialized


def test_a_released_session_refuses_to_infer(models, open_session):
    session = open_session(0, models["static"][0])
    session.free_resource()
    with pytest.raises(RuntimeError, match="released"):
        session.infer([np.ones((2, 4), np.float32), np.arange(3, dtype=np.int64)])


# ---------------------------------------------------------------------- runtime
def test_sessions_live_beside_a_pyacl_program(models):
    """A program that called acl.init keeps its runtime: finalize leaves it up."""
    assert acl.init() == 0
    session = InferSession(0, models["static"][0])
    session.infer([np.ones((2, 4), np.float32), np.arange(3, dtype=np.int64)])
    session.free_resource()
    InferSession.finalize()
    assert RUNTIME.initialized
    assert acl.finalize() == 0


def test_sessions_on_threads(models, open_session):
    path, source = models["static"]
    session = open_session(0, path)
    feeds = [np.ones((2, 4), np.float32), np.arange(3, dtype=np.int64)]
    box = {}
    thread = threading.Thread(target=lambda: box.update(out=session.infer(feeds)))
    thread.start()
    thread.join(30)
    _assert_equal(box["out"], _reference(source, feeds))


def test_multi_device_session_runs_a_worker_per_feeds(models, monkeypatch):
    monkeypatch.setenv("OPENACL_DEVICE_COUNT", "2")
    path, source = models["static"]
    rng = np.random.default_rng(6)
    feeds = [[rng.standard_normal((2, 4)).astype(np.float32), np.arange(3, dtype=np.int64) * i]
             for i in range(3)]
    multi = MultiDeviceSession(path)
    outputs = multi.infer({0: feeds[:2], 1: feeds[2:]})
    assert sorted(outputs) == [0, 1] and len(outputs[0]) == 2 and len(outputs[1]) == 1
    for got, fed in zip(outputs[0] + outputs[1], feeds):
        _assert_equal(got, _reference(source, fed))
    assert [len(v) for v in multi.summary().values()] == [2, 1]
    assert multi.summary is multi.summary()
    pipelined = multi.infer_pipeline({1: [feeds]})
    assert len(pipelined[1][0]) == 3
    with pytest.raises(RuntimeError, match="device id 2 is invalid"):
        multi.infer({2: feeds[:1]})
    InferSession.finalize()


def test_device_memory_is_allocated_once(models, open_session):
    session = open_session(0, models["static"][0])
    feeds = [np.ones((2, 4), np.float32), np.arange(3, dtype=np.int64)]
    session.infer(feeds)
    live = len(RUNTIME.memory.live())
    for _ in range(5):
        session.infer(feeds)
    assert len(RUNTIME.memory.live()) == live
    assert os.path.exists(models["static"][0])


# ---------------------------------------------------------------------- AIPP
def _identity(folder, name, dims):
    graph = helper.make_graph([helper.make_node("Identity", ["data"], ["out"])], name,
                              [helper.make_tensor_value_info("data", T.FLOAT, dims)],
                              [helper.make_tensor_value_info("out", T.FLOAT, dims)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_dynamic_aipp_from_an_ais_bench_config_file(tmp_path, open_session):
    (tmp_path / "aipp.cfg").write_text(
        "aipp_op { aipp_mode: dynamic max_src_image_size: 1000 }\n")
    path, _ = _atc(tmp_path, _identity(tmp_path, "id", [1, 3, 6, 8]), "dyn",
                   f"--insert_op_conf={tmp_path / 'aipp.cfg'}")
    (tmp_path / "ais.config").write_text(
        "[aipp_op]\ninput_format = YUV420SP_U8\nsrc_image_size_w = 14\nsrc_image_size_h = 10\n"
        "csc_switch = 1\nmatrix_r0c0 = 256\nmatrix_r0c1 = 0\nmatrix_r0c2 = 359\n"
        "matrix_r1c0 = 256\nmatrix_r1c1 = -88\nmatrix_r1c2 = -183\nmatrix_r2c0 = 256\n"
        "matrix_r2c1 = 454\nmatrix_r2c2 = 0\ninput_bias_0 = 0\ninput_bias_1 = 128\n"
        "input_bias_2 = 128\ncrop = 1\nload_start_pos_w = 2\nload_start_pos_h = 4\n"
        "crop_size_w = 8\ncrop_size_h = 6\nmean_chn_0 = 10\nmean_chn_1 = 20\nmean_chn_2 = 30\n"
        "min_chn_0 = 0.5\nvar_reci_chn_0 = 0.5\nvar_reci_chn_1 = 0.25\nvar_reci_chn_2 = 2.0\n")
    session = open_session(0, path)
    assert session.get_dym_aipp_input_exist() == 1
    with pytest.raises(RuntimeError, match="holds no AIPP parameters"):
        session.infer([np.zeros(14 * 10 * 3 // 2, np.uint8)])
    assert session.load_aipp_config_file(str(tmp_path / "ais.config"), 1) == 0
    image = random_image("YUV420SP_U8", 14, 10, 3)
    (out,) = session.infer([np.frombuffer(image, np.uint8)])
    cfg = {"input_format": "YUV420SP_U8", "src_image_size_w": 14, "src_image_size_h": 10,
           "csc_switch": True, "matrix": [256, 0, 359, 256, -88, -183, 256, 454, 0],
           "input_bias": [0, 128, 128], "crop": True, "load_start_pos_w": 2,
           "load_start_pos_h": 4, "crop_size_w": 8, "crop_size_h": 6,
           "mean_chn": [10, 20, 30, 0], "min_chn": [0.5, 0, 0, 0],
           "var_reci_chn": [0.5, 0.25, 2.0, 1.0]}
    np.testing.assert_array_equal(out[0], aipp_reference(image, cfg, 6, 8, 3))
    # Older ais_bench programs set the fields one by one from a ConfigParser.
    parser = ConfigParser()
    parser.read_string((tmp_path / "ais.config").read_text().replace("mean_chn_0 = 10",
                                                                     "mean_chn_0 = 0"))
    options = parser.options("aipp_op")
    session.aipp_set_input_format(parser)
    session.aipp_set_src_image_size(parser)
    for setter in (session.aipp_set_csc_params, session.aipp_set_crop_params,
                   session.aipp_set_dtc_pixel_mean, session.aipp_set_dtc_pixel_min,
                   session.aipp_set_pixel_var_reci):
        setter(parser, options)
    session.set_dym_aipp_info_set()
    (out,) = session.infer([np.frombuffer(image, np.uint8)])
    cfg["mean_chn"] = [0, 20, 30, 0]
    np.testing.assert_array_equal(out[0], aipp_reference(image, cfg, 6, 8, 3))
    (tmp_path / "bad.config").write_text("[aipp_op]\ninput_format = NV12\n"
                                         "src_image_size_w = 14\nsrc_image_size_h = 10\n")
    with pytest.raises(RuntimeError, match="wrong aipp config file content!"):
        session.load_aipp_config_file(str(tmp_path / "bad.config"), 1)


def test_static_aipp_takes_the_raw_image(tmp_path, open_session):
    (tmp_path / "aipp.cfg").write_text(
        "aipp_op {\n aipp_mode : static\n input_format : RGB888_U8\n src_image_size_w : 8\n"
        " src_image_size_h : 6\n mean_chn_0 : 10\n}\n")
    path, _ = _atc(tmp_path, _identity(tmp_path, "id", [1, 3, 6, 8]), "static_aipp",
                   f"--insert_op_conf={tmp_path / 'aipp.cfg'}")
    session = open_session(0, path)
    (desc,) = session.get_inputs()
    assert (desc.shape, desc.datatype.name, desc.size) == ([1, 6, 8, 3], "uint8", 144)
    image = random_image("RGB888_U8", 8, 6, 4)
    cfg = {"input_format": "RGB888_U8", "src_image_size_w": 8, "src_image_size_h": 6,
           "mean_chn": [10, 0, 0, 0]}
    want = aipp_reference(image, cfg, 6, 8, 3)
    for feed in (np.frombuffer(image, np.uint8).reshape(1, 6, 8, 3),
                 np.frombuffer(image, np.uint8)):
        (out,) = session.infer([feed])
        np.testing.assert_array_equal(out[0], want)
    with pytest.raises(RuntimeError, match=r"holds 143 bytes; the model's AIPP input takes 144"):
        session.infer([np.zeros(143, np.uint8)])


def test_first_inner_run_then_inner_runs(models, open_session):
    path, _ = models["loop"]
    session = open_session(0, path)
    h = np.zeros((1, 4), np.float32)
    session.first_inner_run([h])
    assert session.inner_run([0]) is None
    (out,) = session.inner_run([0], get_outputs=True)
    np.testing.assert_array_equal(np.array(out.to_host()), np.full((1, 4), 1.75, np.float32))
    session.set_context()
    assert RUNTIME.thread.context is RUNTIME.device(0).default_context


def test_tensor_from_files(models, open_session, tmp_path):
    path, source = models["static"]
    session = open_session(0, path)
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    x[:1].tofile(tmp_path / "a.bin")
    x[1:].tofile(tmp_path / "b.bin")
    desc = session.get_inputs()[0]
    tensor = session.create_tensor_from_fileslist(desc, [tmp_path / "a.bin", tmp_path / "b.bin"])
    k = np.arange(3, dtype=np.int64)
    _assert_equal(session.infer([tensor, k]), _reference(source, [x, k]))


def test_static_aipp_with_batch_gears_takes_raw_nv12_batches(tmp_path, open_session):
    (tmp_path / "aipp.cfg").write_text(
        "aipp_op {\n aipp_mode : static\n input_format : YUV420SP_U8\n src_image_size_w : 8\n"
        " src_image_size_h : 6\n}\n")
    path, _ = _atc(tmp_path, _identity(tmp_path, "id", ["b", 3, 6, 8]), "nv12",
                   f"--insert_op_conf={tmp_path / 'aipp.cfg'}", "--input_shape=data:-1,3,6,8",
                   "--dynamic_batch_size=1,2,4")
    session = open_session(0, path)
    images = [random_image("YUV420SP_U8", 8, 6, seed) for seed in (1, 2)]
    cfg = {"input_format": "YUV420SP_U8", "src_image_size_w": 8, "src_image_size_h": 6}
    want = np.stack([aipp_reference(image, cfg, 6, 8, 3) for image in images])
    session.set_dynamic_batchsize(2)
    (out,) = session.run([np.frombuffer(b"".join(images), np.uint8)], out_array=True)
    np.testing.assert_array_equal(out, want)
    assert session.get_inputs()[0].realsize == 2 * 8 * 6 * 3 // 2
    (out,) = session.infer([np.frombuffer(b"".join(images), np.uint8).reshape(2, 9, 8, 1)],
                           mode="dymbatch")
    np.testing.assert_array_equal(out, want)
