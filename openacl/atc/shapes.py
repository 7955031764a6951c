"""Plan the converted model's inputs: their shapes, formats, gear tables and shape ranges.

ATC fixes every input shape at conversion time, except the axes the user marks ``-1`` and
then enumerates with exactly one "gear" option (``--dynamic_batch_size``,
``--dynamic_image_size``, ``--dynamic_dims``), or bounds with ``--input_shape_range`` (or
``lo~hi`` in ``--input_shape``). This module applies ATC's consistency rules to those options
and produces an :class:`InputPlan`: the new dims of each input (ints, or a symbolic
``dim_param`` name for a dynamic axis) and the metadata records that the runtime reads.

The ``dynamic`` record (the runtime relies on exactly this shape)::

    {"kind": "batch" | "hw" | "dims",
     "gears": [[v, ...], ...],        # batch: [b]; hw: [h, w]; dims: every -1 value, in order
     "input_dims": {"<input>": [d0, d1, ...]},   # -1 on the dynamic axes
     "input_order": ["<input>", ...]}            # order in which "dims" values concatenate

For ``dims``, a profile lists the values of the -1 axes input by input in the order the inputs
appear in ``--input_shape`` (as in ATC), then axis by axis; ``input_order`` records that order
(inputs absent from ``--input_shape`` follow, in graph order; they have no -1 axes).

The ``shape_range`` record: ``{"<input>": [[lo, hi], ...]}``, ``hi`` = -1 for unbounded, a fixed
axis as ``[d, d]``.
"""

from __future__ import annotations

import dataclasses

from openacl.atc.errors import AtcError, invalid_value, mutually_exclusive, not_found
from openacl.atc.values import UNBOUNDED, parse_input_shape, parse_profiles, parse_shape_range
from openacl.model.dtypes import FORMAT_NAMES

__all__ = ["InputPlan", "plan_inputs", "GEAR_OPTIONS"]

GEAR_OPTIONS = {"dynamic_batch_size": "batch", "dynamic_image_size": "hw", "dynamic_dims": "dims"}
_FORMAT_RANK = {"NCHW": 4, "NHWC": 4, "NCDHW": 5, "NDHWC": 5}
_HW_AXES = {"NCHW": [2, 3], "NHWC": [1, 2]}
_BATCH_DIM = "ascend_dynamic_batch"
_HW_DIMS = ("ascend_dynamic_height", "ascend_dynamic_width")


@dataclasses.dataclass
class InputPlan:
    """What to do to the graph inputs, and what to record about them."""

    dims: dict           # input -> new dims (int, or str dim_param for a dynamic axis)
    formats: dict        # every graph input -> "NCHW" / "NHWC" / "ND" / ...
    dynamic: dict | None = None
    shape_range: dict | None = None
    notes: list = dataclasses.field(default_factory=list)   # warnings for the user


def plan_inputs(model_inputs: dict, *, input_shape: str | None = None,
                input_format: str | None = None, dynamic_batch_size: str | None = None,
                dynamic_image_size: str | None = None, dynamic_dims: str | None = None,
                input_shape_range: str | None = None) -> InputPlan:
    """Check the shape options against the model's inputs and plan the new input shapes.

    ``model_inputs`` maps each graph input, in graph order, to its dims in the model: a list
    of ints (fixed) and None/str (symbolic or unknown) entries, or None if it has no shape.
    """
    given = {"dynamic_batch_size": dynamic_batch_size, "dynamic_image_size": dynamic_image_size,
             "dynamic_dims": dynamic_dims}
    gears = {name: text for name, text in given.items() if text}
    if len(gears) > 1 or (gears and input_shape_range):
        raise AtcError("E10009", "[--dynamic_batch_size], [--dynamic_image_size], "
                                 "[--input_shape_range] and [--dynamic_dims] are mutually "
                                 "exclusive.")
    gear_option = next(iter(gears), None)
    kind = GEAR_OPTIONS.get(gear_option)

    shapes = parse_input_shape(input_shape) if input_shape else {}
    for name, dims in shapes.items():
        _check_rank(name, dims, model_inputs, "input_shape")
    ranges = parse_shape_range(input_shape_range, list(model_inputs)) if input_shape_range else {}
    for name, dims in ranges.items():
        _check_rank(name, dims, model_inputs, "input_shape_range")
        if name in shapes:
            raise mutually_exclusive("input_shape", "input_shape_range")
    tilde = [name for name, dims in shapes.items() if any(isinstance(d, tuple) for d in dims)]
    minus = {name: [axis for axis, dim in enumerate(dims) if dim == -1]
             for name, dims in shapes.items()}
    minus = {name: axes for name, axes in minus.items() if axes}
    range_mode = bool(tilde or ranges)
    unfixed = {name: "unknown" if dims is None else [d if isinstance(d, int) else -1 for d in dims]
               for name, dims in model_inputs.items()
               if name not in shapes and name not in ranges
               and (dims is None or any(not isinstance(dim, int) for dim in dims))}

    formats = _formats(model_inputs, shapes, input_format, kind)
    plan = InputPlan(dims={}, formats=formats)
    if kind:
        profiles = parse_profiles(gears[gear_option], gear_option)
        if tilde:
            raise _no_minus_one()
        if not minus:
            if kind == "batch":
                raise AtcError("E10031", "[--dynamic_batch_size] is included, but none of the "
                                         "nodes specified in [--input_shape] has a batch size "
                                         "equaling -1.")
            raise _no_minus_one()
        _check_gear_axes(kind, shapes, minus, formats, profiles, input_shape)
        if unfixed:
            name, shown = next(iter(unfixed.items()))
            raise AtcError("E11005", f"The shape is not defined by using [--input_shape] for "
                                     f"input [{name}]: its shape in the model is {shown}.")
        plan.dynamic = _gear_record(kind, profiles, shapes, model_inputs)
    elif minus and not range_mode:
        raise AtcError("E10011", f"Value [{input_shape}] for parameter [--input_shape] is "
                                 f"invalid. Shape values must be positive integers. The error "
                                 f"value in the shape is [-1]. Add --dynamic_batch_size, "
                                 f"--dynamic_image_size or --dynamic_dims to enumerate the -1 "
                                 f"axes, or give a range lo~hi.")

    plan.dims = _new_dims(kind, shapes, minus)
    if range_mode:
        for name in (*tilde, *minus):      # ranges written in --input_shape (lo~hi, or -1)
            ranges[name] = [list(d) if isinstance(d, tuple) else [1, UNBOUNDED] if d == -1
                            else [d, d] for d in shapes[name]]
        plan.shape_range = {name: ranges[name] for name in model_inputs if name in ranges}
        plan.dims.update(_range_dims(plan.shape_range))

    for name, shown in unfixed.items():
        plan.notes.append(f"input [{name}] keeps the dynamic shape {shown} it has in the model; "
                          f"fix it with --input_shape={name}:... if the runtime needs a static "
                          f"shape")
    return plan


def _check_rank(name: str, dims: list, model_inputs: dict, parameter: str) -> None:
    if name not in model_inputs:
        raise not_found(name, parameter, model_inputs)
    model_dims = model_inputs[name]
    if model_dims is not None and len(model_dims) != len(dims):
        raise AtcError("E10049", f"Dimension count [{len(dims)}] configured in [--{parameter}] "
                                 f"for input [{name}] does not match dimension count "
                                 f"[{len(model_dims)}] of the node.")


def _formats(model_inputs: dict, shapes: dict, input_format: str | None, kind: str | None):
    """Each input's format: --input_format where its rank fits, else NCHW for 4-D, else ND."""
    fmt = input_format.strip().upper() if input_format else None
    if fmt is not None and fmt not in FORMAT_NAMES:
        raise invalid_value(input_format, "input_format",
                            f"the value must be one of {', '.join(FORMAT_NAMES)}")
    if kind == "dims":
        if fmt not in (None, "ND"):
            raise invalid_value(input_format, "input_format",
                                "--dynamic_dims requires --input_format=ND")
        fmt = "ND"
    if kind == "hw":
        if fmt not in (None, "NCHW", "NHWC"):
            raise invalid_value(input_format, "input_format",
                                "--dynamic_image_size requires --input_format=NCHW or NHWC")
        fmt = fmt or "NCHW"
    formats = {}
    for name, model_dims in model_inputs.items():
        dims = shapes.get(name, model_dims)
        rank = None if dims is None else len(dims)
        if fmt is None:
            formats[name] = "NCHW" if rank == 4 else "ND"
        elif rank is None or _FORMAT_RANK.get(fmt, rank) == rank:
            formats[name] = fmt
        else:
            formats[name] = "ND"
    return formats


def _check_gear_axes(kind, shapes, minus, formats, profiles, input_shape) -> None:
    if kind == "batch":
        for name, axes in minus.items():
            if axes != [0]:
                bad = next(axis for axis in axes if axis != 0)
                raise AtcError("E10018", f"Value [{name}:{_dims_text(shapes[name])}] for shape "
                                         f"[{bad}] is invalid. When --dynamic_batch_size is "
                                         f"included, only batch size N can be -1 in "
                                         f"--input_shape.")
    elif kind == "hw":
        for name, axes in minus.items():
            fmt = formats[name]
            if len(shapes[name]) != 4 or fmt not in _HW_AXES or axes != _HW_AXES[fmt]:
                raise AtcError("E10019", f"When --dynamic_image_size is included, only the height "
                                         f"and width axes can be -1 in --input_shape; input "
                                         f"[{name}:{_dims_text(shapes[name])}] has format {fmt}.")
    else:
        count = sum(len(axes) for axes in minus.values())
        if count != len(profiles[0]):
            raise AtcError("E10045", f"The number of -1 axes in the --input_shape argument "
                                     f"[{input_shape}] is {count}, which does not match the "
                                     f"dimension count per profile in --dynamic_dims "
                                     f"[{len(profiles[0])}].")


def _gear_record(kind, profiles, shapes, model_inputs) -> dict:
    order = [*shapes, *(name for name in model_inputs if name not in shapes)]
    input_dims = {}
    for name in order:
        dims = shapes.get(name, model_inputs[name])
        input_dims[name] = [int(dim) for dim in dims]
    return {"kind": kind, "gears": [list(profile) for profile in profiles],
            "input_dims": input_dims, "input_order": order}


def _new_dims(kind, shapes, minus) -> dict:
    """Dims to write: fixed ints, a shared dim_param for each dynamic axis."""
    new = {}
    symbol = 0
    for name, dims in shapes.items():
        if any(isinstance(d, tuple) for d in dims):
            continue                            # range inputs are written by the caller
        out = []
        for axis, dim in enumerate(dims):
            if dim != -1:
                out.append(dim)
            elif kind == "batch":
                out.append(_BATCH_DIM)
            elif kind == "hw":
                out.append(_HW_DIMS[minus[name].index(axis)])
            elif kind == "dims":
                out.append(f"ascend_dynamic_{symbol}")
                symbol += 1
            else:
                out.append(None)                # range mode: written by the caller
        new[name] = out
    return new


def _range_dims(shape_range: dict) -> dict:
    """Dims to write for ranged inputs: a fixed int where lo == hi, else a fresh dim_param."""
    new = {}
    symbol = 0
    for name, dims in shape_range.items():
        new[name] = []
        for low, high in dims:
            if low == high:
                new[name].append(low)
            else:
                new[name].append(f"ascend_range_{symbol}")
                symbol += 1
    return new


def _no_minus_one() -> AtcError:
    return AtcError("E10040", "As the --dynamic_batch_size, --dynamic_image_size, or "
                              "--dynamic_dims argument is included, the corresponding nodes "
                              "specified in --input_shape must have -1 axes and cannot have '~'.")


def _dims_text(dims) -> str:
    return ",".join(f"{d[0]}~{d[1]}" if isinstance(d, tuple) else str(d) for d in dims)
