"""The engine contract: load a model, describe it, bind raw buffers, run.

An engine never copies the caller's buffers: a binding points the engine's inputs and
outputs at device memory addresses directly. Engines are found by name in a registry and
their modules are imported on first use, so another engine (OpenVINO, CUDA) plugs in
without touching the model layer or the facade, and a missing engine package costs nothing
until that engine is asked for.

Precisions: ``Engine.load(model_bytes, precision)`` takes the engine's compute precision,
one of ``PRECISIONS``: ``"f32"`` computes in the model's own types (exact), ``"bf16"`` and
``"f16"`` let the engine compute floating-point layers in that half precision. An engine
that cannot run a precision here raises ``EngineUnsupported``, so a caller can fall back.
"""

from __future__ import annotations

import importlib
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

__all__ = ["TensorSpec", "Binding", "EngineSession", "Engine", "EngineUnsupported",
           "EngineUnavailable", "PRECISIONS", "DEFAULT_ENGINE", "get_engine", "register_engine",
           "known_engines"]

PRECISIONS = ("f32", "bf16", "f16")
"""Compute precisions an engine may be asked for: exact, bfloat16, float16."""


class EngineUnsupported(ValueError):
    """The engine cannot do what was asked on this machine (a precision, a model's operator
    or type); the message says why. Callers may fall back to another engine or precision."""


class EngineUnavailable(EngineUnsupported):
    """The engine's package is not installed (or fails to import)."""


@dataclass(frozen=True)
class TensorSpec:
    """An engine input or output: name, element type and shape (None for a dynamic axis)."""

    name: str
    dtype: np.dtype
    shape: tuple


class Binding(ABC):
    """Raw buffers bound to a session's inputs and outputs, reusable across runs.

    ``dtype`` is what ``openacl.model.dtypes.engine_type`` gives: a numpy dtype, or for
    bfloat16 (numpy has none) the ONNX element type number; bfloat16 buffers hold raw
    2-byte values, and ``engine_outputs`` hands them back as uint16 arrays.

    A binding is used by one thread at a time; different bindings of one session may run
    on different threads at once.
    """

    @abstractmethod
    def bind_input(self, name: str, dtype: np.dtype | int, shape: tuple, address: int) -> None: ...

    @abstractmethod
    def bind_output(self, name: str, dtype: np.dtype | int, shape: tuple, address: int) -> None: ...

    @abstractmethod
    def bind_output_to_engine(self, name: str) -> None:
        """Let the engine allocate this output (its shape is known only after the run)."""

    @abstractmethod
    def engine_outputs(self) -> list[np.ndarray]:
        """After a run: the outputs bound with ``bind_output_to_engine``, in binding order."""


class EngineSession(ABC):
    """A loaded model, ready to run bindings (concurrently, each binding on one thread)."""

    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    precision: str = "f32"            # the compute precision it was loaded with

    @abstractmethod
    def new_binding(self) -> Binding: ...

    @abstractmethod
    def run(self, binding: Binding) -> None:
        """Run the model on the bound buffers. Must release the GIL while computing."""

    def runner(self, binding: Binding):
        """A zero-argument callable that runs ``binding``: the cheapest way to run it again."""
        return lambda: self.run(binding)

    def close(self) -> None:
        """Release the engine's resources (idempotent)."""


class Engine(ABC):
    """A factory of sessions: one per engine name, shared by every model."""

    name: str

    @abstractmethod
    def load(self, model_bytes: bytes, precision: str = "f32") -> EngineSession:
        """Load an ONNX model to compute at ``precision`` (one of ``PRECISIONS``).

        Raises ``EngineUnsupported`` if this engine cannot run that precision here, or
        cannot run the model (the reason in the message); ``ValueError`` for a precision
        that is not one of ``PRECISIONS``.
        """

    def capabilities(self) -> set[str]:
        """The precisions this engine can run on this machine."""
        return {"f32"}

    def _check_precision(self, precision: str) -> None:
        """Refuse an unknown precision (ValueError) or one this engine lacks here."""
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; known: {list(PRECISIONS)}")
        capabilities = self.capabilities()
        if precision not in capabilities:
            raise EngineUnsupported(f"the {self.name} engine cannot compute in {precision} on "
                                    f"this machine; it can: {sorted(capabilities)}")


# Engines openacl ships, by name: the module that registers each (imported on first use).
_MODULES = {
    "onnxruntime": "openacl.engines.onnxruntime_cpu",
    "openvino": "openacl.engines.openvino_cpu",
}
DEFAULT_ENGINE = "onnxruntime"
_ENGINES: dict[str, type[Engine]] = {}
_INSTANCES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def register_engine(cls: type[Engine]) -> type[Engine]:
    """Make an engine class findable by its ``name`` (a class decorator)."""
    _ENGINES[cls.name] = cls
    _INSTANCES.pop(cls.name, None)
    return cls


def known_engines() -> list[str]:
    """The names ``get_engine`` accepts (shipped engines and any registered ones)."""
    return sorted(set(_MODULES) | set(_ENGINES))


def get_engine(name: str | None = None) -> Engine:
    """Return the engine called ``name`` (default: ``onnxruntime``, the reference engine).

    The engine's module is imported on first use. Raises ``ValueError`` for an unknown name
    and ``EngineUnavailable`` when the engine's package is missing, both naming the known
    engines. Which engine runs a loaded model is the precision policy's choice
    (``openacl.precision.policy``: ``OPENACL_ENGINE``, the ``acl.init`` JSON, per model);
    a caller without a choice of its own (shape probes, tools) gets the reference.
    """
    name = name or DEFAULT_ENGINE
    engine = _INSTANCES.get(name)
    if engine is not None:
        return engine
    with _LOCK:
        if name not in _ENGINES and name in _MODULES:
            try:
                importlib.import_module(_MODULES[name])
            except ImportError as error:
                raise EngineUnavailable(
                    f"engine {name!r} is not available: {error} (install its package); "
                    f"known engines: {known_engines()}") from None
        cls = _ENGINES.get(name)
        if cls is None:
            raise ValueError(f"unknown engine {name!r}; known engines: {known_engines()}")
        engine = _INSTANCES.get(name)
        if engine is None:
            engine = _INSTANCES[name] = cls()
        return engine
