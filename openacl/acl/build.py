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
import types
from dataclasses import dataclass

from openacl.constants import ErrorCode
from openacl.errors import AclError, ThreadFunctionFailed

__all__ = ["Call", "CALLS", "implements", "implemented_keys", "build_modules", "take_recent_error"]

log = logging.getLogger("openacl")

# Python exceptions that are pyACL's own answer to bad arguments: they propagate.
_ARGUMENT_ERRORS = (TypeError, ValueError, OverflowError, KeyError, MemoryError,
                    ThreadFunctionFailed)


@dataclass(frozen=True)
class Param:
    code: str
    name: str
    optional: bool


@dataclass(frozen=True)
class Call:
    module: str                # "acl", "rt", "mdl" or "util"
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
        names = [p.name if not p.optional else f"[{p.name}]" for p in self.params]
        return f"{self.qualname}({', '.join(names)}) -> {self.returns}"


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


# ---------------------------------------------------------------- recent error message

class _Recent(threading.local):
    message: str | None = None


_tls = _Recent()
_last = [None]                             # the newest message of any thread


def _remember(message: str) -> None:
    _tls.message = message
    _last[0] = message


def take_recent_error(process_wide: bool = False) -> str | None:
    """Return and clear the newest failure message (of this thread, or of the process)."""
    if process_wide:
        message, _last[0] = _last[0], None
        _tls.message = None
        return message
    message, _tls.message = _tls.message, None
    return message


# ---------------------------------------------------------------- argument coercion

def _index(value, qualname: str, position: int, expected: str) -> int:
    if isinstance(value, float) or value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{qualname} args parse failed! argument {position} must be "
                        f"{expected}, not {type(value).__name__}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{qualname} args parse failed! argument {position} must be "
                        f"{expected}, not {type(value).__name__}") from None


def _masked(bits: int):
    mask = (1 << bits) - 1

    def coerce(value, qualname, position):
        return _index(value, qualname, position, "int") & mask

    return coerce


def _ranged(low: int, high: int, what: str):
    def coerce(value, qualname, position):
        number = _index(value, qualname, position, "int")
        if not low <= number <= high:
            raise OverflowError(f"{qualname} args parse failed! argument {position} "
                                f"({number}) does not fit in {what}")
        return number

    return coerce


def _float(value, qualname, position):
    if isinstance(value, (int, float)) and not isinstance(value, bool) or hasattr(value, "__float__"):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{qualname} args parse failed! argument {position} must be float, "
                    f"not {type(value).__name__}")


def _string(value, qualname, position):
    if not isinstance(value, str):
        raise TypeError(f"{qualname} args parse failed! argument {position} must be str, "
                        f"not {type(value).__name__}")
    if "\0" in value:
        raise ValueError(f"{qualname}: argument {position} contains a null character")
    return value


def _exact(kind: type):
    def coerce(value, qualname, position):
        if type(value) is not kind:
            raise TypeError(f"{qualname} args parse failed! argument {position} must be "
                            f"{kind.__name__}, not {type(value).__name__}")
        return value

    return coerce


_COERCE = {
    "K": _masked(64), "I": _masked(32), "H": _masked(16), "B": _masked(8),
    "i": _ranged(-(1 << 31), (1 << 31) - 1, "a C int"),
    "h": _ranged(-(1 << 15), (1 << 15) - 1, "a C short"),
    "L": _ranged(-(1 << 63), (1 << 63) - 1, "a C long long"),
    "b": _ranged(0, 255, "an unsigned char"),
    "f": _float, "s": _string, "list": _exact(list), "dict": _exact(dict),
}
# Fast-path tests inlined in the generated code: a plain int already in range passes.
_FAST = {
    "K": "0 <= {a} <= 0xFFFFFFFFFFFFFFFF", "I": "0 <= {a} <= 0xFFFFFFFF",
    "H": "0 <= {a} <= 0xFFFF", "B": "0 <= {a} <= 0xFF", "i": "-0x80000000 <= {a} <= 0x7FFFFFFF",
    "h": "-0x8000 <= {a} <= 0x7FFF",
    "L": "-0x8000000000000000 <= {a} <= 0x7FFFFFFFFFFFFFFF", "b": "0 <= {a} <= 255",
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
    kind, failure = _shape(call.returns)
    if kind == "ret":
        return code
    if kind == "bare":
        return dict(failure) if isinstance(failure, dict) else failure
    return tuple(dict(v) if isinstance(v, dict) else v for v in failure) + (code,)


def _record_failure(call: Call, error: AclError):
    _remember(f"{call.qualname} failed, error code {error.code}: {error.message}")
    return _fail_value(call, error.code)


def _record_internal(call: Call, error: BaseException):
    log.error("internal error in %s", call.qualname, exc_info=error)
    _remember(f"{call.qualname} failed, error code {ErrorCode.ACL_ERROR_INTERNAL_ERROR}: "
              f"internal error {type(error).__name__}: {error}")
    return _fail_value(call, ErrorCode.ACL_ERROR_INTERNAL_ERROR)


def _generate(call: Call, implementation) -> types.FunctionType:
    names = [p.name for p in call.params]
    header = []
    for p in call.params:
        header.append(f"{p.name}=_MISSING" if p.optional else p.name)
    lines = [f"def {call.name}({', '.join(header)}{', /' if header else ''}):"]
    for position, p in enumerate(call.params, 1):
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
        lines.append(f"{indent}    {p.name} = _C_{p.code}({p.name}, _QUAL, {position})")
    kind, _ = _shape(call.returns)
    lines.append("    try:")
    lines.append(f"        _r = _impl({', '.join(names)})")
    lines.append("    except _AclError as _e:")
    lines.append("        return _record_failure(_CALL, _e)")
    lines.append("    except _ARGUMENT_ERRORS:")
    lines.append("        raise")
    lines.append("    except Exception as _e:")
    lines.append("        return _record_internal(_CALL, _e)")
    success = {"ret": "0", "tuple1": "(_r, 0)", "tupleN": "(*_r, 0)", "bare": "_r"}[kind]
    lines.append(f"    return {success}")
    namespace = {
        "_impl": implementation, "_MISSING": _MISSING, "_QUAL": call.qualname, "_CALL": call,
        "_AclError": AclError, "_ARGUMENT_ERRORS": _ARGUMENT_ERRORS,
        "_record_failure": _record_failure, "_record_internal": _record_internal,
    }
    for code, function in _COERCE.items():
        namespace[f"_C_{code}"] = function
    exec(compile("\n".join(lines), f"<pyACL {call.qualname}>", "exec"), namespace)
    function = namespace[call.name]
    function.__doc__ = f"{call.signature}\n\n{(implementation.__doc__ or '').strip()}"
    return function


def _unsupported(call: Call) -> types.FunctionType:
    message = f"openacl does not support {call.qualname} yet"
    code = ErrorCode.ACL_ERROR_API_NOT_SUPPORT

    def not_supported(*args):
        _remember(f"{call.qualname} failed, error code {code}: {message}")
        return _fail_value(call, code)

    not_supported.__name__ = call.name
    not_supported.__doc__ = f"{call.signature}\n\nNot supported yet: returns error {code}."
    return not_supported


class _Missing:
    __slots__ = ()

    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


def build_modules() -> dict[str, types.ModuleType]:
    """Return the modules ``acl``, ``acl.rt``, ``acl.mdl`` and ``acl.util`` filled from the table."""
    modules = {
        "acl": types.ModuleType("acl", "pyACL, implemented by openacl."),
        "rt": types.ModuleType("acl.rt", "pyACL runtime: devices, contexts, streams, memory."),
        "mdl": types.ModuleType("acl.mdl", "pyACL models: load, describe, datasets, execute."),
        "util": types.ModuleType("acl.util", "pyACL helpers: pointers, bytes, numpy, threads."),
    }
    for call in CALLS:
        implementation = _IMPLEMENTATIONS.get(call.key)
        function = _generate(call, implementation) if implementation else _unsupported(call)
        module = modules[call.module]
        function.__module__ = module.__name__
        function.__qualname__ = call.name
        setattr(module, call.name, function)
    for module in modules.values():
        module.__all__ = sorted(n for n in vars(module) if not n.startswith("_"))
    return modules
