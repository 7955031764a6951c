"""``atc --insert_op_conf``: AIPP config files parsed and checked as ATC checks them."""

from __future__ import annotations

import pytest
from onnx import TensorProto, helper

from openacl.atc import AtcError
from openacl.atc.cli import main as atc_main
from openacl.model.aipp import DEFAULT_BIAS, DEFAULT_RGB2YUV, DEFAULT_YUV2BGR
from tests.atc.builders import SOC, atc, metadata, save


def identity_model(path, dims=(1, 3, 8, 8), dtype=TensorProto.FLOAT, inputs=1) -> str:
    names = [f"x{i}" if inputs > 1 else "x" for i in range(inputs)]
    nodes = [helper.make_node("Identity", [n], [f"y_{n}"]) for n in names]
    graph = helper.make_graph(
        nodes, "identity", [helper.make_tensor_value_info(n, dtype, list(dims)) for n in names],
        [helper.make_tensor_value_info(f"y_{n}", dtype, list(dims)) for n in names])
    return save(graph, path)


def convert_with(tmp_path, config: str, *args, dims=(1, 3, 8, 8), soc=None, inputs=1):
    source = identity_model(tmp_path / "m.onnx", dims, inputs=inputs)
    (tmp_path / "aipp.cfg").write_text(config)
    extra = [f"--soc_version={soc}"] if soc else []
    return atc(tmp_path, f"--model={source}", f"--insert_op_conf={tmp_path / 'aipp.cfg'}",
               *args, *extra)


def failure(tmp_path, config: str, *args, **kwargs) -> AtcError:
    with pytest.raises(AtcError) as caught:
        convert_with(tmp_path, config, *args, **kwargs)
    return caught.value


YUV_8x8 = """# a comment
aipp_op {
    aipp_mode : static
    input_format : YUV420SP_U8
    src_image_size_w : 8
    src_image_size_h : 8
}
"""


def test_static_config_is_recorded_resolved(tmp_path):
    record = metadata(convert_with(tmp_path, YUV_8x8.replace("}", "    csc_switch : true\n}")))
    config = record["aipp"]["x"]
    assert config["mode"] == "static" and config["input_format"] == 1
    assert config["src_image_size_w"] == 8 and config["src_image_size_h"] == 8
    # ATC's defaults: YUV420SP with CSC and no matrix -> BT.601 YUV to BGR, biases 16/128/128.
    assert config["matrix"] == list(DEFAULT_YUV2BGR) == [298, 516, 0, 298, -100, -208, 298, 0,
                                                         409]
    assert config["input_bias"] == list(DEFAULT_BIAS) == [16, 128, 128]
    assert config["var_reci_chn"] == [1.0] * 4 and config["mean_chn"] == [0] * 4
    assert config["model_dims"] == [1, 3, 8, 8] and config["model_format"] == "NCHW"


def test_rgb_default_matrix_is_rgb_to_yuv(tmp_path):
    config = metadata(convert_with(tmp_path, "aipp_op { aipp_mode: static input_format: "
                                             "RGB888_U8 csc_switch: true }"))["aipp"]["x"]
    assert config["matrix"] == list(DEFAULT_RGB2YUV)
    assert config["src_image_size_w"] == 8          # 0 (unset) means the network's size


def test_unknown_field_names_the_line(tmp_path):
    error = failure(tmp_path, "aipp_op {\n  aipp_mode: static\n  crop_width: 4\n}\n")
    assert error.code == "E10001"
    assert "line 3" in error.message and "crop_width" in error.message


def test_bad_value_and_syntax_are_refused(tmp_path):
    assert "line 1" in failure(tmp_path, "aipp_op { crop: maybe }").message
    assert failure(tmp_path, "aipp_op { aipp_mode: static").code == "E10001"
    assert "no aipp_op" in failure(tmp_path, "# empty\n").message
    assert "does not exist" in failure(tmp_path, YUV_8x8, f"--insert_op_conf={tmp_path}/no.cfg"
                                       ).message


@pytest.mark.parametrize("config, field, text", [
    ("aipp_op { input_format: RGB888_U8 }", "aipp_mode", "aipp_mode must be configured"),
    ("aipp_op { aipp_mode: dynamic }", "max_src_image_size", "max_src_image_size must be set"),
    ("aipp_op { aipp_mode: static }", "input_format", "Input format of AIPP conf is undefined"),
    ("aipp_op { aipp_mode: static input_format: RGB888_U8 var_reci_chn_0: 1 var_reci_chn_0: 2 }",
     "var_reci_chn_0", "can not be configed repeatedly"),
    ("aipp_op { aipp_mode: static input_format: RGB888_U8 crop: true load_start_pos_w: -2 }",
     "load_start_pos_w", "must not be configed smaller than 0"),
])
def test_graph_engine_checks(tmp_path, config, field, text):
    error = failure(tmp_path, config)
    assert error.code == "E10001" and text in error.message and f"field {field}" in error.message


def _static(body: str, fmt="YUV420SP_U8", w=8, h=8) -> str:
    return (f"aipp_op {{\n aipp_mode: static\n input_format: {fmt}\n src_image_size_w: {w}\n"
            f" src_image_size_h: {h}\n{body}\n}}\n")


@pytest.mark.parametrize("config, field, text", [
    (_static(" crop: true\n load_start_pos_w: 1\n crop_size_w: 6\n crop_size_h: 8", w=10),
     "load_start_pos_w", "must be even"),
    (_static(" crop: true\n load_start_pos_w: 4\n crop_size_w: 8\n crop_size_h: 8", w=10),
     "load_start_pos_w", "should be less than or equal to src_image_size_w[10]"),
    (_static(" crop: true\n crop_size_w: 6\n crop_size_h: 6", w=10, h=10), "crop_size_w",
     "should be equal to output W[8]"),
    (_static(" padding: true\n left_padding_size: 2\n right_padding_size: 1", w=6),
     "left_padding_size", "should be equal to output W[8]"),
    (_static(" padding: true\n left_padding_size: 40\n", w=8), "left_padding_size",
     "The max padding size is 32"),
    (_static("", w=7, h=8, fmt="RGB888_U8").replace("src_image_size_w: 7", "src_image_size_w: 9"),
     "src_image_size_w", "input W[8] of network should be equal to src_image_size_w[9]"),
    (_static("", w=8, h=8, fmt="YUYV_U8"), "input_format",
     "only support YUV420SP_U8, XRGB8888_U8, RGB888_U8, YUV400_U8"),
    (_static(" resize: true\n resize_output_w: 8\n resize_output_h: 8"), "resize",
     "resize only support Hi3796CV300ES"),
    (_static(" csc_switch: true", fmt="YUV400_U8"), "csc_switch", "doesn't make sense"),
    (_static(" mean_chn_0: 300"), "mean_chn_0", "mean_chn_0[300] should be within[0, 255]"),
    (_static(" var_reci_chn_1: 70000"), "var_reci_chn_1", "should be within[-65504, 65504]"),
    (_static(" csc_switch: true\n matrix_r0c0: 40000"), "matrix_r0c0",
     "should be within[-32768, 32767]"),
    (_static(" csc_switch: true\n input_bias_2: 256"), "input_bias_2", "within[0, 255]"),
    (_static(" padding: true\n left_padding_size: 1", w=7), "src_image_size_w",
     "should be even for YUV420SP_U8"),
])
def test_compile_checks(tmp_path, config, field, text):
    error = failure(tmp_path, config)
    assert error.code == "E81012", error
    assert error.message.startswith("Compile op[aipp] failed, cause: ")
    assert text in error.message and f"field {field}" in error.message
    lines = [n for n, raw in enumerate(config.splitlines(), 1) if raw.strip().startswith(field)]
    if lines:                     # a field the file sets: the message points at its line
        assert f"line {lines[0]}" in error.message


def test_every_8_bit_format_is_accepted_on_a_lhisi_soc(tmp_path):
    for fmt in ("YUYV_U8", "YUV422SP_U8", "AYUV444_U8", "ARGB8888_U8"):
        channels = 4 if fmt in ("AYUV444_U8", "ARGB8888_U8") else 3
        path = convert_with(tmp_path, _static("", fmt=fmt), soc="Hi3796CV300CS",
                            dims=(1, channels, 8, 8))
        assert metadata(path)["aipp"]["x"]["input_format"] > 0


def test_graph_checks(tmp_path):
    two = YUV_8x8 + YUV_8x8
    error = failure(tmp_path, two)
    assert error.code == "E10052" and "the same postion" in error.message
    error = failure(tmp_path, YUV_8x8.replace("aipp_mode : static",
                                              "aipp_mode : static\n related_input_rank: 3"))
    assert error.code == "E10052" and "related_input_rank 3" in error.message
    error = failure(tmp_path, YUV_8x8, "--input_fp16_nodes=x")
    assert error.code == "E10034"


def test_two_inputs_each_get_their_block(tmp_path):
    config = YUV_8x8 + YUV_8x8.replace("aipp_mode : static", "aipp_mode : static\n"
                                       " related_input_rank: 1").replace("YUV420SP_U8",
                                                                         "RGB888_U8")
    record = metadata(convert_with(tmp_path, config, inputs=2))
    assert record["aipp"]["x0"]["input_format"] == 1 and record["aipp"]["x1"]["input_format"] == 3


def test_dynamic_config(tmp_path):
    record = metadata(convert_with(tmp_path, "aipp_op { aipp_mode: dynamic "
                                             "max_src_image_size: 752640 }"))
    config = record["aipp"]["x"]
    assert config["mode"] == "dynamic" and config["max_src_image_size"] == 752640
    assert len(config["parameter_inputs"]) == 6
    error = failure(tmp_path, "aipp_op { aipp_mode: dynamic max_src_image_size: 100 }",
                    "--input_shape=x:-1,3,8,8", "--dynamic_batch_size=1,2")
    assert "not supported by openacl" in error.message


def test_cli_prints_the_error_and_fails(tmp_path, capsys):
    source = identity_model(tmp_path / "m.onnx")
    (tmp_path / "aipp.cfg").write_text(_static(" mean_chn_0: 999"))
    status = atc_main([f"--model={source}", "--framework=5", f"--output={tmp_path / 'o'}",
                       f"--soc_version={SOC}", f"--insert_op_conf={tmp_path / 'aipp.cfg'}"])
    out = capsys.readouterr().out
    assert status != 0 and "E81012: Compile op[aipp] failed" in out and "line 6" in out
