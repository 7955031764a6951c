"""The openacl offline model (``.om``): an ONNX ModelProto carrying one JSON metadata record.

The record sits in ``metadata_props`` under the key ``openacl.om``, so the file stays an
ordinary ONNX file that any ONNX tool can open. Every loader also accepts a plain ``.onnx``
(no record: defaults apply). A Huawei ATC-compiled ``.om`` (built for Ascend silicon; its
first four bytes are ``IMOD``) is recognised and refused with advice.

The record (format version 1), as ``atc`` writes it::

    {
      "format_version": 1,
      "producer": "openacl atc 0.1.0",
      "framework": 5,                         # ATC --framework (5 = ONNX)
      "soc_version": "Ascend310P3",           # as given to --soc_version, recorded only
      "source": "resnet50.onnx",              # the --model argument
      "cmdline": "atc --model=... ...",
      "input_order": ["<input name>", ...],   # graph order, weights excluded
      "inputs": {"<input name>": {"format": "NCHW", "fp16": false}},
      "output_order": ["<output name>", ...],
      "outputs": {"<output name>": {"type": "FP32", "node": "<producer>", "index": 0}},
      "dynamic": null,                        # gear table, below
      "shape_range": null,                    # {"<input>": [[lo, hi], ...]}, hi -1 = unbounded
      "aipp": null,                           # {"<input>": AIPP config}, see model.aipp
      "precision": {...}                      # --precision_mode & co., see model.record
    }

:mod:`openacl.model.record` parses and checks the record into a typed ``ModelRecord``.

A gear model (``--dynamic_batch_size`` / ``--dynamic_image_size`` / ``--dynamic_dims``) has::

    "dynamic": {"kind": "batch" | "hw" | "dims",
                "gears": [[b], ...] | [[h, w], ...] | [[v1, v2, ...], ...],
                "input_dims": {"<input>": [d0, -1, ...]},     # -1 on the dynamic axes
                "input_order": ["<input>", ...]}              # the order dims gears follow

and the ONNX graph carries a symbolic ``dim_param`` on each dynamic axis.

Only ``format_version`` is required; a missing key means its default. The record is checked
against the graph at load (every input, output and gear it names exists, with the rank and
the fixed axes the graph has): a record that disagrees with its graph is refused with 145000.

Weights kept in external data files (``onnx.save(..., save_as_external_data=True)``) are read
from the model file's folder only (:mod:`openacl.model.external`); a model loaded from
memory must hold all its data.
"""

from __future__ import annotations

import json
import os

import onnx
from google.protobuf.message import DecodeError

from openacl.errors import AclError
from openacl.constants import ErrorCode
from openacl.model.external import ExternalDataError, external_tensors, load_external_data
from openacl.model.record import ModelRecord, RecordError

__all__ = ["OfflineModel", "MetadataKey", "read_model_file", "read_model_bytes", "write_om",
           "undecodable_field", "repeated_name", "HUAWEI_OM_MAGIC", "FORMAT_VERSION"]

MetadataKey = "openacl.om"
FORMAT_VERSION = 1
HUAWEI_OM_MAGIC = b"IMOD"        # GE's MODEL_FILE_MAGIC_NUM 0x444F4D49, little-endian
_PROTOBUF_LIMIT = 2**31 - 1     # bytes: the most one serialized protobuf message may hold
_CONVERT_ADVICE = ("convert the source ONNX model with openacl's atc, e.g. `atc --model=model.onnx "
                   "--framework=5 --output=model --soc_version=Ascend310P3`, and load model.om")


class OfflineModel:
    """A parsed offline model: the ONNX graph, its serialized bytes, and the metadata record."""

    def __init__(self, proto: onnx.ModelProto, data: bytes, record: ModelRecord, origin: str):
        self.proto = proto
        self.data = data              # what the engine loads; never re-serialized
        self.record = record
        self.origin = origin


class ModelFileError(AclError):
    code = ErrorCode.ACL_ERROR_GE_PARAM_INVALID


def read_model_file(path: str) -> OfflineModel:
    if not path or not os.path.isfile(path):
        raise AclError(f"model file {path!r} does not exist or is not a regular file",
                       ErrorCode.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise AclError(f"cannot read model file {path!r}: {error.strerror}",
                       ErrorCode.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID) from None
    return read_model_bytes(data, path, folder=os.path.dirname(os.path.abspath(path)))


def read_model_bytes(data: bytes, origin: str = "<memory>",
                     folder: str | None = None) -> OfflineModel:
    """Parse and check an offline model; raise ModelFileError (145000) with advice if bad.

    ``folder`` is the model file's folder, where its external data may live; a model read
    from memory (no folder) must hold all its data itself.
    """
    if not data:
        raise ModelFileError(f"model {origin} is empty (0 bytes); {_CONVERT_ADVICE}")
    if data[:4] == HUAWEI_OM_MAGIC:
        raise ModelFileError(
            f"model {origin} is a Huawei ATC-compiled .om built for Ascend silicon, which "
            f"openacl cannot run; {_CONVERT_ADVICE}")
    proto = onnx.ModelProto()
    try:
        proto.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as error:
        raise ModelFileError(f"model {origin} is truncated or corrupt ({error}); "
                             f"{_CONVERT_ADVICE}") from None
    if not proto.HasField("graph") or not proto.graph.output or not proto.opset_import:
        raise ModelFileError(f"model {origin} is not an ONNX model or openacl .om (no graph, "
                             f"outputs or opset); {_CONVERT_ADVICE}")
    broken = undecodable_field(proto)
    if broken:
        raise ModelFileError(f"model {origin} is corrupt: {broken} is not UTF-8 text; "
                             f"{_CONVERT_ADVICE}")
    if external_tensors(proto):
        data = _with_external_data(proto, origin, folder)
    try:
        onnx.checker.check_model(proto)
    except (onnx.checker.ValidationError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"model {origin} is not a valid ONNX model ({first}); "
                             f"{_CONVERT_ADVICE}") from None
    repeated = repeated_name(proto.graph)
    if repeated:
        raise ModelFileError(f"model {origin} is not a valid ONNX model ({repeated}); "
                             f"{_CONVERT_ADVICE}")
    record = _record(proto, origin)
    try:
        record.check_graph(*_graph_signature(proto))
    except RecordError as error:
        raise ModelFileError(f"model {origin}: its openacl record does not match its graph: "
                             f"{error}; {_CONVERT_ADVICE}") from None
    return OfflineModel(proto, data, record, origin)


def _with_external_data(proto: onnx.ModelProto, origin: str, folder: str | None) -> bytes:
    """Read the external data into the model (from its folder only); its new bytes."""
    if folder is None:
        tensor = external_tensors(proto)[0]
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        raise ModelFileError(f"model {origin} keeps the data of tensor [{tensor.name}] in the "
                             f"file [{location}], but a model loaded from memory must hold all "
                             f"its data: load it from its file, or convert it with atc (the .om "
                             f"holds the data)")
    try:
        load_external_data(proto, folder)
    except ExternalDataError as error:
        raise ModelFileError(f"model {origin}: {error}; {_CONVERT_ADVICE}") from None
    if proto.ByteSize() >= _PROTOBUF_LIMIT:
        raise ModelFileError(f"model {origin} with its external data is 2 GB or larger, more "
                             f"than one ONNX model in memory can hold")
    return proto.SerializeToString()


def _record(proto: onnx.ModelProto, origin: str) -> ModelRecord:
    for entry in proto.metadata_props:
        if entry.key == MetadataKey:
            try:
                record = json.loads(entry.value)
            except (ValueError, RecursionError) as error:     # JSONDecodeError, too deep
                raise ModelFileError(f"model {origin}: its openacl metadata is not valid JSON "
                                     f"({type(error).__name__}: {error}); "
                                     f"{_CONVERT_ADVICE}") from None
            version = record.get("format_version") if isinstance(record, dict) else None
            if type(version) is not int or version != FORMAT_VERSION:
                raise AclError(f"model {origin} has openacl .om format version "
                               f"{_short(version)}; this openacl reads version "
                               f"{FORMAT_VERSION}: convert it again",
                               ErrorCode.ACL_ERROR_DESERIALIZE_MODEL)
            try:
                return ModelRecord.from_json(record)
            except RecordError as error:
                raise ModelFileError(f"model {origin}: its openacl record is invalid: {error}; "
                                     f"{_CONVERT_ADVICE}") from None
    return ModelRecord()


def _graph_signature(proto: onnx.ModelProto) -> tuple[dict, list]:
    """The graph's data inputs (name -> dims, None for a free axis or an unknown shape) and
    output names: what the record must agree with."""
    graph = proto.graph
    weights = {tensor.name for tensor in graph.initializer}
    inputs = {}
    for value in graph.input:
        if value.name in weights:
            continue
        tensor = value.type.tensor_type
        inputs[value.name] = ([d.dim_value if d.HasField("dim_value") else None
                               for d in tensor.shape.dim] if tensor.HasField("shape") else None)
    return inputs, [value.name for value in graph.output]


def repeated_name(graph: onnx.GraphProto) -> str | None:
    """A graph input or output listed twice (ONNX's checker lets it pass; a binding by name
    would then write one buffer and leave the other untouched)."""
    for kind, values in (("input", graph.input), ("output", graph.output)):
        names = [value.name for value in values]
        twice = next((name for name in names if names.count(name) > 1), None)
        if twice is not None:
            return f"graph {kind} {twice!r} is listed twice"
    return None


def undecodable_field(message, where: str = "model") -> str | None:
    """The first string field of ``message`` (nested ones too) that is not UTF-8 text.

    proto2 strings are not checked when parsed: protobuf hands invalid UTF-8 back as bytes,
    which every later ``str`` operation would trip over.
    """
    for field, value in message.ListFields():
        repeated = _is_repeated(field)
        if field.type == field.TYPE_STRING:
            for index, item in enumerate(value if repeated else [value]):
                if not isinstance(item, str):
                    return f"{where}.{field.name}" + (f"[{index}]" if repeated else "")
        elif field.type == field.TYPE_MESSAGE:
            for index, item in enumerate(value if repeated else [value]):
                found = undecodable_field(item, f"{where}.{field.name}" +
                                  (f"[{index}]" if repeated else ""))
                if found:
                    return found
    return None


def _is_repeated(field) -> bool:
    repeated = getattr(field, "is_repeated", None)          # protobuf >= 5.28
    return repeated if repeated is not None else field.label == field.LABEL_REPEATED


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def write_om(proto: onnx.ModelProto, metadata: "dict | ModelRecord", path: str) -> None:
    """Attach the metadata record to ``proto`` and save it to ``path``."""
    if isinstance(metadata, ModelRecord):
        metadata = metadata.to_json()
    record = {"format_version": FORMAT_VERSION, **metadata}
    kept = [entry for entry in proto.metadata_props if entry.key != MetadataKey]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    proto.metadata_props.add(key=MetadataKey, value=json.dumps(record, sort_keys=True))
    onnx.save(proto, path)
