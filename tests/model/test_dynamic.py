"""Gear models at run time, driven the way acllite and Huawei's samples drive them."""

import itertools
import struct

import numpy as np
import pytest

import acl
from openacl.model.om import write_om
from tests.model import gear_models
from tests.model.builders import reference

ACL_SUCCESS = 0
ACL_ERROR_INVALID_PARAM = 100000
ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID = 145012
ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID = 145013
ACL_INT64 = 9
DYNAMIC_NAME = "ascend_mbatch_shape_data"


class GearNet:
    """Max-gear device buffers for every input and output, plus the gear buffer (acllite's way)."""

    def __init__(self, path):
        self.model_id, ret = acl.mdl.load_from_file(path)
        assert ret == ACL_SUCCESS, acl.get_recent_err_msg()
        self.desc = acl.mdl.create_desc()
        assert acl.mdl.get_desc(self.desc, self.model_id) == 0
        self.dynamic_index, ret = acl.mdl.get_input_index_by_name(self.desc, DYNAMIC_NAME)
        assert ret == ACL_SUCCESS
        self.pointers = []
        self.inputs = acl.mdl.create_dataset()
        for i in range(acl.mdl.get_num_inputs(self.desc)):
            self._add(self.inputs, acl.mdl.get_input_size_by_index(self.desc, i))
        self.outputs = acl.mdl.create_dataset()
        for i in range(acl.mdl.get_num_outputs(self.desc)):
            self._add(self.outputs, acl.mdl.get_output_size_by_index(self.desc, i))

    def _add(self, dataset, size):
        ptr, ret = acl.rt.malloc(size, 0)
        assert ret == ACL_SUCCESS
        self.pointers.append(ptr)
        acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(ptr, size))

    def address(self, dataset, index):
        return acl.get_data_buffer_addr(acl.mdl.get_dataset_buffer(dataset, index))

    def write(self, index, array):
        data = np.ascontiguousarray(array).tobytes()
        ptr = self.address(self.inputs, index)
        size = acl.mdl.get_input_size_by_index(self.desc, index)
        assert acl.rt.memcpy(ptr, size, acl.util.bytes_to_ptr(data), len(data), 1) == 0

    def read(self, index, dtype):
        dims, ret = acl.mdl.get_cur_output_dims(self.desc, index)
        assert ret == ACL_SUCCESS
        count = int(np.prod(dims["dims"]))
        out = np.zeros(count, dtype).tobytes()
        assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), len(out), self.address(self.outputs, index),
                             len(out), 2) == 0
        return np.frombuffer(out, dtype).reshape(dims["dims"])

    def gear_buffer_values(self, count):
        raw = bytes(8 * count)
        acl.rt.memcpy(acl.util.bytes_to_ptr(raw), len(raw),
                      self.address(self.inputs, self.dynamic_index), len(raw), 2)
        return list(struct.unpack(f"<{count}Q", raw))

    def execute(self):
        return acl.mdl.execute(self.model_id, self.inputs, self.outputs)

    def release(self):
        for dataset in (self.inputs, self.outputs):
            for i in range(acl.mdl.get_dataset_num_buffers(dataset)):
                acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, i))
            acl.mdl.destroy_dataset(dataset)
        for ptr in self.pointers:
            acl.rt.free(ptr)
        assert acl.mdl.unload(self.model_id) == 0
        acl.mdl.destroy_desc(self.desc)


@pytest.fixture
def gear_net(context, tmp_path):
    nets = []

    def build(builder):
        model, record = builder()
        path = tmp_path / f"{builder.__name__}.om"
        write_om(model, record, str(path))
        net = GearNet(str(path))
        nets.append(net)
        return net, model

    yield build
    for net in nets:
        net.release()


def test_batch_model_description(gear_net):
    net, _ = gear_net(gear_models.batch_model)
    desc = net.desc
    assert acl.mdl.get_num_inputs(desc) == 2 and net.dynamic_index == 1      # appended last
    assert acl.mdl.get_input_dims(desc, 0)[0]["dims"] == [-1, 3, 4, 4]
    assert acl.mdl.get_input_size_by_index(desc, 0) == 8 * 3 * 4 * 4 * 4       # largest gear
    assert acl.mdl.get_output_dims(desc, 0)[0]["dims"] == [-1, 5]
    assert acl.mdl.get_output_size_by_index(desc, 0) == 8 * 5 * 4
    assert acl.mdl.get_input_dims(desc, 1) == \
        ({"name": DYNAMIC_NAME, "dimCount": 1, "dims": [1]}, ACL_SUCCESS)
    assert acl.mdl.get_input_size_by_index(desc, 1) == 8
    assert acl.mdl.get_input_data_type(desc, 1) == ACL_INT64
    assert acl.mdl.get_dynamic_batch(desc) == ({"batchCount": 4, "batch": [1, 2, 4, 8]}, 0)
    assert acl.mdl.get_dynamic_hw(desc, -1) == ({"hwCount": 0, "hw": []}, 0)
    assert acl.mdl.get_input_dims_range(desc, 0) == ({"rangeCount": 0, "range": []}, 0)
    assert acl.mdl.get_cur_output_dims(desc, 0)[0]["dims"] == [8, 5]    # no gear chosen: max


def test_every_batch_gear_matches_onnxruntime(gear_net):
    net, model = gear_net(gear_models.batch_model)
    rng = np.random.default_rng(0)
    for batch in (1, 2, 4, 8):
        x = rng.standard_normal((batch, 3, 4, 4)).astype(np.float32)
        net.write(0, x)
        assert acl.mdl.set_dynamic_batch_size(net.model_id, net.inputs, net.dynamic_index,
                                              batch) == ACL_SUCCESS
        assert net.gear_buffer_values(1) == [batch]
        assert net.execute() == ACL_SUCCESS
        got = net.read(0, np.float32)
        assert got.shape == (batch, 5)
        np.testing.assert_array_equal(got, reference(model, {"x": x})[0])


def test_every_hw_gear_matches_onnxruntime(gear_net):
    net, model = gear_net(gear_models.hw_model)
    desc = net.desc
    assert acl.mdl.get_input_dims(desc, 0)[0]["dims"] == [1, 2, -1, -1]
    assert acl.mdl.get_dynamic_hw(desc, net.dynamic_index) == \
        ({"hwCount": 3, "hw": [[4, 4], [8, 6], [16, 16]]}, 0)
    assert acl.mdl.get_input_size_by_index(desc, net.dynamic_index) == 16
    rng = np.random.default_rng(1)
    for h, w in ((8, 6), (4, 4), (16, 16), (8, 6)):
        x = rng.standard_normal((1, 2, h, w)).astype(np.float32)
        net.write(0, x)
        assert acl.mdl.set_dynamic_hw_size(net.model_id, net.inputs, net.dynamic_index, h, w) == 0
        assert net.gear_buffer_values(2) == [h, w]
        assert net.execute() == ACL_SUCCESS
        np.testing.assert_array_equal(net.read(0, np.float32), reference(model, {"x": x})[0])


def test_every_dims_gear_matches_onnxruntime(gear_net):
    net, model = gear_net(gear_models.dims_model)
    desc = net.desc
    assert acl.mdl.get_input_dynamic_gear_count(desc, -1) == (3, ACL_SUCCESS)
    dims, ret = acl.mdl.get_input_dynamic_dims(desc, -1, 3)
    assert ret == 0 and dims == [{"name": "", "dimCount": 3, "dims": [1, 4, 2]},
                                 {"name": "", "dimCount": 3, "dims": [3, 4, 5]},
                                 {"name": "", "dimCount": 3, "dims": [2, 4, 7]}]
    assert acl.mdl.get_input_dynamic_dims(desc, -1, 2) == (None, ACL_ERROR_INVALID_PARAM)
    rng = np.random.default_rng(2)
    for gear in dims:
        n, m = gear["dims"][0], gear["dims"][2]
        a = rng.standard_normal((n, 4)).astype(np.float32)
        b = rng.integers(-100, 100, m).astype(np.int64)
        net.write(0, a)
        net.write(1, b)
        assert acl.mdl.set_input_dynamic_dims(net.model_id, net.inputs, net.dynamic_index,
                                              gear) == ACL_SUCCESS
        assert net.gear_buffer_values(2) == [n, m]
        assert net.execute() == ACL_SUCCESS
        ra, nb = reference(model, {"a": a, "b": b})
        np.testing.assert_array_equal(net.read(0, np.float32), ra)
        np.testing.assert_array_equal(net.read(1, np.int64), nb)


def test_gears_chosen_in_a_loop_stay_exact(gear_net):
    net, model = gear_net(gear_models.batch_model)
    rng = np.random.default_rng(9)
    for step, batch in zip(range(40), itertools.cycle((8, 1, 4, 2, 2, 8))):
        x = rng.standard_normal((batch, 3, 4, 4)).astype(np.float32)
        net.write(0, x)
        assert acl.mdl.set_dynamic_batch_size(net.model_id, net.inputs, net.dynamic_index,
                                              batch) == 0
        assert net.execute() == ACL_SUCCESS, step
        np.testing.assert_array_equal(net.read(0, np.float32), reference(model, {"x": x})[0])


def test_gear_misuse(gear_net):
    net, _ = gear_net(gear_models.batch_model)
    model_id, inputs, index = net.model_id, net.inputs, net.dynamic_index
    assert acl.mdl.set_dynamic_batch_size(model_id, inputs, index, 0) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_dynamic_batch_size(model_id, inputs, index, 3) == \
        ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID
    assert "[1, 2, 4, 8]" in acl.get_recent_err_msg()
    assert acl.mdl.set_dynamic_batch_size(model_id, inputs, 5, 2) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_dynamic_batch_size(model_id, inputs, 0, 2) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_dynamic_hw_size(model_id, inputs, index, 4, 4) == \
        ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID
    assert acl.mdl.set_dynamic_batch_size(999, inputs, index, 2) == 145003
    gear_buffer = acl.mdl.get_dataset_buffer(inputs, index)
    ptr = acl.get_data_buffer_addr(gear_buffer)
    assert acl.update_data_buffer(gear_buffer, ptr, 2) == 0                 # too small
    assert acl.mdl.set_dynamic_batch_size(model_id, inputs, index, 2) == \
        ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID
    assert acl.update_data_buffer(gear_buffer, ptr, 4) == 0                 # uint32 fits
    assert acl.mdl.set_dynamic_batch_size(model_id, inputs, index, 2) == ACL_SUCCESS
    raw = bytes(4)
    acl.rt.memcpy(acl.util.bytes_to_ptr(raw), 4, ptr, 4, 2)
    assert struct.unpack("<I", raw) == (2,)
    assert acl.update_data_buffer(gear_buffer, 0, 8) == 0                   # NULL address
    assert acl.mdl.set_dynamic_batch_size(model_id, inputs, index, 2) == ACL_ERROR_INVALID_PARAM
    assert acl.update_data_buffer(gear_buffer, ptr, 8) == 0
    assert acl.mdl.set_dynamic_batch_size(model_id, inputs, index, 4) == ACL_SUCCESS
    assert acl.mdl.get_cur_output_dims(net.desc, 0)[0]["dims"] == [4, 5]
    assert net.execute() == ACL_SUCCESS


def test_gear_setters_on_a_static_model(context, tmp_path):
    from tests.model import builders
    import onnx

    path = tmp_path / "static.onnx"
    onnx.save(builders.classifier(classes=4), path)
    model_id, _ = acl.mdl.load_from_file(str(path))
    dataset = acl.mdl.create_dataset()
    ptr, _ = acl.rt.malloc(8, 0)
    buffer = acl.create_data_buffer(ptr, 8)
    acl.mdl.add_dataset_buffer(dataset, buffer)
    assert acl.mdl.set_dynamic_batch_size(model_id, dataset, 0, 1) == \
        ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID
    assert "static model" in acl.get_recent_err_msg()
    acl.destroy_data_buffer(buffer)
    acl.mdl.destroy_dataset(dataset)
    acl.rt.free(ptr)
    assert acl.mdl.unload(model_id) == 0
