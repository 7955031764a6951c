"""``acl.media`` image flows written as pyACL programs (acllite's calls, the raw samples' calls).

References are independent of openacl: the JPEG decoded by libjpeg-turbo through Pillow
(full-size YCbCr for Y, half-scale YCbCr for the native 4:2:0 chroma: libjpeg decodes
subsampled chroma at native resolution when asked for half the size), resizes by OpenCV on
planes read back from device memory, colour conversion by numpy, AIPP by the numpy
reference of the AIPP tests.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

import acl
from tests.media.acllite_like import AclLiteImage, AclLiteImageProc, align_up
from tests.model.aipp_reference import aipp_reference
from tests.model.test_aipp import JPEG_YUV2RGB, build, config_text, identity

H2D, D2H = 1, 2
NV12, NV21, YUV400, RGB888 = 1, 2, 0, 12
FAMILIES = {"Ascend310": (128, True), "Ascend310P3": (64, False), "Ascend310B1": (64, False)}


# ------------------------------------------------------------------ images and references
def make_image(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth RGB picture with edges (what cameras give), no noise a JPEG would smear."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([128 + 100 * np.sin(xx / 37 + seed), 128 + 90 * np.cos(yy / 23),
                    (xx + yy) / (width + height) * 255], -1)
    for _ in range(6):
        x, y = rng.integers(0, width - 20), rng.integers(0, height - 20)
        rgb[y:y + 20 + seed, x:x + 30] = rng.integers(0, 256, 3)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def jpeg_bytes(rgb: np.ndarray, quality: int = 92, **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality, subsampling=2, **options)
    return out.getvalue()


def reference_nv12_planes(jpeg: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(Y, UV) of a 4:2:0 JPEG decoded by libjpeg-turbo (Pillow), UV as (h/2, w/2, 2)."""
    full = Image.open(io.BytesIO(jpeg))
    width, height = full.size
    full.draft("YCbCr", full.size)
    half = Image.open(io.BytesIO(jpeg))
    half.draft("YCbCr", (width // 2, height // 2))
    assert half.size == (width // 2, height // 2)
    return np.asarray(full)[..., 0], np.asarray(half)[..., 1:]


def nv12_planes(buffer: np.ndarray, width, height, width_stride, height_stride, v_first=False):
    """Y and UV (U first) of an NV12/NV21 buffer, read by the byte layout of spec §5.1."""
    y = buffer[:width_stride * height_stride].reshape(height_stride, width_stride)
    chroma = buffer[width_stride * height_stride:
                    width_stride * height_stride * 3 // 2].reshape(height_stride // 2,
                                                                   width_stride)
    uv = chroma[:height // 2, :width].reshape(height // 2, width // 2, 2)
    return y[:height, :width], (uv[..., ::-1] if v_first else uv)


def nv12_to_rgb(y: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """JFIF YCbCr -> RGB in numpy (chroma repeated 2x2)."""
    cb = np.repeat(np.repeat(uv[..., 0], 2, 0), 2, 1).astype(np.float64) - 128
    cr = np.repeat(np.repeat(uv[..., 1], 2, 0), 2, 1).astype(np.float64) - 128
    yf = y.astype(np.float64)
    rgb = np.stack([yf + 1.402 * cr, yf - 0.344136 * cb - 0.714136 * cr, yf + 1.772 * cb], -1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


# ------------------------------------------------------------------ fixtures
@pytest.fixture(params=list(FAMILIES))
def soc(request, monkeypatch):
    monkeypatch.setenv("OPENACL_SOC_NAME", request.param)
    return request.param


@pytest.fixture
def stream(context):
    handle, ret = acl.rt.create_stream()
    assert ret == 0
    yield handle
    assert acl.rt.destroy_stream(handle) == 0


@pytest.fixture
def proc(stream):
    processor = AclLiteImageProc(stream)
    yield processor
    processor.destroy()


@pytest.fixture
def channel(stream):
    desc = acl.media.dvpp_create_channel_desc()
    assert acl.media.dvpp_create_channel(desc) == 0
    yield desc
    assert acl.media.dvpp_destroy_channel(desc) == 0
    assert acl.media.dvpp_destroy_channel_desc(desc) == 0


def to_dvpp(data: bytes) -> int:
    ptr, ret = acl.media.dvpp_malloc(len(data))
    assert ret == 0
    assert acl.rt.memcpy(ptr, len(data), acl.util.bytes_to_ptr(data), len(data), H2D) == 0
    return ptr


def from_device(ptr: int, size: int) -> np.ndarray:
    out = bytes(size)
    assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), size, ptr, size, D2H) == 0
    return np.frombuffer(out, np.uint8)


def pic_desc(ptr, fmt, width, height, width_stride, height_stride, size, desc=None):
    """Set the seven fields samples set (on a new desc, or on ``desc``: a batch member)."""
    desc = desc or acl.media.dvpp_create_pic_desc()
    for setter, value in (("data", ptr), ("format", fmt), ("width", width),
                          ("height", height), ("width_stride", width_stride),
                          ("height_stride", height_stride), ("size", size)):
        assert getattr(acl.media, f"dvpp_set_pic_desc_{setter}")(desc, value) == 0
    return desc


# ------------------------------------------------------------------ acllite flows
@pytest.mark.parametrize("soc", ["Ascend310", "Ascend310P3"], indirect=True)
def test_acllite_jpegd_resize_jpege_per_soc(soc, proc, stream, tmp_path):
    """acllite's own stride choice (128 unless the SoC is Ascend310P3) is right on these two;
    on 310B its recorded 128 stride disagrees with the decoder's 64, there as here."""
    width, height = 700, 450
    rgb = make_image(width, height)
    jpeg = jpeg_bytes(rgb)
    image = AclLiteImage.from_jpeg_bytes(jpeg, width, height).copy_to_dvpp()
    decoded = proc.jpegd(image)
    image.destroy()
    assert decoded is not None, acl.get_recent_err_msg()

    # The decoder chose its strides (128 or 64 per SoC) and wrote them back.
    stride, _ = FAMILIES[soc]
    desc = proc.leaked_descs[-1]
    assert acl.media.dvpp_get_pic_desc_width(desc) == width
    assert acl.media.dvpp_get_pic_desc_height(desc) == height
    assert acl.media.dvpp_get_pic_desc_width_stride(desc) == align_up(width, stride)
    assert acl.media.dvpp_get_pic_desc_height_stride(desc) == align_up(height, 16)
    assert acl.media.dvpp_get_pic_desc_format(desc) == NV12
    assert acl.media.dvpp_get_pic_desc_ret_code(desc) == 0
    assert decoded.alignWidth == align_up(width, stride)

    # Pixels: libjpeg-turbo's planes within 1 (two IEEE 1180 IDCTs round differently).
    planes = nv12_planes(decoded.byte_data_to_np_array(), width, height,
                         align_up(width, stride), align_up(height, 16))
    reference = reference_nv12_planes(jpeg)
    for got, want in zip(planes, reference):
        assert np.abs(got.astype(int) - want).max() <= 1

    # Resize to the model's 224x224: OpenCV bilinear on the decoded planes.
    resized = proc.resize(decoded, 224, 224)
    assert resized is not None, acl.get_recent_err_msg()
    y, uv = nv12_planes(resized.byte_data_to_np_array(), 224, 224, 224, 224)
    want_y = cv2.resize(np.ascontiguousarray(planes[0]), (224, 224),
                        interpolation=cv2.INTER_LINEAR)
    want_uv = cv2.resize(np.ascontiguousarray(planes[1]), (112, 112),
                         interpolation=cv2.INTER_LINEAR)
    assert np.abs(y.astype(int) - want_y).max() <= 1
    assert np.abs(uv.astype(int) - want_uv).max() <= 1

    # JPEG-encode it back to a file; it decodes to the picture that was encoded.
    encoded = proc.jpege(resized)
    assert encoded is not None, acl.get_recent_err_msg()
    data = encoded.byte_data_to_np_array().tobytes()
    (tmp_path / "out.jpg").write_bytes(data)
    assert data[:2] == b"\xff\xd8" and data.rstrip(b"\0")[-2:] == b"\xff\xd9"
    back = Image.open(tmp_path / "out.jpg")
    assert back.size == (224, 224) and back.mode == "RGB"
    assert psnr(np.asarray(back), nv12_to_rgb(y, uv)) >= 35
    for picture in (decoded, resized, encoded):
        picture.destroy()


def test_decoded_and_resized_picture_feeds_a_yuv420sp_aipp_model(proc, stream, tmp_path):
    """The DVPP buffer itself is the model input, as acllite's AclLiteModel.execute does."""
    rgb = make_image(640, 480, seed=3)
    image = AclLiteImage.from_jpeg_bytes(jpeg_bytes(rgb), 640, 480).copy_to_dvpp()
    decoded = proc.jpegd(image)
    resized = proc.resize(decoded, 224, 224)
    cfg = {"input_format": "YUV420SP_U8", "src_image_size_w": 224, "src_image_size_h": 224,
           "csc_switch": True, "matrix": JPEG_YUV2RGB, "input_bias": [0, 128, 128]}
    source = identity(tmp_path / "id.onnx", [1, 3, 224, 224])
    model_id, ret = acl.mdl.load_from_file(build(tmp_path, source, config_text(cfg)))
    assert ret == 0, acl.get_recent_err_msg()
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_desc(desc, model_id) == 0
    assert acl.mdl.get_input_size_by_index(desc, 0) == resized.size
    inputs, outputs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
    acl.mdl.add_dataset_buffer(inputs, acl.create_data_buffer(resized.data(), resized.size))
    out_size = acl.mdl.get_output_size_by_index(desc, 0)
    out_ptr, _ = acl.rt.malloc(out_size, 0)
    acl.mdl.add_dataset_buffer(outputs, acl.create_data_buffer(out_ptr, out_size))
    assert acl.mdl.execute(model_id, inputs, outputs) == 0, acl.get_recent_err_msg()
    got = from_device(out_ptr, out_size).view(np.float32).reshape(1, 3, 224, 224)
    nv12 = resized.byte_data_to_np_array().tobytes()
    want = aipp_reference(nv12, cfg, 224, 224, 3, "NCHW", np.float32)
    np.testing.assert_allclose(got[0], want, atol=1e-3)
    for dataset in (inputs, outputs):
        acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, 0))
        acl.mdl.destroy_dataset(dataset)
    acl.rt.free(out_ptr)
    acl.mdl.destroy_desc(desc)
    assert acl.mdl.unload(model_id) == 0
    for picture in (image, decoded, resized):
        picture.destroy()


def test_letterbox_leaves_the_rest_of_the_canvas_untouched(soc, channel, stream):
    width, height, out_w, out_h = 320, 240, 224, 224
    rgb = make_image(width, height, seed=5)
    y_ref, uv_ref = reference_nv12_planes(jpeg_bytes(rgb))
    source = np.concatenate([y_ref.ravel(), uv_ref.ravel()])
    src_ptr = to_dvpp(source.tobytes())
    out_size = out_w * out_h * 3 // 2
    out_ptr, _ = acl.media.dvpp_malloc(out_size)
    assert acl.rt.memset(out_ptr, out_size, 0x55, out_size) == 0
    src = pic_desc(src_ptr, NV12, width, height, width, height, source.size)
    dst = pic_desc(out_ptr, NV12, out_w, out_h, out_w, out_h, out_size)
    crop = acl.media.dvpp_create_roi_config(0, width - 1, 0, height - 1)
    paste = acl.media.dvpp_create_roi_config(0, 223, 0, 167)       # 4:3 into the top
    assert acl.media.dvpp_vpc_crop_and_paste_async(channel, src, dst, crop, paste, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    y, uv = nv12_planes(from_device(out_ptr, out_size), out_w, out_h, out_w, out_h)
    assert (y[168:] == 0x55).all() and (uv[84:] == 0x55).all()
    want_y = cv2.resize(y_ref, (224, 168), interpolation=cv2.INTER_LINEAR)
    assert np.abs(y[:168].astype(int) - want_y).max() <= 1
    for handle in (crop, paste):
        assert acl.media.dvpp_destroy_roi_config(handle) == 0
    for handle in (src, dst):
        assert acl.media.dvpp_destroy_pic_desc(handle) == 0
    for ptr in (src_ptr, out_ptr):
        assert acl.media.dvpp_free(ptr) == 0


def test_batch_crop_one_source_eight_outputs(channel, stream):
    """vpc_jpeg_resnet50's batch crop: (dst_batch, ret) back, one output per crop area."""
    width, height = 256, 256
    y_ref, uv_ref = reference_nv12_planes(jpeg_bytes(make_image(width, height, seed=7)))
    source = np.concatenate([y_ref.ravel(), uv_ref.ravel()]).tobytes()
    src_ptr = to_dvpp(source)
    src_batch = acl.media.dvpp_create_batch_pic_desc(1)
    dst_batch = acl.media.dvpp_create_batch_pic_desc(8)
    pic_desc(src_ptr, NV12, width, height, width, height, len(source),
             acl.media.dvpp_get_pic_desc(src_batch, 0))
    outputs, rois = [], []
    for k in range(8):
        ptr, _ = acl.media.dvpp_malloc(64 * 64 * 3 // 2)
        outputs.append(ptr)
        pic_desc(ptr, NV12, 64, 64, 64, 64, 64 * 64 * 3 // 2,
                 acl.media.dvpp_get_pic_desc(dst_batch, k))
        rois.append(acl.media.dvpp_create_roi_config(16 * k, 16 * k + 127, 2 * k, 2 * k + 99))
    result = acl.media.dvpp_vpc_batch_crop_async(channel, src_batch, [8], dst_batch, rois,
                                                 stream)
    assert result == (dst_batch, 0)
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    for k, ptr in enumerate(outputs):
        desc = acl.media.dvpp_get_pic_desc(dst_batch, k)
        assert acl.media.dvpp_get_pic_desc_ret_code(desc) == 0
        y, _ = nv12_planes(from_device(ptr, 64 * 64 * 3 // 2), 64, 64, 64, 64)
        region = np.ascontiguousarray(y_ref[2 * k:2 * k + 100, 16 * k:16 * k + 128])
        want = cv2.resize(region, (64, 64), interpolation=cv2.INTER_LINEAR)
        assert np.abs(y.astype(int) - want).max() <= 1
        assert acl.media.dvpp_free(ptr) == 0
    for roi in rois:
        acl.media.dvpp_destroy_roi_config(roi)
    assert acl.media.dvpp_destroy_batch_pic_desc(src_batch) == 0
    assert acl.media.dvpp_destroy_batch_pic_desc(dst_batch) == 0
    assert acl.media.dvpp_free(src_ptr) == 0


# ------------------------------------------------------------------ async semantics
def test_copies_decode_resize_and_copy_back_are_ordered_on_one_stream(channel, stream):
    """Nothing waits between the calls: one synchronize at the end sees the whole chain."""
    width, height = 500, 300
    jpeg = jpeg_bytes(make_image(width, height, seed=2))
    jpeg_ptr, _ = acl.media.dvpp_malloc(len(jpeg))
    dec_ws, dec_hs = align_up(width, 128), align_up(height, 16)
    dec_size = dec_ws * dec_hs * 3 // 2
    dec_ptr, _ = acl.media.dvpp_malloc(dec_size)
    out_size = 224 * 224 * 3 // 2
    out_ptr, _ = acl.media.dvpp_malloc(out_size)
    dec = pic_desc(dec_ptr, NV12, width, height, dec_ws, dec_hs, dec_size)
    out = pic_desc(out_ptr, NV12, 224, 224, 224, 224, out_size)
    config = acl.media.dvpp_create_resize_config()
    host = acl.rt.malloc_host(len(jpeg))[0]
    assert acl.rt.memcpy(host, len(jpeg), acl.util.bytes_to_ptr(jpeg), len(jpeg), 0) == 0
    result = bytes(out_size)
    assert acl.rt.memcpy_async(jpeg_ptr, len(jpeg), host, len(jpeg), H2D, stream) == 0
    assert acl.media.dvpp_jpeg_decode_async(channel, jpeg_ptr, len(jpeg), dec, stream) == 0
    # The resize input reuses the decode output desc's buffer with the decoder's strides.
    src = pic_desc(dec_ptr, NV12, width, height, dec_ws, dec_hs, dec_size)
    assert acl.media.dvpp_vpc_resize_async(channel, src, out, config, stream) == 0
    assert acl.rt.memcpy_async(acl.util.bytes_to_ptr(result), out_size, out_ptr, out_size,
                               D2H, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    y_ref, uv_ref = reference_nv12_planes(jpeg)
    y, _ = nv12_planes(np.frombuffer(result, np.uint8), 224, 224, 224, 224)
    want = cv2.resize(y_ref, (224, 224), interpolation=cv2.INTER_LINEAR)
    assert np.abs(y.astype(int) - want).max() <= 2          # decoder +-1, then bilinear
    acl.rt.free_host(host)
    acl.media.dvpp_destroy_resize_config(config)
    for desc in (dec, out, src):
        acl.media.dvpp_destroy_pic_desc(desc)
    for ptr in (jpeg_ptr, dec_ptr, out_ptr):
        acl.media.dvpp_free(ptr)


def test_two_streams_decode_in_parallel(context):
    jpegs = [jpeg_bytes(make_image(400, 320, seed=s)) for s in range(2)]
    streams = [acl.rt.create_stream()[0] for _ in range(2)]
    channels = [acl.media.dvpp_create_channel_desc() for _ in range(2)]
    ws, hs = align_up(400, 64), align_up(320, 16)
    size = ws * hs * 3 // 2
    work = []
    for jpeg, stream, channel in zip(jpegs, streams, channels):
        assert acl.media.dvpp_create_channel(channel) == 0
        src = to_dvpp(jpeg)
        out, _ = acl.media.dvpp_malloc(size)
        desc = pic_desc(out, NV12, 400, 320, ws, hs, size)
        for _ in range(3):
            assert acl.media.dvpp_jpeg_decode_async(channel, src, len(jpeg), desc, stream) == 0
        work.append((src, out, desc))
    for stream in streams:
        assert acl.rt.synchronize_stream(stream) == 0
    for jpeg, (src, out, desc) in zip(jpegs, work):
        y, _ = nv12_planes(from_device(out, size), 400, 320, ws, hs)
        assert np.abs(y.astype(int) - reference_nv12_planes(jpeg)[0]).max() <= 1
        acl.media.dvpp_destroy_pic_desc(desc)
        acl.media.dvpp_free(src)
        acl.media.dvpp_free(out)
    for stream, channel in zip(streams, channels):
        acl.media.dvpp_destroy_channel(channel)
        acl.media.dvpp_destroy_channel_desc(channel)
        acl.rt.destroy_stream(stream)


# ------------------------------------------------------------------ where errors surface
def test_submit_time_and_run_time_errors(monkeypatch, channel, stream):
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310")
    size = 64 * 48 * 3 // 2
    src_ptr, _ = acl.media.dvpp_malloc(size)
    out_ptr, _ = acl.media.dvpp_malloc(size)
    config = acl.media.dvpp_create_resize_config()
    # A format the SoC's VPC cannot output: the call says so.
    src = pic_desc(src_ptr, NV12, 64, 48, 64, 48, size)
    rgb_out = pic_desc(out_ptr, RGB888, 64, 48, 64 * 3, 48, size)
    assert acl.media.dvpp_vpc_resize_async(channel, src, rgb_out, config, stream) == 100027
    assert "not supported on the 310 family" in acl.get_recent_err_msg()
    # A width stride that is not a multiple of 16: queued, then the device refuses it.
    bad = pic_desc(src_ptr, NV12, 50, 48, 50, 48, size)
    out = pic_desc(out_ptr, NV12, 32, 32, 32, 32, size)
    assert acl.media.dvpp_vpc_resize_async(channel, bad, out, config, stream) == 0
    ret = acl.rt.synchronize_stream(stream)
    assert ret == 507018
    assert acl.media.dvpp_get_pic_desc_ret_code(out) != 0
    assert "stride" in acl.get_recent_err_msg()
    # The same stride is fine where strides need no alignment.
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310B1")
    assert acl.media.dvpp_vpc_resize_async(channel, bad, out, config, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    assert acl.media.dvpp_get_pic_desc_ret_code(out) == 0
    # NULL handles and a channel that was never created.
    assert acl.media.dvpp_vpc_resize_async(channel, 0, out, config, stream) == 100000
    orphan = acl.media.dvpp_create_channel_desc()
    assert acl.media.dvpp_vpc_resize_async(orphan, src, out, config, stream) == 100000
    assert "dvpp_create_channel" in acl.get_recent_err_msg()
    acl.media.dvpp_destroy_channel_desc(orphan)
    acl.media.dvpp_destroy_resize_config(config)
    for desc in (src, rgb_out, bad, out):
        acl.media.dvpp_destroy_pic_desc(desc)
    acl.media.dvpp_free(src_ptr)
    acl.media.dvpp_free(out_ptr)


def test_unsupported_and_corrupt_jpegs_fail_at_synchronize(channel, stream):
    rgb = make_image(200, 120)
    progressive = jpeg_bytes(rgb, progressive=True)
    corrupt = bytearray(jpeg_bytes(rgb))
    corrupt[len(corrupt) // 2:] = b"\xff" * (len(corrupt) - len(corrupt) // 2)
    size = 256 * 128 * 3 // 2
    out_ptr, _ = acl.media.dvpp_malloc(size)
    out = pic_desc(out_ptr, NV12, 200, 120, 256, 128, size)
    for data, code in ((progressive, 148052), (bytes(corrupt), None)):
        ptr = to_dvpp(data)
        assert acl.media.dvpp_jpeg_decode_async(channel, ptr, len(data), out, stream) == 0
        ret = acl.rt.synchronize_stream(stream)
        assert ret != 0 and (code is None or ret == code), ret
        assert acl.media.dvpp_get_pic_desc_ret_code(out) != 0
        acl.media.dvpp_free(ptr)
    # A JPEG decode output format the SoC lacks is refused by the call itself.
    acl.media.dvpp_set_pic_desc_format(out, RGB888)
    assert acl.media.dvpp_jpeg_decode_async(channel, out_ptr, 16, out, stream) == 100027
    acl.media.dvpp_destroy_pic_desc(out)
    acl.media.dvpp_free(out_ptr)


def test_host_side_header_calls(soc, context):
    jpeg = jpeg_bytes(make_image(333, 221))
    ptr = acl.util.bytes_to_ptr(jpeg)
    assert acl.media.dvpp_jpeg_get_image_info(ptr, len(jpeg)) == (333, 221, 3, 0)
    assert acl.media.dvpp_jpeg_get_image_info_v2(ptr, len(jpeg)) == (333, 221, 3, 2, 0)
    want = align_up(333, 128) * align_up(221, 16) * 3 // 2
    assert acl.media.dvpp_jpeg_predict_dec_size(ptr, len(jpeg), NV12) == (want, 0)
    assert acl.media.dvpp_jpeg_get_image_info(ptr, 10)[-1] == 500001
    assert acl.media.dvpp_jpeg_get_image_info(0, len(jpeg)) == (0, 0, 0, 100000)


def test_dvpp_memory(context):
    ptr, ret = acl.media.dvpp_malloc(1000)
    assert ret == 0 and ptr % 128 == 0
    # Usable as device memory: memset, memcpy, and its rounded size (1024 + 32 slack).
    assert acl.rt.memset(ptr, 1056, 7, 1056) == 0
    assert from_device(ptr, 1056).tolist() == [7] * 1056
    assert acl.rt.memset(ptr, 1057, 7, 1057) != 0
    assert acl.rt.free(ptr) != 0                          # DVPP memory is not rt memory
    assert "dvpp_free" in acl.get_recent_err_msg()
    rt_ptr, _ = acl.rt.malloc(64, 0)
    assert acl.media.dvpp_free(rt_ptr) != 0
    assert acl.rt.free(rt_ptr) == 0
    assert acl.media.dvpp_malloc(0) == (0, 100000)
    assert acl.media.dvpp_free(ptr) == 0
    assert acl.media.dvpp_free(ptr) != 0


def test_channel_and_description_lifecycle(context):
    desc = acl.media.dvpp_create_channel_desc()
    assert acl.media.dvpp_create_channel(desc) == 0
    first = acl.media.dvpp_get_channel_desc_channel_id(desc)
    assert first > 0
    assert acl.media.dvpp_destroy_channel_desc(desc) == 148051     # its channel still lives
    assert acl.media.dvpp_destroy_channel(desc) == 0
    assert acl.media.dvpp_destroy_channel_desc(desc) == 0
    assert acl.media.dvpp_destroy_pic_desc(0) == 0
    pic = acl.media.dvpp_create_pic_desc()
    assert acl.media.dvpp_set_pic_desc_width_stride(pic, -1) == 0  # I: masked, not refused
    assert acl.media.dvpp_get_pic_desc_width_stride(pic) == 0xFFFFFFFF
    assert acl.media.dvpp_get_pic_desc_format(pic) == YUV400
    assert acl.media.dvpp_destroy_pic_desc(pic) == 0
    assert acl.media.dvpp_get_pic_desc_width(pic) == 0                # destroyed: default
    config = acl.media.dvpp_create_jpege_config()
    assert acl.media.dvpp_get_jpege_config_level(config) == 0
    assert acl.media.dvpp_set_jpege_config_level(config, 101) == 100000
    assert acl.media.dvpp_destroy_jpege_config(config) == 0


def test_png_decode_on_310_and_not_on_310p(monkeypatch, channel, stream):
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310")
    rgba = np.dstack([make_image(90, 70, seed=4), np.full((70, 90), 200, np.uint8)])
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    data = out.getvalue()
    host = acl.util.bytes_to_ptr(data)
    assert acl.media.dvpp_png_get_image_info(host, len(data)) == (90, 70, 4, 0)
    size, ret = acl.media.dvpp_png_predict_dec_size(host, len(data), 10000)   # UNKNOWN: RGBA
    assert ret == 0 and size == align_up(90, 128) * 4 * align_up(70, 16)
    src = to_dvpp(data)
    dst, _ = acl.media.dvpp_malloc(size)
    desc = pic_desc(dst, 10000, 90, 70, 0, 0, size)
    assert acl.media.dvpp_png_decode_async(channel, src, len(data), desc, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    ws = acl.media.dvpp_get_pic_desc_width_stride(desc)
    assert ws == align_up(90, 128) * 4
    assert acl.media.dvpp_get_pic_desc_format(desc) == 16                  # RGBA_8888
    rows = from_device(dst, size)[:ws * 70].reshape(70, ws)[:, :90 * 4].reshape(70, 90, 4)
    assert (rows == np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))).all()
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310P3")
    assert acl.media.dvpp_png_decode_async(channel, src, len(data), desc, stream) == 200006
    assert acl.media.dvpp_png_get_image_info(host, len(data))[-1] == 200006
    acl.media.dvpp_destroy_pic_desc(desc)
    acl.media.dvpp_free(src)
    acl.media.dvpp_free(dst)


def _nv12_source(width, height, seed):
    y, uv = reference_nv12_planes(jpeg_bytes(make_image(width, height, seed=seed)))
    data = np.concatenate([y.ravel(), uv.ravel()]).tobytes()
    return y, uv, to_dvpp(data), len(data)


def test_crop_crop_resize_paste_and_batch_paste(monkeypatch, channel, stream):
    """vpc_jpeg_resnet50's calls: a crop scaled to the whole output, an interpolation
    chosen by resize config, and a batch crop-and-paste (sample ROIs, 310 parity)."""
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310")
    y_ref, uv_ref, src_ptr, src_size = _nv12_source(320, 240, 8)
    src = pic_desc(src_ptr, NV12, 320, 240, 320, 240, src_size)
    out_size = 224 * 224 * 3 // 2
    out_ptr, _ = acl.media.dvpp_malloc(out_size)
    out = pic_desc(out_ptr, NV21, 224, 224, 224, 224, out_size)
    crop = acl.media.dvpp_create_roi_config(32, 271, 16, 207)            # 240 x 192
    assert acl.media.dvpp_vpc_crop_async(channel, src, out, crop, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    y, uv = nv12_planes(from_device(out_ptr, out_size), 224, 224, 224, 224, v_first=True)
    region = np.ascontiguousarray(y_ref[16:208, 32:272])
    assert np.abs(y.astype(int) - cv2.resize(region, (224, 224))).max() <= 1
    chroma = np.ascontiguousarray(uv_ref[8:104, 16:136])
    assert np.abs(uv.astype(int) - cv2.resize(chroma, (112, 112))).max() <= 1
    # Nearest neighbour, pasted into the sample's (32, 215, 64, 215) area.
    config = acl.media.dvpp_create_resize_config()
    assert acl.media.dvpp_set_resize_config_interpolation(config, 2) == 0
    paste = acl.media.dvpp_create_roi_config(32, 215, 64, 215)
    assert acl.rt.memset(out_ptr, out_size, 0, out_size) == 0
    assert acl.media.dvpp_vpc_crop_resize_paste_async(channel, src, out, crop, paste, config,
                                                      stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    y, _ = nv12_planes(from_device(out_ptr, out_size), 224, 224, 224, 224)
    want = cv2.resize(region, (184, 152), interpolation=cv2.INTER_NEAREST)
    assert (y[64:216, 32:216] == want).all() and not y[:64].any() and not y[:, :32].any()
    # An odd left edge breaks the 310 parity rule: the device refuses it at run time.
    assert acl.media.dvpp_set_roi_config_left(crop, 33) == 0
    assert acl.media.dvpp_vpc_crop_async(channel, src, out, crop, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 507018
    assert "even" in acl.get_recent_err_msg()
    # Batch crop-and-paste: two crops of one source pasted into two outputs.
    src_batch, dst_batch = (acl.media.dvpp_create_batch_pic_desc(n) for n in (1, 2))
    pic_desc(src_ptr, NV12, 320, 240, 320, 240, src_size,
             acl.media.dvpp_get_pic_desc(src_batch, 0))
    outputs = []
    for k in range(2):
        ptr, _ = acl.media.dvpp_malloc(out_size)
        acl.rt.memset(ptr, out_size, 0x10, out_size)
        outputs.append(ptr)
        pic_desc(ptr, NV12, 224, 224, 224, 224, out_size,
                 acl.media.dvpp_get_pic_desc(dst_batch, k))
    crops = [acl.media.dvpp_create_roi_config(0, 159, 0, 119),
             acl.media.dvpp_create_roi_config(160, 319, 120, 239)]
    pastes = [acl.media.dvpp_create_roi_config(112, 223, 112, 223)] * 2
    with pytest.raises(ValueError):
        acl.media.dvpp_vpc_batch_crop_and_paste_async(channel, src_batch, [2], dst_batch,
                                                      crops, pastes[:1], stream)
    assert acl.media.dvpp_vpc_batch_crop_and_paste_async(
        channel, src_batch, [2], dst_batch, crops, pastes, stream) == (dst_batch, 0)
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    for k, ptr in enumerate(outputs):
        y, _ = nv12_planes(from_device(ptr, out_size), 224, 224, 224, 224)
        region = np.ascontiguousarray(y_ref[120 * k:120 * k + 120, 160 * k:160 * k + 160])
        assert np.abs(y[112:, 112:].astype(int) - cv2.resize(region, (112, 112))).max() <= 1
        assert (y[:112] == 0x10).all() and (y[:, :112] == 0x10).all()
        acl.media.dvpp_free(ptr)
    for roi in (crop, paste, *crops, pastes[0]):
        acl.media.dvpp_destroy_roi_config(roi)
    for batch in (src_batch, dst_batch):
        acl.media.dvpp_destroy_batch_pic_desc(batch)
    acl.media.dvpp_destroy_resize_config(config)
    for desc in (src, out):
        acl.media.dvpp_destroy_pic_desc(desc)
    acl.media.dvpp_free(src_ptr)
    acl.media.dvpp_free(out_ptr)


def test_convert_color_and_pyramid_on_310p(monkeypatch, channel, stream):
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310P3")
    y_ref, uv_ref, src_ptr, src_size = _nv12_source(64, 48, 9)
    src = pic_desc(src_ptr, NV12, 64, 48, 64, 48, src_size)
    rgb_size = 64 * 3 * 48
    rgb_ptr, _ = acl.media.dvpp_malloc(rgb_size)
    rgb = pic_desc(rgb_ptr, RGB888, 0, 0, 64 * 3, 48, rgb_size)
    assert acl.media.dvpp_vpc_convert_color_async(channel, src, rgb, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    assert acl.media.dvpp_get_pic_desc_width(rgb) == 64
    got = from_device(rgb_ptr, rgb_size).reshape(48, 64, 3)
    # VPC upsamples chroma bilinearly (OpenCV), then JFIF YCbCr -> RGB (numpy here).
    up = cv2.resize(uv_ref, (64, 48), interpolation=cv2.INTER_LINEAR).astype(np.float64) - 128
    yf = y_ref.astype(np.float64)
    want = np.stack([yf + 1.402 * up[..., 1], yf - 0.344136 * up[..., 0] - 0.714136 * up[..., 1],
                     yf + 1.772 * up[..., 0]], -1)
    assert np.abs(got.astype(int) - np.clip(np.rint(want), 0, 255)).max() <= 2
    gray_size = 64 * 48
    gray_ptr, _ = acl.media.dvpp_malloc(gray_size)
    half_ptr, _ = acl.media.dvpp_malloc(32 * 24)
    acl.rt.memcpy(gray_ptr, gray_size, src_ptr, gray_size, 3)
    gray = pic_desc(gray_ptr, YUV400, 64, 48, 64, 48, gray_size)
    half = pic_desc(half_ptr, YUV400, 32, 24, 32, 24, 32 * 24)
    assert acl.media.dvpp_vpc_pyr_down_async(channel, gray, half, 1, stream) == 100000
    assert acl.media.dvpp_vpc_pyr_down_async(channel, gray, half, 0, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    assert (from_device(half_ptr, 32 * 24).reshape(24, 32) == cv2.pyrDown(y_ref)).all()
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310")
    assert acl.media.dvpp_vpc_convert_color_async(channel, src, rgb, stream) == 200006
    for desc in (src, rgb, gray, half):
        acl.media.dvpp_destroy_pic_desc(desc)
    for ptr in (src_ptr, rgb_ptr, gray_ptr, half_ptr):
        acl.media.dvpp_free(ptr)


def test_histogram_equalization_and_border_on_310p(monkeypatch, channel, stream):
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310P3")
    y_ref, uv_ref, src_ptr, src_size = _nv12_source(64, 48, 10)
    src = pic_desc(src_ptr, NV12, 64, 48, 64, 48, src_size)
    hist = acl.media.dvpp_create_hist()
    assert acl.media.dvpp_vpc_calc_hist_async(channel, src, hist, 0, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    assert acl.media.dvpp_get_hist_dims(hist) == 3
    for dim, plane in enumerate((y_ref, uv_ref[..., 0], uv_ref[..., 1])):
        ptr, length, ret = acl.media.dvpp_get_hist_data(hist, dim)
        assert ret == 0 and length == 256
        bins = np.frombuffer(acl.util.ptr_to_bytes(ptr, 256 * 4), np.uint32)
        assert (bins == np.bincount(plane.ravel(), minlength=256)).all()
    assert acl.media.dvpp_clear_hist(hist) == 0
    assert not np.frombuffer(acl.util.ptr_to_bytes(acl.media.dvpp_get_hist_data(hist, 0)[0],
                                                   1024), np.uint32).any()
    # Equalization: OpenCV's equalizeHist on the luma, chroma kept; the LUT says how.
    out_ptr, _ = acl.media.dvpp_malloc(src_size)
    out = pic_desc(out_ptr, NV12, 64, 48, 64, 48, src_size)
    lut = acl.media.dvpp_create_lut_map()
    assert acl.media.dvpp_vpc_equalize_hist_async(channel, src, out, lut, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    y, uv = nv12_planes(from_device(out_ptr, src_size), 64, 48, 64, 48)
    assert (y == cv2.equalizeHist(y_ref)).all() and (uv == uv_ref).all()
    table = np.frombuffer(acl.util.ptr_to_bytes(acl.media.dvpp_get_lut_map_data(lut, 0)[0],
                                                256), np.uint8)
    assert (table[y_ref] == y).all()
    # A 4-pixel replicated border on every side.
    big_size = 80 * 56 * 3 // 2
    big_ptr, _ = acl.media.dvpp_malloc(big_size)
    big = pic_desc(big_ptr, NV12, 72, 56, 80, 56, big_size)
    border = acl.media.dvpp_create_border_config()
    for side in ("top", "bottom", "left", "right"):
        assert getattr(acl.media, f"dvpp_set_border_config_{side}")(border, 4) == 0
    assert acl.media.dvpp_set_border_config_border_type(border, 1) == 0
    assert acl.media.dvpp_vpc_make_border_async(channel, src, big, border, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0, acl.get_recent_err_msg()
    y, _ = nv12_planes(from_device(big_ptr, big_size), 72, 56, 80, 56)
    assert (y == cv2.copyMakeBorder(y_ref, 4, 4, 4, 4, cv2.BORDER_REPLICATE)).all()
    acl.media.dvpp_destroy_border_config(border)
    acl.media.dvpp_destroy_lut_map(lut)
    acl.media.dvpp_destroy_hist(hist)
    for desc in (src, out, big):
        acl.media.dvpp_destroy_pic_desc(desc)
    for ptr in (src_ptr, out_ptr, big_ptr):
        acl.media.dvpp_free(ptr)
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310")
    assert acl.media.dvpp_create_hist() == 0
    assert acl.media.dvpp_create_border_config() == 0


def test_rt_malloc_buffers_warn_on_310_and_fail_in_strict_mode(monkeypatch, channel, stream):
    from openacl.errors import FidelityWarning

    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310")
    size = 64 * 48 * 3 // 2
    src_ptr, _ = acl.rt.malloc(size, 0)
    out_ptr, _ = acl.media.dvpp_malloc(size)
    src = pic_desc(src_ptr, NV12, 64, 48, 64, 48, size)
    out = pic_desc(out_ptr, NV12, 32, 24, 32, 24, size)
    config = acl.media.dvpp_create_resize_config()
    with pytest.warns(FidelityWarning, match="dvpp_malloc"):
        assert acl.media.dvpp_vpc_resize_async(channel, src, out, config, stream) == 0
        assert acl.rt.synchronize_stream(stream) == 0
    monkeypatch.setenv("OPENACL_STRICT", "1")
    assert acl.media.dvpp_vpc_resize_async(channel, src, out, config, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 507018
    assert "acldvppMalloc" in acl.get_recent_err_msg()
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310P3")          # 310P takes rt memory
    assert acl.media.dvpp_vpc_resize_async(channel, src, out, config, stream) == 0
    assert acl.rt.synchronize_stream(stream) == 0
    acl.media.dvpp_destroy_resize_config(config)
    for desc in (src, out):
        acl.media.dvpp_destroy_pic_desc(desc)
    acl.rt.free(src_ptr)
    acl.media.dvpp_free(out_ptr)
