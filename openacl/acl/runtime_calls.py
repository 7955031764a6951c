"""pyACL ``acl.rt`` calls: devices, contexts, streams and memory.

Each function looks up handles, calls one core method and returns its values; the
generated wrapper (openacl.acl.build) adds pyACL's return shape and error codes.
"""

from __future__ import annotations

import threading

from openacl import config
from openacl.acl.build import implements
from openacl.errors import InvalidParam, RuntimeParamInvalid, AclError
from openacl.constants import ErrorCode
from openacl.runtime import RUNTIME, transfers
from openacl.runtime.device import MAX_STREAMS_PER_DEVICE, Context
from openacl.runtime.event import ACL_EVENT_SYNC, Event
from openacl.runtime.handles import handles
from openacl.runtime.stream import Stream

_STREAM_FLAGS = 0x3F


def _timeout_seconds(timeout_ms: int, error=RuntimeParamInvalid) -> float | None:
    """ACL timeouts: -1 waits forever, > 0 is milliseconds; 0 and < -1 are invalid."""
    if timeout_ms == -1:
        return None
    if timeout_ms <= 0:
        raise error(f"timeout {timeout_ms} is invalid: expected -1 (wait forever) or a "
                    f"positive number of milliseconds")
    return timeout_ms / 1000.0


# ------------------------------------------------------------------------ devices
@implements("rt.set_device")
def set_device(device_id):
    """Make the device's default context current on this thread (reference counted)."""
    RUNTIME.set_device(device_id)


@implements("rt.reset_device")
def reset_device(device_id):
    """Drop one set_device reference; at zero, release the default context and its streams."""
    RUNTIME.reset_device(device_id)


@implements("rt.reset_device_force")
def reset_device_force(device_id):
    RUNTIME.reset_device(device_id, force=True)


@implements("rt.get_device")
def get_device():
    return RUNTIME.current_context().device.index


@implements("rt.get_device_count")
def get_device_count():
    return len(RUNTIME.devices)


@implements("rt.get_run_mode")
def get_run_mode():
    """ACL_HOST (1) by default; ACL_DEVICE (0) with OPENACL_RUN_MODE=ACL_DEVICE."""
    return config.run_mode()


def _synchronize_device(timeout):
    device = RUNTIME.current_context().device
    first_error = None
    for context in list(device.contexts):
        try:
            context.synchronize(timeout)
        except AclError as error:
            first_error = first_error or error
    if first_error is not None:
        raise first_error


@implements("rt.synchronize_device")
def synchronize_device():
    """Wait for every stream of the current device."""
    _synchronize_device(None)


@implements("rt.synchronize_device_with_timeout")
def synchronize_device_with_timeout(timeout):
    _synchronize_device(_timeout_seconds(timeout))


@implements("rt.set_ts_device")
def set_ts_device(ts_id):
    if ts_id not in (0, 1):
        raise InvalidParam(f"ts id {ts_id} is invalid: expected 0 (AI core) or 1 (AI vector)")
    RUNTIME.current_context()


@implements("rt.query_device_status")
def query_device_status(device_id):
    RUNTIME.device(device_id)
    return 0


@implements("rt.device_can_access_peer")
def device_can_access_peer(device_id, peer_device_id):
    RUNTIME.device(device_id)
    RUNTIME.device(peer_device_id)
    if device_id == peer_device_id:
        raise InvalidParam(f"a device and its peer must differ (both are {device_id})")
    return 1


@implements("rt.device_enable_peer_access")
def device_enable_peer_access(peer_device_id, flags):
    RUNTIME.device(peer_device_id)
    if flags != 0:
        raise InvalidParam(f"flags must be 0, not {flags}")
    RUNTIME.current_context()


@implements("rt.device_disable_peer_access")
def device_disable_peer_access(peer_device_id):
    RUNTIME.device(peer_device_id)
    RUNTIME.current_context()


@implements("rt.set_device_sat_mode")
def set_device_sat_mode(mode):
    if mode not in (0, 1):
        raise InvalidParam(f"mode {mode} is invalid: expected 0 (saturation) or 1 (inf/nan)")
    RUNTIME.current_context().device.sat_mode = mode


@implements("rt.get_device_sat_mode")
def get_device_sat_mode():
    return RUNTIME.current_context().device.sat_mode


# ------------------------------------------------------------------------ contexts
def _context(handle) -> Context:
    return handles.get(handle, Context, "context")


@implements("rt.create_context")
def create_context(device_id):
    """Create a context on the device; it becomes this thread's current context."""
    return RUNTIME.create_context(device_id).handle


@implements("rt.destroy_context")
def destroy_context(context):
    RUNTIME.destroy_context(_context(context))


@implements("rt.set_context")
def set_context(context):
    """Make the context current on the calling thread."""
    RUNTIME.set_current_context(_context(context))


@implements("rt.get_context")
def get_context():
    return RUNTIME.current_context().handle


@implements("rt.ctx_get_current_default_stream")
def ctx_get_current_default_stream():
    return RUNTIME.current_context().default_stream.handle


def _check_sys_param(opt, limit):
    if not 0 <= opt <= limit:
        raise InvalidParam(f"system parameter option {opt} is invalid: expected 0..{limit}")


@implements("rt.ctx_set_sys_param_opt")
def ctx_set_sys_param_opt(opt, value):
    _check_sys_param(opt, 2)
    RUNTIME.current_context().sys_params[opt] = value


@implements("rt.ctx_get_sys_param_opt")
def ctx_get_sys_param_opt(opt):
    _check_sys_param(opt, 2)
    params = RUNTIME.current_context().sys_params
    if opt not in params:
        raise AclError(f"system parameter option {opt} was never set in this context: "
                       f"set it with acl.rt.ctx_set_sys_param_opt first",
                       ErrorCode.ACL_ERROR_RT_SYSPARAMOPT_NOT_SET)
    return params[opt]


@implements("rt.set_sys_param_opt")
def set_sys_param_opt(opt, value):
    _check_sys_param(opt, 3)
    RUNTIME.sys_params[opt] = value


@implements("rt.get_sys_param_opt")
def get_sys_param_opt(opt):
    _check_sys_param(opt, 3)
    if opt not in RUNTIME.sys_params:
        raise AclError(f"system parameter option {opt} was never set in this process: "
                       f"set it with acl.rt.set_sys_param_opt first",
                       ErrorCode.ACL_ERROR_RT_SYSPARAMOPT_NOT_SET)
    return RUNTIME.sys_params[opt]


@implements("rt.get_primary_ctx_state")
def get_primary_ctx_state(device_id):
    device = RUNTIME.device(device_id)
    return (1 if device.default_context is not None else 0), 0


# ------------------------------------------------------------------------ streams
def _stream(handle) -> Stream:
    return handles.get(handle, Stream, "stream")


@implements("rt.create_stream")
def create_stream():
    """Create a stream in the current context."""
    return RUNTIME.current_context().create_stream().handle


@implements("rt.create_stream_with_config")
def create_stream_with_config(priority, flag):
    if flag & ~_STREAM_FLAGS:
        raise InvalidParam(f"stream flag {flag:#x} has unknown bits (known: {_STREAM_FLAGS:#x})")
    return RUNTIME.current_context().create_stream(priority, flag).handle


@implements("rt.destroy_stream")
def destroy_stream(stream):
    """Destroy a stream after its queued tasks have run."""
    found = _stream(stream)
    found.context.destroy_stream(found, drain=True)


@implements("rt.destroy_stream_force")
def destroy_stream_force(stream):
    """Destroy a stream, dropping the tasks that have not started."""
    found = _stream(stream)
    found.context.destroy_stream(found, drain=False)


@implements("rt.synchronize_stream")
def synchronize_stream(stream):
    """Wait for every task queued on the stream; return the first task failure."""
    RUNTIME.stream(stream).synchronize()


@implements("rt.synchronize_stream_with_timeout")
def synchronize_stream_with_timeout(stream, timeout):
    found = RUNTIME.stream(stream)
    found.synchronize(_timeout_seconds(timeout))


@implements("rt.stream_query")
def stream_query(stream):
    """0 (ACL_STREAM_STATUS_COMPLETE) when every queued task has run, else 1."""
    return 0 if RUNTIME.stream(stream).idle else 1


@implements("rt.stream_get_id")
def stream_get_id(stream):
    return RUNTIME.stream(stream).stream_id


@implements("rt.get_stream_available_num")
def get_stream_available_num():
    return MAX_STREAMS_PER_DEVICE - RUNTIME.current_context().device.stream_count


@implements("rt.set_stream_failure_mode")
def set_stream_failure_mode(stream, mode):
    if mode not in (0, 1):
        raise InvalidParam(f"failure mode {mode} is invalid: expected 0 (continue) or 1 (stop)")
    RUNTIME.stream(stream).failure_mode = mode


# ------------------------------------------------------------------------ memory
@implements("rt.malloc")
def malloc(size, policy):
    """Allocate device memory: size rounded up to 32 bytes plus 32 bytes, 64-byte aligned."""
    return transfers.malloc(size, policy).address


@implements("rt.malloc_align32")
def malloc_align32(size, policy):
    """Allocate device memory: size rounded up to 32 bytes, without the extra 32."""
    return transfers.malloc(size, policy, pad=False).address


@implements("rt.malloc_cached")
def malloc_cached(size, policy):
    return transfers.malloc(size, policy).address


def _check_live_range(address, size):
    if address == 0:
        raise InvalidParam("the pointer is NULL (0)")
    RUNTIME.current_context()
    RUNTIME.memory.checked(address, size, "device", write=True)


@implements("rt.mem_flush")
def mem_flush(dev_ptr, size):
    """Nothing to flush: this device's memory is coherent with the host. Checks the range."""
    _check_live_range(dev_ptr, size)


@implements("rt.mem_invalidate")
def mem_invalidate(dev_ptr, size):
    _check_live_range(dev_ptr, size)


@implements("rt.free")
def free(dev_ptr):
    transfers.free(dev_ptr)


@implements("rt.malloc_host")
def malloc_host(size):
    """Allocate page-locked host memory (device memory in ACL_DEVICE run mode)."""
    return transfers.malloc_host(size).address


@implements("rt.free_host")
def free_host(host_ptr):
    transfers.free_host(host_ptr)


@implements("rt.memcpy")
def memcpy(dst, dest_max, src, count, kind):
    """Copy synchronously. ``kind`` is advisory: the direction follows from the addresses."""
    transfers.memcpy(dst, dest_max, src, count, kind)


@implements("rt.memcpy_async")
def memcpy_async(dst, dest_max, src, count, kind, stream):
    """Queue a copy on a stream (done at once, after the stream drains, for pageable memory)."""
    transfers.memcpy_async(dst, dest_max, src, count, kind, stream)


@implements("rt.memset")
def memset(dev_ptr, max_count, value, count):
    transfers.memset(dev_ptr, max_count, value, count)


@implements("rt.memset_async")
def memset_async(dev_ptr, max_count, value, count, stream):
    transfers.memset_async(dev_ptr, max_count, value, count, stream)


@implements("rt.get_mem_info")
def get_mem_info(attr):
    """(free, total) bytes of the current device."""
    return transfers.mem_info(attr)


# ------------------------------------------------------------------------ events
def _event(handle) -> Event:
    return handles.get(handle, Event, "event")


def _new_event(flags: int) -> int:
    Event.check_flags(flags)
    return handles.register(Event(RUNTIME.current_context(), flags))


@implements("rt.create_event")
def create_event():
    """Create an event (ACL_EVENT_SYNC) in the current context."""
    return _new_event(ACL_EVENT_SYNC)


@implements("rt.create_event_with_flag")
def create_event_with_flag(flag):
    return _new_event(flag)


@implements("rt.create_event_ex_with_flag")
def create_event_ex_with_flag(flag):
    return _new_event(flag)


@implements("rt.destroy_event")
def destroy_event(event):
    handles.remove(_event(event).handle)


@implements("rt.record_event")
def record_event(event, stream):
    """Queue a marker: the event completes when the stream has done everything before it."""
    _event(event).record(RUNTIME.stream(stream))


@implements("rt.reset_event")
def reset_event(event, stream):
    _event(event).reset(RUNTIME.stream(stream))


def _synchronize_event(event, timeout):
    found = _event(event)
    found.synchronize(timeout)
    if found.last_stream is not None:
        found.last_stream.raise_pending_error()   # a failed task surfaces at the next synchronize


@implements("rt.synchronize_event")
def synchronize_event(event):
    _synchronize_event(event, None)


@implements("rt.synchronize_event_with_timeout")
def synchronize_event_with_timeout(event, timeout):
    _synchronize_event(event, _timeout_seconds(timeout))


@implements("rt.query_event_status")
def query_event_status(event):
    """1 (ACL_EVENT_RECORDED_STATUS_COMPLETE) once reached, else 0."""
    return 1 if _event(event).complete else 0


@implements("rt.query_event")
def query_event(event):
    """The older query, with the opposite encoding: 0 complete, 1 not ready."""
    return 0 if _event(event).complete else 1


@implements("rt.query_event_wait_status")
def query_event_wait_status(event):
    return 0 if _event(event).complete else 1


@implements("rt.event_elapsed_time")
def event_elapsed_time(start, end):
    """Milliseconds between two completed events."""
    return _event(start).elapsed_ms(_event(end))


@implements("rt.event_get_timestamp")
def event_get_timestamp(event):
    """Completion time in microseconds (of a monotonic clock)."""
    found = _event(event)
    if not found.complete:
        raise AclError(f"event {event:#x} has not completed (never recorded, or its stream has "
                       f"not reached it): record it with acl.rt.record_event and wait with "
                       f"acl.rt.synchronize_event first",
                       ErrorCode.ACL_ERROR_RT_EVENT_NOT_COMPLETE)
    return int(found.completed_at * 1e6)


@implements("rt.get_event_id")
def get_event_id(event):
    return (_event(event).handle - handles.FIRST_HANDLE) // handles.STRIDE


@implements("rt.stream_wait_event")
def stream_wait_event(stream, event):
    """Tasks queued on the stream after this wait until the event's records complete."""
    found = _event(event)
    if not found.flags & ACL_EVENT_SYNC:
        raise InvalidParam(f"event {event:#x} was created without ACL_EVENT_SYNC; "
                           f"stream_wait_event needs it")
    RUNTIME.stream(stream).submit(found.wait_task(), f"stream_wait_event {event:#x}")


# ------------------------------------------------------------------------ callbacks
@implements("rt.subscribe_report")
def subscribe_report(thread_id, stream):
    """Let the thread ``thread_id`` (``start_thread`` or ``threading.get_ident``) serve callbacks."""
    RUNTIME.reports.subscribe(thread_id, RUNTIME.stream(stream))


@implements("rt.unsubscribe_report")
def unsubscribe_report(thread_id, stream):
    RUNTIME.reports.unsubscribe(thread_id, RUNTIME.stream(stream))


@implements("rt.launch_callback")
def launch_callback(fn, user_data, block_type, stream):
    """Queue ``fn(user_data)``, run by the stream's report thread inside process_report."""
    RUNTIME.reports.launch(fn, user_data, block_type, RUNTIME.stream(stream))


@implements("rt.process_report")
def process_report(timeout):
    """Run this thread's waiting callbacks, waiting up to ``timeout`` ms (-1: forever)."""
    # process_report answers a bad timeout with 100000, the synchronize calls with 107000.
    RUNTIME.reports.process(threading.get_ident(), _timeout_seconds(timeout, InvalidParam))
