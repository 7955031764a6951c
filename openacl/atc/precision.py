"""atc's precision flags: ``--precision_mode``, ``--precision_mode_v2``, ``--keep_dtype``,
``--modify_mixlist``, checked as ATC checks them and turned into the ``.om`` record's
``precision`` (:class:`openacl.model.record.PrecisionRecord`).

ATC's checks, with its codes (GE's ``CheckPrecisionModeParamValid`` and neighbours):

- a value outside an option's set: E10001, listing the valid values;
- both options given: E10056 (they are mutually exclusive);
- ``--keep_dtype`` naming no readable file: E10001 "File defined by keep_dtype is not found.";
- ``--modify_mixlist`` without a mixed-precision mode (``allow_mix_precision*`` or
  ``mixed_*``): E10001; a file that is missing or not ATC's JSON layout: E10001.

Beyond ATC: values ATC accepts but openacl does not emulate (HiFloat8) are refused with
E10055, and ``--keep_dtype`` / mix-list names that match nothing in the model are warned
about (an NPU build would silently ignore them, which is how such typos go unnoticed).
Neither flag given: ATC compiles for ``force_fp16``, and the record says so (``given``
false). The runtime then picks how to run it (see ``openacl.precision.policy``).
"""

from __future__ import annotations

import json
import os

from openacl.atc.errors import AtcError, invalid_value, not_supported
from openacl.model.record import PrecisionRecord
from openacl.precision.mixlist import (OP_TYPE_PREFIX, MixlistError, check_mixlist,
                                       effective_lists, onnx_type, parse_keep_dtype)
from openacl.precision.modes import (DEFAULT_MODE, MODES, PRECISION_MODE, PRECISION_MODE_V2,
                                     UNSUPPORTED)

__all__ = ["precision_record", "check_precision_flags", "unmatched_names"]

_KEEP_DTYPE_MISSING = "File defined by keep_dtype is not found."
_MIXLIST_MODE = ("modify_mixlist is assigned, Please ensure that precision_mode only can be "
                 "assigned to 'allow_mix_precision' or 'allow_mix_precision_fp16' or "
                 "'allow_mix_precision_bf16', precision_mode_v2 only can be assigned to "
                 "'mixed_float16' or 'mixed_bfloat16'.")
_MAX_FILE = 10 * 1024 * 1024


def check_precision_flags(precision_mode: str | None, precision_mode_v2: str | None,
                          modify_mixlist: str | None) -> tuple[str, str, bool]:
    """Check the two mode flags (and that a mix list has a mixed mode); return
    ``(option, value, given)``, ATC's default when neither flag is given."""
    given = {}
    for option, value in ((PRECISION_MODE, precision_mode),
                          (PRECISION_MODE_V2, precision_mode_v2)):
        if value is None or not value.strip():
            continue
        value = value.strip()
        if value in UNSUPPORTED.get(option, {}):
            raise not_supported(f"--{option}={value}: {UNSUPPORTED[option][value]}")
        if value not in MODES[option]:
            valid = ", ".join([*MODES[option], *UNSUPPORTED.get(option, {})])
            raise invalid_value(value, option, f"The current value is not within the valid "
                                               f"range. Valid values are: {{{valid}}}.")
        given[option] = value
    if len(given) == 2:
        raise AtcError("E10056", "Parameters [--precision_mode] and [--precision_mode_v2] "
                                 "cannot be configured at the same time; use one of them "
                                 "(--precision_mode_v2 is the newer spelling).")
    if given:
        (option, value), = given.items()
    else:
        option, value = DEFAULT_MODE.option, DEFAULT_MODE.value
    if modify_mixlist and modify_mixlist.strip() and MODES[option][value].scope != "mixed":
        raise invalid_value(modify_mixlist, "modify_mixlist", _MIXLIST_MODE)
    return option, value, bool(given)


def precision_record(options, graph, warn) -> PrecisionRecord:
    """Check the precision flags of ``options`` against ``graph``; the record to write.

    ``warn`` receives a line for each ``--keep_dtype`` / mix-list name that matches no node
    (or operator type) of the model, and for a ``--keep_dtype`` that has no effect.
    """
    option, value, given = check_precision_flags(options.precision_mode,
                                                 options.precision_mode_v2,
                                                 options.modify_mixlist)
    keep = _keep_dtype(options.keep_dtype) if options.keep_dtype else []
    mixlist = _mixlist(options.modify_mixlist) if options.modify_mixlist else None
    if keep and MODES[option][value].scope == "origin":
        warn(f"--keep_dtype has no effect with --{option}={value}: every operator keeps "
             f"its precision already (as in ATC)")
    for line in unmatched_names(graph, keep, mixlist):
        warn(line)
    return PrecisionRecord(option, value, given, keep, mixlist)


def unmatched_names(graph, keep: list[str], mixlist: dict | None) -> list[str]:
    """Warning lines for keep_dtype / mix-list entries that match nothing in ``graph``."""
    names = {node.name for node in graph.node if node.name}
    types = {node.op_type for node in graph.node}
    lines = []
    for entry in keep:
        if entry.startswith(OP_TYPE_PREFIX):
            op_type = entry[len(OP_TYPE_PREFIX):].strip()
            if not onnx_type(op_type) & types:
                lines.append(f"--keep_dtype: operator type [{op_type}] is not in the model; "
                             f"the line has no effect")
        elif entry not in names:
            lines.append(f"--keep_dtype: node [{entry}] is not in the model; the line has "
                         f"no effect (node names are the ONNX node names)")
    if mixlist:
        white, black = effective_lists(None)
        for key in mixlist:
            for action, names_ in mixlist[key].items():
                for name in names_:
                    if not onnx_type(name) & types:
                        lines.append(f"--modify_mixlist: {key} {action} [{name}]: no operator "
                                     f"of that type in the model")
                    elif action == "to-remove" and not onnx_type(name) & (
                            black if key == "black-list" else white):
                        lines.append(f"--modify_mixlist: {key} to-remove [{name}]: it is not "
                                     f"in openacl's built-in {key}; nothing to remove")
    return lines


def _keep_dtype(path: str) -> list[str]:
    text = _read(path, "keep_dtype", _KEEP_DTYPE_MISSING)
    try:
        return parse_keep_dtype(text)
    except MixlistError as error:
        raise invalid_value(path, "keep_dtype", str(error)) from None


def _mixlist(path: str) -> dict:
    text = _read(path, "modify_mixlist", "the file does not exist or cannot be read")
    try:
        return check_mixlist(json.loads(text))
    except json.JSONDecodeError as error:
        raise invalid_value(path, "modify_mixlist", f"the file is not valid JSON: "
                                                    f"{error}") from None
    except MixlistError as error:
        raise invalid_value(path, "modify_mixlist", str(error)) from None


def _read(path: str, parameter: str, missing: str) -> str:
    if not os.path.isfile(path):
        raise invalid_value(path, parameter, missing)
    if os.path.getsize(path) > _MAX_FILE:
        raise invalid_value(path, parameter, f"the file is larger than {_MAX_FILE} bytes")
    try:
        with open(path, "rb") as file:
            return file.read().decode("utf-8")
    except OSError as error:
        raise invalid_value(path, parameter, f"the file cannot be read: "
                                             f"{error.strerror}") from None
    except UnicodeDecodeError:
        raise invalid_value(path, parameter, "the file is not UTF-8 text") from None
