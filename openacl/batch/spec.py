"""What the batch stage needs to know about a model, read through ais_bench's ``InferSession``.

Everything here uses only what Huawei's ``ais_bench.infer.interface.InferSession`` has too
(``get_inputs``, ``get_outputs``, ``get_max_dym_batchsize``; ``get_dynamic_batch`` where the
session has it), so the same code reads a model on openacl and on real pyACL.

Conventions of the stage, checked here:

* axis 0 of every input and output is the batch axis: a static model of batch ``B`` runs
  ``B`` items at a time, a dynamic-batch model (``atc --dynamic_batch_size``) one of its
  gears;
* an input whose bytes per item differ from its dims' (an AIPP input: raw uint8 image
  bytes, ``H * W * 3 / 2`` for YUV420SP) takes each item as those raw bytes;
* other dynamic models (image size, dims, shape ranges) are refused with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["StageError", "ItemError", "InputSpec", "ModelSpec", "describe_model", "plan_runs"]

# ais_bench's dtype names (aclruntime.dtype) that are not numpy's.
_DTYPE_NAMES = {"double64": "float64", "bool": "bool"}


class StageError(RuntimeError):
    """The model (or the stage's arguments) cannot be run by the stage at all."""


class ItemError(ValueError):
    """One item cannot be run: the stage reports it in the item's ``error`` and goes on."""


@dataclass(frozen=True)
class InputSpec:
    """One model input as the stage feeds it.

    ``item_shape`` is the shape of one item (the dims after the batch axis) and ``dtype``
    its numpy dtype. ``raw_bytes`` is set for an input that takes raw bytes per item (an
    AIPP input): each item is that many uint8 bytes, fed as ``feed_shape``. ``nv12`` is
    ``(width, height)`` when those bytes are a YUV420SP (NV12) image, which the stage can
    produce from a JPEG through DVPP.
    """

    name: str
    dtype: np.dtype
    item_shape: tuple
    feed_shape: tuple
    raw_bytes: int | None = None
    nv12: tuple | None = None

    @property
    def item_count(self) -> int:
        return self.raw_bytes if self.raw_bytes is not None else math.prod(self.item_shape)

    def describe(self) -> str:
        if self.raw_bytes is not None:
            what = f"{self.raw_bytes} bytes of raw uint8 image"
            if self.nv12 is not None:
                what += f" (YUV420SP {self.nv12[0]}x{self.nv12[1]})"
            return what
        return f"dtype {self.dtype.name}, shape {self.item_shape}"

    def check(self, array, index: int) -> np.ndarray:
        """``array`` as one item of this input (reshaped if only its shape differs).

        Raises ``ItemError`` naming what the input takes.
        """
        array = np.asarray(array)
        if array.dtype != self.dtype:
            raise ItemError(f"input {index} ({self.name!r}) got dtype {array.dtype.name}, "
                            f"shape {array.shape}; the model takes {self.describe()} per item")
        if array.shape == self.feed_shape:
            return array
        if array.size != self.item_count:
            raise ItemError(f"input {index} ({self.name!r}) got shape {array.shape} "
                            f"({array.size} elements); the model takes {self.describe()} "
                            f"per item")
        return array.reshape(self.feed_shape)


@dataclass(frozen=True)
class ModelSpec:
    """The model's inputs and outputs, and the batch sizes it runs (its gears)."""

    inputs: tuple
    outputs: tuple          # output names
    gears: tuple            # the batch sizes one execution may take, ascending
    dynamic: bool           # True: a dynamic-batch model (infer mode "dymbatch")

    @property
    def mode(self) -> str:
        return "dymbatch" if self.dynamic else "static"


def describe_model(session) -> ModelSpec:
    """Read ``session`` (an ``InferSession``, openacl's or Huawei's) into a ``ModelSpec``."""
    inputs = list(session.get_inputs())
    outputs = [desc.name for desc in session.get_outputs()]
    if not inputs:
        raise StageError("the model has no inputs: nothing to feed items into")
    dynamic = any(_batch_dim(desc) < 0 for desc in inputs)
    if dynamic:
        gears = _batch_gears(session)
    else:
        batches = {_batch_dim(desc) for desc in inputs}
        if len(batches) != 1 or 0 in batches:
            raise StageError(f"the inputs' batch axes (axis 0) disagree: "
                             f"{[list(d.shape) for d in inputs]}; the stage batches items "
                             f"along axis 0 of every input")
        gears = (batches.pop(),)
    specs = tuple(_input_spec(desc, index, gears[-1]) for index, desc in enumerate(inputs))
    return ModelSpec(specs, tuple(outputs), gears, dynamic)


def plan_runs(count: int, gears) -> list[tuple[int, int]]:
    """Split ``count`` items into executions: a list of ``(items, gear)``.

    Full runs of the largest gear first; then the rest goes into the smallest gear that
    holds it when that pads at most as many slots as it fills (one execution instead of
    several), else into the largest gear it fills exactly, and so on. A static model of
    batch ``B`` has the one gear ``B``: its last run is padded.
    """
    gears = sorted(set(gears))
    if not gears or gears[0] < 1:
        raise StageError(f"batch gears must be positive: {gears}")
    top = gears[-1]
    runs = []
    while count > 0:
        if count >= top:
            runs.append((top, top))
            count -= top
            continue
        fit = min(g for g in gears if g >= count)
        below = [g for g in gears if g <= count]
        if not below or fit <= 2 * count:
            runs.append((count, fit))
            count = 0
        else:
            runs.append((below[-1], below[-1]))
            count -= below[-1]
    return runs


# ---------------------------------------------------------------------- internals
def _batch_dim(desc) -> int:
    shape = list(desc.shape)
    if not shape:
        raise StageError(f"input {desc.name!r} is a scalar: the stage batches items along "
                         f"axis 0")
    return int(shape[0])


def _batch_gears(session) -> tuple:
    """The dynamic-batch gears: ``get_dynamic_batch`` where the session has it (openacl),
    else the largest gear alone (Huawei's ais_bench knows only that one)."""
    listing = getattr(session, "get_dynamic_batch", None)
    gears = []
    if listing is not None:
        gears = [int(g) for g in listing()]
    if not gears:
        try:
            gears = [int(session.get_max_dym_batchsize())]
        except RuntimeError as error:
            raise StageError(f"the model has a dynamic axis 0 but no dynamic batch gears "
                             f"({error}); the stage runs static and dynamic-batch models "
                             f"(atc --dynamic_batch_size)") from None
    return tuple(sorted(set(gears)))


def _input_spec(desc, index: int, largest: int) -> InputSpec:
    shape = [int(d) for d in desc.shape]
    item_shape = tuple(shape[1:])
    if any(d < 0 for d in item_shape):
        raise StageError(f"input {index} ({desc.name!r}) has dynamic dims {shape} beyond the "
                         f"batch axis: the stage runs static and dynamic-batch models, not "
                         f"dynamic image size, dims or shape ranges")
    dtype = _numpy_dtype(desc.datatype)
    batch = shape[0] if shape[0] > 0 else largest
    per_item = int(desc.size) // batch if batch else 0
    if per_item == math.prod(item_shape) * dtype.itemsize:
        return InputSpec(desc.name, dtype, item_shape, item_shape)
    # An AIPP input: raw image bytes per item (its dims are the model's [N, H, W, C]).
    if dtype != np.uint8 or len(item_shape) != 3:
        raise StageError(f"input {index} ({desc.name!r}) holds {per_item} bytes per item, not "
                         f"the {math.prod(item_shape) * dtype.itemsize} its dims {shape} "
                         f"need, and is not a uint8 [N, H, W, C] AIPP input")
    height, width = item_shape[0], item_shape[1]
    nv12 = (width, height) if per_item == width * height * 3 // 2 else None
    feed = (per_item // width, width, 1) if per_item % width == 0 else (per_item,)
    return InputSpec(desc.name, np.dtype(np.uint8), item_shape, feed, per_item, nv12)


def _numpy_dtype(datatype) -> np.dtype:
    name = getattr(datatype, "name", None) or str(datatype).rsplit(".", 1)[-1]
    return np.dtype(_DTYPE_NAMES.get(name, name))
