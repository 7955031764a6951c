"""The handle table: pyACL's int handles mapped to core objects.

Handles are plain non-zero ints, as in pyACL (where they are C pointer values). They are
drawn from a range that no real heap or mmap pointer of this process uses, so a device
pointer passed where a handle belongs is caught as an unknown handle.
"""

from __future__ import annotations

import itertools
import threading

from openacl.errors import InvalidParam
from openacl.runtime.leaks import creation_site

__all__ = ["HandleTable", "handles"]

_FIRST_HANDLE = 0x1_0000_0000
_STRIDE = 0x10


class HandleTable:
    """Maps ints to objects. It owns nothing beyond the mapping."""

    FIRST_HANDLE = _FIRST_HANDLE
    STRIDE = _STRIDE

    def __init__(self):
        self._objects: dict[int, object] = {}
        self.objects = self._objects            # read-only view for hot paths
        self.sites: dict[int, str] = {}         # handle -> creating line (OPENACL_LEAK_SITES)
        self._counter = itertools.count(_FIRST_HANDLE, _STRIDE)
        self._lock = threading.Lock()

    def add(self, obj) -> int:
        site = creation_site()
        with self._lock:
            handle = next(self._counter)
            self._objects[handle] = obj
            if site is not None:
                self.sites[handle] = site
        return handle

    def register(self, obj) -> int:
        """Give ``obj`` a handle (stored as ``obj.handle``) and return it."""
        obj.handle = self.add(obj)
        return obj.handle

    def get(self, handle: int, kind: type, what: str):
        """Return the live object of class ``kind`` behind ``handle`` or raise InvalidParam."""
        obj = self._objects.get(handle)
        if obj.__class__ is kind:
            return obj
        if handle == 0:
            raise InvalidParam(f"{what} handle is NULL (0)")
        if obj is None:
            raise InvalidParam(f"{what} handle {handle:#x} is unknown or was destroyed")
        raise InvalidParam(f"handle {handle:#x} is a {type(obj).__name__}, not a {what}")

    def remove(self, handle: int) -> None:
        with self._lock:
            self._objects.pop(handle, None)
            self.sites.pop(handle, None)

    def live(self, kind: type | None = None) -> list:
        with self._lock:
            objects = list(self._objects.values())
        return [o for o in objects if kind is None or o.__class__ is kind]

    def items(self) -> list[tuple[int, object]]:
        with self._lock:
            return list(self._objects.items())

    def clear(self) -> None:
        with self._lock:
            self._objects.clear()
            self.sites.clear()


handles = HandleTable()
