"""The default engine: ONNX Runtime's CPU execution provider, driven through IOBinding.

IOBinding with raw pointers makes onnxruntime read inputs from and write outputs to the
caller's memory directly, so execution costs no copies. ``run_with_iobinding`` releases the
GIL while the graph runs.
"""

from __future__ import annotations

import ctypes
import functools
import os

import numpy as np
import onnxruntime as ort

from openacl.engines.base import Binding, Engine, EngineSession, TensorSpec, register_engine
from openacl.profiling import recorder as _profiler

__all__ = ["OrtEngine", "OrtSession", "session_options"]

_ONNX_TYPE_TO_NUMPY = {
    "tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
    "tensor(int8)": np.int8, "tensor(int16)": np.int16, "tensor(int32)": np.int32,
    "tensor(int64)": np.int64, "tensor(uint8)": np.uint8, "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32, "tensor(uint64)": np.uint64, "tensor(bool)": np.bool_,
    # numpy has no bfloat16: its values travel as their raw 2-byte patterns, as ACL_BF16
    # buffers hold them on an NPU.
    "tensor(bfloat16)": np.uint16,
}


def session_options() -> ort.SessionOptions:
    """The session settings openacl uses (``OPENACL_ENGINE_THREADS`` sets intra-op threads)."""
    options = ort.SessionOptions()
    options.log_severity_level = 4       # failures reach the program as ACL errors
    threads = os.environ.get("OPENACL_ENGINE_THREADS")
    if threads:
        options.intra_op_num_threads = int(threads)
    if _profiler.OPS:                    # openacl profiling: ORT's own per-operator profiler
        import tempfile

        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(tempfile.gettempdir(),
                                                   f"openacl-ort-{os.getpid()}")
    return options


def _spec(node) -> TensorSpec:
    shape = tuple(d if isinstance(d, int) else None for d in node.shape)
    # object: a type numpy cannot hold (strings, float8 ...), never mistaken for float32.
    return TensorSpec(node.name, np.dtype(_ONNX_TYPE_TO_NUMPY.get(node.type, object)), shape)


def _to_numpy(value: ort.OrtValue) -> np.ndarray:
    if value.data_type() != "tensor(bfloat16)":
        return value.numpy()
    # OrtValue.numpy() has no bfloat16 to convert to: copy the raw 2-byte values out.
    shape = tuple(value.shape())
    array = np.empty(shape, np.uint16)
    if array.nbytes:
        ctypes.memmove(array.ctypes.data, value.data_ptr(), array.nbytes)
    return array


class OrtBinding(Binding):
    def __init__(self, session: ort.InferenceSession):
        self.io = session.io_binding()
        self.native = self.io._iobinding      # what the C++ run call takes
        self._engine_outputs: list[str] = []

    def bind_input(self, name, dtype, shape, address):
        self.io.bind_input(name, "cpu", 0, dtype, shape, address)

    def bind_output(self, name, dtype, shape, address):
        self.io.bind_output(name, "cpu", 0, dtype, shape, address)

    def bind_output_to_engine(self, name):
        self.io.bind_output(name, "cpu")
        self._engine_outputs.append(name)

    def engine_outputs(self):
        arrays = [_to_numpy(value) for value in self.io.get_outputs()]
        # ORT keeps each result bound as a preallocated output of that shape; unbind them so
        # the next run may produce other shapes.
        for name in self._engine_outputs:
            self.io.bind_output(name, "cpu")
        return arrays


class OrtSession(EngineSession):
    precision = "f32"

    def __init__(self, model_bytes: bytes):
        self.session = ort.InferenceSession(model_bytes, session_options(),
                                            providers=["CPUExecutionProvider"])
        self.inputs = [_spec(n) for n in self.session.get_inputs()]
        self.outputs = [_spec(n) for n in self.session.get_outputs()]
        # The C++ session's run call, without the Python wrapper's per-call checks.
        self._run = self.session._sess.run_with_iobinding
        self.profiling = _profiler.OPS
        if self.profiling:
            _profiler.register_session(self)

    def op_profile(self) -> list[dict]:
        """End ONNX Runtime's profiler; its node events as records (name, op_type, start_ns,
        end_ns, run: the index of the execution), in time order. Once only."""
        if not self.profiling or self.session is None:
            return []
        self.profiling = False
        from openacl.profiling.ort_profile import read_ort_profile

        origin = self.session.get_profiling_start_time_ns()
        return read_ort_profile(self.session.end_profiling(), origin)

    def new_binding(self) -> OrtBinding:
        return OrtBinding(self.session)

    def run(self, binding: OrtBinding) -> None:
        self._run(binding.native, None)

    def runner(self, binding: OrtBinding):
        # A partial of the C++ call: running it costs no Python frame of ours.
        return functools.partial(self._run, binding.native, None)

    def close(self) -> None:
        if self.profiling:               # hand the operators to the profiler before they go
            _profiler.collect(self)
        self.session = None
        self._run = None


@register_engine
class OrtEngine(Engine):
    """ONNX Runtime computes in the model's own types: it offers ``"f32"`` (exact) only."""

    name = "onnxruntime"

    def load(self, model_bytes: bytes, precision: str = "f32") -> OrtSession:
        self._check_precision(precision)
        return OrtSession(model_bytes)
