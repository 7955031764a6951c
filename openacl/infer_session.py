"""A model session: numpy in, numpy out, on openacl's runtime (the core of ``InferSession``).

``ModelSession`` loads an offline model on one device and keeps, for its whole life, one
block of device memory per input and per output, the datasets that describe them and the
engine binding built over them. An inference copies each array straight into its input
block (one copy), executes the model ``loop`` times and copies each output into a new
array (one copy): the per-call path is those copies and the execution.

Dynamic models pick their gear from the arrays' shapes:

* ``"dymbatch"``: the smallest batch gear >= the arrays' batch. A batch that is not a gear
  is padded with zeros up to that gear and the outputs are cut back to the real batch (an
  openacl extension: Huawei's ``aclruntime`` refuses a batch that is not a gear);
* ``"dymhw"`` / ``"dymdims"``: the gear the arrays' dynamic axes name (it must be one);
* ``"dymshape"`` (shape-range models): the arrays' shapes, within the model's ranges;
  outputs get ``custom_sizes`` bytes each.

Each gear gets its own pair of datasets over the same memory, so alternating gears never
rebinds. Timings of every inference are kept split into host-to-device copies, executions
and device-to-host copies (``last_timings``, ``timings``); every copy is also recorded in
the process-wide ``COPY_TIMES`` (what ais_bench's ``MemorySummary`` reports).

Errors are ``SessionError`` (a ``RuntimeError``) naming what was expected; failures of the
runtime below propagate as ``openacl.errors.AclError``.
"""

from __future__ import annotations

import atexit
import ctypes
import itertools
import math
import threading
import time
import weakref

import numpy as np

from openacl.constants import DataType
from openacl.errors import AclError, GeParamInvalid
from openacl.model import dynamic
from openacl.model.aipp_dynamic import DynamicAipp, check_for_model, pack
from openacl.model.dataset import DataBuffer, Dataset, TensorDesc
from openacl.model.description import ModelDescription, TensorInfo
from openacl.model.model import MODELS
from openacl.model.om import read_model_file
from openacl.model.ranged import RangedExecutor
from openacl.runtime import RUNTIME, transfers
from openacl.runtime.handles import handles
from openacl.runtime.memory import DEVICE

__all__ = ["ModelSession", "DeviceTensor", "SessionError", "CopyTimes", "COPY_TIMES", "MODES",
           "finalize_sessions"]

MODES = ("static", "dymbatch", "dymhw", "dymdims", "dymshape")
# The issue's and newcomers' spellings of ais_bench's mode names.
_MODE_ALIASES = {"dynbatch": "dymbatch", "dynhw": "dymhw", "dyndims": "dymdims",
                 "dynshape": "dymshape"}
_GEAR_MODES = {"batch": "dymbatch", "hw": "dymhw", "dims": "dymdims"}
_DEFAULT_CUSTOM_SIZE = 100000
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


class ModelSession:
    """One model loaded on one device, with its input and output memory bound once.

    Parameters
    ----------
    model_path
        An openacl ``.om`` (or a plain ``.onnx``).
    device_id
        The device to load on (``OPENACL_DEVICE_COUNT`` devices exist).
    loop
        Executions per inference (each timed in ``exec_times``).
    config_path
        The ``acl.init`` configuration (dump / profiling JSON), used when this session is
        the one that initializes the runtime.

    The runtime is initialized on first use if the program has not called ``acl.init``;
    ``finalize_sessions`` (or interpreter exit) closes every session and finalizes it
    again. ``close`` releases this session's model and memory (idempotent; also done when
    the session is garbage-collected).

    Attributes
    ----------
    inputs, outputs
        ``TensorInfo`` of the model's data inputs (not ``ascend_mbatch_shape_data`` nor
        ``ascend_dynamic_aipp_data``) and outputs.
    exec_times
        Every execution's time in ms, in order (``loop`` entries per inference).
    h2d_times, compute_times, d2h_times
        Per inference, in ms: the copies of all inputs in, the ``loop`` executions, the
        copies of all outputs out (``timings`` / ``last_timings()`` give them as dicts).
    """

    def __init__(self, model_path: str, device_id: int = 0, loop: int = 1,
                 config_path: str | None = None):
        if not isinstance(loop, int) or isinstance(loop, bool) or loop < 1:
            raise SessionError(f"loop must be an int >= 1, not {loop!r}")
        offline = read_model_file(model_path)
        state = _State(device_id, config_path)
        self._state = state
        self._finalizer = weakref.finalize(self, state.close)
        _LIVE.add(self)
        try:
            state.load(offline)
        except BaseException:
            self.close()
            raise
        self.device_id = device_id
        self.loop = loop
        self.model_path = model_path
        self.description: ModelDescription = state.description
        self.inputs: list[TensorInfo] = state.description.data_inputs
        self.outputs: list[TensorInfo] = state.description.outputs
        self.gears = state.description.gears
        self.ranged = isinstance(state.model.executor, RangedExecutor)
        self.exec_times: list[float] = []
        self.h2d_times: list[float] = []          # per inference: all inputs' copies
        self.compute_times: list[float] = []      # per inference: the loop's executions
        self.d2h_times: list[float] = []          # per inference: all outputs' copies
        self._tensors: weakref.WeakSet = weakref.WeakSet()

    def __repr__(self):
        return f"<ModelSession {self.model_path!r} on device {self.device_id}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ inference
    def run(self, feeds, mode: str = "static", custom_sizes=_DEFAULT_CUSTOM_SIZE,
            out_array: bool = True, gear: tuple | None = None) -> list:
        """Infer once: copy ``feeds`` in, execute ``loop`` times, hand the outputs back.

        ``feeds`` is a sequence with one array per data input (numpy arrays, numpy scalars,
        objects with ``.numpy()`` such as torch tensors, or ``DeviceTensor``). Returns a list
        of numpy arrays, or of ``DeviceTensor`` on the device when ``out_array`` is False
        (a batch padded to its gear is cut back in arrays; device tensors keep the gear's).
        ``gear`` names the gear of a gear model outright (then each feed needs only the
        gear's element count: flat buffers are fine); otherwise the feeds' shapes choose it.
        """
        # The hot path: a static model fed arrays of its dtypes and shapes costs the
        # checks below, one copy per input and output, and the executions.
        state = self._state
        if state.model is None:
            raise SessionError("the session was released (free_resource / close): create a "
                               "new one")
        arrays = [feed if feed.__class__ is np.ndarray and feed.flags.c_contiguous
                  else _as_array(feed) for feed in feeds]
        ioset = state.static_set
        real_batch = None
        if mode == "static" and ioset is not None and len(arrays) == ioset.count:
            for array, shape, dtype in zip(arrays, ioset.input_shapes, ioset.input_dtypes):
                if array.shape != shape or array.dtype != dtype:
                    _check_arrays(arrays, self.inputs, ioset.input_shapes)
                    break
        else:
            ioset, real_batch = self._select(arrays, mode, custom_sizes, gear)
        # Nothing below needs a current context: the thread's own stays as it is.
        h2d = COPY_TIMES.h2d
        start = mark = _perf()
        views = ioset.input_views
        for index, array in enumerate(arrays):
            if array.__class__ is DeviceTensor:
                array.copy_to(ioset.input_addresses[index])
            elif views is not None:
                view = views[index]
                if array.shape != view.shape:
                    view = view.reshape(-1)[:array.size]    # flat, or a dynamic-AIPP image
                    array = array.reshape(-1)
                view[...] = array
            else:
                state.backend.copy(ioset.input_addresses[index], array.ctypes.data,
                                   array.nbytes)
            now = _perf()
            h2d.append((now - mark) * 1000.0)
            mark = now
        started = mark
        execute = state.executor.execute
        inputs, outputs = ioset.inputs, ioset.outputs
        exec_times = self.exec_times
        try:
            for _ in range(self.loop):
                begin = _perf()
                execute(inputs, outputs)
                exec_times.append((_perf() - begin) * 1000.0)
        except GeParamInvalid as error:
            if ioset.custom_sizes is None:
                raise
            raise SessionError(f"{error.message} (the outputs were given custom_sizes "
                               f"{ioset.custom_sizes} bytes: pass larger custom_sizes)") from None
        computed = _perf()
        views = ioset.output_views
        if out_array and views is not None and real_batch is None:
            d2h = COPY_TIMES.d2h
            results = []
            mark = computed
            for view in views:
                results.append(view.copy())
                now = _perf()
                d2h.append((now - mark) * 1000.0)
                mark = now
        else:
            results = self._outputs(ioset, real_batch, out_array)
        done = _perf()
        self.h2d_times.append((started - start) * 1000.0)
        self.compute_times.append((computed - started) * 1000.0)
        self.d2h_times.append((done - computed) * 1000.0)
        return results

    @property
    def timings(self) -> list[dict]:
        """One ``{"h2d": ms, "compute": ms, "d2h": ms}`` per inference, in order."""
        return [{"h2d": h, "compute": c, "d2h": d}
                for h, c, d in zip(self.h2d_times, self.compute_times, self.d2h_times)]

    def last_timings(self) -> dict | None:
        """``{"h2d": ms, "compute": ms, "d2h": ms}`` of the last inference (None before)."""
        if not self.compute_times:
            return None
        return {"h2d": self.h2d_times[-1], "compute": self.compute_times[-1],
                "d2h": self.d2h_times[-1]}

    def reset_times(self) -> None:
        for times in (self.exec_times, self.h2d_times, self.compute_times, self.d2h_times):
            times.clear()

    def iterate(self, feeds, in_out_list, times: int, mode: str = "static",
                custom_sizes=_DEFAULT_CUSTOM_SIZE) -> list:
        """Infer ``times`` times; before each run after the first, input ``i`` takes output
        ``in_out_list[i]`` of the previous run (``-1``: keeps its data). Device-to-device
        copies, one device-to-host copy at the end."""
        if len(in_out_list) != len(self.inputs):
            raise SessionError("inputs' amount and length of in_out_list not matched! "
                               f"(the model has {len(self.inputs)} inputs; in_out_list is "
                               f"{list(in_out_list)})")
        for index, source in enumerate(in_out_list):
            if not isinstance(source, int) or not -1 <= source < len(self.outputs):
                raise SessionError(f"in_out_list[{index}] = {source!r}: expected -1 or an "
                                   f"output index 0..{len(self.outputs) - 1}")
        if times == 1 or all(source < 0 for source in in_out_list):
            results = None
            for _ in range(times):
                results = self.run(feeds, mode, custom_sizes)
            return results
        outputs = self.run(feeds, mode, custom_sizes, out_array=False)
        for _ in range(times - 1):
            arrays = [feeds[i] if source < 0 else outputs[source]
                      for i, source in enumerate(in_out_list)]
            try:
                next_outputs = self.run(arrays, mode, custom_sizes, out_array=False)
            finally:
                for tensor in outputs:
                    tensor.free()
            outputs = next_outputs
        return [tensor.to_host().numpy() for tensor in outputs]

    # ------------------------------------------------------------------ dynamic AIPP
    @property
    def has_dynamic_aipp(self) -> bool:
        return bool(self._state.description.aipp_data)

    def set_dynamic_aipp(self, params: DynamicAipp) -> None:
        """Check a dynamic-AIPP parameter set against the model and write it into the
        ``ascend_dynamic_aipp_data`` buffer of every dynamic-AIPP input."""
        state = self._state
        description = state.description
        if not description.aipp_data:
            raise SessionError("the model has no dynamic AIPP input (build it with atc "
                               "--insert_op_conf and aipp_mode: dynamic)")
        for index, data_index in description.aipp_data.items():
            config = description.inputs[data_index].aipp
            check_for_model(params.params, config, config.model_dims[0])
            data = pack(params.params)
            allocation = state.aipp_blocks[index]
            transfers.write_runtime(allocation.address, data, "ascend_dynamic_aipp_data",
                                    state.backend)

    def make_current(self) -> None:
        """Make the session's context (its device's default context) the calling thread's."""
        RUNTIME.set_current_context(self._state.context)

    # ------------------------------------------------------------------ tensors
    def device_tensor(self, array) -> "DeviceTensor":
        """A copy of ``array`` in this session's device memory (freed with the session)."""
        tensor = DeviceTensor.from_array(_as_array(array)).to_device(self.device_id)
        self._tensors.add(tensor)
        return tensor

    # ------------------------------------------------------------------ release
    def close(self) -> None:
        """Release the model, its memory and the tensors it handed out (idempotent)."""
        for tensor in list(getattr(self, "_tensors", ())):
            tensor.free()
        self._finalizer()
        _LIVE.discard(self)

    def current_input_shapes(self) -> list[tuple]:
        """Each data input's shape as the last inference took it (a gear's shape, the
        shape-range inputs' real shapes; the declared dims before any inference)."""
        state = self._state
        if state.range_set is not None:
            return [tuple(desc.dims) for desc in state.range_set.input_descs]
        gear = self.current_gear
        if gear is not None:
            shapes = self.gears.input_shapes[gear]
            return [tuple(shapes.get(t.name, t.dims)) for t in self.inputs]
        return [tuple(t.dims) for t in self.inputs]

    @property
    def current_gear(self) -> tuple | None:
        """The gear the last inference ran (None for models without gears)."""
        model = self._state.model
        return model.current_gear if model is not None and self.gears is not None else None

    @property
    def closed(self) -> bool:
        return self._state.model is None

    # ------------------------------------------------------------------ internals
    def _select(self, arrays, mode, custom_sizes, gear=None):
        """The I/O set (gear) for these arrays, checked; arrays padded in place if needed."""
        state = self._state
        if len(arrays) != len(self.inputs):
            raise SessionError(f"input datas and intensors nums not matched! The model takes "
                               f"{len(self.inputs)} input(s) "
                               f"{[t.name for t in self.inputs]}; {len(arrays)} were given")
        mode = _MODE_ALIASES.get(mode, mode)
        if mode not in MODES:
            raise SessionError(f"wrong infer_mode:{mode}, only support \"static\",\"dymbatch\","
                               f"\"dymhw\",\"dymdims\",\"dymshape\"")
        gears = self.gears
        if self.ranged:
            if mode not in ("static", "dymshape"):
                raise SessionError(f"not a {mode} model! It is a shape-range (dynamic shape) "
                                   f"model: infer with mode='dymshape'")
            return state.ranged_set(arrays, custom_sizes, mode == "dymshape"), None
        if gears is None:
            if mode not in ("static", "dymshape"):
                raise SessionError(f"not a {mode} model! It is a static model: infer with "
                                   f"mode='static'")
            if mode == "dymshape":
                _custom_sizes(custom_sizes, self.outputs, True)      # checked, as ais_bench does
            ioset = state.static_set
            _check_arrays(arrays, self.inputs, ioset.input_shapes)
            return ioset, None
        wanted = _GEAR_MODES[gears.kind]
        if mode != wanted:
            raise SessionError(f"not a {mode} model! It has dynamic {gears.kind} gears "
                               f"{_gear_list(gears)}: infer with mode='{wanted}'")
        if gear is None:
            gear, batch = _choose_gear(gears, self.inputs, arrays)
        else:
            gear, batch = tuple(int(v) for v in gear), None
            if gear not in gears.values:
                raise SessionError(f"{list(gear)} is not a gear of the model; its "
                                   f"{gears.kind} gears are {_gear_list(gears)}")
        ioset = state.gear_set(gear)
        if batch is not None:
            _pad_batch(arrays, self.inputs, gears, gear[0])
        _check_arrays(arrays, self.inputs, ioset.input_shapes)
        return ioset, batch

    def _outputs(self, ioset, real_batch, out_array):
        state = self._state
        copy = state.backend.copy
        d2h = COPY_TIMES.d2h
        shapes = ioset.output_shapes if ioset.output_shapes is not None \
            else ioset.read_output_shapes()
        views = ioset.output_views
        results = []
        for index, (address, shape, dtype) in enumerate(zip(ioset.output_addresses, shapes,
                                                            ioset.output_dtypes)):
            begin = _perf()
            if not out_array:
                array = DeviceTensor.copy_of(address, shape, dtype, self.device_id,
                                             state.backend)
                self._tensors.add(array)
            else:
                axis = ioset.batch_axes.get(index) if real_batch is not None else None
                if views is not None:
                    view = views[index]
                    if axis is not None:
                        view = _cut_batch(view, axis, real_batch)
                    array = view.copy()
                else:
                    array = np.empty(shape, dtype)
                    if array.nbytes:
                        copy(array.ctypes.data, address, array.nbytes)
                    if axis is not None:
                        array = _cut_batch(array, axis, real_batch).copy()
                d2h.append((_perf() - begin) * 1000.0)
            results.append(array)
        return results


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
        self._finalizer = weakref.finalize(self, _free_allocation, self._allocation)
        self.device_id = device_id


def finalize_sessions() -> None:
    """Close every live session; finalize the runtime if a session initialized it."""
    for session in list(_LIVE):
        session.close()
    with _LEASE.lock:
        owned, _LEASE.owned = _LEASE.owned, False
        if owned and RUNTIME.initialized:
            RUNTIME.finalize()


# ---------------------------------------------------------------------- internals
class _Lease:
    """Who initialized the runtime: a session (finalized by finalize_sessions) or the program."""

    def __init__(self):
        self.lock = threading.Lock()
        self.owned = False

    def acquire(self, device_id: int, config_path: str | None) -> None:
        """Initialize the runtime if nobody has; hold a reference on the device (its default
        context is the session's). The thread's current context is left as it was."""
        with self.lock:
            if not RUNTIME.initialized:
                RUNTIME.init(config_path)
                self.owned = True
            previous = RUNTIME.thread.context
            RUNTIME.set_device(device_id)
            if previous is not None and not previous.destroyed:
                RUNTIME.set_current_context(previous)

    @staticmethod
    def release(device_id: int) -> None:
        if RUNTIME.initialized:
            try:
                RUNTIME.reset_device(device_id)
            except AclError:
                pass


_LEASE = _Lease()
_LIVE: "weakref.WeakSet[ModelSession]" = weakref.WeakSet()
# Executor binding-cache keys of session datasets: negative, never a pyACL handle.
_dataset_keys = itertools.count(-1, -1)


class _IOSet:
    """One gear's (or the static model's) datasets over the session's memory."""

    def __init__(self, inputs: Dataset, outputs: Dataset, input_shapes, output_shapes,
                 input_addresses, output_addresses, output_dtypes):
        self.inputs = inputs
        self.outputs = outputs
        self.input_shapes = input_shapes          # per data input: expected shape
        self.output_shapes = output_shapes        # per output
        self.input_addresses = input_addresses
        self.output_addresses = output_addresses
        self.output_dtypes = output_dtypes
        self.batch_axes: dict[int, int] = {}      # output index -> its batch axis
        self.custom_sizes = None                  # shape-range outputs: the bytes given
        self.input_descs: list[TensorDesc] = []   # shape-range inputs: their shapes
        self.count = len(input_addresses)
        self.input_dtypes: list = []
        self.input_views = None                   # numpy views of the blocks (cpu backend)
        self.output_views = None

    def read_output_shapes(self) -> list[tuple]:
        descs = self.outputs.tensor_descs
        return [tuple(descs[i].dims) for i in range(len(self.output_addresses))]


class _State:
    """What a session owns, released by ``close`` (also from the garbage collector)."""

    def __init__(self, device_id: int, config_path: str | None):
        if not isinstance(device_id, int) or isinstance(device_id, bool):
            raise SessionError(f"device:{device_id} is not a integer!")
        self.device_id = device_id
        self.model = None
        self.executor = None
        self.description = None
        self.allocations: list = []
        self.datasets: list[Dataset] = []
        self.aipp_blocks: dict[int, object] = {}
        self.gear_sets: dict[tuple, _IOSet] = {}
        self.static_set: _IOSet | None = None
        self.range_set: _IOSet | None = None
        self.leased = False
        _LEASE.acquire(device_id, config_path)
        self.leased = True
        self.device = RUNTIME.device(device_id)
        self.context = self.device.default_context
        self.backend = self.device.backend

    def load(self, offline) -> None:
        previous = RUNTIME.thread.context
        RUNTIME.set_current_context(self.context)
        try:
            self.model = MODELS.load(offline)
        finally:
            if previous is not None and not previous.destroyed:
                RUNTIME.set_current_context(previous)
        description = self.description = self.model.description
        self.executor = self.model.executor
        ranged = isinstance(self.executor, RangedExecutor)
        self.data_blocks = {}
        for index, tensor in enumerate(description.inputs):
            if index in description.aipp_data:
                block = self._allocate(tensor.size)
                self.backend.fill(block.address, 0, tensor.size)
                self.aipp_blocks[index] = block
            elif index != description.dynamic_index and not ranged:
                self.data_blocks[index] = self._allocate(tensor.size)
        # Shape-range models size their blocks per inference (ranged_set).
        self.output_blocks = [] if ranged else [self._allocate(t.size)
                                                for t in description.outputs]
        if description.gears is None and not ranged:
            self.static_set = self._ioset(None)

    def _allocate(self, size: int):
        allocation = RUNTIME.memory.allocate(self.device.arena, max(size, 1), DEVICE)
        self.allocations.append(allocation)
        return allocation

    def _free(self, allocation) -> None:
        self.allocations.remove(allocation)
        _free_allocation(allocation)

    def _dataset(self) -> Dataset:
        dataset = Dataset()
        dataset.handle = next(_dataset_keys)     # a key for the executor's binding cache only
        self.datasets.append(dataset)
        return dataset

    def _ioset(self, gear) -> _IOSet:
        """Datasets over the data blocks for ``gear`` (None: a static model)."""
        description = self.description
        inputs, outputs = self._dataset(), self._dataset()
        input_addresses = []
        for index, tensor in enumerate(description.inputs):
            if index == description.dynamic_index:
                count = len(description.gears.values[0])
                block = self._allocate(8 * count)
                inputs.add(DataBuffer(block.address, 8 * count))
            elif index in self.aipp_blocks:
                inputs.add(DataBuffer(self.aipp_blocks[index].address, tensor.size))
            else:
                block = self.data_blocks[index]
                inputs.add(DataBuffer(block.address, block.size))
                input_addresses.append(block.address)
        for block in self.output_blocks:
            outputs.add(DataBuffer(block.address, block.size))
        gears = description.gears
        # The shapes the blocks hold: an AIPP input's raw image's (its engine shape).
        if gear is None:
            input_shapes = [tuple(t.bound_shape) for t in description.data_inputs]
            output_shapes = [tuple(t.dims) for t in description.outputs]
        else:
            shapes = gears.input_shapes[gear]
            input_shapes = [tuple(shapes.get(t.name, t.dims)) for t in description.data_inputs]
            output_shapes = list(gears.output_shapes[gear])
        ioset = _IOSet(inputs, outputs, input_shapes, output_shapes, input_addresses,
                       [b.address for b in self.output_blocks],
                       [_numpy_dtype(t) for t in description.outputs])
        ioset.input_dtypes = [_numpy_dtype(t) for t in description.data_inputs]
        if self.backend.name == "cpu":
            # Device memory is host memory on this backend: numpy views copy in and out
            # with one call each (other backends copy through backend.copy).
            ioset.input_views = [_view(a, shape, dtype) for a, shape, dtype in
                                 zip(input_addresses, input_shapes, ioset.input_dtypes)]
            ioset.output_views = [_view(a, shape, dtype) for a, shape, dtype in
                                  zip(ioset.output_addresses, output_shapes,
                                      ioset.output_dtypes)]
        if gear is not None:
            model = self.model
            if gears.kind == "batch":
                dynamic.set_batch(model, inputs, description.dynamic_index, gear[0])
                ioset.batch_axes = _batch_axes(gears, gear)
            elif gears.kind == "hw":
                dynamic.set_hw(model, inputs, description.dynamic_index, *gear)
            else:
                dims = dynamic.full_dims(gears, gear)
                dynamic.set_dims(model, inputs, description.dynamic_index,
                                 {"dimCount": len(dims), "dims": dims})
        return ioset

    def gear_set(self, gear) -> _IOSet:
        ioset = self.gear_sets.get(gear)
        if ioset is None:
            previous = RUNTIME.thread.context
            RUNTIME.set_current_context(self.context)      # the gear write needs it
            try:
                ioset = self.gear_sets[gear] = self._ioset(gear)
            finally:
                if previous is not None and not previous.destroyed:
                    RUNTIME.set_current_context(previous)
        self.model.current_gear = gear
        return ioset

    def ranged_set(self, arrays, custom_sizes, dymshape: bool) -> _IOSet:
        """The shape-range model's I/O set, its blocks grown to these arrays, the input
        shapes set to theirs and the outputs sized by ``custom_sizes``."""
        description = self.description
        inputs_info = description.data_inputs
        for array, tensor in zip(arrays, inputs_info):
            _check_dtype(array, tensor, inputs_info.index(tensor))
        sizes = _custom_sizes(custom_sizes, description.outputs, dymshape)
        ioset = self.range_set
        if ioset is None:
            inputs, outputs = self._dataset(), self._dataset()
            for tensor in inputs_info:
                inputs.add(DataBuffer(0, 0))
            for index, tensor in enumerate(inputs_info):
                desc = TensorDesc(tensor.data_type, [max(d, 0) for d in tensor.dims],
                                  tensor.format)
                inputs.set_tensor_desc(index, desc)
            for _ in description.outputs:
                outputs.add(DataBuffer(0, 0))
            ioset = self.range_set = _IOSet(inputs, outputs, None, None,
                                            [0] * len(inputs_info),
                                            [0] * len(description.outputs),
                                            [_numpy_dtype(t) for t in description.outputs])
            ioset.input_descs = [inputs.tensor_descs[i] for i in range(len(inputs_info))]
            ioset.blocks = [None] * len(inputs_info)
            ioset.out_blocks = [None] * len(description.outputs)
        for index, array in enumerate(arrays):
            need = array.nbytes
            block = ioset.blocks[index]
            if block is None or block.size < need:
                if block is not None:
                    self._free(block)
                block = ioset.blocks[index] = self._allocate(need)
                ioset.inputs.buffers[index].update(block.address, block.size)
                ioset.input_addresses[index] = block.address
            desc = ioset.input_descs[index]
            if list(array.shape) != desc.dims:
                desc.dims = list(array.shape)       # read at each execution, no rebind
        for index, size in enumerate(sizes):
            block = ioset.out_blocks[index]
            if block is None or block.size != size:
                if block is not None:
                    self._free(block)
                block = ioset.out_blocks[index] = self._allocate(size)
                ioset.outputs.buffers[index].update(block.address, size)
                ioset.output_addresses[index] = block.address
        ioset.custom_sizes = sizes
        return ioset

    def close(self) -> None:
        model, self.model = self.model, None
        self.static_set = self.range_set = None
        self.gear_sets = {}
        try:
            if model is not None and MODELS.by_id.get(model.model_id) is model:
                self._unload(model)
            for dataset in self.datasets:
                for desc in dataset.tensor_descs.values():
                    if desc.handle and handles.objects.get(desc.handle) is desc:
                        handles.remove(desc.handle)
            for allocation in self.allocations:
                _free_allocation(allocation)
        finally:
            self.allocations = []
            self.datasets = []
            if self.leased:
                self.leased = False
                _LEASE.release(self.device_id)


    @staticmethod
    def _unload(model) -> None:
        """Unload in the model's context (this may run on any thread: restore its own)."""
        previous = RUNTIME.thread.context
        RUNTIME.set_current_context(model.context)
        try:
            MODELS.unload(model.model_id)
        finally:
            RUNTIME.set_current_context(previous)


def _free_allocation(allocation) -> None:
    """Free ``allocation`` if it is still the live one at its address (not after finalize)."""
    memory = RUNTIME.memory
    if memory.find(allocation.address) is allocation:
        try:
            memory.free(allocation.address, DEVICE)
        except AclError:
            pass


def _numpy_dtype(tensor: TensorInfo) -> np.dtype:
    """The numpy dtype of a tensor's buffer (raw uint16 for bfloat16, which numpy lacks)."""
    return np.dtype(np.uint16) if tensor.data_type == DataType.ACL_BF16 else tensor.dtype


def _view(address: int, shape, dtype) -> np.ndarray:
    """A numpy array over ``shape`` elements at a host-addressable device ``address``."""
    count = math.prod(shape)
    raw = (ctypes.c_char * max(count * dtype.itemsize, 1)).from_address(address)
    return np.frombuffer(raw, dtype, count=count).reshape(shape)


def _backend_of_address(address: int):
    for device in RUNTIME.devices:
        if device.arena.base <= address < device.arena.end:
            return device.backend
    return RUNTIME.devices[0].backend


def _as_array(feed):
    """A C-contiguous numpy array (or a DeviceTensor) for one feed."""
    if isinstance(feed, np.ndarray):
        return np.ascontiguousarray(feed)
    if isinstance(feed, DeviceTensor):
        return feed
    if isinstance(feed, np.generic):
        return np.array(feed).reshape(1)
    numpy = getattr(feed, "numpy", None)
    if callable(numpy):                   # torch tensors, and anything shaped like them
        detach = getattr(feed, "detach", None)
        if callable(detach):
            feed = detach()
            cpu = getattr(feed, "cpu", None)
            feed = cpu() if callable(cpu) else feed
        return np.ascontiguousarray(feed.numpy())
    raise SessionError(f"type:{type(feed)} invalid (feeds are numpy arrays, numpy scalars, "
                       f"torch tensors or device tensors)")


def _describe(tensor: TensorInfo, shape) -> str:
    count = 1
    for d in shape:
        count *= d
    return (f"dtype {_numpy_dtype(tensor).name}, shape {tuple(shape)} "
            f"({count * tensor.itemsize} bytes)")


def _check_dtype(array, tensor: TensorInfo, index: int) -> None:
    if array.dtype != _numpy_dtype(tensor):
        raise SessionError(f"input {index} ({tensor.name!r}) has dtype {array.dtype.name}; the "
                           f"model takes {_numpy_dtype(tensor).name} (dims {tensor.dims})")


def _check_arrays(arrays, tensors, shapes) -> None:
    """Each array must have its input's dtype and shape, or its element count (a flat array
    of the right size is accepted, as ais_bench compares sizes). An AIPP input takes its raw
    image bytes (at most ``max_src_image_size`` of them for dynamic AIPP)."""
    for index, (array, tensor, shape) in enumerate(zip(arrays, tensors, shapes)):
        if array.shape == shape and array.dtype == _numpy_dtype(tensor):
            continue
        _check_dtype(array, tensor, index)
        count = math.prod(array.shape)
        if tensor.aipp is not None:
            need = math.prod(shape)
            if count == need or tensor.aipp.dynamic and 0 < count <= need:
                continue
            raise SessionError(f"input {index} ({tensor.name!r}) holds {count} bytes; the "
                               f"model's AIPP input takes "
                               f"{'at most ' if tensor.aipp.dynamic else ''}{need} bytes of "
                               f"raw uint8 image (dims {tensor.dims})")
        if count != math.prod(shape):
            raise SessionError(f"input {index} ({tensor.name!r}) has shape {array.shape} "
                               f"({array.nbytes} bytes); the model takes "
                               f"{_describe(tensor, shape)}")


def _gear_list(gears) -> list:
    return [g[0] if gears.kind == "batch" else list(g) for g in gears.values]


def _dynamic_values(gears, tensors, arrays):
    """The values of the arrays' dynamic axes, in the gears' input order."""
    by_name = {t.name: a for t, a in zip(tensors, arrays)}
    values = []
    for name in gears.input_order:
        dims = gears.input_dims[name]
        array = by_name.get(name)
        if array is None:
            continue
        if array.ndim != len(dims):
            index = [t.name for t in tensors].index(name)
            raise SessionError(f"input datas and intensors dim not matched! Input {index} "
                               f"({name!r}) has shape {array.shape}; the model takes dims "
                               f"{dims} (-1: dynamic)")
        values.extend(array.shape[axis] for axis, d in enumerate(dims) if d == -1)
    return values


def _choose_gear(gears, tensors, arrays):
    """(gear, real batch to cut back to, or None) for the arrays."""
    values = _dynamic_values(gears, tensors, arrays)
    if gears.kind == "batch":
        batches = set(values)
        if len(batches) != 1:
            raise SessionError(f"input datas and intensors dim not matched! The inputs' "
                               f"batch axes disagree: {values}")
        (batch,) = batches
        fitting = sorted(g for g in gears.values if g[0] >= batch)
        if not fitting:
            raise SessionError(f"batch {batch} is larger than the largest batch gear "
                               f"{max(g[0] for g in gears.values)} of the model (gears "
                               f"{_gear_list(gears)}): split it")
        gear = fitting[0]
        return gear, (batch if gear[0] != batch else None)
    gear = tuple(values)
    if gears.kind == "hw":
        gear = tuple(values[:2])
        if len(set(zip(values[0::2], values[1::2]))) > 1:
            raise SessionError(f"the inputs' dynamic H, W disagree: {values}")
    if gear not in gears.values:
        what = "image size (h, w)" if gears.kind == "hw" else "dims"
        raise SessionError(f"the inputs' {what} {list(gear)} is not a gear of the model; "
                           f"its gears are {_gear_list(gears)}")
    return gear, None


def _pad_batch(arrays, tensors, gears, gear_batch: int) -> None:
    """Pad each batched array with zeros along its dynamic axis up to ``gear_batch``."""
    for index, tensor in enumerate(tensors):
        dims = gears.input_dims.get(tensor.name)
        if dims is None:
            continue
        array = arrays[index]
        if array.__class__ is DeviceTensor:
            array = arrays[index] = np.asarray(array.to_host())
        widths = [(0, gear_batch - array.shape[axis]) if d == -1 else (0, 0)
                  for axis, d in enumerate(dims)]
        arrays[index] = np.pad(array, widths)


def _batch_axes(gears, gear) -> dict[int, int]:
    """Output index -> the axis that follows the batch (differs between gears, equals it)."""
    shapes = [gears.output_shapes[g] for g in gears.values]
    axes = {}
    for index, shape in enumerate(gears.output_shapes[gear]):
        for axis, size in enumerate(shape):
            varies = len({s[index][axis] for s in shapes}) > 1
            if size == gear[0] and (varies or len(gears.values) == 1):
                axes[index] = axis
                break
    return axes


def _cut_batch(array, axis: int, batch: int):
    """The first ``batch`` entries of ``array`` along ``axis`` (a view)."""
    index = [slice(None)] * array.ndim
    index[axis] = slice(0, batch)
    return array[tuple(index)]


def _custom_sizes(custom_sizes, outputs, dymshape: bool) -> list[int]:
    """Bytes for each output of a shape-range model."""
    if isinstance(custom_sizes, bool) or not isinstance(custom_sizes, (int, list, tuple)):
        raise SessionError(f"custom_sizes:{custom_sizes} type:{type(custom_sizes)} invalid")
    if isinstance(custom_sizes, int):
        sizes = [custom_sizes] * len(outputs)
    else:
        sizes = list(custom_sizes)
        if len(sizes) != len(outputs):
            raise SessionError(f"custom_sizes gives {len(sizes)} sizes; the model has "
                               f"{len(outputs)} outputs")
    if not dymshape:                         # static mode: the model's own sizes first
        sizes = [t.size or size for t, size in zip(outputs, sizes)]
    for size in sizes:
        if not isinstance(size, int) or size <= 0:
            raise SessionError(f"custom_sizes must be positive ints, not {custom_sizes!r}")
    return sizes


@atexit.register
def _close_at_exit() -> None:
    """Programs written for ais_bench rarely free their sessions: release them at exit (this
    runs before the runtime's own exit report, which would list them as leaks)."""
    try:
        finalize_sessions()
    except Exception:  # noqa: BLE001 - nothing may fail at interpreter exit
        pass

