"""The engine registry: engines found by name, imported on first use, clear refusals."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from openacl.engines import (Engine, EngineSession, EngineUnavailable, EngineUnsupported,
                             get_engine, known_engines, register_engine)
from openacl.engines import base


def _python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_engines_are_found_by_name_and_shared():
    assert known_engines() == ["onnxruntime", "openvino"]
    assert get_engine("onnxruntime") is get_engine("onnxruntime")
    assert get_engine("onnxruntime").name == "onnxruntime"


def test_the_default_engine_is_the_reference_whatever_the_environment(monkeypatch):
    # OPENACL_ENGINE is the precision policy's to read (per model); callers without a
    # choice (shape probes, tools) get onnxruntime.
    monkeypatch.setenv("OPENACL_ENGINE", "openvino")
    assert get_engine().name == "onnxruntime"


def test_an_unknown_engine_names_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown engine 'tensorrt'; known engines: "
                                         r"\['onnxruntime', 'openvino'\]") as caught:
        get_engine("tensorrt")
    assert not isinstance(caught.value, EngineUnsupported)    # a typo is not a fallback


def test_engines_are_imported_on_first_use():
    out = _python("""
        import sys
        from openacl.engines import get_engine
        print('openvino' in sys.modules, 'onnxruntime' in sys.modules)
        get_engine('onnxruntime')
        print('openvino' in sys.modules, 'onnxruntime' in sys.modules)
    """)
    assert out.split() == ["False", "False", "False", "True"]


def test_an_engine_whose_package_is_missing_is_unavailable():
    out = _python("""
        import sys
        sys.modules['openvino'] = None          # as if not installed
        from openacl.engines import EngineUnavailable, EngineUnsupported, get_engine
        try:
            get_engine('openvino')
        except EngineUnavailable as error:
            assert isinstance(error, EngineUnsupported)
            print(error)
        print(get_engine('onnxruntime').name)
    """)
    assert "engine 'openvino' is not available" in out
    assert "known engines: ['onnxruntime', 'openvino']" in out
    assert out.split()[-1] == "onnxruntime"
    assert issubclass(EngineUnavailable, EngineUnsupported)
    assert issubclass(EngineUnsupported, ValueError)


def test_register_engine_adds_an_engine():
    class NullSession(EngineSession):
        inputs = outputs = []

        def new_binding(self):
            raise NotImplementedError

        def run(self, binding):
            raise NotImplementedError

    @register_engine
    class NullEngine(Engine):
        name = "null-test"

        def load(self, model_bytes, precision="f32"):
            self._check_precision(precision)
            return NullSession()

    try:
        assert "null-test" in known_engines()
        engine = get_engine("null-test")
        assert isinstance(engine.load(b""), NullSession)
        assert engine.capabilities() == {"f32"}
        with pytest.raises(EngineUnsupported, match="cannot compute in bf16"):
            engine.load(b"", "bf16")
    finally:
        base._ENGINES.pop("null-test", None)
        base._INSTANCES.pop("null-test", None)
