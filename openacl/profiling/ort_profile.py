"""Read ONNX Runtime's profile file (``enable_profiling``) into per-operator records."""

from __future__ import annotations

import json
import os

__all__ = ["read_ort_profile"]

_SUFFIX = "_kernel_time"


def read_ort_profile(path: str, origin_ns: int, remove: bool = True) -> list[dict]:
    """Node events of the profile at ``path`` as dicts (name, op_type, start_ns, end_ns,
    duration_ns, run), ``run`` counting the ``model_run`` events from 0; ``origin_ns`` is the
    session's ``get_profiling_start_time_ns()``."""
    try:
        with open(path, encoding="utf-8") as handle:
            events = json.load(handle)
    finally:
        if remove:
            try:
                os.remove(path)
            except OSError:
                pass
    runs = sorted((e["ts"], e["ts"] + e["dur"]) for e in events
                  if e.get("cat") == "Session" and e.get("name") == "model_run")
    records = []
    for event in events:
        if event.get("cat") != "Node" or not event.get("name", "").endswith(_SUFFIX):
            continue
        start = origin_ns + int(event["ts"]) * 1000
        duration = int(event["dur"]) * 1000
        run = next((i for i, (a, b) in enumerate(runs) if a <= event["ts"] <= b), -1)
        records.append({"name": event["name"][:-len(_SUFFIX)],
                        "op_type": event.get("args", {}).get("op_name", ""),
                        "start_ns": start, "end_ns": start + duration,
                        "duration_ns": duration, "run": run})
    records.sort(key=lambda r: r["start_ns"])
    return records
