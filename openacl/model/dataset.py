"""Data buffers, datasets and tensor descriptors: the host-side structures of model I/O.

They need no ACL state (pyACL creates them before ``acl.init`` if asked) and own no device
memory: a data buffer only records an address and a size. Each change that can invalidate
an executor's cached binding bumps a counter the executor compares.
"""

from __future__ import annotations

import itertools
import math

from openacl.model.dtypes import acl_size

__all__ = ["DataBuffer", "Dataset", "TensorDesc", "buffer_epoch", "epoch_cell"]

_epoch = itertools.count(1)
_current_epoch = [0]


def buffer_epoch() -> int:
    """A number that changes whenever any data buffer is retargeted or destroyed."""
    return _current_epoch[0]


def epoch_cell() -> list[int]:
    """The one-element list holding the epoch, for hot paths that read it without a call."""
    return _current_epoch


def _bump() -> None:
    _current_epoch[0] = next(_epoch)


class DataBuffer:
    """``aclDataBuffer``: an (address, size) pair describing one input or output."""

    __slots__ = ("address", "size", "handle", "destroyed")

    def __init__(self, address: int, size: int):
        self.address = address
        self.size = size
        self.handle = 0
        self.destroyed = False

    def update(self, address: int, size: int) -> None:
        self.address = address
        self.size = size
        _bump()

    def destroy(self) -> None:
        self.destroyed = True
        _bump()


class Dataset:
    """``aclmdlDataset``: an ordered list of data buffers, plus optional tensor descs."""

    def __init__(self):
        self.buffers: list[DataBuffer] = []
        self.tensor_descs: dict[int, TensorDesc] = {}
        self.handle = 0
        self.version = 0
        self.dynamic_choice = None        # the gear chosen for this input dataset, if any

    def add(self, buffer: DataBuffer) -> None:
        self.buffers.append(buffer)
        self.version += 1

    def set_tensor_desc(self, index: int, desc: TensorDesc | None) -> None:
        if desc is None:
            self.tensor_descs.pop(index, None)
        else:
            self.tensor_descs[index] = desc
        self.version += 1

    def touch(self) -> None:
        self.version += 1


class TensorDesc:
    """``aclTensorDesc``: data type, shape and format of one tensor."""

    def __init__(self, data_type: int, dims: list[int], format_: int):
        self.data_type = data_type
        self.dims = list(dims)
        self.format = format_
        self.origin_dims = list(dims)
        self.origin_format = format_
        self.storage_dims: list[int] | None = None
        self.storage_format: int | None = None
        self.name = ""
        self.shape_range: list[list[int]] | None = None
        self.value_range: list[list[int]] | None = None
        self.const_data: bytes | None = None
        self.placement = 0
        self.dynamic_input = ""
        self.handle = 0

    @property
    def element_count(self) -> int:
        if any(d < 0 for d in self.dims):
            return 0
        return math.prod(self.dims)

    @property
    def size(self) -> int:
        return self.element_count * acl_size(self.data_type)

    def dim_range(self, index: int) -> list[int]:
        if self.shape_range is not None and index < len(self.shape_range):
            return list(self.shape_range[index])
        return [self.dims[index], self.dims[index]]

    def copy(self) -> "TensorDesc":
        clone = TensorDesc(self.data_type, self.dims, self.format)
        clone.__dict__.update({k: v for k, v in self.__dict__.items() if k != "handle"})
        clone.dims = list(self.dims)
        return clone
