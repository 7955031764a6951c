"""Shape-range models: input shapes from tensor descs, real output dims in the output descs."""

import numpy as np
import onnx
import pytest

import acl
from openacl.model.om import write_om
from tests.model import gear_models
from tests.model.builders import reference

ACL_SUCCESS = 0
ACL_ERROR_GE_PARAM_INVALID = 145000
ACL_ERROR_GE_SHAPE_INVALID = 145021
ACL_FLOAT, ACL_FORMAT_ND = 0, 2


class RangeNet:
    def __init__(self, path, output_sizes):
        self.model_id, ret = acl.mdl.load_from_file(path)
        assert ret == ACL_SUCCESS, acl.get_recent_err_msg()
        self.desc = acl.mdl.create_desc()
        acl.mdl.get_desc(self.desc, self.model_id)
        self.pointers = []
        self.inputs, self.outputs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
        self.input_ptr = self._add(self.inputs, 1024)
        self.output_ptrs = [self._add(self.outputs, size) for size in output_sizes]
        self.shape_desc = acl.create_tensor_desc(ACL_FLOAT, [1, 3], ACL_FORMAT_ND)
        acl.mdl.set_dataset_tensor_desc(self.inputs, self.shape_desc, 0)

    def _add(self, dataset, size):
        ptr, _ = acl.rt.malloc(size, 0)
        self.pointers.append(ptr)
        acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(ptr, size))
        return ptr

    def run(self, x):
        data = x.tobytes()
        acl.rt.memcpy(self.input_ptr, 1024, acl.util.bytes_to_ptr(data), len(data), 1)
        assert acl.set_tensor_shape(self.shape_desc, list(x.shape)) == 0
        return acl.mdl.execute(self.model_id, self.inputs, self.outputs)

    def output(self, index, dtype):
        desc = acl.mdl.get_dataset_tensor_desc(self.outputs, index)
        assert desc, "execute must leave a tensor desc on each output"
        dims = [acl.get_tensor_desc_dim_v2(desc, i)[0]
                for i in range(acl.get_tensor_desc_num_dims(desc))]
        out = np.zeros(dims, dtype).tobytes()
        acl.rt.memcpy(acl.util.bytes_to_ptr(out), max(len(out), 1), self.output_ptrs[index],
                      len(out), 2)
        return np.frombuffer(out, dtype).reshape(dims)

    def release(self):
        acl.destroy_tensor_desc(self.shape_desc)
        for dataset in (self.inputs, self.outputs):
            for i in range(acl.mdl.get_dataset_num_buffers(dataset)):
                acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, i))
            acl.mdl.destroy_dataset(dataset)
        for ptr in self.pointers:
            acl.rt.free(ptr)
        acl.mdl.unload(self.model_id)
        acl.mdl.destroy_desc(self.desc)


@pytest.fixture
def range_net(context, tmp_path):
    model, record = gear_models.range_model()
    path = tmp_path / "range.om"
    write_om(model, record, str(path))
    net = RangeNet(str(path), output_sizes=[16 * 3 * 4, 16 * 4])
    yield net, model
    net.release()


def test_range_model_description(range_net):
    net, _ = range_net
    assert acl.mdl.get_input_dims(net.desc, 0)[0]["dims"] == [-1, 3]
    assert acl.mdl.get_input_dims_range(net.desc, 0) == \
        ({"rangeCount": 2, "range": [[1, 16], [3, 3]]}, 0)
    assert acl.mdl.get_input_size_by_index(net.desc, 0) == 16 * 3 * 4     # top of the range
    assert acl.mdl.get_output_size_by_index(net.desc, 0) == 16 * 3 * 4
    assert acl.mdl.get_output_size_by_index(net.desc, 1) == 16 * 4


def test_each_shape_matches_onnxruntime_and_reports_output_dims(range_net):
    net, model = range_net
    rng = np.random.default_rng(0)
    for n in (1, 5, 16, 5, 2):
        x = rng.standard_normal((n, 3)).astype(np.float32)
        assert net.run(x) == ACL_SUCCESS, acl.get_recent_err_msg()
        relu, total = reference(model, {"x": x})
        np.testing.assert_array_equal(net.output(0, np.float32), relu)
        np.testing.assert_array_equal(net.output(1, np.float32), total)


def test_shapes_outside_the_range_are_refused(range_net):
    net, _ = range_net
    assert net.run(np.zeros((17, 3), np.float32)) == ACL_ERROR_GE_SHAPE_INVALID
    assert "outside the model's range" in acl.get_recent_err_msg()
    assert net.run(np.zeros((2, 4), np.float32)) == ACL_ERROR_GE_SHAPE_INVALID
    assert net.run(np.zeros((2, 3), np.float32)) == ACL_SUCCESS


def test_missing_input_shape(range_net):
    net, _ = range_net
    acl.mdl.set_dataset_tensor_desc(net.inputs, 0, 0)          # clear it
    assert acl.mdl.execute(net.model_id, net.inputs, net.outputs) == ACL_ERROR_GE_PARAM_INVALID
    assert "set_dataset_tensor_desc" in acl.get_recent_err_msg()


def test_an_output_larger_than_its_buffer_is_an_error_not_an_overflow(context, tmp_path):
    model, record = gear_models.range_model()
    path = tmp_path / "range.om"
    write_om(model, record, str(path))
    net = RangeNet(str(path), output_sizes=[4 * 3 * 4, 16 * 4])   # room for 4 rows only
    try:
        assert net.run(np.ones((4, 3), np.float32)) == ACL_SUCCESS
        assert net.run(np.ones((9, 3), np.float32)) == ACL_ERROR_GE_PARAM_INVALID
        assert "holds 48 bytes" in acl.get_recent_err_msg()
    finally:
        net.release()


def test_data_dependent_output_shapes_are_copied_when_they_fit(context, tmp_path):
    model, _ = gear_models.nonzero_model()
    path = tmp_path / "nonzero.onnx"
    onnx.save(model, path)
    net = RangeNet(str(path), output_sizes=[8 * 8])
    try:
        x = np.array([0, 1.5, 0, 2, 3], np.float32)
        assert acl.set_tensor_shape(net.shape_desc, [5]) == 0
        data = x.tobytes()
        acl.rt.memcpy(net.input_ptr, 1024, acl.util.bytes_to_ptr(data), len(data), 1)
        assert acl.mdl.execute(net.model_id, net.inputs, net.outputs) == ACL_SUCCESS
        np.testing.assert_array_equal(net.output(0, np.int64), reference(model, {"x": x})[0])
        big = np.ones(20, np.float32)                       # 20 indices do not fit in 64 bytes
        acl.set_tensor_shape(net.shape_desc, [20])
        data = big.tobytes()
        acl.rt.memcpy(net.input_ptr, 1024, acl.util.bytes_to_ptr(data), len(data), 1)
        assert acl.mdl.execute(net.model_id, net.inputs, net.outputs) == ACL_ERROR_GE_PARAM_INVALID
    finally:
        net.release()


def test_a_static_model_with_a_data_dependent_output(context, tmp_path):
    import onnx.helper as helper
    from onnx import TensorProto as T

    graph = helper.make_graph([helper.make_node("NonZero", ["x"], ["idx"])], "static_nonzero",
                              [helper.make_tensor_value_info("x", T.FLOAT, [6])],
                              [helper.make_tensor_value_info("idx", T.INT64, [1, "k"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "static_nonzero.onnx"
    onnx.save(model, path)
    net = RangeNet(str(path), output_sizes=[6 * 8])
    try:
        assert acl.mdl.get_output_dims(net.desc, 0)[0]["dims"] == [1, -1]
        assert acl.mdl.get_output_size_by_index(net.desc, 0) == 0     # known only at run time
        acl.mdl.set_dataset_tensor_desc(net.inputs, 0, 0)           # a static input needs none
        for x in (np.array([0, 2, 0, 3, 4, 0], np.float32), np.ones(6, np.float32)):
            data = x.tobytes()
            acl.rt.memcpy(net.input_ptr, 1024, acl.util.bytes_to_ptr(data), len(data), 1)
            assert acl.mdl.execute(net.model_id, net.inputs, net.outputs) == ACL_SUCCESS, \
                acl.get_recent_err_msg()
            np.testing.assert_array_equal(net.output(0, np.int64), reference(model, {"x": x})[0])
    finally:
        net.release()


def test_a_bfloat16_output_of_data_dependent_shape(context, tmp_path):
    """The engine allocates it (its shape is known only after the run): its raw 2-byte
    values are copied into the caller's buffer, and the desc gets the real dims."""
    import ml_dtypes
    import onnx.helper as helper
    from onnx import TensorProto as T

    graph = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["out"])], "bf16_reshape",
                              [helper.make_tensor_value_info("x", T.BFLOAT16, [6]),
                               helper.make_tensor_value_info("s", T.INT64, [2])],
                              [helper.make_tensor_value_info("out", T.BFLOAT16, ["a", "b"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "bf16_reshape.onnx"
    onnx.save(model, path)
    net = RangeNet(str(path), output_sizes=[6 * 2])
    try:
        acl.mdl.set_dataset_tensor_desc(net.inputs, 0, 0)           # static inputs need none
        shape_ptr = net._add(net.inputs, 16)
        x = np.array([1.5, -2, 3.25, 0, 5, 1e-3], np.float32).astype(ml_dtypes.bfloat16)
        data = x.tobytes()
        acl.rt.memcpy(net.input_ptr, 1024, acl.util.bytes_to_ptr(data), len(data), 1)
        for shape in ([3, 2], [1, 6]):
            dims = np.array(shape, np.int64).tobytes()
            acl.rt.memcpy(shape_ptr, 16, acl.util.bytes_to_ptr(dims), len(dims), 1)
            assert acl.mdl.execute(net.model_id, net.inputs, net.outputs) == ACL_SUCCESS, \
                acl.get_recent_err_msg()
            out = net.output(0, np.uint16)
            np.testing.assert_array_equal(out, x.view(np.uint16).reshape(shape))
    finally:
        net.release()
