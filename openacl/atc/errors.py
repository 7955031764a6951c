"""The converter's errors: one exception type carrying an ATC message code (``E10001``...).

Huawei's ATC reports a user's mistake as one line, ``E100xx: <message>``, from a fixed
catalogue; scripts and people grep for those codes, so openacl uses the same codes for the
same conditions. The codes are strings, not ACL return codes: ``atc`` is a tool, not part of
the pyACL API, and its errors never cross the facade.

Codes used here (messages follow ATC's wording, with ``[value]`` brackets):

=======  ====================================================================
E10001   a parameter's value is invalid (the reason says why)
E10002   ``--input_shape`` is malformed
E10004   a required value is missing or empty
E10007   a required parameter with a fixed set of values is missing
E10009   ``--dynamic_batch_size/--dynamic_image_size/--dynamic_dims/--input_shape_range``
         used together
E10010   ``--log`` has an unknown level
E10011   ``--input_shape`` has -1 (or another non-positive size) and no dynamic option
E10016   a name given in a parameter is not in the model
E10018   ``--dynamic_batch_size``: -1 on an axis other than N
E10019   ``--dynamic_image_size``: -1 on an axis other than H and W
E10020   ``--dynamic_image_size`` is not a list of ``h,w`` pairs
E10031   ``--dynamic_batch_size`` but no input has N = -1
E10035   fewer than 2 profiles (gears)
E10036   more than 100 profiles
E10037   profiles with different dimension counts
E10038   a profile value that is not a positive integer
E10039   duplicate profiles
E10040   a dynamic option is given but ``--input_shape`` has no -1
E10041   the model file cannot be loaded
E10045   ``--dynamic_dims`` profiles have fewer values than there are -1 axes
E10046   ``--dynamic_dims`` profiles have more values than there are -1 axes
E10047   two parameters that are mutually exclusive
E10048   ``--input_shape_range`` is malformed
E10049   ``--input_shape`` has the wrong number of dimensions for the input
E10055   the operation is not supported (by openacl)
E10056   ``--precision_mode`` and ``--precision_mode_v2`` given together
E11005   an input's shape is neither static in the model nor set by ``--input_shape``
E19999   an internal error (a bug in openacl's atc, not the user's mistake)
=======  ====================================================================
"""

from __future__ import annotations

__all__ = ["AtcError", "AtcWarning", "invalid_value", "empty_value", "required", "not_found",
           "mutually_exclusive", "not_supported"]


_LISTED = 12      # names listed in a "not found" message before it is cut short


class AtcError(Exception):
    """A conversion failure with an ATC message code; ``str()`` gives the ATC console line."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class AtcWarning(UserWarning):
    """Something the converter accepted but could not honour (an Ascend-only flag, AIPP...)."""


def invalid_value(value, parameter: str, reason: str, code: str = "E10001") -> AtcError:
    return AtcError(code, f"Value [{value}] for parameter [--{parameter}] is invalid. "
                          f"Reason: {reason}")


def empty_value(parameter: str) -> AtcError:
    return AtcError("E10004", f"Value for [--{parameter}] is empty.")


def required(parameter: str, support: str) -> AtcError:
    return AtcError("E10007", f"[--{parameter}] is required. The value must be {support}.")


def not_found(name: str, parameter: str, known) -> AtcError:
    known = list(known)
    listed = ", ".join(known[:_LISTED]) if known else "none"
    if len(known) > _LISTED:
        listed += f", ... ({len(known)} in all)"
    return AtcError("E10016", f"Opname [{name}] specified in [--{parameter}] is not found in the "
                              f"model. Confirm whether this node name exists, or the node is not "
                              f"split with the specified delimiter ';'. Known names: {listed}")


def mutually_exclusive(first: str, second: str) -> AtcError:
    return AtcError("E10047", f"[--{first}] and [--{second}] are mutually exclusive.")


def not_supported(reason: str) -> AtcError:
    return AtcError("E10055", f"The operation is not supported. Reason: {reason}.")
