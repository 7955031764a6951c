"""``openacl profile -- python app.py``: an unchanged pyACL program, profiled from outside.

The app (``profiled_app.py``) copies in, executes and copies out N times on one stream
with numpy (pageable) buffers; the timeline must hold exactly what it did.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from collections import Counter

import pytest

APP = pathlib.Path(__file__).with_name("profiled_app.py")
RUNS = 4


def test_openacl_profile_records_an_unchanged_program(tmp_path):
    out = tmp_path / "prof"
    result = subprocess.run([sys.executable, "-m", "openacl", "profile", "-o", str(out), "--",
                             "python", str(APP), str(RUNS)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "class" in result.stdout                              # the program ran as usual
    assert {p.name for p in out.iterdir()} == {"trace.json", "summary.txt", "timeline.png"}
    trace = json.loads((out / "trace.json").read_text())
    spans = [e for e in trace["traceEvents"] if e.get("ph") == "X"]
    for event in spans:
        assert {"name", "ts", "dur", "pid", "tid"} <= set(event) and event["dur"] >= 0
    names = Counter(e["name"] for e in spans)
    assert names["acl.mdl.execute_async"] == RUNS
    assert names["acl.rt.memcpy_async"] == 2 * RUNS
    assert names["acl.rt.synchronize_stream"] == RUNS
    assert names["acl.init"] == names["acl.finalize"] == 1
    copies = [e for e in spans if e["name"].startswith("memcpy")]
    assert len(copies) == 2 * RUNS                                  # pageable: synchronous
    assert {e["args"]["bytes"] for e in copies} == {64 * 4, 10 * 4}  # digits: 8x8 in, 10 out
    executes = [e for e in spans if e["name"].startswith("execute_async")]
    assert len(executes) == RUNS
    ops = [e for e in spans if e.get("args", {}).get("op_type")]
    per_run = Counter(e["args"]["op_type"] for e in ops)
    assert ops and all(count == RUNS for count in per_run.values())   # every op, every run
    assert "Conv" in per_run and "Gemm" in per_run
    # the engine's operators run inside their execute task on the stream lane
    for op in ops:
        assert any(t["ts"] <= op["ts"] + 1 and op["ts"] + op["dur"] <= t["ts"] + t["dur"] + 1
                   for t in executes), op
    summary = (out / "summary.txt").read_text()
    assert "top operators" in summary and "API calls" in summary


def test_openacl_profile_refuses_what_it_cannot_run(tmp_path):
    for argv in (["profile"], ["profile", "--", "ls"], ["profile", "--", "python"]):
        result = subprocess.run([sys.executable, "-m", "openacl", *argv], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 2, argv
        assert "Traceback" not in result.stderr


def test_the_acl_init_profiler_section_records_until_finalize(tmp_path):
    """The documented switch: {"profiler": {"switch": "on", "output": DIR}} in acl.json."""
    import acl

    out = tmp_path / "from_json"
    config = tmp_path / "acl.json"
    config.write_text(json.dumps({"profiler": {"switch": "on", "output": str(out),
                                               "task_time": "on"}}))
    assert acl.init(str(config)) == 0
    assert acl.rt.set_device(0) == 0
    stream, _ = acl.rt.create_stream()
    assert acl.rt.synchronize_stream(stream) == 0
    assert acl.rt.destroy_stream(stream) == 0
    assert acl.rt.reset_device(0) == 0
    assert not out.exists()                          # written at finalize, not before
    assert acl.finalize() == 0
    trace = json.loads((out / "trace.json").read_text())
    names = Counter(e["name"] for e in trace["traceEvents"] if e.get("ph") == "X")
    assert names["acl.rt.create_stream"] == names["acl.rt.synchronize_stream"] == 1
    assert names["acl.finalize"] == 0               # recording ends inside finalize


@pytest.mark.parametrize("section, words", [
    ({"switch": "maybe"}, ['"profiler.switch"', '"on" or "off"']),
    ({"switch": "off", "swtich": "on"}, ['"profiler.swtich"', "not a profiler option"]),
    ({"switch": "on", "task_time": "l9"}, ['"profiler.task_time"', "'l0'"]),
    ({"switch": "on", "aic_metrics": "Speed"}, ['"profiler.aic_metrics"', "PipeUtilization"]),
    ({"switch": "on", "sys_cpu_freq": "fast"}, ['"profiler.sys_cpu_freq"', "Hz"]),
    ({"switch": "on", "host_sys": "cpu,gpu"}, ['"profiler.host_sys"', "cpu|mem"]),
    ({"switch": "on", "output": 3}, ['"profiler.output"', "a string"]),
    ("on", ['"profiler" must be a JSON object']),
])
def test_a_profiler_section_msprof_would_reject_fails_acl_init(tmp_path, section, words):
    """msprof checks every key before the switch; aclInit then returns
    ACL_ERROR_INVALID_PARAM. Nothing is recorded and acl.init works again afterwards."""
    import acl

    config = tmp_path / "acl.json"
    config.write_text(json.dumps({"profiler": section}))
    assert acl.init(str(config)) == 100000
    message = acl.get_recent_err_msg()
    assert all(word in message for word in words), message
    from openacl.profiling import recorder

    assert not recorder.is_on()
    assert acl.init() == 0 and acl.finalize() == 0


def test_a_valid_section_with_the_switch_off_records_nothing(tmp_path):
    import acl
    from openacl.profiling import recorder

    config = tmp_path / "acl.json"
    config.write_text(json.dumps({"profiler": {"switch": "off", "output": str(tmp_path / "p"),
                                               "task_time": "l1", "aicpu": "on",
                                               "aic_metrics": "PipeUtilization"}}))
    assert acl.init(str(config)) == 0
    assert not recorder.is_on()
    assert acl.finalize() == 0
    assert not (tmp_path / "p").exists()


def test_openvino_layers_are_on_the_timeline_too(tmp_path):
    """On OpenVINO the operator lane holds its (fused) layers, one set per execution."""
    import os

    out = tmp_path / "ov"
    env = dict(os.environ, OPENACL_ENGINE="openvino", OPENACL_PRECISION="exact")
    result = subprocess.run([sys.executable, "-m", "openacl", "profile", "-o", str(out), "--",
                             "python", str(APP), str(RUNS)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    spans = [e for e in json.loads((out / "trace.json").read_text())["traceEvents"]
             if e.get("ph") == "X"]
    layers = Counter(e["name"] for e in spans if e.get("args", {}).get("op_type"))
    assert layers and all(count == RUNS for count in layers.values()), layers
    kinds = {e["args"]["op_type"] for e in spans if e.get("args", {}).get("op_type")}
    assert "Convolution" in kinds                       # OpenVINO's layer names, not ONNX's
    executes = [e for e in spans if e["name"].startswith("execute_async")]
    for layer in (e for e in spans if e.get("args", {}).get("op_type")):
        assert any(t["ts"] <= layer["ts"] + 1
                   and layer["ts"] + layer["dur"] <= t["ts"] + t["dur"] + 1
                   for t in executes), layer


def test_sync_execute_nests_its_operators_and_stream_tasks_keep_their_order(tmp_path):
    """In-process through acl.prof: a synchronous execute's operators lie inside its API
    span on the host lane; async copies on one stream run in the order they were queued."""
    from importlib import resources

    import acl
    from openacl.profiling import recorder

    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    context, _ = acl.rt.create_context(0)
    stream, _ = acl.rt.create_stream()
    recorder.start(output=str(tmp_path / "p"), ops=True)
    model, _ = acl.mdl.load_from_file(str(resources.files("openacl.assets") / "digits_cnn.onnx"))
    desc = acl.mdl.create_desc()
    acl.mdl.get_desc(desc, model)
    sizes = [acl.mdl.get_input_size_by_index(desc, 0), acl.mdl.get_output_size_by_index(desc, 0)]
    pointers = [acl.rt.malloc(size, 0)[0] for size in sizes]
    datasets = [acl.mdl.create_dataset(), acl.mdl.create_dataset()]
    for dataset, pointer, size in zip(datasets, pointers, sizes):
        acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(pointer, size))
    scratch = [acl.rt.malloc(64 << k, 0)[0] for k in range(3)]
    for k, pointer in enumerate(scratch):                       # three device copies, queued
        acl.rt.memcpy_async(pointer, 64 << k, pointers[0], 64, 3, stream)
    acl.rt.synchronize_stream(stream)
    assert acl.mdl.execute(model, *datasets) == 0
    for dataset in datasets:
        acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, 0))
        acl.mdl.destroy_dataset(dataset)
    acl.mdl.unload(model)
    acl.mdl.destroy_desc(desc)
    recorder.stop(write=True)
    for pointer in scratch + pointers:
        acl.rt.free(pointer)
    acl.rt.destroy_stream(stream)
    acl.rt.destroy_context(context)
    acl.rt.reset_device(0)
    assert acl.finalize() == 0
    spans = [e for e in json.loads((tmp_path / "p" / "trace.json").read_text())["traceEvents"]
             if e.get("ph") == "X"]
    (execute,) = [e for e in spans if e["name"] == "acl.mdl.execute"]
    ops = [e for e in spans if e.get("args", {}).get("op_type")]
    assert ops
    for op in ops:
        assert execute["ts"] <= op["ts"] + 1 and op["ts"] + op["dur"] <= (
            execute["ts"] + execute["dur"] + 1), op
    copies = [e for e in spans if e["name"].startswith("memcpy_async")]
    assert [e["args"]["bytes"] for e in copies] == [64, 64, 64]
    assert [e["ts"] for e in copies] == sorted(e["ts"] for e in copies)
    assert len({e["tid"] for e in copies}) == 1                  # one lane: the stream's
