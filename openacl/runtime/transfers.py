"""Memory calls: allocate, free, copy and fill, synchronously or on a stream.

Argument checks follow ACL's order (a zero count succeeds before anything else is looked
at). Every device or pinned pointer is checked against the registry before a byte moves.
"""

from __future__ import annotations

import ctypes

from openacl import config
from openacl.errors import FeatureNotSupported, InvalidParam, RuntimeParamInvalid
from openacl.profiling import recorder as _profiler
from openacl.runtime.arena import ALIGNMENT
from openacl.runtime.memory import DEVICE, HOST, Allocation
from openacl.runtime.runtime import RUNTIME

__all__ = ["malloc", "free", "malloc_host", "free_host", "memcpy", "memcpy_async", "memset",
           "memset_async", "mem_info", "VALID_MEMCPY_KINDS", "read_runtime", "write_runtime"]

VALID_MEMCPY_KINDS = frozenset(range(6))       # 6 and 7 are refused by memcpy
_HOST_TO_HOST = 0


def malloc(size: int, policy: int, pad: bool = True, align: int = ALIGNMENT,
           origin: str = "rt") -> Allocation:
    """Device memory; ``origin`` "dvpp" (``acl.media.dvpp_malloc``, 128-byte aligned) is
    released only by ``free(..., origin="dvpp")``, and "rt" memory only by the default."""
    if size == 0:
        raise InvalidParam("size must be greater than 0")
    device = RUNTIME.current_context().device
    return RUNTIME.memory.allocate(device.arena, size, DEVICE, policy, pad, align, origin)


def free(address: int, origin: str = "rt") -> None:
    if address == 0:
        raise InvalidParam("the pointer to free is NULL (0)")
    RUNTIME.current_context()
    RUNTIME.memory.free(address, DEVICE, origin)


def malloc_host(size: int) -> Allocation:
    if size == 0:
        raise InvalidParam("size must be greater than 0")
    device = RUNTIME.current_context().device
    # In ACL_DEVICE run mode the program runs on the device: host memory is device memory.
    arena = RUNTIME.host_arena if config.run_mode() == 1 else device.arena
    return RUNTIME.memory.allocate(arena, size, HOST, 0, pad=False)


def free_host(address: int) -> None:
    if address == 0:
        raise InvalidParam("the pointer to free is NULL (0)")
    RUNTIME.memory.free(address, HOST)


def _check_copy(dst: int, dest_max: int, src: int, count: int, kind: int) -> bool:
    """ACL's argument checks for memcpy; return False when there is nothing to do."""
    if count == 0:
        return False
    if dst == 0 or src == 0:
        raise InvalidParam(f"{'destination' if dst == 0 else 'source'} pointer is NULL (0)")
    if kind not in VALID_MEMCPY_KINDS:
        raise InvalidParam(f"memcpy kind {kind} is invalid: expected 0..5 "
                           f"(ACL_MEMCPY_HOST_TO_HOST .. ACL_MEMCPY_HOST_TO_BUF_TO_DEVICE)")
    if count > dest_max:
        raise RuntimeParamInvalid(f"count {count} is greater than dest_max {dest_max}")
    return dst != src


def _checked_count(dst: int, src: int, count: int) -> int:
    memory = RUNTIME.memory
    count = memory.checked(dst, count, "destination", write=True)
    return memory.checked(src, count, "source", write=False)


def memcpy(dst: int, dest_max: int, src: int, count: int, kind: int) -> None:
    if not _check_copy(dst, dest_max, src, count, kind):
        return
    device = RUNTIME.current_context().device
    n = _checked_count(dst, src, count)
    if _profiler.ON:                      # openacl profiling: the copy and its size
        start = _profiler._now()
        device.backend.copy(dst, src, n)
        _profiler.copy(n, start, _profiler._now())
    else:
        device.backend.copy(dst, src, n)


def memcpy_async(dst: int, dest_max: int, src: int, count: int, kind: int,
                 stream_handle: int) -> None:
    if not _check_copy(dst, dest_max, src, count, kind):
        return
    stream = RUNTIME.stream(stream_handle)
    if kind == _HOST_TO_HOST and config.run_mode() == 1:
        raise FeatureNotSupported("an asynchronous host-to-host copy is not supported in "
                                  "ACL_HOST run mode; use acl.rt.memcpy")
    memory = RUNTIME.memory
    n = _checked_count(dst, src, count)
    backend = stream.context.device.backend
    if memory.arena_of(dst) is None or memory.arena_of(src) is None:
        # Pageable host memory: ACL syncs the stream, then copies synchronously.
        stream.drain()
        start = _profiler._now() if _profiler.ON else 0
        backend.copy(dst, src, n)
        if _profiler.ON:                  # openacl profiling: a synchronous copy
            _profiler.copy(n, start, _profiler._now())
        return
    generation = memory.generation

    def copy():
        # Memory freed since the copy was queued must not be written: check again.
        moved = n if memory.generation == generation else _checked_count(dst, src, n)
        backend.copy(dst, src, moved)

    stream.submit(copy, f"memcpy_async of {n} bytes {src:#x} -> {dst:#x}")


def _check_fill(address: int, max_count: int, count: int) -> bool:
    if count == 0:
        return False
    if address == 0:
        raise InvalidParam("the pointer to fill is NULL (0)")
    if count > max_count:
        raise RuntimeParamInvalid(f"count {count} is greater than max_count {max_count}")
    return True


def memset(address: int, max_count: int, value: int, count: int) -> None:
    if not _check_fill(address, max_count, count):
        return
    device = RUNTIME.current_context().device
    RUNTIME.memory.checked(address, count, "destination", write=True)
    device.backend.fill(address, value & 0xFF, count)


def memset_async(address: int, max_count: int, value: int, count: int,
                 stream_handle: int) -> None:
    if not _check_fill(address, max_count, count):
        return
    stream = RUNTIME.stream(stream_handle)
    memory = RUNTIME.memory
    memory.checked(address, count, "destination", write=True)
    backend = stream.context.device.backend
    generation = memory.generation

    def fill():
        if memory.generation != generation:
            memory.checked(address, count, "destination", write=True)
        backend.fill(address, value & 0xFF, count)

    stream.submit(fill, f"memset_async of {count} bytes at {address:#x}")


def mem_info(attr: int) -> tuple[int, int]:
    """Return (free, total) bytes of the current device for a memory attribute."""
    device = RUNTIME.current_context().device
    if not 0 <= attr <= 17:
        raise InvalidParam(f"memory attribute {attr} is invalid: expected 0..17 (aclrtMemAttr)")
    if attr in (10, 11, 14, 17):           # 1 GiB huge pages: none on this device
        return 0, 0
    arena = device.arena
    return arena.size - arena.used, arena.size


def read_runtime(address: int, count: int, role: str, backend=None) -> bytes:
    """The runtime's own read of device memory it was handed (a gear or AIPP buffer).

    Checked against the registry like any copy; not a program's access, so not reported.
    """
    RUNTIME.memory.checked(address, count, role, write=False, clamp_reads=False)
    target = ctypes.create_string_buffer(count)
    (backend or _backend()).copy(ctypes.addressof(target), address, count)
    return target.raw


def write_runtime(address: int, data: bytes, role: str, backend=None) -> None:
    """The runtime's own write into device memory (what ACL copies with rtMemcpy H2D)."""
    RUNTIME.memory.checked(address, len(data), role, write=True)
    source = ctypes.create_string_buffer(data, len(data))
    (backend or _backend()).copy(address, ctypes.addressof(source), len(data))


def _backend():
    return RUNTIME.current_context().device.backend
