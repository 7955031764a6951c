"""Per-operator dumps: acl.init JSON and acl.mdl.*_dump, files, filters, callback, codes."""

import ctypes
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import acl
from openacl.dump.compare_cli import main as compare_main

ACL_SUCCESS = 0
ACL_ERROR_INVALID_PARAM = 100000
ACL_ERROR_UNINITIALIZE = 100001
ACL_ERROR_INVALID_FILE = 100003
ACL_ERROR_PARSE_FILE = 100006
ACL_ERROR_INVALID_DUMP_CONFIG = 100009
ACL_ERROR_DUMP_ALREADY_RUN = 100044
ACL_ERROR_DUMP_NOT_RUN = 100045

X = np.array([[1.0, -2.0, 3.0, 4.0], [0.5, 0.25, -1.0, 2.0]], np.float32)


def _net(path, name="net"):
    rng = np.random.default_rng(0)
    w = onnx.numpy_helper.from_array(rng.standard_normal((4, 4)).astype(np.float32), "w")
    b = onnx.numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"], name="layer/mm"),
             helper.make_node("Add", ["m", "b"], ["a"], name="add"),
             helper.make_node("Relu", ["a"], ["r"], name="relu"),
             helper.make_node("Mul", ["r", "x"], ["y"], name="mul")]
    graph = helper.make_graph(nodes, name,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
                              [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, path)
    return model


def _reference(model, feeds):
    """Every node output, computed independently: the model with them exposed, on ORT."""
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    names = [o for n in model.graph.node for o in n.output if o != "y"]
    for name in names:
        exposed.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    session = ort.InferenceSession(exposed.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    values = dict(zip(outputs, session.run(outputs, feeds)))
    values.update(feeds)
    values.update({t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer})
    return values


class Runner:
    def __init__(self, path):
        self.model_id, ret = acl.mdl.load_from_file(path)
        assert ret == ACL_SUCCESS, acl.get_recent_err_msg()
        self.ins, self.outs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
        self.pin, _ = acl.rt.malloc(X.nbytes, 0)
        self.pout, _ = acl.rt.malloc(X.nbytes, 0)
        self.buffers = [acl.create_data_buffer(self.pin, X.nbytes),
                        acl.create_data_buffer(self.pout, X.nbytes)]
        acl.mdl.add_dataset_buffer(self.ins, self.buffers[0])
        acl.mdl.add_dataset_buffer(self.outs, self.buffers[1])

    def run(self, x=X):
        data = np.ascontiguousarray(x).tobytes()
        assert acl.rt.memcpy(self.pin, len(data), acl.util.bytes_to_ptr(data), len(data), 1) == 0
        assert acl.mdl.execute(self.model_id, self.ins, self.outs) == ACL_SUCCESS, \
            acl.get_recent_err_msg()
        out = bytes(len(data))
        assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), len(out), self.pout, len(out), 2) == 0
        return np.frombuffer(out, np.float32).reshape(x.shape)

    def close(self):
        assert acl.mdl.unload(self.model_id) == ACL_SUCCESS
        for b in self.buffers:
            acl.destroy_data_buffer(b)
        acl.mdl.destroy_dataset(self.ins)
        acl.mdl.destroy_dataset(self.outs)
        acl.rt.free(self.pin)
        acl.rt.free(self.pout)


def _files(root):
    found = []
    for folder, _, names in os.walk(root):
        found += [os.path.join(folder, n) for n in names]
    return sorted(found)


def _json(tmp_path, dump, name="acl.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"dump": dump}))
    return str(path)


def _session(config=None):
    assert acl.init(config) == ACL_SUCCESS if config else acl.init() == ACL_SUCCESS
    assert acl.rt.set_device(0) == ACL_SUCCESS


def _end():
    assert acl.rt.reset_device(0) == ACL_SUCCESS
    assert acl.finalize() == ACL_SUCCESS


@pytest.mark.parametrize("mode", ["input", "output", "all"])
def test_acl_json_dump_equals_independent_reference(tmp_path, mode):
    model = _net(str(tmp_path / "net.onnx"))
    dumps = tmp_path / "dumps"
    _session(_json(tmp_path, {"dump_path": str(dumps), "dump_list": [{"model_name": "net"}],
                              "dump_mode": mode}))
    runner = Runner(str(tmp_path / "net.onnx"))
    result = runner.run()
    runner.close()
    _end()
    reference = _reference(model, {"x": X})
    np.testing.assert_array_equal(result, reference["y"])      # results unchanged
    files = _files(dumps)
    assert len(files) == 4
    for path in files:
        parts = os.path.relpath(path, dumps).split(os.sep)
        assert len(parts[0]) == 14 and parts[0].isdigit()          # {time}
        assert parts[1:5] == ["0", "net", "1", "0"]                # device, model, id, iteration
        op_type, op_name, task_id, stamp = parts[5].split(".")
        assert len(stamp) == 16
        node = model.graph.node[int(task_id)]
        assert op_type == node.op_type and op_name == node.name.replace("/", "_")
        with np.load(path) as archive:
            keys = set(archive.files)
            expect = set()
            if mode in ("input", "all"):
                expect |= {f"input_{i}" for i in range(len(node.input))}
                for i, name in enumerate(node.input):
                    np.testing.assert_array_equal(archive[f"input_{i}"], reference[name])
            if mode in ("output", "all"):
                expect |= {"output_0"}
                np.testing.assert_array_equal(archive["output_0"], reference[node.output[0]])
            assert keys == expect


def test_layer_and_model_filters_and_iterations(tmp_path):
    _net(str(tmp_path / "net.onnx"))
    _net(str(tmp_path / "other.onnx"), name="other_graph")
    dumps = tmp_path / "dumps"
    _session(_json(tmp_path, {"dump_path": str(dumps),
                              "dump_list": [{"model_name": "net", "layer": ["relu"]},
                                            {"layer": ["add"]}]}))
    net, other = Runner(str(tmp_path / "net.onnx")), Runner(str(tmp_path / "other.onnx"))
    net.run()
    net.run()
    other.run()
    assert other.model_id == 2
    net.close()
    other.close()
    _end()
    names = sorted(os.path.relpath(p, dumps).split(os.sep, 1)[1].rsplit(".", 1)[0]
                   for p in _files(dumps))
    assert names == ["0/net/1/0/Add.add.1", "0/net/1/0/Relu.relu.2",
                     "0/net/1/1/Add.add.1", "0/net/1/1/Relu.relu.2",
                     "0/other/2/0/Add.add.1"]


def test_unselected_model_gets_no_recorder(tmp_path):
    _net(str(tmp_path / "net.onnx"))
    _session(_json(tmp_path, {"dump_path": str(tmp_path / "d"),
                              "dump_list": [{"model_name": "somebody_else"}]}))
    runner = Runner(str(tmp_path / "net.onnx"))
    from openacl.model.model import MODELS

    assert MODELS.get(runner.model_id).executor.dump is None
    runner.run()
    runner.close()
    _end()
    assert not (tmp_path / "d").exists()


def test_api_dump_and_finalize(tmp_path):
    model = _net(str(tmp_path / "net.onnx"))
    _session()
    config = _json(tmp_path, {"dump_path": str(tmp_path / "d"),
                              "dump_list": [{"model_name": "net", "layer": ["mul"]}],
                              "dump_mode": "output"}, "dump.json")
    assert acl.mdl.set_dump(config) == ACL_ERROR_DUMP_NOT_RUN
    assert acl.mdl.finalize_dump() == ACL_ERROR_DUMP_NOT_RUN
    assert acl.mdl.init_dump() == ACL_SUCCESS
    assert acl.mdl.init_dump() == ACL_ERROR_DUMP_ALREADY_RUN
    assert acl.mdl.set_dump(config) == ACL_SUCCESS
    runner = Runner(str(tmp_path / "net.onnx"))
    result = runner.run()
    assert acl.mdl.finalize_dump() == ACL_SUCCESS
    runner.run()                                          # no dump after finalize_dump
    runner.close()
    _end()
    files = _files(tmp_path / "d")
    assert len(files) == 1 and os.path.basename(files[0]).startswith("Mul.mul.3.")
    with np.load(files[0]) as archive:
        np.testing.assert_array_equal(archive["output_0"], result)
        np.testing.assert_array_equal(archive["output_0"], _reference(model, {"x": X})["y"])


def test_callback_chunks(tmp_path, monkeypatch):
    import openacl.dump.state as state

    monkeypatch.setattr(state, "CHUNK_BYTES", 100)
    _net(str(tmp_path / "net.onnx"))
    _session()
    chunks = []

    def callback(chunk):
        data = ctypes.string_at(chunk["data_buf"], chunk["buf_len"])
        chunks.append(dict(chunk, data=data))

    assert acl.mdl.dump_reg_callback(callback, 1) == ACL_ERROR_INVALID_PARAM
    assert acl.mdl.dump_reg_callback(callback, 0) == ACL_SUCCESS
    assert acl.mdl.init_dump() == ACL_SUCCESS             # no set_dump: every layer, outputs
    runner = Runner(str(tmp_path / "net.onnx"))
    result = runner.run()
    assert acl.mdl.dump_unreg_callback() is None
    assert acl.mdl.finalize_dump() == ACL_SUCCESS
    runner.close()
    _end()
    assert not (tmp_path / "dumps").exists()
    files = {}
    for chunk in chunks:
        assert set(chunk) == {"file_name", "data_buf", "buf_len", "is_last_chunk", "offset",
                              "flag", "data"}
        assert chunk["flag"] == 0 and chunk["buf_len"] <= 100
        assembled = files.setdefault(chunk["file_name"], bytearray())
        assert chunk["offset"] == len(assembled)
        assembled += chunk["data"]
    assert len(files) == 4
    lasts = [c["file_name"] for c in chunks if c["is_last_chunk"]]
    assert sorted(lasts) == sorted(files)
    mul = next(data for name, data in files.items() if ".mul." in name)
    import io

    with np.load(io.BytesIO(bytes(mul))) as archive:
        np.testing.assert_array_equal(archive["output_0"], result)


def test_init_dump_codes(tmp_path):
    assert acl.mdl.init_dump() == ACL_ERROR_UNINITIALIZE
    _session(_json(tmp_path, {"dump_path": str(tmp_path / "d"),
                              "dump_list": [{"model_name": "net"}]}))
    assert acl.mdl.init_dump() == ACL_ERROR_DUMP_ALREADY_RUN
    _end()


@pytest.mark.parametrize("text, code", [
    ('{"dump": {"dump_mode": "sideways"}}', ACL_ERROR_INVALID_DUMP_CONFIG),
    ('{"dump": {"dump_list": [{"model_name": "m"}]}}', ACL_ERROR_INVALID_DUMP_CONFIG),
    ('{"dump": {"dump_path": "/tmp", "dump_list": [3]}}', ACL_ERROR_INVALID_DUMP_CONFIG),
    ('{"dump": {"dump_path": "/tmp", "dump_list": [{"layer": [1]}]}}',
     ACL_ERROR_INVALID_DUMP_CONFIG),
    ('{"dump": {"dump_path": "/tmp", "dump_list": [{}]}}', ACL_ERROR_INVALID_DUMP_CONFIG),
    ('{"dump": {"dump_path": "/tmp", "dump_op_switch": "maybe"}}', ACL_ERROR_INVALID_DUMP_CONFIG),
    ('{"dump": []}', ACL_ERROR_INVALID_DUMP_CONFIG),
    ('{"dump": ', ACL_ERROR_PARSE_FILE),
])
def test_bad_configs(tmp_path, text, code):
    path = tmp_path / "bad.json"
    path.write_text(text)
    assert acl.init(str(path)) == code
    _session()
    assert acl.mdl.init_dump() == ACL_SUCCESS
    assert acl.mdl.set_dump(str(path)) == code
    assert acl.mdl.set_dump(str(tmp_path / "missing.json")) == ACL_ERROR_INVALID_FILE
    assert acl.mdl.finalize_dump() == ACL_SUCCESS
    _end()


def test_dump_compare_cli(tmp_path, capsys):
    _net(str(tmp_path / "net.onnx"))
    for name, x in (("a", X), ("b", X), ("c", X * np.float32(1.5))):
        _session(_json(tmp_path, {"dump_path": str(tmp_path / name),
                                  "dump_list": [{"model_name": "net"}]}))
        runner = Runner(str(tmp_path / "net.onnx"))
        runner.run(x)
        runner.close()
        _end()
    assert compare_main([str(tmp_path / "a"), str(tmp_path / "b"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [op["op_name"] for op in report["operators"]] == ["layer_mm", "add", "relu", "mul"]
    assert report["first_past_tolerance"] is None
    assert all(t["max_abs"] == 0.0 for op in report["operators"] for t in op["tensors"])
    assert compare_main([str(tmp_path / "c"), str(tmp_path / "a"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["first_past_tolerance"]["op_name"] == "layer_mm"
    assert compare_main([str(tmp_path / "c"), str(tmp_path / "a")]) == 0
    assert "first operator past tolerance: layer_mm" in capsys.readouterr().out
    assert compare_main([str(tmp_path / "nowhere"), str(tmp_path / "a")]) == 2
