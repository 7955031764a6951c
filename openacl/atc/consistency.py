"""Is the graph consistent with the input shapes atc fixed? (A wrong ``--input_shape``.)

ATC infers every operator's shapes when it compiles, so a shape the graph cannot take (a
MatMul whose inner sizes differ, a Conv fed the wrong number of channels, a Reshape to a
different element count) fails the conversion. openacl checks the same with ONNX's own
shape inference in strict mode, with data propagation (shapes computed by ``Shape`` /
``Concat`` chains are followed), plus the few checks ONNX's inference leaves out (Conv and
ConvTranspose channels, Reshape element counts). The check is engine-neutral on purpose: the
converter does not load the graph into onnxruntime, so what it accepts does not depend on
which engine later runs the model.

Gear models are checked at every gear, shape-range models at both ends of their ranges:
the dims each one binds are concrete there, and that is where a wrong size shows.
"""

from __future__ import annotations

import math

import onnx
from onnx import numpy_helper, shape_inference

__all__ = ["Skeleton"]

_SMALL = 4096        # elements: initializers kept as data (shape constants); others typed only


class Skeleton:
    """The graph without its big weights (declared as inputs of the same type and shape),
    for checking it cheaply at many input shapes."""

    def __init__(self, model: onnx.ModelProto):
        self.model = onnx.ModelProto()
        _copy_fields(model, self.model, skip="graph")
        _copy_fields(model.graph, self.model.graph, skip="initializer")
        declared = {value.name for value in model.graph.input}
        for tensor in model.graph.initializer:
            if math.prod(tensor.dims) <= _SMALL:        # shapes, axes: data propagation reads
                self.model.graph.initializer.add().CopyFrom(tensor)
            elif tensor.name not in declared:
                self.model.graph.input.append(onnx.helper.make_tensor_value_info(
                    tensor.name, tensor.data_type, list(tensor.dims)))
        self.inputs = {value.name: value for value in self.model.graph.input}

    def problem(self, shapes: dict) -> str | None:
        """The graph's first inconsistency with these input shapes (name -> dims), or None."""
        for name, dims in shapes.items():
            too_big = _too_big(self.inputs[name], dims)
            if too_big:
                return too_big
            tensor = self.inputs[name].type.tensor_type
            if dims is None:
                tensor.ClearField("shape")
                continue
            shape = tensor.shape
            shape.ClearField("dim")
            for dim in dims:
                entry = shape.dim.add()
                if isinstance(dim, int) and dim >= 0:
                    entry.dim_value = dim
                elif isinstance(dim, str) and dim:
                    entry.dim_param = dim
        for value in self.model.graph.output:      # inferred afresh, never contradicted
            value.type.tensor_type.ClearField("shape")
        self.model.graph.ClearField("value_info")
        try:
            inferred = shape_inference.infer_shapes(self.model, strict_mode=True,
                                                    data_prop=True)
        except shape_inference.InferenceError as error:
            return _inference_text(error)
        except Exception:  # noqa: BLE001 - inference cannot run (>2 GB...): nothing to tell
            return None
        return _node_problem(inferred.graph)


def _too_big(value: onnx.ValueInfoProto, dims) -> str | None:
    """An input no device could hold (2**63 bytes or more: beyond what size_t sizes say)."""
    if dims is None or not all(isinstance(d, int) and d >= 0 for d in dims):
        return None
    try:
        itemsize = onnx.helper.tensor_dtype_to_np_dtype(
            value.type.tensor_type.elem_type).itemsize
    except (KeyError, TypeError, ValueError):
        return None
    size = math.prod(dims) * itemsize
    if size < 2**63:
        return None
    return f"input [{value.name}] of shape {list(dims)} needs {size} bytes, more than any " \
           f"device holds"


def _copy_fields(source, target, skip: str) -> None:
    """Copy every set field of one protobuf message into another, except ``skip``."""
    for field, value in source.ListFields():
        if field.name == skip:
            continue
        if _repeated(field):
            getattr(target, field.name).extend(value)
        elif field.type == field.TYPE_MESSAGE:
            getattr(target, field.name).CopyFrom(value)
        else:
            setattr(target, field.name, value)


def _repeated(field) -> bool:
    repeated = getattr(field, "is_repeated", None)
    return repeated if repeated is not None else field.label == field.LABEL_REPEATED


def _inference_text(error: Exception) -> str:
    text = " ".join(str(error).split())
    for prefix in ("[ShapeInferenceError] Inference error(s): ", "[TypeInferenceError] "
                   "Inference error(s): "):
        text = text.replace(prefix, "")
    return text if len(text) <= 400 else text[:397] + "..."


def _node_problem(graph: onnx.GraphProto) -> str | None:
    """What ONNX's shape inference does not check: channels of convolutions, Reshape counts."""
    shapes = {}
    for value in (*graph.input, *graph.value_info, *graph.output):
        tensor = value.type.tensor_type
        if tensor.HasField("shape"):
            shapes[value.name] = [d.dim_value if d.HasField("dim_value") else None
                                  for d in tensor.shape.dim]
    constants = {tensor.name: tensor for tensor in graph.initializer}
    for tensor in graph.initializer:
        shapes.setdefault(tensor.name, list(tensor.dims))
    for node in graph.node:
        if node.op_type == "Constant" and node.output:
            value = next((a.t for a in node.attribute if a.name == "value"), None)
            if value is not None:
                constants[node.output[0]] = value
        name = f"node [{node.name or node.output[0]}] ({node.op_type})"
        if node.domain not in ("", "ai.onnx"):
            continue
        if node.op_type in ("Conv", "ConvTranspose") and len(node.input) >= 2:
            found = _conv_problem(node, name, shapes.get(node.input[0]),
                                  shapes.get(node.input[1]))
        elif node.op_type == "Reshape" and len(node.input) >= 2:
            found = _reshape_problem(node, name, shapes.get(node.input[0]),
                                     constants.get(node.input[1]))
        else:
            found = None
        if found:
            return found
    return None


def _conv_problem(node, name, data, weight) -> str | None:
    if data is None or weight is None or len(weight) < 2:
        return None
    if len(data) != len(weight):
        return (f"{name} reads [{node.input[0]}] of rank {len(data)}, but its weight "
                f"[{node.input[1]}] has rank {len(weight)}")
    group = next((a.i for a in node.attribute if a.name == "group"), 1) or 1
    channels = data[1]
    if node.op_type == "Conv":
        expected = None if weight[1] is None else weight[1] * group
    else:
        expected = weight[0]
    if channels is not None and expected is not None and channels != expected:
        return (f"{name} reads {channels} channels from [{node.input[0]}], but its weight "
                f"[{node.input[1]}] takes {expected}")
    return None


def _reshape_problem(node, name, data, shape_tensor) -> str | None:
    if data is None or shape_tensor is None or any(d is None for d in data):
        return None
    try:
        target = [int(v) for v in numpy_helper.to_array(shape_tensor).reshape(-1)]
    except Exception:  # noqa: BLE001 - an unreadable constant: the checker's business
        return None
    allow_zero = next((a.i for a in node.attribute if a.name == "allowzero"), 0)
    if not allow_zero:
        target = [data[axis] if v == 0 and axis < len(data) else v
                  for axis, v in enumerate(target)]
    count = math.prod(data)
    known = math.prod(v for v in target if v != -1)
    if target.count(-1) == 0 and known != count or (
            target.count(-1) == 1 and (known == 0 or count % known)):
        return (f"{name} cannot reshape [{node.input[0]}] of shape {data} ({count} elements) "
                f"to {target}")
    return None
