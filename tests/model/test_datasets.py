"""Datasets, data buffers and tensor descriptors (they need no ACL state)."""

import numpy as np
import pytest

import acl

ACL_SUCCESS = 0
ACL_ERROR_INVALID_PARAM = 100000
ACL_FLOAT, ACL_FLOAT16, ACL_INT64 = 0, 1, 9
ACL_FORMAT_NCHW, ACL_FORMAT_NHWC, ACL_FORMAT_ND = 0, 1, 2


def test_data_buffer_family():
    buffer = acl.create_data_buffer(0x1000, 4096)
    assert buffer and acl.get_data_buffer_addr(buffer) == 0x1000
    assert acl.get_data_buffer_size(buffer) == 4096
    assert acl.get_data_buffer_size_v2(buffer) == 4096
    assert acl.update_data_buffer(buffer, 0, 0) == ACL_SUCCESS
    assert acl.get_data_buffer_addr(buffer) == 0 and acl.get_data_buffer_size_v2(buffer) == 0
    big = acl.create_data_buffer(0x2000, (5 << 30) + 7)
    assert acl.get_data_buffer_size(big) == ((5 << 30) + 7) & 0xFFFFFFFF   # C uint32
    assert acl.get_data_buffer_size_v2(big) == (5 << 30) + 7
    empty = acl.create_data_buffer(0, 0)                  # legal: an empty output buffer
    for b in (buffer, big, empty):
        assert acl.destroy_data_buffer(b) == ACL_SUCCESS
    assert acl.destroy_data_buffer(buffer) == ACL_ERROR_INVALID_PARAM
    assert acl.get_data_buffer_addr(buffer) == 0
    assert acl.destroy_data_buffer(0) == ACL_ERROR_INVALID_PARAM


def test_dataset_family():
    dataset = acl.mdl.create_dataset()
    buffers = [acl.create_data_buffer(0x1000 * (i + 1), 64) for i in range(3)]
    for b in buffers:
        same, ret = acl.mdl.add_dataset_buffer(dataset, b)
        assert ret == ACL_SUCCESS and same == dataset
    assert acl.mdl.get_dataset_num_buffers(dataset) == 3
    assert [acl.mdl.get_dataset_buffer(dataset, i) for i in range(3)] == buffers
    assert acl.mdl.get_dataset_buffer(dataset, 3) == 0
    assert acl.mdl.add_dataset_buffer(dataset, 0) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.add_dataset_buffer(0, buffers[0]) == (0, ACL_ERROR_INVALID_PARAM)
    desc = acl.create_tensor_desc(ACL_FLOAT, [1, 2], ACL_FORMAT_ND)
    assert acl.mdl.set_dataset_tensor_desc(dataset, desc, 1) == (dataset, ACL_SUCCESS)
    assert acl.mdl.get_dataset_tensor_desc(dataset, 1) == desc
    assert acl.mdl.get_dataset_tensor_desc(dataset, 0) == 0
    assert acl.mdl.set_dataset_tensor_desc(dataset, desc, 3) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.destroy_dataset(dataset) == ACL_SUCCESS
    # The buffers survive their dataset; the attached tensor desc does not.
    assert acl.get_data_buffer_size_v2(buffers[0]) == 64
    assert acl.get_tensor_desc_type(desc) == -1
    for b in buffers:
        assert acl.destroy_data_buffer(b) == ACL_SUCCESS
    assert acl.mdl.get_dataset_num_buffers(dataset) == 0
    assert acl.mdl.destroy_dataset(dataset) == ACL_ERROR_INVALID_PARAM


@pytest.mark.parametrize("data_type, size", [
    (0, 4), (1, 2), (2, 1), (3, 4), (4, 1), (6, 2), (7, 2), (8, 4), (9, 8), (10, 8), (11, 8),
    (12, 1), (13, 0), (16, 8), (17, 16), (27, 2), (29, 1), (30, 1), (33, 4), (34, 1), (35, 1),
    (-1, 0), (38, 8), (41, 8), (999, 8)])
def test_data_type_size(data_type, size):
    assert acl.data_type_size(data_type) == size


def test_tensor_desc_family():
    desc = acl.create_tensor_desc(ACL_FLOAT16, [1, 3, 4, 5], ACL_FORMAT_NCHW)
    assert acl.get_tensor_desc_type(desc) == ACL_FLOAT16
    assert acl.get_tensor_desc_format(desc) == ACL_FORMAT_NCHW
    assert acl.get_tensor_desc_num_dims(desc) == 4
    assert acl.get_tensor_desc_dim(desc, 2) == 4 and acl.get_tensor_desc_dim(desc, 4) == -1
    assert acl.get_tensor_desc_dim_v2(desc, 3) == (5, ACL_SUCCESS)
    assert acl.get_tensor_desc_dim_v2(desc, 4) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.get_tensor_desc_element_count(desc) == 60
    assert acl.get_tensor_desc_size(desc) == 120
    assert acl.get_tensor_desc_dim_range(desc, 1, 2) == ([3, 3], ACL_SUCCESS)
    assert acl.get_tensor_desc_dim_range(desc, 1, 5000) == (None, ACL_ERROR_INVALID_PARAM)
    assert acl.set_tensor_shape_range(desc, [[1, 8], [3, 3], [4, 4], [5, 5]]) == ACL_SUCCESS
    assert acl.get_tensor_desc_dim_range(desc, 0, 2) == ([1, 8], ACL_SUCCESS)
    assert acl.set_tensor_shape_range(desc, [[1, 8]]) == ACL_ERROR_INVALID_PARAM
    assert acl.set_tensor_desc_name(desc, "data") is None
    assert acl.get_tensor_desc_name(desc) == "data"
    assert acl.set_tensor_shape(desc, [2, 3, 4, 5]) == ACL_SUCCESS
    assert acl.get_tensor_desc_element_count(desc) == 120
    assert acl.set_tensor_format(desc, ACL_FORMAT_NHWC) == ACL_SUCCESS
    assert acl.get_tensor_desc_format(desc) == ACL_FORMAT_NHWC
    for setter in (acl.set_tensor_origin_shape, acl.set_tensor_storage_shape):
        assert setter(desc, [1]) == ACL_SUCCESS
    for setter in (acl.set_tensor_origin_format, acl.set_tensor_storage_format):
        assert setter(desc, ACL_FORMAT_ND) == ACL_SUCCESS
    assert acl.set_tensor_value_range(desc, [[0, 255]]) == ACL_SUCCESS
    assert acl.set_tensor_place_ment(desc, 1) == ACL_SUCCESS
    assert acl.set_tensor_place_ment(desc, 9) == ACL_ERROR_INVALID_PARAM
    assert acl.set_tensor_dynamic_input(desc, "x") == ACL_SUCCESS
    const = np.arange(4, dtype=np.int64).tobytes()
    assert acl.set_tensor_const(desc, acl.util.bytes_to_ptr(const), len(const)) == ACL_SUCCESS
    assert acl.get_tensor_desc_address(desc) == desc
    assert acl.destroy_tensor_desc(desc) is None
    assert acl.get_tensor_desc_type(desc) == -1 and acl.get_tensor_desc_num_dims(desc) == 0


def test_set_tensor_const_checks_the_pointer(context):
    desc = acl.create_tensor_desc(ACL_INT64, [4], ACL_FORMAT_ND)
    freed, _ = acl.rt.malloc(64, 0)
    assert acl.rt.free(freed) == ACL_SUCCESS
    assert acl.set_tensor_const(desc, freed, 32) == 107000          # a code, not ValueError
    assert "not in any live allocation" in acl.get_recent_err_msg()
    assert acl.set_tensor_const(desc, 0x10, 32) == 107000
    assert acl.set_tensor_const(desc, 0, 32) == 100000
    acl.destroy_tensor_desc(desc)


def test_tensor_desc_edge_cases():
    with pytest.raises(TypeError):
        acl.create_tensor_desc(ACL_FLOAT, (1, 2), ACL_FORMAT_ND)   # dims must be a list
    scalar = acl.create_tensor_desc(ACL_INT64, [], ACL_FORMAT_ND)
    assert acl.get_tensor_desc_element_count(scalar) == 1 and acl.get_tensor_desc_size(scalar) == 8
    dynamic = acl.create_tensor_desc(ACL_FLOAT, [-1, 3], ACL_FORMAT_ND)
    assert acl.get_tensor_desc_size(dynamic) == 0
    nchw = acl.create_tensor_desc(ACL_FLOAT, [1, 3, 8, 9], ACL_FORMAT_NCHW)
    nhwc, ret = acl.trans_tensor_desc_format(nchw, ACL_FORMAT_NHWC)
    assert ret == ACL_SUCCESS and nhwc != nchw
    assert [acl.get_tensor_desc_dim(nhwc, i) for i in range(4)] == [1, 8, 9, 3]
    assert acl.trans_tensor_desc_format(scalar, ACL_FORMAT_NCHW) == (0, ACL_ERROR_INVALID_PARAM)
    for d in (scalar, dynamic, nchw, nhwc):
        acl.destroy_tensor_desc(d)
