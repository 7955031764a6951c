"""Model descriptions (``aclmdlDesc``): inputs, outputs, sizes, and dynamic gears.

A description is computed once per offline model from its ONNX graph and its metadata
record. Gear models (dynamic batch / image size / dims) get the extra input
``ascend_mbatch_shape_data`` last, as ATC adds it; their data inputs and outputs report the
largest gear's size and ``-1`` on the dynamic axes. An input with AIPP is the raw uint8
image as GE describes it (NHWC image dims; ``dims_v2`` with H scaled for YUV formats); a
dynamic-AIPP model gets ``ascend_dynamic_aipp_data`` after the data inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import onnx

from openacl.constants import ACL_DYNAMIC_AIPP_NAME, ACL_DYNAMIC_TENSOR_NAME
from openacl.constants import DataType as D
from openacl.constants import Format as F
from openacl.errors import GeParamInvalid
from openacl.model.dtypes import (acl_from_onnx, acl_size, engine_type, format_from_name,
                                  numpy_from_acl, unbindable)
from openacl.model.aipp import PARAMETER_TENSORS, AippConfig, image_bytes
from openacl.model.aipp_dynamic import data_size as aipp_data_size
from openacl.model.om import OfflineModel

__all__ = ["TensorInfo", "Gears", "ModelDescription", "describe"]

_SIZE_LIMIT = 2**63        # bytes: size_t sizes beyond int64 describe no real tensor
_PER_IMAGE = ("aipp_geometry", "aipp_dtc")      # dynamic AIPP parameters with a batch axis


@dataclass
class TensorInfo:
    name: str
    dims: list[int]                   # -1 on dynamic axes
    data_type: int                    # aclDataType
    format: int                       # aclFormat
    size: int                         # bytes; the largest gear's for gear models
    shape_range: list[list[int]] | None = None
    aipp: AippConfig | None = None    # the AIPP in front of this input, if any
    aipp_for: str | None = None       # ascend_dynamic_aipp_data: the data input it feeds

    @property
    def dtype(self) -> np.dtype:
        return numpy_from_acl(self.data_type)

    @property
    def engine_type(self):
        """What the engine binds: the numpy dtype, or the ONNX type for bfloat16."""
        return engine_type(self.data_type)

    @property
    def itemsize(self) -> int:
        return acl_size(self.data_type)

    @property
    def dims_v2(self) -> list[int]:
        """get_input_dims_v2: a static-AIPP image's [N, H', W, C'] (bytes per row); else dims."""
        if self.aipp is None or self.aipp.dynamic:
            return list(self.dims)
        return list(aipp_engine_shape(self.aipp, self.aipp.model_dims))

    @property
    def bound_shape(self) -> tuple:
        """The shape the engine binds for this input of a model without gears."""
        return tuple(self.dims) if self.aipp is None else self.engine_shape(self.aipp.model_dims)

    def engine_shape(self, network_shape) -> tuple:
        """The shape the engine binds for this input, given the network-side shape."""
        if self.aipp is None:
            return tuple(network_shape)
        return aipp_engine_shape(self.aipp, network_shape)


@dataclass
class Gears:
    """The gear table of a dynamic batch / image size / dims model."""

    kind: str                         # "batch", "hw" or "dims"
    values: list[tuple[int, ...]]     # one tuple per gear
    input_dims: dict[str, list[int]]  # declared dims with -1 on dynamic axes
    input_order: list[str]
    input_shapes: dict[tuple, dict[str, tuple]] = field(default_factory=dict)
    output_shapes: dict[tuple, list[tuple]] = field(default_factory=dict)

    @property
    def max_gear(self) -> tuple[int, ...]:
        return max(self.values, key=lambda g: (self._volume(g), g))

    def _volume(self, gear) -> int:
        return sum(math.prod(s) for s in self.shapes_for(gear).values())

    def shapes_for(self, gear: tuple[int, ...]) -> dict[str, tuple]:
        """Input shapes with the gear's values in place of the -1 axes."""
        values = iter(gear)
        shapes = {}
        for name in self.input_order:
            dims = self.input_dims[name]
            if self.kind == "batch":
                shapes[name] = tuple(gear[0] if d == -1 else d for d in dims)
            elif self.kind == "hw":
                pair = iter(gear)
                shapes[name] = tuple(next(pair) if d == -1 else d for d in dims)
            else:
                shapes[name] = tuple(next(values) if d == -1 else d for d in dims)
        return shapes


class ModelDescription:
    """What ``acl.mdl.get_desc`` reports about one model."""

    def __init__(self, inputs: list[TensorInfo], outputs: list[TensorInfo],
                 gears: Gears | None, record):
        self.inputs = inputs
        self.outputs = outputs
        self.gears = gears
        self.record = record
        self.data_inputs = [t for t in inputs
                            if t.name != ACL_DYNAMIC_TENSOR_NAME and t.aipp_for is None]
        self.dynamic_index = next((i for i, t in enumerate(inputs)
                                   if t.name == ACL_DYNAMIC_TENSOR_NAME), None)
        # ascend_dynamic_aipp_data inputs: index -> the index of the data input they feed.
        self.aipp_data = {i: next(j for j, d in enumerate(inputs) if d.name == t.aipp_for)
                          for i, t in enumerate(inputs) if t.aipp_for is not None}
        # Shapes known only at run time: from the inputs' tensor descs, or from the run itself.
        self.has_run_time_shapes = gears is None and any(
            -1 in t.dims for t in (*(t for t in self.data_inputs if t.aipp is None), *outputs))

    def output_dims(self, gear: tuple | None) -> list[list[int]]:
        """Output dims for a gear (the largest if None); static dims for static models."""
        if self.gears is None:
            return [list(t.dims) for t in self.outputs]
        gear = gear if gear is not None else self.gears.max_gear
        return [list(shape) for shape in self.gears.output_shapes[gear]]


def describe(model: OfflineModel) -> ModelDescription:
    """Build the description of an offline model (raises AclError 145000 if impossible)."""
    graph = model.proto.graph
    initializers = {init.name for init in graph.initializer}
    record = model.record
    hidden = {name for config in (record.aipp or {}).values()
              for name in config.parameter_inputs}
    graph_inputs = [v for v in graph.input if v.name not in initializers and v.name not in hidden]
    gears = _gears(record.dynamic) if record.dynamic else None
    ranges = record.shape_range or {}

    inputs = []
    for value in graph_inputs:
        aipp = record.aipp_for(value.name)
        if aipp is not None:
            _check_aipp_image(value, aipp, model.origin, graph.input)
            inputs.append(_aipp_input(value.name, aipp))
            continue
        dims = _dims(value)
        if gears is not None and value.name in gears.input_dims:
            dims = list(gears.input_dims[value.name])
        data_type = acl_from_onnx(value.type.tensor_type.elem_type)
        format_name = record.input(value.name).format or ("NCHW" if len(dims) == 4 else "ND")
        shape_range = ranges.get(value.name)
        inputs.append(TensorInfo(value.name, dims, data_type, format_from_name(format_name),
                                 0, shape_range))
    for tensor in list(inputs):
        if tensor.aipp is not None and tensor.aipp.dynamic:
            batch = tensor.aipp.model_dims[0]
            name = ACL_DYNAMIC_AIPP_NAME if not any(t.aipp_for for t in inputs) else (
                f"{ACL_DYNAMIC_AIPP_NAME}_{tensor.name}")
            size = aipp_data_size(batch)
            inputs.append(TensorInfo(name, [size], D.ACL_UINT8, F.ACL_FORMAT_ND, size,
                                     aipp_for=tensor.name))

    outputs = []
    for value in graph.output:
        dims = _dims(value)
        data_type = acl_from_onnx(value.type.tensor_type.elem_type)
        outputs.append(TensorInfo(value.name, dims, data_type,
                                  F.ACL_FORMAT_NCHW if len(dims) == 4 else F.ACL_FORMAT_ND, 0))

    for kind, tensors in (("input", inputs), ("output", outputs)):
        for tensor in tensors:
            _check_bindable(kind, tensor, model.origin)

    if gears is not None:
        _fill_gear_shapes(model, gears, inputs, outputs)
        count = len(gears.values[0])
        inputs.append(TensorInfo(ACL_DYNAMIC_TENSOR_NAME, [count], D.ACL_INT64,
                                 F.ACL_FORMAT_ND, 8 * count))
    elif any(-1 in t.dims for t in inputs if t.aipp is None):
        _fill_range_sizes(model, inputs, outputs)
    else:
        _fill_static_sizes(model, inputs, outputs)
    return ModelDescription(inputs, outputs, gears, record)


def _check_bindable(kind: str, tensor: TensorInfo, origin: str) -> None:
    """Refuse, at load, a tensor no program could give a buffer for (145000, naming it)."""
    why = unbindable(tensor.data_type)
    if why is not None:
        raise GeParamInvalid(f"model {origin}: {kind} {tensor.name!r} is {why}; openacl "
                             f"refuses such models at load")


def _aipp_input(name: str, config: AippConfig) -> TensorInfo:
    """An input with AIPP: the raw uint8 image, as GE describes it (NHWC image dims)."""
    batch = config.model_dims[0]
    if config.dynamic:
        return TensorInfo(name, [batch, -1, -1, -1], D.ACL_UINT8, F.ACL_FORMAT_NHWC,
                          config.max_src_image_size, aipp=config)
    height, width = _source_hw(config, config.network_hw())
    dims = [batch, height, width, config.layout.channels]
    size = 0 if -1 in dims else batch * image_bytes(config.input_format, width, height)
    return TensorInfo(name, dims, D.ACL_UINT8, F.ACL_FORMAT_NHWC, size, aipp=config)


def _check_aipp_image(value: onnx.ValueInfoProto, config: AippConfig, origin: str,
                      graph_inputs) -> None:
    """The record's AIPP config must describe the raw image the graph input takes (and, for
    dynamic AIPP, the batch of its per-image parameter inputs)."""
    checks = [(value.name, list(aipp_engine_shape(config, config.model_dims)), _dims(value))]
    if config.dynamic:
        declared = {v.name: v for v in graph_inputs}
        for role, name in zip(PARAMETER_TENSORS, config.parameter_inputs):
            if role in _PER_IMAGE and name in declared:
                dims = _dims(declared[name])
                checks.append((name, [config.model_dims[0], *dims[1:]], dims))
    for name, expected, graph in checks:
        if len(graph) != len(expected) or any(g >= 0 and e >= 0 and g != e
                                              for g, e in zip(graph, expected)):
            raise GeParamInvalid(f"model {origin}: its openacl record does not match its "
                                 f"graph: aipp[{value.name!r}] describes {name!r} of shape "
                                 f"{expected}, but the graph input takes {graph}")


def aipp_engine_shape(config: AippConfig, network_shape) -> tuple:
    """The raw image shape bound for an AIPP input: [N, H', W, C'] (v2 dims), or the bytes."""
    if config.dynamic:
        return (config.max_src_image_size,)
    shape = list(network_shape)
    network_hw = (shape[1], shape[2]) if config.model_format == "NHWC" else (shape[2], shape[3])
    height, width = _source_hw(config, network_hw)
    num, den = config.layout.v2_height
    rows = height * num // den if height > 0 else height
    return (shape[0], rows, width, config.layout.v2_channels)


def _source_hw(config: AippConfig, network_hw) -> tuple[int, int]:
    """The source image's (H, W): the config's, or the network's where it leaves them 0."""
    return config.src_image_size_h or network_hw[0], config.src_image_size_w or network_hw[1]


def _dims(value: onnx.ValueInfoProto) -> list[int]:
    shape = value.type.tensor_type.shape
    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in shape.dim]
    if any(d.HasField("dim_value") and d.dim_value < 0 for d in shape.dim):
        raise GeParamInvalid(f"tensor {value.name!r} of the graph has negative dims "
                             f"{[d.dim_value for d in shape.dim]}; ONNX sizes are >= 0")
    return dims


def _size(dims, data_type) -> int:
    if any(d < 0 for d in dims):
        return 0
    size = math.prod(dims) * acl_size(data_type)
    if size >= _SIZE_LIMIT:
        raise GeParamInvalid(f"a tensor of dims {list(dims)} needs {size} bytes, more than "
                             f"any device can hold (the model is corrupt or its gears or "
                             f"ranges are wrong)")
    return size


def _gears(table) -> Gears:
    return Gears(kind=table.kind, values=[tuple(g) for g in table.gears],
                 input_dims={k: list(v) for k, v in table.input_dims.items()},
                 input_order=list(table.input_order))


def _fill_static_sizes(model, inputs, outputs) -> None:
    for tensor in inputs:
        if tensor.aipp is None and tensor.aipp_for is None:
            tensor.size = _size(tensor.dims, tensor.data_type)
    if any(-1 in t.dims for t in outputs):
        shapes = infer_output_shapes(model, {t.name: t.bound_shape for t in inputs
                                             if t.aipp_for is None})
        for tensor, shape in zip(outputs, shapes):
            tensor.dims = list(shape)
    for tensor in outputs:
        tensor.size = _size(tensor.dims, tensor.data_type)


def _fill_range_sizes(model, inputs, outputs) -> None:
    """Shape-range models: sizes at the top of each range; 0 when a range is unbounded."""
    for tensor in outputs:
        tensor.size = _size(tensor.dims, tensor.data_type)
    top = {}
    for tensor in inputs:
        if tensor.shape_range is None:
            tensor.shape_range = [[d, d] if d >= 0 else [1, -1] for d in tensor.dims]
        highs = [hi for _, hi in tensor.shape_range]
        tensor.size = _size(highs, tensor.data_type) if all(h >= 0 for h in highs) else 0
        top[tensor.name] = tuple(highs)
    if all(all(h >= 0 for h in shape) for shape in top.values()):
        shapes = infer_output_shapes(model, top)
        for tensor, shape in zip(outputs, shapes):
            tensor.size = _size(shape, tensor.data_type)


def _fill_gear_shapes(model, gears: Gears, inputs, outputs) -> None:
    """Each gear's engine-side input shapes and its output shapes; max-gear sizes."""
    by_name = {t.name: t for t in inputs}
    for gear in gears.values:
        shapes = {name: by_name[name].engine_shape(shape) if name in by_name else shape
                  for name, shape in gears.shapes_for(gear).items()}
        gears.input_shapes[gear] = shapes
        gears.output_shapes[gear] = [tuple(s) for s in
                                     infer_output_shapes(model, shapes, probe=True)]
    for tensor in inputs:
        data_type = D.ACL_UINT8 if tensor.aipp is not None else tensor.data_type
        sizes = [_size(gears.input_shapes[g].get(tensor.name, tensor.dims), data_type)
                 for g in gears.values]
        tensor.size = max(sizes)
    for index, tensor in enumerate(outputs):
        tensor.size = max(_size(gears.output_shapes[g][index], tensor.data_type)
                          for g in gears.values)


def infer_output_shapes(model: OfflineModel, input_shapes: dict[str, tuple],
                        probe: bool = False) -> list[tuple]:
    """Output shapes of the graph for fixed input shapes (-1 where unknown).

    ONNX shape inference answers; where it cannot tell and ``probe`` is set, one run of the
    engine on zero-filled inputs does. Only gear tables probe (each gear needs its output
    sizes at load time); a probe is wrong for data-dependent shapes such as NonZero's, which
    other models leave to run time.
    """
    proto = onnx.ModelProto()
    proto.CopyFrom(model.proto)
    for value in proto.graph.input:
        if value.name in input_shapes:
            dims = value.type.tensor_type.shape.dim
            for dim, size in zip(dims, input_shapes[value.name]):
                dim.Clear()
                dim.dim_value = size
    try:
        inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=False, data_prop=True)
        shapes = [tuple(_dims(v)) for v in inferred.graph.output]
    except Exception:  # noqa: BLE001 - inference is best effort; the engine run decides
        shapes = [(-1,)] * len(proto.graph.output)
    if all(-1 not in s for s in shapes) or not probe:
        return shapes
    return _probe_output_shapes(proto, input_shapes, model.origin)


def _probe_output_shapes(proto: onnx.ModelProto, input_shapes: dict[str, tuple],
                         origin: str) -> list[tuple]:
    """Run the engine once on zero-filled inputs and read the output shapes."""
    from openacl.engines import get_engine

    types = {value.name: acl_from_onnx(value.type.tensor_type.elem_type)
             for value in proto.graph.input}
    try:
        session = get_engine().load(proto.SerializeToString())
        binding = session.new_binding()
        zeros = []                    # kept alive while bound: the engine reads them
        for spec in session.inputs:
            shape, data_type = input_shapes[spec.name], types[spec.name]
            zeros.append(np.zeros(math.prod(shape) * acl_size(data_type), np.uint8))
            binding.bind_input(spec.name, engine_type(data_type), shape, zeros[-1].ctypes.data)
        for spec in session.outputs:
            binding.bind_output_to_engine(spec.name)
        session.run(binding)
        shapes = [tuple(array.shape) for array in binding.engine_outputs()]
        session.close()
    except Exception as error:  # noqa: BLE001 - any engine failure: the model cannot be run
        raise GeParamInvalid(f"model {origin}: the engine cannot run it on "
                             f"zeros of shapes {input_shapes} to find its output shapes: "
                             f"{type(error).__name__}: {_first_line(error)}") from None
    return shapes


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
