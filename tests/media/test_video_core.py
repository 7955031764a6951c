"""The VDEC/VENC codec core: one packet per picture out of the encoder, pictures in order
out of the decoder, against an independent decode of the same stream (FFmpeg's own
demuxer and parser over the whole elementary stream) and against the source pictures."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from openacl.errors import DvppTaskFailed, InvalidParam
from openacl.media.formats import FAMILIES
from openacl.media.video import VideoDecoder, VideoEncoder, vdec_strides

H265, H264_BASELINE, H264_HIGH = 0, 1, 3
WIDTH, HEIGHT = 128, 96


def source_pictures(count: int):
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    for i in range(count):
        luma = ((xx * 2 + yy + 6 * i) % 256).astype(np.uint8)
        cy, cx = np.mgrid[0:HEIGHT // 2, 0:WIDTH // 2]
        chroma = np.dstack([(96 + cx + i) % 256, (160 - cy + i) % 256]).astype(np.uint8)
        yield luma, chroma


def encode(en_type: int, count: int = 16, gop: int = 8, forced=()):
    encoder = VideoEncoder(en_type, WIDTH, HEIGHT, gop)
    packets = [encoder.encode(y, uv, force_key=i in forced)
               for i, (y, uv) in enumerate(source_pictures(count))]
    return packets, encoder.flush()


def nal_types(packet: bytes, hevc: bool) -> list[int]:
    types = []
    for part in packet.split(b"\x00\x00\x01")[1:]:
        types.append((part[0] >> 1) & 0x3F if hevc else part[0] & 0x1F)
    return types


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255 ** 2 / mse) if mse else float("inf")


@pytest.mark.parametrize("en_type", [H265, H264_BASELINE, H264_HIGH])
def test_one_packet_per_picture_with_parameter_sets_on_key_frames(en_type):
    packets, tail = encode(en_type, forced={5})
    assert all(packets) and tail == b""
    hevc = en_type == H265
    parameter_set = 32 if hevc else 7                  # VPS / SPS
    keys = [i for i, p in enumerate(packets) if parameter_set in nal_types(p, hevc)]
    assert keys[:2] == [0, 5] and all(k in (0, 5) or k >= 8 for k in keys)
    assert packets[0].startswith((b"\x00\x00\x00\x01", b"\x00\x00\x01"))


@pytest.mark.parametrize("en_type", [H265, H264_BASELINE, H264_HIGH])
def test_decoding_one_access_unit_at_a_time_equals_ffmpegs_demuxed_decode(en_type):
    packets, _ = encode(en_type)
    decoder = VideoDecoder(en_type)
    frames = [f for p in packets for f in decoder.send(p)] + decoder.flush()
    container = av.open(io.BytesIO(b"".join(packets)), format="hevc" if en_type == H265
                        else "h264")
    reference = [f.to_ndarray(format="yuv420p") for f in container.decode(video=0)]
    assert len(frames) == len(reference) == 16
    sources = list(source_pictures(16))
    for frame, want, (luma, _) in zip(frames, reference, sources):
        assert (frame.width, frame.height) == (WIDTH, HEIGHT)
        assert (frame.luma == want[:HEIGHT]).all()
        u = want[HEIGHT:].reshape(-1)[:WIDTH * HEIGHT // 4].reshape(HEIGHT // 2, WIDTH // 2)
        assert (frame.chroma[..., 0] == u).all()
        assert psnr(frame.luma, luma) >= 30
    assert frames[0].key


def test_a_decoder_takes_a_new_sequence_after_end_of_stream():
    packets, _ = encode(H264_HIGH, count=4)
    decoder = VideoDecoder(H264_HIGH)
    first = [f for p in packets for f in decoder.send(p)] + decoder.flush()
    second = [f for p in packets for f in decoder.send(p)] + decoder.flush()
    assert len(first) == len(second) == 4
    assert all((a.luma == b.luma).all() for a, b in zip(first, second))


def test_bad_input_is_a_code_not_an_exception():
    decoder = VideoDecoder(H265)
    with pytest.raises(InvalidParam):
        decoder.send(b"")
    with pytest.raises(DvppTaskFailed):
        decoder.send(b"\x00\x00\x01\x40\x01" + bytes(range(256)) * 4)
    with pytest.raises(InvalidParam):
        VideoDecoder(7)
    with pytest.raises(InvalidParam):
        VideoEncoder(H265, 127, 96, 8)


def test_vdec_strides_per_family():
    assert vdec_strides(1280, 720, FAMILIES["310"]) == (1280, 720)
    assert vdec_strides(100, 75, FAMILIES["310P"]) == (112, 76)
    assert vdec_strides(8, 6, FAMILIES["310"]) == (32, 6)
    assert vdec_strides(100, 75, FAMILIES["310B"]) == (100, 76)
