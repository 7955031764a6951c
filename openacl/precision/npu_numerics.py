"""The NPU's half-precision numerics reproduced on a float32 engine: a graph rewrite.

For a model compiled with a half-precision mode, an NPU stores the tensors of the operators
the mode puts in half precision as float16 (or bfloat16): their weights and input
activations are converted to it, and their results are written in it. This module rewrites
the ONNX graph so that a float32 engine (ONNX Runtime) sees exactly those values:

- each float32 input of such an operator (activation, weight or graph input) is rounded to
  the half type: ``Cast(to=FLOAT16) -> Cast(to=FLOAT)``, or for a weight its rounded copy;
- each float32 output it writes is rounded the same way (unless the mode writes float32, as
  ``cube_fp16in_fp32out`` does for cube operators); consumers, graph outputs included, read
  the rounded value, as they read the NPU's half-precision tensor;
- rounding is IEEE round-to-nearest-even, as the NPU's conversions; a float16 overflow gives
  ±inf on SoCs that compute in INF/NaN mode (Atlas A2/A3: Ascend910B, Ascend910_93), and
  saturates at ±65504 on those that only saturate (Ascend310, 310B, 310P, 910): ``saturates``.

Inside an operator the arithmetic stays float32. That is the NPU's cube unit exactly (it
reads float16, accumulates in float32 and rounds its result) and, for vector operators,
differs from native float16 arithmetic by at most the double rounding of one result: the
rounding of inputs and outputs is what makes the accuracy of a half-precision model.

Which operators: ``modes`` gives the mode's scope (cube operators, all operators, or the
mixed-precision lists of ``mixlist``); ``--keep_dtype`` entries (node names, ``OpType::``
lines) stay float32. Not rewritten: Cast nodes (they produce the type they name), shape and
index computations (their float inputs are not data: Resize scales, NMS thresholds,
quantisation parameters), operators of other domains, and control-flow subgraphs (If, Loop,
Scan run in float32). Tensors of unknown type (shape inference could not type them) are not
rounded.
"""

from __future__ import annotations

import re

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from openacl.engines.base import EngineUnsupported
from openacl.precision.mixlist import OP_TYPE_PREFIX, effective_lists, onnx_type
from openacl.precision.modes import CUBE_OPS, MODES

__all__ = ["npu_model", "half_nodes", "round_half", "saturates", "float_tensors", "FP16_MAX"]

FP16_MAX = 65504.0

# Operators never put in half precision (they compute no floating-point data).
_SKIP = frozenset({
    "Cast", "CastLike", "Shape", "Size", "Constant", "ConstantOfShape", "Range", "NonZero",
    "If", "Loop", "Scan", "NonMaxSuppression", "QuantizeLinear", "DequantizeLinear",
    "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul", "RandomNormal", "RandomUniform",
    "RandomNormalLike", "RandomUniformLike", "Multinomial", "EyeLike", "SequenceConstruct",
    "SequenceAt", "SequenceInsert", "SequenceEmpty", "SplitToSequence", "ConcatFromSequence",
})
# Operators whose float inputs past the first are parameters, not data.
_FIRST_INPUT_ONLY = frozenset({"Resize", "Upsample", "RoiAlign", "GridSample"})
# SoCs that only saturate float16 overflow (no INF/NaN mode): Atlas 200/300/500, 200I/500 A2,
# inference (310P) and training (910, not 910B / 910_93) series.
_SATURATING = re.compile(r"^Ascend(310|310B\w*|310P\w*|910|910A|910Pro\w*|910Premium\w*)$",
                         re.IGNORECASE)


def saturates(soc_version: str) -> bool:
    """True if ``soc_version`` saturates float16 overflow at ±65504 instead of giving inf."""
    return bool(_SATURATING.match((soc_version or "").strip()))


def round_half(values: np.ndarray, half: str, saturate: bool = False) -> np.ndarray:
    """float32 ``values`` rounded to ``half`` ("f16" or "bf16") and back, as the NPU converts
    (round to nearest even); the numpy reference of the graph's Cast pairs."""
    values = np.asarray(values, np.float32)
    if half == "f16":
        if saturate:
            values = np.clip(values, -FP16_MAX, FP16_MAX)
        with np.errstate(over="ignore"):
            return values.astype(np.float16).astype(np.float32)
    if half == "bf16":
        bits = values.view(np.uint32).astype(np.uint64)
        rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
        out = rounded.astype(np.uint32).view(np.float32).reshape(values.shape)
        return np.where(np.isnan(values), values, out).astype(np.float32)
    raise ValueError(f"unknown half type {half!r}")


def half_nodes(graph: onnx.GraphProto, precision, floats: set[str]) -> dict[int, bool]:
    """Node index -> whether its outputs are rounded, for the nodes whose float32 inputs the
    recorded ``precision`` (a ``PrecisionRecord``) puts in half precision."""
    mode = MODES[precision.option][precision.mode]
    if mode.scope == "origin":
        return {}
    kept_names = {e for e in precision.keep_dtype if not e.startswith(OP_TYPE_PREFIX)}
    kept_types = set()
    for entry in precision.keep_dtype:
        if entry.startswith(OP_TYPE_PREFIX):
            kept_types |= onnx_type(entry[len(OP_TYPE_PREFIX):].strip())
    white, black = effective_lists(precision.modify_mixlist)
    producer: dict[str, int] = {}
    plan: dict[int, bool] = {}
    for index, node in enumerate(graph.node):
        for name in node.output:
            producer[name] = index
        if not _eligible(node, floats) or node.name in kept_names or node.op_type in kept_types:
            continue
        if mode.scope == "all":
            plan[index] = True
        elif mode.scope in ("cube", "cube_in"):
            if node.op_type in CUBE_OPS:
                plan[index] = mode.scope == "cube"
        elif node.op_type in white:
            plan[index] = True
        elif node.op_type not in black:
            # gray: follows the operators before it (all of them, constants aside)
            before = [producer[name] for name in _data_inputs(node)
                      if name in floats and name in producer
                      and graph.node[producer[name]].op_type != "Constant"]
            if before and all(plan.get(i, False) for i in before):
                plan[index] = True
    return plan


def npu_model(model: onnx.ModelProto, precision, soc_version: str = "") -> onnx.ModelProto:
    """A copy of ``model`` whose float32 engine run reproduces the NPU's numerics under the
    recorded ``precision`` (a ``PrecisionRecord``) on ``soc_version``.

    Graph inputs and outputs keep their names and types. Raises ``EngineUnsupported`` for a
    model the rewrite cannot express (an opset too old for the casts it needs).
    """
    mode = MODES[precision.option][precision.mode]
    rewritten = onnx.ModelProto()
    rewritten.CopyFrom(model)
    if mode.scope == "origin":
        return rewritten
    opset = next((entry.version for entry in model.opset_import
                  if entry.domain in ("", "ai.onnx")), 0)
    if opset < 6 or (mode.half == "bf16" and opset < 13):
        raise EngineUnsupported(f"the model's opset {opset} has no Cast to "
                                f"{'bfloat16' if mode.half == 'bf16' else 'float16'}; the npu "
                                f"rewrite needs opset {13 if mode.half == 'bf16' else 6} or later")
    graph = rewritten.graph
    floats = float_tensors(rewritten)
    plan = half_nodes(graph, precision, floats)
    _Rewriter(graph, floats, mode.half, mode.half == "f16" and saturates(soc_version),
              opset).apply(plan)
    return rewritten


class _Rewriter:
    """Inserts the rounding casts, keeping the node list in topological order."""

    def __init__(self, graph, floats: set[str], half: str, saturate: bool, opset: int):
        self.graph = graph
        self.floats = floats
        self.half = half
        self.saturate = saturate
        self.opset = opset
        self.initializers = {tensor.name: tensor for tensor in graph.initializer}
        self.names = _all_names(graph)
        self.rounded: dict[str, str] = {}     # tensor -> its rounded copy
        self.is_half: set[str] = set()        # tensors already holding rounded values
        self.nodes: list = []

    def apply(self, plan: dict[int, bool]) -> None:
        for index, node in enumerate(self.graph.node):
            if index not in plan:
                self.nodes.append(node)
                continue
            for position, name in enumerate(node.input):
                if position in _data_positions(node) and name in self.floats \
                        and name not in self.is_half:
                    node.input[position] = self._rounded(name)
            after = []
            if plan[index]:
                for position, name in enumerate(node.output):
                    if name and name in self.floats:
                        raw = self._fresh(f"{name}__npu_raw")
                        node.output[position] = raw
                        after += self._round_nodes(raw, name)
                        self.is_half.add(name)
            self.nodes.append(node)
            self.nodes += after
        del self.graph.node[:]
        self.graph.node.extend(self.nodes)
        used = {name for node in self.graph.node for name in node.input}
        used |= {value.name for value in (*self.graph.output, *self.graph.input)}
        kept = [t for t in self.graph.initializer if t.name in used or t.name not in self.rounded]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept)

    def _rounded(self, name: str) -> str:
        if name in self.rounded:
            return self.rounded[name]
        target = self.rounded[name] = self._fresh(f"{name}__npu_{self.half}")
        tensor = self.initializers.get(name)
        if tensor is not None:
            values = round_half(numpy_helper.to_array(tensor), self.half, self.saturate)
            self.graph.initializer.append(numpy_helper.from_array(values, target))
        else:
            self.nodes += self._round_nodes(name, target)
        return target

    def _round_nodes(self, source: str, target: str) -> list:
        nodes = []
        if self.saturate:
            clipped = self._fresh(f"{target}__clip")
            if self.opset >= 11:
                low, high = self._fresh(f"{target}__min"), self._fresh(f"{target}__max")
                self.graph.initializer.extend([
                    numpy_helper.from_array(np.float32(-FP16_MAX), low),
                    numpy_helper.from_array(np.float32(FP16_MAX), high)])
                nodes.append(helper.make_node("Clip", [source, low, high], [clipped],
                                              name=clipped))
            else:
                nodes.append(helper.make_node("Clip", [source], [clipped], name=clipped,
                                              min=-FP16_MAX, max=FP16_MAX))
            source = clipped
        middle = self._fresh(f"{target}__half")
        to = TensorProto.FLOAT16 if self.half == "f16" else TensorProto.BFLOAT16
        nodes.append(helper.make_node("Cast", [source], [middle], name=middle, to=to))
        nodes.append(helper.make_node("Cast", [middle], [target], name=f"{target}__cast",
                                      to=TensorProto.FLOAT))
        self.names.add(f"{target}__cast")
        return nodes

    def _fresh(self, base: str) -> str:
        name, number = base, 1
        while name in self.names:
            number += 1
            name = f"{base}{number}"
        self.names.add(name)
        return name


def _eligible(node, floats: set[str]) -> bool:
    if node.domain not in ("", "ai.onnx") or node.op_type in _SKIP:
        return False
    return any(name in floats for name in (*_data_inputs(node), *node.output))


def _data_positions(node) -> range:
    return range(1) if node.op_type in _FIRST_INPUT_ONLY else range(len(node.input))


def _data_inputs(node) -> list[str]:
    return [node.input[i] for i in _data_positions(node) if i < len(node.input) and node.input[i]]


def float_tensors(model: onnx.ModelProto) -> set[str]:
    """Names of the graph's float32 tensors (inputs, weights, node outputs) by inference."""
    graph = model.graph
    typed = list(graph.input) + list(graph.output) + list(graph.value_info)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
        typed += list(inferred.graph.value_info) + list(inferred.graph.output)
    except Exception:  # noqa: BLE001 - rewrite what is typed without inference
        pass
    floats = {value.name for value in typed
              if value.type.tensor_type.elem_type == TensorProto.FLOAT}
    floats |= {t.name for t in graph.initializer if t.data_type == TensorProto.FLOAT}
    for node in graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value" and attribute.t.data_type == TensorProto.FLOAT:
                    floats.update(node.output)
    return floats


def _all_names(graph) -> set[str]:
    names = {value.name for value in (*graph.input, *graph.output, *graph.value_info)}
    names |= {tensor.name for tensor in graph.initializer}
    for node in graph.node:
        names.update(node.input)
        names.update(node.output)
        names.add(node.name)
    return names
