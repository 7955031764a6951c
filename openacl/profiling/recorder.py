"""The profiler's timeline: events recorded while profiling is on, written as Chrome-trace JSON.

Hooks elsewhere test the module attribute ``ON`` (one global lookup when profiling is off)
and then call ``copy``, or, on the hottest paths (every pyACL call, every stream
task), append to ``_events`` themselves: it is cleared, never rebound, so they bind its
``append`` once. Timestamps are ``time.time_ns()``, the clock ONNX
Runtime's own profiler uses, so engine per-operator events line up with ours.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import weakref

from openacl.profiling import picture

__all__ = ["ON", "OPS", "start", "stop", "is_on", "copy", "events",
           "register_session", "write_outputs"]

ON = False          # API calls and stream tasks are recorded
OPS = False         # engine sessions loaded now profile their operators
_events: list = []  # (kind, name, lane, start_ns, end_ns, args); list.append is atomic.
#                     Never rebound: hooks hold its append.
_sessions: "weakref.WeakSet" = weakref.WeakSet()
_lock = threading.Lock()
_output: str | None = None
_PID = os.getpid()
_now = time.time_ns


def start(output: str | None = None, ops: bool = True) -> None:
    """Turn recording on (``ops``: engine sessions loaded from now on profile their operators)."""
    global ON, OPS, _output
    with _lock:
        _events.clear()
        _output = output
        OPS = ops
        ON = True


def is_on() -> bool:
    return ON


def stop(write: bool = True) -> dict | None:
    """Turn recording off; write the trace, summary and picture if an output folder was set.

    Returns the paths written (or None).
    """
    global ON, OPS
    with _lock:
        if not ON:
            return None
        ON = False
        OPS = False
        _collect_engine_ops()
        output = _output
    if write and output:
        return write_outputs(output)
    return None


def events() -> list:
    return list(_events)


# ------------------------------------------------------------------ recording (hot when on)
def copy(count: int, start_ns: int, end_ns: int) -> None:
    """A synchronous copy (acl.rt.memcpy): its bytes, on the host lane of its thread."""
    _events.append(("copy", "memcpy", threading.get_ident(), start_ns, end_ns, {"bytes": count}))


def register_session(session) -> None:
    """An engine session that profiles its operators (``op_profile()`` hands them over)."""
    _sessions.add(session)


def _collect_engine_ops() -> None:
    for session in list(_sessions):
        collect(session)


def collect(session) -> None:
    """Take a profiling session's operator records now (at stop, or when the session
    closes: a model unloaded before the profiler stops keeps its operators)."""
    if session not in _sessions:
        return
    _sessions.discard(session)
    try:
        records = session.op_profile()
    except Exception:  # noqa: BLE001 - a session closed meanwhile has nothing to give
        records = []
    label = getattr(session, "profile_label", "model")
    for record in records:
        _events.append(("op", record["name"], label, record["start_ns"], record["end_ns"],
                        {"op_type": record["op_type"]}))


# ------------------------------------------------------------------ outputs
_BYTES = re.compile(r"^memcpy(?:_async)? of (\d+) bytes")


def _copied(kind: str, name: str, args) -> int | None:
    """The bytes a copy event moved (a synchronous copy says so; a copy task's label does)."""
    if kind == "copy":
        return args["bytes"]
    match = _BYTES.match(name) if kind == "task" else None
    return int(match.group(1)) if match else None


def trace_events(recorded: list | None = None) -> list[dict]:
    """The Chrome trace-event list (``ph`` X complete events, µs, plus lane names)."""
    recorded = events() if recorded is None else recorded
    lanes: dict[tuple, int] = {}
    out = []
    processes = {"api": (1, "host: pyACL API calls"), "copy": (1, "host: pyACL API calls"),
                 "task": (2, "device: streams"), "op": (3, "engine: operators")}
    for kind, name, lane, start_ns, end_ns, args in recorded:
        pid, _ = processes[kind]
        key = (pid, lane)
        if key not in lanes:
            lanes[key] = len(lanes) + 1
        count = _copied(kind, name, args)
        if kind == "copy":
            name = f"memcpy of {count} bytes"
        event = {"name": name, "cat": kind, "ph": "X", "ts": start_ns / 1000.0,
                 "dur": max(end_ns - start_ns, 0) / 1000.0, "pid": pid, "tid": lanes[key]}
        args = dict(args or {})
        if count is not None:
            args["bytes"] = count
            seconds = max(end_ns - start_ns, 1) / 1e9
            args["GB/s"] = round(count / seconds / 1e9, 3)
        if args:
            event["args"] = args
        out.append(event)
    for pid, title in {v for v in processes.values()}:
        out.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "ts": 0,
                    "args": {"name": title}})
    for (pid, lane), tid in lanes.items():
        title = f"thread {lane}" if pid == 1 else str(lane)
        out.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "ts": 0,
                    "args": {"name": title}})
    return out


def summary(recorded: list | None = None, top: int = 15) -> str:
    """A text table: top operators, time per stream, copy bandwidth, API calls."""
    recorded = events() if recorded is None else recorded
    ops: dict[tuple, list] = {}
    streams: dict[str, list] = {}
    apis: dict[str, list] = {}
    copies = [0, 0]
    for kind, name, lane, start_ns, end_ns, args in recorded:
        duration = max(end_ns - start_ns, 0)
        if kind == "op":
            entry = ops.setdefault((name, args["op_type"]), [0, 0])
        elif kind == "task":
            entry = streams.setdefault(lane, [0, 0])
        elif kind == "api":
            entry = apis.setdefault(name, [0, 0])
        else:
            entry = None
        if entry is not None:
            entry[0] += 1
            entry[1] += duration
        count = _copied(kind, name, args)
        if count is not None:
            copies[0] += count
            copies[1] += duration
    lines = [f"openacl profile: {len(recorded)} events"]
    total_ops = sum(v[1] for v in ops.values()) or 1
    lines.append("")
    lines.append(f"top operators (of {len(ops)}):")
    lines.append(f"  {'operator':<40} {'type':<16} {'calls':>6} {'total ms':>10} {'%':>6}")
    for (name, op_type), (calls, ns) in sorted(ops.items(), key=lambda kv: -kv[1][1])[:top]:
        lines.append(f"  {name[:40]:<40} {op_type[:16]:<16} {calls:>6} {ns / 1e6:>10.3f} "
                     f"{100 * ns / total_ops:>6.1f}")
    lines.append("")
    lines.append("time per stream:")
    for lane, (calls, ns) in sorted(streams.items()):
        lines.append(f"  {lane:<40} {calls:>6} tasks {ns / 1e6:>10.3f} ms")
    lines.append("")
    bandwidth = copies[0] / (copies[1] / 1e9) / 1e9 if copies[1] else 0.0
    lines.append(f"copies: {copies[0]} bytes in {copies[1] / 1e6:.3f} ms "
                 f"({bandwidth:.2f} GB/s)")
    lines.append("")
    lines.append("API calls:")
    for name, (calls, ns) in sorted(apis.items(), key=lambda kv: -kv[1][1])[:top]:
        lines.append(f"  {name:<40} {calls:>6} calls {ns / 1e6:>10.3f} ms")
    return "\n".join(lines) + "\n"


def write_outputs(folder: str, recorded: list | None = None) -> dict:
    """Write ``trace.json`` (Chrome trace / Perfetto), ``summary.txt`` and ``timeline.png``."""
    recorded = events() if recorded is None else recorded
    os.makedirs(folder, exist_ok=True)
    paths = {"trace": os.path.join(folder, "trace.json"),
             "summary": os.path.join(folder, "summary.txt"),
             "picture": os.path.join(folder, "timeline.png")}
    with open(paths["trace"], "w", encoding="utf-8") as handle:
        json.dump({"traceEvents": trace_events(recorded), "displayTimeUnit": "ms"}, handle)
    with open(paths["summary"], "w", encoding="utf-8") as handle:
        handle.write(summary(recorded))
    picture.write(paths["picture"], recorded)
    return paths
