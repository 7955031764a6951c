"""The VPC pixel core (``openacl.media.vpc``) against independent references.

Pictures are packed into byte buffers and read back by hand, following the byte layout of
dvpp-api.md §5.1 (never through ``openacl.media.layout``). References: OpenCV on the separately
extracted planes (same call on the same data: exact), numpy legacy-TensorFlow resizes, numpy
BT.601 full-range (JFIF) colour conversion.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np
import pytest

from openacl.constants import PixelFormat as F
from openacl.errors import DvppTaskFailed, FeatureUnsupported, FormatNotMatch, InvalidParam
from openacl.media.formats import FAMILIES
from openacl.media.layout import Picture
from openacl.media.vpc import Roi, batch_pairs, check_picture, crop_resize_paste

NV12, NV21 = F.PIXEL_FORMAT_YUV_SEMIPLANAR_420, F.PIXEL_FORMAT_YVU_SEMIPLANAR_420
SENTINEL = 0xA5
LINEAR, NEAREST, CUBIC = cv2.INTER_LINEAR, cv2.INTER_NEAREST, cv2.INTER_CUBIC

# Semi-planar layouts: (chroma x subsampling, y subsampling, V first).
SP = {F.PIXEL_FORMAT_YUV_SEMIPLANAR_420: (2, 2, False),
      F.PIXEL_FORMAT_YVU_SEMIPLANAR_420: (2, 2, True),
      F.PIXEL_FORMAT_YUV_SEMIPLANAR_422: (2, 1, False),
      F.PIXEL_FORMAT_YVU_SEMIPLANAR_422: (2, 1, True),
      F.PIXEL_FORMAT_YUV_SEMIPLANAR_444: (1, 1, False),
      F.PIXEL_FORMAT_YVU_SEMIPLANAR_444: (1, 1, True),
      F.PIXEL_FORMAT_YUV_SEMIPLANAR_440: (1, 2, False),
      F.PIXEL_FORMAT_YVU_SEMIPLANAR_440: (1, 2, True)}
# Packed layouts: byte order of one pixel (two pixels for 4:2:2).
PACKED = {F.PIXEL_FORMAT_YUYV_PACKED_422: "YUYV", F.PIXEL_FORMAT_UYVY_PACKED_422: "UYVY",
          F.PIXEL_FORMAT_YVYU_PACKED_422: "YVYU", F.PIXEL_FORMAT_VYUY_PACKED_422: "VYUY",
          F.PIXEL_FORMAT_YUV_PACKED_444: "YUV", F.PIXEL_FORMAT_RGB_888: "RGB",
          F.PIXEL_FORMAT_BGR_888: "BGR", F.PIXEL_FORMAT_ARGB_8888: "ARGB",
          F.PIXEL_FORMAT_ABGR_8888: "ABGR", F.PIXEL_FORMAT_RGBA_8888: "RGBA",
          F.PIXEL_FORMAT_BGRA_8888: "BGRA"}


class Fields(NamedTuple):
    """What check_picture reads of a picture description."""
    fmt: int
    width: int
    height: int
    width_stride: int
    height_stride: int
    size: int


def fam(name):
    return FAMILIES[name]


def align(value, to):
    return (value + to - 1) // to * to


# ------------------------------------------------------------------ images
def noise(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def gradient(height, width, channels=None, seed=0):
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = [128 + 100 * np.sin(xx / (9 + 3 * c) + seed + c) * np.cos(yy / (7 + 2 * c))
              for c in range(channels or 1)]
    out = np.clip(np.rint(np.stack(planes, -1)), 0, 255).astype(np.uint8)
    return out if channels else out[..., 0]


# ------------------------------------------------------------------ byte layouts by hand (§5.1)
def sp_size(fmt, ws, hs):
    sx, sy, _ = SP[fmt]
    return ws * hs + (ws * 2 // sx) * (hs // sy)


def pack_sp(fmt, y, uv, ws, hs, size=None):
    """A semi-planar buffer: Y rows of ``ws`` bytes, then chroma rows of ws*2/sx bytes,
    U,V interleaved (V,U for YVU formats). ``uv`` is (ch, cw, 2) in U,V order."""
    sx, sy, v_first = SP[fmt]
    buf = np.full(size or sp_size(fmt, ws, hs), SENTINEL, np.uint8)
    for r, row in enumerate(y):
        buf[r * ws:r * ws + row.size] = row
    pitch, base = ws * 2 // sx, ws * hs
    pairs = uv[..., ::-1] if v_first else uv
    for r, row in enumerate(pairs):
        buf[base + r * pitch:base + r * pitch + row.size] = row.reshape(-1)
    return buf


def read_sp(fmt, buf, width, height, ws, hs):
    sx, sy, v_first = SP[fmt]
    y = np.stack([buf[r * ws:r * ws + width] for r in range(height)])
    ch, cw = -(-height // sy), -(-width // sx)
    pitch, base = ws * 2 // sx, ws * hs
    uv = np.stack([buf[base + r * pitch:base + r * pitch + 2 * cw].reshape(cw, 2)
                   for r in range(ch)])
    return y, (uv[..., ::-1] if v_first else uv)


def pack_rows(rows, ws, hs, size=None, fill=SENTINEL):
    """Packed formats: ``hs`` rows of ``ws`` bytes; ``rows`` is (h, bytes of a row)."""
    buf = np.full(size or ws * hs, fill, np.uint8)
    for r, row in enumerate(rows):
        buf[r * ws:r * ws + row.size] = row.reshape(-1)
    return buf


def read_rows(buf, nbytes, height, ws):
    return np.stack([buf[r * ws:r * ws + nbytes] for r in range(height)])


def nv(fmt, width, height, ws=None, hs=None, seed=0, smooth=False):
    """(buffer, Y, UV) of a random or smooth NV12/NV21 picture."""
    ws, hs = ws or align(width, 16), hs or align(height, 2)
    if smooth:
        y = gradient(height, width, seed=seed)
        uv = gradient(-(-height // 2), -(-width // 2), 2, seed=seed + 1)
    else:
        y = noise((height, width), seed)
        uv = noise((-(-height // 2), -(-width // 2), 2), seed + 1)
    return pack_sp(fmt, y, uv, ws, hs), y, uv


def blank_nv(fmt, width, height, ws=None, hs=None):
    ws, hs = ws or align(width, 16), hs or align(height, 2)
    return np.full(sp_size(fmt, ws, hs), SENTINEL, np.uint8), ws, hs


# ------------------------------------------------------------------ colour references (JFIF)
def rgb_to_ycc(rgb):
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168735892 * r - 0.331264108 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418687589 * g - 0.081312411 * b
    return np.stack([y, cb, cr], -1)


def ycc_to_rgb(ycc):
    y, cb, cr = (ycc[..., i].astype(np.float64) for i in range(3))
    r = y + 1.402 * (cr - 128)
    g = y - 0.344136286 * (cb - 128) - 0.714136286 * (cr - 128)
    b = y + 1.772 * (cb - 128)
    return np.stack([r, g, b], -1)


def to_u8(values):
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def max_diff(a, b):
    return int(np.abs(a.astype(np.int32) - b.astype(np.int32)).max())


# ------------------------------------------------------------------ legacy TensorFlow references
def tf_source_positions(size_in, size_out):
    # tf.image.resize_* v1, align_corners=False: in = out * (in/out), float32 as TF computes.
    scale = np.float32(size_in) / np.float32(size_out)
    return [np.float32(o) * scale for o in range(size_out)]


def tf_bilinear_reference(image, width, height):
    """Four-neighbour blend per output pixel in float64 (TF: top/bottom lerps of left/right)."""
    img = image.astype(np.float64)
    out = np.empty((height, width) + image.shape[2:])
    xs, ys = tf_source_positions(image.shape[1], width), tf_source_positions(image.shape[0], height)
    for oy, fy in enumerate(ys):
        y0, y1 = int(np.floor(fy)), min(int(np.ceil(fy)), image.shape[0] - 1)
        wy = float(fy) - y0
        for ox, fx in enumerate(xs):
            x0, x1 = int(np.floor(fx)), min(int(np.ceil(fx)), image.shape[1] - 1)
            wx = float(fx) - x0
            top = img[y0, x0] + (img[y0, x1] - img[y0, x0]) * wx
            bottom = img[y1, x0] + (img[y1, x1] - img[y1, x0]) * wx
            out[oy, ox] = top + (bottom - top) * wy
    return to_u8(out)


def tf_nearest_reference(image, width, height):
    def index(size_in, size_out):
        return [min(int(np.floor(p)), size_in - 1) for p in tf_source_positions(size_in, size_out)]
    return image[index(image.shape[0], height)][:, index(image.shape[1], width)]


# ------------------------------------------------------------------ running the core
def run(fmt_in, buf_in, w, h, ws, hs, fmt_out, buf_out, ow, oh, ows, ohs, family,
        crop=None, paste=None, interpolation=0):
    src = Picture(buf_in, fmt_in, w, h, ws, hs)
    dst = Picture(buf_out, fmt_out, ow, oh, ows, ohs)
    crop_resize_paste(src, dst, crop, paste, interpolation, fam(family))


def reference_sp(y, uv, crop, size, flag, chroma_size=None):
    """OpenCV on the extracted planes: crop (inclusive ROI) then resize Y and U/V."""
    left, right, top, bottom = crop
    w, h = size
    ry = cv2.resize(np.ascontiguousarray(y[top:bottom + 1, left:right + 1]), (w, h),
                    interpolation=flag)
    c = uv[top // 2:bottom // 2 + 1, left // 2:right // 2 + 1]
    ruv = cv2.resize(np.ascontiguousarray(c), chroma_size or (w // 2, h // 2), interpolation=flag)
    return ry, ruv


def assert_untouched(buf, written):
    """Every byte of ``buf`` outside the ``written`` mask still holds the sentinel."""
    outside = buf[~written]
    assert (outside == SENTINEL).all(), f"{int((outside != SENTINEL).sum())} bytes outside written"


def sp_mask(fmt, size, ws, hs, roi):
    """The bytes a paste into ``roi`` may write: Y of the ROI, chroma samples inside it."""
    sx, sy, _ = SP[fmt]
    left, right, top, bottom = roi
    mask = np.zeros(size, bool)
    for r in range(top, bottom + 1):
        mask[r * ws + left:r * ws + right + 1] = True
    pitch = ws * 2 // sx
    for r in range(-(-top // sy), (bottom + 1) // sy):
        start = ws * hs + r * pitch
        mask[start + 2 * -(-left // sx):start + 2 * ((right + 1) // sx)] = True
    return mask


# ================================================================== resize, every mode
CV_MODES = [("310", 0, LINEAR), ("310", 1, LINEAR), ("310", 2, NEAREST),
            ("310P", 0, LINEAR), ("310P", 1, LINEAR), ("310P", 2, NEAREST),
            ("310B", 0, LINEAR), ("310B", 1, LINEAR), ("310B", 2, NEAREST),
            ("310B", 3, LINEAR), ("310B", 4, NEAREST), ("310B", 5, CUBIC)]


@pytest.mark.parametrize("family, interpolation, flag", CV_MODES)
@pytest.mark.parametrize("smooth", [False, True])
def test_resize_matches_opencv_on_the_planes(family, interpolation, flag, smooth):
    w, h, ow, oh = 150, 90, 64, 36
    aligned = family != "310B"
    ws, hs = (align(w, 16), align(h, 2)) if aligned else (w + 3, h)
    ows, ohs = (align(ow, 16) + 16, oh + 2) if aligned else (ow + 5, oh + 2)
    buf, y, uv = nv(NV12, w, h, ws, hs, seed=interpolation, smooth=smooth)
    out, _, _ = blank_nv(NV12, ow, oh, ows, ohs)
    run(NV12, buf, w, h, ws, hs, NV12, out, ow, oh, ows, ohs, family,
        interpolation=interpolation)
    ry, ruv = reference_sp(y, uv, (0, w - 1, 0, h - 1), (ow, oh), flag)
    gy, guv = read_sp(NV12, out, ow, oh, ows, ohs)
    np.testing.assert_array_equal(gy, ry)          # same OpenCV call on the same data: exact
    np.testing.assert_array_equal(guv, ruv)
    assert_untouched(out, sp_mask(NV12, out.size, ows, ohs, (0, ow - 1, 0, oh - 1)))
    np.testing.assert_array_equal(buf, nv(NV12, w, h, ws, hs, interpolation, smooth)[0])


def test_resize_upscales_by_up_to_16():
    buf, y, uv = nv(NV12, 20, 12, seed=3, smooth=True)
    out, ows, ohs = blank_nv(NV12, 320, 192)
    run(NV12, buf, 20, 12, 32, 12, NV12, out, 320, 192, ows, ohs, "310", interpolation=1)
    ry, ruv = reference_sp(y, uv, (0, 19, 0, 11), (320, 192), LINEAR)
    gy, guv = read_sp(NV12, out, 320, 192, ows, ohs)
    np.testing.assert_array_equal(gy, ry)
    np.testing.assert_array_equal(guv, ruv)


@pytest.mark.parametrize("fmt_in, fmt_out", [(NV12, NV21), (NV21, NV12), (NV21, NV21)])
def test_nv12_nv21_either_way(fmt_in, fmt_out):
    buf, y, uv = nv(fmt_in, 96, 64, seed=5)
    out, ows, ohs = blank_nv(fmt_out, 48, 30)
    run(fmt_in, buf, 96, 64, 96, 64, fmt_out, out, 48, 30, ows, ohs, "310", interpolation=1)
    ry, ruv = reference_sp(y, uv, (0, 95, 0, 63), (48, 30), LINEAR)
    gy, guv = read_sp(fmt_out, out, 48, 30, ows, ohs)
    np.testing.assert_array_equal(gy, ry)
    np.testing.assert_array_equal(guv, ruv)


@pytest.mark.parametrize("size", [(37, 23), (64, 40), (120, 70)])
def test_tensorflow_modes_on_310(size):
    w, h = 100, 60
    ow, oh = size
    buf, y, uv = nv(NV12, w, h, seed=7)
    for mode, reference in ((3, tf_bilinear_reference), (4, tf_nearest_reference)):
        ow2, oh2 = ow & ~1, oh & ~1
        out, ows, ohs = blank_nv(NV12, ow2, oh2)
        run(NV12, buf, w, h, 112, 60, NV12, out, ow2, oh2, ows, ohs, "310", interpolation=mode)
        gy, guv = read_sp(NV12, out, ow2, oh2, ows, ohs)
        # Bilinear: the reference blends four neighbours in float64, the core separably in
        # float32 (as TF does): a .5 tie may round either way, so +-1. Nearest: exact.
        tolerance = 1 if mode == 3 else 0
        assert max_diff(gy, reference(y, ow2, oh2)) <= tolerance
        assert max_diff(guv, reference(uv, ow2 // 2, oh2 // 2)) <= tolerance


def test_tensorflow_bilinear_has_no_half_pixel_centres():
    # A factor-2 downscale samples exactly the even pixels (OpenCV would average pairs).
    buf, y, uv = nv(NV12, 64, 40, seed=8)
    out, ows, ohs = blank_nv(NV12, 32, 20)
    run(NV12, buf, 64, 40, 64, 40, NV12, out, 32, 20, ows, ohs, "310", interpolation=3)
    gy, guv = read_sp(NV12, out, 32, 20, ows, ohs)
    np.testing.assert_array_equal(gy, y[::2, ::2])
    np.testing.assert_array_equal(guv, uv[::2, ::2])
    assert max_diff(gy, cv2.resize(y, (32, 20), interpolation=LINEAR)) > 10


# ================================================================== crop and paste
def test_crop_scales_the_roi_to_the_whole_output():
    w, h = 320, 200
    buf, y, uv = nv(NV12, w, h, seed=11, smooth=True)
    out, ows, ohs = blank_nv(NV12, 224, 224)
    crop = Roi(16, 215, 10, 189)
    run(NV12, buf, w, h, 320, 200, NV12, out, 224, 224, ows, ohs, "310", crop=crop)
    ry, ruv = reference_sp(y, uv, (16, 215, 10, 189), (224, 224), LINEAR)
    gy, guv = read_sp(NV12, out, 224, 224, ows, ohs)
    np.testing.assert_array_equal(gy, ry)
    np.testing.assert_array_equal(guv, ruv)


@pytest.mark.parametrize("family", ["310", "310P", "310B"])
@pytest.mark.parametrize("paste", [(32, 215, 64, 215), (112, 223, 112, 223)])
def test_sample_paste_rois_leave_the_rest_untouched(family, paste):
    w, h = 300, 260
    buf, y, uv = nv(NV12, w, h, seed=13)
    ows, ohs = 240, 226                   # padding right of and below the 224x224 output
    out, _, _ = blank_nv(NV12, 224, 224, ows, ohs)
    crop = (20, 219, 30, 229)
    run(NV12, buf, w, h, 304, 260, NV12, out, 224, 224, ows, ohs, family,
        crop=Roi(*crop), paste=Roi(*paste), interpolation=1)
    left, right, top, bottom = paste
    pw, ph = right - left + 1, bottom - top + 1
    ry, ruv = reference_sp(y, uv, crop, (pw, ph), LINEAR)
    gy, guv = read_sp(NV12, out, 224, 224, ows, ohs)
    np.testing.assert_array_equal(gy[top:bottom + 1, left:right + 1], ry)
    np.testing.assert_array_equal(guv[top // 2:bottom // 2 + 1, left // 2:right // 2 + 1], ruv)
    assert_untouched(out, sp_mask(NV12, out.size, ows, ohs, paste))


@pytest.mark.parametrize("w, h, W, H", [(331, 250, 224, 224), (640, 361, 416, 416),
                                         (200, 400, 300, 200)])
def test_acllite_letterbox(w, h, W, H):
    """acllite's crop_and_paste: the whole (even-rounded) picture into the top-left."""
    ws, hs = align(w, 16), align(h, 2)
    buf, y, uv = nv(NV12, w, h, ws, hs, seed=17, smooth=True)
    out, ows, ohs = blank_nv(NV12, W, H)
    crop = (0, (w >> 1 << 1) - 1, 0, (h >> 1 << 1) - 1)
    rx, ry_ = w / W, h / H
    dx, dy = (0, int((H - h / rx) / 2)) if rx > ry_ else (int((W - w / ry_) / 2), 0)
    right, bottom = W - 1 - 2 * dx, H - 1 - 2 * dy
    right, bottom = right - (right % 2 == 0), bottom - (bottom % 2 == 0)
    paste = (0, right, 0, bottom)
    run(NV12, buf, w, h, ws, hs, NV12, out, W, H, ows, ohs, "310", crop=Roi(*crop),
        paste=Roi(*paste))
    ry, ruv = reference_sp(y, uv, crop, (right + 1, bottom + 1), LINEAR)
    gy, guv = read_sp(NV12, out, W, H, ows, ohs)
    np.testing.assert_array_equal(gy[:bottom + 1, :right + 1], ry)
    np.testing.assert_array_equal(guv[:(bottom + 1) // 2, :(right + 1) // 2], ruv)
    assert_untouched(out, sp_mask(NV12, out.size, ows, ohs, paste))


def test_odd_paste_edges_write_only_chroma_inside_the_area():
    """310P has no parity rule: a paste ending on even offsets keeps every byte outside it."""
    buf, y, uv = nv(NV12, 160, 120, seed=19)
    out, ows, ohs = blank_nv(NV12, 128, 96)
    paste = (16, 100, 11, 60)
    run(NV12, buf, 160, 120, 160, 120, NV12, out, 128, 96, ows, ohs, "310P",
        paste=Roi(*paste), interpolation=1)
    gy, guv = read_sp(NV12, out, 128, 96, ows, ohs)
    ry = cv2.resize(y, (85, 50), interpolation=LINEAR)
    np.testing.assert_array_equal(gy[11:61, 16:101], ry)
    # Chroma rows 6..30 and columns 8..50 lie wholly inside; they hold the resized chroma.
    np.testing.assert_array_equal(guv[6:30, 8:50], cv2.resize(uv, (42, 24), interpolation=LINEAR))
    assert_untouched(out, sp_mask(NV12, out.size, ows, ohs, paste))


def test_odd_input_is_rounded_down_to_even():
    w, h, ws, hs = 101, 61, 112, 62
    buf, y, uv = nv(NV12, w, h, ws, hs, seed=23)
    out, ows, ohs = blank_nv(NV12, 50, 30)
    run(NV12, buf, w, h, ws, hs, NV12, out, 50, 30, ows, ohs, "310", interpolation=1)
    ry, ruv = reference_sp(y, uv, (0, 99, 0, 59), (50, 30), LINEAR)
    gy, guv = read_sp(NV12, out, 50, 30, ows, ohs)
    np.testing.assert_array_equal(gy, ry)
    np.testing.assert_array_equal(guv, ruv)
    with pytest.raises(DvppTaskFailed, match=r"inside the 100x60 input picture \(odd input"):
        run(NV12, buf, w, h, ws, hs, NV12, out, 50, 30, ows, ohs, "310", crop=Roi(0, 101, 0, 59))


@pytest.mark.parametrize("family, used", [("310", (120, 80)), ("310P", (121, 81))])
def test_odd_rgb_input_is_rounded_down_on_310_only(family, used):
    """Ascend310's documentation rounds any odd input down; 310P only where chroma is shared."""
    w, h = 121, 81
    rgb = gradient(h, w, 3, seed=43)
    ws = align(w, 16) * 3
    buf = pack_rows(packed_rows("RGB", rgb=rgb), ws, align(h, 2))
    out, ows, ohs = blank_nv(NV12, 60, 40)
    run(F.PIXEL_FORMAT_RGB_888, buf, w, h, ws, align(h, 2), NV12, out, 60, 40, ows, ohs,
        family, interpolation=1)
    luma = to_u8(rgb_to_ycc(rgb))[:used[1], :used[0], 0]
    gy, _ = read_sp(NV12, out, 60, 40, ows, ohs)
    # +-1: float32 JFIF in the core vs float64 here may round a .5 differently.
    assert max_diff(gy, cv2.resize(luma, (60, 40), interpolation=LINEAR)) <= 1


def test_odd_nv12_whose_stride_is_its_width_on_310b():
    """310B takes width stride = width; an odd NV12 row of chroma then holds half a pair."""
    w, h, ws, hs = 101, 61, 101, 62
    y, uv = noise((h, w), 47), noise((31, 50, 2), 48)   # 50 whole pairs fit in 101 bytes
    buf = pack_sp(NV12, y, uv, ws, hs)
    check_picture(Fields(NV12, w, h, ws, hs, buf.size), fam("310B"), "input", False)
    out, ows, ohs = blank_nv(NV12, 50, 30, 50, 30)
    run(NV12, buf, w, h, ws, hs, NV12, out, 50, 30, ows, ohs, "310B", interpolation=1)
    ry, ruv = reference_sp(y, uv, (0, 99, 0, 59), (50, 30), LINEAR)
    gy, guv = read_sp(NV12, out, 50, 30, ows, ohs)
    np.testing.assert_array_equal(gy, ry)
    np.testing.assert_array_equal(guv, ruv)
    with pytest.raises(DvppTaskFailed, match="outputs need even sides"):
        run(NV12, buf, w, h, ws, hs, NV12, out, 49, 30, ows, ohs, "310B")


def test_a_short_buffer_is_a_task_failure_not_a_numpy_error():
    buf, _, _ = nv(NV12, 64, 48)
    out, ows, ohs = blank_nv(NV12, 32, 24)
    with pytest.raises(DvppTaskFailed, match="output buffer of 1151 bytes does not hold"):
        run(NV12, buf, 64, 48, 64, 48, NV12, out[:-1], 32, 24, ows, ohs, "310")


# ================================================================== format conversion
def packed_rows(order, ycc=None, rgb=None):
    """Bytes of a packed picture from full-res YCbCr (YUV orders) or RGB (RGB orders)."""
    if order in ("YUYV", "UYVY", "YVYU", "VYUY"):
        h, w, _ = ycc.shape
        quad = np.empty((h, w // 2, 4), np.uint8)
        ys = order.index("Y")
        quad[..., ys], quad[..., ys + 2] = ycc[:, 0::2, 0], ycc[:, 1::2, 0]
        quad[..., order.index("U")] = ycc[:, 0::2, 1]   # chroma equal within each pair
        quad[..., order.index("V")] = ycc[:, 0::2, 2]
        return quad.reshape(h, -1)
    if order == "YUV":
        return ycc.reshape(ycc.shape[0], -1)
    px = np.stack([np.full(rgb.shape[:2], 255, np.uint8) if c == "A" else rgb[..., "RGB".index(c)]
                   for c in order], -1)
    return px.reshape(rgb.shape[0], -1)


def source_picture(fmt, w, h, aligned, seed=29):
    """(buffer, ws, hs, Y, chroma as (ch, cw, 2) U,V at the source's own resolution, is_rgb).

    RGB sources are referenced by their JFIF YCbCr rounded to bytes; packed 4:2:2 holds equal
    chroma in each pixel pair, so its full-resolution chroma is exact.
    """
    rgb = gradient(h, w, 3, seed=seed)
    ycc = to_u8(rgb_to_ycc(rgb))
    if fmt == F.PIXEL_FORMAT_YUV_400:
        ws, hs = (align(w, 16), align(h, 2)) if aligned else (w, h)
        return pack_rows(ycc[..., 0], ws, hs), ws, hs, ycc[..., 0], None, False
    if fmt in SP:
        sx, sy, _ = SP[fmt]
        ws, hs = (align(w, 16), align(h, 2)) if aligned else (w, align(h, sy))
        uv = np.ascontiguousarray(ycc[::sy, ::sx, 1:])
        return pack_sp(fmt, ycc[..., 0], uv, ws, hs), ws, hs, ycc[..., 0], uv, False
    order = PACKED[fmt]
    bpp = 2 if len(order) == 4 and "Y" in order else len(order)
    ws, hs = (align(w, 16) * bpp, align(h, 2)) if aligned else (w * bpp, h)
    if "R" in order:
        rows = packed_rows(order, rgb=rgb)
        return pack_rows(rows, ws, hs), ws, hs, ycc[..., 0], ycc[..., 1:], True
    if bpp == 2:
        ycc[:, 1::2, 1:] = ycc[:, 0::2, 1:]
    rows = packed_rows(order, ycc=ycc)
    return pack_rows(rows, ws, hs), ws, hs, ycc[..., 0], np.ascontiguousarray(ycc[..., 1:]), False


def read_output(fmt, buf, w, h, ws, hs):
    """Y (gray), (Y, UV) (semi-planar), YCbCr (packed 4:4:4) or RGB (RGB formats)."""
    if fmt == F.PIXEL_FORMAT_YUV_400:
        return read_rows(buf, w, h, ws)
    if fmt in SP:
        return read_sp(fmt, buf, w, h, ws, hs)
    order = PACKED[fmt]
    px = read_rows(buf, w * len(order), h, ws).reshape(h, w, len(order))
    if order == "YUV":
        return px
    assert (px[..., [i for i, c in enumerate(order) if c == "A"]] == 255).all()
    return px[..., [order.index(c) for c in "RGB"]]


def expected_output(fmt, y, uv, w, h):
    """The model: chroma is a plane scaled (bilinear) to the output's chroma resolution;
    colour by JFIF in float64."""
    if uv is None:
        uv = np.full((h, w, 2), 128, np.uint8)
    if fmt == F.PIXEL_FORMAT_YUV_400:
        return y
    if fmt in SP:
        sx, sy, _ = SP[fmt]
        return y, cv2.resize(uv, (w // sx, h // sy), interpolation=LINEAR)
    ycc = np.dstack([y, cv2.resize(uv, (w, h), interpolation=LINEAR)])
    return ycc if PACKED[fmt] == "YUV" else to_u8(ycc_to_rgb(ycc))


INPUTS = [F.PIXEL_FORMAT_YUV_400, NV12, NV21, F.PIXEL_FORMAT_YUV_SEMIPLANAR_422,
          F.PIXEL_FORMAT_YVU_SEMIPLANAR_422, F.PIXEL_FORMAT_YUV_SEMIPLANAR_444,
          F.PIXEL_FORMAT_YVU_SEMIPLANAR_444, F.PIXEL_FORMAT_YUV_SEMIPLANAR_440,
          F.PIXEL_FORMAT_YUYV_PACKED_422, F.PIXEL_FORMAT_UYVY_PACKED_422,
          F.PIXEL_FORMAT_YVYU_PACKED_422, F.PIXEL_FORMAT_VYUY_PACKED_422,
          F.PIXEL_FORMAT_YUV_PACKED_444, F.PIXEL_FORMAT_RGB_888, F.PIXEL_FORMAT_BGR_888,
          F.PIXEL_FORMAT_ARGB_8888, F.PIXEL_FORMAT_BGRA_8888]
OUTPUTS = [F.PIXEL_FORMAT_YUV_400, NV12, NV21, F.PIXEL_FORMAT_YUV_SEMIPLANAR_422,
           F.PIXEL_FORMAT_YVU_SEMIPLANAR_422, F.PIXEL_FORMAT_YUV_PACKED_444,
           F.PIXEL_FORMAT_RGB_888, F.PIXEL_FORMAT_BGR_888, F.PIXEL_FORMAT_RGBA_8888,
           F.PIXEL_FORMAT_ABGR_8888]


def blank_output(fmt, w, h, aligned):
    """(sentinel-filled buffer, ws, hs) with row padding after the picture."""
    if fmt in SP:
        ws, hs = (align(w, 16) + 16, h) if aligned else (w + 1, h)
        return np.full(sp_size(fmt, ws, hs), SENTINEL, np.uint8), ws, hs
    bpp = 1 if fmt == F.PIXEL_FORMAT_YUV_400 else len(PACKED[fmt])
    ws = align(w, 16) * bpp + 16 if aligned else w * bpp + 1
    return np.full(ws * h, SENTINEL, np.uint8), ws, h


@pytest.mark.parametrize("family", ["310P", "310B"])
@pytest.mark.parametrize("fmt_in", INPUTS, ids=lambda f: F(f).name[13:])
def test_format_conversion_matches_jfif(family, fmt_in):
    w, h = 48, 32
    buf, ws, hs, y, uv, rgb_source = source_picture(fmt_in, w, h, family == "310P")
    # Tolerances: YUV sources go through the same OpenCV calls as the reference (exact) and,
    # for RGB outputs, a float32 JFIF conversion against the reference's float64 (a .5 may
    # round the other way: +-1). RGB sources add one more such rounding on the way in (+-1
    # on YCbCr, up to 2 once converted back to RGB, whose matrix gains reach 1.772).
    yuv_tol, rgb_tol = (1, 2) if rgb_source else (0, 1)
    for fmt_out in OUTPUTS:
        out, ows, ohs = blank_output(fmt_out, w, h, family == "310P")
        run(fmt_in, buf, w, h, ws, hs, fmt_out, out, w, h, ows, ohs, family, interpolation=1)
        got, want = read_output(fmt_out, out, w, h, ows, ohs), expected_output(fmt_out, y, uv, w, h)
        name = F(fmt_out).name
        if fmt_out in SP:
            assert max_diff(got[0], want[0]) <= yuv_tol, name
            assert max_diff(got[1], want[1]) <= yuv_tol, name
            mask = sp_mask(fmt_out, out.size, ows, ohs, (0, w - 1, 0, h - 1))
        else:
            rgb_out = "R" in PACKED.get(fmt_out, "")
            assert max_diff(got, want) <= (rgb_tol if rgb_out else yuv_tol), name
            row = w * len(PACKED.get(fmt_out, "Y"))
            mask = (np.arange(ows * ohs) % ows) < row
        assert_untouched(out, mask)


def test_rgb_resize_into_nv12_on_310():
    w, h = 120, 80
    rgb = gradient(h, w, 3, seed=31)
    ws = align(w, 16) * 3
    buf = pack_rows(packed_rows("RGB", rgb=rgb), ws, h)
    out, ows, ohs = blank_nv(NV12, 60, 40)
    run(F.PIXEL_FORMAT_RGB_888, buf, w, h, ws, h, NV12, out, 60, 40, ows, ohs, "310",
        interpolation=1)
    ycc = to_u8(rgb_to_ycc(rgb))
    gy, guv = read_sp(NV12, out, 60, 40, ows, ohs)
    # +-1: the core's float32 conversion may round a .5 differently before the resize.
    assert max_diff(gy, cv2.resize(ycc[..., 0], (60, 40), interpolation=LINEAR)) <= 1
    assert max_diff(guv, cv2.resize(ycc[..., 1:], (30, 20), interpolation=LINEAR)) <= 1


def test_gray_input_gets_neutral_chroma():
    y = noise((40, 64), 37)
    buf = pack_rows(y, 64, 40, size=64 * 40 * 3 // 2)     # 310 sizes YUV400 like 4:2:0
    out, ows, ohs = blank_nv(NV21, 32, 20)
    run(F.PIXEL_FORMAT_YUV_400, buf, 64, 40, 64, 40, NV21, out, 32, 20, ows, ohs, "310",
        interpolation=2)
    gy, guv = read_sp(NV21, out, 32, 20, ows, ohs)
    np.testing.assert_array_equal(gy, cv2.resize(y, (32, 20), interpolation=NEAREST))
    assert (guv == 128).all()


def test_paste_into_rgb_output_leaves_the_rest():
    buf, y, uv = nv(NV12, 64, 48, seed=41)
    ows, oh = 64 * 3, 40
    out = np.full(ows * oh, SENTINEL, np.uint8)
    run(NV12, buf, 64, 48, 64, 48, F.PIXEL_FORMAT_RGB_888, out, 64, oh, ows, oh, "310B",
        crop=Roi(0, 63, 0, 47), paste=Roi(5, 34, 7, 26), interpolation=1)
    mask = np.zeros((oh, ows), bool)
    mask[7:27, 15:105] = True
    assert_untouched(out, mask.reshape(-1))
    assert (out.reshape(oh, ows)[mask] != SENTINEL).any()


# ================================================================== device-side rules
def test_roi_parity_per_family():
    buf, _, _ = nv(NV12, 64, 48)
    out, ows, ohs = blank_nv(NV12, 32, 24)
    args = (NV12, buf, 64, 48, 64, 48, NV12, out, 32, 24, ows, ohs)
    for roi in (Roi(1, 40, 0, 29), Roi(0, 40, 0, 29), Roi(0, 39, 1, 29), Roi(0, 39, 0, 28)):
        with pytest.raises(DvppTaskFailed, match="left and top must be even, right and bottom odd"):
            run(*args, "310", crop=roi)
        run(*args, "310P", crop=roi)
    with pytest.raises(DvppTaskFailed, match="paste area .* breaks the 310 family's ROI rule"):
        run(*args, "310", paste=Roi(0, 30, 0, 23))


def test_paste_left_alignment():
    buf, _, _ = nv(NV12, 64, 48)
    out, ows, ohs = blank_nv(NV12, 64, 48)
    args = (NV12, buf, 64, 48, 64, 48, NV12, out, 64, 48, ows, ohs)
    for family in ("310", "310P"):
        with pytest.raises(DvppTaskFailed, match="paste area left 8 is not a multiple of 16"):
            run(*args, family, paste=Roi(8, 39, 0, 29))
        run(*args, family, paste=Roi(16, 47, 0, 29))
    run(*args, "310B", paste=Roi(3, 40, 1, 30))


@pytest.mark.parametrize("crop_w, crop_h, paste_w, paste_h, ok", [
    (320, 192, 10, 6, True), (322, 192, 10, 6, False), (320, 198, 10, 6, False),
    (10, 6, 160, 96, True), (10, 6, 162, 96, False), (10, 6, 160, 98, False)])
def test_scale_limits(crop_w, crop_h, paste_w, paste_h, ok):
    buf, _, _ = nv(NV12, 336, 200)
    out, ows, ohs = blank_nv(NV12, 176, 100)
    args = (NV12, buf, 336, 200, 336, 200, NV12, out, 176, 100, ows, ohs, "310")
    crop, paste = Roi(0, crop_w - 1, 0, crop_h - 1), Roi(0, paste_w - 1, 0, paste_h - 1)
    if ok:
        run(*args, crop=crop, paste=paste)
    else:
        with pytest.raises(DvppTaskFailed, match=r"outside \[1/32, 16\]"):
            run(*args, crop=crop, paste=paste)


@pytest.mark.parametrize("crop, paste, message", [
    (Roi(0, 65, 0, 29), None, "does not lie inside the 64x48 input"),
    (Roi(0, 39, 0, 49), None, "does not lie inside the 64x48 input"),
    (None, Roi(0, 33, 0, 23), "does not lie inside the 32x24 output"),
    (Roi(0, 7, 0, 29), None, "is 8x30; VPC areas are at least 10x6"),
    (Roi(0, 39, 0, 3), None, "is 40x4; VPC areas are at least 10x6"),
    (None, Roi(0, 31, 0, 3), "is 32x4; VPC areas are at least 10x6"),
    (Roi(20, 9, 0, 29), None, "is empty"),
    (Roi(-2, 29, 0, 29), None, "does not lie inside"),   # the binding parses uint32; the core
])                                                       # still refuses what it cannot slice
def test_roi_range(crop, paste, message):
    buf, _, _ = nv(NV12, 64, 48)
    out, ows, ohs = blank_nv(NV12, 32, 24)
    with pytest.raises(DvppTaskFailed, match=message):
        run(NV12, buf, 64, 48, 64, 48, NV12, out, 32, 24, ows, ohs, "310B", crop=crop,
            paste=paste)


def test_interpolations_and_formats_per_family():
    buf, _, _ = nv(NV12, 64, 48)
    out, ows, ohs = blank_nv(NV12, 32, 24)
    args = (NV12, buf, 64, 48, 64, 48, NV12, out, 32, 24, ows, ohs)
    with pytest.raises(FeatureUnsupported, match="interpolation 3 is not supported on the 310P"):
        run(*args, "310P", interpolation=3)
    with pytest.raises(FeatureUnsupported, match="interpolation 5"):
        run(*args, "310", interpolation=5)
    rgb = np.zeros(96 * 24, np.uint8)
    with pytest.raises(FormatNotMatch, match="output format RGB_888 is not supported on the 310"):
        run(NV12, buf, 64, 48, 64, 48, F.PIXEL_FORMAT_RGB_888, rgb, 32, 24, 96, 24, "310")
    with pytest.raises(DvppTaskFailed, match="interpolation 5 .* takes YUV inputs and NV12/NV21"):
        run(NV12, buf, 64, 48, 64, 48, F.PIXEL_FORMAT_RGB_888, rgb, 32, 24, 96, 24, "310B",
            interpolation=5)


# ------------------------------------------------------------------ check_picture
def nv_fields(w, h, ws=None, hs=None, size=None, fmt=NV12):
    ws, hs = ws if ws is not None else align(w, 16), hs if hs is not None else align(h, 2)
    return Fields(fmt, w, h, ws, hs, size if size is not None else ws * hs * 3 // 2)


@pytest.mark.parametrize("family, fields, output, message", [
    ("310", nv_fields(100, 60, ws=100), False, "width stride 100 is not a multiple of 16"),
    ("310P", nv_fields(100, 60, ws=104), True, "width stride 104 is not a multiple of 16"),
    ("310", nv_fields(100, 61, hs=61), False, "height stride 61 is odd"),
    ("310B", nv_fields(100, 61, ws=100, hs=61), False, "height stride 61 is odd"),
    ("310B", nv_fields(100, 60, ws=99), False, "width stride 99 is less than a row"),
    ("310", Fields(F.PIXEL_FORMAT_RGB_888, 100, 60, 112, 60, 112 * 60), False,
     r"width stride 112 is less than a row of the picture \(100 pixels x 3 bytes = 300\): "
     r"set the width stride to at least 336"),
    ("310", nv_fields(100, 60, hs=58), False, "height stride 58 is less than the height 60"),
    ("310", nv_fields(10, 6), False, "width stride 16 is outside 32..16384"),
    ("310", nv_fields(100, 60, size=112 * 60 * 3 // 2 - 1), False,
     "buffer holds 10079 bytes but .* needs 10080"),
    ("310", Fields(F.PIXEL_FORMAT_YUV_400, 100, 60, 112, 60, 112 * 60), False,
     "needs 10080"),                     # 310 sizes gray like 4:2:0
    ("310", nv_fields(4098, 100), True, "outputs are at most 4096x4096"),
    ("310B", nv_fields(4096, 8194), True, "outputs are at most 4096x8192"),
    ("310", nv_fields(101, 60), True, "need an even width and height"),
    ("310", nv_fields(9, 60, ws=32), True, "at least 10x6"),
    ("310", nv_fields(100, 5), False, "at least 10x6"),
    ("310", Fields(F.PIXEL_FORMAT_RGB_888, 5000, 100, align(5000, 16) * 3, 100,
                   align(5000, 16) * 300), False, "8K path.* takes only"),
    ("310P", Fields(F.PIXEL_FORMAT_RGB_888, 100, 5000, 336, 5000, 336 * 5000), False,
     "8K path"),
    ("310", nv_fields(8200, 100), False, "inputs are at most 8192x8192"),
    ("310", Fields(F.PIXEL_FORMAT_YUV_SEMI_PLANNER_420_10BIT, 100, 60, 112, 60, 10 ** 6),
     False, "no byte layout openacl emulates"),
    ("310", Fields(0, 0, 0, 0, 0, 0), True, "is 0x0"),
])
def test_check_picture_refuses(family, fields, output, message):
    with pytest.raises(DvppTaskFailed, match=message):
        check_picture(fields, fam(family), "output" if output else "input", output)


@pytest.mark.parametrize("family, fields, output", [
    ("310", nv_fields(100, 60), False),
    ("310", nv_fields(101, 61), False),                  # odd input: rounded down later
    ("310B", nv_fields(100, 61, ws=100, hs=62), False),
    ("310B", nv_fields(100, 60, ws=100, hs=60), True),   # no stride alignment on 310B
    ("310B", Fields(F.PIXEL_FORMAT_RGB_888, 101, 61, 303, 61, 303 * 61), False),
    ("310", Fields(F.PIXEL_FORMAT_RGB_888, 100, 60, 336, 60, 336 * 60), False),
    ("310P", Fields(F.PIXEL_FORMAT_YUV_400, 100, 60, 112, 60, 112 * 60), False),
    ("310", nv_fields(6000, 4000), False),               # 8K path
    ("310P", Fields(F.PIXEL_FORMAT_YUV_400, 8192, 100, 8192, 100, 8192 * 100), False),
    ("310", nv_fields(4096, 4096), True),
    ("310B", nv_fields(4096, 8192), True),
    ("310", nv_fields(10, 6, ws=32), True),
])
def test_check_picture_accepts(family, fields, output):
    check_picture(fields, fam(family), "output" if output else "input", output)


# ================================================================== batches
def test_batch_pairs():
    assert batch_pairs([1, 2, 3], 3) == [0, 1, 1, 2, 2, 2]
    assert batch_pairs([8], 1) == [0] * 8
    assert batch_pairs([2], 4) == [0, 0]
    assert batch_pairs([256], 1) == [0] * 256
    for roi_nums, count, message in (([1, 1], 1, "source batch holds 1"),
                                     ([], 1, "0 entries"),
                                     ([1, 0], 2, r"roi_nums\[1\] is 0"),
                                     ([65536], 1, "1..65535"),
                                     ([200, 57], 2, "add up to 257")):
        with pytest.raises(InvalidParam, match=message):
            batch_pairs(roi_nums, count)
