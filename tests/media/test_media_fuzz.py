"""Random DVPP misuse: every acl.media task with random descriptions, ROIs, formats, SoCs and
data (valid, truncated or bit-flipped JPEGs; garbage) must answer a code — never raise,
never crash, never 500000 (an exception escaping the core) — and synchronize must report
the device-side failures with the documented codes. Derandomized: the same examples in CI.
"""

from __future__ import annotations

import io
import os

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

import acl

FORMATS = st.sampled_from([0, 1, 2, 3, 5, 7, 11, 12, 13, 16, 18, 1000, 1001, 10000, 77, -1])
SMALL = st.one_of(st.integers(0, 80), st.sampled_from([1 << 31, (1 << 32) - 1, 4096, 8192]))
SOCS = st.sampled_from(["Ascend310", "Ascend310P3", "Ascend310B1"])
TASK_CODES = {0, 507018, 148052}            # what a synchronize after DVPP work may answer
CALL_CODES = {0, 100000, 100027, 200006, 107000}


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(
        out, "JPEG", subsampling=int(seed % 3))
    return out.getvalue()


pictures = st.tuples(FORMATS, SMALL, SMALL, SMALL, SMALL, st.integers(0, 12000))
rois = st.tuples(SMALL, SMALL, SMALL, SMALL)
data = st.one_of(st.integers(0, 50).map(_jpeg),
                 st.tuples(st.integers(0, 50), st.integers(1, 600)).map(
                     lambda t: _jpeg(t[0])[:t[1]]),
                 st.tuples(st.integers(0, 50), st.integers(0, 10 ** 6), st.integers(1, 255)).map(
                     lambda t: _flip(_jpeg(t[0]), t[1], t[2])),
                 st.binary(min_size=1, max_size=64))
operations = st.sampled_from(["resize", "crop", "crop_and_paste", "crop_resize_paste",
                              "decode", "encode", "convert", "pyr_down", "batch_crop",
                              "png", "equalize", "border"])


def _flip(blob: bytes, where: int, mask: int) -> bytes:
    mutable = bytearray(blob)
    mutable[where % len(mutable)] ^= mask
    return bytes(mutable)


def _desc(ptr, fields):
    fmt, width, height, ws, hs, size = fields
    desc = acl.media.dvpp_create_pic_desc()
    for name, value in (("data", ptr), ("format", fmt), ("width", width), ("height", height),
                        ("width_stride", ws), ("height_stride", hs), ("size", size)):
        assert getattr(acl.media, f"dvpp_set_pic_desc_{name}")(desc, value) == 0
    return desc


@settings(max_examples=int(os.environ.get("OPENACL_MEDIA_FUZZ_EXAMPLES", 150)),
          derandomize=os.environ.get("OPENACL_MEDIA_FUZZ_EXAMPLES") is None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(soc=SOCS, op=operations, src=pictures, dst=pictures, crop=rois, paste=rois,
       blob=data, interpolation=st.integers(0, 6), level=st.integers(0, 101))
def test_random_dvpp_work_answers_codes(soc, op, src, dst, crop, paste,
                                        blob, interpolation, level):
    os.environ["OPENACL_SOC_NAME"] = soc          # removed by the conftest's clean_runtime
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    context, _ = acl.rt.create_context(0)
    stream, _ = acl.rt.create_stream()
    channel = acl.media.dvpp_create_channel_desc()
    assert acl.media.dvpp_create_channel(channel) == 0
    buffers = [acl.media.dvpp_malloc(12000)[0] for _ in range(2)]
    blob_ptr, _ = acl.media.dvpp_malloc(len(blob))
    acl.rt.memcpy(blob_ptr, len(blob), acl.util.bytes_to_ptr(blob), len(blob), 1)
    in_desc, out_desc = _desc(buffers[0], src), _desc(buffers[1], dst)
    crop_roi, paste_roi = (acl.media.dvpp_create_roi_config(*r) for r in (crop, paste))
    config = acl.media.dvpp_create_resize_config()
    acl.media.dvpp_set_resize_config_interpolation(config, interpolation)
    jpege = acl.media.dvpp_create_jpege_config()
    acl.media.dvpp_set_jpege_config_level(jpege, level)
    size_box = np.array([12000], np.uint32).tobytes()
    batch_src, batch_dst = (acl.media.dvpp_create_batch_pic_desc(1) for _ in range(2))
    lut, border = acl.media.dvpp_create_lut_map(), acl.media.dvpp_create_border_config()
    m = acl.media
    calls = {
        "resize": lambda: m.dvpp_vpc_resize_async(channel, in_desc, out_desc, config, stream),
        "crop": lambda: m.dvpp_vpc_crop_async(channel, in_desc, out_desc, crop_roi, stream),
        "crop_and_paste": lambda: m.dvpp_vpc_crop_and_paste_async(
            channel, in_desc, out_desc, crop_roi, paste_roi, stream),
        "crop_resize_paste": lambda: m.dvpp_vpc_crop_resize_paste_async(
            channel, in_desc, out_desc, crop_roi, paste_roi, config, stream),
        "decode": lambda: m.dvpp_jpeg_decode_async(channel, blob_ptr, len(blob), out_desc,
                                                   stream),
        "png": lambda: m.dvpp_png_decode_async(channel, blob_ptr, len(blob), out_desc, stream),
        "encode": lambda: m.dvpp_jpeg_encode_async(channel, in_desc, buffers[1],
                                                   acl.util.bytes_to_ptr(size_box), jpege,
                                                   stream),
        "convert": lambda: m.dvpp_vpc_convert_color_async(channel, in_desc, out_desc, stream),
        "pyr_down": lambda: m.dvpp_vpc_pyr_down_async(channel, in_desc, out_desc, 0, stream),
        "batch_crop": lambda: m.dvpp_vpc_batch_crop_async(channel, batch_src, [1], batch_dst,
                                                          [crop_roi], stream)[1],
        "equalize": lambda: m.dvpp_vpc_equalize_hist_async(channel, in_desc, out_desc, lut,
                                                           stream),
        "border": lambda: m.dvpp_vpc_make_border_async(channel, in_desc, out_desc, border,
                                                       stream),
    }
    try:
        ret = calls[op]()
        assert type(ret) is int and ret in CALL_CODES, (op, ret, acl.get_recent_err_msg())
        # Host-side header calls on the same bytes.
        for info in (m.dvpp_jpeg_get_image_info(acl.util.bytes_to_ptr(blob), len(blob)),
                     m.dvpp_jpeg_predict_dec_size(acl.util.bytes_to_ptr(blob), len(blob),
                                                  src[0]),
                     m.dvpp_jpeg_predict_enc_size(in_desc, jpege)):
            assert info[-1] in CALL_CODES | {500001}, (info, acl.get_recent_err_msg())
        sync = acl.rt.synchronize_stream(stream)
        event(f"{op}: call {ret}, synchronize {sync}")
        assert sync in TASK_CODES, (op, sync, acl.get_recent_err_msg())
    finally:
        for handle, destroy in ((in_desc, m.dvpp_destroy_pic_desc),
                                (out_desc, m.dvpp_destroy_pic_desc),
                                (crop_roi, m.dvpp_destroy_roi_config),
                                (paste_roi, m.dvpp_destroy_roi_config),
                                (config, m.dvpp_destroy_resize_config),
                                (jpege, m.dvpp_destroy_jpege_config),
                                (batch_src, m.dvpp_destroy_batch_pic_desc),
                                (batch_dst, m.dvpp_destroy_batch_pic_desc),
                                (lut, m.dvpp_destroy_lut_map),
                                (border, m.dvpp_destroy_border_config)):
            destroy(handle)
        for ptr in (*buffers, blob_ptr):
            assert m.dvpp_free(ptr) == 0
        m.dvpp_destroy_channel(channel)
        m.dvpp_destroy_channel_desc(channel)
        acl.rt.destroy_stream(stream)
        acl.rt.destroy_context(context)
        acl.rt.reset_device(0)
        assert acl.finalize() == 0
        os.environ.pop("OPENACL_SOC_NAME", None)
