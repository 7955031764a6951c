"""acl.prof and the timeline: sessions, misuse codes, subscription records vs ORT's profile."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter

import numpy as np
import pytest

import acl
from openacl.profiling import recorder
from tests.facade.test_error_catalogue import _relu_om, session

ACL_PROF_ACL_API, ACL_PROF_TASK_TIME = 0x1, 0x2


def test_misuse_codes():
    config = acl.prof.create_config([0], 0, 0, ACL_PROF_ACL_API)
    assert config
    assert acl.prof.start(config) == 100043
    assert acl.prof.stop(config) == 100043
    assert acl.prof.finalize() == 100043
    assert acl.prof.create_config([99], 0, 0, 0) == 0
    assert acl.prof.destroy_config(config) == 0
    assert acl.prof.model_unsubscribe(7) == 100000


@contextlib.contextmanager
def _profiling(out):
    """acl.prof around the block, as the samples write it: API and task level, device 0."""
    config = acl.prof.create_config([0], 0, 0, ACL_PROF_ACL_API | ACL_PROF_TASK_TIME)
    assert acl.prof.init(str(out)) == 0
    assert acl.prof.start(config) == 0
    try:
        yield
    finally:                                    # a failing block must not leave it recording
        assert acl.prof.stop(config) == 0
        assert acl.prof.finalize() == 0
        assert acl.prof.destroy_config(config) == 0


def test_timeline_of_api_calls_and_stream_tasks(tmp_path):
    out = tmp_path / "prof"
    with session():
        with _profiling(out):
            stream, _ = acl.rt.create_stream()
            dev, _ = acl.rt.malloc(4096, 0)
            host, _ = acl.rt.malloc_host(4096)
            for _ in range(3):
                assert acl.rt.memcpy_async(dev, 4096, host, 4096, 1, stream) == 0
            assert acl.rt.synchronize_stream(stream) == 0
        acl.rt.free(dev)
        acl.rt.free_host(host)
        acl.rt.destroy_stream(stream)
    trace = json.loads((out / "trace.json").read_text())["traceEvents"]
    complete = [e for e in trace if e["ph"] == "X"]
    for event in complete:
        assert {"ph", "ts", "dur", "pid", "tid", "name"} <= set(event)
    calls = [e for e in complete if e["cat"] == "api"]
    assert [e["name"] for e in calls] == [          # what ran, in order; recording ends in stop
        "acl.rt.create_stream", "acl.rt.malloc", "acl.rt.malloc_host",
        *["acl.rt.memcpy_async"] * 3, "acl.rt.synchronize_stream"]
    assert len({e["tid"] for e in calls}) == 1                       # one host thread
    copies = [e for e in complete if e["cat"] == "task"]
    assert len(copies) == 3 and all(e["args"]["bytes"] == 4096 for e in copies)
    assert len({e["tid"] for e in copies}) == 1 and copies[0]["tid"] != calls[0]["tid"]
    queued = [e for e in calls if e["name"] == "acl.rt.memcpy_async"]
    sync = calls[-1]
    for task, call in zip(sorted(copies, key=lambda e: e["ts"]), queued):
        assert task["ts"] >= call["ts"]              # a task runs after the call that queued it
        assert task["ts"] + task["dur"] <= sync["ts"] + sync["dur"] + 1  # done before sync returns
    assert (out / "timeline.png").stat().st_size > 0
    assert "time per stream" in (out / "summary.txt").read_text()


def test_subscription_delivers_ort_per_operator_records(tmp_path):
    read, write = os.pipe()
    with session():
        model_id, ret = acl.mdl.load_from_file(_relu_om(tmp_path))
        assert ret == 0
        config = acl.prof.create_subscribe_config(1, 0, write)
        assert acl.prof.model_subscribe(model_id, config) == 0
        dataset_in, dataset_out = acl.mdl.create_dataset(), acl.mdl.create_dataset()
        buffers = []
        for dataset in (dataset_in, dataset_out):
            ptr, _ = acl.rt.malloc(1024, 0)
            buffer = acl.create_data_buffer(ptr, 1024)
            buffers.append((ptr, buffer))
            acl.mdl.add_dataset_buffer(dataset, buffer)
        for _ in range(2):
            assert acl.mdl.execute(model_id, dataset_in, dataset_out) == 0
        assert acl.prof.model_unsubscribe(model_id) == 0
        size, ret = acl.prof.get_op_desc_size()
        data = os.read(read, size * 2)
        ptr = acl.util.bytes_to_ptr(data)
        count, ret = acl.prof.get_op_num(ptr, len(data))
        assert (count, ret) == (2, 0)
        for index in range(count):
            assert acl.prof.get_op_type_v2(ptr, len(data), index) == ("Relu", 0)
            name, ret = acl.prof.get_op_name(ptr, len(data), index, 256)
            assert ret == 0 and name
            start = acl.prof.get_op_start(ptr, len(data), index)
            end = acl.prof.get_op_end(ptr, len(data), index)
            assert end - start == acl.prof.get_op_duration(ptr, len(data), index)
            assert acl.prof.get_model_id(ptr, len(data), index) == model_id
        assert acl.prof.get_op_type(ptr, len(data), 0, 5000) == ("", 100000)
        assert acl.prof.get_op_num(ptr, 3) == (0, 100000)
        for ptr_, buffer in buffers:
            acl.destroy_data_buffer(buffer)
            acl.rt.free(ptr_)
        acl.mdl.destroy_dataset(dataset_in)
        acl.mdl.destroy_dataset(dataset_out)
        acl.prof.destroy_subscribe_config(config)
        assert acl.mdl.unload(model_id) == 0
    os.close(read)
    os.close(write)


def test_recording_is_off_by_default():
    assert recorder.ON is False
    before = len(recorder.events())
    acl.rt.get_run_mode()
    assert len(recorder.events()) == before
    assert np is not None


def _ort_node_profile(model_path: str, feeds: dict, runs: int) -> Counter:
    """ONNX Runtime's own profile of the same model, run ``runs`` times, read from its
    JSON directly: (node name, op type) -> how many kernel events."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(os.path.dirname(model_path), "ort_reference")
    reference = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    for _ in range(runs):
        reference.run(None, feeds)
    with open(reference.end_profiling()) as handle:
        events = json.load(handle)
    return Counter((e["name"].removesuffix("_kernel_time"), e["args"]["op_name"])
                   for e in events if e.get("cat") == "Node"
                   and e["name"].endswith("_kernel_time"))


def test_subscription_records_match_onnxruntimes_own_profile(tmp_path):
    """The samples' pattern: a reader thread on the pipe, executes, unsubscribe, join. The
    records are ONNX Runtime's own kernel events for this model, one set per execution."""
    import shutil
    import threading
    from importlib import resources

    model_path = str(tmp_path / "digits_cnn.onnx")
    shutil.copy(resources.files("openacl.assets") / "digits_cnn.onnx", model_path)
    image = np.random.default_rng(0).random((1, 1, 8, 8), np.float32)
    runs = 3
    read, write = os.pipe()
    records = []

    def reader():                                  # as acllite's Profiling._read_data
        size, _ = acl.prof.get_op_desc_size()
        while True:
            data = os.read(read, size * 10)
            if not data:
                return
            ptr = acl.util.bytes_to_ptr(data)
            count, ret = acl.prof.get_op_num(ptr, len(data))
            assert ret == 0
            for i in range(count):
                records.append((acl.prof.get_op_name_v2(ptr, len(data), i)[0],
                                acl.prof.get_op_type_v2(ptr, len(data), i)[0],
                                acl.prof.get_op_start(ptr, len(data), i),
                                acl.prof.get_op_end(ptr, len(data), i),
                                acl.prof.get_model_id(ptr, len(data), i)))

    thread = threading.Thread(target=reader)
    thread.start()
    with session():
        model_id, ret = acl.mdl.load_from_file(model_path)
        assert ret == 0
        config = acl.prof.create_subscribe_config(1, 0, write)
        assert acl.prof.model_subscribe(model_id, config) == 0
        desc = acl.mdl.create_desc()
        acl.mdl.get_desc(desc, model_id)
        sizes = [acl.mdl.get_input_size_by_index(desc, 0),
                 acl.mdl.get_output_size_by_index(desc, 0)]
        pointers = [acl.rt.malloc(size, 0)[0] for size in sizes]
        data = image.tobytes()
        acl.rt.memcpy(pointers[0], sizes[0], acl.util.bytes_to_ptr(data), len(data), 1)
        datasets = [acl.mdl.create_dataset(), acl.mdl.create_dataset()]
        for dataset, pointer, size in zip(datasets, pointers, sizes):
            acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(pointer, size))
        started = time.time_ns()
        for _ in range(runs):
            assert acl.mdl.execute(model_id, *datasets) == 0
        finished = time.time_ns()
        assert acl.prof.model_unsubscribe(model_id) == 0
        os.close(write)                            # the reader sees the end of the pipe
        thread.join(30)
        assert not thread.is_alive()
        for dataset in datasets:
            acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, 0))
            acl.mdl.destroy_dataset(dataset)
        for pointer in pointers:
            acl.rt.free(pointer)
        acl.mdl.destroy_desc(desc)
        acl.prof.destroy_subscribe_config(config)
        assert acl.mdl.unload(model_id) == 0
    os.close(read)
    expected = _ort_node_profile(model_path, {"image": image}, runs)
    assert expected and all(count == runs for count in expected.values())
    assert Counter((name, op_type) for name, op_type, *_ in records) == expected
    for _, _, start, end, owner in records:
        assert owner == model_id and started <= start <= end <= finished


def _check_trace_event_format(document: dict) -> None:
    """The Trace Event Format as chrome://tracing and Perfetto read it: a ``traceEvents``
    list; complete events (``X``) with a name, category, non-negative ``ts``/``dur`` in µs and
    integer pid/tid; metadata events (``M``) naming processes and threads."""
    assert set(document) <= {"traceEvents", "displayTimeUnit", "otherData"}
    assert document.get("displayTimeUnit", "ms") in ("ms", "ns")
    named = set()
    for event in document["traceEvents"]:
        assert event["ph"] in ("X", "M"), event
        assert isinstance(event["name"], str) and event["name"]
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        assert isinstance(event.get("args", {}), dict)
        if event["ph"] == "X":
            assert isinstance(event["cat"], str)
            assert isinstance(event["ts"], (int, float)) and event["ts"] >= 0
            assert isinstance(event["dur"], (int, float)) and event["dur"] >= 0
        else:
            assert event["name"] in ("process_name", "thread_name")
            assert isinstance(event["args"]["name"], str)
            named.add((event["name"], event["pid"], event["tid"] if event["name"] ==
                       "thread_name" else 0))
    for event in document["traceEvents"]:          # every lane used has a name
        if event["ph"] == "X":
            assert ("process_name", event["pid"], 0) in named
            assert ("thread_name", event["pid"], event["tid"]) in named


def test_trace_json_follows_the_trace_event_format(tmp_path):
    out = tmp_path / "prof"
    with session():
        with _profiling(out):
            model_id, ret = acl.mdl.load_from_file(_relu_om(tmp_path))
            assert ret == 0
            stream, _ = acl.rt.create_stream()
            dev, _ = acl.rt.malloc(1024, 0)
            host, _ = acl.rt.malloc_host(1024)
            assert acl.rt.memcpy_async(dev, 1024, host, 1024, 1, stream) == 0
            assert acl.rt.memcpy(host, 1024, dev, 1024, 2) == 0
            assert acl.rt.synchronize_stream(stream) == 0
        acl.mdl.unload(model_id)
        acl.rt.free(dev)
        acl.rt.free_host(host)
        acl.rt.destroy_stream(stream)
    document = json.loads((out / "trace.json").read_text())
    _check_trace_event_format(document)
    broken = dict(document, traceEvents=document["traceEvents"] + [{"ph": "X", "name": "x"}])
    with pytest.raises((AssertionError, KeyError)):   # the check can fail
        _check_trace_event_format(broken)
