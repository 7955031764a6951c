"""AIPP models run as pyACL programs, checked against an independent numpy reference.

The reference (``tests/model/aipp_reference.py``) implements the documented AIPP formulas on
its own; the models here are atc-built from an Identity network (the output is what AIPP
made) or a small classifier (checked against onnxruntime on the reference's tensor).
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import acl
from openacl.atc import convert
from tests.model import builders
from tests.model.test_execute import Model
from tests.model.aipp_reference import aipp_reference, random_image, rgb_to_nv12

H2D, D2H = 1, 2
ACL_YUV420SP_U8, ACL_XRGB8888_U8, ACL_RGB888_U8, ACL_YUV400_U8 = 1, 2, 3, 4
JPEG_YUV2RGB = [256, 0, 359, 256, -88, -183, 256, 454, 0]


def identity(path, dims, dtype=TensorProto.FLOAT) -> str:
    graph = helper.make_graph([helper.make_node("Identity", ["data"], ["out"])], "identity",
                              [helper.make_tensor_value_info("data", dtype, list(dims))],
                              [helper.make_tensor_value_info("out", dtype, list(dims))])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return str(path)


def config_text(cfg: dict, mode: str = "static") -> str:
    """An ATC aipp_op block from the reference's cfg dict."""
    lines = ["aipp_op {", f"  aipp_mode : {mode}"]
    for key, value in cfg.items():
        if key == "matrix":
            lines += [f"  matrix_r{i // 3}c{i % 3} : {v}" for i, v in enumerate(value)]
        elif key in ("input_bias", "output_bias"):
            lines += [f"  {key}_{i} : {v}" for i, v in enumerate(value)]
        elif key in ("mean_chn", "min_chn", "var_reci_chn"):
            lines += [f"  {key}_{i} : {v}" for i, v in enumerate(value)]
        elif key == "padding_value":
            lines.append(f"  cpadding_value : {value}")
        elif isinstance(value, bool):
            lines.append(f"  {key} : {'true' if value else 'false'}")
        else:
            lines.append(f"  {key} : {value}")
    return "\n".join(lines + ["}", ""])


class AippProgram(Model):
    """test_execute's sample-style Model, fed raw image bytes."""

    def feed(self, index: int, data: bytes) -> None:
        self.write(index, np.frombuffer(data, np.uint8))

    def run(self) -> int:
        return self.execute()

    def output(self, dtype, shape) -> np.ndarray:
        return self.read(0, dtype, shape)

    def input_buffer(self, index: int) -> tuple[int, int]:
        return self.buffer(self.inputs, index)


def build(tmp_path, source: str, config: str, *flags, soc="Ascend310P3", name="aipp") -> str:
    (tmp_path / f"{name}.cfg").write_text(config)
    return convert([f"--model={source}", "--framework=5", f"--output={tmp_path / name}",
                    f"--soc_version={soc}", f"--insert_op_conf={tmp_path / name}.cfg", *flags],
                   on_warning=lambda message: None)


def run_static(tmp_path, cfg, out_hw, channels, layout="NCHW", dtype=TensorProto.FLOAT,
               batch=1, soc="Ascend310P3", seed=0):
    """Build an Identity network behind static AIPP, run it on random images; both results."""
    out_h, out_w = out_hw
    dims = [batch, channels, out_h, out_w] if layout == "NCHW" else [batch, out_h, out_w,
                                                                      channels]
    source = identity(tmp_path / "id.onnx", dims, dtype)
    flags = [f"--input_format={layout}"] if layout == "NHWC" else []
    program = AippProgram(build(tmp_path, source, config_text(cfg), *flags, soc=soc))
    np_type = np.float16 if dtype == TensorProto.FLOAT16 else np.float32
    try:
        images = [random_image(cfg["input_format"], cfg["src_image_size_w"],
                               cfg["src_image_size_h"], seed + n) for n in range(batch)]
        program.feed(0, b"".join(images))
        assert program.run() == 0, acl.get_recent_err_msg()
        got = program.output(np_type, dims)
    finally:
        program.release()
    expected = np.stack([aipp_reference(image, cfg, out_h, out_w, channels, layout, np_type)
                         for image in images])
    return got, expected


def _cfg(fmt, w, h, **extra):
    return {"input_format": fmt, "src_image_size_w": w, "src_image_size_h": h, **extra}


NORMALISE = {"mean_chn": [104, 117, 123, 0], "min_chn": [0.5, 1.0, 0.0, 0.0],
             "var_reci_chn": [0.0174, 0.0175, 0.0171, 1.0]}

STATIC_CASES = [
    ("yuv420sp-plain", _cfg("YUV420SP_U8", 8, 6), (6, 8), 3),
    ("yuv420sp-csc-default-bgr", _cfg("YUV420SP_U8", 8, 6, csc_switch=True,
                                      matrix=[298, 516, 0, 298, -100, -208, 298, 0, 409],
                                      input_bias=[16, 128, 128]), (6, 8), 3),
    ("nv21-jpeg-rgb-normalised", _cfg("YUV420SP_U8", 10, 8, csc_switch=True,
                                      rbuv_swap_switch=True, matrix=JPEG_YUV2RGB,
                                      input_bias=[0, 128, 128], **NORMALISE), (8, 10), 3),
    ("yuv420sp-crop-pad", _cfg("YUV420SP_U8", 16, 12, crop=True, load_start_pos_w=4,
                               load_start_pos_h=2, crop_size_w=8, crop_size_h=6, padding=True,
                               left_padding_size=1, right_padding_size=3, top_padding_size=2,
                               bottom_padding_size=0, padding_value=0.5, csc_switch=True,
                               matrix=JPEG_YUV2RGB, input_bias=[0, 128, 128], **NORMALISE),
     (8, 12), 3),
    ("rgb888-bgr-swap", _cfg("RGB888_U8", 7, 5, rbuv_swap_switch=True, **NORMALISE), (5, 7), 3),
    ("rgb888-to-yuv", _cfg("RGB888_U8", 6, 4, csc_switch=True,
                           matrix=[66, 129, 25, -38, -74, 112, 112, -94, -18],
                           output_bias=[16, 128, 128]), (4, 6), 3),
    ("rgb888-crop-odd", _cfg("RGB888_U8", 9, 9, crop=True, load_start_pos_w=3,
                             load_start_pos_h=1, crop_size_w=5, crop_size_h=7), (7, 5), 3),
    ("xrgb-ax-swap", _cfg("XRGB8888_U8", 6, 4, ax_swap_switch=True, **NORMALISE), (4, 6), 3),
    ("xrgb-4-channels", _cfg("XRGB8888_U8", 6, 4, mean_chn=[1, 2, 3, 4]), (4, 6), 4),
    ("yuv400-gray", _cfg("YUV400_U8", 6, 4, mean_chn=[128, 0, 0, 0],
                         var_reci_chn=[0.0078125, 1, 1, 1]), (4, 6), 1),
]


@pytest.mark.parametrize("name, cfg, out_hw, channels", STATIC_CASES,
                         ids=[c[0] for c in STATIC_CASES])
def test_static_aipp_matches_the_reference(context, tmp_path, name, cfg, out_hw, channels):
    got, expected = run_static(tmp_path, cfg, out_hw, channels)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("fmt, channels", [("YUYV_U8", 3), ("YUV422SP_U8", 3),
                                           ("ARGB8888_U8", 3), ("AYUV444_U8", 4)])
def test_other_8_bit_formats_on_a_soc_that_has_them(context, tmp_path, fmt, channels):
    cfg = _cfg(fmt, 8, 4, crop=True, load_start_pos_w=2, crop_size_w=6, crop_size_h=4,
               csc_switch=True, matrix=JPEG_YUV2RGB, input_bias=[0, 128, 128],
               output_bias=[0, 0, 0], rbuv_swap_switch=True, ax_swap_switch=True, **NORMALISE)
    got, expected = run_static(tmp_path, cfg, (4, 6), channels, soc="Hi3796CV300CS")
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("layout, dtype", [("NHWC", TensorProto.FLOAT),
                                           ("NCHW", TensorProto.FLOAT16),
                                           ("NHWC", TensorProto.FLOAT16)])
def test_layouts_and_float16_networks(context, tmp_path, layout, dtype):
    cfg = _cfg("YUV420SP_U8", 8, 6, csc_switch=True, matrix=JPEG_YUV2RGB,
               input_bias=[0, 128, 128], **NORMALISE)
    got, expected = run_static(tmp_path, cfg, (6, 8), 3, layout=layout, dtype=dtype)
    np.testing.assert_array_equal(got, expected)


def test_a_batch_of_images(context, tmp_path):
    cfg = _cfg("RGB888_U8", 6, 4, **NORMALISE)
    got, expected = run_static(tmp_path, cfg, (4, 6), 3, batch=3)
    np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------- descriptions

def test_static_aipp_description(context, tmp_path):
    source = identity(tmp_path / "id.onnx", [1, 3, 224, 224])
    cfg = _cfg("YUV420SP_U8", 224, 224, csc_switch=True, **NORMALISE)
    program = AippProgram(build(tmp_path, source, config_text(cfg)))
    try:
        desc, model_id = program.desc, program.model_id
        dims, ret = acl.mdl.get_input_dims(desc, 0)
        assert ret == 0 and dims == {"name": "data", "dimCount": 4, "dims": [1, 224, 224, 3]}
        dims_v2, _ = acl.mdl.get_input_dims_v2(desc, 0)
        assert dims_v2["dims"] == [1, 336, 224, 1]
        assert acl.mdl.get_input_size_by_index(desc, 0) == 224 * 224 * 3 // 2 == 75264
        assert acl.mdl.get_input_data_type(desc, 0) == 4           # ACL_UINT8
        assert acl.mdl.get_input_format(desc, 0) == 1              # ACL_FORMAT_NHWC
        assert acl.mdl.get_aipp_type(model_id, 0) == (1, 0xFFFFFFFF, 0)
        info, ret = acl.mdl.get_first_aipp_info(model_id, 0)
        assert ret == 0
        assert info["inputFormat"] == ACL_YUV420SP_U8 and info["cscSwitch"] == 1
        assert (info["matrixR0C0"], info["matrixR0C1"], info["matrixR2C2"]) == (298, 516, 409)
        assert "matrixR0C2" not in info and "matrixR2C0" not in info
        assert info["meanChn1"] == 117 and info["varReciChn0"] == pytest.approx(0.0174)
        assert info["srcImageSizeW"] == 224 and info["shapeCount"] == 1
        assert (info["srcFormat"], info["srcDatatype"], info["srcDimNum"]) == (0, 0, 4)
        assert info["outDims"][0]["srcDims"]["dims"] == [1, 3, 224, 224]
        assert info["outDims"][0]["aippOutdims"]["dims"] == [1, 1, 224, 224, 16]
        assert acl.mdl.get_aipp_type(model_id, 1)[2] == 100000
    finally:
        program.release()


def test_models_without_aipp_answer_as_acl_does(context, tmp_path):
    source = identity(tmp_path / "id.onnx", [1, 3, 4, 4])
    path = convert([f"--model={source}", "--framework=5", f"--output={tmp_path / 'p'}",
                    "--soc_version=Ascend310P3"])
    program = AippProgram(path)
    try:
        assert acl.mdl.get_aipp_type(program.model_id, 0) == (0, 0xFFFFFFFF, 0)
        assert acl.mdl.get_first_aipp_info(program.model_id, 0) == (None, 145015)
        dims_v2, _ = acl.mdl.get_input_dims_v2(program.desc, 0)
        assert dims_v2["dims"] == [1, 3, 4, 4]
    finally:
        program.release()


# ---------------------------------------------------------------- gears

def test_static_aipp_with_dynamic_batch(context, tmp_path):
    source = identity(tmp_path / "id.onnx", ["N", 3, 4, 6])
    cfg = _cfg("RGB888_U8", 6, 4, **NORMALISE)
    path = build(tmp_path, source, config_text(cfg), "--input_shape=data:-1,3,4,6",
                 "--dynamic_batch_size=1,2,4")
    program = AippProgram(path)
    try:
        assert acl.mdl.get_input_dims(program.desc, 0)[0]["dims"] == [-1, 4, 6, 3]
        assert acl.mdl.get_input_size_by_index(program.desc, 0) == 4 * 72
        images = [random_image("RGB888_U8", 6, 4, seed) for seed in range(2)]
        program.feed(0, b"".join(images))
        index, _ = acl.mdl.get_input_index_by_name(program.desc, "ascend_mbatch_shape_data")
        assert acl.mdl.set_dynamic_batch_size(program.model_id, program.inputs, index, 2) == 0
        assert program.run() == 0, acl.get_recent_err_msg()
        got = program.output(np.float32, (2, 3, 4, 6))
    finally:
        program.release()
    expected = np.stack([aipp_reference(i, cfg, 4, 6, 3) for i in images])
    np.testing.assert_array_equal(got, expected)


def test_static_aipp_with_dynamic_image_size(context, tmp_path):
    """resnet50_imagenet_dynamic_hw's flow: NHWC, -1 H and W, no source size in the config."""
    source = identity(tmp_path / "id.onnx", [1, "H", "W", 3])
    config = config_text({"input_format": "RGB888_U8", "csc_switch": False, **NORMALISE})
    path = build(tmp_path, source, config, "--input_format=NHWC",
                 "--input_shape=data:1,-1,-1,3", "--dynamic_image_size=4,6;8,10")
    program = AippProgram(path)
    try:
        assert acl.mdl.get_input_dims(program.desc, 0)[0]["dims"] == [1, -1, -1, 3]
        assert acl.mdl.get_input_size_by_index(program.desc, 0) == 8 * 10 * 3
        image = random_image("RGB888_U8", 6, 4, 3)
        program.feed(0, image)
        index, _ = acl.mdl.get_input_index_by_name(program.desc, "ascend_mbatch_shape_data")
        assert acl.mdl.set_dynamic_hw_size(program.model_id, program.inputs, index, 4, 6) == 0
        assert program.run() == 0, acl.get_recent_err_msg()
        got = program.output(np.float32, (1, 4, 6, 3))
    finally:
        program.release()
    cfg = _cfg("RGB888_U8", 6, 4, **NORMALISE)
    np.testing.assert_array_equal(got[0], aipp_reference(image, cfg, 4, 6, 3, "NHWC"))


# ---------------------------------------------------------------- a real network

def test_classifier_behind_aipp_equals_onnxruntime_on_the_reference_tensor(context, tmp_path):
    model = builders.classifier(classes=10, size=16)
    source = str(tmp_path / "classifier.onnx")
    onnx.save(model, source)
    rgb = np.random.default_rng(5).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    image = rgb_to_nv12(rgb)
    cfg = _cfg("YUV420SP_U8", 16, 16, csc_switch=True, matrix=JPEG_YUV2RGB,
               input_bias=[0, 128, 128], **NORMALISE)
    program = AippProgram(build(tmp_path, source, config_text(cfg)))
    try:
        program.feed(0, image)
        assert program.run() == 0, acl.get_recent_err_msg()
        got = program.output(np.float32, (1, 10))
    finally:
        program.release()
    tensor = aipp_reference(image, cfg, 16, 16, 3)[None]
    expected = ort.InferenceSession(model.SerializeToString()).run(None, {"data": tensor})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- dynamic AIPP

def dynamic_program(tmp_path, batch=2, channels=3, out_hw=(6, 8), max_src=None):
    out_h, out_w = out_hw
    source = identity(tmp_path / "id.onnx", [batch, channels, out_h, out_w])
    max_src = max_src or batch * 16 * 16 * 3
    config = f"aipp_op {{ aipp_mode: dynamic max_src_image_size: {max_src} }}\n"
    return AippProgram(build(tmp_path, source, config))


def test_dynamic_aipp_description(context, tmp_path):
    program = dynamic_program(tmp_path)
    try:
        desc, model_id = program.desc, program.model_id
        assert acl.mdl.get_num_inputs(desc) == 2
        assert acl.mdl.get_input_dims(desc, 0)[0]["dims"] == [2, -1, -1, -1]
        assert acl.mdl.get_input_size_by_index(desc, 0) == 2 * 16 * 16 * 3
        index, ret = acl.mdl.get_input_index_by_name(desc, "ascend_dynamic_aipp_data")
        assert (index, ret) == (1, 0)
        assert acl.mdl.get_input_size_by_index(desc, 1) == acl.mdl.get_aipp_data_size(2)[0]
        assert acl.mdl.get_aipp_data_size(2) == (64 + 96 * 2, 0)
        assert acl.mdl.get_aipp_type(model_id, 0) == (2, 1, 0)
        assert acl.mdl.get_aipp_type(model_id, 1) == (3, 0xFFFFFFFF, 0)
        assert acl.mdl.get_input_data_type(desc, 1) == 4
    finally:
        program.release()


def _set_dynamic(aipp, per_image, src_w, src_h, fmt=ACL_YUV420SP_U8, csc=True):
    assert acl.mdl.set_aipp_input_format(aipp, fmt) == 0
    assert acl.mdl.set_aipp_src_image_size(aipp, src_w, src_h) == 0
    if csc:
        assert acl.mdl.set_aipp_csc_params(aipp, 1, *JPEG_YUV2RGB, 0, 0, 0, 0, 128, 128) == 0
    for index, image in enumerate(per_image):
        assert acl.mdl.set_aipp_crop_params(aipp, 1, *image["crop"], index) == 0
        if "pad" in image:
            assert acl.mdl.set_aipp_padding_params(aipp, 1, *image["pad"], index) == 0
        assert acl.mdl.set_aipp_dtc_pixel_mean(aipp, *image["mean"], index) == 0
        assert acl.mdl.set_aipp_dtc_pixel_min(aipp, *image["min"], index) == 0
        assert acl.mdl.set_aipp_pixel_var_reci(aipp, *image["var"], index) == 0


PER_IMAGE = [
    {"crop": (2, 4, 8, 6), "mean": (10, 20, 30, 0), "min": (0.5, 0, 0, 0),
     "var": (0.5, 0.25, 2.0, 1.0)},
    {"crop": (6, 0, 6, 4), "pad": (1, 1, 0, 2), "mean": (100, 0, 50, 0), "min": (0, 1.5, 0, 0),
     "var": (0.0171, 0.0175, 0.0174, 1.0)},
]


def _reference_cfg(image, src_w, src_h):
    start_w, start_h, crop_w, crop_h = image["crop"]
    cfg = _cfg("YUV420SP_U8", src_w, src_h, crop=True, load_start_pos_w=start_w,
               load_start_pos_h=start_h, crop_size_w=crop_w, crop_size_h=crop_h,
               csc_switch=True, matrix=JPEG_YUV2RGB, input_bias=[0, 128, 128],
               mean_chn=list(image["mean"]), min_chn=list(image["min"]),
               var_reci_chn=list(image["var"]))
    if "pad" in image:
        top, bottom, left, right = image["pad"]
        cfg.update(padding=True, top_padding_size=top, bottom_padding_size=bottom,
                   left_padding_size=left, right_padding_size=right)
    return cfg


def test_dynamic_aipp_per_image_parameters(context, tmp_path):
    program = dynamic_program(tmp_path)
    src_w, src_h = 14, 10
    images = [random_image("YUV420SP_U8", src_w, src_h, seed) for seed in (7, 8)]
    aipp = acl.mdl.create_aipp(2)
    try:
        program.feed(0, b"".join(images))
        _set_dynamic(aipp, PER_IMAGE, src_w, src_h)
        index, _ = acl.mdl.get_input_index_by_name(program.desc, "ascend_dynamic_aipp_data")
        assert acl.mdl.set_input_aipp(program.model_id, program.inputs, index, aipp) == 0, \
            acl.get_recent_err_msg()
        assert program.run() == 0, acl.get_recent_err_msg()
        got = program.output(np.float32, (2, 3, 6, 8))
        # New parameters apply from the next execution (by data input index this time).
        assert acl.mdl.set_aipp_dtc_pixel_mean(aipp, 0, 0, 0, 0, 0) == 0
        assert acl.mdl.set_aipp_by_input_index(program.model_id, program.inputs, 0, aipp) == 0
        assert program.run() == 0
        again = program.output(np.float32, (2, 3, 6, 8))
    finally:
        assert acl.mdl.destroy_aipp(aipp) == 0
        program.release()
    for n, image in enumerate(images):
        np.testing.assert_array_equal(got[n], aipp_reference(
            image, _reference_cfg(PER_IMAGE[n], src_w, src_h), 6, 8, 3))
    changed = dict(PER_IMAGE[0], mean=(0, 0, 0, 0))
    np.testing.assert_array_equal(again[0], aipp_reference(
        images[0], _reference_cfg(changed, src_w, src_h), 6, 8, 3))


def test_dynamic_equals_static_with_the_same_parameters(context, tmp_path):
    cfg = _cfg("YUV420SP_U8", 8, 6, csc_switch=True, matrix=JPEG_YUV2RGB,
               input_bias=[0, 128, 128], **NORMALISE)
    static, _ = run_static(tmp_path, cfg, (6, 8), 3, seed=11)
    program = dynamic_program(tmp_path, batch=1, max_src=8 * 6 * 3 // 2)
    aipp = acl.mdl.create_aipp(1)
    try:
        program.feed(0, random_image("YUV420SP_U8", 8, 6, 11))
        assert acl.mdl.set_aipp_input_format(aipp, ACL_YUV420SP_U8) == 0
        assert acl.mdl.set_aipp_src_image_size(aipp, 8, 6) == 0
        assert acl.mdl.set_aipp_csc_params(aipp, 1, *JPEG_YUV2RGB, 0, 0, 0, 0, 128, 128) == 0
        assert acl.mdl.set_aipp_dtc_pixel_mean(aipp, *NORMALISE["mean_chn"], 0) == 0
        assert acl.mdl.set_aipp_dtc_pixel_min(aipp, *NORMALISE["min_chn"], 0) == 0
        assert acl.mdl.set_aipp_pixel_var_reci(aipp, *NORMALISE["var_reci_chn"], 0) == 0
        assert acl.mdl.set_input_aipp(program.model_id, program.inputs, 1, aipp) == 0
        assert program.run() == 0, acl.get_recent_err_msg()
        dynamic = program.output(np.float32, (1, 3, 6, 8))
    finally:
        acl.mdl.destroy_aipp(aipp)
        program.release()
    np.testing.assert_array_equal(dynamic, static)


def test_dynamic_aipp_misuse(context, tmp_path):
    program = dynamic_program(tmp_path, max_src=2 * 14 * 10 * 3 // 2)
    model_id, inputs = program.model_id, program.inputs
    aipp = acl.mdl.create_aipp(2)
    try:
        assert acl.mdl.create_aipp(0) == 0
        assert acl.mdl.get_aipp_data_size(0) == (0, 100000)
        assert program.run() == 145000
        assert "set_input_aipp" in acl.get_recent_err_msg()
        # Setter checks, as ACL makes them.
        assert acl.mdl.set_aipp_crop_params(aipp, 1, 0, 0, 8, 6, 2) == 100000
        assert "batch_index 2" in acl.get_recent_err_msg()
        assert acl.mdl.set_aipp_input_format(aipp, 0) == 100000
        assert acl.mdl.set_aipp_src_image_size(aipp, 1, 10) == 100000
        assert acl.mdl.set_aipp_padding_params(aipp, 1, 33, 0, 0, 0, 0) == 100000
        assert acl.mdl.set_aipp_dtc_pixel_mean(aipp, 256, 0, 0, 0, 0) == 100000
        assert acl.mdl.set_aipp_rbuv_swap_switch(aipp, 2) == 100000
        assert acl.mdl.set_aipp_csc_params(aipp, 1, -32700, *[0] * 8, 0, 0, 0, 0, 0, 0) == 100000
        with pytest.raises(TypeError, match="args parse failed"):
            acl.mdl.set_aipp_csc_params(aipp, 1, 40000, *[0] * 8, 0, 0, 0, 0, 0, 0)
        with pytest.raises(TypeError):
            acl.mdl.set_aipp_crop_params(aipp, 1, 0, 0, 8, 6)
        # Whole-set checks at set_input_aipp.
        assert acl.mdl.set_input_aipp(model_id, inputs, 1, aipp) == 100000
        assert "input format" in acl.get_recent_err_msg()
        _set_dynamic(aipp, PER_IMAGE, 14, 10)
        assert acl.mdl.set_input_aipp(model_id, inputs, 0, aipp) == 100000    # the data input
        assert acl.mdl.set_aipp_by_input_index(model_id, inputs, 1, aipp) == 500001
        assert acl.mdl.set_aipp_crop_params(aipp, 1, 3, 4, 8, 6, 0) == 0
        assert acl.mdl.set_input_aipp(model_id, inputs, 1, aipp) == 100000    # odd crop x
        assert "even crop start" in acl.get_recent_err_msg()
        assert acl.mdl.set_aipp_crop_params(aipp, 1, 8, 4, 8, 6, 0) == 0
        assert acl.mdl.set_input_aipp(model_id, inputs, 1, aipp) == 100000    # outside
        assert "outside" in acl.get_recent_err_msg()
        assert acl.mdl.set_aipp_crop_params(aipp, 1, 2, 4, 8, 6, 0) == 0
        assert acl.mdl.set_aipp_src_image_size(aipp, 16, 12) == 0
        assert acl.mdl.set_input_aipp(model_id, inputs, 1, aipp) == 100000    # > max_src
        assert "max_src_image_size" in acl.get_recent_err_msg()
        assert acl.mdl.set_aipp_src_image_size(aipp, 14, 10) == 0
        assert acl.mdl.set_aipp_crop_params(aipp, 1, 2, 4, 6, 6, 0) == 0
        assert acl.mdl.set_input_aipp(model_id, inputs, 1, aipp) == 100000    # 6x6 != 8x6
        assert "must be equal to aipp output shape" in acl.get_recent_err_msg()
        assert acl.mdl.set_aipp_input_format(aipp, 9) == 0                    # YUV422SP
        assert acl.mdl.set_input_aipp(model_id, inputs, 1, aipp) == 100000
        assert acl.mdl.set_aipp_input_format(aipp, ACL_YUV400_U8) == 0
        assert acl.mdl.set_input_aipp(model_id, inputs, 1, aipp) == 100000    # YUV400 + CSC
        assert acl.mdl.set_aipp_input_format(aipp, ACL_YUV420SP_U8) == 0
        assert acl.mdl.set_aipp_crop_params(aipp, 1, 2, 4, 8, 6, 0) == 0
        assert acl.mdl.set_input_aipp(model_id, inputs, 1, aipp) == 0
        assert acl.mdl.set_aipp_scf_params(aipp, 1, 8, 6, 16, 16, 0) == 100000   # < 16
        assert acl.mdl.set_aipp_scf_params(aipp, 1, 16, 16, 16, 16, 0) == 0
        assert acl.mdl.set_input_aipp(model_id, inputs, 1, aipp) == 100000    # no scaling
        assert "scaling (scf) is not supported" in acl.get_recent_err_msg()
        # Garbage written into the buffer directly fails the execution, explained.
        ptr, size = program.input_buffer(1)
        junk = bytes([7]) * size
        assert acl.rt.memcpy(ptr, size, acl.util.bytes_to_ptr(junk), size, H2D) == 0
        assert program.run() == 145000
        assert "invalid AIPP parameters" in acl.get_recent_err_msg()
    finally:
        assert acl.mdl.destroy_aipp(aipp) == 0
        program.release()
    assert acl.mdl.destroy_aipp(aipp) == 100000


def test_dynamic_aipp_on_a_stream_takes_the_parameters_copied_before_it(context, tmp_path):
    """execute_async reads the AIPP buffer when the task runs: a memcpy_async of new
    parameters queued before it on the stream applies; the sync result is the reference."""
    program = dynamic_program(tmp_path, batch=1, max_src=14 * 10 * 3 // 2)
    stream, _ = acl.rt.create_stream()
    image = random_image("YUV420SP_U8", 14, 10, 21)
    first, second = acl.mdl.create_aipp(1), acl.mdl.create_aipp(1)
    staged, _ = acl.rt.malloc(acl.mdl.get_aipp_data_size(1)[0], 0)
    try:
        program.feed(0, image)
        _set_dynamic(first, PER_IMAGE[:1], 14, 10)
        _set_dynamic(second, PER_IMAGE[1:], 14, 10)
        ptr, size = program.input_buffer(1)
        # Stage the second set's bytes: set it on the model's buffer, copy them aside.
        assert acl.mdl.set_input_aipp(program.model_id, program.inputs, 1, second) == 0
        assert acl.rt.memcpy(staged, size, ptr, size, 3) == 0
        assert acl.mdl.set_input_aipp(program.model_id, program.inputs, 1, first) == 0
        assert acl.mdl.execute_async(program.model_id, program.inputs, program.outputs,
                                     stream) == 0
        assert acl.rt.synchronize_stream(stream) == 0
        got_first = program.output(np.float32, (1, 3, 6, 8))
        assert acl.rt.memcpy_async(ptr, size, staged, size, 3, stream) == 0
        assert acl.mdl.execute_async(program.model_id, program.inputs, program.outputs,
                                     stream) == 0
        assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
        got_second = program.output(np.float32, (1, 3, 6, 8))
    finally:
        for aipp in (first, second):
            acl.mdl.destroy_aipp(aipp)
        acl.rt.free(staged)
        acl.rt.destroy_stream(stream)
        program.release()
    np.testing.assert_array_equal(got_first[0], aipp_reference(
        image, _reference_cfg(PER_IMAGE[0], 14, 10), 6, 8, 3))
    np.testing.assert_array_equal(got_second[0], aipp_reference(
        image, _reference_cfg(PER_IMAGE[1], 14, 10), 6, 8, 3))


def test_a_corrupt_aipp_record_is_refused_at_load_naming_the_field(context, tmp_path):
    from openacl.model.om import write_om

    source = identity(tmp_path / "id.onnx", [1, 3, 4, 4])
    record = {"aipp": {"data": {"mode": "static", "input_format": 3, "mean_chn": [1, 2]}}}
    write_om(onnx.load(source), record, str(tmp_path / "bad.om"))
    model_id, ret = acl.mdl.load_from_file(str(tmp_path / "bad.om"))
    assert (model_id, ret) == (0, 145000)
    message = acl.get_recent_err_msg()
    assert "aipp['data']" in message and "mean_chn" in message


# ---------------------------------------------------------------- Huawei's own configs

# Verbatim from Ascend/samples (vpc_jpeg_resnet50_imagenet_classification/caffe_model/aipp.cfg).
SAMPLE_RESNET = """aipp_op {
\taipp_mode : static
\trelated_input_rank : 0
\tinput_format : YUV420SP_U8
\tcsc_switch : true
\trbuv_swap_switch : false
\tvar_reci_chn_0 : 1
\tvar_reci_chn_1 : 1
\tvar_reci_chn_2 : 1
\tmin_chn_0 : 123
\tmin_chn_1 : 117
\tmin_chn_2 : 104
\tload_start_pos_h : 0
\tload_start_pos_w : 0
\tsrc_image_size_w : 224
\tsrc_image_size_h : 224
        matrix_r0c0 : 256
        matrix_r0c1 : 0
        matrix_r0c2 : 359
        matrix_r1c0 : 256
        matrix_r1c1 : -88
        matrix_r1c2 : -183
        matrix_r2c0 : 256
        matrix_r2c1 : 454
        matrix_r2c2 : 0
        input_bias_0 : 0
        input_bias_1 : 128
        input_bias_2 : 128
}
"""
# Verbatim from Ascend/samples (objectdetection_dynamic_image_size/aipp_faster_rcnn.cfg).
SAMPLE_DYNAMIC_HW = """aipp_op { 
aipp_mode : static
related_input_rank : 0
input_format : YUV420SP_U8
csc_switch : true
rbuv_swap_switch : false
matrix_r0c0 : 256
matrix_r0c1 : 454
matrix_r0c2 : 0
matrix_r1c0 : 256
matrix_r1c1 : -88
matrix_r1c2 : -183
matrix_r2c0 : 256
matrix_r2c1 : 0
matrix_r2c2 : 359
input_bias_0 : 0
input_bias_1 : 128
input_bias_2 : 128
min_chn_0 : 104
min_chn_1 : 117
min_chn_2 : 123
}
"""


def test_huawei_resnet_sample_config(context, tmp_path):
    source = identity(tmp_path / "id.onnx", [1, 3, 224, 224])
    program = AippProgram(build(tmp_path, source, SAMPLE_RESNET))
    yy, xx = np.mgrid[0:224, 0:224]                  # a smooth picture survives 4:2:0
    rgb = np.stack([xx, yy, (xx + yy) // 2], axis=-1).astype(np.uint8)
    image = rgb_to_nv12(rgb)
    try:
        program.feed(0, image)
        assert program.run() == 0, acl.get_recent_err_msg()
        got = program.output(np.float32, (1, 3, 224, 224))
    finally:
        program.release()
    cfg = _cfg("YUV420SP_U8", 224, 224, csc_switch=True, matrix=JPEG_YUV2RGB,
               input_bias=[0, 128, 128], min_chn=[123, 117, 104, 0])
    np.testing.assert_array_equal(got[0], aipp_reference(image, cfg, 224, 224, 3))
    # The JPEG matrix turns the NV12 of an RGB image back into about that RGB image.
    restored = got[0] + np.array([123, 117, 104], np.float32).reshape(3, 1, 1)
    assert np.abs(restored - rgb.transpose(2, 0, 1)).mean() < 6


def test_huawei_dynamic_image_size_sample_config(context, tmp_path):
    """YUV420SP through static AIPP on a dynamic-image-size model: each gear's NV12 size."""
    source = identity(tmp_path / "id.onnx", [1, 3, "H", "W"])
    path = build(tmp_path, source, SAMPLE_DYNAMIC_HW, "--input_shape=data:1,3,-1,-1",
                 "--dynamic_image_size=8,12;16,16")
    program = AippProgram(path)
    try:
        assert acl.mdl.get_input_size_by_index(program.desc, 0) == 16 * 16 * 3 // 2
        assert acl.mdl.get_input_dims(program.desc, 0)[0]["dims"] == [1, -1, -1, 3]
        image = random_image("YUV420SP_U8", 12, 8, 4)
        program.feed(0, image)
        index, _ = acl.mdl.get_input_index_by_name(program.desc, "ascend_mbatch_shape_data")
        assert acl.mdl.set_dynamic_hw_size(program.model_id, program.inputs, index, 8, 12) == 0
        assert program.run() == 0, acl.get_recent_err_msg()
        got = program.output(np.float32, (1, 3, 8, 12))
        info, _ = acl.mdl.get_first_aipp_info(program.model_id, 0)
        assert info["shapeCount"] == 2
        assert [d["srcDims"]["dims"] for d in info["outDims"]] == [[1, 3, 8, 12], [1, 3, 16, 16]]
    finally:
        program.release()
    cfg = _cfg("YUV420SP_U8", 12, 8, csc_switch=True,
               matrix=[256, 454, 0, 256, -88, -183, 256, 0, 359], input_bias=[0, 128, 128],
               min_chn=[104, 117, 123, 0])
    np.testing.assert_array_equal(got[0], aipp_reference(image, cfg, 8, 12, 3))
