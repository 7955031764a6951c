"""The core of ``acl.prof``: profiling sessions (init/start/stop/finalize), model
subscriptions with per-operator records, step info and msproftx stamps.

Per-operator records come from the engine's own profiler (ONNX Runtime's): a subscribed
model's session is reopened with profiling on, and its records are written to the
subscription's pipe when the model is unsubscribed (ONNX Runtime hands its profile over
once, at the end). Each record is ``OP_DESC_SIZE`` bytes (``RECORD`` below).
"""

from __future__ import annotations

import os
import struct
import threading
from dataclasses import dataclass, field

from openacl import config
from openacl.constants import ErrorCode
from openacl.errors import AclError, InvalidParam
from openacl.profiling import recorder
from openacl.runtime.handles import HandleTable

__all__ = ["OP_DESC_SIZE", "PROF", "encode_records", "ACL_PROF_ACL_API", "ACL_PROF_TASK_TIME"]

# dataTypeConfig switches (acl_prof.h)
ACL_PROF_ACL_API = 0x0001
ACL_PROF_TASK_TIME = 0x0002
ACL_PROF_AICORE_METRICS = 0x0004
ACL_PROF_AICPU = 0x0008
ACL_PROF_L2CACHE = 0x0010
ACL_PROF_HCCL_TRACE = 0x0020
ACL_PROF_TRAINING_TRACE = 0x0040
ACL_PROF_MSPROFTX = 0x0080
ACL_PROF_RUNTIME_API = 0x0100
ACL_PROF_TASK_TIME_L0 = 0x0800
_KNOWN_SWITCHES = 0xFFFF
_AICORE_METRICS = range(0, 10)     # ACL_AICORE_ARITHMETIC_UTILIZATION .. ; 0xFF: none
ACL_AICORE_NONE = 0xFF

# One operator record: model id, thread id, start, end, duration (ns), type, name (NUL-padded).
RECORD = struct.Struct("<IIQQQ96s384s")
OP_DESC_SIZE = RECORD.size       # 512


class _ProfError(AclError):
    pass


def _not_run(message):
    return AclError(message, ErrorCode.ACL_ERROR_PROF_NOT_RUN)


def _already_run(message):
    return AclError(message, ErrorCode.ACL_ERROR_PROF_ALREADY_RUN)


def _conflict(message):
    return AclError(message, ErrorCode.ACL_ERROR_PROF_API_CONFLICT)


@dataclass
class ProfConfig:
    device_ids: list
    aicore_metrics: int
    data_types: int


@dataclass
class SubscribeConfig:
    time_info: int
    aicore_metrics: int
    fd: int


@dataclass
class Subscription:
    model_id: int
    config: SubscribeConfig
    session: object


@dataclass
class Stamp:
    message: str = ""


@dataclass
class StepInfo:
    stamps: list = field(default_factory=list)


def encode_records(records: list[dict], model_id: int) -> bytes:
    """Pack engine per-operator records (``ort_profile.read_ort_profile``) as op descs."""
    out = []
    for record in records:
        out.append(RECORD.pack(model_id, 0, record["start_ns"], record["end_ns"],
                               record["end_ns"] - record["start_ns"],
                               record["op_type"].encode()[:95], record["name"].encode()[:383]))
    return b"".join(out)


class Profiler:
    """Process-wide ``acl.prof`` state."""

    def __init__(self):
        self.handles = HandleTable()
        self.lock = threading.RLock()
        self.result_path: str | None = None
        self.running: ProfConfig | None = None
        self.subscriptions: dict[int, Subscription] = {}
        self.ranges: dict[int, tuple] = {}
        self.next_range = 1
        self.stack = threading.local()
        self.settings: dict[int, str] = {}

    # ------------------------------------------------------------ configs
    def create_config(self, device_ids, aicore_metrics, aicore_events, data_types) -> int:
        count = config.device_count()
        for device in device_ids:
            if not isinstance(device, int) or device < 0 or (count is not None and device >= count):
                raise InvalidParam(f"device id {device!r} in the device list does not exist")
        if aicore_metrics not in _AICORE_METRICS and aicore_metrics != ACL_AICORE_NONE:
            raise InvalidParam(f"aicore_metrics {aicore_metrics} is not an aclprofAicoreMetrics")
        if data_types & ~_KNOWN_SWITCHES:
            raise InvalidParam(f"data_type_config {data_types:#x} has unknown switches")
        return self.handles.add(ProfConfig(list(device_ids), aicore_metrics, data_types))

    def config(self, handle: int) -> ProfConfig:
        return self.handles.get(handle, ProfConfig, "profiling config")

    def destroy_config(self, handle: int) -> None:
        self.config(handle)
        self.handles.remove(handle)

    # ------------------------------------------------------------ sessions
    def init(self, result_path: str) -> None:
        with self.lock:
            if self.subscriptions:
                raise _conflict("acl.prof.init between model_subscribe and model_unsubscribe")
            if self.result_path is not None:
                raise AclError("acl.prof.init was already called (acl.prof.finalize first)",
                               ErrorCode.ACL_ERROR_REPEAT_INITIALIZE)
            if not result_path:
                raise InvalidParam("result_path is empty")
            try:
                os.makedirs(result_path, exist_ok=True)
            except OSError as error:
                raise InvalidParam(f"cannot create result_path {result_path!r}: {error}") from None
            if not os.access(result_path, os.W_OK):
                raise InvalidParam(f"result_path {result_path!r} is not writable")
            self.result_path = result_path

    def start(self, handle: int) -> None:
        with self.lock:
            config = self.config(handle)
            if self.result_path is None:
                raise _not_run("acl.prof.start before acl.prof.init")
            if self.running is not None:
                raise _already_run("profiling is already started (acl.prof.stop first)")
            if recorder.ON:
                raise _already_run("profiling is already on (acl.json profiler section)")
            self.running = config
            ops = bool(config.data_types & (ACL_PROF_TASK_TIME | ACL_PROF_TASK_TIME_L0))
            recorder.start(self.result_path, ops=ops)

    def stop(self, handle: int) -> None:
        with self.lock:
            config = self.config(handle)
            if self.running is None:
                raise _not_run("acl.prof.stop without acl.prof.start")
            if config is not self.running and config != self.running:
                raise InvalidParam("acl.prof.stop with a config other than acl.prof.start's")
            self.running = None
            recorder.stop(write=True)

    def finalize(self) -> None:
        with self.lock:
            if self.result_path is None:
                raise _not_run("acl.prof.finalize before acl.prof.init")
            if self.running is not None:           # ACL stops a running collection here
                self.running = None
                recorder.stop(write=True)
            self.result_path = None

    # ------------------------------------------------------------ subscription
    def create_subscribe_config(self, time_info, aicore_metrics, fd) -> int:
        if time_info not in (0, 1):
            raise InvalidParam(f"time_info_switch must be 0 or 1, not {time_info}")
        if aicore_metrics not in _AICORE_METRICS and aicore_metrics != ACL_AICORE_NONE:
            raise InvalidParam(f"aicore_metrics {aicore_metrics} is not an aclprofAicoreMetrics")
        try:
            os.fstat(fd)
        except OSError:
            raise InvalidParam(f"fd {fd} is not an open file descriptor") from None
        return self.handles.add(SubscribeConfig(time_info, aicore_metrics, fd))

    def destroy_subscribe_config(self, handle: int) -> None:
        self.handles.get(handle, SubscribeConfig, "subscribe config")
        self.handles.remove(handle)

    def model_subscribe(self, model_id: int, handle: int) -> None:
        from openacl.model.model import MODELS

        with self.lock:
            config = self.handles.get(handle, SubscribeConfig, "subscribe config")
            if self.result_path is not None:
                raise _conflict("acl.prof.model_subscribe between acl.prof.init and finalize")
            if model_id in self.subscriptions:
                raise AclError(f"model {model_id} is already subscribed",
                               ErrorCode.ACL_ERROR_PROF_REPEAT_SUBSCRIBE)
            model = MODELS.get(model_id)
            session = _profiled_session(model)
            self.subscriptions[model_id] = Subscription(model_id, config, session)

    def model_unsubscribe(self, model_id: int) -> None:
        with self.lock:
            subscription = self.subscriptions.pop(model_id, None)
            if subscription is None:
                raise InvalidParam(f"model {model_id} is not subscribed")
        profile = getattr(subscription.session, "op_profile", None)
        records = profile() if profile is not None else []
        if subscription.config.time_info:
            data = encode_records(records, model_id)
            _write_in_background(subscription.config.fd, data)

    # ------------------------------------------------------------ stamps and steps
    def mark(self, message: str, lane: str = "msproftx") -> None:
        if recorder.ON:
            now = recorder._now()
            recorder._events.append(("api", f"mark: {message}", threading.get_ident(), now,
                                     now, None))

    def push(self, stamp: Stamp) -> None:
        stack = getattr(self.stack, "items", None)
        if stack is None:
            stack = self.stack.items = []
        stack.append((stamp.message, recorder._now()))

    def pop(self) -> None:
        stack = getattr(self.stack, "items", None)
        if not stack:
            raise InvalidParam("acl.prof.pop without acl.prof.push on this thread")
        message, start = stack.pop()
        if recorder.ON:
            recorder._events.append(("api", f"range: {message}", threading.get_ident(), start,
                                     recorder._now(), None))

    def range_start(self, stamp: Stamp) -> int:
        with self.lock:
            range_id = self.next_range
            self.next_range += 1
            self.ranges[range_id] = (stamp.message, recorder._now())
            return range_id

    def range_stop(self, range_id: int) -> None:
        with self.lock:
            found = self.ranges.pop(range_id, None)
        if found is None:
            raise InvalidParam(f"range {range_id} was not started (acl.prof.range_start)")
        if recorder.ON:
            recorder._events.append(("api", f"range: {found[0]}", threading.get_ident(),
                                     found[1], recorder._now(), None))


def _profiled_session(model):
    """Reopen ``model``'s engine session with the engine's profiler on; return it."""
    from openacl.precision.policy import open_session
    from openacl.runtime.runtime import RUNTIME

    previous = recorder.OPS
    recorder.OPS = True
    try:
        session, _ = open_session(model.offline, RUNTIME.config)
    finally:
        recorder.OPS = previous
    recorder._sessions.discard(session)   # its records go to the subscription, not the timeline
    if not hasattr(session, "op_profile"):
        return session                    # an engine without a profiler: no records
    model.settle()
    old = model.session
    model.session = session
    executor = model.executor
    executor.session = session
    getattr(executor, "_cache", {}).clear()
    if hasattr(executor, "_last"):
        executor._last = None
    old.close()
    return session


def _write_in_background(fd: int, data: bytes) -> None:
    """Write to the subscription's pipe on a thread: a reader that is slow must not block us."""
    def write():
        view = memoryview(data)
        try:
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError:
            pass

    thread = threading.Thread(target=write, name="openacl-prof-subscriber", daemon=True)
    thread.start()
    _writers.append(thread)


_writers: list = []
PROF = Profiler()
