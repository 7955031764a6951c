"""The engine contract: load a model, describe it, bind raw buffers, run.

An engine never copies the caller's buffers: a binding points the engine's inputs and
outputs at device memory addresses directly. Engines are found by name, so another engine
(OpenVINO, CUDA) plugs in without touching the model layer or the facade.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

__all__ = ["TensorSpec", "Binding", "EngineSession", "Engine", "get_engine", "register_engine"]


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
    name: str

    @abstractmethod
    def load(self, model_bytes: bytes) -> EngineSession: ...


_ENGINES: dict[str, type[Engine]] = {}


def register_engine(cls: type[Engine]) -> type[Engine]:
    _ENGINES[cls.name] = cls
    return cls


def get_engine(name: str | None = None) -> Engine:
    """Return the engine called ``name`` (default: ``OPENACL_ENGINE`` or ``onnxruntime``)."""
    from openacl.engines import onnxruntime_cpu  # noqa: F401  (registers itself)

    name = name or os.environ.get("OPENACL_ENGINE", "onnxruntime")
    try:
        return _ENGINES[name]()
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; known: {sorted(_ENGINES)}") from None
