"""The host-side objects behind ``acl.media`` handles (dvpp-api.md §3, §4, §7, §9, §11, §12).

They only hold what the program set: setters never validate (the device checks a picture
when a task uses it), as in ACL. A task takes a ``PicFields`` snapshot of each picture
description when it is submitted, so a description reused for the next image cannot change
a task already queued.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

__all__ = ["PicDesc", "PicFields", "BatchPicDesc", "StreamDesc", "ChannelDesc", "Channel",
           "ResizeConfig", "RoiConfig", "JpegeConfig", "BorderConfig", "LutMap", "Hist",
           "VdecChannelDesc", "VencChannelDesc", "VdecFrameConfig", "VencFrameConfig"]


class PicFields(NamedTuple):
    """A picture description's values at submit time."""
    data: int
    size: int
    fmt: int
    width: int
    height: int
    width_stride: int
    height_stride: int


class PicDesc:
    __slots__ = ("handle", "data", "size", "format", "width", "height", "width_stride",
                 "height_stride", "ret_code", "batch")

    def __init__(self, batch: "BatchPicDesc | None" = None):
        self.handle = 0
        self.data = self.size = self.format = self.width = self.height = 0
        self.width_stride = self.height_stride = self.ret_code = 0
        self.batch = batch                # the batch description embedding it, if any

    def fields(self) -> PicFields:
        return PicFields(self.data, self.size, self.format, self.width, self.height,
                         self.width_stride, self.height_stride)


class BatchPicDesc:
    __slots__ = ("handle", "descs")

    def __init__(self, size: int):
        self.handle = 0
        self.descs = [PicDesc(self) for _ in range(size)]


class StreamDesc:
    __slots__ = ("handle", "data", "size", "format", "timestamp", "ret_code", "eos")

    def __init__(self):
        self.handle = 0
        self.data = self.size = self.format = self.timestamp = self.ret_code = self.eos = 0


_CHANNEL_IDS = itertools.count(1)


class Channel:
    """A created DVPP channel: it serves VPC, JPEGD, JPEGE (and PNGD) tasks of its mode."""

    def __init__(self, context, mode: int):
        self.context = context
        self.mode = mode
        self.channel_id = next(_CHANNEL_IDS)


class ChannelDesc:
    __slots__ = ("handle", "mode", "channel", "channel_id", "params")

    DEFAULT_MODE = 7                      # VPC | JPEGD | JPEGE

    def __init__(self):
        self.handle = 0
        self.mode = self.DEFAULT_MODE
        self.channel: Channel | None = None
        self.channel_id = 0
        self.params: dict[int, int] = {}


class ResizeConfig:
    __slots__ = ("handle", "interpolation")

    def __init__(self):
        self.handle = 0
        self.interpolation = 0


class RoiConfig:
    __slots__ = ("handle", "left", "right", "top", "bottom")

    def __init__(self, left: int, right: int, top: int, bottom: int):
        self.handle = 0
        self.left, self.right, self.top, self.bottom = left, right, top, bottom


class JpegeConfig:
    __slots__ = ("handle", "level")

    def __init__(self):
        self.handle = 0
        self.level = 0


class BorderConfig:
    __slots__ = ("handle", "values", "border_type", "top", "bottom", "left", "right")

    VALUES = 4                            # one fill value per channel

    def __init__(self):
        self.handle = 0
        self.values = [0.0] * self.VALUES
        self.border_type = self.top = self.bottom = self.left = self.right = 0


class LutMap:
    """A 3 x 256 lookup table (dvpp_vpc_equalize_hist_async's output), in host memory."""
    __slots__ = ("handle", "tables")

    def __init__(self):
        self.handle = 0
        self.tables = [np.arange(256, dtype=np.uint8) for _ in range(3)]


class Hist:
    """Per-channel 256-bin histograms (dvpp_vpc_calc_hist_async's output)."""
    __slots__ = ("handle", "bins", "ret_code", "dims")

    def __init__(self):
        self.handle = 0
        self.bins = [np.zeros(256, dtype=np.uint32) for _ in range(3)]
        self.ret_code = 0
        self.dims = 3


# ------------------------------------------------------------------ video (dvpp-api.md §11, §12)
class VdecChannelDesc:
    """What a VDEC channel is created from; ``channel`` is the live channel, if any."""
    __slots__ = ("handle", "channel_id", "thread_id", "callback", "entype", "out_pic_format",
                 "out_pic_width", "out_pic_height", "ref_frame_num", "out_mode", "bit_depth",
                 "params", "channel")

    def __init__(self):
        self.handle = 0
        self.channel_id = self.thread_id = self.entype = 0
        self.callback = None
        self.out_pic_format = 1           # NV12, the documented default
        self.out_pic_width = self.out_pic_height = self.ref_frame_num = 0
        self.out_mode = self.bit_depth = 0
        self.params: dict[int, int] = {}
        self.channel = None


class VencChannelDesc:
    """What a VENC channel is created from. There is no channel-id setter: the runtime
    numbers channels when it creates them."""
    __slots__ = ("handle", "channel_id", "thread_id", "callback", "entype", "pic_format",
                 "pic_width", "pic_height", "key_frame_interval", "buf_addr", "buf_size",
                 "max_bit_rate", "rc_mode", "src_rate", "params", "channel")

    def __init__(self):
        self.handle = 0
        self.channel_id = self.thread_id = self.entype = 0
        self.callback = None
        self.pic_format = 1               # NV12
        self.pic_width = self.pic_height = self.key_frame_interval = 0
        self.buf_addr = self.buf_size = self.max_bit_rate = self.rc_mode = self.src_rate = 0
        self.params: dict[int, int] = {}
        self.channel = None


class VdecFrameConfig:
    """Reserved by ACL: VDEC frame configs have no fields."""
    __slots__ = ("handle",)

    def __init__(self):
        self.handle = 0


class VencFrameConfig:
    __slots__ = ("handle", "eos", "force_i_frame")

    def __init__(self):
        self.handle = 0
        self.eos = self.force_i_frame = 0
