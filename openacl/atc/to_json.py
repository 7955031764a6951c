"""Describe a model as JSON: ``atc --mode=1 --om=model.om --json=model.json``.

The layout follows ATC's dump of its ModelDef, so tools that read ATC's JSON find the same
keys: ``name``, ``version``, ``custom_version``, ``graph`` (a list: the main graph first, then
each subgraph of If/Loop/Scan nodes) and ``attr`` (a list of ``{"key", "value"}``, each value
an ATC AttrDef such as ``{"s": "..."}``). Each graph lists its ``op``s as ATC does: a ``Data``
op per input, a ``Const`` op per weight, the nodes, and a ``NetOutput`` op. Weights are
summarised (type, shape, size; the values of tiny tensors only), never dumped, so the JSON of a
large model stays small.
"""

from __future__ import annotations

import contextlib
import json
import math
import os

import numpy as np
import onnx
from onnx import AttributeProto, helper, numpy_helper, shape_inference

from openacl.atc.errors import AtcError, empty_value, invalid_value
from openacl.atc.graph import type_name
from openacl.errors import AclError
from openacl.model.om import read_model_file

__all__ = ["model_to_json", "write_json", "SMALL_TENSOR"]

SMALL_TENSOR = 16       # tensors with at most this many elements show their values


def model_to_json(path: str) -> dict:
    """Describe the model at ``path`` (an openacl .om or a plain .onnx) as an ATC-style dict."""
    if not path:
        raise empty_value("om")
    if not os.path.isfile(path):
        raise invalid_value(path, "om", "the file does not exist or is not a regular file")
    try:
        model = read_model_file(path)
    except AclError as error:
        raise AtcError("E10041", f"Failed to load the model from [{path}]. Reason: "
                                 f"{error.message}.") from None
    proto = model.proto
    try:
        described = shape_inference.infer_shapes(proto, strict_mode=False)
    except Exception:      # noqa: BLE001 - shapes are a bonus (custom ops, >2 GB)
        described = proto
    graphs: list = []
    _describe_graph(described.graph, described.graph.name or "graph", graphs)
    record = model.record
    attrs = [{"key": entry.key, "value": {"s": entry.value}} for entry in proto.metadata_props]
    if record.producer:
        attrs.append({"key": "soc_version", "value": {"s": record.soc_version}})
        attrs.append({"key": "atc_cmdline", "value": {"s": record.cmdline}})
    attrs.append({"key": "opset_import", "value": {"list": {"s": [
        f"{entry.domain or 'ai.onnx'}:{entry.version}" for entry in proto.opset_import]}}})
    attrs.append({"key": "ir_version", "value": {"i": proto.ir_version}})
    exporter = f"{proto.producer_name} {proto.producer_version}".strip()
    return {
        "name": os.path.splitext(os.path.basename(path))[0],
        "version": proto.model_version,
        "custom_version": record.producer or exporter,
        "graph": graphs,
        "attr": attrs,
    }


def write_json(description: dict, path: str) -> None:
    """Write a description to ``path`` (--json)."""
    if not path:
        raise empty_value("json")
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as file:
            json.dump(description, file, indent=2, ensure_ascii=False)
            file.write("\n")
    except OSError as error:
        raise invalid_value(path, "json", f"cannot write it: {error.strerror or error}") from None


def _describe_graph(graph: onnx.GraphProto, name: str, graphs: list) -> None:
    entry = {"name": name, "input": [], "output": [value.name for value in graph.output],
             "op": []}
    graphs.append(entry)               # before the subgraphs: the main graph comes first
    known = {value.name: value for value in (*graph.value_info, *graph.input, *graph.output)}
    weights = {tensor.name for tensor in graph.initializer}
    ops = entry["op"]
    for index, value in enumerate(v for v in graph.input if v.name not in weights):
        entry["input"].append(value.name)
        ops.append({"name": value.name, "type": "Data", "input": [], "output": [value.name],
                    "attr": [{"key": "index", "value": {"i": index}}],
                    "output_desc": [_desc(value.name, known)]})
    for tensor in graph.initializer:
        summary = _tensor_summary(tensor)
        ops.append({"name": tensor.name, "type": "Const", "input": [], "output": [tensor.name],
                    "attr": [{"key": "value", "value": {"t": summary}}],
                    "output_desc": [{"name": tensor.name, "dtype": summary["dtype"],
                                     "shape": summary["shape"]}]})
    for position, node in enumerate(graph.node):
        node_name = node.name or f"{node.op_type}_{position}"
        attrs = [{"key": attribute.name,
                  "value": _attr_value(attribute, f"{name}/{node_name}", graphs)}
                 for attribute in node.attribute]
        ops.append({"name": node_name,
                    "type": node.op_type if node.domain in ("", "ai.onnx")
                    else f"{node.domain}::{node.op_type}",
                    "input": list(node.input), "output": list(node.output), "attr": attrs,
                    "input_desc": [_desc(tensor, known) for tensor in node.input if tensor],
                    "output_desc": [_desc(tensor, known) for tensor in node.output if tensor]})
    ops.append({"name": "NetOutput", "type": "NetOutput", "input": entry["output"],
                "output": [], "attr": [],
                "input_desc": [_desc(tensor, known) for tensor in entry["output"]]})


def _attr_value(attribute: onnx.AttributeProto, owner: str, graphs: list) -> dict:
    kind = attribute.type
    if kind == AttributeProto.FLOAT:
        return {"f": attribute.f}
    if kind == AttributeProto.INT:
        return {"i": attribute.i}
    if kind == AttributeProto.STRING:
        return {"s": attribute.s.decode("utf-8", "replace")}
    if kind == AttributeProto.TENSOR:
        return {"t": _tensor_summary(attribute.t)}
    if kind == AttributeProto.SPARSE_TENSOR:
        return {"t": _tensor_summary(attribute.sparse_tensor.values)}
    if kind == AttributeProto.GRAPH:
        sub = f"{owner}/{attribute.name}"
        _describe_graph(attribute.g, sub, graphs)
        return {"g": sub}
    if kind == AttributeProto.FLOATS:
        return {"list": {"f": list(attribute.floats)}}
    if kind == AttributeProto.INTS:
        return {"list": {"i": list(attribute.ints)}}
    if kind == AttributeProto.STRINGS:
        return {"list": {"s": [s.decode("utf-8", "replace") for s in attribute.strings]}}
    if kind == AttributeProto.TENSORS:
        return {"list": {"t": [_tensor_summary(tensor) for tensor in attribute.tensors]}}
    if kind == AttributeProto.GRAPHS:
        names = []
        for number, subgraph in enumerate(attribute.graphs):
            names.append(f"{owner}/{attribute.name}_{number}")
            _describe_graph(subgraph, names[-1], graphs)
        return {"list": {"g": names}}
    return {"s": str(helper.get_attribute_value(attribute))}


def _tensor_summary(tensor: onnx.TensorProto) -> dict:
    """Type, shape and size of a weight; the values only for a tiny one."""
    shape = [int(dim) for dim in tensor.dims]
    count = math.prod(shape)
    summary = {"dtype": type_name(tensor.data_type), "shape": shape}
    try:
        itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
        summary["bytes"] = count * itemsize
    except (KeyError, TypeError, ValueError):
        pass
    external = tensor.data_location == onnx.TensorProto.EXTERNAL
    if count <= SMALL_TENSOR and not external and tensor.data_type != onnx.TensorProto.STRING:
        with contextlib.suppress(Exception):    # exotic element types: the summary suffices
            summary["value"] = numpy_helper.to_array(tensor).astype(object).ravel().tolist()
    return summary


def _desc(name: str, known: dict) -> dict:
    value = known.get(name)
    if value is None or not value.type.HasField("tensor_type"):
        return {"name": name}
    tensor = value.type.tensor_type
    desc = {"name": name, "dtype": type_name(tensor.elem_type)}
    if tensor.HasField("shape"):
        desc["shape"] = [dim.dim_value if dim.HasField("dim_value") else -1
                         for dim in tensor.shape.dim]
    return desc

