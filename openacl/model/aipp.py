"""AIPP (AI pre-processing): what an AIPP configuration is, and how an image is laid out.

ATC compiles AIPP into a model: the model's input becomes a raw uint8 image (YUV420SP from
the JPEG or video decoder, RGB888 from a camera ...), and the model itself crops it, swaps
channels, converts the colour space, pads it and normalises it. openacl does the same with
an ONNX preprocessing graph in front of the model (:mod:`openacl.atc.aipp_graph`), so the
engine runs and fuses it.

This module holds the facts both sides share:

* :class:`AippConfig` - one ``aipp_op`` block of an ATC config, resolved by ``atc`` (ATC's
  defaults applied) and kept in the ``.om`` record;
* :data:`LAYOUTS` - how each input format lays its pixels out in memory, and what the model
  description reports for it (``get_input_dims`` / ``_v2``, sizes);
* :func:`image_bytes` - ACL's ``GetSrcImageSize`` rule.

The processing order is the hardware's: crop, channel swaps, colour-space conversion (CSC),
padding, then data-type conversion (DTC) ``((x - mean_chn) - min_chn) * var_reci_chn``
computed in float16, as the AIPP unit does (its mean is an integer, min and var_reci are
float16 registers, its output is float16).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import numpy as np

from openacl.constants import AippInputFormat as A

__all__ = ["AippConfig", "Layout", "LAYOUTS", "FORMAT_BY_NAME", "image_bytes",
           "AippRecordError", "first_aipp_info"]


class AippRecordError(ValueError):
    """An AIPP record field of the wrong type; the message names the field."""


@dataclass(frozen=True)
class Layout:
    """How one input format stores a W x H image."""

    name: str
    code: int                       # aclAippInputFormat
    channels: int                   # C of the image (get_input_dims): 3 for YUV420SP
    bytes_num: int                  # bytes per pixel = bytes_num / bytes_den
    bytes_den: int
    v2_height: tuple[int, int]      # get_input_dims_v2: H * num / den ...
    v2_channels: int                # ... and C, so that the product is the byte size
    # Per source channel: (plane, row_div, row_bytes, col_div, col_bytes, offset); the byte
    # of channel c at (y, x) is plane*W*H + (y // row_div)*row_bytes*W
    #                               + (x // col_div)*col_bytes + offset.
    fetch: tuple[tuple[int, int, int, int, int, int], ...]
    yuv: bool                       # YUV family: CSC uses input biases, rbuv swaps U/V
    even_w: bool                    # width (and crop x) must be even
    even_h: bool                    # height (and crop y) must be even


def _packed(channels: int, first: int = 0) -> tuple:
    return tuple((0, 1, channels, 1, channels, first + c) for c in range(channels))


LAYOUTS: dict[int, Layout] = {layout.code: layout for layout in (
    Layout("YUV420SP_U8", A.ACL_YUV420SP_U8, 3, 3, 2, (3, 2), 1,
           ((0, 1, 1, 1, 1, 0), (1, 2, 1, 2, 2, 0), (1, 2, 1, 2, 2, 1)), True, True, True),
    Layout("XRGB8888_U8", A.ACL_XRGB8888_U8, 4, 4, 1, (1, 1), 4, _packed(4), False,
           False, False),
    Layout("RGB888_U8", A.ACL_RGB888_U8, 3, 3, 1, (1, 1), 3, _packed(3), False, False, False),
    Layout("YUV400_U8", A.ACL_YUV400_U8, 1, 1, 1, (1, 1), 1, _packed(1), True, False, False),
    Layout("ARGB8888_U8", A.ACL_ARGB8888_U8, 4, 4, 1, (1, 1), 4, _packed(4), False,
           False, False),
    Layout("YUYV_U8", A.ACL_YUYV_U8, 3, 2, 1, (1, 1), 2,
           ((0, 1, 2, 1, 2, 0), (0, 1, 2, 2, 4, 1), (0, 1, 2, 2, 4, 3)), True, True, False),
    Layout("YUV422SP_U8", A.ACL_YUV422SP_U8, 3, 2, 1, (2, 1), 1,
           ((0, 1, 1, 1, 1, 0), (1, 1, 1, 2, 2, 0), (1, 1, 1, 2, 2, 1)), True, True, False),
    Layout("AYUV444_U8", A.ACL_AYUV444_U8, 4, 4, 1, (1, 1), 4, _packed(4), True,
           False, False),
)}
FORMAT_BY_NAME = {layout.name: layout for layout in LAYOUTS.values()}


def image_bytes(format_code: int, width: int, height: int) -> int:
    """Bytes of one W x H image in a format (ACL's GetSrcImageSize; 0 if unknown)."""
    layout = LAYOUTS.get(format_code)
    if layout is None:
        return 0
    return width * height * layout.bytes_num // layout.bytes_den


# ATC's default CSC parameters when csc_switch is on and the matrix is not given
# (GraphEngine's AippOp::SetCscDefaultValue): YUV420SP_U8 gets BT.601 narrow-range YUV -> BGR,
# every other format BT.601 RGB -> YUV; every bias not given is 16, 128, 128.
DEFAULT_YUV2BGR = (298, 516, 0, 298, -100, -208, 298, 0, 409)
DEFAULT_RGB2YUV = (66, 129, 25, -38, -74, 112, 112, -94, -18)
DEFAULT_BIAS = (16, 128, 128)


@dataclass
class AippConfig:
    """One input's AIPP, as ``atc`` resolved it (field names are ATC's config fields).

    ``mode`` "static": every parameter below applies. "dynamic": only ``max_src_image_size``
    and the model-side facts do; the program supplies the rest at run time.
    """

    mode: str                                   # "static" or "dynamic"
    related_input_rank: int = 0
    input_format: int = 0                       # aclAippInputFormat (static)
    max_src_image_size: int = 0                 # dynamic: bytes for the whole batch
    support_rotation: bool = False
    src_image_size_w: int = 0
    src_image_size_h: int = 0
    crop: bool = False
    load_start_pos_w: int = 0
    load_start_pos_h: int = 0
    crop_size_w: int = 0
    crop_size_h: int = 0
    padding: bool = False
    left_padding_size: int = 0
    right_padding_size: int = 0
    top_padding_size: int = 0
    bottom_padding_size: int = 0
    padding_value: float = 0.0
    csc_switch: bool = False
    rbuv_swap_switch: bool = False
    ax_swap_switch: bool = False
    single_line_mode: bool = False
    matrix: list[int] = field(default_factory=lambda: [0] * 9)          # r0c0 ... r2c2
    output_bias: list[int] = field(default_factory=lambda: [0] * 3)
    input_bias: list[int] = field(default_factory=lambda: [0] * 3)
    mean_chn: list[int] = field(default_factory=lambda: [0] * 4)
    min_chn: list[float] = field(default_factory=lambda: [0.0] * 4)
    var_reci_chn: list[float] = field(default_factory=lambda: [1.0] * 4)
    # What the model had before AIPP, for get_first_aipp_info and the description.
    model_format: str = "NCHW"                 # the network input's layout
    model_dims: list[int] = field(default_factory=list)   # its dims (-1 on dynamic axes)
    model_dtype: int = 0                       # its aclDataType
    parameter_inputs: list[str] = field(default_factory=list)   # dynamic: the graph inputs
                                               # the executor fills from the AIPP buffer

    @property
    def dynamic(self) -> bool:
        return self.mode == "dynamic"

    @property
    def layout(self) -> Layout:
        return LAYOUTS[self.input_format]

    def network_hw(self) -> tuple[int, int]:
        """(H, W) of the network input (-1 where a dynamic-image-size gear decides)."""
        dims = self.model_dims
        if self.model_format == "NHWC":
            return dims[1], dims[2]
        return dims[2], dims[3]

    def network_channels(self) -> int:
        return self.model_dims[3] if self.model_format == "NHWC" else self.model_dims[1]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> "AippConfig":
        if not isinstance(data, dict):
            raise AippRecordError(f"is {type(data).__name__}; an object was expected")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise AippRecordError(f"unknown field(s) {unknown}")
        if data.get("mode") not in ("static", "dynamic"):
            raise AippRecordError(f"mode is {data.get('mode')!r}; 'static' or 'dynamic' "
                                  f"was expected")
        lengths = {"matrix": 9, "output_bias": 3, "input_bias": 3, "mean_chn": 4,
                   "min_chn": 4, "var_reci_chn": 4}
        for name, value in data.items():
            default = known[name].default
            if name in lengths:
                floats = name in ("min_chn", "var_reci_chn")
                if (not isinstance(value, list) or len(value) != lengths[name]
                        or not all(_number(v, floats) for v in value)):
                    raise AippRecordError(f"{name} must be a list of {lengths[name]} "
                                          f"{'numbers' if floats else 'ints'}")
            elif name == "model_dims":
                if not isinstance(value, list) or not all(_number(v, False) for v in value):
                    raise AippRecordError("model_dims must be a list of ints")
            elif name == "parameter_inputs":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise AippRecordError("parameter_inputs must be a list of names")
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise AippRecordError(f"{name} must be true or false")
            elif isinstance(default, (int, float)) and not _number(value,
                                                                   isinstance(default, float)):
                raise AippRecordError(f"{name} must be a number, not {value!r}")
            elif isinstance(default, str) and not isinstance(value, str):
                raise AippRecordError(f"{name} must be a string")
        config = cls(**data)
        if not config.dynamic and config.input_format not in LAYOUTS:
            raise AippRecordError(f"input_format {config.input_format} is not an 8-bit image "
                                  f"format openacl converts")
        if len(config.model_dims) != 4 or config.model_format not in ("NCHW", "NHWC"):
            raise AippRecordError("model_dims must be 4 dims of an NCHW or NHWC input")
        for name in _SIZES:
            value = getattr(config, name)
            if not 0 <= value < _LIMIT:
                raise AippRecordError(f"{name} is {value}; 0 .. {_LIMIT - 1} was expected")
        if any(d != -1 and not 1 <= d < _LIMIT for d in config.model_dims):
            raise AippRecordError(f"model_dims {config.model_dims} must be sizes from 1 to "
                                  f"{_LIMIT - 1}, or -1 (a geared axis)")
        if config.network_channels() not in (-1, 1, 2, 3, 4):
            raise AippRecordError(f"model_dims {config.model_dims} give the network "
                                  f"{config.network_channels()} channels; AIPP makes 1 to 4")
        # Dynamic AIPP reads its parameters through one graph input per parameter tensor;
        # static AIPP has them in the graph. (The executor pairs them up by position.)
        need = len(PARAMETER_TENSORS) if config.dynamic else 0
        names = config.parameter_inputs
        if len(names) != need or len(set(names)) != len(names):
            raise AippRecordError(f"parameter_inputs names {len(names)} input(s); {config.mode} "
                                  f"AIPP has {need} distinct ones")
        return config


def _number(value, floats: bool) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float)) if floats else isinstance(value, int)


def first_aipp_info(config: AippConfig, network_dims: list[list[int]], src_format: int,
                    dtype_size: int) -> dict:
    """The dict ``acl.mdl.get_first_aipp_info`` returns (the binding's keys and types).

    ``network_dims``: the network input's dims, one entry per gear (one for a static model).
    """
    info = {
        "inputFormat": config.input_format, "srcImageSizeW": config.src_image_size_w,
        "srcImageSizeH": config.src_image_size_h, "cropSwitch": int(config.crop),
        "loadStartPosW": config.load_start_pos_w, "loadStartPosH": config.load_start_pos_h,
        "cropSizeW": config.crop_size_w, "cropSizeH": config.crop_size_h,
        "resizeSwitch": 0, "resizeOutputW": 0, "resizeOutputH": 0,
        "paddingSwitch": int(config.padding), "leftPaddingSize": config.left_padding_size,
        "rightPaddingSize": config.right_padding_size,
        "topPaddingSize": config.top_padding_size,
        "bottomPaddingSize": config.bottom_padding_size,
        "cscSwitch": int(config.csc_switch), "rbuvSwapSwitch": int(config.rbuv_swap_switch),
        "axSwapSwitch": int(config.ax_swap_switch),
        "singleLineMode": int(config.single_line_mode),
    }
    # The binding reports six of the nine matrix entries (it omits r0c2, r2c0 and r2c1).
    for key, index in (("matrixR0C0", 0), ("matrixR0C1", 1), ("matrixR1C0", 3),
                       ("matrixR1C1", 4), ("matrixR1C2", 5), ("matrixR2C2", 8)):
        info[key] = config.matrix[index]
    for channel in range(3):
        info[f"outputBias{channel}"] = config.output_bias[channel]
        info[f"inputBias{channel}"] = config.input_bias[channel]
    for channel in range(4):
        info[f"meanChn{channel}"] = config.mean_chn[channel]
        info[f"minChn{channel}"] = float(config.min_chn[channel])
        info[f"varReciChn{channel}"] = float(config.var_reci_chn[channel])
    info["srcFormat"] = src_format
    info["srcDatatype"] = config.model_dtype
    info["srcDimNum"] = len(config.model_dims)
    info["shapeCount"] = len(network_dims)
    info["aippExtend"] = 0
    # srcDims: the model input before conversion; aippOutdims: AIPP's internal output,
    # NC1HWC0 float16 with C0 = 16 (what the AIPP unit writes), as GE reports it.
    out = []
    for network in network_dims:
        n, h, w = (network[0], network[1], network[2]) if config.model_format == "NHWC" else (
            network[0], network[2], network[3])
        internal = [n, 1, h, w, 16]
        out.append({
            "srcDims": {"name": "", "dimCount": len(network), "dims": list(network)},
            "srcSize": _product(network) * dtype_size,
            "aippOutdims": {"name": "", "dimCount": 5, "dims": internal},
            "aippOutSize": _product(internal) * 2,
        })
    info["outDims"] = out
    return info


def _product(dims) -> int:
    total = 1
    for d in dims:
        total *= d
    return total


# ----------------------------------------------------------------- parameters of one run

@dataclass
class ImageParams:
    """The per-image part of an AIPP parameter set (one batch index)."""

    crop: bool = False
    crop_x: int = 0
    crop_y: int = 0
    crop_w: int = 0
    crop_h: int = 0
    padding: bool = False
    top: int = 0
    bottom: int = 0
    left: int = 0
    right: int = 0
    mean: list[int] = field(default_factory=lambda: [0] * 4)
    min: list[float] = field(default_factory=lambda: [0.0] * 4)
    var_reci: list[float] = field(default_factory=lambda: [1.0] * 4)
    scf: bool = False
    scf_in_w: int = 0
    scf_in_h: int = 0
    scf_out_w: int = 0
    scf_out_h: int = 0

    def output_hw(self, src_w: int, src_h: int) -> tuple[int, int]:
        """(W, H) this image comes out at (ACL's GetAippOutputHW, without scaling)."""
        width, height = (self.crop_w, self.crop_h) if self.crop else (src_w, src_h)
        if self.padding:
            width, height = width + self.left + self.right, height + self.top + self.bottom
        return width, height


@dataclass
class AippParams:
    """One complete AIPP parameter set: what a static config fixes, or create_aipp holds."""

    input_format: int = 0
    src_w: int = 0
    src_h: int = 0
    csc_switch: bool = False
    matrix: list[int] = field(default_factory=lambda: [0] * 9)
    output_bias: list[int] = field(default_factory=lambda: [0] * 3)
    input_bias: list[int] = field(default_factory=lambda: [0] * 3)
    rbuv_swap: bool = False
    ax_swap: bool = False
    padding_value: float = 0.0
    images: list[ImageParams] = field(default_factory=lambda: [ImageParams()])


def static_params(config: AippConfig) -> AippParams:
    """The parameter set a static config fixes (one image; it applies to every image)."""
    image = ImageParams(crop=config.crop, crop_x=config.load_start_pos_w,
                        crop_y=config.load_start_pos_h, crop_w=config.crop_size_w,
                        crop_h=config.crop_size_h, padding=config.padding,
                        top=config.top_padding_size, bottom=config.bottom_padding_size,
                        left=config.left_padding_size, right=config.right_padding_size,
                        mean=list(config.mean_chn), min=list(config.min_chn),
                        var_reci=list(config.var_reci_chn))
    return AippParams(input_format=config.input_format, src_w=config.src_image_size_w,
                      src_h=config.src_image_size_h, csc_switch=config.csc_switch,
                      matrix=list(config.matrix), output_bias=list(config.output_bias),
                      input_bias=list(config.input_bias), rbuv_swap=config.rbuv_swap_switch,
                      ax_swap=config.ax_swap_switch, padding_value=config.padding_value,
                      images=[image])


# The preprocessing graph's parameter tensors (see openacl.atc.aipp_graph): names, dtypes.
# Sizes, positions and counts a record holds (checked at load: negative ones reached the
# engine as negative shapes; found by fuzzing).
_SIZES = ("related_input_rank", "max_src_image_size", "src_image_size_w", "src_image_size_h",
          "load_start_pos_w", "load_start_pos_h", "crop_size_w", "crop_size_h",
          "left_padding_size", "right_padding_size", "top_padding_size", "bottom_padding_size")
_LIMIT = 2**31

PARAMETER_TENSORS = ("aipp_fetch", "aipp_source", "aipp_geometry", "aipp_csc", "aipp_dtc",
                     "aipp_pad")
FETCH_CHANNELS = 4        # source channels the graph reads (unused ones repeat channel 0)


def source_channels(layout: Layout, rbuv_swap: bool, ax_swap: bool) -> list[tuple]:
    """The fetch rule of each channel AIPP works on, after the channel swaps.

    Colour channels come first and alpha (X/A) last: XRGB8888 gives R, G, B, X. With
    ``ax_swap`` the alpha byte is the last byte in memory (RGBX / YUVA) instead of the first.
    ``rbuv_swap`` swaps R and B of RGB formats, U and V of YUV formats (NV12 -> NV21).
    """
    fetch = list(layout.fetch)
    if layout.channels == 4:
        colour = fetch[1:] if not ax_swap else fetch[:3]
        alpha = fetch[0] if not ax_swap else fetch[3]
        fetch = [*colour, alpha]
    if rbuv_swap and layout.channels >= 3:
        first, second = (1, 2) if layout.yuv else (0, 2)
        fetch[first], fetch[second] = fetch[second], fetch[first]
    return fetch


def graph_tensors(params: AippParams, batch: int, channels: int) -> dict:
    """The values of the preprocessing graph's parameter tensors for one parameter set.

    ``batch`` images (a static set's one image applies to all); ``channels`` is the network
    input's C. Shapes: fetch [6, 4, 1, 1], source [3] (H, W, bytes of one image), geometry
    [N, 6, 1, 1] (crop y, x, h, w, top, left), csc [5, 3] (matrix columns, input bias, output
    bias), dtc [N, 3, C, 1, 1] (mean, min, var_reci), pad [1].
    """
    layout = LAYOUTS[params.input_format]
    fetch = source_channels(layout, params.rbuv_swap, params.ax_swap)
    fetch = (fetch + [fetch[0]] * FETCH_CHANNELS)[:FETCH_CHANNELS]
    fetch_table = np.ascontiguousarray(np.array(fetch, np.int64).T).reshape(6, FETCH_CHANNELS,
                                                                        1, 1)
    source = np.array([params.src_h, params.src_w,
                       image_bytes(params.input_format, params.src_w, params.src_h)], np.int64)
    images = params.images if len(params.images) == batch else params.images[:1] * batch
    geometry = np.zeros((batch, 6, 1, 1), np.int64)
    dtc = np.zeros((batch, 3, channels, 1, 1), np.float32)
    for index, image in enumerate(images):
        crop = ((image.crop_y, image.crop_x, image.crop_h, image.crop_w) if image.crop
                else (0, 0, params.src_h, params.src_w))
        pad = (image.top, image.left) if image.padding else (0, 0)
        geometry[index, :, 0, 0] = (*crop, *pad)
        dtc[index, 0, :, 0, 0] = image.mean[:channels]
        # The AIPP unit holds min and var_reci as float16.
        dtc[index, 1, :, 0, 0] = np.float16(image.min[:channels])
        dtc[index, 2, :, 0, 0] = np.float16(image.var_reci[:channels])
    csc = np.zeros((5, 3), np.int32)
    if params.csc_switch and layout.channels >= 3:
        csc[:3] = np.array(params.matrix, np.int32).reshape(3, 3).T     # column k of M
        if layout.yuv:
            csc[3] = params.input_bias       # YUV -> RGB: M (x - input_bias) >> 8
        else:
            csc[4] = params.output_bias      # RGB -> YUV: (M x >> 8) + output_bias
    else:
        csc[:3] = 256 * np.eye(3, dtype=np.int32)   # identity: (256 x) >> 8 == x
    pad = np.array([params.padding_value], np.float32)
    return {"aipp_fetch": fetch_table, "aipp_source": source, "aipp_geometry": geometry,
            "aipp_csc": csc, "aipp_dtc": dtc, "aipp_pad": pad}
