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

__all__ = ["Reports", "ReportQueue"]

log = logging.getLogger("openacl")
ACL_CALLBACK_NO_BLOCK, ACL_CALLBACK_BLOCK = 0, 1


class ReportQueue:
    """The callbacks waiting for one report thread, and the streams it serves."""

    def __init__(self, thread_id: int):
        self.thread_id = thread_id
        self.streams: set = set()
        self.device = None
        self.cond = threading.Condition()
        self.items: deque = deque()

    def put(self, item) -> None:
        with self.cond:
            self.items.append(item)
            self.cond.notify()


class Reports:
    """Every report queue of the process, keyed by thread id (``pthread_t``)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._queues: dict[int, ReportQueue] = {}

    def subscribe(self, thread_id: int, stream) -> None:
        with self._lock:
            if stream.subscriber is not None:
                raise RepeatSubscribe(f"{stream.label} is already served by report thread "
                                      f"{stream.subscriber.thread_id}")
            queue = self._queues.setdefault(thread_id, ReportQueue(thread_id))
            device = stream.context.device
            if queue.device is not None and queue.device is not device and queue.streams:
                raise RuntimeParamInvalid(f"report thread {thread_id} already serves device "
                                          f"{queue.device.index}; one thread serves one device")
            queue.device = device
            queue.streams.add(stream)
            stream.subscriber = queue

    def unsubscribe(self, thread_id: int, stream) -> None:
        with self._lock:
            queue = self._queues.get(thread_id)
            if queue is None or stream not in queue.streams:
                raise RuntimeParamInvalid(f"{stream.label} is not subscribed to report thread "
                                          f"{thread_id}")
            queue.streams.discard(stream)
            stream.subscriber = None
        self._drop(queue, stream)

    def launch(self, function, user_data, block_type: int, stream) -> None:
        if block_type not in (ACL_CALLBACK_NO_BLOCK, ACL_CALLBACK_BLOCK):
            raise InvalidParam(f"block type {block_type} is invalid: expected 0 (no block) or "
                               f"1 (block)")
        if stream.subscriber is None:
            raise StreamNotSubscribed(f"no report thread is subscribed to {stream.label}: call "
                                      f"acl.rt.subscribe_report first")
        stream.callback_launched()
        block = block_type == ACL_CALLBACK_BLOCK

        def deliver():
            queue = stream.subscriber
            if queue is None:
                stream.callback_finished()
                raise StreamNotSubscribed(f"{stream.label} lost its report thread before a "
                                          f"callback could be delivered")
            done = threading.Event() if block else None
            queue.put((function, user_data, done, stream))
            if done is not None:
                done.wait()                  # ACL_CALLBACK_BLOCK: later tasks wait for it

        deliver.on_drop = stream.callback_finished
        stream.submit(deliver, "launch_callback")

    def process(self, thread_id: int, timeout: float | None) -> None:
        """Run the callbacks waiting for this thread, waiting up to ``timeout`` for one."""
        queue = self._queues.get(thread_id)
        if queue is None or not queue.streams:
            raise ThreadNotSubscribed(f"thread {thread_id} is not subscribed to any stream: "
                                      f"call acl.rt.subscribe_report first")
        with queue.cond:
            if not queue.cond.wait_for(lambda: queue.items, timeout):
                raise ReportTimeout(f"no callback arrived within {timeout * 1000:.0f} ms")
            items = list(queue.items)
            queue.items.clear()
        for function, user_data, done, stream in items:
            try:
                function(user_data)
            except Exception:                            # logged and swallowed, as in pyACL
                log.exception("a host callback launched on %s raised", stream.label)
            finally:
                if done is not None:
                    done.set()
                stream.callback_finished()

    def _drop(self, queue: ReportQueue, stream) -> None:
        """Callbacks of an unsubscribed stream that never ran: release whoever waits."""
        with queue.cond:
            kept = deque(item for item in queue.items if item[3] is not stream)
            dropped = [item for item in queue.items if item[3] is stream]
            queue.items = kept
        for _, _, done, _ in dropped:
            if done is not None:
                done.set()
            stream.callback_finished()

    def clear(self) -> None:
        with self._lock:
            queues = list(self._queues.values())
            self._queues.clear()
        for queue in queues:
            for stream in list(queue.streams):
                stream.subscriber = None
                self._drop(queue, stream)
