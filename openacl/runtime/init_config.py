"""The JSON configuration file of ``acl.init(config_path)``, read and validated as ACL does.

No path or an empty path, an empty file and ``{}`` all mean the defaults. Top-level keys ACL
does not know are ignored, as ACL ignores them (inside the ``profiler`` section msprof
rejects them: openacl.profiling.config).

openacl's own settings sit under the key ``"openacl"`` (ACL ignores it)::

    {"openacl": {"precision": "auto" | "exact" | "fast" | "npu",
                 "engine": "onnxruntime" | "openvino",
                 "models": {"<model file name or path>": {"precision": ..., "engine": ...}}}}

(how a model's engine and precision are chosen: ``openacl.precision.policy``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from openacl.constants import ErrorCode
from openacl.errors import AclError, InvalidFile, InvalidParam, ParseFile

__all__ = ["InitConfig", "read_init_config"]

_MAX_BYTES = 10 * 1024 * 1024
_MAX_DEPTH = 10


@dataclass
class InitConfig:
    err_msg_mode: int = 0                 # 0: per thread, 1: per process
    default_device: int | None = None
    dump: object | None = None            # "dump": an openacl.dump.config.DumpConfig
    profiler: object | None = None        # "profiler": an openacl.profiling.config.ProfilerConfig
    raw: dict | None = None
    precision: str | None = None          # "openacl.precision": the precision setting
    engine: str | None = None             # "openacl.engine"
    precision_models: dict | None = None  # "openacl.models": file -> {"precision", "engine"}


def read_init_config(path: str | None) -> InitConfig:
    if not path:
        return InitConfig()
    if not os.path.isfile(path):
        raise InvalidFile(f"config file {path!r} does not exist or is not a regular file")
    size = os.path.getsize(path)
    if size > _MAX_BYTES:
        raise InvalidFile(f"config file {path!r} is {size} bytes; at most {_MAX_BYTES} allowed")
    with open(path, "rb") as file:
        text = file.read().decode("utf-8", errors="replace")
    if not text.strip():
        return InitConfig(raw={})
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseFile(f"config file {path!r} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ParseFile(f"config file {path!r} must hold a JSON object, not {type(data).__name__}")
    if _depth(data) > _MAX_DEPTH:
        raise ParseFile(f"config file {path!r} nests deeper than {_MAX_DEPTH} levels")
    precision, engine, models = _openacl(data)
    return InitConfig(
        err_msg_mode=_err_msg_mode(data),
        default_device=_default_device(data),
        dump=_dump(data),
        profiler=_profiler(data),
        raw=data,
        precision=precision,
        engine=engine,
        precision_models=models,
    )


def _err_msg_mode(data: dict) -> int:
    if "err_msg_mode" not in data:
        return 0
    value = data["err_msg_mode"]
    if value not in ("0", "1"):
        raise InvalidParam(f'"err_msg_mode" must be the string "0" (per thread) or "1" '
                           f"(per process), not {json.dumps(value)}")
    return int(value)


def _default_device(data: dict) -> int | None:
    section = data.get("defaultDevice")
    if section is None:
        return None
    value = section.get("default_device") if isinstance(section, dict) else None
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit()) or (len(text) > 1 and text[0] == "0"):
        raise AclError('"defaultDevice" must look like {"default_device": "0"}, not '
                       f"{json.dumps(section)}", ErrorCode.ACL_ERROR_FAILURE)
    return int(text)


def _dump(data: dict):
    """The "dump" section, checked (openacl.dump.config): a DumpConfig, or None."""
    from openacl.dump.config import check_section

    return check_section(data.get("dump"))


def _profiler(data: dict):
    """The "profiler" section, checked (openacl.profiling.config): a ProfilerConfig, or None."""
    from openacl.profiling.config import check_section

    return check_section(data.get("profiler"))


def _openacl(data: dict) -> tuple[str | None, str | None, dict | None]:
    """The "openacl" section: (precision setting, engine, per-model entries), checked."""
    from openacl.precision.policy import check_engine, check_setting

    section = data.get("openacl")
    if section is None:
        return None, None, None
    if not isinstance(section, dict):
        raise InvalidParam('"openacl" must be a JSON object like {"precision": "exact"}')
    try:
        precision = (check_setting(section["precision"], '"openacl.precision"')
                     if "precision" in section else None)
        engine = (check_engine(section["engine"], '"openacl.engine"')
                  if "engine" in section else None)
        models = section.get("models")
        if models is not None:
            if not isinstance(models, dict):
                raise ValueError('"openacl.models" must map model files to '
                                 '{"precision": ..., "engine": ...}')
            checked = {}
            for name, entry in models.items():
                where = f'"openacl.models"[{json.dumps(name)}]'
                if not isinstance(entry, dict) or set(entry) - {"precision", "engine"}:
                    raise ValueError(f'{where} must be like {{"precision": "npu", '
                                     f'"engine": "onnxruntime"}}, not {json.dumps(entry)}')
                checked[name] = {
                    "precision": (check_setting(entry["precision"], f"{where}.precision")
                                  if "precision" in entry else None),
                    "engine": (check_engine(entry["engine"], f"{where}.engine")
                               if "engine" in entry else None)}
            models = checked
    except ValueError as error:
        raise InvalidParam(str(error)) from None
    return precision, engine, models


def _depth(value, level: int = 0) -> int:
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()], default=level + 1)
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value], default=level + 1)
    return level
