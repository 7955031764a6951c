"""The PNG codec core (``openacl.media.png``) against Pillow's PNG decoder.

PNGs are made here with OpenCV and Pillow; decoded pixels must equal Pillow's exactly (both are
lossless decoders of the same data; 16-bit samples keep their high byte, which is what Pillow
does for 16-bit RGB(A) and what is computed here for 16-bit gray).
"""

from __future__ import annotations

import io
import struct
import time
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from openacl.errors import (AclError, DvppTaskFailed, FeatureUnsupported, FormatNotMatch,
                            InvalidParam)
from openacl.media import png
from openacl.media.formats import family
from openacl.media.layout import Picture

F310, F310P, F310B = family("Ascend310"), family("Ascend310P3"), family("Ascend310B1")
NV12, RGB888, BGR888, RGBA8888, UNKNOWN = 1, 12, 13, 16, 10000


def up(value: int, to: int) -> int:
    return (value + to - 1) // to * to


def pixels(width: int, height: int, channels: int, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    y, x = np.mgrid[0:height, 0:width]
    base = (x * top // width + y * top // (2 * height)) % (top + 1)
    img = np.stack([base, base[::-1], (base + top // 3) % top, rng.integers(0, top, base.shape)],
                   -1)[..., :channels]
    return np.squeeze(img.astype(dtype), -1) if channels == 1 else img.astype(dtype)


def cv2_png(img: np.ndarray) -> bytes:
    return cv2.imencode(".png", img)[1].tobytes()


def pil_png(img: np.ndarray, mode: str | None = None) -> bytes:
    out = io.BytesIO()
    im = Image.fromarray(img)
    (im.convert(mode) if mode else im).save(out, "PNG")
    return out.getvalue()


def pil_pixels(data: bytes, mode: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert(mode))


def chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + \
        struct.pack(">I", zlib.crc32(kind + payload))


def chunks(data: bytes) -> list:
    pos, out = 8, []
    while pos < len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        out.append((kind, data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return out


def rebuild(parts: list) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunk(k, p) for k, p in parts)


def decode(data: bytes, out_format: int, fam=F310) -> png.DecodedPng:
    return png.decode(data, png.parse_header(data), out_format, fam)


# ================================================================== parse_header
@pytest.mark.parametrize("mode, components, color_type", [
    ("L", 1, 0), ("LA", 2, 4), ("RGB", 3, 2), ("RGBA", 4, 6)])
def test_header(mode, components, color_type):
    header = png.parse_header(pil_png(pixels(70, 40, 3), mode))
    assert (header.width, header.height, header.components, header.bit_depth,
            header.color_type) == (70, 40, components, 8, color_type)


def test_header_16_bit_and_views():
    data = cv2_png(pixels(70, 40, 3, np.uint16))
    assert png.parse_header(data).bit_depth == 16
    for view in (memoryview(data), bytearray(data), np.frombuffer(data, np.uint8)):
        assert png.parse_header(view).width == 70


def test_header_palette_is_format_not_match():
    with pytest.raises(FormatNotMatch, match="palette") as error:
        png.parse_header(pil_png(pixels(70, 40, 3), "P"))
    assert error.value.code == 100027
    data = bytearray(pil_png(pixels(70, 40, 3)))
    data[25] = 5                                     # no such colour type
    with pytest.raises(FormatNotMatch):
        png.parse_header(bytes(data))


def test_header_short_or_not_png_is_invalid_param():
    data = pil_png(pixels(70, 40, 3))
    for bad in (b"", data[:29], b"GIF89a" + bytes(40), b"\x89PNG\r\n\x1a\x00" + data[8:]):
        with pytest.raises(InvalidParam) as error:
            png.parse_header(bad)
        assert error.value.code == 100000
    assert png.parse_header(data[:30]).width == 70   # the C layer reads fixed offsets only


# ================================================================== predict_dec_size
@pytest.mark.parametrize("w, h, depth, fmt, want", [
    (100, 50, 8, RGB888, 128 * 3 * 64),
    (100, 50, 8, RGBA8888, 128 * 4 * 64),
    (100, 50, 8, UNKNOWN, 128 * 4 * 64),
    (4096, 4096, 16, UNKNOWN, 4096 * 4096 * 8),      # the documented maximum
    (129, 33, 16, RGB888, 256 * 6 * 48),
    (32, 32, 1, RGB888, 48 * 32),                    # ceil(128 * 1 * 3 / 8) rows of bytes
    (40, 40, 2, RGB888, 96 * 48),
])
def test_predict_dec_size(w, h, depth, fmt, want):
    header = png.PngHeader(w, h, 3, depth, 2)
    assert png.predict_dec_size(header, fmt, F310) == want
    assert want == -(-up(w, 128) * depth * (3 if fmt == RGB888 else 4) // 8) * up(h, 16)


def test_predict_dec_size_errors():
    header = png.PngHeader(100, 50, 3, 8, 2)
    with pytest.raises(FeatureUnsupported) as error:
        png.predict_dec_size(header, RGB888, F310P)
    assert error.value.code == 200006
    for fmt in (NV12, BGR888, 0, 999):
        with pytest.raises(FormatNotMatch):
            png.predict_dec_size(header, fmt, F310)
    for w, h in ((31, 50), (50, 31), (4097, 50), (50, 4097)):
        with pytest.raises(InvalidParam):
            png.predict_dec_size(png.PngHeader(w, h, 3, 8, 2), RGB888, F310)
    assert png.predict_dec_size(header, RGB888, F310B) == 128 * 3 * 64


# ================================================================== decode
@pytest.mark.parametrize("source, out_format, want_format, want", [
    ("RGB", RGB888, RGB888, "RGB"), ("RGB", UNKNOWN, RGB888, "RGB"),
    ("RGB", RGBA8888, RGBA8888, "RGBA"), ("RGBA", UNKNOWN, RGBA8888, "RGBA"),
    ("RGBA", RGB888, RGB888, "RGB"), ("RGBA", RGBA8888, RGBA8888, "RGBA"),
    ("L", RGB888, RGB888, "RGB"), ("L", UNKNOWN, RGB888, "RGB"),
    ("LA", UNKNOWN, RGBA8888, "RGBA"), ("LA", RGB888, RGB888, "RGB"),
    ("1", RGB888, RGB888, "RGB")])
def test_decode_matches_pillow(source, out_format, want_format, want):
    data = pil_png(pixels(70, 41, 4), source) if source in ("RGBA", "LA") else \
        pil_png(pixels(70, 41, 3), source)
    decoded = decode(data, out_format)
    assert (decoded.fmt, decoded.width, decoded.height) == (want_format, 70, 41)
    bpp = 4 if want_format == RGBA8888 else 3
    assert (decoded.width_stride, decoded.height_stride) == (128 * bpp, 48)
    assert np.array_equal(decoded.pixels, pil_pixels(data, want))


@pytest.mark.parametrize("channels, mode", [(3, "RGB"), (4, "RGBA")])
def test_decode_16_bit_colour_keeps_high_byte(channels, mode):
    img = pixels(70, 40, channels, np.uint16)
    data = cv2_png(img)
    decoded = decode(data, UNKNOWN if channels == 4 else RGB888)
    want = pil_pixels(data, mode)
    assert np.array_equal(decoded.pixels, want)
    order = [2, 1, 0, 3][:channels]                  # OpenCV wrote B, G, R(, A)
    assert np.array_equal(want, (img[..., order] >> 8).astype(np.uint8))


def test_decode_16_bit_gray():
    img = pixels(70, 40, 1, np.uint16)
    data = cv2_png(img)
    ref = np.asarray(Image.open(io.BytesIO(data))).astype(np.uint16)   # Pillow: I;16
    decoded = decode(data, RGB888)
    assert np.array_equal(decoded.pixels, np.repeat((ref >> 8).astype(np.uint8)[..., None], 3,
                                                    -1))


def test_decode_transparency_key_without_alpha_channel():
    # RGB with a tRNS colour key: UNKNOWN keeps RGB (colour type 2 has no alpha channel)
    parts = chunks(pil_png(pixels(64, 40, 3)))
    keyed = rebuild(parts[:1] + [(b"tRNS", b"\x00\x00\x00\x00\x00\x00")] + parts[1:])
    assert decode(keyed, UNKNOWN).fmt == RGB888
    assert np.array_equal(decode(keyed, UNKNOWN).pixels, pil_pixels(keyed, "RGB"))


def test_decode_size_limits_and_family():
    for w, h in ((31, 40), (40, 31)):
        with pytest.raises(DvppTaskFailed):
            decode(pil_png(pixels(w, h, 3)), RGB888)
    data = pil_png(pixels(32, 32, 3))
    assert decode(data, RGB888).width == 32
    with pytest.raises(FeatureUnsupported):
        decode(data, RGB888, F310P)
    with pytest.raises(FormatNotMatch):
        decode(data, NV12)


# ================================================================== corrupt data
def _corrupt() -> dict:
    data = pil_png(pixels(70, 40, 3))
    parts = chunks(data)
    idat = [i for i, (k, _) in enumerate(parts) if k == b"IDAT"][0]
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x40
    bad_zlib = list(parts)
    bad_zlib[idat] = (b"IDAT", parts[idat][1][:2] + bytes(len(parts[idat][1]) - 2))
    wider = list(parts)
    wider[0] = (b"IHDR", struct.pack(">II", 90, 40) + parts[0][1][8:])
    depth = list(parts)
    depth[0] = (b"IHDR", parts[0][1][:8] + b"\x07" + parts[0][1][9:])
    interlace = list(parts)
    interlace[0] = (b"IHDR", parts[0][1][:12] + b"\x02")
    return {
        "truncated": data[:len(data) // 2],
        "header only": data[:33],
        "CRC": bytes(flipped),
        "zlib data (CRC fixed)": rebuild(bad_zlib),
        "IHDR size": rebuild(wider),
        "bit depth": rebuild(depth),
        "interlace method": rebuild(interlace),
        "no IDAT": rebuild([p for p in parts if p[0] != b"IDAT"]),
        "no IEND": rebuild(parts[:-1]),
        "IHDR not first": rebuild([(b"tEXt", b"a\x00b")] + parts),
        "chunk length": data[:8] + b"\x7f\xff\xff\xff" + data[12:],
    }


@pytest.mark.parametrize("case", sorted(_corrupt()))
def test_corrupt_data_is_a_task_failure(case):
    data = _corrupt()[case]
    with pytest.raises(DvppTaskFailed):
        png.decode(data, png.parse_header(data), RGB888, F310)


def test_random_mutants_raise_only_acl_errors():
    rng = np.random.default_rng(99)
    parts = chunks(pil_png(pixels(48, 40, 4), "RGBA"))
    parts.insert(1, (b"tEXt", b"Comment\x00" + bytes(range(32, 120))))
    base = rebuild(parts)
    outcomes = {"ok": 0, "error": 0}
    started = time.perf_counter()
    for trial in range(300):
        data = bytearray(base)
        kind = trial % 4
        if kind == 0:
            data = data[:rng.integers(0, len(data))]
        elif kind == 1:
            for at in rng.integers(0, len(data), rng.integers(1, 5)):
                data[at] = rng.integers(0, 256)
        elif kind == 2:
            at = rng.integers(8, len(data))
            data[at:at] = rng.integers(0, 256, rng.integers(1, 8), dtype=np.uint8).tobytes()
        else:                       # damage a chunk's contents and fix its CRC: libpng's turn
            mutated = list(parts)
            index = rng.integers(0, len(parts) - 1)
            payload = bytearray(parts[index][1])
            for at in rng.integers(0, len(payload), rng.integers(1, 3)):
                payload[at] = rng.integers(0, 256)
            mutated[index] = (parts[index][0], bytes(payload))
            data = rebuild(mutated)
        data = bytes(data)
        try:
            header = png.parse_header(data)
            size = png.predict_dec_size(header, UNKNOWN, F310)
            decoded = png.decode(data, header, UNKNOWN, F310)
            png.write_decoded(decoded, np.zeros(size, np.uint8))
            outcomes["ok"] += 1
        except AclError:
            outcomes["error"] += 1
    assert outcomes["ok"] and outcomes["error"]
    assert time.perf_counter() - started < 10


# ================================================================== write_decoded
@pytest.mark.parametrize("out_format, bpp", [(RGB888, 3), (RGBA8888, 4)])
def test_write_decoded_rows_and_padding(out_format, bpp):
    data = pil_png(pixels(70, 41, 4), "RGBA")
    decoded = decode(data, out_format)
    ws, hs = 128 * bpp, 48
    buf = np.full(ws * hs + 10, 0xCD, np.uint8)
    png.write_decoded(decoded, buf)
    rows = buf[:ws * hs].reshape(hs, ws)
    assert np.array_equal(rows[:41, :70 * bpp].reshape(41, 70, bpp), decoded.pixels)
    assert np.all(rows[:41, 70 * bpp:] == 0xCD) and np.all(rows[41:] == 0xCD)
    assert np.all(buf[ws * hs:] == 0xCD)
    picture = Picture(buf, decoded.fmt, 70, 41, ws, hs)
    assert np.array_equal(picture.pixels(), decoded.pixels)


def test_write_decoded_too_small():
    decoded = decode(pil_png(pixels(70, 41, 3)), RGB888)
    need = 384 * 48
    png.write_decoded(decoded, np.zeros(need, np.uint8))
    with pytest.raises(DvppTaskFailed, match=f"needs {need}"):
        png.write_decoded(decoded, np.zeros(need - 1, np.uint8))
    # a 1-bit PNG decodes to 8-bit RGB: more than its predicted size (see png.decode)
    tiny = pil_png(pixels(64, 32, 3), "1")
    header = png.parse_header(tiny)
    with pytest.raises(DvppTaskFailed):
        png.write_decoded(decode(tiny, RGB888),
                          np.zeros(png.predict_dec_size(header, RGB888, F310), np.uint8))
