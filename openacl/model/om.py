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
      "aipp": null                            # {"<input>": AIPP config}, see model.aipp
    }

:mod:`openacl.model.record` parses and checks the record into a typed ``ModelRecord``.

A gear model (``--dynamic_batch_size`` / ``--dynamic_image_size`` / ``--dynamic_dims``) has::

    "dynamic": {"kind": "batch" | "hw" | "dims",
                "gears": [[b], ...] | [[h, w], ...] | [[v1, v2, ...], ...],
                "input_dims": {"<input>": [d0, -1, ...]},     # -1 on the dynamic axes
                "input_order": ["<input>", ...]}              # the order dims gears follow

and the ONNX graph carries a symbolic ``dim_param`` on each dynamic axis.

Only ``format_version`` is required; a missing key means its default.
"""

from __future__ import annotations

import json
import os

import onnx
from google.protobuf.message import DecodeError

from openacl.errors import AclError
from openacl.constants import ErrorCode
from openacl.model.record import ModelRecord, RecordError

__all__ = ["OfflineModel", "MetadataKey", "read_model_file", "read_model_bytes", "write_om",
           "HUAWEI_OM_MAGIC", "FORMAT_VERSION"]

MetadataKey = "openacl.om"
FORMAT_VERSION = 1
HUAWEI_OM_MAGIC = b"IMOD"        # GE's MODEL_FILE_MAGIC_NUM 0x444F4D49, little-endian
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
    return read_model_bytes(data, path)


def read_model_bytes(data: bytes, origin: str = "<memory>") -> OfflineModel:
    """Parse and check an offline model; raise ModelFileError (145000) with advice if bad."""
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
    try:
        onnx.checker.check_model(proto)
    except (onnx.checker.ValidationError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"model {origin} is not a valid ONNX model ({first}); "
                             f"{_CONVERT_ADVICE}") from None
    return OfflineModel(proto, data, _record(proto, origin), origin)


def _record(proto: onnx.ModelProto, origin: str) -> ModelRecord:
    for entry in proto.metadata_props:
        if entry.key == MetadataKey:
            try:
                record = json.loads(entry.value)
            except json.JSONDecodeError as error:
                raise ModelFileError(f"model {origin}: its openacl metadata is not valid JSON "
                                     f"({error}); {_CONVERT_ADVICE}") from None
            version = record.get("format_version") if isinstance(record, dict) else None
            if version != FORMAT_VERSION:
                raise AclError(f"model {origin} has openacl .om format version {version!r}; this "
                               f"openacl reads version {FORMAT_VERSION}: convert it again",
                               ErrorCode.ACL_ERROR_DESERIALIZE_MODEL)
            try:
                return ModelRecord.from_json(record)
            except RecordError as error:
                raise ModelFileError(f"model {origin}: its openacl record is invalid: {error}; "
                                     f"{_CONVERT_ADVICE}") from None
    return ModelRecord()


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
