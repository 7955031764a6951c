"""Asynchronous execution: execute_async, memcpy_async, events, callbacks and report threads.

Every wait here has a timeout: a bug makes a test fail, never hang.
"""

import threading
import time

import numpy as np
import onnx
import onnx.helper as helper
import pytest
from onnx import TensorProto as T
from onnx import numpy_helper

import acl
import openacl.runtime
from openacl import FidelityWarning
from tests.model import builders

ACL_SUCCESS = 0
ACL_ERROR_INVALID_PARAM = 100000
ACL_ERROR_RT_PARAM_INVALID = 107000
ACL_ERROR_RT_STREAM_SUBSCRIBE = 107011
ACL_ERROR_RT_THREAD_SUBSCRIBE = 107012
ACL_ERROR_RT_STREAM_NO_CB_REG = 107015
ACL_ERROR_RT_REPORT_TIMEOUT = 507012
ACL_ERROR_RT_MODEL_EXECUTE = 507011
ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID = 145007
ACL_CALLBACK_NO_BLOCK, ACL_CALLBACK_BLOCK = 0, 1
ACL_EVENT_TIME_LINE = 0x8
ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_HOST = 1, 2
WAIT = 60        # seconds: the bound on every wait in these tests


class ReportThread:
    """The sample's report thread: set_context, then process_report in a loop until told to stop."""

    def __init__(self, context):
        self.exit = False
        self.results = []

        def work(args):
            ctx, timeout_ms = args
            acl.rt.set_context(ctx)
            while not self.exit:
                self.results.append(acl.rt.process_report(timeout_ms))

        self.thread_id, ret = acl.util.start_thread(work, [context, 20])
        assert ret == 0

    def stop(self):
        self.exit = True
        assert acl.util.stop_thread(self.thread_id) == 0


class AsyncNet:
    """One loaded model with `slots` sets of device and pinned-host buffers."""

    def __init__(self, path, slots):
        self.model_id, ret = acl.mdl.load_from_file(path)
        assert ret == 0, acl.get_recent_err_msg()
        self.desc = acl.mdl.create_desc()
        acl.mdl.get_desc(self.desc, self.model_id)
        self.in_size = acl.mdl.get_input_size_by_index(self.desc, 0)
        self.out_size = acl.mdl.get_output_size_by_index(self.desc, 0)
        self.slots = [self._slot() for _ in range(slots)]

    def _slot(self):
        slot = {}
        for kind, size in (("in", self.in_size), ("out", self.out_size)):
            slot[kind + "_dev"], _ = acl.rt.malloc(size, 0)
            slot[kind + "_host"], _ = acl.rt.malloc_host(size)
            dataset = acl.mdl.create_dataset()
            acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(slot[kind + "_dev"], size))
            slot[kind + "_set"] = dataset
        return slot

    def enqueue(self, slot, image, stream):
        """H2D, execute_async, D2H on the stream, the async sample's way."""
        acl.util.ptr_to_numpy(slot["in_host"], image.shape, 11)[...] = image
        assert acl.rt.memcpy_async(slot["in_dev"], self.in_size, slot["in_host"], self.in_size,
                                   ACL_MEMCPY_HOST_TO_DEVICE, stream) == 0
        assert acl.mdl.execute_async(self.model_id, slot["in_set"], slot["out_set"], stream) == 0, \
            acl.get_recent_err_msg()
        assert acl.rt.memcpy_async(slot["out_host"], self.out_size, slot["out_dev"], self.out_size,
                                   ACL_MEMCPY_DEVICE_TO_HOST, stream) == 0

    def output(self, slot):
        return np.frombuffer(acl.util.ptr_to_bytes(slot["out_host"], self.out_size), np.float32)

    def release_buffers(self, memory=True):
        """Destroy the datasets and buffers; free the memory unless finalize already did."""
        for slot in self.slots:
            for kind in ("in", "out"):
                dataset = slot[kind + "_set"]
                acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, 0))
                acl.mdl.destroy_dataset(dataset)
                if memory:
                    acl.rt.free(slot[kind + "_dev"])
                    acl.rt.free_host(slot[kind + "_host"])

    def release(self):
        self.release_buffers()
        assert acl.mdl.unload(self.model_id) == 0
        acl.mdl.destroy_desc(self.desc)


def _save(model, tmp_path, name):
    path = tmp_path / name
    onnx.save(model, path)
    return str(path)


def _image(seed):
    return np.random.default_rng(seed).standard_normal((1, 3, 16, 16)).astype(np.float32)


def test_huawei_async_pattern_matches_synchronous_execute(context, tmp_path):
    model = builders.classifier(classes=10)
    net = AsyncNet(_save(model, tmp_path, "c.onnx"), slots=20)   # one buffer set per execution
    stream, _ = acl.rt.create_stream()
    reporter = ReportThread(context)
    assert acl.rt.subscribe_report(reporter.thread_id, stream) == ACL_SUCCESS
    seen = {}

    def callback(user_data):
        for index, slot in user_data:           # read the outputs in the callback, as the sample
            seen[index] = net.output(slot).copy()

    batch = []
    for index in range(20):
        slot = net.slots[index]
        net.enqueue(slot, _image(index), stream)
        batch.append((index, slot))
        if len(batch) == 4:                       # a callback every 4 executions
            assert acl.rt.launch_callback(callback, batch, ACL_CALLBACK_BLOCK, stream) == 0
            batch = []
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    assert sorted(seen) == list(range(20))        # synchronize returned after the callbacks ran
    for index in range(20):
        expected = builders.reference(model, {"data": _image(index)})[0].ravel()
        np.testing.assert_array_equal(seen[index], expected)
    assert acl.rt.unsubscribe_report(reporter.thread_id, stream) == ACL_SUCCESS
    reporter.stop()
    assert ACL_SUCCESS in reporter.results
    assert acl.rt.destroy_stream(stream) == 0
    net.release()


def test_many_threads_and_streams_lose_and_duplicate_no_callback(context, tmp_path):
    model = builders.classifier(classes=10)
    path = _save(model, tmp_path, "c.onnx")
    expected = {i: builders.reference(model, {"data": _image(i)})[0].ravel() for i in range(16)}
    counts, errors, lock = {}, [], threading.Lock()

    def client(worker):
        acl.rt.set_context(context)
        reporter = ReportThread(context)
        streams, nets = [], []
        for _ in range(2):
            stream, _ = acl.rt.create_stream()
            acl.rt.subscribe_report(reporter.thread_id, stream)
            streams.append(stream)
            nets.append(AsyncNet(path, slots=200))        # one model per stream
        for i in range(200):
            for s, (stream, net) in enumerate(zip(streams, nets)):
                net.enqueue(net.slots[i], _image(i % 16), stream)

                def check(key, net=net, slot=net.slots[i]):
                    got = net.output(slot)
                    with lock:
                        counts[key] = counts.get(key, 0) + 1
                        if not np.array_equal(got, expected[key[2] % 16]):
                            errors.append(key)

                acl.rt.launch_callback(check, (worker, s, i), ACL_CALLBACK_BLOCK, stream)
        for stream, net in zip(streams, nets):
            assert acl.rt.synchronize_stream(stream) == 0
            acl.rt.unsubscribe_report(reporter.thread_id, stream)
            acl.rt.destroy_stream(stream)
            net.release()
        reporter.stop()

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 3)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(counts) == 4 * 2 * 200 and set(counts.values()) == {1}


def test_non_blocking_callbacks_still_finish_before_synchronize_returns(context):
    stream, _ = acl.rt.create_stream()
    reporter = ReportThread(context)
    acl.rt.subscribe_report(reporter.thread_id, stream)
    done = []

    def slow(value):
        time.sleep(0.05)
        done.append(value)

    for value in range(3):
        assert acl.rt.launch_callback(slow, value, ACL_CALLBACK_NO_BLOCK, stream) == 0
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    assert done == [0, 1, 2]
    acl.rt.unsubscribe_report(reporter.thread_id, stream)
    reporter.stop()
    acl.rt.destroy_stream(stream)


def test_a_threading_thread_can_serve_reports(context):
    stream, _ = acl.rt.create_stream()
    ready, stop, calls = threading.Event(), threading.Event(), []

    def serve():
        acl.rt.set_context(context)
        ready.set()
        while not stop.is_set():
            acl.rt.process_report(10)

    thread = threading.Thread(target=serve)
    thread.start()
    ready.wait(WAIT)
    assert acl.rt.subscribe_report(thread.ident, stream) == 0
    assert acl.rt.launch_callback(calls.append, "hello", ACL_CALLBACK_BLOCK, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0 and calls == ["hello"]
    acl.rt.unsubscribe_report(thread.ident, stream)
    stop.set()
    thread.join(WAIT)
    acl.rt.destroy_stream(stream)


def test_report_and_callback_misuse(context):
    stream, _ = acl.rt.create_stream()
    assert acl.rt.process_report(10) == ACL_ERROR_RT_THREAD_SUBSCRIBE
    assert acl.rt.launch_callback(print, None, 0, stream) == ACL_ERROR_RT_STREAM_NO_CB_REG
    me = threading.get_ident()
    assert acl.rt.subscribe_report(me, stream) == 0
    assert acl.rt.subscribe_report(me + 1, stream) == ACL_ERROR_RT_STREAM_SUBSCRIBE
    assert acl.rt.process_report(0) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.process_report(-2) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.process_report(20) == ACL_ERROR_RT_REPORT_TIMEOUT
    with pytest.raises(TypeError):
        acl.rt.launch_callback(42, None, 0, stream)
    assert acl.rt.launch_callback(print, None, 2, stream) == ACL_ERROR_INVALID_PARAM
    # This thread is the report thread: a callback launched here runs in its process_report.
    got = []
    assert acl.rt.launch_callback(got.append, 7, ACL_CALLBACK_NO_BLOCK, stream) == 0
    deadline = time.monotonic() + WAIT
    while not got and time.monotonic() < deadline:
        acl.rt.process_report(20)
    assert got == [7]
    assert acl.rt.unsubscribe_report(me, stream) == 0
    assert acl.rt.unsubscribe_report(me, stream) == ACL_ERROR_RT_PARAM_INVALID
    acl.rt.destroy_stream(stream)


def test_a_raising_callback_is_logged_and_the_stream_goes_on(context, caplog):
    stream, _ = acl.rt.create_stream()
    reporter = ReportThread(context)
    acl.rt.subscribe_report(reporter.thread_id, stream)
    after = []

    def broken(_):
        raise ValueError("callback bug")

    acl.rt.launch_callback(broken, None, ACL_CALLBACK_BLOCK, stream)
    acl.rt.launch_callback(after.append, 1, ACL_CALLBACK_BLOCK, stream)
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    assert after == [1] and "callback bug" in caplog.text
    acl.rt.unsubscribe_report(reporter.thread_id, stream)
    reporter.stop()
    acl.rt.destroy_stream(stream)


def _hold(stream, context):
    """Hold the stream with a blocking callback until the returned event is set."""
    gate = threading.Event()
    reporter = ReportThread(context)
    acl.rt.subscribe_report(reporter.thread_id, stream)
    acl.rt.launch_callback(lambda _: gate.wait(WAIT), None, ACL_CALLBACK_BLOCK, stream)
    return gate, reporter


def test_a_failing_task_surfaces_at_synchronize(context, tmp_path):
    model = builders.classifier(classes=10)
    net = AsyncNet(_save(model, tmp_path, "c.onnx"), slots=1)
    slot = net.slots[0]
    stream, _ = acl.rt.create_stream()
    gate, reporter = _hold(stream, context)
    assert acl.mdl.execute_async(net.model_id, slot["in_set"], slot["out_set"], stream) == 0
    assert acl.rt.stream_query(stream) == (1, 0)            # held: not complete
    other, _ = acl.rt.malloc(net.out_size, 0)
    buffer = acl.mdl.get_dataset_buffer(slot["out_set"], 0)
    acl.update_data_buffer(buffer, other, net.out_size)     # retarget, then free, while queued
    assert acl.rt.free(other) == 0
    gate.set()
    assert acl.rt.synchronize_stream(stream) == ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID
    assert "execute_async" in acl.get_recent_err_msg()
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS   # reported once
    acl.update_data_buffer(buffer, slot["out_dev"], net.out_size)
    acl.rt.unsubscribe_report(reporter.thread_id, stream)
    reporter.stop()
    acl.rt.destroy_stream(stream)
    net.release()


def test_execute_async_checks_at_once_and_on_the_default_stream(context, tmp_path):
    model = builders.classifier(classes=10)
    net = AsyncNet(_save(model, tmp_path, "c.onnx"), slots=1)
    slot = net.slots[0]
    net.enqueue(slot, _image(1), 0)
    assert acl.rt.synchronize_stream(0) == 0
    np.testing.assert_array_equal(net.output(slot),
                                  builders.reference(model, {"data": _image(1)})[0].ravel())
    empty_out = acl.mdl.create_dataset()
    empty = acl.create_data_buffer(0, 0)
    acl.mdl.add_dataset_buffer(empty_out, empty)                # not auto-allocated when async
    assert acl.mdl.execute_async(net.model_id, slot["in_set"], empty_out, 0) == \
        ACL_ERROR_INVALID_PARAM
    assert acl.mdl.execute_async(99, slot["in_set"], slot["out_set"], 0) == 145003
    acl.destroy_data_buffer(empty)
    acl.mdl.destroy_dataset(empty_out)
    net.release()


def test_events_time_real_work_and_order_streams(context):
    first, _ = acl.rt.create_stream()
    second, _ = acl.rt.create_stream()
    start, _ = acl.rt.create_event()
    end, _ = acl.rt.create_event_with_flag(ACL_EVENT_TIME_LINE | 0x1)
    assert acl.rt.query_event_status(start) == (0, 0)           # not recorded: not ready
    assert acl.rt.query_event(start) == (1, 0)                  # the old query: opposite encoding
    gate, reporter = _hold(first, context)
    assert acl.rt.record_event(start, first) == 0
    acl.rt.launch_callback(lambda _: time.sleep(0.1), None, ACL_CALLBACK_BLOCK, first)
    assert acl.rt.record_event(end, first) == 0
    # The second stream waits for `end` before its memset.
    device, _ = acl.rt.malloc(64, 0)
    host, _ = acl.rt.malloc_host(64)
    assert acl.rt.stream_wait_event(second, end) == 0
    assert acl.rt.memset_async(device, 64, 5, 64, second) == 0
    assert acl.rt.memcpy_async(host, 64, device, 64, ACL_MEMCPY_DEVICE_TO_HOST, second) == 0
    time.sleep(0.05)
    assert acl.rt.stream_query(second) == (1, 0)                # blocked behind the event
    assert acl.rt.query_event_status(end) == (0, 0)
    wall = time.perf_counter()
    gate.set()
    assert acl.rt.synchronize_event(end) == 0
    assert acl.rt.synchronize_stream(second) == 0
    wall = (time.perf_counter() - wall) * 1000
    assert acl.util.ptr_to_bytes(host, 4) == b"\x05" * 4
    assert acl.rt.query_event_status(end) == (1, 0) and acl.rt.query_event(end) == (0, 0)
    elapsed, ret = acl.rt.event_elapsed_time(start, end)
    assert ret == 0 and 100 <= elapsed <= wall + 1               # the sleeping callback's time
    assert acl.rt.event_elapsed_time(end, start)[1] == 107007    # reversed
    never, _ = acl.rt.create_event()
    assert acl.rt.event_elapsed_time(start, never)[1] == 107006
    assert acl.rt.synchronize_event_with_timeout(end, 10) == 0
    assert acl.rt.synchronize_event_with_timeout(end, 0) == ACL_ERROR_RT_PARAM_INVALID
    no_sync, _ = acl.rt.create_event_with_flag(ACL_EVENT_TIME_LINE)
    assert acl.rt.stream_wait_event(second, no_sync) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.create_event_with_flag(0x1000) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.rt.reset_event(end, first) == 0
    assert acl.rt.synchronize_stream(first) == 0
    assert acl.rt.query_event_status(end) == (0, 0)
    for event in (start, end, never, no_sync):
        assert acl.rt.destroy_event(event) == 0
    assert acl.rt.destroy_event(start) == ACL_ERROR_INVALID_PARAM
    acl.rt.unsubscribe_report(reporter.thread_id, first)
    reporter.stop()
    for s in (first, second):
        acl.rt.destroy_stream(s)
    acl.rt.free(device)
    acl.rt.free_host(host)


def _heavy_model(size=1024, depth=6):
    """MatMul chain: long enough (tens of ms) to overlap with other work."""
    rng = np.random.default_rng(0)
    weights, nodes, last = [], [], "x"
    for i in range(depth):
        weights.append(numpy_helper.from_array(
            (rng.standard_normal((size, size)) / np.sqrt(size)).astype(np.float32), f"w{i}"))
        nodes.append(helper.make_node("MatMul", [last, f"w{i}"], [f"h{i}"]))
        last = f"h{i}"
    nodes.append(helper.make_node("Identity", [last], ["y"]))
    graph = helper.make_graph(nodes, "heavy", [helper.make_tensor_value_info("x", T.FLOAT, [size, size])],
                              [helper.make_tensor_value_info("y", T.FLOAT, [size, size])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


class HeavyModel:
    """The heavy model loaded, with `count` zero-filled single-buffer datasets."""

    def __init__(self, tmp_path, count):
        self.model_id, _ = acl.mdl.load_from_file(_save(_heavy_model(), tmp_path, "heavy.onnx"))
        self.desc = acl.mdl.create_desc()
        acl.mdl.get_desc(self.desc, self.model_id)
        size = acl.mdl.get_input_size_by_index(self.desc, 0)
        self.sets, self.pointers = [], []
        for _ in range(count):
            ptr, _ = acl.rt.malloc(size, 0)
            acl.rt.memset(ptr, size, 0, size)
            dataset = acl.mdl.create_dataset()
            acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(ptr, size))
            self.sets.append(dataset)
            self.pointers.append(ptr)

    def release(self):
        for dataset in self.sets:
            acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, 0))
            acl.mdl.destroy_dataset(dataset)
        for ptr in self.pointers:
            acl.rt.free(ptr)
        acl.mdl.unload(self.model_id)
        acl.mdl.destroy_desc(self.desc)


def test_host_code_runs_while_a_stream_executes(context, tmp_path):
    heavy = HeavyModel(tmp_path, 2)
    stream, _ = acl.rt.create_stream()
    for _ in range(3):
        assert acl.mdl.execute_async(heavy.model_id, heavy.sets[0], heavy.sets[1], stream) == 0
    spins = 0
    while acl.rt.stream_query(stream)[0] == 1:                  # host work during execution
        spins += 1
    assert acl.rt.synchronize_stream(stream) == 0
    # With the GIL held by the engine, this loop could not have turned more than a few times.
    assert spins > 1000
    acl.rt.destroy_stream(stream)
    heavy.release()


def test_one_model_on_two_streams_at_once_is_reported(context, tmp_path, monkeypatch):
    heavy = HeavyModel(tmp_path, 4)
    streams = [acl.rt.create_stream()[0] for _ in range(2)]

    def overlap():
        gates = [_hold(s, context) for s in streams]
        for s, (a, b) in zip(streams, ((0, 1), (2, 3))):
            assert acl.mdl.execute_async(heavy.model_id, heavy.sets[a], heavy.sets[b], s) == 0
        for gate, _ in gates:
            gate.set()
        results = [acl.rt.synchronize_stream(s) for s in streams]
        for s, (_, reporter) in zip(streams, gates):
            acl.rt.unsubscribe_report(reporter.thread_id, s)
            reporter.stop()
        return results

    with pytest.warns(FidelityWarning, match="two threads or streams at once"):
        assert overlap() == [0, 0]
    monkeypatch.setenv("OPENACL_STRICT", "1")
    assert ACL_ERROR_RT_MODEL_EXECUTE in overlap()
    for s in streams:
        acl.rt.destroy_stream(s)
    heavy.release()


def test_two_models_on_two_streams_overlap_in_time(context, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENACL_ENGINE_THREADS", "1")      # one core each: room to overlap
    models = [HeavyModel(tmp_path, 2) for _ in range(2)]
    streams = [acl.rt.create_stream()[0] for _ in models]
    events = [(acl.rt.create_event()[0], acl.rt.create_event()[0]) for _ in models]
    gates = [_hold(s, context) for s in streams]
    for heavy, stream, (start, end) in zip(models, streams, events):
        acl.rt.record_event(start, stream)
        for _ in range(2):
            assert acl.mdl.execute_async(heavy.model_id, heavy.sets[0], heavy.sets[1], stream) == 0
        acl.rt.record_event(end, stream)
    for gate, _ in gates:
        gate.set()
    for stream, (_, reporter) in zip(streams, gates):
        assert acl.rt.synchronize_stream(stream) == 0
        acl.rt.unsubscribe_report(reporter.thread_id, stream)
        reporter.stop()
    (a_start, a_end), (b_start, b_end) = events
    # Each stream's span, measured from the other's start: if the engine held the GIL the
    # two spans would run one after the other and not intersect.
    a_to_b_end, _ = acl.rt.event_elapsed_time(a_start, b_end)
    b_to_a_end, _ = acl.rt.event_elapsed_time(b_start, a_end)
    a_span, _ = acl.rt.event_elapsed_time(a_start, a_end)
    b_span, _ = acl.rt.event_elapsed_time(b_start, b_end)
    overlap = min(a_span, b_span, a_to_b_end, b_to_a_end)
    assert overlap > 0.5 * min(a_span, b_span)
    for pair in events:
        for event in pair:
            acl.rt.destroy_event(event)
    for stream in streams:
        acl.rt.destroy_stream(stream)
    for heavy in models:
        heavy.release()


def test_a_failing_task_surfaces_at_synchronize_event(context, tmp_path):
    model = builders.classifier(classes=10)
    net = AsyncNet(_save(model, tmp_path, "c.onnx"), slots=1)
    slot = net.slots[0]
    stream, _ = acl.rt.create_stream()
    event, _ = acl.rt.create_event()
    gate, reporter = _hold(stream, context)
    assert acl.mdl.execute_async(net.model_id, slot["in_set"], slot["out_set"], stream) == 0
    assert acl.rt.record_event(event, stream) == 0
    buffer = acl.mdl.get_dataset_buffer(slot["in_set"], 0)
    other, _ = acl.rt.malloc(net.in_size, 0)
    acl.update_data_buffer(buffer, other, net.in_size)
    acl.rt.free(other)
    gate.set()
    assert acl.rt.synchronize_event(event) == ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    acl.update_data_buffer(buffer, slot["in_dev"], net.in_size)
    acl.rt.unsubscribe_report(reporter.thread_id, stream)
    reporter.stop()
    acl.rt.destroy_event(event)
    acl.rt.destroy_stream(stream)
    net.release()


def test_unload_waits_for_the_models_queued_executions(context, tmp_path):
    net = AsyncNet(_save(builders.classifier(classes=10, size=16), tmp_path, "c.onnx"), 1)
    stream, _ = acl.rt.create_stream()
    slot, image = net.slots[0], _image(7)
    for _ in range(20):
        net.enqueue(slot, image, stream)
    # Unloading with executions still queued: they run first, on the loaded session.
    model_id, desc = net.model_id, net.desc
    assert acl.mdl.unload(model_id) == ACL_SUCCESS
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS, acl.get_recent_err_msg()
    expected = builders.reference(builders.classifier(classes=10, size=16), {"data": image})[0]
    assert np.array_equal(net.output(slot), expected.ravel())
    assert acl.mdl.execute_async(model_id, slot["in_set"], slot["out_set"], stream) == 145003
    acl.mdl.destroy_desc(desc)
    net.release_buffers()
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS


def test_finalize_runs_queued_executions_before_it_unloads(tmp_path, caplog):
    assert acl.init() == ACL_SUCCESS and acl.rt.set_device(0) == ACL_SUCCESS
    net = AsyncNet(_save(builders.classifier(classes=10, size=16), tmp_path, "c.onnx"), 1)
    stream, _ = acl.rt.create_stream()
    for _ in range(20):
        net.enqueue(net.slots[0], _image(3), stream)
    with pytest.warns(openacl.runtime.LeakWarning, match="1 model of"):
        assert acl.finalize() == ACL_SUCCESS
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    net.release_buffers(memory=False)          # host objects outlive finalize
    acl.mdl.destroy_desc(net.desc)
