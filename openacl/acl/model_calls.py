"""pyACL ``acl.mdl`` calls: load, describe, datasets, execute, dynamic gears (spec section 5)."""

from __future__ import annotations

from openacl.acl.build import implements
from openacl.constants import ACL_MAX_TENSOR_NAME_LEN, ErrorCode
from openacl.errors import AclError, ArgumentTypeError, InvalidParam
from openacl.model import dynamic
from openacl.model.dataset import DataBuffer, Dataset, TensorDesc
from openacl.model.description import ModelDescription, describe
from openacl.model.model import MODELS, query_sizes
from openacl.model.om import read_model_bytes, read_model_file
from openacl.runtime import RUNTIME
from openacl.runtime.handles import handles
from openacl.runtime.pointers import read_bytes

_UNSET_INDEX = 0xFFFFFFFFFFFFFFFF       # -1 as a uint64: "reserved, pass -1"
_MAX_GEAR_QUERY = 4096


class ModelDesc:
    """``aclmdlDesc``: empty until get_desc / get_desc_from_file / _from_mem fill it."""

    def __init__(self):
        self.description: ModelDescription | None = None
        self.model_id = 0
        self.handle = 0


class ModelConfig:
    """A model-load configuration handle (``aclmdlConfigHandle``)."""

    def __init__(self):
        self.options: dict[int, object] = {}
        self.handle = 0


# ------------------------------------------------------------------------ loading
def _model_bytes(model_ptr: int, model_size: int) -> bytes:
    if model_ptr == 0 or model_size == 0:
        raise InvalidParam("the model pointer and size must be non-zero")
    try:
        return read_bytes(model_ptr, model_size)
    except ValueError as error:
        raise InvalidParam(str(error)) from None


def _check_user_memory(offline, work_ptr, work_size, weight_ptr, weight_size):
    """Memory the program supplies must be live device memory of at least the queried size."""
    need_work, need_weight = query_sizes(offline)
    for what, ptr, size, need in (("work", work_ptr, work_size, need_work),
                                  ("weight", weight_ptr, weight_size, need_weight)):
        if ptr == 0:
            continue                                   # the runtime manages this part
        if size < need:
            raise AclError(f"{what} memory of {size} bytes is too small: the model needs {need} "
                           f"(acl.mdl.query_size)", ErrorCode.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID)
        try:
            RUNTIME.memory.checked(ptr, size, f"{what} memory", write=True)
        except AclError as error:
            raise AclError(error.message, ErrorCode.ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID) from None
    return (work_ptr, work_size), (weight_ptr, weight_size)


@implements("mdl.load_from_file")
def load_from_file(model_path):
    """Load an openacl .om (or a plain .onnx); return its model id."""
    return MODELS.load(read_model_file(model_path)).model_id


@implements("mdl.load_from_mem")
def load_from_mem(model_ptr, model_size):
    return MODELS.load(read_model_bytes(_model_bytes(model_ptr, model_size))).model_id


@implements("mdl.load_from_file_with_mem")
def load_from_file_with_mem(model_path, work_ptr, work_size, weight_ptr, weight_size):
    """Load with program-managed work and weight memory (checked; the engine keeps its own)."""
    offline = read_model_file(model_path)
    memory = _check_user_memory(offline, work_ptr, work_size, weight_ptr, weight_size)
    return MODELS.load(offline, memory).model_id


@implements("mdl.load_from_mem_with_mem")
def load_from_mem_with_mem(model_ptr, model_size, work_ptr, work_size, weight_ptr, weight_size):
    offline = read_model_bytes(_model_bytes(model_ptr, model_size))
    memory = _check_user_memory(offline, work_ptr, work_size, weight_ptr, weight_size)
    return MODELS.load(offline, memory).model_id


@implements("mdl.query_size")
def query_size(model_path):
    """(work size, weight size) in bytes, for load_from_file_with_mem."""
    return query_sizes(read_model_file(model_path))


@implements("mdl.query_size_from_mem")
def query_size_from_mem(model_ptr, model_size):
    return query_sizes(read_model_bytes(_model_bytes(model_ptr, model_size)))


@implements("mdl.unload")
def unload(model_id):
    MODELS.unload(model_id)


# ------------------------------------------------------------------------ load configs
_LOAD_FROM_FILE, _LOAD_FROM_FILE_WITH_MEM, _LOAD_FROM_MEM, _LOAD_FROM_MEM_WITH_MEM = 1, 2, 3, 4
_PRIORITY, _LOAD_TYPE, _PATH, _MEM_ADDR, _MEM_SIZE = 0, 1, 2, 3, 4
_WEIGHT_ADDR, _WEIGHT_SIZE, _WORK_ADDR, _WORK_SIZE = 5, 6, 7, 8


def _config(handle) -> ModelConfig:
    return handles.get(handle, ModelConfig, "model config")


@implements("mdl.create_config_handle")
def create_config_handle():
    return handles.register(ModelConfig())


@implements("mdl.destroy_config_handle")
def destroy_config_handle(config_handle):
    handles.remove(_config(config_handle).handle)


@implements("mdl.set_config_opt")
def set_config_opt(config_handle, attr, value):
    """Set one load option; its Python type follows pyACL (str path, int for the rest)."""
    config = _config(config_handle)
    if attr == _PATH:
        if not isinstance(value, str):
            raise ArgumentTypeError("acl.mdl.set_config_opt: ACL_MDL_PATH_PTR takes a str path")
    elif not isinstance(value, int) or isinstance(value, bool):
        raise ArgumentTypeError(f"acl.mdl.set_config_opt: attribute {attr} takes an int")
    if attr == _PRIORITY and not 0 <= value <= 7:
        raise InvalidParam(f"priority {value} is invalid: expected 0 (highest) .. 7")
    if attr == _LOAD_TYPE and value not in (1, 2, 3, 4):
        raise InvalidParam(f"load type {value} is invalid or not supported (1..4: file, file "
                           f"with memory, memory, memory with memory)")
    if not 0 <= attr <= 29:
        raise InvalidParam(f"config attribute {attr} is invalid: expected 0..29")
    config.options[attr] = value


@implements("mdl.load_with_config")
def load_with_config(config_handle):
    options = _config(config_handle).options
    load_type = options.get(_LOAD_TYPE)
    if load_type is None:
        raise InvalidParam("ACL_MDL_LOAD_TYPE_SIZET is not set: set it (1..4) with "
                           "acl.mdl.set_config_opt")
    if load_type in (_LOAD_FROM_FILE, _LOAD_FROM_FILE_WITH_MEM):
        if _PATH not in options:
            raise InvalidParam(f"ACL_MDL_PATH_PTR is not set, and load type {load_type} loads "
                               f"from a file: set the path with acl.mdl.set_config_opt")
        offline = read_model_file(options[_PATH])
    else:
        if _MEM_ADDR not in options or _MEM_SIZE not in options:
            raise InvalidParam(f"ACL_MDL_MEM_ADDR_PTR and ACL_MDL_MEM_SIZET must both be set "
                               f"for load type {load_type} (from memory): set them with "
                               f"acl.mdl.set_config_opt")
        offline = read_model_bytes(_model_bytes(options[_MEM_ADDR], options[_MEM_SIZE]))
    memory = None
    if load_type in (_LOAD_FROM_FILE_WITH_MEM, _LOAD_FROM_MEM_WITH_MEM):
        memory = _check_user_memory(offline, options.get(_WORK_ADDR, 0),
                                    options.get(_WORK_SIZE, 0), options.get(_WEIGHT_ADDR, 0),
                                    options.get(_WEIGHT_SIZE, 0))
    return MODELS.load(offline, memory).model_id


# ------------------------------------------------------------------------ descriptions
def _model_desc(handle) -> ModelDesc:
    return handles.get(handle, ModelDesc, "model desc")


def _filled(handle) -> ModelDescription:
    desc = _model_desc(handle)
    if desc.description is None:
        raise InvalidParam("the model desc is empty: fill it with acl.mdl.get_desc first")
    return desc.description


@implements("mdl.create_desc")
def create_desc():
    return handles.register(ModelDesc())


@implements("mdl.destroy_desc")
def destroy_desc(model_desc):
    handles.remove(_model_desc(model_desc).handle)


@implements("mdl.get_desc")
def get_desc(model_desc, model_id):
    """Fill the desc from a loaded model (note pyACL's order: desc first)."""
    desc = _model_desc(model_desc)
    model = MODELS.get(model_id)
    desc.description, desc.model_id = model.description, model_id


@implements("mdl.get_desc_from_file")
def get_desc_from_file(model_desc, model_path):
    desc = _model_desc(model_desc)
    desc.description, desc.model_id = describe(read_model_file(model_path)), 0


@implements("mdl.get_desc_from_mem")
def get_desc_from_mem(model_desc, model_ptr, model_size):
    desc = _model_desc(model_desc)
    offline = read_model_bytes(_model_bytes(model_ptr, model_size))
    desc.description, desc.model_id = describe(offline), 0


@implements("mdl.get_num_inputs")
def get_num_inputs(model_desc):
    return len(_filled(model_desc).inputs)


@implements("mdl.get_num_outputs")
def get_num_outputs(model_desc):
    return len(_filled(model_desc).outputs)


def _tensor(handle, index, outputs=False):
    description = _filled(handle)
    tensors = description.outputs if outputs else description.inputs
    if index >= len(tensors):
        kind = "output" if outputs else "input"
        raise InvalidParam(f"{kind} index {index} is out of range: the model has "
                           f"{len(tensors)} {kind}(s)")
    return tensors[index]


def _public_name(handle, index, outputs=False) -> str:
    """The name pyACL reports: names of 128+ characters are replaced by an alias."""
    name = _tensor(handle, index, outputs).name
    if len(name) < ACL_MAX_TENSOR_NAME_LEN:
        return name
    kind = "output" if outputs else "input"
    return f"acl_modelId_{_model_desc(handle).model_id}_{kind}_{index}"


def _dims_dict(handle, index, dims, outputs=False) -> dict:
    return {"name": _public_name(handle, index, outputs), "dimCount": len(dims),
            "dims": list(dims)}


@implements("mdl.get_input_size_by_index")
def get_input_size_by_index(model_desc, index):
    return _tensor(model_desc, index).size


@implements("mdl.get_output_size_by_index")
def get_output_size_by_index(model_desc, index):
    return _tensor(model_desc, index, outputs=True).size


@implements("mdl.get_input_dims")
def get_input_dims(model_desc, index):
    """{'name', 'dimCount', 'dims'}; dynamic axes are -1."""
    return _dims_dict(model_desc, index, _tensor(model_desc, index).dims)


@implements("mdl.get_input_dims_v2")
def get_input_dims_v2(model_desc, index):
    """As get_input_dims, except static AIPP inputs: [N, H', W, C'] whose product is the size."""
    return _dims_dict(model_desc, index, _tensor(model_desc, index).dims_v2)


@implements("mdl.get_output_dims")
def get_output_dims(model_desc, index):
    return _dims_dict(model_desc, index, _tensor(model_desc, index, True).dims, outputs=True)


@implements("mdl.get_cur_output_dims")
def get_cur_output_dims(model_desc, index):
    """Output dims of the gear last chosen on the model (the largest if none)."""
    _tensor(model_desc, index, outputs=True)
    description = _filled(model_desc)
    model_id = _model_desc(model_desc).model_id
    gear = None
    if description.gears is not None and model_id:
        try:
            gear = MODELS.get(model_id).current_gear
        except AclError:
            gear = None
    dims = description.output_dims(gear)[index]
    return _dims_dict(model_desc, index, dims, outputs=True)


@implements("mdl.get_input_dims_range")
def get_input_dims_range(model_desc, index):
    tensor = _tensor(model_desc, index)
    description = _filled(model_desc)
    if description.gears is not None:
        return {"rangeCount": 0, "range": []}
    ranges = tensor.shape_range or [[d, d] for d in tensor.dims]
    return {"rangeCount": len(ranges), "range": [list(r) for r in ranges]}


@implements("mdl.get_input_name_by_index")
def get_input_name_by_index(model_desc, index):
    return _public_name(model_desc, index)


@implements("mdl.get_output_name_by_index")
def get_output_name_by_index(model_desc, index):
    return _public_name(model_desc, index, outputs=True)


def _index_by_name(handle, name, outputs):
    description = _filled(handle)
    tensors = description.outputs if outputs else description.inputs
    for index in range(len(tensors)):
        if name in (tensors[index].name, _public_name(handle, index, outputs)):
            return index
    kind = "output" if outputs else "input"
    raise InvalidParam(f"the model has no {kind} named {name!r}")


@implements("mdl.get_input_index_by_name")
def get_input_index_by_name(model_desc, name):
    """acllite probes "ascend_mbatch_shape_data" this way to detect gear models."""
    return _index_by_name(model_desc, name, outputs=False)


@implements("mdl.get_output_index_by_name")
def get_output_index_by_name(model_desc, name):
    return _index_by_name(model_desc, name, outputs=True)


@implements("mdl.get_input_format")
def get_input_format(model_desc, index):
    return _tensor(model_desc, index).format


@implements("mdl.get_output_format")
def get_output_format(model_desc, index):
    return _tensor(model_desc, index, outputs=True).format


@implements("mdl.get_input_data_type")
def get_input_data_type(model_desc, index):
    return _tensor(model_desc, index).data_type


@implements("mdl.get_output_data_type")
def get_output_data_type(model_desc, index):
    return _tensor(model_desc, index, outputs=True).data_type


@implements("mdl.get_tensor_real_name")
def get_tensor_real_name(model_desc, name):
    """Map an alias (of a 128+ character name) back to the real name; a real name maps to itself."""
    description = _filled(model_desc)
    for outputs, tensors in ((False, description.inputs), (True, description.outputs)):
        for index, tensor in enumerate(tensors):
            if name in (tensor.name, _public_name(model_desc, index, outputs)):
                return tensor.name
    raise InvalidParam(f"the model has no tensor named {name!r}")


# ------------------------------------------------------------------------ gear queries
@implements("mdl.get_dynamic_batch")
def get_dynamic_batch(model_desc):
    gears = _filled(model_desc).gears
    batches = [g[0] for g in gears.values] if gears is not None and gears.kind == "batch" else []
    return {"batchCount": len(batches), "batch": batches}


@implements("mdl.get_dynamic_hw")
def get_dynamic_hw(model_desc, index):
    """Image-size gears; ``index`` is unused, as in ACL."""
    gears = _filled(model_desc).gears
    pairs = [list(g) for g in gears.values] if gears is not None and gears.kind == "hw" else []
    return {"hwCount": len(pairs), "hw": pairs}


def _check_unset_index(index):
    if index != _UNSET_INDEX:
        raise InvalidParam(f"index must be -1 (reserved), not {index}")


@implements("mdl.get_input_dynamic_gear_count")
def get_input_dynamic_gear_count(model_desc, index):
    _check_unset_index(index)
    gears = _filled(model_desc).gears
    return len(gears.values) if gears is not None and gears.kind == "dims" else 0


@implements("mdl.get_input_dynamic_dims")
def get_input_dynamic_dims(model_desc, index, gear_count):
    """Each dims gear as {'name': '', 'dimCount', 'dims'}: every data input's dims, concatenated."""
    if gear_count > _MAX_GEAR_QUERY:
        raise InvalidParam(f"gear_count {gear_count} exceeds {_MAX_GEAR_QUERY}")
    _check_unset_index(index)
    gears = _filled(model_desc).gears
    values = gears.values if gears is not None and gears.kind == "dims" else []
    if gear_count < len(values):
        raise InvalidParam(f"gear_count {gear_count} is less than the model's {len(values)} gears")
    result = []
    for gear in values:
        dims = dynamic.full_dims(gears, gear)
        result.append({"name": "", "dimCount": len(dims), "dims": dims})
    return result


@implements("mdl.get_op_attr")
def get_op_attr(model_desc, op_name, attr):
    """Only "_datadump_original_op_names" is defined; its value is the op's own name here."""
    _filled(model_desc)
    if attr != "_datadump_original_op_names":
        raise InvalidParam(f"attribute {attr!r} is not supported: the only one is "
                           f"'_datadump_original_op_names'")
    return op_name


# ------------------------------------------------------------------------ datasets
def _dataset(handle) -> Dataset:
    return handles.get(handle, Dataset, "dataset")


@implements("mdl.create_dataset")
def create_dataset():
    return handles.register(Dataset())


@implements("mdl.destroy_dataset")
def destroy_dataset(dataset):
    """Destroy the dataset and the tensor descs attached to it, not its data buffers."""
    found = _dataset(dataset)
    for desc in found.tensor_descs.values():
        handles.remove(desc.handle)
    handles.remove(found.handle)


@implements("mdl.add_dataset_buffer")
def add_dataset_buffer(dataset, data_buffer):
    """Append a buffer; sizes and counts are checked at execute, not here. Returns the dataset."""
    found = _dataset(dataset)
    found.add(handles.get(data_buffer, DataBuffer, "data buffer"))
    return found.handle


@implements("mdl.get_dataset_num_buffers")
def get_dataset_num_buffers(dataset):
    return len(_dataset(dataset).buffers)


@implements("mdl.get_dataset_buffer")
def get_dataset_buffer(dataset, index):
    buffers = _dataset(dataset).buffers
    if index >= len(buffers):
        raise InvalidParam(f"buffer index {index} is out of range: the dataset has "
                           f"{len(buffers)} buffer(s)")
    return buffers[index].handle


@implements("mdl.set_dataset_tensor_desc")
def set_dataset_tensor_desc(dataset, tensor_desc, index):
    found = _dataset(dataset)
    if index >= len(found.buffers):
        raise InvalidParam(f"index {index} is out of range: the dataset has "
                           f"{len(found.buffers)} buffer(s)")
    desc = None if tensor_desc == 0 else handles.get(tensor_desc, TensorDesc, "tensor desc")
    found.set_tensor_desc(index, desc)
    return found.handle


@implements("mdl.get_dataset_tensor_desc")
def get_dataset_tensor_desc(dataset, index):
    desc = _dataset(dataset).tensor_descs.get(index)
    if desc is None:
        raise InvalidParam(f"the dataset has no tensor desc at index {index}")
    return desc.handle


# ------------------------------------------------------------------------ execution
_objects = handles.objects
_models = MODELS.by_id


@implements("mdl.execute")
def execute(model_id, input, output):
    """Run the model synchronously on the datasets' buffers (bound in place, no copies)."""
    # The hot path: plain lookups first, the full checks (and their messages) on a miss.
    inputs, outputs = _objects.get(input), _objects.get(output)
    if inputs.__class__ is not Dataset or outputs.__class__ is not Dataset:
        inputs = handles.get(input, Dataset, "input dataset")
        outputs = handles.get(output, Dataset, "output dataset")
    model = _models.get(model_id)
    context = RUNTIME.thread.context           # the current context, unchecked: checked below
    if model is None or context is not model.context or context.destroyed:
        model = MODELS.get(model_id)
        model.check_context()
    model.executor.execute(inputs, outputs)


@implements("mdl.execute_async")
def execute_async(model_id, input, output, stream):
    """Queue an execution on the stream; the datasets are checked and bound now."""
    inputs = handles.get(input, Dataset, "input dataset")
    outputs = handles.get(output, Dataset, "output dataset")
    model = MODELS.get(model_id)
    model.check_context()
    target = RUNTIME.stream(stream)
    executor = model.executor
    executor.prepare(inputs, outputs)
    model.enqueue(target, lambda: executor.execute(inputs, outputs, allocate_outputs=False),
                  f"execute_async of model {model_id}")


# ------------------------------------------------------------------------ dynamic gears
@implements("mdl.set_dynamic_batch_size")
def set_dynamic_batch_size(model_id, dataset, index, batch_size):
    dynamic.set_batch(MODELS.get(model_id), _dataset(dataset), index, batch_size)


@implements("mdl.set_dynamic_hw_size")
def set_dynamic_hw_size(model_id, dataset, index, height, width):
    dynamic.set_hw(MODELS.get(model_id), _dataset(dataset), index, height, width)


@implements("mdl.set_input_dynamic_dims")
def set_input_dynamic_dims(model_id, dataset, index, dims):
    dynamic.set_dims(MODELS.get(model_id), _dataset(dataset), index, dims)



# ------------------------------------------------------------------------ dump (openacl.dump)
@implements("mdl.init_dump")
def init_dump(*_ignored):
    from openacl.dump import DUMP

    DUMP.init_dump()


@implements("mdl.set_dump")
def set_dump(config_path=None):
    from openacl.dump import DUMP

    DUMP.set_dump(config_path)


@implements("mdl.finalize_dump")
def finalize_dump(*_ignored):
    from openacl.dump import DUMP

    DUMP.finalize_dump()


@implements("mdl.dump_reg_callback")
def dump_reg_callback(fn, flag):
    from openacl.dump import DUMP

    DUMP.register_callback(fn, flag)


@implements("mdl.dump_unreg_callback")
def dump_unreg_callback(*_ignored):
    from openacl.dump import DUMP

    DUMP.unregister_callback()
