"""Rules over models and their I/O structures: data buffers, datasets, tensor descs, model
load/unload, model descs, execute and execute_async (checked exactly against onnxruntime)."""

from __future__ import annotations

import ctypes
import os

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import rule

from openacl.runtime import RUNTIME

from tests.fuzz.base import (CONTEXT_NULL, COUNT, HANDLE, INVALID_PARAM, OK, POINTER,
                             RT_PARAM_INVALID, MachineBase)
from tests.fuzz.nets import NETS, NOT_A_MODEL
from tests.fuzz.world import (MASK32, MASK64, Buf, DS, MD, Mdl, Op, Region, Strm, TD,
                              overlaps, usable_size)

__all__ = ["ModelRules"]

GE_PARAM_INVALID = 145000
GE_NOT_INIT = 145001
GE_PATH_INVALID = 145002
GE_MODEL_ID_INVALID = 145003
GE_ADDR_INVALID = 145007
MODEL_CONTEXT = 107004
SIZE_SLACK = 64                  # ACL accepts buffers up to 64 bytes short of the tensor
MAX_MODELS = 4
WILD = max(max(n.input_sizes + n.output_sizes) for n in NETS)

NET = st.integers(0, len(NETS) - 1)
MODEL_PICK = st.tuples(st.sampled_from(["live"] * 4 + ["stale", "foreign"]),
                       st.integers(0, 1 << 16),
                       st.sampled_from([0, 1, 2, 3, 99, -1, 1 << 32, (1 << 32) + 1]))
INDEX = st.one_of(st.integers(0, 3), st.sampled_from([MASK64, 1 << 32, -1]))
DTYPES = st.sampled_from([0, 1, 2, 3, 9, 12, 27, -1, 100, (1 << 31) - 1])
DIMS = st.one_of(st.lists(st.integers(-2, 64), max_size=5), st.just([1 << 31]), st.just([]))
FORMATS = st.sampled_from([0, 1, 2, 3, -1, 29])


class ModelRules(MachineBase):

    # ------------------------------------------------------------------ data buffers
    def do_create_data_buffer(self, address: int, size: int) -> Buf:
        out = self.call("acl.create_data_buffer", address, size)
        assert out.message is None, out.message
        return self.register(out.value, Buf(0, address & MASK64, size & MASK64))

    @rule(ptr=POINTER, size=COUNT)
    def create_data_buffer(self, ptr, size):
        address = self.pointer(ptr)
        self.do_create_data_buffer(address, self.count(size, address))

    def do_destroy_data_buffer(self, handle: int):
        buf = self.obj(handle, Buf)
        out = self.call("acl.destroy_data_buffer", handle)
        if buf is None:
            return self.expect(out, INVALID_PARAM)
        self.expect(out, OK)
        self.kill(buf)
        for op in self.mem.watchers(buf):       # its execution will find it destroyed
            self.mem.taint(op)
            op.errors.add(INVALID_PARAM)
        return OK

    @rule(pick=HANDLE)
    def destroy_data_buffer(self, pick):
        self.do_destroy_data_buffer(self.handle(pick, Buf))

    def retarget(self, buf: Buf, address: int, size: int) -> None:
        for op in self.mem.watchers(buf):       # a queued execution binds what it finds
            self.mem.taint(op)
            op.errors |= {INVALID_PARAM, GE_PARAM_INVALID, GE_ADDR_INVALID}
            op.wild.append((address, WILD))
        buf.address, buf.size = address, size

    @rule(pick=HANDLE, ptr=POINTER, size=COUNT)
    def update_data_buffer(self, pick, ptr, size):
        handle = self.handle(pick, Buf)
        buf = self.obj(handle, Buf)
        address = self.pointer(ptr)
        count = self.count(size, address)
        out = self.call("acl.update_data_buffer", handle, address, count)
        if buf is None:
            return self.answer(out, INVALID_PARAM)
        self.expect(out, OK)
        self.retarget(buf, address & MASK64, count & MASK64)

    @rule(pick=HANDLE, which=st.sampled_from(["addr", "size", "size_v2"]))
    def data_buffer_getters(self, pick, which):
        handle = self.handle(pick, Buf)
        buf = self.obj(handle, Buf)
        out = self.call({"addr": "acl.get_data_buffer_addr", "size": "acl.get_data_buffer_size",
                         "size_v2": "acl.get_data_buffer_size_v2"}[which], handle)
        if buf is None:
            self.expect_bare(out, 0, fails=True)
        else:
            self.expect_bare(out, {"addr": buf.address, "size": buf.size & MASK32,
                                   "size_v2": buf.size}[which], fails=False)

    # ------------------------------------------------------------------ datasets
    def do_create_dataset(self) -> DS:
        out = self.call("mdl.create_dataset")
        assert out.message is None, out.message
        return self.register(out.value, DS(0))

    @rule()
    def create_dataset(self):
        self.do_create_dataset()

    def do_destroy_dataset(self, handle: int):
        ds = self.obj(handle, DS)
        out = self.call("mdl.destroy_dataset", handle)
        if ds is None:
            return self.expect(out, INVALID_PARAM)
        self.expect(out, OK)
        for desc in ds.descs.values():          # its tensor descs go with it
            self.kill(desc)
        self.kill(ds)
        return OK

    @rule(pick=HANDLE)
    def destroy_dataset(self, pick):
        self.do_destroy_dataset(self.handle(pick, DS))

    def do_add_dataset_buffer(self, ds_handle: int, buf_handle: int):
        ds, buf = self.obj(ds_handle, DS), self.obj(buf_handle, Buf)
        out = self.call("mdl.add_dataset_buffer", ds_handle, buf_handle)
        if ds is None or buf is None:
            self.expect(out, INVALID_PARAM)
            assert out.value == 0
            return INVALID_PARAM
        self.expect(out, OK)
        assert out.value == ds.handle
        ds.buffers.append(buf)
        for op in self.mem.watchers(ds):        # its execution will see one buffer too many
            self.mem.taint(op)
            op.errors.add(GE_PARAM_INVALID)
        return OK

    @rule(ds=HANDLE, buf=HANDLE)
    def add_dataset_buffer(self, ds, buf):
        self.do_add_dataset_buffer(self.handle(ds, DS), self.handle(buf, Buf))

    @rule(pick=HANDLE, index=INDEX)
    def dataset_getters(self, pick, index):
        handle = self.handle(pick, DS)
        ds = self.obj(handle, DS)
        out = self.call("mdl.get_dataset_num_buffers", handle)
        self.expect_bare(out, len(ds.buffers) if ds else 0, fails=ds is None)
        out = self.call("mdl.get_dataset_buffer", handle, index)
        i = index & MASK64
        if ds is None or i >= len(ds.buffers):
            self.expect_bare(out, 0, fails=True)
        else:
            self.expect_bare(out, ds.buffers[i].handle, fails=False)
        out = self.call("mdl.get_dataset_tensor_desc", handle, index)
        if ds is None or i not in ds.descs:
            self.expect_bare(out, 0, fails=True)
        else:
            self.expect_bare(out, ds.descs[i].handle, fails=False)

    @rule(ds_pick=HANDLE, td_pick=HANDLE, index=INDEX)
    def set_dataset_tensor_desc(self, ds_pick, td_pick, index):
        handle, desc_handle = self.handle(ds_pick, DS), self.handle(td_pick, TD)
        ds, desc = self.obj(handle, DS), self.obj(desc_handle, TD)
        out = self.call("mdl.set_dataset_tensor_desc", handle, desc_handle, index)
        i = index & MASK64
        if ds is None or i >= len(ds.buffers) or (desc is None and desc_handle & MASK64):
            self.expect(out, INVALID_PARAM)
            assert out.value == 0
            return
        self.expect(out, OK)
        assert out.value == ds.handle
        if desc is None:
            ds.descs.pop(i, None)
        else:
            ds.descs[i] = desc

    # ------------------------------------------------------------------ tensor descs
    @rule(data_type=DTYPES, dims=DIMS, format_=FORMATS)
    def create_tensor_desc(self, data_type, dims, format_):
        out = self.call("acl.create_tensor_desc", data_type, dims, format_)
        assert out.message is None, out.message
        self.register(out.value, TD(0, data_type, dims, format_))

    @rule(pick=HANDLE)
    def destroy_tensor_desc(self, pick):
        handle = self.handle(pick, TD)
        desc = self.obj(handle, TD)
        out = self.call("acl.destroy_tensor_desc", handle)
        self.expect_bare(out, None, fails=desc is None)
        if desc is not None:
            self.kill(desc)

    @rule(pick=HANDLE, index=INDEX)
    def tensor_desc_getters(self, pick, index):
        handle = self.handle(pick, TD)
        desc = self.obj(handle, TD)
        i = index & MASK64
        if desc is None:
            for key, failure in (("type", -1), ("format", -1), ("num_dims", 0),
                                 ("element_count", 0), ("size", 0), ("name", "")):
                self.expect_bare(self.call(f"acl.get_tensor_desc_{key}", handle), failure, True)
            self.expect_bare(self.call("acl.get_tensor_desc_dim", handle, index), -1, True)
            out = self.call("acl.get_tensor_desc_dim_v2", handle, index)
            self.expect(out, INVALID_PARAM)
            return
        count = 0 if any(d < 0 for d in desc.dims) else int(np.prod(desc.dims, dtype=object))
        item = self.call("acl.data_type_size", desc.data_type)
        assert item.message is None and type(item.value) is int and item.value >= 0
        for key, value in (("type", desc.data_type), ("format", desc.format),
                           ("num_dims", len(desc.dims)), ("element_count", count),
                           ("size", count * item.value), ("name", desc.name)):
            self.expect_bare(self.call(f"acl.get_tensor_desc_{key}", handle), value, False)
        out = self.call("acl.get_tensor_desc_dim", handle, index)
        out2 = self.call("acl.get_tensor_desc_dim_v2", handle, index)
        if i < len(desc.dims):
            self.expect_bare(out, desc.dims[i], False)
            self.expect(out2, OK)
            assert out2.value == desc.dims[i]
        else:
            self.expect_bare(out, -1, True)
            self.expect(out2, INVALID_PARAM)

    @rule(pick=HANDLE, dims=DIMS)
    def set_tensor_shape(self, pick, dims):
        handle = self.handle(pick, TD)
        desc = self.obj(handle, TD)
        out = self.call("acl.set_tensor_shape", handle, dims)
        if desc is None:
            return self.answer(out, INVALID_PARAM)
        self.expect(out, OK)
        desc.dims = list(dims)

    @rule(pick=HANDLE, ranges=st.lists(st.lists(st.integers(-1, 64), min_size=2, max_size=2),
                                       max_size=5),
          index=INDEX, count=st.sampled_from([2, 2, 0, 1, 4096, 4097]),
          name=st.sampled_from(["", "x", "input:0", "名字"]), format_=FORMATS)
    def tensor_desc_ranges_names_formats(self, pick, ranges, index, count, name, format_):
        handle = self.handle(pick, TD)
        desc = self.obj(handle, TD)
        out = self.call("acl.set_tensor_shape_range", handle, ranges)
        if desc is None or len(ranges) != len(desc.dims):
            self.expect(out, INVALID_PARAM)
        else:
            self.expect(out, OK)
            desc.ranges = [list(r) for r in ranges]
        out = self.call("acl.get_tensor_desc_dim_range", handle, index, count)
        i = index & MASK64
        if count > 4096 or desc is None or i >= len(desc.dims) or count < 2:
            self.expect(out, INVALID_PARAM)
            assert out.value is None
        else:
            self.expect(out, OK)
            ranges = desc.ranges
            want = ranges[i] if ranges is not None and i < len(ranges) else [desc.dims[i]] * 2
            assert out.value == want, f"dim range {out.value}, expected {want}"
        out = self.call("acl.set_tensor_desc_name", handle, name)
        self.expect_bare(out, None, fails=desc is None)
        if desc is not None:
            desc.name = name
            self.expect_bare(self.call("acl.get_tensor_desc_name", handle), name, fails=False)
        out = self.call("acl.trans_tensor_desc_format", handle, format_)
        if desc is None:
            return self.answer(out, INVALID_PARAM)
        order = {(0, 1): (0, 2, 3, 1), (1, 0): (0, 3, 1, 2)}.get((desc.format, format_))
        if format_ != desc.format and (order is None or len(desc.dims) != 4):
            self.expect(out, INVALID_PARAM)
            assert out.value == 0
            return
        self.expect(out, OK)
        dims = [desc.dims[k] for k in order] if format_ != desc.format else desc.dims
        clone = self.register(out.value, TD(0, desc.data_type, dims, format_))
        clone.name = desc.name
        clone.ranges = desc.ranges
        for key, value in (("format", format_), ("num_dims", len(dims)), ("name", desc.name)):
            self.expect_bare(self.call(f"acl.get_tensor_desc_{key}", clone.handle), value, False)

    @rule(bits=st.integers(-1, 1 << 17), value=st.one_of(
        st.floats(allow_nan=False, width=32), st.sampled_from([1e9, -1e-9, 65504.0, 2]),
        st.integers(-70000, 70000)))
    def float16_conversions(self, bits, value):
        out = self.call("acl.float16_to_float", bits)
        want = float(np.array(bits & 0xFFFF, np.uint16).view(np.float16))
        assert out.message is None and type(out.value) is float
        assert out.value == want or (np.isnan(want) and np.isnan(out.value)), (bits, out.value)
        out = self.call("acl.float_to_float16", value)
        with np.errstate(over="ignore"):
            want = int(np.array(value, np.float32).astype(np.float16).view(np.uint16))
        assert out.message is None and out.value == want, (value, out.value, want)

    @rule(pick=HANDLE, ptr=POINTER, count=COUNT)
    def set_tensor_const(self, pick, ptr, count):
        handle = self.handle(pick, TD)
        desc = self.obj(handle, TD)
        address = self.pointer(ptr)
        size = self.count(count, address)
        out = self.call("acl.set_tensor_const", handle, address, size)
        if desc is None or address & MASK64 == 0 or size & MASK64 == 0:
            return self.answer(out, INVALID_PARAM)
        if not self.mem.check(address & MASK64, size & MASK64, write=False):
            return self.answer(out, RT_PARAM_INVALID)
        self.expect(out, OK)

    # ------------------------------------------------------------------ load / unload
    def loaded(self, out, net):
        """The codes once the model bytes parsed: init, then the current context."""
        ctx = self.ctx()
        if not self.initialized:
            self.expect(out, GE_NOT_INIT)
        elif ctx is None:
            self.expect(out, CONTEXT_NULL)
        else:
            self.expect(out, OK)
            model_id = out.value
            assert type(model_id) is int and model_id >= 1 and model_id not in self.models, \
                f"load answered the model id {model_id!r}"
            model = self.models[model_id] = Mdl(model_id, net, ctx)
            return model
        assert out.value == 0
        return None

    def do_load_from_file(self, net, path: str = "model"):
        file = {"model": net.path, "missing": net.path + ".missing", "empty": "",
                "folder": os.path.dirname(net.path), "not_a_model": NOT_A_MODEL}[path]
        out = self.call("mdl.load_from_file", file)
        if path in ("missing", "empty", "folder"):
            self.expect(out, GE_PATH_INVALID)
        elif path == "not_a_model":
            self.expect(out, GE_PARAM_INVALID)
        else:
            return self.loaded(out, net)
        assert out.value == 0
        return None

    @rule(net=NET, path=st.sampled_from(["model"] * 4 + ["missing", "empty", "folder",
                                                         "not_a_model"]))
    def load_from_file(self, net, path):
        if len(self.models) < MAX_MODELS:
            self.do_load_from_file(NETS[net], path)

    def model_region(self, net) -> Region:
        """A bytes object holding the model (created once per machine)."""
        region = self.model_bytes.get(net.name)
        if region is None:
            obj = bytes(bytearray(net.data))
            out = self.call("util.bytes_to_ptr", obj)
            region = Region("bytes", out.value, len(obj), obj, obj=obj)
            self.model_bytes[net.name] = self.mem.add(region)
        return region

    @rule(net=NET, source=st.sampled_from(["bytes", "bytes", "pinned", "pointer"]),
          size=st.sampled_from(["exact"] * 3 + ["short", "long", "zero"]), pick=POINTER)
    def load_from_mem(self, net, source, size, pick):
        net = NETS[net]
        if len(self.models) >= MAX_MODELS:
            return
        if source == "bytes":
            address = self.model_region(net).address
        elif source == "pinned":
            _, staged = self.do_malloc_host(len(net.data))
            if staged is None:
                return
            source_region = self.model_region(net)
            ret = self.do_memcpy(staged.address, staged.usable, source_region.address,
                                 len(net.data), 0)
            assert ret == OK
            address = staged.address
        else:
            address = self.pointer(pick)
        length = {"exact": len(net.data), "short": len(net.data) // 2,
                  "long": len(net.data) + 100, "zero": 0}[size]
        out = self.call("mdl.load_from_mem", address, length)
        if address == 0 or length == 0:
            return self.answer(out, INVALID_PARAM)
        moved = self.mem.check(address, length, write=False)
        if not moved:
            return self.answer(out, INVALID_PARAM)
        data, known = self.mem.expected(address, moved)
        if not all(known):
            # Unknown memory may hold anything, even an old copy of a model: read what it holds.
            data = ctypes.string_at(address, moved)
        matches = [n for n in NETS if n.data == data]
        if not matches:
            return self.answer(out, GE_PARAM_INVALID)
        self.loaded(out, matches[0])

    def model_id(self, pick) -> int:
        category, index, foreign = pick
        pool = sorted(self.models) if category == "live" else (
            self.dead_model_ids if category == "stale" else [])
        return pool[index % len(pool)] if pool else foreign

    def do_unload(self, value: int):
        out = self.call("mdl.unload", value)
        model = self.models.get(value & MASK32)
        ctx = self.ctx()
        if model is None:
            return self.expect(out, GE_MODEL_ID_INVALID)
        if ctx is None:
            return self.expect(out, CONTEXT_NULL)
        if ctx is not model.ctx:
            return self.expect(out, MODEL_CONTEXT)
        self.expect(out, OK)
        # unload waits for the model's queued executions: their streams ran what they held.
        for stream in {op.stream for op in self.mem.inflight if op.model is model}:
            self.drained(stream)
        del self.models[model.model_id]
        self.dead_model_ids.append(model.model_id)
        for region in model.scratch:
            if region.live:
                self.free_region(region)
        return OK

    @rule(pick=MODEL_PICK)
    def unload(self, pick):
        model_id = self.model_id(pick)
        self.do_unload(model_id)

    # ------------------------------------------------------------------ model descs
    @rule()
    def create_desc(self):
        out = self.call("mdl.create_desc")
        assert out.message is None, out.message
        self.register(out.value, MD(0))

    @rule(pick=HANDLE)
    def destroy_desc(self, pick):
        handle = self.handle(pick, MD)
        desc = self.obj(handle, MD)
        out = self.call("mdl.destroy_desc", handle)
        if desc is None:
            return self.answer(out, INVALID_PARAM)
        self.expect(out, OK)
        self.kill(desc)

    @rule(pick=HANDLE, model=MODEL_PICK)
    def get_desc(self, pick, model):
        handle, model_id = self.handle(pick, MD), self.model_id(model)
        desc = self.obj(handle, MD)
        out = self.call("mdl.get_desc", handle, model_id)
        found = self.models.get(model_id & MASK32)
        if desc is None:
            return self.answer(out, INVALID_PARAM)
        if found is None:
            return self.answer(out, GE_MODEL_ID_INVALID)
        self.expect(out, OK)
        desc.net = found.net

    @rule(pick=HANDLE, index=INDEX, name=st.sampled_from(["x", "a", "b", "y", "c", "nope"]))
    def desc_getters(self, pick, index, name):
        handle = self.handle(pick, MD)
        desc = self.obj(handle, MD)
        net = desc.net if desc is not None else None
        i = index & MASK64
        for key, tensors in (("input", net.inputs if net else None),
                             ("output", net.outputs if net else None)):
            out = self.call(f"mdl.get_num_{key}s", handle)
            self.expect_bare(out, len(tensors) if net else 0, fails=net is None)
            bad = net is None or i >= len(tensors)
            size = 0 if bad else 4 * int(np.prod(tensors[i][1]))
            out = self.call(f"mdl.get_{key}_size_by_index", handle, index)
            self.expect_bare(out, size, fails=bad)
            out = self.call(f"mdl.get_{key}_name_by_index", handle, index)
            self.expect_bare(out, "" if bad else tensors[i][0], fails=bad)
            out = self.call(f"mdl.get_{key}_dims", handle, index)
            if bad:
                self.expect(out, INVALID_PARAM)
                assert out.value == {}
            else:
                self.expect(out, OK)
                shape = list(tensors[i][1])
                assert out.value == {"name": tensors[i][0], "dimCount": len(shape), "dims": shape}
            out = self.call(f"mdl.get_{key}_index_by_name", handle, name)
            names = [n for n, _ in tensors] if net else []
            if name in names:
                self.expect(out, OK)
                assert out.value == names.index(name)
            else:
                self.expect(out, INVALID_PARAM)

    # ------------------------------------------------------------------ execution
    def plan_bind(self, model: Mdl, inputs: DS, outputs: DS, synchronous: bool):
        """The executor's checks: (code, reads, writes); a read of None is a skipped input,
        a write of None an output the runtime allocates."""
        net = model.net
        for ds, count in ((inputs, len(net.inputs)), (outputs, len(net.outputs))):
            if any(not b.live for b in ds.buffers):
                return INVALID_PARAM, [], []
            if len(ds.buffers) != count:
                return GE_PARAM_INVALID, [], []
        reads, writes = [], []
        for buf, need in zip(inputs.buffers, net.input_sizes):
            if buf.size == 0:
                reads.append((None, need))
                continue
            if buf.address == 0:
                return INVALID_PARAM, reads, []
            if buf.size + SIZE_SLACK < need:
                return GE_PARAM_INVALID, reads, []
            if not self.mem.check(buf.address, need, write=False, clamp=False):
                return GE_ADDR_INVALID, reads, []
            reads.append((buf.address, need))
        for buf, need in zip(outputs.buffers, net.output_sizes):
            if buf.address == 0 and buf.size == 0 and synchronous:
                writes.append((None, need))
                continue
            if buf.address == 0:
                return INVALID_PARAM, reads, writes
            if buf.size + SIZE_SLACK < need:
                return GE_PARAM_INVALID, reads, writes
            if not self.mem.check(buf.address, need, write=True):
                return GE_ADDR_INVALID, reads, writes
            writes.append((buf.address, need))
        return OK, reads, writes

    def adopt_scratch(self, model: Mdl, before: set[int]) -> None:
        """Device memory the executor allocated for skipped inputs (zero-filled)."""
        for allocation in RUNTIME.memory.live():
            if allocation.address not in before and allocation.address not in self.mem.live:
                region = Region("scratch", allocation.address, allocation.usable,
                                bytes(allocation.usable))
                model.scratch.append(self.mem.add(region))

    def do_execute(self, model_id: int, in_handle: int, out_handle: int, stream_handle=None):
        asynchronous = stream_handle is not None
        before = {a.address for a in RUNTIME.memory.live()}
        if asynchronous:
            out = self.call("mdl.execute_async", model_id, in_handle, out_handle, stream_handle)
        else:
            out = self.call("mdl.execute", model_id, in_handle, out_handle)
        inputs, outputs = self.obj(in_handle, DS), self.obj(out_handle, DS)
        model = self.models.get(model_id & MASK32)
        if inputs is None or outputs is None:
            return self.expect(out, INVALID_PARAM)
        if model is None:
            return self.expect(out, GE_MODEL_ID_INVALID)
        ctx = self.ctx()
        if ctx is None:
            return self.expect(out, CONTEXT_NULL)
        if ctx is not model.ctx:
            return self.expect(out, MODEL_CONTEXT)
        stream = None
        if asynchronous:
            code, stream = self.resolve_stream(stream_handle)
            if code:
                return self.expect(out, code)
        code, reads, writes = self.plan_bind(model, inputs, outputs, not asynchronous)
        for index, (address, need) in enumerate(writes):
            if address is None:                # (0, 0): execute allocates it; learn where
                buf = outputs.buffers[index]
                got = self.call("acl.get_data_buffer_addr", buf.handle).value
                before.add(got)
                region = self.mem.add(Region("device", got, usable_size(need, True), size=need))
                self.retarget(buf, region.address, need)
                writes[index] = (got, need)
        if any(address is None for address, _ in reads):
            self.adopt_scratch(model, before)
        if code:
            return self.expect(out, code)
        self.expect(out, OK)
        view = ((lambda a, n: self.mem.stream_view(stream, a, n)) if asynchronous
                else self.mem.expected)
        raw, known = [], True
        for address, need in reads:
            if address is None:
                raw.append(bytes(need))
                continue
            data, mask = view(address, need)
            raw.append(data)
            known = known and all(mask)
        racing = any(overlaps(a, n, b, m) for a, n in writes for b, m in reads if b is not None)
        results = model.net.reference(raw) if known and not racing else None
        if asynchronous:
            data = [(r, b"\x01" * len(r)) for r in results] if results else [None] * len(writes)
            op = Op("execute_async", stream, writes, [r for r in reads if r[0] is not None],
                    data, {GE_ADDR_INVALID})
            op.watch = (inputs, outputs, *inputs.buffers, *outputs.buffers)
            op.model = model
            self.mem.enqueue(op)
            self.queued.add(stream)
            return OK
        for index, (address, need) in enumerate(writes):
            self.mem.write(address, results[index] if results else None, need)
        quiet = not any(op.touches(a, n) for op in self.mem.inflight for a, n in writes)
        if results and quiet:                     # read the outputs back: onnxruntime's bytes
            for (address, need), expected in zip(writes, results):
                got, _, _ = self.read_back(address, need)
                assert got == expected, "acl.mdl.execute differs from onnxruntime"
        return OK

    @rule(index=st.integers(0, 1 << 10), asynchronous=st.booleans(), stream=HANDLE)
    def execute_matching(self, index, asynchronous, stream):
        """Execute a model of this context on datasets whose buffer counts fit it."""
        ctx = self.ctx()
        models = [m for m in self.models.values() if m.ctx is ctx]
        if not models:
            return
        model = models[index % len(models)]
        fitting = [[ds for ds in self.objects.values() if type(ds) is DS
                    and len(ds.buffers) == len(tensors) and all(b.live for b in ds.buffers)]
                   for tensors in (model.net.inputs, model.net.outputs)]
        if not fitting[0] or not fitting[1]:
            return
        inputs = fitting[0][index % len(fitting[0])]
        outputs = fitting[1][(index // 7) % len(fitting[1])]
        self.do_execute(model.model_id, inputs.handle, outputs.handle,
                        self.handle(stream, Strm) if asynchronous else None)

    @rule(model=MODEL_PICK, inputs=HANDLE, outputs=HANDLE)
    def execute(self, model, inputs, outputs):
        self.do_execute(self.model_id(model), self.handle(inputs, DS), self.handle(outputs, DS))

    @rule(model=MODEL_PICK, inputs=HANDLE, outputs=HANDLE, stream=HANDLE)
    def execute_async(self, model, inputs, outputs, stream):
        self.do_execute(self.model_id(model), self.handle(inputs, DS), self.handle(outputs, DS),
                        self.handle(stream, Strm))
