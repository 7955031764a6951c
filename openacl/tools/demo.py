"""``openacl demo``: the seed document's model-execution flow on a bundled image classifier.

It builds the offline model the Ascend way (``atc`` turns the bundled ONNX into an .om), then
runs pyACL's flow exactly as the seed document and Huawei's samples write it: init, device,
context, stream, load, model description, input/output datasets over device memory sized by
get_*_size_by_index, copy in, execute, copy out, top-5, and the release of every resource.
The classifier is a tiny CNN trained on scikit-learn's 8x8 digits (scripts/train_digits.py);
the held-out split ships with it, so the demo also reports its accuracy.
"""

from __future__ import annotations

import os
import tempfile
from importlib import resources

import numpy as np

import acl

ACL_SUCCESS = 0
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2

__all__ = ["main", "DigitsClassifier"]


def check(ret: int, what: str) -> None:
    if ret != ACL_SUCCESS:
        raise RuntimeError(f"{what} failed with error {ret}: {acl.get_recent_err_msg()}")


class DigitsClassifier:
    """The seed's flow, in the style of Huawei's samples."""

    def __init__(self, model_path: str, device_id: int = 0):
        self.device_id = device_id
        check(acl.init(), "acl.init")
        check(acl.rt.set_device(device_id), "acl.rt.set_device")
        self.context, ret = acl.rt.create_context(device_id)
        check(ret, "acl.rt.create_context")
        self.stream, ret = acl.rt.create_stream()
        check(ret, "acl.rt.create_stream")
        self.model_id, ret = acl.mdl.load_from_file(model_path)
        check(ret, "acl.mdl.load_from_file")
        # 1. The model description, from the id the load returned.
        self.model_desc = acl.mdl.create_desc()
        check(acl.mdl.get_desc(self.model_desc, self.model_id), "acl.mdl.get_desc")
        # 2./3. Input and output datasets: one device buffer per input/output.
        self.load_input_dataset, self.input_data = self._prepare(
            acl.mdl.get_num_inputs(self.model_desc), acl.mdl.get_input_size_by_index)
        self.load_output_dataset, self.output_data = self._prepare(
            acl.mdl.get_num_outputs(self.model_desc), acl.mdl.get_output_size_by_index)

    def _prepare(self, count: int, size_of):
        dataset = acl.mdl.create_dataset()
        data = []
        for i in range(count):
            buffer_size = size_of(self.model_desc, i)
            buffer, ret = acl.rt.malloc(buffer_size, ACL_MEM_MALLOC_HUGE_FIRST)
            check(ret, "acl.rt.malloc")
            data_buffer = acl.create_data_buffer(buffer, buffer_size)
            _, ret = acl.mdl.add_dataset_buffer(dataset, data_buffer)
            check(ret, "acl.mdl.add_dataset_buffer")
            data.append({"buffer": buffer, "size": buffer_size})
        return dataset, data

    def describe(self) -> str:
        dims, _ = acl.mdl.get_input_dims(self.model_desc, 0)
        out, _ = acl.mdl.get_output_dims(self.model_desc, 0)
        return (f"model {self.model_id}: input {dims['name']!r} {dims['dims']} "
                f"({self.input_data[0]['size']} bytes), output {out['name']!r} {out['dims']}")

    def infer(self, image: np.ndarray) -> np.ndarray:
        """One image [8, 8] of raw 0..16 pixels -> ten class probabilities."""
        tensor = (image.astype(np.float32) / 16.0).reshape(1, 1, 8, 8)
        bytes_data = tensor.tobytes()
        ptr = acl.util.bytes_to_ptr(bytes_data)
        check(acl.rt.memcpy(self.input_data[0]["buffer"], self.input_data[0]["size"], ptr,
                            len(bytes_data), ACL_MEMCPY_HOST_TO_DEVICE), "acl.rt.memcpy")
        check(acl.mdl.execute(self.model_id, self.load_input_dataset, self.load_output_dataset),
              "acl.mdl.execute")
        item = self.output_data[0]
        buffer_host, ret = acl.rt.malloc_host(item["size"])
        check(ret, "acl.rt.malloc_host")
        check(acl.rt.memcpy(buffer_host, item["size"], item["buffer"], item["size"],
                            ACL_MEMCPY_DEVICE_TO_HOST), "acl.rt.memcpy")
        bytes_out = acl.util.ptr_to_bytes(buffer_host, item["size"])
        check(acl.rt.free_host(buffer_host), "acl.rt.free_host")
        return np.frombuffer(bytes_out, np.float32).copy()

    def release(self) -> None:
        for dataset, data in ((self.load_input_dataset, self.input_data),
                              (self.load_output_dataset, self.output_data)):
            while data:
                check(acl.rt.free(data.pop()["buffer"]), "acl.rt.free")
            for i in range(acl.mdl.get_dataset_num_buffers(dataset)):
                data_buf = acl.mdl.get_dataset_buffer(dataset, i)
                if data_buf:
                    check(acl.destroy_data_buffer(data_buf), "acl.destroy_data_buffer")
            check(acl.mdl.destroy_dataset(dataset), "acl.mdl.destroy_dataset")
        check(acl.mdl.unload(self.model_id), "acl.mdl.unload")
        check(acl.mdl.destroy_desc(self.model_desc), "acl.mdl.destroy_desc")
        check(acl.rt.destroy_stream(self.stream), "acl.rt.destroy_stream")
        check(acl.rt.destroy_context(self.context), "acl.rt.destroy_context")
        check(acl.rt.reset_device(self.device_id), "acl.rt.reset_device")
        check(acl.finalize(), "acl.finalize")


def _asset(name: str) -> str:
    return str(resources.files("openacl") / "assets" / name)


def build_om(output_dir: str) -> str:
    """Convert the bundled ONNX classifier to an openacl .om with atc, as an Ascend build would."""
    from openacl.atc.cli import main as atc

    output = os.path.join(output_dir, "digits")
    argv = [f"--model={_asset('digits_cnn.onnx')}", "--framework=5", f"--output={output}",
            "--soc_version=Ascend310P3", "--input_format=NCHW", "--input_shape=image:1,1,8,8"]
    print("$ atc " + " ".join(argv))
    if atc(argv) != 0:
        raise RuntimeError("atc failed to convert the bundled model")
    return output + ".om"


def main(images: int = 3) -> int:
    test = np.load(_asset("digits_test.npz"))
    pictures, labels = test["images"], test["labels"]
    with tempfile.TemporaryDirectory(prefix="openacl-demo-") as workdir:
        model_path = build_om(workdir)
        net = DigitsClassifier(model_path)
        try:
            print(net.describe())
            for index in range(min(images, len(pictures))):
                vals = net.infer(pictures[index])
                top_k = vals.argsort()[-1:-6:-1]
                print(f"\nimage {index} (a handwritten {labels[index]}):")
                print("======== top5 inference results: =============")
                for j in top_k:
                    print("[%d]: %f" % (j, vals[j]))
            correct = sum(int(net.infer(p).argmax() == label) for p, label in zip(pictures, labels))
            print(f"\nheld-out accuracy: {correct}/{len(labels)} = {100 * correct / len(labels):.2f}%")
        finally:
            net.release()
    return 0
