"""``atc --insert_op_conf``: read an AIPP configuration file and check it against the model.

The file is protobuf text format of GraphEngine's ``InsertNewOps`` message (``insert_op.proto``):
one ``aipp_op { ... }`` block per model input, ``field : value`` lines, ``#`` comments. It is
parsed here with protobuf's own text-format parser against the same schema, so a field ATC
does not know, a value of the wrong type or a syntax error is refused as ATC refuses it, with
the line and column.

Then each block is checked as ATC checks it, in two stages, with ATC's messages:

* GraphEngine's ``AippOp::ValidateParams`` and the graph checks (mode set, no repeated
  field, sizes not negative, one block per input, no float16 input) - ``E10001`` /
  ``E10052`` / ``E10034``;
* the AIPP operator's compile-time checks (``aipp_comm.py``: formats per SoC, ranges of
  every field, even sizes and offsets for YUV, crop inside the image, crop + padding equal
  to the network input, padding at most 32) - ``E81012: Compile op[aipp] failed, cause: ...``.

Each message names the field and the line of the file it came from. The result is one
resolved :class:`~openacl.model.aipp.AippConfig` per input, with ATC's defaults applied.
"""

from __future__ import annotations

import re

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

from openacl.atc.errors import AtcError, invalid_value
from openacl.model.aipp import (DEFAULT_BIAS, DEFAULT_RGB2YUV, DEFAULT_YUV2BGR, FORMAT_BY_NAME,
                                AippConfig)
from openacl.constants import AippInputFormat as A

__all__ = ["read_config", "plan_aipp", "AippInput"]

_F = descriptor_pb2.FieldDescriptorProto
_INPUT_FORMATS = ("UNDEFINED", "YUV420SP_U8", "XRGB8888_U8", "RGB888_U8", "YUV400_U8",
                  "NC1HWC0DI_FP16", "NC1HWC0DI_S8", "ARGB8888_U8", "YUYV_U8", "YUV422SP_U8",
                  "AYUV444_U8", "RAW10", "RAW12", "RAW16", "RAW24", "RGB16", "RGB20", "RGB24",
                  "RGB8_IR", "RGB16_IR", "RGB24_IR")
_REPEATED = ("var_reci_chn_0", "var_reci_chn_1", "var_reci_chn_2", "var_reci_chn_3",
             *(f"matrix_r{r}c{c}" for r in range(3) for c in range(3)),
             "output_bias_0", "output_bias_1", "output_bias_2",
             "input_bias_0", "input_bias_1", "input_bias_2", "input_edge_idx")
# AippOpParams: (name, number, type); repeated ones are listed in _REPEATED.
_FIELDS = (
    ("aipp_mode", 1, "mode"), ("related_input_rank", 2, _F.TYPE_UINT32),
    ("input_edge_idx", 3, _F.TYPE_UINT32), ("max_src_image_size", 4, _F.TYPE_UINT32),
    ("support_rotation", 5, _F.TYPE_BOOL),
    ("mean_chn_0", 10, _F.TYPE_INT32), ("mean_chn_1", 11, _F.TYPE_INT32),
    ("mean_chn_2", 12, _F.TYPE_INT32), ("min_chn_0", 13, _F.TYPE_FLOAT),
    ("min_chn_1", 14, _F.TYPE_FLOAT), ("min_chn_2", 15, _F.TYPE_FLOAT),
    ("var_reci_chn_0", 16, _F.TYPE_FLOAT), ("var_reci_chn_1", 17, _F.TYPE_FLOAT),
    ("var_reci_chn_2", 18, _F.TYPE_FLOAT), ("mean_chn_3", 19, _F.TYPE_INT32),
    ("min_chn_3", 20, _F.TYPE_FLOAT), ("var_reci_chn_3", 21, _F.TYPE_FLOAT),
    *((f"matrix_r{r}c{c}", 30 + 3 * r + c, _F.TYPE_INT32) for r in range(3) for c in range(3)),
    ("output_bias_0", 39, _F.TYPE_INT32), ("output_bias_1", 40, _F.TYPE_INT32),
    ("output_bias_2", 41, _F.TYPE_INT32), ("input_bias_0", 42, _F.TYPE_INT32),
    ("input_bias_1", 43, _F.TYPE_INT32), ("input_bias_2", 44, _F.TYPE_INT32),
    ("raw_rgbir_to_f16_n", 45, _F.TYPE_UINT32),
    ("input_format", 51, "format"), ("csc_switch", 52, _F.TYPE_BOOL),
    ("cpadding_value", 53, _F.TYPE_FLOAT), ("rbuv_swap_switch", 54, _F.TYPE_BOOL),
    ("ax_swap_switch", 55, _F.TYPE_BOOL), ("single_line_mode", 56, _F.TYPE_BOOL),
    ("src_image_size_w", 57, _F.TYPE_INT32), ("src_image_size_h", 58, _F.TYPE_INT32),
    ("crop", 59, _F.TYPE_BOOL), ("load_start_pos_w", 60, _F.TYPE_INT32),
    ("load_start_pos_h", 61, _F.TYPE_INT32), ("crop_size_w", 62, _F.TYPE_INT32),
    ("crop_size_h", 63, _F.TYPE_INT32), ("resize", 64, _F.TYPE_BOOL),
    ("resize_output_w", 65, _F.TYPE_INT32), ("resize_output_h", 66, _F.TYPE_INT32),
    ("padding", 67, _F.TYPE_BOOL), ("left_padding_size", 68, _F.TYPE_INT32),
    ("right_padding_size", 69, _F.TYPE_INT32), ("top_padding_size", 70, _F.TYPE_INT32),
    ("bottom_padding_size", 71, _F.TYPE_INT32), ("related_input_name", 72, _F.TYPE_STRING),
    # Newer documentation spells the padding value padding_value (no number is published).
    ("padding_value", 73, _F.TYPE_FLOAT),
)
_SOC_FORMATS = ("YUV420SP_U8", "XRGB8888_U8", "RGB888_U8", "YUV400_U8")
_LHISI = ("Hi3796CV300ES", "Hi3796CV300CS", "SD3403")
_MAX_PADDING = 32
_MAX_PADDED_WIDTH = 1080


def _schema():
    """The InsertNewOps message class, built from the schema above (proto2: field presence)."""
    file = descriptor_pb2.FileDescriptorProto(name="openacl_insert_op.proto", package="domi",
                                              syntax="proto2")
    params = file.message_type.add(name="AippOpParams")
    formats = params.enum_type.add(name="InputFormat")
    for number, name in enumerate(_INPUT_FORMATS):
        formats.value.add(name=name, number=number)
    modes = params.enum_type.add(name="AippMode")
    for number, name in enumerate(("undefined", "static", "dynamic")):
        modes.value.add(name=name, number=number)
    for name, number, kind in _FIELDS:
        entry = params.field.add(name=name, number=number,
                                 label=_F.LABEL_REPEATED if name in _REPEATED
                                 else _F.LABEL_OPTIONAL)
        if kind in ("mode", "format"):
            entry.type = _F.TYPE_ENUM
            entry.type_name = ".domi.AippOpParams." + ("AippMode" if kind == "mode"
                                                       else "InputFormat")
        else:
            entry.type = kind
    top = file.message_type.add(name="InsertNewOps")
    top.field.add(name="aipp_op", number=1, type=_F.TYPE_MESSAGE, label=_F.LABEL_REPEATED,
                  type_name=".domi.AippOpParams")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("domi.InsertNewOps"))


_InsertNewOps = _schema()


class _Block:
    """One parsed ``aipp_op`` block and the line of each field in the file."""

    def __init__(self, message, lines: dict[str, int], start: int, path: str):
        self.message = message
        self.lines = lines
        self.start = start
        self.path = path

    def get(self, name: str, default=0):
        value = getattr(self.message, name)
        if name in _REPEATED:
            return value[0] if len(value) else default
        return value if self.message.HasField(name) else default

    def where(self, name: str | None = None) -> str:
        line = self.lines.get(name, self.start) if name else self.start
        return f"{self.path}, line {line}"


def read_config(path: str) -> list[_Block]:
    """Parse an AIPP config file (ATC error E10001 naming the line if it cannot be)."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        raise invalid_value(path, "insert_op_conf", "the file does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise invalid_value(path, "insert_op_conf",
                            f"the file cannot be read ({error})") from None
    message = _InsertNewOps()
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as error:
        raise invalid_value(path, "insert_op_conf",
                            f"the file is not a valid AIPP configuration: {_located(error)}"
                            ) from None
    if not message.aipp_op:
        raise invalid_value(path, "insert_op_conf", "the file has no aipp_op { ... } block")
    return [_Block(op, lines, start, path)
            for op, (start, lines) in zip(message.aipp_op, _field_lines(text))]


def _located(error: text_format.ParseError) -> str:
    text = str(error)
    match = re.match(r"^(\d+):(\d+) : (.*)$", text, re.S)
    if match:
        return f"line {match.group(1)}, column {match.group(2)}: {match.group(3)}"
    return text


def _field_lines(text: str) -> list[tuple[int, dict[str, int]]]:
    """For each top-level aipp_op block: its first line, and the line of each field in it."""
    blocks: list[tuple[int, dict[str, int]]] = []
    depth = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0]
        for match in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*|[{}]", line):
            token = match.group(0)
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
            elif depth == 0 and token == "aipp_op":
                blocks.append((number, {}))
            elif depth == 1 and blocks and re.match(rf"{token}\s*:", line[match.start():]):
                blocks[-1][1].setdefault(token, number)
    return blocks


# ------------------------------------------------------------------------- the model side

class AippInput:
    """What the checks need to know about one model input."""

    def __init__(self, name: str, dims: list[int], data_type: int, layout: str, fp16: bool):
        self.name = name
        self.dims = dims                  # -1 on dynamic axes
        self.data_type = data_type        # aclDataType of the network input
        self.layout = layout              # "NCHW" or "NHWC"
        self.fp16 = fp16                  # listed in --input_fp16_nodes


def plan_aipp(blocks: list[_Block], inputs: list[AippInput], soc_version: str,
              gear_kind: str | None, gears: list | None = None) -> dict[str, AippConfig]:
    """Check every block against the model; return the resolved config per input name.

    ``gear_kind`` and ``gears`` describe the model's dynamic gears (None if it has none).
    """
    by_rank: dict[int, _Block] = {}
    for block in blocks:
        _validate_params(block)
        if block.get("related_input_name", ""):
            raise _graph_error(block, "related_input_name is for Caffe models only; use "
                                      "related_input_rank with ONNX models")
        rank = block.get("related_input_rank")
        if rank in by_rank:
            raise _graph_error(block, "Can not insert aipp to the same postion! Please ensure "
                                      "related_input_rank param is different in different "
                                      "aipp config.")
        if rank >= len(inputs):
            raise _graph_error(block, f"Can not find the data node by aipp parameter "
                                      f"related_input_rank {rank} (the model has "
                                      f"{len(inputs)} input(s))")
        by_rank[rank] = block
    configs = {}
    for rank, block in by_rank.items():
        model_input = inputs[rank]
        if model_input.fp16:
            raise AtcError("E10034", f"This input op [{model_input.name}] is linked to aipp, "
                                     f"can not be set to fp16, please check your atc parameter "
                                     f"--insert_op_conf, --input_fp16_nodes.")
        configs[model_input.name] = _resolve(block, model_input, soc_version, gear_kind)
        if gear_kind == "hw" and not configs[model_input.name].dynamic:
            layout = configs[model_input.name].layout
            for height, width in gears or []:
                _check_even(block, layout, width, height)
    return configs


def _validate_params(block: _Block) -> None:
    """GraphEngine's AippOp::ValidateParams."""
    mode = block.get("aipp_mode")
    if mode == 0:
        raise _param_error(block, "aipp_mode", "When insert AIPP op, aipp_mode must be "
                                               "configured as static or dynamic")
    for name in _REPEATED:
        if len(getattr(block.message, name)) > 1:
            raise _param_error(block, name, f"The parameter {name} can not be configed "
                                            f"repeatedly")
    if mode == 2:
        if block.get("max_src_image_size") <= 0:
            raise _param_error(block, "max_src_image_size",
                               "For dynamic AIPP params, max_src_image_size must be set which "
                               "number should be greater than 0")
        return
    if block.get("input_format") == 0:
        raise _param_error(block, "input_format", "Input format of AIPP conf is undefined")
    for name in ("src_image_size_w", "src_image_size_h", "load_start_pos_w",
                 "load_start_pos_h", "crop_size_w", "crop_size_h", "resize_output_w",
                 "resize_output_h", "left_padding_size", "right_padding_size",
                 "top_padding_size", "bottom_padding_size"):
        if block.get(name) < 0:
            raise _param_error(block, name, f"{name.capitalize()} must not be configed "
                                            f"smaller than 0")


def _resolve(block: _Block, model_input: AippInput, soc: str, gear_kind) -> AippConfig:
    dims = model_input.dims
    if len(dims) != 4 or model_input.layout not in ("NCHW", "NHWC"):
        if block.get("aipp_mode") == 2 and model_input.layout not in ("NCHW", "NHWC"):
            raise AtcError("E19014", f"Op[{model_input.name}]'s format is invalid: format "
                                     f"must be NCHW or NHWC in dynamic aipp process")
        raise _param_error(block, "related_input_rank",
                           f"input {model_input.name!r} has shape {dims} and layout "
                           f"{model_input.layout}; AIPP needs a 4-D NCHW or NHWC image input")
    if any(d >= 2**31 for d in dims):
        raise _param_error(block, "related_input_rank",
                           f"input {model_input.name!r} has shape {dims}; AIPP images have at "
                           f"most 2147483647 in each dimension")
    config = AippConfig(mode="dynamic" if block.get("aipp_mode") == 2 else "static",
                        related_input_rank=block.get("related_input_rank"),
                        model_format=model_input.layout, model_dims=list(dims),
                        model_dtype=model_input.data_type)
    if config.dynamic:
        config.max_src_image_size = block.get("max_src_image_size")
        config.support_rotation = bool(block.get("support_rotation", False))
        if gear_kind is not None:
            raise _param_error(block, "aipp_mode", f"dynamic AIPP on a model with dynamic "
                                                   f"{ {'batch': 'batch sizes', 'hw': 'image sizes', 'dims': 'dims'}[gear_kind]} "
                                                   f"is not supported by openacl")
        if dims[0] <= 0:
            raise _param_error(block, "aipp_mode", "dynamic AIPP needs a fixed batch size")
        if -1 in config.network_hw():
            raise _param_error(block, "aipp_mode", "dynamic AIPP needs a fixed network H and W")
        return config
    if gear_kind is None and -1 in dims:
        raise _param_error(block, "related_input_rank",
                           f"input {model_input.name!r} has free axes {dims}; static AIPP needs "
                           f"them fixed with --input_shape (or enumerated with a dynamic "
                           f"option)")
    _compile_checks(block, config, soc, gear_kind)
    return config


def _compile_checks(block: _Block, config: AippConfig, soc: str, gear_kind) -> None:
    """The AIPP operator's compile-time checks (aipp_comm.py), then ATC's defaults."""
    height, width = config.network_hw()
    channels = config.network_channels()
    name = _INPUT_FORMATS[block.get("input_format")]
    layout = FORMAT_BY_NAME.get(name)
    if layout is None:
        raise _compile_error(block, "input_format", f"input format {name} is not an 8-bit "
                                                    f"image format; openacl's AIPP converts "
                                                    f"{', '.join(FORMAT_BY_NAME)}")
    if not soc.startswith(_LHISI) and name not in _SOC_FORMATS:
        raise _compile_error(block, "input_format",
                             f"{_soc_family(soc)} only support {', '.join(_SOC_FORMATS)}, "
                             f"current input format is {name}")
    config.input_format = layout.code
    get = block.get
    config.csc_switch = bool(get("csc_switch", False))
    config.rbuv_swap_switch = bool(get("rbuv_swap_switch", False))
    config.ax_swap_switch = bool(get("ax_swap_switch", False))
    config.single_line_mode = bool(get("single_line_mode", False))
    config.crop, config.padding = bool(get("crop", False)), bool(get("padding", False))
    if get("resize", False):
        raise _compile_error(block, "resize", "resize only support Hi3796CV300ES and "
                                              "Hi3796CV300CS")
    if layout.code == A.ACL_YUV400_U8 and config.csc_switch:
        raise _compile_error(block, "csc_switch", f"when input format is YUV400_U8, it doesn't "
                                                  f"make sense to convert to RGB, "
                                                  f"csc_switch[{int(config.csc_switch)}]")
    out_channels = layout.channels if layout.code != A.ACL_YUV400_U8 else 1
    if channels > out_channels or channels < 1:
        raise _compile_error(block, "input_format",
                             f"network input C[{channels}] should be less than or equal to "
                             f"{out_channels}, the channels AIPP makes from {name}")
    src_w, src_h = get("src_image_size_w"), get("src_image_size_h")
    geometry = config.crop or config.padding
    if gear_kind == "hw" and (geometry or src_w or src_h):
        raise _compile_error(block, "src_image_size_w" if src_w or src_h else "crop",
                             "with --dynamic_image_size the image is the gear's H x W: leave "
                             "src_image_size_w/h at 0 and crop and padding off")
    if src_h and not 0 <= src_h <= 4096:
        raise _compile_error(block, "src_image_size_h",
                             f"src_image_size_h[{src_h}] should be within [0, 4096]")
    if src_w and not 2 <= src_w <= 4096:
        raise _compile_error(block, "src_image_size_w",
                             f"src_image_size_w[{src_w}] should be within [2, 4096] or equal "
                             f"to 0")
    if geometry and (src_w <= 0 or src_h <= 0):
        raise _compile_error(block, "src_image_size_w",
                             f"when crop[{int(config.crop)}] or resize[0] or "
                             f"padding[{int(config.padding)}] is enable, src_image_size_w"
                             f"[{src_w}] and src_image_size_h[{src_h}] should be greater than 0")
    if not geometry:
        if src_h and height != -1 and src_h != height:
            raise _compile_error(block, "src_image_size_h", f"input H[{height}] of network "
                                                            f"should be equal to "
                                                            f"src_image_size_h[{src_h}]")
        if src_w and width != -1 and src_w != width:
            raise _compile_error(block, "src_image_size_w", f"input W[{width}] of network "
                                                            f"should be equal to "
                                                            f"src_image_size_w[{src_w}]")
        # 0 means the network's size; with dynamic image sizes, each gear's (kept 0).
        src_w, src_h = src_w or max(width, 0), src_h or max(height, 0)
    _check_even(block, layout, src_w, src_h)
    config.src_image_size_w, config.src_image_size_h = src_w, src_h

    crop_w, crop_h = src_w, src_h
    if config.crop:
        start_w, start_h = get("load_start_pos_w"), get("load_start_pos_h")
        crop_w, crop_h = get("crop_size_w") or width, get("crop_size_h") or height
        if get("crop_size_w") == 0 or get("crop_size_h") == 0:
            if config.padding:
                raise _compile_error(block, "crop_size_w",
                                     f"when crop_size_h[{get('crop_size_h')}] is equal to 0 or "
                                     f"crop_size_w[{get('crop_size_w')}] is equal to 0, "
                                     f"resize[0] and padding[1] should be not enable")
        for axis, start, size, src in (("h", start_h, crop_h, src_h), ("w", start_w, crop_w,
                                                                      src_w)):
            if start + size > src:
                raise _compile_error(block, f"load_start_pos_{axis}",
                                     f"when crop is enable, load_start_pos_{axis}[{start}] + "
                                     f"crop_size_{axis}[{size}] should be less than or equal "
                                     f"to src_image_size_{axis}[{src}]")
        if layout.code == A.ACL_YUV420SP_U8 and any(v % 2 for v in (start_h, start_w, crop_h,
                                                                    crop_w)):
            raise _compile_error(block, "load_start_pos_w",
                                 f"when input_format is YUV420SP_U8, load_start_pos_h"
                                 f"[{start_h}], load_start_pos_w[{start_w}], crop_size_h"
                                 f"[{crop_h}] and crop_size_w[{crop_w}] must be even")
        if layout.code in (A.ACL_YUYV_U8, A.ACL_YUV422SP_U8) and (start_w % 2 or crop_w % 2):
            raise _compile_error(block, "load_start_pos_w",
                                 f"when input_format is {name}, load_start_pos_w[{start_w}] "
                                 f"and crop_size_w[{crop_w}] must be even")
        config.load_start_pos_w, config.load_start_pos_h = start_w, start_h
        config.crop_size_w, config.crop_size_h = crop_w, crop_h
        if not config.padding and (crop_w != width or crop_h != height):
            raise _compile_error(block, "crop_size_w",
                                 f"when crop is enable, resize is disable and padding is "
                                 f"disable, crop_size_w[{crop_w}] should be equal to output "
                                 f"W[{width}] and crop_size_h[{crop_h}] should be equal to "
                                 f"output H[{height}]")
    if config.padding:
        sizes = [get(f"{side}_padding_size") for side in ("left", "right", "top", "bottom")]
        left, right, top, bottom = sizes
        if max(sizes) > _MAX_PADDING:
            raise _compile_error(block, "left_padding_size",
                                 f"The max padding size is 32, and left_padding_size is {left}, "
                                 f"right_padding_size is {right}, top_padding_size is {top}, "
                                 f"bottom_padding_size is {bottom}")
        if crop_w + left + right != width or crop_h + top + bottom != height:
            what = "crop_size" if config.crop else "src_image_size"
            state = ("crop is enable, resize is disable and padding is enable" if config.crop
                     else "crop is disable, resize is disable, padding is enable")
            raise _compile_error(block, "left_padding_size",
                                 f"when {state}, {what}_w[{crop_w}] + left_padding_size[{left}]"
                                 f" + right_padding_size[{right}] should be equal to output "
                                 f"W[{width}] and {what}_h[{crop_h}] + top_padding_size[{top}] "
                                 f"+ bottom_padding_size[{bottom}] should be equal to output "
                                 f"H[{height}]")
        if not soc.startswith(_LHISI) and width > _MAX_PADDED_WIDTH:
            raise _compile_error(block, "left_padding_size",
                                 f"after padding, aipp output W[{width}] should be less than or "
                                 f"eaqual to {_MAX_PADDED_WIDTH}")
        (config.left_padding_size, config.right_padding_size, config.top_padding_size,
         config.bottom_padding_size) = sizes
        config.padding_value = float(get("padding_value", get("cpadding_value", 0.0)))

    config.mean_chn = [get(f"mean_chn_{c}") for c in range(4)]
    config.min_chn = [float(get(f"min_chn_{c}", 0.0)) for c in range(4)]
    config.var_reci_chn = [float(get(f"var_reci_chn_{c}", 1.0)) for c in range(4)]
    for channel in range(4):
        _check_range(block, f"mean_chn_{channel}", config.mean_chn[channel], 0, 255)
        _check_range(block, f"min_chn_{channel}", config.min_chn[channel], 0, 255)
        _check_range(block, f"var_reci_chn_{channel}", config.var_reci_chn[channel],
                     -65504, 65504)
    if config.csc_switch:
        default = DEFAULT_YUV2BGR if layout.code == A.ACL_YUV420SP_U8 else DEFAULT_RGB2YUV
        names = [f"matrix_r{r}c{c}" for r in range(3) for c in range(3)]
        config.matrix = [get(n, default[i]) for i, n in enumerate(names)]
        config.output_bias = [get(f"output_bias_{c}", DEFAULT_BIAS[c]) for c in range(3)]
        config.input_bias = [get(f"input_bias_{c}", DEFAULT_BIAS[c]) for c in range(3)]
        for index, field_name in enumerate(names):
            _check_range(block, field_name, config.matrix[index], -32768, 32767)
        for channel in range(3):
            _check_range(block, f"output_bias_{channel}", config.output_bias[channel], 0, 255)
            _check_range(block, f"input_bias_{channel}", config.input_bias[channel], 0, 255)


def _check_even(block: _Block, layout, src_w: int, src_h: int) -> None:
    if layout.code == A.ACL_YUV420SP_U8 and (src_w > 0 and src_w % 2 or src_h > 0 and src_h % 2):
        raise _compile_error(block, "src_image_size_w",
                             f"src_image_size_w[{src_w}] and src_image_size_h[{src_h}] should be "
                             f"even for YUV420SP_U8")
    if layout.code in (A.ACL_YUYV_U8, A.ACL_YUV422SP_U8) and src_w > 0 and src_w % 2:
        raise _compile_error(block, "src_image_size_w",
                             f"src_image_size_w[{src_w}] should be even for {layout.name}")


def _check_range(block: _Block, name: str, value, low, high) -> None:
    if not low <= value <= high:
        raise _compile_error(block, name, f"{name}[{_shown(value)}] should be within"
                                          f"[{low}, {high}]")


def _shown(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _soc_family(soc: str) -> str:
    if soc.startswith(("Ascend610", "Ascend710", "Ascend310P")):
        return "Ascend610 and Ascend710"
    return soc or "this SoC"


def _param_error(block: _Block, field: str, message: str) -> AtcError:
    return AtcError("E10001", f"Value [{block.path}] for parameter [--insert_op_conf] is "
                              f"invalid. Reason: {message} (field {field}, "
                              f"{block.where(field)})")


def _graph_error(block: _Block, message: str) -> AtcError:
    return AtcError("E10052", f"{message} (aipp_op block at {block.where()})")


def _compile_error(block: _Block, field: str, cause: str) -> AtcError:
    return AtcError("E81012", f"Compile op[aipp] failed, cause: {cause}. (field {field}, "
                              f"{block.where(field)})")

