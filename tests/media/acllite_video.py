"""acllite's video reader, as ``python/common/acllite`` writes it (dvpp-api.md §11, §13).

``VideoCapture`` (``videocapture.py``) demuxes an Annex-B file with PyAV on a decode thread
made by ``acl.util.start_thread`` and feeds every packet to ``DvppVdec`` (``dvpp_vdec.py``),
which owns the VDEC channel, its report thread (``set_context`` + a ``process_report(300)``
loop) and the callback that queues each decoded NV12 picture as an ``AclLiteImage``. The call
sequences, sizes and threading are acllite's own (the latest version: the ``bytes_to_ptr``
copy, ``_destory_channel_flag``), so the tests drive openacl the way the video samples do.

Left out: logging, and the RTSP/camera paths that need hardware. Two departures, both marked
where they are: FFmpeg names H.265 ``hevc``, never ``h265`` as acllite's profile table
expects (so acllite refuses every H.265 file); the table also answers ``hevc`` here, so that
the H.265 path can be tested. acllite never destroys its VDEC channel description; the
replica keeps it in ``leaked_channel_desc`` for the tests to free.
"""

from __future__ import annotations

import queue
import threading
import time

import av
import numpy as np

import acl
from tests.media.acllite_like import MEMORY_DVPP, AclLiteImage

__all__ = ["DvppVdec", "VideoCapture", "gen_unique_channel_id", "SUCCESS", "FAILED"]

# acllite constants.py
SUCCESS, FAILED = 0, 1
ACL_DEVICE, ACL_HOST = 0, 1
ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_DEVICE = 1, 3
PIXEL_FORMAT_YUV_SEMIPLANAR_420 = 1
ENTYPE_H265_MAIN, ENTYPE_H264_BASE, ENTYPE_H264_MAIN, ENTYPE_H264_HIGH = 0, 1, 2, 3
FF_PROFILE_H264_BASELINE, FF_PROFILE_H264_MAIN, FF_PROFILE_H264_HIGH = 66, 77, 100
FF_PROFILE_HEVC_MAIN = 1

# dvpp_vdec.py
READ_TIMEOUT = 5
WAIT_INTERVAL = 0.1

# videocapture.py
CAPTURE_WAIT_INTERVAL = 0.01
WAIT_READY_MAX = 10
WAIT_FIRST_DECODED_FRAME = 0.02

DECODE_STATUS_INIT = 0
DECODE_STATUS_READY = 1
DECODE_STATUS_RUNNING = 2
DECODE_STATUS_PYAV_FINISH = 3
DECODE_STATUS_ERROR = 4
DECODE_STATUS_STOP = 5
DECODE_STATUS_EXIT = 6


def rgbu8_size(width, height):
    """acllite_utils.rgbu8_size: what VideoCapture allocates for one input packet."""
    return int(width * height * 3)


class DvppVdec:
    """dvpp_vdec.DvppVdec: one VDEC channel, NV12 output of w*h*3/2 bytes, strides unset."""

    def __init__(self, channel_id, width, height, entype, ctx,
                 output_format=PIXEL_FORMAT_YUV_SEMIPLANAR_420):
        self._channel_id = channel_id
        self._width = width
        self._height = height
        self._run_flag = True
        self._callbak_tid = None
        self._channel_desc = None
        self._ctx = ctx
        self._entype = entype
        self._format = output_format
        self._decode_complete_cnt = 0
        self._decode_cnt = 0
        self._output_pic_size = (self._width * self._height * 3) // 2
        self._frame_queue = queue.Queue(64)
        self._frame_config = None
        self._destory_channel_flag = False
        self.leaked_channel_desc = None          # not acllite's: the tests free it

    def _callback_thread_entry(self, args_list):
        acl.rt.set_context(self._ctx)
        while self._run_flag is True:
            acl.rt.process_report(300)

    def _callback(self, input_stream_desc, output_pic_desc, user_data):
        self._decode_complete_cnt += 1
        acl.media.dvpp_get_stream_desc_data(input_stream_desc)
        acl.media.dvpp_get_stream_desc_size(input_stream_desc)
        acl.media.dvpp_destroy_stream_desc(input_stream_desc)
        self._get_pic_desc_data(output_pic_desc, user_data)

    def _get_pic_desc_data(self, pic_desc, user_data):
        pic_data = acl.media.dvpp_get_pic_desc_data(pic_desc)
        pic_data_size = acl.media.dvpp_get_pic_desc_size(pic_desc)
        ret_code = acl.media.dvpp_get_pic_desc_ret_code(pic_desc)
        if ret_code:
            channel_id, frame_id = user_data     # acllite logs them
            acl.media.dvpp_free(pic_data)
        else:
            image = AclLiteImage(pic_data, self._width, self._height, 0, 0,
                                 pic_data_size, MEMORY_DVPP)
            self._frame_queue.put(image)
        acl.media.dvpp_destroy_pic_desc(pic_desc)

    def init(self):
        self._channel_desc = acl.media.vdec_create_channel_desc()
        self.leaked_channel_desc = self._channel_desc
        self._callbak_tid, ret = acl.util.start_thread(self._callback_thread_entry, [])
        acl.media.vdec_set_channel_desc_channel_id(self._channel_desc, self._channel_id)
        acl.media.vdec_set_channel_desc_thread_id(self._channel_desc, self._callbak_tid)
        acl.media.vdec_set_channel_desc_callback(self._channel_desc, self._callback)
        acl.media.vdec_set_channel_desc_entype(self._channel_desc, self._entype)
        acl.media.vdec_set_channel_desc_out_pic_format(self._channel_desc, self._format)
        out_mode = acl.media.vdec_get_channel_desc_out_mode(self._channel_desc)
        if out_mode != 0:
            return FAILED
        acl.media.vdec_set_channel_desc_out_mode(self._channel_desc, out_mode)
        acl.media.vdec_create_channel(self._channel_desc)          # acllite ignores ret
        self._frame_config = acl.media.vdec_create_frame_config()
        if self._frame_config is None:
            return FAILED
        return SUCCESS

    def _thread_join(self):
        if self._callbak_tid is not None:
            self._run_flag = False
            acl.util.stop_thread(self._callbak_tid)
            self._callbak_tid = None

    def process(self, input_data, input_size, user_data):
        input_stream_desc = self._create_input_pic_stream_desc(input_data, input_size)
        if input_stream_desc is None:
            return FAILED
        output_pic_desc = self._create_output_pic_desc()
        if output_pic_desc is None:
            return FAILED
        ret = acl.media.vdec_send_frame(self._channel_desc, input_stream_desc,
                                        output_pic_desc, self._frame_config, user_data)
        if ret:
            return FAILED
        self._decode_cnt += 1
        return SUCCESS

    def _create_input_pic_stream_desc(self, input_data, input_size):
        stream_desc = acl.media.dvpp_create_stream_desc()
        if stream_desc is None:
            return None
        acl.media.dvpp_set_stream_desc_size(stream_desc, input_size)
        acl.media.dvpp_set_stream_desc_data(stream_desc, input_data)
        return stream_desc

    def _create_output_pic_desc(self):
        output_buffer, ret = acl.media.dvpp_malloc(self._output_pic_size)
        if (output_buffer is None) or ret:
            return None
        pic_desc = acl.media.dvpp_create_pic_desc()
        if pic_desc is None:
            return None
        acl.media.dvpp_set_pic_desc_data(pic_desc, output_buffer)
        acl.media.dvpp_set_pic_desc_size(pic_desc, self._output_pic_size)
        acl.media.dvpp_set_pic_desc_format(pic_desc, self._format)
        return pic_desc

    def destroy(self):
        if self._channel_desc is not None:
            acl.media.vdec_destroy_channel(self._channel_desc)
            self._channel_desc = None
        self._thread_join()
        if self._frame_config is not None:
            acl.media.vdec_destroy_frame_config(self._frame_config)
            self._frame_config = None
        self._destory_channel_flag = True

    def is_finished(self):
        return (self._decode_cnt > 0) and (self._decode_complete_cnt >= self._decode_cnt)

    def read(self, no_wait=False):
        image = None
        ret = SUCCESS
        if no_wait or self.is_finished():
            try:
                image = self._frame_queue.get_nowait()
            except queue.Empty:
                pass
        else:
            try:
                image = self._frame_queue.get(timeout=READ_TIMEOUT)
            except queue.Empty:
                ret = FAILED
        return ret, image


class _ChannelIdGenerator:
    """videocapture._ChannelIdGenerator: a process-wide counter behind a singleton."""
    _instance_lock = threading.Lock()
    channel_id = 0

    def __new__(cls, *args, **kwargs):
        if not hasattr(_ChannelIdGenerator, "_instance"):
            with _ChannelIdGenerator._instance_lock:
                if not hasattr(_ChannelIdGenerator, "_instance"):
                    _ChannelIdGenerator._instance = object.__new__(cls, *args, **kwargs)
        return _ChannelIdGenerator._instance

    def generator_channel_id(self):
        with _ChannelIdGenerator._instance_lock:
            curren_channel_id = _ChannelIdGenerator.channel_id
            _ChannelIdGenerator.channel_id += 1
        return curren_channel_id


def gen_unique_channel_id():
    return _ChannelIdGenerator().generator_channel_id()


class VideoCapture:
    """videocapture.VideoCapture for Annex-B files: read() gives AclLiteImages in order."""

    def __init__(self, strame_name):
        self._stream_name = strame_name
        self._input_buffer = None
        self._vdec = None
        self._is_opened = False
        self._width = 0
        self._height = 0
        self._decode_thread_id = None
        self._dextory_dvpp_flag = False
        self._ctx, ret = acl.rt.get_context()
        if not ret:
            self._entype = ENTYPE_H264_MAIN
            self._channel_id = gen_unique_channel_id()
            self._status = DECODE_STATUS_INIT
            self._run_mode, ret = acl.rt.get_run_mode()
            if not ret:
                self._open()

    def __del__(self):
        self.destroy()

    def _open(self):
        if self._get_param():
            return
        self._decode_thread_id, ret = acl.util.start_thread(self._decode_thread_entry, [])
        if ret:
            return
        for _ in range(0, WAIT_READY_MAX):
            if self._status == DECODE_STATUS_INIT:
                time.sleep(CAPTURE_WAIT_INTERVAL)
        if self._status == DECODE_STATUS_READY:
            self._is_opened = True

    def _get_param(self):
        container = av.open(self._stream_name)
        stream = [s for s in container.streams if s.type == 'video']
        if len(stream) == 0:
            return FAILED
        ret, profile = self._get_profile(stream)
        if ret:
            return FAILED
        video_context = container.streams.video[0].codec_context
        codec_id_name = video_context.name
        ret, self._entype = self._get_entype(codec_id_name, profile)
        if ret:
            return FAILED
        self._width = video_context.width
        self._height = video_context.height
        container.close()
        return SUCCESS

    def _get_profile(self, stream):
        # Annex-B extradata starts with 0x000001 or 0x00000001
        extradata = np.frombuffer(stream[0].codec_context.extradata, np.ubyte)
        if (extradata[0:3] == [0, 0, 1]).all():
            profile_id = extradata[4]
        elif (extradata[0:4] == [0, 0, 0, 1]).all():
            profile_id = extradata[5]
        else:
            return FAILED, None
        return SUCCESS, profile_id

    def _get_entype(self, codec_id_name, profile):
        hevc = {FF_PROFILE_HEVC_MAIN: ENTYPE_H265_MAIN}
        profile_entype_tbl = {
            'h264': {FF_PROFILE_H264_BASELINE: ENTYPE_H264_BASE,
                     FF_PROFILE_H264_MAIN: ENTYPE_H264_MAIN,
                     FF_PROFILE_H264_HIGH: ENTYPE_H264_HIGH},
            'h265': hevc,
            'hevc': hevc}            # not acllite's: FFmpeg's name for H.265 (see the top)
        entype = None
        ret = SUCCESS
        if codec_id_name in profile_entype_tbl.keys():
            entype_tbl = profile_entype_tbl[codec_id_name]
            if profile in entype_tbl.keys():
                entype = entype_tbl[profile]
            elif codec_id_name == 'h264':
                entype = ENTYPE_H264_MAIN
            else:
                entype = ENTYPE_H265_MAIN
        else:
            ret = FAILED
        return ret, entype

    def _pyav_vdec(self):
        frame = 0
        video = av.open(self._stream_name)
        stream = [s for s in video.streams if s.type == 'video']
        for packet in video.demux([stream[0]]):
            frame_data, data_size = self._prepare_frame_data(packet)
            if data_size == 0:
                break                            # the last packet is empty
            if self._vdec.process(frame_data, data_size, [self._channel_id, frame]):
                self._status = DECODE_STATUS_ERROR
                break
            frame += 1
            if self._status != DECODE_STATUS_RUNNING:
                break

    def _prepare_frame_data(self, packet):
        in_frame_np = np.frombuffer(bytes(packet), np.byte)     # packet.to_bytes() before PyAV 14
        size = in_frame_np.size
        if size == 0:
            self._status = DECODE_STATUS_PYAV_FINISH
            return None, 0
        if "bytes_to_ptr" in dir(acl.util):
            bytes_data = in_frame_np.tobytes()
            in_frame_ptr = acl.util.bytes_to_ptr(bytes_data)
        else:
            in_frame_ptr = acl.util.numpy_to_ptr(in_frame_np)
        policy = ACL_MEMCPY_DEVICE_TO_DEVICE
        if self._run_mode == ACL_HOST:
            policy = ACL_MEMCPY_HOST_TO_DEVICE
        ret = acl.rt.memcpy(self._input_buffer, size, in_frame_ptr, size, policy)
        if ret:
            self._status = DECODE_STATUS_ERROR
            return None, 0
        return self._input_buffer, size

    def _decode_thread_entry(self, arg_list):
        if self._decode_thread_init():
            return FAILED
        self._status = DECODE_STATUS_READY
        while self._status == DECODE_STATUS_READY:
            time.sleep(CAPTURE_WAIT_INTERVAL)
        self._pyav_vdec()
        self._decode_thread_join()
        return SUCCESS

    def _decode_thread_init(self):
        ret = acl.rt.set_context(self._ctx)
        if ret:
            return FAILED
        self._vdec = DvppVdec(self._channel_id, self._width, self._height, self._entype,
                              self._ctx)
        if self._vdec.init():
            return FAILED
        self._input_buffer, ret = acl.media.dvpp_malloc(rgbu8_size(self._width, self._height))
        if ret:
            return FAILED
        return SUCCESS

    def _decode_thread_join(self):
        self.destroy()
        while self._status < DECODE_STATUS_STOP:          # until read() took every frame
            time.sleep(CAPTURE_WAIT_INTERVAL)
        self._status = DECODE_STATUS_EXIT

    def is_finished(self):
        return self._status == DECODE_STATUS_EXIT

    def read(self, no_wait=False):
        if self._status == DECODE_STATUS_EXIT:
            return SUCCESS, None
        if self._status == DECODE_STATUS_READY:
            self._status = DECODE_STATUS_RUNNING
            time.sleep(WAIT_FIRST_DECODED_FRAME)
        ret, image = self._vdec.read(no_wait)
        if (image is None) and (self._status > DECODE_STATUS_RUNNING):
            self._status = DECODE_STATUS_EXIT
        return ret, image

    def destroy(self):
        if self._vdec is not None:
            self._vdec.destroy()
            while self._vdec._destory_channel_flag is False:
                time.sleep(0.001)
        if self._input_buffer is not None:
            acl.media.dvpp_free(self._input_buffer)
            self._input_buffer = None
        self._dextory_dvpp_flag = True
