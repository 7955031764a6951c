"""The seed document's flow, end to end: desc, datasets, copies, execute, top-5, release."""

import struct

import numpy as np
import onnx
import pytest

import acl
from openacl.model.om import write_om
from tests.model import builders
from tests.model.sample_net import SampleNet


@pytest.fixture(params=["onnx", "om"])
def classifier_path(request, tmp_path):
    model = builders.classifier(classes=1000)
    if request.param == "onnx":
        path = tmp_path / "classifier.onnx"
        onnx.save(model, path)
    else:
        path = tmp_path / "classifier.om"
        write_om(model, {"framework": 5, "inputs": {"data": {"format": "NCHW"}}}, str(path))
    return str(path), model


def test_seed_flow_top5_matches_onnxruntime(classifier_path):
    path, model = classifier_path
    net = SampleNet(path)
    try:
        rng = np.random.default_rng(42)
        for _ in range(3):
            image = rng.standard_normal((1, 3, 16, 16)).astype(np.float32)
            (prob,) = net.run([image])
            expected = builders.reference(model, {"data": image})[0]
            np.testing.assert_array_equal(prob, expected)          # bit-identical
            # The seed's own post-processing: struct-unpack 1000 floats, top-5.
            item = net.output_data[0]
            raw = bytes(item["size"])
            assert acl.rt.memcpy(acl.util.bytes_to_ptr(raw), item["size"], item["buffer"],
                                 item["size"], 2) == 0
            vals = np.array(struct.unpack("1000f", bytearray(raw))).flatten()
            top_k = vals.argsort()[-1:-6:-1]
            assert list(top_k) == list(np.argsort(expected[0])[-1:-6:-1])
    finally:
        net.release()


def test_seed_flow_with_several_inputs_and_outputs_of_every_type(tmp_path):
    model = builders.mixed_types()
    path = tmp_path / "mixed.om"
    write_om(model, {"framework": 5}, str(path))
    net = SampleNet(str(path))
    try:
        for seed in range(3):
            feeds = builders.mixed_inputs(seed)
            outputs = net.run([feeds[name] for name in ("f32", "f16", "i32", "i64", "u8", "flag")])
            expected = builders.reference(model, feeds)
            assert len(outputs) == len(expected) == 6
            for got, want in zip(outputs, expected):
                assert got.dtype == want.dtype and got.shape == want.shape
                np.testing.assert_array_equal(got, want)
    finally:
        net.release()
