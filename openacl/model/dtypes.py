"""Data types and formats: ACL enums, ONNX element types, numpy dtypes."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from openacl.constants import DataType as D
from openacl.constants import Format as F

__all__ = ["acl_size", "acl_from_onnx", "onnx_from_acl", "numpy_from_acl", "acl_from_numpy",
           "engine_type", "unbindable", "FORMAT_NAMES", "format_from_name"]

_ONNX_TO_ACL = {
    TensorProto.FLOAT: D.ACL_FLOAT, TensorProto.FLOAT16: D.ACL_FLOAT16,
    TensorProto.INT8: D.ACL_INT8, TensorProto.INT32: D.ACL_INT32, TensorProto.UINT8: D.ACL_UINT8,
    TensorProto.INT16: D.ACL_INT16, TensorProto.UINT16: D.ACL_UINT16,
    TensorProto.UINT32: D.ACL_UINT32, TensorProto.INT64: D.ACL_INT64,
    TensorProto.UINT64: D.ACL_UINT64, TensorProto.DOUBLE: D.ACL_DOUBLE,
    TensorProto.BOOL: D.ACL_BOOL, TensorProto.STRING: D.ACL_STRING,
    TensorProto.COMPLEX64: D.ACL_COMPLEX64, TensorProto.COMPLEX128: D.ACL_COMPLEX128,
    TensorProto.BFLOAT16: D.ACL_BF16,
}
_ACL_TO_ONNX = {acl: onnx_type for onnx_type, acl in _ONNX_TO_ACL.items()}

_ACL_TO_NUMPY = {
    D.ACL_FLOAT: np.float32, D.ACL_FLOAT16: np.float16, D.ACL_INT8: np.int8,
    D.ACL_INT32: np.int32, D.ACL_UINT8: np.uint8, D.ACL_INT16: np.int16,
    D.ACL_UINT16: np.uint16, D.ACL_UINT32: np.uint32, D.ACL_INT64: np.int64,
    D.ACL_UINT64: np.uint64, D.ACL_DOUBLE: np.float64, D.ACL_BOOL: np.bool_,
    D.ACL_COMPLEX64: np.complex64, D.ACL_COMPLEX128: np.complex128,
}
_NUMPY_TO_ACL = {np.dtype(t): acl for acl, t in _ACL_TO_NUMPY.items()}

# acl.data_type_size (spec 6.3): anything unlisted answers 8, the C switch's default.
_SIZES = {
    D.ACL_STRING: 0, D.ACL_DT_UNDEFINED: 0, D.ACL_UINT1: 1, D.ACL_INT4: 1, D.ACL_BOOL: 1,
    D.ACL_INT8: 1, D.ACL_UINT8: 1, D.ACL_HIFLOAT8: 1, D.ACL_FLOAT8_E5M2: 1,
    D.ACL_FLOAT8_E4M3FN: 1, D.ACL_FLOAT8_E8M0: 1, D.ACL_FLOAT16: 2, D.ACL_INT16: 2,
    D.ACL_UINT16: 2, D.ACL_BF16: 2, D.ACL_FLOAT: 4, D.ACL_INT32: 4, D.ACL_UINT32: 4,
    D.ACL_COMPLEX32: 4, D.ACL_INT64: 8, D.ACL_UINT64: 8, D.ACL_DOUBLE: 8,
    D.ACL_COMPLEX64: 8, D.ACL_COMPLEX128: 16,
}

FORMAT_NAMES = {"NCHW": F.ACL_FORMAT_NCHW, "NHWC": F.ACL_FORMAT_NHWC, "ND": F.ACL_FORMAT_ND,
                "NCDHW": F.ACL_FORMAT_NCDHW, "NDHWC": F.ACL_FORMAT_NDHWC}


def acl_size(data_type: int) -> int:
    return _SIZES.get(data_type, 8)


def acl_from_onnx(elem_type: int) -> int:
    return int(_ONNX_TO_ACL.get(elem_type, D.ACL_DT_UNDEFINED))


def onnx_from_acl(data_type: int) -> int:
    return _ACL_TO_ONNX[data_type]


def numpy_from_acl(data_type: int) -> np.dtype:
    return np.dtype(_ACL_TO_NUMPY[data_type])


def engine_type(data_type: int):
    """What an engine binding takes for a tensor of this aclDataType: its numpy dtype, or,
    for bfloat16 (numpy has none), the ONNX element type, which onnxruntime's IOBinding takes
    too. ACL_BF16 buffers hold raw 2-byte bfloat16 values, as on an NPU."""
    if data_type == D.ACL_BF16:
        return int(TensorProto.BFLOAT16)
    return numpy_from_acl(data_type)


def unbindable(data_type: int) -> str | None:
    """Why a model input or output of this aclDataType cannot be bound (None: it can)."""
    if data_type == D.ACL_STRING:
        return ("a string tensor (ACL_STRING): model buffers hold fixed-size elements, and "
                "ACL_STRING has none (acl.data_type_size gives 0)")
    if data_type != D.ACL_BF16 and data_type not in _ACL_TO_NUMPY:
        return "of an element type that has no aclDataType openacl can bind"
    return None


def acl_from_numpy(dtype) -> int:
    return int(_NUMPY_TO_ACL[np.dtype(dtype)])


def format_from_name(name: str) -> int:
    return int(FORMAT_NAMES[name.upper()])
