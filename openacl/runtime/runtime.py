"""The process-wide runtime: lifecycle, devices, the per-thread current context.

State is created on first use, so ``acl.rt`` calls work before ``acl.init`` as they do in
ACL (which only needs init for models, dump and profiling), and ``acl.finalize`` tears it
down so the next use starts clean.
"""

from __future__ import annotations

import atexit
import re
import sys
import threading
import time
import warnings

from openacl import config
from openacl.errors import (ContextNotSet, InvalidDevice, InvalidParam, RepeatFinalize,
                            RepeatInitialize, StreamContextMismatch)
from openacl.runtime.backend import arena_for
from openacl.runtime import leaks as leak_report
from openacl.runtime.device import Context, Device
from openacl.runtime.event import Event
from openacl.runtime.handles import handles
from openacl.runtime.leaks import Leak, LeakWarning
from openacl.runtime.init_config import InitConfig, read_init_config
from openacl.runtime.memory import Memory
from openacl.runtime.report import Reports
from openacl.runtime.stream import Stream

__all__ = ["Runtime", "RUNTIME", "LeakWarning", "Leak"]

_HOST_ARENA_SIZE = 64 << 30          # virtual; pages are committed only when touched


class _ThreadState(threading.local):
    context: Context | None = None


class Runtime:
    """Everything the runtime knows. One instance per process: ``RUNTIME``."""

    def __init__(self):
        self.lock = threading.RLock()
        self.memory = Memory()
        self.reports = Reports()
        self.initialized = False
        self.init_count = 0
        self.config = InitConfig()
        self.sys_params: dict[int, int] = {}
        self._devices: list[Device] | None = None
        self.host_arena = None
        self.thread = _ThreadState()          # per OS thread: .context, the current context
        self._teardown_hooks: list = []        # (name, callable) from upper layers
        self._leak_probes: list = []

    # ------------------------------------------------------------------ lifecycle
    def init(self, config_path: str | None) -> None:
        with self.lock:
            if self.initialized:
                self.init_count += 1
                raise RepeatInitialize("acl.init was already called; call acl.finalize first")
            self.config = read_init_config(config_path)
            self.initialized = True
            self.init_count = 1
            self._profiling_from_config = _start_profiler(self.config.profiler)

    def finalize(self) -> None:
        with self.lock:
            if not self.initialized:
                raise RepeatFinalize("acl.finalize was already called, or acl.init never was")
            leaks = self.teardown()
            self.initialized = False
            self.init_count = 0
            self.config = InitConfig()
            if getattr(self, "_profiling_from_config", False):   # the profiler acl.init began
                self._profiling_from_config = False
                from openacl.profiling import recorder

                recorder.stop(write=True)
        level = leak_report.report_level()
        if leaks and level != "off":
            warnings.warn(LeakWarning("acl.finalize released resources the program did not: "
                                      + leak_report.describe(leaks, level), leaks),
                          stacklevel=4)

    def finalize_reference(self) -> int:
        """Drop one init reference; finalize when none is left. Return the references left."""
        with self.lock:
            if not self.initialized:
                raise RepeatFinalize("acl.finalize was already called, or acl.init never was")
            if self.init_count > 1:
                self.init_count -= 1
                return self.init_count
        self.finalize()
        return 0

    def teardown(self) -> list[Leak]:
        """Release everything; return what was still alive."""
        with self.lock:
            leaks = self.leak_report()
            self.reports.clear()                # releases streams blocked on callbacks
            for device in self._devices or ():   # queued work runs while its models exist
                for context in list(device.contexts):
                    context.destroy()
                device.default_context = None
                device.set_count = 0
            for _, hook in self._teardown_hooks:
                hook()
            for event in handles.live(Event):   # their contexts are gone: so are they
                handles.remove(event.handle)
            self.memory.release_all()    # arenas stay known: their old pointers stay refused
            self._devices = None
            self.host_arena = None
            self.sys_params = {}
            self.thread = _ThreadState()
        leak_report.remember(leaks)
        return leaks

    def add_teardown_hook(self, name: str, hook, probe=None) -> None:
        """Let an upper layer (models) release its state at finalize and report leaks.

        ``probe()`` returns the layer's live resources as ``Leak`` items.
        """
        self._teardown_hooks = [(n, h) for n, h in self._teardown_hooks if n != name]
        self._teardown_hooks.append((name, hook))
        if probe is not None:
            self._leak_probes = [(n, p) for n, p in self._leak_probes if n != name]
            self._leak_probes.append((name, probe))

    def leak_report(self) -> list[Leak]:
        """Every resource the program created and has not released, oldest kind first."""
        leaks = [Leak(f"{'dvpp' if a.origin == 'dvpp' else a.kind} allocation",
                      f"{a.address:#x}", a.size, a.site)
                 for a in sorted(self.memory.live(), key=lambda a: a.address)]
        sites = handles.sites
        for context in (c for d in self._devices or () for c in d.contexts):
            if not context.is_default:
                leaks.append(Leak("context", f"{context.handle:#x}", None,
                                  sites.get(context.handle)))
            for stream in context.streams.values():
                leaks.append(Leak("stream", f"{stream.handle:#x}", None, sites.get(stream.handle)))
        for _, probe in self._leak_probes:
            leaks.extend(probe())
        # Objects behind handles that do not belong to a context (events do; buffers,
        # datasets and descriptions are host objects that outlive acl.finalize, as in ACL).
        for handle, obj in handles.items():
            if not isinstance(obj, (Context, Stream)):
                leaks.append(Leak(_kind_name(obj), f"{handle:#x}", getattr(obj, "nbytes", None),
                                  sites.get(handle)))
        return leaks

    # ------------------------------------------------------------------ devices
    @property
    def devices(self) -> list[Device]:
        devices = self._devices
        if devices is None:
            with self.lock:
                if self._devices is None:
                    size = config.device_memory()
                    built = [Device(i, size) for i in range(config.device_count())]
                    self.host_arena = arena_for("host", 0, _HOST_ARENA_SIZE)
                    for device in built:
                        self.memory.add_arena(device.arena)
                    self.memory.add_arena(self.host_arena)
                    self._devices = built
                devices = self._devices
        return devices

    def device(self, index: int) -> Device:
        devices = self.devices
        if not 0 <= index < len(devices):
            raise InvalidDevice(f"device id {index} is invalid: {len(devices)} device(s) exist "
                                f"(ids 0..{len(devices) - 1}; set OPENACL_DEVICE_COUNT for more)")
        return devices[index]

    def set_device(self, index: int) -> None:
        device = self.device(index)
        with device.lock:
            if device.default_context is None:
                device.default_context = Context(device, default=True)
            device.set_count += 1
            self.thread.context = device.default_context

    def reset_device(self, index: int, force: bool = False) -> None:
        device = self.device(index)
        with device.lock:
            if device.set_count == 0:
                return
            device.set_count = 0 if force else device.set_count - 1
            if device.set_count == 0 and device.default_context is not None:
                context, device.default_context = device.default_context, None
                context.destroy()

    # ------------------------------------------------------------------ contexts
    def create_context(self, index: int) -> Context:
        context = Context(self.device(index), default=False)
        self.thread.context = context
        return context

    def destroy_context(self, context: Context) -> None:
        if context.is_default:
            raise InvalidParam(f"{context!r} is a device's default context; it is released by "
                               f"acl.rt.reset_device, not acl.rt.destroy_context")
        context.destroy()

    def current_context(self) -> Context:
        context = self.thread.context
        if context is None or context.destroyed:
            if self.config.default_device is not None:
                self.set_device(self.config.default_device)
                return self.thread.context
            if context is not None:
                raise ContextNotSet(f"the current context of this thread ({context!r}) was "
                                    f"destroyed; call acl.rt.set_context or acl.rt.set_device")
            raise ContextNotSet("this thread has no current context: call acl.rt.set_device or "
                                "acl.rt.set_context (a new thread starts without one)")
        return context

    def set_current_context(self, context: Context) -> None:
        self.thread.context = context

    # ------------------------------------------------------------------ streams
    def stream(self, handle: int) -> Stream:
        """Resolve a stream handle in the current context (0 = its default stream)."""
        context = self.current_context()
        if handle == 0:
            return context.default_stream
        stream = handles.get(handle, Stream, "stream")
        if stream.context is not context:
            raise StreamContextMismatch(
                f"stream {handle:#x} belongs to {stream.context!r}, not to the current "
                f"{context!r}; call acl.rt.set_context first")
        return stream


def _kind_name(obj) -> str:
    """``DataBuffer`` -> "data buffer": the name a leak line gives a handle's object."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type(obj).__name__).lower()


RUNTIME = Runtime()


@atexit.register
def _at_exit() -> None:
    """A program that exits without acl.finalize hears what it left alive, and its streams
    stop first: a stream worker still inside the engine when the interpreter shuts down
    would abort the process (a daemon thread cannot re-enter a finalizing interpreter)."""
    if not RUNTIME.initialized:
        return
    _stop_streams_at_exit()
    level = leak_report.report_level()
    if level == "off":
        return
    leaks = RUNTIME.leak_report()
    if leaks:
        sys.stderr.write("openacl: the program exited without acl.finalize; still alive: "
                         + leak_report.describe(leaks, level) + "\n")


def _stop_streams_at_exit() -> None:
    """Drop the work queued on every stream, as an NPU's driver does when its process ends,
    and wait (bounded) for the tasks running now."""
    streams = [stream for device in RUNTIME._devices or () for context in list(device.contexts)
               for stream in list(context.streams.values())]
    bound = config.wait_warning()
    deadline = None if bound is None else time.monotonic() + bound
    busy = []
    for stream in streams:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not stream.close(drain=False, timeout=left):
            busy.append(stream.label)
    if busy:
        sys.stderr.write(f"openacl: at exit, {', '.join(busy)} still ran a task after "
                         f"{bound:.0f} s; exiting without waiting for it\n")


def _start_profiler(config) -> bool:
    """The ``acl.init`` JSON ``profiler`` section (openacl.profiling.config): with
    ``"switch": "on"`` the timeline is recorded from now to ``acl.finalize``. Return whether
    it started."""
    if config is None or not config.on:
        return False
    from openacl.profiling import recorder

    if recorder.is_on():                   # acl.prof or openacl profile already records
        return False
    recorder.start(output=config.output, ops=config.ops)
    return True
