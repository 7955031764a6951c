"""Model loading: files, memory, program-managed memory, load configs, bad files."""

import struct

import numpy as np
import onnx
import pytest

import acl
from openacl.model.om import write_om
from tests.model import builders

ACL_SUCCESS = 0
ACL_ERROR_INVALID_PARAM = 100000
ACL_ERROR_GE_PARAM_INVALID = 145000
ACL_ERROR_GE_EXEC_NOT_INIT = 145001
ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID = 145002
ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID = 145006
ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID = 145007
ACL_MDL_PRIORITY_INT32, ACL_MDL_LOAD_TYPE_SIZET, ACL_MDL_PATH_PTR = 0, 1, 2
ACL_MDL_MEM_ADDR_PTR, ACL_MDL_MEM_SIZET = 3, 4
ACL_MDL_WEIGHT_ADDR_PTR, ACL_MDL_WEIGHT_SIZET = 5, 6
ACL_MDL_WORKSPACE_ADDR_PTR, ACL_MDL_WORKSPACE_SIZET = 7, 8


@pytest.fixture
def model_file(tmp_path):
    model = builders.classifier(classes=10)
    path = tmp_path / "classifier.om"
    write_om(model, {"framework": 5}, str(path))
    return str(path)


def _runs(model_id):
    """Execute once on zeros and check the result against onnxruntime."""
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_desc(desc, model_id) == 0
    datasets, pointers = [], []
    for count, size_of in ((acl.mdl.get_num_inputs, acl.mdl.get_input_size_by_index),
                           (acl.mdl.get_num_outputs, acl.mdl.get_output_size_by_index)):
        dataset = acl.mdl.create_dataset()
        for i in range(count(desc)):
            ptr, _ = acl.rt.malloc(size_of(desc, i), 0)
            acl.rt.memset(ptr, size_of(desc, i), 0, size_of(desc, i))
            pointers.append(ptr)
            acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(ptr, size_of(desc, i)))
        datasets.append(dataset)
    assert acl.mdl.execute(model_id, *datasets) == ACL_SUCCESS
    out = bytes(40)
    acl.rt.memcpy(acl.util.bytes_to_ptr(out), 40, pointers[-1], 40, 2)
    expected = builders.reference(builders.classifier(classes=10),
                                  {"data": np.zeros((1, 3, 16, 16), np.float32)})[0]
    np.testing.assert_array_equal(np.frombuffer(out, np.float32).reshape(1, 10), expected)
    for dataset in datasets:
        for i in range(acl.mdl.get_dataset_num_buffers(dataset)):
            acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, i))
        acl.mdl.destroy_dataset(dataset)
    for ptr in pointers:
        acl.rt.free(ptr)
    acl.mdl.destroy_desc(desc)
    return True


def test_model_ids_count_up(context, model_file):
    ids = [acl.mdl.load_from_file(model_file) for _ in range(3)]
    assert ids == [(1, 0), (2, 0), (3, 0)]
    for model_id, _ in ids:
        assert acl.mdl.unload(model_id) == ACL_SUCCESS


def test_load_from_mem_like_acllite(context, model_file):
    with open(model_file, "rb") as f:
        om_bytes = f.read()
    model_id, ret = acl.mdl.load_from_mem(acl.util.bytes_to_ptr(om_bytes), len(om_bytes))
    assert ret == ACL_SUCCESS and _runs(model_id)
    assert acl.mdl.unload(model_id) == ACL_SUCCESS
    assert acl.mdl.load_from_mem(0, 10) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.mdl.load_from_mem(acl.util.bytes_to_ptr(om_bytes), 0) == (0, ACL_ERROR_INVALID_PARAM)


def test_load_with_program_managed_memory(context, model_file):
    work, weight, ret = acl.mdl.query_size(model_file)
    assert ret == ACL_SUCCESS and work > 0
    assert weight == (8 * 3 * 3 * 3 + 8 + 8 * 10) * 4           # the initializers' bytes
    with open(model_file, "rb") as f:
        data = f.read()
    assert acl.mdl.query_size_from_mem(acl.util.bytes_to_ptr(data), len(data)) == \
        (work, weight, ACL_SUCCESS)
    work_ptr, _ = acl.rt.malloc(work, 0)
    weight_ptr, _ = acl.rt.malloc(weight, 0)
    model_id, ret = acl.mdl.load_from_file_with_mem(model_file, work_ptr, work, weight_ptr, weight)
    assert ret == ACL_SUCCESS and _runs(model_id)
    assert acl.mdl.unload(model_id) == ACL_SUCCESS
    model_id, ret = acl.mdl.load_from_mem_with_mem(acl.util.bytes_to_ptr(data), len(data),
                                                   work_ptr, work, weight_ptr, weight)
    assert ret == ACL_SUCCESS and acl.mdl.unload(model_id) == ACL_SUCCESS
    assert acl.mdl.load_from_file_with_mem(model_file, work_ptr, work - 32, weight_ptr,
                                           weight) == (0, ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID)
    assert acl.rt.free(weight_ptr) == ACL_SUCCESS
    assert acl.mdl.load_from_file_with_mem(model_file, work_ptr, work, weight_ptr,
                                           weight) == (0, ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID)
    assert acl.rt.free(work_ptr) == ACL_SUCCESS


def test_load_with_config_handles(context, model_file):
    config = acl.mdl.create_config_handle()
    assert config
    assert acl.mdl.load_with_config(config) == (0, ACL_ERROR_INVALID_PARAM)   # no load type
    assert acl.mdl.set_config_opt(config, ACL_MDL_LOAD_TYPE_SIZET, 1) == ACL_SUCCESS
    assert acl.mdl.load_with_config(config) == (0, ACL_ERROR_INVALID_PARAM)   # no path
    assert acl.mdl.set_config_opt(config, ACL_MDL_PATH_PTR, model_file) == ACL_SUCCESS
    assert acl.mdl.set_config_opt(config, ACL_MDL_PRIORITY_INT32, 3) == ACL_SUCCESS
    assert acl.mdl.set_config_opt(config, ACL_MDL_PRIORITY_INT32, 9) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_config_opt(config, ACL_MDL_LOAD_TYPE_SIZET, 7) == ACL_ERROR_INVALID_PARAM
    with pytest.raises(TypeError):
        acl.mdl.set_config_opt(config, ACL_MDL_PATH_PTR, 123)
    model_id, ret = acl.mdl.load_with_config(config)
    assert ret == ACL_SUCCESS and _runs(model_id)
    assert acl.mdl.unload(model_id) == ACL_SUCCESS
    with open(model_file, "rb") as f:
        data = f.read()
    memory = acl.mdl.create_config_handle()
    acl.mdl.set_config_opt(memory, ACL_MDL_LOAD_TYPE_SIZET, 4)
    acl.mdl.set_config_opt(memory, ACL_MDL_MEM_ADDR_PTR, acl.util.bytes_to_ptr(data))
    acl.mdl.set_config_opt(memory, ACL_MDL_MEM_SIZET, len(data))
    work, weight, _ = acl.mdl.query_size(model_file)
    work_ptr, _ = acl.rt.malloc(work, 0)
    acl.mdl.set_config_opt(memory, ACL_MDL_WORKSPACE_ADDR_PTR, work_ptr)
    acl.mdl.set_config_opt(memory, ACL_MDL_WORKSPACE_SIZET, work)
    model_id, ret = acl.mdl.load_with_config(memory)
    assert ret == ACL_SUCCESS and _runs(model_id)
    assert acl.mdl.unload(model_id) == ACL_SUCCESS
    assert acl.rt.free(work_ptr) == 0
    for handle in (config, memory):
        assert acl.mdl.destroy_config_handle(handle) == ACL_SUCCESS
    assert acl.mdl.destroy_config_handle(config) == ACL_ERROR_INVALID_PARAM


def test_load_before_init_and_without_context(model_file):
    assert acl.mdl.load_from_file(model_file) == (0, ACL_ERROR_GE_EXEC_NOT_INIT)
    assert acl.init() == 0
    assert acl.mdl.load_from_file(model_file) == (0, 107002)
    assert acl.finalize() == 0


def _huawei_om() -> bytes:
    header = struct.pack("<III", 0x444F4D49, 256, 0x10000000) + bytes(244)
    return header + b"\x00" * 512


@pytest.mark.parametrize("content, code, words", [
    (b"", ACL_ERROR_GE_PARAM_INVALID, "empty"),
    (_huawei_om(), ACL_ERROR_GE_PARAM_INVALID, "Huawei ATC-compiled"),
    (b"\xff\xfe not a model at all \x00\x01", ACL_ERROR_GE_PARAM_INVALID, "atc"),
    (b"truncate", ACL_ERROR_GE_PARAM_INVALID, "atc"),
])
def test_bad_model_files_are_refused_with_advice(context, tmp_path, content, code, words):
    if content == b"truncate":
        full = builders.classifier(classes=10).SerializeToString()
        content = full[: len(full) // 2]
    path = tmp_path / "bad.om"
    path.write_bytes(content)
    assert acl.mdl.load_from_file(str(path)) == (0, code)
    message = acl.get_recent_err_msg()
    assert words in message and "--framework=5" in message
    assert acl.mdl.load_from_mem(acl.util.bytes_to_ptr(content or b"\0"), len(content) or 1)[1] \
        == code
    assert acl.mdl.query_size(str(path))[-1] == code
    # The runtime stays usable after each refusal.
    good = tmp_path / "good.onnx"
    onnx.save(builders.classifier(classes=10), good)
    model_id, ret = acl.mdl.load_from_file(str(good))
    assert ret == ACL_SUCCESS and acl.mdl.unload(model_id) == ACL_SUCCESS


def test_missing_path(context, tmp_path):
    assert acl.mdl.load_from_file(str(tmp_path / "nope.om")) == \
        (0, ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID)
    assert "does not exist" in acl.get_recent_err_msg()


def test_finalize_unloads_leaked_models(model_file):
    import openacl.runtime

    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    model_id, _ = acl.mdl.load_from_file(model_file)
    with pytest.warns(openacl.runtime.LeakWarning, match=r"1 model of \d+ bytes \(id 1\)"):
        assert acl.finalize() == 0
    assert acl.mdl.unload(model_id) == 145003
