"""atc's precision flags: checked with ATC's codes and messages, recorded in the .om."""

from __future__ import annotations

import json

import pytest

from openacl.atc import AtcError, parse
from openacl.atc.cli import FAILURE, SUCCESS, main as atc_main
from openacl.atc.options import usage
from openacl.model.om import read_model_file
from openacl.model.record import ModelRecord, PrecisionRecord, RecordError
from openacl.precision.modes import MODES

from tests.precision import build, mlp


@pytest.fixture
def source(tmp_path):
    return mlp(tmp_path / "mlp.onnx")


def _record(path) -> PrecisionRecord:
    return read_model_file(path).record.precision


def _error(tmp_path, source, *flags) -> AtcError:
    with pytest.raises(AtcError) as caught:
        build(tmp_path, source, *flags)
    assert not (tmp_path / "model.om").exists()
    return caught.value


def test_without_a_flag_atc_records_its_default_force_fp16(tmp_path, source):
    record = _record(build(tmp_path, source))
    assert (record.option, record.mode, record.given) == ("precision_mode", "force_fp16", False)
    assert record.keep_dtype == [] and record.modify_mixlist is None


@pytest.mark.parametrize("option, value", [(option, value) for option, table in MODES.items()
                                           for value in table])
def test_every_mode_is_recorded_as_given(tmp_path, source, option, value):
    record = _record(build(tmp_path, source, f"--{option}={value}"))
    assert (record.option, record.mode, record.given) == (option, value, True)


@pytest.mark.parametrize("option, value, valid", [
    ("precision_mode", "fp16", "force_fp16"),
    ("precision_mode", "FORCE_FP16", "must_keep_origin_dtype"),
    ("precision_mode_v2", "force_fp16", "mixed_float16"),
])
def test_an_unknown_value_is_e10001_listing_the_valid_ones(tmp_path, source, option, value,
                                                           valid):
    error = _error(tmp_path, source, f"--{option}={value}")
    assert error.code == "E10001"
    assert f"Value [{value}] for parameter [--{option}] is invalid" in error.message
    assert "Valid values are" in error.message and valid in error.message


def test_both_options_are_e10056(tmp_path, source):
    error = _error(tmp_path, source, "--precision_mode=force_fp16",
                   "--precision_mode_v2=fp16")
    assert error.code == "E10056" and "--precision_mode_v2" in error.message


@pytest.mark.parametrize("value", ["mixed_hif8", "cube_hif8"])
def test_hifloat8_modes_are_refused_as_not_supported(tmp_path, source, value):
    error = _error(tmp_path, source, f"--precision_mode_v2={value}")
    assert error.code == "E10055" and "HiFloat8" in error.message


def test_keep_dtype_file_missing_is_e10001_with_atcs_reason(tmp_path, source):
    error = _error(tmp_path, source, f"--keep_dtype={tmp_path / 'none.cfg'}")
    assert error.code == "E10001"
    assert "File defined by keep_dtype is not found." in error.message


def test_keep_dtype_entries_are_recorded_and_unknown_ones_warned(tmp_path, source):
    keep = tmp_path / "keep.cfg"
    keep.write_text("fc2\n\n# a comment\nOpType::SoftmaxV2\nno_such_node\nOpType::Conv2D\n")
    warnings = []
    record = _record(build(tmp_path, source, f"--keep_dtype={keep}",
                           on_warning=warnings.append))
    assert record.keep_dtype == ["fc2", "OpType::SoftmaxV2", "no_such_node", "OpType::Conv2D"]
    assert len(warnings) == 2
    assert "node [no_such_node] is not in the model" in warnings[0]
    assert "operator type [Conv2D] is not in the model" in warnings[1]


def test_keep_dtype_with_an_origin_mode_has_no_effect_and_says_so(tmp_path, source):
    keep = tmp_path / "keep.cfg"
    keep.write_text("fc2\n")
    warnings = []
    build(tmp_path, source, f"--keep_dtype={keep}", "--precision_mode_v2=origin",
          on_warning=warnings.append)
    assert warnings and "has no effect with --precision_mode_v2=origin" in warnings[0]


@pytest.mark.parametrize("mode", ["", "--precision_mode=force_fp16",
                                  "--precision_mode_v2=fp16"])
def test_modify_mixlist_needs_a_mixed_mode(tmp_path, source, mode):
    mixlist = tmp_path / "mix.json"
    mixlist.write_text('{"black-list": {"to-add": ["Relu"]}}')
    error = _error(tmp_path, source, *filter(None, [mode]), f"--modify_mixlist={mixlist}")
    assert error.code == "E10001" and "[--modify_mixlist]" in error.message
    assert "allow_mix_precision" in error.message and "mixed_float16" in error.message


@pytest.mark.parametrize("text, words", [
    ("not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"grey-list": {}}', "unknown key"),
    ('{"black-list": {"add": ["Relu"]}}', "unknown key"),
    ('{"black-list": {"to-add": "Relu"}}', "list of operator types"),
    ('{"black-list": {"to-add": ["Relu"]}, "white-list": {"to-add": ["Relu"]}}',
     "both the black list and the white list"),
])
def test_a_malformed_mixlist_is_e10001(tmp_path, source, text, words):
    mixlist = tmp_path / "mix.json"
    mixlist.write_text(text)
    error = _error(tmp_path, source, "--precision_mode_v2=mixed_float16",
                   f"--modify_mixlist={mixlist}")
    assert error.code == "E10001" and words in error.message


def test_mixlist_is_recorded_normalised_and_unknown_types_warned(tmp_path, source):
    mixlist = tmp_path / "mix.json"
    mixlist.write_text(json.dumps({"black-list": {"to-add": ["Relu", "LayerNorm"]},
                                   "white-list": {"to-remove": ["MatMulV2"]}}))
    warnings = []
    record = _record(build(tmp_path, source, "--precision_mode=allow_mix_precision",
                           f"--modify_mixlist={mixlist}", on_warning=warnings.append))
    assert record.modify_mixlist == {
        "black-list": {"to-add": ["Relu", "LayerNorm"], "to-remove": []},
        "white-list": {"to-add": [], "to-remove": ["MatMulV2"]}}
    assert warnings == ["--modify_mixlist: black-list to-add [LayerNorm]: no operator of "
                        "that type in the model"]


def test_the_atc_console_prints_the_code_and_fails(tmp_path, source, capsys):
    status = atc_main([f"--model={source}", "--framework=5", f"--output={tmp_path / 'o'}",
                       "--soc_version=Ascend310P3", "--precision_mode=fast"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 1 and lines[-1] == FAILURE and lines[-2].startswith("E10001: ")
    status = atc_main([f"--model={source}", "--framework=5", f"--output={tmp_path / 'o'}",
                       "--soc_version=Ascend310P3", "--precision_mode_v2", "mixed_float16"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0 and lines[-1] == SUCCESS
    assert not [line for line in lines if line.startswith("[WARNING]")]


def test_the_flags_are_parsed_not_ignored_and_listed_in_help():
    options = parse(["--precision_mode=force_fp32", "-keep_dtype", "k.cfg",
                     "--modify_mixlist=m.json", "--precision_mode_v2", "origin"])
    assert (options.precision_mode, options.precision_mode_v2) == ("force_fp32", "origin")
    assert (options.keep_dtype, options.modify_mixlist) == ("k.cfg", "m.json")
    assert options.ignored == {}
    text = usage()
    for flag in ("--precision_mode ", "--precision_mode_v2", "--keep_dtype", "--modify_mixlist"):
        assert flag in text.split("accepted for compatibility")[0]


def test_a_record_without_precision_is_none_and_a_bad_one_is_refused():
    assert ModelRecord.from_json({}).precision is None
    record = ModelRecord.from_json({"precision": {"option": "precision_mode_v2",
                                                  "mode": "mixed_bfloat16", "given": True}})
    assert record.precision == PrecisionRecord("precision_mode_v2", "mixed_bfloat16", True)
    assert ModelRecord.from_json(record.to_json()).precision == record.precision
    for bad, words in [({"option": "precision", "mode": "fp16"}, "precision.option"),
                       ({"option": "precision_mode", "mode": "fp16"}, "precision.mode"),
                       ({"mode": "force_fp16", "keep_dtype": "fc1"}, "precision.keep_dtype"),
                       ({"mode": "allow_mix_precision", "modify_mixlist": {"x": 1}},
                        "precision.modify_mixlist")]:
        with pytest.raises(RecordError, match=words):
            ModelRecord.from_json({"precision": bad})
