"""How a session reads the caller's feeds: arrays, checks against the model's inputs, the
gear their shapes name, batch padding, and the output sizes of shape-range models."""

from __future__ import annotations

import math

import numpy as np

from openacl.constants import DataType
from openacl.model.description import TensorInfo
from openacl.session_tensors import DeviceTensor, SessionError

__all__ = ["numpy_dtype", "as_array", "describe", "check_dtype", "check_arrays", "gear_list",
           "dynamic_values", "choose_gear", "pad_batch", "batch_axes", "cut_batch",
           "custom_sizes"]

def numpy_dtype(tensor: TensorInfo) -> np.dtype:
    """The numpy dtype of a tensor's buffer (raw uint16 for bfloat16, which numpy lacks)."""
    return np.dtype(np.uint16) if tensor.data_type == DataType.ACL_BF16 else tensor.dtype


def as_array(feed):
    """A C-contiguous numpy array (or a DeviceTensor) for one feed."""
    if isinstance(feed, np.ndarray):
        return np.ascontiguousarray(feed)
    if isinstance(feed, DeviceTensor):
        return feed
    if isinstance(feed, np.generic):
        return np.array(feed).reshape(1)
    numpy = getattr(feed, "numpy", None)
    if callable(numpy):                   # torch tensors, and anything shaped like them
        detach = getattr(feed, "detach", None)
        if callable(detach):
            feed = detach()
            cpu = getattr(feed, "cpu", None)
            feed = cpu() if callable(cpu) else feed
        return np.ascontiguousarray(feed.numpy())
    raise SessionError(f"type:{type(feed)} invalid (feeds are numpy arrays, numpy scalars, "
                       f"torch tensors or device tensors)")


def describe(tensor: TensorInfo, shape) -> str:
    count = 1
    for d in shape:
        count *= d
    return (f"dtype {numpy_dtype(tensor).name}, shape {tuple(shape)} "
            f"({count * tensor.itemsize} bytes)")


def check_dtype(array, tensor: TensorInfo, index: int) -> None:
    if array.dtype != numpy_dtype(tensor):
        raise SessionError(f"input {index} ({tensor.name!r}) has dtype {array.dtype.name}; the "
                           f"model takes {numpy_dtype(tensor).name} (dims {tensor.dims})")


def check_arrays(arrays, tensors, shapes) -> None:
    """Each array must have its input's dtype and shape, or its element count (a flat array
    of the right size is accepted, as ais_bench compares sizes). An AIPP input takes its raw
    image bytes (at most ``max_src_image_size`` of them for dynamic AIPP)."""
    for index, (array, tensor, shape) in enumerate(zip(arrays, tensors, shapes)):
        if array.shape == shape and array.dtype == numpy_dtype(tensor):
            continue
        check_dtype(array, tensor, index)
        count = math.prod(array.shape)
        if tensor.aipp is not None:
            need = math.prod(shape)
            if count == need or tensor.aipp.dynamic and 0 < count <= need:
                continue
            raise SessionError(f"input {index} ({tensor.name!r}) holds {count} bytes; the "
                               f"model's AIPP input takes "
                               f"{'at most ' if tensor.aipp.dynamic else ''}{need} bytes of "
                               f"raw uint8 image (dims {tensor.dims})")
        if count != math.prod(shape):
            raise SessionError(f"input {index} ({tensor.name!r}) has shape {array.shape} "
                               f"({array.nbytes} bytes); the model takes "
                               f"{describe(tensor, shape)}")


def gear_list(gears) -> list:
    return [g[0] if gears.kind == "batch" else list(g) for g in gears.values]


def dynamic_values(gears, tensors, arrays):
    """The values of the arrays' dynamic axes, in the gears' input order."""
    by_name = {t.name: a for t, a in zip(tensors, arrays)}
    values = []
    for name in gears.input_order:
        dims = gears.input_dims[name]
        array = by_name.get(name)
        if array is None:
            continue
        if array.ndim != len(dims):
            index = [t.name for t in tensors].index(name)
            raise SessionError(f"input datas and intensors dim not matched! Input {index} "
                               f"({name!r}) has shape {array.shape}; the model takes dims "
                               f"{dims} (-1: dynamic)")
        values.extend(array.shape[axis] for axis, d in enumerate(dims) if d == -1)
    return values


def choose_gear(gears, tensors, arrays):
    """(gear, real batch to cut back to, or None) for the arrays."""
    values = dynamic_values(gears, tensors, arrays)
    if gears.kind == "batch":
        batches = set(values)
        if len(batches) != 1:
            raise SessionError(f"input datas and intensors dim not matched! The inputs' "
                               f"batch axes disagree: {values}")
        (batch,) = batches
        fitting = sorted(g for g in gears.values if g[0] >= batch)
        if not fitting:
            raise SessionError(f"batch {batch} is larger than the largest batch gear "
                               f"{max(g[0] for g in gears.values)} of the model (gears "
                               f"{gear_list(gears)}): split it")
        gear = fitting[0]
        return gear, (batch if gear[0] != batch else None)
    gear = tuple(values)
    if gears.kind == "hw":
        gear = tuple(values[:2])
        if len(set(zip(values[0::2], values[1::2]))) > 1:
            raise SessionError(f"the inputs' dynamic H, W disagree: {values}")
    if gear not in gears.values:
        what = "image size (h, w)" if gears.kind == "hw" else "dims"
        raise SessionError(f"the inputs' {what} {list(gear)} is not a gear of the model; "
                           f"its gears are {gear_list(gears)}")
    return gear, None


def pad_batch(arrays, tensors, gears, gear_batch: int) -> None:
    """Pad each batched array with zeros along its dynamic axis up to ``gear_batch``."""
    for index, tensor in enumerate(tensors):
        dims = gears.input_dims.get(tensor.name)
        if dims is None:
            continue
        array = arrays[index]
        if array.__class__ is DeviceTensor:
            array = arrays[index] = np.asarray(array.to_host())
        widths = [(0, gear_batch - array.shape[axis]) if d == -1 else (0, 0)
                  for axis, d in enumerate(dims)]
        arrays[index] = np.pad(array, widths)


def batch_axes(gears, gear) -> dict[int, int]:
    """Output index -> the axis that follows the batch (differs between gears, equals it)."""
    shapes = [gears.output_shapes[g] for g in gears.values]
    axes = {}
    for index, shape in enumerate(gears.output_shapes[gear]):
        for axis, size in enumerate(shape):
            varies = len({s[index][axis] for s in shapes}) > 1
            if size == gear[0] and (varies or len(gears.values) == 1):
                axes[index] = axis
                break
    return axes


def cut_batch(array, axis: int, batch: int):
    """The first ``batch`` entries of ``array`` along ``axis`` (a view)."""
    index = [slice(None)] * array.ndim
    index[axis] = slice(0, batch)
    return array[tuple(index)]


def custom_sizes(custom_sizes, outputs, dymshape: bool) -> list[int]:
    """Bytes for each output of a shape-range model."""
    if isinstance(custom_sizes, bool) or not isinstance(custom_sizes, (int, list, tuple)):
        raise SessionError(f"custom_sizes:{custom_sizes} type:{type(custom_sizes)} invalid")
    if isinstance(custom_sizes, int):
        sizes = [custom_sizes] * len(outputs)
    else:
        sizes = list(custom_sizes)
        if len(sizes) != len(outputs):
            raise SessionError(f"custom_sizes gives {len(sizes)} sizes; the model has "
                               f"{len(outputs)} outputs")
    if not dymshape:                         # static mode: the model's own sizes first
        sizes = [t.size or size for t, size in zip(outputs, sizes)]
    for size in sizes:
        if not isinstance(size, int) or size <= 0:
            raise SessionError(f"custom_sizes must be positive ints, not {custom_sizes!r}")
    return sizes
