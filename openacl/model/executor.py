"""The executor: binds a model's input and output datasets to the engine, and runs it.

Datasets are checked against the model description and every buffer address against the
memory registry, then bound to the engine directly (no staging copies). The binding is
cached per (input dataset, output dataset) and reused while nothing it depends on changed:
the datasets, any data buffer, any free of memory, the chosen gear.
"""

from __future__ import annotations

import ctypes

from openacl.errors import (AclError, GeParamInvalid, InvalidParam, ModelExecuteFailed,
                            report_fidelity)
from openacl.constants import ErrorCode
from openacl.model.aipp_dynamic import AippFeed
from openacl.model.dataset import Dataset, buffer_epoch, epoch_cell
from openacl.model.description import ModelDescription
from openacl.runtime import RUNTIME, transfers
from openacl.runtime.mapped import inaccessible
from openacl.runtime.memory import DEVICE

__all__ = ["Executor", "BoundRun", "with_passthrough"]

_SIZE_SLACK = 64          # ACL accepts buffers up to 64 bytes smaller than the tensor
_HIGH_BAND_WIDTH = 0x1000
_CACHE_LIMIT = 32


class BoundRun:
    """One engine binding, the datasets it binds and the state it was built from."""

    __slots__ = ("binding", "run", "stamp", "input_set", "output_set", "inputs", "outputs")

    def __init__(self, binding, run, stamp, input_set, output_set, inputs, outputs):
        self.binding = binding
        self.run = run              # zero-argument callable running the binding
        self.stamp = stamp
        self.input_set = input_set
        self.output_set = output_set
        self.inputs = inputs        # (name, shape) bound, for diagnostics
        self.outputs = outputs


class Executor:
    """Runs one loaded model's engine session on datasets."""

    dump = None       # openacl.dump hook: the model's recorder while a dump selects it

    def __init__(self, session, description: ModelDescription, model_label: str,
                 backend=None):
        self.session = session
        self.description = description
        self.label = model_label
        # Dynamic AIPP: ascend_dynamic_aipp_data input index -> its parameter feed.
        self._aipp_feeds = {
            index: AippFeed(description.inputs[data].aipp,
                            description.inputs[data].aipp.network_channels(), backend)
            for index, data in description.aipp_data.items()}
        self._cache: dict[tuple[int, int], BoundRun] = {}
        self._last: BoundRun | None = None         # the binding used last: checked first
        self._scratch: dict[int, object] = {}      # input index -> allocation for skipped inputs
        self._epoch = epoch_cell()
        self._running: list = []                   # one token per execution in flight
        self._foreign: list = []                   # host ranges of the binding being built

    # ------------------------------------------------------------------ hot path
    def execute(self, inputs: Dataset, outputs: Dataset, allocate_outputs: bool = True) -> None:
        bound = self._last
        # stamp() inlined: this is the hot path.
        if (bound is None or bound.input_set is not inputs or bound.output_set is not outputs
                or bound.stamp != (inputs.version, outputs.version, self._epoch[0],
                                   RUNTIME.memory.generation)):
            bound = self._lookup(inputs, outputs, allocate_outputs)
        self.run(bound)

    def run(self, bound: BoundRun) -> None:
        """Run a binding; report overlapping executions of this model; wrap engine failures."""
        running = self._running
        running.append(None)                        # list.append/pop are atomic: no lock
        try:
            if len(running) > 1:
                self._report_overlap()
            bound.run()
            if self.dump is not None:               # openacl.dump hook: dump this execution
                self.dump.record(bound)
        except AclError:
            raise
        except Exception as error:  # noqa: BLE001 - any engine failure is an execute failure
            raise ModelExecuteFailed(f"{self.label} failed to run: {error}") from None
        finally:
            running.pop()

    def prepare(self, inputs: Dataset, outputs: Dataset) -> None:
        """Check and bind the datasets now (for execute_async: errors return at once)."""
        self._lookup(inputs, outputs, allocate_outputs=False)

    def _report_overlap(self) -> None:
        report_fidelity(f"{self.label} is executing on two threads or streams at once; an NPU "
                        f"does not allow that: serialise its executions (a lock, or one stream)",
                        ModelExecuteFailed)

    @staticmethod
    def stamp(inputs: Dataset, outputs: Dataset) -> tuple:
        """What a binding depends on: both datasets, every data buffer, every free."""
        return inputs.version, outputs.version, buffer_epoch(), RUNTIME.memory.generation

    def _lookup(self, inputs: Dataset, outputs: Dataset, allocate_outputs: bool) -> BoundRun:
        bound = self._cache.get((inputs.handle, outputs.handle))
        if bound is None or bound.stamp != self.stamp(inputs, outputs):
            bound = self._bind(inputs, outputs, allocate_outputs)
        self._last = bound
        return bound

    def release(self) -> None:
        self._cache.clear()
        self._last = None
        for allocation in self._scratch.values():
            try:
                RUNTIME.memory.free(allocation.address, DEVICE)
            except AclError:
                pass                                  # already released by finalize
        self._scratch.clear()

    # ------------------------------------------------------------------ binding
    def _bind(self, inputs: Dataset, outputs: Dataset, allocate_outputs: bool) -> BoundRun:
        description = self.description
        self._foreign = []
        self._check_counts(inputs, outputs)
        shapes, output_shapes = self._shapes(inputs)
        binding = self.session.new_binding()
        bound_inputs = []
        input_addresses = {}
        feeds = []
        for index, tensor in enumerate(description.inputs):
            if index == description.dynamic_index:
                continue
            if index in self._aipp_feeds:
                feeds.append(self._aipp_input(index, tensor, inputs.buffers[index], binding))
                continue
            buffer = inputs.buffers[index]
            shape = shapes[tensor.name]
            need = _nbytes(shape, tensor)
            if buffer.size == 0:
                address = self._scratch_for(index, need)       # ACL skips a 0-length input
            else:
                address = self._checked(buffer, need, f"input {index} ({tensor.name!r})",
                                        write=False, size_checked=description.gears is None)
            binding.bind_input(tensor.name, tensor.engine_type, shape, address)
            bound_inputs.append((tensor.name, shape))
            input_addresses[tensor.name] = address
        bound_outputs = []
        passthrough = []
        for index, tensor in enumerate(description.outputs):
            buffer = outputs.buffers[index]
            shape = output_shapes[index]
            need = _nbytes(shape, tensor)
            if buffer.address == 0 and buffer.size == 0 and allocate_outputs:
                # Synchronous execute allocates outputs the program left empty (0, 0).
                allocation = transfers.malloc(tensor.size or need, _HIGH_BAND_WIDTH)
                buffer.update(allocation.address, tensor.size or need)
            address = self._checked(buffer, need, f"output {index} ({tensor.name!r})",
                                    write=True, size_checked=description.gears is None)
            binding.bind_output(tensor.name, tensor.engine_type, shape, address)
            bound_outputs.append((tensor.name, shape))
            if tensor.name in input_addresses:
                passthrough.append((address, input_addresses[tensor.name], need))
        stamp = self.stamp(inputs, outputs)
        run = self._runner(binding)
        if feeds:
            run = _with_aipp_refresh(run, feeds)
        if passthrough:
            run = with_passthrough(run, passthrough)
        bound = BoundRun(binding, run, stamp, inputs, outputs, bound_inputs, bound_outputs)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.pop(next(iter(self._cache)))
        self._cache[(inputs.handle, outputs.handle)] = bound
        return bound

    def _aipp_input(self, index: int, tensor, buffer, binding):
        """Check an ascend_dynamic_aipp_data buffer; bind its feed's parameter tensors."""
        what = f"input {index} ({tensor.name!r})"
        if buffer.address == 0:
            raise InvalidParam(f"{what} buffer address is NULL (0)")
        if buffer.size < tensor.size:
            raise GeParamInvalid(f"{what} buffer holds {buffer.size} bytes; {self.label} needs "
                                 f"{tensor.size} (acl.mdl.get_input_size_by_index)")
        feed = self._aipp_feeds[index]
        feed.bind(binding)
        return feed, buffer.address, what

    def _check_counts(self, inputs: Dataset, outputs: Dataset) -> None:
        description = self.description
        for name, dataset, expected in (("input", inputs, len(description.inputs)),
                                        ("output", outputs, len(description.outputs))):
            for index, buffer in enumerate(dataset.buffers):
                if buffer.destroyed:
                    raise InvalidParam(f"{name} dataset buffer {index} was destroyed")
            if len(dataset.buffers) != expected:
                raise GeParamInvalid(
                    f"the {name} dataset has {len(dataset.buffers)} buffer(s) but {self.label} "
                    f"has {expected} {name}(s) (acl.mdl.get_num_{name}s)")

    def _shapes(self, inputs: Dataset):
        """Input shapes by name and output shapes by index for this execution."""
        description = self.description
        if description.gears is None:
            return ({t.name: t.bound_shape for t in description.data_inputs},
                    [tuple(t.dims) for t in description.outputs])
        from openacl.model.dynamic import selected_gear

        gear = selected_gear(self, inputs)
        return description.gears.input_shapes[gear], description.gears.output_shapes[gear]

    def _checked(self, buffer, need: int, what: str, write: bool, size_checked: bool) -> int:
        if buffer.address == 0:
            raise InvalidParam(f"{what} buffer address is NULL (0)")
        if buffer.size + _SIZE_SLACK < need or (not size_checked and buffer.size < need):
            raise GeParamInvalid(f"{what} buffer holds {buffer.size} bytes; {self.label} needs "
                                 f"{need} (acl.mdl.get_{what.split()[0]}_size_by_index)")
        memory = RUNTIME.memory
        try:
            memory.checked(buffer.address, need, what, write, clamp_reads=False)
        except AclError as error:
            raise AclError(f"{what} buffer: {error.message}",
                           ErrorCode.ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID) from None
        arena = memory.arena_of(buffer.address)
        if arena is None and memory.borrowed.find(buffer.address) is None:
            self._foreign.append((buffer.address, need, write, what))
        if arena is None or (arena.kind != DEVICE and _host_run_mode()):
            report_fidelity(f"{what} buffer {buffer.address:#x} is host memory; an NPU runs "
                            f"models on device memory (acl.rt.malloc) only",
                            code=ErrorCode.ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID)
        return buffer.address

    def _runner(self, binding):
        """The binding's run; host memory openacl did not hand out is checked before each.

        Runtime memory cannot vanish under a cached binding (frees are seen), and borrowed
        host objects are kept alive; foreign memory can be unmapped between two runs.
        """
        run = self.session.runner(binding)
        foreign, self._foreign = tuple(self._foreign), []
        if not foreign:
            return run

        def run_where_mapped():
            for address, count, write, what in foreign:
                problem = inaccessible(address, count, write)
                if problem is not None:
                    raise AclError(f"{what} buffer: {problem}",
                                   ErrorCode.ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID)
            run()

        return run_where_mapped

    def _scratch_for(self, index: int, need: int) -> int:
        """Zero-filled runtime memory standing in for an input the program left empty."""
        allocation = self._scratch.get(index)
        if allocation is None or allocation.size < need:
            if allocation is not None:
                RUNTIME.memory.free(allocation.address, DEVICE)
            allocation = transfers.malloc(max(need, 1), 0)
            transfers.memset(allocation.address, allocation.usable, 0, allocation.usable)
            self._scratch[index] = allocation
        return allocation.address


def _nbytes(shape, tensor) -> int:
    count = 1
    for d in shape:
        count *= d
    return count * tensor.itemsize


def with_passthrough(run, copies):
    """A run that then copies each graph input that is also a graph output into the output's
    buffer: onnxruntime hands such an output back as the input itself and leaves a buffer
    bound to it untouched (found by fuzzing: the program read stale bytes)."""
    def run_and_copy():
        run()
        for target, source, count in copies:
            ctypes.memmove(target, source, count)
    return run_and_copy


def _with_aipp_refresh(run, feeds):
    """A run that first refreshes the dynamic AIPP parameters from their buffers."""
    def refresh_and_run():
        for feed, address, what in feeds:
            feed.refresh(address, what)
        run()
    return refresh_and_run


def _host_run_mode() -> bool:
    from openacl import config

    return config.run_mode() == 1
