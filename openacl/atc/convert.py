"""Convert an ONNX model to an openacl offline model (.om): ``atc --mode=0``.

The steps follow the options in the order a graph compiler must apply them: choose the outputs
(``--out_nodes``), fix the input shapes and dynamic axes (``--input_shape`` and the gear and
range options), make the float16 inputs (``--input_fp16_nodes``), recompute the output shapes,
re-type the outputs (``--output_type``), then save the graph with its metadata record
(:func:`openacl.model.om.write_om`). What each option records:

==========================  ==================================================================
``--input_format``          ``inputs[name]["format"]`` for every input
``--input_fp16_nodes``      ``inputs[name]["fp16"]`` (True for the listed inputs)
``--output_type``           ``outputs[name]["type"]`` (every output records its type)
``--out_nodes``             the outputs themselves (``outputs``, ``output_order``)
gear options                ``dynamic`` (see :mod:`openacl.atc.shapes`)
``--input_shape_range``     ``shape_range`` (see :mod:`openacl.atc.shapes`)
``--insert_op_conf``        ``aipp`` (one resolved AIPP config per input; the graph gets the
                            preprocessing nodes, see :mod:`openacl.atc.aipp_graph`)
``--precision_mode`` etc.   ``precision`` (the mode, or ATC's default ``force_fp16``, with the
                            ``--keep_dtype`` entries and the ``--modify_mixlist`` document; see
                            :mod:`openacl.atc.precision`)
``--soc_version`` etc.      ``soc_version``, ``framework``, ``source``, ``cmdline``
==========================  ==================================================================

Before anything is written the graph is checked at every shape it will bind (each gear, both
ends of each range): shapes it cannot take are refused with E10001 naming the option, the
input and the inconsistency (:mod:`openacl.atc.consistency`). External weight files are read
only from the model's folder (:mod:`openacl.model.external`); the .om holds them.

The library raises :class:`~openacl.atc.errors.AtcError` and never prints; warnings go to the
``on_warning`` callback (default: :func:`warnings.warn`), detail to the ``openacl.atc`` logger.
"""

from __future__ import annotations

import logging
import os
import warnings

import onnx

import openacl
from openacl.atc import graph as edits
from openacl.atc.aipp import AippInput, plan_aipp, read_config
from openacl.atc.aipp_graph import insert_aipp
from openacl.atc.errors import (AtcError, AtcWarning, empty_value, invalid_value, not_found,
                                not_supported, required)
from openacl.atc.options import AtcOptions, ignored_option_warnings, parse
from openacl.atc.consistency import Skeleton
from openacl.atc.precision import check_precision_flags, precision_record
from openacl.atc.shapes import GEAR_OPTIONS, plan_inputs
from openacl.atc.values import parse_name_list, parse_out_nodes, parse_output_type
from openacl.model.description import Gears
from openacl.model.dtypes import acl_from_onnx, unbindable
from openacl.model.external import ExternalDataError, load_external_data
from openacl.model.om import HUAWEI_OM_MAGIC, repeated_name, undecodable_field, write_om
from openacl.model.record import ModelRecord, RecordError

__all__ = ["convert", "load_onnx", "check_framework", "output_path", "ONNX_FRAMEWORK"]

log = logging.getLogger("openacl.atc")

ONNX_FRAMEWORK = 5
_OTHER_FRAMEWORKS = {"0": "Caffe", "1": "MindSpore", "3": "TensorFlow"}
_PROTOBUF_LIMIT = 2**31 - 1     # bytes: the most one serialized protobuf message may hold


def convert(options, on_warning=None) -> str:
    """Convert the model that ``options`` describe; return the path of the written .om.

    ``options`` is an :class:`AtcOptions` or an atc command line (a list of strings).
    """
    if not isinstance(options, AtcOptions):
        options = parse(options)
    warn = on_warning or _warn
    for line in ignored_option_warnings(options):
        warn(line)
    if not options.model:
        raise empty_value("model")
    check_framework(options.framework, required_here=True)
    if not options.output:
        raise empty_value("output")
    if not (options.soc_version or "").strip():
        raise required("soc_version", "the Ascend SoC the model is built for, e.g. Ascend310P3")
    check_precision_flags(options.precision_mode, options.precision_mode_v2,
                          options.modify_mixlist)

    model = load_onnx(options.model, "model")
    graph = model.graph
    log.info("loaded %s: %d nodes, inputs %s, outputs %s", options.model, len(graph.node),
             [value.name for value in edits.graph_inputs(graph)],
             [value.name for value in graph.output])
    precision = precision_record(options, graph, warn)
    log.info("precision: %s=%s%s", precision.option, precision.mode,
             "" if precision.given else " (ATC's default)")

    if options.out_nodes:
        tensors = [edits.resolve_tensor(graph, name, index, "out_nodes")
                   for name, index in parse_out_nodes(options.out_nodes)]
        edits.select_outputs(model, tensors)
        log.info("outputs chosen by --out_nodes: %s", tensors)

    inputs = {value.name: value for value in edits.graph_inputs(graph)}
    _check_types(inputs.values(), graph.output)
    original_dims = {name: edits.input_dims(value) for name, value in inputs.items()}
    skeleton = Skeleton(model)
    plan = plan_inputs({name: edits.input_dims(value) for name, value in inputs.items()},
                       input_shape=options.input_shape, input_format=options.input_format,
                       dynamic_batch_size=options.dynamic_batch_size,
                       dynamic_image_size=options.dynamic_image_size,
                       dynamic_dims=options.dynamic_dims,
                       input_shape_range=options.input_shape_range)
    for note in plan.notes:
        warn(note)
    for name, dims in plan.dims.items():
        log.info("input %s: shape %s -> %s", name, edits.input_dims(inputs[name]), dims)
        edits.set_dims(inputs[name], dims)
    # Always: ATC infers every output shape itself; a declared output shape that the graph
    # contradicts would otherwise reach the runtime as the size of the output buffer.
    edits.refresh_shapes(model, inputs_changed=bool(plan.dims))
    _check_shapes(options, plan, skeleton, original_dims)

    fp16 = parse_name_list(options.input_fp16_nodes) if options.input_fp16_nodes else []
    for name in fp16:
        if name not in inputs:
            raise not_found(name, "input_fp16_nodes", inputs)
        if edits.make_input_fp16(model, name):
            log.info("input %s takes float16 data (a Cast restores its type)", name)

    aipp = _insert_aipp(model, options, inputs, plan, fp16) if options.insert_op_conf else None

    producers = {value.name: edits.producer_of(graph, value.name) for value in graph.output}
    for name, type_text in _requested_output_types(options.output_type, graph).items():
        if edits.cast_output(model, name, edits.ONNX_TYPES[type_text]):
            log.info("output %s is cast to %s", name, type_text)

    metadata = {
        "producer": f"openacl atc {openacl.__version__}",
        "framework": ONNX_FRAMEWORK,
        "soc_version": options.soc_version.strip(),
        "source": options.model,
        "cmdline": options.cmdline(),
        "inputs": {name: {"format": plan.formats[name], "fp16": name in fp16}
                   for name in inputs},
        "input_order": list(inputs),
        "outputs": _outputs_record(graph, producers),
        "output_order": [value.name for value in graph.output],
        "dynamic": plan.dynamic,
        "shape_range": plan.shape_range,
        "aipp": None if aipp is None else {name: c.to_json() for name, c in aipp.items()},
        "precision": precision.to_json(),
    }
    try:
        onnx.checker.check_model(model)
        record = ModelRecord.from_json(metadata)     # the typed record the runtime reads
    except (onnx.checker.ValidationError, ValueError, RecordError) as error:
        raise AtcError("E19999", f"Inner Error! The converted model does not pass the ONNX "
                                 f"checker or the record check ({_first_line(error)}); this is "
                                 f"a bug in openacl's atc") from None
    path = output_path(options.output)
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        write_om(model, record, path)
    except OSError as error:
        raise invalid_value(options.output, "output",
                            f"cannot write {path}: {error.strerror or error}") from None
    log.info("wrote %s", path)
    return path


def _check_types(inputs, outputs) -> None:
    """Refuse tensors the runtime could never bind (a string input, say) now, not at load."""
    for kind, values in (("input", inputs), ("output", outputs)):
        for value in values:
            why = unbindable(acl_from_onnx(value.type.tensor_type.elem_type))
            if why is not None:
                raise not_supported(f"{kind} [{value.name}] "
                                    f"({edits.type_name(value.type.tensor_type.elem_type)}) is "
                                    f"{why}; openacl's runtime cannot bind it")


def _check_shapes(options, plan, skeleton: Skeleton, original_dims: dict) -> None:
    """Refuse shapes the graph cannot take, at every shape the model will bind."""
    for parameter, value, label, shapes in _shape_cases(options, plan):
        found = skeleton.problem(shapes)
        if found is None:
            continue
        if skeleton.problem(original_dims) is not None:       # the model as given is broken
            raise _load_error(options.model, f"its graph is inconsistent: {found}")
        raise invalid_value(value, parameter, f"{label} the graph is inconsistent: {found}")
    if not plan.dims:
        found = skeleton.problem(original_dims)
        if found is not None:
            raise _load_error(options.model, f"its graph is inconsistent: {found}")


def _shape_cases(options, plan):
    """(parameter, its value, what was bound, input shapes) for each shape to check."""
    if plan.dynamic:
        table = plan.dynamic
        gears = Gears(table["kind"], [tuple(g) for g in table["gears"]], table["input_dims"],
                      table["input_order"])
        parameter = next(name for name, kind in GEAR_OPTIONS.items() if kind == table["kind"])
        for gear in gears.values:
            shapes = gears.shapes_for(gear)
            yield parameter, getattr(options, parameter), f"at gear {list(gear)} " \
                f"({_shapes_text(shapes)})", shapes
    elif plan.shape_range:
        parameter = "input_shape_range" if options.input_shape_range else "input_shape"
        for end, pick in (("lower", lambda low, high: low),
                          ("upper", lambda low, high: high if high >= 0 else max(low, 1))):
            shapes = {name: [pick(low, high) for low, high in ranges]
                      for name, ranges in plan.shape_range.items()}
            yield parameter, getattr(options, parameter), f"at the {end} end of the ranges " \
                f"({_shapes_text(shapes)})", shapes
    elif plan.dims:
        yield "input_shape", options.input_shape, f"with {_shapes_text(plan.dims)}", plan.dims


def _shapes_text(shapes: dict) -> str:
    return ", ".join(f"input [{name}] of shape [{','.join(str(d) for d in dims)}]"
                     for name, dims in shapes.items())


def _insert_aipp(model, options, inputs: dict, plan, fp16: list) -> dict:
    """Read --insert_op_conf, check it against the model, put AIPP in front of its inputs."""
    blocks = read_config(options.insert_op_conf)
    described = []
    for name, value in inputs.items():
        dims = [d if isinstance(d, int) and d > 0 else -1
                for d in (edits.input_dims(value) or [])]
        described.append(AippInput(name, dims, acl_from_onnx(value.type.tensor_type.elem_type),
                                   plan.formats[name], name in fp16))
    kind = plan.dynamic["kind"] if plan.dynamic else None
    configs = plan_aipp(blocks, described, options.soc_version.strip(), kind,
                        plan.dynamic["gears"] if plan.dynamic else None)
    for name, config in configs.items():
        config.parameter_inputs = insert_aipp(model, name, config)
        log.info("input %s: %s AIPP from %s", name, config.mode, options.insert_op_conf)
    return configs


def load_onnx(path: str, parameter: str) -> onnx.ModelProto:
    """Load and check an ONNX model; an ATC error (never a traceback) says what is wrong."""
    if not os.path.isfile(path):
        raise invalid_value(path, parameter, "the file does not exist or is not a regular file")
    try:
        with open(path, "rb") as file:
            head = file.read(4)
    except OSError as error:
        raise invalid_value(path, parameter, f"the file cannot be read: {error.strerror}") from None
    if head == HUAWEI_OM_MAGIC:
        raise _load_error(path, "it is a Huawei ATC-compiled .om built for Ascend silicon; "
                                "convert the source ONNX model instead")
    try:
        model = onnx.load(path, load_external_data=False)      # read below, checked first
    except Exception as error:      # noqa: BLE001 - protobuf and onnx raise many types
        raise _load_error(path, f"it is not an ONNX model ({_first_line(error)})") from None
    if not model.HasField("graph") or not model.graph.output or not model.opset_import:
        raise _load_error(path, "it is not an ONNX model (no graph, outputs or opset)")
    opset = next((entry.version for entry in model.opset_import
                  if entry.domain in ("", "ai.onnx")), None)
    if opset is not None and opset > onnx.defs.onnx_opset_version():
        raise _load_error(path, f"it uses ONNX opset {opset}; the onnx package here knows "
                                f"opsets up to {onnx.defs.onnx_opset_version()}")
    broken = undecodable_field(model)
    if broken:
        raise _load_error(path, f"it is corrupt: {broken} is not UTF-8 text")
    try:
        load_external_data(model, os.path.dirname(os.path.abspath(path)))
    except ExternalDataError as error:
        raise _load_error(path, str(error)) from None
    if model.ByteSize() >= _PROTOBUF_LIMIT:
        raise not_supported(f"model {path} is 2 GB or larger; openacl .om files are single "
                            f"protobuf files, which cannot hold it")
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError) as error:
        raise _load_error(path, f"it is not a valid ONNX model ({_first_line(error)})") from None
    repeated = repeated_name(model.graph)
    if repeated:
        raise _load_error(path, f"it is not a valid ONNX model ({repeated})")
    for value in (*model.graph.input, *model.graph.output):
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim if d.HasField("dim_value")]
        if any(d < 0 for d in dims):
            raise _load_error(path, f"tensor [{value.name}] has negative dims {dims}")
    return model


def check_framework(framework: str | None, required_here: bool) -> None:
    """ATC's --framework: only 5 (ONNX) is converted; the others get advice."""
    value = (framework or "").strip()
    if not value:
        if required_here:
            raise required("framework", "5 (ONNX)")
        return
    if value in _OTHER_FRAMEWORKS:
        raise invalid_value(value, "framework",
                            f"openacl's atc converts ONNX models only, not "
                            f"{_OTHER_FRAMEWORKS[value]} models; export the model to ONNX "
                            f"first and use --framework=5")
    if value != str(ONNX_FRAMEWORK):
        raise invalid_value(value, "framework", "the value must be 0 (Caffe), 1 (MindSpore), "
                                                "3 (TensorFlow) or 5 (ONNX), and openacl "
                                                "converts 5 (ONNX) only")


def output_path(output: str) -> str:
    """``--output=dir/name`` -> ``dir/name.om`` (a value ending in .om is kept)."""
    if not os.path.basename(output) or output.endswith((os.sep, "/")):
        raise AtcError("E10022", f"Path [{output}] for parameter [--output] does not include the "
                                 f"file name.")
    return output if output.endswith(".om") else output + ".om"


def _requested_output_types(text: str | None, graph: onnx.GraphProto) -> dict[str, str]:
    if not text:
        return {}
    everywhere, per_output = parse_output_type(text)
    names = [value.name for value in graph.output]
    if everywhere:
        return dict.fromkeys(names, everywhere)
    chosen = {}
    for (node, index), type_text in per_output.items():
        tensor = edits.resolve_tensor(graph, node, index, "output_type")
        if tensor not in names:
            raise invalid_value(f"{node}:{index}:{type_text}", "output_type",
                                f"tensor [{tensor}] is not a model output (outputs: "
                                f"{', '.join(names)}); choose it with --out_nodes first")
        chosen[tensor] = type_text
    return chosen


def _outputs_record(graph: onnx.GraphProto, producers: dict) -> dict:
    """Each output's type, and the node and output index that compute it (before any Cast)."""
    record = {}
    for value in graph.output:
        node, index = producers[value.name]
        record[value.name] = {"type": edits.type_name(value.type.tensor_type.elem_type),
                              "node": node.name if node is not None else None,
                              "index": index or 0}      # a graph input as output: no node
    return record


def _load_error(path: str, reason: str) -> AtcError:
    return AtcError("E10041", f"Failed to load the model from [{path}]. Reason: {reason}.")


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _warn(message: str) -> None:
    warnings.warn(message, AtcWarning, stacklevel=3)
