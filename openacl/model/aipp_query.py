"""AIPP of a loaded model: its type per input, its static parameters, and setting dynamic ones.

What ``get_aipp_type``, ``get_first_aipp_info``, ``set_input_aipp`` and
``set_aipp_by_input_index`` do, on a loaded model (the facade only translates handles).
"""

from __future__ import annotations

from openacl.constants import ACL_INVALID_NODE_INDEX, ErrorCode
from openacl.constants import InputAippType as T
from openacl.errors import AclError, InvalidParam
from openacl.model.aipp import first_aipp_info
from openacl.model.aipp_dynamic import BATCH_SIZE, HEADER_SIZE, DynamicAipp, check_for_model, pack
from openacl.model.dataset import Dataset
from openacl.model.dtypes import acl_size, format_from_name
from openacl.runtime import transfers

__all__ = ["aipp_type", "first_info", "set_input_aipp", "set_by_input_index"]


def _input(model, index: int):
    inputs = model.description.inputs
    if index >= len(inputs):
        raise InvalidParam(f"input index {index} is out of range: model {model.model_id} has "
                           f"{len(inputs)} input(s)")
    return inputs[index]


def aipp_type(model, index: int) -> tuple[int, int]:
    """(aclmdlInputAippType, the index of the ascend_dynamic_aipp_data input it uses)."""
    tensor = _input(model, index)
    if tensor.aipp_for is not None:
        return int(T.ACL_DYNAMIC_AIPP_NODE), ACL_INVALID_NODE_INDEX
    if tensor.aipp is None:
        return int(T.ACL_DATA_WITHOUT_AIPP), ACL_INVALID_NODE_INDEX
    if not tensor.aipp.dynamic:
        return int(T.ACL_DATA_WITH_STATIC_AIPP), ACL_INVALID_NODE_INDEX
    attached = next(i for i, t in enumerate(model.description.inputs)
                    if t.aipp_for == tensor.name)
    return int(T.ACL_DATA_WITH_DYNAMIC_AIPP), attached


def first_info(model, index: int) -> dict:
    """get_first_aipp_info's dict for a static- or dynamic-AIPP data input (145015 otherwise)."""
    tensor = _input(model, index)
    if tensor.aipp is None:
        raise AclError(f"input {index} ({tensor.name!r}) of model {model.model_id} has no AIPP "
                       f"(its model was built without atc --insert_op_conf); "
                       f"acl.mdl.get_aipp_type tells which inputs have it",
                       ErrorCode.ACL_ERROR_GE_AIPP_NOT_EXIST)
    config = tensor.aipp
    gears = model.description.gears
    if gears is None:
        network = [list(config.model_dims)]
    else:
        network = [list(gears.shapes_for(gear)[tensor.name]) for gear in gears.values]
    return first_aipp_info(config, network, format_from_name(config.model_format),
                           acl_size(config.model_dtype))


def set_input_aipp(model, dataset: Dataset, index: int, params: DynamicAipp) -> None:
    """Check a parameter set against the model; write it into the dataset's AIPP buffer."""
    tensor = _input(model, index)
    if tensor.aipp_for is None:
        raise InvalidParam(f"input {index} ({tensor.name!r}) of model {model.model_id} is not "
                           f"an ascend_dynamic_aipp_data input; find it with "
                           f"acl.mdl.get_input_index_by_name or acl.mdl.get_aipp_type (type 3)")
    data_input = next(t for t in model.description.inputs if t.name == tensor.aipp_for)
    check_for_model(params.params, data_input.aipp, data_input.aipp.model_dims[0])
    if index >= len(dataset.buffers):
        raise InvalidParam(f"the input dataset has no buffer at index {index}: add the "
                           f"ascend_dynamic_aipp_data buffer before setting AIPP parameters")
    buffer = dataset.buffers[index]
    if buffer.destroyed or buffer.address == 0:
        raise AclError(f"the ascend_dynamic_aipp_data buffer at index {index} is NULL: give "
                       f"it device memory of acl.mdl.get_input_size_by_index bytes",
                       ErrorCode.ACL_ERROR_GE_DYNAMIC_INPUT_ADDR_INVALID)
    need = HEADER_SIZE + BATCH_SIZE * params.batch
    if buffer.size < need:
        raise AclError(f"the ascend_dynamic_aipp_data buffer holds {buffer.size} bytes; "
                       f"{params.batch} image(s) of AIPP parameters need {need} "
                       f"(acl.mdl.get_input_size_by_index)",
                       ErrorCode.ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID)
    try:
        transfers.write_runtime(buffer.address, pack(params.params), "ascend_dynamic_aipp_data",
                                model.context.device.backend)
    except AclError as error:
        raise InvalidParam(f"the ascend_dynamic_aipp_data buffer: {error.message}") from None


def set_by_input_index(model, dataset: Dataset, index: int, params: DynamicAipp) -> None:
    """set_input_aipp by the data input's index (its type must be dynamic AIPP)."""
    if index >= len(dataset.buffers):
        raise InvalidParam(f"index {index} is out of range: the input dataset has "
                           f"{len(dataset.buffers)} buffer(s)")
    kind, attached = aipp_type(model, index)
    if kind != T.ACL_DATA_WITH_DYNAMIC_AIPP:
        raise AclError(f"input {index} of model {model.model_id} has no dynamic aipp linked "
                       f"(its AIPP type is {kind}): pass the index of a data input whose "
                       f"acl.mdl.get_aipp_type is 2 (ACL_DATA_WITH_DYNAMIC_AIPP)",
                       ErrorCode.ACL_ERROR_FAILURE)
    set_input_aipp(model, dataset, attached, params)
