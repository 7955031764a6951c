"""Native threads for ``acl.util.start_thread``/``stop_thread``.

A thread's id is its ``pthread_t`` (``threading.get_ident()`` on Linux), the value that
``acl.rt.subscribe_report`` takes. A new thread has no current context, as in ACL.
"""

from __future__ import annotations

import errno
import threading
import traceback

from openacl.errors import ThreadFunctionFailed
from openacl.runtime.waits import watched_join

__all__ = ["start_thread", "stop_thread"]

_threads: dict[int, "_AppThread"] = {}
_lock = threading.Lock()


class _AppThread(threading.Thread):
    def __init__(self, function, argument):
        super().__init__(name="acl-app-thread", daemon=True)
        self._function = function
        self._argument = argument
        self.failure: str | None = None

    def run(self):
        try:
            if self._argument is None:
                self._function()
            else:
                self._function(self._argument)
        except BaseException as error:                   # re-raised by stop_thread
            self.failure = "".join(traceback.format_exception_only(type(error), error)).strip()
            traceback.print_exc()


def start_thread(function, argument) -> int:
    """Start ``function(argument)`` (``function()`` if argument is None); return its id."""
    thread = _AppThread(function, argument)
    thread.start()
    with _lock:
        _threads[thread.ident] = thread
    return thread.ident


def stop_thread(thread_id: int) -> int:
    """Join the thread; return 0, or an errno as ``pthread_join`` does."""
    with _lock:
        thread = _threads.get(thread_id)
    if thread is None:
        return errno.ESRCH
    if thread is threading.current_thread():
        return errno.EDEADLK
    watched_join(thread, f"thread {thread_id} to return (acl.util.stop_thread joins it)")
    with _lock:
        _threads.pop(thread_id, None)
    if thread.failure is not None:
        raise ThreadFunctionFailed(f"the thread function raised: {thread.failure}")
    return 0
