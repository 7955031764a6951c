"""The AIPP preprocessing graph that ``atc`` puts in front of a model input.

The model input becomes the raw uint8 image; ONNX nodes compute from it what the network
input needs, in the AIPP unit's order, vectorised over the batch:

1. for every output pixel (n, c, y, x), the byte of the image it comes from: padding moves
   it by (top, left), the crop window by (load_start_pos_h, load_start_pos_w), and the
   input format's layout (:data:`openacl.model.aipp.LAYOUTS`, channel swaps applied) turns
   (channel, row, column) into a byte offset; one ``GatherElements`` reads them all;
2. CSC in integers: ``(M (x - input_bias)) >> 8`` for YUV formats, ``((M x) >> 8) +
   output_bias`` for RGB formats, clamped to [0, 255] (static AIPP without CSC skips it;
   dynamic AIPP with CSC off runs an identity matrix);
3. DTC in float16 arithmetic: ``((x - mean) - min) * var_reci``;
4. padded pixels take the padding value (static AIPP without padding has no mask); then
   the network input's dtype and layout.

Every parameter is a tensor (:func:`openacl.model.aipp.graph_tensors` gives their values).
Static AIPP makes them initializers, so the engine folds the index arithmetic at load time
and runs one gather, a few element-wise nodes and a transpose per execution. Dynamic AIPP
makes them graph inputs that the executor fills from the ``ascend_dynamic_aipp_data``
buffer before each run.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from openacl.atc.errors import not_supported
from openacl.atc.graph import _rename_reads, _unique
from openacl.model.aipp import PARAMETER_TENSORS, AippConfig, graph_tensors, static_params

__all__ = ["insert_aipp", "MIN_OPSET", "PARAMETER_TYPES"]

MIN_OPSET = 13
PARAMETER_TYPES = {"aipp_fetch": TensorProto.INT64, "aipp_source": TensorProto.INT64,
                   "aipp_geometry": TensorProto.INT64, "aipp_csc": TensorProto.INT32,
                   "aipp_dtc": TensorProto.FLOAT, "aipp_pad": TensorProto.FLOAT}


class _Builder:
    """Appends nodes with unique names to a list; ``op`` returns the output tensor name."""

    def __init__(self, graph: onnx.GraphProto, prefix: str):
        self.graph = graph
        self.prefix = prefix
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{self.prefix}/{hint}_{self._count}"

    def op(self, op_type: str, *inputs: str, hint: str | None = None, **attrs) -> str:
        output = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=output, **attrs))
        return output

    def const(self, value, dtype, hint: str = "const") -> str:
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def part(self, tensor: str, axis: int, index: int, hint: str) -> str:
        """``tensor`` indexed at ``index`` on ``axis``, the axis kept (length 1)."""
        return self.op("Gather", tensor, self.const([index], np.int64), axis=axis, hint=hint)


def insert_aipp(model: onnx.ModelProto, input_name: str, config: AippConfig) -> list[str]:
    """Put AIPP in front of input ``input_name``; return the names of new parameter inputs.

    The input keeps its name and becomes the raw uint8 image: ``[N, H', W, C']`` (the
    ``get_input_dims_v2`` shape) for static AIPP, ``[max_src_image_size]`` bytes for dynamic.
    Dynamic AIPP adds the parameter tensors as graph inputs (returned); static AIPP holds them.
    """
    opset = next((e.version for e in model.opset_import if e.domain in ("", "ai.onnx")), 0)
    if opset < MIN_OPSET:
        raise not_supported(f"AIPP needs ONNX opset {MIN_OPSET} or later and the model uses "
                            f"opset {opset}; upgrade it with onnx.version_converter first")
    graph = model.graph
    value = next(v for v in graph.input if v.name == input_name)
    network_type = value.type.tensor_type.elem_type
    build = _Builder(graph, _unique(graph, f"{input_name}_huawei_aipp"))
    batch = config.model_dims[0]
    height, width = config.network_hw()
    channels = config.network_channels()

    parameters = {}
    new_inputs = []
    if config.dynamic:
        for name in PARAMETER_TENSORS:
            tensor = _unique(graph, f"{input_name}_{name}")
            parameters[name] = tensor
            new_inputs.append(helper.make_tensor_value_info(
                tensor, PARAMETER_TYPES[name], _parameter_shape(name, batch, channels)))
    else:
        values = graph_tensors(static_params(config), 1, channels)
        for name in PARAMETER_TENSORS:
            parameters[name] = build.const(values[name], values[name].dtype, name)

    inner = _unique(graph, f"{input_name}_aipp_out")
    _rename_reads(graph, input_name, inner)
    raw_shape = ([config.max_src_image_size] if config.dynamic
                 else _raw_shape(value, config))
    value.type.tensor_type.elem_type = TensorProto.UINT8
    del value.type.tensor_type.shape.dim[:]
    for dim in raw_shape:
        entry = value.type.tensor_type.shape.dim.add()
        if isinstance(dim, str):
            entry.dim_param = dim
        else:
            entry.dim_value = dim

    result = _preprocess(build, input_name, parameters, config, (height, width), channels,
                         network_type)
    build.nodes.append(helper.make_node("Identity", [result], [inner], name=build.name("out")))
    for position, node in enumerate(build.nodes):
        graph.node.insert(position, node)
    graph.initializer.extend(build.initializers)
    graph.input.extend(new_inputs)
    return [v.name for v in new_inputs]


def _parameter_shape(name: str, batch: int, channels: int) -> list:
    n = batch if batch > 0 else "ascend_dynamic_batch"
    return {"aipp_fetch": [6, 4, 1, 1], "aipp_source": [3], "aipp_geometry": [n, 6, 1, 1],
            "aipp_csc": [5, 3], "aipp_dtc": [n, 3, channels, 1, 1], "aipp_pad": [1]}[name]


def _raw_shape(value: onnx.ValueInfoProto, config: AippConfig) -> list:
    """[N, H', W, C'] of the raw image (symbolic where the network input's dims are)."""
    dims = value.type.tensor_type.shape.dim
    layout = config.layout
    nhwc = config.model_format == "NHWC"
    n_dim, h_dim, w_dim = dims[0], dims[1 if nhwc else 2], dims[2 if nhwc else 3]
    batch = n_dim.dim_param if n_dim.dim_param else n_dim.dim_value
    if config.src_image_size_h and config.src_image_size_w:
        num, den = layout.v2_height
        height = config.src_image_size_h * num // den
        return [batch, height, config.src_image_size_w, layout.v2_channels]
    # A dynamic-image-size gear decides H and W: the image is the gear's size (its rows
    # are H * 3/2 for YUV420SP, H * 2 for YUV422SP: a dimension of its own).
    rows = h_dim.dim_param or h_dim.dim_value
    if layout.v2_height != (1, 1):
        rows = f"{rows}_aipp_rows"
    return [batch, rows, w_dim.dim_param or w_dim.dim_value, layout.v2_channels]


def _preprocess(b: _Builder, raw: str, p: dict, config: AippConfig, network_hw, channels: int,
                network_type: int) -> str:
    i64 = np.int64
    # Source size and one image's bytes: fixed, or (dynamic image size) from the raw shape.
    if config.dynamic or (config.src_image_size_h and config.src_image_size_w):
        src_h = b.part(p["aipp_source"], 0, 0, "src_h")
        src_w = b.part(p["aipp_source"], 0, 1, "src_w")
        image = b.part(p["aipp_source"], 0, 2, "image_bytes")
    else:
        shape = b.op("Shape", raw)
        rows = b.part(shape, 0, 1, "rows")
        num, den = config.layout.v2_height
        src_h = b.op("Div", b.op("Mul", rows, b.const([den], i64)), b.const([num], i64))
        src_w = b.part(shape, 0, 2, "src_w")
        image = b.op("Mul", b.op("Mul", rows, src_w), b.part(shape, 0, 3, "c"))
    height, width = network_hw
    if height > 0 and width > 0:
        out_h, out_w = b.const([height], i64, "out_h"), b.const([width], i64, "out_w")
    else:
        out_h, out_w = src_h, src_w          # no crop or padding with dynamic image sizes

    # The images as rows of bytes: [N, bytes of one image].
    flat = b.op("Reshape", raw, b.const([-1], i64))
    if config.dynamic:
        batch = config.model_dims[0]
        used = b.op("Mul", image, b.const([batch], i64))
        flat = b.op("Slice", flat, b.const([0], i64), used, b.const([0], i64))
    rows = b.op("Reshape", flat, b.op("Concat", b.const([-1], i64), image, axis=0))

    # Output pixel -> source pixel (and whether it lies inside the crop window, not padding).
    geometry = p["aipp_geometry"]
    crop_y, crop_x, crop_h, crop_w, top, left = (b.part(geometry, 1, k, name) for k, name in
                                                 enumerate(("crop_y", "crop_x", "crop_h",
                                                            "crop_w", "top", "left")))
    if not (config.dynamic or (config.src_image_size_h and config.src_image_size_w)):
        # The image is the gear's size: the whole image is the window (no crop or padding).
        cell = b.const([1, 1, 1, 1], i64)
        crop_h, crop_w = b.op("Reshape", src_h, cell), b.op("Reshape", src_w, cell)
    one, zero = b.const(1, i64, "one"), b.const(0, i64, "zero")
    rows_y = b.op("Reshape", b.op("Range", zero, b.op("Squeeze", out_h), one),
                  b.const([1, 1, -1, 1], i64))
    cols_x = b.op("Reshape", b.op("Range", zero, b.op("Squeeze", out_w), one),
                  b.const([1, 1, 1, -1], i64))
    local_y = b.op("Sub", rows_y, top)                       # [N, 1, H, 1]
    local_x = b.op("Sub", cols_x, left)                      # [N, 1, 1, W]
    inside = b.op("And", _within(b, local_y, crop_h), _within(b, local_x, crop_w))
    source_y = b.op("Add", _clamp(b, local_y, crop_h), crop_y)
    source_x = b.op("Add", _clamp(b, local_x, crop_w), crop_x)

    # Byte offsets: plane*W*H + (y // row_div)*row_bytes*W + (x // col_div)*col_bytes + offset.
    fetch = p["aipp_fetch"]
    plane, row_div, row_bytes, col_div, col_bytes, offset = (
        b.op("Squeeze", b.part(fetch, 0, k, "fetch"), b.const([0], i64)) for k in range(6))
    plane_bytes = b.op("Mul", src_h, src_w)
    index = b.op("Add", b.op("Add", b.op("Mul", plane, plane_bytes), offset),
                 b.op("Mul", b.op("Div", source_y, row_div), b.op("Mul", row_bytes, src_w)))
    index = b.op("Add", index, b.op("Mul", b.op("Div", source_x, col_div), col_bytes))
    padded = config.dynamic or config.padding      # static AIPP without padding: no mask
    if padded:
        index = b.op("Mul", index, b.op("Cast", inside, to=TensorProto.INT64))  # pad: byte 0
    # Static parameters are one image's: broadcast them to the batch the rows hold.
    images = b.part(b.op("Shape", rows), 0, 0, "images")
    per_image = b.op("Concat", images, b.const([1, 1, 1], i64), axis=0)
    index = b.op("Expand", index, per_image)
    if padded:
        inside = b.op("Expand", inside, per_image)
    shape_4 = b.op("Shape", index)
    gathered = b.op("GatherElements", rows,
                    b.op("Reshape", index, b.op("Concat", b.part(shape_4, 0, 0, "n"),
                                                b.const([-1], i64), axis=0)), axis=1)
    pixels = b.op("Cast", b.op("Reshape", gathered, shape_4), to=TensorProto.INT32)

    if config.dynamic or config.csc_switch:
        colour = _csc(b, pixels, p["aipp_csc"], channels)
    else:                                          # static AIPP without CSC: the channels
        colour = b.op("Slice", pixels, b.const([0], i64), b.const([channels], i64),
                      b.const([1], i64))

    # DTC in float16 arithmetic (each step rounded to float16, as the AIPP unit computes).
    dtc = p["aipp_dtc"]
    mean, minimum, var_reci = (b.op("Squeeze", b.part(dtc, 1, k, "dtc"), b.const([1], i64))
                               for k in range(3))
    value = b.op("Sub", b.op("Cast", colour, to=TensorProto.FLOAT), mean)
    value = _half(b, b.op("Sub", value, minimum))
    value = _half(b, b.op("Mul", value, var_reci))
    if padded:
        value = b.op("Where", inside, value, _half(b, p["aipp_pad"]))
    value = b.op("Cast", value, to=network_type)
    if config.model_format == "NHWC":
        value = b.op("Transpose", value, perm=[0, 2, 3, 1])
    return value


def _csc(b: _Builder, pixels: str, csc: str, channels: int) -> str:
    """CSC on the first three channels (the fourth, alpha, passes), clamped to 8 bits."""
    i64 = np.int64
    mixed = None
    for k in range(3):
        column = b.op("Reshape", b.part(csc, 0, k, f"m{k}"), b.const([1, 3, 1, 1], i64))
        bias = b.op("Reshape", b.part(b.part(csc, 0, 3, "in_bias"), 1, k, f"ib{k}"),
                    b.const([1, 1, 1, 1], i64))
        term = b.op("Mul", b.op("Sub", b.part(pixels, 1, k, f"ch{k}"), bias), column)
        mixed = term if mixed is None else b.op("Add", mixed, term)
    # Arithmetic >> 8 (floor): offset into the positive range, divide (truncation is then
    # floor), remove the offset. |mixed| <= 3 * 32768 * 255 < 2**25, so int32 holds it.
    shifted = b.op("Sub", b.op("Div", b.op("Add", mixed, b.const(1 << 25, np.int32, "offset")),
                               b.const(256, np.int32, "two56")),
                   b.const(1 << 17, np.int32, "offset_shifted"))
    shifted = b.op("Add", shifted, b.op("Reshape", b.part(csc, 0, 4, "out_bias"),
                                        b.const([1, 3, 1, 1], i64)))
    colour = b.op("Clip", shifted, b.const(0, np.int32, "lo"), b.const(255, np.int32, "hi"))
    if channels == 4:
        colour = b.op("Concat", colour, b.part(pixels, 1, 3, "alpha"), axis=1)
    elif channels < 3:
        colour = b.op("Slice", colour, b.const([0], i64), b.const([channels], i64),
                      b.const([1], i64))
    return colour


def _within(b: _Builder, coordinate: str, size: str) -> str:
    """0 <= coordinate < size."""
    below = b.op("Less", coordinate, b.const(0, np.int64, "zero"))
    return b.op("And", b.op("Not", below), b.op("Less", coordinate, size))


def _clamp(b: _Builder, coordinate: str, size: str) -> str:
    """coordinate clamped into [0, size - 1] (padding reads a valid byte it then discards)."""
    high = b.op("Sub", size, b.const(1, np.int64, "one"))
    return b.op("Max", b.op("Min", coordinate, high), b.const(0, np.int64, "zero"))


def _half(b: _Builder, tensor: str) -> str:
    """Round a float32 tensor to float16 precision (and back to float32)."""
    return b.op("Cast", b.op("Cast", tensor, to=TensorProto.FLOAT16), to=TensorProto.FLOAT)
