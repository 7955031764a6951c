"""The tiny ONNX models the fuzzer loads, and their onnxruntime references."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass, field

import numpy as np
import onnx
import onnx.helper as helper
import onnxruntime as ort
from onnx import TensorProto as T
from onnx import numpy_helper

__all__ = ["Net", "NETS", "NOT_A_MODEL", "CONFIGS"]


@dataclass
class Net:
    """One model: its bytes, a file holding them, its I/O and an onnxruntime reference."""

    name: str
    proto: onnx.ModelProto
    inputs: list[tuple[str, tuple[int, ...]]]      # float32 tensors: (name, shape)
    outputs: list[tuple[str, tuple[int, ...]]]
    data: bytes = b""
    path: str = ""
    _session: ort.InferenceSession | None = field(default=None, repr=False)

    @property
    def input_sizes(self) -> list[int]:
        return [4 * int(np.prod(shape)) for _, shape in self.inputs]

    @property
    def output_sizes(self) -> list[int]:
        return [4 * int(np.prod(shape)) for _, shape in self.outputs]

    def reference(self, raw_inputs: list[bytes]) -> list[bytes]:
        """Run the ONNX in onnxruntime directly on the inputs' raw bytes."""
        if self._session is None:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            self._session = ort.InferenceSession(self.data, options,
                                                 providers=["CPUExecutionProvider"])
        feeds = {name: np.frombuffer(raw, np.float32).reshape(shape).copy()
                 for (name, shape), raw in zip(self.inputs, raw_inputs)}
        results = self._session.run([name for name, _ in self.outputs], feeds)
        return [np.ascontiguousarray(r, np.float32).tobytes() for r in results]


def _model(nodes, inputs, outputs, initializers=(), name="fuzz") -> onnx.ModelProto:
    v = helper.make_tensor_value_info
    graph = helper.make_graph(nodes, name, [v(n, T.FLOAT, list(s)) for n, s in inputs],
                              [v(n, T.FLOAT, list(s)) for n, s in outputs],
                              initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _affine() -> Net:
    """y = x * 2 + 1 on [4, 16] (256 bytes: larger than the 64 bytes of size slack)."""
    two = numpy_helper.from_array(np.array(2.0, np.float32), "two")
    one = numpy_helper.from_array(np.array(1.0, np.float32), "one")
    nodes = [helper.make_node("Mul", ["x", "two"], ["doubled"]),
             helper.make_node("Add", ["doubled", "one"], ["y"])]
    io_in, io_out = [("x", (4, 16))], [("y", (4, 16))]
    return Net("affine", _model(nodes, io_in, io_out, [two, one], "affine"), io_in, io_out)


def _matmul() -> Net:
    """c = a @ b + bias, with a [4, 8], b [8, 4]: two inputs, one output."""
    bias = numpy_helper.from_array(np.arange(4, dtype=np.float32) / 4, "bias")
    nodes = [helper.make_node("MatMul", ["a", "b"], ["product"]),
             helper.make_node("Add", ["product", "bias"], ["c"])]
    io_in, io_out = [("a", (4, 8)), ("b", (8, 4))], [("c", (4, 4))]
    return Net("matmul", _model(nodes, io_in, io_out, [bias], "matmul"), io_in, io_out)


def _build() -> tuple[list[Net], str]:
    folder = tempfile.mkdtemp(prefix="openacl-fuzz-")
    atexit.register(shutil.rmtree, folder, True)
    garbage = os.path.join(folder, "not_a_model.onnx")
    with open(garbage, "wb") as handle:
        handle.write(b"\x08\x07 this is not an ONNX model \xff\xfe")
    nets = []
    for net in (_affine(), _matmul()):
        net.data = net.proto.SerializeToString()
        net.path = os.path.join(folder, f"{net.name}.onnx")
        with open(net.path, "wb") as handle:
            handle.write(net.data)
        nets.append(net)
    configs = {"": ("", 0), "missing": (os.path.join(folder, "missing.json"), 100003),
               "folder": (folder, 100003)}
    for name, text, code in (("empty", "", 0), ("object", "{}", 0),
                             ("per_thread", '{"err_msg_mode": "0"}', 0),
                             ("not_json", "{not json", 100006), ("list", "[1, 2]", 100006),
                             ("bad_mode", '{"err_msg_mode": "2"}', 100000)):
        path = os.path.join(folder, f"acl_{name}.json")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        configs[name] = (path, code)
    return nets, garbage, configs


# acl.init configuration files: name -> (path, the code acl.init answers when not initialized)
NETS, NOT_A_MODEL, CONFIGS = _build()
