"""Every wait of the runtime goes through ``watched_wait``: bounded, or explained.

pyACL blocks in a few places until something else happens: a stream until its tasks and
callbacks ran, an event until a stream reached it, a report thread until a callback
arrives. On an NPU a program that waits for something that will never come hangs without
a word. Here each wait knows what it is waiting for:

* where openacl can tell that the wait can never end (the report thread that must run a
  callback has exited, the stream a report thread serves was unsubscribed), ``stuck``
  says why and the wait ends with that reason (the caller turns it into a return code);
* where it cannot tell, and pyACL would go on blocking, a ``FidelityWarning`` names what is
  awaited once the wait has lasted ``OPENACL_WAIT_WARNING`` seconds; the wait goes on.
"""

from __future__ import annotations

import sys
import threading
import time
import warnings

from openacl import config
from openacl.errors import FidelityWarning

__all__ = ["watched_wait", "watched_join", "thread_liveness", "POLL_SECONDS"]

POLL_SECONDS = 0.05          # how often a wait with a ``stuck`` check looks again


def watched_wait(cond: threading.Condition, predicate, timeout: float | None, what: str,
                 stuck=None) -> str | bool:
    """Wait on ``cond`` (held by the caller) until ``predicate()`` is true.

    Return True when it is, False when ``timeout`` seconds ran out first, or the reason
    ``stuck()`` gave (a string) when the wait can never end.
    """
    if predicate():
        return True
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    warn_after = config.wait_warning()
    warn_at = None if warn_after is None else start + warn_after
    while True:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return False
        if warn_at is not None and now >= warn_at:
            _warn(what, now - start)
            warn_at = None
        slices = [t for t in (deadline, warn_at) if t is not None]
        if stuck is not None:
            slices.append(now + POLL_SECONDS)
        cond.wait(min(slices) - now if slices else None)
        if predicate():
            return True
        if stuck is not None:
            reason = stuck()
            if reason:
                return reason


def watched_join(thread: threading.Thread, what: str) -> None:
    """``thread.join()``, saying what it waits for if that lasts (as ``watched_wait``)."""
    thread.join(config.wait_warning())
    if thread.is_alive():
        _warn(what, config.wait_warning())
        thread.join()


def thread_liveness(thread_id: int):
    """Return a check "is the thread ``thread_id`` still alive?", or None if it is not now.

    ``thread_id`` is a ``pthread_t``, as ``threading.get_ident`` gives, and the C library
    hands the id of an exited thread to the next new one: so the check follows the thread
    object found now, not the number. A thread that runs Python is known to ``threading``
    or has a frame; a report thread always runs Python (it calls ``process_report``).
    """
    for thread in threading.enumerate():
        if thread.ident == thread_id and not isinstance(thread, threading._DummyThread):
            return thread.is_alive
    if thread_id in sys._current_frames():      # a thread started outside ``threading``
        return lambda: thread_id in sys._current_frames()
    return None


def _warn(what: str, seconds: float) -> None:
    warnings.warn(f"still waiting after {seconds:.0f} s for {what}; on an NPU this program "
                  f"would block here (OPENACL_WAIT_WARNING sets when this is said)",
                  FidelityWarning, stacklevel=4)
