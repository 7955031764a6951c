"""Every precision mode against an independent reference, through the pyACL stack.

Exact settings are compared with float32 ONNX Runtime on the source ONNX, bit for bit. The
npu setting is compared with numpy references that round where the mode says an NPU holds
float16 / bfloat16 (numpy's and ml_dtypes' conversions): documented tolerance one ulp of the
half type per element (the two differ only in float32 summation order inside MatMul), and
most elements equal. The fast setting (OpenVINO bfloat16) is compared with float32 within
the documented tolerance (docs/precision.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from openacl.precision.modes import MODES

from tests.precision import (SATURATING_SOC, bf16, build, f16, mlp, mlp_input, mlp_weights,
                             ort_reference, run_model, softmax, within_half_ulp)


@pytest.fixture
def source(tmp_path):
    return mlp(tmp_path / "mlp.onnx")


@pytest.fixture
def npu(monkeypatch):
    monkeypatch.setenv("OPENACL_PRECISION", "npu")


def _reference(path, x, rounded_nodes, round_outputs=True, half=f16, kept=()):
    """numpy: the MLP with ``half`` applied to the inputs (and outputs) of the listed nodes."""
    w = mlp_weights(path)
    x = x.astype(np.float64)

    def node(name, inputs, compute):
        if name in rounded_nodes and name not in kept:
            inputs = [half(v) for v in inputs]
            result = compute(*[np.asarray(v, np.float64) for v in inputs])
            return half(result) if round_outputs else np.float32(result)
        return np.float32(compute(*[np.asarray(v, np.float64) for v in inputs]))

    h = node("fc1", [x, w["W1"]], np.matmul)
    a = node("bias1", [h, w["b1"]], np.add)
    r = node("relu1", [a], lambda v: np.maximum(v, 0))
    logits = node("fc2", [r, w["W2"]], np.matmul)
    prob = node("softmax", [logits], softmax)
    return [np.asarray(logits, np.float32), np.asarray(prob, np.float32)]


ALL = ("fc1", "bias1", "relu1", "fc2", "softmax")


@pytest.mark.parametrize("flag", ["--precision_mode=must_keep_origin_dtype",
                                  "--precision_mode_v2=origin",
                                  "--precision_mode=force_fp32",
                                  "--precision_mode_v2=cube_fp16in_fp32out"])
@pytest.mark.parametrize("setting", ["auto", "fast"])
def test_exact_modes_match_onnxruntime_float32_bit_for_bit(tmp_path, source, flag, setting,
                                                           monkeypatch):
    monkeypatch.setenv("OPENACL_PRECISION", setting)
    path = build(tmp_path, source, flag)
    x = mlp_input()
    outputs, choice = run_model(path, [x])
    assert choice.setting == "exact" and choice.engine == "onnxruntime"
    for got, expected in zip(outputs, ort_reference(source, {"x": x})):
        assert np.array_equal(got, expected)


def test_the_exact_switch_forces_float32_for_a_half_mode(tmp_path, source):
    path = build(tmp_path, source)             # ATC's default: force_fp16
    x = mlp_input()
    outputs, choice = run_model(path, [x])     # the suite's OPENACL_PRECISION=exact
    assert (choice.setting, choice.precision, choice.asked) == ("exact", "f32", "exact")
    for got, expected in zip(outputs, ort_reference(source, {"x": x})):
        assert np.array_equal(got, expected)


@pytest.mark.parametrize("flags, rounded, round_outputs, half", [
    ((), ALL, True, f16),                                          # ATC's default
    (("--precision_mode=force_fp16",), ALL, True, f16),
    (("--precision_mode_v2=fp16",), ALL, True, f16),
    (("--precision_mode=allow_fp32_to_fp16",), ("fc1", "fc2"), True, f16),
    (("--precision_mode=allow_fp32_to_bf16",), ("fc1", "fc2"), True, bf16),
    (("--precision_mode=force_fp32",), ("fc1", "fc2"), False, f16),
    (("--precision_mode_v2=cube_fp16in_fp32out",), ("fc1", "fc2"), False, f16),
    # mixed: MatMul white, Add/Relu gray after a half MatMul, Softmax black
    (("--precision_mode=allow_mix_precision",), ("fc1", "bias1", "relu1", "fc2"), True, f16),
    (("--precision_mode=allow_mix_precision_fp16",), ("fc1", "bias1", "relu1", "fc2"), True,
     f16),
    (("--precision_mode_v2=mixed_float16",), ("fc1", "bias1", "relu1", "fc2"), True, f16),
    (("--precision_mode=allow_mix_precision_bf16",), ("fc1", "bias1", "relu1", "fc2"), True,
     bf16),
    (("--precision_mode_v2=mixed_bfloat16",), ("fc1", "bias1", "relu1", "fc2"), True, bf16),
])
def test_npu_setting_rounds_where_the_mode_says(tmp_path, source, npu, flags, rounded,
                                                round_outputs, half):
    path = build(tmp_path, source, *flags)
    x = mlp_input()
    outputs, choice = run_model(path, [x])
    assert (choice.setting, choice.engine, choice.precision, choice.rewrite) == \
        ("npu", "onnxruntime", "f32", True)
    expected = _reference(source, x, rounded, round_outputs, half)
    name = "f16" if half is f16 else "bf16"
    written_half = ("fc2" in rounded and round_outputs, "softmax" in rounded)
    for got, want, is_half in zip(outputs, expected, written_half):
        if is_half:
            assert within_half_ulp(got, want, name) > 0.9
        else:                       # float32 results of rounded operands
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    exact = ort_reference(source, {"x": x})
    assert not np.array_equal(outputs[0], exact[0])      # the rounding did happen
    # where the mode writes half precision, the output holds half-precision values
    for got, is_half in zip(outputs, written_half):
        assert np.array_equal(got, half(got)) == is_half


def test_every_emulated_mode_is_covered_above():
    covered = {"force_fp16", "fp16", "allow_fp32_to_fp16", "allow_fp32_to_bf16", "force_fp32",
               "cube_fp16in_fp32out", "allow_mix_precision", "allow_mix_precision_fp16",
               "mixed_float16", "allow_mix_precision_bf16", "mixed_bfloat16",
               "must_keep_origin_dtype", "origin"}
    assert {value for table in MODES.values() for value in table} == covered


def test_keep_dtype_keeps_a_node_and_an_operator_type_in_float32(tmp_path, source, npu):
    keep = tmp_path / "keep.cfg"
    keep.write_text("# kept in float32\nfc2\nOpType::SoftmaxV2\n")
    path = build(tmp_path, source, f"--keep_dtype={keep}")
    x = mlp_input()
    outputs, _ = run_model(path, [x])
    expected = _reference(source, x, ALL, kept=("fc2", "softmax"))
    np.testing.assert_allclose(outputs[0], expected[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs[1], expected[1], rtol=1e-5, atol=1e-7)
    assert not np.array_equal(outputs[0], f16(outputs[0]))


def test_modify_mixlist_moves_operators_between_the_lists(tmp_path, source, npu):
    mixlist = tmp_path / "mix.json"
    mixlist.write_text('{"white-list": {"to-remove": ["MatMulV2"]}, '
                       '"black-list": {"to-remove": ["SoftmaxV2"]}}')
    path = build(tmp_path, source, "--precision_mode=allow_mix_precision",
                 f"--modify_mixlist={mixlist}")
    x = mlp_input()
    outputs, _ = run_model(path, [x])
    # MatMul is gray now: fc1 reads the graph input, so nothing becomes half precision
    for got, want in zip(outputs, ort_reference(source, {"x": x})):
        np.testing.assert_array_equal(got, want)

    mixlist.write_text('{"black-list": {"to-add": ["Relu"], "to-remove": ["SoftmaxV2"]}}')
    path = build(tmp_path, source, "--precision_mode=allow_mix_precision",
                 f"--modify_mixlist={mixlist}", output="second")
    outputs, _ = run_model(path, [x])
    # fc1, bias1 (gray after fc1) half; relu1 black; fc2 white; softmax gray after fc2
    expected = _reference(source, x, ("fc1", "bias1", "fc2", "softmax"))
    for got, want in zip(outputs, expected):
        assert within_half_ulp(got, want) > 0.9


@pytest.mark.parametrize("soc, overflow", [("Ascend910B1", np.inf),
                                           (SATURATING_SOC, 65504.0)])
def test_float16_overflow_gives_inf_or_saturates_by_soc(tmp_path, npu, soc, overflow):
    source = mlp(tmp_path / "big.onnx", scale=1e4)
    path = build(tmp_path, source, soc=soc)
    x = mlp_input()
    outputs, _ = run_model(path, [x])
    w = mlp_weights(source)
    h = x.astype(np.float64) @ f16(w["W1"]).astype(np.float64)
    assert np.abs(h).max() > 65504          # the planted overflow
    logits = outputs[0]
    if overflow == np.inf:
        assert not np.all(np.isfinite(logits))
    else:
        assert np.all(np.isfinite(logits)) and np.abs(logits).max() <= 65504


def test_auto_runs_a_half_mode_fast_on_this_machine(tmp_path, source, monkeypatch):
    from openacl.engines.base import get_engine

    monkeypatch.setenv("OPENACL_PRECISION", "auto")
    path = build(tmp_path, source)                     # ATC's default mode
    x = mlp_input()
    outputs, choice = run_model(path, [x])
    capabilities = get_engine("openvino").capabilities()
    if "bf16" not in capabilities and "f16" not in capabilities:
        assert choice.setting == "exact"                # documented fallback
        return
    assert (choice.setting, choice.engine) == ("fast", "openvino")
    assert choice.precision in capabilities - {"f32"}
    expected = ort_reference(source, {"x": x})
    # documented tolerance of the fast setting: relative error <= 2e-2 per output
    for got, want in zip(outputs, expected):
        relative = np.linalg.norm(got - want) / np.linalg.norm(want)
        assert 0 < relative <= 2e-2, relative
