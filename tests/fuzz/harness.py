"""Every pyACL call the fuzzer makes goes through ``Api.call``, which checks what any call
must satisfy, whatever its arguments:

* only argument coercion raises (the exception types the caller says it expects);
* the shape is pyACL's: ``ret`` or a tuple ending in ``ret``, and ``type(ret) is int``;
* ``ret`` is never 500000 (ACL_ERROR_INTERNAL_ERROR: an exception escaped the core);
* a failure leaves a message in ``acl.get_recent_err_msg()`` that names the call and its
  code; a success leaves none;
* the call returns within the watchdog's limit (a hang becomes a failure, never a stuck run).
"""

from __future__ import annotations

import collections
import logging
import signal
import threading
from dataclasses import dataclass

import acl
from openacl.acl.build import CALLS

__all__ = ["Api", "Hang", "Outcome", "ErrorLog", "INTERNAL_ERROR"]

INTERNAL_ERROR = 500000


class Hang(BaseException):
    """A call did not return in time (BaseException: the facade must not swallow it)."""


@dataclass
class Outcome:
    values: tuple = ()
    ret: int | None = None        # None for calls that return a bare value
    message: str | None = None
    raised: BaseException | None = None

    @property
    def value(self):
        return self.values[0] if self.values else None


def _signatures() -> dict:
    table = {}
    for call in CALLS:
        module = acl if call.module == "acl" else getattr(acl, call.module)
        returns = call.returns
        if returns == "ret":
            shape = ("ret", 0)
        elif returns.startswith("("):
            shape = ("tuple", returns.count(","))
        else:
            shape = ("bare", 1)
        table[call.key] = (getattr(module, call.name), call.qualname, shape)
    return table


_SIGNATURES = _signatures()


class Api:
    """Calls pyACL, checks the universal invariants, and enforces the watchdog."""

    def __init__(self, limit_seconds: float):
        self.limit = limit_seconds
        self.calls = 0
        self.seen = collections.Counter()      # (call, outcome) -> times
        self._signal_ok = threading.current_thread() is threading.main_thread()
        self._previous = None
        if self._signal_ok:
            self._previous = signal.signal(signal.SIGALRM, self._on_alarm)

    def close(self) -> None:
        if self._signal_ok:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous or signal.SIG_DFL)
            self._signal_ok = False

    def _on_alarm(self, signum, frame):
        raise Hang(f"a pyACL call did not return within {self.limit} s")

    def _main(self) -> bool:
        return self._signal_ok and threading.current_thread() is threading.main_thread()

    def arm(self, seconds: float | None = None) -> None:
        if self._main():
            signal.setitimer(signal.ITIMER_REAL, seconds or self.limit)

    def disarm(self) -> None:
        if self._main():
            signal.setitimer(signal.ITIMER_REAL, 0)

    def call(self, key: str, *args, raises=None) -> Outcome:
        """Call ``acl.<key>`` (e.g. ``"rt.malloc"``) and check it.

        ``raises``: the exception type(s) the arguments must make the call raise; without
        it, any exception is a failure.
        """
        function, qualname, (shape, count) = _SIGNATURES[key]
        acl.get_recent_err_msg()                     # start from no message
        self.calls += 1
        self.arm()
        try:
            result = function(*args)
        except Hang as hang:
            # An ordinary failure from here on, so that hypothesis shows the steps.
            raise AssertionError(f"{qualname}{_show(args)} did not return within "
                                 f"{self.limit} s (a hang)") from hang
        except BaseException as error:  # noqa: BLE001 - checked right below
            self.disarm()
            if raises is not None and isinstance(error, raises):
                self.seen[(qualname, type(error).__name__)] += 1
                left = acl.get_recent_err_msg()
                assert left is None, f"{qualname} raised {error!r} but left a message {left!r}"
                return Outcome(raised=error)
            raise AssertionError(f"{qualname}{_show(args)} raised {type(error).__name__}: "
                                 f"{error}") from error
        finally:
            self.disarm()
        assert raises is None, f"{qualname}{_show(args)} returned {result!r}, not {raises}"
        message = acl.get_recent_err_msg()
        if shape == "bare":
            self.seen[(qualname, "failed" if message else "ok")] += 1
            if message is not None:
                _check_message(qualname, message, None)
            return Outcome((result,), None, message)
        if shape == "ret":
            ret, values = result, ()
        else:
            assert type(result) is tuple and len(result) == count + 1, \
                f"{qualname}{_show(args)} returned {result!r}: expected {count} value(s) and ret"
            ret, values = result[-1], result[:-1]
        assert type(ret) is int, f"{qualname} returned ret {ret!r} of type {type(ret).__name__}"
        self.seen[(qualname, ret)] += 1
        assert ret != INTERNAL_ERROR, f"{qualname}{_show(args)} -> 500000: {message}"
        if ret:
            _check_message(qualname, message, ret)
        else:
            assert message is None, f"{qualname} succeeded but left a message: {message!r}"
        return Outcome(values, ret, message)


def _check_message(qualname: str, message, ret) -> None:
    assert isinstance(message, str) and message, f"{qualname} failed ({ret}) without a message"
    assert qualname in message, f"the message of {qualname} does not name it: {message!r}"
    assert "error code 500000" not in message, f"{qualname}: internal error: {message}"
    if ret is not None:
        assert str(ret) in message, f"the message of {qualname} lacks its code {ret}: {message!r}"


def _show(args) -> str:
    text = repr(args)
    return text if len(text) < 300 else text[:300] + "...)"


class ErrorLog(logging.Handler):
    """Collects ERROR records of the ``openacl`` logger (internal errors, worker crashes)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(self.format(record))

    def __enter__(self):
        logging.getLogger("openacl").addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger("openacl").removeHandler(self)
