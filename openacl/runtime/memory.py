"""Device and pinned-host memory: allocations, the address registry, and pointer checks.

Every pointer handed to the runtime is resolved here before a byte moves:

* inside a device arena or the pinned-host arena: it must lie in a live allocation, and the
  whole range must fit in that allocation's usable bytes, else the call is refused;
* inside a host object that ``acl.util.bytes_to_ptr``/``numpy_to_ptr`` handed out: writes
  past the object's end are refused (they would corrupt the interpreter's heap); reads past
  its end are clamped to what the object holds (a Huawei sample copies 4x more bytes than
  its source has), with a warning, or refused in strict mode;
* anything else is host memory the runtime cannot see (ctypes, another library): accepted
  as real pyACL accepts it, once the process's mappings show the range is really there
  with the access asked for (``openacl.runtime.mapped``), so a garbage address is refused
  with a code instead of crashing the interpreter.

Borrowed extents belong to the process, not to one ``acl.init``: they survive
``acl.finalize`` (a ``bytes`` object made before finalize is still a ``bytes`` object
after the next init, and writing past it would still corrupt the heap).
"""

from __future__ import annotations

import bisect
import sys
import threading

from openacl.errors import MemoryAllocation, RuntimeParamInvalid, report_fidelity
from openacl.runtime.arena import ALIGNMENT, Arena
from openacl.runtime.leaks import creation_site
from openacl.runtime.mapped import inaccessible

__all__ = ["Allocation", "Memory", "BorrowedObjects", "DEVICE", "HOST"]

DEVICE, HOST = "device", "host"
_HUGE1G_POLICIES = (6, 7)
_ALLOCATORS = {"rt": ("acl.rt.malloc", "acl.rt.free"),
               "dvpp": ("acl.media.dvpp_malloc", "acl.media.dvpp_free"),
               "venc": ("a VENC channel for one encoded frame",
                        "nobody: the runtime frees it when the frame's callback returns")}


class Allocation:
    """One live block of device or pinned-host memory, owned by the runtime."""

    __slots__ = ("address", "size", "usable", "reserved", "arena", "kind", "policy", "site",
                 "origin")

    def __init__(self, address, size, usable, reserved, arena, kind, policy, site=None,
                 origin="rt"):
        self.address = address
        self.size = size              # what the program asked for
        self.usable = usable          # what it may touch (rounding and padding included)
        self.reserved = reserved      # what the arena set aside
        self.arena = arena
        self.kind = kind
        self.policy = policy
        self.site = site              # where the program allocated it (OPENACL_LEAK_SITES)
        self.origin = origin          # "rt" (acl.rt.malloc*) or "dvpp" (acl.media.dvpp_malloc)

    @property
    def end(self) -> int:
        return self.address + self.usable

    def __repr__(self):
        return (f"<{self.kind} allocation {self.address:#x} size={self.size} "
                f"arena={self.arena.name}>")


class BorrowedObjects:
    """Extents of host objects whose addresses ``acl.util`` handed out.

    ``bytes`` objects cannot be weakly referenced, so the extent holds the object itself and
    forgets it once nothing else does (checked by reference count at each sweep). Keeping it
    alive until then also means a recorded extent never describes reused memory.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._starts: list[int] = []
        self._entries: dict[int, tuple[int, list]] = {}   # start -> (end, owners)
        self._sweep_at = 16

    def remember(self, start: int, size: int, owner) -> None:
        if size <= 0:
            return
        end = start + size
        with self._lock:
            if len(self._entries) >= self._sweep_at:
                self._sweep()
            owners = [owner]
            # Live views of one buffer may overlap: merge them into one extent.
            i = bisect.bisect_right(self._starts, start) - 1
            if i < 0:
                i = 0
            while i < len(self._starts) and self._starts[i] < end:
                other = self._starts[i]
                other_end, other_owners = self._entries[other]
                if other_end > start:
                    start, end = min(start, other), max(end, other_end)
                    owners.extend(other_owners)
                    del self._starts[i]
                    del self._entries[other]
                else:
                    i += 1
            bisect.insort(self._starts, start)
            self._entries[start] = (end, owners)

    def find(self, address: int) -> tuple[int, int] | None:
        """Return (start, end) of the remembered object containing ``address``."""
        try:
            return self._find(address)
        except (IndexError, KeyError):       # changed under us by another thread: look again
            with self._lock:
                return self._find(address)

    def _find(self, address: int) -> tuple[int, int] | None:
        starts = self._starts
        i = bisect.bisect_right(starts, address) - 1
        if i < 0:
            return None
        start = starts[i]
        end = self._entries[start][0]
        return (start, end) if address < end else None

    def clear(self) -> None:
        with self._lock:
            self._starts.clear()
            self._entries.clear()

    def _sweep(self) -> None:
        for start in list(self._starts):
            end, owners = self._entries[start]
            # getrefcount sees: our owners list, and its own argument.
            owners[:] = [o for o in owners if sys.getrefcount(o) > 2]
            if not owners:
                self._starts.remove(start)
                del self._entries[start]
        self._sweep_at = max(16, 2 * len(self._entries))


class Memory:
    """All runtime-owned memory of the process: arenas, live allocations, borrowed extents."""

    def __init__(self):
        self._lock = threading.Lock()
        self.arenas: list[Arena] = []
        self._starts: list[int] = []
        self._allocations: dict[int, Allocation] = {}
        self.borrowed = BorrowedObjects()
        self.generation = 0          # bumped by every free: cached pointer checks expire

    # ----------------------------------------------------------- allocation
    def add_arena(self, arena: Arena) -> None:
        """Know ``arena`` from now on (arenas live as long as the process, across inits)."""
        if arena not in self.arenas:
            self.arenas.append(arena)

    def allocate(self, arena: Arena, size: int, kind: str, policy: int = 0,
                 pad: bool = True, align: int = ALIGNMENT, origin: str = "rt") -> Allocation:
        usable = -(-size // 32) * 32
        if pad and policy & 0xFF not in _HUGE1G_POLICIES:
            usable += 32
        reserved = -(-usable // ALIGNMENT) * ALIGNMENT
        address = arena.allocate(reserved, align)
        if address is None:
            raise MemoryAllocation(
                f"cannot allocate {size} bytes on {arena.name}: {arena.size - arena.used} of "
                f"{arena.size} bytes free (largest free block too small)")
        allocation = Allocation(address, size, usable, reserved, arena, kind, policy,
                                creation_site(), origin)
        with self._lock:
            bisect.insort(self._starts, address)
            self._allocations[address] = allocation
        return allocation

    def free(self, address: int, kind: str, origin: str | None = None) -> Allocation:
        """Forget the allocation at ``address``; ``origin``: refuse one made another way."""
        with self._lock:
            allocation = self._allocations.get(address)
            if allocation is None or allocation.kind != kind:
                raise RuntimeParamInvalid(self._describe_bad_free(address, kind))
            if origin is not None and allocation.origin != origin:
                made_by, freed_by = _ALLOCATORS[allocation.origin]
                raise RuntimeParamInvalid(f"{address:#x} was allocated by {made_by}; release "
                                          f"it with {freed_by}")
            del self._allocations[address]
            del self._starts[bisect.bisect_left(self._starts, address)]
            self.generation += 1
        allocation.arena.release(address, allocation.reserved)
        return allocation

    def release_all(self) -> list[Allocation]:
        """Forget every allocation (finalize); return those that were still live."""
        with self._lock:
            leaked = list(self._allocations.values())
            self._allocations.clear()
            self._starts.clear()
            self.generation += 1
        for arena in self.arenas:
            arena.reset()
        return leaked

    def live(self) -> list[Allocation]:
        with self._lock:
            return list(self._allocations.values())

    # ----------------------------------------------------------- lookups
    def arena_of(self, address: int) -> Arena | None:
        for arena in self.arenas:
            if arena.base <= address < arena.end:
                return arena
        return None

    def find(self, address: int) -> Allocation | None:
        """Return the live allocation whose usable bytes contain ``address``."""
        starts = self._starts
        i = bisect.bisect_right(starts, address) - 1
        if i < 0:
            return None
        allocation = self._allocations.get(starts[i]) if i < len(starts) else None
        if allocation is not None and address < allocation.end:
            return allocation
        return None

    def checked(self, address: int, count: int, role: str, write: bool,
                clamp_reads: bool = True) -> int:
        """Check ``count`` bytes at ``address``; return how many may really be moved.

        Raises RuntimeParamInvalid if the range touches memory it must not. A read past the
        end of a borrowed host object is clamped (with a warning) if ``clamp_reads``, else
        refused like a write.
        """
        for arena in self.arenas:
            if arena.base <= address < arena.end:
                allocation = self.find(address)
                if allocation is None:
                    raise RuntimeParamInvalid(
                        f"{role} address {address:#x} is not in any live allocation of "
                        f"{arena.name} (freed, or never allocated)")
                if address + count > allocation.end:
                    raise RuntimeParamInvalid(
                        f"{count} bytes at {role} address {address:#x} overrun the allocation "
                        f"of {allocation.usable} usable bytes at {allocation.address:#x} by "
                        f"{address + count - allocation.end} bytes")
                return count
        extent = self.borrowed.find(address)
        if extent is None:
            problem = inaccessible(address, count, write)
            if problem is not None:
                raise RuntimeParamInvalid(f"{role}: {problem}; nothing was moved")
            return count
        if address + count <= extent[1]:
            return count
        holds = extent[1] - address
        if write or not clamp_reads:
            raise RuntimeParamInvalid(
                f"{count} bytes at {role} address {address:#x} would run {count - holds} bytes "
                f"past the end of the host object it points into ({extent[1] - extent[0]} bytes "
                f"at {extent[0]:#x}); nothing was moved")
        report_fidelity(
            f"{count} bytes requested from {role} address {address:#x}, but the host object "
            f"there holds only {holds} bytes from that address; copying {holds} bytes")
        return holds

    def host_access(self, address: int, count: int, call: str, write: bool) -> int:
        """Check host code touching memory directly (``ptr_to_bytes``, ``ptr_to_numpy``).

        Returns the number of bytes that may be read. Device memory touched from the host in
        ACL_HOST run mode is reported: it works here, but not on an NPU.
        """
        count = self.checked(address, count, "host access", write)
        arena = self.arena_of(address)
        if arena is not None and arena.kind == DEVICE:
            from openacl import config

            if config.run_mode() == 1:
                report_fidelity(
                    f"{call} touches device memory at {address:#x} from the host; in ACL_HOST "
                    f"run mode an NPU's device memory is not host-addressable: copy it with "
                    f"acl.rt.memcpy first")
        return count

    def _describe_bad_free(self, address: int, kind: str) -> str:
        allocation = self.find(address)
        api = "acl.rt.free_host" if kind == HOST else "acl.rt.free"
        if allocation is not None and allocation.address != address:
            return (f"{address:#x} points inside the {allocation.kind} allocation at "
                    f"{allocation.address:#x}, not to its start")
        if allocation is not None:
            other = "acl.rt.free" if allocation.kind == DEVICE else "acl.rt.free_host"
            return (f"{address:#x} is {allocation.kind} memory; release it with {other}, "
                    f"not {api}")
        if self.arena_of(address) is not None:
            return f"{address:#x} was already freed, or never allocated"
        return f"{address:#x} was not allocated by the runtime"

