"""A model with some of its inner tensors exposed as graph outputs (``openacl compare``
runs both precisions on it; a dump runs it beside the model it dumps)."""

from __future__ import annotations

import onnx

__all__ = ["with_outputs"]


def with_outputs(model: onnx.ModelProto, names: list[str]) -> bytes:
    """``model`` with ``names`` added as graph outputs, typed by shape inference."""
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False).graph
        types = {v.name: v.type for v in list(inferred.value_info) + list(inferred.output)}
    except Exception:  # noqa: BLE001 - without inference the engine infers the types itself
        types = {}
    present = {v.name for v in exposed.graph.output}
    for name in names:
        if name in present:
            continue
        value = onnx.ValueInfoProto(name=name)
        if name in types and types[name].tensor_type.elem_type:
            value.type.tensor_type.elem_type = types[name].tensor_type.elem_type
        exposed.graph.output.append(value)
    return exposed.SerializeToString()
