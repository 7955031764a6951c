"""An arena: one reserved span of virtual memory, carved into allocations.

Each emulated device owns an arena, and pinned host memory has one of its own, so any
address tells where it belongs: an address inside a device arena that is not inside a live
allocation is a freed or invented device pointer, never some unrelated host object.
"""

from __future__ import annotations

import bisect
import ctypes
import mmap
import threading

__all__ = ["Arena", "ALIGNMENT"]

ALIGNMENT = 64                       # every allocation starts on a 64-byte boundary
_MAP_NORESERVE = getattr(mmap, "MAP_NORESERVE", 0x4000)   # Linux value; Python < 3.13 lacks it
# Frees this large give their pages back to the OS. Smaller blocks stay resident for the
# next allocation, as malloc's heap keeps them: programs free and allocate a frame buffer
# per video frame, and giving its pages back each time costs a page fault per page on reuse.
_RELEASE_THRESHOLD = 64 << 20
# MADV_FREE: the kernel takes the pages only when it needs memory (no cost if reused first).
_MADV_LAZY = getattr(mmap, "MADV_FREE", mmap.MADV_DONTNEED)


class Arena:
    """A first-fit allocator over an anonymous, lazily committed memory mapping.

    Pages are committed by the OS only when touched, so a 16 GiB device costs nothing until
    a program uses it. The mapping lives as long as the process: pointers handed out stay
    addressable (never a segmentation fault), even after the runtime forgets them.
    """

    def __init__(self, size: int, name: str, kind: str):
        size = -(-size // mmap.PAGESIZE) * mmap.PAGESIZE
        flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _MAP_NORESERVE
        self._map = mmap.mmap(-1, size, flags=flags)
        anchor = ctypes.c_char.from_buffer(self._map)
        self.base = ctypes.addressof(anchor)
        del anchor                   # release the buffer export; the address stays valid
        self.size = size
        self.end = self.base + size
        self.name = name
        self.kind = kind             # "device" or "host": what memory the arena emulates
        self.used = 0
        self._lock = threading.Lock()
        self._free_starts = [self.base]
        self._free_sizes = [size]

    def allocate(self, nbytes: int, align: int = ALIGNMENT) -> int | None:
        """Reserve ``nbytes`` (a multiple of ALIGNMENT) starting on a multiple of ``align``
        (a multiple of ALIGNMENT); return the address, or None if full."""
        with self._lock:
            starts, sizes = self._free_starts, self._free_sizes
            for i, available in enumerate(sizes):
                start = starts[i]
                skip = -start % align          # a head left free to reach the alignment
                if available < skip + nbytes:
                    continue
                address = start + skip
                rest = available - skip - nbytes
                if skip:
                    sizes[i] = skip
                    if rest:
                        starts.insert(i + 1, address + nbytes)
                        sizes.insert(i + 1, rest)
                elif rest:
                    starts[i] = address + nbytes
                    sizes[i] = rest
                else:
                    del starts[i], sizes[i]
                self.used += nbytes
                return address
            return None

    def release(self, address: int, nbytes: int) -> None:
        """Return a block to the free list, merging it with free neighbours."""
        with self._lock:
            starts, sizes = self._free_starts, self._free_sizes
            i = bisect.bisect_left(starts, address)
            start, size = address, nbytes
            if i < len(starts) and start + size == starts[i]:
                size += sizes[i]
                del starts[i], sizes[i]
            if i > 0 and starts[i - 1] + sizes[i - 1] == start:
                i -= 1
                start = starts[i]
                size += sizes[i]
                del starts[i], sizes[i]
            starts.insert(i, start)
            sizes.insert(i, size)
            self.used -= nbytes
            if nbytes >= _RELEASE_THRESHOLD:
                # under the lock: no one may allocate the block and write it before the
                # advice, which could drop what they wrote
                self._discard(address, nbytes, _MADV_LAZY)

    def reset(self) -> None:
        """Forget every allocation and give all pages back to the OS."""
        with self._lock:
            self._free_starts = [self.base]
            self._free_sizes = [self.size]
            self.used = 0
            self._discard(self.base, self.size, mmap.MADV_DONTNEED)

    def _discard(self, address: int, nbytes: int, advice: int) -> None:
        page = mmap.PAGESIZE
        first = -(-(address - self.base) // page) * page
        last = ((address + nbytes - self.base) // page) * page
        if last > first:
            try:
                self._map.madvise(advice, first, last - first)
            except OSError:                   # a kernel without MADV_FREE
                self._map.madvise(mmap.MADV_DONTNEED, first, last - first)
