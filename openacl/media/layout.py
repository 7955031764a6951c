"""How a picture lies in memory, per pixel format (``../shared/spec/dvpp-api.md`` §5.1).

A ``Picture`` is a numpy view of a DVPP buffer plus the descriptor fields that say how to read
it (format, width, height, width stride in bytes, height stride in rows). It gives the planes
as writable views (no copy) and converts between any supported format and full-resolution
YCbCr (``to_ycbcr`` / ``write_ycbcr``), the common ground of VPC's format conversions.

Colour: YCbCr is JFIF full range (BT.601 matrix, what a JPEG holds), also for RGB<->YUV.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openacl.constants import PixelFormat as F

__all__ = ["Layout", "layout_of", "min_buffer_size", "Picture"]


@dataclass(frozen=True)
class Layout:
    kind: str            # "sp" (Y plane + interleaved chroma), "gray", "yuv422" (packed),
                         # "yuv444" (packed), "rgb" (3 bytes), "rgbx" (4 bytes)
    sx: int = 1          # chroma subsampling (semi-planar)
    sy: int = 1
    v_first: bool = False
    order: str = ""      # byte order of packed pixels
    bpp: int = 1         # bytes per pixel of a row (width stride >= width * bpp)

    def chroma_shape(self, width: int, height: int) -> tuple[int, int]:
        return -(-height // self.sy), -(-width // self.sx)


_LAYOUTS = {
    F.PIXEL_FORMAT_YUV_400: Layout("gray"),
    F.PIXEL_FORMAT_YUV_SEMIPLANAR_420: Layout("sp", 2, 2),
    F.PIXEL_FORMAT_YVU_SEMIPLANAR_420: Layout("sp", 2, 2, True),
    F.PIXEL_FORMAT_YUV_SEMIPLANAR_422: Layout("sp", 2, 1),
    F.PIXEL_FORMAT_YVU_SEMIPLANAR_422: Layout("sp", 2, 1, True),
    F.PIXEL_FORMAT_YUV_SEMIPLANAR_444: Layout("sp", 1, 1),
    F.PIXEL_FORMAT_YVU_SEMIPLANAR_444: Layout("sp", 1, 1, True),
    F.PIXEL_FORMAT_YUV_SEMIPLANAR_440: Layout("sp", 1, 2),
    F.PIXEL_FORMAT_YVU_SEMIPLANAR_440: Layout("sp", 1, 2, True),
    F.PIXEL_FORMAT_YUYV_PACKED_422: Layout("yuv422", order="YUYV", bpp=2),
    F.PIXEL_FORMAT_UYVY_PACKED_422: Layout("yuv422", order="UYVY", bpp=2),
    F.PIXEL_FORMAT_YVYU_PACKED_422: Layout("yuv422", order="YVYU", bpp=2),
    F.PIXEL_FORMAT_VYUY_PACKED_422: Layout("yuv422", order="VYUY", bpp=2),
    F.PIXEL_FORMAT_YUV_PACKED_444: Layout("yuv444", order="YUV", bpp=3),
    F.PIXEL_FORMAT_RGB_888: Layout("rgb", order="RGB", bpp=3),
    F.PIXEL_FORMAT_BGR_888: Layout("rgb", order="BGR", bpp=3),
    F.PIXEL_FORMAT_ARGB_8888: Layout("rgbx", order="ARGB", bpp=4),
    F.PIXEL_FORMAT_ABGR_8888: Layout("rgbx", order="ABGR", bpp=4),
    F.PIXEL_FORMAT_RGBA_8888: Layout("rgbx", order="RGBA", bpp=4),
    F.PIXEL_FORMAT_BGRA_8888: Layout("rgbx", order="BGRA", bpp=4),
}


def layout_of(fmt: int) -> Layout | None:
    """The layout of ``fmt``, or None for formats openacl cannot lay out (10-bit, planar...)."""
    return _LAYOUTS.get(fmt)


def min_buffer_size(fmt: int, width_stride: int, height_stride: int, gray_as_420: bool) -> int:
    """The smallest buffer (bytes) that holds a picture of these strides (§5.2).

    ``gray_as_420``: Ascend310 sizes YUV400 pictures like YUV420SP (ws*hs*3/2).
    """
    lay = _LAYOUTS[fmt]
    plane = width_stride * height_stride
    if lay.kind == "gray":
        return plane * 3 // 2 if gray_as_420 else plane
    if lay.kind == "sp":
        return plane + plane * 2 // (lay.sx * lay.sy)
    return plane


# JFIF YCbCr <-> RGB (BT.601, full range), as libjpeg does it.
_RGB2YCC = np.array([[0.299, 0.587, 0.114],
                     [-0.168735892, -0.331264108, 0.5],
                     [0.5, -0.418687589, -0.081312411]], np.float32)
_YCC2RGB = np.linalg.inv(_RGB2YCC).astype(np.float32)


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    out = rgb.astype(np.float32) @ _RGB2YCC.T
    out[..., 1:] += 128.0
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    centred = ycc.astype(np.float32)
    centred[..., 1:] -= 128.0
    return np.clip(np.rint(centred @ _YCC2RGB.T), 0, 255).astype(np.uint8)


class Picture:
    """A picture in a buffer: ``buf`` is a writable uint8 view of at least the needed bytes."""

    def __init__(self, buf: np.ndarray, fmt: int, width: int, height: int,
                 width_stride: int, height_stride: int):
        self.buf = buf
        self.fmt = fmt
        self.layout = _LAYOUTS[fmt]
        self.width = width
        self.height = height
        self.ws = width_stride
        self.hs = height_stride

    # ------------------------------------------------------------------ plane views
    def rows(self) -> np.ndarray:
        """The first plane as (height_stride, width_stride) bytes."""
        return self.buf[:self.ws * self.hs].reshape(self.hs, self.ws)

    def luma(self) -> np.ndarray:
        """The Y plane of a semi-planar or gray picture, (height, width)."""
        return self.rows()[:self.height, :self.width]

    def chroma(self) -> np.ndarray:
        """The interleaved chroma of a semi-planar picture, (ch, cw, 2) in memory order."""
        lay = self.layout
        rows = self.hs // lay.sy
        pitch = self.ws * 2 // lay.sx
        start = self.ws * self.hs
        plane = self.buf[start:start + rows * pitch].reshape(rows, pitch)
        ch, cw = lay.chroma_shape(self.width, self.height)
        cw = min(cw, pitch // 2)      # an odd width with stride == width: the last column is cut
        return plane[:ch, :cw * 2].reshape(ch, cw, 2)

    def chroma_uv(self) -> np.ndarray:
        """The chroma as (ch, cw, 2) in U, V order (a view where the format is U-first)."""
        uv = self.chroma()
        return uv[..., ::-1] if self.layout.v_first else uv

    def pixels(self) -> np.ndarray:
        """A packed picture's pixels as (height, width, bytes per pixel)."""
        bpp = self.layout.bpp
        if self.layout.kind == "yuv422":
            return self.rows()[:self.height, :self.width * 2]
        return self.rows()[:self.height, :self.width * bpp].reshape(self.height, self.width, bpp)

    # ------------------------------------------------------------------ conversions
    def to_ycbcr(self) -> np.ndarray:
        """The picture as full-resolution YCbCr, (height, width, 3) uint8 (a copy)."""
        lay, h, w = self.layout, self.height, self.width
        if lay.kind == "gray":
            out = np.full((h, w, 3), 128, np.uint8)
            out[..., 0] = self.luma()
            return out
        if lay.kind == "sp":
            out = np.empty((h, w, 3), np.uint8)
            out[..., 0] = self.luma()
            uv = self.chroma_uv()
            if lay.sx > 1 or lay.sy > 1:
                uv = np.repeat(np.repeat(uv, lay.sy, axis=0), lay.sx, axis=1)[:h, :w]
            out[..., 1:] = uv
            return out
        if lay.kind == "yuv422":
            quads = self.pixels()[:, :(w // 2) * 4].reshape(h, w // 2, 4)
            pos = {c: lay.order.index(c) for c in "UV"}
            first_y = lay.order.index("Y")
            out = np.empty((h, (w // 2) * 2, 3), np.uint8)
            out[:, 0::2, 0] = quads[..., first_y]
            out[:, 1::2, 0] = quads[..., first_y + 2]
            for channel, letter in ((1, "U"), (2, "V")):
                out[:, 0::2, channel] = quads[..., pos[letter]]
                out[:, 1::2, channel] = quads[..., pos[letter]]
            return out
        px = self.pixels()
        if lay.kind == "yuv444":
            return np.ascontiguousarray(px)
        rgb = px[..., [lay.order.index(c) for c in "RGB"]]
        return rgb_to_ycbcr(rgb)

    def write_ycbcr(self, ycc: np.ndarray, top: int = 0, left: int = 0) -> None:
        """Write full-resolution YCbCr into the picture at (top, left); chroma is averaged
        down to the format's subsampling. Bytes outside the area are not touched."""
        lay = self.layout
        h, w = ycc.shape[:2]
        if lay.kind in ("gray", "sp"):
            self.rows()[top:top + h, left:left + w] = ycc[..., 0]
            if lay.kind == "gray":
                return
            ch, cw = -(-h // lay.sy), -(-w // lay.sx)
            uv = ycc[..., 1:]
            if lay.sx > 1 or lay.sy > 1:
                uv = cv2.resize(uv, (cw, ch), interpolation=cv2.INTER_AREA)
            if lay.v_first:
                uv = uv[..., ::-1]
            full = Picture(self.buf, self.fmt, self.width, self.height, self.ws, self.hs)
            full.width, full.height = left + w, top + h
            target = full.chroma()[top // lay.sy:top // lay.sy + ch,
                                   left // lay.sx:left // lay.sx + cw]
            target[...] = uv[:target.shape[0], :target.shape[1]]
            return
        bpp = lay.bpp
        rows = self.rows()[top:top + h]
        if lay.kind == "yuv422":
            pairs = w // 2
            quads = rows[:, left * 2:left * 2 + pairs * 4].reshape(h, pairs, 4)
            first_y = lay.order.index("Y")
            quads[..., first_y] = ycc[:, 0:pairs * 2:2, 0]
            quads[..., first_y + 2] = ycc[:, 1:pairs * 2:2, 0]
            chroma = cv2.resize(ycc[:, :pairs * 2, 1:], (pairs, h), interpolation=cv2.INTER_AREA)
            chroma = chroma.reshape(h, pairs, 2)
            quads[..., lay.order.index("U")] = chroma[..., 0]
            quads[..., lay.order.index("V")] = chroma[..., 1]
            return
        target = rows[:, left * bpp:(left + w) * bpp].reshape(h, w, bpp)
        if lay.kind == "yuv444":
            target[...] = ycc
            return
        rgb = ycbcr_to_rgb(ycc)
        for index, letter in enumerate(lay.order):
            target[..., index] = 255 if letter == "A" else rgb[..., "RGB".index(letter)]
