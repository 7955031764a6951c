"""Corrupt model files fed to every loader: refused with 145000 and a message, never 500000.

The mutants start from real .om files made by openacl's own atc (a static classifier, a
dynamic-batch and a dynamic-dims gear model, a shape-range model, a static-AIPP model); the
property they must keep is :func:`tests.model.model_fuzz.check_model_bytes`. hypothesis
draws a bounded number of mutants per family (derandomized, so CI sees the same ones every
run); ``scripts/fuzz_model_files.py`` runs long random campaigns with the same mutations.
The named cases below pin down each bug the fuzzing found, with its exact code and message.
"""

from __future__ import annotations

import json
import os

import ml_dtypes
import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto as T
from onnx import helper, numpy_helper

import acl
from openacl.atc import convert
from openacl.model.om import MetadataKey, write_om
from tests.model import builders
from tests.model.model_fuzz import (MUTATIONS, DataChooser, Mutant, build_corpus,
                                    check_model_bytes)
from tests.model.test_execute import Model

ACL_ERROR_GE_PARAM_INVALID = 145000
ACL_ERROR_DESERIALIZE_MODEL = 100012
ACL_BF16 = 27
EXAMPLES = 150                 # per mutation family: 9 families, about 12 s in all
DYNAMIC_AIPP_EXAMPLES = 25     # per family: its loads are slower (a large AIPP graph)


class _Corpus(dict):
    def __repr__(self):                 # hypothesis prints the fixtures of a failing example
        return f"<corpus: {', '.join(self)}>"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, bytes]:
    paths = build_corpus(tmp_path_factory.mktemp("corpus"))
    return _Corpus({kind: open(path, "rb").read() for kind, path in paths.items()})


def _load_refused(path_or_bytes) -> str:
    """Load from a file (or memory); assert 145000; return the recent error message."""
    if isinstance(path_or_bytes, bytes):
        ret = acl.mdl.load_from_mem(acl.util.bytes_to_ptr(path_or_bytes), len(path_or_bytes))
    else:
        ret = acl.mdl.load_from_file(str(path_or_bytes))
    message = acl.get_recent_err_msg()
    assert ret == (0, ACL_ERROR_GE_PARAM_INVALID), message
    return message


def _with_record(data: bytes, edit, text=lambda text: text) -> bytes:
    """The model with its JSON record edited by ``edit(record)``, then ``text(json)``."""
    proto = onnx.ModelProto()
    proto.ParseFromString(data)
    entry = next(e for e in proto.metadata_props if e.key == MetadataKey)
    record = json.loads(entry.value)
    edit(record)
    entry.value = text(json.dumps(record))
    return proto.SerializeToString()


# ---------------------------------------------------------------- the property, fuzzed

def test_the_unmutated_corpus_runs_on_every_loader(context, corpus, tmp_path):
    """The harness executes and compares: every loader loads and runs every model."""
    for kind, data in corpus.items():
        report = check_model_bytes(Mutant(data, "unmutated"), tmp_path)
        assert not report.problems, (kind, report.problems)
        executed = [call for call, code in report.codes if call.startswith("execute")]
        assert len(executed) == 4 and all(code == 0 for _, code in report.codes), report.codes


@pytest.mark.parametrize("family", sorted(MUTATIONS))
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mutants_keep_the_property(context, corpus, tmp_path, family, data):
    _check_a_mutant(corpus, tmp_path, family, DataChooser(data),
                    [kind for kind in sorted(corpus) if kind != "aipp_dynamic"])


@pytest.mark.parametrize("family", ["record", "graph", "flip_bits"])
@settings(max_examples=DYNAMIC_AIPP_EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_dynamic_aipp_mutants_keep_the_property(context, corpus, tmp_path, family, data):
    _check_a_mutant(corpus, tmp_path, family, DataChooser(data), ["aipp_dynamic"])


def _check_a_mutant(corpus, tmp_path, family, choose, kinds):
    kind = choose.choice(kinds)
    mutant = MUTATIONS[family](corpus[kind], choose)
    report = check_model_bytes(mutant, tmp_path)
    assert not report.problems, f"{kind} model, {mutant.what}: {report.problems}"


def test_truncation_at_many_offsets(context, corpus, tmp_path):
    for kind, data in corpus.items():
        offsets = sorted({*range(0, 24), *range(0, len(data), max(1, len(data) // 24))})
        refused = 0
        for offset in offsets:
            report = check_model_bytes(Mutant(data[:offset], f"cut at {offset}"), tmp_path)
            assert not report.problems, (kind, offset, report.problems)
            refused += (("load_from_file", ACL_ERROR_GE_PARAM_INVALID) in report.codes)
        # A cut just before the metadata leaves a whole ONNX model: that one may load.
        assert refused >= len(offsets) - 2, (kind, refused, len(offsets))


# ---------------------------------------------------------------- what fuzzing found

def test_a_huawei_om_is_refused_with_advice(context, corpus):
    message = _load_refused(b"IMOD" + bytes(60) + corpus["static"])
    assert "Huawei ATC-compiled" in message and "atc --model" in message


def test_metadata_that_is_not_utf8_is_refused(context, corpus):
    data = corpus["batch"]
    start = data.find(b'"format_version"')
    broken = data[:start] + b"\xff" + data[start + 1:]
    message = _load_refused(broken)
    assert "metadata_props[0].value is not UTF-8 text" in message
    assert acl.mdl.query_size_from_mem(acl.util.bytes_to_ptr(broken), len(broken)) == \
        (0, 0, ACL_ERROR_GE_PARAM_INVALID)


def test_a_json_recursion_bomb_is_refused(context, corpus):
    def nest(record):
        record["deep"] = "<deep>"
    data = _with_record(corpus["static"], nest, lambda text: text.replace(
        '"<deep>"', "[" * 100000 + "]" * 100000))
    message = _load_refused(data)
    assert "openacl metadata is not valid JSON (RecursionError" in message


def _edit(path, value):
    """An edit that sets record[path...] = value (value DELETE removes the key)."""
    def edit(record):
        target = record
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    edit.label = ".".join(map(str, path))
    return edit


def _edits(*edits):
    def edit(record):
        for one in edits:
            one(record)
    edit.label = "+".join(one.label for one in edits)
    return edit


def _copy(source, target):
    def edit(record):
        _edit(target, json.loads(json.dumps(_walk(record, source))))(record)
    edit.label = ".".join(map(str, target))
    return edit


def _walk(record, path):
    for key in path:
        record = record[key]
    return record


DELETE = object()
# The gear table of the dims model without input b (the record atc would write if b were
# not there): b is left ungeared, which used to end in a KeyError inside execute.
WITHOUT_B = _edits(_edit(("dynamic", "input_dims", "b"), DELETE),
                   _edit(("dynamic", "input_order"), ["a"]),
                   _edit(("dynamic", "gears"), [[1], [3]]))
RECORD_CASES = [
    # (model, edit, what the message says)
    ("dims", WITHOUT_B, "dynamic.input_dims does not describe graph input(s) ['b']"),
    ("dims", _edit(("dynamic", "input_dims", "b"), DELETE),
     "dynamic.input_order names ['b'], which dynamic.input_dims does not describe"),
    ("dims", _edit(("dynamic", "gears"), [[1], [3]]), "dynamic.gears have 1 value(s) each"),
    ("dims", _edit(("dynamic", "input_dims", "a"), [-3, 4]),
     "dynamic.input_dims['a'] is [-3, 4]; positive sizes and -1"),
    ("dims", _edit(("dynamic", "input_dims", "a"), [-1, 4, 1]),
     "dynamic.input_dims['a'] has 3 axes"),
    ("dims", _edit(("dynamic", "input_dims", "a"), [-1, 5]),
     "dynamic.input_dims['a'][1] is 5, but the graph fixes that axis at 4"),
    ("dims", _edits(_edit(("dynamic", "input_order"), ["a", "b", "zz"]),
                    _edit(("dynamic", "input_dims", "zz"), [2])),
     "dynamic.input_dims names ['zz'], which the graph does not have"),
    ("dims", _edit(("dynamic", "input_order"), ["a", "b", "a"]),
     "dynamic.input_order names an input twice"),
    ("batch", _edit(("dynamic", "kind"), "hw"), "a hw table gears two axes"),
    ("batch", _edit(("dynamic", "gears"), [[1], [2**62]]), "more than any device can hold"),
    ("batch", _edit(("dynamic", "gears"), [[1], [2**63]]), "dynamic.gears[1][0] is "
                                                           "9223372036854775808, beyond int64"),
    ("batch", _edit(("dynamic", "gears"), [[1], [0]]), "dynamic.gears[1][0] is 0"),
    ("batch", _edit(("shape_range",), {"x": [[1, 4], [3, 3], [4, 4], [4, 4]]}),
     "dynamic and shape_range are both set"),
    ("range", _edit(("shape_range", "x"), [[1, 16]]), "shape_range['x'] has 1 axes"),
    ("range", _edit(("shape_range", "x"), [[1, 16], [1, 8]]),
     "shape_range['x'][1] is [1, 8], but the graph fixes that axis at 3"),
    ("range", _edit(("shape_range", "zz"), [[1, 2]]), "shape_range names ['zz']"),
    ("range", _edit(("shape_range", "x"), [[5, 2], [3, 3]]), "shape_range['x'][0] is [5, 2]"),
    ("static", _edit(("inputs", "data", "format"), "NC1HWC0"),
     "inputs['data'].format is 'NC1HWC0'"),
    ("static", _edit(("inputs", "zz"), {"format": "ND"}), "inputs names ['zz']"),
    ("static", _edit(("outputs", "prob", "index"), "0"), "outputs['prob'].index is str"),
    ("static", _edit(("output_order",), ["prob", "nope"]), "output_order names ['nope']"),
    ("aipp", _edit(("aipp", "data", "mean_chn"), [1, 2]), "aipp['data']: mean_chn"),
    ("aipp", _copy(("aipp", "data"), ("aipp", "zz")), "aipp names ['zz']"),
    ("aipp", _edit(("aipp", "data", "model_dims"), [2, 3, 6, 8]),
     "aipp['data'] describes 'data' of shape [2, 9, 8, 1], but the graph input takes "
     "[1, 9, 8, 1]"),
    ("aipp", _edit(("aipp", "data", "model_dims"), [2**30, 3, 6, 8]),
     "aipp['data'] describes 'data' of shape [1073741824, 9, 8, 1]"),
    ("aipp", _edit(("aipp", "data", "model_dims"), [2**40, 3, 6, 8]),
     "aipp['data']: model_dims [1099511627776, 3, 6, 8] must be sizes from 1 to 2147483647"),
    ("aipp", _edit(("aipp", "data", "src_image_size_h"), -3),
     "aipp['data']: src_image_size_h is -3; 0 .. 2147483647 was expected"),
    ("aipp_dynamic", _edit(("aipp", "data", "model_dims"), [1, 300, 6, 8]),
     "aipp['data']: model_dims [1, 300, 6, 8] give the network 300 channels; AIPP makes 1 "
     "to 4"),
    ("aipp_dynamic", _edit(("aipp", "data", "model_dims"), [5, 3, 6, 8]),
     "aipp['data'] describes 'data_aipp_geometry' of shape [5, 6, 1, 1], but the graph "
     "input takes [1, 6, 1, 1]"),
    ("aipp", _edit(("aipp", "data", "model_dims"), [-1, 3, 6, 8]),
     "aipp['data'].model_dims [-1, 3, 6, 8] has -1 axes, which only a gear table fills"),
    ("aipp_dynamic", _edit(("aipp", "data", "model_dims"), [-1, 3, 6, 8]),
     "aipp['data'].model_dims [-1, 3, 6, 8] has -1 axes, which only a gear table fills"),
    ("aipp_dynamic", _edit(("aipp", "data", "max_src_image_size"), 2000),
     "aipp['data'] describes 'data' of shape [2000], but the graph input takes [1024]"),
    ("aipp_dynamic", _edit(("aipp", "data", "parameter_inputs"), DELETE),
     "aipp['data']: parameter_inputs names 0 input(s); dynamic AIPP has 6 distinct ones"),
    ("aipp", _edit(("aipp", "data", "parameter_inputs"), ["data"]),
     "aipp['data']: parameter_inputs names 1 input(s); static AIPP has 0 distinct ones"),
]


@pytest.mark.parametrize("kind, edit, says", RECORD_CASES,
                         ids=[f"{kind}-{edit.label}" for kind, edit, _ in RECORD_CASES])
def test_a_bad_record_is_refused_at_load_naming_the_field(context, corpus, tmp_path, kind,
                                                          edit, says):
    data = _with_record(corpus[kind], edit)
    (tmp_path / "bad.om").write_bytes(data)
    assert says in _load_refused(tmp_path / "bad.om")
    assert says in _load_refused(data)
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_desc_from_file(desc, str(tmp_path / "bad.om")) == \
        ACL_ERROR_GE_PARAM_INVALID
    assert says in acl.get_recent_err_msg()
    assert acl.mdl.destroy_desc(desc) == 0


@pytest.mark.parametrize("version", ["1", 2, True, 1.5, None])
def test_a_foreign_format_version_is_refused(context, corpus, version):
    data = _with_record(corpus["static"], _edit(("format_version",), version))
    ret = acl.mdl.load_from_mem(acl.util.bytes_to_ptr(data), len(data))
    assert ret == (0, ACL_ERROR_DESERIALIZE_MODEL)
    assert "format version" in acl.get_recent_err_msg()


def _with_graph(data: bytes, edit) -> bytes:
    proto = onnx.ModelProto()
    proto.ParseFromString(data)
    edit(proto.graph)
    return proto.SerializeToString()


def _set_dim(which, axis, size):
    def edit(graph):
        value = getattr(graph, which)[0]
        value.type.tensor_type.shape.dim[axis].dim_value = size
    return edit


def test_negative_dims_in_the_graph_are_refused(context, corpus):
    message = _load_refused(_with_graph(corpus["aipp"], _set_dim("output", 0, -5)))
    assert "negative dims [-5, 3, 6, 8]" in message


def test_sizes_beyond_any_device_are_refused_not_wrapped(context, corpus):
    data = _with_graph(corpus["static"], _set_dim("input", 2, 2**62))
    assert "more than any device can hold" in _load_refused(data)
    # query_size must not answer a size that wrapped around 2**64.
    assert acl.mdl.query_size_from_mem(acl.util.bytes_to_ptr(data), len(data)) == \
        (0, 0, ACL_ERROR_GE_PARAM_INVALID)


def test_an_output_listed_twice_is_refused(context, corpus):
    """ONNX's checker lets it pass; bound by name, one of the two buffers was never written."""
    def twice(graph):
        graph.output[1].name = graph.output[0].name
    assert "graph output 'r' is listed twice" in _load_refused(_with_graph(corpus["range"], twice))


def test_an_input_that_is_also_an_output_reaches_its_buffer(context, tmp_path):
    """onnxruntime leaves a bound output that is a graph input untouched (found by fuzzing);
    in a shape-range model the engine hands it back like any output of unknown size."""
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", T.FLOAT, ["n", 3])],
                              [helper.make_tensor_value_info("x", T.FLOAT, ["n", 3]),
                               helper.make_tensor_value_info("y", T.FLOAT, ["n", 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    write_om(model, {"shape_range": {"x": [[1, 4], [3, 3]]}}, str(tmp_path / "m.om"))
    model_id, ret = acl.mdl.load_from_file(str(tmp_path / "m.om"))
    assert ret == 0, acl.get_recent_err_msg()
    x = np.array([[1, -2, 3], [-4, 5, -6]], np.float32)
    pointers, buffers = [], []
    datasets = [acl.mdl.create_dataset(), acl.mdl.create_dataset()]
    tensor_desc = acl.create_tensor_desc(0, [2, 3], 2)
    try:
        for dataset, size in ((datasets[0], 24), (datasets[1], 64), (datasets[1], 64)):
            pointers.append(acl.rt.malloc(size, 0)[0])
            buffers.append(acl.create_data_buffer(pointers[-1], size))
            acl.mdl.add_dataset_buffer(dataset, buffers[-1])
        data = x.tobytes()
        acl.rt.memcpy(pointers[0], 24, acl.util.bytes_to_ptr(data), 24, 1)
        assert acl.mdl.set_dataset_tensor_desc(datasets[0], tensor_desc, 0)[1] == 0
        assert acl.mdl.execute(model_id, *datasets) == 0, acl.get_recent_err_msg()
        for pointer, expected in zip(pointers[1:], (x, np.maximum(x, 0))):
            got = bytes(24)
            acl.rt.memcpy(acl.util.bytes_to_ptr(got), 24, pointer, 24, 2)
            np.testing.assert_array_equal(np.frombuffer(got, np.float32).reshape(2, 3),
                                          expected)
    finally:
        for buffer in buffers:
            acl.destroy_data_buffer(buffer)
        for pointer in pointers:
            acl.rt.free(pointer)
        for dataset in datasets:
            acl.mdl.destroy_dataset(dataset)
        acl.destroy_tensor_desc(tensor_desc)
        assert acl.mdl.unload(model_id) == 0


def test_a_graph_the_engine_refuses_is_a_bad_file(context, corpus):
    def float16_output(graph):
        graph.output[0].type.tensor_type.elem_type = T.FLOAT16
    message = _load_refused(_with_graph(corpus["batch"], float16_output))
    assert "the engine cannot run it" in message and "Type Error" in message


@pytest.mark.parametrize("elem_type, says", [(77, "no aclDataType"),
                                             (T.FLOAT8E4M3FN, "no aclDataType"),
                                             (T.STRING, "a string tensor (ACL_STRING)")])
def test_inputs_no_program_can_bind_are_refused_at_load(context, tmp_path, elem_type, says):
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", elem_type, [2])],
                              [helper.make_tensor_value_info("y", elem_type, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    write_om(model, {"framework": 5}, str(tmp_path / "m.om"))
    message = _load_refused(tmp_path / "m.om")
    assert says in message and "input 'x'" in message
    assert acl.mdl.query_size(str(tmp_path / "m.om")) == (0, 0, ACL_ERROR_GE_PARAM_INVALID)


# ---------------------------------------------------------------- bfloat16

def _bf16_model() -> onnx.ModelProto:
    """x (bf16) -> float -> Relu -> * 3 + y (float) -> bf16 = out; also out_f32 = float."""
    three = numpy_helper.from_array(np.array(3.0, np.float32), "three")
    nodes = [helper.make_node("Cast", ["x"], ["xf"], to=T.FLOAT),
             helper.make_node("Relu", ["xf"], ["r"]),
             helper.make_node("Mul", ["r", "three"], ["m"]),
             helper.make_node("Add", ["m", "y"], ["out_f32"]),
             helper.make_node("Cast", ["out_f32"], ["out"], to=T.BFLOAT16)]
    graph = helper.make_graph(nodes, "bf16", [
        helper.make_tensor_value_info("x", T.BFLOAT16, [2, 5]),
        helper.make_tensor_value_info("y", T.FLOAT, [2, 5])],
        [helper.make_tensor_value_info("out", T.BFLOAT16, [2, 5]),
         helper.make_tensor_value_info("out_f32", T.FLOAT, [2, 5])], [three])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_bfloat16_inputs_and_outputs_run_as_raw_two_byte_buffers(context, tmp_path):
    onnx.save(_bf16_model(), tmp_path / "bf16.onnx")
    path = convert([f"--model={tmp_path / 'bf16.onnx'}", "--framework=5",
                    f"--output={tmp_path / 'bf16'}", "--soc_version=Ascend910B1"],
                   on_warning=lambda message: None)
    net = Model(path)
    try:
        assert acl.mdl.get_input_data_type(net.desc, 0) == ACL_BF16
        assert acl.mdl.get_output_data_type(net.desc, 0) == ACL_BF16
        assert acl.mdl.get_input_size_by_index(net.desc, 0) == 2 * 10
        rng = np.random.default_rng(5)
        x = rng.standard_normal((2, 5)).astype(ml_dtypes.bfloat16)
        y = rng.standard_normal((2, 5)).astype(np.float32)
        net.write(0, x.view(np.uint16))
        net.write(1, y)
        assert net.execute() == 0, acl.get_recent_err_msg()
        out = net.read(0, np.uint16, (2, 5)).view(ml_dtypes.bfloat16)
        out_f32 = net.read(1, np.float32, (2, 5))
    finally:
        net.release()
    # numpy reference: the graph's float arithmetic, then float -> bfloat16 (nearest even).
    expected = np.maximum(x.astype(np.float32), 0) * np.float32(3) + y
    np.testing.assert_array_equal(out_f32, expected)
    np.testing.assert_array_equal(out.view(np.uint16),
                                  expected.astype(ml_dtypes.bfloat16).view(np.uint16))


# ---------------------------------------------------------------- external data

def _external_model(folder, location="weights/fc.bin"):
    """The classifier saved with its weights in ``location`` (relative to ``folder``)."""
    model = builders.classifier(classes=10)          # onnx.save moves its weights out
    os.makedirs(os.path.dirname(os.path.join(folder, location)) or folder, exist_ok=True)
    onnx.save(model, os.path.join(folder, "ext.onnx"), save_as_external_data=True,
              all_tensors_to_one_file=True, location=location, size_threshold=0)
    return builders.classifier(classes=10), os.path.join(folder, "ext.onnx")


def test_external_data_in_the_model_folder_loads_and_runs(context, tmp_path, monkeypatch):
    model, path = _external_model(str(tmp_path))
    monkeypatch.chdir(tmp_path.parent)  # the weights are found from the model, not the cwd
    net = Model(path)
    try:
        image = np.random.default_rng(6).standard_normal((1, 3, 16, 16)).astype(np.float32)
        net.write(0, image)
        assert net.execute() == 0, acl.get_recent_err_msg()
        got = net.read(0, np.float32, (1, 10))
    finally:
        net.release()
    np.testing.assert_array_equal(got, builders.reference(model, {"data": image})[0])
    work, weight, ret = acl.mdl.query_size(path)
    assert ret == 0 and weight == (8 * 3 * 3 * 3 + 8 + 8 * 10) * 4


def test_external_data_from_memory_is_refused(context, tmp_path):
    _, path = _external_model(str(tmp_path))
    message = _load_refused(open(path, "rb").read())
    assert "a model loaded from memory must hold all its data" in message
    assert "weights/fc.bin" in message


@pytest.mark.parametrize("location, says", [
    ("../../../../../../etc/passwd", "outside the model's folder"),
    ("/etc/passwd", "an absolute path"),
    ("../outside.bin", "outside the model's folder"),
    ("link.bin", "outside the model's folder"),          # a symlink out of the folder
    ("missing.bin", "not a file in the model's folder"),
])
def test_external_data_outside_the_model_folder_is_refused(context, tmp_path, location, says):
    folder = tmp_path / "model"
    _, path = _external_model(str(folder), "w.bin")
    (tmp_path / "outside.bin").write_bytes(open(folder / "w.bin", "rb").read())
    os.symlink(tmp_path / "outside.bin", folder / "link.bin")
    proto = onnx.load(path, load_external_data=False)
    for tensor in proto.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save(proto, path)
    message = _load_refused(path)
    assert says in message and f"[{location}]" in message
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_desc_from_file(desc, path) == ACL_ERROR_GE_PARAM_INVALID
    assert acl.mdl.destroy_desc(desc) == 0
