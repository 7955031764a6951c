"""Host callbacks and report threads (``subscribe_report``/``launch_callback``/``process_report``).

A callback is a stream task: when the stream reaches it, the callback is handed to the
report thread subscribed to that stream, which runs it inside ``process_report``. With
ACL_CALLBACK_BLOCK the stream waits for it before running later tasks; either way
``synchronize_stream`` returns only after the stream's callbacks have run.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from openacl.errors import (InvalidParam, RepeatSubscribe, ReportTimeout, RuntimeParamInvalid,
                            StreamNotSubscribed, ThreadNotSubscribed)
from openacl.runtime.waits import thread_liveness, watched_wait

__all__ = ["Reports", "ReportQueue"]

log = logging.getLogger("openacl")
ACL_CALLBACK_NO_BLOCK, ACL_CALLBACK_BLOCK = 0, 1


class _Callback:
    """One launched host callback, waiting in a report queue until its thread runs it."""

    __slots__ = ("function", "user_data", "block", "stream", "finished")

    def __init__(self, function, user_data, block: bool, stream):
        self.function = function
        self.user_data = user_data
        self.block = block
        self.stream = stream
        self.finished = False


class ReportQueue:
    """The callbacks waiting for one report thread, and the streams it serves."""

    def __init__(self, thread_id: int, alive):
        self.thread_id = thread_id
        self.alive = alive            # () -> bool: the subscribed thread is still running
        self.streams: set = set()
        self.device = None
        self.cond = threading.Condition()
        self.items: deque[_Callback] = deque()

    def put(self, item: _Callback) -> None:
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def finish(self, item: _Callback) -> None:
        with self.cond:
            item.finished = True
            self.cond.notify_all()
        item.stream.callback_finished()

    def detach(self, stream) -> None:
        """``stream`` is no longer served here: drop its callbacks, wake a waiting thread."""
        with self.cond:
            self.streams.discard(stream)
            self.cond.notify_all()
        self._drop(stream)

    def abandon(self, stream, reason: str) -> None:
        """The thread is gone: drop ``stream``'s callbacks and report it at synchronize."""
        if self._drop(stream):
            stream.record_error(StreamNotSubscribed(reason))

    def _drop(self, stream) -> int:
        """Callbacks of ``stream`` that never ran: release whoever waits for them."""
        with self.cond:
            dropped = [item for item in self.items if item.stream is stream]
            if dropped:
                self.items = deque(item for item in self.items if item.stream is not stream)
        for item in dropped:
            self.finish(item)
        return len(dropped)


class Reports:
    """Every report queue of the process, keyed by thread id (``pthread_t``)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._queues: dict[int, ReportQueue] = {}

    def subscribe(self, thread_id: int, stream) -> None:
        with self._lock:
            if stream.subscriber is not None:
                raise RepeatSubscribe(f"{stream.label} is already served by report thread "
                                      f"{stream.subscriber.thread_id}; one thread serves a "
                                      f"stream: call acl.rt.unsubscribe_report first")
            alive = thread_liveness(thread_id)
            queue = self._queues.get(thread_id)
            if queue is not None and not queue.alive():
                del self._queues[thread_id]        # a new thread got an exited one's id
                queue = None
            if alive is None:
                raise RuntimeParamInvalid(
                    f"thread id {thread_id} is not a live thread of this process (never "
                    f"started, or exited), so no callback of {stream.label} could ever run: "
                    f"subscribe the id acl.util.start_thread returned (or "
                    f"threading.get_ident() of the report thread)")
            if queue is None:
                queue = self._queues[thread_id] = ReportQueue(thread_id, alive)
            device = stream.context.device
            if queue.device is not None and queue.device is not device and queue.streams:
                raise RuntimeParamInvalid(f"report thread {thread_id} already serves device "
                                          f"{queue.device.index}; one thread serves one device")
            queue.device = device
            queue.streams.add(stream)
            stream.subscriber = queue

    def unsubscribe(self, thread_id: int, stream) -> None:
        with self._lock:
            queue = stream.subscriber
            if queue is None or queue.thread_id != thread_id:
                raise RuntimeParamInvalid(f"{stream.label} is not subscribed to report thread "
                                          f"{thread_id}")
            stream.subscriber = None
        queue.detach(stream)

    def launch(self, function, user_data, block_type: int, stream) -> None:
        if block_type not in (ACL_CALLBACK_NO_BLOCK, ACL_CALLBACK_BLOCK):
            raise InvalidParam(f"block type {block_type} is invalid: expected 0 (no block) or "
                               f"1 (block)")
        queue = stream.subscriber
        if queue is None:
            raise StreamNotSubscribed(f"no report thread is subscribed to {stream.label}: call "
                                      f"acl.rt.subscribe_report first")
        if not queue.alive():
            raise StreamNotSubscribed(_exited(queue, stream))
        stream.callback_launched()
        item = _Callback(function, user_data, block_type == ACL_CALLBACK_BLOCK, stream)

        def deliver():
            queue = stream.subscriber
            if queue is None or not queue.alive():
                stream.callback_finished()
                raise StreamNotSubscribed(
                    _exited(queue, stream) if queue is not None else
                    f"{stream.label} was unsubscribed before a callback could be delivered")
            queue.put(item)
            if item.block:                   # ACL_CALLBACK_BLOCK: later tasks wait for it
                with queue.cond:
                    done = watched_wait(
                        queue.cond, lambda: item.finished, None,
                        f"report thread {queue.thread_id} to run a blocking callback of "
                        f"{stream.label} (is it calling acl.rt.process_report?)",
                        lambda: None if queue.alive() else _exited(queue, stream))
                if done is not True:
                    queue.abandon(stream, done)

        deliver.on_drop = stream.callback_finished
        stream.submit(deliver, "launch_callback")

    def post(self, function, user_data, stream) -> None:
        """Hand a callback straight to the thread serving ``stream``, without a stream task.

        For the runtime's own streams (a VDEC/VENC channel's), whose single producer already
        runs in frame order: ``stream.synchronize`` still waits until the callback has run.
        """
        queue = stream.subscriber
        if queue is None:
            raise StreamNotSubscribed(f"no report thread is subscribed to {stream.label}")
        if not queue.alive():
            raise StreamNotSubscribed(_exited(queue, stream))
        stream.callback_launched()
        queue.put(_Callback(function, user_data, False, stream))

    def process(self, thread_id: int, timeout: float | None) -> None:
        """Run the callbacks waiting for this thread, waiting up to ``timeout`` for one."""
        queue = self._queues.get(thread_id)
        if queue is None or not queue.streams or not queue.alive():    # alive: not an old id
            raise ThreadNotSubscribed(f"thread {thread_id} is not subscribed to any stream: "
                                      f"call acl.rt.subscribe_report first")
        with queue.cond:
            arrived = watched_wait(queue.cond, lambda: queue.items or not queue.streams,
                                   timeout, f"a host callback for report thread {thread_id}")
            if not arrived:
                raise ReportTimeout(f"no callback arrived within {timeout * 1000:.0f} ms for "
                                    f"report thread {thread_id}: its streams queue them with "
                                    f"acl.rt.launch_callback (-1 waits without a limit)")
            if not queue.items:
                raise ThreadNotSubscribed(
                    f"thread {thread_id} stopped serving any stream while it waited (its "
                    f"streams were unsubscribed or destroyed): no callback can arrive")
            items = list(queue.items)
            queue.items.clear()
        for item in items:
            try:
                item.function(item.user_data)
            except Exception:                            # logged and swallowed, as in pyACL
                log.exception("a host callback launched on %s raised", item.stream.label)
            finally:
                queue.finish(item)

    def clear(self) -> None:
        with self._lock:
            queues = list(self._queues.values())
            self._queues.clear()
        for queue in queues:
            for stream in list(queue.streams):
                stream.subscriber = None
                queue.detach(stream)


def _exited(queue: ReportQueue, stream) -> str:
    return (f"report thread {queue.thread_id} serving {stream.label} has exited, so a host "
            f"callback launched there can never run")
