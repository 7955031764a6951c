"""Precision: ATC's precision modes on the CPU, and the accuracy bisection tool.

``modes`` and ``mixlist`` are tables (what each ATC mode computes in half precision);
``policy`` picks, for a loaded model, the engine, its precision and an optional graph
rewrite; ``npu_numerics`` is that rewrite (the NPU's float16/bfloat16 rounding reproduced
on ONNX Runtime); ``compare`` runs a model at its precision against float32 node by node.
See docs/precision.md.

Importing this package loads no engine and no onnx: the submodules are imported when used.
"""

__all__ = ["modes", "mixlist", "policy", "npu_numerics", "compare"]
