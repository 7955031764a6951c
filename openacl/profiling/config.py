"""The ``profiler`` section of ``acl.init``'s JSON, checked the way msprof checks it.

msprof (``ProfAclMgr::MsprofInitAclJson`` in hicann/runtime) rejects any key outside its
list, a switch that is not "on"/"off", a ``task_time`` level it does not know and an
``aic_metrics`` name it does not know, before it looks at ``switch``; ``aclInit`` then fails
with ACL_ERROR_INVALID_PARAM (100000). A valid section whose switch is not "on" is no
profiling, not an error.

What openacl records from it: the timeline (``output``, default ``./openacl_profile``) and,
unless ``task_time`` is "off", the models' operators. The hardware collectors (AI Core
metrics, L2, system sampling …) are accepted and have nothing to collect on a CPU.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from openacl.errors import InvalidParam

__all__ = ["ProfilerConfig", "check_section"]

ON_OFF = ("on", "off", "")          # msprof treats an empty value as "not given"
SWITCH_KEYS = ("switch", "aicpu", "l2", "hccl", "msproftx", "instr_profiling", "task_tsfw",
               "ascendcl", "runtime_api", "task_memory")
LEVEL_KEYS = {"task_time": ON_OFF + ("l0", "l1", "l2", "l3"), "ge_api": ON_OFF + ("l0", "l1")}
FREQUENCY_KEYS = ("sys_hardware_mem_freq", "sys_io_sampling_freq", "sys_interconnection_freq",
                  "sys_cpu_freq", "dvpp_freq", "host_sys_usage_freq", "sys_lp_freq")
LIST_KEYS = {"host_sys": ("cpu", "mem", "disk", "network", "osrt"),
             "host_sys_usage": ("cpu", "mem")}
# known, and their values not checked here (msprof checks the last three per platform)
FREE_KEYS = ("output", "storage_limit", "instr_profiling_freq", "optype", "llc_profiling",
             "sys_mem_serviceflow")
AIC_METRICS = ("ArithmeticUtilization", "PipeUtilization", "Memory", "MemoryL0",
               "ResourceConflictRatio", "MemoryUB", "L2Cache", "MemoryAccess")
KNOWN_KEYS = (SWITCH_KEYS + tuple(LEVEL_KEYS) + FREQUENCY_KEYS + tuple(LIST_KEYS)
              + FREE_KEYS + ("aic_metrics",))


@dataclass(frozen=True)
class ProfilerConfig:
    on: bool
    output: str
    ops: bool                      # the models' operators ("task_time" not "off")


def check_section(section) -> ProfilerConfig | None:
    """Check a ``profiler`` section; None when it is missing."""
    if section is None:
        return None
    if not isinstance(section, dict):
        raise InvalidParam(f'"profiler" must be a JSON object like {{"switch": "on", '
                           f'"output": "prof"}}, not {json.dumps(section)}')
    for key, value in section.items():
        _check_key(key, value)
    output = section.get("output") or os.path.join(os.getcwd(), "openacl_profile")
    return ProfilerConfig(on=section.get("switch") == "on", output=output,
                          ops=section.get("task_time", "on") != "off")


def _check_key(key: str, value) -> None:
    where = f'"profiler.{key}"'
    if key not in KNOWN_KEYS:
        raise InvalidParam(f"{where} is not a profiler option (msprof's acl.json options: "
                           f"{', '.join(KNOWN_KEYS)})")
    if key in SWITCH_KEYS and value not in ON_OFF:
        raise InvalidParam(f'{where} must be "on" or "off", not {json.dumps(value)}')
    if key in LEVEL_KEYS and value not in LEVEL_KEYS[key]:
        raise InvalidParam(f"{where} must be one of {[v for v in LEVEL_KEYS[key] if v]}, "
                           f"not {json.dumps(value)}")
    if key in FREQUENCY_KEYS and not (isinstance(value, int) and not isinstance(value, bool)
                                      and value > 0):
        raise InvalidParam(f"{where} must be a sampling frequency in Hz (a positive integer), "
                           f"not {json.dumps(value)}")
    if key in LIST_KEYS and not (isinstance(value, str) and value and all(
            part in LIST_KEYS[key] for part in value.split(","))):
        raise InvalidParam(f"{where} must be a comma-separated list of "
                           f"{'|'.join(LIST_KEYS[key])}, not {json.dumps(value)}")
    if key == "aic_metrics" and value not in AIC_METRICS + ("",):
        raise InvalidParam(f"{where} must be one of {', '.join(AIC_METRICS)}, "
                           f"not {json.dumps(value)}")
    if key in ("output", "storage_limit", "optype") and not isinstance(value, str):
        raise InvalidParam(f"{where} must be a string, not {json.dumps(value)}")
