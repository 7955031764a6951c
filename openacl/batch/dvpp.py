"""JPEG bytes to a model's YUV420SP (NV12) AIPP input, on DVPP (``acl.media``).

The calls are pyACL's, as Huawei's samples make them: the JPEG is copied into DVPP memory,
JPEGD decodes it to NV12 with the SoC's strides, VPC resizes it to the model's AIPP source
size, and the result is copied back to the host, packed (no stride padding), into the
item's slot of the batch. On an NPU node the same code runs on the real DVPP (``acl`` is
then Huawei's pyACL), with the context the ``InferSession`` created.

The resize does not keep the aspect ratio: the image is stretched to the model's size, as
acllite's ``resize`` does.
"""

from __future__ import annotations

import numpy as np

from openacl.batch.spec import ItemError, StageError

__all__ = ["JpegDecoder"]

_NV12 = 1                         # PIXEL_FORMAT_YUV_SEMIPLANAR_420
_H2D, _D2H = 1, 2                 # ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_HOST


class JpegDecoder:
    """Decode JPEGs into packed NV12 images of ``width`` x ``height`` (the current context's
    device). One stream, one DVPP channel and reusable DVPP buffers; ``close`` releases them.
    """

    def __init__(self, width: int, height: int):
        import acl

        self._acl = acl
        self.width, self.height = width, height
        self._undo = []                       # release actions, run in reverse by close()
        self._frees = {}                      # growable buffer name -> its release action
        self.stream = self._make(acl.rt.create_stream, acl.rt.destroy_stream, "a stream")
        self.channel = acl.media.dvpp_create_channel_desc()
        self._undo.append(lambda: acl.media.dvpp_destroy_channel_desc(self.channel))
        self._check(acl.media.dvpp_create_channel(self.channel), "a DVPP channel")
        self._undo.append(lambda: acl.media.dvpp_destroy_channel(self.channel))
        self.resize_config = acl.media.dvpp_create_resize_config()
        self._undo.append(lambda: acl.media.dvpp_destroy_resize_config(self.resize_config))
        # VPC writes rows of align16(width) bytes and align2(height) rows.
        self.out_stride = _align(width, 16), _align(height, 2)
        self.out_size = self.out_stride[0] * self.out_stride[1] * 3 // 2
        self.out_dev = self._malloc(self.out_size)
        self.out_desc = self._pic_desc(self.out_dev, width, height, *self.out_stride,
                                       self.out_size)
        self.in_desc = self._pic_desc(0, 0, 0, 0, 0, 0)
        self.host = np.empty(self.out_size, np.uint8)
        self._buffers = {"jpeg": (0, 0), "decoded": (0, 0)}
        self.jpegd_stride = 128 if _is_310(acl.get_soc_name()) else 64

    def decode_into(self, data: bytes, out: np.ndarray) -> None:
        """Decode ``data`` (a JPEG) and write the packed NV12 image into ``out`` (uint8,
        ``width * height * 3 / 2`` elements). Raises ``ItemError`` for what DVPP refuses."""
        acl = self._acl
        data = bytes(data)
        size = len(data)
        host_ptr = acl.util.bytes_to_ptr(data)
        width, height, _, ret = acl.media.dvpp_jpeg_get_image_info(host_ptr, size)
        if ret != 0:
            raise ItemError(f"not a JPEG DVPP decodes (error {ret}): {self._message()}")
        dec_size, ret = acl.media.dvpp_jpeg_predict_dec_size(host_ptr, size, _NV12)
        if ret != 0:
            raise ItemError(f"DVPP cannot decode this JPEG to YUV420SP (error {ret}): "
                            f"{self._message()}")
        jpeg_dev = self._buffer("jpeg", size)
        ret = acl.rt.memcpy(jpeg_dev, size, host_ptr, size, _H2D)
        if ret != 0:
            raise ItemError(f"copying the JPEG to DVPP memory failed (error {ret}): "
                            f"{self._message()}")
        dec_dev = self._buffer("decoded", dec_size)
        # JPEGD's output: width and height rounded to even, the SoC's stride alignment
        # (the decoder writes the values it used back into the desc).
        dec_w, dec_h = _align(width, 2), _align(height, 2)
        desc = self.in_desc
        self._set_pic(desc, dec_dev, dec_w, dec_h, _align(dec_w, self.jpegd_stride),
                      _align(dec_h, 16), dec_size)
        ret = acl.media.dvpp_jpeg_decode_async(self.channel, jpeg_dev, size, desc, self.stream)
        if ret == 0:
            ret = acl.rt.synchronize_stream(self.stream)
        if ret != 0:
            raise ItemError(f"JPEG decode failed (error {ret}): {self._message()}")
        ret = acl.media.dvpp_vpc_resize_async(self.channel, desc, self.out_desc,
                                              self.resize_config, self.stream)
        if ret == 0:
            ret = acl.rt.synchronize_stream(self.stream)
        if ret != 0:
            raise ItemError(f"VPC resize of the decoded {width}x{height} image to "
                            f"{self.width}x{self.height} failed (error {ret}): "
                            f"{self._message()}")
        host = self.host
        ret = acl.rt.memcpy(host.ctypes.data, self.out_size, self.out_dev, self.out_size, _D2H)
        if ret != 0:
            raise ItemError(f"copying the resized image back failed (error {ret}): "
                            f"{self._message()}")
        # Strided rows (luma, then interleaved chroma) to packed rows.
        stride_w, stride_h = self.out_stride
        rows = np.concatenate([host[:stride_w * self.height].reshape(self.height, stride_w),
                               host[stride_w * stride_h:].reshape(-1, stride_w)
                               [:self.height // 2]])
        out.reshape(-1)[...] = rows[:, :self.width].reshape(-1)

    def close(self) -> None:
        """Release the stream, channel, descs and DVPP memory (idempotent)."""
        undo, self._undo = self._undo, []
        for action in reversed(undo):
            try:
                action()
            except Exception:  # noqa: BLE001 - release the rest whatever one fails with
                pass

    # ------------------------------------------------------------------ internals
    def _make(self, create, destroy, what: str):
        handle, ret = create()
        self._check(ret, what)
        self._undo.append(lambda: destroy(handle))
        return handle

    def _malloc(self, size: int) -> int:
        acl = self._acl
        ptr, ret = acl.media.dvpp_malloc(size)
        self._check(ret, f"{size} bytes of DVPP memory")
        self._undo.append(lambda: acl.media.dvpp_free(ptr))
        return ptr

    def _buffer(self, name: str, size: int) -> int:
        """A DVPP buffer of at least ``size`` bytes, grown (and kept) as items need."""
        ptr, have = self._buffers[name]
        if have >= size:
            return ptr
        acl = self._acl
        if ptr:
            acl.media.dvpp_free(ptr)
            self._undo.remove(self._frees[name])
        ptr, ret = acl.media.dvpp_malloc(size)
        if ret != 0:
            self._buffers[name] = (0, 0)
            raise ItemError(f"no DVPP memory for a {size}-byte buffer (error {ret}): "
                            f"{self._message()}")
        free = self._frees[name] = (lambda: acl.media.dvpp_free(ptr))
        self._undo.append(free)
        self._buffers[name] = (ptr, size)
        return ptr

    def _pic_desc(self, ptr, width, height, width_stride, height_stride, size):
        acl = self._acl
        desc = acl.media.dvpp_create_pic_desc()
        if not desc:
            raise StageError(f"dvpp_create_pic_desc failed: {self._message()}")
        self._undo.append(lambda: acl.media.dvpp_destroy_pic_desc(desc))
        self._set_pic(desc, ptr, width, height, width_stride, height_stride, size)
        return desc

    def _set_pic(self, desc, ptr, width, height, width_stride, height_stride, size) -> None:
        media = self._acl.media
        media.dvpp_set_pic_desc_data(desc, ptr)
        media.dvpp_set_pic_desc_format(desc, _NV12)
        media.dvpp_set_pic_desc_width(desc, width)
        media.dvpp_set_pic_desc_height(desc, height)
        media.dvpp_set_pic_desc_width_stride(desc, width_stride)
        media.dvpp_set_pic_desc_height_stride(desc, height_stride)
        media.dvpp_set_pic_desc_size(desc, size)

    def _check(self, ret: int, what: str) -> None:
        if ret != 0:
            message = self._message()
            self.close()
            raise StageError(f"DVPP setup failed creating {what} (error {ret}): {message}")

    def _message(self) -> str:
        try:
            return self._acl.get_recent_err_msg() or "no message"
        except Exception:  # noqa: BLE001 - the message is only a courtesy
            return "no message"


def _align(value: int, to: int) -> int:
    return (value + to - 1) // to * to


def _is_310(soc_name) -> bool:
    """Ascend310 (the first generation) aligns JPEGD strides to 128; later SoCs to 64."""
    name = (soc_name or "").upper()
    return name.startswith("ASCEND310") and not name.startswith(("ASCEND310P", "ASCEND310B"))
