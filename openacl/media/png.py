"""The codec core of DVPP's PNG decoder (PNGD) (``dvpp-api.md`` §8).

``parse_header`` is the host-side IHDR read of ``dvpp_png_get_image_info`` and
``dvpp_png_predict_dec_size`` (the C layer reads fixed offsets after the signature);
``predict_dec_size`` is §8's formula; ``decode`` + ``write_decoded`` are the work of a decode
task: check the chunk structure (lengths, CRCs, IEND) so corrupt files fail cleanly, decode with
libpng through OpenCV, convert to RGB or RGBA, and lay the rows out with the decoder's strides.

Errors are ``AclError`` subclasses only; what goes wrong while a task runs is ``DvppTaskFailed``
(reported at ``synchronize_stream``).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import cv2
import numpy as np

from openacl.constants import PixelFormat as F
from openacl.errors import DvppTaskFailed, FeatureUnsupported, FormatNotMatch, InvalidParam
from openacl.media.formats import Family, align
from openacl.media.layout import Picture

__all__ = ["PngHeader", "parse_header", "predict_dec_size", "DecodedPng", "decode",
           "write_decoded"]

MIN_PNG_SIDE, MAX_PNG_SIDE = 32, 4096


@dataclass(frozen=True)
class PngHeader:
    """What IHDR says: size, components (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), bit depth."""

    width: int
    height: int
    components: int
    bit_depth: int
    color_type: int


def parse_header(data) -> PngHeader:
    """Read IHDR the way the C layer does: signature, then fixed offsets (width/height
    big-endian at bytes 16/20, bit depth at 24, colour type at 25).

    Data of 29 bytes or less, or without the PNG signature, is ``InvalidParam`` (100000).
    A colour type other than gray, gray+alpha, RGB or RGBA is ``FormatNotMatch`` (100027):
    that includes palette PNGs (type 3) — §8 maps only those four types to a component count
    and says "other -> 100027", and the decoder's outputs (RGB/RGBA) have no palette path.
    """
    raw = _raw(data)
    if len(raw) <= 29:
        raise InvalidParam(f"the PNG data is {len(raw)} bytes; a PNG header needs more than 29")
    if raw[:8] != _SIGNATURE:
        raise InvalidParam("the data is not a PNG: it does not start with the PNG signature "
                           "89 50 4E 47 0D 0A 1A 0A")
    width, height = struct.unpack_from(">II", raw, 16)
    bit_depth, color_type = raw[24], raw[25]
    components = _COMPONENTS.get(color_type)
    if components is None:
        kind = "a palette PNG (colour type 3)" if color_type == 3 else \
            f"colour type {color_type}"
        raise FormatNotMatch(f"the PNG is {kind}; DVPP decodes gray, gray+alpha, RGB and RGBA "
                             f"PNGs only: save it as RGB(A), e.g. Pillow im.convert('RGBA')")
    return PngHeader(width, height, components, bit_depth, color_type)


def predict_dec_size(header: PngHeader, out_format: int, fam: Family) -> int:
    """``dvpp_png_predict_dec_size`` (§8): ceil(align128(w) * bit_depth * C / 8) * align16(h),
    C = 3 for RGB_888, 4 for RGBA_8888 and UNKNOWN."""
    _check_available(fam)
    _check_output(out_format)
    w, h = header.width, header.height
    if not (MIN_PNG_SIDE <= w <= MAX_PNG_SIDE and MIN_PNG_SIDE <= h <= MAX_PNG_SIDE):
        raise InvalidParam(f"the PNG is {w}x{h}; DVPP decodes PNGs of {MIN_PNG_SIDE}.."
                           f"{MAX_PNG_SIDE} pixels a side")
    channels = 3 if out_format == F.PIXEL_FORMAT_RGB_888 else 4
    return -(-align(w, 128) * header.bit_depth * channels // 8) * align(h, 16)


@dataclass
class DecodedPng:
    """A decoded PNG, ready to be laid out in the output buffer."""

    fmt: int                # RGB_888 or RGBA_8888
    width: int
    height: int
    width_stride: int       # bytes: align128(width) * bytes per pixel
    height_stride: int      # align16(height)
    pixels: np.ndarray      # (height, width, 3 or 4) uint8, R, G, B(, A)


def decode(data, header: PngHeader, out_format: int, fam: Family) -> DecodedPng:
    """Decode a PNG to RGB_888 or RGBA_8888 (§8).

    UNKNOWN keeps the source's alpha: RGBA for gray+alpha and RGBA PNGs, RGB otherwise.
    RGBA_8888 gives alpha 255 where the PNG has none. Gray becomes R = G = B. 16-bit samples
    keep their high byte (libpng's ``png_set_strip_16``, what Pillow does for 16-bit RGB(A)).
    The output strides are align128(width) * bytes per pixel and align16(height) (§8 guesses
    them from the predict formula).
    """
    _check_available(fam)
    _check_output(out_format)
    raw = _raw(data)
    w, h = header.width, header.height
    if not (MIN_PNG_SIDE <= w <= MAX_PNG_SIDE and MIN_PNG_SIDE <= h <= MAX_PNG_SIDE):
        raise DvppTaskFailed(f"the PNG is {w}x{h}; DVPP decodes PNGs of {MIN_PNG_SIDE}.."
                             f"{MAX_PNG_SIDE} pixels a side")
    _check_chunks(raw, header)
    image = _imdecode(raw, header)
    alpha = header.color_type in (4, 6)
    if out_format == F.PIXEL_FORMAT_RGBA_8888 or \
            (out_format == F.PIXEL_FORMAT_UNKNOWN and alpha):
        fmt, bpp = F.PIXEL_FORMAT_RGBA_8888, 4
    else:
        fmt, bpp = F.PIXEL_FORMAT_RGB_888, 3
    pixels = cv2.cvtColor(image, _TO_RGB[(1 if image.ndim == 2 else image.shape[2], bpp)])
    return DecodedPng(int(fmt), w, h, align(w, 128) * bpp, align(h, 16), pixels)


def write_decoded(decoded: DecodedPng, buf: np.ndarray) -> None:
    """Lay the pixels out in ``buf`` (a uint8 view of the output buffer), rows of
    ``width_stride`` bytes; padding keeps what it held."""
    d = decoded
    need = d.width_stride * d.height_stride
    if buf.size < need:
        raise DvppTaskFailed(f"the PNG decode output buffer holds {buf.size} bytes but a "
                             f"{d.width}x{d.height} {F(d.fmt).name} picture needs {need}: the "
                             f"decoder writes rows of {d.width_stride} bytes (align128(width) * "
                             f"bytes per pixel) and {d.height_stride} rows (align16(height)); "
                             f"size the buffer with acl.media.dvpp_png_predict_dec_size")
    picture = Picture(buf, d.fmt, d.width, d.height, d.width_stride, d.height_stride)
    picture.pixels()[...] = d.pixels


# ============================================================================ helpers
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COMPONENTS = {0: 1, 4: 2, 2: 3, 6: 4}
_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 4: (8, 16), 2: (8, 16), 6: (8, 16)}
_OUTPUTS = frozenset({F.PIXEL_FORMAT_RGB_888, F.PIXEL_FORMAT_RGBA_8888, F.PIXEL_FORMAT_UNKNOWN})
# (channels OpenCV gives, bytes per output pixel) -> conversion; OpenCV's order is B, G, R(, A).
_TO_RGB = {(1, 3): cv2.COLOR_GRAY2RGB, (1, 4): cv2.COLOR_GRAY2RGBA,
           (3, 3): cv2.COLOR_BGR2RGB, (3, 4): cv2.COLOR_BGR2RGBA,
           (4, 3): cv2.COLOR_BGRA2RGB, (4, 4): cv2.COLOR_BGRA2RGBA}


def _raw(data) -> bytes:
    return data if isinstance(data, bytes) else memoryview(data).tobytes()


def _check_available(fam: Family) -> None:
    if not fam.png:
        raise FeatureUnsupported(f"PNG decode is not available on the {fam.name} family")


def _check_output(out_format: int) -> None:
    if out_format not in _OUTPUTS:
        try:
            name = F(out_format).name
        except ValueError:
            name = f"format {out_format}"
        raise FormatNotMatch(f"PNG decode output format {name} is not supported; use "
                             f"PIXEL_FORMAT_RGB_888 (12), PIXEL_FORMAT_RGBA_8888 (16) or "
                             f"PIXEL_FORMAT_UNKNOWN (10000)")


def _check_chunks(raw: bytes, header: PngHeader) -> None:
    """Walk the chunks: IHDR first, every length inside the data and every CRC right, at least
    one IDAT, and an IEND. Catching corruption here keeps libpng from reporting it on stderr
    and gives a message that says where the file is broken."""
    pos, first, idat = 8, True, False
    while True:
        if pos + 12 > len(raw):
            raise DvppTaskFailed(f"the PNG data ends at byte {len(raw)} before its IEND chunk: "
                                 f"it is truncated")
        length, kind = struct.unpack_from(">I4s", raw, pos)
        end = pos + 12 + length
        if end > len(raw):
            raise DvppTaskFailed(f"the PNG's {kind!r} chunk at byte {pos} ({length} bytes) runs "
                                 f"past the end of the data: it is truncated or corrupt")
        if zlib.crc32(raw[pos + 4:end - 4]) != struct.unpack_from(">I", raw, end - 4)[0]:
            raise DvppTaskFailed(f"the PNG's {kind!r} chunk at byte {pos} fails its CRC check: "
                                 f"the data is corrupt")
        if first:
            if kind != b"IHDR" or length != 13:
                raise DvppTaskFailed("the PNG's first chunk is not a 13-byte IHDR")
            _check_ihdr(raw, header)
            first = False
        idat = idat or kind == b"IDAT"
        if kind == b"IEND":
            if not idat:
                raise DvppTaskFailed("the PNG has no image data (IDAT chunk)")
            return
        pos = end


def _check_ihdr(raw: bytes, header: PngHeader) -> None:
    compression, filtering, interlace = raw[26], raw[27], raw[28]
    if header.bit_depth not in _BIT_DEPTHS[header.color_type]:
        raise DvppTaskFailed(f"the PNG's bit depth {header.bit_depth} is invalid for colour "
                             f"type {header.color_type}")
    if compression or filtering or interlace > 1:
        raise DvppTaskFailed(f"the PNG's IHDR has invalid compression/filter/interlace methods "
                             f"({compression}, {filtering}, {interlace})")


def _imdecode(raw: bytes, header: PngHeader) -> np.ndarray:
    """The PNG as OpenCV gives it (gray, BGR or BGRA), 8-bit."""
    try:
        image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise DvppTaskFailed(f"the PNG data is corrupt: {error}") from None
    if image is None or image.shape[:2] != (header.height, header.width):
        raise DvppTaskFailed("the PNG data is corrupt: its compressed image data does not "
                             "decode to the size its header gives")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    return image
