"""H.264 decode through VDEC against PyAV, and a VDEC -> VPC -> model pipeline on two videos.

    python benchmarks/bench_video.py [--repeat 5] [--frames 60] [--passes 3] [--pipeline-frames 120]
                                      [--quick] [--json out.json]

The H.264 streams are made at start with PyAV's libx264 (preset ultrafast, Annex-B, one
packet per access unit): a moving pattern with a moving square and some noise.

1. 1920x1080 decode, per frame. acl.media, as acllite's ``DvppVdec`` does it: a report
   thread (``acl.util.start_thread``, ``set_context``, ``process_report(300)`` in a loop), a
   channel with thread id, callback, en_type 3 (H.264 high) and NV12 out; per access unit an
   H2D ``memcpy`` into one ``dvpp_malloc`` input buffer, a stream desc, a ``dvpp_malloc``
   output buffer (align16(w) * align2(h) * 3/2) with its pic desc, ``vdec_send_frame``; the
   callback counts the frame, frees the buffer and destroys both descs; an EOS stream desc
   ends each pass (it returns once every callback has run). Direct: the library openacl
   uses, on the same packets — ``av.CodecContext.create('h264', 'r')``, each frame written
   as NV12 into a fresh numpy buffer with VDEC's strides (the same bytes; checked).
   Passes alternate; each side's best is compared. Bar: VDEC <= 1.2x per frame.

2. 640x480 videos through VDEC -> ``dvpp_vpc_resize_async`` to 224x224 NV12 (on a stream,
   synchronised) -> ``acl.mdl.execute`` of a small model (atc-converted ONNX: uint8 NV12 in,
   Cast, Conv, ReduceMean) reading the resize output buffer directly. Each video has its
   own VDEC channel, report thread, sender thread (as acllite's ``VideoCapture``), DVPP
   channel, stream and model. Two videos at once (one thread each) against the same two
   videos one after the other: frames/s, their ratio and the CPUs each keeps busy
   (process CPU time per wall second). The ratio can only exceed 1 where one video leaves
   CPUs idle: FFmpeg's H.264 decoder runs its own threads, and decode, resize and model
   overlap within one video already.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import tempfile
import threading
import time
from fractions import Fraction

import av
import cv2
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import acl
from openacl.atc import convert

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import acl_session, alternate  # noqa: E402

NV12 = 1                # PIXEL_FORMAT_YUV_SEMIPLANAR_420
H264_HIGH = 3           # acldvppStreamFormat H264_HIGH_LEVEL
H2D, D2H = 1, 2
OUT = 224               # model input: 224x224 NV12


def align(value: int, to: int) -> int:
    return -(-value // to) * to


def make_stream(width: int, height: int, frames: int, seed: int = 0,
                preset: str = "ultrafast") -> list[bytes]:
    """Annex-B access units from libx264: a drifting pattern, a moving square and noise, so
    motion search and residuals have work to do. ``ultrafast`` gives the cheapest stream to
    decode (no CABAC, no B-frames: openacl's fixed per-frame cost weighs most);
    ``veryfast`` a high-profile stream with CABAC and B-frames, as cameras send."""
    rng = np.random.default_rng(seed)
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base, codec.framerate = Fraction(1, 30), Fraction(30)
    codec.gop_size = 30
    codec.options = {"preset": preset, "keyint": "30"}
    span = width + height + 8 * frames
    ramp = np.arange(span, dtype=np.float32)
    row_wave = 128 + 60 * np.sin(ramp / 53)
    col_wave = 50 * np.cos(ramp / 31)
    chroma = 128 + 40 * np.sin(ramp / 40)
    cw, ch = width // 2, height // 2
    side = max(16, height // 6)
    packets: list[bytes] = []
    for i in range(frames):
        y = np.add.outer(col_wave[5 * i:5 * i + height], row_wave[7 * i:7 * i + width])
        top = (3 * i) % (height - side)
        left = (11 * i) % (width - side)
        y[top:top + side, left:left + side] = 235 - y[top:top + side, left:left + side] / 4
        y += rng.integers(-4, 5, y.shape, dtype=np.int8)
        u = np.add.outer(chroma[2 * i:2 * i + ch] - 128, chroma[3 * i:3 * i + cw])
        v = np.add.outer(chroma[ch + i:2 * ch + i] - 128, chroma[cw:2 * cw][::-1])
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane, data in zip(frame.planes, (y, u, v)):
            view = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
            view[:, :plane.width] = np.clip(data, 0, 255)
        frame.pts = i
        packets += [bytes(p) for p in codec.encode(frame)]
    packets += [bytes(p) for p in codec.encode(None)]
    assert len(packets) == frames and all(p.startswith(b"\0\0\0\1") for p in packets)
    return packets


def to_nv12(frame: av.VideoFrame, width_stride: int, height_stride: int) -> np.ndarray:
    """The picture as VDEC writes it: Y rows, then interleaved U,V rows, at its strides."""
    w, h = frame.width, frame.height
    out = np.empty(width_stride * height_stride * 3 // 2, np.uint8)
    y, u, v = (np.frombuffer(p, np.uint8).reshape(p.height, p.line_size) for p in frame.planes)
    out[:width_stride * height_stride].reshape(height_stride, width_stride)[:h, :w] = y[:, :w]
    uv = out[width_stride * height_stride:].reshape(height_stride // 2, width_stride)
    uv = uv[:h // 2, :w].reshape(h // 2, w // 2, 2)
    cv2.merge((u[:, :w // 2], v[:, :w // 2]), dst=uv)     # the fastest interleave we know
    return out


def direct_decode(packets: list[bytes], width: int, height: int, keep: list | None = None) -> int:
    """PyAV straight: decode every packet, each picture into its own NV12 buffer."""
    ws, hs = align(width, 16), align(height, 2)
    codec = av.CodecContext.create("h264", "r")
    count = 0
    for packet in [*map(av.Packet, packets), None]:
        for frame in codec.decode(packet):
            picture = to_nv12(frame, ws, hs)
            count += 1
            if keep is not None:
                keep.append(picture)
    return count


def cpus_busy(function) -> float:
    """CPU seconds this process spent per wall second while ``function`` ran once."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return (time.process_time() - cpu) / (time.perf_counter() - wall)


def _set_pic(desc, **fields) -> None:
    for name, value in fields.items():
        assert getattr(acl.media, f"dvpp_set_pic_desc_{name}")(desc, value) == 0


class Vdec:
    """acllite's DvppVdec: a channel with its report thread; ``on_frame(ptr)`` gets each
    decoded picture's buffer (and owns it)."""

    channels = 0

    def __init__(self, context, width: int, height: int, on_frame=None):
        self.width, self.height = width, height
        self.out_size = align(width, 16) * align(height, 2) * 3 // 2
        self.on_frame = on_frame or acl.media.dvpp_free
        self.decoded = self.failed = 0
        self._exit = False
        self.channel_id = Vdec.channels
        Vdec.channels += 1
        self.thread_id, ret = acl.util.start_thread(self._report, [context])
        assert ret == 0
        self.desc = acl.media.vdec_create_channel_desc()
        for name, value in (("channel_id", self.channel_id), ("thread_id", self.thread_id),
                            ("callback", self._callback), ("entype", H264_HIGH),
                            ("out_pic_format", NV12)):
            assert getattr(acl.media, f"vdec_set_channel_desc_{name}")(self.desc, value) == 0
        assert acl.media.vdec_get_channel_desc_out_mode(self.desc) == 0
        assert acl.media.vdec_create_channel(self.desc) == 0, acl.get_recent_err_msg()
        self.frame_config = acl.media.vdec_create_frame_config()
        self.in_size = width * height * 3          # acllite: rgbu8_size(w, h)
        self.in_ptr, ret = acl.media.dvpp_malloc(self.in_size)
        assert ret == 0

    def _report(self, args) -> None:
        assert acl.rt.set_context(args[0]) == 0
        while not self._exit:
            acl.rt.process_report(300)

    def _callback(self, stream_desc, pic_desc, user_data) -> None:
        ptr = acl.media.dvpp_get_pic_desc_data(pic_desc)
        ret_code = acl.media.dvpp_get_pic_desc_ret_code(pic_desc)
        acl.media.dvpp_destroy_stream_desc(stream_desc)
        acl.media.dvpp_destroy_pic_desc(pic_desc)
        if ret_code:
            acl.media.dvpp_free(ptr)
            self.failed += 1
            return
        self.decoded += 1
        self.on_frame(ptr)

    def send(self, packet: bytes, user_data=None) -> None:
        size = len(packet)
        assert acl.rt.memcpy(self.in_ptr, self.in_size, acl.util.bytes_to_ptr(packet), size,
                             H2D) == 0
        stream_desc = acl.media.dvpp_create_stream_desc()
        assert acl.media.dvpp_set_stream_desc_size(stream_desc, size) == 0
        assert acl.media.dvpp_set_stream_desc_data(stream_desc, self.in_ptr) == 0
        out_ptr, ret = acl.media.dvpp_malloc(self.out_size)
        assert ret == 0
        pic_desc = acl.media.dvpp_create_pic_desc()
        _set_pic(pic_desc, data=out_ptr, size=self.out_size, format=NV12)
        assert acl.media.vdec_send_frame(self.desc, stream_desc, pic_desc, self.frame_config,
                                         user_data) == 0, acl.get_recent_err_msg()

    def end(self) -> None:
        """EOS: returns once every frame sent so far has been called back."""
        eos = acl.media.dvpp_create_stream_desc()
        assert acl.media.dvpp_set_stream_desc_eos(eos, 1) == 0
        assert acl.media.vdec_send_frame(self.desc, eos, 0, self.frame_config, None) == 0, \
            acl.get_recent_err_msg()
        acl.media.dvpp_destroy_stream_desc(eos)

    def decode(self, packets: list[bytes]) -> int:
        """One pass over the stream; the number of pictures called back."""
        start = self.decoded
        for number, packet in enumerate(packets):
            self.send(packet, [self.channel_id, number])
        self.end()
        assert not self.failed, f"{self.failed} frames failed"
        return self.decoded - start

    def release(self) -> None:
        try:
            ret = acl.media.vdec_destroy_channel(self.desc)   # waits for every callback
        finally:
            self._exit = True
            acl.util.stop_thread(self.thread_id)
        assert ret == 0, acl.get_recent_err_msg()
        acl.media.vdec_destroy_frame_config(self.frame_config)
        acl.media.vdec_destroy_channel_desc(self.desc)
        acl.media.dvpp_free(self.in_ptr)


def decode_comparison(context, packets: list[bytes], width: int, height: int, repeat: int,
                      passes: int) -> dict:
    frames = len(packets)
    vdec = Vdec(context, width, height)
    try:
        # Same bytes both ways: copy every VDEC picture out once and compare.
        pictures: list[bytes] = []

        def collect(ptr):
            out = bytes(vdec.out_size)
            acl.rt.memcpy(acl.util.bytes_to_ptr(out), vdec.out_size, ptr, vdec.out_size, D2H)
            acl.media.dvpp_free(ptr)
            pictures.append(out)

        vdec.on_frame = collect
        assert vdec.decode(packets) == frames
        vdec.on_frame = acl.media.dvpp_free
        reference: list[np.ndarray] = []
        assert direct_decode(packets, width, height, reference) == frames
        same = sum(np.array_equal(np.frombuffer(a, np.uint8), b)
                   for a, b in zip(pictures, reference))

        def through_vdec():
            assert vdec.decode(packets) == frames

        def through_pyav():
            assert direct_decode(packets, width, height) == frames

        acl_t, direct_t = alternate(through_vdec, through_pyav, passes, repeat)
        # Where VDEC's time goes: the sends, then the EOS wait for the last callbacks.
        start = time.perf_counter()
        for number, packet in enumerate(packets):
            vdec.send(packet, [vdec.channel_id, number])
        sent = time.perf_counter()
        vdec.end()
        done = time.perf_counter()
    finally:
        vdec.release()
    return {"width": width, "height": height, "frames": frames,
            "kbytes_per_frame": sum(map(len, packets)) / frames / 1e3,
            "identical_frames": int(same),
            "vdec_ms_per_frame": acl_t / frames * 1e3,
            "pyav_ms_per_frame": direct_t / frames * 1e3,
            "ratio": acl_t / direct_t,
            "vdec_send_ms_per_frame": (sent - start) / frames * 1e3,
            "vdec_eos_wait_ms": (done - sent) * 1e3}


def tiny_model(workdir: str) -> str:
    """uint8 NV12 224x224 in; Cast, Conv 3x3/2 with 8 filters, Relu, mean per filter out."""
    weights = np.random.default_rng(1).standard_normal((8, 1, 3, 3)).astype(np.float32) / 9
    nodes = [helper.make_node("Cast", ["data"], ["f"], to=TensorProto.FLOAT),
             helper.make_node("Reshape", ["f", "shape"], ["image"]),
             helper.make_node("Conv", ["image", "w"], ["c"], strides=[2, 2]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("ReduceMean", ["r"], ["score"], axes=[2, 3], keepdims=0)]
    graph = helper.make_graph(
        nodes, "nv12_probe",
        [helper.make_tensor_value_info("data", TensorProto.UINT8, [OUT * OUT * 3 // 2])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1, 8])],
        [numpy_helper.from_array(weights, "w"),
         numpy_helper.from_array(np.array([1, 1, OUT * 3 // 2, OUT], np.int64), "shape")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    source = os.path.join(workdir, "nv12_probe.onnx")
    onnx.save(model, source)
    return convert([f"--model={source}", "--framework=5", f"--output={workdir}/nv12_probe",
                    "--soc_version=Ascend310P3"], on_warning=lambda message: None)


class Pipeline:
    """One video: VDEC (sender thread + report thread) -> VPC resize -> model."""

    def __init__(self, context, packets: list[bytes], width: int, height: int, om: str):
        self.context, self.packets = context, packets
        self.frames: queue.Queue = queue.Queue()
        self.vdec = Vdec(context, width, height, self.frames.put)
        self.stream, ret = acl.rt.create_stream()
        assert ret == 0
        self.channel = acl.media.dvpp_create_channel_desc()
        assert acl.media.dvpp_create_channel(self.channel) == 0
        self.resize_config = acl.media.dvpp_create_resize_config()
        ws, hs = align(width, 16), align(height, 2)
        self.src = acl.media.dvpp_create_pic_desc()
        _set_pic(self.src, format=NV12, width=width, height=height, width_stride=ws,
                 height_stride=hs, size=self.vdec.out_size)
        self.out_size = OUT * OUT * 3 // 2
        self.out_ptr, ret = acl.media.dvpp_malloc(self.out_size)
        assert ret == 0
        self.out = acl.media.dvpp_create_pic_desc()
        _set_pic(self.out, data=self.out_ptr, format=NV12, width=OUT, height=OUT,
                 width_stride=OUT, height_stride=OUT, size=self.out_size)
        # The model reads the resize output where it is (a DVPP buffer as model input).
        self.model_id, ret = acl.mdl.load_from_file(om)
        assert ret == 0, acl.get_recent_err_msg()
        self.model_desc = acl.mdl.create_desc()
        assert acl.mdl.get_desc(self.model_desc, self.model_id) == 0
        assert acl.mdl.get_input_size_by_index(self.model_desc, 0) == self.out_size
        self.score_size = acl.mdl.get_output_size_by_index(self.model_desc, 0)
        self.score_ptr, ret = acl.rt.malloc(self.score_size, 0)
        assert ret == 0
        self.inputs, self.outputs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
        acl.mdl.add_dataset_buffer(self.inputs, acl.create_data_buffer(self.out_ptr,
                                                                       self.out_size))
        acl.mdl.add_dataset_buffer(self.outputs, acl.create_data_buffer(self.score_ptr,
                                                                        self.score_size))
        self.scores = np.zeros(8, np.float32)
        self.errors: list[BaseException] = []

    def _send_all(self) -> None:
        try:
            assert acl.rt.set_context(self.context) == 0
            for number, packet in enumerate(self.packets):
                self.vdec.send(packet, [self.vdec.channel_id, number])
            self.vdec.end()
        except BaseException as error:      # reported by run()
            self.errors.append(error)
        finally:
            self.frames.put(None)

    def run(self) -> None:
        """The whole video: frames out of VDEC as they come, resized, then the model."""
        try:
            assert acl.rt.set_context(self.context) == 0
            sender = threading.Thread(target=self._send_all)
            sender.start()
            processed = 0
            score = bytes(self.score_size)
            while (ptr := self.frames.get()) is not None:
                assert acl.media.dvpp_set_pic_desc_data(self.src, ptr) == 0
                assert acl.media.dvpp_vpc_resize_async(self.channel, self.src, self.out,
                                                       self.resize_config, self.stream) == 0
                assert acl.rt.synchronize_stream(self.stream) == 0, acl.get_recent_err_msg()
                assert acl.mdl.execute(self.model_id, self.inputs, self.outputs) == 0, \
                    acl.get_recent_err_msg()
                assert acl.rt.memcpy(acl.util.bytes_to_ptr(score), self.score_size,
                                     self.score_ptr, self.score_size, D2H) == 0
                acl.media.dvpp_free(ptr)
                processed += 1
            sender.join()
            self.scores = np.frombuffer(score, np.float32).copy()
            assert processed == len(self.packets), f"{processed} of {len(self.packets)}"
        except BaseException as error:
            self.errors.append(error)
        if self.errors:
            raise self.errors[0]

    def release(self) -> None:
        self.vdec.release()
        for dataset in (self.inputs, self.outputs):
            acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, 0))
            acl.mdl.destroy_dataset(dataset)
        acl.rt.free(self.score_ptr)
        acl.mdl.unload(self.model_id)
        acl.mdl.destroy_desc(self.model_desc)
        for desc in (self.src, self.out):
            acl.media.dvpp_destroy_pic_desc(desc)
        acl.media.dvpp_free(self.out_ptr)
        acl.media.dvpp_destroy_resize_config(self.resize_config)
        acl.media.dvpp_destroy_channel(self.channel)
        acl.media.dvpp_destroy_channel_desc(self.channel)
        acl.rt.destroy_stream(self.stream)


def pipeline_comparison(context, videos: list[list[bytes]], width: int, height: int,
                        repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as workdir:
        om = tiny_model(workdir)
        pipelines: list[Pipeline] = []
        try:
            for packets in videos:
                pipelines.append(Pipeline(context, packets, width, height, om))
            return _pipeline_rounds(pipelines, videos, width, height, repeat)
        finally:
            for pipeline in pipelines:
                pipeline.release()


def _pipeline_rounds(pipelines: list[Pipeline], videos, width: int, height: int,
                     repeat: int) -> dict:
    def serial():
        for pipeline in pipelines:
            pipeline.run()

    def parallel():
        threads = [threading.Thread(target=p.run) for p in pipelines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for pipeline in pipelines:
            if pipeline.errors:
                raise pipeline.errors[0]

    serial_t, parallel_t = alternate(serial, parallel, 1, repeat)
    frames = sum(map(len, videos))
    return {"width": width, "height": height, "videos": len(videos), "frames": frames,
            "serial_fps": frames / serial_t, "parallel_fps": frames / parallel_t,
            "parallel_speedup": serial_t / parallel_t,
            "serial_cpus_busy": cpus_busy(serial), "parallel_cpus_busy": cpus_busy(parallel),
            "last_scores": [p.scores.round(3).tolist() for p in pipelines],
            "cpus": os.cpu_count()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="alternating rounds")
    parser.add_argument("--frames", type=int, default=60, help="frames of the 1080p stream")
    parser.add_argument("--passes", type=int, default=3,
                        help="passes over the 1080p stream per timed round")
    parser.add_argument("--pipeline-frames", type=int, default=120,
                        help="frames of each 640x480 video in the pipeline part")
    parser.add_argument("--presets", default="ultrafast,veryfast",
                        help="libx264 presets of the 1080p streams, comma-separated")
    parser.add_argument("--quick", action="store_true", help="a few-second smoke run")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.frames, args.passes, args.pipeline_frames = 2, 8, 1, 8
    load = os.getloadavg()
    start = time.perf_counter()
    presets = args.presets.split(",")
    hd = {preset: make_stream(1920, 1080, args.frames, preset=preset) for preset in presets}
    videos = [make_stream(640, 480, args.pipeline_frames, seed) for seed in (1, 2)]
    made = time.perf_counter() - start
    with acl_session() as context:
        decode = {preset: decode_comparison(context, packets, 1920, 1080, args.repeat,
                                            args.passes) for preset, packets in hd.items()}
        pipeline = pipeline_comparison(context, videos, 640, 480, args.repeat)
    r = {"decode": decode, "pipeline": pipeline, "stream_generation_s": made, "load_average": load,
         "total_s": time.perf_counter() - start}
    p = pipeline
    for preset, d in decode.items():
        print(f"1920x1080 H.264 (libx264 {preset}, {d['kbytes_per_frame']:.0f} kB/frame) -> "
              f"NV12, {d['frames']} frames x {args.passes} passes, best of {args.repeat} rounds")
        print(f"  acl.media VDEC (acllite pattern) {d['vdec_ms_per_frame']:8.3f} ms/frame "
              f"(sends {d['vdec_send_ms_per_frame']:.3f} ms/frame, EOS wait "
              f"{d['vdec_eos_wait_ms']:.1f} ms)")
        print(f"  PyAV decode + NV12 directly      {d['pyav_ms_per_frame']:8.3f} ms/frame")
        print(f"  ratio {d['ratio']:.3f}x (bar 1.2x): {'PASS' if d['ratio'] <= 1.2 else 'FAIL'}; "
              f"identical frames {d['identical_frames']}/{d['frames']}")
    print(f"{p['videos']} x {p['frames'] // p['videos']} frames {p['width']}x{p['height']} "
          f"VDEC -> VPC 224x224 -> model (best of {args.repeat} rounds)")
    print(f"  one video after the other {p['serial_fps']:8.1f} frames/s "
          f"({p['serial_cpus_busy']:.2f} CPUs busy)")
    print(f"  both at once              {p['parallel_fps']:8.1f} frames/s "
          f"({p['parallel_cpus_busy']:.2f} CPUs busy)")
    print(f"  speedup {p['parallel_speedup']:.2f}x on {p['cpus']} CPUs "
          f"(load average {r['load_average'][0]:.1f} before the run)")
    print(f"(streams made in {made:.1f} s; {r['total_s']:.1f} s in all)")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(r, file, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
