"""The machine's state, its argument pickers, the model updates shared by rules, and the
invariants checked after every step.

Arguments are drawn as *picks*: a category and an index, resolved against the state when
the rule runs. A handle pick is ``live`` (of the right kind), ``stale`` (destroyed),
``wrong`` (a live handle of another kind, or a device pointer), ``foreign`` (any int the
parse code accepts) or ``zero``. A pointer pick names a live device or pinned allocation,
a ``bytes`` or numpy object, a freed address, NULL, garbage inside an arena, or a foreign
address, with an offset (start, inside, near the end, at the end, past the end). The
expected answer is then computed from the model, never from the category.
"""

from __future__ import annotations

import collections
import sys
import warnings

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant

import openacl.runtime
from openacl import config
from openacl.runtime.backend import arena_for
from openacl.runtime.handles import handles

from tests.fuzz.harness import Api, ErrorLog, Hang, Outcome
from tests.fuzz.world import (MASK64, Buf, Ctx, DS, Ev, MD, Memory, Region, Reporter, Strm,
                              TD, reserved_size)

__all__ = ["MachineBase", "HANDLE", "POINTER", "COUNT", "SEED", "OK"]

OK = 0
INVALID_PARAM = 100000
RT_PARAM_INVALID = 107000
CONTEXT_NULL = 107002
STREAM_CONTEXT = 107003
DEVICE_MEMORY = 16 << 30

_FOREIGN = st.one_of(
    st.sampled_from([0, 1, -1, MASK64, 1 << 64, (1 << 64) + 16, 1 << 63, 0x1_0000_0000]),
    st.integers(-(1 << 66), 1 << 66),
    st.integers(0x1_0000_0000, 0x1_0001_0000))
HANDLE = st.tuples(
    st.sampled_from(["live"] * 6 + ["stale", "wrong", "foreign", "zero"]),
    st.integers(0, 1 << 16), _FOREIGN)
POINTER = st.tuples(
    st.sampled_from(["device"] * 4 + ["pinned", "pinned", "bytes", "bytes", "numpy",
                                      "freed", "null", "arena", "foreign"]),
    st.integers(0, 1 << 16),
    st.sampled_from(["start", "start", "start", "inside", "near_end", "end", "past"]),
    st.integers(0, 1 << 20))
COUNT = st.tuples(st.sampled_from(["fit", "fit", "fit", "over", "some", "zero", "small", "huge",
                                   "max"]),
                  st.integers(0, 1 << 12))
SEED = st.integers(0, 1 << 30)


class MachineBase(RuleBasedStateMachine):
    """State, pickers and shared model updates; the rules live in the mixins."""

    WATCHDOG_SECONDS = 30.0
    # Totals over every run of the process: machines, steps taken, pyACL calls made, and
    # how often each call gave each answer.
    STATS = collections.Counter()
    OUTCOMES = collections.Counter()

    def __init__(self):
        super().__init__()
        # A run that failed left its state behind (a passing run releases everything, and
        # its teardown checks that): start from a fresh runtime, as a new process would.
        self.api = Api(self.WATCHDOG_SECONDS)
        self.api.arm()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                openacl.runtime.reset()
        except Hang:
            self.api.close()
            raise AssertionError("the runtime left by the previous run could not be reset "
                                 "(it hangs)") from None
        finally:
            self.api.disarm()
        self.errors_logged = ErrorLog().__enter__()
        device = arena_for("device", 0, config.device_memory())
        host = arena_for("host", 0, 64 << 30)    # the pinned-host arena (64 GiB, virtual)
        self.mem = Memory([(device.base, device.end), (host.base, host.end)])
        self.objects: dict[int, object] = {}     # live handle -> model object
        self.dead: list[int] = []                # destroyed handles
        self.models: dict = {}                   # model id -> Mdl
        self.dead_model_ids: list[int] = []
        self.initialized = False
        self.set_count = 0
        self.default_ctx: Ctx | None = None
        self.current: Ctx | None = None          # the main thread's current context
        self.reporters: list[Reporter] = []
        self.callback_runs = collections.defaultdict(list)   # token -> thread ids
        self.callback_rules: dict[int, tuple] = {}           # token -> (must, thread ids)
        self.tokens = iter(range(1, 1 << 62))
        self.model_bytes: dict[str, Region] = {}
        self.baseline_handles = set(handles.objects)
        self.queued: set[Strm] = set()           # streams with tasks since their last drain
        self.event_marks: dict[Strm, set[Ev]] = collections.defaultdict(set)
        self.steps = -1                          # the invariants run once before any step
        self.STATS["machines"] += 1

    # ------------------------------------------------------------------ checking calls
    def call(self, key: str, *args, raises=None) -> Outcome:
        return self.api.call(key, *args, raises=raises)

    def expect(self, outcome: Outcome, *codes) -> int:
        assert outcome.ret in codes, (f"returned {outcome.ret}, expected one of {codes}: "
                                      f"{outcome.message}")
        return outcome.ret

    def answer(self, outcome: Outcome, *codes) -> None:
        """``expect`` for rules, which must return None."""
        self.expect(outcome, *codes)

    def expect_bare(self, outcome: Outcome, value, fails: bool):
        got = outcome.value
        if fails:
            assert outcome.message is not None, f"answered {got!r} without a failure message"
        else:
            assert outcome.message is None, f"answered {got!r} with a message {outcome.message}"
        assert got == value and type(got) is type(value), f"answered {got!r}, expected {value!r}"
        return got

    @staticmethod
    def same(got: bytes, want: bytes, known: bytes, what: str) -> None:
        """The known bytes of ``want`` must be those of ``got``."""
        mask = np.frombuffer(known, np.uint8).astype(bool)
        a = np.frombuffer(got, np.uint8)[:len(mask)]
        b = np.frombuffer(want, np.uint8)
        bad = np.flatnonzero(mask & (a != b))
        assert not bad.size, (f"{what}: byte {int(bad[0])} is {a[bad[0]]:#04x}, the model "
                              f"expects {b[bad[0]]:#04x} ({bad.size} bytes differ)")

    # ------------------------------------------------------------------ pickers
    def ctx(self) -> Ctx | None:
        return self.current if self.current is not None and self.current.live else None

    def live_of(self, kind) -> list:
        return sorted((h for h, o in self.objects.items() if type(o) is kind))

    def handle(self, pick, kind) -> int:
        category, index, foreign = pick
        pool: list[int] = []
        if category == "live":
            pool = self.live_of(kind)
        elif category == "stale":
            pool = self.dead
        elif category == "wrong":
            pool = sorted(h for h, o in self.objects.items() if type(o) is not kind)
            pool += sorted(a for a, r in self.mem.live.items() if r.kind != "scratch")
        elif category == "zero":
            return 0
        if pool:
            return pool[index % len(pool)]
        if foreign & MASK64 in self.baseline_handles:   # another test's live object
            foreign = 0xFFFF_0000_0000_0000 | index
        return foreign

    def obj(self, handle: int, kind):
        found = self.objects.get(handle & MASK64)
        return found if type(found) is kind else None

    def pointer(self, pick) -> int:
        address = self._pointer(pick)
        region = self.mem.region_at(address)
        if region is not None and region.kind == "scratch":
            return 0     # the runtime's own memory: a program cannot know its address
        return address

    def _pointer(self, pick) -> int:
        source, index, where, raw = pick
        regions = None
        if source in ("device", "pinned", "bytes", "numpy"):
            regions = ([r for r in self.mem.all_regions() if r.kind == source]
                       or [r for r in self.mem.all_regions() if r.kind != "scratch"])
            source = regions[index % len(regions)].kind if regions else source
        if regions:
            region = regions[index % len(regions)]
            base, size = region.address, region.usable
        elif source == "freed" and self.mem.freed:
            base, size = self.mem.freed[index % len(self.mem.freed)], 64
        elif source == "arena":
            arena_base, arena_end = self.mem.arenas[index % 2]
            return arena_base + (raw * 64 + index) % min(arena_end - arena_base, 1 << 30)
        elif source == "foreign":
            # Never-mapped addresses only: the first page, the kernel half, the top. A mapped
            # foreign address is host memory pyACL accepts, so writing it would corrupt.
            return [1 + raw % 4095, (1 << 47) + raw * 4096, MASK64 - raw][index % 3]
        else:
            return 0
        if source in ("bytes", "numpy") and where in ("end", "past"):
            # Just past a host object lies other mapped heap memory, which pyACL (and so the
            # runtime) accepts as host memory: writing there would corrupt this process.
            # Overruns of host objects are drawn as counts running past their end instead.
            where = "near_end"
        return {"start": base, "inside": base + raw % size,
                "near_end": base + size - 1 - raw % min(size, 8), "end": base + size,
                "past": base + size + raw % 4096}[where]

    def count(self, pick, *addresses) -> int:
        mode, raw = pick
        rooms = []
        for address in addresses:
            region = self.mem.region_at(address)
            rooms.append(region.end - address if region is not None else 64)
        room = min(rooms) if rooms else 64
        return {"fit": room, "over": room + 1 + raw % 64, "some": raw % (room + 1), "zero": 0,
                "small": raw % 512, "huge": (1 << 40) + raw, "max": MASK64 - raw}[mode]

    # ------------------------------------------------------------------ model updates
    def register(self, handle: int, thing):
        assert type(handle) is int and handle > 0, f"a new handle must be a positive int: {handle!r}"
        assert handle not in self.objects and handle not in self.dead, \
            f"handle {handle:#x} was handed out twice"
        thing.handle = handle
        self.objects[handle] = thing
        return thing

    def kill(self, thing) -> None:
        thing.live = False
        if self.objects.get(thing.handle) is thing:
            del self.objects[thing.handle]
            self.dead.append(thing.handle)

    def learn_default_stream(self, ctx: Ctx) -> None:
        """Right after ``ctx`` became current: learn its default stream's handle."""
        out = self.call("rt.ctx_get_current_default_stream")
        self.expect(out, OK)
        ctx.default_stream = self.register(out.value, Strm(0, ctx, default=True))

    def resolve_stream(self, handle: int):
        """``RUNTIME.stream``: (code, stream) for a stream argument in the current context."""
        ctx = self.ctx()
        if ctx is None:
            return CONTEXT_NULL, None
        handle &= MASK64
        if handle == 0:
            return OK, ctx.default_stream
        stream = self.obj(handle, Strm)
        if stream is None:
            return INVALID_PARAM, None
        if stream.ctx is not ctx:
            return STREAM_CONTEXT, None
        return OK, stream

    def possible_errors(self, stream: Strm) -> set[int]:
        errors = set(stream.errors)
        for op in self.mem.inflight:
            if op.stream is stream:
                errors |= op.errors
        return errors

    def drained(self, stream: Strm, keep_errors: bool = True) -> None:
        """The stream ran everything queued: apply it, settle its events and callbacks."""
        errors = self.mem.drain(stream)
        if keep_errors:
            stream.errors |= errors
        self.queued.discard(stream)
        for event in self.event_marks.pop(stream, ()):
            if event.last_stream is stream:
                event.settled = True
        self.settle_callbacks(stream)

    def synchronized(self, stream: Strm) -> None:
        self.drained(stream, keep_errors=False)
        stream.errors = set()

    def settle_callbacks(self, stream: Strm) -> None:
        for token in stream.callbacks:
            must, threads = self.callback_rules[token]
            runs = self.callback_runs.get(token, [])
            if must:
                assert len(runs) == 1, (f"callback {token} launched on {stream!r} ran "
                                        f"{len(runs)} times before its stream was drained")
                assert runs[0] in threads, f"callback {token} ran on thread {runs[0]}"
        stream.callbacks = []

    def loosen_callbacks(self, stream: Strm) -> None:
        """Callbacks that may now be dropped (unsubscribed, destroyed, finalized)."""
        for token in stream.callbacks:
            must, threads = self.callback_rules[token]
            self.callback_rules[token] = (False, threads)
        stream.callbacks = []

    def destroy_stream_model(self, stream: Strm, force: bool = False) -> None:
        if force:
            for op in self.mem.inflight:
                if op.stream is stream:
                    op.hazard = True         # dropped or run: unknown
        self.drained(stream)
        self.loosen_callbacks(stream)
        if stream.subscriber is not None:
            stream.subscriber.subscriptions.discard(stream)
            stream.subscriber = None
        self.kill(stream)

    def destroy_ctx_model(self, ctx: Ctx) -> None:
        for stream in [o for o in self.objects.values() if type(o) is Strm and o.ctx is ctx]:
            self.destroy_stream_model(stream)
        self.kill(ctx)

    def free_region(self, region: Region) -> None:
        self.mem.free(region)

    def after_finalize(self) -> None:
        for ctx in [o for o in self.objects.values() if type(o) is Ctx]:
            self.destroy_ctx_model(ctx)
        for event in [o for o in self.objects.values() if type(o) is Ev]:
            self.kill(event)
        for region in list(self.mem.live.values()):
            self.free_region(region)
        for model_id in list(self.models):
            self.dead_model_ids.append(model_id)
            del self.models[model_id]
        self.initialized = False
        self.set_count = 0
        self.default_ctx = None
        self.current = None

    def leaks(self) -> list[str]:
        """What finalize must report as not released."""
        found = []
        if self.mem.live:
            found.append(f"{len(self.mem.live)} allocation(s)")
        if any(type(o) is Ctx and not o.default for o in self.objects.values()):
            found.append("context(s)")
        if any(type(o) is Strm and not o.default for o in self.objects.values()):
            found.append("stream(s)")
        if self.models:
            found.append("model(s)")
        # Events, data buffers, datasets and descs: reported too (buffers, datasets and
        # descs outlive acl.finalize; events go with their contexts).
        found += sorted({type(o).__name__ for o in self.objects.values()
                         if type(o) in (Ev, Buf, DS, TD, MD)})
        return found

    def host_object(self, kind: str, size: int, seed: int, content: bytes | None = None) -> Region:
        """A new bytes or numpy object (length >= 2: short bytes objects are shared)."""
        if content is None:
            content = np.random.default_rng(seed).bytes(max(size, 2))
        if kind == "bytes":
            obj = bytes(bytearray(content))
            out = self.call("util.bytes_to_ptr", obj)
        else:
            obj = np.frombuffer(content, np.uint8).copy()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                out = self.call("util.numpy_to_ptr", obj)
        address = out.value
        assert type(address) is int and address > 0 and out.message is None
        return self.mem.add(Region(kind, address, len(content), content, obj=obj))

    # ------------------------------------------------------------------ invariants
    @invariant()
    def handle_table_matches_the_model(self):
        table = set(handles.objects) - self.baseline_handles
        mine = set(self.objects)
        assert table == mine, (f"handles live in the runtime but not in the model: "
                               f"{sorted(map(hex, table - mine))}; in the model but not the "
                               f"runtime: {sorted(map(hex, mine - table))}")

    @invariant()
    def memory_holds_what_the_model_says(self):
        for region in self.mem.all_regions():
            problem = self.mem.verify(region)
            assert problem is None, problem

    @invariant()
    def memory_accounting(self):
        if self.ctx() is None:
            return
        out = self.call("rt.get_mem_info", 0)
        self.expect(out, OK)
        free, total = out.values
        used = sum(reserved_size(r.usable) for r in self.mem.live.values()
                   if r.kind in ("device", "scratch"))
        assert total == DEVICE_MEMORY and free == total - used, \
            f"get_mem_info says {free} of {total} bytes free; the model expects {total - used}"

    @invariant()
    def background_threads_are_sound(self):
        self.steps += 1
        for reporter in self.reporters:
            assert not reporter.problems, reporter.problems
        threads = {r.thread_id for r in self.reporters} | {
            t for _, ids in self.callback_rules.values() for t in ids}
        for token, runs in list(self.callback_runs.items()):
            assert len(runs) <= 1, f"callback {token} ran {len(runs)} times"
            assert set(runs) <= threads, f"callback {token} ran on a thread that serves nothing"
        assert not self.errors_logged.records, self.errors_logged.records

    # ------------------------------------------------------------------ teardown
    def teardown(self):
        self.STATS["steps"] += max(self.steps, 0)
        failing = sys.exc_info()[0] is not None
        released = False
        try:
            if not failing:
                self.release_everything()
                released = True
        finally:
            for reporter in self.reporters:
                reporter.exit = True
            self.api.arm(10)
            try:
                for reporter in self.reporters:
                    if reporter.thread is not None:
                        reporter.thread.join(5)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    leftover = openacl.runtime.reset()
            except Hang:
                leftover = ["(the final reset hung)"]
            finally:
                self.api.disarm()
                self.api.close()
                self.STATS["calls"] += self.api.calls
                self.OUTCOMES.update(self.api.seen)
                self.errors_logged.__exit__(None, None, None)
            if released:
                assert not leftover, f"resources left after the machine released everything: " \
                                     f"{leftover}"

    def release_everything(self):
        """Release every resource through the API, in the samples' order; all must succeed."""
        raise NotImplementedError
