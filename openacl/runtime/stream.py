"""Streams: ordered task queues, each run by a worker thread of its own.

A task is a callable and a label. The worker runs tasks in FIFO order; a task that raises
is recorded (tagged with its label) and returned by the next ``synchronize``, as ACL
reports a failed task at the next synchronize call. Later tasks still run
(ACL_CONTINUE_ON_FAILURE, the default failure mode).
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from openacl.errors import AclError, InternalError, StreamSyncTimeout
from openacl.profiling import recorder as _profiler
from openacl.profiling.recorder import _events, _now
from openacl.runtime.waits import watched_join, watched_wait

__all__ = ["Stream"]

log = logging.getLogger("openacl")
_record = _events.append


class Stream:
    """One stream of a context. Its worker thread starts with the first task."""

    def __init__(self, context, stream_id: int, *, priority: int = 0, flags: int = 0,
                 default: bool = False, name: str | None = None):
        self.context = context
        self.name = name              # a runtime-internal stream (e.g. a VDEC channel's)
        self.stream_id = stream_id
        self.priority = priority
        self.flags = flags
        self.is_default = default
        self.failure_mode = 0
        self.handle = 0
        self._lock = threading.Lock()
        self._has_work = threading.Condition(self._lock)
        self._progress = threading.Condition(self._lock)
        self._tasks: deque = deque()
        self._submitted = 0
        self._completed = 0
        self._waiters = 0
        self._error: AclError | None = None
        self._worker: threading.Thread | None = None
        self._closed = False
        self._callbacks = 0           # host callbacks launched here and not yet run
        self.subscriber = None        # the report queue of the thread serving callbacks

    def __repr__(self):
        kind = "default stream" if self.is_default else "stream"
        return f"<{kind} {self.stream_id} of {self.context!r}>"

    @property
    def label(self) -> str:
        if self.name is not None:
            return self.name
        return "the default stream" if self.is_default else f"stream {self.handle:#x}"

    # ------------------------------------------------------------------ submitting
    def submit(self, run, label: str) -> int:
        """Queue ``run()``; return its ticket for ``wait_for``."""
        with self._lock:
            if self._closed:
                raise InternalError(f"{self.label} was destroyed; cannot queue {label}")
            self._tasks.append((run, label))
            self._submitted += 1
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name=f"openacl-stream-{self.stream_id}", daemon=True)
                self._worker.start()
            else:
                self._has_work.notify()
            return self._submitted

    def wait_for(self, ticket: int) -> None:
        """Wait until the task ``submit`` gave ``ticket`` has run (or was dropped)."""
        with self._lock:
            self._waiters += 1
            try:
                watched_wait(self._progress, lambda: self._completed >= ticket, None,
                             f"{self.label} to run task {ticket} of {self._submitted}")
            finally:
                self._waiters -= 1

    def drain(self, timeout: float | None = None) -> bool | str:
        """Wait for every task queued so far, and the host callbacks they launched.

        False if ``timeout`` (seconds) ran out first; a reason (str) if the callbacks can
        never run (the report thread serving this stream has exited).
        """
        with self._lock:
            target = self._submitted
            self._waiters += 1
            try:
                return watched_wait(
                    self._progress, lambda: self._completed >= target and self._callbacks == 0,
                    timeout, f"{self.label} to finish {self.pending} task(s) and "
                    f"{self._callbacks} host callback(s)", self._callbacks_stuck)
            finally:
                self._waiters -= 1

    def _callbacks_stuck(self) -> str | None:
        queue = self.subscriber
        if self._callbacks and queue is not None and not queue.alive():
            return (f"report thread {queue.thread_id} serving {self.label} has exited, so its "
                    f"{self._callbacks} pending host callback(s) can never run")
        return None

    def callback_launched(self) -> None:
        with self._lock:
            self._callbacks += 1

    def callback_finished(self) -> None:
        with self._lock:
            self._callbacks -= 1
            if self._waiters:
                self._progress.notify_all()

    def synchronize(self, timeout: float | None = None) -> None:
        """Wait for every queued task; raise the first failure since the last synchronize."""
        while True:
            done = self.drain(timeout)
            if done is True:
                break
            if done is False:
                raise StreamSyncTimeout(
                    f"{self.label} still had {self.pending} unfinished task(s) after "
                    f"{timeout * 1000:.0f} ms (the timeout; -1 waits until they finish)")
            # The report thread is gone: drop the callbacks it will never run, and report it.
            queue = self.subscriber
            if queue is not None:
                queue.abandon(self, done)
        self.raise_pending_error()

    def raise_pending_error(self) -> None:
        with self._lock:
            error, self._error = self._error, None
        if error is not None:
            raise error

    @property
    def idle(self) -> bool:
        return self._completed >= self._submitted and self._callbacks == 0

    @property
    def pending(self) -> int:
        return self._submitted - self._completed

    def close(self, drain: bool = True, timeout: float | None = None) -> bool:
        """Stop the worker: after the queued tasks if ``drain``, else dropping them.

        With ``timeout``, wait at most that long for the task running now; return whether
        the worker is done (always, without a timeout).
        """
        with self._lock:
            if self._closed:
                return self._worker is None or not self._worker.is_alive()
            dropped = []
            if not drain:
                dropped = list(self._tasks)
                self._tasks.clear()
                self._completed += len(dropped)
                self._progress.notify_all()
            self._closed = True
            self._has_work.notify()
            worker = self._worker
        for run, _ in dropped:
            on_drop = getattr(run, "on_drop", None)
            if on_drop is not None:          # e.g. an event marker: release its waiters
                on_drop()
        if worker is not None and worker is not threading.current_thread():
            if timeout is not None:
                worker.join(timeout)
                if worker.is_alive():
                    return False
            else:
                watched_join(worker, f"{self.label} to finish its tasks before it is destroyed")
        queue, self.subscriber = self.subscriber, None
        if queue is not None:                # a destroyed stream is served by no report thread
            queue.detach(self)
        return True

    # ------------------------------------------------------------------ the worker
    def _work(self) -> None:
        lane = self.label                 # the profiler's lane (the handle is set by now)
        while True:
            with self._lock:
                while not self._tasks and not self._closed:
                    self._has_work.wait()
                if not self._tasks:
                    return
                run, label = self._tasks.popleft()
                skip = self.failure_mode == 1 and self._error is not None
            try:
                if skip:                  # ACL_STOP_ON_FAILURE: later tasks do not run
                    continue
                if _profiler.ON:          # openacl profiling: a lane per stream
                    start = _now()
                    try:
                        run()
                    finally:
                        _record(("task", label, lane, start, _now(), None))
                else:
                    run()
            except AclError as error:
                self.record_error(type(error)(f"{label} on {self.label} failed: {error.message}",
                                         error.code))
            except BaseException as error:          # a bug must not kill the worker
                log.error("%s on %s raised", label, self.label, exc_info=error)
                self.record_error(InternalError(f"{label} on {self.label} failed: "
                                           f"{type(error).__name__}: {error}"))
            finally:
                with self._lock:
                    self._completed += 1
                    if self._waiters:
                        self._progress.notify_all()

    def record_error(self, error: AclError) -> None:
        """Keep ``error`` for the next synchronize (the first one since the last wins)."""
        with self._lock:
            if self._error is None:
                self._error = error

