"""Executing shape-range models (``atc --input_shape_range``, or an ONNX with free axes).

The program gives each dynamic input's real shape with ``acl.mdl.set_dataset_tensor_desc``;
after the run, the output dataset's tensor descs hold the real output dims. Outputs are
bound in place when their shapes can be inferred from the input shapes (checked against the
caller's buffers first: never an overflow); otherwise the engine allocates them and they
are copied into the caller's buffers, again only if they fit.
"""

from __future__ import annotations

import ctypes

from openacl.constants import ErrorCode
from openacl.errors import AclError, GeParamInvalid, ModelExecuteFailed
from openacl.model.dataset import Dataset, TensorDesc
from openacl.model.executor import _CACHE_LIMIT, BoundRun, Executor, _nbytes
from openacl.runtime.handles import handles

__all__ = ["RangedExecutor"]


class RangedExecutor(Executor):
    """An executor whose input shapes come from the input dataset's tensor descs."""

    def __init__(self, session, description, model_label, infer_output_shapes):
        super().__init__(session, description, model_label)
        self._infer = infer_output_shapes
        self._inferred: dict[tuple, list | None] = {}

    def execute(self, inputs: Dataset, outputs: Dataset, allocate_outputs: bool = True) -> None:
        bound = self._bound_for(inputs, outputs, allocate_outputs)
        self.run(bound)
        if bound.outputs is None:                   # the engine allocated the outputs
            try:
                results = bound.binding.engine_outputs()
            except Exception as error:  # noqa: BLE001 - an engine failing to hand back a type
                raise ModelExecuteFailed(f"{self.label} ran, but the engine cannot hand back "
                                         f"its outputs: {error}") from None
            dims = [self._copy_out(outputs, i, array) for i, array in enumerate(results)]
        else:
            dims = [shape for _, shape in bound.outputs]
        self._record_output_dims(outputs, dims)

    def prepare(self, inputs: Dataset, outputs: Dataset) -> None:
        self._bound_for(inputs, outputs, allocate_outputs=False)

    def _bound_for(self, inputs: Dataset, outputs: Dataset, allocate_outputs: bool) -> BoundRun:
        shapes = self._input_shapes(inputs)
        key = (inputs.handle, outputs.handle, tuple(shapes.values()))
        stamp = self.stamp(inputs, outputs)
        bound = self._cache.get(key)
        if bound is None or bound.stamp != stamp:
            self._check_counts(inputs, outputs)
            bound = self._bind_ranged(inputs, outputs, shapes, allocate_outputs, stamp)
            _remember(self._cache, key, bound)
        return bound

    def _input_shapes(self, inputs: Dataset) -> dict[str, tuple]:
        shapes = {}
        for index, tensor in enumerate(self.description.data_inputs):
            desc = inputs.tensor_descs.get(index)
            if desc is None:
                if -1 in tensor.dims:
                    raise GeParamInvalid(
                        f"input {index} ({tensor.name!r}) of {self.label} has dynamic dims "
                        f"{tensor.dims}: give its shape with acl.create_tensor_desc and "
                        f"acl.mdl.set_dataset_tensor_desc before executing")
                shapes[tensor.name] = tuple(tensor.dims)
                continue
            dims = list(desc.dims)
            ranges = tensor.shape_range or [[d, d] for d in tensor.dims]
            fits = len(dims) == len(ranges) and all(
                d >= 0 and low <= d and (high < 0 or d <= high) for d, (low, high) in zip(dims, ranges))
            if not fits:
                raise AclError(f"input {index} ({tensor.name!r}) shape {dims} is outside the "
                               f"model's range {ranges} (the shape given with "
                               f"acl.mdl.set_dataset_tensor_desc)",
                               ErrorCode.ACL_ERROR_GE_SHAPE_INVALID)
            shapes[tensor.name] = tuple(dims)
        return shapes

    def _bind_ranged(self, inputs, outputs, shapes, allocate_outputs, stamp) -> BoundRun:
        self._foreign = []
        binding = self.session.new_binding()
        for index, tensor in enumerate(self.description.data_inputs):
            shape = shapes[tensor.name]
            address = self._checked(inputs.buffers[index], _nbytes(shape, tensor),
                                    f"input {index} ({tensor.name!r})", write=False,
                                    size_checked=False)
            binding.bind_input(tensor.name, tensor.engine_type, shape, address)
        key = tuple(shapes.values())
        if key not in self._inferred:
            try:
                inferred = self._infer(shapes)
            except Exception:  # noqa: BLE001 - unknown shapes: the engine allocates outputs
                inferred = None
            _remember(self._inferred, key, inferred)
        inferred = self._inferred[key]
        bound_outputs = None
        if inferred is not None and all(-1 not in s for s in inferred):
            bound_outputs = []
            for index, (tensor, shape) in enumerate(zip(self.description.outputs, inferred)):
                buffer = outputs.buffers[index]
                if buffer.address == 0 and buffer.size == 0 and allocate_outputs:
                    raise GeParamInvalid(f"output {index} of a shape-range model needs a buffer: "
                                         f"its size is known only at run time")
                address = self._checked(buffer, _nbytes(shape, tensor),
                                        f"output {index} ({tensor.name!r})", write=True,
                                        size_checked=False)
                binding.bind_output(tensor.name, tensor.engine_type, tuple(shape), address)
                bound_outputs.append((tensor.name, list(shape)))
        else:
            for tensor in self.description.outputs:
                binding.bind_output_to_engine(tensor.name)
        return BoundRun(binding, self._runner(binding), stamp, inputs, outputs,
                        list(shapes.items()), bound_outputs)

    def _copy_out(self, outputs: Dataset, index: int, array) -> list[int]:
        buffer = outputs.buffers[index]
        tensor = self.description.outputs[index]
        what = f"output {index} ({tensor.name!r})"
        address = self._checked(buffer, array.nbytes, what, write=True, size_checked=False)
        ctypes.memmove(address, array.ctypes.data, array.nbytes)
        return list(array.shape)

    def _record_output_dims(self, outputs: Dataset, dims_list) -> None:
        # Written without bumping the dataset's version: the binding stays valid.
        for index, (tensor, dims) in enumerate(zip(self.description.outputs, dims_list)):
            desc = outputs.tensor_descs.get(index)
            if desc is None or not getattr(desc, "made_by_runtime", False):
                desc = TensorDesc(tensor.data_type, dims, tensor.format)
                desc.made_by_runtime = True
                desc.name = tensor.name
                handles.register(desc)
                outputs.tensor_descs[index] = desc
            else:
                desc.dims = list(dims)


def _remember(cache: dict, key, value) -> None:
    """Keep at most ``_CACHE_LIMIT`` shapes (the oldest goes): a program feeding ever new
    shapes must not grow the executor without bound."""
    if key not in cache and len(cache) >= _CACHE_LIMIT:
        cache.pop(next(iter(cache)))
    cache[key] = value
