"""DVPP tasks: what each ``*_async`` call checks when it is submitted, and what its stream runs.

Submit-time checks are ACL's host-side ones (NULL handles and pointers, a channel that
exists, pixel formats of the SoC's sets): they are the call's return code. Everything the
device checks (strides, buffer sizes, ROIs, the JPEG data itself) happens when the task
runs: the failure is recorded on the stream and returned by the next synchronize, and the
output description's ``ret_code`` becomes non-zero (dvpp-api.md §10).

Description values are taken when the task is submitted; the values a task writes back
(decoded width, strides...) are written when it runs, so they are valid after synchronize.
"""

from __future__ import annotations

import contextlib
import ctypes
import struct

import cv2
import numpy as np

from openacl.constants import ChannelMode, PixelFormat
from openacl.errors import (AclError, DvppTaskFailed, FeatureUnsupported, FormatNotMatch,
                            InvalidParam, RuntimeParamInvalid, UnsupportedJpeg, report_fidelity)
from openacl.media import jpeg, png, vpc
from openacl.media.descs import (BatchPicDesc, Channel, ChannelDesc, JpegeConfig, PicDesc,
                                 PicFields, ResizeConfig, RoiConfig)
from openacl.media.formats import Family, family
from openacl.media.layout import Picture, layout_of, min_buffer_size, rgb_to_ycbcr
from openacl.runtime.memory import DEVICE
from openacl.runtime.pointers import host_bytes
from openacl.runtime.runtime import RUNTIME

__all__ = ["jpeg_decode", "png_decode", "predict_enc_size", "jpeg_encode", "vpc_single",
           "vpc_batch", "convert_color", "pyr_down", "calc_hist", "equalize_hist",
           "make_border"]


# ------------------------------------------------------------------ memory the device touches
def device_view(address: int, nbytes: int, role: str, write: bool, fam: Family) -> np.ndarray:
    """A uint8 view of ``nbytes`` of device memory a running task reads or writes.

    DVPP works on device memory only; a host address, a freed block or a range past the
    allocation fails the task (the NPU's DVPP would fault or read garbage).
    """
    if address == 0:
        raise DvppTaskFailed(f"the {role} buffer address is NULL (0)")
    memory = RUNTIME.memory
    arena = memory.arena_of(address)
    if arena is None or arena.kind != DEVICE:
        raise DvppTaskFailed(
            f"the {role} buffer {address:#x} is not device memory: DVPP only reads and writes "
            f"memory from acl.media.dvpp_malloc; copy host data there with acl.rt.memcpy")
    try:
        memory.checked(address, nbytes, f"{role} buffer", write)
    except RuntimeParamInvalid as error:
        raise DvppTaskFailed(error.message) from None
    allocation = memory.find(address)
    if fam.name == "310" and allocation is not None and allocation.origin != "dvpp":
        report_fidelity(f"the {role} buffer {address:#x} comes from acl.rt.malloc; on "
                        f"Ascend310 DVPP needs memory from acl.media.dvpp_malloc (the device "
                        f"log says: should be allocated by acldvppMalloc)", DvppTaskFailed)
    return np.frombuffer((ctypes.c_uint8 * nbytes).from_address(address), np.uint8)


def _read_host_uint32(address: int, call: str) -> int:
    return struct.unpack("<I", host_bytes(address, 4, call))[0]


def _write_host_uint32(address: int, value: int) -> None:
    RUNTIME.memory.checked(address, 4, "encoded size", write=True)
    ctypes.memmove(address, struct.pack("<I", value), 4)


@contextlib.contextmanager
def _results_into(*descs: PicDesc):
    """A failing task leaves its code in the output descriptions' ``ret_code``."""
    try:
        yield
    except AclError as error:
        for desc in descs:
            desc.ret_code = int(error.code)
        if isinstance(error, (DvppTaskFailed, UnsupportedJpeg)):
            raise
        raise DvppTaskFailed(error.message) from None


# ------------------------------------------------------------------ submit-time checks
def _channel(desc: ChannelDesc, needs: ChannelMode) -> Channel:
    channel = desc.channel
    if channel is None:
        raise InvalidParam(f"channel desc {desc.handle:#x} has no channel: call "
                           f"acl.media.dvpp_create_channel with it first")
    if not channel.mode & needs:
        raise InvalidParam(f"the channel of channel desc {desc.handle:#x} was created with "
                           f"mode {channel.mode}, which lacks {needs!r}; "
                           f"set it with acl.media.dvpp_set_channel_desc_mode")
    return channel


def _input_fields(desc: PicDesc) -> PicFields:
    fields = desc.fields()
    if fields.data == 0:
        raise InvalidParam("the input picture desc has no buffer: call "
                           "acl.media.dvpp_set_pic_desc_data")
    return fields


def _output_fields(desc: PicDesc, role: str) -> PicFields:
    fields = desc.fields()
    if fields.data == 0:
        raise InvalidParam(f"the {role} picture desc has no buffer: call "
                           f"acl.media.dvpp_set_pic_desc_data")
    if fields.size == 0:
        raise InvalidParam(f"the {role} picture desc has size 0: call "
                           f"acl.media.dvpp_set_pic_desc_size with the buffer's size")
    return fields


def _format_name(fmt: int) -> str:
    try:
        return f"{PixelFormat(fmt).name} ({fmt})"
    except ValueError:
        return str(fmt)


def _check_format(fmt: int, allowed: frozenset, what: str, fam: Family) -> None:
    if fmt not in allowed:
        names = ", ".join(str(int(f)) for f in sorted(allowed))
        raise FormatNotMatch(f"{what} format {_format_name(fmt)} is not supported on the "
                             f"{fam.name} family; supported: {names}")


# ------------------------------------------------------------------ JPEG / PNG decode
_PNG_OUTPUTS = frozenset({PixelFormat.PIXEL_FORMAT_RGB_888, PixelFormat.PIXEL_FORMAT_RGBA_8888,
                          PixelFormat.PIXEL_FORMAT_UNKNOWN})

def _decode(codec, name: str, needs: ChannelMode, formats: frozenset,
            channel_desc: ChannelDesc, data: int, size: int, out: PicDesc,
            stream_handle: int, fam: Family) -> None:
    """A JPEG or PNG decode: ``codec`` is ``openacl.media.jpeg`` or ``png``."""
    if data == 0:
        raise InvalidParam(f"the {name} data pointer is NULL (0)")
    if size == 0:
        raise InvalidParam(f"the {name} data size is 0")
    _channel(channel_desc, needs)
    fields = _output_fields(out, "output")
    _check_format(fields.fmt, formats, f"{name} decode output", fam)
    stream = RUNTIME.stream(stream_handle)

    def run():
        with _results_into(out):
            source = device_view(data, size, f"{name} input", False, fam).tobytes()
            try:
                header = codec.parse_header(source)
            except AclError as error:
                raise DvppTaskFailed(f"the {name} data cannot be decoded: "
                                     f"{error.message}") from None
            decoded = codec.decode(source, header, fields.fmt, fam)
            codec.write_decoded(decoded, device_view(fields.data, fields.size,
                                                     "decode output", True, fam))
            out.format, out.width, out.height = decoded.fmt, decoded.width, decoded.height
            out.width_stride, out.height_stride = decoded.width_stride, decoded.height_stride
            out.ret_code = 0

    stream.submit(run, f"dvpp_{name.lower()}_decode_async of {size} bytes at {data:#x}")


def jpeg_decode(channel_desc: ChannelDesc, data: int, size: int, out: PicDesc,
                stream_handle: int) -> None:
    fam = family()
    _decode(jpeg, "JPEG", ChannelMode.DVPP_CHNMODE_JPEGD, fam.jpegd_outputs, channel_desc,
            data, size, out, stream_handle, fam)


def png_decode(channel_desc: ChannelDesc, data: int, size: int, out: PicDesc,
               stream_handle: int) -> None:
    fam = family()
    if not fam.png:
        raise FeatureUnsupported(f"PNG decode is not available on the {fam.name} family")
    # The default channel (VPC | JPEGD | JPEGE) serves PNG decodes too, as on Ascend310.
    _decode(png, "PNG", ChannelMode.DVPP_CHNMODE_PNGD | ChannelMode.DVPP_CHNMODE_JPEGD,
            _PNG_OUTPUTS, channel_desc, data, size, out, stream_handle, fam)


# ------------------------------------------------------------------ JPEG encode
def predict_enc_size(desc: PicDesc, config: JpegeConfig) -> int:
    f = desc.fields()
    return jpeg.predict_enc_size(f.fmt, f.width, f.height, f.width_stride, f.height_stride,
                                 family())


def jpeg_encode(channel_desc: ChannelDesc, source: PicDesc, out_ptr: int, size_ptr: int,
                config: JpegeConfig, stream_handle: int) -> None:
    fam = family()
    if out_ptr == 0:
        raise InvalidParam("the output buffer pointer is NULL (0)")
    if size_ptr == 0:
        raise InvalidParam("the size pointer is NULL (0): pass the address of a uint32 "
                           "holding the output buffer's size")
    _channel(channel_desc, ChannelMode.DVPP_CHNMODE_JPEGE)
    fields = _input_fields(source)
    _check_format(fields.fmt, fam.jpege_inputs, "JPEG encode input", fam)
    capacity = _read_host_uint32(size_ptr, "acl.media.dvpp_jpeg_encode_async")
    if capacity == 0:
        raise InvalidParam("the output buffer size at the size pointer is 0: store the "
                           "buffer's size there (e.g. from dvpp_jpeg_predict_enc_size)")
    quality = config.level
    stream = RUNTIME.stream(stream_handle)

    def run():
        with _results_into(source):
            jpeg.predict_enc_size(fields.fmt, fields.width, fields.height, fields.width_stride,
                                  fields.height_stride, fam)
            picture = _picture(fields, "encode input", False, fam)
            encoded = jpeg.encode(picture, quality)
            if len(encoded) > capacity:
                raise DvppTaskFailed(f"the encoded picture needs {len(encoded)} bytes but the "
                                     f"output buffer holds {capacity}; size it with "
                                     f"acl.media.dvpp_jpeg_predict_enc_size")
            target = device_view(out_ptr, len(encoded), "encode output", True, fam)
            target[:] = np.frombuffer(encoded, np.uint8)
            _write_host_uint32(size_ptr, len(encoded))

    stream.submit(run, f"dvpp_jpeg_encode_async into {out_ptr:#x}")


# ------------------------------------------------------------------ VPC
def _picture(fields: PicFields, role: str, write: bool, fam: Family) -> Picture:
    """The picture a description points at; its buffer must hold what its strides lay out
    (every task comes through here, so no view is ever shorter than its planes)."""
    if layout_of(fields.fmt) is None:
        raise DvppTaskFailed(f"the {role} format {_format_name(fields.fmt)} cannot be laid out")
    need = min_buffer_size(fields.fmt, fields.width_stride, fields.height_stride, False)
    if need > fields.size:
        raise DvppTaskFailed(
            f"the {role} buffer holds {fields.size} bytes but a picture of width stride "
            f"{fields.width_stride} and height stride {fields.height_stride} needs {need}: "
            f"set the buffer's real size with acl.media.dvpp_set_pic_desc_size")
    view = device_view(fields.data, fields.size, role, write, fam)
    return Picture(view, fields.fmt, fields.width, fields.height, fields.width_stride,
                   fields.height_stride)


def _roi(config: RoiConfig | None):
    if config is None:
        return None
    return vpc.Roi(config.left, config.right, config.top, config.bottom)


def interpolation_of(config: ResizeConfig | None, fam: Family) -> int:
    if config is None:
        return 0
    if config.interpolation not in fam.interpolations:
        raise FeatureUnsupported(f"resize config interpolation {config.interpolation} is not "
                                 f"supported on the {fam.name} family")
    return config.interpolation


def _vpc_pictures(channel_desc: ChannelDesc, source: PicDesc, out: PicDesc, fam: Family):
    _channel(channel_desc, ChannelMode.DVPP_CHNMODE_VPC)
    src, dst = _input_fields(source), _output_fields(out, "output")
    _check_format(src.fmt, fam.vpc_inputs, "VPC input", fam)
    _check_format(dst.fmt, fam.vpc_outputs, "VPC output", fam)
    return src, dst


def _run_vpc(src: PicFields, dst: PicFields, crop, paste, interpolation: int, fam: Family):
    vpc.check_picture(src, fam, "input", output=False)
    vpc.check_picture(dst, fam, "output", output=True)
    vpc.crop_resize_paste(_picture(src, "VPC input", False, fam),
                          _picture(dst, "VPC output", True, fam), crop, paste, interpolation,
                          fam)


def vpc_single(operation: str, channel_desc: ChannelDesc, source: PicDesc, out: PicDesc,
               crop: RoiConfig | None, paste: RoiConfig | None, config: ResizeConfig | None,
               stream_handle: int) -> None:
    fam = family()
    src, dst = _vpc_pictures(channel_desc, source, out, fam)
    interpolation = interpolation_of(config, fam)
    crop_roi, paste_roi = _roi(crop), _roi(paste)
    stream = RUNTIME.stream(stream_handle)

    def run():
        with _results_into(out):
            _run_vpc(src, dst, crop_roi, paste_roi, interpolation, fam)
            out.ret_code = 0

    stream.submit(run, f"dvpp_vpc_{operation}_async {src.width}x{src.height} -> "
                       f"{dst.width}x{dst.height}")


def vpc_batch(operation: str, channel_desc: ChannelDesc, sources: BatchPicDesc,
              roi_nums: list[int], outputs: BatchPicDesc, crops: list[RoiConfig],
              pastes: list[RoiConfig] | None, config: ResizeConfig | None,
              stream_handle: int) -> None:
    fam = family()
    _channel(channel_desc, ChannelMode.DVPP_CHNMODE_VPC)
    owners = vpc.batch_pairs(roi_nums, len(sources.descs))
    if len(owners) > len(outputs.descs):
        raise InvalidParam(f"{len(owners)} crop areas need as many output pictures, but the "
                           f"output batch desc holds {len(outputs.descs)}")
    if len(crops) != len(owners):
        raise InvalidParam(f"the roi_nums add up to {len(owners)} crop areas, but "
                           f"{len(crops)} crop areas were given")
    interpolation = interpolation_of(config, fam)
    jobs = []
    for k, owner in enumerate(owners):
        src, dst = _vpc_pictures(channel_desc, sources.descs[owner], outputs.descs[k], fam)
        jobs.append((outputs.descs[k], src, dst, _roi(crops[k]),
                     _roi(pastes[k]) if pastes is not None else None))
    stream = RUNTIME.stream(stream_handle)

    def run():
        failed = []
        for k, (desc, src, dst, crop, paste) in enumerate(jobs):
            try:
                with _results_into(desc):
                    _run_vpc(src, dst, crop, paste, interpolation, fam)
                    desc.ret_code = 0
            except AclError as error:
                failed.append(f"picture {k}: {error.message}")
        if failed:
            raise DvppTaskFailed(f"{len(failed)} of {len(jobs)} pictures failed (their "
                                 f"ret_code is set): " + "; ".join(failed[:4]))

    stream.submit(run, f"dvpp_vpc_{operation}_async of {len(jobs)} pictures")


def convert_color(channel_desc: ChannelDesc, source: PicDesc, out: PicDesc,
                  stream_handle: int) -> None:
    """Same-size format conversion; an output width/height of 0 takes the input's."""
    fam = family()
    src, dst = _vpc_pictures(channel_desc, source, out, fam)
    if not (src.width and src.height and src.width_stride and src.height_stride):
        raise InvalidParam("the input picture desc needs width, height and both strides")
    if (dst.width, dst.height) not in ((0, 0), (src.width, src.height)):
        raise InvalidParam(f"output size {dst.width}x{dst.height} differs from the input's "
                           f"{src.width}x{src.height}: color conversion does not resize "
                           f"(leave the output width and height 0 or equal)")
    dst = dst._replace(width=src.width, height=src.height)
    stream = RUNTIME.stream(stream_handle)

    def run():
        with _results_into(out):
            _run_vpc(src, dst, None, None, 1, fam)
            out.width, out.height, out.ret_code = dst.width, dst.height, 0

    stream.submit(run, f"dvpp_vpc_convert_color_async {_format_name(src.fmt)} -> "
                       f"{_format_name(dst.fmt)}")


def pyr_down(channel_desc: ChannelDesc, source: PicDesc, out: PicDesc,
             stream_handle: int) -> None:
    """Gaussian 5x5 blur and 2x down-sampling of a YUV400 picture (OpenCV's pyrDown)."""
    fam = family()
    _channel(channel_desc, ChannelMode.DVPP_CHNMODE_VPC)
    src, dst = source.fields(), _output_fields(out, "output")
    gray = {0}
    _check_format(src.fmt, gray, "pyramid input", fam)
    _check_format(dst.fmt, gray, "pyramid output", fam)
    stream = RUNTIME.stream(stream_handle)

    def run():
        with _results_into(out):
            vpc.check_picture(src, fam, "input", output=False)
            vpc.check_picture(dst, fam, "output", output=True)
            size = ((src.width + 1) // 2, (src.height + 1) // 2)
            if (dst.width, dst.height) != size:
                raise DvppTaskFailed(f"the output of a pyramid step on {src.width}x"
                                     f"{src.height} is {size[0]}x{size[1]}, not "
                                     f"{dst.width}x{dst.height}")
            picture = _picture(src, "pyramid input", False, fam)
            target = _picture(dst, "pyramid output", True, fam)
            target.luma()[...] = cv2.pyrDown(np.ascontiguousarray(picture.luma()), dstsize=size)
            out.ret_code = 0

    stream.submit(run, f"dvpp_vpc_pyr_down_async {src.width}x{src.height}")


# ------------------------------------------------------------------ 310P: histograms, LUTs, borders
def _channels(picture: Picture) -> list[np.ndarray]:
    """The planes a histogram or equalisation works on: Y (and U, V) or R, G, B (views)."""
    kind = picture.layout.kind
    if kind == "gray":
        return [picture.luma()]
    if kind == "sp":
        uv = picture.chroma_uv()
        return [picture.luma(), uv[..., 0], uv[..., 1]]
    if kind in ("rgb", "rgbx", "yuv444"):
        px = picture.pixels()
        return [px[..., picture.layout.order.index(c)] for c in
                ("RGB" if kind != "yuv444" else "YUV")]
    raise DvppTaskFailed(f"format {_format_name(picture.fmt)} has no histogram channels here")


def calc_hist(channel_desc: ChannelDesc, source: PicDesc, hist, stream_handle: int) -> None:
    """256-bin histograms of each channel of the picture into ``hist``."""
    fam = family()
    _channel(channel_desc, ChannelMode.DVPP_CHNMODE_VPC)
    src = source.fields()
    _check_format(src.fmt, fam.vpc_inputs, "histogram input", fam)
    stream = RUNTIME.stream(stream_handle)

    def run():
        try:
            vpc.check_picture(src, fam, "input", output=False)
            planes = _channels(_picture(src, "histogram input", False, fam))
            for index, plane in enumerate(planes):
                hist.bins[index][:] = np.bincount(plane.ravel(), minlength=256)
            hist.dims = len(planes)
            hist.ret_code = 0
        except AclError as error:
            hist.ret_code = int(error.code)
            raise DvppTaskFailed(error.message) from None

    stream.submit(run, "dvpp_vpc_calc_hist_async")


def equalize_hist(channel_desc: ChannelDesc, source: PicDesc, out: PicDesc, lut_map,
                  stream_handle: int) -> None:
    """Histogram equalisation (OpenCV's) of the luma (YUV) or of each colour (RGB); the
    mapping used lands in ``lut_map``."""
    fam = family()
    src, dst = _vpc_pictures(channel_desc, source, out, fam)
    if (src.fmt, src.width, src.height, src.width_stride, src.height_stride, src.size) != (
            dst.fmt, dst.width, dst.height, dst.width_stride, dst.height_stride, dst.size):
        raise InvalidParam("equalize_hist needs input and output of the same format, size "
                           "and strides")
    stream = RUNTIME.stream(stream_handle)

    def run():
        with _results_into(out):
            vpc.check_picture(src, fam, "input", output=False)
            picture = _picture(src, "equalize input", False, fam)
            target = _picture(dst, "equalize output", True, fam)
            sources, targets = _channels(picture), _channels(target)
            equalized = sources[:1] if picture.layout.kind in ("gray", "sp", "yuv444") \
                else sources
            for index, (plane, into) in enumerate(zip(sources, targets)):
                if index < len(equalized):
                    counts = np.bincount(plane.ravel(), minlength=256)
                    table = _equalize_table(counts, plane.size)
                    lut_map.tables[index][:] = table
                    into[...] = cv2.LUT(np.ascontiguousarray(plane), table)
                else:
                    lut_map.tables[index][:] = np.arange(256, dtype=np.uint8)
                    into[...] = plane
            out.ret_code = 0

    stream.submit(run, "dvpp_vpc_equalize_hist_async")


def _equalize_table(counts: np.ndarray, total: int) -> np.ndarray:
    """OpenCV's equalizeHist mapping: cdf scaled to 0..255 from the first non-empty bin."""
    cdf = np.cumsum(counts)
    first = cdf[np.flatnonzero(counts)[0]] if counts.any() else 0
    if total == first:
        return np.arange(256, dtype=np.uint8)
    scaled = np.rint((cdf - first) * 255.0 / (total - first))
    return np.clip(scaled, 0, 255).astype(np.uint8)


_BORDERS = {0: "BORDER_CONSTANT", 1: "BORDER_REPLICATE", 2: "BORDER_REFLECT",
            3: "BORDER_REFLECT_101"}


def make_border(channel_desc: ChannelDesc, source: PicDesc, out: PicDesc, border,
                stream_handle: int) -> None:
    """The input framed by ``border`` (top/bottom/left/right, OpenCV's border types, the
    constant's per-channel values in the picture's own channels)."""
    fam = family()
    src, dst = _vpc_pictures(channel_desc, source, out, fam)
    if border.border_type not in _BORDERS:
        raise InvalidParam(f"border type {border.border_type} is invalid: 0..3 "
                           f"(constant, replicate, reflect, reflect 101)")
    top, bottom, left, right = border.top, border.bottom, border.left, border.right
    mode = getattr(cv2, _BORDERS[border.border_type])
    values = list(border.values)
    stream = RUNTIME.stream(stream_handle)

    def run():
        with _results_into(out):
            vpc.check_picture(src, fam, "input", output=False)
            vpc.check_picture(dst, fam, "output", output=True)
            if (dst.width, dst.height) != (src.width + left + right, src.height + top + bottom):
                raise DvppTaskFailed(
                    f"the output must be {src.width + left + right}x{src.height + top + bottom}"
                    f" (input plus borders), not {dst.width}x{dst.height}")
            picture = _picture(src, "border input", False, fam)
            fill = values[:3]
            if picture.layout.kind in ("rgb", "rgbx"):      # the values are R, G, B there
                rgb = np.clip(np.array([[fill]]), 0, 255).astype(np.uint8)
                fill = [float(v) for v in rgb_to_ycbcr(rgb)[0, 0]]
            framed = cv2.copyMakeBorder(picture.to_ycbcr(), top, bottom, left, right, mode,
                                        value=fill)
            _picture(dst, "border output", True, fam).write_ycbcr(framed)
            out.ret_code = 0

    stream.submit(run, "dvpp_vpc_make_border_async")
