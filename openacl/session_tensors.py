"""What ``ModelSession`` hands out besides arrays: device tensors, copy timings, its error.

``DeviceTensor`` is ais_bench's ``aclruntime.Tensor``: a tensor on a device or the host;
``COPY_TIMES`` records every host-to-device and device-to-host copy of the sessions
(ais_bench's ``MemorySummary``).
"""

from __future__ import annotations

import time
import weakref

import numpy as np

from openacl.errors import AclError
from openacl.runtime import RUNTIME
from openacl.runtime.memory import DEVICE

__all__ = ["SessionError", "CopyTimes", "COPY_TIMES", "DeviceTensor", "free_allocation"]

_perf = time.perf_counter


class SessionError(RuntimeError):
    """A call the session refuses: wrong feeds, a mode the model does not have, ..."""


class CopyTimes:
    """Every host-to-device and device-to-host copy of the sessions, in ms, in order."""

    def __init__(self):
        self.h2d: list[float] = []
        self.d2h: list[float] = []

    def reset(self) -> None:
        self.h2d.clear()
        self.d2h.clear()


COPY_TIMES = CopyTimes()


class DeviceTensor:
    """A tensor on a device or on the host, as ais_bench's ``aclruntime.Tensor``.

    ``to_device`` / ``to_host`` move it (and free what it leaves behind); ``numpy()`` or
    ``np.array(tensor)`` read a host tensor (a device tensor refuses, as on an NPU). Device
    memory is freed by ``free()``, by ``to_host()``, with the session that made it, or when
    the tensor is garbage-collected.
    """

    __slots__ = ("shape", "dtype", "device_id", "_host", "_allocation", "_backend",
                 "_finalizer", "__weakref__")

    def __init__(self, shape, dtype, device_id: int = -1):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.device_id = device_id
        self._host = None
        self._allocation = None
        self._backend = None
        self._finalizer = None

    @classmethod
    def from_array(cls, array: np.ndarray) -> "DeviceTensor":
        tensor = cls(array.shape, array.dtype)
        tensor._host = np.ascontiguousarray(array)
        return tensor

    @classmethod
    def copy_of(cls, address: int, shape, dtype, device_id: int, backend) -> "DeviceTensor":
        """A device tensor holding a copy of ``nbytes`` at device ``address``."""
        tensor = cls(shape, dtype, device_id)
        tensor._allocate(device_id)
        if tensor.nbytes:
            backend.copy(tensor._allocation.address, address, tensor.nbytes)
        return tensor

    def __repr__(self):
        where = "host" if self.is_host else f"device {self.device_id}"
        return f"<DeviceTensor {self.shape} {self.dtype} on {where}>"

    @property
    def nbytes(self) -> int:
        count = 1
        for d in self.shape:
            count *= d
        return count * self.dtype.itemsize

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_host(self) -> bool:
        return self._allocation is None

    @property
    def address(self) -> int:
        if self._allocation is None:
            raise SessionError("the tensor is on the host: call to_device first")
        return self._allocation.address

    def to_device(self, device_id: int = 0) -> "DeviceTensor":
        if self._allocation is not None:
            if device_id == self.device_id:
                return self
            self.to_host()
        if self._host is None:
            raise SessionError("the tensor was freed")
        self._allocate(device_id)
        if self.nbytes:
            begin = _perf()
            self._backend.copy(self._allocation.address, self._host.ctypes.data, self.nbytes)
            COPY_TIMES.h2d.append((_perf() - begin) * 1000.0)
        self._host = None
        return self

    def to_host(self) -> "DeviceTensor":
        if self._allocation is None:
            if self._host is None:
                raise SessionError("the tensor was freed")
            return self
        array = np.empty(self.shape, self.dtype)
        if array.nbytes:
            begin = _perf()
            self._backend.copy(array.ctypes.data, self._allocation.address, array.nbytes)
            COPY_TIMES.d2h.append((_perf() - begin) * 1000.0)
        self.free()
        self._host = array
        self.device_id = -1
        return self

    def numpy(self) -> np.ndarray:
        return np.asarray(self)

    def __array__(self, dtype=None, copy=None):
        if self._allocation is not None:
            raise SessionError("tensor is in npu. can't convert to numpy array (call "
                               "to_host first)")
        if self._host is None:
            raise SessionError("the tensor was freed")
        array = self._host
        return array if dtype is None else array.astype(dtype, copy=False)

    def copy_to(self, address: int) -> None:
        """Copy this tensor's bytes to device ``address`` (an input block)."""
        if self._allocation is not None:
            self._backend.copy(address, self._allocation.address, self.nbytes)
        elif self._host is not None:
            _backend_of_address(address).copy(address, self._host.ctypes.data, self.nbytes)
        else:
            raise SessionError("the tensor was freed")

    def free(self) -> None:
        """Free the device memory (idempotent); a host tensor is dropped."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._allocation = None

    def _allocate(self, device_id: int) -> None:
        device = RUNTIME.device(device_id)
        self._allocation = RUNTIME.memory.allocate(device.arena, max(self.nbytes, 1), DEVICE)
        self._backend = device.backend
        self._finalizer = weakref.finalize(self, free_allocation, self._allocation)
        self.device_id = device_id


def free_allocation(allocation) -> None:
    """Free ``allocation`` if it is still the live one at its address (not after finalize)."""
    memory = RUNTIME.memory
    if memory.find(allocation.address) is allocation:
        try:
            memory.free(allocation.address, DEVICE)
        except AclError:
            pass


def _backend_of_address(address: int):
    for device in RUNTIME.devices:
        if device.arena.base <= address < device.arena.end:
            return device.backend
    return RUNTIME.devices[0].backend
