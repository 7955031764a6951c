"""acl.prof and the timeline: sessions, misuse codes, subscription records vs ORT's profile."""

from __future__ import annotations

import json
import os

import numpy as np

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


def test_timeline_of_api_calls_and_stream_tasks(tmp_path):
    out = tmp_path / "prof"
    with session():
        config = acl.prof.create_config([0], 0, 0, ACL_PROF_ACL_API | ACL_PROF_TASK_TIME)
        assert acl.prof.init(str(out)) == 0
        assert acl.prof.start(config) == 0
        stream, _ = acl.rt.create_stream()
        dev, _ = acl.rt.malloc(4096, 0)
        host, _ = acl.rt.malloc_host(4096)
        for _ in range(3):
            assert acl.rt.memcpy_async(dev, 4096, host, 4096, 1, stream) == 0
        assert acl.rt.synchronize_stream(stream) == 0
        assert acl.prof.stop(config) == 0
        assert acl.prof.finalize() == 0
        acl.rt.free(dev)
        acl.rt.free_host(host)
        acl.rt.destroy_stream(stream)
        acl.prof.destroy_config(config)
    trace = json.loads((out / "trace.json").read_text())["traceEvents"]
    complete = [e for e in trace if e["ph"] == "X"]
    for event in complete:
        assert {"ph", "ts", "dur", "pid", "tid", "name"} <= set(event)
    names = [e["name"] for e in complete if e["cat"] == "api"]
    assert names.count("acl.rt.memcpy_async") == 3
    assert names[-1] == "acl.prof.stop" or "acl.rt.synchronize_stream" in names
    copies = [e for e in complete if e["cat"] == "task"]
    assert len(copies) == 3 and all(e["args"]["bytes"] == 4096 for e in copies)
    assert len({e["tid"] for e in copies}) == 1
    assert [e["ts"] for e in copies] == sorted(e["ts"] for e in copies)
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
