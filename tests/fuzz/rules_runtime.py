"""Rules over the runtime: init/finalize, devices, contexts, streams, events, host
callbacks with report threads, threads without a context, and argument errors."""

from __future__ import annotations

import contextlib
import errno
import io
import threading
import time
import warnings

from hypothesis import strategies as st
from hypothesis.stateful import rule

import acl
from openacl.runtime import LeakWarning

from tests.fuzz.base import (CONTEXT_NULL, HANDLE, INVALID_PARAM, OK,
                             RT_PARAM_INVALID, MachineBase)
from tests.fuzz.nets import CONFIGS
from tests.fuzz.world import MASK32, Ctx, DS, Ev, Reporter, Strm

__all__ = ["RuntimeRules"]

REPEAT_INITIALIZE = 100002
REPEAT_FINALIZE = 100037
INVALID_DEVICE = 107001
STREAM_SUBSCRIBE = 107011
THREAD_SUBSCRIBE = 107012
STREAM_NO_CB_REG = 107015
STREAM_SYNC_TIMEOUT = 507046
EVENT_SYNC_TIMEOUT = 507047
ESRCH = errno.ESRCH
ACL_EVENT_SYNC = 0x1
_EVENT_FLAGS = 0x1 | 0x2 | 0x8 | 0x10 | 0x20 | 0x40
_STREAM_FLAGS = 0x3F
_REPORT_WAIT_MS = 20      # as the samples: a report thread must see its exit flag

DEVICE_IDS = st.sampled_from([0, 0, 0, 0, 1, -1, 63, (1 << 31) - 1, -(1 << 31)])
TIMEOUTS = st.sampled_from([None, None, None, -1, 1, 5, 2000, 0, -2, -(1 << 31)])
BLOCK = st.sampled_from([0, 1, 1, 2, -1])

# Calls whose arguments cannot be parsed: each must raise the parse error, change nothing,
# and leave no error message.
BAD_ARGUMENTS = [
    ("rt.malloc", ("64", 0), TypeError), ("rt.malloc", (64, 1 << 31), TypeError),
    ("rt.malloc", (64.0, 0), TypeError), ("rt.malloc", (64,), TypeError),
    ("rt.set_device", (1 << 31,), TypeError), ("rt.set_device", (None,), TypeError),
    ("rt.create_context", (-(1 << 31) - 1,), TypeError),
    ("rt.memcpy", (1, 1, 1, 1, 1 << 40), TypeError),
    ("rt.memset", (1, 1, 1 << 31, 1), TypeError),
    ("rt.synchronize_stream_with_timeout", (0, 1 << 31), TypeError),
    ("rt.process_report", (1 << 40,), TypeError),
    ("rt.launch_callback", (42, None, 0, 0), TypeError),
    ("rt.free", ("0x10",), TypeError), ("rt.destroy_stream", (1.0,), TypeError),
    ("rt.get_mem_info", (1 << 31,), TypeError),
    ("rt.create_event_with_flag", ("1",), TypeError),
    ("rt.subscribe_report", (1.0, 0), TypeError),
    ("acl.create_data_buffer", (1.5, 8), TypeError),
    ("acl.create_tensor_desc", (0, (1, 2), 0), TypeError),
    ("acl.create_tensor_desc", (0, [1, "2"], 0), TypeError),
    ("util.bytes_to_ptr", (bytearray(8),), ValueError),
    ("util.bytes_to_ptr", ("text",), ValueError),
    ("util.numpy_to_ptr", ([1, 2],), ValueError),
    ("util.ptr_to_bytes", (0, 8), ValueError),
    ("mdl.load_from_file", (b"/tmp/x.onnx",), TypeError),
    ("mdl.load_from_file", ("a\0b",), TypeError),
    ("mdl.execute", (1.0, 0, 0), TypeError), ("mdl.unload", ("1",), TypeError),
    ("mdl.add_dataset_buffer", (None, 0), TypeError),
]


def _serve_reports(args):
    """A report thread, as the samples write it: set_context, then process_report in a loop."""
    reporter, context = args
    if context:
        ret = acl.rt.set_context(context)
        if ret not in (0, INVALID_PARAM):         # the context may be gone by now
            reporter.problems.append(f"set_context({context:#x}) -> {ret!r}")
    while not reporter.exit:
        ret = acl.rt.process_report(_REPORT_WAIT_MS)
        if type(ret) is not int or ret not in (0, 507012, THREAD_SUBSCRIBE):
            reporter.problems.append(f"process_report -> {ret!r}: {acl.get_recent_err_msg()}")
        elif ret:
            message = acl.get_recent_err_msg()
            if not message or "acl.rt.process_report" not in message:
                reporter.problems.append(f"process_report -> {ret} with message {message!r}")
            if ret == THREAD_SUBSCRIBE:
                time.sleep(0.002)                  # nothing to serve: do not spin
        reporter.results.append(ret)
        del reporter.results[:-8]


class RuntimeRules(MachineBase):

    # ------------------------------------------------------------------ lifecycle
    @rule(config=st.sampled_from([None] * 6 + sorted(CONFIGS)))
    def init(self, config=None):
        if config is None:
            out = self.call("acl.init")
            code = OK
        else:
            path, code = CONFIGS[config]
            out = self.call("acl.init", path)
        if self.initialized:
            self.expect(out, REPEAT_INITIALIZE)
        else:
            self.expect(out, code)
            self.initialized = code == OK

    @rule()
    def finalize(self):
        leaks = self.leaks()
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", LeakWarning)
            out = self.call("acl.finalize")
        warned = [str(w.message) for w in seen if issubclass(w.category, LeakWarning)]
        if not self.initialized:
            self.expect(out, REPEAT_FINALIZE)
            assert not warned, warned
            return
        self.expect(out, OK)
        assert bool(warned) == bool(leaks), (f"finalize warned {warned}; the model expected "
                                             f"leaks: {leaks}")
        for stream in [o for o in self.objects.values() if type(o) is Strm]:
            self.loosen_callbacks(stream)      # report subscriptions are dropped first
        self.after_finalize()

    # ------------------------------------------------------------------ devices, contexts
    def check_current(self) -> None:
        out = self.call("rt.get_context")
        ctx = self.ctx()
        if ctx is None:
            self.expect(out, CONTEXT_NULL)
            assert out.value == 0
        else:
            self.expect(out, OK)
            assert out.value == ctx.handle, f"get_context answered {out.value:#x}, not {ctx!r}"

    @rule(device=DEVICE_IDS)
    def set_device(self, device):
        out = self.call("rt.set_device", device)
        if device != 0:
            self.expect(out, INVALID_DEVICE)
            return
        self.expect(out, OK)
        self.set_count += 1
        if self.default_ctx is None:
            got = self.call("rt.get_context")
            self.expect(got, OK)
            self.default_ctx = self.register(got.value, Ctx(0, default=True))
            self.current = self.default_ctx
            self.learn_default_stream(self.default_ctx)
        self.current = self.default_ctx
        self.check_current()

    @rule(device=DEVICE_IDS, force=st.booleans())
    def reset_device(self, device, force):
        out = self.call("rt.reset_device_force" if force else "rt.reset_device", device)
        if device != 0:
            self.expect(out, INVALID_DEVICE)
            return
        self.expect(out, OK)
        if self.set_count:
            self.set_count = 0 if force else self.set_count - 1
            if self.set_count == 0:
                self.destroy_ctx_model(self.default_ctx)
                self.default_ctx = None

    @rule(device=DEVICE_IDS)
    def create_context(self, device):
        out = self.call("rt.create_context", device)
        if device != 0:
            self.expect(out, INVALID_DEVICE)
            assert out.value == 0
            return
        self.expect(out, OK)
        self.current = self.register(out.value, Ctx(0, default=False))
        self.learn_default_stream(self.current)

    @rule(pick=HANDLE)
    def destroy_context(self, pick):
        handle = self.handle(pick, Ctx)
        ctx = self.obj(handle, Ctx)
        out = self.call("rt.destroy_context", handle)
        if ctx is None or ctx.default:
            self.expect(out, INVALID_PARAM)
            return
        self.expect(out, OK)
        self.destroy_ctx_model(ctx)

    @rule(pick=HANDLE)
    def set_context(self, pick):
        handle = self.handle(pick, Ctx)
        ctx = self.obj(handle, Ctx)
        out = self.call("rt.set_context", handle)
        if ctx is None:
            self.expect(out, INVALID_PARAM)
            return
        self.expect(out, OK)
        self.current = ctx

    @rule()
    def get_context(self):
        self.check_current()

    @rule()
    def queries(self):
        self.expect(self.call("rt.get_run_mode"), OK)
        assert self.call("rt.get_run_mode").values == (1,)
        assert self.call("rt.get_device_count").values == (1,)
        out = self.call("acl.get_version")
        self.expect(out, OK)
        soc = self.call("acl.get_soc_name").value
        assert (soc is None) == (not self.initialized), f"get_soc_name answered {soc!r}"
        out = self.call("rt.get_device")
        self.expect(out, OK if self.ctx() else CONTEXT_NULL)
        assert out.value == 0

    # ------------------------------------------------------------------ streams
    @rule(config=st.booleans(), priority=st.sampled_from([0, 1, -5, 7]),
          flag=st.sampled_from([0, 1, 2, 0x20, 0x40, -1]))
    def create_stream(self, config, priority, flag):
        if config:
            out = self.call("rt.create_stream_with_config", priority, flag)
            if flag & ~_STREAM_FLAGS:
                self.expect(out, INVALID_PARAM)
                return
        else:
            out = self.call("rt.create_stream")
        ctx = self.ctx()
        if ctx is None:
            self.expect(out, CONTEXT_NULL)
            assert out.value == 0
            return
        self.expect(out, OK)
        self.register(out.value, Strm(0, ctx, default=False))

    @rule(pick=HANDLE, force=st.booleans())
    def destroy_stream(self, pick, force):
        handle = self.handle(pick, Strm)
        stream = self.obj(handle, Strm)
        out = self.call("rt.destroy_stream_force" if force else "rt.destroy_stream", handle)
        if stream is None or stream.default:
            self.expect(out, INVALID_PARAM)
            return
        self.expect(out, OK)
        self.destroy_stream_model(stream, force)

    def do_synchronize_stream(self, handle: int, timeout=None):
        if timeout is None:
            out = self.call("rt.synchronize_stream", handle)
        else:
            out = self.call("rt.synchronize_stream_with_timeout", handle, timeout)
        code, stream = self.resolve_stream(handle)
        if code:
            return self.expect(out, code)
        if timeout is not None and (timeout == 0 or timeout < -1):
            return self.expect(out, RT_PARAM_INVALID)
        allowed = {OK} | self.possible_errors(stream)
        if timeout not in (None, -1) and stream in self.queued:
            allowed.add(STREAM_SYNC_TIMEOUT)
        ret = self.expect(out, *allowed)
        if ret != STREAM_SYNC_TIMEOUT:
            self.synchronized(stream)
        return ret

    @rule(pick=HANDLE, timeout=TIMEOUTS)
    def synchronize_stream(self, pick, timeout):
        self.do_synchronize_stream(self.handle(pick, Strm), timeout)

    @rule(timeout=TIMEOUTS)
    def synchronize_device(self, timeout):
        if timeout is None:
            out = self.call("rt.synchronize_device")
        else:
            out = self.call("rt.synchronize_device_with_timeout", timeout)
            if timeout == 0 or timeout < -1:
                return self.answer(out, RT_PARAM_INVALID)
        if self.ctx() is None:
            return self.answer(out, CONTEXT_NULL)
        streams = [o for o in self.objects.values() if type(o) is Strm]
        allowed = {OK}.union(*(self.possible_errors(s) for s in streams))
        if timeout not in (None, -1) and any(s in self.queued for s in streams):
            allowed.add(STREAM_SYNC_TIMEOUT)
        if self.expect(out, *allowed) != STREAM_SYNC_TIMEOUT:
            for stream in streams:
                self.synchronized(stream)

    @rule(pick=HANDLE)
    def stream_query(self, pick):
        handle = self.handle(pick, Strm)
        out = self.call("rt.stream_query", handle)
        code, stream = self.resolve_stream(handle)
        if code:
            self.expect(out, code)
            assert out.value == 0
            return
        self.expect(out, OK)
        assert out.value in (0, 1)
        if stream not in self.queued:
            assert out.value == 0, f"{stream!r} has nothing queued but stream_query says busy"

    # ------------------------------------------------------------------ events
    @rule(flag=st.one_of(st.none(), st.sampled_from([0, 1, 2, 8, 0x9, 0x80, -1, 1 << 33])))
    def create_event(self, flag):
        if flag is None:
            out, flags = self.call("rt.create_event"), ACL_EVENT_SYNC
        else:
            out, flags = self.call("rt.create_event_with_flag", flag), flag & MASK32
            if flags & ~_EVENT_FLAGS:
                self.expect(out, INVALID_PARAM)
                return
        if self.ctx() is None:
            self.expect(out, CONTEXT_NULL)
            return
        self.expect(out, OK)
        self.register(out.value, Ev(0, flags))

    @rule(pick=HANDLE)
    def destroy_event(self, pick):
        handle = self.handle(pick, Ev)
        event = self.obj(handle, Ev)
        out = self.call("rt.destroy_event", handle)
        if event is None:
            return self.answer(out, INVALID_PARAM)
        self.expect(out, OK)
        self.kill(event)

    @rule(event_pick=HANDLE, stream_pick=HANDLE, reset=st.sampled_from([False] * 4 + [True]))
    def record_event(self, event_pick, stream_pick, reset):
        handle, stream_handle = self.handle(event_pick, Ev), self.handle(stream_pick, Strm)
        event = self.obj(handle, Ev)
        out = self.call("rt.reset_event" if reset else "rt.record_event", handle, stream_handle)
        if event is None:
            return self.answer(out, INVALID_PARAM)
        code, stream = self.resolve_stream(stream_handle)
        if code:
            return self.answer(out, code)
        self.expect(out, OK)
        self.queued.add(stream)
        if reset:
            event.uncertain = True             # its state now depends on the streams' timing
        else:
            event.records += 1
            event.last_stream = stream
            event.settled = False
            self.event_marks[stream].add(event)

    @rule(pick=HANDLE, timeout=TIMEOUTS)
    def synchronize_event(self, pick, timeout):
        handle = self.handle(pick, Ev)
        event = self.obj(handle, Ev)
        if timeout is None:
            out = self.call("rt.synchronize_event", handle)
        else:
            out = self.call("rt.synchronize_event_with_timeout", handle, timeout)
            if timeout == 0 or timeout < -1:
                return self.answer(out, RT_PARAM_INVALID)
        if event is None:
            return self.answer(out, INVALID_PARAM)
        allowed = {OK}
        if event.last_stream is not None:
            allowed |= self.possible_errors(event.last_stream)
        if timeout not in (None, -1) and (not event.settled or event.uncertain):
            allowed.add(EVENT_SYNC_TIMEOUT)
        if self.expect(out, *allowed) != EVENT_SYNC_TIMEOUT:
            event.settled = True

    @rule(pick=HANDLE)
    def query_event(self, pick):
        handle = self.handle(pick, Ev)
        event = self.obj(handle, Ev)
        out = self.call("rt.query_event_status", handle)
        if event is None:
            self.expect(out, INVALID_PARAM)
            return
        self.expect(out, OK)
        assert out.value in (0, 1)
        if not event.uncertain and (event.settled or not event.records):
            assert out.value == (1 if event.records else 0), \
                f"query_event_status of an event recorded {event.records} time(s): {out.value}"

    @rule(stream_pick=HANDLE, event_pick=HANDLE)
    def stream_wait_event(self, stream_pick, event_pick):
        handle, stream_handle = self.handle(event_pick, Ev), self.handle(stream_pick, Strm)
        event = self.obj(handle, Ev)
        out = self.call("rt.stream_wait_event", stream_handle, handle)
        if event is None or not event.flags & ACL_EVENT_SYNC:
            return self.answer(out, INVALID_PARAM)
        code, stream = self.resolve_stream(stream_handle)
        if code:
            return self.answer(out, code)
        self.expect(out, OK)
        self.queued.add(stream)

    # ------------------------------------------------------------------ callbacks
    @rule(via_acl=st.booleans(), with_context=st.booleans())
    def start_report_thread(self, via_acl, with_context):
        if len(self.reporters) >= 2:
            return
        reporter = Reporter()
        ctx = self.ctx()
        args = [reporter, ctx.handle if with_context and ctx is not None else 0]
        if via_acl:
            out = self.call("util.start_thread", _serve_reports, args)
            self.expect(out, OK)
            reporter.thread_id = out.value
            reporter.thread = next(t for t in threading.enumerate() if t.ident == out.value)
        else:
            reporter.thread = threading.Thread(target=_serve_reports, args=(args,), daemon=True)
            reporter.thread.start()
            reporter.thread_id = reporter.thread.ident
        reporter.via_acl = via_acl
        self.reporters.append(reporter)

    @rule(index=st.integers(0, 3))
    def stop_report_thread(self, index):
        if not self.reporters:
            return
        self.stop_reporter(self.reporters[index % len(self.reporters)])

    def stop_reporter(self, reporter: Reporter) -> None:
        reporter.exit = True
        if reporter.via_acl:
            out = self.call("util.stop_thread", reporter.thread_id)
            self.expect_bare(out, 0, fails=False)
        else:
            reporter.thread.join(10)
        assert not reporter.thread.is_alive(), "a report thread did not stop"
        self.reporters.remove(reporter)
        assert not reporter.problems, reporter.problems
        reporter.dead = True
        for stream in reporter.subscriptions:
            if stream.callbacks:
                stream.errors.add(STREAM_NO_CB_REG)   # callbacks it will never run fail
            self.loosen_callbacks(stream)

    def reporter(self, index: int, foreign: int, stream=None):
        """A live report thread (or the one serving ``stream``) and its id, or an id no
        thread can have (above the user address space). A stopped thread's id is never
        drawn: the next thread may get it."""
        if stream is not None and stream.subscriber is not None and index % 2:
            return stream.subscriber, stream.subscriber.thread_id
        if self.reporters and index % 4:
            reporter = self.reporters[index % len(self.reporters)]
            return reporter, reporter.thread_id
        return None, (1 << 48) + foreign

    @rule(index=st.integers(0, 7), foreign=st.integers(0, 1 << 20), pick=HANDLE)
    def subscribe_report(self, index, foreign, pick):
        reporter, thread_id = self.reporter(index, foreign)
        handle = self.handle(pick, Strm)
        out = self.call("rt.subscribe_report", thread_id, handle)
        code, stream = self.resolve_stream(handle)
        if code:
            return self.answer(out, code)
        if stream.subscriber is not None:
            return self.answer(out, STREAM_SUBSCRIBE)
        if reporter is None:                   # no such thread
            return self.answer(out, RT_PARAM_INVALID)
        self.expect(out, OK)
        stream.subscriber = reporter
        reporter.subscriptions.add(stream)

    @rule(index=st.integers(0, 7), foreign=st.integers(0, 1 << 20), pick=HANDLE)
    def unsubscribe_report(self, index, foreign, pick):
        handle = self.handle(pick, Strm)
        reporter, thread_id = self.reporter(index, foreign, self.obj(handle, Strm))
        out = self.call("rt.unsubscribe_report", thread_id, handle)
        code, stream = self.resolve_stream(handle)
        if code:
            return self.answer(out, code)
        if stream.subscriber is None or stream.subscriber.thread_id != thread_id:
            return self.answer(out, RT_PARAM_INVALID)
        self.expect(out, OK)
        self.unsubscribed(stream)

    def unsubscribed(self, stream: Strm) -> None:
        if stream.callbacks:
            stream.errors.add(STREAM_NO_CB_REG)   # an undelivered callback fails its task
        self.loosen_callbacks(stream)
        stream.subscriber.subscriptions.discard(stream)
        stream.subscriber = None

    def _callback(self, token):
        self.callback_runs[token].append(threading.get_ident())

    @rule(pick=HANDLE, block=BLOCK)
    def launch_callback(self, pick, block):
        handle = self.handle(pick, Strm)
        token = next(self.tokens)
        out = self.call("rt.launch_callback", self._callback, token, block, handle)
        code, stream = self.resolve_stream(handle)
        if code:
            return self.answer(out, code)
        if block not in (0, 1):
            return self.answer(out, INVALID_PARAM)
        if stream.subscriber is None or stream.subscriber.dead:
            return self.answer(out, STREAM_NO_CB_REG)
        self.expect(out, OK)
        stream.callbacks.append(token)
        self.callback_rules[token] = (True, {stream.subscriber.thread_id})
        self.queued.add(stream)

    @rule(index=st.integers(0, 7), blocks=st.lists(st.sampled_from([0, 1]), min_size=1,
                                                    max_size=3))
    def callback_round_trip(self, index, blocks):
        """The sample's pattern on a subscribed stream: callbacks, then synchronize_stream."""
        ctx = self.ctx()
        served = [s for s in self.objects.values()
                  if type(s) is Strm and s.ctx is ctx and s.subscriber is not None
                  and not s.subscriber.dead]
        if not served:
            return
        stream = served[index % len(served)]
        handle = 0 if stream.default else stream.handle
        for block in blocks:
            token = next(self.tokens)
            self.expect(self.call("rt.launch_callback", self._callback, token, block, handle),
                        OK)
            stream.callbacks.append(token)
            self.callback_rules[token] = (True, {stream.subscriber.thread_id})
            self.queued.add(stream)
        self.do_synchronize_stream(handle)       # checks that each callback ran once

    @rule(timeout=st.sampled_from([-1, 1, 10, 0, -2, (1 << 31) - 1]))
    def process_report_unsubscribed(self, timeout):
        """The main thread serves no stream: process_report answers at once."""
        out = self.call("rt.process_report", timeout)
        self.expect(out, INVALID_PARAM if timeout == 0 or timeout < -1 else THREAD_SUBSCRIBE)

    # ------------------------------------------------------------------ other threads
    def in_thread(self, work):
        """Run ``work()`` on a new thread, bounded; return its result or raise its error."""
        box = {}

        def target():
            try:
                box["result"] = work()
            except BaseException as error:  # noqa: BLE001 - re-raised below
                box["error"] = error

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(self.WATCHDOG_SECONDS)
        assert not thread.is_alive(), "a call on a fresh thread did not return"
        if "error" in box:
            raise box["error"]
        return box["result"]

    @rule()
    def fresh_thread_has_no_context(self):
        calls = [("rt.get_context",), ("rt.create_stream",), ("rt.malloc", 64, 0),
                 ("rt.malloc_host", 64), ("rt.get_mem_info", 0), ("rt.synchronize_device",),
                 ("rt.create_event",), ("rt.get_device",), ("rt.synchronize_stream", 0),
                 ("rt.ctx_get_current_default_stream",), ("rt.memset_async", 1, 8, 0, 8, 0)]
        device = [r for r in self.mem.live.values() if r.kind == "device"]
        hosts = self.mem.hosts
        if device:
            region = device[0]
            calls += [("rt.memset", region.address, 16, 0, 16), ("rt.free", region.address)]
            if hosts:
                calls.append(("rt.memcpy", region.address, 16, hosts[0].address, 16, 1))
        streams = [o for o in self.objects.values() if type(o) is Strm]
        if streams:
            calls.append(("rt.synchronize_stream", streams[0].handle))
        datasets = self.live_of(DS)
        if self.models and datasets:
            calls.append(("mdl.execute", next(iter(self.models)), datasets[0], datasets[-1]))

        def work():
            return [(call[0], self.api.call(*call)) for call in calls]

        for name, out in self.in_thread(work):
            assert out.ret == CONTEXT_NULL, f"{name} on a fresh thread returned {out.ret}"
        assert acl.get_recent_err_msg() is None, "another thread's failure reached this thread"

    @rule(pick=HANDLE)
    def thread_with_its_own_context(self, pick):
        handle = self.handle(pick, Ctx)
        ctx = self.obj(handle, Ctx)

        def work():
            return self.api.call("rt.set_context", handle), self.api.call("rt.get_context")

        set_out, get_out = self.in_thread(work)
        if ctx is None:
            self.expect(set_out, INVALID_PARAM)
            self.expect(get_out, CONTEXT_NULL)
        else:
            self.expect(set_out, OK)
            self.expect(get_out, OK)
            assert get_out.value == ctx.handle
        self.check_current()                   # this thread's context did not change

    @rule(raises=st.booleans(), argument=st.sampled_from([None, 0, "text", [1, 2]]),
          foreign=st.integers(0, 1 << 20))
    def util_thread(self, raises, argument, foreign):
        """start_thread/stop_thread: a failing function is re-raised by stop_thread (as
        RuntimeError); a second stop, or an id no thread has, answers ESRCH."""
        ran = []

        def function(*args):
            ran.append(args)
            if raises:
                raise KeyError("raised on purpose by the fuzzer")

        quiet = contextlib.redirect_stderr(io.StringIO()) if raises else contextlib.nullcontext()
        with quiet:                                # a failing thread prints its traceback
            out = self.call("util.start_thread", function, argument)
            self.expect(out, OK)
            thread_id = out.value
            assert type(thread_id) is int and thread_id > 0
            if raises:
                self.call("util.stop_thread", thread_id, raises=RuntimeError)
            else:
                self.expect_bare(self.call("util.stop_thread", thread_id), 0, fails=False)
        assert ran == [() if argument is None else (argument,)], ran
        self.expect_bare(self.call("util.stop_thread", thread_id), ESRCH, fails=False)
        self.expect_bare(self.call("util.stop_thread", (1 << 48) + foreign), ESRCH, fails=False)

    # ------------------------------------------------------------------ argument errors
    @rule(index=st.integers(0, len(BAD_ARGUMENTS) - 1))
    def argument_error(self, index):
        key, args, error = BAD_ARGUMENTS[index]
        self.call(key, *args, raises=error)
