"""Accuracy bisection: a model at its precision against float32, node by node.

``compare`` runs the model twice on the same inputs, once at the precision under test (the
``npu`` setting by default: the NPU's float16/bfloat16 rounding of the recorded mode, see
``openacl.precision.npu_numerics``; or ``fast``: the engine's half precision) and once in
exact float32 on ONNX Runtime, with every float32 tensor of the graph exposed as an
output. Each node's outputs are compared in topological order:

- ``max_abs``: the largest absolute difference;
- ``rel_err``: the relative Euclidean distance ``||x - ref|| / ||ref||``;
- ``cosine``: the cosine similarity of the two tensors (1.0: same direction);
- ``nonfinite``: elements that are inf/NaN at the precision under test but finite in
  float32 (a float16 overflow, for instance).

A node is *past tolerance* when any output has ``nonfinite`` elements, ``rel_err`` above
``rtol`` or ``cosine`` below ``min_cosine``; the first such node is where accuracy is lost.
The graph outputs' deltas close the report. Metric values that are not finite are reported
as None (null in JSON).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
from onnx import helper

from openacl.model.exposed import with_outputs
from openacl.precision.modes import DEFAULT_MODE, MODES

__all__ = ["compare", "CompareError", "Report", "NodeError", "TensorError", "RTOL",
           "MIN_COSINE", "tensor_error", "read_inputs", "random_inputs"]

RTOL = 0.01           # relative Euclidean distance past which a node is reported
MIN_COSINE = 0.999    # cosine similarity below which a node is reported


class CompareError(Exception):
    """A model, input or flag the comparison cannot use; the message says why."""


@dataclass
class TensorError:
    """The error of one tensor against its float32 reference."""

    name: str
    shape: tuple
    max_abs: float | None
    rel_err: float | None
    cosine: float | None
    nonfinite: int = 0
    mismatches: int | None = None       # non-float tensors: elements that differ

    def past(self, rtol: float, min_cosine: float) -> bool:
        if self.nonfinite or (self.mismatches or 0):
            return True
        if self.rel_err is None or self.cosine is None:
            return self.mismatches is None
        return self.rel_err > rtol or self.cosine < min_cosine

    def to_json(self) -> dict:
        data = {"name": self.name, "shape": list(self.shape), "max_abs": self.max_abs,
                "rel_err": self.rel_err, "cosine": self.cosine, "nonfinite": self.nonfinite}
        if self.mismatches is not None:
            data["mismatches"] = self.mismatches
        return data


@dataclass
class NodeError:
    """One node's outputs compared, in the graph's topological order (``index`` from 1)."""

    index: int
    node: str
    op_type: str
    outputs: list[TensorError]
    past: bool = False

    @property
    def worst(self) -> TensorError:
        def badness(error: TensorError):
            rel = math.inf if error.rel_err is None else error.rel_err
            return (error.nonfinite > 0, rel)
        return max(self.outputs, key=badness)

    def to_json(self) -> dict:
        return {"index": self.index, "node": self.node, "op_type": self.op_type,
                "past_tolerance": self.past, "outputs": [o.to_json() for o in self.outputs]}


@dataclass
class Report:
    """What ``compare`` found (``text()`` for people, ``to_json()`` for machines)."""

    model: str
    mode: str                      # the precision mode compared, e.g. precision_mode=force_fp16
    mode_note: str                 # where the mode came from
    setting: str                   # what ran: npu / fast / exact
    engine: str
    precision: str
    inputs: list[dict]
    rtol: float
    min_cosine: float
    nodes: list[NodeError] = field(default_factory=list)
    outputs: list[TensorError] = field(default_factory=list)
    note: str = ""

    @property
    def first(self) -> NodeError | None:
        return next((node for node in self.nodes if node.past), None)

    def to_json(self) -> dict:
        first = self.first
        return {
            "model": self.model, "mode": self.mode, "mode_note": self.mode_note,
            "setting": self.setting, "engine": self.engine, "precision": self.precision,
            "note": self.note, "inputs": self.inputs,
            "tolerance": {"rtol": self.rtol, "min_cosine": self.min_cosine},
            "first_past_tolerance": None if first is None else {
                "index": first.index, "node": first.node, "op_type": first.op_type},
            "nodes": [node.to_json() for node in self.nodes],
            "outputs": [output.to_json() for output in self.outputs],
        }

    def text(self) -> str:
        lines = [f"openacl compare: {self.model}",
                 f"mode: {self.mode} ({self.mode_note})",
                 f"run: {self.setting} ({self.engine} {self.precision}) against exact float32 "
                 f"(onnxruntime f32)"]
        if self.note:
            lines.append(f"note: {self.note}")
        lines.append("inputs: " + "; ".join(
            f"{i['name']} {i['dtype']} {i['shape']} ({i['source']})" for i in self.inputs))
        lines.append("")
        width = max([len(n.node) for n in self.nodes] + [4])
        width = min(width, 40)
        lines.append(f"{'#':>4}  {'node':<{width}}  {'op':<18} {'max_abs':>10} {'rel_err':>10} "
                     f"{'cosine':>10}")
        first = self.first
        for node in self.nodes:
            worst = node.worst
            mark = ""
            if node is first:
                mark = "  <-- first past tolerance"
            elif node.past:
                mark = "  !"
            if worst.nonfinite:
                mark += f" ({worst.nonfinite} inf/nan)"
            lines.append(f"{node.index:>4}  {_cut(node.node, width):<{width}}  "
                         f"{_cut(node.op_type, 18):<18} {_number(worst.max_abs):>10} "
                         f"{_number(worst.rel_err):>10} {_cosine(worst.cosine):>10}{mark}")
        lines.append("")
        tolerance = f"rel_err > {self.rtol:g}, cosine < {self.min_cosine:g} or inf/nan"
        if first is None:
            lines.append(f"no node past tolerance ({tolerance})")
        else:
            worst = first.worst
            lines.append(f"first node past tolerance ({tolerance}): #{first.index} "
                         f"{first.node} ({first.op_type}), output {worst.name}: "
                         f"max_abs {_number(worst.max_abs)}, rel_err {_number(worst.rel_err)}, "
                         f"cosine {_cosine(worst.cosine)}"
                         + (f", {worst.nonfinite} inf/nan" if worst.nonfinite else ""))
        lines.append("final outputs:")
        for output in self.outputs:
            if output.mismatches is not None:
                lines.append(f"  {output.name} {list(output.shape)}: {output.mismatches} "
                             f"element(s) differ")
                continue
            lines.append(f"  {output.name} {list(output.shape)}: max_abs "
                         f"{_number(output.max_abs)}, rel_err {_number(output.rel_err)}, "
                         f"cosine {_cosine(output.cosine)}"
                         + (f", {output.nonfinite} inf/nan" if output.nonfinite else ""))
        return "\n".join(lines)


def compare(model_path: str, inputs=None, setting: str = "npu", flags: dict | None = None,
            rtol: float = RTOL, min_cosine: float = MIN_COSINE, seed: int = 0,
            input_shape: str | None = None) -> Report:
    """Compare ``model_path`` (.om or .onnx) at its precision with float32, node by node.

    ``inputs``: None (random, from ``seed``), a list of arrays or files (.npy / .bin) in the
    model's input order, or a dict name -> array or file. ``setting``: "npu" or "fast".
    ``flags``: atc precision flags (``precision_mode``, ``precision_mode_v2``, ``keep_dtype``,
    ``modify_mixlist``, ``soc_version``) that replace what the model records.
    ``input_shape``: atc's ``--input_shape`` text for inputs with dynamic axes.
    """
    from openacl.errors import AclError
    from openacl.model.om import read_model_file

    if setting not in ("npu", "fast"):
        raise CompareError(f"setting {setting!r}: compare runs 'npu' or 'fast' against float32")
    try:
        offline = read_model_file(model_path)
    except AclError as error:
        raise CompareError(str(error)) from None
    precision, mode_note, warnings = _precision(offline, flags or {})
    soc = (flags or {}).get("soc_version") or offline.record.soc_version
    feeds, described = _feeds(offline, inputs, seed, input_shape)

    from openacl.precision.npu_numerics import float_tensors, npu_model
    from openacl.precision.policy import choose

    proto = offline.proto
    floats = float_tensors(proto)
    tensors = _node_tensors(proto.graph, floats)
    reference = _run("onnxruntime", "f32", with_outputs(proto, tensors), feeds)
    choice = choose(precision, setting)
    note = "; ".join(warnings)
    if choice.rewrite:
        candidate_model = npu_model(proto, precision, soc)
    else:
        candidate_model = proto
        if choice.setting != setting:
            note = "; ".join(filter(None, [note, f"{setting} runs exact here: {choice.reason}"]))
    candidate = _run(choice.engine, choice.precision, with_outputs(candidate_model, tensors),
                     feeds)
    mode = MODES[precision.option][precision.mode]
    report = Report(offline.origin, mode.label, mode_note, choice.setting, choice.engine,
                    choice.precision, described, rtol, min_cosine, note=note)
    for index, node in enumerate(proto.graph.node, 1):
        names = [name for name in node.output
                 if name in floats and name in reference and name in candidate]
        if not names:
            continue
        errors = [tensor_error(name, candidate[name], reference[name]) for name in names]
        report.nodes.append(NodeError(index, node.name or f"<{node.op_type} #{index}>",
                                      node.op_type, errors,
                                      any(e.past(rtol, min_cosine) for e in errors)))
    for value in proto.graph.output:
        if value.name in reference and value.name in candidate:
            report.outputs.append(tensor_error(value.name, candidate[value.name],
                                               reference[value.name]))
    return report


def tensor_error(name: str, value: np.ndarray, reference: np.ndarray) -> TensorError:
    """The error of ``value`` against ``reference`` (same shape)."""
    value, reference = np.asarray(value), np.asarray(reference)
    shape = tuple(reference.shape)
    if value.shape != reference.shape:
        return TensorError(name, shape, None, None, None, mismatches=int(reference.size))
    if not np.issubdtype(reference.dtype, np.floating):
        return TensorError(name, shape, 0.0, 0.0, 1.0,
                           mismatches=int(np.count_nonzero(value != reference)))
    x, ref = value.astype(np.float64).ravel(), reference.astype(np.float64).ravel()
    finite_ref = np.isfinite(ref)
    same_special = ~finite_ref & ((x == ref) | (np.isnan(x) & np.isnan(ref)))
    nonfinite = int(np.count_nonzero(~np.isfinite(x) & finite_ref))
    compared = finite_ref & np.isfinite(x)
    other = int(np.count_nonzero(~finite_ref & ~same_special))   # ref inf/nan, value not
    if nonfinite or other:
        return TensorError(name, shape, None, None, None, nonfinite=nonfinite + other)
    x, ref = x[compared], ref[compared]
    if x.size == 0:
        return TensorError(name, shape, 0.0, 0.0, 1.0)
    delta = x - ref
    max_abs = float(np.max(np.abs(delta)))
    norm_ref, norm_x = float(np.linalg.norm(ref)), float(np.linalg.norm(x))
    norm_delta = float(np.linalg.norm(delta))
    rel = norm_delta / norm_ref if norm_ref > 0 else (0.0 if norm_delta == 0 else math.inf)
    if norm_ref == 0 and norm_x == 0:
        cosine = 1.0
    elif norm_ref == 0 or norm_x == 0:
        cosine = 0.0
    else:
        cosine = float(np.dot(x, ref) / (norm_x * norm_ref))
    return TensorError(name, shape, max_abs, _finite(rel), _finite(min(cosine, 1.0)))


def read_inputs(files: list[str], specs: list[tuple[str, np.dtype, list]]) -> dict:
    """Arrays for the model's inputs from .npy / .bin files, in the model's input order.

    ``specs``: (name, dtype, dims with None for dynamic axes). A .bin file holds raw values
    of the input's type; one dynamic axis is sized from the file's length.
    """
    if len(files) != len(specs):
        raise CompareError(f"{len(files)} input file(s) given; the model has {len(specs)} "
                           f"input(s): {', '.join(name for name, _, _ in specs)}")
    feeds = {}
    for path, (name, dtype, dims) in zip(files, specs):
        feeds[name] = _read_input(path, name, dtype, dims)
    return feeds


def random_inputs(specs: list[tuple[str, np.dtype, list]], seed: int = 0) -> dict:
    """Random arrays for the model's inputs: normal floats, bytes 0..255, small integers."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, dtype, dims in specs:
        shape = tuple(1 if d is None else d for d in dims)
        if np.issubdtype(dtype, np.floating):
            feeds[name] = rng.standard_normal(shape).astype(dtype)
        elif dtype == np.uint8:
            feeds[name] = rng.integers(0, 256, shape, dtype=np.uint8)
        elif dtype == np.int8:
            feeds[name] = rng.integers(-128, 128, shape, dtype=np.int8)
        elif dtype == np.bool_:
            feeds[name] = rng.random(shape) < 0.5
        else:
            feeds[name] = rng.integers(0, 10, shape).astype(dtype)
    return feeds


# ---------------------------------------------------------------------- helpers

def _precision(offline, flags: dict):
    """(PrecisionRecord, where it came from, warning lines) for the comparison."""
    from openacl.atc.errors import AtcError
    from openacl.atc.precision import precision_record
    from openacl.model.record import PrecisionRecord

    keys = ("precision_mode", "precision_mode_v2", "keep_dtype", "modify_mixlist")
    given = {key: flags.get(key) for key in keys}
    if any(given.values()):
        warnings: list[str] = []
        options = SimpleNamespace(**given)
        try:
            record = precision_record(options, offline.proto.graph, warnings.append)
        except AtcError as error:
            raise CompareError(str(error)) from None
        note = "from the atc flags given" if record.given else "ATC's default"
        return record, note, warnings
    if offline.record.precision is not None:
        record = offline.record.precision
        return record, ("recorded by atc" if record.given else "recorded by atc: ATC's "
                        "default"), []
    default = PrecisionRecord(DEFAULT_MODE.option, DEFAULT_MODE.value, False)
    return default, ("the model records none: ATC's default, as an NPU build without "
                     "precision flags would use"), []


def _input_specs(offline, input_shape: str | None) -> list[tuple[str, np.dtype, list]]:
    """(name, numpy dtype, dims) of each graph input that is not a weight."""
    graph = offline.proto.graph
    weights = {tensor.name for tensor in graph.initializer}
    overrides = {}
    if input_shape:
        from openacl.atc.errors import AtcError
        from openacl.atc.values import parse_input_shape

        try:
            overrides = parse_input_shape(input_shape)
        except AtcError as error:
            raise CompareError(str(error)) from None
    gear_shapes = _first_gear(offline)
    specs = []
    for value in graph.input:
        if value.name in weights:
            continue
        tensor = value.type.tensor_type
        try:
            dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.elem_type))
        except (KeyError, TypeError):
            raise CompareError(f"input {value.name!r} has an element type compare cannot "
                               f"make") from None
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                for d in tensor.shape.dim]
        if value.name in overrides:
            given = overrides.pop(value.name)
            dims = [d[0] if isinstance(d, tuple) else (None if d == -1 else d) for d in given]
        elif value.name in gear_shapes:
            dims = list(gear_shapes[value.name])
        specs.append((value.name, dtype, dims))
    if overrides:
        raise CompareError(f"--input_shape names {sorted(overrides)}, which the model does "
                           f"not take (it takes {[name for name, _, _ in specs]})")
    return specs


def _first_gear(offline) -> dict:
    record = offline.record
    if record.dynamic is not None:
        from openacl.model.description import Gears

        table = record.dynamic
        gears = Gears(table.kind, [tuple(g) for g in table.gears], table.input_dims,
                      table.input_order)
        return gears.shapes_for(gears.values[0])
    if record.shape_range:
        return {name: [max(low, 1) for low, _ in ranges]
                for name, ranges in record.shape_range.items()}
    return {}


def _feeds(offline, inputs, seed: int, input_shape: str | None):
    specs = _input_specs(offline, input_shape)
    if inputs is None:
        feeds = random_inputs(specs, seed)
        source = {name: f"random, seed {seed}" for name, _, _ in specs}
    elif isinstance(inputs, dict):
        unknown = sorted(set(inputs) - {name for name, _, _ in specs})
        if unknown:
            raise CompareError(f"inputs {unknown} are not inputs of the model")
        feeds, source = {}, {}
        for name, dtype, dims in specs:
            if name not in inputs:
                raise CompareError(f"no value given for input {name!r}")
            feeds[name], source[name] = _one(inputs[name], name, dtype, dims)
    else:
        inputs = list(inputs)
        if len(inputs) != len(specs):
            raise CompareError(f"{len(inputs)} input(s) given; the model has {len(specs)}: "
                               f"{', '.join(name for name, _, _ in specs)}")
        feeds, source = {}, {}
        for item, (name, dtype, dims) in zip(inputs, specs):
            feeds[name], source[name] = _one(item, name, dtype, dims)
    described = [{"name": name, "dtype": str(feeds[name].dtype),
                  "shape": list(feeds[name].shape), "source": source[name]}
                 for name, _, _ in specs]
    return feeds, described


def _one(item, name, dtype, dims):
    if isinstance(item, (str, os.PathLike)):
        return _read_input(os.fspath(item), name, dtype, dims), os.fspath(item)
    array = np.asarray(item)
    if array.dtype != dtype:
        raise CompareError(f"input {name!r} is {array.dtype}; the model takes {dtype}")
    return np.ascontiguousarray(array), "given"


def _read_input(path: str, name: str, dtype, dims) -> np.ndarray:
    if not os.path.isfile(path):
        raise CompareError(f"input file {path!r} (for {name!r}) does not exist")
    if path.endswith(".npy"):
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise CompareError(f"input file {path!r} is not a .npy array: {error}") from None
        if array.dtype != dtype:
            raise CompareError(f"input file {path!r} holds {array.dtype}; input {name!r} "
                               f"takes {dtype}")
        return np.ascontiguousarray(array)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % dtype.itemsize:
        raise CompareError(f"input file {path!r} is {raw.size} bytes, not a whole number of "
                           f"{dtype} values for input {name!r}")
    array = raw.view(dtype)
    if dims.count(None) > 1:
        raise CompareError(f"input {name!r} has dims {dims}; give --input_shape (or a .npy "
                           f"file) to read {path!r}")
    shape = tuple(-1 if d is None else d for d in dims)
    try:
        return np.ascontiguousarray(array.reshape(shape))
    except ValueError:
        raise CompareError(f"input file {path!r} holds {array.size} {dtype} values; input "
                           f"{name!r} of shape {dims} needs "
                           f"{math.prod(d for d in dims if d)} per sample") from None


def _node_tensors(graph, floats: set[str]) -> list[str]:
    """The float32 node outputs to expose, in topological order."""
    seen, names = set(), []
    for node in graph.node:
        for name in node.output:
            if name and name in floats and name not in seen:
                seen.add(name)
                names.append(name)
    return names


def _run(engine_name: str, precision: str, model_bytes: bytes, feeds: dict) -> dict:
    """Run a model once through the engine contract; output name -> array."""
    from openacl.engines.base import get_engine

    try:
        session = get_engine(engine_name).load(model_bytes, precision)
    except Exception as error:  # noqa: BLE001 - the engine's refusal, named for the user
        raise CompareError(f"{engine_name} ({precision}) cannot load the model: "
                           f"{_first_line(error)}") from None
    try:
        binding = session.new_binding()
        arrays = {name: np.ascontiguousarray(array) for name, array in feeds.items()}
        for spec in session.inputs:
            array = arrays[spec.name]
            binding.bind_input(spec.name, array.dtype, array.shape, array.ctypes.data)
        for spec in session.outputs:
            binding.bind_output_to_engine(spec.name)
        session.run(binding)
        values = binding.engine_outputs()
        return {spec.name: value for spec, value in zip(session.outputs, values)}
    except Exception as error:  # noqa: BLE001 - a failed run, named for the user
        raise CompareError(f"{engine_name} ({precision}) failed to run the model: "
                           f"{_first_line(error)}") from None
    finally:
        session.close()


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _number(value) -> str:
    return "-" if value is None else f"{value:.3e}"


def _cosine(value) -> str:
    return "-" if value is None else f"{value:.6f}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "~"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
