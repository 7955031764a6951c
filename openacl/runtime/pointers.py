"""Host objects as raw addresses, and raw addresses as host objects (``acl.util``).

Addresses handed out for ``bytes`` and numpy arrays are remembered with the object's extent,
so a later copy through them is checked (see ``openacl.runtime.memory``). The object is
borrowed: the program keeps it alive, as with real pyACL.
"""

from __future__ import annotations

import ctypes
import math
import warnings

import numpy as np

from openacl.errors import AclError, ArgumentValueError
from openacl.runtime.runtime import RUNTIME

__all__ = ["host_bytes", "bytes_address", "array_address", "contiguous_array_address", "read_bytes",
           "wrap_as_array", "dtype_of_typenum", "raw_array"]


def _bytes_data_offset() -> int:
    probe = b"openacl"
    return ctypes.cast(ctypes.c_char_p(probe), ctypes.c_void_p).value - id(probe)


_BYTES_OFFSET = _bytes_data_offset()
_TYPENUMS = {np.dtype(code).num: np.dtype(code) for code in np.typecodes["All"]
             if code not in "MmOUSV"}


def bytes_address(data) -> int:
    address = id(data) + _BYTES_OFFSET
    RUNTIME.memory.borrowed.remember(address, len(data), data)
    return address


def array_address(array) -> int:
    warnings.warn("acl.util.numpy_to_ptr is deprecated: use acl.util.bytes_to_ptr",
                  DeprecationWarning, stacklevel=3)
    if not array.flags.c_contiguous:
        warnings.warn("acl.util.numpy_to_ptr: the array is not C-contiguous; its address is "
                      "returned, but a copy through it will not see the elements in order",
                      DeprecationWarning, stacklevel=3)
    return _remember_array(array)


def contiguous_array_address(array) -> tuple[int, np.ndarray]:
    contiguous = np.ascontiguousarray(array)
    return _remember_array(contiguous), contiguous


def _remember_array(array: np.ndarray) -> int:
    address = array.__array_interface__["data"][0]
    if array.size:
        low, high = np.lib.array_utils.byte_bounds(array)
        RUNTIME.memory.borrowed.remember(low, high - low, array)
    return address


def host_bytes(address: int, size: int, call: str) -> bytes:
    """Copy ``size`` bytes the host can read at ``address``; AclError (107000) if it cannot."""
    if size == 0:
        return b""
    size = RUNTIME.memory.host_access(address, size, call, write=False)
    return ctypes.string_at(address, size)


def read_bytes(address: int, size: int) -> bytes:
    """``acl.util.ptr_to_bytes``: the binding answers a bad pointer with ValueError."""
    if size == 0:
        return b""
    if address == 0:
        raise ArgumentValueError("acl.util.ptr_to_bytes: the pointer is NULL (0)")
    try:
        return host_bytes(address, size, "acl.util.ptr_to_bytes")
    except AclError as error:
        raise ArgumentValueError(f"acl.util.ptr_to_bytes: {error.message}") from None


def dtype_of_typenum(typenum: int) -> np.dtype:
    try:
        return _TYPENUMS[typenum]
    except KeyError:
        raise ArgumentValueError(f"acl.util.ptr_to_numpy: {typenum} is not a NumPy type number "
                         f"(e.g. 11 float32, 23 float16, 5 int32)") from None


def wrap_as_array(address: int, shape, typenum: int) -> np.ndarray:
    """Wrap memory at ``address`` as a writeable array, without copy and without ownership."""
    if any(d < 0 for d in shape):
        raise ArgumentValueError(f"acl.util.ptr_to_numpy: negative dimension in {shape}")
    dtype = dtype_of_typenum(typenum)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes == 0:
        return np.empty(shape, dtype)
    if address == 0:
        raise ArgumentValueError("acl.util.ptr_to_numpy: the pointer is NULL (0)")
    try:
        RUNTIME.memory.host_access(address, nbytes, "acl.util.ptr_to_numpy", write=True)
    except AclError as error:
        raise ArgumentValueError(f"acl.util.ptr_to_numpy: {error.message}") from None
    return raw_array(address, shape, dtype)


def raw_array(address: int, shape, dtype) -> np.ndarray:
    """A writeable array over the memory at ``address``: no copy, no ownership, no check
    (the caller has checked the extent and keeps the memory alive)."""
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    if count == 0:
        return np.empty(shape, dtype)
    raw = (ctypes.c_char * (count * dtype.itemsize)).from_address(address)
    return np.frombuffer(raw, dtype, count=count).reshape(shape)
