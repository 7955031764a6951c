"""Read the values of atc's structured flags: shapes, gears (profiles), ranges, names, types.

Each function reads one flag's text, checks its syntax and returns plain Python structures; it
knows nothing of the model. Errors carry ATC's codes (see :mod:`openacl.atc.errors`), so a typo
in a build script reads the same as it would on an Ascend machine. Names may themselves contain
``:`` (``input:0`` from TensorFlow exports), so ``name:value`` pairs split at the *last* colon.
"""

from __future__ import annotations

import re

from openacl.atc.errors import AtcError, invalid_value

__all__ = ["parse_input_shape", "parse_name_list", "parse_out_nodes", "parse_output_type",
           "parse_profiles", "parse_shape_range", "OUTPUT_TYPES", "MIN_PROFILES", "MAX_PROFILES",
           "UNBOUNDED"]

OUTPUT_TYPES = ("FP32", "FP16", "UINT8")
MIN_PROFILES = 2          # ATC's kMinShapesCount
MAX_PROFILES = 100        # ATC's kMaxShapesCount
UNBOUNDED = -1            # upper bound of an open shape range
_INTEGER = re.compile(r"[-+]?[0-9]+")
_INT64 = 2**63
_SHAPE_SAMPLE = "input_name1:n1,c1,h1,w1;input_name2:n2,c2,h2,w2"
_RANGE_SAMPLE = "input_name1:[n1~n2,c1,h1,w1];input_name2:[n2~n3,c2,h2,w2]"


def parse_input_shape(text: str) -> dict[str, list]:
    """``"x:1,3,-1,-1;y:1~8,4"`` -> ``{"x": [1, 3, -1, -1], "y": [(1, 8), 4]}``.

    A dimension is a positive int, -1 (set by a dynamic option) or a ``(lo, hi)`` range from
    ``lo~hi`` (``hi`` -1 = unbounded). The dict keeps the order of the text.
    """
    shapes: dict[str, list] = {}
    for item in _items(text):
        name, colon, dims_text = item.rpartition(":")
        name = name.strip()
        if not colon or not name:
            raise _shape_error(text, f"[{item}] does not name an input")
        if name in shapes:
            raise _shape_error(text, f"input [{name}] is given twice")
        dims = []
        for dim_text in _split(dims_text, ","):
            if "~" in dim_text:
                dims.append(_range(dim_text, lambda reason: _shape_error(text, reason)))
                continue
            dim = _int(dim_text)
            if dim is None:
                raise _shape_error(text, f"[{dim_text}] is not a 64-bit integer")
            if dim == 0 or dim < -1:
                raise AtcError("E10011", f"Value [{text}] for parameter [--input_shape] is "
                                         f"invalid. Shape values must be positive integers. The "
                                         f"error value in the shape is [{dim}].")
            dims.append(dim)
        shapes[name] = dims
    if not shapes:
        raise _shape_error(text, "no input is given")
    return shapes


def parse_name_list(text: str) -> list[str]:
    """``"a;b;"`` -> ``["a", "b"]`` (empty items dropped, order kept, duplicates removed)."""
    return list(dict.fromkeys(_items(text)))


def parse_out_nodes(text: str) -> list[tuple[str, int | None]]:
    """``"/l1/Relu:0;fc:1"`` -> ``[("/l1/Relu", 0), ("fc", 1)]``; a bare name gives index None."""
    chosen = []
    for item in _items(text):
        name, colon, index_text = item.rpartition(":")
        if colon and name and _is_int(index_text):
            index = int(index_text)
            if index < 0:
                raise invalid_value(text, "out_nodes", f"output index [{index}] of [{name}] is "
                                                       f"negative")
            chosen.append((name.strip(), index))
        else:
            chosen.append((item, None))
    if not chosen:
        raise invalid_value(text, "out_nodes", "no output is given; the value must be formatted "
                                               "as node_name1:0;node_name1:1;node_name2:0")
    return chosen


def parse_output_type(text: str) -> tuple[str | None, dict[tuple[str, int], str]]:
    """``"FP16"`` -> ``("FP16", {})``; ``"fc:0:FP16"`` -> ``(None, {("fc", 0): "FP16"})``."""
    items = _items(text)
    if len(items) == 1 and ":" not in items[0]:
        return _output_type(items[0], text), {}
    per_output = {}
    for item in items:
        parts = item.rsplit(":", 2)
        if len(parts) != 3 or not parts[0] or not _is_int(parts[1]):
            raise invalid_value(text, "output_type", f"[{item}] must be formatted as "
                                                     f"node_name:output_index:TYPE, or the value "
                                                     f"must be one of {', '.join(OUTPUT_TYPES)}")
        per_output[(parts[0].strip(), int(parts[1]))] = _output_type(parts[2], text)
    if not per_output:
        raise invalid_value(text, "output_type", f"the value must be one of "
                                                 f"{', '.join(OUTPUT_TYPES)}")
    return None, per_output


def parse_profiles(text: str, parameter: str) -> list[list[int]]:
    """Read gear profiles; every check ATC makes on the text alone.

    ``dynamic_batch_size`` lists one batch size per profile, ``"1,2,4"``; the others list
    profiles separated by ``;``, each a comma-separated list of dimension values.
    """
    if parameter == "dynamic_batch_size":
        profiles = [[value] for value in _split(text, ",")]
    else:
        profiles = [_split(item, ",") for item in _items(text)]
    parsed = []
    for profile in profiles:
        values = []
        for value in profile:
            number = _int(value)
            if number is None:
                raise invalid_value(text, parameter, f"[{value}] is not a 64-bit integer")
            if number <= 0:
                raise AtcError("E10038", f"Dimension size [{number}] is invalid. The value must "
                                         f"be greater than 0.")
            values.append(number)
        parsed.append(values)
    if parameter == "dynamic_image_size" and any(len(profile) != 2 for profile in parsed):
        raise AtcError("E10020", f"Value [{text}] for parameter [--dynamic_image_size] is "
                                 f"invalid. The value must be formatted as "
                                 f"\"imagesize1_height,imagesize1_width;imagesize2_height,"
                                 f"imagesize2_width\", two dimensions per profile.")
    if len(parsed) < MIN_PROFILES:
        raise AtcError("E10035", f"[--{parameter}] has [{len(parsed)}] profiles, which is less "
                                 f"than the minimum [{MIN_PROFILES}].")
    if len(parsed) > MAX_PROFILES:
        raise AtcError("E10036", f"[--{parameter}] has [{len(parsed)}] profiles, which is "
                                 f"greater than the maximum [{MAX_PROFILES}].")
    for profile in parsed[1:]:
        if len(profile) != len(parsed[0]):
            raise AtcError("E10037", f"The profiles configured in [--{parameter}] have "
                                     f"inconsistent dimension counts. A profile has "
                                     f"[{len(parsed[0])}] dimensions while another has "
                                     f"[{len(profile)}] dimensions.")
    if len({tuple(profile) for profile in parsed}) != len(parsed):
        raise AtcError("E10039", f"The [--{parameter}] argument [{text}] has duplicate "
                                 f"profiles.")
    return parsed


def parse_shape_range(text: str, input_order: list[str]) -> dict[str, list[list[int]]]:
    """``"x:[1~8,3,-1]"`` -> ``{"x": [[1, 8], [3, 3], [1, -1]]}``.

    The unnamed form ``"[1~8,3],[2,4]"`` applies to the inputs in ``input_order``, in order.
    """
    def error(reason):
        return AtcError("E10048", f"Value [{text}] for parameter [--input_shape_range] is "
                                  f"invalid. Reason: {reason}. The value must be formatted as "
                                  f"{_RANGE_SAMPLE}.")

    stripped = text.strip()
    if stripped.startswith("["):
        bodies = [body.strip().lstrip(",;").strip() for body in stripped.split("]")]
        bodies = [body + "]" for body in bodies if body]
        if len(bodies) > len(input_order):
            raise error(f"{len(bodies)} ranges are given for {len(input_order)} inputs")
        items = list(zip(input_order, bodies, strict=False))    # fewer ranges than inputs: ok
    else:
        items = []
        for item in _items(stripped):
            name, colon, body = item.rpartition(":")
            if not colon or not name.strip():
                raise error(f"[{item}] does not name an input")
            items.append((name.strip(), body.strip()))
    ranges: dict[str, list[list[int]]] = {}
    for name, body in items:
        if not (body.startswith("[") and body.endswith("]")):
            raise error(f"the range of [{name}] is not in brackets")
        body = body[1:-1]
        if name in ranges:
            raise error(f"input [{name}] is given twice")
        dims = []
        for dim_text in _split(body, ","):
            if "~" in dim_text:
                dims.append(list(_range(dim_text, error)))
                continue
            dim = _int(dim_text)
            if dim is None:
                raise error(f"[{dim_text}] is not a 64-bit integer")
            if dim == UNBOUNDED:
                dims.append([1, UNBOUNDED])
            elif dim > 0:
                dims.append([dim, dim])
            else:
                raise error(f"[{dim}] is not a positive size")
        ranges[name] = dims
    if not ranges:
        raise error("no input is given")
    return ranges


def _range(text: str, error) -> tuple[int, int]:
    low_text, _, high_text = text.partition("~")
    if not (_is_int(low_text) and _is_int(high_text)):
        raise error(f"range [{text}] must be formatted as lo~hi with 64-bit integers")
    low, high = int(low_text), int(high_text)
    if low < 1 or (high != UNBOUNDED and high < low):
        raise error(f"range [{text}] must have 1 <= lo <= hi (hi may be -1: unbounded)")
    return low, high


def _output_type(text: str, whole: str) -> str:
    value = text.strip().upper()
    if value not in OUTPUT_TYPES:
        raise invalid_value(whole, "output_type", f"[{text.strip()}] is not a supported type; "
                                                  f"the type must be one of "
                                                  f"{', '.join(OUTPUT_TYPES)}")
    return value


def _items(text: str) -> list[str]:
    return _split(text, ";")


def _split(text: str, separator: str) -> list[str]:
    return [part.strip() for part in text.split(separator) if part.strip()]


def _is_int(text: str) -> bool:
    """An ASCII integer that fits ONNX's int64 dims (str.isdigit would take "²" too)."""
    text = text.strip()
    return bool(_INTEGER.fullmatch(text)) and -_INT64 <= int(text) < _INT64


def _int(text: str) -> int | None:
    return int(text) if _is_int(text) else None


def _shape_error(text: str, reason: str) -> AtcError:
    return AtcError("E10002", f"Value [{text}] for parameter [--input_shape] is invalid. Reason: "
                              f"{reason}. The value must be formatted as {_SHAPE_SAMPLE}.")
