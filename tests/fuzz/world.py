"""The fuzzer's model of the runtime: what exists, and what every byte should hold.

Memory is modelled byte by byte: each region (device or pinned allocation, or a host
``bytes``/numpy object whose address ``acl.util`` handed out) has a shadow copy and a mask
of the bytes whose value is known. Work queued on streams is kept as in-flight operations
and applied to the shadow when the stream is drained; anything whose order is not
determined (a race between streams, or between a stream and the main thread, memory freed
under a queued task) makes the bytes involved unknown instead of guessed. Every check of
memory compares the known bytes only, so the model never accepts a wrong byte and never
fails on a legitimately unpredictable one.
"""

from __future__ import annotations

import ctypes
import itertools

import numpy as np

__all__ = ["MASK64", "MASK32", "Region", "Op", "Memory", "Ctx", "Strm", "Ev", "Buf", "DS",
           "TD", "MD", "Mdl", "Reporter", "usable_size", "overlaps"]

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1

_ids = itertools.count(1)


def usable_size(size: int, pad: bool) -> int:
    """What ACL lets a program touch: the size rounded up to 32, plus 32 bytes of padding."""
    return -(-size // 32) * 32 + (32 if pad else 0)


def reserved_size(usable: int) -> int:
    """What the device arena sets aside for an allocation (64-byte aligned blocks)."""
    return -(-usable // 64) * 64


def overlaps(a: int, n: int, b: int, m: int) -> bool:
    return n > 0 and m > 0 and a < b + m and b < a + n


class Region:
    """Memory the program may touch: an allocation or a borrowed host object."""

    def __init__(self, kind: str, address: int, usable: int, content: bytes | None = None,
                 obj=None, size: int | None = None):
        self.id = next(_ids)
        self.kind = kind                    # "device", "pinned", "bytes", "numpy"
        self.address = address
        self.usable = usable
        self.size = usable if size is None else size
        self.obj = obj                      # the host object, kept alive by the machine
        self.live = True
        if content is None:
            self.data = bytearray(usable)
            self.known = bytearray(usable)  # fresh device memory holds anything
        else:
            self.data = bytearray(content)
            self.known = bytearray(b"\x01" * usable)

    def __repr__(self):
        return f"<{self.kind} region {self.address:#x}+{self.usable}>"

    @property
    def end(self) -> int:
        return self.address + self.usable

    @property
    def host_object(self) -> bool:
        return self.kind in ("bytes", "numpy")

    def contains(self, address: int) -> bool:
        return self.address <= address < self.end

    def write(self, address: int, data: bytes | None, count: int) -> None:
        start = max(address, self.address) - self.address
        stop = min(address + count, self.end) - self.address
        if stop <= start:
            return
        if data is None:
            self.known[start:stop] = bytes(stop - start)
        else:
            skip = start - (address - self.address)
            self.data[start:stop] = data[skip:skip + stop - start]
            self.known[start:stop] = b"\x01" * (stop - start)

    def actual(self) -> bytes:
        """The real bytes, read straight from memory (arenas are never unmapped)."""
        if self.kind == "bytes":
            return bytes(self.obj)
        if self.kind == "numpy":
            return self.obj.tobytes()
        return ctypes.string_at(self.address, self.usable)


class Op:
    """Work queued on a stream that the model has not applied yet."""

    def __init__(self, label: str, stream, dst, src, data, fail_codes):
        self.label = label
        self.stream = stream
        self.dst = list(dst)                # [(address, count)] it writes
        self.src = list(src)                # [(address, count)] it reads
        self.data = list(data)              # per dst range: (bytes, known mask) or None
        self.fail_codes = set(fail_codes)   # what it reports if its memory goes away
        self.errors: set[int] = set()       # codes it may report at the next synchronize
        self.hazard = False                 # its result is not determined
        self.wild: list[tuple[int, int]] = []   # other ranges it may write (retargeted buffers)
        self.watch: tuple = ()              # data buffers and datasets it reads at run time
        self.model = None                   # the model an execute_async runs
        self.dst_regions: list = []

    def ranges(self):
        return self.dst + self.src + self.wild

    def touches(self, address: int, count: int) -> bool:
        return any(overlaps(address, count, a, n) for a, n in self.ranges())


class Memory:
    """Live regions, their shadows, and the streams' in-flight operations."""

    def __init__(self, arenas):
        self.arenas = arenas                # [(base, end)] device and pinned-host arenas
        self.live: dict[int, Region] = {}   # allocations by start
        self.hosts: list[Region] = []       # borrowed host objects (never die)
        self.freed: list[int] = []          # start addresses of freed allocations
        self.inflight: list[Op] = []

    # ------------------------------------------------------------------ lookups
    def in_arena(self, address: int) -> bool:
        return any(base <= address < end for base, end in self.arenas)

    def region_at(self, address: int) -> Region | None:
        for region in self.live.values():
            if region.contains(address):
                return region
        for region in self.hosts:
            if region.contains(address):
                return region
        return None

    def all_regions(self) -> list[Region]:
        return [*self.live.values(), *self.hosts]

    def check(self, address: int, count: int, write: bool, clamp: bool = True) -> int | None:
        """Bytes that may move at ``address`` (the runtime's registry check), None if refused."""
        if self.in_arena(address):
            region = self.region_at(address)
            if region is None or region.host_object or address + count > region.end:
                return None
            return count
        region = self.region_at(address)
        if region is None:
            return None                     # only never-mapped foreign addresses are drawn
        if address + count <= region.end:
            return count
        if write or not clamp:
            return None
        return region.end - address

    def expected(self, address: int, count: int, exclude=None) -> tuple[bytes, bytes]:
        """(bytes, known mask) the range should hold now; in-flight targets are unknown
        (except those of the stream ``exclude``)."""
        data, known = bytearray(count), bytearray(count)
        for region in self.all_regions():
            start = max(address, region.address)
            stop = min(address + count, region.end)
            if stop > start:
                data[start - address:stop - address] = \
                    region.data[start - region.address:stop - region.address]
                known[start - address:stop - address] = \
                    region.known[start - region.address:stop - region.address]
        for op in self.inflight:
            if op.stream is exclude and exclude is not None:
                continue
            for a, n in op.dst + op.wild:
                start, stop = max(a, address), min(a + n, address + count)
                if stop > start:
                    known[start - address:stop - address] = bytes(stop - start)
        return bytes(data), bytes(known)

    def known_value(self, address: int, count: int) -> bytes | None:
        data, known = self.expected(address, count)
        return data if all(known) else None

    # ------------------------------------------------------------------ changes
    def add(self, region: Region) -> Region:
        if region.host_object:
            self.hosts.append(region)
        else:
            for other in self.live.values():
                assert not overlaps(region.address, region.usable, other.address, other.usable), \
                    f"the runtime handed out {region!r}, which overlaps live {other!r}"
            self.live[region.address] = region
        return region

    def free(self, region: Region) -> None:
        del self.live[region.address]
        region.live = False
        self.freed.append(region.address)
        for op in self.inflight:
            if op.touches(region.address, region.usable):
                self.taint(op)
                op.errors |= op.fail_codes

    def write(self, address: int, data: bytes | None, count: int,
              known: bytes | None = None) -> None:
        """A write done now by the calling thread (``known``: which of ``data`` is known)."""
        for op in self.inflight:
            if op.touches(address, count):
                self.taint(op)
        self.mark(address, data, count, known)

    def mark(self, address: int, data: bytes | None, count: int,
             known: bytes | None = None) -> None:
        for region in self.all_regions():
            if overlaps(address, count, region.address, region.usable):
                region.write(address, data, count)
        if data is not None and known is not None and not all(known):
            i = 0
            while i < count:                  # mark each unknown run
                if known[i]:
                    i += 1
                    continue
                j = i
                while j < count and not known[j]:
                    j += 1
                self.mark(address + i, None, j - i)
                i = j

    def taint(self, op: Op) -> None:
        """The op's result is not determined; so is that of later ops of its stream reading it."""
        if op.hazard:
            return
        op.hazard = True
        later = False
        for other in list(self.inflight):
            if other is op:
                later = True
            elif later and other.stream is op.stream and any(
                    overlaps(a, n, b, m) for a, n in other.src for b, m in op.dst + op.wild):
                self.taint(other)

    def stream_view(self, stream, address: int, count: int) -> tuple[bytes, bytes]:
        """What a task queued now on ``stream`` will read: memory after the stream's earlier
        tasks (FIFO), with other streams' pending targets unknown."""
        data, known = self.expected(address, count, exclude=stream)
        data, known = bytearray(data), bytearray(known)
        for op in self.inflight:
            if op.stream is not stream:
                continue
            for (a, n), value in zip(op.dst, op.data):
                start, stop = max(a, address), min(a + n, address + count)
                if stop <= start:
                    continue
                if op.hazard or value is None:
                    known[start - address:stop - address] = bytes(stop - start)
                else:
                    written, mask = value
                    data[start - address:stop - address] = written[start - a:stop - a]
                    known[start - address:stop - address] = mask[start - a:stop - a]
            for a, n in op.wild:
                start, stop = max(a, address), min(a + n, address + count)
                if stop > start:
                    known[start - address:stop - address] = bytes(stop - start)
        return bytes(data), bytes(known)

    def enqueue(self, op: Op) -> None:
        for other in self.inflight:
            if other.stream is op.stream:
                continue                      # FIFO: stream_view gave the op its data
            mine = op.dst + op.src
            if (any(overlaps(a, n, b, m) for a, n in op.dst for b, m in other.ranges())
                    or any(overlaps(a, n, b, m) for a, n in mine for b, m in other.dst + other.wild)):
                self.taint(op)                # two streams race on these bytes
                self.taint(other)
        op.dst_regions = [self.region_at(a) for a, _ in op.dst]
        self.inflight.append(op)

    def drain(self, stream) -> set[int]:
        """The stream finished its tasks: apply them; return the codes they may report."""
        errors: set[int] = set()
        mine = [op for op in self.inflight if op.stream is stream]
        self.inflight = [op for op in self.inflight if op.stream is not stream]
        for op in mine:
            for (address, count), value, region in zip(op.dst, op.data, op.dst_regions):
                same = region is not None and region.live and self.region_at(address) is region
                if op.hazard or value is None or not same:
                    self.mark(address, None, count)
                else:
                    self.mark(address, value[0], count, value[1])
            for address, count in op.wild:
                self.mark(address, None, count)
            errors |= op.errors
        return errors

    def pending(self, stream) -> bool:
        return any(op.stream is stream for op in self.inflight)

    def watchers(self, thing) -> list[Op]:
        return [op for op in self.inflight if thing in op.watch]

    def verify(self, region: Region, actual: bytes | None = None) -> str | None:
        """Compare the region's known bytes with memory; return a description of a mismatch."""
        actual = region.actual() if actual is None else actual
        data, known = self.expected(region.address, region.usable)
        if len(actual) < region.usable:
            return f"{region!r}: {len(actual)} bytes readable, expected {region.usable}"
        mask = np.frombuffer(known, np.uint8).astype(bool)
        got = np.frombuffer(actual, np.uint8)[:region.usable]
        want = np.frombuffer(data, np.uint8)
        bad = np.flatnonzero(mask & (got != want))
        if bad.size:
            i = int(bad[0])
            return (f"{region!r} byte {i} (of {bad.size} wrong) holds {got[i]:#04x}, "
                    f"expected {want[i]:#04x}")
        return None


# ---------------------------------------------------------------------- handle objects
class Ctx:
    def __init__(self, handle: int, default: bool):
        self.handle = handle
        self.default = default
        self.live = True
        self.default_stream: Strm | None = None

    def __repr__(self):
        return f"<{'default ' if self.default else ''}ctx {self.handle:#x}>"


class Strm:
    def __init__(self, handle: int, ctx: Ctx, default: bool):
        self.handle = handle
        self.ctx = ctx
        self.default = default
        self.live = True
        self.errors: set[int] = set()       # codes a synchronize may report
        self.subscriber: Reporter | None = None
        self.callbacks: list[int] = []      # tokens launched and not yet settled

    def __repr__(self):
        return f"<{'default ' if self.default else ''}stream {self.handle:#x}>"


class Ev:
    def __init__(self, handle: int, flags: int):
        self.handle = handle
        self.flags = flags
        self.live = True
        self.records = 0
        self.last_stream: Strm | None = None
        self.settled = True                 # its records are known to have been reached
        self.uncertain = False              # reset: its state depends on the streams' timing


class Buf:
    def __init__(self, handle: int, address: int, size: int):
        self.handle = handle
        self.address = address
        self.size = size
        self.live = True


class DS:
    def __init__(self, handle: int):
        self.handle = handle
        self.buffers: list[Buf] = []
        self.descs: dict[int, TD] = {}
        self.live = True


class TD:
    def __init__(self, handle: int, data_type: int, dims: list[int], format_: int):
        self.handle = handle
        self.data_type = data_type
        self.dims = list(dims)
        self.format = format_
        self.name = ""
        self.ranges: list | None = None     # set_tensor_shape_range
        self.live = True


class MD:
    def __init__(self, handle: int):
        self.handle = handle
        self.net = None
        self.live = True


class Mdl:
    def __init__(self, model_id: int, net, ctx: Ctx):
        self.model_id = model_id
        self.net = net
        self.ctx = ctx
        self.scratch: list[Region] = []     # zeroed memory standing in for skipped inputs


class Reporter:
    """A report thread: it loops on acl.rt.process_report until told to stop."""

    def __init__(self):
        self.thread_id = 0
        self.thread = None
        self.via_acl = False
        self.exit = False
        self.dead = False                   # stopped: its streams' callbacks fail (107015)
        self.subscriptions: set[Strm] = set()
        self.results: list[int] = []
        self.problems: list[str] = []
