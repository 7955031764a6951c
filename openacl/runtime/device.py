"""Devices and contexts.

A device is served by a backend (its memory and copies). A context belongs to one device
and owns streams: its default stream and those created while it was current. Dependencies
are structural: a stream holds its context, a context holds its device.
"""

from __future__ import annotations

import itertools
import threading

from openacl.errors import InvalidParam, NoStreamResource
from openacl.runtime.backend import CpuBackend
from openacl.runtime.handles import handles
from openacl.runtime.stream import Stream

__all__ = ["Device", "Context", "MAX_STREAMS_PER_DEVICE"]

MAX_STREAMS_PER_DEVICE = 1024       # Atlas inference products, default streams included


class Device:
    """One emulated NPU."""

    def __init__(self, index: int, memory_size: int):
        self.index = index
        self.backend = CpuBackend(index, memory_size)
        self.arena = self.backend.arena
        self.set_count = 0                       # acl.rt.set_device reference count
        self.default_context: Context | None = None
        self.contexts: list[Context] = []
        self.sat_mode = 0
        self._stream_ids = itertools.count()
        self.lock = threading.RLock()

    def __repr__(self):
        return f"<device {self.index}>"

    @property
    def stream_count(self) -> int:
        return sum(1 + len(c.streams) for c in self.contexts)

    def next_stream_id(self) -> int:
        return next(self._stream_ids)


class Context:
    """A context: the unit that owns streams and loaded models."""

    def __init__(self, device: Device, default: bool):
        self.device = device
        self.is_default = default
        self.destroyed = False
        self.sys_params: dict[int, int] = {}
        self.streams: dict[int, Stream] = {}
        handles.register(self)
        self.default_stream = Stream(self, device.next_stream_id(), default=True)
        handles.register(self.default_stream)
        device.contexts.append(self)

    def __repr__(self):
        kind = "default context" if self.is_default else "context"
        return f"<{kind} {self.handle:#x} on device {self.device.index}>"

    def all_streams(self) -> list[Stream]:
        return [self.default_stream, *self.streams.values()]

    def create_stream(self, priority: int = 0, flags: int = 0) -> Stream:
        with self.device.lock:
            if self.device.stream_count >= MAX_STREAMS_PER_DEVICE:
                raise NoStreamResource(
                    f"device {self.device.index} already has {MAX_STREAMS_PER_DEVICE} streams "
                    f"(default streams included); destroy some first")
            stream = Stream(self, self.device.next_stream_id(), priority=priority, flags=flags)
            handles.register(stream)
            self.streams[stream.handle] = stream
        return stream

    def destroy_stream(self, stream: Stream, drain: bool = True) -> None:
        if stream.is_default:
            raise InvalidParam("the default stream cannot be destroyed")
        with self.device.lock:
            self.streams.pop(stream.handle, None)
            handles.remove(stream.handle)
        stream.close(drain)

    def synchronize(self, timeout: float | None = None) -> None:
        """Wait for all streams of this context; raise the first pending failure."""
        first_error = None
        for stream in self.all_streams():
            try:
                stream.synchronize(timeout)
            except Exception as error:
                first_error = first_error or error
        if first_error is not None:
            raise first_error

    def destroy(self) -> None:
        """Drain and close every stream, then forget the context."""
        with self.device.lock:
            streams = self.all_streams()
            self.streams.clear()
            if self in self.device.contexts:
                self.device.contexts.remove(self)
            for stream in streams:
                handles.remove(stream.handle)
            handles.remove(self.handle)
            self.destroyed = True
        for stream in streams:
            stream.close(drain=True)
