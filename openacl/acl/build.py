"""Build the pyACL facade from the call table.

Each table line becomes a positional-only function whose body is generated: argument
coercion in pyACL's exact way (``PyArg_ParseTuple`` codes), one call to the core
implementation, and the translation of its result or its ``AclError`` into pyACL's
return shape. This is the one place where exceptions become return codes.
"""

from __future__ import annotations

import functools
import logging
import operator
import threading
from threading import get_ident as _get_ident
import types
from collections import deque
from dataclasses import dataclass

from openacl.constants import ErrorCode
from openacl.errors import AclError, ApiNotSupported, ArgumentTypeError, BindingRaise
from openacl.profiling import recorder as _PROF

__all__ = ["Call", "CALLS", "implements", "implemented_keys", "build_modules", "take_recent_error"]

log = logging.getLogger("openacl")



@dataclass(frozen=True)
class Param:
    code: str
    name: str
    optional: bool


@dataclass(frozen=True)
class Call:
    module: str                # "acl" or a submodule: "rt", "mdl", "util", "media"
    name: str
    params: tuple[Param, ...]
    returns: str               # the text after "->"

    @property
    def qualname(self) -> str:
        return "acl." + self.name if self.module == "acl" else f"acl.{self.module}.{self.name}"

    @property
    def key(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def signature(self) -> str:
        if self.params == IGNORED:
            return f"{self.qualname}(...) -> {self.returns}  (arguments are ignored)"
        names = [p.name if not p.optional else f"[{p.name}]" for p in self.params]
        return f"{self.qualname}({', '.join(names)}) -> {self.returns}"


# The parameters of a wrapper that never parses its arguments: it accepts any positional ones.
IGNORED: tuple[Param, ...] = (Param("*", "args", True),)


def _parse_table(text: str) -> tuple[Call, ...]:
    calls = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, returns = (part.strip() for part in line.split("->"))
        words = head.split()
        module, name = words[0].split(".")
        params, optional = [], False
        if words[1:] == ["*"]:
            calls.append(Call(module, name, IGNORED, returns))
            continue
        for word in words[1:]:
            if word == "|":
                optional = True
                continue
            code, pname = word.split(":")
            params.append(Param(code, pname, optional))
        calls.append(Call(module, name, tuple(params), returns))
    return tuple(calls)


def _load_calls() -> tuple[Call, ...]:
    from openacl.acl.table import TABLE

    return _parse_table(TABLE)


CALLS: tuple[Call, ...] = _load_calls()
_BY_KEY = {call.key: call for call in CALLS}
_IMPLEMENTATIONS: dict[str, object] = {}


def implements(key: str):
    """Register the core implementation of the table call ``key`` (e.g. ``"rt.malloc"``).

    The implementation takes the coerced arguments and returns the call's values (one
    value, a tuple of values, or None for status-only calls); it raises ``AclError``.
    """
    if key not in _BY_KEY:
        raise KeyError(f"{key} is not in the pyACL call table")

    def register(function):
        _IMPLEMENTATIONS[key] = function
        return function

    return register


def implemented_keys() -> set[str]:
    return set(_IMPLEMENTATIONS)


# ---------------------------------------------------------------- recent error messages
#
# ACL keeps every failure message until ``aclGetRecentErrMsg`` reads (and clears) them, the
# newest on top; a program that never reads them has the oldest ones lost. Per thread by
# default; per process with ``err_msg_mode`` "1" in the acl.init JSON.

RECENT_LIMIT = 32                          # messages kept before the oldest are lost


class _Recent(threading.local):
    def __init__(self):
        self.messages: deque[list] = deque(maxlen=RECENT_LIMIT)


# Each message is one [text, unread] cell in both its thread's stack and the process's, so
# reading it through either view clears it from both (err_msg_mode may change between).
_tls = _Recent()
_process_messages: deque[list] = deque(maxlen=RECENT_LIMIT)   # every thread's, newest last


def _remember(message: str) -> None:
    cell = [message, True]
    _tls.messages.append(cell)
    _process_messages.append(cell)         # deque.append is atomic: no lock needed


def take_recent_error(process_wide: bool = False) -> str | None:
    """Return and clear the unread failure messages (this thread's, or the process's), newest
    first."""
    messages = _process_messages if process_wide else _tls.messages
    taken = []
    while messages:
        try:
            cell = messages.pop()
        except IndexError:                  # emptied by another thread meanwhile
            break
        if cell[1]:
            cell[1] = False
            taken.append(cell[0])
    return "\n".join(taken) if taken else None


# ---------------------------------------------------------------- argument coercion
#
# pyACL parses with ``PyArg_ParseTuple`` inside ``CHECK_NULL(cond, "acl.x.y args parse
# failed")``, which replaces whatever CPython raised (OverflowError, ValueError for a NUL in
# a string, ...) with a TypeError carrying that message. So every parse failure here is a
# TypeError. The checks the binding makes on ``O`` arguments afterwards raise their own
# types (ValueError for ``bytes_to_ptr`` and the numpy helpers), as listed in the table.

def _parse_failed(qualname: str, position: int, expected: str, value) -> TypeError:
    return TypeError(f"{qualname} args parse failed! argument {position} must be {expected}, "
                     f"not {type(value).__name__}")


def _index(value, qualname: str, position: int) -> int:
    """An int or an ``__index__`` object (numpy integers), never a float or str."""
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) or not hasattr(type(value), "__index__"):
        raise _parse_failed(qualname, position, "int", value)
    try:
        return operator.index(value)
    except Exception:
        raise _parse_failed(qualname, position, "int", value) from None


def _pylong(value, qualname, position):
    """``k``/``K``: CPython 3.11 demands a real int here (``PyLong_Check``), masked to 64 bits."""
    if not isinstance(value, int):
        raise _parse_failed(qualname, position, "int", value)
    return int(value) & 0xFFFFFFFFFFFFFFFF


def _masked(bits: int):
    mask = (1 << bits) - 1

    def coerce(value, qualname, position):
        return _index(value, qualname, position) & mask

    return coerce


def _ranged(low: int, high: int, what: str):
    def coerce(value, qualname, position):
        number = _index(value, qualname, position)
        if not low <= number <= high:
            raise TypeError(f"{qualname} args parse failed! argument {position} ({number}) "
                            f"does not fit in {what}")
        return number

    return coerce


def _float(value, qualname, position):
    """``f``: ``PyFloat_AsDouble`` takes floats, ``__float__`` and ``__index__`` objects."""
    kind = type(value)
    if isinstance(value, (int, float)) or hasattr(kind, "__float__") or hasattr(kind, "__index__"):
        try:
            return float(value) if hasattr(kind, "__float__") else float(operator.index(value))
        except Exception:
            pass
    raise _parse_failed(qualname, position, "float", value)


def _string(value, qualname, position):
    if not isinstance(value, str):
        raise _parse_failed(qualname, position, "str", value)
    if "\0" in value:
        raise TypeError(f"{qualname} args parse failed! argument {position} contains an "
                        f"embedded null character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise TypeError(f"{qualname} args parse failed! argument {position} is not valid "
                        f"UTF-8 text") from None
    return str(value)


def _container(kind: type, exception: type, article: str):
    def coerce(value, qualname, position):
        if not isinstance(value, kind):
            raise exception(f"{qualname}: argument {position} is not {article} "
                            f"({type(value).__name__} given)")
        return value

    return coerce


def _int64_list(value, qualname, position):
    """A list of ints, each an int64, as the binding's ``GetValuesFromPyList`` reads it."""
    if not isinstance(value, list):
        raise TypeError(f"{qualname}: argument {position} is not list "
                        f"({type(value).__name__} given)")
    for item in value:
        if not isinstance(item, int):
            raise TypeError(f"{qualname}: argument {position}: invalid data type "
                            f"{type(item).__name__} in the list (ints expected)")
        if not -(1 << 63) <= item < (1 << 63):
            raise ValueError(f"{qualname}: argument {position}: {item} does not fit in int64")
    return [int(item) for item in value]


def _callable(value, qualname, position):
    if not callable(value):
        raise TypeError(f"{qualname}: parameter must be callable (argument {position} is "
                        f"{type(value).__name__})")
    return value


def _callable_or_none(value, qualname, position):
    return None if value is None else _callable(value, qualname, position)


def _exact_bytes(value, qualname, position):
    if type(value) is not bytes:
        raise ValueError(f"{qualname} needs an byte as argument (argument {position} is "
                         f"{type(value).__name__}; bytearray and memoryview are refused too)")
    return value


def _ndarray(value, qualname, position):
    import numpy

    if not isinstance(value, numpy.ndarray):
        raise ValueError(f"{qualname} needs an ndarray as argument (argument {position} is "
                         f"{type(value).__name__})")
    return value


def _shape_tuple(value, qualname, position):
    if not isinstance(value, tuple) or not value:
        raise ValueError(f"{qualname}: shape is empty (argument {position} must be a "
                         f"non-empty tuple of ints, {type(value).__name__} given)")
    for item in value:
        if not isinstance(item, int):
            raise ValueError(f"{qualname}: shape {value!r} holds a {type(item).__name__}; "
                             f"ints expected")
    return tuple(int(d) for d in value)


_COERCE = {
    "K": _pylong, "k": _pylong, "I": _masked(32), "H": _masked(16), "B": _masked(8),
    "i": _ranged(-(1 << 31), (1 << 31) - 1, "a C int"),
    "h": _ranged(-(1 << 15), (1 << 15) - 1, "a C short"),
    "L": _ranged(-(1 << 63), (1 << 63) - 1, "a C long long"),
    "l": _ranged(-(1 << 63), (1 << 63) - 1, "a C long"),
    "b": _ranged(0, 255, "an unsigned char"),
    "f": _float, "d": _float, "s": _string,
    "list": _container(list, TypeError, "list"), "dict": _container(dict, TypeError, "dict"),
    "vlist": _container(list, ValueError, "list: it only supports the format of list"),
    "ints": _int64_list, "callable": _callable, "callable?": _callable_or_none,
    "bytes": _exact_bytes, "ndarray": _ndarray, "shape": _shape_tuple,
}
ARGUMENT_CODES = frozenset(_COERCE) | {"O"}


def coerce(code: str, value, qualname: str, position: int):
    """Parse an ``O`` argument whose C type depends on another argument, as the binding
    does with ``PyArg_Parse`` after the tuple (e.g. ``venc_set_channel_desc_param``)."""
    try:
        return _COERCE[code](value, qualname, position)
    except TypeError as error:
        raise ArgumentTypeError(str(error)) from None
# Fast-path tests inlined in the generated code: a plain int already in range passes.
_FAST = {
    "K": "0 <= {a} <= 0xFFFFFFFFFFFFFFFF", "k": "0 <= {a} <= 0xFFFFFFFFFFFFFFFF",
    "I": "0 <= {a} <= 0xFFFFFFFF",
    "H": "0 <= {a} <= 0xFFFF", "B": "0 <= {a} <= 0xFF", "i": "-0x80000000 <= {a} <= 0x7FFFFFFF",
    "h": "-0x8000 <= {a} <= 0x7FFF",
    "L": "-0x8000000000000000 <= {a} <= 0x7FFFFFFFFFFFFFFF",
    "l": "-0x8000000000000000 <= {a} <= 0x7FFFFFFFFFFFFFFF", "b": "0 <= {a} <= 255",
}


# ---------------------------------------------------------------- return shapes

_FAILURE = {"int": 0, "int=-1": -1, "float": 0.0, "dict": {}, "dict?": None, "list": [],
            "list?": None, "str": "", "str?": None, "handle": 0, "obj": None, "None": None,
            "bytes": b""}


@functools.lru_cache(maxsize=None)
def _shape(returns: str):
    """Return (kind, failure): kind is 'ret', 'tuple1', 'tupleN' or 'bare'."""
    if returns == "ret":
        return "ret", ()
    if returns.startswith("("):
        types_ = [t.strip() for t in returns.strip("()").split(",")]
        assert types_[-1] == "ret", returns
        failure = tuple(_FAILURE[t] for t in types_[:-1])
        return ("tuple1" if len(failure) == 1 else "tupleN"), failure
    return "bare", _FAILURE[returns]


def _fail_value(call: Call, code: int):
    code = int(code)                     # pyACL returns plain ints, never enum members
    kind, failure = _shape(call.returns)
    if kind == "ret":
        return code
    if kind == "bare":
        return dict(failure) if isinstance(failure, dict) else failure
    return tuple(dict(v) if isinstance(v, dict) else v for v in failure) + (code,)


def _record_failure(call: Call, error: AclError):
    _remember(f"{call.qualname} failed, error code {int(error.code)}: {error.message}")
    return _fail_value(call, error.code)


def _record_internal(call: Call, error: BaseException):
    code = int(ErrorCode.ACL_ERROR_INTERNAL_ERROR)
    log.error("internal error in %s", call.qualname, exc_info=error)
    _remember(f"{call.qualname} failed, error code {code}: internal error "
              f"{type(error).__name__}: {error} (an openacl bug: please report it)")
    return _fail_value(call, code)


def _generate(call: Call, implementation) -> types.FunctionType:
    """Write the wrapper: coerce each argument, call the core, translate what comes back.

    The ``try`` is the exception boundary: only coercion (above it) and the binding's own
    post-parse exceptions (``BindingRaise``) leave the function; everything else the core
    raises becomes a return code.
    """
    ignores_args = call.params == IGNORED
    unknown = {p.code for p in call.params if not ignores_args} - ARGUMENT_CODES
    if unknown:
        raise ValueError(f"{call.qualname}: unknown argument code(s) {sorted(unknown)} in the table")
    params = () if ignores_args else call.params
    names = [p.name for p in params]
    header = [f"{p.name}=_MISSING" if p.optional else p.name for p in params]
    if ignores_args:
        lines = [f"def {call.name}(*_ignored):"]
    else:
        lines = [f"def {call.name}({', '.join(header)}{', /' if header else ''}):"]
    # Profiling (openacl.profiling): one global test when off; when on, the body runs
    # between two clock reads. Inlined rather than a helper: it runs around every pyACL
    # call while profiling, and a frame costs ~0.1 µs.
    lines += ["    _s = _now() if _PROF.ON else 0", "    try:"]
    body_start = len(lines)
    for position, p in enumerate(params, 1):
        indent = "    "
        if p.optional:
            lines.append(f"    if {p.name} is _MISSING:")
            lines.append(f"        {p.name} = None")
            if p.code == "O":
                continue
            lines.append("    else:")
            indent = "        "
        elif p.code == "O":
            continue
        fast = _FAST.get(p.code)
        test = f"{p.name}.__class__ is not int or not ({fast.format(a=p.name)})" if fast else "True"
        lines.append(f"{indent}if {test}:")
        lines.append(f"{indent}    {p.name} = _C_{p.code.replace('?', '_')}({p.name}, _QUAL, "
                     f"{position})")
    kind, _ = _shape(call.returns)
    lines.append("    try:")
    lines.append(f"        _r = _impl({', '.join(names)})")
    lines.append("    except _AclError as _e:")
    lines.append("        return _record_failure(_CALL, _e)")
    lines.append("    except _BindingRaise:")
    lines.append("        raise")
    lines.append("    except Exception as _e:")
    lines.append("        return _record_internal(_CALL, _e)")
    success = {"ret": "0", "tuple1": "(_r, 0)", "tupleN": "(*_r, 0)", "bare": "_r"}[kind]
    lines.append(f"    return {success}")
    lines[body_start:] = ["    " + line for line in lines[body_start:]]
    lines += ["    finally:",
              "        if _s:",
              "            _record(('api', _QUAL, _get_ident(), _s, _now(), None))"]
    namespace = {
        "_impl": implementation, "_MISSING": _MISSING, "_QUAL": call.qualname, "_CALL": call,
        "_AclError": AclError, "_BindingRaise": BindingRaise,
        "_record_failure": _record_failure, "_record_internal": _record_internal,
        "_PROF": _PROF, "_now": _PROF._now, "_record": _PROF._events.append,
        "_get_ident": _get_ident,
    }
    for code, function in _COERCE.items():
        namespace[f"_C_{code.replace('?', '_')}"] = function
    exec(compile("\n".join(lines), f"<pyACL {call.qualname}>", "exec"), namespace)
    function = namespace[call.name]
    function.__doc__ = f"{call.signature}\n\n{(implementation.__doc__ or '').strip()}"
    return function


def _not_supported(call: Call):
    """The core of a call openacl does not implement yet: its arguments are parsed first."""
    message = f"openacl does not support {call.qualname} yet"

    def not_supported(*_args):
        raise ApiNotSupported(message)

    not_supported.__doc__ = (f"Not supported yet: parses its arguments as pyACL does, then "
                             f"returns {int(ErrorCode.ACL_ERROR_API_NOT_SUPPORT)}.")
    return not_supported


class _Missing:
    __slots__ = ()

    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


def build_modules() -> dict[str, types.ModuleType]:
    """Return ``acl`` and its submodules, each filled from the call table.

    The modules are the table's: a line ``media.x`` makes ``acl.media`` exist, documented
    by ``MODULE_DOCS``.
    """
    from openacl.acl.table import MODULE_DOCS

    modules = {}
    for call in CALLS:
        if call.module not in modules:
            name = "acl" if call.module == "acl" else f"acl.{call.module}"
            modules[call.module] = types.ModuleType(name, MODULE_DOCS[call.module])
        implementation = _IMPLEMENTATIONS.get(call.key) or _not_supported(call)
        function = _generate(call, implementation)
        module = modules[call.module]
        function.__module__ = module.__name__
        function.__qualname__ = call.name
        setattr(module, call.name, function)
    for module in modules.values():
        module.__all__ = sorted(n for n in vars(module) if not n.startswith("_"))
    return modules
