"""acl.mdl description getters: exact dict shapes and out-of-range answers."""

import onnx
import pytest

import acl
from openacl.model.om import write_om
from tests.model import builders

ACL_SUCCESS = 0
ACL_ERROR_INVALID_PARAM = 100000
ACL_FLOAT, ACL_FLOAT16, ACL_INT32, ACL_UINT8, ACL_INT64, ACL_BOOL = 0, 1, 3, 4, 9, 12
ACL_FORMAT_NCHW, ACL_FORMAT_NHWC, ACL_FORMAT_ND = 0, 1, 2


@pytest.fixture
def loaded(context, tmp_path):
    """Load a model and fill a desc; yields (model_id, desc); unloads afterwards."""
    handles = []

    def load(model, metadata=None, name="m.om"):
        path = tmp_path / name
        if metadata is None:
            onnx.save(model, path)
        else:
            write_om(model, metadata, str(path))
        model_id, ret = acl.mdl.load_from_file(str(path))
        assert ret == ACL_SUCCESS, acl.get_recent_err_msg()
        desc = acl.mdl.create_desc()
        assert acl.mdl.get_desc(desc, model_id) == ACL_SUCCESS
        handles.append((model_id, desc))
        return model_id, desc

    yield load
    for model_id, desc in handles:
        assert acl.mdl.unload(model_id) == ACL_SUCCESS
        assert acl.mdl.destroy_desc(desc) == ACL_SUCCESS


def test_counts_sizes_types_and_dims(loaded):
    _, desc = loaded(builders.mixed_types())
    assert acl.mdl.get_num_inputs(desc) == 6 and acl.mdl.get_num_outputs(desc) == 6
    assert [acl.mdl.get_input_size_by_index(desc, i) for i in range(6)] == [24, 12, 16, 32, 5, 3]
    assert [acl.mdl.get_input_data_type(desc, i) for i in range(6)] == \
        [ACL_FLOAT, ACL_FLOAT16, ACL_INT32, ACL_INT64, ACL_UINT8, ACL_BOOL]
    assert [acl.mdl.get_output_data_type(desc, i) for i in range(6)] == \
        [ACL_FLOAT, ACL_FLOAT16, ACL_INT64, ACL_INT32, ACL_UINT8, ACL_BOOL]
    assert [acl.mdl.get_output_size_by_index(desc, i) for i in range(6)] == [24, 12, 32, 16, 5, 3]
    assert acl.mdl.get_input_dims(desc, 0) == ({"name": "f32", "dimCount": 2, "dims": [2, 3]}, 0)
    assert acl.mdl.get_input_dims_v2(desc, 2) == ({"name": "i32", "dimCount": 1, "dims": [4]}, 0)
    assert acl.mdl.get_output_dims(desc, 2) == ({"name": "sum_i64", "dimCount": 1, "dims": [4]}, 0)
    # acllite indexes the tuple: get_output_dims(desc, i)[0]["dims"]
    assert acl.mdl.get_output_dims(desc, 0)[0]["dims"] == [2, 3]
    assert acl.mdl.get_cur_output_dims(desc, 1) == \
        ({"name": "product_f16", "dimCount": 2, "dims": [2, 3]}, 0)
    assert acl.mdl.get_input_dims_range(desc, 0) == ({"rangeCount": 2, "range": [[2, 2], [3, 3]]}, 0)


def test_names_and_indices(loaded):
    _, desc = loaded(builders.mixed_types())
    assert acl.mdl.get_input_name_by_index(desc, 1) == "f16"
    assert acl.mdl.get_output_name_by_index(desc, 5) == "not_flag"
    assert acl.mdl.get_input_index_by_name(desc, "u8") == (4, ACL_SUCCESS)
    assert acl.mdl.get_output_index_by_name(desc, "sum_i32") == (3, ACL_SUCCESS)
    # acllite's probe for gear models: a static model has no such input.
    assert acl.mdl.get_input_index_by_name(desc, "ascend_mbatch_shape_data") == \
        (0, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_tensor_real_name(desc, "f32") == "f32"
    assert acl.mdl.get_tensor_real_name(desc, "nope") is None


def test_out_of_range_answers(loaded):
    _, desc = loaded(builders.mixed_types())
    assert acl.mdl.get_input_size_by_index(desc, 6) == 0
    assert acl.mdl.get_output_size_by_index(desc, 99) == 0
    assert acl.mdl.get_input_dims(desc, 6) == ({}, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_output_dims(desc, 6) == ({}, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_cur_output_dims(desc, 6) == ({}, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_input_name_by_index(desc, 6) == ""
    assert acl.mdl.get_output_name_by_index(desc, 6) == ""
    assert acl.mdl.get_input_format(desc, 6) == -1
    assert acl.mdl.get_output_format(desc, 6) == -1
    assert acl.mdl.get_input_data_type(desc, 6) == -1
    assert acl.mdl.get_output_data_type(desc, 6) == -1
    assert acl.mdl.get_input_index_by_name(desc, "missing") == (0, ACL_ERROR_INVALID_PARAM)


def test_formats_follow_the_om_record(loaded):
    _, desc = loaded(builders.nhwc_and_nd())                     # plain .onnx: defaults
    assert acl.mdl.get_input_format(desc, 0) == ACL_FORMAT_NCHW
    assert acl.mdl.get_input_format(desc, 1) == ACL_FORMAT_ND
    _, desc = loaded(builders.nhwc_and_nd(), {"inputs": {"image": {"format": "NHWC"}}}, "f.om")
    assert acl.mdl.get_input_format(desc, 0) == ACL_FORMAT_NHWC
    assert acl.mdl.get_output_format(desc, 1) == ACL_FORMAT_ND
    assert acl.mdl.get_output_dims(desc, 0) == ({"name": "total", "dimCount": 0, "dims": []}, 0)
    assert acl.mdl.get_output_size_by_index(desc, 0) == 4


def test_long_names_are_aliased(loaded):
    model_id, desc = loaded(builders.long_names())
    alias = f"acl_modelId_{model_id}_input_0"
    assert acl.mdl.get_input_name_by_index(desc, 0) == alias
    assert acl.mdl.get_input_dims(desc, 0)[0]["name"] == alias
    assert acl.mdl.get_output_name_by_index(desc, 0) == f"acl_modelId_{model_id}_output_0"
    assert acl.mdl.get_tensor_real_name(desc, alias) == "i" * 140
    assert acl.mdl.get_input_index_by_name(desc, alias) == (0, ACL_SUCCESS)
    assert acl.mdl.get_input_index_by_name(desc, "i" * 140) == (0, ACL_SUCCESS)


def test_desc_from_file_and_from_mem_without_loading(context, tmp_path):
    path = tmp_path / "c.onnx"
    onnx.save(builders.classifier(classes=10), path)
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_num_inputs(desc) == 0                 # empty desc answers the NULL value
    assert acl.mdl.get_desc_from_file(desc, str(path)) == ACL_SUCCESS
    assert acl.mdl.get_input_dims(desc, 0)[0]["dims"] == [1, 3, 16, 16]
    data = path.read_bytes()
    other = acl.mdl.create_desc()
    assert acl.mdl.get_desc_from_mem(other, acl.util.bytes_to_ptr(data), len(data)) == 0
    assert acl.mdl.get_output_size_by_index(other, 0) == 40
    assert acl.mdl.get_desc_from_file(other, str(tmp_path / "missing.om")) == 145002
    for d in (desc, other):
        assert acl.mdl.destroy_desc(d) == ACL_SUCCESS
    assert acl.mdl.destroy_desc(desc) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.get_num_inputs(desc) == 0


def test_get_desc_of_an_unknown_model(context):
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_desc(desc, 77) == 145003
    assert acl.mdl.get_desc(0, 1) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.destroy_desc(desc) == ACL_SUCCESS


def test_static_gear_queries(loaded):
    _, desc = loaded(builders.classifier(classes=10))
    assert acl.mdl.get_dynamic_batch(desc) == ({"batchCount": 0, "batch": []}, ACL_SUCCESS)
    assert acl.mdl.get_dynamic_hw(desc, -1) == ({"hwCount": 0, "hw": []}, ACL_SUCCESS)
    assert acl.mdl.get_input_dynamic_gear_count(desc, -1) == (0, ACL_SUCCESS)
    assert acl.mdl.get_input_dynamic_gear_count(desc, 0) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_input_dynamic_dims(desc, -1, 0) == ([], ACL_SUCCESS)
    assert acl.mdl.get_input_dynamic_dims(desc, -1, 5000) == (None, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.get_op_attr(desc, "/conv/Conv", "_datadump_original_op_names") == "/conv/Conv"
    assert acl.mdl.get_op_attr(desc, "/conv/Conv", "other") is None
