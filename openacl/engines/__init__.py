"""Compute engines behind one small interface (see ``base``); onnxruntime on the CPU first."""

from openacl.engines.base import Binding, Engine, EngineSession, TensorSpec, get_engine

__all__ = ["Engine", "EngineSession", "Binding", "TensorSpec", "get_engine"]
