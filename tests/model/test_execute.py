"""acl.mdl.execute: zero-copy binding, results against onnxruntime, and every misuse."""

import threading

import numpy as np
import onnx
import pytest

import acl
from openacl import FidelityWarning
from tests.model import builders

ACL_SUCCESS = 0
ACL_ERROR_INVALID_PARAM = 100000
ACL_ERROR_GE_PARAM_INVALID = 145000
ACL_ERROR_GE_EXEC_MODEL_ID_INVALID = 145003
ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID = 145007
ACL_ERROR_RT_CONTEXT_NULL = 107002
ACL_ERROR_RT_MODEL_CONTEXT = 107004


class Model:
    """A loaded model with one device buffer per input and output (what samples build)."""

    def __init__(self, path):
        self.model_id, ret = acl.mdl.load_from_file(path)
        assert ret == ACL_SUCCESS, acl.get_recent_err_msg()
        self.desc = acl.mdl.create_desc()
        assert acl.mdl.get_desc(self.desc, self.model_id) == ACL_SUCCESS
        self.inputs = self._dataset(acl.mdl.get_num_inputs(self.desc),
                                    acl.mdl.get_input_size_by_index)
        self.outputs = self._dataset(acl.mdl.get_num_outputs(self.desc),
                                     acl.mdl.get_output_size_by_index)

    def _dataset(self, count, size_of):
        dataset = acl.mdl.create_dataset()
        for i in range(count):
            size = size_of(self.desc, i)
            ptr, _ = acl.rt.malloc(size, 0)
            acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(ptr, size))
        return dataset

    def buffer(self, dataset, index):
        data_buffer = acl.mdl.get_dataset_buffer(dataset, index)
        return acl.get_data_buffer_addr(data_buffer), acl.get_data_buffer_size_v2(data_buffer)

    def write(self, index, array):
        ptr, size = self.buffer(self.inputs, index)
        data = np.ascontiguousarray(array).tobytes()
        assert acl.rt.memcpy(ptr, size, acl.util.bytes_to_ptr(data), len(data), 1) == 0

    def read(self, index, dtype, shape):
        ptr, size = self.buffer(self.outputs, index)
        out = np.zeros(shape, dtype).tobytes()
        assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), len(out), ptr, len(out), 2) == 0
        return np.frombuffer(out, dtype).reshape(shape)

    def execute(self):
        return acl.mdl.execute(self.model_id, self.inputs, self.outputs)

    def release(self):
        for dataset in (self.inputs, self.outputs):
            for i in range(acl.mdl.get_dataset_num_buffers(dataset)):
                data_buffer = acl.mdl.get_dataset_buffer(dataset, i)
                ptr = acl.get_data_buffer_addr(data_buffer)
                if ptr:
                    acl.rt.free(ptr)
                acl.destroy_data_buffer(data_buffer)
            acl.mdl.destroy_dataset(dataset)
        assert acl.mdl.unload(self.model_id) == ACL_SUCCESS
        acl.mdl.destroy_desc(self.desc)


@pytest.fixture
def classifier(context, tmp_path):
    path = tmp_path / "classifier.onnx"
    model = builders.classifier(classes=100)
    onnx.save(model, path)
    net = Model(str(path))
    yield net, model
    net.release()


def _image(seed=0):
    return np.random.default_rng(seed).standard_normal((1, 3, 16, 16)).astype(np.float32)


def test_results_are_bit_identical_and_the_binding_follows_changes(classifier):
    net, model = classifier
    for seed in range(3):
        net.write(0, _image(seed))
        assert net.execute() == ACL_SUCCESS
        np.testing.assert_array_equal(net.read(0, np.float32, (1, 100)),
                                      builders.reference(model, {"data": _image(seed)})[0])
    # Retarget the input buffer to new memory: the next execute must read the new memory.
    new_input, _ = acl.rt.malloc(3 * 16 * 16 * 4, 0)
    image = _image(7)
    data = image.tobytes()
    acl.rt.memcpy(new_input, len(data), acl.util.bytes_to_ptr(data), len(data), 1)
    old_input, size = net.buffer(net.inputs, 0)
    assert acl.update_data_buffer(acl.mdl.get_dataset_buffer(net.inputs, 0), new_input, size) == 0
    assert acl.rt.free(old_input) == ACL_SUCCESS
    assert net.execute() == ACL_SUCCESS
    np.testing.assert_array_equal(net.read(0, np.float32, (1, 100)),
                                  builders.reference(model, {"data": image})[0])


def test_runtime_allocated_outputs_for_empty_buffers(classifier):
    net, model = classifier
    outputs = acl.mdl.create_dataset()
    empty = acl.create_data_buffer(0, 0)
    acl.mdl.add_dataset_buffer(outputs, empty)
    net.write(0, _image(3))
    assert acl.mdl.execute(net.model_id, net.inputs, outputs) == ACL_SUCCESS
    ptr, size = acl.get_data_buffer_addr(empty), acl.get_data_buffer_size_v2(empty)
    assert ptr and size == acl.mdl.get_output_size_by_index(net.desc, 0) == 400
    out = bytes(400)
    acl.rt.memcpy(acl.util.bytes_to_ptr(out), 400, ptr, 400, 2)
    np.testing.assert_array_equal(np.frombuffer(out, np.float32).reshape(1, 100),
                                  builders.reference(model, {"data": _image(3)})[0])
    # The app frees it and resets the buffer, as the docs say.
    assert acl.rt.free(ptr) == ACL_SUCCESS
    assert acl.update_data_buffer(empty, 0, 0) == ACL_SUCCESS
    assert acl.destroy_data_buffer(empty) == 0 and acl.mdl.destroy_dataset(outputs) == 0


def test_wrong_buffer_counts(classifier):
    net, _ = classifier
    extra = acl.create_data_buffer(0, 0)
    acl.mdl.add_dataset_buffer(net.inputs, extra)
    assert net.execute() == ACL_ERROR_GE_PARAM_INVALID
    assert "has 2 buffer(s" in acl.get_recent_err_msg()
    empty = acl.mdl.create_dataset()
    assert acl.mdl.execute(net.model_id, empty, net.outputs) == ACL_ERROR_GE_PARAM_INVALID
    assert acl.mdl.execute(net.model_id, 0, net.outputs) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.execute(net.model_id, net.inputs, 0) == ACL_ERROR_INVALID_PARAM
    acl.mdl.destroy_dataset(empty)
    acl.destroy_data_buffer(extra)
    # Rebuild a one-buffer input dataset: the model works again.
    rebuilt = acl.mdl.create_dataset()
    acl.mdl.add_dataset_buffer(rebuilt, acl.mdl.get_dataset_buffer(net.inputs, 0))
    assert acl.mdl.execute(net.model_id, rebuilt, net.outputs) == ACL_SUCCESS
    acl.mdl.destroy_dataset(rebuilt)


def test_undersized_buffers(classifier):
    net, _ = classifier
    input_buffer = acl.mdl.get_dataset_buffer(net.inputs, 0)
    ptr, size = net.buffer(net.inputs, 0)
    assert acl.update_data_buffer(input_buffer, ptr, size - 65) == 0    # > 64 bytes short
    assert net.execute() == ACL_ERROR_GE_PARAM_INVALID
    assert "needs 3072" in acl.get_recent_err_msg()
    assert acl.update_data_buffer(input_buffer, ptr, size - 64) == 0    # within ACL's slack
    assert net.execute() == ACL_SUCCESS
    out_buffer = acl.mdl.get_dataset_buffer(net.outputs, 0)
    out_ptr, _ = net.buffer(net.outputs, 0)
    assert acl.update_data_buffer(out_buffer, out_ptr, 1) == ACL_SUCCESS
    assert net.execute() == ACL_ERROR_GE_PARAM_INVALID
    assert acl.update_data_buffer(out_buffer, out_ptr, 400) == 0
    assert acl.update_data_buffer(input_buffer, ptr, size) == 0
    assert net.execute() == ACL_SUCCESS


def test_freed_and_bogus_buffer_addresses(classifier):
    net, _ = classifier
    input_buffer = acl.mdl.get_dataset_buffer(net.inputs, 0)
    ptr, size = net.buffer(net.inputs, 0)
    other, _ = acl.rt.malloc(size, 0)
    assert acl.update_data_buffer(input_buffer, other, size) == 0
    assert net.execute() == ACL_SUCCESS
    assert acl.rt.free(other) == ACL_SUCCESS              # freed after it was bound
    assert net.execute() == ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID
    assert "not in any live allocation" in acl.get_recent_err_msg()
    small, _ = acl.rt.malloc(64, 0)
    assert acl.update_data_buffer(input_buffer, small, size) == 0   # buffer lies about its size
    assert net.execute() == ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID
    assert acl.update_data_buffer(input_buffer, 0, size) == 0
    assert net.execute() == ACL_ERROR_INVALID_PARAM
    assert acl.rt.free(small) == ACL_SUCCESS
    assert acl.update_data_buffer(input_buffer, ptr, size) == 0
    assert net.execute() == ACL_SUCCESS


def test_destroyed_buffer_inside_a_dataset(classifier):
    net, _ = classifier
    dataset = acl.mdl.create_dataset()
    ptr, size = net.buffer(net.inputs, 0)
    doomed = acl.create_data_buffer(ptr, size)
    acl.mdl.add_dataset_buffer(dataset, doomed)
    acl.destroy_data_buffer(doomed)
    assert acl.mdl.execute(net.model_id, dataset, net.outputs) == ACL_ERROR_INVALID_PARAM
    assert "destroyed" in acl.get_recent_err_msg()
    acl.mdl.destroy_dataset(dataset)


def test_host_memory_as_model_io_is_reported(classifier, monkeypatch):
    net, model = classifier
    image = _image(5)
    host = image.tobytes()
    dataset = acl.mdl.create_dataset()
    buffer = acl.create_data_buffer(acl.util.bytes_to_ptr(host), len(host))
    acl.mdl.add_dataset_buffer(dataset, buffer)
    with pytest.warns(FidelityWarning, match="device memory"):
        assert acl.mdl.execute(net.model_id, dataset, net.outputs) == ACL_SUCCESS
    np.testing.assert_array_equal(net.read(0, np.float32, (1, 100)),
                                  builders.reference(model, {"data": image})[0])
    monkeypatch.setenv("OPENACL_STRICT", "1")
    acl.mdl.add_dataset_buffer(dataset, buffer)      # change the dataset: a fresh check
    dataset2 = acl.mdl.create_dataset()
    acl.mdl.add_dataset_buffer(dataset2, buffer)
    assert acl.mdl.execute(net.model_id, dataset2, net.outputs) == \
        ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID
    for d in (dataset, dataset2):
        acl.mdl.destroy_dataset(d)
    acl.destroy_data_buffer(buffer)


def test_unknown_ids_double_unload_and_contexts(classifier):
    net, _ = classifier
    assert acl.mdl.execute(999, net.inputs, net.outputs) == ACL_ERROR_GE_EXEC_MODEL_ID_INVALID
    assert acl.mdl.unload(999) == ACL_ERROR_GE_EXEC_MODEL_ID_INVALID
    current, _ = acl.rt.get_context()
    other, _ = acl.rt.create_context(0)
    assert net.execute() == ACL_ERROR_RT_MODEL_CONTEXT
    assert "loaded in" in acl.get_recent_err_msg()
    assert acl.rt.destroy_context(other) == 0
    assert net.execute() == ACL_ERROR_RT_CONTEXT_NULL
    assert acl.rt.set_context(current) == 0

    def worker():
        first = net.execute()
        acl.rt.set_context(current)
        return first, net.execute()

    box = []
    thread = threading.Thread(target=lambda: box.append(worker()))
    thread.start()
    thread.join(30)
    assert box == [(ACL_ERROR_RT_CONTEXT_NULL, ACL_SUCCESS)]


def test_double_unload(context, tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(builders.classifier(classes=4), path)
    model_id, _ = acl.mdl.load_from_file(str(path))
    assert acl.mdl.unload(model_id) == ACL_SUCCESS
    assert acl.mdl.unload(model_id) == ACL_ERROR_GE_EXEC_MODEL_ID_INVALID
    next_id, _ = acl.mdl.load_from_file(str(path))
    assert next_id == model_id + 1                   # ids keep increasing
    assert acl.mdl.unload(next_id) == ACL_SUCCESS


def test_two_models_execute_concurrently_and_stay_exact(context, tmp_path):
    models = []
    for seed in range(2):
        path = tmp_path / f"m{seed}.onnx"
        onnx.save(builders.classifier(classes=10, seed=seed), path)
        models.append((Model(str(path)), builders.classifier(classes=10, seed=seed)))
    errors = []

    def run(net, model, seed):
        acl.rt.set_context(context)
        for i in range(50):
            image = _image(seed * 100 + i)
            net.write(0, image)
            if net.execute() != ACL_SUCCESS:
                errors.append(acl.get_recent_err_msg())
            got = net.read(0, np.float32, (1, 10))
            if not np.array_equal(got, builders.reference(model, {"data": image})[0]):
                errors.append(f"wrong result at {i}")

    threads = [threading.Thread(target=run, args=(net, model, s))
               for s, (net, model) in enumerate(models)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    for net, _ in models:
        net.release()


def test_an_empty_input_buffer_is_skipped(classifier):
    net, model = classifier
    skipped = acl.mdl.create_dataset()
    empty = acl.create_data_buffer(0, 0)
    acl.mdl.add_dataset_buffer(skipped, empty)
    assert acl.mdl.execute(net.model_id, skipped, net.outputs) == ACL_SUCCESS
    zeros = np.zeros((1, 3, 16, 16), np.float32)
    np.testing.assert_array_equal(net.read(0, np.float32, (1, 100)),
                                  builders.reference(model, {"data": zeros})[0])
    acl.destroy_data_buffer(empty)
    acl.mdl.destroy_dataset(skipped)


def test_foreign_host_buffers_unmapped_between_runs_are_refused(classifier):
    import ctypes
    import mmap

    net, model = classifier
    image = _image(5)
    region = mmap.mmap(-1, mmap.PAGESIZE * 4)
    address = ctypes.addressof(ctypes.c_char.from_buffer(region))
    ctypes.memmove(address, image.tobytes(), image.nbytes)
    data_buffer = acl.mdl.get_dataset_buffer(net.inputs, 0)
    device_input, size = net.buffer(net.inputs, 0)
    assert acl.update_data_buffer(data_buffer, address, size) == ACL_SUCCESS
    with pytest.warns(FidelityWarning, match="host memory"):
        assert net.execute() == ACL_SUCCESS                 # works here, reported
    np.testing.assert_array_equal(net.read(0, np.float32, (1, 100)),
                                  builders.reference(model, {"data": image})[0])
    libc = ctypes.CDLL(None)
    libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    assert libc.munmap(address, mmap.PAGESIZE * 4) == 0     # the program frees it behind us
    assert net.execute() == ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID   # the cached binding: no crash
    assert "not mapped memory of this process" in acl.get_recent_err_msg()
    assert acl.update_data_buffer(data_buffer, device_input, size) == ACL_SUCCESS
    assert net.execute() == ACL_SUCCESS
