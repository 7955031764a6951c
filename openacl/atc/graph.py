"""Edits of the ONNX graph that ATC's options ask for, done with onnx's own helpers.

Every edit keeps the model's arithmetic and the names the application sees: a float16 input
keeps its name (a Cast to the original type follows it), a re-typed output keeps its name (its
producer writes to a renamed tensor, and a Cast writes the output). ONNX names are unique
across nested graphs (If/Loop bodies may read outer tensors), so renaming a tensor's uses walks
the subgraphs too.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper, shape_inference

from openacl.atc.errors import invalid_value, not_found, not_supported

__all__ = ["graph_inputs", "input_dims", "set_dims", "tensor_types", "resolve_tensor",
           "select_outputs", "make_input_fp16", "cast_output", "refresh_shapes", "type_name",
           "producer_of", "ONNX_TYPES"]

# ATC's type names for ONNX element types (what the metadata records).
ONNX_TYPES = {
    "FP32": TensorProto.FLOAT, "FP16": TensorProto.FLOAT16, "UINT8": TensorProto.UINT8,
    "INT8": TensorProto.INT8, "INT16": TensorProto.INT16, "UINT16": TensorProto.UINT16,
    "INT32": TensorProto.INT32, "UINT32": TensorProto.UINT32, "INT64": TensorProto.INT64,
    "UINT64": TensorProto.UINT64, "FP64": TensorProto.DOUBLE, "BOOL": TensorProto.BOOL,
    "BF16": TensorProto.BFLOAT16, "STRING": TensorProto.STRING,
}
_TYPE_NAMES = {elem: name for name, elem in ONNX_TYPES.items()}
_FLOATS = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.BFLOAT16)
_MIN_CAST_OPSET = 6      # Cast's "to" became an int in opset 6


def type_name(elem_type: int) -> str:
    """ATC's name for an ONNX element type: FP32, FP16, UINT8, INT64..."""
    if elem_type in _TYPE_NAMES:
        return _TYPE_NAMES[elem_type]
    try:
        return TensorProto.DataType.Name(elem_type)
    except ValueError:                 # not an ONNX type at all (a corrupt model)
        return f"element type {elem_type}"


def graph_inputs(graph: onnx.GraphProto) -> list:
    """The real inputs: old exporters also list initializers (weights) as graph inputs."""
    weights = {tensor.name for tensor in graph.initializer}
    return [value for value in graph.input if value.name not in weights]


def input_dims(value: onnx.ValueInfoProto) -> list | None:
    """Dims of a tensor: int for a fixed axis, str for a named one, None for an unknown one."""
    tensor = value.type.tensor_type
    if not value.type.HasField("tensor_type") or not tensor.HasField("shape"):
        return None
    return [dim.dim_value if dim.HasField("dim_value") else dim.dim_param or None
            for dim in tensor.shape.dim]


def set_dims(value: onnx.ValueInfoProto, dims: list) -> None:
    """Write ``dims`` (int: fixed; str: a dim_param; None: unknown) into a tensor's shape."""
    shape = value.type.tensor_type.shape
    shape.ClearField("dim")
    for dim in dims:
        entry = shape.dim.add()
        if isinstance(dim, int):
            entry.dim_value = dim
        elif dim:
            entry.dim_param = dim


def tensor_types(model: onnx.ModelProto) -> dict:
    """Name -> ValueInfoProto for every tensor whose type is known (after shape inference)."""
    try:
        inferred = shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception:      # noqa: BLE001 - inference is a best effort (custom ops, >2 GB)
        inferred = model
    graph = inferred.graph
    known = {}
    for tensor in graph.initializer:
        known[tensor.name] = helper.make_tensor_value_info(tensor.name, tensor.data_type,
                                                           list(tensor.dims))
    for value in (*graph.value_info, *graph.input, *graph.output):
        if value.type.HasField("tensor_type") and value.type.tensor_type.elem_type:
            known[value.name] = value
    return known


def producer_of(graph: onnx.GraphProto, tensor: str):
    """``(node, output index)`` of the node that writes ``tensor``, or ``(None, None)``."""
    for node in graph.node:
        for index, output in enumerate(node.output):
            if output == tensor:
                return node, index
    return None, None


def resolve_tensor(graph: onnx.GraphProto, node_name: str, index: int | None,
                   parameter: str) -> str:
    """The tensor that ATC's ``node:index`` names (a tensor name is accepted too)."""
    nodes = [node for node in graph.node if node.name == node_name]
    if len(nodes) > 1:
        raise invalid_value(node_name, parameter, f"{len(nodes)} nodes are named [{node_name}]; "
                                                  f"name the output tensor instead")
    if nodes:
        node = nodes[0]
        if index is None:
            if len(node.output) != 1:
                raise invalid_value(node_name, parameter, f"node [{node_name}] has "
                                                          f"{len(node.output)} outputs; write "
                                                          f"{node_name}:<output index>")
            index = 0
        if index >= len(node.output) or not node.output[index]:
            raise invalid_value(f"{node_name}:{index}", parameter,
                                f"node [{node_name}] ({node.op_type}) has "
                                f"{len(node.output)} outputs, indexed from 0")
        return node.output[index]
    tensors = _tensor_names(graph)
    if index is None and node_name in tensors:
        return node_name
    if index is not None and f"{node_name}:{index}" in tensors:     # TensorFlow-style names
        return f"{node_name}:{index}"
    if index == 0 and node_name in tensors:
        return node_name
    raise not_found(node_name, parameter, [node.name for node in graph.node if node.name])


def select_outputs(model: onnx.ModelProto, tensors: list[str]) -> None:
    """Make ``tensors`` the graph outputs, in this order, and drop what they do not need.

    Every graph input is kept, even one the new outputs do not read, so that the application
    still feeds the same inputs.
    """
    graph = model.graph
    known = tensor_types(model)
    outputs = []
    for name in dict.fromkeys(tensors):
        if name not in known:
            raise invalid_value(name, "out_nodes", f"the data type of tensor [{name}] cannot be "
                                                   f"inferred, so it cannot be a model output")
        value = onnx.ValueInfoProto()
        value.CopyFrom(known[name])
        if not value.type.tensor_type.HasField("shape"):
            raise invalid_value(name, "out_nodes", f"the shape (even the rank) of tensor [{name}] "
                                                   f"cannot be inferred, so it cannot be a model "
                                                   f"output")
        outputs.append(value)
    needed = {value.name for value in outputs}
    kept = []
    for node in reversed(graph.node):
        if needed.intersection(node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
            needed.update(_subgraph_reads(node))
    kept.reverse()
    initializers = [tensor for tensor in graph.initializer if tensor.name in needed]
    sparse = [tensor for tensor in graph.sparse_initializer if tensor.values.name in needed]
    value_info = [value for value in graph.value_info if value.name in needed]
    for field, items in (("output", outputs), ("node", kept), ("initializer", initializers),
                         ("sparse_initializer", sparse), ("value_info", value_info)):
        graph.ClearField(field)
        getattr(graph, field).extend(items)


def make_input_fp16(model: onnx.ModelProto, name: str) -> bool:
    """Let input ``name`` take float16 data: the input becomes float16 and a Cast restores the
    original type for its readers, so the model computes exactly what it did on those values.

    Return False if the input is float16 already.
    """
    graph = model.graph
    value = next(value for value in graph.input if value.name == name)
    original = value.type.tensor_type.elem_type
    if original == TensorProto.FLOAT16:
        return False
    if original not in _FLOATS:
        raise invalid_value(name, "input_fp16_nodes", f"input [{name}] is {type_name(original)}; "
                                                      f"only floating-point inputs can take "
                                                      f"float16 data")
    _require_cast(model)
    inner = _unique(graph, f"{name}_openacl_{type_name(original).lower()}")
    _rename_reads(graph, name, inner)
    value.type.tensor_type.elem_type = TensorProto.FLOAT16
    graph.node.insert(0, helper.make_node("Cast", [name], [inner], to=original,
                                          name=_unique(graph, f"{name}_openacl_cast")))
    for output in graph.output:          # the input itself is a graph output: it is float16 now
        if output.name == name:
            output.type.tensor_type.elem_type = TensorProto.FLOAT16
    return True


def cast_output(model: onnx.ModelProto, name: str, elem_type: int) -> bool:
    """Make graph output ``name`` of type ``elem_type`` with a Cast; False if it already is."""
    graph = model.graph
    value = next(value for value in graph.output if value.name == name)
    original = value.type.tensor_type.elem_type
    if original == elem_type:
        return False
    if original in (TensorProto.STRING, TensorProto.UNDEFINED):
        raise invalid_value(name, "output_type", f"output [{name}] is "
                                                 f"{type_name(original)}; it cannot be cast")
    node, index = producer_of(graph, name)
    if node is None:
        raise not_supported(f"output [{name}] is a graph input or a weight, not computed by a "
                            f"node, so openacl cannot change its type")
    _require_cast(model)
    inner = _unique(graph, f"{name}_openacl_{type_name(original).lower()}")
    _rename_reads(graph, name, inner)
    node.output[index] = inner
    for info in graph.value_info:
        if info.name == name:
            info.name = inner
    graph.node.append(helper.make_node("Cast", [inner], [name], to=elem_type,
                                       name=_unique(graph, f"{name}_openacl_cast")))
    value.type.tensor_type.elem_type = elem_type
    return True


def refresh_shapes(model: onnx.ModelProto, inputs_changed: bool = True) -> None:
    """Recompute the output shapes (ATC infers them; declared ones may be stale or wrong).

    Stale intermediate shapes (``value_info``) could contradict the new input shapes and make
    ONNX Runtime refuse the model, so they are dropped. An output whose shape inference cannot
    tell keeps its declared shape if the input shapes did not change, else only its rank
    (rather than a wrong size).
    """
    graph = model.graph
    graph.ClearField("value_info")
    ranks, declared = {}, {}
    for value in graph.output:
        ranks[value.name] = len(value.type.tensor_type.shape.dim)
        declared[value.name] = onnx.TensorShapeProto()
        declared[value.name].CopyFrom(value.type.tensor_type.shape)
        value.type.tensor_type.ClearField("shape")
    try:
        inferred = shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
        shapes = {value.name: value for value in inferred.graph.output}
    except Exception:      # noqa: BLE001 - inference is a best effort (custom ops, >2 GB)
        shapes = {}
    for value in graph.output:
        found = shapes.get(value.name)
        if found is not None and found.type.tensor_type.HasField("shape"):
            value.type.tensor_type.shape.CopyFrom(found.type.tensor_type.shape)
        elif not inputs_changed:
            value.type.tensor_type.shape.CopyFrom(declared[value.name])
        else:                           # the rank is still known; the sizes are not
            set_dims(value, [None] * ranks[value.name])


def _require_cast(model: onnx.ModelProto) -> None:
    opset = next((entry.version for entry in model.opset_import
                  if entry.domain in ("", "ai.onnx")), 0)
    if opset < _MIN_CAST_OPSET:
        raise not_supported(f"the model uses ONNX opset {opset}; inserting a Cast needs opset "
                            f"{_MIN_CAST_OPSET} or later (upgrade it with "
                            f"onnx.version_converter first)")


def _rename_reads(graph: onnx.GraphProto, old: str, new: str) -> None:
    """Make every node (in nested graphs too) that reads ``old`` read ``new``."""
    for node in graph.node:
        for position, name in enumerate(node.input):
            if name == old:
                node.input[position] = new
        for subgraph in _subgraphs(node):
            _rename_reads(subgraph, old, new)


def _subgraphs(node: onnx.NodeProto):
    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.GRAPH:
            yield attribute.g
        elif attribute.type == onnx.AttributeProto.GRAPHS:
            yield from attribute.graphs


def _subgraph_reads(node: onnx.NodeProto) -> set:
    """Names that a node's subgraphs read (outer-scope tensors among them)."""
    names = set()
    for subgraph in _subgraphs(node):
        for inner in subgraph.node:
            names.update(inner.input)
            names.update(_subgraph_reads(inner))
        names.update(value.name for value in subgraph.output)
    return names


def _tensor_names(graph: onnx.GraphProto) -> set:
    names = {value.name for value in (*graph.input, *graph.output, *graph.value_info)}
    names.update(tensor.name for tensor in graph.initializer)
    for node in graph.node:
        names.update(node.input)
        names.update(node.output)
    names.discard("")
    return names


def _unique(graph: onnx.GraphProto, base: str) -> str:
    taken = _tensor_names(graph) | {node.name for node in graph.node}
    for node in graph.node:
        for subgraph in _subgraphs(node):
            taken |= _tensor_names(subgraph)
    name, suffix = base, 1
    while name in taken:
        suffix += 1
        name = f"{base}_{suffix}"
    return name
