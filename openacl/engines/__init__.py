"""Compute engines behind one small interface (see ``base``), found by name.

``get_engine("onnxruntime")`` (the default) or ``get_engine("openvino")``; each engine's
module is imported on first use. See docs/engines.md.
"""

from openacl.engines.base import (PRECISIONS, Binding, Engine, EngineSession,
                                  EngineUnavailable, EngineUnsupported, TensorSpec,
                                  get_engine, known_engines, register_engine)

__all__ = ["Engine", "EngineSession", "Binding", "TensorSpec", "EngineUnsupported",
           "EngineUnavailable", "PRECISIONS", "get_engine", "known_engines", "register_engine"]
