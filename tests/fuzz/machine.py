"""The pyACL state machine: every rule of the mixins, the sample's end-to-end pipeline, and
the release of everything at the end (which must bring memory back to where it started and
leave nothing for ``acl.finalize`` to report)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from tests.fuzz.base import OK, SEED
from tests.fuzz.nets import NETS
from tests.fuzz.rules_memory import MemoryRules
from tests.fuzz.rules_model import NET, ModelRules
from tests.fuzz.rules_runtime import RuntimeRules
from tests.fuzz.world import Buf, Ctx, DS, Ev, MD, Strm, TD, reserved_size

__all__ = ["AclMachine"]

ACL_MEMCPY_HOST_TO_HOST, ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_HOST = 0, 1, 2


class AclMachine(RuntimeRules, MemoryRules, ModelRules):
    """Random pyACL programs, each step checked against the model of the runtime."""

    # ------------------------------------------------------------------ where a run starts
    @initialize(setup=st.sampled_from(["bare", "device", "context"] + ["full"] * 5),
                net=NET, seed=SEED, reporter=st.sampled_from([True, True, False]))
    def start(self, setup, net, seed, reporter):
        """Most runs start where the samples are after their setup, so that the random steps
        meet live objects of every kind (a bare start tests the calls before any setup)."""
        if setup == "bare":
            return
        self.init()
        self.set_device(0)
        if setup == "device":
            return
        self.create_context(0)
        if setup == "context":
            return
        self.create_stream(False, 0, 0)
        self.create_event(None)
        model = self.do_load_from_file(NETS[net])
        for kind in ("bytes", "numpy"):
            self.host_object(kind, 64, seed)
        rng = np.random.default_rng(seed)
        for datasets, sizes in (("in", model.net.input_sizes), ("out", model.net.output_sizes)):
            ds = self.do_create_dataset()
            for size in sizes:
                _, region = self.do_malloc(size)
                values = rng.standard_normal(size // 4).astype(np.float32).tobytes()
                source = self.host_object("bytes", size, 0, content=values)
                assert self.do_memcpy(region.address, size, source.address, size,
                                      ACL_MEMCPY_HOST_TO_DEVICE) == OK
                buf = self.do_create_data_buffer(region.address, size)
                assert self.do_add_dataset_buffer(ds.handle, buf.handle) == OK
        _, pinned = self.do_malloc_host(256)
        desc = self.call("mdl.create_desc").value
        self.register(desc, MD(0))
        self.get_desc(("live", 0, 0), ("live", 0, 0))
        self.create_tensor_desc(0, [1, 3, 4, 4], 0)
        if reporter:
            self.start_report_thread(seed % 2 == 0, True)
            stream = next(s for s in self.objects.values() if type(s) is Strm and not s.default)
            self.subscribe_report(1, 0, ("live", self.live_of(Strm).index(stream.handle), 0))

    # ------------------------------------------------------------------ the sample's flow
    def staging(self, kind: str, content: bytes):
        """Host memory holding ``content``: a bytes or numpy object, or pinned memory."""
        if kind != "pinned":
            return self.host_object(kind, len(content), 0, content=content)
        _, pinned = self.do_malloc_host(len(content))
        source = self.host_object("bytes", len(content), 0, content=content)
        assert self.do_memcpy(pinned.address, pinned.usable, source.address, len(content),
                              ACL_MEMCPY_HOST_TO_HOST) == OK
        return pinned

    @rule(net=NET, seed=SEED, asynchronous=st.booleans(), stream=st.integers(0, 7),
          staging=st.sampled_from(["bytes", "numpy", "pinned"]))
    def pipeline(self, net, seed, asynchronous, stream, staging):
        """H2D, execute (or execute_async on a stream), D2H, release: exact against onnxruntime."""
        ctx = self.ctx()
        if ctx is None or not self.initialized:
            return
        net = NETS[net]
        model = next((m for m in self.models.values() if m.net is net and m.ctx is ctx), None)
        if model is None:
            model = self.do_load_from_file(net)
        stream_handle = None
        if asynchronous:
            mine = [s for s in self.objects.values() if type(s) is Strm and s.ctx is ctx]
            stream_handle = mine[stream % len(mine)].handle if stream % 2 else 0
        rng = np.random.default_rng(seed)
        arrays = [rng.standard_normal(shape).astype(np.float32) for _, shape in net.inputs]
        regions, buffers = [], []
        inputs, outputs = self.do_create_dataset(), self.do_create_dataset()
        for array in arrays:
            _, device = self.do_malloc(array.nbytes)
            host = self.staging(staging, array.tobytes())
            regions += [device] + ([host] if host.kind == "pinned" else [])
            if asynchronous:
                ret = self.do_memcpy_async(device.address, device.usable, host.address,
                                           array.nbytes, ACL_MEMCPY_HOST_TO_DEVICE, stream_handle)
            else:
                ret = self.do_memcpy(device.address, device.usable, host.address, array.nbytes,
                                     ACL_MEMCPY_HOST_TO_DEVICE)
            assert ret == OK
            buffers.append(self.do_create_data_buffer(device.address, array.nbytes))
            assert self.do_add_dataset_buffer(inputs.handle, buffers[-1].handle) == OK
        size = net.output_sizes[0]
        _, result = self.do_malloc(size)
        regions.append(result)
        buffers.append(self.do_create_data_buffer(result.address, size))
        assert self.do_add_dataset_buffer(outputs.handle, buffers[-1].handle) == OK
        ret = self.do_execute(model.model_id, inputs.handle, outputs.handle, stream_handle)
        assert ret == OK
        target = result
        if asynchronous:
            _, target = self.do_malloc_host(size)
            regions.append(target)
            assert self.do_memcpy_async(target.address, size, result.address, size,
                                        ACL_MEMCPY_DEVICE_TO_HOST, stream_handle) == OK
            self.do_synchronize_stream(stream_handle)
        got, want, known = self.read_back(target.address, size)
        expected = net.reference([a.tobytes() for a in arrays])[0]
        if all(known):                          # nothing raced with it: exact results
            assert want == expected, "the model of memory disagrees with onnxruntime"
            assert got == expected, "the pipeline's result differs from onnxruntime"
        for buf in buffers:
            assert self.do_destroy_data_buffer(buf.handle) == OK
        for ds in (inputs, outputs):
            assert self.do_destroy_dataset(ds.handle) == OK
        for region in regions:
            assert self.do_free(region.address, host=region.kind == "pinned") == OK

    # ------------------------------------------------------------------ the end
    def use(self, ctx: Ctx) -> None:
        if self.ctx() is not ctx:
            self.expect(self.call("rt.set_context", ctx.handle), OK)
            self.current = ctx

    def live(self, kind) -> list:
        return [o for o in self.objects.values() if type(o) is kind]

    def release_everything(self):
        contexts = self.live(Ctx)
        if contexts:
            if self.ctx() is None:
                self.use(contexts[0])
            self.synchronize_device(None)
        for stream in self.live(Strm):
            if stream.subscriber is not None:
                self.use(stream.ctx)
                self.expect(self.call("rt.unsubscribe_report", stream.subscriber.thread_id,
                                      stream.handle), OK)
                self.unsubscribed(stream)
        for reporter in list(self.reporters):
            self.stop_reporter(reporter)
        for model in list(self.models.values()):
            if model.ctx.live:
                self.use(model.ctx)
                assert self.do_unload(model.model_id) == OK
        for desc in self.live(MD):
            self.expect(self.call("mdl.destroy_desc", desc.handle), OK)
            self.kill(desc)
        for ds in self.live(DS):
            assert self.do_destroy_dataset(ds.handle) == OK
        for desc in self.live(TD):
            self.expect_bare(self.call("acl.destroy_tensor_desc", desc.handle), None, False)
            self.kill(desc)
        for buf in self.live(Buf):
            assert self.do_destroy_data_buffer(buf.handle) == OK
        for event in self.live(Ev):
            self.expect(self.call("rt.destroy_event", event.handle), OK)
            self.kill(event)
        owned = [r for r in self.mem.live.values() if r.kind in ("device", "pinned")]
        if owned and self.ctx() is None:
            if not self.live(Ctx):
                self.set_device(0)
            self.use(self.live(Ctx)[0])
        for region in owned:
            assert self.do_free(region.address, host=region.kind == "pinned") == OK
        orphans = list(self.models.values())       # loaded in a context that is gone
        if self.ctx() is not None:
            out = self.call("rt.get_mem_info", 0)
            self.expect(out, OK)
            free, total = out.values
            scratch = sum(reserved_size(r.usable) for m in orphans for r in m.scratch if r.live)
            assert free == total - scratch, f"memory not back to its start: {total - free} used"
        for stream in self.live(Strm):
            if not stream.default:
                self.expect(self.call("rt.destroy_stream", stream.handle), OK)
                self.destroy_stream_model(stream)
        for ctx in self.live(Ctx):
            if not ctx.default:
                self.expect(self.call("rt.destroy_context", ctx.handle), OK)
                self.destroy_ctx_model(ctx)
        while self.set_count:
            self.reset_device(0, False)
        if self.initialized:
            self.finalize()                    # warns only about models that cannot be unloaded
        else:
            assert not orphans
        assert not self.mem.inflight and not self.mem.live and not self.objects, \
            f"the model still holds {self.mem.live or self.objects}"
