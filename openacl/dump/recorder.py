"""One model's dump: the selected operators' tensors, exposed by a dump-specific session.

When a dump config selects a model (at load), ``attach`` builds a second engine session on
the same graph, with every tensor the selected operators read or write (per ``dump_mode``)
added as a graph output, on the model's own engine and precision (exact ONNX Runtime if
that engine refuses the exposed graph). After each execution the executor calls
``record(bound)``: the dump session runs on copies of the execution's inputs, and each
selected operator's tensors are written as one file (docs/dump.md). The program's own
session, binding and results are untouched; a model no config selects gets no recorder.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
import time

import numpy as np
import onnx
from onnx import numpy_helper

from openacl.model.exposed import with_outputs
from openacl.runtime.pointers import raw_array

__all__ = ["ModelDump", "file_name"]

log = logging.getLogger("openacl")

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def file_name(op_type: str, op_name: str, task_id: int, timestamp: int) -> str:
    """``{op_type}.{op_name}.{task_id}.{timestamp}``; characters outside A-Za-z0-9_- become _."""
    return f"{_UNSAFE.sub('_', op_type)}.{_UNSAFE.sub('_', op_name)}.{task_id}.{timestamp}"


class ModelDump:
    """The dump of one loaded model: which nodes, its dump session, where files go."""

    def __init__(self, model, layers: frozenset[str], mode: str, dump_path: str,
                 started: str, sink):
        self.model_id = model.model_id
        self.model_name = model_names(model)[0]
        self.mode = mode
        self.sink = sink                      # DumpState.deliver(path, data)
        source, graph = _graph_that_runs(model)
        # The rewrite keeps the model's operators in order and gives the casts it inserts
        # names no operator has: the operators as they run, paired with the model's.
        names = {node.name for node in source.graph.node}
        running = [node for node in graph.graph.node if node.name in names]
        # (task id, the model's operator, the tensors it reads as it runs, those it writes):
        # under the npu rewrite an operator reads rounded copies of its inputs, and its
        # outputs keep their names and hold the rounded values, as on the NPU.
        self.nodes = [(task_id, node, list(runs.input), list(node.output))
                      for task_id, (node, runs) in enumerate(zip(source.graph.node, running))
                      if not layers or node.name in layers]
        self.initializers = {t.name: t for t in graph.graph.initializer}
        self.graph_inputs = {v.name for v in graph.graph.input} - set(self.initializers)
        wanted = []
        for _, _, reads, writes in self.nodes:
            names = (reads if mode in ("input", "all") else []) + \
                    (writes if mode in ("output", "all") else [])
            for name in names:
                if name and name not in self.initializers and name not in self.graph_inputs \
                        and name not in wanted:
                    wanted.append(name)
        self.exposed = wanted
        self.session = _open(model, with_outputs(graph, wanted)) if wanted else None
        device = model.context.device.index if model.context is not None else 0
        self.folder = os.path.join(dump_path, started, str(device), self.model_name,
                                   str(self.model_id))
        self.iteration = 0
        self._weights: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self.description = model.description

    # ------------------------------------------------------------------ per execution
    def record(self, bound) -> None:
        """Dump the selected operators of the execution ``bound`` just ran."""
        feeds = self._inputs(bound)
        values = dict(feeds)
        if self.session is not None:
            binding = self.session.new_binding()
            for name, array in feeds.items():
                binding.bind_input(name, array.dtype, array.shape, array.ctypes.data)
            for name in self.exposed:
                binding.bind_output_to_engine(name)
            self.session.run(binding)
            values.update(zip(self.exposed, binding.engine_outputs()))
        with self._lock:
            iteration, self.iteration = self.iteration, self.iteration + 1
        folder = os.path.join(self.folder, str(iteration))
        for task_id, node, reads, writes in self.nodes:
            arrays = {}
            if self.mode in ("input", "all"):
                for i, name in enumerate(reads):
                    if name:
                        arrays[f"input_{i}"] = self._value(name, values)
            if self.mode in ("output", "all"):
                for i, name in enumerate(writes):
                    if name:
                        arrays[f"output_{i}"] = values[name]
            buffer = io.BytesIO()
            np.savez(buffer, **arrays)
            stamp = time.time_ns() // 1000               # 16 digits: microseconds
            path = os.path.join(folder, file_name(node.op_type, node.name, task_id, stamp))
            self.sink(path, buffer.getvalue())

    def _inputs(self, bound) -> dict[str, np.ndarray]:
        """Copies of this execution's graph inputs, read from the program's buffers."""
        by_name = {t.name: (i, t) for i, t in enumerate(self.description.inputs)}
        feeds = {}
        for name, shape in bound.inputs:
            index, tensor = by_name[name]
            dtype = tensor.dtype                   # bfloat16 models are not dumped (docs)
            count = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            buffer = bound.input_set.buffers[index]
            if buffer.size == 0 or count == 0:
                feeds[name] = np.zeros(shape, dtype)
                continue
            feeds[name] = raw_array(buffer.address, shape, dtype).copy()
        return feeds

    def _value(self, name: str, values: dict) -> np.ndarray:
        if name in values:
            return values[name]
        array = self._weights.get(name)
        if array is None:
            array = self._weights[name] = numpy_helper.to_array(self.initializers[name])
        return array

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


def model_names(model) -> tuple[str, ...]:
    """The names a dump_list ``model_name`` may give: the file name without its extension
    (first), then the graph's name."""
    names = []
    origin = model.offline.origin
    if origin and not origin.startswith("<"):
        names.append(os.path.splitext(os.path.basename(origin))[0])
    if model.offline.proto.graph.name:
        names.append(model.offline.proto.graph.name)
    return tuple(names) or (f"model{model.model_id}",)


def _graph_that_runs(model) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """(the model's graph, the graph its engine runs): the same graph, or under the npu
    rewrite the rounded one, whose inserted casts are not the model's operators and are
    not dumped. Unnamed operators are named ``node{task id}`` in both, to pair them."""
    source = onnx.ModelProto()
    source.CopyFrom(model.offline.proto)
    for task_id, node in enumerate(source.graph.node):
        if not node.name:
            node.name = f"node{task_id}"
    if getattr(model.precision, "rewrite", False):
        from openacl.precision.npu_numerics import npu_model

        record = model.offline.record
        return source, npu_model(source, record.precision, record.soc_version)
    return source, source


def _open(model, data: bytes):
    """The dump session: the model's engine and precision, else exact ONNX Runtime."""
    from openacl.engines.base import get_engine

    choice = model.precision
    try:
        return get_engine(choice.engine).load(data, choice.precision)
    except Exception as error:  # noqa: BLE001 - any refusal falls back to exact
        log.warning("model %s: dump session falls back to onnxruntime f32: %s",
                    model.model_id, error)
        return get_engine("onnxruntime").load(data, "f32")

