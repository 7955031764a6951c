"""The codec core of DVPP's JPEG decoder (JPEGD) and encoder (JPEGE) (``dvpp-api.md`` §6, §7).

What the facade calls, in the order a program meets it:

* ``parse_header`` — the host-side header read of ``dvpp_jpeg_get_image_info*`` and
  ``dvpp_jpeg_predict_dec_size`` (libjpeg's ``jpeg_read_header``: markers up to SOS, no pixel
  data); ``predict_dec_size`` — §6.3's formula.
* ``check_decodable`` + ``decode`` + ``write_decoded`` — the work of a decode task: refuse what
  the hardware decoder refuses, decode straight to YUV planes (FFmpeg's mjpeg decoder gives the
  native, not upsampled, chroma planes), convert them to the output format, apply EXIF
  orientation, round odd 4:2:0 sizes down, and lay the planes out with the SoC's strides.
* ``predict_enc_size`` + ``encode`` — §7.1's formula and the encoder (libjpeg-turbo through
  simplejpeg, fed the buffer's planes directly: no lossy RGB round trip).

Errors are ``AclError`` subclasses only: bad input data never escapes as an IndexError,
struct.error or an FFmpeg error. Header failures are ``Failure`` (500001, what libjpeg's
refusal becomes); what the decoder refuses is ``UnsupportedJpeg`` (148052); what goes wrong
while a task runs is ``DvppTaskFailed`` (reported at ``synchronize_stream``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import av
import cv2
import numpy as np
import simplejpeg

from openacl.constants import JpegFormat as J
from openacl.constants import PixelFormat as F
from openacl.errors import DvppTaskFailed, Failure, FormatNotMatch, InvalidParam, UnsupportedJpeg
from openacl.media.formats import MIN_JPEG_SIDE, Family, align, format_name, format_names
from openacl.media.layout import Picture, layout_of, min_buffer_size

__all__ = ["JpegHeader", "parse_header", "check_decodable", "predict_dec_size", "Decoded",
           "decode", "write_decoded", "predict_enc_size", "encode"]


@dataclass(frozen=True)
class JpegHeader:
    """What the markers before the first scan say about a JPEG."""

    width: int            # as displayed: EXIF orientation 5..8 swaps width and height
    height: int
    coded_width: int      # as stored in the SOF segment
    coded_height: int
    components: int       # 1 (gray), 3 (YCbCr or RGB), 4 (CMYK/YCCK)
    jpeg_format: int      # JpegFormat, from the sampling factors (§6.1, get_image_info_v2)
    orientation: int      # EXIF orientation 1..8 (1 when absent or unreadable)
    sof: int              # SOFn marker code: 0xC0 baseline, 0xC1 extended, 0xC2 progressive...
    precision: int        # sample precision in bits (8 or 12; 2..16 for lossless)
    sampling: tuple       # ((h, v), ...) per component, in SOF order
    rgb: bool = False     # 3 components stored as RGB (Adobe transform 0 or ids 'R','G','B')


# ---------------------------------------------------------------------------- header
def parse_header(data) -> JpegHeader:
    """Read a JPEG's header like libjpeg's ``jpeg_read_header``: walk the markers from SOI to
    the first SOS and decode nothing.

    Raises ``Failure`` (500001) for what libjpeg refuses: no SOI, data ending before SOS,
    EOI/SOS before SOF, bad segment lengths, zero or oversized dimensions, bad sampling
    factors, unknown markers.
    """
    raw = data if isinstance(data, bytes) else memoryview(data).tobytes()
    if len(raw) < 4 or raw[0] != 0xFF or raw[1] != 0xD8:
        raise Failure("the data is not a JPEG: it does not start with the SOI marker FF D8")
    frame = None
    orientation = 0            # 0: no EXIF segment seen yet (the first one counts)
    jfif = False
    adobe_transform = None
    pos = 2
    while True:
        marker, pos = _next_marker(raw, pos)
        at = pos - 2
        if marker in _STANDALONE:
            continue
        if marker == 0xD8:
            raise Failure("the JPEG has a second SOI marker before its first scan")
        if marker == 0xD9:
            raise Failure("the JPEG ends (EOI) before any image scan: it holds tables only")
        start, end = _segment(raw, pos, marker)
        pos = end
        if marker in _SOF_NAMES:
            if frame is not None:
                raise Failure("the JPEG has two SOF (frame header) segments")
            frame = _parse_sof(raw, start, end, marker)
        elif marker == 0xDA:
            if frame is None:
                raise Failure("the JPEG starts a scan (SOS) before its frame header (SOF)")
            _check_sos(raw, start, end, frame)
            break
        elif marker == 0xC4:
            _check_dht(raw, start, end)
        elif marker == 0xDB:
            _check_dqt(raw, start, end)
        elif marker == 0xDD:
            if end - start != 2:
                raise Failure(f"the JPEG's DRI segment is {end - start + 2} bytes long, not 4")
        elif marker == 0xE0:
            jfif = jfif or raw[start:start + 5] == b"JFIF\x00"
        elif marker == 0xE1:
            if not orientation and raw[start:start + 6] == b"Exif\x00\x00":
                orientation = _exif_orientation(raw[start + 6:end])
        elif marker == 0xEE:
            if end - start >= 12 and raw[start:start + 5] == b"Adobe":
                adobe_transform = raw[start + 11]
        elif marker not in _SKIPPED:
            raise Failure(f"the JPEG has an unknown marker FF {marker:02X} at byte {at}")
    return _header(frame, orientation or 1, _is_rgb(frame, jfif, adobe_transform))


def check_decodable(header: JpegHeader, fam: Family) -> None:
    """Refuse, like the DVPP decoder, what is not a baseline-style YCbCr or gray JPEG.

    The decoder takes sequential Huffman JPEGs (SOF0/SOF1) of 8-bit precision, 1 or 3 YCbCr
    components sampled 4:4:4, 4:2:2, 4:2:0, 4:4:0 or 4:0:0, 32..max_jpeg_side pixels a side
    (§6.2 item 1). Everything else is ``UnsupportedJpeg`` (148052), the code newer CANN gives
    these JPEGs. Out-of-range sizes are also 148052, not InvalidParam: they are a property of
    the stream the decoder cannot handle, not a bad argument (InvalidParam is what the *predict*
    call returns for them, §6.3, and that call has its own check).
    """
    sof = header.sof
    if sof not in (0xC0, 0xC1):
        raise UnsupportedJpeg(f"the JPEG is {_SOF_NAMES.get(sof, hex(sof))} (SOF marker "
                              f"FF {sof:02X}); DVPP decodes baseline sequential Huffman JPEGs "
                              f"only: re-encode it as baseline (e.g. Pillow save(..., "
                              f"progressive=False))")
    if header.precision != 8:
        raise UnsupportedJpeg(f"the JPEG has {header.precision}-bit samples; DVPP decodes 8-bit "
                              f"JPEGs only")
    if header.components not in (1, 3) or header.rgb:
        kind = "RGB" if header.rgb else f"{header.components}-component (e.g. CMYK)"
        raise UnsupportedJpeg(f"the JPEG is {kind}; DVPP decodes YCbCr (3 components) or gray "
                              f"(1 component) JPEGs only")
    if header.jpeg_format not in _SOURCE_SUBSAMPLING:
        raise UnsupportedJpeg(f"the JPEG's chroma sampling {_sampling_text(header)} is not one "
                              f"of 4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:0:0 that DVPP decodes")
    _check_side(header.coded_width, header.coded_height, fam, UnsupportedJpeg, "decodes")


def predict_dec_size(header: JpegHeader, out_format: int, fam: Family) -> int:
    """``dvpp_jpeg_predict_dec_size`` (§6.3): the output buffer bytes a decode needs.

    The width stride is taken as align128 on every family (the 2019-20 C layer's formula, also
    on 310P where the decoder writes with align64: §17, it only over-estimates).
    """
    if out_format not in fam.jpegd_outputs:
        raise FormatNotMatch(f"JPEG decode output format {format_name(out_format)} is not "
                             f"supported on the {fam.name} family; supported: "
                             f"{format_names(fam.jpegd_outputs)}")
    _check_side(header.width, header.height, fam, InvalidParam, "predicts")
    plane = align(header.width, 128) * align(header.height, 16)
    if out_format in _SP420 or header.jpeg_format == J.ACL_JPEG_CSS_GRAY:
        return plane * 3 // 2
    outputs = _SOURCE_OUTPUTS.get(header.jpeg_format, frozenset())
    if out_format not in outputs and out_format != F.PIXEL_FORMAT_UNKNOWN:
        raise FormatNotMatch(_mismatch_text(header, out_format, fam))
    if header.jpeg_format not in _PLANE_FACTOR:
        raise FormatNotMatch(f"the JPEG's sampling {_sampling_text(header)} has no source-format "
                             f"output; ask for NV12 or NV21")
    num, den = _PLANE_FACTOR[header.jpeg_format]
    return plane * num // den


# ---------------------------------------------------------------------------- decode
@dataclass
class Decoded:
    """A decoded picture, ready to be laid out in the output buffer."""

    fmt: int                    # resolved output format (UNKNOWN -> the source's, V-first)
    width: int                  # displayed size after the 4:2:0 odd-size round-down
    height: int
    width_stride: int           # align(width, family's JPEGD stride)
    height_stride: int          # align16(height)
    luma: np.ndarray            # (height, width) uint8 (may be a view of FFmpeg's frame)
    chroma: np.ndarray | None   # (ch, cw, 2) uint8, U then V, at the output's subsampling


def decode(data, header: JpegHeader, out_format: int, fam: Family) -> Decoded:
    """Decode ``data`` to ``out_format`` as the DVPP decoder does (§6.2 items 2-6).

    ``header`` is ``parse_header(data)``. Refusals of ``check_decodable`` are repeated here
    (cheap) so FFmpeg never sees what the hardware would not decode. A format the JPEG cannot
    be converted to, or data FFmpeg finds corrupt, is ``DvppTaskFailed``: the hardware finds
    these out while the task runs.
    """
    check_decodable(header, fam)
    if out_format not in fam.jpegd_outputs:
        raise FormatNotMatch(f"JPEG decode output format {format_name(out_format)} is not "
                             f"supported on the {fam.name} family")
    fmt = _resolve_output(header, out_format, fam)
    luma, chroma = _decode_planes(data, header)
    luma = _orient(luma, header.orientation)
    height, width = luma.shape
    lay = layout_of(fmt)
    if fmt in _SP420:
        # The decoder rounds odd 4:2:0 sizes down and reports the even size (§6.2 item 4).
        height, width = height & ~1, width & ~1
        luma = luma[:height, :width]
    if lay.kind == "gray":
        chroma = None
    elif chroma is None:
        # A gray JPEG decoded to a YUV format: neutral chroma (0x80), §6.2 item 2.
        chroma = np.broadcast_to(np.uint8(128), lay.chroma_shape(width, height) + (2,))
    else:
        source = _SOURCE_SUBSAMPLING[header.jpeg_format]
        if header.orientation >= 5:
            source = source[::-1]
        chroma = _orient(chroma, header.orientation)
        chroma = _resample(chroma, source, (lay.sy, lay.sx), height, width)
    return Decoded(fmt, width, height, align(width, fam.jpegd_stride), align(height, 16),
                   luma, chroma)


def write_decoded(decoded: Decoded, buf: np.ndarray) -> None:
    """Lay ``decoded`` out in ``buf`` (a uint8 view of the output buffer) with its strides.

    Only the valid pixels are written; padding bytes keep what they held (their content is
    unspecified on hardware, §5.1).
    """
    d = decoded
    need = min_buffer_size(d.fmt, d.width_stride, d.height_stride, gray_as_420=False)
    if buf.size < need:
        raise DvppTaskFailed(f"the JPEG decode output buffer holds {buf.size} bytes but a "
                             f"{d.width}x{d.height} {format_name(d.fmt)} picture needs {need}: "
                             f"the decoder writes with width stride {d.width_stride} and height "
                             f"stride {d.height_stride} (§5.3); size the buffer with "
                             f"acl.media.dvpp_jpeg_predict_dec_size")
    picture = Picture(buf, d.fmt, d.width, d.height, d.width_stride, d.height_stride)
    picture.luma()[...] = d.luma
    if d.chroma is None:
        return
    target = picture.chroma()
    if picture.layout.v_first:      # two plain copies: numpy is slow through a reversed view
        target[..., 0] = d.chroma[..., 1]
        target[..., 1] = d.chroma[..., 0]
    else:
        target[...] = d.chroma


# ---------------------------------------------------------------------------- encode
def predict_enc_size(fmt: int, width: int, height: int, width_stride: int, height_stride: int,
                     fam: Family) -> int:
    """``dvpp_jpeg_predict_enc_size`` (§7.1): validate the input picture, return the
    worst-case JPEG size (raw picture + 768 bytes of headers, rounded up to 2 MiB)."""
    _check_side(width, height, fam, InvalidParam, "encodes")
    if fmt not in fam.jpege_inputs:
        raise FormatNotMatch(f"JPEG encode input format {format_name(fmt)} is not supported; "
                             f"supported: {format_names(fam.jpege_inputs)}")
    packed = fmt not in _SP420
    if packed and width_stride != align(2 * width, 16):
        raise InvalidParam(f"a packed 4:2:2 JPEG encode input of width {width} needs width "
                           f"stride align16(2*width) = {align(2 * width, 16)} exactly, not "
                           f"{width_stride}")
    if not packed and (width_stride < width or width_stride % 16):
        raise InvalidParam(f"a YUV420SP JPEG encode input needs a width stride >= the width "
                           f"({width}) and a multiple of 16, not {width_stride}")
    if height_stride != height and (height_stride < height or height_stride % 16):
        raise InvalidParam(f"a JPEG encode input needs a height stride equal to the height "
                           f"({height}) or above it and a multiple of 16, not {height_stride}")
    raw = width_stride * height_stride * (1 if packed else 3) // (1 if packed else 2)
    return align(raw + 640 + 128, 2 * 1024 * 1024)


def encode(picture: Picture, quality: int) -> bytes:
    """Encode a YUV420SP or packed 4:2:2 picture as a baseline Huffman JFIF JPEG.

    ``quality`` is the JPEGE level: 1..100, 0 meaning 100 (§7). The JPEG's chroma keeps the
    picture's subsampling (4:2:0 for NV12/NV21, 4:2:2 for packed), so no chroma is resampled.
    """
    if not 0 <= quality <= 100:
        raise InvalidParam(f"the JPEG encode level is {quality}; it must be 0..100 (0 means 100)")
    if picture.fmt in _SP420:
        luma = picture.luma()
        uv = picture.chroma_uv()
        u, v = np.ascontiguousarray(uv[..., 0]), np.ascontiguousarray(uv[..., 1])
    elif picture.fmt in _PACKED_422:
        luma, u, v = _packed_planes(picture)
    else:
        raise FormatNotMatch(f"JPEG encode input format {format_name(picture.fmt)} is not "
                             f"supported; use NV12, NV21 or a packed 4:2:2 format")
    try:
        return simplejpeg.encode_jpeg_yuv_planes(luma, u, v, quality=quality or 100)
    except (ValueError, RuntimeError) as error:
        raise DvppTaskFailed(f"the JPEG encoder failed on the {picture.width}x{picture.height} "
                             f"{format_name(picture.fmt)} picture: {error}") from None


# ============================================================================ helpers
_SP420 = frozenset({F.PIXEL_FORMAT_YUV_SEMIPLANAR_420, F.PIXEL_FORMAT_YVU_SEMIPLANAR_420})
_PACKED_422 = frozenset({F.PIXEL_FORMAT_YUYV_PACKED_422, F.PIXEL_FORMAT_UYVY_PACKED_422,
                         F.PIXEL_FORMAT_YVYU_PACKED_422, F.PIXEL_FORMAT_VYUY_PACKED_422})

_SOF_NAMES = {0xC0: "baseline", 0xC1: "extended sequential", 0xC2: "progressive",
              0xC3: "lossless", 0xC5: "differential sequential",
              0xC6: "differential progressive", 0xC7: "differential lossless"}
_SOF_NAMES.update({code + 8: "arithmetic-coded " + _SOF_NAMES[code]
                   for code in (0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7)})
_LOSSLESS = frozenset({0xC3, 0xC7, 0xCB, 0xCF})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})        # TEM, RST0..7: no length
# Segments libjpeg reads or skips before the first scan (DAC, DNL, APPn, COM); any other
# marker there is JERR_UNKNOWN_MARKER.
_SKIPPED = frozenset({0xCC, 0xDC, *range(0xE0, 0xF0), 0xFE})
_MAX_DIMENSION = 65500                                      # libjpeg's JPEG_MAX_DIMENSION

# Chroma subsampling (rows, columns per chroma sample) of the sampling DVPP decodes.
_SOURCE_SUBSAMPLING = {J.ACL_JPEG_CSS_GRAY: None, J.ACL_JPEG_CSS_420: (2, 2),
                       J.ACL_JPEG_CSS_422: (1, 2), J.ACL_JPEG_CSS_444: (1, 1),
                       J.ACL_JPEG_CSS_440: (2, 1)}
_Y_SAMPLING = {(2, 2): J.ACL_JPEG_CSS_420, (2, 1): J.ACL_JPEG_CSS_422,
               (1, 1): J.ACL_JPEG_CSS_444, (1, 2): J.ACL_JPEG_CSS_440, (4, 1): J.ACL_JPEG_CSS_411}
# §6.2 item 2: what each sampling converts to (4:2:0 SP from every source).
_SOURCE_OUTPUTS = {
    J.ACL_JPEG_CSS_GRAY: _SP420 | {F.PIXEL_FORMAT_YUV_400},
    J.ACL_JPEG_CSS_420: _SP420,
    J.ACL_JPEG_CSS_422: _SP420 | {F.PIXEL_FORMAT_YUV_SEMIPLANAR_422,
                                  F.PIXEL_FORMAT_YVU_SEMIPLANAR_422},
    J.ACL_JPEG_CSS_444: _SP420 | {F.PIXEL_FORMAT_YUV_SEMIPLANAR_444,
                                  F.PIXEL_FORMAT_YVU_SEMIPLANAR_444},
    J.ACL_JPEG_CSS_440: _SP420 | {F.PIXEL_FORMAT_YUV_SEMIPLANAR_440,
                                  F.PIXEL_FORMAT_YVU_SEMIPLANAR_440},
}
# UNKNOWN keeps the source sampling, V-first (§6.2 item 2). Gray has no YUV400 on 310, and
# predict sizes gray "as NV12": it resolves to NV21 on every family (guess).
_UNKNOWN_RESOLVES = {J.ACL_JPEG_CSS_GRAY: F.PIXEL_FORMAT_YVU_SEMIPLANAR_420,
                     J.ACL_JPEG_CSS_420: F.PIXEL_FORMAT_YVU_SEMIPLANAR_420,
                     J.ACL_JPEG_CSS_422: F.PIXEL_FORMAT_YVU_SEMIPLANAR_422,
                     J.ACL_JPEG_CSS_444: F.PIXEL_FORMAT_YVU_SEMIPLANAR_444,
                     J.ACL_JPEG_CSS_440: F.PIXEL_FORMAT_YVU_SEMIPLANAR_440}
# §6.3: buffer = align128(W) * align16(H) * num / den for a source-format output.
_PLANE_FACTOR = {J.ACL_JPEG_CSS_420: (3, 2), J.ACL_JPEG_CSS_422: (2, 1),
                 J.ACL_JPEG_CSS_440: (2, 1), J.ACL_JPEG_CSS_444: (3, 1)}
# FFmpeg's frame formats per sampling (full-range "j" formats, or the plain ones).
_FFMPEG_FORMATS = {J.ACL_JPEG_CSS_GRAY: ("gray",), J.ACL_JPEG_CSS_420: ("yuvj420p", "yuv420p"),
                   J.ACL_JPEG_CSS_422: ("yuvj422p", "yuv422p"),
                   J.ACL_JPEG_CSS_444: ("yuvj444p", "yuv444p"),
                   J.ACL_JPEG_CSS_440: ("yuvj440p", "yuv440p")}


def _next_marker(raw: bytes, pos: int) -> tuple[int, int]:
    """The next marker code at or after ``pos`` and the position after it. Like libjpeg's
    next_marker, bytes that are not a marker (and stuffed FF 00) are skipped."""
    while True:
        pos = raw.find(b"\xff", pos)
        if pos < 0:
            raise Failure("the JPEG data ends before its first scan (SOS): it is truncated")
        while pos < len(raw) and raw[pos] == 0xFF:
            pos += 1
        if pos >= len(raw):
            raise Failure("the JPEG data ends before its first scan (SOS): it is truncated")
        if raw[pos] != 0x00:
            return raw[pos], pos + 1
        pos += 1


def _segment(raw: bytes, pos: int, marker: int) -> tuple[int, int]:
    """The payload bounds of the segment whose length field is at ``pos``."""
    if pos + 2 > len(raw):
        raise Failure(f"the JPEG data ends inside the FF {marker:02X} segment: it is truncated")
    length = raw[pos] << 8 | raw[pos + 1]
    if length < 2:
        raise Failure(f"the JPEG's FF {marker:02X} segment has an invalid length {length}")
    if pos + length > len(raw):
        raise Failure(f"the JPEG data ends inside the FF {marker:02X} segment ({length} bytes "
                      f"at byte {pos}): it is truncated")
    return pos + 2, pos + length


def _parse_sof(raw: bytes, start: int, end: int, marker: int) -> tuple:
    """(marker, precision, width, height, [(id, h, v), ...]) of a SOF segment."""
    if end - start < 6:
        raise Failure(f"the JPEG's SOF segment is too short ({end - start + 2} bytes)")
    precision, height, width, count = struct.unpack_from(">BHHB", raw, start)
    if end - start != 6 + 3 * count or count == 0:
        raise Failure(f"the JPEG's SOF segment is {end - start + 2} bytes long, which does not "
                      f"fit its {count} components")
    if width == 0 or height == 0:
        raise Failure(f"the JPEG's frame header gives an empty image ({width}x{height}); "
                      f"a height set later by a DNL marker is not supported")
    if width > _MAX_DIMENSION or height > _MAX_DIMENSION:
        raise Failure(f"the JPEG is {width}x{height}: larger than libjpeg's {_MAX_DIMENSION}")
    if count > 10:
        raise Failure(f"the JPEG has {count} components; at most 10 are allowed")
    valid = range(2, 17) if marker in _LOSSLESS else (8, 12)
    if precision not in valid:
        raise Failure(f"the JPEG's sample precision {precision} bits is invalid")
    components = []
    for index in range(count):
        ident, factors = raw[start + 6 + 3 * index], raw[start + 7 + 3 * index]
        h, v = factors >> 4, factors & 15
        if not (1 <= h <= 4 and 1 <= v <= 4):
            raise Failure(f"the JPEG's component {ident} has invalid sampling factors {h}x{v}")
        components.append((ident, h, v))
    return marker, precision, width, height, components


def _check_sos(raw: bytes, start: int, end: int, frame: tuple) -> None:
    count = raw[start] if end > start else 0
    if end - start != 4 + 2 * count or not 1 <= count <= 4:
        raise Failure(f"the JPEG's SOS segment is {end - start + 2} bytes long for {count} "
                      f"components: it is corrupt")
    known = {ident for ident, _, _ in frame[4]}
    for index in range(count):
        if raw[start + 1 + 2 * index] not in known:
            raise Failure(f"the JPEG's scan names component {raw[start + 1 + 2 * index]}, which "
                          f"its frame header does not have")


def _check_dht(raw: bytes, start: int, end: int) -> None:
    pos = start
    while pos < end:
        if pos + 17 > end or raw[pos] & 0x0F > 3 or raw[pos] >> 4 > 1:
            raise Failure("the JPEG's Huffman table segment (DHT) is corrupt")
        count = sum(raw[pos + 1:pos + 17])
        if count > 256 or pos + 17 + count > end:
            raise Failure("the JPEG's Huffman table segment (DHT) is corrupt")
        pos += 17 + count


def _check_dqt(raw: bytes, start: int, end: int) -> None:
    pos = start
    while pos < end:
        if raw[pos] & 0x0F > 3:
            raise Failure(f"the JPEG's quantisation table index {raw[pos] & 0x0F} is not 0..3")
        pos += 1 + 64 * (2 if raw[pos] >> 4 else 1)
        if pos > end:
            raise Failure("the JPEG's quantisation table segment (DQT) is corrupt")


def _exif_orientation(tiff: bytes) -> int:
    """EXIF orientation (IFD0 tag 0x0112) of a TIFF block; 1 when it is absent or unreadable
    (a bad EXIF block never makes a JPEG unreadable)."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return 1
    order = "<" if tiff[:2] == b"II" else ">"
    magic, ifd = struct.unpack_from(order + "HI", tiff, 2)
    if magic != 42 or ifd + 2 > len(tiff):
        return 1
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for index in range(min(count, (len(tiff) - ifd - 2) // 12)):
        tag, kind = struct.unpack_from(order + "HH", tiff, ifd + 2 + 12 * index)
        if tag != 0x0112:
            continue
        code = {3: "H", 4: "I", 8: "h", 9: "i"}.get(kind)
        if code is None:
            return 1
        (value,) = struct.unpack_from(order + code, tiff, ifd + 10 + 12 * index)
        return value if 1 <= value <= 8 else 1
    return 1


def _is_rgb(frame: tuple, jfif: bool, adobe_transform: int | None) -> bool:
    """libjpeg's colour-space guess for 3 components: JFIF means YCbCr, an Adobe segment
    decides by its transform flag, else component ids 'R','G','B' mean RGB."""
    if len(frame[4]) != 3 or jfif:
        return False
    if adobe_transform is not None:
        return adobe_transform == 0
    return [ident for ident, _, _ in frame[4]] == [ord("R"), ord("G"), ord("B")]


def _header(frame: tuple, orientation: int, rgb: bool) -> JpegHeader:
    marker, precision, width, height, components = frame
    sampling = tuple((h, v) for _, h, v in components)
    if len(sampling) == 1:
        jpeg_format = J.ACL_JPEG_CSS_GRAY
    elif len(sampling) == 3 and sampling[1] == sampling[2] == (1, 1):
        jpeg_format = _Y_SAMPLING.get(sampling[0], J.ACL_JPEG_CSS_UNKNOWN)
    else:
        jpeg_format = J.ACL_JPEG_CSS_UNKNOWN
    shown = (height, width) if orientation >= 5 else (width, height)
    return JpegHeader(shown[0], shown[1], width, height, len(sampling), int(jpeg_format),
                      orientation, marker, precision, sampling, rgb)


def _check_side(width: int, height: int, fam: Family, error: type, verb: str) -> None:
    top = fam.max_jpeg_side
    if not (MIN_JPEG_SIDE <= width <= top and MIN_JPEG_SIDE <= height <= top):
        raise error(f"the picture is {width}x{height}; DVPP {verb} JPEGs of {MIN_JPEG_SIDE}.."
                    f"{top} pixels a side on the {fam.name} family")


def _resolve_output(header: JpegHeader, out_format: int, fam: Family) -> int:
    if out_format == F.PIXEL_FORMAT_UNKNOWN:
        return _UNKNOWN_RESOLVES[header.jpeg_format]
    if out_format not in _SOURCE_OUTPUTS[header.jpeg_format]:
        raise DvppTaskFailed(_mismatch_text(header, out_format, fam))
    return out_format


def _decode_planes(data, header: JpegHeader) -> tuple[np.ndarray, np.ndarray | None]:
    """Y (H, W) and native chroma (ch, cw, 2: U, V) or None, in coded orientation."""
    try:
        codec = av.CodecContext.create("mjpeg", "r")
        # "explode": stop at the first bitstream error instead of concealing it, as the
        # hardware fails a corrupt picture. A fresh context per picture costs ~0.1 ms (of
        # ~10 ms for 1080p) and shares no state between threads.
        codec.options = {"err_detect": "explode"}
        frames = codec.decode(av.Packet(data)) or codec.decode(None)
    except (av.FFmpegError, ValueError) as error:
        raise DvppTaskFailed(f"the JPEG data is corrupt: the decoder stopped with "
                             f"'{_ffmpeg_text(error)}'") from None
    frame = frames[0] if frames else None
    if frame is None or (frame.width, frame.height) != (header.coded_width, header.coded_height) \
            or frame.format.name not in _FFMPEG_FORMATS[header.jpeg_format]:
        got = "no picture" if frame is None else \
            f"a {frame.width}x{frame.height} {frame.format.name} picture"
        raise DvppTaskFailed(f"the JPEG data is corrupt: its header says "
                             f"{header.coded_width}x{header.coded_height} "
                             f"{_sampling_text(header)} but it decodes to {got}")
    planes = [_plane_array(plane) for plane in frame.planes]
    if header.jpeg_format == J.ACL_JPEG_CSS_GRAY:
        return planes[0], None
    return planes[0], cv2.merge(planes[1:3])


def _plane_array(plane) -> np.ndarray:
    # The array holds the plane (and so the frame) alive through its buffer reference.
    rows = np.frombuffer(plane, np.uint8, count=plane.height * plane.line_size)
    return rows.reshape(plane.height, plane.line_size)[:, :plane.width]


def _ffmpeg_text(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error)


def _orient(plane: np.ndarray, orientation: int) -> np.ndarray:
    """The plane as displayed under EXIF ``orientation`` (axes 0 and 1; OpenCV's flips and
    rotations make contiguous copies far faster than numpy copies strided views)."""
    if orientation in _ROTATIONS:
        return cv2.rotate(plane, _ROTATIONS[orientation])
    if orientation in _FLIPS:
        return cv2.flip(plane, _FLIPS[orientation])
    if orientation == 5:
        return cv2.transpose(plane)                          # transpose
    if orientation == 7:
        return cv2.flip(cv2.transpose(plane), -1)            # transverse
    return plane


_ROTATIONS = {3: cv2.ROTATE_180, 6: cv2.ROTATE_90_CLOCKWISE,
              8: cv2.ROTATE_90_COUNTERCLOCKWISE}
_FLIPS = {2: 1, 4: 0}                                        # mirror left-right, top-bottom


def _resample(chroma: np.ndarray, source: tuple, target: tuple, height: int,
              width: int) -> np.ndarray:
    """Chroma of a ``height`` x ``width`` picture from ``source`` to ``target`` subsampling
    (rows, columns per sample): 2:1 reductions average (rounding half up), 1:2 expansions
    repeat samples (only a 4:2:2 JPEG turned by 90 degrees needs one)."""
    chroma = chroma[:-(-height // source[0]), :-(-width // source[1])]
    if source[0] > target[0]:
        chroma = np.repeat(chroma, 2, axis=0)[:height]
    if source[1] > target[1]:
        chroma = np.repeat(chroma, 2, axis=1)[:, :width]
    rows, cols = source[0] < target[0], source[1] < target[1]
    return _halve(chroma, rows, cols) if rows or cols else chroma


def _halve(chroma: np.ndarray, rows: bool, cols: bool) -> np.ndarray:
    """Average pairs (or 2x2 blocks) along the flagged axes; an odd last row or column
    averages with itself. OpenCV's INTER_LINEAR_EXACT at scale 1/2 samples halfway between
    pixels with weights of exactly 1/2 (1/4), so it is the rounded-half-up mean, bit for bit,
    at a fraction of numpy's cost on interleaved data."""
    height, width = chroma.shape[:2]
    pad_rows, pad_cols = height % 2 if rows else 0, width % 2 if cols else 0
    if pad_rows or pad_cols:
        chroma = np.pad(chroma, ((0, pad_rows), (0, pad_cols), (0, 0)), mode="edge")
        height, width = chroma.shape[:2]
    size = (width // 2 if cols else width, height // 2 if rows else height)
    return cv2.resize(chroma, size, interpolation=cv2.INTER_LINEAR_EXACT)


def _packed_planes(picture: Picture) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y (h, w), U and V (h, ceil(w/2)) of a packed 4:2:2 picture."""
    order, height, width = picture.layout.order, picture.height, picture.width
    pairs = -(-width // 2)
    rows = picture.rows()[:height]
    if rows.shape[1] < 4 * pairs:                   # odd width flush with the stride
        rows = np.pad(rows, ((0, 0), (0, 4 * pairs - rows.shape[1])), mode="edge")
    quads = rows[:, :4 * pairs].reshape(height, pairs, 4)
    first_y = order.index("Y")
    luma = np.ascontiguousarray(quads[..., [first_y, first_y + 2]].reshape(height, 2 * pairs)
                                [:, :width])
    u = np.ascontiguousarray(quads[..., order.index("U")])
    v = np.ascontiguousarray(quads[..., order.index("V")])
    return luma, u, v


def _sampling_text(header: JpegHeader) -> str:
    names = {J.ACL_JPEG_CSS_444: "4:4:4", J.ACL_JPEG_CSS_422: "4:2:2",
             J.ACL_JPEG_CSS_420: "4:2:0", J.ACL_JPEG_CSS_GRAY: "4:0:0 (gray)",
             J.ACL_JPEG_CSS_440: "4:4:0", J.ACL_JPEG_CSS_411: "4:1:1"}
    factors = ",".join(f"{h}x{v}" for h, v in header.sampling)
    return names.get(header.jpeg_format, f"(factors {factors})")


def _mismatch_text(header: JpegHeader, out_format: int, fam: Family) -> str:
    allowed = _SOURCE_OUTPUTS.get(header.jpeg_format, _SP420) & fam.jpegd_outputs
    return (f"a {_sampling_text(header)} JPEG cannot be decoded to {format_name(out_format)}; "
            f"it decodes to {format_names(allowed)} or UNKNOWN (keep the source format)")

