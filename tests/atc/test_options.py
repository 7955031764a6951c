"""The command line as build scripts write it, and the syntax of the structured values."""

import pytest

from openacl.atc import AtcError, parse
from openacl.atc.values import (parse_input_shape, parse_name_list, parse_out_nodes,
                                parse_output_type, parse_profiles, parse_shape_range)


@pytest.mark.parametrize("argv", [
    ["--model=m.onnx", "--framework=5", "--output=o", "--soc_version=Ascend310P3"],
    ["-model=m.onnx", "-framework=5", "-output=o", "-soc_version=Ascend310P3"],
    ["--model", "m.onnx", "--framework", "5", "--output", "o", "--soc_version", "Ascend310P3"],
    ["-model", "m.onnx", "-framework", "5", "-output", "o", "-soc_version", "Ascend310P3"],
    ["--model=m.onnx", "-framework", "5", "--output", "o", "-soc_version=Ascend310P3"],
    ["--model='m.onnx'", '--framework="5"', "--output=o", "--soc-version=Ascend310P3"],
])
def test_spellings_of_the_same_command_line(argv):
    options = parse(argv)
    assert (options.model, options.framework, options.output, options.soc_version) == (
        "m.onnx", "5", "o", "Ascend310P3")
    assert options.argv == argv and options.mode == "0" and options.log == "null"


def test_repeated_flags_last_one_wins():
    options = parse(["--output=a", "--soc_version=X", "-output", "b", "--output=c"])
    assert options.output == "c" and options.repeated == ["output", "output"]


def test_values_may_start_with_a_dash_only_after_an_equals_sign():
    assert parse(["--input_shape=x:-1,3"]).input_shape == "x:-1,3"
    assert parse(["--input_shape", "x:-1,3"]).input_shape == "x:-1,3"
    options = parse(["--log", "--model=m"])                 # a flag is never taken as a value
    assert options.log == "null" and options.model == "m"


@pytest.mark.parametrize("argv, words", [
    (["--soc_verison=Ascend310"], "did you mean --soc_version?"),
    (["--frobnicate=1"], "unknown parameter"),
    (["m.onnx"], "not a parameter"),
])
def test_unknown_flags_and_stray_words_are_errors(argv, words):
    with pytest.raises(AtcError) as caught:
        parse(argv)
    assert caught.value.code == "E10001" and words in caught.value.message


def test_ascend_only_flags_are_kept_aside():
    options = parse(["--op_select_implmode=high_precision", "-fusion_switch_file", "f.cfg",
                     "--insert_op_conf=aipp.cfg"])
    assert options.ignored == {"op_select_implmode": "high_precision",
                               "fusion_switch_file": "f.cfg"}
    assert options.insert_op_conf == "aipp.cfg"


@pytest.mark.parametrize("argv, code", [
    (["--mode=3"], "E10055"), (["--mode=6"], "E10055"), (["--mode=x"], "E10001"),
    (["--log=loud"], "E10010"),
])
def test_mode_and_log_values(argv, code):
    with pytest.raises(AtcError) as caught:
        parse(argv)
    assert caught.value.code == code


def test_mode_log_and_help():
    options = parse(["--mode=1", "--om=a.om", "--json=a.json", "--log=INFO"])
    assert (options.mode, options.om, options.json, options.log) == ("1", "a.om", "a.json", "info")
    assert parse(["-h"]).help and parse(["--help"]).help


def test_cmdline_is_shell_quoted():
    options = parse(["--model=my model.onnx", "--input_shape=x:1,3;y:2"])
    assert options.cmdline() == "atc '--model=my model.onnx' '--input_shape=x:1,3;y:2'"


def test_input_shape_values():
    assert parse_input_shape("x:1,3,-1,-1;input:0:2,2;y:1~8,4;s:") == {
        "x": [1, 3, -1, -1], "input:0": [2, 2], "y": [(1, 8), 4], "s": []}
    for text, code in (("x1,3", "E10002"), ("x:1,b", "E10002"), ("x:1;x:2", "E10002"),
                       ("x:-3", "E10011"), ("x:3~1", "E10002"), (";", "E10002")):
        with pytest.raises(AtcError) as caught:
            parse_input_shape(text)
        assert caught.value.code == code, text


def test_other_value_syntaxes():
    assert parse_name_list(" a; b ;;a") == ["a", "b"]
    assert parse_out_nodes("/l1/Relu:0;fc:2;tensor") == [("/l1/Relu", 0), ("fc", 2),
                                                         ("tensor", None)]
    assert parse_output_type("fp16") == ("FP16", {})
    assert parse_output_type("a:b:0:FP16;c:1:UINT8") == (None, {("a:b", 0): "FP16",
                                                                ("c", 1): "UINT8"})
    assert parse_profiles("1, 2,4", "dynamic_batch_size") == [[1], [2], [4]]
    assert parse_profiles("1,2;3,4", "dynamic_dims") == [[1, 2], [3, 4]]
    assert parse_shape_range("[1~4,3],[2]", ["x", "y"]) == {"x": [[1, 4], [3, 3]], "y": [[2, 2]]}
    with pytest.raises(AtcError) as caught:
        parse_shape_range("[1],[2],[3]", ["x", "y"])
    assert caught.value.code == "E10048"
