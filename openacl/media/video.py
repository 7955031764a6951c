"""The codec half of VDEC and VENC (dvpp-api.md §5.4, §11, §12): no channels, no callbacks.

``VideoDecoder`` takes H.264/H.265 Annex-B access units one at a time (what
``vdec_send_frame`` hands over) and gives back decoded pictures in display order, as
NV12/NV21 planes with the strides VDEC writes per SoC. ``VideoEncoder`` takes NV12/NV21
pictures and gives one Annex-B packet per picture (no B-frames, no look-ahead: VENC calls
back once per frame), parameter sets in front of every key frame. Both are FFmpeg through
PyAV; H.264/H.265 decoding is bit-exact by the standards, so VDEC's pictures at stream size
are FFmpeg's.

The channel machinery (send order, callbacks on report threads, EOS) builds on these.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
import cv2
import numpy as np


from openacl.constants import StreamFormat
from openacl.errors import DvppTaskFailed, InvalidParam
from openacl.media.formats import Family, align

__all__ = ["DecodedFrame", "VideoDecoder", "VideoEncoder", "vdec_strides", "codec_name",
           "has_picture"]


def codec_name(en_type: int) -> str:
    """FFmpeg's decoder for an ``acldvppStreamFormat``."""
    if en_type == StreamFormat.H265_MAIN_LEVEL:
        return "hevc"
    if en_type in (StreamFormat.H264_BASELINE_LEVEL, StreamFormat.H264_MAIN_LEVEL,
                   StreamFormat.H264_HIGH_LEVEL):
        return "h264"
    raise InvalidParam(f"en_type {en_type} is not a stream format: 0 H.265 main, 1 H.264 "
                       f"baseline, 2 H.264 main, 3 H.264 high")


def vdec_strides(width: int, height: int, fam: Family) -> tuple[int, int]:
    """VDEC output strides: align16(w) (at least 32) and align2(h) on 310/310P; the width
    itself (even height) on 310B, whose VPC needs no alignment either."""
    if fam.vpc_aligned:
        return max(align(width, 16), 32), align(height, 2)
    return width, align(height, 2)


def has_picture(access_unit: bytes, codec: str) -> bool:
    """Whether an Annex-B access unit holds a coded picture (a VCL NAL unit), rather than
    only parameter sets or SEI, which VDEC answers with "no picture"."""
    for part in access_unit.split(b"\x00\x00\x01")[1:]:
        if not part:
            continue
        if codec == "hevc":
            if (part[0] >> 1) & 0x3F < 32:          # HEVC VCL types 0..31
                return True
        elif 1 <= part[0] & 0x1F <= 5:              # H.264 coded slices
            return True
    return False


@dataclass
class DecodedFrame:
    """One picture, its planes views of FFmpeg's frame (no copy until it is written out)."""
    width: int
    height: int
    luma: np.ndarray          # (height, width)
    u: np.ndarray             # (height/2, width/2)
    v: np.ndarray
    key: bool

    @property
    def chroma(self) -> np.ndarray:
        """(height/2, width/2, 2), U then V (a copy)."""
        return np.dstack([self.u, self.v])

    def scaled(self, width: int, height: int) -> "DecodedFrame":
        """The picture resized (bilinear, per plane): VDEC's output scaling."""
        size, half = (width, height), (width // 2, height // 2)
        return DecodedFrame(width, height,
                            cv2.resize(self.luma, size, interpolation=cv2.INTER_LINEAR),
                            cv2.resize(self.u, half, interpolation=cv2.INTER_LINEAR),
                            cv2.resize(self.v, half, interpolation=cv2.INTER_LINEAR), self.key)


def _planes(frame: av.VideoFrame) -> DecodedFrame:
    if frame.format.name not in ("yuv420p", "yuvj420p"):
        frame = frame.reformat(format="yuv420p")      # 10-bit and 4:2:2 streams: 8-bit 4:2:0
    y, u, v = (np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width]
               for p in frame.planes)
    return DecodedFrame(frame.width, frame.height, y, u, v, frame.key_frame)


class VideoDecoder:
    """One channel's decoder; ``send`` and ``flush`` return the pictures ready so far."""

    def __init__(self, en_type: int, low_delay: bool = False):
        self.codec = codec_name(en_type)
        self.low_delay = low_delay        # VDEC's fast out mode: no picture held back
        self._context = self._open()

    def _open(self):
        context = av.CodecContext.create(self.codec, "r")
        context.options = {"err_detect": "explode"}
        if self.low_delay:
            context.flags |= av.codec.context.Flags.low_delay
        return context

    def send(self, access_unit: bytes) -> list[DecodedFrame]:
        if not access_unit:
            raise InvalidParam("an empty frame is not a frame: send the end of stream "
                               "with the eos flag instead")
        return self._decode(av.Packet(access_unit))

    def flush(self) -> list[DecodedFrame]:
        """End of stream: the pictures the decoder still holds; it then takes a new sequence."""
        frames = self._decode(None)
        self._context = self._open()
        return frames

    def _decode(self, packet) -> list[DecodedFrame]:
        try:
            return [_planes(frame) for frame in self._context.decode(packet)]
        except (av.FFmpegError, ValueError) as error:
            raise DvppTaskFailed(f"the {self.codec} stream cannot be decoded: {error}") from None


class VideoEncoder:
    """One VENC channel's encoder: one Annex-B packet per picture, in order.

    ``bit_rate`` (bits/s, 0: the codec's quality default) caps the rate; ``constant`` makes
    it constant (CBR) rather than a ceiling (VBR).
    """

    def __init__(self, en_type: int, width: int, height: int, key_frame_interval: int,
                 frame_rate: int = 30, bit_rate: int = 0, constant: bool = False):
        if width % 2 or height % 2:
            raise InvalidParam(f"VENC pictures need even sizes, not {width}x{height}")
        self.width, self.height = width, height
        self._settings = (en_type, max(1, key_frame_interval), frame_rate, bit_rate, constant)
        self._context = self._open()
        self._count = 0

    def _open(self):
        en_type, gop, frame_rate, bit_rate, constant = self._settings
        name = "libx265" if codec_name(en_type) == "hevc" else "libx264"
        context = av.CodecContext.create(name, "w")
        context.width, context.height = self.width, self.height
        context.pix_fmt = "yuv420p"
        context.time_base = Fraction(1, frame_rate)
        context.framerate = Fraction(frame_rate, 1)
        context.gop_size = gop
        options = {"bframes": "0", "preset": "ultrafast", "tune": "zerolatency"}
        if bit_rate:
            context.bit_rate = bit_rate
            # FFmpeg's generic rate options; a one-second VBV buffer
            options.update({"maxrate": str(bit_rate), "bufsize": str(bit_rate)})
            if constant:
                options["minrate"] = str(bit_rate)
        profile = {1: "baseline", 2: "main", 3: "high"}.get(en_type)
        if name == "libx264":
            options.update({"repeat-headers": "1", "keyint": str(gop)})
            if profile:
                options["profile"] = profile     # a ceiling: the tools below make it the profile
            tools = {2: "cabac=1", 3: "cabac=1:8x8dct=1"}.get(en_type)
            if tools:
                options["x264-params"] = tools
            if bit_rate and constant:
                options["nal-hrd"] = "cbr"
        else:
            # closed GOPs: every key frame an IDR, as VENC's (x265 defaults to CRA)
            options["x265-params"] = (f"keyint={gop}:repeat-headers=1:bframes=0:open-gop=0:"
                                      f"log-level=error")
        context.options = options
        return context

    def packets(self, luma: np.ndarray, chroma_uv: np.ndarray,
                force_key: bool = False) -> list[bytes]:
        """Encode one picture (Y plane, interleaved U,V); return the packets that came out."""
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        for plane, data in zip(frame.planes, (luma, chroma_uv[..., 0], chroma_uv[..., 1])):
            view = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
            view[:, :plane.width] = data
        frame.pts = self._count
        self._count += 1
        if force_key:
            frame.pict_type = av.video.frame.PictureType.I
        return [bytes(p) for p in self._context.encode(frame)]

    def encode(self, luma: np.ndarray, chroma_uv: np.ndarray, force_key: bool = False) -> bytes:
        """Encode one picture; return this picture's bytes."""
        return b"".join(self.packets(luma, chroma_uv, force_key))

    def flush_packets(self) -> list[bytes]:
        """The packets still held; the encoder then starts a new sequence (a key frame)."""
        packets = [bytes(p) for p in self._context.encode(None)]
        self._context = self._open()
        return packets

    def flush(self) -> bytes:
        return b"".join(self.flush_packets())
