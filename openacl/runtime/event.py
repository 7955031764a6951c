"""Events: markers recorded on a stream, completed when the stream reaches them.

Each record gets a sequence number; waiting or querying concerns the records made so far.
The completion time is taken when the stream's worker reaches the marker, so the elapsed
time between two events is the real time the work between them took.
"""

from __future__ import annotations

import threading
import time

from openacl.errors import AclError, EventSyncTimeout
from openacl.constants import ErrorCode
from openacl.runtime.waits import watched_wait

__all__ = ["Event", "ACL_EVENT_SYNC"]

ACL_EVENT_SYNC = 0x1
_KNOWN_FLAGS = 0x1 | 0x2 | 0x8 | 0x10 | 0x20 | 0x40


class Event:
    """``aclrtEvent``."""

    def __init__(self, context, flags: int = ACL_EVENT_SYNC):
        self.context = context
        self.flags = flags
        self.handle = 0
        self._cond = threading.Condition()
        self._recorded = 0            # records queued so far
        self._completed = 0           # records the streams have reached
        self._resets = 0              # reset_event tasks run: each ends the waits before it
        self.completed_at: float | None = None     # perf_counter seconds of the last completion
        self.last_stream = None       # where it was last recorded: its failures surface here

    def __repr__(self):
        return f"<event {self.handle:#x}>"

    @staticmethod
    def check_flags(flags: int) -> None:
        if flags & ~_KNOWN_FLAGS:
            from openacl.errors import InvalidParam

            raise InvalidParam(f"event flag {flags:#x} has unknown bits (known: {_KNOWN_FLAGS:#x})")

    @property
    def recorded(self) -> bool:
        return self._recorded > 0

    @property
    def complete(self) -> bool:
        return self._recorded > 0 and self._completed >= self._recorded

    def record(self, stream) -> None:
        with self._cond:
            self._recorded += 1
            sequence = self._recorded
            self.last_stream = stream

        def reach():
            self._reach(sequence)

        reach.on_drop = reach          # a dropped marker still releases its waiters
        stream.submit(reach, f"record_event {self.handle:#x}")

    def _reach(self, sequence: int) -> None:
        with self._cond:
            if sequence > self._completed:
                self._completed = sequence
                self.completed_at = time.perf_counter()
            self._cond.notify_all()

    def reset(self, stream) -> None:
        def clear():
            with self._cond:
                self._recorded = self._completed = 0
                self._resets += 1
                self.completed_at = None
                self._cond.notify_all()

        stream.submit(clear, f"reset_event {self.handle:#x}")

    def _until_reached(self):
        """A predicate: the records made so far were reached, or a reset cleared them."""
        target, resets = self._recorded, self._resets
        return lambda: self._completed >= target or self._resets != resets

    def wait_task(self):
        """A stream task that waits for the records made so far (for stream_wait_event)."""
        with self._cond:
            reached = self._until_reached()

        def wait():
            with self._cond:
                watched_wait(self._cond, reached, None, f"{self!r}, which a stream waits for")

        return wait

    def synchronize(self, timeout: float | None = None) -> None:
        with self._cond:
            if not watched_wait(self._cond, self._until_reached(), timeout,
                                f"{self!r} to be reached by its stream"):
                raise EventSyncTimeout(f"event {self.handle:#x} was not reached within "
                                       f"{timeout * 1000:.0f} ms (the timeout; -1 waits "
                                       f"until its stream reaches it)")

    def elapsed_ms(self, end: "Event") -> float:
        for event, role in ((self, "start"), (end, "end")):
            if not event.recorded:
                raise AclError(f"the {role} event {event.handle:#x} was never recorded: record "
                               f"it on a stream with acl.rt.record_event first",
                               ErrorCode.ACL_ERROR_RT_EVENT_TIMESTAMP_INVALID)
            if not event.complete:
                raise AclError(f"the {role} event {event.handle:#x} has not completed yet: "
                               f"synchronize its stream or the event first",
                               ErrorCode.ACL_ERROR_RT_EVENT_NOT_COMPLETE)
        elapsed = (end.completed_at - self.completed_at) * 1000.0
        if elapsed < 0:
            raise AclError(f"the end event {end.handle:#x} completed {-elapsed:.3f} ms before "
                           f"the start event {self.handle:#x}: pass the earlier event as start "
                           f"(acl.rt.event_elapsed_time(start, end))",
                           ErrorCode.ACL_ERROR_RT_EVENT_TIMESTAMP_REVERSAL)
        return elapsed
