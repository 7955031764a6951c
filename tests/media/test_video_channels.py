"""VDEC and VENC channels as pyACL programs use them, against independent references.

Decoded pictures are compared byte for byte with FFmpeg's own decode of the same
stream (PyAV, demuxer-free: the same packets into a fresh decoder); encoded streams are
decoded again by PyAV and compared with the pictures sent by PSNR. Misuse is checked for
its documented codes and for never hanging.
"""

from __future__ import annotations

import threading
from fractions import Fraction

import av
import numpy as np
import pytest

import acl
from openacl.constants import VDEC_NO_PICTURE

H2D, D2H = 1, 2
NV12, NV21, RGB888 = 1, 2, 12
H265, H264_BASELINE, H264_MAIN, H264_HIGH = 0, 1, 2, 3
W, H = 176, 144


# ------------------------------------------------------------------ streams and references
def pattern(index: int, width: int = W, height: int = H) -> np.ndarray:
    """A moving I420 picture, (height*3/2, width)."""
    yy, xx = np.mgrid[0:height * 3 // 2, 0:width]
    return ((xx * 3 + yy * 2 + index * 7) % 256).astype(np.uint8)


def encode_stream(codec: str = "libx264", count: int = 12, width: int = W, height: int = H,
                  bframes: int = 0) -> list[bytes]:
    """Annex-B access units, one per picture, as a demuxer hands them out."""
    enc = av.CodecContext.create(codec, "w")
    enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
    enc.time_base = Fraction(1, 25)
    if codec == "libx264":
        enc.options = {"preset": "ultrafast", "bframes": str(bframes)}
        if bframes:
            enc.options = {"preset": "fast", "bframes": str(bframes)}
    else:
        enc.options = {"preset": "ultrafast", "x265-params": f"log-level=error:bframes={bframes}"}
    packets = []
    for i in range(count):
        frame = av.VideoFrame.from_ndarray(pattern(i, width, height), format="yuv420p")
        frame.pts = i
        packets += [bytes(p) for p in enc.encode(frame)]
    packets += [bytes(p) for p in enc.encode(None)]
    return packets


def reference_nv12(packets: list[bytes], codec: str) -> list[np.ndarray]:
    """FFmpeg's pictures of the same access units, as tight NV12 byte arrays."""
    dec = av.CodecContext.create(codec, "r")
    frames = []
    for packet in packets:
        frames += dec.decode(av.Packet(packet))
    frames += dec.decode(None)
    out = []
    for frame in frames:
        y, u, v = (np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width]
                   for p in frame.planes)
        out.append(np.concatenate([y.reshape(-1), np.dstack([u, v]).reshape(-1)]))
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)


# ------------------------------------------------------------------ program pieces
class ReportThread:
    """acllite's callback thread: set the context, loop process_report until told to stop."""

    def __init__(self, context):
        self.running = True

        def loop(_):
            acl.rt.set_context(context)
            while self.running:
                acl.rt.process_report(20)

        self.tid, ret = acl.util.start_thread(loop, [])
        assert ret == 0

    def stop(self):
        self.running = False
        assert acl.util.stop_thread(self.tid) == 0


@pytest.fixture
def reporter(context):
    thread = ReportThread(context)
    yield thread
    thread.stop()


def to_device(data: bytes) -> int:
    ptr, ret = acl.media.dvpp_malloc(len(data))
    assert ret == 0
    assert acl.rt.memcpy(ptr, len(data), acl.util.bytes_to_ptr(data), len(data), H2D) == 0
    return ptr


def from_device(ptr: int, size: int) -> np.ndarray:
    host = np.empty(size, np.uint8)
    assert acl.rt.memcpy(host.ctypes.data, size, ptr, size, D2H) == 0
    return host


class Vdec:
    """A VDEC channel the way acllite's DvppVdec sets one up; ``results`` collects what each
    callback saw (user data, ret code, format, strides, picture bytes)."""

    def __init__(self, thread_id: int, en_type: int = H264_HIGH, out_format: int = NV12,
                 channel_id: int = 0, out_mode: int = 0, callback=None):
        self.results = []
        self.desc = acl.media.vdec_create_channel_desc()
        calls = [acl.media.vdec_set_channel_desc_channel_id(self.desc, channel_id),
                 acl.media.vdec_set_channel_desc_thread_id(self.desc, thread_id),
                 acl.media.vdec_set_channel_desc_callback(self.desc, callback or self.callback),
                 acl.media.vdec_set_channel_desc_entype(self.desc, en_type),
                 acl.media.vdec_set_channel_desc_out_pic_format(self.desc, out_format),
                 acl.media.vdec_set_channel_desc_out_mode(self.desc, out_mode)]
        assert calls == [0] * 6
        assert acl.media.vdec_create_channel(self.desc) == 0, acl.get_recent_err_msg()
        self.config = acl.media.vdec_create_frame_config()
        self.input, ret = acl.media.dvpp_malloc(1 << 20)
        assert ret == 0

    def callback(self, input_desc, output_desc, user_data):
        if output_desc == 0:                        # a skipped frame
            self.results.append((user_data, None, None, None, None))
        else:
            data = acl.media.dvpp_get_pic_desc_data(output_desc)
            size = acl.media.dvpp_get_pic_desc_size(output_desc)
            ret_code = acl.media.dvpp_get_pic_desc_ret_code(output_desc)
            strides = (acl.media.dvpp_get_pic_desc_width_stride(output_desc),
                       acl.media.dvpp_get_pic_desc_height_stride(output_desc))
            fmt = acl.media.dvpp_get_pic_desc_format(output_desc)
            picture = from_device(data, size) if ret_code == 0 else None
            self.results.append((user_data, ret_code, fmt, strides, picture))
            acl.media.dvpp_free(data)
            acl.media.dvpp_destroy_pic_desc(output_desc)
        acl.media.dvpp_destroy_stream_desc(input_desc)

    def stream_desc(self, packet: bytes, eos: int = 0) -> int:
        desc = acl.media.dvpp_create_stream_desc()
        if packet:
            assert acl.rt.memcpy(self.input, 1 << 20, acl.util.bytes_to_ptr(packet), len(packet),
                                 H2D) == 0
            acl.media.dvpp_set_stream_desc_data(desc, self.input)
            acl.media.dvpp_set_stream_desc_size(desc, len(packet))
        acl.media.dvpp_set_stream_desc_eos(desc, eos)
        return desc

    def output_desc(self, size: int, fmt: int = 0, geometry=None) -> int:
        buf, ret = acl.media.dvpp_malloc(size)
        assert ret == 0
        desc = acl.media.dvpp_create_pic_desc()
        acl.media.dvpp_set_pic_desc_data(desc, buf)
        acl.media.dvpp_set_pic_desc_size(desc, size)
        if fmt:
            acl.media.dvpp_set_pic_desc_format(desc, fmt)
        if geometry:
            width, height, ws, hs = geometry
            acl.media.dvpp_set_pic_desc_width(desc, width)
            acl.media.dvpp_set_pic_desc_height(desc, height)
            acl.media.dvpp_set_pic_desc_width_stride(desc, ws)
            acl.media.dvpp_set_pic_desc_height_stride(desc, hs)
        return desc

    def send(self, packet: bytes, user_data=None, size: int = W * H * 3 // 2, **kw) -> int:
        source = self.stream_desc(packet)
        output = self.output_desc(size, **kw)
        ret = acl.media.vdec_send_frame(self.desc, source, output, self.config, user_data)
        if ret != 0:                                # never queued: the program cleans up
            acl.media.dvpp_free(acl.media.dvpp_get_pic_desc_data(output))
            acl.media.dvpp_destroy_pic_desc(output)
            acl.media.dvpp_destroy_stream_desc(source)
        return ret

    def end_of_stream(self) -> int:
        source = self.stream_desc(b"", eos=1)
        ret = acl.media.vdec_send_frame(self.desc, source, 0, self.config, None)
        acl.media.dvpp_destroy_stream_desc(source)
        return ret

    def destroy(self) -> int:
        ret = acl.media.vdec_destroy_channel(self.desc)
        assert acl.media.vdec_destroy_frame_config(self.config) == 0
        assert acl.media.vdec_destroy_channel_desc(self.desc) == 0
        assert acl.media.dvpp_free(self.input) == 0
        return ret


# ------------------------------------------------------------------ VDEC: pictures
@pytest.mark.parametrize("codec,decoder,en_type", [("libx264", "h264", H264_HIGH),
                                                   ("libx265", "hevc", H265)])
@pytest.mark.parametrize("out_format", [NV12, NV21])
def test_vdec_pictures_equal_ffmpeg_in_send_order(reporter, codec, decoder, en_type, out_format):
    packets = encode_stream(codec)
    vdec = Vdec(reporter.tid, en_type, out_format)
    for index, packet in enumerate(packets):
        assert vdec.send(packet, [7, index]) == 0
    assert vdec.end_of_stream() == 0
    assert len(vdec.results) == len(packets)     # every callback ran before EOS returned
    assert vdec.destroy() == 0
    reference = reference_nv12(packets, decoder)
    assert [r[0] for r in vdec.results] == [[7, i] for i in range(len(packets))]
    for (_, ret_code, fmt, strides, picture), expected in zip(vdec.results, reference):
        assert (ret_code, fmt, strides) == (0, out_format, (W, H))
        if out_format == NV21:                   # V first: swap each chroma pair back
            chroma = picture[W * H:].reshape(-1, 2)[:, ::-1].reshape(-1)
            picture = np.concatenate([picture[:W * H], chroma])
        np.testing.assert_array_equal(picture, expected)


def test_vdec_b_frames_come_back_in_display_order_one_callback_per_send(reporter):
    packets = encode_stream("libx264", count=10, bframes=2)
    vdec = Vdec(reporter.tid)
    for index, packet in enumerate(packets):
        assert vdec.send(packet, index) == 0
    assert vdec.destroy() == 0                    # destroy flushes: no EOS sent
    assert [r[0] for r in vdec.results] == list(range(len(packets)))
    reference = reference_nv12(packets, "h264")
    assert len(reference) == len(packets) == 10
    for result, expected in zip(vdec.results, reference):
        np.testing.assert_array_equal(result[4], expected)


def test_vdec_unaligned_width_gets_aligned_strides_and_rgb_on_310p(reporter, monkeypatch):
    width, height = 120, 90
    packets = encode_stream("libx264", count=3, width=width, height=height)
    reference = reference_nv12(packets, "h264")
    ws, hs = 128, 90
    vdec = Vdec(reporter.tid)
    for packet in packets:
        assert vdec.send(packet, size=ws * hs * 3 // 2) == 0
    assert vdec.end_of_stream() == 0
    for (_, ret_code, fmt, strides, picture), expected in zip(vdec.results, reference):
        assert (ret_code, strides) == (0, (ws, hs))
        luma = picture[:ws * hs].reshape(hs, ws)[:height, :width]
        chroma = picture[ws * hs:].reshape(hs // 2, ws)[:height // 2, :width]
        np.testing.assert_array_equal(np.concatenate([luma.reshape(-1), chroma.reshape(-1)]),
                                      expected)
    assert vdec.destroy() == 0

    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310P3")
    vdec = Vdec(reporter.tid, out_format=RGB888)
    assert vdec.send(packets[0], size=ws * 3 * hs) == 0
    assert vdec.end_of_stream() == 0
    _, ret_code, fmt, strides, picture = vdec.results[0]
    assert (ret_code, fmt, strides) == (0, RGB888, (ws * 3, hs))
    rgb = picture.reshape(hs, ws * 3)[:height, :width * 3].reshape(height, width, 3)
    frame = next(iter(av.CodecContext.create("h264", "r").decode(av.Packet(packets[0]))))
    expected = frame.to_ndarray(format="rgb24")
    assert np.abs(rgb.astype(int) - expected.astype(int)).mean() < 2.0   # two BT.601 converters
    assert vdec.destroy() == 0


def test_vdec_output_scaling_when_the_desc_sets_all_four(reporter):
    packets = encode_stream("libx264", count=2)
    vdec = Vdec(reporter.tid)
    assert vdec.send(packets[0], size=96 * 80 * 3 // 2, geometry=(96, 80, 96, 80)) == 0
    assert vdec.send(packets[1], size=96 * 80 * 3 // 2, geometry=(96, 80, 96, 0)) == 100000
    assert "set all four" in acl.get_recent_err_msg()
    assert vdec.end_of_stream() == 0
    _, ret_code, _, strides, picture = vdec.results[0]
    assert (ret_code, strides) == (0, (96, 80))
    import cv2
    expected = cv2.resize(reference_nv12(packets[:1], "h264")[0][:W * H].reshape(H, W), (96, 80),
                          interpolation=cv2.INTER_LINEAR)
    assert np.abs(picture[:96 * 80].reshape(80, 96).astype(int) - expected).max() <= 1
    assert vdec.destroy() == 0


def test_vdec_eos_resets_the_channel_for_a_new_sequence(reporter):
    first, second = encode_stream("libx264", count=4), encode_stream("libx264", count=3)
    vdec = Vdec(reporter.tid)
    for packet in first:
        assert vdec.send(packet, "a") == 0
    assert vdec.end_of_stream() == 0
    assert len(vdec.results) == 4
    for packet in second:
        assert vdec.send(packet, "b") == 0
    assert vdec.end_of_stream() == 0
    assert vdec.end_of_stream() == 0              # nothing pending: returns at once
    assert [r[0] for r in vdec.results] == ["a"] * 4 + ["b"] * 3
    expected = reference_nv12(first, "h264") + reference_nv12(second, "h264")
    for result, picture in zip(vdec.results, expected):
        np.testing.assert_array_equal(result[4], picture)
    assert vdec.destroy() == 0


def test_vdec_input_buffer_is_copied_before_send_returns(reporter):
    """acllite reuses one input buffer: overwrite it right after each send."""
    packets = encode_stream("libx264", count=6)
    vdec = Vdec(reporter.tid)
    for packet in packets:
        assert vdec.send(packet) == 0
        acl.rt.memset(vdec.input, 1 << 20, 0xAB, 1 << 20)
    assert vdec.end_of_stream() == 0
    for result, expected in zip(vdec.results, reference_nv12(packets, "h264")):
        np.testing.assert_array_equal(result[4], expected)
    assert vdec.destroy() == 0


def test_vdec_skipped_frames_are_decoded_and_called_back_without_output(reporter):
    packets = encode_stream("libx264", count=5)
    vdec = Vdec(reporter.tid)
    assert vdec.send(packets[0], 0) == 0
    source = vdec.stream_desc(packets[1])
    assert acl.media.vdec_send_skipped_frame(vdec.desc, source, vdec.config, 1) == 0
    for index in (2, 3, 4):
        assert vdec.send(packets[index], index) == 0
    eos = vdec.stream_desc(b"", eos=1)
    assert acl.media.vdec_send_skipped_frame(vdec.desc, eos, vdec.config, None) == 200006
    assert vdec.end_of_stream() == 0
    acl.media.dvpp_destroy_stream_desc(eos)
    assert [r[0] for r in vdec.results] == [0, 1, 2, 3, 4]
    assert vdec.results[1][1:] == (None, None, None, None)
    reference = reference_nv12(packets, "h264")
    for index in (0, 2, 3, 4):           # frame 2 refers to the skipped frame 1: still exact
        np.testing.assert_array_equal(vdec.results[index][4], reference[index])
    assert vdec.destroy() == 0


def test_vdec_fast_out_mode_calls_back_each_frame_before_the_next_is_sent(reporter):
    packets = encode_stream("libx264", count=5)
    vdec = Vdec(reporter.tid, out_mode=1)
    seen = []
    for index, packet in enumerate(packets):
        assert vdec.send(packet, index) == 0
        deadline = threading.Event()
        for _ in range(200):
            if len(vdec.results) == index + 1:
                break
            deadline.wait(0.01)
        seen.append(len(vdec.results))
    assert seen == [1, 2, 3, 4, 5]
    assert vdec.destroy() == 0


def test_vdec_bad_frames_and_small_buffers_fail_in_their_ret_code_only(reporter):
    packets = encode_stream("libx264", count=4)
    vdec = Vdec(reporter.tid)
    assert vdec.send(packets[0], 0) == 0
    assert vdec.send(b"\x00\x00\x01\x65" + bytes(range(256)) * 4, 1) == 0   # garbage slice
    assert vdec.send(packets[1], 2, size=1000) == 0                          # too small
    for index in (2, 3):
        assert vdec.send(packets[index], index + 1) == 0
    assert vdec.end_of_stream() == 0
    codes = [r[1] for r in vdec.results]
    assert [r[0] for r in vdec.results] == [0, 1, 2, 3, 4]
    assert codes[0] == 0 and codes[1] != 0 and codes[2] != 0
    assert vdec.destroy() == 0


def test_vdec_sends_without_a_picture_at_eos_get_no_picture(reporter):
    packets = encode_stream("libx264", count=3)
    header_only = packets[0][:packets[0].index(b"\x00\x00\x01\x65") if b"\x00\x00\x01\x65"
                             in packets[0] else 30]
    vdec = Vdec(reporter.tid)
    assert vdec.send(header_only, "sps") == 0         # parameter sets only: no picture
    assert vdec.end_of_stream() == 0
    assert vdec.results[0][:2] == ("sps", VDEC_NO_PICTURE)
    assert vdec.destroy() == 0


# ------------------------------------------------------------------ VDEC: descs and misuse
def test_vdec_channel_desc_defaults_setters_and_getters(context, monkeypatch):
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310")
    desc = acl.media.vdec_create_channel_desc()
    getters = {name: getattr(acl.media, f"vdec_get_channel_desc_{name}")(desc)
               for name in ("channel_id", "thread_id", "entype", "out_pic_format",
                            "out_pic_width", "out_pic_height", "ref_frame_num", "out_mode",
                            "bit_depth")}
    assert getters == dict(channel_id=0, thread_id=0, entype=0, out_pic_format=NV12,
                           out_pic_width=0, out_pic_height=0, ref_frame_num=0, out_mode=0,
                           bit_depth=0)
    with pytest.raises(RuntimeError, match="did not set callback, failed"):
        acl.media.vdec_get_channel_desc_callback(desc)
    with pytest.raises(TypeError):
        acl.media.vdec_set_channel_desc_callback(desc, 5)

    def fn(a, b, c):
        pass

    assert acl.media.vdec_set_channel_desc_callback(desc, fn) == 0
    assert acl.media.vdec_get_channel_desc_callback(desc) is fn
    assert acl.media.vdec_set_channel_desc_channel_id(desc, 31) == 0
    assert acl.media.vdec_set_channel_desc_channel_id(desc, 32) == 100000    # 310: 0..31
    assert acl.media.vdec_set_channel_desc_ref_frame_num(desc, 4) == 200006
    assert acl.media.vdec_set_channel_desc_out_mode(desc, 2) == 100000
    assert acl.media.vdec_set_channel_desc_param(desc, 0, 1234) == (desc, 0)
    assert acl.media.vdec_get_channel_desc_param(desc, 0) == (8, 1234, 0)
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310P3")
    assert acl.media.vdec_set_channel_desc_channel_id(desc, 200) == 0
    assert acl.media.vdec_set_channel_desc_ref_frame_num(desc, 4) == 0
    assert acl.media.vdec_get_channel_desc_ref_frame_num(desc) == 4
    assert acl.media.vdec_destroy_channel_desc(desc) == 0
    assert acl.media.vdec_destroy_channel_desc(0) == 0


def test_vdec_send_without_callback_raises_runtime_error(context):
    desc = acl.media.vdec_create_channel_desc()
    for call in (lambda: acl.media.vdec_send_frame(desc, 1, 2, 3, None),
                 lambda: acl.media.vdec_send_skipped_frame(desc, 1, 3, None),
                 lambda: acl.media.vdec_send_frame(0, 1, 2, 3, None)):
        with pytest.raises(RuntimeError, match="did not set callback, failed"):
            call()
    assert acl.media.vdec_create_channel(desc) == 100000       # no callback
    assert "callback" in acl.get_recent_err_msg()
    assert acl.media.vdec_destroy_channel_desc(desc) == 0


def test_vdec_create_needs_a_live_report_thread_and_a_free_channel_id(reporter):
    desc = acl.media.vdec_create_channel_desc()
    acl.media.vdec_set_channel_desc_callback(desc, lambda *args: None)
    acl.media.vdec_set_channel_desc_entype(desc, H264_MAIN)
    assert acl.media.vdec_create_channel(desc) != 0                    # thread id 0
    assert "not a live thread" in acl.get_recent_err_msg()
    acl.media.vdec_set_channel_desc_thread_id(desc, reporter.tid)
    acl.media.vdec_set_channel_desc_entype(desc, 9)
    assert acl.media.vdec_create_channel(desc) == 100000                # bad en_type
    acl.media.vdec_set_channel_desc_entype(desc, H264_MAIN)
    assert acl.media.vdec_create_channel(desc) == 0
    assert acl.media.vdec_create_channel(desc) == 100000                # already created
    second = acl.media.vdec_create_channel_desc()
    acl.media.vdec_set_channel_desc_callback(second, lambda *args: None)
    acl.media.vdec_set_channel_desc_thread_id(second, reporter.tid)
    assert acl.media.vdec_create_channel(second) == 100000              # id 0 is taken
    assert "already used" in acl.get_recent_err_msg()
    assert acl.media.vdec_destroy_channel_desc(desc) == 148051          # channel still there
    assert acl.media.vdec_destroy_channel(desc) == 0
    assert acl.media.vdec_create_channel(second) == 0                   # id 0 is free again
    assert acl.media.vdec_destroy_channel(second) == 0
    assert acl.media.vdec_destroy_channel(second) == 100000             # no channel any more
    for handle in (desc, second):
        with pytest.raises(RuntimeError):                # destroy dropped the callback
            acl.media.vdec_get_channel_desc_callback(handle)
        assert acl.media.vdec_destroy_channel_desc(handle) == 0


def test_vdec_send_checks(reporter):
    packets = encode_stream("libx264", count=1)
    vdec = Vdec(reporter.tid)
    source = vdec.stream_desc(packets[0])
    assert acl.media.vdec_send_frame(vdec.desc, source, 0, vdec.config, None) == 100000
    assert acl.media.vdec_send_frame(vdec.desc, 0, 0, vdec.config, None) == 100000
    empty = acl.media.dvpp_create_stream_desc()
    output = vdec.output_desc(W * H * 3 // 2)
    assert acl.media.vdec_send_frame(vdec.desc, empty, output, vdec.config, None) == 100000
    assert "access unit" in acl.get_recent_err_msg()
    host = acl.util.bytes_to_ptr(packets[0])
    acl.media.dvpp_set_stream_desc_data(empty, host)              # host memory: not DVPP's
    acl.media.dvpp_set_stream_desc_size(empty, len(packets[0]))
    assert acl.media.vdec_send_frame(vdec.desc, empty, output, vdec.config, None) == 100000
    acl.media.dvpp_set_pic_desc_format(output, 0x63)
    assert acl.media.vdec_send_frame(vdec.desc, source, output, vdec.config, None) == 100027
    for desc in (empty, source):
        acl.media.dvpp_destroy_stream_desc(desc)
    acl.media.dvpp_free(acl.media.dvpp_get_pic_desc_data(output))
    acl.media.dvpp_destroy_pic_desc(output)
    assert vdec.destroy() == 0
    assert vdec.results == []


def test_vdec_send_after_destroy_is_refused(context, reporter):
    packets = encode_stream("libx264", count=1)
    vdec = Vdec(reporter.tid)
    assert acl.media.vdec_destroy_channel(vdec.desc) == 0
    acl.media.vdec_set_channel_desc_callback(vdec.desc, vdec.callback)
    assert vdec.send(packets[0]) == 100000
    assert "has no channel" in acl.get_recent_err_msg()
    assert acl.media.vdec_destroy_frame_config(vdec.config) == 0
    assert acl.media.vdec_destroy_channel_desc(vdec.desc) == 0
    assert acl.media.dvpp_free(vdec.input) == 0


def test_vdec_a_raising_callback_does_not_stop_later_frames(reporter, caplog):
    packets = encode_stream("libx264", count=4)
    vdec = Vdec(reporter.tid)

    def callback(input_desc, output_desc, user_data):
        vdec.callback(input_desc, output_desc, user_data)
        if user_data == 1:
            raise ValueError("the program's bug")

    acl.media.vdec_set_channel_desc_callback(vdec.desc, callback)
    assert acl.media.vdec_destroy_channel(vdec.desc) == 0         # a new channel, new callback
    acl.media.vdec_set_channel_desc_callback(vdec.desc, callback)
    assert acl.media.vdec_create_channel(vdec.desc) == 0
    for index, packet in enumerate(packets):
        assert vdec.send(packet, index) == 0
    assert vdec.end_of_stream() == 0
    assert [r[0] for r in vdec.results] == [0, 1, 2, 3]
    assert "the program's bug" in caplog.text
    assert vdec.destroy() == 0


def test_vdec_destroy_or_eos_from_its_own_callback_is_refused_not_a_deadlock(reporter):
    packets = encode_stream("libx264", count=2)
    answers = []
    vdec = Vdec(reporter.tid)

    def callback(input_desc, output_desc, user_data):
        vdec.callback(input_desc, output_desc, user_data)
        answers.append(acl.media.vdec_destroy_channel(vdec.desc))
        answers.append(vdec.end_of_stream())
        answers.append(acl.get_recent_err_msg())

    acl.media.vdec_set_channel_desc_callback(vdec.desc, callback)
    assert acl.media.vdec_destroy_channel(vdec.desc) == 0
    acl.media.vdec_set_channel_desc_callback(vdec.desc, callback)
    assert acl.media.vdec_create_channel(vdec.desc) == 0
    assert vdec.send(packets[0], 0) == 0
    assert vdec.end_of_stream() == 0
    assert answers[:2] == [100000, 100000]
    assert "deadlock" in answers[2]
    assert vdec.destroy() == 0


def test_vdec_report_thread_that_exits_is_reported_not_waited_for(context):
    packets = encode_stream("libx264", count=3, bframes=2)
    thread = ReportThread(context)
    vdec = Vdec(thread.tid)
    assert vdec.send(packets[0], 0) == 0
    assert vdec.send(packets[1], 1) == 0             # B-frames: the decoder holds pictures
    thread.stop()
    assert vdec.send(packets[2], 2) != 0 or vdec.end_of_stream() != 0
    assert "has exited" in acl.get_recent_err_msg()
    assert acl.media.vdec_destroy_channel(vdec.desc) in (0, 107015)    # frames it still held
    assert acl.media.vdec_destroy_channel(vdec.desc) == 100000         # closed all the same
    acl.media.vdec_destroy_frame_config(vdec.config)
    acl.media.vdec_destroy_channel_desc(vdec.desc)
    acl.media.dvpp_free(vdec.input)
    # the callbacks never ran: free what the program handed over for them
    from openacl.media.descs import PicDesc, StreamDesc
    from openacl.runtime.handles import handles
    for desc in handles.live(PicDesc):
        acl.media.dvpp_free(acl.media.dvpp_get_pic_desc_data(desc.handle))
        acl.media.dvpp_destroy_pic_desc(desc.handle)
    for desc in handles.live(StreamDesc):
        acl.media.dvpp_destroy_stream_desc(desc.handle)


def test_a_channel_left_alive_is_reported_and_closed_at_finalize():
    import openacl.runtime
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    context, _ = acl.rt.create_context(0)
    thread = ReportThread(context)
    vdec = Vdec(thread.tid)
    assert vdec.send(encode_stream("libx264", count=1)[0]) == 0
    leaks = openacl.runtime.reset()                 # the program ends without cleaning up
    thread.stop()
    kinds = {leak.kind for leak in leaks}
    assert {"VDEC channel", "vdec channel desc", "context"} <= kinds


# ------------------------------------------------------------------ VENC
def nv12(index: int, width: int = W, height: int = H, stride: int | None = None) -> bytes:
    """The I420 pattern as NV12 with rows ``stride`` bytes apart."""
    stride = stride or width
    i420 = pattern(index, width, height)
    y = i420[:height]
    u = i420[height:height + height // 4].reshape(height // 2, width // 2)
    v = i420[height + height // 4:].reshape(height // 2, width // 2)
    out = np.zeros((height * 3 // 2, stride), np.uint8)
    out[:height, :width] = y
    out[height:, :width] = np.dstack([u, v]).reshape(height // 2, width)
    return out.tobytes()


class Venc:
    """The venc_image sample's channel: the callback copies each frame's bytes out."""

    def __init__(self, thread_id: int, en_type: int = H265, width: int = W, height: int = H,
                 key_frame_interval: int = 16, fmt: int = NV12, **extra):
        self.packets, self.descs = [], []
        self.desc = acl.media.venc_create_channel_desc()
        calls = [acl.media.venc_set_channel_desc_thread_id(self.desc, thread_id),
                 acl.media.venc_set_channel_desc_callback(self.desc, self.callback),
                 acl.media.venc_set_channel_desc_entype(self.desc, en_type),
                 acl.media.venc_set_channel_desc_pic_format(self.desc, fmt),
                 acl.media.venc_set_channel_desc_key_frame_interval(self.desc, key_frame_interval),
                 acl.media.venc_set_channel_desc_pic_height(self.desc, height),
                 acl.media.venc_set_channel_desc_pic_width(self.desc, width)]
        calls += [getattr(acl.media, f"venc_set_channel_desc_{k}")(self.desc, v)
                  for k, v in extra.items()]
        assert calls == [0] * len(calls)
        assert acl.media.venc_create_channel(self.desc) == 0, acl.get_recent_err_msg()
        self.config = acl.media.venc_create_frame_config()
        assert acl.media.venc_set_frame_config_force_i_frame(self.config, 0) == 0
        assert acl.media.venc_set_frame_config_eos(self.config, 0) == 0

    def callback(self, input_desc, output_desc, user_data):
        data = acl.media.dvpp_get_stream_desc_data(output_desc)
        size = acl.media.dvpp_get_stream_desc_size(output_desc)
        assert acl.media.dvpp_get_stream_desc_ret_code(output_desc) == 0
        self.packets.append((user_data, input_desc, from_device(data, size).tobytes()))
        self.descs.append(output_desc)

    def send(self, picture: int, user_data=None, force_key: bool = False) -> int:
        acl.media.venc_set_frame_config_force_i_frame(self.config, int(force_key))
        return acl.media.venc_send_frame(self.desc, picture, 0, self.config, user_data)

    def end_of_stream(self) -> int:
        acl.media.venc_set_frame_config_eos(self.config, 1)
        ret = acl.media.venc_send_frame(self.desc, 0, 0, self.config, None)
        acl.media.venc_set_frame_config_eos(self.config, 0)
        return ret

    def destroy(self) -> int:
        ret = acl.media.venc_destroy_channel(self.desc)
        assert acl.media.venc_destroy_frame_config(self.config) == 0
        assert acl.media.venc_destroy_channel_desc(self.desc) == 0
        return ret


def picture_desc(data: bytes, fmt: int = NV12) -> tuple[int, int]:
    ptr = to_device(data)
    desc = acl.media.dvpp_create_pic_desc()
    acl.media.dvpp_set_pic_desc_data(desc, ptr)
    acl.media.dvpp_set_pic_desc_size(desc, len(data))
    acl.media.dvpp_set_pic_desc_format(desc, fmt)
    return desc, ptr


def release_picture(desc: int, ptr: int) -> None:
    assert acl.media.dvpp_destroy_pic_desc(desc) == 0
    assert acl.media.dvpp_free(ptr) == 0


def decode_all(stream: bytes, codec: str):
    dec = av.CodecContext.create(codec, "r")
    frames = []
    for packet in dec.parse(stream) + dec.parse(None):      # None: the parser's last unit
        frames += dec.decode(packet)
    frames += dec.decode(None)
    return frames


@pytest.mark.parametrize("en_type,codec,profile", [(H265, "hevc", "Main"),
                                                   (H264_BASELINE, "h264", "Constrained Baseline"),
                                                   (H264_MAIN, "h264", "Main"),
                                                   (H264_HIGH, "h264", "High")])
def test_venc_stream_decodes_back_to_the_pictures(reporter, en_type, codec, profile):
    count, gop = 10, 4
    venc = Venc(reporter.tid, en_type, key_frame_interval=gop)
    pictures = [picture_desc(nv12(i)) for i in range(count)]
    for index, (desc, _) in enumerate(pictures):
        assert venc.send(desc, index) == 0
    assert venc.end_of_stream() == 0
    assert len(venc.packets) == count                  # one callback per picture, before EOS
    assert [p[0] for p in venc.packets] == list(range(count))
    assert [p[1] for p in venc.packets] == [desc for desc, _ in pictures]
    assert venc.destroy() == 0
    frames = decode_all(b"".join(p[2] for p in venc.packets), codec)
    assert len(frames) == count
    assert [f.key_frame for f in frames] == [i % gop == 0 for i in range(count)]
    idr = (19, 20) if codec == "hevc" else (5,)         # key frames are IDRs, not CRA
    for index, (_, _, packet) in enumerate(venc.packets):
        units = [part[0] for part in packet.split(b"\x00\x00\x01")[1:]]
        types = [(u >> 1) & 0x3F if codec == "hevc" else u & 0x1F for u in units]
        assert any(t in idr for t in types) == (index % gop == 0), (index, types)
    for index, frame in enumerate(frames):
        assert (frame.width, frame.height) == (W, H)
        assert psnr(frame.to_ndarray(format="yuv420p"), pattern(index)) >= 30
    assert av.CodecContext.create(codec, "r").name == codec
    with av.open(__import__("io").BytesIO(b"".join(p[2] for p in venc.packets)),
                 format="hevc" if codec == "hevc" else "h264") as container:
        assert container.streams.video[0].codec_context.profile == profile
    for desc, ptr in pictures:
        release_picture(desc, ptr)


def test_venc_output_stream_desc_lives_only_inside_the_callback(reporter):
    venc = Venc(reporter.tid)
    desc, ptr = picture_desc(nv12(0))
    assert venc.send(desc) == 0
    assert venc.end_of_stream() == 0
    (output,) = venc.descs
    assert acl.media.dvpp_get_stream_desc_size(output) == 0        # destroyed: defaults
    assert acl.media.dvpp_destroy_stream_desc(output) != 0         # not the program's to free
    assert venc.destroy() == 0
    release_picture(desc, ptr)


def test_venc_force_i_frame_and_nv21_input(reporter):
    venc = Venc(reporter.tid, H264_MAIN, key_frame_interval=100, fmt=NV21)
    pictures = []
    for index in range(6):
        data = np.frombuffer(nv12(index), np.uint8).copy()
        chroma = data[W * H:].reshape(-1, 2)
        chroma[:] = chroma[:, ::-1].copy()                           # NV12 -> NV21
        pictures.append(picture_desc(data.tobytes(), NV21))
    for index, (desc, _) in enumerate(pictures):
        assert venc.send(desc, index, force_key=index == 3) == 0
    assert venc.destroy() == 0                                      # destroy flushes
    frames = decode_all(b"".join(p[2] for p in venc.packets), "h264")
    assert [f.key_frame for f in frames] == [True, False, False, True, False, False]
    for index, frame in enumerate(frames):
        assert psnr(frame.to_ndarray(format="yuv420p"), pattern(index)) >= 30
    for desc, ptr in pictures:
        release_picture(desc, ptr)


def test_venc_reads_rows_at_the_aligned_stride(reporter):
    width, height = 136, 128                                       # align16(136) = 144
    venc = Venc(reporter.tid, H264_HIGH, width=width, height=height)
    desc, ptr = picture_desc(nv12(2, width, height, stride=144))
    assert venc.send(desc) == 0
    assert venc.end_of_stream() == 0
    (frame,) = decode_all(venc.packets[0][2], "h264")
    assert psnr(frame.to_ndarray(format="yuv420p"), pattern(2, width, height)) >= 30
    release_picture(desc, ptr)
    tight, tight_ptr = picture_desc(nv12(2, width, height))          # w*h*3/2: too small
    assert venc.send(tight) == 100000
    assert "144" in acl.get_recent_err_msg()
    release_picture(tight, tight_ptr)
    assert venc.destroy() == 0


def test_venc_bit_rate_caps_the_stream(reporter):
    rng = np.random.default_rng(0)
    noisy = [rng.integers(0, 256, W * H * 3 // 2, dtype=np.uint8).tobytes() for _ in range(8)]
    sizes = {}
    for rate in (0, 100):
        venc = Venc(reporter.tid, H264_MAIN, max_bit_rate=rate, rc_mode=2 if rate else 0,
                    src_rate=25)
        pictures = [picture_desc(data) for data in noisy]
        for desc, _ in pictures:
            assert venc.send(desc) == 0
        assert venc.destroy() == 0
        sizes[rate] = sum(len(p[2]) for p in venc.packets)
        for desc, ptr in pictures:
            release_picture(desc, ptr)
    assert sizes[100] < sizes[0] / 2          # 100 kbit/s: far below the quality default


def test_venc_channel_desc_and_frame_config_accessors(context):
    desc = acl.media.venc_create_channel_desc()
    with pytest.raises(RuntimeError, match="did not set callback, failed"):
        acl.media.venc_get_channel_desc_callback(desc)
    with pytest.raises(RuntimeError, match="did not set callback, failed"):
        acl.media.venc_get_channel_desc_param(desc, 1)
    with pytest.raises(RuntimeError, match="did not set callback, failed"):
        acl.media.venc_send_frame(desc, 0, 0, 0, None)
    with pytest.raises(TypeError):
        acl.media.venc_set_channel_desc_callback(desc, "not callable")
    with pytest.raises(TypeError):
        acl.media.venc_set_channel_desc_param(desc, 1, 42)
    with pytest.raises(TypeError):
        acl.media.venc_set_channel_desc_param(desc, 4, "wide")
    assert acl.media.venc_set_channel_desc_pic_format(desc, 12) == 100000    # NV12/NV21 only
    assert acl.media.venc_set_channel_desc_pic_format(desc, NV21) == 0
    for param, value in ((0, 1 << 40), (2, NV12), (3, H264_HIGH), (4, 640), (5, 480), (6, 25),
                         (7, 0x1000), (8, 4096), (9, 1), (10, 30), (11, 2000), (12, 5)):
        assert acl.media.venc_set_channel_desc_param(desc, param, value) == 0
        assert acl.media.venc_get_channel_desc_param(desc, param) == (value, 0)
    getters = {name: getattr(acl.media, f"venc_get_channel_desc_{name}")(desc)
               for name in ("thread_id", "entype", "pic_format", "pic_width", "pic_height",
                            "key_frame_interval", "buf_addr", "buf_size", "rc_mode",
                            "src_rate", "max_bit_rate", "channel_id")}
    assert getters == dict(thread_id=1 << 40, entype=H264_HIGH, pic_format=NV12, pic_width=640,
                           pic_height=480, key_frame_interval=25, buf_addr=0x1000,
                           buf_size=4096, rc_mode=1, src_rate=30, max_bit_rate=2000,
                           channel_id=0)
    assert acl.media.venc_set_channel_desc_param(desc, 1, print) == 0
    assert acl.media.venc_get_channel_desc_callback(desc) is print
    assert acl.media.venc_set_channel_desc_param(desc, 99, 1) == 100000
    assert acl.media.venc_set_channel_desc_rc_mode(desc, 3) == 100000
    assert acl.media.venc_destroy_channel_desc(desc) == 0
    config = acl.media.venc_create_frame_config()
    assert (acl.media.venc_get_frame_config_eos(config),
            acl.media.venc_get_frame_config_force_i_frame(config)) == (0, 0)
    assert acl.media.venc_set_frame_config_eos(config, 1) == 0
    assert acl.media.venc_get_frame_config_eos(config) == 1
    assert acl.media.venc_destroy_frame_config(config) == 0


def test_venc_create_and_send_checks(reporter, monkeypatch):
    desc = acl.media.venc_create_channel_desc()
    acl.media.venc_set_channel_desc_thread_id(desc, reporter.tid)
    acl.media.venc_set_channel_desc_callback(desc, lambda *args: None)
    assert acl.media.venc_create_channel(desc) == 100000            # no picture size
    for width, height in ((100, 96), (130, 97), (5000, 128)):
        acl.media.venc_set_channel_desc_pic_width(desc, width)
        acl.media.venc_set_channel_desc_pic_height(desc, height)
        assert acl.media.venc_create_channel(desc) == 100000, (width, height)
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310")
    acl.media.venc_set_channel_desc_pic_width(desc, 2000)
    acl.media.venc_set_channel_desc_pic_height(desc, 128)
    assert acl.media.venc_create_channel(desc) == 100000            # 310: at most 1920
    monkeypatch.delenv("OPENACL_SOC_NAME")
    acl.media.venc_set_channel_desc_pic_width(desc, W)
    acl.media.venc_set_channel_desc_pic_height(desc, H)
    assert acl.media.venc_create_channel(desc) == 0
    config = acl.media.venc_create_frame_config()
    picture, ptr = picture_desc(nv12(0))
    assert acl.media.venc_send_frame(desc, picture, 1, config, None) == 100000   # reserve
    assert acl.media.venc_send_frame(desc, picture, 0, 0, None) == 100000        # no config
    assert acl.media.venc_send_frame(desc, 0, 0, config, None) == 100000         # no picture
    for size in (W * H * 3 // 2 - 1, W * H * 3):
        acl.media.dvpp_set_pic_desc_size(picture, size)
        assert acl.media.venc_send_frame(desc, picture, 0, config, None) == 100000, size
    assert acl.media.venc_destroy_channel(desc) == 0
    with pytest.raises(RuntimeError):             # destroy dropped the callback, as pyACL does
        acl.media.venc_send_frame(desc, picture, 0, config, None)
    release_picture(picture, ptr)
    assert acl.media.venc_destroy_frame_config(config) == 0
    assert acl.media.venc_destroy_channel_desc(desc) == 0
