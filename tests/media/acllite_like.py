"""acllite's image classes, as ``python/common/acllite`` writes them (dvpp-api.md §5.6, §13).

The call sequences, strides and sizes are acllite's own (``AclLiteImage``,
``AclLiteImageProc.jpegd / resize / crop_and_paste / crop_and_paste_get_roi / jpege``), so
the tests exercise openacl the way twenty Huawei sample apps do. Only logging is left out.
"""

from __future__ import annotations

import numpy as np

import acl

MEMORY_DVPP = 3
PIXEL_FORMAT_YUV_SEMIPLANAR_420 = 1
ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_HOST = 1, 2


def align_up(value, align):
    return int(int((value + align - 1) / align) * align)


def yuv420sp_size(width, height):
    return int(width * height * 3 / 2)


class AclLiteImage:
    def __init__(self, data, width=0, height=0, alignWidth=0, alignHeight=0, size=0,
                 memory_type=None):
        self._data = data
        self.width, self.height = width, height
        self.alignWidth, self.alignHeight = alignWidth, alignHeight
        self.size = size
        self._memory_type = memory_type

    @classmethod
    def from_jpeg_bytes(cls, jpeg: bytes, width: int, height: int):
        """acllite reads the file and takes width/height from PIL (which ignores EXIF)."""
        return cls(jpeg, width, height, 0, 0, len(jpeg), None)

    def data(self):
        return self._data

    def copy_to_dvpp(self):
        """dvpp_malloc(file size) + memcpy H2D of the file bytes."""
        ptr, ret = acl.media.dvpp_malloc(self.size)
        assert ret == 0, acl.get_recent_err_msg()
        source = self._data
        ret = acl.rt.memcpy(ptr, self.size, acl.util.bytes_to_ptr(source), self.size,
                            ACL_MEMCPY_HOST_TO_DEVICE)
        assert ret == 0, acl.get_recent_err_msg()
        return AclLiteImage(ptr, self.width, self.height, 0, 0, self.size, MEMORY_DVPP)

    def byte_data_to_np_array(self) -> np.ndarray:
        out = np.zeros(self.size, np.uint8).tobytes()
        ret = acl.rt.memcpy(acl.util.bytes_to_ptr(out), self.size, self._data, self.size,
                            ACL_MEMCPY_DEVICE_TO_HOST)
        assert ret == 0, acl.get_recent_err_msg()
        return np.frombuffer(out, np.uint8)

    def destroy(self):
        if self._memory_type == MEMORY_DVPP and self._data:
            acl.media.dvpp_free(self._data)
            self._data = 0


class AclLiteImageProc:
    def __init__(self, stream):
        self._stream = stream
        self._dvpp_channel_desc = acl.media.dvpp_create_channel_desc()
        ret = acl.media.dvpp_create_channel(self._dvpp_channel_desc)
        assert ret == 0, acl.get_recent_err_msg()
        self._resize_config = acl.media.dvpp_create_resize_config()
        self._jpege_config = acl.media.dvpp_create_jpege_config()
        ret = acl.media.dvpp_set_jpege_config_level(self._jpege_config, 100)
        assert ret == 0
        self.leaked_descs = []          # acllite leaks jpegd output descs; the tests free them

    def _gen_input_pic_desc(self, image, width_align_factor=16, height_align_factor=2):
        stride_width = image.alignWidth or align_up(image.width, width_align_factor)
        stride_height = image.alignHeight or align_up(image.height, height_align_factor)
        pic_desc = acl.media.dvpp_create_pic_desc()
        acl.media.dvpp_set_pic_desc_data(pic_desc, image.data())
        acl.media.dvpp_set_pic_desc_format(pic_desc, PIXEL_FORMAT_YUV_SEMIPLANAR_420)
        acl.media.dvpp_set_pic_desc_width(pic_desc, image.width)
        acl.media.dvpp_set_pic_desc_height(pic_desc, image.height)
        acl.media.dvpp_set_pic_desc_width_stride(pic_desc, stride_width)
        acl.media.dvpp_set_pic_desc_height_stride(pic_desc, stride_height)
        acl.media.dvpp_set_pic_desc_size(pic_desc, image.size)
        return pic_desc

    def _gen_output_pic_desc(self, width, height, output_buffer, output_buffer_size,
                             width_align_factor=16, height_align_factor=2):
        stride_width = align_up(width, width_align_factor)
        stride_height = align_up(height, height_align_factor)
        pic_desc = acl.media.dvpp_create_pic_desc()
        acl.media.dvpp_set_pic_desc_data(pic_desc, output_buffer)
        acl.media.dvpp_set_pic_desc_format(pic_desc, PIXEL_FORMAT_YUV_SEMIPLANAR_420)
        acl.media.dvpp_set_pic_desc_width(pic_desc, width)
        acl.media.dvpp_set_pic_desc_height(pic_desc, height)
        acl.media.dvpp_set_pic_desc_width_stride(pic_desc, stride_width)
        acl.media.dvpp_set_pic_desc_height_stride(pic_desc, stride_height)
        acl.media.dvpp_set_pic_desc_size(pic_desc, output_buffer_size)
        return pic_desc

    def jpegd(self, image):
        soc_version = acl.get_soc_name()
        if soc_version == "Ascend310P3":
            width = align_up(image.width, 2)
            height = align_up(image.height, 2)
            stride_width = align_up(width, 64)
            stride_height = align_up(height, 16)
        else:
            width, height = image.width, image.height
            stride_width = align_up(width, 128)
            stride_height = align_up(height, 16)
        output_size = yuv420sp_size(stride_width, stride_height)
        out_buffer, ret = acl.media.dvpp_malloc(output_size)
        assert ret == 0
        output_desc = self._gen_output_pic_desc(width, height, out_buffer, output_size,
                                                width_align_factor=128, height_align_factor=16)
        ret = acl.media.dvpp_jpeg_decode_async(self._dvpp_channel_desc, image.data(),
                                               image.size, output_desc, self._stream)
        if ret != 0:
            acl.media.dvpp_free(out_buffer)
            acl.media.dvpp_destroy_pic_desc(output_desc)
            return None
        ret = acl.rt.synchronize_stream(self._stream)
        self.leaked_descs.append(output_desc)
        if ret != 0:
            acl.media.dvpp_free(out_buffer)
            return None
        return AclLiteImage(out_buffer, width, height, stride_width, stride_height,
                            output_size, MEMORY_DVPP)

    def resize(self, image, resize_width, resize_height):
        input_desc = self._gen_input_pic_desc(image)
        stride_width = align_up(resize_width, 16)
        stride_height = align_up(resize_height, 2)
        output_size = yuv420sp_size(stride_width, stride_height)
        out_buffer, ret = acl.media.dvpp_malloc(output_size)
        assert ret == 0
        output_desc = self._gen_output_pic_desc(resize_width, resize_height, out_buffer,
                                                output_size)
        ret = acl.media.dvpp_vpc_resize_async(self._dvpp_channel_desc, input_desc, output_desc,
                                              self._resize_config, self._stream)
        assert ret == 0, acl.get_recent_err_msg()
        ret = acl.rt.synchronize_stream(self._stream)
        acl.media.dvpp_destroy_pic_desc(input_desc)
        acl.media.dvpp_destroy_pic_desc(output_desc)
        if ret != 0:
            acl.media.dvpp_free(out_buffer)
            return None
        return AclLiteImage(out_buffer, resize_width, resize_height, stride_width,
                            stride_height, output_size, MEMORY_DVPP)

    def crop_and_paste(self, image, width, height, crop_and_paste_width,
                       crop_and_paste_height):
        """Letterbox: the whole image scaled into the top-left of the output."""
        input_desc = self._gen_input_pic_desc(image)
        stride_width = align_up(crop_and_paste_width, 16)
        stride_height = align_up(crop_and_paste_height, 2)
        out_buffer_size = yuv420sp_size(stride_width, stride_height)
        out_buffer, ret = acl.media.dvpp_malloc(out_buffer_size)
        assert ret == 0
        output_desc = self._gen_output_pic_desc(crop_and_paste_width, crop_and_paste_height,
                                                out_buffer, out_buffer_size)
        self.crop_config = acl.media.dvpp_create_roi_config(0, (width >> 1 << 1) - 1, 0,
                                                            (height >> 1 << 1) - 1)
        rx = float(width) / float(crop_and_paste_width)
        ry = float(height) / float(crop_and_paste_height)
        if rx > ry:
            dx = 0
            r = rx
            dy = int((crop_and_paste_height - height / r) / 2)
        else:
            dy = 0
            r = ry
            dx = int((crop_and_paste_width - width / r) / 2)
        paste_right = crop_and_paste_width - 1 - 2 * dx
        paste_bottom = crop_and_paste_height - 1 - 2 * dy
        if (paste_right % 2) == 0:
            paste_right = paste_right - 1
        if (paste_bottom % 2) == 0:
            paste_bottom = paste_bottom - 1
        self.paste_config = acl.media.dvpp_create_roi_config(0, paste_right, 0, paste_bottom)
        ret = acl.media.dvpp_vpc_crop_and_paste_async(self._dvpp_channel_desc, input_desc,
                                                      output_desc, self.crop_config,
                                                      self.paste_config, self._stream)
        assert ret == 0, acl.get_recent_err_msg()
        ret = acl.rt.synchronize_stream(self._stream)
        acl.media.dvpp_destroy_pic_desc(input_desc)
        acl.media.dvpp_destroy_pic_desc(output_desc)
        acl.media.dvpp_destroy_roi_config(self.crop_config)     # acllite leaks these two
        acl.media.dvpp_destroy_roi_config(self.paste_config)
        if ret != 0:
            acl.media.dvpp_free(out_buffer)
            return None
        return AclLiteImage(out_buffer, image.width, image.height, paste_right + 1,
                            paste_bottom + 1, out_buffer_size, MEMORY_DVPP)

    def jpege(self, image):
        input_desc = self._gen_input_pic_desc(image)
        output_size, ret = acl.media.dvpp_jpeg_predict_enc_size(input_desc, self._jpege_config)
        assert ret == 0, acl.get_recent_err_msg()
        out_buffer, ret = acl.media.dvpp_malloc(output_size)
        assert ret == 0
        output_size_array = np.array([output_size], dtype=np.int32)
        output_size_bytes = output_size_array.tobytes()
        output_size_ptr = acl.util.bytes_to_ptr(output_size_bytes)
        ret = acl.media.dvpp_jpeg_encode_async(self._dvpp_channel_desc, input_desc, out_buffer,
                                               output_size_ptr, self._jpege_config,
                                               self._stream)
        assert ret == 0, acl.get_recent_err_msg()
        ret = acl.rt.synchronize_stream(self._stream)
        acl.media.dvpp_destroy_pic_desc(input_desc)
        if ret != 0:
            acl.media.dvpp_free(out_buffer)
            return None
        output_size = int(np.frombuffer(output_size_bytes, np.int32)[0])
        return AclLiteImage(out_buffer, image.width, image.height, 0, 0, output_size,
                            MEMORY_DVPP)

    def destroy(self):
        for desc in self.leaked_descs:
            acl.media.dvpp_destroy_pic_desc(desc)
        acl.media.dvpp_destroy_resize_config(self._resize_config)
        acl.media.dvpp_destroy_channel(self._dvpp_channel_desc)
        acl.media.dvpp_destroy_channel_desc(self._dvpp_channel_desc)
        acl.media.dvpp_destroy_jpege_config(self._jpege_config)
