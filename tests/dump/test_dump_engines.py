"""Dumps beyond the plain synchronous ONNX Runtime run: execute_async on a stream, the npu
precision rewrite (the model's operators, holding the NPU's rounded values), OpenVINO."""

import json
import os

import numpy as np
import pytest

import acl
from tests.dump.test_dump import ACL_SUCCESS, X, Runner, _end, _files, _json, _net, _reference
from tests.precision import SOC, build, f16, mlp, mlp_input, mlp_weights, run_model, softmax
from tests.precision import within_half_ulp

ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2


def _by_operator(root):
    """{(iteration, op name): npz contents} of every dump file under ``root``."""
    found = {}
    for path in _files(root):
        iteration = int(os.path.basename(os.path.dirname(path)))
        op_type, op_name, task_id, _ = os.path.basename(path).split(".")
        with np.load(path) as archive:
            found[(iteration, op_name)] = {"op_type": op_type, "task_id": int(task_id),
                                           **{k: archive[k] for k in archive.files}}
    return found


def test_execute_async_dumps_each_execution_in_stream_order(tmp_path):
    model = _net(str(tmp_path / "net.onnx"))
    dumps = tmp_path / "dumps"
    assert acl.init(_json(tmp_path, {"dump_path": str(dumps), "dump_list": [{"model_name": "net"}],
                                     "dump_mode": "all"})) == ACL_SUCCESS
    assert acl.rt.set_device(0) == ACL_SUCCESS
    stream, ret = acl.rt.create_stream()
    assert ret == ACL_SUCCESS
    runner = Runner(str(tmp_path / "net.onnx"))
    feeds = [X, X * np.float32(-3.0), X + np.float32(0.5)]
    hosts, results = [], []
    for x in feeds:                        # all queued before one synchronize
        host, _ = acl.rt.malloc_host(x.nbytes)
        hosts.append(host)
        data = x.tobytes()
        assert acl.rt.memcpy(host, x.nbytes, acl.util.bytes_to_ptr(data), x.nbytes, 1) == 0
        assert acl.rt.memcpy_async(runner.pin, x.nbytes, host, x.nbytes,
                                   ACL_MEMCPY_HOST_TO_DEVICE, stream) == ACL_SUCCESS
        assert acl.mdl.execute_async(runner.model_id, runner.ins, runner.outs,
                                     stream) == ACL_SUCCESS
        out, _ = acl.rt.malloc_host(x.nbytes)
        hosts.append(out)
        results.append(out)
        assert acl.rt.memcpy_async(out, x.nbytes, runner.pout, x.nbytes,
                                   ACL_MEMCPY_DEVICE_TO_HOST, stream) == ACL_SUCCESS
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    outputs = [np.frombuffer(acl.util.ptr_to_bytes(p, X.nbytes), np.float32).reshape(X.shape)
               for p in results]
    runner.close()
    for host in hosts:
        acl.rt.free_host(host)
    acl.rt.destroy_stream(stream)
    _end()
    dumped = _by_operator(dumps)
    assert sorted({i for i, _ in dumped}) == [0, 1, 2]
    for iteration, (x, output) in enumerate(zip(feeds, outputs)):
        reference = _reference(model, {"x": x})
        np.testing.assert_array_equal(output, reference["y"])         # results unchanged
        for task_id, node in enumerate(model.graph.node):
            entry = dumped[(iteration, node.name.replace("/", "_"))]
            assert entry["task_id"] == task_id and entry["op_type"] == node.op_type
            for i, name in enumerate(node.input):
                np.testing.assert_array_equal(entry[f"input_{i}"], reference[name])
            np.testing.assert_array_equal(entry["output_0"], reference[node.output[0]])


def _npu_references(source, x):
    """numpy, independently of openacl: the MLP as an NPU computes it under force_fp16 --
    every operator reads and writes float16 (here float32 holding float16 values)."""
    w = {k: f16(v) for k, v in mlp_weights(source).items()}
    x16 = f16(x).astype(np.float64)
    h = f16(x16 @ w["W1"])
    a = f16(h.astype(np.float64) + w["b1"])
    r = f16(np.maximum(a, 0))
    logits = f16(r.astype(np.float64) @ w["W2"])
    prob = f16(softmax(logits))
    return {"fc1": ([f16(x), w["W1"]], h), "bias1": ([h, w["b1"]], a), "relu1": ([a], r),
            "fc2": ([r, w["W2"]], logits), "softmax": ([logits], prob)}


@pytest.mark.parametrize("setting", ["npu", "exact"])
def test_npu_rewrite_dumps_the_models_operators_with_rounded_values(tmp_path, monkeypatch,
                                                                     setting):
    monkeypatch.setenv("OPENACL_PRECISION", setting)
    source = mlp(tmp_path / "mlp.onnx")
    path = build(tmp_path, source, soc=SOC)               # ATC's default: force_fp16
    config = tmp_path / "acl.json"
    config.write_text(json.dumps({"dump": {"dump_path": str(tmp_path / "d"),
                                           "dump_list": [{"model_name": "model"}],
                                           "dump_mode": "all"}}))
    x = mlp_input()
    outputs, choice = run_model(path, [x], acl_json=str(config))
    assert choice.rewrite == (setting == "npu")
    dumped = _by_operator(tmp_path / "d")
    # Only the model's five operators: the casts the rewrite inserts are not dumped.
    assert sorted((e["task_id"], name, e["op_type"]) for (_, name), e in dumped.items()) == [
        (0, "fc1", "MatMul"), (1, "bias1", "Add"), (2, "relu1", "Relu"), (3, "fc2", "MatMul"),
        (4, "softmax", "Softmax")]
    np.testing.assert_array_equal(dumped[(0, "softmax")]["output_0"], outputs[1])
    np.testing.assert_array_equal(dumped[(0, "fc2")]["output_0"], outputs[0])
    fc1 = dumped[(0, "fc1")]["output_0"]
    if setting == "exact":                  # float32 values: most are not float16 values
        assert np.mean(f16(fc1) == fc1) < 0.5
        return
    for name, (inputs, output) in _npu_references(source, x).items():
        entry = dumped[(0, name)]
        for i, expected in enumerate(inputs):
            np.testing.assert_array_equal(entry[f"input_{i}"], expected)  # rounded inputs
        assert np.array_equal(f16(entry["output_0"]), entry["output_0"])  # float16 values
        within_half_ulp(entry["output_0"], output)


@pytest.mark.parametrize("setting, tolerance", [("exact", 1e-5), ("fast", 2e-2)])
def test_openvino_dump_matches_reference(tmp_path, monkeypatch, setting, tolerance):
    monkeypatch.setenv("OPENACL_PRECISION", setting)
    monkeypatch.setenv("OPENACL_ENGINE", "openvino")
    source = mlp(tmp_path / "mlp.onnx")
    path = build(tmp_path, source, soc=SOC)
    config = tmp_path / "acl.json"
    config.write_text(json.dumps({"dump": {"dump_path": str(tmp_path / "d"),
                                           "dump_list": [{"model_name": "model"}]}}))
    x = mlp_input()
    outputs, choice = run_model(path, [x], acl_json=str(config))
    assert choice.engine == "openvino"
    dumped = _by_operator(tmp_path / "d")
    w = mlp_weights(source)
    h = x.astype(np.float64) @ w["W1"]
    a = h + w["b1"]
    r = np.maximum(a, 0)
    logits = r @ w["W2"]
    expected = {"fc1": h, "bias1": a, "relu1": r, "fc2": logits, "softmax": softmax(logits)}
    assert {name for _, name in dumped} == set(expected)
    for name, value in expected.items():
        got = dumped[(0, name)]["output_0"]
        scale = np.max(np.abs(value))
        assert np.max(np.abs(got - value)) <= tolerance * scale, name
    if setting == "fast":                   # the dump ran in bfloat16, as the program did
        assert np.max(np.abs(dumped[(0, "fc1")]["output_0"] - h)) > 1e-4 * np.max(np.abs(h))
    # The dump session runs the same engine and precision as the program's.
    np.testing.assert_allclose(dumped[(0, "softmax")]["output_0"], outputs[1],
                               rtol=0, atol=tolerance)
