"""Corrupt-model fuzzing: mutate atc-built .om files and check what every loader does with them.

Used by ``tests/model/test_corrupt_models.py`` (hypothesis, a bounded number of examples) and
by ``scripts/fuzz_model_files.py`` (long campaigns from a random seed). Both draw their choices
through a :class:`Chooser`, so one set of mutations serves both.

The property (:func:`check_model_bytes`): every loader (file, memory, with program memory,
descriptions, size queries) returns plain-int codes from the documented set, never 500000
and never an exception; a refused record names the field it refused; a model that loads
executes with correctly sized device buffers and either matches onnxruntime run directly on
the same graph and the same bytes (the independent reference), or returns a documented code;
and nothing is left behind.
"""

from __future__ import annotations

import json
import math
import os
import random
import dataclasses
from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto as T
from onnx import numpy_helper

import acl
from openacl.runtime import RUNTIME
from openacl.runtime.handles import handles

__all__ = ["build_corpus", "Mutant", "MUTATIONS", "RandomChooser", "DataChooser",
           "check_model_bytes", "LOAD_CODES", "EXECUTE_CODES", "RECORD_KEY"]

RECORD_KEY = "openacl.om"
ACL_ERROR_INTERNAL_ERROR = 500000
# What a loader may answer for a model file: GE's "bad parameter" (a corrupt file or record,
# a graph the engine refuses), "not the format this openacl reads" (format_version).
LOAD_CODES = {0, 145000, 100012}
# What execute may answer for a model that loaded: a bad dataset or buffer for this model,
# a shape outside its range, the engine's failure to run it.
EXECUTE_CODES = {0, 145000, 145007, 145021, 507011}
_EXECUTE_LIMIT = 64 << 20          # bytes of buffers one execution may take
_UNKNOWN_OUTPUT = 1 << 20          # buffer for an output whose size is known only at run time
_MEMCPY_H2D, _MEMCPY_D2H = 1, 2
_DYNAMIC_TENSOR = "ascend_mbatch_shape_data"
_DYNAMIC_AIPP = "ascend_dynamic_aipp_data"
_RGB888_U8 = 3


# ------------------------------------------------------------------------ corpus

def build_corpus(folder) -> dict[str, str]:
    """Convert the model kinds with openacl's own atc; return {kind: .om path}."""
    from openacl.atc import convert
    from tests.model import builders, gear_models
    from tests.model.test_aipp import config_text, identity

    folder = str(folder)

    def atc(model, name, *flags):
        source = os.path.join(folder, f"{name}.onnx")
        if model is not None:
            onnx.save(model, source)
        return convert([f"--model={source}", "--framework=5",
                        f"--output={os.path.join(folder, name)}", "--soc_version=Ascend310P3",
                        *flags], on_warning=lambda message: None)

    with open(os.path.join(folder, "aipp.cfg"), "w") as file:
        file.write(config_text({"input_format": "YUV420SP_U8", "src_image_size_w": 8,
                                "src_image_size_h": 6, "csc_switch": True,
                                "matrix": [298, 516, 0, 298, -100, -208, 298, 0, 409],
                                "input_bias": [16, 128, 128], "mean_chn": [10, 20, 30, 0]}))
    identity(os.path.join(folder, "aipp.onnx"), [1, 3, 6, 8])
    with open(os.path.join(folder, "dynamic.cfg"), "w") as file:
        file.write("aipp_op { aipp_mode: dynamic max_src_image_size: 1024 }\n")
    return {
        "static": atc(builders.classifier(classes=10, size=8), "static"),
        "batch": atc(gear_models.batch_model()[0], "batch", "--input_shape=x:-1,3,4,4",
                     "--dynamic_batch_size=1,2,4"),
        "dims": atc(gear_models.dims_model()[0], "dims", "--input_shape=a:-1,4;b:-1",
                    "--dynamic_dims=1,2;3,5", "--input_format=ND"),
        "range": atc(gear_models.range_model()[0], "range", "--input_shape_range=x:[1~16,3]"),
        "aipp": atc(None, "aipp", f"--insert_op_conf={os.path.join(folder, 'aipp.cfg')}"),
        "aipp_dynamic": _dynamic_aipp(atc, folder),
    }


def _dynamic_aipp(atc, folder: str) -> str:
    """The AIPP source converted with dynamic AIPP (parameters from a buffer at run time)."""
    os.replace(os.path.join(folder, "aipp.onnx"), os.path.join(folder, "aipp_dynamic.onnx"))
    return atc(None, "aipp_dynamic", f"--insert_op_conf={os.path.join(folder, 'dynamic.cfg')}")


# ------------------------------------------------------------------------ choices

class RandomChooser:
    """Choices from a seeded ``random.Random`` (the campaign script)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def choice(self, options):
        return options[self.rng.randrange(len(options))]

    def binary(self, low: int, high: int) -> bytes:
        return self.rng.randbytes(self.rng.randint(low, high))


class DataChooser:
    """Choices drawn from hypothesis's ``st.data()`` (so failures shrink)."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(self.st.integers(low, high))

    def choice(self, options):
        return self.data.draw(self.st.sampled_from(list(options)))

    def binary(self, low: int, high: int) -> bytes:
        return self.data.draw(self.st.binary(min_size=low, max_size=high))


# ------------------------------------------------------------------------ mutations

@dataclass
class Mutant:
    """Mutated model bytes; ``field``: the record field a refusal must name (if any);
    ``files``: side files (external data) to write next to the model, by relative path."""

    data: bytes
    what: str
    field: str | None = None
    files: dict = dataclasses.field(default_factory=dict)


def truncate(data: bytes, choose) -> Mutant:
    cut = choose.integer(0, len(data) - 1)
    return Mutant(data[:cut], f"truncated at {cut} of {len(data)} bytes")


def flip_bits(data: bytes, choose) -> Mutant:
    out = bytearray(data)
    flips = [(choose.integer(0, len(data) - 1), choose.integer(0, 7))
             for _ in range(choose.integer(1, 8))]
    for position, bit in flips:
        out[position] ^= 1 << bit
    return Mutant(bytes(out), f"bits flipped at {flips}")


def overwrite(data: bytes, choose) -> Mutant:
    start = choose.integer(0, len(data) - 1)
    noise = choose.binary(1, 16)
    return Mutant(data[:start] + noise + data[start + len(noise):],
                  f"{noise!r} written at {start}")


def magic(data: bytes, choose) -> Mutant:
    head = choose.choice([b"IMOD", b"IMOD\x00\x00\x00\x00", b"\x00\x00\x00\x00", b"\x7fELF",
                          b"PK\x03\x04", b"\xff\xff\xff\xff"])
    if choose.choice([True, False]):
        return Mutant(head + data, f"{head!r} prepended")
    return Mutant(head + data[len(head):], f"first bytes replaced by {head!r}")


def noise(data: bytes, choose) -> Mutant:
    return Mutant(choose.binary(1, 512), "random bytes")


def invalid_utf8(data: bytes, choose) -> Mutant:
    """A byte of some string (the metadata JSON, a tensor or node name) replaced by one that
    cannot be UTF-8; lengths stay the same, so the protobuf still parses."""
    text = choose.choice(_strings(data)).encode()
    start = data.find(text)
    position = start + choose.integer(0, len(text) - 1)
    byte = choose.choice([0x80, 0xBF, 0xC0, 0xC3, 0xED, 0xF8, 0xFF])
    return Mutant(data[:position] + bytes([byte]) + data[position + 1:],
                  f"byte {position - start} of {text[:40]!r} replaced by {byte:#x}")


# Values that are wrong somewhere in every record: types, signs, sizes, names.
NASTY = [None, True, False, 0, -1, -7, 1, 3, 2**31, 2**63, -2**63, 10**30, 1.5, -0.5,
         float("nan"), float("inf"), "", "x", "NC1HWC0", "nchw", "FP32", "batch", "dims",
         "static", "dynamic", "data", "\u00e9\u0000", [], [[]], [-1], [0], [1, 2], [[1], [2, 3]],
         [[-1]], [[0, 0]], {}, {"x": [1]}, {"kind": "dims"}, {"gears": [[1]]}]


def mutate_record(data: bytes, choose) -> Mutant:
    """One edit of the JSON record: replace, delete, add or drop something at some path."""
    record = json.loads(_record_text(data))
    paths = list(_paths(record))
    path = choose.choice(paths)
    operation = choose.choice(["replace", "replace", "delete", "add_key", "drop_item",
                               "append_item", "nest"])
    parent, key = _walk(record, path[:-1]), path[-1] if path else None
    if operation == "nest":                 # deeply nested JSON: a recursion bomb
        depth = choose.choice([100, 5000, 100000])
        text = json.dumps(record).replace('"format_version"',
                                          '"deep": ' + "[" * depth + "]" * depth +
                                          ', "format_version"', 1)
        return Mutant(_with_record_text(data, text), f"JSON nested {depth} deep", None)
    if not path:
        operation = "add_key"
    value = _walk(record, path)
    if operation == "delete" and isinstance(parent, (dict, list)):
        del parent[key]
    elif operation == "add_key" and isinstance(value, dict):
        value[choose.choice(["unknown", "x", "data", "a", "zz", ""])] = choose.choice(NASTY)
    elif operation == "drop_item" and isinstance(value, list) and value:
        del value[choose.integer(0, len(value) - 1)]
    elif operation == "append_item" and isinstance(value, list):
        value.append(choose.choice([*(value[:1] * 2), *NASTY]))
    else:
        operation = "replace"
        replacement = choose.choice(NASTY)
        if path:
            parent[key] = replacement
        else:
            record = replacement
    shown = ".".join(str(p) for p in path) or "the record"
    return Mutant(_with_record_text(data, json.dumps(record)), f"record {operation} at {shown}",
                  str(path[0]) if path else None)


_ELEM_TYPES = [T.BFLOAT16, T.STRING, T.FLOAT16, T.DOUBLE, T.UNDEFINED, T.COMPLEX64, T.INT4,
               T.FLOAT8E4M3FN, T.UINT64, T.BOOL, 77]


def mutate_graph(data: bytes, choose) -> Mutant:
    """One edit of the ONNX graph that leaves the record as it was (so they disagree)."""
    proto = onnx.ModelProto()
    proto.ParseFromString(data)
    graph = proto.graph
    values = [*graph.input, *graph.output]
    value = choose.choice(values)
    operation = choose.choice(["dim", "dim", "elem_type", "rank", "rename", "drop_input",
                               "drop_output", "op_type", "opset", "drop_initializer"])
    dims = value.type.tensor_type.shape.dim
    if operation == "dim" and len(dims):
        axis = choose.integer(0, len(dims) - 1)
        size = choose.choice([-5, -1, 0, 1, 2, 7, 2**31, 2**40, 2**62])
        dims[axis].Clear()
        dims[axis].dim_value = size
        what = f"{value.name} axis {axis} = {size}"
    elif operation == "elem_type":
        elem = choose.choice(_ELEM_TYPES)
        value.type.tensor_type.elem_type = elem
        what = f"{value.name} type {elem}"
    elif operation == "rank":
        dims.add().dim_value = 1
        what = f"{value.name} gets an extra axis"
    elif operation == "rename":
        value.name = value.name + "_renamed"
        what = f"{value.name} renamed"
    elif operation == "drop_input" and len(graph.input) > 0:
        del graph.input[choose.integer(0, len(graph.input) - 1)]
        what = "an input removed"
    elif operation == "drop_output" and len(graph.output) > 1:
        del graph.output[choose.integer(0, len(graph.output) - 1)]
        what = "an output removed"
    elif operation == "op_type" and len(graph.node):
        node = graph.node[choose.integer(0, len(graph.node) - 1)]
        node.op_type = choose.choice(["Bogus", "Relu", "Identity", "Cast", "Loop"])
        what = f"node {node.name or node.output[0]} op {node.op_type}"
    elif operation == "opset":
        proto.opset_import[0].version = choose.choice([1, 5, 9, 99, 10**6])
        what = f"opset {proto.opset_import[0].version}"
    elif operation == "drop_initializer" and len(graph.initializer):
        del graph.initializer[choose.integer(0, len(graph.initializer) - 1)]
        what = "an initializer removed"
    else:
        what = "unchanged"
    return Mutant(proto.SerializeToString(), f"graph: {what}")


_VALID_LOCATIONS = ["w.bin", "sub/w.bin", "./w.bin", "sub/../w.bin"]
_BAD_LOCATIONS = ["../w.bin", "../../../../../../etc/passwd", "/etc/passwd", "", ".", "sub",
                  "w.bin\x00.txt", "sub/../../w.bin", "missing.bin", "C:\\w.bin", "~/w.bin"]


def externalize(data: bytes, choose) -> Mutant:
    """Some weights moved to an external data file; its location and extent maybe wrong."""
    proto = onnx.ModelProto()
    proto.ParseFromString(data)
    weights = [t for t in proto.graph.initializer if t.data_type != T.STRING]
    if not weights:
        return Mutant(data, "no weights to move")
    count = choose.integer(1, len(weights))
    location = choose.choice(_VALID_LOCATIONS + _BAD_LOCATIONS)
    stored = location if location in _VALID_LOCATIONS else "w.bin"
    blob = bytearray()
    for tensor in weights[:count]:
        raw = numpy_helper.to_array(tensor).tobytes()
        offset, length = str(len(blob)), str(len(raw))
        blob += raw
        edit = choose.choice(["none", "none", "offset", "length", "no_length"])
        if edit == "offset":
            offset = choose.choice(["-1", "x", str(10**12), str(len(blob))])
        elif edit == "length":
            length = choose.choice(["0", str(len(raw) + 1), str(len(raw) - 1), "1e3"])
        for name in ("raw_data", "float_data", "int32_data", "int64_data", "double_data",
                     "uint64_data"):
            tensor.ClearField(name)
        entries = {"location": location, "offset": offset}
        if edit != "no_length":
            entries["length"] = length
        for key, value in entries.items():
            tensor.external_data.add(key=key, value=value)
        tensor.data_location = T.EXTERNAL
    return Mutant(proto.SerializeToString(), f"{count} weight(s) in [{location!r}]",
                  files={os.path.normpath(stored): bytes(blob)})


MUTATIONS = {"truncate": truncate, "flip_bits": flip_bits, "overwrite": overwrite,
             "magic": magic, "noise": noise, "invalid_utf8": invalid_utf8,
             "record": mutate_record, "graph": mutate_graph, "external": externalize}


def _strings(data: bytes) -> list[str]:
    """The model's metadata values and tensor, node and graph names (long enough to find)."""
    proto = onnx.ModelProto()
    proto.ParseFromString(data)
    graph = proto.graph
    names = [entry.value for entry in proto.metadata_props]
    names += [value.name for value in (*graph.input, *graph.output, *graph.initializer)]
    names += [node.name for node in graph.node] + [graph.name]
    return [name for name in names if len(name) >= 2] or [graph.name or "x"]


def _record_text(data: bytes) -> str:
    proto = onnx.ModelProto()
    proto.ParseFromString(data)
    return next(entry.value for entry in proto.metadata_props if entry.key == RECORD_KEY)


def _with_record_text(data: bytes, text: str) -> bytes:
    proto = onnx.ModelProto()
    proto.ParseFromString(data)
    for entry in proto.metadata_props:
        if entry.key == RECORD_KEY:
            entry.value = text
    return proto.SerializeToString()


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _walk(value, path):
    for key in path:
        value = value[key]
    return value


# ------------------------------------------------------------------------ the property

class Calls:
    """Facade calls with their results checked: plain ints, documented codes, no exception."""

    def __init__(self):
        self.problems: list[str] = []
        self.messages: list[str] = []
        self.codes: list[tuple[str, int]] = []      # (call, code) of every checked call

    def call(self, name: str, function, *args, codes=LOAD_CODES):
        try:
            result = function(*args)
        except Exception as error:  # noqa: BLE001 - the property: nothing escapes
            self.problems.append(f"{name} raised {type(error).__name__}: {error}")
            return None, None
        values = result if isinstance(result, tuple) else (result,)
        code = values[-1]
        if type(code) is not int:
            self.problems.append(f"{name} returned {result!r}: the code is not a plain int")
            return None, None
        self.codes.append((name, code))
        if code != 0:
            message = acl.get_recent_err_msg()
            self.messages.append(message)
            if code == ACL_ERROR_INTERNAL_ERROR or code not in codes:
                self.problems.append(f"{name} returned {code}: {message}")
            return None, code
        return (values[0] if len(values) == 2 else values[:-1]), 0


def check_model_bytes(mutant: Mutant, folder) -> Calls:
    """Feed the mutant to every loader; ``.problems`` lists what broke the property."""
    path = os.path.join(str(folder), "mutant.om")
    with open(path, "wb") as file:
        file.write(mutant.data)
    for name, content in mutant.files.items():
        os.makedirs(os.path.dirname(os.path.join(str(folder), name)), exist_ok=True)
        with open(os.path.join(str(folder), name), "wb") as file:
            file.write(content)
    try:
        return _check(mutant, path)
    finally:
        for name in mutant.files:
            os.remove(os.path.join(str(folder), name))


def _check(mutant: Mutant, path: str) -> Calls:
    before = (RUNTIME.leak_report(), len(handles.live()))
    calls = Calls()
    data = mutant.data
    pointer = acl.util.bytes_to_ptr(data) if data else 0    # `data` stays alive: borrowed
    size = len(data)

    sizes, code = calls.call("query_size", acl.mdl.query_size, path)
    calls.call("query_size_from_mem", acl.mdl.query_size_from_mem, pointer, size,
               codes=LOAD_CODES | {100000} if not size else LOAD_CODES)
    desc = acl.mdl.create_desc()
    calls.call("get_desc_from_file", acl.mdl.get_desc_from_file, desc, path)
    calls.call("get_desc_from_mem", acl.mdl.get_desc_from_mem, desc, pointer, size,
               codes=LOAD_CODES | {100000} if not size else LOAD_CODES)
    acl.mdl.destroy_desc(desc)
    loads = [("load_from_file", lambda: acl.mdl.load_from_file(path))]
    if size:
        loads.append(("load_from_mem", lambda: acl.mdl.load_from_mem(pointer, size)))
    memory = []
    if code == 0:
        work, weight = sizes
        memory = [acl.rt.malloc(max(work, 1), 0)[0], acl.rt.malloc(max(weight, 1), 0)[0]]
        loads.append(("load_from_file_with_mem", lambda: acl.mdl.load_from_file_with_mem(
            path, memory[0], max(work, 1), memory[1], max(weight, 1))))
        if size:
            loads.append(("load_from_mem_with_mem", lambda: acl.mdl.load_from_mem_with_mem(
                pointer, size, memory[0], max(work, 1), memory[1], max(weight, 1))))
    for name, load in loads:
        model_id, code = calls.call(name, load)
        if code == 0 and mutant.files and name.startswith("load_from_mem"):
            calls.problems.append(f"{name} loaded a model whose weights are in a file")
        if code == 0:
            try:
                _execute(model_id, _reference_bytes(mutant, path), calls, name)
            finally:
                calls.call("unload", acl.mdl.unload, model_id, codes={0})
    for pointer in memory:
        acl.rt.free(pointer)

    if mutant.field is not None:
        for message in calls.messages:
            if "145000" in message and mutant.field not in message:
                calls.problems.append(f"a refusal of the record does not name "
                                      f"{mutant.field!r}: {message}")
    after = (RUNTIME.leak_report(), len(handles.live()))
    if after != before:
        calls.problems.append(f"left behind: {before} -> {after}")
    return calls


# ------------------------------------------------------------------------ execution

# aclDataType -> numpy, written out here (not openacl's table): the reference is independent.
_NUMPY = {0: np.float32, 1: np.float16, 2: np.int8, 3: np.int32, 4: np.uint8, 6: np.int16,
          7: np.uint16, 8: np.uint32, 9: np.int64, 10: np.uint64, 11: np.float64, 12: np.bool_}
_ORT_NUMPY = {"tensor(float)": np.float32, "tensor(float16)": np.float16,
              "tensor(double)": np.float64, "tensor(int8)": np.int8, "tensor(int16)": np.int16,
              "tensor(int32)": np.int32, "tensor(int64)": np.int64, "tensor(uint8)": np.uint8,
              "tensor(uint16)": np.uint16, "tensor(uint32)": np.uint32,
              "tensor(uint64)": np.uint64, "tensor(bool)": np.bool_}


class _Run:
    """The datasets of one execution and everything to release afterwards."""

    def __init__(self):
        self.pointers, self.buffers, self.descs, self.datasets = [], [], [], []

    def buffer(self, dataset, size: int) -> int:
        pointer = acl.rt.malloc(max(size, 1), 0)[0] if size else 0
        buffer = acl.create_data_buffer(pointer, size)
        self.pointers.append(pointer)
        self.buffers.append(buffer)
        acl.mdl.add_dataset_buffer(dataset, buffer)
        return pointer

    def release(self):
        for buffer in self.buffers:
            acl.destroy_data_buffer(buffer)
        for pointer in self.pointers:
            if pointer:
                acl.rt.free(pointer)
        for tensor_desc in self.descs:
            acl.destroy_tensor_desc(tensor_desc)
        for dataset in self.datasets:
            acl.mdl.destroy_dataset(dataset)


def _reference_bytes(mutant: Mutant, path: str) -> bytes:
    """The model for the reference: external data read by onnx's own loader (onnxruntime
    will not take shape constants such as axes from external files)."""
    if not mutant.files:
        return mutant.data
    return onnx.load(path).SerializeToString()


def _execute(model_id: int, model: bytes, calls: Calls, how: str) -> None:
    """Execute a loaded model on random inputs; compare with onnxruntime on the same graph."""
    desc = acl.mdl.create_desc()
    run = _Run()
    try:
        if calls.call("get_desc", acl.mdl.get_desc, desc, model_id, codes={0})[1] != 0:
            return
        inputs, outputs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
        run.datasets += [inputs, outputs]
        plan = _input_plan(desc, calls)
        if plan is None:
            return
        total = sum(nbytes for _, _, nbytes, _ in plan)
        output_sizes = [acl.mdl.get_output_size_by_index(desc, i)
                        for i in range(acl.mdl.get_num_outputs(desc))]
        total += sum(s or _UNKNOWN_OUTPUT for s in output_sizes)
        if total > _EXECUTE_LIMIT or any(s < 0 for s in output_sizes):
            return                        # a program could not allocate it either
        rng = np.random.default_rng(0)
        feeds = {}
        gear_index = None
        for index, (name, shape, nbytes, dtype) in enumerate(plan):
            pointer = run.buffer(inputs, nbytes)
            if name == _DYNAMIC_TENSOR:
                gear_index = index
                continue
            array = _random(rng, dtype, shape)
            payload = array.tobytes()[:nbytes]
            if payload:
                acl.rt.memcpy(pointer, nbytes, acl.util.bytes_to_ptr(payload), len(payload),
                              _MEMCPY_H2D)
            feeds[name] = array
            if _has_free_axes(desc, index):
                tensor_desc = acl.create_tensor_desc(acl.mdl.get_input_data_type(desc, index),
                                                     list(shape),
                                                     acl.mdl.get_input_format(desc, index))
                run.descs.append(tensor_desc)
                acl.mdl.set_dataset_tensor_desc(inputs, tensor_desc, index)
        output_pointers = [run.buffer(outputs, size or _UNKNOWN_OUTPUT) for size in output_sizes]
        for index, (name, _, _, _) in enumerate(plan):
            if name == _DYNAMIC_AIPP and not _set_dynamic_aipp(model_id, inputs, index, plan,
                                                               calls):
                return
        if gear_index is not None and not _choose_gear(model_id, desc, inputs, gear_index,
                                                       calls):
            return
        code = calls.call(f"execute ({how})", acl.mdl.execute, model_id, inputs, outputs,
                          codes=EXECUTE_CODES)[1]
        if code == 0:
            _compare(model, feeds, desc, output_pointers, output_sizes, calls, how)
    finally:
        run.release()
        acl.mdl.destroy_desc(desc)


def _input_plan(desc, calls):
    """(name, shape, bytes, dtype) per input, as a program computes them from the desc."""
    plan = []
    gear = _largest_gear(desc)
    for index in range(acl.mdl.get_num_inputs(desc)):
        name = acl.mdl.get_input_name_by_index(desc, index)
        dims = acl.mdl.get_input_dims_v2(desc, index)[0]["dims"]
        dtype = _NUMPY.get(acl.mdl.get_input_data_type(desc, index))
        size = acl.mdl.get_input_size_by_index(desc, index)
        if name in (_DYNAMIC_TENSOR, _DYNAMIC_AIPP):
            plan.append((name, (size,), size, np.uint8))
            continue
        if dtype is None:
            return None                   # no numpy type: such models must be refused at load
        if -1 in dims:
            if gear is not None:
                values = iter(gear.pop(name, []))
                dims = [next(values, 1) if d == -1 else d for d in dims]
            else:
                ranges = acl.mdl.get_input_dims_range(desc, index)[0]["range"]
                dims = [hi if hi >= 0 else max(lo, 1) for lo, hi in ranges] if ranges else \
                    [1 if d == -1 else d for d in dims]
        if any(d < 0 for d in dims):
            return None
        nbytes = math.prod(dims) * np.dtype(dtype).itemsize
        plan.append((name, tuple(dims), max(nbytes, size) if -1 not in dims else nbytes, dtype))
    return plan


def _largest_gear(desc):
    """{input name: the values of its -1 axes} for the gear the harness chooses (the last)."""
    batches = acl.mdl.get_dynamic_batch(desc)[0]["batch"]
    pairs = acl.mdl.get_dynamic_hw(desc, -1)[0]["hw"]
    count, _ = acl.mdl.get_input_dynamic_gear_count(desc, -1)
    names = [acl.mdl.get_input_name_by_index(desc, i)
             for i in range(acl.mdl.get_num_inputs(desc))]
    if batches:
        return {name: [batches[-1]] for name in names}
    if pairs:
        return {name: list(pairs[-1]) for name in names}
    if count:
        dims = acl.mdl.get_input_dynamic_dims(desc, -1, count)[0][-1]["dims"]
        values, gear = iter(dims), {}
        for index, name in enumerate(names):
            if name == _DYNAMIC_TENSOR:
                continue
            shape = acl.mdl.get_input_dims(desc, index)[0]["dims"]
            full = [next(values, 1) for _ in shape]
            gear[name] = [v for v, d in zip(full, shape) if d == -1]
        return gear
    return None


def _choose_gear(model_id, desc, inputs, index, calls) -> bool:
    batches = acl.mdl.get_dynamic_batch(desc)[0]["batch"]
    pairs = acl.mdl.get_dynamic_hw(desc, -1)[0]["hw"]
    count, _ = acl.mdl.get_input_dynamic_gear_count(desc, -1)
    codes = {0, 145013, 145012, 100000}
    if batches:
        result = calls.call("set_dynamic_batch_size", acl.mdl.set_dynamic_batch_size,
                            model_id, inputs, index, batches[-1], codes=codes)
    elif pairs:
        result = calls.call("set_dynamic_hw_size", acl.mdl.set_dynamic_hw_size, model_id,
                            inputs, index, *pairs[-1], codes=codes)
    elif count:
        dims = acl.mdl.get_input_dynamic_dims(desc, -1, count)[0][-1]
        result = calls.call("set_input_dynamic_dims", acl.mdl.set_input_dynamic_dims,
                            model_id, inputs, index, dims, codes=codes)
    else:
        return False
    return result[1] == 0


def _set_dynamic_aipp(model_id, inputs, index, plan, calls) -> bool:
    """Dynamic AIPP parameters as a program sets them: an RGB image of the corpus's 8x6."""
    batch = plan[0][1][0] if plan[0][1] else 1
    aipp = acl.mdl.create_aipp(batch)
    if not aipp:
        return False
    try:
        acl.mdl.set_aipp_input_format(aipp, _RGB888_U8)
        acl.mdl.set_aipp_src_image_size(aipp, 8, 6)
        return calls.call("set_input_aipp", acl.mdl.set_input_aipp, model_id, inputs, index,
                          aipp, codes={0, 145000, 100000})[1] == 0
    finally:
        acl.mdl.destroy_aipp(aipp)


def _has_free_axes(desc, index) -> bool:
    return (-1 in acl.mdl.get_input_dims(desc, index)[0]["dims"]
            and acl.mdl.get_input_dynamic_gear_count(desc, -1)[0] == 0
            and not acl.mdl.get_dynamic_batch(desc)[0]["batch"]
            and not acl.mdl.get_dynamic_hw(desc, -1)[0]["hw"])


def _random(rng, dtype, shape) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if dtype.kind in "iu":
        return rng.integers(0, 100, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _compare(model, feeds, desc, pointers, sizes, calls, how) -> None:
    """The outputs must equal onnxruntime's on the same graph and the same input bytes."""
    options = ort.SessionOptions()
    options.log_severity_level = 4                 # its warnings are not findings
    try:
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        if set(names) - set(feeds):
            return                           # inputs openacl feeds itself (dynamic AIPP)
        expected = session.run(None, {name: _as(feeds[name], session.get_inputs()[i])
                                      for i, name in enumerate(names)})
    except Exception as error:  # noqa: BLE001 - openacl ran what onnxruntime refuses
        calls.problems.append(f"execute ({how}) returned 0, but onnxruntime refuses the same "
                              f"graph and inputs: {type(error).__name__}: {error}")
        return
    for index, (reference, pointer, size) in enumerate(zip(expected, pointers, sizes)):
        reference = np.ascontiguousarray(reference)
        if size and reference.nbytes > size:
            calls.problems.append(f"execute ({how}): output {index} holds {reference.nbytes} "
                                  f"bytes, more than the {size} the desc reported")
            continue
        got = bytes(reference.nbytes)       # pyACL's way: copy into a bytes object
        if got:
            acl.rt.memcpy(acl.util.bytes_to_ptr(got), len(got), pointer, len(got), _MEMCPY_D2H)
        values = np.frombuffer(got, reference.dtype).reshape(reference.shape)
        if not np.array_equal(values, reference, equal_nan=reference.dtype.kind in "fc"):
            calls.problems.append(f"execute ({how}): output {index} differs from onnxruntime's")


def _as(array, spec) -> np.ndarray:
    """The feed as the reference graph declares it (same bytes; AIPP images are bytes)."""
    dtype = _ORT_NUMPY.get(spec.type, array.dtype)
    if np.dtype(dtype) == array.dtype:
        return array
    return np.frombuffer(array.tobytes(), dtype)[:math.prod(array.shape)].reshape(array.shape)
