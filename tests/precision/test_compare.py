"""``openacl compare``: finds the node where accuracy is lost, reports it for people and
machines, and draws it."""

from __future__ import annotations

import json
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from openacl.precision.compare import CompareError, compare, tensor_error
from openacl.precision.compare_cli import main
from openacl.tools.cli import main as openacl_main

from tests.precision import SATURATING_SOC, build, mlp


def planted(path, kind: str = "overflow") -> str:
    """x[4,16] -> fc1 -> relu1 -> <two planted nodes> -> fc2 -> softmax.

    ``overflow``: scale_up multiplies by 1e4 (float16 overflows), scale_down divides back.
    ``cancel``: shift adds 4096, unshift subtracts it (float16 keeps no fraction at 4096).
    """
    rng = np.random.default_rng(3)
    constant = 1e4 if kind == "overflow" else 4096.0
    first, second = (("Mul", "Div"), ("scale_up", "scale_down")) if kind == "overflow" else \
        (("Add", "Sub"), ("shift", "unshift"))
    nodes = [helper.make_node("MatMul", ["x", "W1"], ["h1"], name="fc1"),
             helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
             helper.make_node(first[0], ["r1", "c"], ["t1"], name=second[0]),
             helper.make_node(first[1], ["t1", "c"], ["t2"], name=second[1]),
             helper.make_node("MatMul", ["t2", "W2"], ["logits"], name="fc2"),
             helper.make_node("Softmax", ["logits"], ["prob"], name="softmax", axis=-1)]
    initializers = [numpy_helper.from_array(rng.standard_normal((16, 32)).astype(np.float32),
                                            "W1"),
                    numpy_helper.from_array(rng.standard_normal((32, 8)).astype(np.float32),
                                            "W2"),
                    numpy_helper.from_array(np.float32(constant), "c")]
    graph = helper.make_graph(nodes, "planted",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16])],
                              [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [4, 8])],
                              initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return str(path)


def test_an_overflow_is_found_at_the_node_that_overflows(tmp_path):
    path = build(tmp_path, planted(tmp_path / "p.onnx"))
    report = compare(path)
    assert report.mode == "precision_mode=force_fp16" and report.setting == "npu"
    assert [n.node for n in report.nodes] == ["fc1", "relu1", "scale_up", "scale_down", "fc2",
                                              "softmax"]
    assert report.first.node == "scale_up" and report.first.op_type == "Mul"
    assert not any(node.past for node in report.nodes[:2])
    assert report.nodes[0].worst.cosine > 0.9999 and report.nodes[0].worst.rel_err < 1e-3
    assert report.first.worst.nonfinite > 0 and report.first.worst.max_abs is None
    (output,) = report.outputs
    assert output.name == "prob" and output.nonfinite > 0


def test_a_cancellation_is_found_where_it_shows(tmp_path):
    source = planted(tmp_path / "c.onnx", "cancel")
    report = compare(source, flags={"precision_mode": "force_fp16"})
    assert report.mode_note == "from the atc flags given"
    assert report.first.node == "unshift"
    assert report.nodes[2].node == "shift" and not report.nodes[2].past
    assert report.first.worst.rel_err > 0.01 and report.first.worst.nonfinite == 0


def test_keep_dtype_on_the_culprit_removes_the_divergence(tmp_path):
    source = planted(tmp_path / "p.onnx")
    keep = tmp_path / "keep.cfg"
    keep.write_text("scale_up\nscale_down\n")
    report = compare(source, flags={"precision_mode": "force_fp16", "keep_dtype": str(keep)})
    assert report.first is None
    assert report.outputs[0].nonfinite == 0 and report.outputs[0].cosine > 0.999


def test_a_saturating_soc_reports_large_errors_instead_of_inf(tmp_path):
    source = planted(tmp_path / "p.onnx")
    report = compare(source, flags={"soc_version": SATURATING_SOC})
    assert report.first.node == "scale_up" and report.first.worst.nonfinite == 0
    assert report.first.worst.rel_err > 0.1


def test_an_exact_mode_reports_no_error(tmp_path):
    path = build(tmp_path, planted(tmp_path / "p.onnx"), "--precision_mode=must_keep_origin_dtype")
    report = compare(path)
    assert report.setting == "exact" and report.first is None
    assert all(node.worst.max_abs == 0 for node in report.nodes)


def test_the_fast_setting_is_compared_too(tmp_path):
    source = mlp(tmp_path / "mlp.onnx")
    report = compare(source, setting="fast")
    if report.setting == "exact":                # no half precision on this machine
        assert "runs exact here" in report.note
        return
    assert (report.engine, report.precision) in (("openvino", "bf16"), ("openvino", "f16"))
    assert report.outputs and all(o.cosine > 0.999 for o in report.outputs)


def test_cli_json_for_machines(tmp_path, capsys):
    path = build(tmp_path, planted(tmp_path / "p.onnx"))
    assert main([path, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["first_past_tolerance"] == {"index": 3, "node": "scale_up", "op_type": "Mul"}
    assert data["tolerance"] == {"rtol": 0.01, "min_cosine": 0.999}
    assert [n["node"] for n in data["nodes"]][:3] == ["fc1", "relu1", "scale_up"]
    assert data["nodes"][2]["outputs"][0]["max_abs"] is None
    assert data["outputs"][0]["name"] == "prob"
    assert data["inputs"] == [{"name": "x", "dtype": "float32", "shape": [4, 16],
                               "source": "random, seed 0"}]


def test_cli_text_and_plot_through_the_openacl_command(tmp_path, capsys):
    path = build(tmp_path, planted(tmp_path / "p.onnx"))
    picture = tmp_path / "errors.png"
    assert openacl_main(["compare", path, "--plot", str(picture)]) == 0
    text = capsys.readouterr().out
    assert "first node past tolerance" in text and "#3 scale_up (Mul)" in text
    assert "<-- first past tolerance" in text and "final outputs:" in text
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_without_matplotlib_says_how_to_get_the_plot(tmp_path, capsys, monkeypatch):
    path = build(tmp_path, planted(tmp_path / "p.onnx"))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main([path, "--plot", str(tmp_path / "x.png")]) == 1
    assert "pip install matplotlib" in capsys.readouterr().err


def test_inputs_from_npy_and_bin_files(tmp_path, capsys):
    path = build(tmp_path, planted(tmp_path / "c.onnx", "cancel"))
    x = np.random.default_rng(5).standard_normal((4, 16)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    x.tofile(tmp_path / "x.bin")
    by_npy = compare(path, [str(tmp_path / "x.npy")])
    by_bin = compare(path, [str(tmp_path / "x.bin")])
    by_array = compare(path, {"x": x})
    assert by_npy.to_json()["nodes"] == by_bin.to_json()["nodes"] == \
        by_array.to_json()["nodes"]
    assert by_bin.inputs[0]["source"].endswith("x.bin")
    x[:2].tofile(tmp_path / "short.bin")
    assert main([path, "--input", str(tmp_path / "short.bin")]) == 1
    assert "needs 64 per sample" in capsys.readouterr().err


@pytest.mark.parametrize("argv, words", [
    (["missing.om"], "does not exist"),
    (["{model}", "--precision_mode=fast"], "E10001"),
    (["{model}", "--input", "a.npy,b.npy"], "2 input(s) given; the model has 1"),
    (["{model}", "--input_shape", "y:1,2"], "names ['y']"),
])
def test_cli_errors_are_one_line_and_exit_1(tmp_path, capsys, argv, words):
    model = planted(tmp_path / "p.onnx")
    argv = [arg.format(model=model) for arg in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("openacl compare: error: ") and words in err
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["m.om", "--setting", "bogus"])
    assert caught.value.code == 2
    with pytest.raises(CompareError):
        compare("m.om", setting="exact")


def test_tensor_error_metrics():
    reference = np.array([1.0, -2.0, 3.0], np.float32)
    error = tensor_error("t", reference * 1.01, reference)
    assert error.max_abs == pytest.approx(0.03, rel=1e-3)
    assert error.rel_err == pytest.approx(0.01, rel=1e-3)
    assert error.cosine == pytest.approx(1.0)
    flipped = tensor_error("t", -reference, reference)
    assert flipped.cosine == pytest.approx(-1.0) and flipped.past(0.01, 0.999)
    overflow = tensor_error("t", np.array([1.0, np.inf, 3.0], np.float32), reference)
    assert overflow.nonfinite == 1 and overflow.past(1.0, -1.0)
    both_inf = tensor_error("t", np.array([np.inf, 1.0]), np.array([np.inf, 1.0]))
    assert both_inf.nonfinite == 0 and both_inf.max_abs == 0
    ints = tensor_error("t", np.array([1, 2, 3]), np.array([1, 2, 4]))
    assert ints.mismatches == 1 and ints.past(1.0, -1.0)
