"""Tests of openacl.batch, and what they share: the models (built with atc) and the reference
each output is checked against — the same model run item by item through pyACL
(``acl.mdl.execute``; JPEGs decoded and resized with ``acl.media`` first), written here
independently of the stage."""

from __future__ import annotations

import io

import numpy as np
import onnx
import onnx.helper as helper
from onnx import TensorProto as T
from onnx import numpy_helper
from PIL import Image

import acl
from openacl.atc import convert
from tests.model.test_aipp import JPEG_YUV2RGB, config_text

CNN_GEARS = (1, 2, 4, 8)
AIPP_SIZE = (40, 30)            # width, height: not a multiple of 16 (VPC pads the rows)
AIPP_GEARS = (1, 2, 4)
_NV12 = 1
_H2D, _D2H = 1, 2

# The stage's JPEG path: NV12 from DVPP, BT.601 full-range YUV -> RGB, ImageNet mean/std.
_AIPP = {"input_format": "YUV420SP_U8", "csc_switch": True, "matrix": JPEG_YUV2RGB,
         "input_bias": [0, 128, 128], "mean_chn": [124, 117, 104],
         "var_reci_chn": [0.0171, 0.0175, 0.0174]}


def build_models(folder) -> dict:
    """The .om models of the tests: ``cnn`` (x [b,3,16,16] -> y [b,10], batch gears
    1,2,4,8), ``static4`` (the same net at a static batch of 4), ``pair`` (two inputs,
    static batch 1) and ``aipp`` (a YUV420SP AIPP input of 40x30 images, gears 1,2,4)."""
    cnn = _cnn("b", 3, 16)
    models = {
        "cnn": _atc(folder, cnn, "cnn", "--input_shape=x:-1,3,16,16",
                    f"--dynamic_batch_size={','.join(map(str, CNN_GEARS))}"),
        "static4": _atc(folder, _cnn(4, 3, 16), "static4"),
        "pair": _atc(folder, _pair(), "pair"),
    }
    width, height = AIPP_SIZE
    config = folder / "aipp.cfg"
    config.write_text(config_text({"src_image_size_w": width, "src_image_size_h": height,
                                   **_AIPP}))
    models["aipp"] = _atc(folder, _cnn("b", 3, (height, width)), "aipp",
                          f"--insert_op_conf={config}",
                          f"--input_shape=x:-1,3,{height},{width}",
                          f"--dynamic_batch_size={','.join(map(str, AIPP_GEARS))}")
    return models


def random_items(count: int, seed: int = 0, shape=(3, 16, 16)) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((count, *shape)).astype(np.float32)


def jpeg_bytes(seed: int, width: int, height: int) -> bytes:
    """A JPEG of smooth random colour (compresses like a photo, not like noise)."""
    rng = np.random.default_rng(seed)
    small = (rng.random((max(height // 8, 2), max(width // 8, 2), 3)) * 255).astype(np.uint8)
    image = Image.fromarray(small).resize((width, height), Image.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def reference_outputs(model_path: str, items, jpeg: bool = False) -> list[np.ndarray]:
    """Output 0 of each item, run alone through pyACL: init, device, context, load, one
    execution per item (gear 1 for a dynamic-batch model), release. JPEG items are decoded
    (JPEGD) and resized (VPC) into the model's NV12 input first."""
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    context, ret = acl.rt.create_context(0)
    assert ret == 0
    model_id, ret = acl.mdl.load_from_file(model_path)
    assert ret == 0, acl.get_recent_err_msg()
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_desc(desc, model_id) == 0
    buffers, datasets = [], []
    try:
        inputs, outputs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
        datasets += [inputs, outputs]
        for dataset, count, size_of in (
                (inputs, acl.mdl.get_num_inputs(desc), acl.mdl.get_input_size_by_index),
                (outputs, acl.mdl.get_num_outputs(desc), acl.mdl.get_output_size_by_index)):
            for index in range(count):
                size = size_of(desc, index)
                ptr, ret = acl.rt.malloc(size, 0)
                assert ret == 0
                buffers.append(ptr)
                _, ret = acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(ptr, size))
                assert ret == 0
        gear_index, ret = acl.mdl.get_input_index_by_name(desc, "ascend_mbatch_shape_data")
        if ret == 0:
            assert acl.mdl.set_dynamic_batch_size(model_id, inputs, gear_index, 1) == 0
        out_size = acl.mdl.get_output_size_by_index(desc, 0)
        out_dims = acl.mdl.get_output_dims(desc, 0)[0]["dims"]
        results = []
        decoder = _Nv12Reference(*AIPP_SIZE) if jpeg else None
        try:
            for item in items:
                arrays = [decoder.decode(item)] if jpeg else \
                    ([item] if isinstance(item, np.ndarray) else list(item))
                for index, array in enumerate(arrays):
                    data = np.ascontiguousarray(array).tobytes()
                    ptr = buffers[index]
                    assert acl.rt.memcpy(ptr, len(data), acl.util.bytes_to_ptr(data), len(data),
                                         _H2D) == 0
                assert acl.mdl.execute(model_id, inputs, outputs) == 0, acl.get_recent_err_msg()
                out = np.empty(out_size // 4, np.float32)
                ptr = buffers[acl.mdl.get_num_inputs(desc)]
                assert acl.rt.memcpy(out.ctypes.data, out_size, ptr, out_size, _D2H) == 0
                item_shape = out_dims[1:]          # axis 0: the batch (1 here)
                results.append(out[:int(np.prod(item_shape))].reshape(item_shape))
        finally:
            if decoder is not None:
                decoder.release()
        return results
    finally:
        for dataset in datasets:
            for index in range(acl.mdl.get_dataset_num_buffers(dataset)):
                acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, index))
            acl.mdl.destroy_dataset(dataset)
        for ptr in buffers:
            acl.rt.free(ptr)
        acl.mdl.unload(model_id)
        acl.mdl.destroy_desc(desc)
        acl.rt.destroy_context(context)
        acl.rt.reset_device(0)
        acl.finalize()


# ---------------------------------------------------------------------- internals
class _Nv12Reference:
    """The README's DVPP flow, one picture at a time: JPEGD to NV12, VPC resize, copy out."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.stream, ret = acl.rt.create_stream()
        assert ret == 0
        self.channel = acl.media.dvpp_create_channel_desc()
        assert acl.media.dvpp_create_channel(self.channel) == 0
        self.config = acl.media.dvpp_create_resize_config()

    def decode(self, jpeg: bytes) -> np.ndarray:
        media = acl.media
        size = len(jpeg)
        host = acl.util.bytes_to_ptr(jpeg)
        width, height, _, ret = media.dvpp_jpeg_get_image_info(host, size)
        assert ret == 0
        dec_size, ret = media.dvpp_jpeg_predict_dec_size(host, size, _NV12)
        jpeg_dev, _ = media.dvpp_malloc(size)
        dec_dev, _ = media.dvpp_malloc(dec_size)
        stride_w, stride_h = -(-self.width // 16) * 16, -(-self.height // 2) * 2
        out_size = stride_w * stride_h * 3 // 2
        out_dev, _ = media.dvpp_malloc(out_size)
        decoded = self._desc(dec_dev, width, height, 0, 0, dec_size)
        resized = self._desc(out_dev, self.width, self.height, stride_w, stride_h, out_size)
        try:
            assert acl.rt.memcpy(jpeg_dev, size, host, size, _H2D) == 0
            assert media.dvpp_jpeg_decode_async(self.channel, jpeg_dev, size, decoded,
                                                self.stream) == 0
            assert acl.rt.synchronize_stream(self.stream) == 0
            assert media.dvpp_vpc_resize_async(self.channel, decoded, resized, self.config,
                                               self.stream) == 0
            assert acl.rt.synchronize_stream(self.stream) == 0, acl.get_recent_err_msg()
            strided = np.empty(out_size, np.uint8)
            assert acl.rt.memcpy(strided.ctypes.data, out_size, out_dev, out_size, _D2H) == 0
        finally:
            for desc in (decoded, resized):
                media.dvpp_destroy_pic_desc(desc)
            for ptr in (jpeg_dev, dec_dev, out_dev):
                media.dvpp_free(ptr)
        luma = strided[:stride_w * stride_h].reshape(stride_h, stride_w)[:self.height,
                                                                         :self.width]
        chroma = strided[stride_w * stride_h:].reshape(stride_h // 2, stride_w)[
            :self.height // 2, :self.width]
        return np.concatenate([luma.reshape(-1), chroma.reshape(-1)])

    def release(self) -> None:
        acl.media.dvpp_destroy_resize_config(self.config)
        acl.media.dvpp_destroy_channel(self.channel)
        acl.media.dvpp_destroy_channel_desc(self.channel)
        acl.rt.destroy_stream(self.stream)

    @staticmethod
    def _desc(ptr, width, height, width_stride, height_stride, size):
        desc = acl.media.dvpp_create_pic_desc()
        for field, value in (("data", ptr), ("format", _NV12), ("width", width),
                             ("height", height), ("width_stride", width_stride),
                             ("height_stride", height_stride), ("size", size)):
            assert getattr(acl.media, f"dvpp_set_pic_desc_{field}")(desc, value) == 0
        return desc


def _cnn(batch, channels: int, side):
    """Conv 3x3 (8 ch, stride 2) -> Relu -> global average pool -> Gemm to 10 classes."""
    height, width = (side, side) if isinstance(side, int) else side
    rng = np.random.default_rng(7)
    w1 = numpy_helper.from_array(rng.standard_normal((8, channels, 3, 3)).astype(np.float32)
                                 * 0.3, "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((10, 8)).astype(np.float32) * 0.3, "w2")
    b2 = numpy_helper.from_array(rng.standard_normal(10).astype(np.float32) * 0.1, "b2")
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "w2", "b2"], ["y"], transB=1)]
    graph = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("x", T.FLOAT, [batch, channels, height,
                                                                     width])],
        [helper.make_tensor_value_info("y", T.FLOAT, [batch, 10])], [w1, w2, b2])
    return _finish(graph)


def _pair():
    """a float32 [1,4] and k int32 [1,2]: y = a * 2 + sum(k) as float, [1,4]; z = k, [1,2]."""
    two = numpy_helper.from_array(np.array(2.0, np.float32), "two")
    nodes = [helper.make_node("Mul", ["a", "two"], ["m"]),
             helper.make_node("Cast", ["k"], ["kf"], to=T.FLOAT),
             helper.make_node("ReduceSum", ["kf"], ["s"], keepdims=1),
             helper.make_node("Add", ["m", "s"], ["y"]),
             helper.make_node("Identity", ["k"], ["z"])]
    graph = helper.make_graph(
        nodes, "pair", [helper.make_tensor_value_info("a", T.FLOAT, [1, 4]),
                        helper.make_tensor_value_info("k", T.INT32, [1, 2])],
        [helper.make_tensor_value_info("y", T.FLOAT, [1, 4]),
         helper.make_tensor_value_info("z", T.INT32, [1, 2])], [two])
    return _finish(graph)


def _finish(graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _atc(folder, model, name: str, *flags) -> str:
    source = folder / f"{name}.onnx"
    onnx.save(model, source)
    return convert([f"--model={source}", "--framework=5", f"--output={folder / name}",
                    "--soc_version=Ascend310P3", *flags], on_warning=lambda _: None)
