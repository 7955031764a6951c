"""VENC channels (dvpp-api.md §5.5, §12): NV12/NV21 pictures in, one callback per picture
with its encoded bytes, in send order.

``send`` checks the picture as ACL does (its size must lie in [w*h*3/2, 2*w*h*3/2)) and
copies it (rows at the encoder's input stride) and encodes it before it returns. Each packet is handed to the callback in an output stream desc the runtime
creates for that frame, over device memory it owns: both are released when the callback
returns, so the callback copies the bytes out (``acl.rt.memcpy`` device to host).
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from openacl.constants import VencRcMode
from openacl.errors import DvppTaskFailed, FormatNotMatch, InvalidParam
from openacl.media.descs import PicDesc, StreamDesc, VencChannelDesc, VencFrameConfig
from openacl.media.formats import SEMIPLANAR_420, align, family, format_names
from openacl.media.layout import Picture
from openacl.media.tasks import device_view
from openacl.media.video import VideoEncoder, codec_name
from openacl.media.video_channel import VideoChannel
from openacl.runtime.handles import handles
from openacl.runtime.memory import DEVICE
from openacl.runtime.runtime import RUNTIME

__all__ = ["VencChannel", "INPUT_FORMATS"]

INPUT_FORMATS = SEMIPLANAR_420              # NV12, NV21
_SIDES = {"310": (128, 1920), "310P": (128, 4096), "310B": (114, 8192)}
_DEFAULT_GOP = 16                 # key_frame_interval left at 0
_DEFAULT_RATE = 30                # src_rate left at 0 (frames/s)
_ids_lock = threading.Lock()
_next_id = 0


class VencChannel(VideoChannel):
    kind = "VENC"

    def __init__(self, desc: VencChannelDesc):
        global _next_id
        fam = family()
        if desc.callback is None:
            raise InvalidParam("the channel desc has no callback: call "
                               "acl.media.venc_set_channel_desc_callback first")
        codec_name(desc.entype)
        if desc.pic_format not in INPUT_FORMATS:
            raise FormatNotMatch(f"VENC encodes {format_names(INPUT_FORMATS)} pictures, not "
                                 f"format {desc.pic_format}")
        low, high = _SIDES[fam.name]
        width, height = desc.pic_width, desc.pic_height
        if not (low <= width <= high and low <= height <= high) or width % 2 or height % 2:
            raise InvalidParam(f"VENC picture size {width}x{height} is invalid on the "
                               f"{fam.name} family: even sides in {low}..{high} (set them with "
                               f"venc_set_channel_desc_pic_width/_height)")
        if desc.rc_mode not in tuple(VencRcMode):
            raise InvalidParam(f"rc mode {desc.rc_mode} is invalid: 0 default, 1 VBR, 2 CBR")
        constant = desc.rc_mode == VencRcMode.CBR or (
            desc.rc_mode == VencRcMode.DEFAULT and fam.name == "310")
        self.encoder = VideoEncoder(desc.entype, width, height,
                                    desc.key_frame_interval or _DEFAULT_GOP,
                                    desc.src_rate or _DEFAULT_RATE, desc.max_bit_rate * 1000,
                                    constant)
        with _ids_lock:
            channel_id, _next_id = _next_id, _next_id + 1
        super().__init__(channel_id, desc.callback, desc.thread_id)
        self.fam = fam
        self.en_type = desc.entype
        self.fmt = desc.pic_format
        self.width, self.height = width, height
        self.stride = align(width, 16) if fam.vpc_aligned else width
        self._pending: deque = deque()     # (input handle, user data) awaiting their packet
        self._count = 0

    # ------------------------------------------------------------------ caller side
    def send(self, picture: PicDesc | None, config: VencFrameConfig, user_data) -> None:
        self.check_open()
        if config.eos:
            self.finish(self._end_of_stream)
            return
        if picture is None:
            raise InvalidParam("the input pic desc handle is NULL (0): only the end of stream "
                               "(eos set in the frame config) is sent without a picture")
        luma, chroma = self._read(picture)
        force = bool(config.force_i_frame)
        handle = picture.handle
        with self.lock:
            self._encode(handle, luma, chroma, force, user_data)

    def _read(self, picture: PicDesc):
        """The picture's planes, copied: ACL reads ``w*h*3/2`` bytes with rows at
        ``stride``, and refuses a size outside [w*h*3/2, 2*w*h*3/2)."""
        data, size = picture.data, picture.size
        w, h, stride = self.width, self.height, self.stride
        frame = w * h * 3 // 2
        if data == 0:
            raise InvalidParam("the input pic desc has no buffer: set its data")
        if not frame <= size < 2 * frame:
            raise InvalidParam(f"the input pic desc size {size} does not fit a {w}x{h} NV12 "
                               f"picture: it must be at least {frame} and below {2 * frame}")
        need = stride * h * 3 // 2
        if need > size:
            raise InvalidParam(f"the encoder reads rows {stride} bytes apart (width aligned "
                               f"to 16): a {w}x{h} picture needs a buffer of {need} bytes, the "
                               f"desc says {size}")
        try:
            view = device_view(data, need, "VENC input", False, self.fam)
        except DvppTaskFailed as error:
            raise InvalidParam(error.message) from None
        fmt = picture.format if picture.format in INPUT_FORMATS else self.fmt
        planes = Picture(view, fmt, w, h, stride, h)
        return planes.luma().copy(), planes.chroma_uv().copy()

    def destroy_channel(self) -> None:
        self.destroy(self._end_of_stream)

    # ------------------------------------------------------------------ the codec (under the lock)
    def _encode(self, handle: int, luma, chroma, force: bool, user_data) -> None:
        self._pending.append((handle, user_data))
        for packet in self.encoder.packets(luma, chroma, force):
            self._emit(packet)

    def _end_of_stream(self) -> None:
        for packet in self.encoder.flush_packets():
            self._emit(packet)

    def _emit(self, packet: bytes) -> None:
        """One packet: into memory the runtime owns, an output stream desc around it, and
        the callback; both released when it returns."""
        handle, user_data = self._pending.popleft()
        memory = RUNTIME.memory
        device = self.context.device
        block = memory.allocate(device.arena, max(len(packet), 1), DEVICE, origin="venc")
        source = np.frombuffer(packet, np.uint8)
        device.backend.copy(block.address, source.ctypes.data, len(packet))
        desc = StreamDesc()
        desc.data, desc.size, desc.format = block.address, len(packet), self.en_type
        desc.timestamp = self._count
        self._count += 1
        handles.register(desc)

        def release():
            handles.remove(desc.handle)
            memory.free(block.address, DEVICE, "venc")

        self.deliver(handle, desc.handle, user_data, release)
