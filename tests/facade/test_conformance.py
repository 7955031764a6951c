"""Conformance of the facade with Huawei's pyACL binding.

Expectations come from ``binding_reference.tsv`` (the binding's facts: format strings,
post-parse type checks, return formats; extracted from the binding source by
``scripts/extract_binding_reference.py``), never from openacl's own call table. Each exported
wrapper is rebuilt around a recording core, so argument coercion is checked without running
the runtime; the exported functions themselves are checked for keywords, arity and codes.
"""

from __future__ import annotations

import csv
import pathlib
import re

import numpy as np
import pytest

import acl
from openacl.acl import build
from openacl.errors import InvalidParam

_TSV = pathlib.Path(__file__).with_name("binding_reference.tsv")
_MODULES = {call.module: "acl" if call.module == "acl" else f"acl.{call.module}"
            for call in build.CALLS}


def _binding() -> dict[tuple[str, str], dict]:
    with _TSV.open(encoding="utf-8") as handle:
        return {(row["module"], row["name"]): row for row in csv.DictReader(handle, delimiter="\t")}


BINDING = _binding()
OURS = {(_MODULES[call.module], call.name): call for call in build.CALLS}
EXPORTED = sorted(OURS)


def _params(row) -> list[tuple[str, str, bool]]:
    """[(code, requirement, optional)] from the binding's format and args columns."""
    if row["format"] == "-":
        return []
    words = row["args"].split()
    codes = [c for c in row["format"] if c != "|"]
    first_optional = row["format"].find("|")
    params = []
    for index, (code, word) in enumerate(zip(codes, words)):
        requirement = word.split("→")[1] if "→" in word else ""
        optional = first_optional != -1 and index >= first_optional
        params.append((code, requirement, optional))
    assert len(params) == len(codes), row
    return params


# ------------------------------------------------------------------ probes per binding code
class _Index:
    """An object with ``__index__`` only, as numpy integers have."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


_INT_TYPE_ERRORS = [1.0, "1", None, b"1", [1]]


def _probes(code: str, requirement: str, wrapped: bool):
    """Yield (value, expected): expected is the coerced value, or an exception type."""
    range_error = TypeError if wrapped else OverflowError
    if code in "kK":
        yield from [(5, 5), (-1, 2 ** 64 - 1), (2 ** 64 + 3, 3), (True, 1),
                    (np.int64(3), TypeError), (_Index(3), TypeError)]
        yield from ((bad, TypeError) for bad in _INT_TYPE_ERRORS)
    elif code in "IHB":
        bits = {"I": 32, "H": 16, "B": 8}[code]
        yield from [(5, 5), (-1, 2 ** bits - 1), (2 ** bits + 3, 3), (np.int64(3), 3),
                    (_Index(4), 4)]
        yield from ((bad, TypeError) for bad in _INT_TYPE_ERRORS)
    elif code in "ihblL":
        low, high = {"i": (-2 ** 31, 2 ** 31 - 1), "h": (-2 ** 15, 2 ** 15 - 1),
                     "b": (0, 255), "l": (-2 ** 63, 2 ** 63 - 1), "L": (-2 ** 63, 2 ** 63 - 1)}[code]
        yield from [(low, low), (high, high), (low - 1, range_error), (high + 1, range_error),
                    (np.int32(3), 3), (_Index(2), 2)]
        yield from ((bad, TypeError) for bad in _INT_TYPE_ERRORS)
    elif code in "fd":
        yield from [(1.5, 1.5), (2, 2.0), (np.float32(0.5), 0.5), ("1.0", TypeError),
                    (None, TypeError)]
    elif code == "s":
        yield from [("model.om", "model.om"), (b"model.om", TypeError), (1, TypeError),
                    ("a\0b", TypeError), ("\udcff", TypeError)]
    elif code == "O":
        yield from _object_probes(requirement)
    else:
        raise AssertionError(f"no probes for code {code!r}")


def _object_probes(requirement: str):
    value_error = requirement.endswith("V")
    kind = requirement.rstrip("V")
    refused = ValueError if value_error else TypeError
    if kind == "list":
        yield from [([], []), ((1,), refused), ({}, refused)]
    elif kind == "dict":
        yield from [({}, {}), ([], refused)]
    elif kind == "callable":
        yield from [(print, print), (3, TypeError)]
    elif kind == "callable/None":
        yield from [(print, print), (None, None), (3, TypeError)]
    elif kind == "bytes":
        data = b"abc"
        yield from [(data, data), (bytearray(b"abc"), ValueError), (memoryview(b"a"), ValueError)]
    elif kind == "ndarray":
        array = np.zeros(2)
        yield from [(array, array), ([0.0, 0.0], ValueError)]
    elif kind == "tuple":
        yield from [((2, 3), (2, 3)), ([2, 3], ValueError)]
    else:                                    # a plain O: anything goes through
        marker = object()
        yield (marker, marker)


def _valid(code: str, requirement: str):
    value, expected = next(_probes(code, requirement, True))
    return value


def _recording_wrapper(call):
    seen = []
    kind, failure = build._shape(call.returns)
    answer = None if kind == "ret" else failure[0] if kind == "tuple1" else failure

    def core(*args):
        seen.append(args)
        return answer

    return build._generate(call, core), seen


def _ids(keys):
    return [f"{m}.{n}" for m, n in keys]


# ------------------------------------------------------------------ the checks
def test_every_export_is_a_binding_function_and_none_is_missing():
    missing = [key for key in EXPORTED if key not in BINDING]
    assert not missing, f"openacl exports functions pyACL does not register: {missing}"
    expected = {key for key, row in BINDING.items()
                if key[0] in _MODULES.values() and "USE_MDL" not in row["notes"]}
    absent = sorted(expected - set(OURS))
    assert not absent, f"pyACL registers functions openacl lacks: {absent}"


@pytest.mark.parametrize("key", EXPORTED, ids=_ids(EXPORTED))
def test_arguments_are_parsed_as_the_binding_parses_them(key):
    row, call = BINDING[key], OURS[key]
    params = _params(row)
    wrapper, seen = _recording_wrapper(call)
    wrapped = "parse error not wrapped" not in row["notes"]
    if not params:
        wrapper()
        wrapper(1, "x", None)                # arguments the binding never looks at
        assert len(seen) == 2
        return
    valid = [_valid(code, req) for code, req, _ in params]
    required = sum(1 for *_, optional in params if not optional)
    with pytest.raises(TypeError):
        wrapper(*valid, 0)                   # one argument too many
    if required:
        with pytest.raises(TypeError):
            wrapper(*valid[:required - 1])   # one too few
    for position, (code, requirement, _) in enumerate(params):
        for probe, expected in _probes(code, requirement, wrapped):
            args = list(valid)
            args[position] = probe
            seen.clear()
            if isinstance(expected, type) and issubclass(expected, Exception):
                with pytest.raises(expected) as caught:
                    wrapper(*args)
                assert type(caught.value) in (expected, TypeError) or issubclass(
                    type(caught.value), expected), (key, position, probe)
                if expected is TypeError and wrapped and code != "O":
                    assert "args parse failed" in str(caught.value), (key, position, probe)
                assert not seen, f"{key}: the core ran although argument {position + 1} failed"
            else:
                wrapper(*args)
                got = seen[-1][position]
                assert got is expected or got == expected, (key, position, probe, got)
                assert type(got) is type(expected), (key, position, probe, type(got))


@pytest.mark.parametrize("key", EXPORTED, ids=_ids(EXPORTED))
def test_keyword_arguments_are_refused(key):
    module, name = key
    function = getattr(acl if module == "acl" else getattr(acl, module.split(".")[1]), name)
    with pytest.raises(TypeError):
        function(openacl_keyword=1)


def _shape_of_build(build_format: str) -> list[str]:
    """The binding's Py_BuildValue format as a list of element kinds."""
    if build_format in ("None", "bytes"):
        return [build_format]
    return list(build_format)


_KINDS = {"i": "int", "I": "int", "k": "int", "K": "int", "L": "int", "l": "int", "H": "int",
          "B": "int", "f": "float", "d": "float", "s": "str", "O": "obj"}


@pytest.mark.parametrize("key", EXPORTED, ids=_ids(EXPORTED))
def test_return_shapes_match_the_binding(key):
    """Success and failure give the binding's shape, with plain-int codes."""
    row, call = BINDING[key], OURS[key]
    elements = _shape_of_build(row["build"])
    params = _params(row)
    valid = [_valid(code, req) for code, req, _ in params]
    if len(elements) > 1 and elements[-1] not in "iI":
        pytest.skip(f"{row['build']}: no status element, so no failure shape to check")

    def failing(*args):
        raise InvalidParam("conformance probe")

    result = build._generate(call, failing)(*valid)
    if len(elements) == 1:
        kind = elements[0]
        assert not isinstance(result, tuple) or kind == "O", (key, result)
        if kind in "iIkK":
            assert type(result) is int, (key, result)
            if row["build"] == "i" and call.returns == "ret":
                assert result == InvalidParam.code
        elif kind == "s":
            assert result is None or type(result) is str
        elif kind == "None":
            assert result is None
        elif kind == "f":
            assert type(result) is float
        return
    assert type(result) is tuple and len(result) == len(elements), (key, result, row["build"])
    status = result[-1]
    assert type(status) is int and status == InvalidParam.code, (key, result)
    for element, value in zip(elements[:-1], result[:-1]):
        if _KINDS[element] == "int":
            assert type(value) is int, (key, result)
        elif _KINDS[element] == "float":
            assert type(value) is float, (key, result)
        elif _KINDS[element] == "str":
            assert value is None or type(value) is str, (key, result)


def test_unimplemented_calls_parse_before_answering_200001():
    unimplemented = [key for key in EXPORTED if OURS[key].key not in build.implemented_keys()]
    assert unimplemented
    for key in unimplemented:
        row = BINDING[key]
        params = _params(row)
        module, name = key
        function = getattr(acl if module == "acl" else getattr(acl, module.split(".")[1]), name)
        valid = [_valid(code, req) for code, req, _ in params]
        result = function(*valid)
        code = result[-1] if isinstance(result, tuple) else result
        if OURS[key].returns == "ret" or isinstance(result, tuple):
            assert type(code) is int and code == 200001, (key, result)
        if params and params[0][0] in "kKIi":
            with pytest.raises(TypeError):
                function(1.5, *valid[1:])


def test_status_codes_are_plain_ints_not_enum_members():
    assert type(acl.rt.free(0)) is int
    assert type(acl.finalize()) is int
    assert re.search(r"error code \d+:", acl.get_recent_err_msg() or "")
