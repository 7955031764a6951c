"""The pixel core of DVPP's VPC: resize, crop, crop-and-paste and format conversion
(``../shared/spec/dvpp-api.md`` §5.2, §9).

One operation does all of it: take the crop area of the input (the whole picture when there is
none), scale it to the paste area of the output (the whole output when there is none) and write
it there; output bytes outside the paste area, and padding bytes between width and stride, are
never written (that is how letterboxing works on the device). The rules the device checks when a
task runs (strides, buffer size, ROI parity, scale range...) raise ``DvppTaskFailed``, which the
stream reports at the next synchronize.

How the pixels are computed:

* Planes are resized separately and straight into the output buffer: Y at full resolution and
  the interleaved chroma as one 2-channel image at its own resolution, so an NV12 -> NV12 resize
  costs two ``cv2.resize`` calls and no copy of the input. NV12 <-> NV21 swaps U and V on the
  (small) resized chroma.
* Inputs that are not semi-planar (packed YUV, RGB) are converted to full-resolution YCbCr (JFIF,
  ``layout``) on the crop area only; outputs that are not semi-planar or gray are written through
  ``Picture.write_ycbcr``.
* Kernels per ``interpolation`` (§9.1): bilinear and nearest are OpenCV's (``INTER_LINEAR``,
  ``INTER_NEAREST``). Approximations: Ascend310's default (0) is an undisclosed high-order filter,
  emulated as bilinear; Ascend310B's high-order mode 5 is emulated with ``INTER_CUBIC``. The
  "close to TensorFlow" modes (3, 4 on Ascend310) follow legacy ``tf.image.resize_bilinear`` /
  ``resize_nearest_neighbor`` (no half-pixel centres: source = destination * in/out), computed in
  float32 as TensorFlow does and rounded to the nearest byte.
* A semi-planar output whose paste area starts or ends on an odd pixel (possible only where the
  family has no ROI parity rule) gets new chroma only for the chroma samples whose pixels all lie
  inside the paste area, so that nothing outside it changes; the device's choice is undocumented.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openacl.constants import PixelFormat as F
from openacl.errors import DvppTaskFailed, FeatureUnsupported, FormatNotMatch, InvalidParam
from openacl.media.formats import Family, align, format_name, format_names
from openacl.media.layout import Layout, Picture, layout_of, min_buffer_size

__all__ = ["Roi", "check_picture", "crop_resize_paste", "batch_pairs"]

MIN_WIDTH, MIN_HEIGHT = 10, 6            # smallest picture, crop area and paste area
MAX_SIDE = 4096                          # largest output side (and input side off the 8K path)
MAX_8K_SIDE = 8192                       # largest input side on the "8K" path
MAX_310B_OUTPUT = (4096, 8192)           # width x height (A2 documentation, §5.2)
WIDTH_STRIDE_RANGE = (32, 16384)         # bytes, Ascend310/310P (16384 = 4096 ARGB pixels)
HEIGHT_STRIDE_RANGE = (6, 16384)         # rows, Ascend310/310P
SCALE_LIMITS = (32, 16)                  # paste/crop per axis within [1/32, 16]
MAX_BATCH_AREAS = 256
MAX_ROI_NUM = 65535

_NV = frozenset({F.PIXEL_FORMAT_YUV_SEMIPLANAR_420, F.PIXEL_FORMAT_YVU_SEMIPLANAR_420})
# Inputs the 8K path (a side in (4096, 8192]) takes: Ascend310 NV12/NV21 only; Ascend310P also
# gray, the other semi-planar formats and packed 4:2:2 (CANN 6.0.1 VPC restrictions).
_8K_INPUTS = {"310": _NV,
              "310P": _NV | {F(v) for v in range(0, 11)}}
_ROUNDED = " (odd input sides rounded down to even)"
_440 = frozenset({F.PIXEL_FORMAT_YUV_SEMIPLANAR_440, F.PIXEL_FORMAT_YVU_SEMIPLANAR_440})


@dataclass(frozen=True)
class Roi:
    """A crop or paste area in pixels; all four offsets are inclusive (pyACL's ROI config)."""

    left: int
    right: int
    top: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left + 1

    @property
    def height(self) -> int:
        return self.bottom - self.top + 1

    def __str__(self) -> str:
        return f"(left {self.left}, right {self.right}, top {self.top}, bottom {self.bottom})"


# ------------------------------------------------------------------ picture checks
def check_picture(fields, fam: Family, role: str, output: bool) -> None:
    """Check one picture description the way the device does when a VPC task runs (§5.2).

    ``fields`` has ``fmt, width, height, width_stride, height_stride, size`` (a ``PicFields``);
    ``role`` ("input"/"output") names the picture in messages. Raises ``DvppTaskFailed``.

    Ascend310/310P: width stride a multiple of 16 bytes, at least width x bytes per pixel, in
    32..16384; height stride even, at least the height, in 6..16384 (CANN 6.0.1 limits). Inputs
    10x6..4096x4096, or a side up to 8192 on the "8K" path with the formats it takes (the
    documented "resize only" restriction of that path is not enforced: the crop calls document
    the same 8K inputs). Ascend310B: no stride alignment (an even height stride where chroma is
    vertically subsampled), inputs up to 8192x8192 (4:4:0 up to 4096 wide). Outputs 10x6 ..
    4096x4096 (310B: 4096 wide x 8192 high), even sides where the format shares chroma.
    """
    lay = layout_of(fields.fmt)
    if lay is None:
        raise DvppTaskFailed(f"the VPC {role} format {format_name(fields.fmt)} has no byte layout "
                             f"openacl emulates (10-bit, planar and low-bit RGB formats are not "
                             f"emulated): use NV12/NV21 or another 8-bit format")
    if output:
        _check_output_size(fields, lay, fam, role)
    else:
        _check_input_size(fields, fam, role)
    _check_strides(fields, lay, fam, role)
    need = min_buffer_size(fields.fmt, fields.width_stride, fields.height_stride,
                           gray_as_420=(fam.name == "310"))
    if fields.size < need:
        raise DvppTaskFailed(f"the VPC {role} buffer holds {fields.size} bytes but a "
                             f"{format_name(fields.fmt)} picture of width stride {fields.width_stride} "
                             f"and height stride {fields.height_stride} needs {need}: allocate "
                             f"and set (dvpp_set_pic_desc_size) at least {need} bytes")


def _check_input_size(fields, fam: Family, role: str) -> None:
    width, height = fields.width, fields.height
    _check_min_size(width, height, role)
    if fam.name == "310B":
        limit = (MAX_SIDE if fields.fmt in _440 else MAX_8K_SIDE, MAX_8K_SIDE)
        if width > limit[0] or height > limit[1]:
            raise DvppTaskFailed(f"the VPC {role} picture is {width}x{height}; the largest "
                                 f"{format_name(fields.fmt)} input on the 310B family is "
                                 f"{limit[0]}x{limit[1]}: scale it down in steps")
        return
    if width <= MAX_SIDE and height <= MAX_SIDE:
        return
    # The "8K" path: a side in (4096, 8192] with only some formats.
    if width > MAX_8K_SIDE or height > MAX_8K_SIDE:
        raise DvppTaskFailed(f"the VPC {role} picture is {width}x{height}; inputs are at most "
                             f"{MAX_8K_SIDE}x{MAX_8K_SIDE}: scale it down in steps")
    allowed = _8K_INPUTS[fam.name]
    if fields.fmt not in allowed:
        raise DvppTaskFailed(f"the VPC {role} picture is {width}x{height} ({format_name(fields.fmt)}): "
                             f"a side above {MAX_SIDE} (the 8K path) takes only "
                             f"{format_names(allowed)} on the {fam.name} family: convert it first")


def _check_output_size(fields, lay: Layout, fam: Family, role: str) -> None:
    width, height = fields.width, fields.height
    _check_min_size(width, height, role)
    max_w, max_h = MAX_310B_OUTPUT if fam.name == "310B" else (MAX_SIDE, MAX_SIDE)
    if width > max_w or height > max_h:
        raise DvppTaskFailed(f"the VPC {role} picture is {width}x{height}; outputs are at most "
                             f"{max_w}x{max_h} on the {fam.name} family: use a smaller output")
    even_w, even_h = _even_sides(lay)
    if (even_w and width % 2) or (even_h and height % 2):
        raise DvppTaskFailed(f"the VPC {role} picture is {width}x{height}, but "
                             f"{format_name(fields.fmt)} outputs need an even "
                             f"{'width and height' if even_h else 'width'}: round the output "
                             f"size to even values")


def _check_min_size(width: int, height: int, role: str) -> None:
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise DvppTaskFailed(f"the VPC {role} picture is {width}x{height}; VPC pictures are at "
                             f"least {MIN_WIDTH}x{MIN_HEIGHT}: set its width and height "
                             f"(dvpp_set_pic_desc_width/height)")


def _check_strides(fields, lay: Layout, fam: Family, role: str) -> None:
    width, height = fields.width, fields.height
    ws, hs = fields.width_stride, fields.height_stride
    row = width * lay.bpp
    if ws < row:
        raise DvppTaskFailed(f"the VPC {role} width stride {ws} is less than a row of the "
                             f"picture ({width} pixels x {lay.bpp} bytes = {row}): set the width "
                             f"stride to at least {_stride_hint(width, lay, fam)}")
    if hs < height:
        raise DvppTaskFailed(f"the VPC {role} height stride {hs} is less than the height "
                             f"{height}: set it to at least {_hs_hint(height, lay, fam)}")
    if fam.vpc_aligned:
        _check_aligned_strides(ws, hs, width, height, lay, fam, role)
    elif lay.kind == "sp" and lay.sy == 2 and hs % 2:
        raise DvppTaskFailed(f"the VPC {role} height stride {hs} is odd; vertically subsampled "
                             f"chroma ({format_name(fields.fmt)}) needs an even height stride "
                             f"(align2(height) = {align(height, 2)})")


def _check_aligned_strides(ws: int, hs: int, width: int, height: int, lay: Layout,
                           fam: Family, role: str) -> None:
    if ws % 16:
        raise DvppTaskFailed(f"the VPC {role} width stride {ws} is not a multiple of 16, which "
                             f"the {fam.name} family requires: use "
                             f"{_stride_hint(width, lay, fam)} (align16(width) x bytes per pixel)")
    if hs % 2:
        raise DvppTaskFailed(f"the VPC {role} height stride {hs} is odd; the {fam.name} family "
                             f"needs it even: use align2(height) = {align(height, 2)}")
    low, high = WIDTH_STRIDE_RANGE
    if not low <= ws <= high:
        raise DvppTaskFailed(f"the VPC {role} width stride {ws} is outside {low}..{high} bytes "
                             f"on the {fam.name} family: use a width stride in that range")
    low, high = HEIGHT_STRIDE_RANGE
    if not low <= hs <= high:
        raise DvppTaskFailed(f"the VPC {role} height stride {hs} is outside {low}..{high} rows "
                             f"on the {fam.name} family: use a height stride in that range")


def _stride_hint(width: int, lay: Layout, fam: Family) -> int:
    return align(width, 16) * lay.bpp if fam.vpc_aligned else width * lay.bpp


def _hs_hint(height: int, lay: Layout, fam: Family) -> int:
    if fam.vpc_aligned or (lay.kind == "sp" and lay.sy == 2):
        return align(height, 2)
    return height


# ------------------------------------------------------------------ the operation
def crop_resize_paste(src: Picture, dst: Picture, crop: Roi | None, paste: Roi | None,
                      interpolation: int, fam: Family) -> None:
    """Scale the ``crop`` area of ``src`` into the ``paste`` area of ``dst`` (§9.3).

    ``crop`` None: the whole input; ``paste`` None: the whole output. ``interpolation`` is a
    resize config value valid for ``fam``. Raises ``FormatNotMatch`` for formats outside the
    family's VPC sets and ``DvppTaskFailed`` for what the device refuses when the task runs.
    """
    _check_formats(src.fmt, dst.fmt, fam)
    kernel = _kernel(interpolation, fam)
    _check_buffer(src, "input")
    _check_buffer(dst, "output")
    width, height = _usable_size(src, fam)
    if (width, height) != (src.width, src.height):
        # Work on the rounded picture: its chroma rows then fit the stride even where the
        # stride is the odd width itself (allowed on 310B).
        src = Picture(src.buf, src.fmt, width, height, src.ws, src.hs)
    _check_even_output(dst)
    crop = crop if crop is not None else Roi(0, width - 1, 0, height - 1)
    paste = paste if paste is not None else Roi(0, dst.width - 1, 0, dst.height - 1)
    _check_roi(crop, "crop", width, height, "input", fam)
    _check_roi(paste, "paste", dst.width, dst.height, "output", fam)
    if paste.left % fam.paste_align:
        raise DvppTaskFailed(f"paste area left {paste.left} is not a multiple of "
                             f"{fam.paste_align}, which the {fam.name} family requires: use "
                             f"{paste.left // fam.paste_align * fam.paste_align}")
    _check_scale(crop, paste)
    if kernel == cv2.INTER_CUBIC:
        _check_high_order(src, dst)
    luma, chroma = _source_planes(src, crop)
    _paste(dst, paste, luma, chroma, kernel)


def _check_formats(src_fmt: int, dst_fmt: int, fam: Family) -> None:
    if src_fmt not in fam.vpc_inputs:
        raise FormatNotMatch(f"VPC input format {format_name(src_fmt)} is not supported on the "
                             f"{fam.name} family; it takes {format_names(fam.vpc_inputs)}")
    if dst_fmt not in fam.vpc_outputs:
        raise FormatNotMatch(f"VPC output format {format_name(dst_fmt)} is not supported on the "
                             f"{fam.name} family; it writes {format_names(fam.vpc_outputs)}")


# Kernels: a cv2 interpolation flag, or one of the two legacy TensorFlow formulas.
_TF_BILINEAR, _TF_NEAREST = "tf-bilinear", "tf-nearest"
_KERNELS = {
    # 0: the undisclosed high-order filter, approximated by bilinear.
    "310": {0: cv2.INTER_LINEAR, 1: cv2.INTER_LINEAR, 2: cv2.INTER_NEAREST,
            3: _TF_BILINEAR, 4: _TF_NEAREST},
    "310P": {0: cv2.INTER_LINEAR, 1: cv2.INTER_LINEAR, 2: cv2.INTER_NEAREST},
    # 0 is "high order" in one document and "as 1" in another (§17): bilinear. 3 and 4 are
    # documented as 1 and 2; 5 (high order) approximated by bicubic.
    "310B": {0: cv2.INTER_LINEAR, 1: cv2.INTER_LINEAR, 2: cv2.INTER_NEAREST,
             3: cv2.INTER_LINEAR, 4: cv2.INTER_NEAREST, 5: cv2.INTER_CUBIC},
}


def _kernel(interpolation: int, fam: Family):
    kernels = _KERNELS[fam.name]
    if interpolation not in kernels:
        raise FeatureUnsupported(f"resize interpolation {interpolation} is not supported on the "
                                 f"{fam.name} family: use one of {sorted(kernels)}")
    return kernels[interpolation]


def _check_buffer(pic: Picture, role: str) -> None:
    # check_picture does this with the description's size; this guard keeps a short view from
    # surfacing as a numpy error when the core is called on its own.
    need = min_buffer_size(pic.fmt, pic.ws, pic.hs, gray_as_420=False)
    if pic.buf.size < need or pic.ws < pic.width * pic.layout.bpp or pic.hs < pic.height:
        raise DvppTaskFailed(f"the VPC {role} buffer of {pic.buf.size} bytes does not hold a "
                             f"{pic.width}x{pic.height} {format_name(pic.fmt)} picture with strides "
                             f"{pic.ws}x{pic.hs} ({need} bytes): check its description")


def _check_even_output(dst: Picture) -> None:
    # check_picture refuses these too; repeated so that the core alone never slices past a row.
    even_w, even_h = _even_sides(dst.layout)
    if (even_w and dst.width % 2) or (even_h and dst.height % 2):
        raise DvppTaskFailed(f"the VPC output picture is {dst.width}x{dst.height}, but "
                             f"{format_name(dst.fmt)} outputs need even sides where chroma is shared: "
                             f"round the output size to even values")


def _usable_size(src: Picture, fam: Family) -> tuple[int, int]:
    """The input size the device works on: odd sides are rounded down to even where the format
    shares chroma along them, and for every format on Ascend310 (the family with the ROI parity
    rule; its documentation states the rounding for any input)."""
    even_w, even_h = _even_sides(src.layout)
    if fam.roi_parity:
        even_w = even_h = True
    return (src.width & ~1 if even_w else src.width), (src.height & ~1 if even_h else src.height)


def _even_sides(lay: Layout) -> tuple[bool, bool]:
    """(width, height) must be even for this layout (chroma shared by two pixels)."""
    if lay.kind == "sp":
        return lay.sx == 2, lay.sy == 2
    return lay.kind == "yuv422", False


def _check_roi(roi: Roi, what: str, width: int, height: int, picture: str,
               fam: Family) -> None:
    if roi.left > roi.right or roi.top > roi.bottom:
        raise DvppTaskFailed(f"{what} area {roi} is empty: left must not exceed right nor top "
                             f"bottom (offsets are inclusive)")
    if roi.right >= width or roi.bottom >= height or roi.left < 0 or roi.top < 0:
        raise DvppTaskFailed(f"{what} area {roi} does not lie inside the {width}x{height} "
                             f"{picture} picture{_ROUNDED if what == 'crop' else ''}: right must "
                             f"be < {width} and bottom < {height}")
    if roi.width < MIN_WIDTH or roi.height < MIN_HEIGHT:
        raise DvppTaskFailed(f"{what} area {roi} is {roi.width}x{roi.height}; VPC areas are at "
                             f"least {MIN_WIDTH}x{MIN_HEIGHT}: enlarge it")
    if fam.roi_parity and (roi.left % 2 or roi.top % 2 or not roi.right % 2
                           or not roi.bottom % 2):
        legal = Roi(roi.left & ~1, _odd_within(roi.right, width), roi.top & ~1,
                    _odd_within(roi.bottom, height))
        raise DvppTaskFailed(f"{what} area {roi} breaks the {fam.name} family's ROI rule: left "
                             f"and top must be even, right and bottom odd: use e.g. {legal}")


def _odd_within(offset: int, limit: int) -> int:
    return offset | 1 if offset | 1 < limit else offset - 1


def _check_scale(crop: Roi, paste: Roi) -> None:
    down, up = SCALE_LIMITS
    for axis, c, p in (("width", crop.width, paste.width), ("height", crop.height, paste.height)):
        if p * down < c or p > c * up:
            raise DvppTaskFailed(f"scaling the crop {axis} {c} to the paste {axis} {p} is a "
                                 f"factor of {p / c:.4g}, outside [1/{down}, {up}]: resize in "
                                 f"two steps")


def _check_high_order(src: Picture, dst: Picture) -> None:
    if src.layout.kind in ("rgb", "rgbx") or dst.fmt not in _NV:
        raise DvppTaskFailed(f"interpolation 5 (high order) takes YUV inputs and NV12/NV21 "
                             f"outputs, not {format_name(src.fmt)} -> {format_name(dst.fmt)}: use "
                             f"interpolation 1 or 2")


# ------------------------------------------------------------------ pixels
class _Chroma:
    """Chroma of the crop area: ``pixels`` (h, w, 2) in memory order, ``v_first`` if V,U."""
    __slots__ = ("pixels", "v_first")

    def __init__(self, pixels: np.ndarray, v_first: bool):
        self.pixels = pixels
        self.v_first = v_first


def _source_planes(src: Picture, crop: Roi) -> tuple[np.ndarray, _Chroma | None]:
    """Y and chroma of the crop area, as views of the input where its format allows."""
    lay = src.layout
    rows = slice(crop.top, crop.bottom + 1)
    cols = slice(crop.left, crop.right + 1)
    if lay.kind in ("gray", "sp"):
        luma = src.rows()[rows, cols]
        if lay.kind == "gray":
            return luma, None
        # Chroma samples covering the crop area (exact when left/top are even, right/bottom odd).
        chroma = src.chroma()[crop.top // lay.sy:crop.bottom // lay.sy + 1,
                              crop.left // lay.sx:crop.right // lay.sx + 1]
        return luma, _Chroma(chroma, lay.v_first)
    ycc = _band(src, crop).to_ycbcr()[:, cols]
    return ycc[..., 0], _Chroma(ycc[..., 1:], False)


def _band(src: Picture, crop: Roi) -> Picture:
    """The crop rows of a packed picture as a picture of their own (columns 0..right, whole
    rows for packed 4:2:2 whose pixels come in pairs)."""
    count = crop.bottom - crop.top + 1
    start = crop.top * src.ws
    width = src.width & ~1 if src.layout.kind == "yuv422" else crop.right + 1
    return Picture(src.buf[start:start + src.ws * count], src.fmt, width, count, src.ws, count)


def _paste(dst: Picture, paste: Roi, luma: np.ndarray, chroma: _Chroma | None, kernel) -> None:
    lay = dst.layout
    rows = slice(paste.top, paste.bottom + 1)
    cols = slice(paste.left, paste.right + 1)
    if lay.kind in ("gray", "sp"):
        _resize(luma, dst.rows()[rows, cols], kernel)
        if lay.kind == "sp":
            target = _chroma_target(dst, paste)
            _resize_chroma(chroma, target, lay.v_first, kernel)
        return
    ycc = np.empty((paste.height, paste.width, 3), np.uint8)
    _resize(luma, ycc[..., 0], kernel)
    _resize_chroma(chroma, ycc[..., 1:], False, kernel)
    dst.write_ycbcr(ycc, paste.top, paste.left)


def _chroma_target(dst: Picture, paste: Roi) -> np.ndarray:
    """The output chroma samples all of whose pixels lie inside the paste area (a view)."""
    lay = dst.layout
    top, bottom = -(-paste.top // lay.sy), (paste.bottom + 1) // lay.sy
    left, right = -(-paste.left // lay.sx), (paste.right + 1) // lay.sx
    return dst.chroma()[top:bottom, left:right]


def _resize_chroma(chroma: _Chroma | None, target: np.ndarray, v_first: bool, kernel) -> None:
    if chroma is None:                   # a gray input has neutral chroma
        target[...] = 128
    elif chroma.v_first == v_first:
        _resize(chroma.pixels, target, kernel)
    else:                                # U,V <-> V,U: swap on the (small) resized result
        scaled = np.empty(target.shape, np.uint8)
        _resize(chroma.pixels, scaled, kernel)
        # Each U,V pair read as one 16-bit word and byte-swapped: 5x faster than a copy
        # through a reversed (negative-stride) view.
        target.view(np.uint16)[..., 0] = scaled.view(np.uint16)[..., 0].byteswap()


def _resize(image: np.ndarray, out: np.ndarray, kernel) -> None:
    """Scale ``image`` to ``out``'s size, writing into ``out`` (a view of the output)."""
    height, width = out.shape[:2]
    if kernel == _TF_BILINEAR:
        out[...] = _tf_bilinear(image, width, height)
    elif kernel == _TF_NEAREST:
        out[...] = image[_tf_nearest_index(image.shape[0], height)][
            :, _tf_nearest_index(image.shape[1], width)]
    elif out.strides[-1] == 1 and out.strides[1] == (out.shape[2] if out.ndim == 3 else 1):
        # Rows of ``out`` are contiguous: OpenCV writes straight into the output buffer
        # (should it ever allocate instead, copy what it returns).
        result = cv2.resize(image, (width, height), dst=out, interpolation=kernel)
        if result is not out:
            out[...] = result
    else:                                # a channel of the YCbCr scratch image
        out[...] = cv2.resize(np.ascontiguousarray(image), (width, height),
                              interpolation=kernel)


def _tf_positions(size_in: int, size_out: int) -> np.ndarray:
    # Legacy TensorFlow (align_corners=False, half_pixel_centers=False): in = out * in/out,
    # in float32 as its kernels compute it.
    scale = np.float32(size_in) / np.float32(size_out)
    return np.arange(size_out, dtype=np.float32) * scale


def _tf_nearest_index(size_in: int, size_out: int) -> np.ndarray:
    return np.minimum(np.floor(_tf_positions(size_in, size_out)).astype(np.intp), size_in - 1)


def _tf_bilinear(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Legacy ``tf.image.resize_bilinear``, separably (rows, then columns), rounded to bytes."""
    y0, y1, fy = _tf_taps(image.shape[0], height)
    x0, x1, fx = _tf_taps(image.shape[1], width)
    extra = (1,) * (image.ndim - 2)      # broadcast the weights over channels
    top = image[y0].astype(np.float32)
    rows = top + (image[y1].astype(np.float32) - top) * fy.reshape((-1, 1) + extra)
    left = rows[:, x0]
    out = left + (rows[:, x1] - left) * fx.reshape((1, -1) + extra)
    return np.rint(out).astype(np.uint8)


def _tf_taps(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pos = _tf_positions(size_in, size_out)
    low = np.floor(pos)
    high = np.minimum(np.ceil(pos), size_in - 1)
    return low.astype(np.intp), high.astype(np.intp), pos - low


# ------------------------------------------------------------------ batches
def batch_pairs(roi_nums: list[int], count_src: int) -> list[int]:
    """The source picture of each batch output: source ``i`` is cropped ``roi_nums[i]`` times,
    in order (§9.4). Raises ``InvalidParam`` for what the C layer refuses at submit."""
    if not roi_nums or len(roi_nums) > count_src:
        raise InvalidParam(f"roi_nums has {len(roi_nums)} entries but the source batch holds "
                           f"{count_src} pictures: give one entry (1 or more) per source picture "
                           f"used, at most {count_src}")
    for index, count in enumerate(roi_nums):
        if not 1 <= count <= MAX_ROI_NUM:
            raise InvalidParam(f"roi_nums[{index}] is {count}; each source picture is cropped "
                               f"1..{MAX_ROI_NUM} times")
    total = sum(roi_nums)
    if total > MAX_BATCH_AREAS:
        raise InvalidParam(f"roi_nums add up to {total} crop areas; a batch takes 1.."
                           f"{MAX_BATCH_AREAS}: split it into several batches")
    return [index for index, count in enumerate(roi_nums) for _ in range(count)]


# ------------------------------------------------------------------ helpers