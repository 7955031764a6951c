"""Backends: what serves one device's memory and copies.

The CPU backend is the default: device memory is host RAM in the device's own arena, copies
are memmove. A CUDA backend would allocate with cudaMalloc and copy on CUDA streams behind
the same methods, so that the runtime, the model layer and the facade never change for it.
"""

from __future__ import annotations

import ctypes

from openacl.runtime.arena import Arena

__all__ = ["CpuBackend"]

_ARENAS: dict[tuple[str, int, int], Arena] = {}   # reused across init/finalize cycles


def arena_for(kind: str, index: int, size: int) -> Arena:
    """Return the process's arena for (kind, index, size), creating it on first use.

    Mappings are never unmapped: a stale pointer must stay addressable, not crash.
    """
    key = (kind, index, size)
    arena = _ARENAS.get(key)
    if arena is None:
        name = f"device {index}" if kind == "device" else "pinned host memory"
        arena = _ARENAS[key] = Arena(size, name, kind)
    return arena


class CpuBackend:
    """Device memory in host RAM; copies and fills by memmove/memset (the GIL is released)."""

    name = "cpu"

    def __init__(self, index: int, memory_size: int):
        self.arena = arena_for("device", index, memory_size)

    @staticmethod
    def copy(destination: int, source: int, count: int) -> None:
        ctypes.memmove(destination, source, count)

    @staticmethod
    def fill(destination: int, value: int, count: int) -> None:
        ctypes.memset(destination, value, count)
