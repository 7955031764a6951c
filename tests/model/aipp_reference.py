"""Independent numpy reference of Ascend AIPP image preprocessing (test oracle).

Written from the documented rules only (not from the implementation under
test).  Pipeline for ONE image:

    raw bytes -> channel planes (format decode, swaps) -> crop -> CSC
              -> first out_c channels -> DTC (float16) -> padding -> layout

Config keys follow the ATC ``aipp_op`` field names; a missing key means its
default (switches off, sizes/biases 0, var_reci_chn 1.0).
"""

from __future__ import annotations

import numpy as np

YUV_FORMATS = ("YUV420SP_U8", "YUV422SP_U8", "YUYV_U8", "AYUV444_U8")
RGB_FORMATS = ("RGB888_U8", "XRGB8888_U8", "ARGB8888_U8")
FOUR_CHANNEL = ("XRGB8888_U8", "ARGB8888_U8", "AYUV444_U8")
ALL_FORMATS = YUV_FORMATS + RGB_FORMATS + ("YUV400_U8",)


def image_nbytes(fmt: str, w: int, h: int) -> int:
    """Byte size of one W x H image in input format ``fmt``."""
    if fmt == "YUV420SP_U8":
        return w * h * 3 // 2
    if fmt in ("YUV422SP_U8", "YUYV_U8"):
        return 2 * w * h
    if fmt == "YUV400_U8":
        return w * h
    if fmt == "RGB888_U8":
        return 3 * w * h
    if fmt in FOUR_CHANNEL:
        return 4 * w * h
    raise ValueError(f"unknown input_format {fmt!r}")


def _decode(buf: np.ndarray, fmt: str, w: int, h: int, ax_swap: bool) -> np.ndarray:
    """Raw uint8 buffer -> int64 planes [C, H, W] in AIPP channel order."""
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    if fmt in ("YUV420SP_U8", "YUV422SP_U8"):
        y = buf[: w * h].reshape(h, w)
        uv = buf[w * h:]
        # NV12: one UV pair per 2x2 block; 422SP: one UV pair per 2x1 (row-wise) pair.
        row = (yy // 2) if fmt == "YUV420SP_U8" else yy
        idx = row * w + (xx // 2) * 2
        planes = [y, uv[idx], uv[idx + 1]]
    elif fmt == "YUYV_U8":
        # Packed Y0 U Y1 V per pair of pixels.
        pair = (yy * w + (xx // 2) * 2) * 2
        planes = [buf[(yy * w + xx) * 2], buf[pair + 1], buf[pair + 3]]
    elif fmt == "YUV400_U8":
        planes = [buf[: w * h].reshape(h, w)]
    elif fmt == "RGB888_U8":
        px = buf[: 3 * w * h].reshape(h, w, 3)
        planes = [px[..., 0], px[..., 1], px[..., 2]]
    elif fmt in FOUR_CHANNEL:
        px = buf[: 4 * w * h].reshape(h, w, 4)
        # Memory order alpha-first (X/A,R,G,B or A,Y,U,V) unless ax_swap
        # (colour-first). Either way: colour channels first, alpha last.
        order = (0, 1, 2, 3) if ax_swap else (1, 2, 3, 0)
        planes = [px[..., i] for i in order]
    else:
        raise ValueError(f"unknown input_format {fmt!r}")
    return np.stack(planes).astype(np.int64)


def _csc(x: np.ndarray, cfg: dict, fmt: str) -> np.ndarray:
    """Colour space conversion on channels 0..2 (int64), others unchanged."""
    m = np.asarray(cfg.get("matrix", [0] * 9), dtype=np.int64).reshape(3, 3)
    col = x[:3]
    if fmt in YUV_FORMATS:
        ib = np.asarray(cfg.get("input_bias", [0, 0, 0]), dtype=np.int64)
        out = np.einsum("kc,chw->khw", m, col - ib[:, None, None]) >> 8
    else:  # RGB family
        ob = np.asarray(cfg.get("output_bias", [0, 0, 0]), dtype=np.int64)
        out = (np.einsum("kc,chw->khw", m, col) >> 8) + ob[:, None, None]
    out = np.clip(out, 0, 255)
    return np.concatenate([out, x[3:]], axis=0)


def _dtc(x: np.ndarray, cfg: dict) -> np.ndarray:
    """Per-channel (pixel - mean - min) * var_reci, every op rounded to float16."""
    mean = list(cfg.get("mean_chn", [0] * 4))
    mins = list(cfg.get("min_chn", [0.0] * 4))
    var = list(cfg.get("var_reci_chn", [1.0] * 4))
    out = np.empty(x.shape, dtype=np.float16)
    for c in range(x.shape[0]):
        a = (x[c] - int(mean[c])).astype(np.float16)  # exact (small integer)
        b = a - np.float16(mins[c])                   # float16 subtract
        out[c] = b * np.float16(var[c])               # float16 multiply
    return out


def aipp_reference(image, cfg: dict, out_h: int, out_w: int, out_c: int,
                   layout: str = "NCHW", dtype=np.float32) -> np.ndarray:
    """Apply AIPP ``cfg`` to the raw bytes of one image; see module docstring."""
    fmt = cfg.get("input_format", "YUV420SP_U8")
    w, h = int(cfg["src_image_size_w"]), int(cfg["src_image_size_h"])
    buf = np.frombuffer(bytes(image), dtype=np.uint8) if not isinstance(image, np.ndarray) \
        else np.ascontiguousarray(image, dtype=np.uint8).reshape(-1)
    assert buf.size >= image_nbytes(fmt, w, h), "image buffer too small"

    # 1-2. decode to channels, apply swaps.
    ax_swap = bool(cfg.get("ax_swap_switch", False)) and fmt in FOUR_CHANNEL
    x = _decode(buf, fmt, w, h, ax_swap)
    if cfg.get("rbuv_swap_switch", False):
        if fmt in RGB_FORMATS:
            x[[0, 2]] = x[[2, 0]]   # R <-> B
        elif fmt in YUV_FORMATS:
            x[[1, 2]] = x[[2, 1]]   # U <-> V (NV21 etc.)

    # 3. crop window.
    if cfg.get("crop", False):
        x0, y0 = int(cfg.get("load_start_pos_w", 0)), int(cfg.get("load_start_pos_h", 0))
        cw = int(cfg.get("crop_size_w", 0)) or (w - x0)
        ch = int(cfg.get("crop_size_h", 0)) or (h - y0)
        assert x0 + cw <= w and y0 + ch <= h, "crop window outside source"
        x = x[:, y0:y0 + ch, x0:x0 + cw]

    # 4. colour space conversion.
    if cfg.get("csc_switch", False) and x.shape[0] >= 3:
        x = _csc(x, cfg, fmt)

    # 5. keep the first out_c channels.
    assert out_c <= x.shape[0], f"out_c={out_c} > {x.shape[0]} channels"
    x = x[:out_c]

    # 6. normalisation (float16).
    y = _dtc(x, cfg)

    # 7. padding onto an out_h x out_w canvas.
    _, ch, cw = y.shape
    if cfg.get("padding", False):
        top, bottom = int(cfg.get("top_padding_size", 0)), int(cfg.get("bottom_padding_size", 0))
        left, right = int(cfg.get("left_padding_size", 0)), int(cfg.get("right_padding_size", 0))
        assert out_h == ch + top + bottom and out_w == cw + left + right, "padding size mismatch"
        canvas = np.full((out_c, out_h, out_w), np.float16(cfg.get("padding_value", 0.0)),
                         dtype=np.float16)
        canvas[:, top:top + ch, left:left + cw] = y
        y = canvas
    else:
        assert (ch, cw) == (out_h, out_w), f"image {ch}x{cw} != output {out_h}x{out_w}"

    # 8. dtype and layout.
    y = y.astype(dtype)
    if layout == "NHWC":
        return np.ascontiguousarray(y.transpose(1, 2, 0))
    assert layout == "NCHW", f"unknown layout {layout!r}"
    return y


def rgb_to_nv12(rgb: np.ndarray) -> bytes:
    """RGB uint8 [H, W, 3] (even H, W) -> NV12 bytes, BT.601 full-range-ish."""
    h, w, _ = rgb.shape
    assert h % 2 == 0 and w % 2 == 0
    f = rgb.astype(np.float64)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = -0.169 * r - 0.331 * g + 0.5 * b + 128
    v = 0.5 * r - 0.419 * g - 0.081 * b + 128
    # Average chroma over 2x2 blocks.
    u = u.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    v = v.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))

    def q(a):
        return np.clip(np.round(a), 0, 255).astype(np.uint8)

    uv = np.stack([q(u), q(v)], axis=-1).reshape(h // 2, w)  # U at even, V at odd
    return q(y).tobytes() + uv.tobytes()


def random_image(fmt: str, w: int, h: int, seed: int = 0) -> bytes:
    """Random bytes of the right size for one W x H image in ``fmt``."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, image_nbytes(fmt, w, h), dtype=np.uint8).tobytes()


if __name__ == "__main__":
    # Smoke self-check: a few configs, print shapes and a sample value.
    W, H = 8, 6
    yuv2rgb = [256, 0, 359, 256, -88, -183, 256, 454, 0]
    cases = [
        (dict(input_format="YUV420SP_U8", csc_switch=True, matrix=yuv2rgb,
              input_bias=[0, 128, 128], mean_chn=[104, 117, 123, 0],
              var_reci_chn=[0.017, 0.017, 0.017, 1.0]), H, W, 3, "NCHW"),
        (dict(input_format="RGB888_U8", crop=True, load_start_pos_w=2, load_start_pos_h=1,
              crop_size_w=4, crop_size_h=4, padding=True, left_padding_size=1,
              right_padding_size=1, top_padding_size=2, padding_value=-1.0), 6, 6, 3, "NHWC"),
        (dict(input_format="XRGB8888_U8", rbuv_swap_switch=True), H, W, 4, "NCHW"),
        (dict(input_format="AYUV444_U8", ax_swap_switch=True, csc_switch=True,
              matrix=yuv2rgb, input_bias=[16, 128, 128]), H, W, 4, "NHWC"),
        (dict(input_format="YUYV_U8", rbuv_swap_switch=True), H, W, 3, "NCHW"),
        (dict(input_format="YUV422SP_U8"), H, W, 1, "NCHW"),
        (dict(input_format="YUV400_U8", min_chn=[0.5, 0, 0, 0]), H, W, 1, "NHWC"),
    ]
    for i, (cfg, oh, ow, oc, lay) in enumerate(cases):
        cfg.update(src_image_size_w=W, src_image_size_h=H)
        img = random_image(cfg["input_format"], W, H, seed=i)
        out = aipp_reference(img, cfg, oh, ow, oc, layout=lay)
        print(f"{cfg['input_format']:12s} {lay} -> {out.shape} {out.dtype} first={out.flat[0]:.4f}")

    # NV12 helper round trip: grey image decodes to Y=U=V-ish constants.
    grey = np.full((4, 4, 3), 100, dtype=np.uint8)
    nv12 = rgb_to_nv12(grey)
    dec = aipp_reference(nv12, dict(input_format="YUV420SP_U8", src_image_size_w=4,
                                    src_image_size_h=4), 4, 4, 3)
    assert len(nv12) == image_nbytes("YUV420SP_U8", 4, 4)
    assert np.all(dec[0] == 100) and np.all(dec[1] == 128) and np.all(dec[2] == 128), dec
    # Exact layout checks for the packed YUV formats.
    yuyv = bytes([10, 20, 11, 30, 12, 21, 13, 31])  # 4x1 image: Y0 U Y1 V ...
    d = aipp_reference(yuyv, dict(input_format="YUYV_U8", src_image_size_w=4,
                                  src_image_size_h=1), 1, 4, 3)
    assert d[:, 0].tolist() == [[10, 11, 12, 13], [20, 20, 21, 21], [30, 30, 31, 31]], d
    print("self-check OK")
