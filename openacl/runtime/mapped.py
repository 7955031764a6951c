"""Is a host address range really mapped, readable or writable, by this process?

A pointer that is neither runtime memory nor a host object ``acl.util`` handed out (a ctypes
buffer, another library's memory, or garbage) would crash the interpreter with SIGSEGV when
touched. Before it is touched, two checks run:

* ``mincore(2)`` over the page range: it fails with ENOMEM when any page is unmapped. It asks
  the kernel now, so memory unmapped a moment ago (a freed large numpy array) is caught; its
  cost is one system call plus one byte per page (about 2 us for a 1 MiB range).
* the protection of the mappings that cover the range, from ``/proc/self/maps``: cached, and
  re-read only when the cache does not prove the range accessible (new mappings appear as
  the program allocates), so the common case is a bisect.

Where neither facility exists (not Linux), ranges are accepted unchecked, as pyACL does.
"""

from __future__ import annotations

import bisect
import ctypes
import ctypes.util
import mmap
import os
import threading

__all__ = ["inaccessible"]

_PAGE = mmap.PAGESIZE
_MAPS = "/proc/self/maps"
_CHECKED = os.path.exists(_MAPS)          # Linux; elsewhere ranges are accepted unchecked

try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    _mincore = _libc.mincore
    _mincore.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
    _mincore.restype = ctypes.c_int
except (OSError, AttributeError):        # not glibc/Linux: no check
    _mincore = None


class _Mappings:
    """The process's mappings as sorted (start, end, readable, writable), refreshed on demand."""

    def __init__(self):
        self._lock = threading.Lock()
        self._starts: list[int] = []
        self._rows: list[tuple[int, int, bool, bool]] = []

    def refresh(self) -> bool:
        try:
            with open(_MAPS, "rb") as handle:
                text = handle.read()
        except OSError:
            return False
        rows = []
        for line in text.splitlines():
            span, perms = line.split(None, 2)[:2]
            low, high = span.split(b"-")
            rows.append((int(low, 16), int(high, 16), perms[0:1] == b"r", perms[1:2] == b"w"))
        rows.sort()
        with self._lock:
            self._rows = rows
            self._starts = [row[0] for row in rows]
        return True

    def covers(self, address: int, end: int, write: bool) -> bool | None:
        """True if [address, end) lies in contiguous mappings with the access; None unknown."""
        rows, starts = self._rows, self._starts
        if not rows:
            return None
        i = bisect.bisect_right(starts, address) - 1
        position = address
        while position < end:
            if i < 0 or i >= len(rows):
                return False
            low, high, readable, writable = rows[i]
            if not low <= position < high or not (writable if write else readable):
                return False
            position = high
            i += 1
        return True


_MAPPINGS = _Mappings()


# mincore writes one byte per page here. Nothing reads them, so one buffer serves every
# thread at once; it grows to the largest range asked so far.
_vector = [ctypes.create_string_buffer(256)]


def _pages_mapped(address: int, end: int) -> bool | None:
    if _mincore is None:
        return None
    first = address - address % _PAGE
    length = end - first
    vector = _vector[0]
    if len(vector) * _PAGE < length:
        vector = _vector[0] = ctypes.create_string_buffer(-(-length // _PAGE))
    if _mincore(first, length, vector) == 0:
        return True
    return False if ctypes.get_errno() == 12 else None     # ENOMEM: a page is unmapped


def inaccessible(address: int, count: int, write: bool) -> str | None:
    """Return why ``count`` bytes at ``address`` cannot be touched, or None if they can."""
    if count <= 0 or not _CHECKED:
        return None
    end = address + count
    if address < _PAGE or end > 1 << 64 or end < address:
        return f"{address:#x} is not a valid host address (the first page is never mapped)"
    if _pages_mapped(address, end) is False:
        return (f"{count} bytes at {address:#x} are not mapped memory of this process (freed, "
                f"or never allocated)")
    access = "writable" if write else "readable"
    if _MAPPINGS.covers(address, end, write):
        return None
    if not _MAPPINGS.refresh():
        return None                           # no /proc: cannot tell, accept as pyACL does
    if _MAPPINGS.covers(address, end, write):
        return None
    return f"{count} bytes at {address:#x} are not {access} memory of this process"
