"""Environment switches. Each is read when it is needed, so tests may change them freely.

=========================  =================================================================
``OPENACL_STRICT``         ``1``: a call that works here but would break on an NPU fails with
                           the matching error code instead of warning (default ``0``).
``OPENACL_RUN_MODE``       ``ACL_HOST`` (default: device memory is separate from host memory)
                           or ``ACL_DEVICE`` (the program runs on the device's own CPU; host
                           memory is device memory). ``1``/``0`` are accepted too.
``OPENACL_DEVICE_COUNT``   number of emulated devices (default ``1``); read at ``acl.init``.
``OPENACL_DEVICE_MEMORY``  memory of each device, e.g. ``8G``, ``512M`` (default ``16G``);
                           read at ``acl.init``.
``OPENACL_SOC_NAME``       what ``acl.get_soc_name`` answers (default ``Ascend310P3``).
``OPENACL_WAIT_WARNING``   seconds a blocking wait (synchronize, process_report(-1), ...) may
                           last before a ``FidelityWarning`` names what it waits for (default
                           ``30``; ``0`` or ``off``: never).
``OPENACL_PRECISION``      how a model with a recorded ATC precision mode computes: ``auto``
                           (default), ``exact``, ``fast`` or ``npu``
                           (:mod:`openacl.precision.policy`, docs/precision.md).
``OPENACL_ENGINE``         the engine every model runs on (``onnxruntime``, ``openvino``),
                           overriding the precision policy's choice (docs/engines.md).
=========================  =================================================================
"""

from __future__ import annotations

import os

__all__ = ["strict", "run_mode", "device_count", "device_memory", "soc_name", "wait_warning",
           "parse_size"]

_TRUE = {"1", "true", "yes", "on"}


def strict() -> bool:
    return os.environ.get("OPENACL_STRICT", "0").strip().lower() in _TRUE


def run_mode() -> int:
    """Return 1 (ACL_HOST) or 0 (ACL_DEVICE)."""
    value = os.environ.get("OPENACL_RUN_MODE", "ACL_HOST").strip().upper()
    if value in ("ACL_DEVICE", "DEVICE", "0"):
        return 0
    if value in ("ACL_HOST", "HOST", "1", ""):
        return 1
    raise ValueError(f"OPENACL_RUN_MODE={value!r}: expected ACL_HOST or ACL_DEVICE")


def device_count() -> int:
    value = os.environ.get("OPENACL_DEVICE_COUNT", "1")
    count = int(value)
    if not 1 <= count <= 64:
        raise ValueError(f"OPENACL_DEVICE_COUNT={value!r}: expected 1..64")
    return count


def device_memory() -> int:
    return parse_size(os.environ.get("OPENACL_DEVICE_MEMORY", "16G"))


def soc_name() -> str:
    return os.environ.get("OPENACL_SOC_NAME", "Ascend310P3")


def wait_warning() -> float | None:
    value = os.environ.get("OPENACL_WAIT_WARNING", "30").strip().lower()
    if value in ("", "0", "off", "no", "false"):
        return None
    seconds = float(value)
    if seconds < 0:
        raise ValueError(f"OPENACL_WAIT_WARNING={value!r}: expected seconds >= 0 or off")
    return seconds


def parse_size(text: str) -> int:
    """Parse ``"16G"``, ``"512M"``, ``"4096"`` into bytes."""
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    scale = units.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in units else text
    size = int(float(number) * scale)
    if size <= 0:
        raise ValueError(f"memory size {text!r} must be positive")
    return size
