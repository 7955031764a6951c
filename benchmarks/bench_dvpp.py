"""JPEG decode + resize to 224x224 through acl.media, against the same work done directly.

    python benchmarks/bench_dvpp.py [--repeat 5] [--images 8]

The picture is a 1920x1080 4:2:0 JPEG already in DVPP memory (acllite copies each file there
first). acl.media: ``dvpp_jpeg_decode_async`` + ``dvpp_vpc_resize_async`` +
``synchronize_stream`` per image, descriptions reused as sampleResnetDVPP does. Direct: the
libraries openacl uses, called on the same bytes — FFmpeg's MJPEG decoder through PyAV to
YUV planes, then ``cv2.resize`` of the Y and interleaved UV planes. Bar: <= 1.2x per image.

Then two streams (each with its own channel) decoding and resizing a batch of images in
parallel, against the same batch on one stream: the throughput ratio shows how much of the
DVPP work runs outside the GIL.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time

import av
import cv2
import numpy as np
from PIL import Image

import acl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import acl_session, alternate  # noqa: E402

NV12 = 1
WIDTH, HEIGHT, OUT = 1920, 1080, 224


def make_jpeg(seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    rgb = np.stack([128 + 100 * np.sin(xx / 61 + seed), 128 + 90 * np.cos(yy / 37),
                    (xx + yy) / (WIDTH + HEIGHT) * 255], -1)
    rgb += rng.normal(0, 6, rgb.shape)
    out = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=90,
                                                                subsampling=2)
    return out.getvalue()


def direct(jpeg: bytes, codec) -> np.ndarray:
    """The same work without acl: decode to planes, resize Y and UV."""
    frame = codec.decode(av.Packet(jpeg))[0]
    planes = [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width]
              for p in frame.planes]
    y = cv2.resize(planes[0], (OUT, OUT), interpolation=cv2.INTER_LINEAR)
    uv = cv2.resize(np.dstack(planes[1:]), (OUT // 2, OUT // 2), interpolation=cv2.INTER_LINEAR)
    return np.concatenate([y.ravel(), uv.ravel()])


def _desc(ptr, width, height, width_stride, height_stride, size):
    desc = acl.media.dvpp_create_pic_desc()
    for name, value in (("data", ptr), ("format", NV12), ("width", width), ("height", height),
                        ("width_stride", width_stride), ("height_stride", height_stride),
                        ("size", size)):
        getattr(acl.media, f"dvpp_set_pic_desc_{name}")(desc, value)
    return desc


class Pipeline:
    """One stream and channel with the buffers and descriptions a sample keeps per image."""

    def __init__(self, jpeg: bytes):
        self.stream, _ = acl.rt.create_stream()
        self.channel = acl.media.dvpp_create_channel_desc()
        assert acl.media.dvpp_create_channel(self.channel) == 0
        self.config = acl.media.dvpp_create_resize_config()
        self.jpeg_size = len(jpeg)
        self.jpeg_ptr, _ = acl.media.dvpp_malloc(len(jpeg))
        acl.rt.memcpy(self.jpeg_ptr, len(jpeg), acl.util.bytes_to_ptr(jpeg), len(jpeg), 1)
        size, _ = acl.media.dvpp_jpeg_predict_dec_size(acl.util.bytes_to_ptr(jpeg), len(jpeg),
                                                       NV12)
        ws, hs = -(-WIDTH // 128) * 128, -(-HEIGHT // 16) * 16
        self.dec_ptr, _ = acl.media.dvpp_malloc(size)
        self.dec = _desc(self.dec_ptr, WIDTH, HEIGHT, ws, hs, size)
        self.src = _desc(self.dec_ptr, WIDTH, HEIGHT, ws, hs, size)
        self.out_size = OUT * OUT * 3 // 2
        self.out_ptr, _ = acl.media.dvpp_malloc(self.out_size)
        self.out = _desc(self.out_ptr, OUT, OUT, OUT, OUT, self.out_size)

    def submit(self) -> None:
        assert acl.media.dvpp_jpeg_decode_async(self.channel, self.jpeg_ptr, self.jpeg_size,
                                                self.dec, self.stream) == 0
        # The resize reads the strides the decoder chose (written back by the decode).
        assert acl.media.dvpp_vpc_resize_async(self.channel, self.src, self.out, self.config,
                                               self.stream) == 0

    def once(self) -> None:
        self.submit()
        assert acl.rt.synchronize_stream(self.stream) == 0, acl.get_recent_err_msg()

    def result(self) -> np.ndarray:
        out = bytes(self.out_size)
        acl.rt.memcpy(acl.util.bytes_to_ptr(out), self.out_size, self.out_ptr, self.out_size, 2)
        return np.frombuffer(out, np.uint8)

    def release(self) -> None:
        for desc in (self.dec, self.src, self.out):
            acl.media.dvpp_destroy_pic_desc(desc)
        for ptr in (self.jpeg_ptr, self.dec_ptr, self.out_ptr):
            acl.media.dvpp_free(ptr)
        acl.media.dvpp_destroy_resize_config(self.config)
        acl.media.dvpp_destroy_channel(self.channel)
        acl.media.dvpp_destroy_channel_desc(self.channel)
        acl.rt.destroy_stream(self.stream)


def throughput(pipelines: list[Pipeline], images: int, rounds: int) -> float:
    """Best images per second with ``images`` spread over the pipelines' streams."""
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for n in range(images):
            pipelines[n % len(pipelines)].submit()
        for pipeline in pipelines:
            assert acl.rt.synchronize_stream(pipeline.stream) == 0
        best = max(best, images / (time.perf_counter() - start))
    return best


def run(repeat: int, images: int) -> dict:
    jpeg = make_jpeg()
    codec = av.CodecContext.create("mjpeg", "r")
    first, second = Pipeline(jpeg), Pipeline(jpeg)
    try:
        first.once()
        # Same result both ways (the DVPP decoder chose 128-aligned strides here).
        difference = np.abs(first.result().astype(int) - direct(jpeg, codec)).max()
        acl_t, direct_t = alternate(first.once, lambda: direct(jpeg, codec), 10, repeat)
        one = throughput([first], images, repeat)
        two = throughput([first, second], images, repeat)
    finally:
        first.release()
        second.release()
    return {"acl_ms": acl_t * 1e3, "direct_ms": direct_t * 1e3, "ratio": acl_t / direct_t,
            "max_abs_difference": int(difference), "one_stream_ips": one,
            "two_streams_ips": two, "parallel_speedup": two / one, "cpus": os.cpu_count()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="alternating rounds")
    parser.add_argument("--images", type=int, default=8, help="images per throughput round")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    with acl_session():
        r = run(args.repeat, args.images)
    print(f"1920x1080 JPEG -> decode -> 224x224 NV12, per image (best of {args.repeat} rounds)")
    print(f"  acl.media (submit + synchronize) {r['acl_ms']:8.2f} ms")
    print(f"  PyAV + cv2.resize directly       {r['direct_ms']:8.2f} ms")
    print(f"  ratio {r['ratio']:.3f}x (bar 1.2x): {'PASS' if r['ratio'] <= 1.2 else 'FAIL'}; "
          f"largest pixel difference {r['max_abs_difference']}")
    print(f"{args.images} images: one stream {r['one_stream_ips']:.1f} img/s, two streams "
          f"{r['two_streams_ips']:.1f} img/s: {r['parallel_speedup']:.2f}x on {r['cpus']} CPUs")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(r, file, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
