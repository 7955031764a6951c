"""The ``.om`` metadata record as one typed structure, written by ``atc`` and read at load.

The record is JSON inside the ONNX file (see :mod:`openacl.model.om`). It is parsed and
checked here once, when a model file is read: every field's type and shape, so that a
corrupt or hand-edited record is refused at load with 145000 and the field's name, and
nothing downstream reads a dict with ``.get()``.

JSON layout (format version 1; a missing key means its default)::

    {"format_version": 1, "producer": str, "framework": int, "soc_version": str,
     "source": str, "cmdline": str,
     "input_order": [name, ...], "inputs": {name: {"format": str, "fp16": bool}},
     "output_order": [name, ...],
     "outputs": {name: {"type": str, "node": str | null, "index": int}},
     "dynamic": null | {"kind": "batch" | "hw" | "dims", "gears": [[int, ...], ...],
                        "input_dims": {name: [int, ...]}, "input_order": [name, ...]},
     "shape_range": null | {name: [[lo, hi], ...]},
     "aipp": null | {name: <AIPP configuration, see openacl.model.aipp.AippConfig>},
     "precision": null | {"option": "precision_mode" | "precision_mode_v2", "mode": str,
                          "given": bool, "keep_dtype": [str, ...],
                          "modify_mixlist": null | {"black-list": {"to-add": [...],
                                                                   "to-remove": [...]},
                                                    "white-list": {...}}}}

``precision`` is what atc compiled the model for (``--precision_mode`` or
``--precision_mode_v2``; ``given`` is false when neither flag was given and ATC's default,
``precision_mode=force_fp16``, applies), with the ``--keep_dtype`` entries (node names and
``OpType::Type`` lines) and the ``--modify_mixlist`` document. A model made before openacl
recorded it (or a plain ONNX file) has none and runs exactly (see ``openacl.precision``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openacl.model.aipp import AippConfig, AippRecordError
from openacl.precision.mixlist import MixlistError, check_mixlist
from openacl.precision.modes import MODES

__all__ = ["ModelRecord", "InputRecord", "OutputRecord", "GearTable", "PrecisionRecord",
           "RecordError"]

_FORMATS = ("NCHW", "NHWC", "ND", "NCDHW", "NDHWC")
_GEAR_KINDS = ("batch", "hw", "dims")
_INT64 = 2**63


class RecordError(ValueError):
    """A record field of the wrong type or value; the message names the field."""


@dataclass
class InputRecord:
    format: str | None = None          # None: NCHW for 4-D inputs, else ND
    fp16: bool = False


@dataclass
class OutputRecord:
    type: str | None = None
    node: str | None = None
    index: int = 0


@dataclass
class GearTable:
    kind: str
    gears: list[list[int]]
    input_dims: dict[str, list[int]]
    input_order: list[str]

    def check_graph(self, inputs: dict, aipp_inputs: set) -> None:
        """Every data input is geared (once), with the graph's rank and fixed axes."""
        missing = [name for name in inputs if name not in self.input_dims]
        if missing:
            raise RecordError(f"dynamic.input_dims does not describe graph input(s) "
                              f"{_short(missing)}; a gear model describes every input")
        _known_names("dynamic.input_dims", self.input_dims, inputs)
        if sorted(self.input_order) != sorted(inputs):
            raise RecordError(f"dynamic.input_order is {_short(self.input_order)}; every graph "
                              f"input once ({_short(list(inputs))}) was expected")
        for name, dims in self.input_dims.items():
            graph = inputs[name]
            where = f"dynamic.input_dims[{name!r}]"
            if name in aipp_inputs or graph is None:
                continue                 # an AIPP input: the graph takes the raw image
            if len(dims) != len(graph):
                raise RecordError(f"{where} has {len(dims)} axes; the graph input has "
                                  f"{len(graph)}")
            for axis, (dim, fixed) in enumerate(zip(dims, graph)):
                if fixed is not None and dim != fixed:
                    raise RecordError(f"{where}[{axis}] is {dim}, but the graph fixes that "
                                      f"axis at {fixed}")


@dataclass
class PrecisionRecord:
    """The precision mode atc compiled for (see ``openacl.precision.modes``)."""

    option: str = "precision_mode"
    mode: str = "force_fp16"
    given: bool = False                  # False: ATC's default applied
    keep_dtype: list[str] = field(default_factory=list)
    modify_mixlist: dict | None = None

    def to_json(self) -> dict:
        return {"option": self.option, "mode": self.mode, "given": self.given,
                "keep_dtype": list(self.keep_dtype), "modify_mixlist": self.modify_mixlist}

    @classmethod
    def from_json(cls, value) -> "PrecisionRecord":
        _expect(value, dict, "precision")
        option = _get(value, "option", str, "precision_mode", "precision")
        if option not in MODES:
            raise RecordError(f"precision.option is {option!r}; one of {', '.join(MODES)} "
                              f"was expected")
        mode = _get(value, "mode", str, "", "precision")
        if mode not in MODES[option]:
            raise RecordError(f"precision.mode is {mode!r}; one of "
                              f"{', '.join(MODES[option])} was expected for {option}")
        mixlist = value.get("modify_mixlist")
        if mixlist is not None:
            try:
                mixlist = check_mixlist(mixlist)
            except MixlistError as error:
                raise RecordError(f"precision.modify_mixlist: {error}") from None
        return cls(option, mode, _get(value, "given", bool, True, "precision"),
                   _names(value.get("keep_dtype"), "precision.keep_dtype"), mixlist)


@dataclass
class ModelRecord:
    producer: str = ""
    framework: int = 5
    soc_version: str = ""
    source: str = ""
    cmdline: str = ""
    input_order: list[str] = field(default_factory=list)
    inputs: dict[str, InputRecord] = field(default_factory=dict)
    output_order: list[str] = field(default_factory=list)
    outputs: dict[str, OutputRecord] = field(default_factory=dict)
    dynamic: GearTable | None = None
    shape_range: dict[str, list[list[int]]] | None = None
    aipp: dict[str, AippConfig] | None = None
    precision: PrecisionRecord | None = None     # None: made before atc recorded it

    def input(self, name: str) -> InputRecord:
        return self.inputs.get(name) or InputRecord()

    def aipp_for(self, name: str) -> AippConfig | None:
        return (self.aipp or {}).get(name)

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> dict:
        return {
            "producer": self.producer, "framework": self.framework,
            "soc_version": self.soc_version, "source": self.source, "cmdline": self.cmdline,
            "input_order": list(self.input_order),
            "inputs": {n: {"format": r.format, "fp16": r.fp16} for n, r in self.inputs.items()},
            "output_order": list(self.output_order),
            "outputs": {n: {"type": r.type, "node": r.node, "index": r.index}
                        for n, r in self.outputs.items()},
            "dynamic": None if self.dynamic is None else {
                "kind": self.dynamic.kind, "gears": self.dynamic.gears,
                "input_dims": self.dynamic.input_dims, "input_order": self.dynamic.input_order},
            "shape_range": self.shape_range,
            "aipp": None if self.aipp is None else {n: c.to_json() for n, c in self.aipp.items()},
            "precision": None if self.precision is None else self.precision.to_json(),
        }

    @classmethod
    def from_json(cls, data) -> "ModelRecord":
        """Parse and check a record (raises RecordError naming the bad field)."""
        _expect(data, dict, "the record")
        record = cls(
            producer=_get(data, "producer", str, ""),
            framework=_get(data, "framework", int, 5),
            soc_version=_get(data, "soc_version", str, ""),
            source=_get(data, "source", str, ""),
            cmdline=_get(data, "cmdline", str, ""),
            input_order=_names(data.get("input_order"), "input_order"),
            output_order=_names(data.get("output_order"), "output_order"),
        )
        for name, value in _mapping(data.get("inputs"), "inputs").items():
            where = f"inputs[{name!r}]"
            _expect(value, dict, where)
            fmt = _get(value, "format", str, None, where)
            if fmt is not None and fmt not in _FORMATS:
                raise RecordError(f"{where}.format is {fmt!r}; one of {', '.join(_FORMATS)} "
                                  f"was expected")
            record.inputs[name] = InputRecord(fmt, _get(value, "fp16", bool, False, where))
        for name, value in _mapping(data.get("outputs"), "outputs").items():
            where = f"outputs[{name!r}]"
            _expect(value, dict, where)
            record.outputs[name] = OutputRecord(_get(value, "type", str, None, where),
                                                _get(value, "node", str, None, where),
                                                _get(value, "index", int, 0, where))
        if data.get("dynamic") is not None:
            record.dynamic = _gear_table(data["dynamic"])
        if data.get("shape_range") is not None:
            record.shape_range = {
                name: _ranges(value, f"shape_range[{name!r}]")
                for name, value in _mapping(data["shape_range"], "shape_range").items()}
        if data.get("aipp") is not None:
            record.aipp = {}
            for name, value in _mapping(data["aipp"], "aipp").items():
                try:
                    record.aipp[name] = AippConfig.from_json(value)
                except AippRecordError as error:
                    raise RecordError(f"aipp[{name!r}]: {error}") from None
        if data.get("precision") is not None:
            record.precision = PrecisionRecord.from_json(data["precision"])
        for name, config in (record.aipp or {}).items():
            if -1 in config.model_dims and (record.dynamic is None or config.dynamic):
                raise RecordError(f"aipp[{name!r}].model_dims {config.model_dims} has -1 axes, "
                                  f"which only a gear table fills (for static AIPP)")
        if record.dynamic is not None and record.shape_range is not None:
            raise RecordError("dynamic and shape_range are both set; a model has gears or "
                              "shape ranges, not both")
        return record

    # ------------------------------------------------------------------ the graph
    def check_graph(self, inputs: dict, outputs: list) -> None:
        """Check the record against its graph (raises RecordError naming the field).

        ``inputs``: the graph's inputs without weights, name -> dims (an int per fixed axis,
        None per free axis; None for an unknown shape); ``outputs``: the output names.
        Everything the executor will look up by name must exist, with the graph's rank, and
        the record must not fix an axis the graph fixes otherwise.
        """
        hidden = {name for config in (self.aipp or {}).values()
                  for name in config.parameter_inputs}
        for where, names, known in (("input_order", self.input_order, inputs),
                                    ("inputs", self.inputs, inputs),
                                    ("aipp", self.aipp or {}, inputs),
                                    ("output_order", self.output_order, outputs),
                                    ("outputs", self.outputs, outputs)):
            _known_names(where, names, known)
        for name, config in (self.aipp or {}).items():
            _known_names(f"aipp[{name!r}].parameter_inputs", config.parameter_inputs, inputs)
        data = {name: dims for name, dims in inputs.items() if name not in hidden}
        _known_names("shape_range", self.shape_range or {}, data)
        for name, ranges in (self.shape_range or {}).items():
            _check_ranges(name, ranges, data[name])
        if self.dynamic is not None:
            self.dynamic.check_graph(data, set(self.aipp or {}))


def _known_names(where: str, names, known) -> None:
    unknown = [name for name in names if name not in known]
    if unknown:
        raise RecordError(f"{where} names {_short(unknown)}, which the graph does not have "
                          f"(it has {_short(list(known))})")


def _check_ranges(name: str, ranges: list, dims) -> None:
    where = f"shape_range[{name!r}]"
    if dims is None:
        return
    if len(ranges) != len(dims):
        raise RecordError(f"{where} has {len(ranges)} axes; the graph input has {len(dims)}")
    for axis, ((low, high), dim) in enumerate(zip(ranges, dims)):
        if dim is not None and (low != dim or high != dim):
            raise RecordError(f"{where}[{axis}] is [{low}, {high}], but the graph fixes that "
                              f"axis at {dim}")


def _gear_table(value) -> GearTable:
    _expect(value, dict, "dynamic")
    kind = value.get("kind")
    if kind not in _GEAR_KINDS:
        raise RecordError(f"dynamic.kind is {kind!r}; one of {', '.join(_GEAR_KINDS)} "
                          f"was expected")
    gears = _int_lists(value.get("gears"), "dynamic.gears", positive=True)
    if not gears or len({len(g) for g in gears}) != 1 or not gears[0]:
        raise RecordError("dynamic.gears must be a non-empty list of equally long, non-empty "
                          "lists of positive ints")
    input_dims = {name: _ints(dims, f"dynamic.input_dims[{name!r}]")
                  for name, dims in _mapping(value.get("input_dims"),
                                             "dynamic.input_dims").items()}
    for name, dims in input_dims.items():
        bad = next((d for d in dims if d != -1 and d <= 0), None)
        if bad is not None:
            raise RecordError(f"dynamic.input_dims[{name!r}] is {_short(dims)}; positive sizes "
                              f"and -1 (a geared axis) were expected, not {bad}")
        if kind == "hw" and dims.count(-1) not in (0, 2):
            raise RecordError(f"dynamic.input_dims[{name!r}] is {_short(dims)}; a hw table "
                              f"gears two axes (H and W) of an input, or none")
    order = _names(value.get("input_order"), "dynamic.input_order")
    missing = [name for name in order if name not in input_dims]
    if missing:
        raise RecordError(f"dynamic.input_order names {missing}, which dynamic.input_dims "
                          f"does not describe")
    if len(set(order)) != len(order):
        raise RecordError(f"dynamic.input_order names an input twice: {_short(order)}")
    minus = sum(d == -1 for name in order for d in input_dims[name])
    need = {"batch": 1, "hw": 2, "dims": minus}[kind]
    if len(gears[0]) != need or (kind != "dims" and minus == 0):
        raise RecordError(f"dynamic.gears have {len(gears[0])} value(s) each; a {kind} table "
                          f"over these inputs needs {need} (and -1 axes to fill)")
    return GearTable(kind, gears, input_dims, order)


# ---------------------------------------------------------------------- field checks

def _expect(value, kind, where: str) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RecordError(f"{where} is {type(value).__name__} {_short(value)}; "
                          f"{kind.__name__} was expected")


def _get(mapping: dict, key: str, kind, default, where: str = ""):
    value = mapping.get(key, default)
    if value is None and default is None:
        return None
    _expect(value, kind, f"{where}.{key}" if where else key)
    return value


def _mapping(value, where: str) -> dict:
    if value is None:
        return {}
    _expect(value, dict, where)
    return value


def _names(value, where: str) -> list[str]:
    if value is None:
        return []
    _expect(value, list, where)
    for index, name in enumerate(value):
        _expect(name, str, f"{where}[{index}]")
    return list(value)


def _ints(value, where: str, positive: bool = False) -> list[int]:
    _expect(value, list, where)
    for index, item in enumerate(value):
        _expect(item, int, f"{where}[{index}]")
        if positive and item <= 0:
            raise RecordError(f"{where}[{index}] is {item}; a positive int was expected")
        if not -_INT64 <= item < _INT64:       # dims go into ONNX int64 fields
            raise RecordError(f"{where}[{index}] is {item}, beyond int64")
    return list(value)


def _int_lists(value, where: str, positive: bool = False) -> list[list[int]]:
    _expect(value, list, where)
    return [_ints(item, f"{where}[{index}]", positive) for index, item in enumerate(value)]


def _ranges(value, where: str) -> list[list[int]]:
    ranges = _int_lists(value, where)
    for index, pair in enumerate(ranges):
        if len(pair) != 2 or pair[0] < 0 or (pair[1] != -1 and pair[1] < pair[0]):
            raise RecordError(f"{where}[{index}] is {pair}; [lo, hi] with 0 <= lo <= hi "
                              f"(hi -1: unbounded) was expected")
    return ranges


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
