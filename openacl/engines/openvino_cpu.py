"""The OpenVINO engine: OpenVINO's CPU plugin, one infer request per binding.

A binding wraps the caller's buffers in ``ov.Tensor`` objects that share their memory (numpy
views over the raw addresses), so OpenVINO reads inputs from and writes outputs to the
caller's memory directly: execution costs no copies. ``InferRequest.infer`` releases the GIL
while the graph runs. Infer requests are cheap (the compiled model keeps the working memory
per stream), so each binding has its own and bindings run concurrently on different threads.

Precisions map to OpenVINO's ``INFERENCE_PRECISION_HINT``: ``"f32"`` keeps every layer in
fp32 (OpenVINO's CPU default on a bf16-capable CPU is bf16, so it is always set), ``"bf16"``
and ``"f16"`` let the plugin run floating-point layers in that type where the CPU has it
(``OPTIMIZATION_CAPABILITIES``). A model OpenVINO cannot read or compile is refused at load
with ``EngineUnsupported`` and the reason, so the caller can fall back to onnxruntime.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
import time

import numpy as np
import openvino as ov
from onnx import TensorProto
from openvino._pyopenvino import InferRequest as _RawInferRequest

from openacl.engines.base import (Binding, Engine, EngineSession, EngineUnsupported,
                                  TensorSpec, register_engine)
from openacl.profiling import recorder as _profiler
from openacl.runtime.pointers import raw_array

__all__ = ["OvEngine", "OvSession", "OvBinding", "compile_config", "core"]

_HINTS = {"f32": "f32", "bf16": "bf16", "f16": "f16"}
_HALF = ("f16", "bf16")
_WIDE = ("f32", "f64")
# Operators that only move values: exact in any type (OpenVINO's opset names).
_DATA_MOVEMENT = frozenset({
    "Reshape", "Transpose", "Concat", "Split", "VariadicSplit", "Squeeze", "Unsqueeze",
    "Gather", "GatherElements", "GatherND", "StridedSlice", "Slice", "SliceScatter", "Tile",
    "Broadcast", "DepthToSpace", "SpaceToDepth", "Reverse", "Roll", "ScatterUpdate",
    "ScatterElementsUpdate", "ScatterNDUpdate", "Pad", "ReverseSequence", "Identity",
})
_CAPABILITY = {"bf16": "BF16", "f16": "FP16"}       # OPTIMIZATION_CAPABILITIES entries

_OV_TO_NUMPY = {
    "f32": np.float32, "f16": np.float16, "f64": np.float64, "i8": np.int8, "i16": np.int16,
    "i32": np.int32, "i64": np.int64, "u8": np.uint8, "u16": np.uint16, "u32": np.uint32,
    "u64": np.uint64, "boolean": np.bool_,
    # numpy has no bfloat16: raw 2-byte patterns, as the onnxruntime engine hands them back.
    "bf16": np.uint16,
}

# The raw C++ infer call: ``infer(request, inputs, share_outputs, decode_strings)``. It
# releases the GIL; with no inputs and shared outputs it converts nothing and copies nothing.
_INFER = _RawInferRequest.infer
_NO_INPUTS: dict = {}

_core: ov.Core | None = None
_core_lock = threading.Lock()


def core() -> ov.Core:
    """The process's OpenVINO ``Core`` (created on first use)."""
    global _core
    if _core is None:
        with _core_lock:
            if _core is None:
                _core = ov.Core()
    return _core


_EXECUTED = ov.ProfilingInfo.Status.EXECUTED


def _counted(run, request, records: list):
    """``run`` followed by reading the request's per-layer counters into ``records``."""
    def run_and_count():
        start = time.time_ns()              # the recorder's clock
        run()
        end = time.time_ns()
        at = start
        for info in request.profiling_info:
            if info.status != _EXECUTED:
                continue
            took = int(info.real_time.total_seconds() * 1e9)
            records.append({"name": info.node_name, "op_type": info.node_type,
                            "start_ns": at, "end_ns": min(at + took, end)})
            at = min(at + took, end)
    return run_and_count


def compile_config(precision: str) -> dict:
    """The CPU plugin settings openacl compiles with (``OPENACL_ENGINE_THREADS`` sets the
    threads): one stream using every core, the precision's ``INFERENCE_PRECISION_HINT``."""
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": _HINTS[precision]}
    threads = os.environ.get("OPENACL_ENGINE_THREADS")
    if threads:
        config["INFERENCE_NUM_THREADS"] = int(threads)
    return config


class OvBinding(Binding):
    """An infer request whose tensors are views of the caller's buffers."""

    def __init__(self, session: OvSession):
        self._session = session
        self.request = session.compiled.create_infer_request()
        self._engine_outputs: list[tuple[int, bool]] = []    # (output index, is bfloat16)
        self._input_buffers: dict[str, tuple[int, int]] = {}  # name -> (address, bytes)
        self._passthrough: dict[str, tuple[int, int]] = {}   # name -> (output address, bytes)
        self._run = None                                     # the runner, built on first run

    def bind_input(self, name, dtype, shape, address):
        tensor, nbytes = _tensor(dtype, shape, address)
        self.request.set_input_tensor(self._session.input_index(name), tensor)
        self._input_buffers[name] = (address, nbytes)
        self._run = None

    def bind_output(self, name, dtype, shape, address):
        index = self._session.output_index(name)
        tensor, nbytes = _tensor(dtype, shape, address)
        self._run = None
        if name in self._session.passthrough:
            # A graph output that is a graph input: OpenVINO's CPU plugin writes nothing into
            # a tensor set on such an output, and zeroes the other outputs set with it
            # (found by the contract tests). The run copies the input over instead.
            self._passthrough[name] = (address, nbytes)
            return
        self.request.set_output_tensor(index, tensor)

    def bind_output_to_engine(self, name):
        index = self._session.output_index(name)
        entry = (index, self._session.output_types[index] == "bf16")
        if entry not in self._engine_outputs:
            self._engine_outputs.append(entry)

    def engine_outputs(self):
        arrays = []
        for index, bf16 in self._engine_outputs:
            data = self.request.get_output_tensor(index).data
            # Tensor.data shows bfloat16 as float16: hand back the raw 2-byte values.
            arrays.append((data.view(np.uint16) if bf16 else data).copy())
        return arrays

    def runner(self):
        """A zero-argument callable running the request (cached until the next bind)."""
        if self._run is None:
            self._run = self._build_runner()
        return self._run

    def _build_runner(self):
        unbound = [spec.name for spec in self._session.inputs
                   if spec.name not in self._input_buffers]
        if unbound:
            # OpenVINO would run on the request's own (uninitialised) tensors.
            raise ValueError(f"input(s) {unbound} not bound: bind every input before running")
        run = functools.partial(_INFER, self.request, _NO_INPUTS, True, False)
        if self._session.profiling:
            run = _counted(run, self.request, self._session._op_records)
        if not self._passthrough:
            return run
        copies = []
        for name, (target, nbytes) in self._passthrough.items():
            source, bound = self._input_buffers.get(name, (0, 0))
            if not source:
                raise ValueError(f"output {name!r} is the model's input {name!r}: bind that "
                                 f"input before the output")
            copies.append((target, source, min(nbytes, bound)))

        def run_and_copy():
            run()
            for target, source, count in copies:
                ctypes.memmove(target, source, count)
        return run_and_copy


class OvSession(EngineSession):
    """A compiled model; ``new_binding`` gives each binding its own infer request."""

    def __init__(self, model_bytes: bytes, precision: str):
        self.precision = precision
        ov_core = core()
        try:
            model = ov_core.read_model(model_bytes)
        except Exception as error:  # noqa: BLE001 - any reader failure: not for this engine
            raise EngineUnsupported(f"OpenVINO cannot read this model: {_reason(error)}")
        rounding = _half_precision_node(model)
        if rounding is not None:
            raise EngineUnsupported(
                f"the model computes in half precision inside (node {rounding}); OpenVINO's "
                f"CPU plugin would compute that in fp32 and drop the roundings the graph asks "
                f"for, so its results would not be the model's")
        self.profiling = _profiler.OPS          # openacl profiling: OpenVINO's layer counters
        self._op_records: list[dict] = []
        settings = compile_config(precision)
        if self.profiling:
            settings["PERF_COUNT"] = True
        try:
            self.compiled = ov_core.compile_model(model, "CPU", settings)
        except Exception as error:  # noqa: BLE001 - any compiler failure: not for this engine
            raise EngineUnsupported(f"OpenVINO cannot compile this model for the CPU: "
                                    f"{_reason(error)}")
        ports = (self.compiled.inputs, self.compiled.outputs)
        graph_names = _graph_names(model_bytes) if any(
            len(port.get_names()) != 1 for group in ports for port in group) else ((), ())
        self.inputs, self._inputs = _specs(ports[0], graph_names[0], "input")
        self.outputs, self._outputs = _specs(ports[1], graph_names[1], "output")
        self.output_types = [port.get_element_type().get_type_name()
                             for port in self.compiled.outputs]
        self.passthrough = {spec.name for spec in self.outputs} & set(self._inputs)
        if self.profiling:
            _profiler.register_session(self)

    def input_index(self, name: str) -> int:
        try:
            return self._inputs[name]
        except KeyError:
            raise ValueError(f"the model has no input {name!r}; its inputs: "
                             f"{[s.name for s in self.inputs]}") from None

    def output_index(self, name: str) -> int:
        try:
            return self._outputs[name]
        except KeyError:
            raise ValueError(f"the model has no output {name!r}; its outputs: "
                             f"{[s.name for s in self.outputs]}") from None

    def new_binding(self) -> OvBinding:
        if self.compiled is None:
            raise ValueError("the session is closed")
        return OvBinding(self)

    def run(self, binding: OvBinding) -> None:
        (binding._run or binding.runner())()

    def runner(self, binding: OvBinding):
        return binding.runner()

    def op_profile(self) -> list[dict]:
        """The layers each run executed (OpenVINO's fused layers, its own names and types),
        laid end to end from the run's start with their measured times."""
        records, self._op_records, self.profiling = self._op_records, [], False
        return records

    def close(self) -> None:
        if self.profiling:               # hand the layers to the profiler before they go
            _profiler.collect(self)
        self.compiled = None


@register_engine
class OvEngine(Engine):
    """OpenVINO on the CPU: ``"f32"`` always; ``"bf16"`` / ``"f16"`` where the CPU has them."""

    name = "openvino"

    def capabilities(self) -> set[str]:
        found = set(core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
        return {"f32"} | {p for p, capability in _CAPABILITY.items() if capability in found}

    def load(self, model_bytes: bytes, precision: str = "f32") -> OvSession:
        self._check_precision(precision)
        return OvSession(model_bytes, precision)


def _half_precision_node(model) -> str | None:
    """The first node that computes in float16/bfloat16, or re-reads a rounded value.

    OpenVINO's CPU plugin runs float16 layers in fp32 on CPUs without fp16 arithmetic and
    folds a Convert pair f32 -> f16 -> f32 away, so such a model's roundings vanish. Allowed:
    half-precision inputs and weights that are moved (reshaped, sliced, concatenated ...)
    and widened, and half-precision results that only reach the model's outputs.
    """
    rounded = set()                # half tensors a computation or a narrowing Convert wrote
    for op in model.get_ordered_ops():
        kind = op.get_type_name()
        half_inputs = [value.get_source_output() for value in op.inputs()
                       if value.get_element_type().get_type_name() in _HALF]
        if half_inputs and kind not in ("Result", "ShapeOf"):
            wide = kind == "Convert" and op.get_output_element_type(0).get_type_name() in _WIDE
            reads_rounded = any(_key(source) in rounded for source in half_inputs)
            if not (kind in _DATA_MOVEMENT or (wide and not reads_rounded)):
                return f"{op.get_friendly_name()!r} ({kind})"
        if kind in ("Parameter", "Constant"):
            continue
        inherits = kind in _DATA_MOVEMENT and not any(_key(s) in rounded for s in half_inputs)
        for output in op.outputs():
            if output.get_element_type().get_type_name() in _HALF and not inherits:
                rounded.add(_key(output))
    return None


def _key(output) -> tuple:
    return output.get_node().get_friendly_name(), output.get_index()


def _tensor(dtype, shape, address: int) -> tuple[ov.Tensor, int]:
    """An ``ov.Tensor`` over ``address`` (no copy), and its size in bytes."""
    shape = tuple(int(d) for d in shape)
    count = 1
    for d in shape:
        count *= d
    if isinstance(dtype, (int, np.integer)) and not isinstance(dtype, bool):
        if dtype != TensorProto.BFLOAT16:
            raise TypeError(f"ONNX element type {dtype} cannot be bound (only bfloat16 is "
                            f"given by its ONNX type)")
        array = raw_array(address, (count,), np.uint16)
        return ov.Tensor(array, list(shape), ov.Type.bf16), array.nbytes
    dtype = np.dtype(dtype)
    array = raw_array(address, (count,), dtype).reshape(shape)
    return ov.Tensor(array, shared_memory=True), array.nbytes


def _graph_names(model_bytes: bytes) -> tuple[set, set]:
    """The ONNX graph's input and output names (for ports OpenVINO gives several names)."""
    import onnx

    graph = onnx.ModelProto.FromString(model_bytes).graph
    weights = {tensor.name for tensor in graph.initializer}
    return ({v.name for v in graph.input if v.name not in weights},
            {v.name for v in graph.output})


def _specs(ports, graph_names, what: str) -> tuple[list[TensorSpec], dict[str, int]]:
    """Specs named as the ONNX graph names them; every name of a port finds its index."""
    specs, index = [], {}
    for i, port in enumerate(ports):
        type_name = port.get_element_type().get_type_name()
        dtype = np.dtype(_OV_TO_NUMPY.get(type_name, object))
        shape = tuple(d.get_length() if d.is_static else None for d in port.get_partial_shape())
        names = port.get_names()
        if not names:
            raise EngineUnsupported(f"OpenVINO gives {what} {i} no name")
        # OpenVINO merges names (an input read through Identity also carries the Identity's
        # output name): the graph's own name is the one the model layer binds.
        known = sorted(names & graph_names) if len(names) > 1 else sorted(names)
        name = known[0] if known else port.get_any_name()
        specs.append(TensorSpec(name, dtype, shape))
        for alias in names:
            index.setdefault(alias, i)
    return specs, index


def _reason(error: Exception) -> str:
    """OpenVINO's message without its source-location lines ("Exception from ...")."""
    lines = [line.strip() for line in str(error).splitlines()]
    kept = [line for line in lines if line and not line.startswith(("Exception from ",
                                                                        "Check '"))
            and not line.startswith("To facilitate")]
    return " ".join(kept) or type(error).__name__
