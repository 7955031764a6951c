"""Choosing a gear of a dynamic batch / image size / dims model at run time.

ATC adds the input ``ascend_mbatch_shape_data``; the program adds a buffer for it and calls
one of the setters, which checks the value against the compiled gears, writes it into that
buffer (uint64 each when the buffer is large enough, else uint32), and remembers the choice
on the input dataset (for execution) and on the model (for ``get_cur_output_dims``).
"""

from __future__ import annotations

import struct

from openacl.errors import (AclError, DynamicBatchSizeInvalid, DynamicInputLengthInvalid,
                            InvalidParam)
from openacl.model.dataset import Dataset
from openacl.runtime import transfers

__all__ = ["set_batch", "set_hw", "set_dims", "selected_gear", "full_dims"]


def selected_gear(executor, inputs: Dataset) -> tuple:
    """The gear an execution runs: the dataset's choice, else the largest gear."""
    gears = executor.description.gears
    choice = inputs.dynamic_choice
    if choice is not None and choice in gears.input_shapes:
        return choice
    return gears.max_gear


def full_dims(gears, gear: tuple) -> list[int]:
    """All data inputs' dims for a gear, concatenated in input order."""
    shapes = gears.shapes_for(gear)
    return [d for name in gears.input_order for d in shapes[name]]


def _gear_buffer(model, dataset: Dataset, index: int, kind: str):
    description = model.description
    gears = description.gears
    if gears is None or gears.kind != kind:
        have = "a static model" if gears is None else f"a dynamic {gears.kind} model"
        raise DynamicBatchSizeInvalid(
            f"model {model.model_id} is {have}; it has no dynamic {kind} gears")
    if index >= len(dataset.buffers):
        raise InvalidParam(f"the input dataset has no buffer at index {index} (it has "
                           f"{len(dataset.buffers)}): add the ascend_mbatch_shape_data "
                           f"buffer first")
    if index != description.dynamic_index:
        raise InvalidParam(f"index {index} is not the ascend_mbatch_shape_data input of model "
                           f"{model.model_id} (it is {description.dynamic_index})")
    buffer = dataset.buffers[index]
    if buffer.destroyed or buffer.address == 0:
        raise InvalidParam(f"the ascend_mbatch_shape_data buffer at index {index} is NULL: "
                           f"give it device memory of acl.mdl.get_input_size_by_index bytes")
    return gears, buffer


def _set(model, dataset: Dataset, index: int, kind: str, gear: tuple | None, asked: str,
         shown) -> None:
    """Check the gear buffer and the value, write the value, remember the choice."""
    gears, buffer = _gear_buffer(model, dataset, index, kind)
    count = len(gears.values[0])
    if buffer.size < 4 * count:
        raise DynamicInputLengthInvalid(
            f"the ascend_mbatch_shape_data buffer holds {buffer.size} bytes; at least "
            f"{4 * count} are needed (acl.mdl.get_input_size_by_index gives the right size)")
    if gear not in gears.values:
        raise DynamicBatchSizeInvalid(
            f"{asked} is not a gear of model {model.model_id}; its gears are "
            f"{[shown(g) for g in gears.values]}")
    wide = buffer.size >= 8 * count          # uint64 values when they fit, else uint32
    data = struct.pack(f"<{count}{'Q' if wide else 'I'}", *gear)
    try:
        transfers.write_runtime(buffer.address, data, "ascend_mbatch_shape_data")
    except AclError as error:
        raise InvalidParam(f"the ascend_mbatch_shape_data buffer: {error.message}") from None
    dataset.dynamic_choice = gear
    dataset.touch()
    model.current_gear = gear


def set_batch(model, dataset: Dataset, index: int, batch: int) -> None:
    if batch == 0:
        raise InvalidParam("batch size must be greater than 0")
    _set(model, dataset, index, "batch", (batch,), f"batch size {batch}", lambda g: g[0])


def set_hw(model, dataset: Dataset, index: int, height: int, width: int) -> None:
    if height == 0 or width == 0:
        raise InvalidParam(f"height and width must be greater than 0, not {height}x{width}")
    _set(model, dataset, index, "hw", (height, width), f"image size {height}x{width}", list)


def set_dims(model, dataset: Dataset, index: int, dims: dict) -> None:
    count = dims.get("dimCount", 0)
    values = dims.get("dims")
    if not isinstance(count, int) or count <= 0:
        raise InvalidParam(f"dimCount must be a positive int, not {count!r}")
    if not isinstance(values, list) or len(values) < count:
        raise InvalidParam(f"dims must be a list of at least dimCount ({count}) ints")
    values = [int(v) for v in values[:count]]
    gears, _ = _gear_buffer(model, dataset, index, "dims")
    match = next((g for g in gears.values if full_dims(gears, g) == values), None)
    _set(model, dataset, index, "dims", match, f"dims {values}",
         lambda g: full_dims(gears, g))
