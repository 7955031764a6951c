"""External tensor data (ONNX ``save_as_external_data``): checked, then read into the model.

An ONNX model may keep its weights in side files named by each tensor's ``location``. openacl
reads them itself, and only from the model's own folder: a location that is absolute, climbs
out of the folder (``..`` or a symlink), or names no regular file is refused, so that a model
file can never make a loader (or ``atc``) read ``/etc/passwd``. onnx >= 1.16 checks this too;
openacl supports older onnx and wants one clear message either way. After loading, the model
is self-contained: the engine loads it from bytes, where onnxruntime would resolve locations
against the working directory instead of the model's folder.
"""

from __future__ import annotations

import math
import os

import onnx

__all__ = ["ExternalDataError", "external_tensors", "load_external_data"]

_PACKED_4_BIT = {getattr(onnx.TensorProto, name) for name in ("INT4", "UINT4", "FLOAT4E2M1")
                 if hasattr(onnx.TensorProto, name)}


class ExternalDataError(ValueError):
    """A tensor's external data cannot be read safely; the message names tensor and location."""


def external_tensors(model: onnx.ModelProto) -> list[onnx.TensorProto]:
    """Every tensor of the model (subgraphs included) whose data lives in a side file."""
    return [tensor for tensor in _tensors(model.graph)
            if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data)]


def load_external_data(model: onnx.ModelProto, folder: str) -> int:
    """Read every external tensor's bytes from ``folder`` into the model; return the count."""
    tensors = external_tensors(model)
    root = os.path.realpath(folder or ".")
    for tensor in tensors:
        entries = {entry.key: entry.value for entry in tensor.external_data}
        location = entries.get("location", "")
        where = f"tensor [{tensor.name}] keeps its data in [{location}]"
        if not isinstance(location, str) or not location or "\0" in location:
            raise ExternalDataError(f"tensor [{tensor.name}] is marked external but names no "
                                    f"usable location ({location!r})")
        if os.path.isabs(location) or location.startswith(("/", "\\")):
            raise ExternalDataError(f"{where}, an absolute path; external data must be a "
                                    f"relative path inside the model's folder")
        path = os.path.realpath(os.path.join(root, location))
        if os.path.commonpath([root, path]) != root:
            raise ExternalDataError(f"{where}, outside the model's folder {root}")
        if not os.path.isfile(path):
            raise ExternalDataError(f"{where}, which is not a file in the model's folder")
        offset, length = _int(entries, "offset", 0, where), _int(entries, "length", None, where)
        size = os.path.getsize(path)
        if offset > size or (length is not None and offset + length > size):
            raise ExternalDataError(f"{where} at offset {offset}, length {length}, beyond the "
                                    f"end of that file ({size} bytes)")
        try:
            with open(path, "rb") as file:
                file.seek(offset)
                data = file.read(size - offset if length is None else length)
        except OSError as error:
            raise ExternalDataError(f"{where}, which cannot be read: {error.strerror}") from None
        need = _nbytes(tensor)
        if need is not None and len(data) != need:
            raise ExternalDataError(f"{where}, which holds {len(data)} bytes for it; its dims "
                                    f"{list(tensor.dims)} need {need}")
        tensor.raw_data = data
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT
    return len(tensors)


def _nbytes(tensor: onnx.TensorProto) -> int | None:
    """The raw bytes a tensor of fixed-size elements holds (None: not a fixed size)."""
    if tensor.data_type in _PACKED_4_BIT:                  # two elements per byte
        return (math.prod(tensor.dims) + 1) // 2
    if tensor.data_type in (onnx.TensorProto.STRING, onnx.TensorProto.UNDEFINED):
        return None
    try:
        itemsize = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except (KeyError, TypeError, ValueError):
        return None
    return math.prod(tensor.dims) * itemsize


def _int(entries: dict, key: str, default, where: str):
    text = entries.get(key)
    if text is None:
        return default
    if not isinstance(text, str) or not text.isdigit():
        raise ExternalDataError(f"{where} with {key} {text!r}; a non-negative integer was "
                                f"expected")
    return int(text)


def _tensors(graph: onnx.GraphProto):
    """Initializers, sparse initializers and tensor attributes, in nested graphs too."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            if attribute.HasField("sparse_tensor"):
                yield attribute.sparse_tensor.values
                yield attribute.sparse_tensor.indices
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from _tensors(attribute.g)
            for subgraph in attribute.graphs:
                yield from _tensors(subgraph)
