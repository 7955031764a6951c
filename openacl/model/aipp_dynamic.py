"""Dynamic AIPP: parameter sets (``acl.mdl.create_aipp``) and the ``ascend_dynamic_aipp_data`` buffer.

A model built with ``aipp_mode: dynamic`` has an extra input, ``ascend_dynamic_aipp_data``,
whose buffer carries the AIPP parameters of each execution in GraphEngine's layout
(``kAippDynamicPara``): a 64-byte header (input format, CSC, swaps, source size) and one
96-byte block per image (crop, scaling, padding, mean, min and var_reci as float16). The
program builds a parameter set with ``create_aipp`` and the ``set_aipp_*`` setters (each
checks its own values, as ACL does); ``set_input_aipp`` checks the whole set against the
model and writes it into the buffer; every later execution reads the buffer (so parameters
a program copies there itself work too) and checks it again before it runs.
"""

from __future__ import annotations

import struct

import numpy as np

from openacl.constants import AippInputFormat as A
from openacl.errors import AclError, GeParamInvalid, InvalidParam
from openacl.model.aipp import (LAYOUTS, PARAMETER_TENSORS, AippConfig, AippParams, ImageParams,
                                graph_tensors, image_bytes)
from openacl.runtime import transfers

__all__ = ["DynamicAipp", "AippFeed", "HEADER_SIZE", "BATCH_SIZE", "data_size", "pack",
           "unpack", "check_for_model", "ACL_TO_CCE"]

HEADER_SIZE = 64
BATCH_SIZE = 96
# ACL's aclAippInputFormat -> the CCE code the buffer holds (ACL's SetAIPPInputFormat).
ACL_TO_CCE = {1: 1, 2: 2, 3: 5, 4: 10, 5: 3, 6: 4, 7: 6, 8: 7, 9: 8, 10: 9, 11: 11, 12: 12,
              13: 13, 14: 16}
CCE_TO_ACL = {cce: acl for acl, cce in ACL_TO_CCE.items()}
# The formats dynamic AIPP accepts on Ascend SoCs (ACL's AippInputFormatCheck).
SUPPORTED_FORMATS = (A.ACL_YUV420SP_U8, A.ACL_XRGB8888_U8, A.ACL_RGB888_U8, A.ACL_YUV400_U8)
_HEADER = struct.Struct("<BbbbB3xii9h6x3B3B2x16x")
_BATCH = struct.Struct("<bbbb4x4i4i4i4h4H4H16x")
_MATRIX_RANGE = (-32677, 32676)     # ACL's CSC_MATRIX_MIN / MAX (sic)
_MAX_PADDED_WIDTH = 1080

assert _HEADER.size == HEADER_SIZE and _BATCH.size == BATCH_SIZE


def data_size(batch: int) -> int:
    """Bytes of the ascend_dynamic_aipp_data buffer for ``batch`` images."""
    if batch <= 0:
        raise InvalidParam("batch size must be greater than 0")
    return HEADER_SIZE + BATCH_SIZE * batch


class DynamicAipp:
    """A parameter set made by ``acl.mdl.create_aipp(batch)``; setters check as ACL does."""

    def __init__(self, batch: int):
        self.batch = batch
        self.params = AippParams(images=[ImageParams() for _ in range(batch)])
        self.handle = 0

    def _image(self, index: int) -> ImageParams:
        if index >= self.batch:
            raise InvalidParam(f"batch_index {index} is out of range: this AIPP parameter set "
                               f"was created for {self.batch} image(s) (0..{self.batch - 1})")
        return self.params.images[index]

    @staticmethod
    def _switch(value: int, what: str) -> bool:
        if value not in (0, 1):
            raise InvalidParam(f"{what} must be 0 (off) or 1 (on), not {value}")
        return bool(value)

    def set_input_format(self, fmt: int) -> None:
        if fmt not in ACL_TO_CCE:
            raise InvalidParam(f"input format {fmt} is not an aclAippInputFormat (1..14)")
        self.params.input_format = fmt

    def set_csc(self, switch: int, matrix: list[int], output_bias: list[int],
                input_bias: list[int]) -> None:
        self.params.csc_switch = self._switch(switch, "csc_switch")
        if not self.params.csc_switch:
            return
        low, high = _MATRIX_RANGE
        for position, value in enumerate(matrix):
            if not low <= value <= high:
                raise InvalidParam(f"CSC matrix entry r{position // 3}c{position % 3} = {value} "
                                   f"is outside [{low}, {high}]")
        self.params.matrix = list(matrix)
        self.params.output_bias = [v & 0xFF for v in output_bias]
        self.params.input_bias = [v & 0xFF for v in input_bias]

    def set_rbuv_swap(self, switch: int) -> None:
        self.params.rbuv_swap = self._switch(switch, "rbuv_swap_switch")

    def set_ax_swap(self, switch: int) -> None:
        self.params.ax_swap = self._switch(switch, "ax_swap_switch")

    def set_src_image_size(self, width: int, height: int) -> None:
        if not 2 <= width <= 4096:
            raise InvalidParam(f"source image width {width} is outside [2, 4096]")
        if not 1 <= height <= 4096:
            raise InvalidParam(f"source image height {height} is outside [1, 4096]")
        self.params.src_w, self.params.src_h = width, height

    def set_scf(self, switch: int, in_w: int, in_h: int, out_w: int, out_h: int,
                index: int) -> None:
        image = self._image(index)
        image.scf = self._switch(switch, "scf_switch")
        if not image.scf:
            return
        for name, value, high in (("input width", in_w, 4096), ("input height", in_h, 4096),
                                  ("output width", out_w, 1920),
                                  ("output height", out_h, 4096)):
            if not 16 <= value <= high:
                raise InvalidParam(f"scaling {name} {value} is outside [16, {high}]")
        image.scf_in_w, image.scf_in_h, image.scf_out_w, image.scf_out_h = in_w, in_h, out_w, out_h

    def set_crop(self, switch: int, start_w: int, start_h: int, width: int, height: int,
                 index: int) -> None:
        image = self._image(index)
        image.crop = self._switch(switch, "crop_switch")
        if not image.crop:
            return
        for name, value, low, high in (("start_w", start_w, 0, 4095),
                                       ("start_h", start_h, 0, 4095),
                                       ("crop width", width, 1, 4096),
                                       ("crop height", height, 1, 4096)):
            if not low <= value <= high:
                raise InvalidParam(f"crop {name} {value} is outside [{low}, {high}]")
        image.crop_x, image.crop_y, image.crop_w, image.crop_h = start_w, start_h, width, height

    def set_padding(self, switch: int, top: int, bottom: int, left: int, right: int,
                    index: int) -> None:
        image = self._image(index)
        image.padding = self._switch(switch, "padding_switch")
        if not image.padding:
            return
        for name, value in (("top", top), ("bottom", bottom), ("left", left),
                            ("right", right)):
            if not 0 <= value <= 32:
                raise InvalidParam(f"{name} padding {value} is outside [0, 32]")
        image.top, image.bottom, image.left, image.right = top, bottom, left, right

    def set_mean(self, values: list[int], index: int) -> None:
        image = self._image(index)
        for channel, value in enumerate(values):
            if not 0 <= value <= 255:
                raise InvalidParam(f"mean of channel {channel} = {value} is outside [0, 255]")
        image.mean = list(values)

    def set_min(self, values: list[float], index: int) -> None:
        image = self._image(index)
        for channel, value in enumerate(values):
            if value < 0.0 or value > 255.0:
                raise InvalidParam(f"min of channel {channel} = {value} is outside [0, 255]")
        image.min = [float(np.float16(v)) for v in values]

    def set_var_reci(self, values: list[float], index: int) -> None:
        image = self._image(index)
        for channel, value in enumerate(values):
            if value < -65504.0 or value > 65504.0:
                raise InvalidParam(f"var_reci of channel {channel} = {value} is outside "
                                   f"[-65504, 65504]")
        image.var_reci = [float(np.float16(v)) for v in values]


def pack(params: AippParams) -> bytes:
    """The buffer bytes of a parameter set (GraphEngine's kAippDynamicPara layout)."""
    header = _HEADER.pack(ACL_TO_CCE.get(params.input_format, 0), int(params.csc_switch),
                          int(params.rbuv_swap), int(params.ax_swap),
                          len(params.images) & 0xFF, params.src_w, params.src_h,
                          *params.matrix, *params.output_bias, *params.input_bias)
    blocks = []
    for image in params.images:
        blocks.append(_BATCH.pack(
            int(image.crop), int(image.scf), int(image.padding), 0,
            image.crop_x, image.crop_y, image.crop_w, image.crop_h,
            image.scf_in_w, image.scf_in_h, image.scf_out_w, image.scf_out_h,
            image.top, image.bottom, image.left, image.right, *image.mean,
            *_half_bits(image.min), *_half_bits(image.var_reci)))
    return header + b"".join(blocks)


def unpack(data: bytes, batch: int) -> AippParams:
    """A parameter set back from buffer bytes (``batch`` image blocks)."""
    (cce, csc, rbuv, ax, _count, src_w, src_h, *rest) = _HEADER.unpack_from(data, 0)
    params = AippParams(input_format=CCE_TO_ACL.get(cce, 0), src_w=src_w, src_h=src_h,
                        csc_switch=csc == 1, matrix=list(rest[:9]), output_bias=list(rest[9:12]),
                        input_bias=list(rest[12:15]), rbuv_swap=rbuv == 1, ax_swap=ax == 1,
                        images=[])
    for index in range(batch):
        fields = _BATCH.unpack_from(data, HEADER_SIZE + BATCH_SIZE * index)
        crop, scf, padding, _rotate = fields[:4]
        values = fields[4:]
        params.images.append(ImageParams(
            crop=crop == 1, crop_x=values[0], crop_y=values[1], crop_w=values[2],
            crop_h=values[3], scf=scf != 0, scf_in_w=values[4], scf_in_h=values[5],
            scf_out_w=values[6], scf_out_h=values[7], padding=padding != 0, top=values[8],
            bottom=values[9], left=values[10], right=values[11], mean=list(values[12:16]),
            min=_from_half_bits(values[16:20]), var_reci=_from_half_bits(values[20:24])))
    return params


def _half_bits(values) -> list[int]:
    return [int(v) for v in np.asarray(values, np.float16).view(np.uint16)]


def _from_half_bits(bits) -> list[float]:
    return [float(v) for v in np.asarray(bits, np.uint16).view(np.float16)]


def check_for_model(params: AippParams, config: AippConfig, batch: int) -> None:
    """ACL's whole-set checks (set_input_aipp), against the model the buffer feeds.

    ``batch`` is the number of images the model takes; every failure is 100000.
    """
    fmt = params.input_format
    if fmt == 0:
        raise InvalidParam("the AIPP parameter set has no input format: call "
                           "acl.mdl.set_aipp_input_format")
    if fmt not in SUPPORTED_FORMATS:
        raise InvalidParam(f"input format {fmt} is not supported by dynamic AIPP on this SoC "
                           f"(YUV420SP_U8 1, XRGB8888_U8 2, RGB888_U8 3, YUV400_U8 4)")
    if fmt == A.ACL_YUV400_U8 and params.csc_switch:
        raise InvalidParam("YUV400_U8 images cannot be colour-converted: turn csc_switch off")
    layout = LAYOUTS[fmt]
    if params.src_w == 0 or params.src_h == 0:
        raise InvalidParam("the source image size is not set: call "
                           "acl.mdl.set_aipp_src_image_size")
    if layout.even_w and params.src_w % 2 or layout.even_h and params.src_h % 2:
        raise InvalidParam(f"{layout.name} needs an even source size, not "
                           f"{params.src_w}x{params.src_h}")
    if len(params.images) != batch:
        raise InvalidParam(f"the AIPP parameter set is for {len(params.images)} image(s); the "
                           f"model takes a batch of {batch}")
    total = batch * image_bytes(fmt, params.src_w, params.src_h)
    if total > config.max_src_image_size:
        raise InvalidParam(f"the dynamic aipp size[{total}] ({batch} x {params.src_w}x"
                           f"{params.src_h} {layout.name}) is bigger than max_src_image_size"
                           f"[{config.max_src_image_size}] the model was built with")
    height, width = config.network_hw()
    for index, image in enumerate(params.images):
        if image.scf:
            raise InvalidParam(f"image {index}: scaling (scf) is not supported by AIPP on "
                               f"this SoC")
        if image.crop:
            if (image.crop_x + image.crop_w > params.src_w
                    or image.crop_y + image.crop_h > params.src_h):
                raise InvalidParam(
                    f"image {index}: the crop window {image.crop_w}x{image.crop_h} at "
                    f"({image.crop_x}, {image.crop_y}) lies outside the "
                    f"{params.src_w}x{params.src_h} source image")
            if layout.even_w and image.crop_x % 2 or layout.even_h and image.crop_y % 2:
                raise InvalidParam(f"image {index}: {layout.name} needs an even crop start, "
                                   f"not ({image.crop_x}, {image.crop_y})")
        out_w, out_h = image.output_hw(params.src_w, params.src_h)
        if image.padding and out_w > _MAX_PADDED_WIDTH:
            raise InvalidParam(f"image {index}: after padding the width is {out_w}; AIPP "
                               f"allows at most {_MAX_PADDED_WIDTH}")
        if (out_w, out_h) != (width, height):
            raise InvalidParam(
                f"image {index}: aipp output shape set by ACL must be equal to aipp output "
                f"shape in the model! These parameters give {out_w}x{out_h} (W x H); the "
                f"model input is {width}x{height}")


class AippFeed:
    """Feeds one dynamic-AIPP input's parameters to the engine, from its buffer, per run.

    The preprocessing graph takes the parameters as small tensors (``graph_tensors``); they
    live here, bound once, and are refreshed in place before each run from the bytes of the
    ``ascend_dynamic_aipp_data`` buffer - decoded and checked only when those bytes change.
    """

    def __init__(self, config: AippConfig, channels: int, backend=None):
        self.config = config
        self.batch = config.model_dims[0]
        self.channels = channels
        self.backend = backend
        self.size = data_size(self.batch)
        blank = AippParams(input_format=A.ACL_RGB888_U8, src_w=1, src_h=1,
                           images=[ImageParams() for _ in range(self.batch)])
        self.arrays = {name: np.array(value, order="C") for name, value in
                       graph_tensors(blank, self.batch, channels).items()}
        self._last: bytes | None = None

    def bind(self, binding) -> None:
        for name, tensor in zip(PARAMETER_TENSORS, self.config.parameter_inputs):
            array = self.arrays[name]
            binding.bind_input(tensor, array.dtype, array.shape, array.ctypes.data)

    def refresh(self, address: int, role: str) -> None:
        data = transfers.read_runtime(address, self.size, role, self.backend)
        if data == self._last:
            return
        params = unpack(data, self.batch)
        if params.input_format == 0 and not any(data):
            raise GeParamInvalid(f"the {role} buffer holds no AIPP parameters: set them with "
                                 f"acl.mdl.set_input_aipp (or set_aipp_by_input_index) before "
                                 f"executing")
        try:
            check_for_model(params, self.config, self.batch)
        except AclError as error:
            raise GeParamInvalid(f"the {role} buffer holds invalid AIPP parameters: "
                                 f"{error.message}") from None
        for name, value in graph_tensors(params, self.batch, self.channels).items():
            np.copyto(self.arrays[name], value)
        self._last = data
