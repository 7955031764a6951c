"""What the benchmarks share: an ACL session, a model on device buffers, alternating timing."""

from __future__ import annotations

import contextlib
import time

import numpy as np
import onnx
import onnx.helper as helper
from onnx import TensorProto

import acl

__all__ = ["acl_session", "DeviceModel", "alternate", "interleaved", "tiny_add_model"]


@contextlib.contextmanager
def acl_session(device_id: int = 0):
    """acl.init, set_device and a context; released in the samples' order afterwards."""
    assert acl.init() == 0 and acl.rt.set_device(device_id) == 0
    context, ret = acl.rt.create_context(device_id)
    assert ret == 0
    try:
        yield context
    finally:
        acl.rt.destroy_context(context)
        acl.rt.reset_device(device_id)
        acl.finalize()


class DeviceModel:
    """A loaded model with one device buffer per input and output (zero-filled or from feeds)."""

    def __init__(self, path: str, feeds: dict[str, np.ndarray] | None = None):
        self.model_id, ret = acl.mdl.load_from_file(path)
        assert ret == 0, acl.get_recent_err_msg()
        self.desc = acl.mdl.create_desc()
        assert acl.mdl.get_desc(self.desc, self.model_id) == 0
        self.pointers: list[int] = []
        self.inputs = self._dataset(acl.mdl.get_num_inputs(self.desc),
                                    acl.mdl.get_input_size_by_index)
        self.outputs = self._dataset(acl.mdl.get_num_outputs(self.desc),
                                     acl.mdl.get_output_size_by_index)
        for index, (name, array) in enumerate((feeds or {}).items()):
            assert acl.mdl.get_input_name_by_index(self.desc, index) == name
            self.fill(index, array)

    def _dataset(self, count, size_of):
        dataset = acl.mdl.create_dataset()
        for i in range(count):
            size = size_of(self.desc, i)
            ptr, ret = acl.rt.malloc(size, 0)
            assert ret == 0
            acl.rt.memset(ptr, size, 0, size)
            self.pointers.append(ptr)
            acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(ptr, size))
        return dataset

    def fill(self, index: int, array: np.ndarray) -> None:
        data = np.ascontiguousarray(array).tobytes()
        ptr = self.pointers[index]
        assert acl.rt.memcpy(ptr, len(data), acl.util.bytes_to_ptr(data), len(data), 1) == 0

    def output_bytes(self, index: int = 0, nbytes: int | None = None) -> bytes:
        nbytes = nbytes or acl.mdl.get_output_size_by_index(self.desc, index)
        out = bytes(nbytes)
        ptr = self.pointers[acl.mdl.get_num_inputs(self.desc) + index]
        assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), nbytes, ptr, nbytes, 2) == 0
        return out

    def set_batch(self, batch: int) -> None:
        index, ret = acl.mdl.get_input_index_by_name(self.desc, "ascend_mbatch_shape_data")
        assert ret == 0, "not a dynamic batch model"
        assert acl.mdl.set_dynamic_batch_size(self.model_id, self.inputs, index, batch) == 0

    def execute(self) -> int:
        return acl.mdl.execute(self.model_id, self.inputs, self.outputs)

    def release(self) -> None:
        for dataset in (self.inputs, self.outputs):
            for i in range(acl.mdl.get_dataset_num_buffers(dataset)):
                acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, i))
            acl.mdl.destroy_dataset(dataset)
        for ptr in self.pointers:
            acl.rt.free(ptr)
        acl.mdl.unload(self.model_id)
        acl.mdl.destroy_desc(self.desc)


def alternate(first, second, calls: int, rounds: int, warmup: bool = True) -> tuple[float, float]:
    """Best seconds per call of each function, over rounds that alternate between them.

    Alternating shares the machine's noise between both; the best round of each is its
    least disturbed measurement.
    """
    if warmup:
        for function in (first, second):
            for _ in range(max(1, calls // 10)):
                function()
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for slot, function in enumerate((first, second)):
            start = time.perf_counter()
            for _ in range(calls):
                function()
            best[slot] = min(best[slot], (time.perf_counter() - start) / calls)
    return best[0], best[1]


def interleaved(first, second, calls: int) -> tuple[float, float]:
    """Median seconds per call of each function, alternating call by call, each call timed
    alone, after a warm-up.

    For microsecond-scale calls whose cost drifts over seconds (a worker thread's wake-up on a
    busy VM): neighbouring calls share the drift and the median ignores the outliers. Two
    clock reads (~0.1 us) are added to both sides. Not for two large models: alternating
    call by call, each evicts the other's weights from the caches.
    """
    clock = time.perf_counter_ns
    for _ in range(max(1, calls // 10)):
        first()
        second()
    times: tuple[list[int], list[int]] = ([], [])
    for _ in range(calls):
        for slot, function in enumerate((first, second)):
            start = clock()
            function()
            times[slot].append(clock() - start)
    return float(np.median(times[0])) / 1e9, float(np.median(times[1])) / 1e9


def tiny_add_model() -> onnx.ModelProto:
    """z = x + y on [1, 16] floats: a model whose run costs next to nothing."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "y"], ["z"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 16])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model
