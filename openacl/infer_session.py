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
import itertools
import threading
import time
import weakref

import numpy as np

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
from openacl.runtime.pointers import raw_array
from openacl import session_feeds
from openacl.session_tensors import (COPY_TIMES, CopyTimes, DeviceTensor, SessionError,
                                     free_allocation)

__all__ = ["ModelSession", "DeviceTensor", "SessionError", "CopyTimes", "COPY_TIMES", "MODES",
           "finalize_sessions"]

MODES = ("static", "dymbatch", "dymhw", "dymdims", "dymshape")
# The issue's and newcomers' spellings of ais_bench's mode names.
_MODE_ALIASES = {"dynbatch": "dymbatch", "dynhw": "dymhw", "dyndims": "dymdims",
                 "dynshape": "dymshape"}
_GEAR_MODES = {"batch": "dymbatch", "hw": "dymhw", "dims": "dymdims"}
_DEFAULT_CUSTOM_SIZE = 100000
_perf = time.perf_counter



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
                  else session_feeds.as_array(feed) for feed in feeds]
        ioset = state.static_set
        real_batch = None
        if mode == "static" and ioset is not None and len(arrays) == ioset.count:
            for array, shape, dtype in zip(arrays, ioset.input_shapes, ioset.input_dtypes):
                if array.shape != shape or array.dtype != dtype:
                    session_feeds.check_arrays(arrays, self.inputs, ioset.input_shapes)
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
        tensor = DeviceTensor.from_array(session_feeds.as_array(array)).to_device(self.device_id)
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
                session_feeds.custom_sizes(custom_sizes, self.outputs, True)      # checked, as ais_bench does
            ioset = state.static_set
            session_feeds.check_arrays(arrays, self.inputs, ioset.input_shapes)
            return ioset, None
        wanted = _GEAR_MODES[gears.kind]
        if mode != wanted:
            raise SessionError(f"not a {mode} model! It has dynamic {gears.kind} gears "
                               f"{session_feeds.gear_list(gears)}: infer with mode='{wanted}'")
        if gear is None:
            gear, batch = session_feeds.choose_gear(gears, self.inputs, arrays)
        else:
            gear, batch = tuple(int(v) for v in gear), None
            if gear not in gears.values:
                raise SessionError(f"{list(gear)} is not a gear of the model; its "
                                   f"{gears.kind} gears are {session_feeds.gear_list(gears)}")
        ioset = state.gear_set(gear)
        if batch is not None:
            session_feeds.pad_batch(arrays, self.inputs, gears, gear[0])
        session_feeds.check_arrays(arrays, self.inputs, ioset.input_shapes)
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
                        view = session_feeds.cut_batch(view, axis, real_batch)
                    array = view.copy()
                else:
                    array = np.empty(shape, dtype)
                    if array.nbytes:
                        copy(array.ctypes.data, address, array.nbytes)
                    if axis is not None:
                        array = session_feeds.cut_batch(array, axis, real_batch).copy()
                d2h.append((_perf() - begin) * 1000.0)
            results.append(array)
        return results


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
        free_allocation(allocation)

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
                       [session_feeds.numpy_dtype(t) for t in description.outputs])
        ioset.input_dtypes = [session_feeds.numpy_dtype(t) for t in description.data_inputs]
        if self.backend.name == "cpu":
            # Device memory is host memory on this backend: numpy views copy in and out
            # with one call each (other backends copy through backend.copy).
            ioset.input_views = [raw_array(a, shape, dtype) for a, shape, dtype in
                                 zip(input_addresses, input_shapes, ioset.input_dtypes)]
            ioset.output_views = [raw_array(a, shape, dtype) for a, shape, dtype in
                                  zip(ioset.output_addresses, output_shapes,
                                      ioset.output_dtypes)]
        if gear is not None:
            model = self.model
            if gears.kind == "batch":
                dynamic.set_batch(model, inputs, description.dynamic_index, gear[0])
                ioset.batch_axes = session_feeds.batch_axes(gears, gear)
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
            session_feeds.check_dtype(array, tensor, inputs_info.index(tensor))
        sizes = session_feeds.custom_sizes(custom_sizes, description.outputs, dymshape)
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
                                            [session_feeds.numpy_dtype(t) for t in description.outputs])
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
                free_allocation(allocation)
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


@atexit.register
def _close_at_exit() -> None:
    """Programs written for ais_bench rarely free their sessions: release them at exit (this
    runs before the runtime's own exit report, which would list them as leaks)."""
    try:
        finalize_sessions()
    except Exception:  # noqa: BLE001 - nothing may fail at interpreter exit
        pass

