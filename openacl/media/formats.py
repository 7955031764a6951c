"""Pixel formats and the rules of each SoC family (``../shared/spec/dvpp-api.md`` §1, §5, §6, §9).

Every per-SoC rule of ``acl.media`` is decided here from ``acl.get_soc_name()``
(``OPENACL_SOC_NAME``), so the rest of the module asks "what does this family do" and never
compares SoC names itself. The families:

* ``310``  — Ascend310 (and 910): DVPP V100; JPEGD strides 128/16, VPC outputs NV12/NV21 only,
  ROI left/top even and right/bottom odd.
* ``310P`` — Ascend310P: DVPP V200; JPEGD strides 64/16, more formats, no ROI parity rule.
* ``310B`` — Ascend310B (and 910B): strides need no alignment, no ROI rules, PNG decode.
"""

from __future__ import annotations

from dataclasses import dataclass

from openacl import config
from openacl.constants import PixelFormat as F

__all__ = ["Family", "FAMILIES", "family", "align", "format_name", "format_names",
           "MIN_JPEG_SIDE", "SEMIPLANAR_420"]

MIN_JPEG_SIDE = 32


def align(value: int, to: int) -> int:
    return -(-value // to) * to


def format_name(fmt: int) -> str:
    """``RGB_888`` for 12: the pixel format as messages name it."""
    try:
        return F(fmt).name.replace("PIXEL_FORMAT_", "")
    except ValueError:
        return f"format {fmt}"


def format_names(formats) -> str:
    return ", ".join(format_name(f) for f in sorted(formats))


SEMIPLANAR_420 = _SP420 = frozenset({F.PIXEL_FORMAT_YUV_SEMIPLANAR_420,
                                    F.PIXEL_FORMAT_YVU_SEMIPLANAR_420})   # NV12, NV21
_PACKED_422 = frozenset({F.PIXEL_FORMAT_YUYV_PACKED_422, F.PIXEL_FORMAT_UYVY_PACKED_422,
                         F.PIXEL_FORMAT_YVYU_PACKED_422, F.PIXEL_FORMAT_VYUY_PACKED_422})
_RGBX = frozenset({F.PIXEL_FORMAT_ARGB_8888, F.PIXEL_FORMAT_ABGR_8888,
                   F.PIXEL_FORMAT_RGBA_8888, F.PIXEL_FORMAT_BGRA_8888})


@dataclass(frozen=True)
class Family:
    """What one SoC family's DVPP accepts and produces."""

    name: str                          # "310", "310P" or "310B"
    jpegd_outputs: frozenset           # dvpp_jpeg_decode_async output formats
    jpegd_stride: int                  # JPEGD output width-stride alignment
    vpc_inputs: frozenset
    vpc_outputs: frozenset
    vpc_aligned: bool                  # strides aligned to 16 (width) and 2 (height)
    roi_parity: bool                   # left/top even, right/bottom odd
    paste_align: int                   # paste-area left must be a multiple of this
    max_jpeg_side: int
    png: bool                          # PNG decode available (acl.media layer of this family)
    extended_vpc: bool                 # convert_color, pyr_down, channel mode (310P and later)
    interpolations: frozenset

    @property
    def jpege_inputs(self) -> frozenset:
        return _SP420 | _PACKED_422


_V100_JPEGD = frozenset({F.PIXEL_FORMAT_YUV_SEMIPLANAR_420, F.PIXEL_FORMAT_YVU_SEMIPLANAR_420,
                         F.PIXEL_FORMAT_YVU_SEMIPLANAR_422, F.PIXEL_FORMAT_YVU_SEMIPLANAR_444,
                         F.PIXEL_FORMAT_YVU_SEMIPLANAR_440, F.PIXEL_FORMAT_UNKNOWN})
_V200_JPEGD = _V100_JPEGD | {F.PIXEL_FORMAT_YUV_400, F.PIXEL_FORMAT_YUV_SEMIPLANAR_422,
                             F.PIXEL_FORMAT_YUV_SEMIPLANAR_444, F.PIXEL_FORMAT_YUV_SEMIPLANAR_440}
_V100_VPC_IN = frozenset(F(v) for v in range(0, 20))
_V200_VPC_IN = frozenset(F(v) for v in range(0, 18)) | {F.PIXEL_FORMAT_YUV_SEMIPLANAR_440,
                                                        F.PIXEL_FORMAT_YVU_SEMIPLANAR_440}
_V200_VPC_OUT = frozenset({F.PIXEL_FORMAT_YUV_400, F.PIXEL_FORMAT_YUV_SEMIPLANAR_420,
                           F.PIXEL_FORMAT_YVU_SEMIPLANAR_420, F.PIXEL_FORMAT_YUV_SEMIPLANAR_422,
                           F.PIXEL_FORMAT_YVU_SEMIPLANAR_422, F.PIXEL_FORMAT_YUV_PACKED_444,
                           F.PIXEL_FORMAT_RGB_888, F.PIXEL_FORMAT_BGR_888}) | _RGBX

FAMILIES = {
    "310": Family("310", _V100_JPEGD, 128, _V100_VPC_IN, _SP420, True, True, 16, 8192, True,
                  False, frozenset(range(5))),
    "310P": Family("310P", _V200_JPEGD, 64, _V200_VPC_IN, _V200_VPC_OUT, True, False, 16, 8192,
                   False, True, frozenset(range(3))),
    "310B": Family("310B", _V200_JPEGD, 64, _V200_VPC_IN, _V200_VPC_OUT, False, False, 1, 16384,
                   True, True, frozenset(range(6))),
}


def family(soc_name: str | None = None) -> Family:
    """The family of ``soc_name`` (default: what ``acl.get_soc_name`` answers)."""
    name = (soc_name if soc_name is not None else config.soc_name()).upper()
    if name.startswith(("ASCEND310P",)):
        return FAMILIES["310P"]
    if name.startswith(("ASCEND310B", "ASCEND910B", "ASCEND910_93")):
        return FAMILIES["310B"]
    return FAMILIES["310"]
