"""Corrupt ONNX sources and external data fed to atc: an ATC E-code line, never a traceback.

The mutations are the loaders' (tests/model/model_fuzz.py), applied to the ONNX sources of
the loader corpus; the property is :func:`tests.atc.atc_fuzz.check_atc` (exit 1 with one
E-code line that is not E19999 and no .om, or an .om every loader handles).
"""

from __future__ import annotations

import os

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

import acl
from openacl.atc import cli
from openacl.model.external import external_tensors
from tests.atc.atc_fuzz import SOURCE_MUTATIONS, build_sources, check_atc, random_shape_flags
from tests.atc.builders import SOC
from tests.model import builders
from tests.model.model_fuzz import MUTATIONS, DataChooser, Mutant
from tests.model.test_execute import Model

FAILURE = "ATC run failed, Please check the detail log, Try 'atc --help' for more information"
EXAMPLES = 100               # per family: 8 families, about 4 s in all


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    return build_sources(tmp_path_factory.mktemp("sources"))


@pytest.mark.parametrize("family", SOURCE_MUTATIONS)
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_corrupt_sources_get_an_e_code_or_a_good_om(context, sources, tmp_path, family, data):
    choose = DataChooser(data)
    kind = choose.choice(sorted(sources))
    source, flags = sources[kind]
    mutant = MUTATIONS[family](source, choose)
    problems = check_atc(mutant, flags, tmp_path)
    assert not problems, f"{kind} source, {mutant.what}: {problems}"


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mistyped_shape_options_get_an_e_code_or_a_good_om(context, sources, tmp_path, data):
    choose = DataChooser(data)
    kind = choose.choice(sorted(sources))
    source, flags = sources[kind]
    flags = random_shape_flags(flags, choose, nasty=True)
    problems = check_atc(Mutant(source, "shape text"), flags, tmp_path)
    assert not problems, f"{kind} source, {flags}: {problems}"


def _atc(capsys, tmp_path, source, *flags):
    status = cli.main([f"--model={source}", "--framework=5", f"--output={tmp_path / 'out'}",
                       f"--soc_version={SOC}", *flags])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert "Traceback" not in captured.out + captured.err
    if status:
        assert lines[-1] == FAILURE and not (tmp_path / "out.om").exists()
    return status, lines


def _external_source(folder, location="weights.bin"):
    model = builders.classifier(classes=10)
    (folder / location).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, folder / "ext.onnx", save_as_external_data=True,
              all_tensors_to_one_file=True, location=location, size_threshold=0)
    return folder / "ext.onnx"


def test_external_data_in_the_model_folder_is_embedded_in_the_om(context, capsys, tmp_path):
    (tmp_path / "src").mkdir()
    source = _external_source(tmp_path / "src", "data/weights.bin")
    status, lines = _atc(capsys, tmp_path, source)
    assert status == 0, lines
    om = tmp_path / "out.om"
    assert not external_tensors(onnx.load(om, load_external_data=False))
    data = om.read_bytes()                  # self-contained: it loads from memory too
    model_id, ret = acl.mdl.load_from_mem(acl.util.bytes_to_ptr(data), len(data))
    assert ret == 0, acl.get_recent_err_msg()
    assert acl.mdl.unload(model_id) == 0
    net = Model(str(om))
    try:
        image = np.random.default_rng(3).standard_normal((1, 3, 16, 16)).astype(np.float32)
        net.write(0, image)
        assert net.execute() == 0
        got = net.read(0, np.float32, (1, 10))
    finally:
        net.release()
    np.testing.assert_array_equal(
        got, builders.reference(builders.classifier(classes=10), {"data": image})[0])


@pytest.mark.parametrize("location, says", [
    ("../../../../../../../etc/passwd", "outside the model's folder"),
    ("/etc/passwd", "an absolute path; external data must be a relative path"),
    ("../outside.bin", "outside the model's folder"),
    ("link.bin", "outside the model's folder"),
    ("missing.bin", "which is not a file in the model's folder"),
])
def test_external_data_outside_the_model_folder_is_refused(capsys, tmp_path, location, says):
    folder = tmp_path / "src"
    folder.mkdir()
    source = _external_source(folder)
    (tmp_path / "outside.bin").write_bytes((folder / "weights.bin").read_bytes())
    os.symlink(tmp_path / "outside.bin", folder / "link.bin")
    proto = onnx.load(source, load_external_data=False)
    for tensor in external_tensors(proto):
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save(proto, source)
    status, lines = _atc(capsys, tmp_path, source)
    assert status == 1
    assert lines[1].startswith(f"E10041: Failed to load the model from [{source}]. Reason: "
                               f"tensor [w] keeps its data in [{location}]")
    assert says in lines[1]


def test_external_data_of_the_wrong_size_is_refused(capsys, tmp_path):
    source = _external_source(tmp_path)
    proto = onnx.load(source, load_external_data=False)
    for entry in proto.graph.initializer[0].external_data:
        if entry.key == "length":
            entry.value = "12"
    onnx.save(proto, source)
    status, lines = _atc(capsys, tmp_path, source)
    assert status == 1 and "which holds 12 bytes for it; its dims [8, 3, 3, 3] need 864" in \
        lines[1]


def test_a_string_input_is_refused_at_conversion(capsys, tmp_path):
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.STRING, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.STRING, [2])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              tmp_path / "s.onnx")
    status, lines = _atc(capsys, tmp_path, tmp_path / "s.onnx")
    assert status == 1
    assert lines[1] == ("E10055: The operation is not supported. Reason: input [x] (STRING) is "
                        "a string tensor (ACL_STRING): model buffers hold fixed-size elements, "
                        "and ACL_STRING has none (acl.data_type_size gives 0); openacl's "
                        "runtime cannot bind it.")


def test_an_output_listed_twice_is_refused(capsys, tmp_path):
    model = builders.classifier(classes=10)
    model.graph.output.add().CopyFrom(model.graph.output[0])
    onnx.save(model, tmp_path / "twice.onnx")
    status, lines = _atc(capsys, tmp_path, tmp_path / "twice.onnx")
    assert status == 1 and "(graph output 'prob' is listed twice)" in lines[1]


def test_an_aipp_image_too_large_for_a_record_is_refused(capsys, tmp_path):
    """Found by fuzzing: this ended in E19999 (the record check failed after conversion)."""
    from tests.model.test_aipp import config_text, identity

    source = identity(tmp_path / "id.onnx", [2**31, 3, 6, 8])
    (tmp_path / "aipp.cfg").write_text(config_text({"input_format": "RGB888_U8",
                                                    "src_image_size_w": 8,
                                                    "src_image_size_h": 6}))
    status, lines = _atc(capsys, tmp_path, source, f"--insert_op_conf={tmp_path / 'aipp.cfg'}")
    assert status == 1 and "E19999" not in lines[1]
    assert "AIPP images have at most 2147483647 in each dimension" in lines[1]


def test_negative_dims_and_free_axes_under_static_aipp_are_refused(capsys, tmp_path):
    """Found by fuzzing: a -5 batch under static AIPP ended in E19999."""
    from tests.model.test_aipp import config_text, identity

    (tmp_path / "aipp.cfg").write_text(config_text({"input_format": "RGB888_U8",
                                                    "src_image_size_w": 8,
                                                    "src_image_size_h": 6}))
    source = identity(tmp_path / "id.onnx", [-5, 3, 6, 8])
    status, lines = _atc(capsys, tmp_path, source, f"--insert_op_conf={tmp_path / 'aipp.cfg'}")
    assert status == 1 and "tensor [data] has negative dims [-5, 3, 6, 8]" in lines[1]
    source = identity(tmp_path / "id.onnx", ["n", 3, 6, 8])
    status, lines = _atc(capsys, tmp_path, source, f"--insert_op_conf={tmp_path / 'aipp.cfg'}")
    assert status == 1 and "static AIPP needs them fixed with --input_shape" in lines[-2]


def test_an_input_that_is_also_an_output_converts_and_runs(context, capsys, tmp_path):
    """Found by fuzzing: the record of such an output had index None (E19999)."""
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3]),
                               helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              tmp_path / "echo.onnx")
    status, lines = _atc(capsys, tmp_path, tmp_path / "echo.onnx")
    assert status == 0, lines
    net = Model(str(tmp_path / "out.om"))
    try:
        x = np.array([[1, -2, 3], [-4, 5, -6]], np.float32)
        net.write(0, x)
        assert net.execute() == 0, acl.get_recent_err_msg()
        np.testing.assert_array_equal(net.read(0, np.float32, (2, 3)), np.maximum(x, 0))
        np.testing.assert_array_equal(net.read(1, np.float32, (2, 3)), x)
    finally:
        net.release()


def test_an_opset_newer_than_onnx_knows_is_refused(capsys, tmp_path):
    model = builders.classifier(classes=10)
    model.opset_import[0].version = 99
    onnx.save(model, tmp_path / "new.onnx")
    status, lines = _atc(capsys, tmp_path, tmp_path / "new.onnx")
    assert status == 1 and "it uses ONNX opset 99; the onnx package here knows opsets up to" \
        in lines[1]


def test_names_that_are_not_utf8_are_refused(capsys, tmp_path):
    data = builders.classifier(classes=10).SerializeToString()
    at = data.find(b"/relu/Relu")
    (tmp_path / "bad.onnx").write_bytes(data[:at] + b"\xff" + data[at + 1:])
    status, lines = _atc(capsys, tmp_path, tmp_path / "bad.onnx")
    assert status == 1
    assert lines[1].endswith("Reason: it is corrupt: model.graph.node[1].name is not UTF-8 "
                             "text.")


def test_an_output_shape_the_graph_contradicts_is_recomputed(context, capsys, tmp_path):
    model = builders.classifier(classes=10)
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_value = 7
    onnx.save(model, tmp_path / "m.onnx")
    status, lines = _atc(capsys, tmp_path, tmp_path / "m.onnx")
    assert status == 0, lines
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_desc_from_file(desc, str(tmp_path / "out.om")) == 0
    assert acl.mdl.get_output_dims(desc, 0)[0]["dims"] == [1, 10]
    assert acl.mdl.destroy_desc(desc) == 0
