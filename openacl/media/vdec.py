"""VDEC channels (dvpp-api.md §5.4, §11): frames in, one callback per frame, in send order.

``send`` copies the access unit out of the caller's buffer and decodes it before it returns
(callers reuse one input buffer for every packet). Each
picture the decoder gives back (in display order) goes into the output buffer of the
oldest send still waiting for one; callbacks are then made in send order, each as soon as
its frame and every earlier one are done. A frame that cannot be decoded is called back
with its error in the output desc's ``ret_code``; a send the decoder never answers with a
picture (end of stream reached) gets ``VDEC_NO_PICTURE``. Skipped frames are decoded
(later frames may refer to them) and called back with output 0.
"""

from __future__ import annotations

import threading
from collections import deque

import cv2
import numpy as np

from openacl.constants import VDEC_NO_PICTURE, PixelFormat, VdecOutMode
from openacl.errors import (AclError, DvppTaskFailed, FeatureUnsupported, FormatNotMatch,
                            InvalidParam)
from openacl.media.descs import PicDesc, PicFields, StreamDesc, VdecChannelDesc
from openacl.media.formats import SEMIPLANAR_420, Family, family, format_names
from openacl.media.layout import Picture, min_buffer_size
from openacl.media.tasks import device_view
from openacl.media.video import (DecodedFrame, VideoDecoder, codec_name, has_picture,
                                 vdec_strides)
from openacl.media.video_channel import VideoChannel

__all__ = ["VdecChannel", "channel_id_limit"]

_RGB = {PixelFormat.PIXEL_FORMAT_RGB_888: cv2.COLOR_YUV2RGB_I420,
        PixelFormat.PIXEL_FORMAT_BGR_888: cv2.COLOR_YUV2BGR_I420}

_live_ids: set[int] = set()
_ids_lock = threading.Lock()


def channel_id_limit() -> int:
    """The largest VDEC channel id: 31 on Ascend310, 255 on later SoCs."""
    return 31 if family().name == "310" else 255


def _outputs(fam: Family) -> frozenset:
    """Output formats: NV12/NV21 everywhere, RGB888/BGR888 too on Ascend310P and later."""
    return SEMIPLANAR_420 | frozenset(_RGB) if fam.extended_vpc else SEMIPLANAR_420


class _Send:
    """One sent frame, from ``send`` until its callback."""

    __slots__ = ("input", "output", "fields", "user_data", "ready")

    def __init__(self, source: StreamDesc, output: PicDesc | None, fields: PicFields | None,
                 user_data):
        self.input, self.output, self.fields, self.user_data = source, output, fields, user_data
        self.ready = False


class VdecChannel(VideoChannel):
    kind = "VDEC"

    def __init__(self, desc: VdecChannelDesc):
        if desc.callback is None:
            raise InvalidParam("the channel desc has no callback: call "
                               "acl.media.vdec_set_channel_desc_callback first")
        codec_name(desc.entype)                       # refuses an unknown en_type
        fam = family()
        if desc.out_pic_format not in _outputs(fam):
            raise FormatNotMatch(f"VDEC cannot output format {desc.out_pic_format} on the "
                                 f"{fam.name} family: {format_names(_outputs(fam))}")
        if desc.out_mode not in tuple(VdecOutMode):
            raise InvalidParam(f"out mode {desc.out_mode} is invalid: 0 (default) or 1 (fast)")
        with _ids_lock:
            if desc.channel_id in _live_ids:
                raise InvalidParam(f"VDEC channel id {desc.channel_id} is already used by a "
                                   f"live channel: every channel needs its own id")
            _live_ids.add(desc.channel_id)
        try:
            super().__init__(desc.channel_id, desc.callback, desc.thread_id)
        except Exception:
            _live_ids.discard(desc.channel_id)
            raise
        self.fam = fam
        self.formats = _outputs(fam)
        self.out_format = desc.out_pic_format
        self.out_size = (desc.out_pic_width, desc.out_pic_height)
        self.decoder = VideoDecoder(desc.entype, desc.out_mode == VdecOutMode.FAST)
        self._order: deque[_Send] = deque()       # every send not yet called back
        self._waiting: deque[_Send] = deque()     # sends still waiting for a picture

    # ------------------------------------------------------------------ caller side
    def send(self, source: StreamDesc, output: PicDesc | None, user_data,
             skipped: bool = False) -> None:
        self.check_open()
        if source.eos:
            if skipped:
                raise FeatureUnsupported("the end of stream cannot be sent with "
                                         "acl.media.vdec_send_skipped_frame: use vdec_send_frame")
            self.finish(self._end_of_stream)
            return
        data, size = source.data, source.size
        if data == 0 or size == 0:
            missing = "no data" if data == 0 else "size 0"
            raise InvalidParam(f"the input stream desc has {missing}: a frame is one whole "
                               f"access unit (set eos to end the stream)")
        fields = None
        if not skipped:
            if output is None:
                raise InvalidParam("the output pic desc handle is NULL (0): only the end of "
                                   "stream is sent without one")
            fields = self._output_fields(output)
        try:
            access_unit = device_view(data, size, "VDEC input", False, self.fam).tobytes()
        except DvppTaskFailed as error:
            raise InvalidParam(error.message) from None
        entry = _Send(source, output, fields, user_data)
        with self.lock:
            self._order.append(entry)
            self._waiting.append(entry)
            self._decode(entry, access_unit)

    def _output_fields(self, output: PicDesc) -> PicFields:
        fields = output.fields()
        if fields.data == 0 or fields.size == 0:
            missing = "no buffer" if fields.data == 0 else "size 0"
            raise InvalidParam(f"the output pic desc has {missing}: set its data and size")
        geometry = (fields.width, fields.height, fields.width_stride, fields.height_stride)
        if any(geometry) and not all(geometry):
            raise InvalidParam(f"the output pic desc sets only some of width, height, width "
                               f"stride and height stride {geometry}: set all four (to scale the "
                               f"output) or none (the stream's size)")
        fmt = fields.fmt or self.out_format
        if fmt not in self.formats:
            raise FormatNotMatch(f"VDEC cannot output format {fmt} on the {self.fam.name} "
                                 f"family: {format_names(self.formats)}")
        return fields._replace(fmt=fmt)

    def destroy_channel(self) -> None:
        self.destroy(self._end_of_stream)

    def _close(self) -> None:
        super()._close()
        with _ids_lock:
            _live_ids.discard(self.channel_id)

    # ------------------------------------------------------------------ the codec (under the lock)
    def _decode(self, entry: _Send, access_unit: bytes) -> None:
        picture = has_picture(access_unit, self.decoder.codec)
        try:
            frames = self.decoder.send(access_unit)
            failure = None if picture else VDEC_NO_PICTURE
        except DvppTaskFailed as error:      # FFmpeg refuses a headers-only unit too
            frames, failure = [], error.code if picture else VDEC_NO_PICTURE
        if failure is not None:
            with self.lock:
                self._waiting.remove(entry)
            self._fail(entry, failure)
        for frame in frames:
            self._place(frame)
        self._release()

    def _end_of_stream(self) -> None:
        """Every picture the decoder still holds; sends left without one get no picture.
        The decoder then takes a new sequence."""
        try:
            frames = self.decoder.flush()
        except DvppTaskFailed:
            frames = []
        for frame in frames:
            self._place(frame)
        with self.lock:
            left, self._waiting = list(self._waiting), deque()
        for entry in left:
            self._fail(entry, VDEC_NO_PICTURE)
        self._release()

    def _place(self, frame: DecodedFrame) -> None:
        with self.lock:
            if not self._waiting:
                return                      # a picture no send asked for (cannot happen in order)
            entry = self._waiting.popleft()
        if entry.output is None:            # skipped frame: decoded, not output
            entry.ready = True
            return
        try:
            self._write(entry.output, entry.fields, frame)
        except AclError as error:
            self._fail(entry, error.code)
            return
        entry.ready = True

    def _fail(self, entry: _Send, code: int) -> None:
        if entry.output is not None:
            entry.output.ret_code = int(code)
        entry.ready = True

    def _release(self) -> None:
        """Call back, in send order, every frame that is done with nothing pending before it."""
        while True:
            with self.lock:
                if not self._order or not self._order[0].ready:
                    return
                entry = self._order.popleft()
            output = entry.output.handle if entry.output is not None else 0
            self.deliver(entry.input.handle, output, entry.user_data)

    def _write(self, out: PicDesc, fields: PicFields, frame: DecodedFrame) -> None:
        """The picture into the output buffer, at the desc's size and strides if it set
        them, else at the channel's output size (or the stream's) with VDEC's strides."""
        if fields.width:
            width, height = fields.width, fields.height
            width_stride, height_stride = fields.width_stride, fields.height_stride
        else:
            width, height = (self.out_size if all(self.out_size)
                             else (frame.width, frame.height))
            width_stride, height_stride = vdec_strides(width, height, self.fam)
            if fields.fmt in _RGB:
                width_stride *= 3
        if (width, height) != (frame.width, frame.height):
            frame = frame.scaled(width, height)
        need = min_buffer_size(fields.fmt, width_stride, height_stride, False)
        if need > fields.size or width_stride < width * (3 if fields.fmt in _RGB else 1):
            raise DvppTaskFailed(
                f"the VDEC output buffer holds {fields.size} bytes; a {width}x{height} picture "
                f"with strides {width_stride}x{height_stride} needs {need}")
        picture = Picture(device_view(fields.data, fields.size, "VDEC output", True, self.fam),
                          fields.fmt, width, height, width_stride, height_stride)
        if fields.fmt in _RGB:
            picture.pixels()[...] = _to_rgb(frame, _RGB[fields.fmt])
        else:
            picture.luma()[...] = frame.luma
            planes = (frame.v, frame.u) if picture.layout.v_first else (frame.u, frame.v)
            cv2.merge(planes, dst=picture.chroma())      # interleaves 6x faster than numpy
        out.format, out.width, out.height = fields.fmt, width, height
        out.width_stride, out.height_stride, out.ret_code = width_stride, height_stride, 0


def _to_rgb(frame: DecodedFrame, code: int):
    """BT.601 video-range YUV 4:2:0 to packed RGB/BGR (OpenCV's conversion)."""
    i420 = np.concatenate([frame.luma.reshape(-1), frame.u.reshape(-1), frame.v.reshape(-1)])
    return cv2.cvtColor(i420.reshape(frame.height * 3 // 2, frame.width), code)
