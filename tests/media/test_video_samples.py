"""VDEC and VENC driven the way Huawei's video programs drive them (dvpp-api.md §11–§14).

* acllite's ``VideoCapture`` (replica in ``acllite_video.py``) reads a generated H.264/H.265
  Annex-B file; every NV12 picture it gives must equal, byte for byte, FFmpeg's decode of
  the same file through PyAV (H.264/H.265 decoding is bit-exact), in the same order.
* ``vdec_resnet50_classification``: one 1280x720 H.265 frame sent ten times, NV21 out, all
  four picture sizes set; ``vdec_destroy_channel`` returns after the ten callbacks; each
  picture equals FFmpeg's; the sample's VPC resize of it takes the VDEC buffer as it is.
* ``venc_image``: sixteen 128x128 NV12 pictures encoded on a report thread that made its own
  context; the bytes the callbacks copied out decode (FFmpeg) to sixteen pictures close to
  the input, with key frames where the key-frame interval and ``force_i_frame`` put them.

The sample classes keep the samples' calls and order, less their ``print``s; what they leak
is freed at the end (the tests fail on any leak). Sample checks (``check_ret``, the VPC
size check) stay; the tests' own probes are marked.
"""

from __future__ import annotations

import io
import threading
import time

import av
import cv2
import numpy as np
import pytest

import acl
from tests.media.acllite_video import (DECODE_STATUS_INIT, DECODE_STATUS_READY,
                                       DECODE_STATUS_STOP, SUCCESS, VideoCapture)

H2D, D2H = 1, 2
NV12, NV21 = 1, 2
H265, H264_BASELINE, H264_MAIN, H264_HIGH = 0, 1, 2, 3
DEVICE_ID = 0


# ------------------------------------------------------------------ streams and references
def moving_rgb(width: int, height: int, index: int) -> np.ndarray:
    """Smooth bands and a moving block: inter prediction has real motion to find."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([128 + 100 * np.sin((xx + 3 * index) / 19),
                    128 + 90 * np.cos((yy - 2 * index) / 13),
                    (xx + yy + 6 * index) % 256], -1)
    x, y = (7 * index) % (width - 32), (5 * index) % (height - 24)
    rgb[y:y + 24, x:x + 32] = (230, 40, 90)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def write_stream(path, codec: str, width: int, height: int, count: int) -> None:
    """An Annex-B elementary stream by libx264/libx265 with their default GOP (B-frames)."""
    container = av.open(str(path), "w", format="h264" if codec == "h264" else "hevc")
    stream = container.add_stream("libx264" if codec == "h264" else "libx265", rate=25)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    if codec == "hevc":
        stream.options = {"x265-params": "log-level=error"}
    for index in range(count):
        frame = av.VideoFrame.from_ndarray(moving_rgb(width, height, index), format="rgb24")
        for packet in stream.encode(frame.reformat(format="yuv420p")):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()


def yuv_planes(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Y, U, V) of a yuv420p frame, line padding cut off."""
    assert frame.format.name in ("yuv420p", "yuvj420p"), frame.format.name
    return tuple(np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width]
                 for p in frame.planes)


def ffmpeg_pictures(path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """FFmpeg's own decode of a file (its demuxer and parser), in display order."""
    with av.open(str(path)) as container:
        return [yuv_planes(frame) for frame in container.decode(video=0)]


def semi_planar(buffer: np.ndarray, width: int, height: int, width_stride: int,
                height_stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Y (h, w) and the interleaved chroma rows (h/2, w) of an NV12/NV21 buffer (§5.1)."""
    luma = buffer[:width_stride * height_stride].reshape(height_stride, width_stride)
    chroma = buffer[width_stride * height_stride:width_stride * height_stride * 3 // 2]
    chroma = chroma.reshape(height_stride // 2, width_stride)
    return luma[:height, :width], chroma[:height // 2, :width]


def interleave(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.dstack([first, second]).reshape(first.shape[0], 2 * first.shape[1])


def assert_same_picture(got, want, what: str) -> None:
    """Exact equality, and on failure how far off (so a bug report can quote it)."""
    luma, chroma = got
    want_luma, want_chroma = want
    for name, a, b in (("Y", luma, want_luma), ("chroma", chroma, want_chroma)):
        if not np.array_equal(a, b):
            delta = np.abs(a.astype(int) - b)
            pytest.fail(f"{what}: {name} differs from FFmpeg's in {np.count_nonzero(delta)} of "
                        f"{delta.size} bytes (max |d| {delta.max()}, PSNR {psnr(a, b):.1f} dB)")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255 ** 2 / mse))


def from_device(ptr: int, size: int) -> np.ndarray:
    out = bytes(size)
    assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), size, ptr, size, D2H) == 0
    return np.frombuffer(out, np.uint8)


def to_dvpp(data: bytes) -> int:
    ptr, ret = acl.media.dvpp_malloc(len(data))
    assert ret == 0
    assert acl.rt.memcpy(ptr, len(data), acl.util.bytes_to_ptr(data), len(data), H2D) == 0
    return ptr


def check_ret(message, ret):
    if ret != 0:
        raise AssertionError(f"{message} failed ret_int={ret}: {acl.get_recent_err_msg()}")


# ------------------------------------------------------------------ acllite VideoCapture
def open_capture(path) -> VideoCapture:
    """acllite waits 0.1 s for its decode thread; a loaded CI machine may need longer."""
    capture = VideoCapture(str(path))
    deadline = time.monotonic() + 10
    while capture._status == DECODE_STATUS_INIT and time.monotonic() < deadline:
        time.sleep(0.005)
    assert capture._status == DECODE_STATUS_READY, acl.get_recent_err_msg()
    return capture


def read_all(capture: VideoCapture) -> list[tuple[int, int, int, np.ndarray]]:
    """The app loop acllite documents: a None image means done only once is_finished()."""
    pictures, deadline = [], time.monotonic() + 60
    while True:
        ret, image = capture.read()
        vdec = capture._vdec
        assert ret == SUCCESS, (f"read() timed out: {vdec._decode_cnt} frames sent, "
                                f"{vdec._decode_complete_cnt} called back")
        if image is None:
            if capture.is_finished():
                return pictures
            assert time.monotonic() < deadline, "the decode never finished"
            time.sleep(0.002)
            continue
        pictures.append((image.width, image.height, image.size,
                         image.byte_data_to_np_array().copy()))
        image.destroy()


def close_capture(capture: VideoCapture) -> None:
    """acllite never joins its decode thread nor destroys its channel desc: the test does."""
    if capture._decode_thread_id is not None:
        if capture._status < DECODE_STATUS_STOP:       # a failed test: stop feeding frames
            capture._status = DECODE_STATUS_STOP
        assert acl.util.stop_thread(capture._decode_thread_id) == 0
    capture.destroy()
    vdec = capture._vdec
    if vdec is not None:
        while not vdec._frame_queue.empty():           # pictures a failed test left behind
            vdec._frame_queue.get_nowait().destroy()
        if vdec.leaked_channel_desc:
            assert acl.media.vdec_destroy_channel_desc(vdec.leaked_channel_desc) == 0


@pytest.mark.parametrize("codec, suffix, entype", [("h264", "h264", H264_HIGH),
                                                    ("hevc", "h265", H265)])
def test_acllite_video_capture_gives_ffmpegs_pictures_in_order(context, tmp_path, codec,
                                                               suffix, entype):
    width, height, count = 176, 144, 24
    path = tmp_path / f"clip.{suffix}"
    write_stream(path, codec, width, height, count)
    reference = [(y, interleave(u, v)) for y, u, v in ffmpeg_pictures(path)]
    assert len(reference) == count

    capture = open_capture(path)
    try:
        assert capture._entype == entype and (capture._width, capture._height) == (width,
                                                                                  height)
        pictures = read_all(capture)
        vdec = capture._vdec
        sent, called_back = vdec._decode_cnt, vdec._decode_complete_cnt
    finally:
        close_capture(capture)

    assert sent == called_back == count
    assert len(pictures) == count, "acllite drops pictures whose ret_code is not 0"
    for index, (got_width, got_height, size, buffer) in enumerate(pictures):
        assert (got_width, got_height) == (width, height)
        assert size >= width * height * 3 // 2
        # acllite sets no strides: VDEC writes align16(w) x align2(h), here w x h.
        got = semi_planar(buffer, width, height, width, height)
        assert_same_picture(got, reference[index], f"{suffix} picture {index}")


# ------------------------------------------------------------------ vdec_resnet50 sample
class Vdec:
    """vdec_resnet50_classification/src/acl_vdec.py, class Vdec (latest version)."""

    def __init__(self, context, stream):
        self.context = context
        self.stream = stream
        self.vdec_channel_desc = None
        self.input_width = 0
        self.input_height = 0
        self._vdec_exit = True
        self._en_type = H265
        self._format = NV21
        self._channel_id = 10
        self.output_count = 1
        self.rest_len = 10
        self.images_buffer = []
        self.seen = []                      # test probe: (thread, user_data, desc fields)
        self.callbacks_when_destroyed = None

    def release(self):
        """The sample's __del__."""
        check_ret("acl.media.dvpp_free", acl.media.dvpp_free(self.input_stream_mem))
        check_ret("acl.media.vdec_destroy_channel_desc",
                  acl.media.vdec_destroy_channel_desc(self.vdec_channel_desc))
        check_ret("acl.media.vdec_destroy_frame_config",
                  acl.media.vdec_destroy_frame_config(self.frame_config))

    def _thread_func(self, args_list):
        timeout = args_list[0]
        acl.rt.set_context(self.context)
        while self._vdec_exit:
            acl.rt.process_report(timeout)

    def _callback(self, input_stream_desc, output_pic_desc, user_data):
        if input_stream_desc:
            acl.media.dvpp_destroy_stream_desc(input_stream_desc)
        if output_pic_desc:
            vdec_out_buffer = acl.media.dvpp_get_pic_desc_data(output_pic_desc)
            self.seen.append((threading.get_ident(), user_data,
                              [getattr(acl.media, f"dvpp_get_pic_desc_{field}")(output_pic_desc)
                               for field in ("ret_code", "format", "width", "height",
                                             "width_stride", "height_stride")]))
            acl.media.dvpp_get_pic_desc_ret_code(output_pic_desc)
            data_size = acl.media.dvpp_get_pic_desc_size(output_pic_desc)
            self.images_buffer.append(dict({"buffer": vdec_out_buffer, "size": data_size}))
            acl.media.dvpp_destroy_pic_desc(output_pic_desc)
        self.output_count += 1

    def get_image_buffer(self):
        return self.images_buffer

    def init_resource(self, cb_thread_id):
        self.vdec_channel_desc = acl.media.vdec_create_channel_desc()
        acl.media.vdec_set_channel_desc_channel_id(self.vdec_channel_desc, self._channel_id)
        acl.media.vdec_set_channel_desc_thread_id(self.vdec_channel_desc, cb_thread_id)
        acl.media.vdec_set_channel_desc_callback(self.vdec_channel_desc, self._callback)
        acl.media.vdec_set_channel_desc_entype(self.vdec_channel_desc, self._en_type)
        acl.media.vdec_set_channel_desc_out_pic_format(self.vdec_channel_desc, self._format)
        acl.media.vdec_create_channel(self.vdec_channel_desc)

    def _gen_input_dataset(self, img_path):
        img = np.fromfile(img_path, dtype=self.dtype)
        img_buffer_size = img.size
        bytes_data = img.tobytes()
        img_ptr = acl.util.bytes_to_ptr(bytes_data)
        img_device, ret = acl.media.dvpp_malloc(img_buffer_size)
        check_ret("acl.media.dvpp_malloc", ret)
        ret = acl.rt.memcpy(img_device, img_buffer_size, img_ptr, img_buffer_size, H2D)
        check_ret("acl.rt.memcpy", ret)
        return img_device, img_buffer_size

    def _set_input(self, input_stream_size):
        self.dvpp_stream_desc = acl.media.dvpp_create_stream_desc()
        check_ret("acl.media.dvpp_set_stream_desc_data",
                  acl.media.dvpp_set_stream_desc_data(self.dvpp_stream_desc,
                                                       self.input_stream_mem))
        check_ret("acl.media.dvpp_set_stream_desc_size",
                  acl.media.dvpp_set_stream_desc_size(self.dvpp_stream_desc,
                                                       input_stream_size))

    def _set_pic_output(self, output_pic_size):
        output_pic_mem, ret = acl.media.dvpp_malloc(output_pic_size)
        check_ret("acl.media.dvpp_malloc", ret)
        self.dvpp_pic_desc = acl.media.dvpp_create_pic_desc()
        acl.media.dvpp_set_pic_desc_height(self.dvpp_pic_desc, self.input_height)
        acl.media.dvpp_set_pic_desc_width(self.dvpp_pic_desc, self.input_width)
        vdec_out_height = int(int((self.input_height + 1) / 2) * 2)
        vdec_out_width = int(int((self.input_width + 15) / 16) * 16)
        acl.media.dvpp_set_pic_desc_width_stride(self.dvpp_pic_desc, vdec_out_width)
        acl.media.dvpp_set_pic_desc_height_stride(self.dvpp_pic_desc, vdec_out_height)
        acl.media.dvpp_set_pic_desc_data(self.dvpp_pic_desc, output_pic_mem)
        acl.media.dvpp_set_pic_desc_size(self.dvpp_pic_desc, output_pic_size)
        acl.media.dvpp_set_pic_desc_format(self.dvpp_pic_desc, self._format)

    def forward(self, output_pic_size, input_stream_size):
        self.frame_config = acl.media.vdec_create_frame_config()
        for _ in range(self.rest_len):
            self._set_input(input_stream_size)
            self._set_pic_output(output_pic_size)
            ret = acl.media.vdec_send_frame(self.vdec_channel_desc, self.dvpp_stream_desc,
                                            self.dvpp_pic_desc, self.frame_config, None)
            check_ret("acl.media.vdec_send_frame", ret)

    def run(self, video_path):
        self.video_path, self.input_width, self.input_height, self.dtype = video_path
        timeout = 100
        cb_thread_id, ret = acl.util.start_thread(self._thread_func, [timeout])
        self.cb_thread_id = cb_thread_id
        self.init_resource(cb_thread_id)
        vdec_out_height = int(int((self.input_height + 1) / 2) * 2)
        vdec_out_width = int(int((self.input_width + 15) / 16) * 16)
        output_pic_size = vdec_out_width * vdec_out_height * 3 // 2
        self.input_stream_mem, input_stream_size = self._gen_input_dataset(self.video_path)
        self.forward(output_pic_size, input_stream_size)
        ret = acl.media.vdec_destroy_channel(self.vdec_channel_desc)
        check_ret("acl.media.vdec_destroy_channel", ret)
        self.callbacks_when_destroyed = len(self.images_buffer)      # test probe
        self._vdec_exit = False
        check_ret("acl.util.stop_thread", acl.util.stop_thread(cb_thread_id))


class Dvpp:
    """vdec_resnet50_classification/src/acl_dvpp.py, class Dvpp: resize the VDEC buffer."""

    def __init__(self, stream, model_input_width, model_input_height):
        self._dvpp_channel_desc = None
        self._resize_config = None
        self._resize_in_desc_ = None
        self._resize_out_desc = None
        self._decode_out_buffer = None
        self._format = NV21
        self._resize_out_dev = None
        self._resize_out_size = 0
        self.stream = stream
        self._model_input_width = model_input_width
        self._model_input_height = model_input_height
        self.init_resource()

    def release(self):
        """The sample's __del__, less its dvpp_free of the last VDEC buffer (freed twice)."""
        for desc in (self._resize_in_desc_, self._resize_out_desc):
            if desc:
                acl.media.dvpp_destroy_pic_desc(desc)
        check_ret("acl.media.dvpp_destroy_resize_config",
                  acl.media.dvpp_destroy_resize_config(self._resize_config))
        check_ret("acl.media.dvpp_destroy_channel",
                  acl.media.dvpp_destroy_channel(self._dvpp_channel_desc))
        check_ret("acl.media.dvpp_destroy_channel_desc",
                  acl.media.dvpp_destroy_channel_desc(self._dvpp_channel_desc))
        if self._resize_out_dev:
            check_ret("acl.media.dvpp_free", acl.media.dvpp_free(self._resize_out_dev))

    def release_previous(self):
        """Not the sample's: it overwrites (leaks) these on every picture."""
        for desc in (self._resize_in_desc_, self._resize_out_desc):
            if desc:
                check_ret("acl.media.dvpp_destroy_pic_desc",
                          acl.media.dvpp_destroy_pic_desc(desc))
        if self._resize_out_dev:
            check_ret("acl.media.dvpp_free", acl.media.dvpp_free(self._resize_out_dev))
        self._resize_in_desc_ = self._resize_out_desc = self._resize_out_dev = None

    def init_resource(self):
        self._dvpp_channel_desc = acl.media.dvpp_create_channel_desc()
        check_ret("acl.media.dvpp_create_channel",
                  acl.media.dvpp_create_channel(self._dvpp_channel_desc))
        self._resize_config = acl.media.dvpp_create_resize_config()

    def gen_tensor_desc(self, temp_buffer, temp_width, temp_height, flag=True,
                        need_malloc=True):
        if flag:
            # the input is VDEC's: strides 16 x 2
            stride_width = int(int((temp_width + 15) / 16) * 16)
            stride_height = int(int((temp_height + 1) / 2) * 2)
        else:
            if temp_height % 2 or temp_width % 2:
                raise Exception(f"[Dvpp] width={temp_width} or height={temp_height} of output "
                                f"is odd")
            stride_width = temp_width
            stride_height = temp_height
        decode_out_buffer_size = int(int(stride_width * stride_height * 3) / 2)
        if need_malloc:
            temp_buffer, ret = acl.media.dvpp_malloc(decode_out_buffer_size)
            check_ret("acl.media.dvpp_malloc", ret)
        temp_desc = acl.media.dvpp_create_pic_desc()
        acl.media.dvpp_set_pic_desc_data(temp_desc, temp_buffer)
        acl.media.dvpp_set_pic_desc_format(temp_desc, self._format)
        acl.media.dvpp_set_pic_desc_width(temp_desc, temp_width)
        acl.media.dvpp_set_pic_desc_height(temp_desc, temp_height)
        acl.media.dvpp_set_pic_desc_width_stride(temp_desc, stride_width)
        acl.media.dvpp_set_pic_desc_height_stride(temp_desc, stride_height)
        acl.media.dvpp_set_pic_desc_size(temp_desc, decode_out_buffer_size)
        return temp_desc, temp_buffer, decode_out_buffer_size

    def forward(self, img_buffer, img_buffer_size, img_width, img_height):
        self._resize_in_desc_, self._decode_out_buffer, _resize_in_size = \
            self.gen_tensor_desc(img_buffer, img_width, img_height, need_malloc=False)
        self._resize_out_desc, self._resize_out_dev, self._resize_out_size = \
            self.gen_tensor_desc(self._resize_out_dev, self._model_input_width,
                                 self._model_input_height, flag=False)
        if _resize_in_size != img_buffer_size:
            raise Exception(f"[Dvpp] Size doesn't match: {_resize_in_size} vs "
                            f"{img_buffer_size}")
        ret = acl.media.dvpp_vpc_resize_async(self._dvpp_channel_desc, self._resize_in_desc_,
                                              self._resize_out_desc, self._resize_config,
                                              self.stream)
        check_ret("acl.media.dvpp_vpc_resize_async", ret)
        check_ret("acl.rt.synchronize_stream", acl.rt.synchronize_stream(self.stream))

    def run(self, img_buffer, img_buffer_size, img_width, img_height):
        self.forward(img_buffer, img_buffer_size, img_width, img_height)
        return self._resize_out_dev, self._resize_out_size


def test_vdec_resnet50_sample_one_h265_frame_sent_ten_times(context, tmp_path):
    width, height = 1280, 720
    path = tmp_path / "vdec_h265_1frame_1280x720.h265"
    write_stream(path, "hevc", width, height, 1)
    (want_y, want_u, want_v), = ffmpeg_pictures(path)
    reference = (want_y, interleave(want_v, want_u))               # NV21: V first

    stream, ret = acl.rt.create_stream()
    assert ret == 0
    vdec = Vdec(context, stream)
    dvpp = Dvpp(stream, 224, 224)
    try:
        vdec.run([str(path), width, height, np.uint8])
        images = vdec.get_image_buffer()
        # vdec_destroy_channel returned only after the ten callbacks, all on the thread.
        assert vdec.callbacks_when_destroyed == len(images) == 10
        assert {thread for thread, _, _ in vdec.seen} == {vdec.cb_thread_id}
        assert all(user_data is None for _, user_data, _ in vdec.seen)
        assert all(fields == [0, NV21, width, height, width, height]
                   for _, _, fields in vdec.seen), vdec.seen

        want_small = (cv2.resize(want_y, (224, 224), interpolation=cv2.INTER_LINEAR),
                      interleave(*(cv2.resize(p, (112, 112), interpolation=cv2.INTER_LINEAR)
                                   for p in (want_v, want_u))))
        for index, image in enumerate(images):
            assert image["size"] == width * height * 3 // 2     # the sample's size check
            got = semi_planar(from_device(image["buffer"], image["size"]), width, height,
                              width, height)
            assert_same_picture(got, reference, f"send {index}")
            out, out_size = dvpp.run(image["buffer"], image["size"], width, height)
            small = semi_planar(from_device(out, out_size), 224, 224, 224, 224)
            for got_plane, want_plane in zip(small, want_small):
                assert psnr(got_plane, want_plane) >= 30
            check_ret("acl.media.dvpp_free", acl.media.dvpp_free(image["buffer"]))
            image["buffer"] = None
            dvpp.release_previous()
    finally:
        if vdec._vdec_exit and getattr(vdec, "cb_thread_id", None):   # run() failed midway
            vdec._vdec_exit = False
            acl.util.stop_thread(vdec.cb_thread_id)
        for image in vdec.images_buffer:
            if image["buffer"]:
                acl.media.dvpp_free(image["buffer"])
        dvpp.release()
        vdec.release()
        assert acl.rt.destroy_stream(stream) == 0


# ------------------------------------------------------------------ venc_image sample
class AclVenc:
    """venc_image/src/acl_venc.py, class AclVenc; the output file goes to ``output_path``."""

    def __init__(self, output_path, en_type=H265, key_frame_interval=16, width=128,
                 height=128):
        self.input_stream_mem = None
        self.venc_channel_desc = 0
        self.dvpp_pic_desc = 0
        self.frame_config = None
        self.cb_thread_id = None
        self.pic_host = None
        self.context, ret = acl.rt.create_context(DEVICE_ID)
        check_ret("acl.rt.create_context", ret)
        self.callback_run_flag = True
        self.stream_host = None
        self.output_path = output_path
        self.en_type, self.key_frame_interval = en_type, key_frame_interval
        self.width, self.height = width, height
        self.packets = []                   # test probes: each callback's bytes, its args
        self.calls = []
        self.callbacks_after_eos = self.callbacks_after_destroy = None

    def release_resource(self):
        if self.stream_host:
            acl.rt.free_host(self.stream_host)
        if self.pic_host:
            acl.rt.free_host(self.pic_host)
        if self.input_stream_mem:
            acl.media.dvpp_free(self.input_stream_mem)
        if self.venc_channel_desc != 0:
            check_ret("venc_destroy_channel_desc",
                      acl.media.venc_destroy_channel_desc(self.venc_channel_desc))
        if self.dvpp_pic_desc != 0:
            check_ret("dvpp_destroy_pic_desc",
                      acl.media.dvpp_destroy_pic_desc(self.dvpp_pic_desc))
        if self.frame_config:
            check_ret("venc_destroy_frame_config",
                      acl.media.venc_destroy_frame_config(self.frame_config))
        check_ret("acl.rt.destroy_context", acl.rt.destroy_context(self.context))

    def venc_init(self):
        self.venc_channel_desc = acl.media.venc_create_channel_desc()
        assert self.venc_channel_desc

    def cb_thread_func(self, args_list):
        context, timeout = args_list
        context, ret = acl.rt.create_context(DEVICE_ID)
        if ret != 0:
            return
        while self.callback_run_flag is True:
            acl.rt.process_report(timeout)
        acl.rt.destroy_context(context)

    def callback_func(self, input_pic_desc, output_stream_desc, user_data):
        self.calls.append((threading.get_ident(), input_pic_desc, user_data))
        if output_stream_desc == 0:
            return
        stream_data = acl.media.dvpp_get_stream_desc_data(output_stream_desc)
        if stream_data is None:
            return
        ret = acl.media.dvpp_get_stream_desc_ret_code(output_stream_desc)
        if ret == 0:
            stream_data_size = acl.media.dvpp_get_stream_desc_size(output_stream_desc)
            data = bytes(stream_data_size)
            data_ptr = acl.util.bytes_to_ptr(data)
            ret = acl.rt.memcpy(data_ptr, stream_data_size, stream_data, stream_data_size, D2H)
            if ret != 0:
                return
            with open(self.output_path, "ab") as f:
                f.write(data)
            self.packets.append(data)

    def venc_set_desc(self, width, height):
        acl.media.venc_set_channel_desc_thread_id(self.venc_channel_desc, self.cb_thread_id)
        acl.media.venc_set_channel_desc_callback(self.venc_channel_desc, self.callback_func)
        acl.media.venc_set_channel_desc_entype(self.venc_channel_desc, self.en_type)
        acl.media.venc_set_channel_desc_pic_format(self.venc_channel_desc, NV12)
        acl.media.venc_set_channel_desc_key_frame_interval(self.venc_channel_desc,
                                                           self.key_frame_interval)
        acl.media.venc_set_channel_desc_pic_height(self.venc_channel_desc, height)
        acl.media.venc_set_channel_desc_pic_width(self.venc_channel_desc, width)

    def venc_set_frame_config(self, frame_confg, eos, iframe):
        acl.media.venc_set_frame_config_eos(frame_confg, eos)
        acl.media.venc_set_frame_config_force_i_frame(frame_confg, iframe)

    def venc_get_frame_config(self, frame_confg):
        check_ret("acl.media.venc_get_frame_config_eos",
                  acl.media.venc_get_frame_config_eos(frame_confg))
        check_ret("acl.media.venc_get_frame_config_force_i_frame",
                  acl.media.venc_get_frame_config_force_i_frame(frame_confg))

    def venc_process(self, input_mem, input_size):
        self.dvpp_pic_desc = acl.media.dvpp_create_pic_desc()
        acl.media.dvpp_set_pic_desc_data(self.dvpp_pic_desc, input_mem)
        acl.media.dvpp_set_pic_desc_size(self.dvpp_pic_desc, input_size)
        self.venc_set_frame_config(self.frame_config, 0, 0)
        self.venc_get_frame_config(self.frame_config)
        venc_cnt = 16
        while venc_cnt:
            ret = acl.media.venc_send_frame(self.venc_channel_desc, self.dvpp_pic_desc, 0,
                                            self.frame_config, None)
            check_ret("acl.media.venc_send_frame", ret)
            venc_cnt -= 1
        self.send_eos()

    def send_eos(self):
        self.venc_set_frame_config(self.frame_config, 1, 0)
        ret = acl.media.venc_send_frame(self.venc_channel_desc, 0, 0, self.frame_config, None)
        check_ret("acl.media.venc_send_frame (eos)", ret)      # the sample only prints it
        self.callbacks_after_eos = len(self.calls)

    def venc_run(self, picture: bytes, process=None):
        timeout = 1000
        self.cb_thread_id, ret = acl.util.start_thread(self.cb_thread_func,
                                                       [self.context, timeout])
        check_ret("acl.util.start_thread", ret)
        file_mem = acl.util.bytes_to_ptr(picture)
        input_size = len(picture)
        input_mem, ret = acl.media.dvpp_malloc(input_size)
        check_ret("acl.media.dvpp_malloc", ret)
        check_ret("acl.rt.memcpy", acl.rt.memcpy(input_mem, input_size, file_mem,
                                                 input_size, H2D))
        self.venc_set_desc(self.width, self.height)
        check_ret("acl.media.venc_create_channel",
                  acl.media.venc_create_channel(self.venc_channel_desc))
        self.frame_config = acl.media.venc_create_frame_config()
        assert self.frame_config
        try:
            (process or self.venc_process)(input_mem, input_size)
        finally:
            rets = [("acl.media.dvpp_free", acl.media.dvpp_free(input_mem)),
                    ("acl.media.venc_destroy_channel",
                     acl.media.venc_destroy_channel(self.venc_channel_desc))]
            self.callbacks_after_destroy = len(self.calls)            # test probe
            self.thread_join()                    # whatever failed: the thread must end
            for message, ret in rets:
                check_ret(message, ret)

    def venc_stream_desc_set(self):
        dvpp_stream_desc = acl.media.dvpp_create_stream_desc()
        assert dvpp_stream_desc
        acl.media.dvpp_set_stream_desc_format(dvpp_stream_desc, 0)
        acl.media.dvpp_set_stream_desc_timestamp(dvpp_stream_desc, 123456)
        acl.media.dvpp_set_stream_desc_ret_code(dvpp_stream_desc, 1)
        acl.media.dvpp_set_stream_desc_eos(dvpp_stream_desc, 1)
        check_ret("acl.media.dvpp_destroy_stream_desc",
                  acl.media.dvpp_destroy_stream_desc(dvpp_stream_desc))

    def thread_join(self):
        self.callback_run_flag = False
        check_ret("acl.util.stop_thread", acl.util.stop_thread(self.cb_thread_id))


def nv12_picture(width: int, height: int, index: int = 0):
    """An NV12 picture (VENC reads it with stride align16(w), here w) and its planes."""
    rgb = moving_rgb(width, height, index)
    y, u, v = yuv_planes(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuv420p"))
    chroma = interleave(u, v)
    return y.tobytes() + chroma.tobytes(), y, chroma


def decode_bitstream(data: bytes, en_type: int) -> list[av.VideoFrame]:
    with av.open(io.BytesIO(data), format="hevc" if en_type == H265 else "h264") as container:
        return list(container.decode(video=0))


def nal_units(packet: bytes, hevc: bool) -> list[tuple[int, bytes]]:
    """(type, payload) of each Annex-B NAL unit in a packet."""
    units = []
    for part in packet.split(b"\x00\x00\x01")[1:]:
        units.append(((part[0] >> 1) & 0x3F if hevc else part[0] & 0x1F, part))
    return units


def check_encoded(venc: AclVenc, sources, want_keys, eos: bool = True):
    """The callbacks, the file they wrote, and FFmpeg's decode of it against the sources."""
    count = len(sources)
    assert len(venc.calls) == len(venc.packets) == count
    if eos:
        assert venc.callbacks_after_eos == count, "the EOS send returns after every callback"
    assert venc.callbacks_after_destroy == count, "destroy returns after every callback"
    assert {thread for thread, _, _ in venc.calls} == {venc.cb_thread_id}
    assert all(user_data is None for _, _, user_data in venc.calls)
    data = venc.output_path.read_bytes()
    assert data == b"".join(venc.packets) and data.startswith((b"\0\0\0\1", b"\0\0\1"))

    frames = decode_bitstream(data, venc.en_type)
    assert len(frames) == count
    for index, (frame, (_, y, chroma)) in enumerate(zip(frames, sources)):
        assert (frame.width, frame.height) == (venc.width, venc.height)
        got_y, got_u, got_v = yuv_planes(frame)
        assert psnr(got_y, y) >= 30, f"frame {index}: Y PSNR {psnr(got_y, y):.1f} dB"
        assert psnr(interleave(got_u, got_v), chroma) >= 30, f"frame {index}: chroma"
        # In order: each decoded frame is closest to its own source.
        scores = [psnr(got_y, other_y) for _, other_y, _ in sources]
        assert scores[index] == max(scores), f"frame {index} looks like another picture"

    keys = [index for index, frame in enumerate(frames) if frame.key_frame]
    assert keys == want_keys
    # Each key frame is a random access point: decoding can start there.
    for key in keys[1:]:
        tail = decode_bitstream(b"".join(venc.packets[key:]), venc.en_type)
        assert len(tail) == count - key, f"decoding from key frame {key}"
        assert all(np.array_equal(a, b) for a, b in zip(yuv_planes(tail[0]),
                                                        yuv_planes(frames[key])))


@pytest.mark.parametrize("en_type", [H265, H264_HIGH])
def test_venc_image_sample(context, tmp_path, en_type):
    """The sample as it is (H.265), and with H.264 high: 16 sends, EOS, destroy."""
    picture, y, chroma = nv12_picture(128, 128)
    assert len(picture) == 24576                      # dvpp_venc_128x128_nv12.yuv
    run_mode, ret = acl.rt.get_run_mode()
    assert ret == 0
    venc = AclVenc(tmp_path / "output.h265", en_type)
    try:
        venc.venc_init()
        venc.venc_run(picture)
        venc.venc_stream_desc_set()
    finally:
        venc.release_resource()
    check_encoded(venc, [(picture, y, chroma)] * 16, want_keys=[0])
    assert {desc for _, desc, _ in venc.calls} == {venc.dvpp_pic_desc}


def send_pictures(venc: AclVenc, buffers, descs, force_at=()):
    """Distinct pictures, one DVPP buffer and pic desc each (VENC may read them until it
    calls back); no EOS: venc_destroy_channel ends the stream, as acllite-style programs
    leave it to."""
    venc.venc_set_frame_config(venc.frame_config, 0, 0)
    for index, (ptr, size) in enumerate(buffers):
        desc = acl.media.dvpp_create_pic_desc()
        descs.append(desc)
        assert acl.media.dvpp_set_pic_desc_data(desc, ptr) == 0
        assert acl.media.dvpp_set_pic_desc_size(desc, size) == 0
        venc.venc_set_frame_config(venc.frame_config, 0, int(index in force_at))
        ret = acl.media.venc_send_frame(venc.venc_channel_desc, desc, 0, venc.frame_config,
                                        None)
        check_ret(f"acl.media.venc_send_frame {index}", ret)


def encode_moving(tmp_path, en_type, key_frame_interval, count=16, force_at=()):
    sources = [nv12_picture(128, 128, index) for index in range(count)]
    buffers = [(to_dvpp(picture), len(picture)) for picture, _, _ in sources]
    venc, descs = AclVenc(tmp_path / "output.bin", en_type, key_frame_interval), []
    try:
        venc.venc_init()
        venc.venc_run(sources[0][0],
                      process=lambda *_: send_pictures(venc, buffers, descs, force_at))
    finally:
        for desc in descs:
            assert acl.media.dvpp_destroy_pic_desc(desc) == 0
        for ptr, _ in buffers:               # while venc.context is still current
            assert acl.media.dvpp_free(ptr) == 0
        venc.release_resource()
    assert [desc for _, desc, _ in venc.calls] == descs, "callbacks in send order"
    return venc, sources


@pytest.mark.parametrize("en_type, key_frame_interval, force_at, want_keys", [
    (H264_BASELINE, 4, (), [0, 4, 8, 12]),
    (H264_MAIN, 5, (), [0, 5, 10, 15]),
    (H264_HIGH, 16, (6,), [0, 6]),
    (H265, 4, (), [0, 4, 8, 12]),
    (H265, 16, (6,), [0, 6]),
])
def test_venc_key_frame_interval_and_forced_key_frames(context, tmp_path, en_type,
                                                       key_frame_interval, force_at, want_keys):
    venc, sources = encode_moving(tmp_path, en_type, key_frame_interval, force_at=force_at)
    check_encoded(venc, sources, want_keys, eos=False)


@pytest.mark.parametrize("en_type, profile_idc", [(H264_BASELINE, 66), (H264_MAIN, 77),
                                                  (H264_HIGH, 100)])
def test_venc_h264_stream_declares_the_profile_asked_for(context, tmp_path, en_type,
                                                         profile_idc):
    venc, _ = encode_moving(tmp_path, en_type, 16, count=2)
    sps = [unit for unit in nal_units(venc.packets[0], False) if unit[0] == 7]
    assert sps, "the first packet carries the SPS"
    assert sps[0][1][1] == profile_idc, f"SPS profile_idc {sps[0][1][1]}"
