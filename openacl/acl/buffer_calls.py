"""pyACL top-level calls for data buffers and tensor descriptors (spec section 4)."""

from __future__ import annotations

from openacl.acl.build import implements
from openacl.errors import ArgumentTypeError, InvalidParam
from openacl.model.dataset import DataBuffer, TensorDesc
from openacl.model.dtypes import acl_size
from openacl.runtime.handles import handles
from openacl.runtime.pointers import host_bytes

_MAX_RANGE_NUM = 4096


def _buffer(handle) -> DataBuffer:
    return handles.get(handle, DataBuffer, "data buffer")


def _desc(handle) -> TensorDesc:
    return handles.get(handle, TensorDesc, "tensor desc")


def _dims(dims: list, what: str = "dims") -> list[int]:
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise ArgumentTypeError(f"{what} must be a list of ints")
    return list(dims)


# ------------------------------------------------------------------------ data buffers
@implements("acl.create_data_buffer")
def create_data_buffer(data_ptr, size):
    """Describe ``size`` bytes at ``data_ptr``; ``(0, 0)`` is an empty output buffer."""
    return handles.register(DataBuffer(data_ptr, size))


@implements("acl.destroy_data_buffer")
def destroy_data_buffer(data_buffer):
    """Destroy the descriptor only; the memory it points at is the program's to free."""
    buffer = _buffer(data_buffer)
    buffer.destroy()
    handles.remove(buffer.handle)


@implements("acl.get_data_buffer_addr")
def get_data_buffer_addr(data_buffer):
    return _buffer(data_buffer).address


@implements("acl.get_data_buffer_size")
def get_data_buffer_size(data_buffer):
    """Deprecated in pyACL: the size as a C uint32 (truncated beyond 4 GiB)."""
    return _buffer(data_buffer).size & 0xFFFFFFFF


@implements("acl.get_data_buffer_size_v2")
def get_data_buffer_size_v2(data_buffer):
    return _buffer(data_buffer).size


@implements("acl.update_data_buffer")
def update_data_buffer(data_buffer, data_ptr, size):
    _buffer(data_buffer).update(data_ptr, size)


@implements("acl.data_type_size")
def data_type_size(data_type):
    """Bytes per element of an aclDataType (8 for types the C switch does not list)."""
    return acl_size(data_type)


# ------------------------------------------------------------------------ tensor descs
@implements("acl.create_tensor_desc")
def create_tensor_desc(data_type, dims, format):
    return handles.register(TensorDesc(data_type, _dims(dims), format))


@implements("acl.destroy_tensor_desc")
def destroy_tensor_desc(tensor_desc):
    handles.remove(_desc(tensor_desc).handle)


@implements("acl.get_tensor_desc_type")
def get_tensor_desc_type(tensor_desc):
    return _desc(tensor_desc).data_type


@implements("acl.get_tensor_desc_format")
def get_tensor_desc_format(tensor_desc):
    return _desc(tensor_desc).format


@implements("acl.get_tensor_desc_num_dims")
def get_tensor_desc_num_dims(tensor_desc):
    return len(_desc(tensor_desc).dims)


def _dim(desc: TensorDesc, index: int) -> int:
    if index >= len(desc.dims):
        raise InvalidParam(f"dim index {index} is out of range: the desc has "
                           f"{len(desc.dims)} dims")
    return desc.dims[index]


@implements("acl.get_tensor_desc_dim")
def get_tensor_desc_dim(tensor_desc, index):
    return _dim(_desc(tensor_desc), index)


@implements("acl.get_tensor_desc_dim_v2")
def get_tensor_desc_dim_v2(tensor_desc, index):
    return _dim(_desc(tensor_desc), index)


@implements("acl.get_tensor_desc_dim_range")
def get_tensor_desc_dim_range(tensor_desc, index, dim_range_num):
    if dim_range_num > _MAX_RANGE_NUM:
        raise InvalidParam(f"dim_range_num {dim_range_num} exceeds {_MAX_RANGE_NUM}")
    desc = _desc(tensor_desc)
    _dim(desc, index)
    if dim_range_num < 2:
        raise InvalidParam(f"dim_range_num must be 2 (a [low, high] pair), not {dim_range_num}")
    return desc.dim_range(index)


@implements("acl.get_tensor_desc_element_count")
def get_tensor_desc_element_count(tensor_desc):
    return _desc(tensor_desc).element_count


@implements("acl.get_tensor_desc_size")
def get_tensor_desc_size(tensor_desc):
    return _desc(tensor_desc).size


@implements("acl.get_tensor_desc_name")
def get_tensor_desc_name(tensor_desc):
    return _desc(tensor_desc).name


@implements("acl.set_tensor_desc_name")
def set_tensor_desc_name(tensor_desc, name):
    _desc(tensor_desc).name = name


@implements("acl.set_tensor_shape")
def set_tensor_shape(tensor_desc, dims):
    _desc(tensor_desc).dims = _dims(dims)


@implements("acl.set_tensor_origin_shape")
def set_tensor_origin_shape(tensor_desc, dims):
    _desc(tensor_desc).origin_dims = _dims(dims)


@implements("acl.set_tensor_storage_shape")
def set_tensor_storage_shape(tensor_desc, dims):
    _desc(tensor_desc).storage_dims = _dims(dims)


@implements("acl.set_tensor_format")
def set_tensor_format(tensor_desc, format):
    _desc(tensor_desc).format = format


@implements("acl.set_tensor_origin_format")
def set_tensor_origin_format(tensor_desc, format):
    _desc(tensor_desc).origin_format = format


@implements("acl.set_tensor_storage_format")
def set_tensor_storage_format(tensor_desc, format):
    _desc(tensor_desc).storage_format = format


def _ranges(ranges: list, what: str) -> list[list[int]]:
    if not all(isinstance(r, list) and len(r) == 2 and all(isinstance(v, int) for v in r)
               for r in ranges):
        raise ArgumentTypeError(f"{what} must be a list of [low, high] int pairs")
    return [list(r) for r in ranges]


@implements("acl.set_tensor_shape_range")
def set_tensor_shape_range(tensor_desc, dims_range):
    desc = _desc(tensor_desc)
    ranges = _ranges(dims_range, "dims_range")
    if len(ranges) != len(desc.dims):
        raise InvalidParam(f"{len(ranges)} ranges given for a desc of {len(desc.dims)} dims")
    desc.shape_range = ranges


@implements("acl.set_tensor_value_range")
def set_tensor_value_range(tensor_desc, value_range):
    _desc(tensor_desc).value_range = _ranges(value_range, "value_range")


@implements("acl.set_tensor_const")
def set_tensor_const(tensor_desc, data_ptr, size):
    """Record constant data for the tensor (copied now, as ACL copies it)."""
    desc = _desc(tensor_desc)
    if data_ptr == 0 or size == 0:
        raise InvalidParam("constant data pointer and size must be non-zero")
    desc.const_data = host_bytes(data_ptr, size, "acl.set_tensor_const")


@implements("acl.set_tensor_place_ment")
def set_tensor_place_ment(tensor_desc, mem_type):
    if mem_type not in (0, 1, 2):
        raise InvalidParam(f"memory type {mem_type} is invalid: expected 0..2 (aclMemType)")
    _desc(tensor_desc).placement = mem_type


@implements("acl.set_tensor_dynamic_input")
def set_tensor_dynamic_input(tensor_desc, dynamic_input_name):
    _desc(tensor_desc).dynamic_input = dynamic_input_name


_NCHW_NHWC = {(0, 1): (0, 2, 3, 1), (1, 0): (0, 3, 1, 2)}


@implements("acl.trans_tensor_desc_format")
def trans_tensor_desc_format(tensor_desc, format):
    """A new desc in another format: NCHW <-> NHWC dims are permuted; same format copies."""
    desc = _desc(tensor_desc)
    clone = desc.copy()
    if format != desc.format:
        order = _NCHW_NHWC.get((desc.format, format))
        if order is None or len(desc.dims) != 4:
            raise InvalidParam(f"cannot transform format {desc.format} to {format} "
                               f"(supported: NCHW <-> NHWC on 4-d descs)")
        clone.dims = [desc.dims[i] for i in order]
        clone.format = format
    return handles.register(clone)


@implements("acl.get_tensor_desc_address")
def get_tensor_desc_address(tensor_desc):
    return _desc(tensor_desc).handle
