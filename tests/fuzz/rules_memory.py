"""Rules over memory: malloc/free, copies and fills (synchronous and on streams), host
objects handed out by acl.util, and read-backs that compare memory with the model."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import rule

from tests.fuzz.base import (CONTEXT_NULL, COUNT, HANDLE, INVALID_PARAM, OK, POINTER,
                             RT_PARAM_INVALID, SEED, MachineBase)
from tests.fuzz.world import MASK64, Op, Region, Strm, usable_size

__all__ = ["MemoryRules"]

MEMORY_ALLOCATION = 207001
FEATURE_NOT_SUPPORT = 207000
_DEVICE_LIMIT = 1 << 34          # any request this large cannot fit a 16 GiB device
_HOST_LIMIT = 1 << 37            # nor the 64 GiB pinned-host arena

SIZES = st.one_of(st.integers(1, 300),
                  st.sampled_from([0, 1, 31, 32, 33, 64, 256, 4096, 1 << 20, 1 << 40, -1,
                                   (1 << 64) + 64]))
POLICIES = st.sampled_from([0, 1, 2, 3, 6, 7, 0x1000, 0x1006, -1])
KINDS = st.sampled_from([0, 1, 2, 3, 4, 5, 1, 2, 3, -1, 6, 7, 99])
MAX_MODE = st.sampled_from(["count", "count", "count", "less", "more", "max"])
VALUES = st.one_of(st.integers(0, 255), st.sampled_from([-1, 256, 0x1234, -(1 << 31),
                                                         (1 << 31) - 1]))
MEM_ATTRS = st.sampled_from([0, 1, 2, 10, 11, 14, 17, 18, -1, 99])


def _max(mode: str, count: int) -> int:
    return {"count": count, "less": max(count - 1, 0), "more": count + 1 + count % 7,
            "max": MASK64}[mode]


class MemoryRules(MachineBase):

    # ------------------------------------------------------------------ allocation
    def do_malloc(self, size: int, policy: int = 0, align32: bool = False):
        out = self.call("rt.malloc_align32" if align32 else "rt.malloc", size, policy)
        n = size & MASK64
        if n == 0:
            self.expect(out, INVALID_PARAM)
        elif self.ctx() is None:
            self.expect(out, CONTEXT_NULL)
        elif n >= _DEVICE_LIMIT:
            self.expect(out, MEMORY_ALLOCATION)
        else:
            self.expect(out, OK)
            address = out.value
            assert type(address) is int and address % 64 == 0 and self.mem.in_arena(address), \
                f"acl.rt.malloc returned {address!r}"
            pad = not align32 and (policy & 0xFF) not in (6, 7)
            region = self.mem.add(Region("device", address, usable_size(n, pad), size=n))
            return out, region
        assert out.value == 0, f"a failed malloc answered the pointer {out.value!r}"
        return out, None

    def do_malloc_host(self, size: int):
        out = self.call("rt.malloc_host", size)
        n = size & MASK64
        if n == 0:
            self.expect(out, INVALID_PARAM)
        elif self.ctx() is None:
            self.expect(out, CONTEXT_NULL)
        elif n >= _HOST_LIMIT:
            self.expect(out, MEMORY_ALLOCATION)
        else:
            self.expect(out, OK)
            address = out.value
            assert type(address) is int and address % 64 == 0 and self.mem.in_arena(address)
            return out, self.mem.add(Region("pinned", address, usable_size(n, False), size=n))
        assert out.value == 0
        return out, None

    @rule(size=SIZES, policy=POLICIES, align32=st.booleans())
    def malloc(self, size, policy, align32):
        self.do_malloc(size, policy, align32)

    @rule(size=SIZES)
    def malloc_host(self, size):
        self.do_malloc_host(size)

    def do_free(self, address: int, host: bool = False):
        out = self.call("rt.free_host" if host else "rt.free", address)
        address &= MASK64
        region = self.mem.live.get(address)
        if address == 0:
            return self.expect(out, INVALID_PARAM)
        if not host and self.ctx() is None:
            return self.expect(out, CONTEXT_NULL)
        if region is None or region.kind != ("pinned" if host else "device"):
            return self.expect(out, RT_PARAM_INVALID)
        self.expect(out, OK)
        self.free_region(region)
        return OK

    @rule(pick=POINTER)
    def free(self, pick):
        self.do_free(self.pointer(pick))

    @rule(pick=POINTER)
    def free_host(self, pick):
        self.do_free(self.pointer(pick), host=True)

    @rule(kind=st.sampled_from(["bytes", "numpy"]), size=st.integers(2, 600), seed=SEED,
          again=st.integers(0, 1 << 10))
    def host_object_address(self, kind, size, seed, again):
        """A new bytes/numpy object; once there are enough, ask an old one's address again."""
        if len(self.mem.hosts) < 12:
            self.host_object(kind, size, seed)
            return
        region = self.mem.hosts[again % len(self.mem.hosts)]
        if region.kind == "bytes":
            out = self.call("util.bytes_to_ptr", region.obj)
            assert out.value == region.address, "bytes_to_ptr answered another address"

    # ------------------------------------------------------------------ copies
    def copy_model(self, dst: int, src: int, count: int) -> None:
        data, known = self.mem.expected(src, count)
        self.mem.write(dst, data, count, known)

    def do_memcpy(self, dst, dest_max, src, count, kind):
        out = self.call("rt.memcpy", dst, dest_max, src, count, kind)
        dst, dest_max, src, count = (v & MASK64 for v in (dst, dest_max, src, count))
        if count == 0:
            return self.expect(out, OK)
        if dst == 0 or src == 0 or kind not in range(6):
            return self.expect(out, INVALID_PARAM)
        if count > dest_max:
            return self.expect(out, RT_PARAM_INVALID)
        if dst == src:
            return self.expect(out, OK)
        if self.ctx() is None:
            return self.expect(out, CONTEXT_NULL)
        moved = self.mem.check(dst, count, write=True)
        moved = moved and self.mem.check(src, moved, write=False)
        if not moved:
            return self.expect(out, RT_PARAM_INVALID)
        self.expect(out, OK)
        self.copy_model(dst, src, moved)
        return OK

    @rule(dst=POINTER, src=POINTER, count=COUNT, max_mode=MAX_MODE, kind=KINDS)
    def memcpy(self, dst, src, count, max_mode, kind):
        d, s = self.pointer(dst), self.pointer(src)
        n = self.count(count, d, s)
        self.do_memcpy(d, _max(max_mode, n), s, n, kind)

    def do_memcpy_async(self, dst, dest_max, src, count, kind, stream_handle):
        out = self.call("rt.memcpy_async", dst, dest_max, src, count, kind, stream_handle)
        dst, dest_max, src, count = (v & MASK64 for v in (dst, dest_max, src, count))
        if count == 0:
            return self.expect(out, OK)
        if dst == 0 or src == 0 or kind not in range(6):
            return self.expect(out, INVALID_PARAM)
        if count > dest_max:
            return self.expect(out, RT_PARAM_INVALID)
        if dst == src:
            return self.expect(out, OK)
        code, stream = self.resolve_stream(stream_handle)
        if code:
            return self.expect(out, code)
        if kind == 0:
            return self.expect(out, FEATURE_NOT_SUPPORT)
        moved = self.mem.check(dst, count, write=True)
        moved = moved and self.mem.check(src, moved, write=False)
        if not moved:
            return self.expect(out, RT_PARAM_INVALID)
        self.expect(out, OK)
        if not self.mem.in_arena(dst) or not self.mem.in_arena(src):
            # Pageable host memory: the stream is drained, then the copy is done at once.
            self.drained(stream)
            self.copy_model(dst, src, moved)
            return OK
        op = Op("memcpy_async", stream, [(dst, moved)], [(src, moved)],
                [self.mem.stream_view(stream, src, moved)], {RT_PARAM_INVALID})
        self.mem.enqueue(op)
        self.queued.add(stream)
        return OK

    @rule(dst=POINTER, src=POINTER, count=COUNT, max_mode=MAX_MODE, kind=KINDS, stream=HANDLE)
    def memcpy_async(self, dst, src, count, max_mode, kind, stream):
        d, s = self.pointer(dst), self.pointer(src)
        n = self.count(count, d, s)
        self.do_memcpy_async(d, _max(max_mode, n), s, n, kind, self.handle(stream, Strm))

    # ------------------------------------------------------------------ fills
    @rule(ptr=POINTER, count=COUNT, max_mode=MAX_MODE, value=VALUES)
    def memset(self, ptr, count, max_mode, value):
        p = self.pointer(ptr)
        n = self.count(count, p)
        m = _max(max_mode, n)
        out = self.call("rt.memset", p, m, value, n)
        p, m, n = p & MASK64, m & MASK64, n & MASK64
        if n == 0:
            return self.answer(out, OK)
        if p == 0:
            return self.answer(out, INVALID_PARAM)
        if n > m:
            return self.answer(out, RT_PARAM_INVALID)
        if self.ctx() is None:
            return self.answer(out, CONTEXT_NULL)
        if not self.mem.check(p, n, write=True):
            return self.answer(out, RT_PARAM_INVALID)
        self.expect(out, OK)
        self.mem.write(p, bytes([value & 0xFF]) * n, n)

    @rule(ptr=POINTER, count=COUNT, max_mode=MAX_MODE, value=VALUES, stream=HANDLE)
    def memset_async(self, ptr, count, max_mode, value, stream):
        p = self.pointer(ptr)
        n = self.count(count, p)
        m = _max(max_mode, n)
        handle = self.handle(stream, Strm)
        out = self.call("rt.memset_async", p, m, value, n, handle)
        p, m, n = p & MASK64, m & MASK64, n & MASK64
        if n == 0:
            return self.answer(out, OK)
        if p == 0:
            return self.answer(out, INVALID_PARAM)
        if n > m:
            return self.answer(out, RT_PARAM_INVALID)
        code, target = self.resolve_stream(handle)
        if code:
            return self.answer(out, code)
        if not self.mem.check(p, n, write=True):
            return self.answer(out, RT_PARAM_INVALID)
        self.expect(out, OK)
        fill = bytes([value & 0xFF]) * n
        self.mem.enqueue(Op("memset_async", target, [(p, n)], [], [(fill, b"\x01" * n)],
                            {RT_PARAM_INVALID}))
        self.queued.add(target)

    # ------------------------------------------------------------------ reading back
    def read_back(self, address: int, count: int) -> tuple[bytes, bytes, bytes] | None:
        """Copy ``count`` bytes at ``address`` device-to-host into a new bytes object.

        Return (what arrived, what the model expects, its known mask), or None when the
        copy was (correctly) refused.
        """
        if count > 1 << 22:
            return None
        target = self.host_object("bytes", count, 0, content=bytes(max(count, 2)))
        ret = self.do_memcpy(target.address, target.usable, address, count, 2)
        if ret != OK:
            return None
        out_obj = target.obj
        data, known = self.mem.expected(address, count)
        return out_obj[:count], data, known

    @rule(pick=POINTER)
    def read_back_and_compare(self, pick):
        address = self.pointer(pick)
        region = self.mem.region_at(address)
        if region is None:
            return
        result = self.read_back(address, region.end - address)
        if result is None:
            assert self.ctx() is None, "a D2H copy of a live region was refused"
            return
        self.same(*result, f"a D2H read of {region!r} at +{address - region.address}")

    @rule(ptr=POINTER, count=COUNT)
    def ptr_to_bytes(self, ptr, count):
        p = self.pointer(ptr)
        n = self.count(count, p)
        if n & MASK64 == 0:
            out = self.call("util.ptr_to_bytes", p, n)
            assert out.value == b""
            return
        moved = None if p == 0 else self.mem.check(p, n & MASK64, write=False)
        if not moved:
            self.call("util.ptr_to_bytes", p, n, raises=ValueError)
            return
        want, known = self.mem.expected(p, moved)
        out = self.call("util.ptr_to_bytes", p, n)
        got = out.value
        assert type(got) is bytes and len(got) == moved, f"ptr_to_bytes gave {len(got)} bytes"
        self.same(got, want, known, f"acl.util.ptr_to_bytes({p:#x}, {n})")

    @rule(ptr=POINTER, shape=st.sampled_from([(4,), (2, 3), (1, 16), (0,), (3, 0), (-1,),
                                              (1 << 40,)]),
          typenum=st.sampled_from([2, 5, 11, 12, 23, 7, 0, 17, 99, -1]))
    def ptr_to_numpy(self, ptr, shape, typenum):
        """A writeable array over memory, without copy: it must show what the memory holds."""
        address = self.pointer(ptr)
        itemsize = {2: 1, 5: 4, 11: 4, 12: 8, 23: 2, 7: 8, 0: 1, 17: None, 99: None,
                    -1: None}[typenum]
        nbytes = int(np.prod(shape, dtype=object)) * (itemsize or 0)
        refused = (any(d < 0 for d in shape) or itemsize is None
                   or (nbytes and (address == 0 or not self.mem.check(address, nbytes, True))))
        if refused:
            self.call("util.ptr_to_numpy", address, shape, typenum, raises=ValueError)
            return
        out = self.call("util.ptr_to_numpy", address, shape, typenum)
        array = out.value
        assert type(array) is np.ndarray and array.shape == shape and array.nbytes == nbytes
        if nbytes:
            want, known = self.mem.expected(address, nbytes)
            self.same(array.tobytes(), want, known, f"acl.util.ptr_to_numpy({address:#x})")
            assert array.ctypes.data == address and array.flags.writeable

    @rule(attr=MEM_ATTRS)
    def get_mem_info(self, attr):
        out = self.call("rt.get_mem_info", attr)
        if self.ctx() is None:
            self.expect(out, CONTEXT_NULL)
        elif not 0 <= attr <= 17:
            self.expect(out, INVALID_PARAM)
        else:
            self.expect(out, OK)
            if attr in (10, 11, 14, 17):
                assert out.values == (0, 0)
            return
        assert out.values == (0, 0)
