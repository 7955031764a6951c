"""How a loaded model runs: the engine, its precision and an optional graph rewrite.

A model's *recorded mode* (``atc --precision_mode`` / ``--precision_mode_v2``, see
``openacl.precision.modes``) says how an NPU computes it. The user's *setting* says what the
CPU should reproduce of that:

=========  ===============================================================================
setting    what runs
=========  ===============================================================================
``exact``  the model's own types (float32) on ONNX Runtime: the reference
``fast``   half precision where this CPU has it (OpenVINO bfloat16 or float16): fastest
``npu``    the NPU's numerics: the graph rewritten so that every tensor the mode puts in
           half precision is rounded to it (``openacl.precision.npu_numerics``), run on
           ONNX Runtime in float32, so accuracy here predicts accuracy on the NPU
``auto``   the default: the fastest setting faithful to the recorded mode (``fast`` for
           the half-precision modes, ``exact`` for the others)
=========  ===============================================================================

Modes that keep float32 (``must_keep_origin_dtype``, ``origin``) are exact in every setting;
``force_fp32`` / ``cube_fp16in_fp32out`` are exact unless ``npu`` is asked for (the NPU's
cube units still read float16 inputs there). Models without a recorded mode (plain ONNX,
``.om`` files from before atc recorded it) are exact in every setting.

**The selection rule.** The setting and the engine are each taken from the first of:

1. the model's entry in the ``acl.init`` JSON: ``{"openacl": {"models": {"<file name or
   path>": {"precision": ..., "engine": ...}}}}``;
2. the environment: ``OPENACL_PRECISION`` (auto, exact, fast, npu), ``OPENACL_ENGINE``
   (onnxruntime, openvino);
3. the ``acl.init`` JSON: ``{"openacl": {"precision": ..., "engine": ...}}``;
4. the default: ``auto``, and the engine the chosen setting runs on (``fast``: OpenVINO,
   otherwise ONNX Runtime).

An engine named this way runs the setting at the best precision it has (``fast`` on ONNX
Runtime is exact: it has no half precision); ``npu`` always runs on ONNX Runtime, where the
rewrite's rounding is verified. An engine that cannot run the model or the precision
(``EngineUnsupported``: OpenVINO missing, an operator it lacks, no bfloat16 here; or any
other load failure) falls back to exact ONNX Runtime, and the fallback is logged on the
``openacl.precision`` logger.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from openacl.precision.modes import MODES, Mode

__all__ = ["Choice", "SettingError", "SETTINGS", "ENGINES", "choose", "requested",
           "open_session", "PRECISION_ENV", "ENGINE_ENV", "check_setting", "check_engine"]

log = logging.getLogger("openacl.precision")

SETTINGS = ("auto", "exact", "fast", "npu")
ENGINES = ("onnxruntime", "openvino")
PRECISION_ENV = "OPENACL_PRECISION"
ENGINE_ENV = "OPENACL_ENGINE"
_FAST_ENGINE = "openvino"
_EXACT_ENGINE = "onnxruntime"


class SettingError(ValueError):
    """A precision setting or engine name that is not one openacl knows (names where)."""


@dataclass(frozen=True)
class Choice:
    """What the policy picked for one model, and why (for logs and ``openacl compare``)."""

    setting: str            # "exact" | "fast" | "npu": what actually runs
    engine: str             # engine name
    precision: str          # "f32" | "bf16" | "f16": the engine's compute precision
    rewrite: bool           # the npu rewrite is applied
    mode: Mode | None       # the recorded mode (None: the model has none)
    asked: str              # the setting asked for ("auto", ...)
    source: str             # where it was asked: "model entry", env var, "acl.init", "default"
    reason: str             # one line

    def describe(self) -> str:
        mode = self.mode.label if self.mode else "no recorded precision mode"
        return (f"{mode}; {self.asked} ({self.source}) -> {self.setting}: {self.engine} "
                f"{self.precision}{' with the npu rewrite' if self.rewrite else ''}"
                f" ({self.reason})")


def check_setting(value, where: str) -> str:
    """``value`` as a setting name, or ValueError naming ``where`` it came from."""
    text = str(value).strip().lower() if isinstance(value, str) else value
    if text not in SETTINGS:
        raise SettingError(f"{where} is {value!r}; one of {', '.join(SETTINGS)} was expected")
    return text


def check_engine(value, where: str) -> str:
    """``value`` as an engine name, or ValueError naming ``where`` it came from."""
    from openacl.engines.base import known_engines

    text = value.strip().lower() if isinstance(value, str) else value
    if text not in known_engines():
        raise SettingError(f"{where} is {value!r}; one of {', '.join(known_engines())} was "
                           f"expected")
    return text


def requested(origin: str, config=None) -> tuple[tuple[str, str], tuple[str | None, str]]:
    """((setting, source), (engine or None, source)) for the model from ``origin``, by the
    selection rule. ``config`` is the ``acl.init`` configuration (``InitConfig``)."""
    models = getattr(config, "precision_models", None) or {}
    entry = _model_entry(models, origin)
    setting = engine = None
    if entry.get("precision"):
        setting = (entry["precision"], "model entry in the acl.init JSON")
    if entry.get("engine"):
        engine = (entry["engine"], "model entry in the acl.init JSON")
    if setting is None and os.environ.get(PRECISION_ENV, "").strip():
        setting = (check_setting(os.environ[PRECISION_ENV], PRECISION_ENV), PRECISION_ENV)
    if engine is None and os.environ.get(ENGINE_ENV, "").strip():
        engine = (check_engine(os.environ[ENGINE_ENV], ENGINE_ENV), ENGINE_ENV)
    if setting is None and getattr(config, "precision", None):
        setting = (config.precision, "acl.init JSON")
    if engine is None and getattr(config, "engine", None):
        engine = (config.engine, "acl.init JSON")
    return setting or ("auto", "default"), engine or (None, "default")


def choose(precision_record, setting: str = "auto", engine: str | None = None,
           source: str = "default", capabilities=None) -> Choice:
    """The engine, precision and rewrite for a model compiled with ``precision_record``
    (a ``PrecisionRecord`` or None) when ``setting`` is asked for.

    ``engine`` is an engine the user named (None: the setting's own); ``capabilities`` maps
    an engine name to its precisions (default: ask the engine, importing it).
    """
    setting = check_setting(setting, "the precision setting")
    mode = (MODES[precision_record.option][precision_record.mode]
            if precision_record is not None else None)

    def made(actual, engine_name, precision, rewrite, reason):
        return Choice(actual, engine_name, precision, rewrite, mode, setting, source, reason)

    exact_engine = engine or _EXACT_ENGINE
    if mode is None:
        return made("exact", exact_engine, "f32", False,
                    "the model records no precision mode: it runs as compiled, in float32")
    if mode.scope == "origin":
        return made("exact", exact_engine, "f32", False,
                    "the mode keeps the model's precision, on the NPU too")
    if setting == "exact":
        return made("exact", exact_engine, "f32", False, "exact float32 was asked for")
    if setting == "npu":
        note = "" if engine in (None, _EXACT_ENGINE) else f" (not {engine}: npu runs on it)"
        return made("npu", _EXACT_ENGINE, "f32", True,
                    f"half-precision rounding of the mode reproduced on ONNX Runtime{note}")
    if mode.scope == "cube_in":
        return made("exact", exact_engine, "f32", False,
                    "the mode computes in float32 (bar the cube units' float16 inputs); "
                    "ask for npu to reproduce those")
    fast_engine = engine or _FAST_ENGINE
    preferred = [mode.half, "bf16" if mode.half == "f16" else "f16"]
    try:
        available = (capabilities(fast_engine) if capabilities is not None
                     else _capabilities(fast_engine))
    except Exception as error:  # noqa: BLE001 - an engine that cannot even say: fall back
        return made("exact", _EXACT_ENGINE, "f32", False,
                    f"the {fast_engine} engine is not available ({error}); exact instead")
    for precision in preferred:
        if precision in available:
            return made("fast", fast_engine, precision, False,
                        f"the mode computes in {_NAMES[mode.half]}; this CPU computes "
                        f"{_NAMES[precision]} on {fast_engine}")
    return made("exact", exact_engine, "f32", False,
                f"the {fast_engine} engine has no half precision on this machine "
                f"({sorted(available)})")


def open_session(offline, config=None, setting: str | None = None, engine: str | None = None):
    """Load ``offline`` (an ``OfflineModel``) on the engine the policy picks; return
    ``(session, choice)``.

    ``setting`` / ``engine`` given here take the place of the selection rule's first step.
    Falls back to exact ONNX Runtime when the chosen engine (or the npu rewrite) cannot
    load the model (``EngineUnsupported``, or any other failure), logging why; a failure of
    exact ONNX Runtime itself is raised.
    """
    from openacl.engines.base import EngineUnsupported, get_engine

    (asked, source), (named, _) = requested(offline.origin, config)
    if setting is not None:
        asked, source = check_setting(setting, "the precision setting"), "caller"
    if engine is not None:
        named = check_engine(engine, "the engine")
    choice = choose(offline.record.precision, asked, named, source)
    data = offline.data
    try:
        if choice.rewrite:
            from openacl.precision.npu_numerics import npu_model

            data = npu_model(offline.proto, offline.record.precision,
                             offline.record.soc_version).SerializeToString()
        session = get_engine(choice.engine).load(data, choice.precision)
    except Exception as error:  # noqa: BLE001 - any refusal but exact's falls back to exact
        if choice.engine == _EXACT_ENGINE and not choice.rewrite:
            raise
        why = str(error) if isinstance(error, EngineUnsupported) else \
            f"{type(error).__name__}: {_first_line(error)}"
        fallback = Choice("exact", _EXACT_ENGINE, "f32", False, choice.mode, choice.asked,
                          choice.source, f"fell back: {choice.engine} {choice.precision}"
                                         f"{' (npu rewrite)' if choice.rewrite else ''} "
                                         f"cannot run it: {why}")
        log.warning("model %s: %s", offline.origin, fallback.reason)
        choice = fallback
        session = get_engine(_EXACT_ENGINE).load(offline.data, "f32")
    log.info("model %s: %s", offline.origin, choice.describe())
    return session, choice


_NAMES = {"f16": "float16", "bf16": "bfloat16", "f32": "float32"}


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _capabilities(name: str) -> set[str]:
    from openacl.engines.base import get_engine

    return set(get_engine(name).capabilities())


def _model_entry(models: dict, origin: str) -> dict:
    """The acl.init JSON entry for the model loaded from ``origin``: by the path as given,
    its absolute path, or its file name."""
    if not models or not origin:
        return {}
    for key in (origin, os.path.abspath(origin), os.path.basename(origin)):
        if key in models:
            return models[key]
    return {}
