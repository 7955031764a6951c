"""A double-buffered asynchronous pipeline against a serial synchronous loop, in the same run.

    python benchmarks/bench_async.py [--items 32] [--mib 8] [--width 64] [--threads 1]

The model (the input of --mib MiB viewed as rows of --width floats, times a width x width
matrix) makes copies and compute comparable. The engine gets --threads intra-op threads
(default 1: like an NPU, compute keeps to its engine and copies run beside it; both sides
use the same setting).
Serial: for each item, memcpy H2D, execute, memcpy D2H, one after the other.
Pipelined: two streams, each with its own model instance and buffers (real hardware does
not let one model id run on two streams at once); each item is memcpy_async H2D,
execute_async, memcpy_async D2H on the next stream, so one stream's copies overlap the other
stream's compute. Both process the same items from pinned host memory; results are checked.
Also reported: the cost of queuing one execute_async (stream held, nothing running).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time

import numpy as np
import onnx
import onnx.helper as helper
from onnx import TensorProto, numpy_helper

import acl

H2D, D2H = 1, 2


def mixing_model(elements: int, width: int) -> onnx.ModelProto:
    """y = x viewed as [rows, width] @ W (width x width): compute grows with width."""
    weight = numpy_helper.from_array(np.eye(width, dtype=np.float32) * 2, "w")
    shape = numpy_helper.from_array(np.array([-1, width], np.int64), "shape")
    flat = numpy_helper.from_array(np.array([-1], np.int64), "flat")
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["rows"]),
             helper.make_node("MatMul", ["rows", "w"], ["mixed"]),
             helper.make_node("Reshape", ["mixed", "flat"], ["y"])]
    graph = helper.make_graph(nodes, "mixing",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [elements])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [elements])],
                              [weight, shape, flat])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


class Lane:
    """One model instance with its device buffers and pinned host buffers."""

    def __init__(self, path, size):
        self.size = size
        self.model_id, ret = acl.mdl.load_from_file(path)
        assert ret == 0, acl.get_recent_err_msg()
        self.dev_in, _ = acl.rt.malloc(size, 0)
        self.dev_out, _ = acl.rt.malloc(size, 0)
        self.host_out, _ = acl.rt.malloc_host(size)
        self.inputs, self.outputs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
        acl.mdl.add_dataset_buffer(self.inputs, acl.create_data_buffer(self.dev_in, size))
        acl.mdl.add_dataset_buffer(self.outputs, acl.create_data_buffer(self.dev_out, size))

    def serial(self, host_in):
        assert acl.rt.memcpy(self.dev_in, self.size, host_in, self.size, H2D) == 0
        assert acl.mdl.execute(self.model_id, self.inputs, self.outputs) == 0
        assert acl.rt.memcpy(self.host_out, self.size, self.dev_out, self.size, D2H) == 0

    def enqueue(self, host_in, stream):
        assert acl.rt.memcpy_async(self.dev_in, self.size, host_in, self.size, H2D, stream) == 0
        assert acl.mdl.execute_async(self.model_id, self.inputs, self.outputs, stream) == 0
        assert acl.rt.memcpy_async(self.host_out, self.size, self.dev_out, self.size, D2H,
                                   stream) == 0

    def release(self):
        for dataset in (self.inputs, self.outputs):
            acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, 0))
            acl.mdl.destroy_dataset(dataset)
        acl.rt.free(self.dev_in)
        acl.rt.free(self.dev_out)
        acl.rt.free_host(self.host_out)
        acl.mdl.unload(self.model_id)


def enqueue_cost(lane, stream, context, calls=2000) -> float:
    """Microseconds to queue one execute_async while the stream is held by a callback."""
    gate = threading.Event()
    stop = []

    def report(ctx):
        acl.rt.set_context(ctx)
        while not stop:
            acl.rt.process_report(20)

    thread_id, _ = acl.util.start_thread(report, context)
    acl.rt.subscribe_report(thread_id, stream)
    acl.rt.launch_callback(lambda _: gate.wait(120), None, 1, stream)
    start = time.perf_counter()
    for _ in range(calls):
        acl.mdl.execute_async(lane.model_id, lane.inputs, lane.outputs, stream)
    cost = (time.perf_counter() - start) / calls * 1e6
    gate.set()
    assert acl.rt.synchronize_stream(stream) == 0
    acl.rt.unsubscribe_report(thread_id, stream)
    stop.append(True)
    acl.util.stop_thread(thread_id)
    return cost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=32)
    parser.add_argument("--mib", type=int, default=8)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["OPENACL_ENGINE_THREADS"] = str(args.threads)
    elements = args.mib * (1 << 20) // 4
    size = elements * 4
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    context, _ = acl.rt.create_context(0)
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, "mixing.onnx")
        onnx.save(mixing_model(elements, args.width), path)
        lanes = [Lane(path, size), Lane(path, size)]
        streams = [acl.rt.create_stream()[0] for _ in lanes]
        items = []
        for i in range(4):
            ptr, _ = acl.rt.malloc_host(size)
            acl.util.ptr_to_numpy(ptr, (elements,), 11)[:] = i
            items.append(ptr)

        def serial():
            for i in range(args.items):
                lanes[0].serial(items[i % len(items)])

        def pipelined():
            for i in range(args.items):
                lanes[i % 2].enqueue(items[i % len(items)], streams[i % 2])
            for stream in streams:
                assert acl.rt.synchronize_stream(stream) == 0

        serial()
        assert acl.util.ptr_to_numpy(lanes[0].host_out, (elements,), 11)[-1] == \
            2 * ((args.items - 1) % len(items))
        pipelined()
        for offset, lane in ((1, lanes[(args.items - 1) % 2]), (2, lanes[(args.items - 2) % 2])):
            value = (args.items - offset) % len(items)
            assert (acl.util.ptr_to_numpy(lane.host_out, (elements,), 11) == 2 * value).all()
        stages = {"copy in": [], "execute": [], "copy out": []}
        lane = lanes[0]
        for i in range(8):
            marks = [time.perf_counter()]
            acl.rt.memcpy(lane.dev_in, size, items[i % len(items)], size, H2D)
            marks.append(time.perf_counter())
            acl.mdl.execute(lane.model_id, lane.inputs, lane.outputs)
            marks.append(time.perf_counter())
            acl.rt.memcpy(lane.host_out, size, lane.dev_out, size, D2H)
            marks.append(time.perf_counter())
            for (name, values), a, b in zip(stages.items(), marks, marks[1:]):
                values.append(b - a)
        serial_t = pipelined_t = float("inf")
        for _ in range(args.rounds):
            start = time.perf_counter()
            serial()
            serial_t = min(serial_t, time.perf_counter() - start)
            start = time.perf_counter()
            pipelined()
            pipelined_t = min(pipelined_t, time.perf_counter() - start)
        cost = enqueue_cost(lanes[0], streams[0], context)
        for stream in streams:
            acl.rt.destroy_stream(stream)
        for lane in lanes:
            lane.release()
        for ptr in items:
            acl.rt.free_host(ptr)
    acl.rt.destroy_context(context)
    acl.rt.reset_device(0)
    acl.finalize()
    print(f"{args.items} items of {args.mib} MiB (copy in, [rows, {args.width}] @ W, copy out), "
          f"engine threads {args.threads}, best of {args.rounds}:")
    print("  stages (median ms): " + ", ".join(f"{name} {np.median(values) * 1e3:.2f}"
                                            for name, values in stages.items()))
    print(f"  serial synchronous loop     {args.items / serial_t:7.1f} items/s")
    print(f"  double-buffered async       {args.items / pipelined_t:7.1f} items/s")
    print(f"  throughput ratio (async / serial): {serial_t / pipelined_t:.2f}x")
    print(f"  execute_async enqueue cost: {cost:.2f} us per call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
