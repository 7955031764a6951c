"""The run-time policy: which engine, precision and rewrite a model gets, the selection rule
(model entry > environment > acl.init JSON > default) and the fallback to exact ONNX Runtime.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

import acl
from openacl.engines import base as engines
from openacl.engines.base import Engine, EngineUnsupported
from openacl.model.record import PrecisionRecord
from openacl.precision.modes import MODES
from openacl.precision.policy import SettingError, choose, requested
from openacl.runtime.init_config import InitConfig

from tests.precision import build, mlp, mlp_input, ort_reference, run_model



def _caps(available):
    return lambda engine: set(available) if engine == "openvino" else {"f32"}


def _record(option, value):
    return PrecisionRecord(option, value, True)


@pytest.fixture
def source(tmp_path):
    return mlp(tmp_path / "mlp.onnx")


@pytest.mark.parametrize("option, value", [(o, v) for o, table in MODES.items() for v in table])
@pytest.mark.parametrize("setting", ["auto", "exact", "fast", "npu"])
def test_the_table_of_modes_and_settings(option, value, setting):
    mode = MODES[option][value]
    choice = choose(_record(option, value), setting, capabilities=_caps({"f32", "bf16"}))
    if mode.scope == "origin" or setting == "exact":
        expected = ("exact", "onnxruntime", "f32", False)
    elif setting == "npu":
        expected = ("npu", "onnxruntime", "f32", True)
    elif mode.scope == "cube_in":                # force_fp32 / cube_fp16in_fp32out
        expected = ("exact", "onnxruntime", "f32", False)
    else:                                        # auto and fast: the CPU's half precision
        expected = ("fast", "openvino", "bf16", False)
    assert (choice.setting, choice.engine, choice.precision, choice.rewrite) == expected
    assert choice.mode is mode and choice.asked == setting


def test_fast_prefers_the_modes_own_half_type_when_the_cpu_has_both():
    both = _caps({"f32", "bf16", "f16"})
    assert choose(_record("precision_mode", "force_fp16"), "fast", capabilities=both) \
        .precision == "f16"
    assert choose(_record("precision_mode_v2", "mixed_bfloat16"), "fast", capabilities=both) \
        .precision == "bf16"
    only_f16 = _caps({"f32", "f16"})
    assert choose(_record("precision_mode_v2", "mixed_bfloat16"), "fast",
                  capabilities=only_f16).precision == "f16"


def test_no_half_precision_here_means_exact():
    choice = choose(_record("precision_mode", "force_fp16"), "auto", capabilities=_caps({"f32"}))
    assert (choice.setting, choice.engine, choice.precision) == ("exact", "onnxruntime", "f32")
    assert "no half precision" in choice.reason


def test_a_model_without_a_recorded_mode_is_exact_in_every_setting():
    for setting in ("auto", "fast", "npu", "exact"):
        choice = choose(None, setting, capabilities=_caps({"f32", "bf16"}))
        assert (choice.setting, choice.engine, choice.precision, choice.rewrite) == \
            ("exact", "onnxruntime", "f32", False)
    assert choose(None, "fast", engine="openvino").engine == "openvino"   # named: honoured


def test_a_named_engine_runs_the_setting_at_its_best_precision():
    fp16 = _record("precision_mode", "force_fp16")
    caps = _caps({"f32", "bf16"})
    assert (choose(fp16, "auto", "onnxruntime", capabilities=caps).setting,
            choose(fp16, "auto", "onnxruntime", capabilities=caps).engine) == \
        ("exact", "onnxruntime")
    exact = choose(fp16, "exact", "openvino", capabilities=caps)
    assert (exact.engine, exact.precision) == ("openvino", "f32")
    npu = choose(fp16, "npu", "openvino", capabilities=caps)
    assert npu.engine == "onnxruntime" and "not openvino" in npu.reason


def test_the_selection_rule_model_entry_then_environment_then_json(monkeypatch):
    config = InitConfig(precision="fast", engine="onnxruntime",
                        precision_models={"m.om": {"precision": "npu", "engine": None}})
    monkeypatch.setenv("OPENACL_PRECISION", "exact")
    monkeypatch.setenv("OPENACL_ENGINE", "openvino")
    (setting, where), (engine, engine_where) = requested("/models/m.om", config)
    assert (setting, engine) == ("npu", "openvino")
    assert "model entry" in where and engine_where == "OPENACL_ENGINE"
    (setting, where), (engine, _) = requested("/models/other.om", config)
    assert (setting, where, engine) == ("exact", "OPENACL_PRECISION", "openvino")
    monkeypatch.delenv("OPENACL_PRECISION")
    monkeypatch.delenv("OPENACL_ENGINE")
    (setting, where), (engine, _) = requested("other.om", config)
    assert (setting, where, engine) == ("fast", "acl.init JSON", "onnxruntime")
    assert requested("other.om", InitConfig()) == (("auto", "default"), (None, "default"))


def test_bad_environment_values_fail_the_load_with_100000(tmp_path, source, monkeypatch,
                                                         context):
    path = build(tmp_path, source)
    for name, value in (("OPENACL_PRECISION", "fastest"), ("OPENACL_ENGINE", "tensorrt")):
        monkeypatch.setenv(name, value)
        with pytest.raises(SettingError, match=name):
            requested(path)
        model_id, ret = acl.mdl.load_from_file(path)
        assert ret == 100000 and name in acl.get_recent_err_msg()
        monkeypatch.setenv("OPENACL_PRECISION", "exact")
        monkeypatch.delenv("OPENACL_ENGINE", raising=False)


@pytest.mark.parametrize("section, words", [
    ({"precision": "fastest"}, '"openacl.precision"'),
    ({"engine": "cuda"}, '"openacl.engine"'),
    ({"models": ["m.om"]}, '"openacl.models"'),
    ({"models": {"m.om": {"precision": "npu", "speed": 1}}}, '"openacl.models"["m.om"]'),
    ({"models": {"m.om": {"precision": "half"}}}, '"openacl.models"["m.om"].precision'),
])
def test_the_acl_init_json_is_checked_at_init(tmp_path, section, words):
    config = tmp_path / "acl.json"
    config.write_text(json.dumps({"openacl": section}))
    assert acl.init(str(config)) == 100000
    assert words in acl.get_recent_err_msg()


def test_the_acl_init_json_sets_the_precision_per_model(tmp_path, source, monkeypatch):
    monkeypatch.delenv("OPENACL_PRECISION")
    path = build(tmp_path, source)
    config = tmp_path / "acl.json"
    config.write_text(json.dumps({"openacl": {"precision": "exact",
                                              "models": {"model.om": {"precision": "npu"}}}}))
    _, choice = run_model(path, [mlp_input()], acl_json=str(config))
    assert (choice.setting, choice.source) == ("npu", "model entry in the acl.init JSON")
    config.write_text(json.dumps({"openacl": {"precision": "exact"}}))
    _, choice = run_model(path, [mlp_input()], acl_json=str(config))
    assert (choice.setting, choice.source) == ("exact", "acl.init JSON")


@pytest.mark.parametrize("setting", ["auto", "fast", "npu"])
def test_plain_onnx_stays_exact_on_onnxruntime(source, monkeypatch, setting):
    monkeypatch.setenv("OPENACL_PRECISION", setting)
    x = mlp_input()
    outputs, choice = run_model(source, [x])
    assert (choice.setting, choice.engine, choice.mode) == ("exact", "onnxruntime", None)
    for got, want in zip(outputs, ort_reference(source, {"x": x})):
        assert np.array_equal(got, want)


class _Refusing(Engine):
    name = "openvino"

    def capabilities(self):
        return {"f32", "bf16"}

    def load(self, model_bytes, precision="f32"):
        raise EngineUnsupported("operator Frobnicate is not supported")


def test_an_engine_that_cannot_run_the_model_falls_back_to_exact(tmp_path, source, monkeypatch,
                                                                 caplog):
    monkeypatch.setitem(engines._INSTANCES, "openvino", _Refusing())
    monkeypatch.setenv("OPENACL_PRECISION", "auto")
    path = build(tmp_path, source)
    x = mlp_input()
    with caplog.at_level(logging.WARNING, logger="openacl.precision"):
        outputs, choice = run_model(path, [x])
    assert (choice.setting, choice.engine, choice.precision) == ("exact", "onnxruntime", "f32")
    assert "fell back: openvino bf16 cannot run it: operator Frobnicate" in choice.reason
    assert any("Frobnicate" in record.getMessage() for record in caplog.records)
    for got, want in zip(outputs, ort_reference(source, {"x": x})):
        assert np.array_equal(got, want)


def test_a_rewrite_the_opset_cannot_express_falls_back_to_exact(tmp_path, monkeypatch, caplog):
    source = mlp(tmp_path / "old.onnx", opset=12)           # no Cast to bfloat16 before 13
    path = build(tmp_path, source, "--precision_mode_v2=mixed_bfloat16")
    monkeypatch.setenv("OPENACL_PRECISION", "npu")
    with caplog.at_level(logging.WARNING, logger="openacl.precision"):
        _, choice = run_model(path, [mlp_input()])
    assert choice.setting == "exact" and "opset 12" in choice.reason
    assert any("opset 12" in record.getMessage() for record in caplog.records)


class _Crashing(_Refusing):
    def load(self, model_bytes, precision="f32"):
        raise RuntimeError("compile failed in the plugin\nstack ...")


def test_any_other_load_failure_of_a_fast_engine_falls_back_too(tmp_path, source, monkeypatch):
    monkeypatch.setitem(engines._INSTANCES, "openvino", _Crashing())
    monkeypatch.setenv("OPENACL_PRECISION", "fast")
    path = build(tmp_path, source)
    _, choice = run_model(path, [mlp_input()])
    assert choice.setting == "exact"
    assert choice.reason.endswith("cannot run it: RuntimeError: compile failed in the plugin")


def test_an_exact_load_failure_is_the_models_and_not_hidden(tmp_path, source, monkeypatch,
                                                           context):
    monkeypatch.setitem(engines._INSTANCES, "onnxruntime", _Crashing())
    model_id, ret = acl.mdl.load_from_file(build(tmp_path, source))
    assert ret == 145000 and "compile failed in the plugin" in acl.get_recent_err_msg()
