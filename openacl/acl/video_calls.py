"""pyACL ``acl.media`` video calls (dvpp-api.md §11, §12): VDEC and VENC channels.

pyACL keeps each channel desc's Python callback in a map of its own: a call that needs it
and finds none raises ``RuntimeError("did not set callback, failed")`` before anything
else, whatever the handle.
"""

from __future__ import annotations

from openacl.acl.build import coerce, implements
from openacl.acl.media_calls import _destroy, _get, _register_accessors, get_param, set_param
from openacl.constants import VdecOutMode, VencParam
from openacl.errors import CallbackNotSet, FeatureUnsupported, InvalidParam, ResourceNotCleared
from openacl.media.descs import (PicDesc, StreamDesc, VdecChannelDesc, VdecFrameConfig,
                                 VencChannelDesc, VencFrameConfig)
from openacl.media.formats import family, format_names
from openacl.media.vdec import VdecChannel, channel_id_limit
from openacl.media.venc import INPUT_FORMATS, VencChannel
from openacl.runtime.handles import handles


def _with_callback(handle: int, kind: type):
    desc = handles.objects.get(handle)
    if desc.__class__ is not kind or desc.callback is None:
        raise CallbackNotSet()
    return desc


def _destroy_desc(handle: int, kind: type, module: str) -> None:
    if handle and _get(handle, kind).channel is not None:
        raise ResourceNotCleared(f"{module} channel desc {handle:#x} still has its channel: "
                                 f"call acl.media.{module}_destroy_channel first")
    _destroy(handle, kind)


def _create_channel(desc, channel_class) -> None:
    if desc.channel is not None:
        raise InvalidParam(f"channel desc {desc.handle:#x} already has a channel")
    desc.channel = channel_class(desc)
    desc.channel_id = desc.channel.channel_id


def _destroy_channel(desc, module: str) -> None:
    channel = desc.channel
    if channel is None:
        raise InvalidParam(f"{module} channel desc {desc.handle:#x} has no channel to destroy")
    try:
        channel.destroy_channel()
    finally:
        if channel.closed:                 # pyACL drops the callback with the channel
            desc.channel = None
            desc.callback = None


def _channel_of(desc, module: str):
    if desc.channel is None:
        raise InvalidParam(f"{module} channel desc {desc.handle:#x} has no channel: call "
                           f"acl.media.{module}_create_channel first")
    return desc.channel


def _optional(handle: int, kind: type):
    return None if handle == 0 else _get(handle, kind)


# ------------------------------------------------------------------ VDEC channel descs
@implements("media.vdec_create_channel_desc")
def vdec_create_channel_desc():
    return handles.register(VdecChannelDesc())


@implements("media.vdec_destroy_channel_desc")
def vdec_destroy_channel_desc(channel_desc):
    _destroy_desc(channel_desc, VdecChannelDesc, "vdec")


@implements("media.vdec_set_channel_desc_channel_id")
def vdec_set_channel_desc_channel_id(channel_desc, channel_id):
    desc = _get(channel_desc, VdecChannelDesc)
    if channel_id > channel_id_limit():
        raise InvalidParam(f"VDEC channel id {channel_id} is out of range 0..{channel_id_limit()} "
                           f"on the {family().name} family")
    desc.channel_id = channel_id


@implements("media.vdec_set_channel_desc_callback")
def vdec_set_channel_desc_callback(channel_desc, fn):
    _get(channel_desc, VdecChannelDesc).callback = fn


@implements("media.vdec_get_channel_desc_callback")
def vdec_get_channel_desc_callback(channel_desc):
    return _with_callback(channel_desc, VdecChannelDesc).callback


@implements("media.vdec_set_channel_desc_ref_frame_num")
def vdec_set_channel_desc_ref_frame_num(channel_desc, ref_frame_num):
    desc = _get(channel_desc, VdecChannelDesc)
    if family().name == "310":
        raise FeatureUnsupported("the reference frame count cannot be set on the 310 family")
    desc.ref_frame_num = ref_frame_num


@implements("media.vdec_set_channel_desc_out_mode")
def vdec_set_channel_desc_out_mode(channel_desc, out_mode):
    desc = _get(channel_desc, VdecChannelDesc)
    if out_mode not in tuple(VdecOutMode):
        raise InvalidParam(f"out mode {out_mode} is invalid: 0 (default) or 1 (fast)")
    desc.out_mode = out_mode


@implements("media.vdec_set_channel_desc_param")
def vdec_set_channel_desc_param(channel_desc, param_type, param):
    """Returns (channel_desc, ret), as pyACL does."""
    return set_param(VdecChannelDesc, channel_desc, param_type, param)


@implements("media.vdec_get_channel_desc_param")
def vdec_get_channel_desc_param(channel_desc, param_type):
    return get_param(VdecChannelDesc, channel_desc, param_type, 8)


_register_accessors("channel_desc_", VdecChannelDesc,
                    ("thread_id", "entype", "out_pic_format", "out_pic_width", "out_pic_height",
                     "bit_depth"), module="vdec",
                    getters=("channel_id", "ref_frame_num", "out_mode"))


# ------------------------------------------------------------------ VDEC channels and frames
@implements("media.vdec_create_channel")
def vdec_create_channel(channel_desc):
    """Subscribes the desc's thread to the channel's callbacks itself."""
    _create_channel(_get(channel_desc, VdecChannelDesc), VdecChannel)


@implements("media.vdec_destroy_channel")
def vdec_destroy_channel(channel_desc):
    """Waits until every frame sent has been called back."""
    _destroy_channel(_get(channel_desc, VdecChannelDesc), "vdec")


@implements("media.vdec_create_frame_config")
def vdec_create_frame_config():
    return handles.register(VdecFrameConfig())


@implements("media.vdec_destroy_frame_config")
def vdec_destroy_frame_config(frame_config):
    _destroy(frame_config, VdecFrameConfig)


@implements("media.vdec_send_frame")
def vdec_send_frame(channel_desc, input, output, config, user_data):
    """Copies the frame before returning; an eos stream desc waits for every callback."""
    desc = _with_callback(channel_desc, VdecChannelDesc)
    channel = _channel_of(desc, "vdec")
    _optional(config, VdecFrameConfig)
    channel.send(_get(input, StreamDesc), _optional(output, PicDesc), user_data)


@implements("media.vdec_send_skipped_frame")
def vdec_send_skipped_frame(channel_desc, input, config, user_data):
    """Decoded (later frames may refer to it) and called back with output 0."""
    desc = _with_callback(channel_desc, VdecChannelDesc)
    channel = _channel_of(desc, "vdec")
    _optional(config, VdecFrameConfig)
    channel.send(_get(input, StreamDesc), None, user_data, skipped=True)


# ------------------------------------------------------------------ VENC channel descs
@implements("media.venc_create_channel_desc")
def venc_create_channel_desc():
    return handles.register(VencChannelDesc())


@implements("media.venc_destroy_channel_desc")
def venc_destroy_channel_desc(channel_desc):
    _destroy_desc(channel_desc, VencChannelDesc, "venc")


@implements("media.venc_set_channel_desc_callback")
def venc_set_channel_desc_callback(channel_desc, fn):
    _get(channel_desc, VencChannelDesc).callback = fn


@implements("media.venc_get_channel_desc_callback")
def venc_get_channel_desc_callback(channel_desc):
    return _with_callback(channel_desc, VencChannelDesc).callback


def _set_pic_format(desc: VencChannelDesc, fmt: int) -> None:
    if fmt not in INPUT_FORMATS:
        raise InvalidParam(f"VENC encodes {format_names(INPUT_FORMATS)} pictures, not "
                           f"format {fmt}")
    desc.pic_format = fmt


@implements("media.venc_set_channel_desc_pic_format")
def venc_set_channel_desc_pic_format(channel_desc, pic_format):
    _set_pic_format(_get(channel_desc, VencChannelDesc), pic_format)


@implements("media.venc_set_channel_desc_rc_mode")
def venc_set_channel_desc_rc_mode(channel_desc, rc_mode):
    desc = _get(channel_desc, VencChannelDesc)
    if rc_mode > 2:
        raise InvalidParam(f"rc mode {rc_mode} is invalid: 0 default, 1 VBR, 2 CBR")
    desc.rc_mode = rc_mode


_VENC_FIELDS = {VencParam.THREAD_ID_UINT64: "thread_id", VencParam.PIXEL_FORMAT_UINT32:
                "pic_format", VencParam.ENCODE_TYPE_UINT32: "entype",
                VencParam.PIC_WIDTH_UINT32: "pic_width", VencParam.PIC_HEIGHT_UINT32:
                "pic_height", VencParam.KEY_FRAME_INTERVAL_UINT32: "key_frame_interval",
                VencParam.BUF_ADDR_PTR: "buf_addr", VencParam.BUF_SIZE_UINT32: "buf_size",
                VencParam.RC_MODE_UINT32: "rc_mode", VencParam.SRC_RATE_UINT32: "src_rate",
                VencParam.MAX_BITRATE_UINT32: "max_bit_rate"}


@implements("media.venc_set_channel_desc_param")
def venc_set_channel_desc_param(channel_desc, param_type, param):
    """The value's C type follows ``param_type``: a callable for CALLBACK_PTR, a pointer for
    BUF_ADDR_PTR, uint64 for THREAD_ID_UINT64, uint32 for the rest."""
    qualname = "acl.media.venc_set_channel_desc_param"
    if param_type == VencParam.CALLBACK_PTR:
        value = coerce("callable", param, qualname, 3)
    else:
        code = {VencParam.BUF_ADDR_PTR: "k", VencParam.THREAD_ID_UINT64: "K"}.get(param_type, "I")
        value = coerce(code, param, qualname, 3)
    desc = _get(channel_desc, VencChannelDesc)
    if param_type == VencParam.CALLBACK_PTR:
        desc.callback = value
    elif param_type == VencParam.PIXEL_FORMAT_UINT32:
        _set_pic_format(desc, value)
    elif param_type in _VENC_FIELDS:
        setattr(desc, _VENC_FIELDS[param_type], value)
    elif param_type == VencParam.MAX_IP_PROP_UINT32:
        desc.params[param_type] = value
    else:
        raise InvalidParam(f"venc channel desc parameter type {param_type} is invalid: "
                           f"0..{max(VencParam)}")


@implements("media.venc_get_channel_desc_param")
def venc_get_channel_desc_param(channel_desc, param_type):
    """(value, ret); CALLBACK_PTR gives the callable."""
    if param_type == VencParam.CALLBACK_PTR:
        return _with_callback(channel_desc, VencChannelDesc).callback
    desc = _get(channel_desc, VencChannelDesc)
    if param_type in _VENC_FIELDS:
        return getattr(desc, _VENC_FIELDS[param_type])
    if param_type == VencParam.MAX_IP_PROP_UINT32:
        return desc.params.get(param_type, 0)
    raise InvalidParam(f"venc channel desc parameter type {param_type} is invalid: "
                       f"0..{max(VencParam)}")


_register_accessors("channel_desc_", VencChannelDesc,
                    ("thread_id", "entype", "pic_width", "pic_height", "key_frame_interval",
                     "buf_addr", "buf_size", "max_bit_rate", "src_rate"), module="venc",
                    getters=("channel_id", "pic_format", "rc_mode"))


# ------------------------------------------------------------------ VENC frame configs
@implements("media.venc_create_frame_config")
def venc_create_frame_config():
    return handles.register(VencFrameConfig())


@implements("media.venc_destroy_frame_config")
def venc_destroy_frame_config(frame_config):
    _destroy(frame_config, VencFrameConfig)


_register_accessors("frame_config_", VencFrameConfig, ("eos", "force_i_frame"), module="venc")


# ------------------------------------------------------------------ VENC channels and frames
@implements("media.venc_create_channel")
def venc_create_channel(channel_desc):
    _create_channel(_get(channel_desc, VencChannelDesc), VencChannel)


@implements("media.venc_destroy_channel")
def venc_destroy_channel(channel_desc):
    """Encodes what is left and waits until every frame has been called back."""
    _destroy_channel(_get(channel_desc, VencChannelDesc), "venc")


@implements("media.venc_send_frame")
def venc_send_frame(channel_desc, input, reserve, config, user_data):
    """``reserve`` must be 0 (the output memory is the runtime's); eos in ``config`` ends
    the stream and waits for every callback."""
    desc = _with_callback(channel_desc, VencChannelDesc)
    channel = _channel_of(desc, "venc")
    if reserve != 0:
        raise InvalidParam(f"reserve must be 0 (the encoder's output memory is the runtime's), "
                           f"not {reserve:#x}")
    if config == 0:
        raise InvalidParam("the frame config handle is NULL (0): create one with "
                           "acl.media.venc_create_frame_config")
    channel.send(_optional(input, PicDesc), _get(config, VencFrameConfig), user_data)
