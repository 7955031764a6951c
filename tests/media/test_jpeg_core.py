"""The JPEG codec core (``openacl.media.jpeg``) against independent references.

Every JPEG is made here (Pillow, simplejpeg, OpenCV, FFmpeg's lossless encoder). Decoded planes
are compared with libjpeg-turbo's own YCbCr output through Pillow (``draft("YCbCr")`` keeps
libjpeg's YCbCr without an RGB round trip):

* Y: the full-size decode.
* native 4:2:0 chroma: a half-scale decode (libjpeg scales the chroma IDCT up instead of
  upsampling when asked for half the size, so its chroma comes out at native resolution).
* native 4:4:4 chroma: the full-size decode.
* native 4:2:2 / 4:4:0 chroma: libjpeg only gives it upsampled (its "fancy" triangle filter),
  so the core's native planes are upsampled here with that filter and compared.

Tolerance 1 for all of these: FFmpeg's and libjpeg-turbo's IDCTs are different integer
approximations, both within IEEE-1180's accuracy bounds, which leave a ±1 disagreement after
rounding; the triangle filter and 2x2 averages keep a ±1 input error within ±1.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import time
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
import simplejpeg
from PIL import Image, ImageOps

from openacl.constants import JpegFormat as J
from openacl.errors import (AclError, DvppTaskFailed, Failure, FormatNotMatch, InvalidParam,
                            UnsupportedJpeg)
from openacl.media import jpeg
from openacl.media.formats import family
from openacl.media.layout import Picture

F310, F310P, F310B = family("Ascend310"), family("Ascend310P3"), family("Ascend310B1")
FAMILIES = [F310, F310P, F310B]

YUV400, NV12, NV21, YUV422SP, YVU422SP, YUV444SP, YVU444SP = 0, 1, 2, 3, 4, 5, 6
YUYV, UYVY, YVYU, VYUY, RGB888 = 7, 8, 9, 10, 12
YUV440SP, YVU440SP, UNKNOWN = 1000, 1001, 10000
# §6.2: each family's JPEGD output formats, written out from the spec.
JPEGD_OUTPUTS = {"310": {NV12, NV21, YVU422SP, YVU444SP, YVU440SP, UNKNOWN}}
JPEGD_OUTPUTS["310P"] = JPEGD_OUTPUTS["310B"] = JPEGD_OUTPUTS["310"] | {
    YUV400, YUV422SP, YUV444SP, YUV440SP}
STRIDE = {"310": 128, "310P": 64, "310B": 64}            # §5.3


def up(value: int, to: int) -> int:
    return (value + to - 1) // to * to


# ------------------------------------------------------------------ images and JPEGs
def scene(width: int, height: int, seed: int = 0) -> np.ndarray:
    """An RGB picture with smooth areas, texture and sharp edges."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([128 + 100 * np.sin(x / 17 + seed), 128 + 100 * np.cos(y / 13),
                    (x + y) * 255 / (width + height)], -1)
    img += rng.normal(0, 6, img.shape)
    img[height // 3:height // 2, width // 4:width // 2] = (250, 30, 60)
    return np.clip(img, 0, 255).astype(np.uint8)


def pil_jpeg(width: int, height: int, subsampling: int = 2, orientation: int | None = None,
             **options) -> bytes:
    """Pillow (libjpeg-turbo) JPEG; subsampling 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0."""
    out = io.BytesIO()
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    Image.fromarray(scene(width, height)).save(out, "JPEG", quality=92,
                                               subsampling=subsampling, **options)
    return out.getvalue()


def sj_jpeg(width: int, height: int, sampling: str) -> bytes:
    """simplejpeg (libjpeg-turbo) JPEG: '444', '422', '420', '440', '411' or 'Gray'."""
    rgb = scene(width, height)
    if sampling == "Gray":
        return simplejpeg.encode_jpeg(np.ascontiguousarray(rgb[..., :1]), quality=92,
                                      colorspace="GRAY")
    return simplejpeg.encode_jpeg(rgb, quality=92, colorsubsampling=sampling)


def lossless_jpeg(width: int = 64, height: int = 48) -> bytes:
    """A lossless (SOF3) JPEG from FFmpeg's ljpeg encoder."""
    codec = av.CodecContext.create("ljpeg", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "bgr24"
    codec.time_base = Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(scene(width, height), format="bgr24")
    return b"".join(bytes(p) for p in codec.encode(frame) + codec.encode(None))


def segments(data: bytes) -> tuple[list, bytes]:
    """(marker, payload) of each segment before the first SOS, and the bytes from SOS on."""
    pos, out = 2, []
    while data[pos + 1] != 0xDA:
        length = struct.unpack_from(">H", data, pos + 2)[0]
        out.append((data[pos + 1], data[pos + 4:pos + 2 + length]))
        pos += 2 + length
    return out, data[pos:]


def join(segs: list, scan: bytes) -> bytes:
    body = b"".join(b"\xff" + bytes([m]) + struct.pack(">H", len(p) + 2) + p for m, p in segs)
    return b"\xff\xd8" + body + scan


def replace_segment(data: bytes, marker: int, payload: bytes) -> bytes:
    segs, scan = segments(data)
    return join([(m, payload if m == marker else p) for m, p in segs], scan)


def with_orientation(data: bytes, orientation: int) -> bytes:
    """``data`` with an EXIF APP1 segment (Pillow's) giving ``orientation``."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    segs, scan = segments(data)
    return join(segs[:1] + [(0xE1, exif.tobytes())] + segs[1:], scan)


def sof_payload(data: bytes) -> bytes:
    return next(p for m, p in segments(data)[0] if m == 0xC0)


# ------------------------------------------------------------------ references (libjpeg)
def ref_full(data: bytes) -> np.ndarray:
    """libjpeg's full-size YCbCr (h, w, 3), or (h, w) for gray."""
    im = Image.open(io.BytesIO(data))
    im.draft("YCbCr", im.size)
    return np.asarray(im)


def ref_native_420(data: bytes, orientation: bool = False) -> np.ndarray:
    """libjpeg's native 4:2:0 chroma (ch, cw, 2) from a half-scale decode."""
    im = Image.open(io.BytesIO(data))
    w, h = im.size
    im.draft("YCbCr", (w // 2, h // 2))        # Pillow picks scale min(w // 160, h // 121)
    assert im.size == ((w + 1) // 2, (h + 1) // 2)
    if orientation:
        im = ImageOps.exif_transpose(im)
    return np.asarray(im)[..., 1:]


def fancy_up(chroma: np.ndarray, axis: int, size: int) -> np.ndarray:
    """libjpeg's h2v1 (axis 1) / h1v2 (axis 0) triangle upsampling, edges replicated."""
    c = np.moveaxis(chroma.astype(np.int32), axis, 0)
    before = np.concatenate([c[:1], c[:-1]])
    after = np.concatenate([c[1:], c[-1:]])
    out = np.empty((2 * c.shape[0],) + c.shape[1:], np.int32)
    out[0::2] = (3 * c + before + 1) >> 2
    out[1::2] = (3 * c + after + 2) >> 2
    return np.moveaxis(out[:size], 0, axis)


def average(chroma: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Mean of rows x cols blocks, rounding half up."""
    c = chroma.astype(np.int32)
    h, w = c.shape[0] // rows, c.shape[1] // cols
    total = sum(c[i:h * rows:rows, j:w * cols:cols] for i in range(rows) for j in range(cols))
    return (total + rows * cols // 2) // (rows * cols)


def assert_close(got: np.ndarray, want: np.ndarray, tol: int = 1) -> None:
    assert got.shape == want.shape
    diff = np.abs(got.astype(np.int32) - want.astype(np.int32))
    assert diff.max() <= tol, f"max |diff| {diff.max()} > {tol} at {np.argwhere(diff > tol)[:3]}"


def decode(data: bytes, out_format: int, fam=F310P) -> jpeg.Decoded:
    header = jpeg.parse_header(data)
    jpeg.check_decodable(header, fam)
    return jpeg.decode(data, header, out_format, fam)


# ================================================================== parse_header
@pytest.mark.parametrize("sampling, jpeg_format, factors", [
    ("444", J.ACL_JPEG_CSS_444, (1, 1)), ("422", J.ACL_JPEG_CSS_422, (2, 1)),
    ("420", J.ACL_JPEG_CSS_420, (2, 2)), ("440", J.ACL_JPEG_CSS_440, (1, 2)),
    ("411", J.ACL_JPEG_CSS_411, (4, 1)), ("Gray", J.ACL_JPEG_CSS_GRAY, None)])
def test_header_sampling(sampling, jpeg_format, factors):
    header = jpeg.parse_header(sj_jpeg(321, 243, sampling))
    assert (header.width, header.height, header.coded_width, header.coded_height) == \
        (321, 243, 321, 243)
    assert header.jpeg_format == jpeg_format
    assert header.components == (1 if factors is None else 3)
    assert header.sampling == ((1, 1),) if factors is None else \
        header.sampling == (factors, (1, 1), (1, 1))
    assert (header.sof, header.precision, header.orientation, header.rgb) == (0xC0, 8, 1, False)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_header_orientation_swaps_displayed_size(orientation):
    header = jpeg.parse_header(pil_jpeg(80, 48, orientation=orientation))
    assert header.orientation == orientation
    assert (header.coded_width, header.coded_height) == (80, 48)
    assert (header.width, header.height) == ((48, 80) if orientation >= 5 else (80, 48))


def exif_app1(tiff: bytes) -> tuple:
    return 0xE1, b"Exif\x00\x00" + tiff


def test_header_big_endian_exif_and_unreadable_exif():
    base = pil_jpeg(64, 48)
    segs, scan = segments(base)
    big = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01" + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)
    assert jpeg.parse_header(join(segs[:1] + [exif_app1(big)] + segs[1:], scan)).orientation == 6
    for broken in (b"", b"II", b"XX\x2a\x00\x08\x00\x00\x00", b"II\x2a\x00\xff\xff\x00\x00",
                   b"II\x2a\x00\x08\x00\x00\x00\x05\x00",                       # IFD cut short
                   b"II\x2a\x00\x08\x00\x00\x00\x01\x00" + struct.pack("<HHIHH", 0x0112, 3, 1,
                                                                          9, 0)):  # value 9
        header = jpeg.parse_header(join(segs[:1] + [exif_app1(broken)] + segs[1:], scan))
        assert (header.orientation, header.width) == (1, 64)


def test_header_first_exif_segment_counts_and_inputs_may_be_views():
    data = pil_jpeg(64, 48, orientation=8)
    segs, scan = segments(data)
    again = [s for s in segs if s[0] == 0xE1][0][1].replace(b"\x08\x00", b"\x03\x00", 1)
    data = join(segs + [(0xE1, again)], scan)
    assert jpeg.parse_header(data).orientation == 8
    for view in (memoryview(data), bytearray(data), np.frombuffer(data, np.uint8)):
        assert jpeg.parse_header(view).orientation == 8


def test_header_kinds_the_decoder_refuses_still_parse():
    prog = jpeg.parse_header(pil_jpeg(64, 48, progressive=True))
    assert (prog.sof, prog.jpeg_format) == (0xC2, J.ACL_JPEG_CSS_420)
    lossless = jpeg.parse_header(lossless_jpeg())
    assert (lossless.sof, lossless.width, lossless.height) == (0xC3, 64, 48)
    out = io.BytesIO()
    Image.fromarray(scene(64, 48)).convert("CMYK").save(out, "JPEG")
    cmyk = jpeg.parse_header(out.getvalue())
    assert (cmyk.components, cmyk.jpeg_format) == (4, J.ACL_JPEG_CSS_UNKNOWN)
    out = io.BytesIO()
    Image.fromarray(scene(64, 48)).save(out, "JPEG", keep_rgb=True)
    assert jpeg.parse_header(out.getvalue()).rgb
    _, gray = cv2.imencode(".jpg", scene(40, 33)[..., 0])
    header = jpeg.parse_header(gray.tobytes())
    assert (header.components, header.jpeg_format, header.width) == (1, J.ACL_JPEG_CSS_GRAY, 40)


def _sof(data: bytes, **fields) -> bytes:
    precision, height, width, count = struct.unpack_from(">BHHB", sof_payload(data))
    values = dict(precision=precision, height=height, width=width, count=count)
    values.update(fields)
    head = struct.pack(">BHHB", values["precision"], values["height"], values["width"],
                       values["count"])
    return replace_segment(data, 0xC0, head + sof_payload(data)[6:])


def _broken_jpegs() -> dict:
    data = pil_jpeg(64, 48)
    segs, scan = segments(data)
    sof = sof_payload(data)
    sof_at = data.index(b"\xff\xc0")
    return {
        "empty": b"",
        "soi only": b"\xff\xd8",
        "no SOI": data[2:],
        "PNG": b"\x89PNG\r\n\x1a\n" + bytes(40),
        "cut inside SOF": data[:sof_at + 7],
        "cut before SOS": data[:data.index(b"\xff\xda")],
        "zero width": _sof(data, width=0),
        "zero height (DNL)": _sof(data, height=0),
        "wider than libjpeg": _sof(data, width=65501),
        "bad precision": _sof(data, precision=9),
        "segment length 1": data[:2] + b"\xff\xfe\x00\x01" + data[2:],
        "segment past the end": data[:2] + b"\xff\xfe\xff\xf0abc",
        "EOI before SOS": join(segs, b"\xff\xd9"),
        "SOS before SOF": join([s for s in segs if s[0] != 0xC0], scan),
        "two SOF": join(segs + [(0xC0, sof)], scan),
        "two SOI": data[:2] + data,
        "SOF length": replace_segment(data, 0xC0, sof + b"\x00"),
        "SOF no components": replace_segment(data, 0xC0, sof[:5] + b"\x00"),
        "sampling 0": replace_segment(data, 0xC0, sof[:7] + b"\x00" + sof[8:]),
        "sampling 5": replace_segment(data, 0xC0, sof[:7] + b"\x51" + sof[8:]),
        "unknown marker": join(segs[:1] + [(0xF0, b"xx")] + segs[1:], scan),
        "hierarchical DHP": join(segs[:1] + [(0xDE, b"xx")] + segs[1:], scan),
        "DHT count": join(segs + [(0xC4, b"\x00" + bytes([255] * 16))], scan),
        "DHT index": join(segs + [(0xC4, b"\x05" + bytes(16))], scan),
        "DQT index": join(segs + [(0xDB, b"\x05" + bytes(64))], scan),
        "DQT short": join(segs + [(0xDB, b"\x00" + bytes(10))], scan),
        "DRI length": join(segs + [(0xDD, b"\x00\x00\x00")], scan),
        "SOS component": join(segs, scan[:5] + b"\x09" + scan[6:]),
        "SOS length": join(segs, scan[:4] + b"\x07" + scan[5:]),
    }


@pytest.mark.parametrize("case", sorted(_broken_jpegs()))
def test_header_failures_are_500001(case):
    with pytest.raises(Failure) as error:
        jpeg.parse_header(_broken_jpegs()[case])
    assert error.value.code == 500001


def test_header_tolerates_what_libjpeg_skips():
    data = pil_jpeg(64, 48)
    segs, scan = segments(data)
    # garbage and fill bytes between segments, stuffed FF 00, RST/TEM, COM, APP15, DRI
    noisy = (b"\xff\xd8" + b"junk\xff\x00\xff\xff\xff\xd0\xff\x01"
             + join(segs[:1] + [(0xFE, b"comment"), (0xEF, b"x"), (0xDD, b"\x00\x04")]
                    + segs[1:], scan)[2:])
    assert jpeg.parse_header(noisy).width == 64


# ================================================================== check_decodable
@pytest.mark.parametrize("sampling", ["444", "422", "420", "440", "Gray"])
@pytest.mark.parametrize("fam", FAMILIES, ids=lambda f: f.name)
def test_decodable_samplings(sampling, fam):
    jpeg.check_decodable(jpeg.parse_header(sj_jpeg(64, 48, sampling)), fam)


def _refused() -> dict:
    data = pil_jpeg(64, 48)
    cmyk, rgb = io.BytesIO(), io.BytesIO()
    Image.fromarray(scene(64, 48)).convert("CMYK").save(cmyk, "JPEG")
    Image.fromarray(scene(64, 48)).save(rgb, "JPEG", keep_rgb=True)
    return {
        "progressive": pil_jpeg(64, 48, progressive=True),
        "lossless": lossless_jpeg(),
        "arithmetic": data.replace(b"\xff\xc0", b"\xff\xc9", 1),
        "12-bit": _sof(data, precision=12),
        "CMYK": cmyk.getvalue(),
        "RGB": rgb.getvalue(),
        "4:1:1": sj_jpeg(64, 48, "411"),
        "31 wide": pil_jpeg(31, 48),
        "31 high": pil_jpeg(48, 31),
    }


@pytest.mark.parametrize("case", sorted(_refused()))
def test_refused_jpegs_are_148052_also_in_decode(case):
    data = _refused()[case]
    header = jpeg.parse_header(data)
    with pytest.raises(UnsupportedJpeg) as error:
        jpeg.check_decodable(header, F310)
    assert error.value.code == 148052
    with pytest.raises(UnsupportedJpeg):
        jpeg.decode(data, header, NV12, F310)


def test_size_limits_per_family():
    header = jpeg.parse_header(pil_jpeg(32, 32))
    jpeg.check_decodable(header, F310)
    for fam, top in ((F310, 8192), (F310P, 8192), (F310B, 16384)):
        for w, h, ok in ((top, 32, True), (32, top, True), (top + 1, 32, False),
                         (32, top + 1, False)):
            big = dataclasses.replace(header, coded_width=w, coded_height=h, width=w, height=h)
            if ok:
                jpeg.check_decodable(big, fam)
            else:
                with pytest.raises(UnsupportedJpeg):
                    jpeg.check_decodable(big, fam)


# ================================================================== predict_dec_size
def make_header(w: int, h: int, jpeg_format: int, orientation: int = 1) -> jpeg.JpegHeader:
    comps = 1 if jpeg_format == J.ACL_JPEG_CSS_GRAY else 3
    shown = (h, w) if orientation >= 5 else (w, h)
    return jpeg.JpegHeader(shown[0], shown[1], w, h, comps, jpeg_format, orientation, 0xC0, 8,
                           ((2, 2), (1, 1), (1, 1))[:comps])


def expected_dec_size(w: int, h: int, jpeg_format: int, fmt: int, fam_name: str):
    """§6.3 written out: a size, or the error class."""
    if fmt not in JPEGD_OUTPUTS[fam_name]:
        return FormatNotMatch
    if not (32 <= w <= 8192 and 32 <= h <= 8192):
        return InvalidParam
    plane = up(w, 128) * up(h, 16)
    if fmt in (NV12, NV21) or jpeg_format == J.ACL_JPEG_CSS_GRAY:
        return plane * 3 // 2
    same = {J.ACL_JPEG_CSS_420: (UNKNOWN,), J.ACL_JPEG_CSS_422: (YUV422SP, YVU422SP, UNKNOWN),
            J.ACL_JPEG_CSS_440: (YUV440SP, YVU440SP, UNKNOWN),
            J.ACL_JPEG_CSS_444: (YUV444SP, YVU444SP, UNKNOWN)}
    factor = {J.ACL_JPEG_CSS_420: 1.5, J.ACL_JPEG_CSS_422: 2, J.ACL_JPEG_CSS_440: 2,
              J.ACL_JPEG_CSS_444: 3}
    if fmt not in same.get(jpeg_format, ()):
        return FormatNotMatch
    return int(plane * factor[jpeg_format])


@pytest.mark.parametrize("fam", [F310, F310P], ids=lambda f: f.name)
@pytest.mark.parametrize("size", [(321, 243), (32, 32), (1920, 1080), (31, 100), (8192, 8193)])
def test_predict_dec_size_matrix(fam, size):
    formats = [YUV400, NV12, NV21, YUV422SP, YVU422SP, YUV444SP, YVU444SP, YUV440SP, YVU440SP,
               UNKNOWN, RGB888, YUYV]
    for jf in (J.ACL_JPEG_CSS_444, J.ACL_JPEG_CSS_422, J.ACL_JPEG_CSS_420, J.ACL_JPEG_CSS_GRAY,
               J.ACL_JPEG_CSS_440, J.ACL_JPEG_CSS_411, J.ACL_JPEG_CSS_UNKNOWN):
        header = make_header(*size, jf)
        for fmt in formats:
            want = expected_dec_size(*size, jf, fmt, fam.name)
            if isinstance(want, int):
                assert jpeg.predict_dec_size(header, fmt, fam) == want, (jf, fmt)
            else:
                with pytest.raises(want):
                    jpeg.predict_dec_size(header, fmt, fam)


def test_predict_dec_size_numbers():
    assert jpeg.predict_dec_size(make_header(1920, 1080, J.ACL_JPEG_CSS_420), NV12, F310) == \
        1920 * 1088 * 3 // 2
    # 128 even on 310P (§6.3, §17)
    assert jpeg.predict_dec_size(make_header(200, 100, J.ACL_JPEG_CSS_420), NV21, F310P) == \
        256 * 112 * 3 // 2
    assert jpeg.predict_dec_size(make_header(321, 243, J.ACL_JPEG_CSS_444), UNKNOWN, F310) == \
        384 * 256 * 3
    # displayed size: orientation 6 turns 200x40 into 40x200
    assert jpeg.predict_dec_size(make_header(200, 40, J.ACL_JPEG_CSS_420, 6), NV12, F310) == \
        128 * 208 * 3 // 2
    assert jpeg.predict_dec_size(make_header(16384, 32, J.ACL_JPEG_CSS_420), NV12, F310B) == \
        16384 * 32 * 3 // 2
    with pytest.raises(InvalidParam):
        jpeg.predict_dec_size(make_header(16385, 32, J.ACL_JPEG_CSS_420), NV12, F310B)


# ================================================================== decode: pixels
@pytest.mark.parametrize("size", [(96, 64), (321, 243)])
@pytest.mark.parametrize("out_format", [NV12, NV21, UNKNOWN])
def test_decode_420_native_planes(size, out_format):
    data = pil_jpeg(*size, subsampling=2)
    decoded = decode(data, out_format)
    w, h = size[0] & ~1, size[1] & ~1                    # odd sizes round down (§6.2 item 4)
    assert decoded.fmt == (NV21 if out_format == UNKNOWN else out_format)
    assert (decoded.width, decoded.height) == (w, h)
    assert (decoded.width_stride, decoded.height_stride) == (up(w, 64), up(h, 16))
    assert_close(decoded.luma, ref_full(data)[:h, :w, 0])
    assert_close(decoded.chroma, ref_native_420(data)[:h // 2, :w // 2])


@pytest.mark.parametrize("out_format", [YUV444SP, YVU444SP, UNKNOWN, NV12])
def test_decode_444(out_format):
    data = pil_jpeg(321, 243, subsampling=0)
    decoded = decode(data, out_format)
    ref = ref_full(data)
    if out_format == NV12:
        assert (decoded.fmt, decoded.width, decoded.height) == (NV12, 320, 242)
        assert_close(decoded.luma, ref[:242, :320, 0])
        assert_close(decoded.chroma, average(ref[:242, :320, 1:], 2, 2))
    else:
        assert decoded.fmt == (YVU444SP if out_format == UNKNOWN else out_format)
        assert (decoded.width, decoded.height) == (321, 243)
        assert_close(decoded.luma, ref[..., 0])
        assert_close(decoded.chroma, ref[..., 1:])


@pytest.mark.parametrize("sampling, axis, native_format", [("422", 1, YVU422SP),
                                                           ("440", 0, YVU440SP)])
def test_decode_422_440_native_and_to_420(sampling, axis, native_format):
    data = sj_jpeg(321, 243, sampling)
    ref = ref_full(data)
    native = decode(data, UNKNOWN)
    assert (native.fmt, native.width, native.height) == (native_format, 321, 243)
    assert_close(native.luma, ref[..., 0])
    assert native.chroma.shape == ((243, 161, 2) if axis == 1 else (122, 321, 2))
    assert_close(fancy_up(native.chroma, axis, ref.shape[axis]), ref[..., 1:])
    nv12 = decode(data, NV12)
    assert (nv12.width, nv12.height) == (320, 242)
    assert_close(nv12.luma, ref[:242, :320, 0])
    rows, cols = (2, 1) if axis == 1 else (1, 2)      # the direction still at full resolution
    want = average(native.chroma, rows, cols)[:121, :160]
    assert np.array_equal(nv12.chroma, want)


@pytest.mark.parametrize("fam", FAMILIES, ids=lambda f: f.name)
def test_decode_gray(fam):
    data = sj_jpeg(321, 243, "Gray")
    ref = ref_full(data)
    for out_format in (NV12, NV21, UNKNOWN):
        decoded = decode(data, out_format, fam)
        assert decoded.fmt == (NV21 if out_format == UNKNOWN else out_format)
        assert (decoded.width, decoded.height) == (320, 242)
        assert decoded.width_stride == up(320, STRIDE[fam.name])
        assert_close(decoded.luma, ref[:242, :320])
        assert decoded.chroma.shape == (121, 160, 2) and np.all(decoded.chroma == 0x80)
    if fam is F310:
        with pytest.raises(FormatNotMatch):
            decode(data, YUV400, fam)
    else:
        decoded = decode(data, YUV400, fam)
        assert (decoded.fmt, decoded.width, decoded.chroma) == (YUV400, 321, None)
        assert_close(decoded.luma, ref)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_decode_applies_exif_orientation(orientation):
    data = pil_jpeg(96, 64, subsampling=2, orientation=orientation)
    decoded = decode(data, NV12)
    im = Image.open(io.BytesIO(data))
    im.draft("YCbCr", im.size)
    ref_y = np.asarray(ImageOps.exif_transpose(im))[..., 0]    # Pillow's orientation table
    assert (decoded.width, decoded.height) == ((64, 96) if orientation >= 5 else (96, 64))
    assert_close(decoded.luma, ref_y)
    assert_close(decoded.chroma, ref_native_420(data, orientation=True))


@pytest.mark.parametrize("orientation", [3, 6, 7])
def test_orientation_with_chroma_conversion(orientation):
    # 4:4:4 -> NV12: the 2x2 averages are taken on the displayed picture
    data = pil_jpeg(96, 64, subsampling=0, orientation=orientation)
    decoded = decode(data, NV12)
    im = Image.open(io.BytesIO(data))
    im.draft("YCbCr", im.size)
    ref = np.asarray(ImageOps.exif_transpose(im))
    assert_close(decoded.luma, ref[..., 0])
    assert_close(decoded.chroma, average(ref[..., 1:], 2, 2))
    # 4:2:2 turned by 90 degrees is 4:4:0 on screen: NV12 averages its columns
    plain = decode(sj_jpeg(96, 64, "422"), UNKNOWN).chroma
    turned = decode(with_orientation(sj_jpeg(96, 64, "422"), 6), NV12)
    assert (turned.width, turned.height) == (64, 96)
    assert np.array_equal(turned.chroma, average(np.rot90(plain, -1), 1, 2))


def test_decode_422_turned_keeps_requested_422_layout():
    # 96x65 4:2:2 turned by 90 degrees: 65x96 on screen with chroma every other row; YUV422SP
    # wants every row and every other column: rows repeat, the odd 65 columns average in
    # pairs, the last one with itself.
    data = sj_jpeg(96, 65, "422")
    plain = decode(data, UNKNOWN).chroma                       # (65, 48, 2), validated above
    decoded = decode(with_orientation(data, 6), YUV422SP)
    assert (decoded.fmt, decoded.width, decoded.height) == (YUV422SP, 65, 96)
    on_screen = np.repeat(np.rot90(plain, -1), 2, axis=0)       # (96, 65, 2)
    want = average(np.pad(on_screen, ((0, 0), (0, 1), (0, 0)), mode="edge"), 1, 2)
    assert decoded.chroma.shape == (96, 33, 2)
    assert np.array_equal(decoded.chroma, want)


@pytest.mark.parametrize("size", [(32, 32), (33, 33), (48, 35)])
def test_decode_small_and_odd_sizes(size):
    decoded = decode(pil_jpeg(*size), NV12, F310)
    assert (decoded.width, decoded.height) == (size[0] & ~1, size[1] & ~1)
    assert (decoded.width_stride, decoded.height_stride) == (128, up(size[1] & ~1, 16))
    assert decoded.luma.shape == (decoded.height, decoded.width)
    assert decoded.chroma.shape == (decoded.height // 2, decoded.width // 2, 2)


def test_decode_strides_per_family():
    data = pil_jpeg(200, 100)
    for fam in FAMILIES:
        decoded = decode(data, NV12, fam)
        assert (decoded.width_stride, decoded.height_stride) == (up(200, STRIDE[fam.name]), 112)


def test_decode_formats_it_cannot_produce():
    data = pil_jpeg(64, 48)                    # 4:2:0
    header = jpeg.parse_header(data)
    for fmt in (YVU422SP, YVU444SP, YVU440SP):
        with pytest.raises(DvppTaskFailed, match="4:2:0 JPEG cannot be decoded"):
            jpeg.decode(data, header, fmt, F310)
    for fmt in (YUV422SP, RGB888):             # not a 310 JPEGD output at all
        with pytest.raises(FormatNotMatch):
            jpeg.decode(data, header, fmt, F310)


# ================================================================== decode: corrupt data
def test_corrupt_scan_is_a_task_failure():
    data = pil_jpeg(96, 64)
    header = jpeg.parse_header(data)
    sos = data.index(b"\xff\xda")
    for broken in (data[:sos + (len(data) - sos) // 2],                  # truncated scan
                   data[:sos + 20],                                      # almost no scan
                   _sof(data, height=640)):                              # scan too short
        with pytest.raises(DvppTaskFailed, match="corrupt"):
            jpeg.decode(broken, jpeg.parse_header(broken), NV12, F310)
    assert jpeg.decode(data[:-2], header, NV12, F310).width == 96      # no EOI: still fine


def test_random_mutants_raise_only_acl_errors():
    rng = np.random.default_rng(1234)
    base = pil_jpeg(64, 48, orientation=6)
    sos = base.index(b"\xff\xda")
    outcomes = {"ok": 0, "error": 0}
    started = time.perf_counter()
    for trial in range(400):
        data = bytearray(base)
        kind = trial % 4
        if kind == 0:
            data = data[:rng.integers(0, len(data))]
        elif kind == 1:                                   # flips in the header
            for at in rng.integers(0, sos + 12, rng.integers(1, 4)):
                data[at] = rng.integers(0, 256)
        elif kind == 2:                                   # flips anywhere
            for at in rng.integers(0, len(data), rng.integers(1, 6)):
                data[at] ^= 1 << rng.integers(0, 8)
        else:                                             # insertions
            at = rng.integers(0, len(data))
            data[at:at] = rng.integers(0, 256, rng.integers(1, 8), dtype=np.uint8).tobytes()
        data = bytes(data)
        try:
            header = jpeg.parse_header(data)
            jpeg.predict_dec_size(header, NV12, F310P)
            decoded = decode(data, UNKNOWN, F310P)
            buf = np.zeros(jpeg.predict_dec_size(header, UNKNOWN, F310P), np.uint8)
            jpeg.write_decoded(decoded, buf)
            outcomes["ok"] += 1
        except AclError:
            outcomes["error"] += 1
    assert outcomes["ok"] and outcomes["error"]
    assert time.perf_counter() - started < 10


# ================================================================== write_decoded
@pytest.mark.parametrize("out_format, v_first", [(NV12, False), (NV21, True)])
def test_write_decoded_layout(out_format, v_first):
    data = pil_jpeg(100, 50)
    decoded = decode(data, out_format, F310)
    ws, hs = 128, 64
    need = ws * hs * 3 // 2
    buf = np.full(need + 100, 0xAB, np.uint8)
    jpeg.write_decoded(decoded, buf)
    y = buf[:ws * hs].reshape(hs, ws)
    uv = buf[ws * hs:need].reshape(hs // 2, ws)
    assert np.array_equal(y[:50, :100], decoded.luma)
    chroma = uv[:25, :100].reshape(25, 50, 2)
    assert np.array_equal(chroma[..., ::-1] if v_first else chroma, decoded.chroma)
    assert np.all(y[:50, 100:] == 0xAB) and np.all(y[50:] == 0xAB)          # padding kept
    assert np.all(uv[:25, 100:] == 0xAB) and np.all(uv[25:] == 0xAB)
    assert np.all(buf[need:] == 0xAB)


@pytest.mark.parametrize("out_format, factor", [(YUV444SP, 3), (YVU422SP, 2), (YUV440SP, 2),
                                                (YUV400, 1)])
def test_write_decoded_sizes_and_too_small(out_format, factor):
    sampling = {YUV444SP: "444", YVU422SP: "422", YUV440SP: "440", YUV400: "Gray"}[out_format]
    decoded = decode(sj_jpeg(70, 40, sampling), out_format, F310P)
    ws, hs = 128, 48
    assert (decoded.width_stride, decoded.height_stride) == (ws, hs)
    jpeg.write_decoded(decoded, np.zeros(ws * hs * factor, np.uint8))
    with pytest.raises(DvppTaskFailed, match=f"needs {ws * hs * factor}"):
        jpeg.write_decoded(decoded, np.zeros(ws * hs * factor - 1, np.uint8))
    picture = Picture(np.zeros(ws * hs * factor, np.uint8), decoded.fmt, 70, 40, ws, hs)
    jpeg.write_decoded(decoded, picture.buf)
    assert np.array_equal(picture.luma(), decoded.luma)
    if decoded.chroma is not None:
        assert np.array_equal(picture.chroma_uv(), decoded.chroma)


# ================================================================== predict_enc_size
def expected_enc_size(fmt, w, h, ws, hs):
    raw = ws * hs * 3 // 2 if fmt in (NV12, NV21) else ws * hs
    return -(-(raw + 768) // (2 << 20)) * (2 << 20)


@pytest.mark.parametrize("fmt, w, h, ws, hs", [
    (NV12, 224, 224, 224, 224), (NV21, 1920, 1080, 1920, 1080), (NV12, 321, 243, 336, 256),
    (NV12, 100, 50, 128, 50), (YUYV, 1920, 1080, 3840, 1088), (UYVY, 33, 32, 80, 32),
    (YVYU, 8192, 8192, 16384, 8192), (VYUY, 640, 480, 1280, 480)])
def test_predict_enc_size(fmt, w, h, ws, hs):
    assert jpeg.predict_enc_size(fmt, w, h, ws, hs, F310) == expected_enc_size(fmt, w, h, ws, hs)


def test_predict_enc_size_224_is_2_mib():
    assert jpeg.predict_enc_size(NV12, 224, 224, 224, 224, F310) == 2097152
    assert jpeg.predict_enc_size(NV12, 1920, 1080, 1920, 1080, F310) == 4194304


@pytest.mark.parametrize("fmt, w, h, ws, hs, error", [
    (NV12, 31, 32, 32, 32, InvalidParam), (NV12, 32, 8193, 32, 8193, InvalidParam),
    (NV12, 8193, 32, 8208, 32, InvalidParam),
    (RGB888, 64, 64, 192, 64, FormatNotMatch), (YUV400, 64, 64, 64, 64, FormatNotMatch),
    (YVU422SP, 64, 64, 64, 64, FormatNotMatch),
    (NV12, 64, 64, 72, 64, InvalidParam),            # stride not a multiple of 16
    (NV12, 100, 64, 96, 64, InvalidParam),           # stride below the width
    (YUYV, 64, 64, 144, 64, InvalidParam),           # packed: exactly align16(2w)
    (YUYV, 33, 32, 66, 32, InvalidParam),
    (NV12, 64, 64, 64, 60, InvalidParam),            # height stride below the height
    (NV12, 64, 50, 64, 56, InvalidParam),            # above it but not a multiple of 16
])
def test_predict_enc_size_errors(fmt, w, h, ws, hs, error):
    with pytest.raises(error):
        jpeg.predict_enc_size(fmt, w, h, ws, hs, F310)


def test_predict_enc_size_310b_allows_16384():
    assert jpeg.predict_enc_size(NV12, 16384, 32, 16384, 32, F310B) == \
        expected_enc_size(NV12, 16384, 32, 16384, 32)


# ================================================================== encode
def yuv_planes(width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-resolution JFIF Y, Cb, Cr of the scene (OpenCV's conversion)."""
    ycrcb = cv2.cvtColor(scene(width, height, seed=3), cv2.COLOR_RGB2YCrCb)
    return ycrcb[..., 0], ycrcb[..., 2], ycrcb[..., 1]


def make_picture(fmt: int, w: int, h: int, ws: int, hs: int):
    """A picture buffer built byte by byte here, and the planes it holds (Y, U, V at the
    format's subsampling)."""
    y, u, v = yuv_planes(w, h)
    buf = np.full(ws * hs * 2, 7, np.uint8)
    if fmt in (NV12, NV21):
        cu, cv = average(np.pad(u, ((0, h % 2), (0, w % 2)), mode="edge"), 2, 2), \
            average(np.pad(v, ((0, h % 2), (0, w % 2)), mode="edge"), 2, 2)
        rows = buf[:ws * hs].reshape(hs, ws)
        rows[:h, :w] = y
        uv = buf[ws * hs:ws * hs * 3 // 2].reshape(hs // 2, ws)
        first, second = (cu, cv) if fmt == NV12 else (cv, cu)
        uv[:cu.shape[0], 0:2 * cu.shape[1]:2] = first
        uv[:cu.shape[0], 1:2 * cu.shape[1]:2] = second
    else:
        pairs = (w + 1) // 2
        yy = np.pad(y, ((0, 0), (0, w % 2)), mode="edge")
        cu = average(np.pad(u, ((0, 0), (0, w % 2)), mode="edge"), 1, 2)
        cv = average(np.pad(v, ((0, 0), (0, w % 2)), mode="edge"), 1, 2)
        order = {YUYV: "YUYV", UYVY: "UYVY", YVYU: "YVYU", VYUY: "VYUY"}[fmt]
        quads = buf[:ws * hs].reshape(hs, ws)[:h, :4 * pairs].reshape(h, pairs, 4)
        first_y = order.index("Y")
        quads[..., first_y], quads[..., first_y + 2] = yy[:, 0::2], yy[:, 1::2]
        quads[..., order.index("U")], quads[..., order.index("V")] = cu, cv
    return Picture(buf, fmt, w, h, ws, hs), y, cu, cv


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255 ** 2 / mse)


@pytest.mark.parametrize("fmt, w, h, ws, hs", [
    (NV12, 224, 224, 224, 224), (NV21, 321, 243, 336, 256), (NV12, 100, 50, 128, 64),
    (YUYV, 96, 64, 192, 64), (UYVY, 33, 32, 80, 32), (YVYU, 64, 40, 128, 48),
    (VYUY, 50, 34, 112, 34)])
def test_encode_is_baseline_jfif_of_the_picture(fmt, w, h, ws, hs):
    picture, y, u, v = make_picture(fmt, w, h, ws, hs)
    data = jpeg.encode(picture, 100)
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    assert data[6:11] == b"JFIF\x00"
    header = jpeg.parse_header(data)
    assert (header.sof, header.width, header.height, header.components) == (0xC0, w, h, 3)
    assert header.jpeg_format == (J.ACL_JPEG_CSS_420 if fmt in (NV12, NV21) else
                                  J.ACL_JPEG_CSS_422)
    assert Image.open(io.BytesIO(data)).size == (w, h)
    ref = ref_full(data)
    assert psnr(ref[..., 0], y) >= 35
    if fmt in (NV12, NV21):
        native = ref_native_420(data)
        assert psnr(native[..., 0], u) >= 35 and psnr(native[..., 1], v) >= 35
    else:
        assert psnr(average(ref[..., 1], 1, 2), u[:, :w // 2]) >= 35
        assert psnr(average(ref[..., 2], 1, 2), v[:, :w // 2]) >= 35


def test_encode_level_0_is_100_and_levels_matter():
    picture = make_picture(NV12, 128, 96, 128, 96)[0]
    best = jpeg.encode(picture, 100)
    assert jpeg.encode(picture, 0) == best
    assert len(jpeg.encode(picture, 50)) < len(best)
    assert len(jpeg.encode(picture, 1)) < len(jpeg.encode(picture, 50))
    assert len(best) <= jpeg.predict_enc_size(NV12, 128, 96, 128, 96, F310)


def test_encode_refusals():
    picture = make_picture(NV12, 64, 48, 64, 48)[0]
    with pytest.raises(InvalidParam):
        jpeg.encode(picture, 101)
    gray = Picture(np.zeros(64 * 48 * 3, np.uint8), YUV400, 64, 48, 64, 48)
    with pytest.raises(FormatNotMatch):
        jpeg.encode(gray, 90)


def test_encode_decode_round_trip_through_the_core():
    picture, y, u, v = make_picture(NV21, 320, 240, 320, 240)
    decoded = decode(jpeg.encode(picture, 95), NV21, F310)
    assert psnr(decoded.luma, y) >= 35
    assert psnr(decoded.chroma[..., 0], u) >= 35 and psnr(decoded.chroma[..., 1], v) >= 35
