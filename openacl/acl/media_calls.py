"""pyACL ``acl.media`` image calls (dvpp-api.md §2-§9): handles in, core objects and tasks out.

The video calls (``vdec_*``, ``venc_*``) are in ``video_calls``.
"""

from __future__ import annotations

from openacl.acl.build import implements
from openacl.errors import (ArgumentKeyError, ArgumentValueError, FeatureUnsupported,
                            InvalidParam, ResourceNotCleared)
from openacl.media import jpeg, png, tasks
from openacl.media.descs import (BatchPicDesc, BorderConfig, Channel, ChannelDesc, Hist,
                                 JpegeConfig, LutMap, PicDesc, ResizeConfig, RoiConfig,
                                 StreamDesc, VdecChannelDesc, VdecFrameConfig, VencChannelDesc,
                                 VencFrameConfig)
from openacl.media.formats import family
from openacl.runtime import transfers
from openacl.runtime.handles import handles
from openacl.runtime.pointers import contiguous_array_address, host_bytes
from openacl.runtime.runtime import RUNTIME

_DVPP_ALIGNMENT = 128                   # DVPP buffers start on 128-byte boundaries
_MAX_BATCH_ROIS = 256

_KINDS = {
    ChannelDesc: "channel desc", PicDesc: "pic desc", BatchPicDesc: "batch pic desc",
    StreamDesc: "stream desc", ResizeConfig: "resize config", RoiConfig: "roi config",
    JpegeConfig: "jpege config", BorderConfig: "border config", LutMap: "lut map", Hist: "hist",
    VdecChannelDesc: "vdec channel desc", VencChannelDesc: "venc channel desc",
    VdecFrameConfig: "vdec frame config", VencFrameConfig: "venc frame config",
}


def _get(handle: int, kind: type):
    return handles.get(handle, kind, _KINDS[kind])


def _destroy(handle: int, kind: type) -> None:
    """Destroy a host-side description; NULL is a no-op, as ACL's destroys ignore it."""
    if handle == 0:
        return
    handles.remove(_get(handle, kind).handle)


def _register_accessors(prefix: str, kind: type, names: tuple[str, ...],
                        module: str = "dvpp", getters: tuple[str, ...] = ()) -> None:
    """``{module}_set_{prefix}{name}`` / ``{module}_get_{prefix}{name}`` for plain stored
    values, and getters alone for ``getters`` (whose setters check the value)."""
    for name in names + getters:
        def getter(handle, _attr=name):
            return getattr(_get(handle, kind), _attr)

        getter.__doc__ = f"The {name.replace('_', ' ')} (0 for a NULL handle)."
        implements(f"media.{module}_get_{prefix}{name}")(getter)
    for name in names:
        def setter(handle, value, _attr=name):
            setattr(_get(handle, kind), _attr, value)

        setter.__doc__ = f"Store the {name.replace('_', ' ')} (checked when a task uses it)."
        implements(f"media.{module}_set_{prefix}{name}")(setter)


# ------------------------------------------------------------------ DVPP memory
@implements("media.dvpp_malloc")
def dvpp_malloc(size):
    """Device memory for DVPP: 128-byte aligned, size rounded up to 32 plus 32 bytes."""
    return transfers.malloc(size, 0, align=_DVPP_ALIGNMENT, origin="dvpp").address


@implements("media.dvpp_malloc_with_cfg")
def dvpp_malloc_with_cfg(size, policy, cfg):
    """``cfg``: {} or {"numAttrs": n, "attrs": [{"attr": a, "value": {"moduleId"|"deviceId"|
    "rsv": v}}, ...]} (the attributes place the memory; one device here, so they are read,
    checked as the binding reads them, and have no other effect)."""
    if cfg:
        attrs = cfg.get("attrs")
        if not isinstance(attrs, list) or cfg.get("numAttrs") != len(attrs):
            raise ArgumentKeyError("acl.media.dvpp_malloc_with_cfg: cfg['numAttrs'] must equal "
                                   "the length of cfg['attrs']")
        for attr in attrs:
            value = attr.get("value") if isinstance(attr, dict) else None
            if not isinstance(value, dict) or "attr" not in attr or not (
                    {"moduleId", "deviceId", "rsv"} & set(value)):
                raise ArgumentKeyError("acl.media.dvpp_malloc_with_cfg: each attrs entry needs "
                                       "'attr' and a 'value' dict with moduleId, deviceId or rsv")
    return dvpp_malloc(size)


@implements("media.dvpp_free")
def dvpp_free(dev_ptr):
    transfers.free(dev_ptr, origin="dvpp")


# ------------------------------------------------------------------ channels
@implements("media.dvpp_create_channel_desc")
def dvpp_create_channel_desc():
    return handles.register(ChannelDesc())


@implements("media.dvpp_destroy_channel_desc")
def dvpp_destroy_channel_desc(channel_desc):
    if channel_desc == 0:
        return
    desc = _get(channel_desc, ChannelDesc)
    if desc.channel is not None:
        raise ResourceNotCleared(f"channel desc {channel_desc:#x} still has its channel: call "
                                 f"acl.media.dvpp_destroy_channel first")
    handles.remove(desc.handle)


@implements("media.dvpp_create_channel")
def dvpp_create_channel(channel_desc):
    desc = _get(channel_desc, ChannelDesc)
    if desc.channel is not None:
        raise InvalidParam(f"channel desc {channel_desc:#x} already has a channel")
    desc.channel = Channel(RUNTIME.current_context(), desc.mode)
    desc.channel_id = desc.channel.channel_id


@implements("media.dvpp_destroy_channel")
def dvpp_destroy_channel(channel_desc):
    desc = _get(channel_desc, ChannelDesc)
    if desc.channel is None:
        raise InvalidParam(f"channel desc {channel_desc:#x} has no channel to destroy")
    desc.channel = None


@implements("media.dvpp_get_channel_desc_channel_id")
def dvpp_get_channel_desc_channel_id(channel_desc):
    return _get(channel_desc, ChannelDesc).channel_id


@implements("media.dvpp_set_channel_desc_mode")
def dvpp_set_channel_desc_mode(channel_desc, mode):
    desc = _get(channel_desc, ChannelDesc)
    fam = family()
    if not fam.extended_vpc:
        raise FeatureUnsupported(f"channel modes are not supported on the {fam.name} family "
                                 f"(every channel serves VPC, JPEGD and JPEGE)")
    top = 15 if fam.png else 7
    if not 1 <= mode <= top:
        raise InvalidParam(f"channel mode {mode} is invalid: a mask of VPC 1, JPEGD 2, "
                           f"JPEGE 4{', PNGD 8' if fam.png else ''} (1..{top})")
    desc.mode = mode


def set_param(kind: type, channel_desc: int, param_type: int, param: int) -> int:
    """``*_set_channel_desc_param``: store the value; pyACL echoes the desc back."""
    _get(channel_desc, kind).params[param_type] = param
    return channel_desc


def get_param(kind: type, channel_desc: int, param_type: int, size: int) -> tuple[int, int]:
    """``*_get_channel_desc_param``: (the value's size in bytes, the value)."""
    params = _get(channel_desc, kind).params
    if param_type not in params:
        raise InvalidParam(f"{_KINDS[kind]} parameter {param_type} was never set")
    return size, params[param_type]


@implements("media.dvpp_set_channel_desc_param")
def dvpp_set_channel_desc_param(channel_desc, param_type, param):
    return set_param(ChannelDesc, channel_desc, param_type, param)


@implements("media.dvpp_get_channel_desc_param")
def dvpp_get_channel_desc_param(channel_desc, param_type):
    return get_param(ChannelDesc, channel_desc, param_type, 4)


# ------------------------------------------------------------------ picture descriptions
@implements("media.dvpp_create_pic_desc")
def dvpp_create_pic_desc():
    return handles.register(PicDesc())


@implements("media.dvpp_destroy_pic_desc")
def dvpp_destroy_pic_desc(pic_desc):
    """Destroy the description only, never its buffer."""
    if pic_desc == 0:
        return
    desc = _get(pic_desc, PicDesc)
    if desc.batch is not None:
        raise InvalidParam(f"pic desc {pic_desc:#x} belongs to a batch pic desc: it is "
                           f"destroyed with acl.media.dvpp_destroy_batch_pic_desc")
    handles.remove(desc.handle)


_register_accessors("pic_desc_", PicDesc, ("data", "size", "format", "width", "height",
                                           "width_stride", "height_stride", "ret_code"))


@implements("media.dvpp_create_batch_pic_desc")
def dvpp_create_batch_pic_desc(batch_size):
    if batch_size == 0:
        raise InvalidParam("batch size must be greater than 0")
    batch = BatchPicDesc(batch_size)
    for desc in batch.descs:
        handles.register(desc)
    return handles.register(batch)


@implements("media.dvpp_destroy_batch_pic_desc")
def dvpp_destroy_batch_pic_desc(batch_pic_desc):
    if batch_pic_desc == 0:
        return
    batch = _get(batch_pic_desc, BatchPicDesc)
    for desc in batch.descs:
        handles.remove(desc.handle)
    handles.remove(batch.handle)


@implements("media.dvpp_get_pic_desc")
def dvpp_get_pic_desc(batch_pic_desc, index):
    batch = _get(batch_pic_desc, BatchPicDesc)
    if index >= len(batch.descs):
        raise InvalidParam(f"index {index} is out of range: the batch holds "
                           f"{len(batch.descs)} pic descs")
    return batch.descs[index].handle


# ------------------------------------------------------------------ stream descriptions
@implements("media.dvpp_create_stream_desc")
def dvpp_create_stream_desc():
    return handles.register(StreamDesc())


@implements("media.dvpp_destroy_stream_desc")
def dvpp_destroy_stream_desc(stream_desc):
    _destroy(stream_desc, StreamDesc)


_register_accessors("stream_desc_", StreamDesc, ("data", "size", "format", "timestamp",
                                                 "ret_code", "eos"))


# ------------------------------------------------------------------ configs
@implements("media.dvpp_create_roi_config")
def dvpp_create_roi_config(left, right, top, bottom):
    """Inclusive offsets: the area is (right - left + 1) x (bottom - top + 1)."""
    return handles.register(RoiConfig(left, right, top, bottom))


@implements("media.dvpp_destroy_roi_config")
def dvpp_destroy_roi_config(roi_config):
    _destroy(roi_config, RoiConfig)


@implements("media.dvpp_set_roi_config")
def dvpp_set_roi_config(roi_config, left, right, top, bottom):
    roi = _get(roi_config, RoiConfig)
    roi.left, roi.right, roi.top, roi.bottom = left, right, top, bottom


for _side in ("left", "right", "top", "bottom"):
    def _set_side(roi_config, value, _attr=_side):
        setattr(_get(roi_config, RoiConfig), _attr, value)

    implements(f"media.dvpp_set_roi_config_{_side}")(_set_side)


@implements("media.dvpp_create_resize_config")
def dvpp_create_resize_config():
    return handles.register(ResizeConfig())


@implements("media.dvpp_destroy_resize_config")
def dvpp_destroy_resize_config(resize_config):
    _destroy(resize_config, ResizeConfig)


@implements("media.dvpp_set_resize_config_interpolation")
def dvpp_set_resize_config_interpolation(resize_config, interpolation):
    config = _get(resize_config, ResizeConfig)
    fam = family()
    if interpolation not in fam.interpolations:
        raise InvalidParam(f"interpolation {interpolation} is invalid on the {fam.name} "
                           f"family: 0..{max(fam.interpolations)}")
    config.interpolation = interpolation


@implements("media.dvpp_get_resize_config_interpolation")
def dvpp_get_resize_config_interpolation(resize_config):
    return _get(resize_config, ResizeConfig).interpolation


@implements("media.dvpp_create_jpege_config")
def dvpp_create_jpege_config():
    return handles.register(JpegeConfig())


@implements("media.dvpp_destroy_jpege_config")
def dvpp_destroy_jpege_config(jpege_config):
    _destroy(jpege_config, JpegeConfig)


@implements("media.dvpp_set_jpege_config_level")
def dvpp_set_jpege_config_level(jpege_config, level):
    """Quality 0..100 (0 encodes like 100)."""
    if level > 100:
        raise InvalidParam(f"JPEG encode level {level} is invalid: 0..100")
    _get(jpege_config, JpegeConfig).level = level


@implements("media.dvpp_get_jpege_config_level")
def dvpp_get_jpege_config_level(jpege_config):
    return _get(jpege_config, JpegeConfig).level


# ------------------------------------------------------------------ 310P objects: border, LUT, histogram
def _extended(what: str) -> None:
    fam = family()
    if not fam.extended_vpc:
        raise FeatureUnsupported(f"{what} is not supported on the {fam.name} family "
                                 f"(Ascend310P and later)")


@implements("media.dvpp_create_border_config")
def dvpp_create_border_config():
    _extended("a border config")
    return handles.register(BorderConfig())


@implements("media.dvpp_destroy_border_config")
def dvpp_destroy_border_config(border_config):
    _destroy(border_config, BorderConfig)


@implements("media.dvpp_set_border_config_value")
def dvpp_set_border_config_value(border_config, index, value):
    config = _get(border_config, BorderConfig)
    if index >= BorderConfig.VALUES:
        raise InvalidParam(f"border value index {index} is out of range 0..3")
    config.values[index] = value


@implements("media.dvpp_get_border_config_value")
def dvpp_get_border_config_value(border_config, index):
    config = _get(border_config, BorderConfig)
    if index >= BorderConfig.VALUES:
        raise InvalidParam(f"border value index {index} is out of range 0..3")
    return float(config.values[index])


_register_accessors("border_config_", BorderConfig, ("border_type", "top", "bottom", "left",
                                                    "right"))


@implements("media.dvpp_create_lut_map")
def dvpp_create_lut_map():
    _extended("a LUT map")
    return handles.register(LutMap())


@implements("media.dvpp_destroy_lut_map")
def dvpp_destroy_lut_map(lut_map):
    _destroy(lut_map, LutMap)


@implements("media.dvpp_get_lut_map_dims")
def dvpp_get_lut_map_dims(lut_map):
    return len(_get(lut_map, LutMap).tables)


def _table(tables: list, dim: int, what: str):
    if dim >= len(tables):
        raise InvalidParam(f"{what} dimension {dim} is out of range 0..{len(tables) - 1}")
    address, _ = contiguous_array_address(tables[dim])    # already contiguous: no copy
    return address, len(tables[dim])


@implements("media.dvpp_get_lut_map_data")
def dvpp_get_lut_map_data(lut_map, dim):
    """(host address of the 256 uint8 entries, 256): read them with acl.util.ptr_to_bytes."""
    return _table(_get(lut_map, LutMap).tables, dim, "LUT map")


@implements("media.dvpp_create_hist")
def dvpp_create_hist():
    _extended("a histogram")
    return handles.register(Hist())


@implements("media.dvpp_destroy_hist")
def dvpp_destroy_hist(hist):
    _destroy(hist, Hist)


@implements("media.dvpp_get_hist_dims")
def dvpp_get_hist_dims(hist):
    return _get(hist, Hist).dims


@implements("media.dvpp_get_hist_data")
def dvpp_get_hist_data(hist, dim):
    """(host address of the 256 uint32 bins, 256)."""
    value = _get(hist, Hist)
    return _table(value.bins[:value.dims], dim, "histogram")


@implements("media.dvpp_get_hist_ret_code")
def dvpp_get_hist_ret_code(hist):
    return _get(hist, Hist).ret_code


@implements("media.dvpp_clear_hist")
def dvpp_clear_hist(hist):
    for bins in _get(hist, Hist).bins:
        bins[:] = 0


# ------------------------------------------------------------------ JPEG and PNG
def _host_data(data: int, size: int, call: str) -> bytes:
    """The header parsers run on the host: any readable address (acllite passes DVPP
    pointers in ACL_DEVICE run mode)."""
    if data == 0:
        raise InvalidParam("the data pointer is NULL (0)")
    if size == 0:
        raise InvalidParam("the data size is 0")
    return host_bytes(data, size, call)


@implements("media.dvpp_jpeg_get_image_info")
def dvpp_jpeg_get_image_info(data, size):
    """(width, height, components): as displayed (EXIF orientation 5..8 swaps them)."""
    header = jpeg.parse_header(_host_data(data, size, "acl.media.dvpp_jpeg_get_image_info"))
    return header.width, header.height, header.components


@implements("media.dvpp_jpeg_get_image_info_v2")
def dvpp_jpeg_get_image_info_v2(data, size):
    header = jpeg.parse_header(_host_data(data, size, "acl.media.dvpp_jpeg_get_image_info_v2"))
    return header.width, header.height, header.components, header.jpeg_format


@implements("media.dvpp_jpeg_predict_dec_size")
def dvpp_jpeg_predict_dec_size(data, size, output_pixel_format):
    header = jpeg.parse_header(_host_data(data, size, "acl.media.dvpp_jpeg_predict_dec_size"))
    return jpeg.predict_dec_size(header, output_pixel_format, family())


@implements("media.dvpp_jpeg_decode_async")
def dvpp_jpeg_decode_async(channel_desc, data, size, output_desc, stream):
    tasks.jpeg_decode(_get(channel_desc, ChannelDesc), data, size, _get(output_desc, PicDesc),
                      stream)


@implements("media.dvpp_jpeg_predict_enc_size")
def dvpp_jpeg_predict_enc_size(input_desc, config):
    return tasks.predict_enc_size(_get(input_desc, PicDesc), _get(config, JpegeConfig))


@implements("media.dvpp_jpeg_encode_async")
def dvpp_jpeg_encode_async(channel_desc, input_desc, data, size_ptr, config, stream):
    tasks.jpeg_encode(_get(channel_desc, ChannelDesc), _get(input_desc, PicDesc), data,
                      size_ptr, _get(config, JpegeConfig), stream)


def _png_available() -> None:
    fam = family()
    if not fam.png:
        raise FeatureUnsupported(f"PNG decode is not available on the {fam.name} family")


@implements("media.dvpp_png_get_image_info")
def dvpp_png_get_image_info(data, size):
    _png_available()
    header = png.parse_header(_host_data(data, size, "acl.media.dvpp_png_get_image_info"))
    return header.width, header.height, header.components


@implements("media.dvpp_png_predict_dec_size")
def dvpp_png_predict_dec_size(data, size, output_pixel_format):
    _png_available()
    header = png.parse_header(_host_data(data, size, "acl.media.dvpp_png_predict_dec_size"))
    return png.predict_dec_size(header, output_pixel_format, family())


@implements("media.dvpp_png_decode_async")
def dvpp_png_decode_async(channel_desc, data, size, output_desc, stream):
    tasks.png_decode(_get(channel_desc, ChannelDesc), data, size, _get(output_desc, PicDesc),
                     stream)


# ------------------------------------------------------------------ VPC
def _roi_or_none(handle: int) -> RoiConfig:
    if handle == 0:
        raise InvalidParam("the ROI config handle is NULL (0)")
    return _get(handle, RoiConfig)


@implements("media.dvpp_vpc_resize_async")
def dvpp_vpc_resize_async(channel_desc, input_desc, output_desc, resize_config, stream):
    tasks.vpc_single("resize", _get(channel_desc, ChannelDesc), _get(input_desc, PicDesc),
                     _get(output_desc, PicDesc), None, None,
                     _get(resize_config, ResizeConfig), stream)


@implements("media.dvpp_vpc_crop_async")
def dvpp_vpc_crop_async(channel_desc, input_desc, output_desc, crop_area, stream):
    tasks.vpc_single("crop", _get(channel_desc, ChannelDesc), _get(input_desc, PicDesc),
                     _get(output_desc, PicDesc), _roi_or_none(crop_area), None, None, stream)


@implements("media.dvpp_vpc_crop_resize_async")
def dvpp_vpc_crop_resize_async(channel_desc, input_desc, output_desc, crop_area,
                               resize_config, stream):
    tasks.vpc_single("crop_resize", _get(channel_desc, ChannelDesc), _get(input_desc, PicDesc),
                     _get(output_desc, PicDesc), _roi_or_none(crop_area), None,
                     _get(resize_config, ResizeConfig), stream)


@implements("media.dvpp_vpc_crop_and_paste_async")
def dvpp_vpc_crop_and_paste_async(channel_desc, input_desc, output_desc, crop_area,
                                  paste_area, stream):
    tasks.vpc_single("crop_and_paste", _get(channel_desc, ChannelDesc),
                     _get(input_desc, PicDesc), _get(output_desc, PicDesc),
                     _roi_or_none(crop_area), _roi_or_none(paste_area), None, stream)


@implements("media.dvpp_vpc_crop_resize_paste_async")
def dvpp_vpc_crop_resize_paste_async(channel_desc, input_desc, output_desc, crop_area,
                                     paste_area, resize_config, stream):
    tasks.vpc_single("crop_resize_paste", _get(channel_desc, ChannelDesc),
                     _get(input_desc, PicDesc), _get(output_desc, PicDesc),
                     _roi_or_none(crop_area), _roi_or_none(paste_area),
                     _get(resize_config, ResizeConfig), stream)


def _roi_list(areas: list, name: str, qualname: str) -> list[RoiConfig]:
    if not 1 <= len(areas) <= _MAX_BATCH_ROIS:
        raise ArgumentValueError(f"{qualname}: number of crop areas must be between 1 and "
                                 f"{_MAX_BATCH_ROIS} ({name} has {len(areas)})")
    rois = []
    for item in areas:
        if not isinstance(item, int):
            raise ArgumentValueError(f"{qualname}: {name} must hold ROI config handles (ints), "
                                     f"not {type(item).__name__}")
        rois.append(item)
    return [_roi_or_none(item) for item in rois]


def _roi_nums(roi_nums: list, qualname: str) -> list[int]:
    if not 1 <= len(roi_nums) <= _MAX_BATCH_ROIS:
        raise ArgumentValueError(f"{qualname}: number of crop areas must be between 1 and "
                                 f"{_MAX_BATCH_ROIS} (roi_nums has {len(roi_nums)} entries)")
    for item in roi_nums:
        if not isinstance(item, int) or not 0 <= item <= _MAX_BATCH_ROIS:
            raise ArgumentValueError(f"{qualname}: number of crop areas must be between 1 and "
                                     f"{_MAX_BATCH_ROIS} (roi_nums holds {item!r})")
    return list(roi_nums)


def _batch(operation, channel_desc, src_batch_desc, roi_nums, dst_batch_desc, crop_areas,
           paste_areas, resize_config, stream):
    qualname = f"acl.media.dvpp_vpc_{operation}_async"
    nums = _roi_nums(roi_nums, qualname)
    crops = _roi_list(crop_areas, "crop_areas", qualname)
    pastes = None
    if paste_areas is not None:
        if len(paste_areas) != len(crop_areas):
            raise ArgumentValueError(f"{qualname}: paste_areas must have as many entries as "
                                     f"crop_areas ({len(paste_areas)} != {len(crop_areas)})")
        pastes = _roi_list(paste_areas, "paste_areas", qualname)
    config = _get(resize_config, ResizeConfig) if resize_config is not None else None
    tasks.vpc_batch(operation, _get(channel_desc, ChannelDesc),
                    _get(src_batch_desc, BatchPicDesc), nums,
                    _get(dst_batch_desc, BatchPicDesc), crops, pastes, config, stream)


@implements("media.dvpp_vpc_batch_crop_async")
def dvpp_vpc_batch_crop_async(channel_desc, src_batch_desc, roi_nums, dst_batch_desc,
                              crop_areas, stream):
    """Returns (dst_batch_desc, ret), as pyACL does."""
    _batch("batch_crop", channel_desc, src_batch_desc, roi_nums, dst_batch_desc, crop_areas,
           None, None, stream)
    return dst_batch_desc


@implements("media.dvpp_vpc_batch_crop_and_paste_async")
def dvpp_vpc_batch_crop_and_paste_async(channel_desc, src_batch_desc, roi_nums,
                                        dst_batch_desc, crop_areas, paste_areas, stream):
    _batch("batch_crop_and_paste", channel_desc, src_batch_desc, roi_nums, dst_batch_desc,
           crop_areas, paste_areas, None, stream)
    return dst_batch_desc


@implements("media.dvpp_vpc_batch_crop_resize_async")
def dvpp_vpc_batch_crop_resize_async(channel_desc, src_batch_desc, roi_nums, dst_batch_desc,
                                     crop_areas, resize_config, stream):
    _batch("batch_crop_resize", channel_desc, src_batch_desc, roi_nums, dst_batch_desc,
           crop_areas, None, resize_config, stream)


@implements("media.dvpp_vpc_batch_crop_resize_paste_async")
def dvpp_vpc_batch_crop_resize_paste_async(channel_desc, src_batch_desc, roi_nums,
                                           dst_batch_desc, crop_areas, paste_areas,
                                           resize_config, stream):
    _batch("batch_crop_resize_paste", channel_desc, src_batch_desc, roi_nums, dst_batch_desc,
           crop_areas, paste_areas, resize_config, stream)


@implements("media.dvpp_vpc_convert_color_async")
def dvpp_vpc_convert_color_async(channel_desc, input_desc, output_desc, stream):
    """Format conversion at the same size (Ascend310P and later)."""
    _extended("acl.media.dvpp_vpc_convert_color_async")
    tasks.convert_color(_get(channel_desc, ChannelDesc), _get(input_desc, PicDesc),
                        _get(output_desc, PicDesc), stream)


@implements("media.dvpp_vpc_pyr_down_async")
def dvpp_vpc_pyr_down_async(channel_desc, input_desc, output_desc, reserve, stream):
    """Gaussian pyramid down-sampling of a YUV400 picture (Ascend310P and later)."""
    _extended("acl.media.dvpp_vpc_pyr_down_async")
    if reserve != 0:
        raise InvalidParam(f"reserve must be 0, not {reserve}")
    tasks.pyr_down(_get(channel_desc, ChannelDesc), _get(input_desc, PicDesc),
                   _get(output_desc, PicDesc), stream)


@implements("media.dvpp_vpc_calc_hist_async")
def dvpp_vpc_calc_hist_async(channel_desc, src_desc, hist, reserve, stream):
    """Per-channel 256-bin histograms (Ascend310P and later)."""
    _extended("acl.media.dvpp_vpc_calc_hist_async")
    if reserve != 0:
        raise InvalidParam(f"reserve must be 0, not {reserve}")
    tasks.calc_hist(_get(channel_desc, ChannelDesc), _get(src_desc, PicDesc), _get(hist, Hist),
                    stream)


@implements("media.dvpp_vpc_equalize_hist_async")
def dvpp_vpc_equalize_hist_async(channel_desc, input_desc, output_desc, lut_map, stream):
    """Histogram equalisation; the mapping lands in ``lut_map`` (Ascend310P and later)."""
    _extended("acl.media.dvpp_vpc_equalize_hist_async")
    tasks.equalize_hist(_get(channel_desc, ChannelDesc), _get(input_desc, PicDesc),
                        _get(output_desc, PicDesc), _get(lut_map, LutMap), stream)


@implements("media.dvpp_vpc_make_border_async")
def dvpp_vpc_make_border_async(channel_desc, input_desc, output_desc, border_config, stream):
    """The picture framed by a border (Ascend310P and later)."""
    _extended("acl.media.dvpp_vpc_make_border_async")
    tasks.make_border(_get(channel_desc, ChannelDesc), _get(input_desc, PicDesc),
                      _get(output_desc, PicDesc), _get(border_config, BorderConfig), stream)
