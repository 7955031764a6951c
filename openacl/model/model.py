"""Loaded models: ids, the context they belong to, their engine session and executor.

Model ids are small integers handed out in order (1, 2, ...), as ACL does. A model belongs
to the context current at load time; it is executed and unloaded in that context.
"""

from __future__ import annotations

import itertools
import math
import threading

import onnx

from openacl.constants import ErrorCode
from openacl.errors import (AclError, GeParamInvalid, InvalidParam, ModelContextMismatch,
                            ModelIdInvalid)
from openacl.model.description import ModelDescription, describe, infer_output_shapes
from openacl.model.executor import Executor
from openacl.model.om import OfflineModel
from openacl.model.ranged import RangedExecutor
from openacl.precision.policy import SettingError, open_session
from openacl.runtime import RUNTIME
from openacl.runtime.leaks import Leak, creation_site

__all__ = ["LoadedModel", "ModelRegistry", "MODELS", "query_sizes"]


class LoadedModel:
    """One loaded model. Creation is all-or-nothing: a failed load leaves nothing behind."""

    def __init__(self, model_id: int, offline: OfflineModel, context, user_memory=None):
        self.model_id = model_id
        self.offline = offline
        self.context = context
        self.description: ModelDescription = describe(offline)
        try:
            # The engine, its precision and the npu rewrite by the recorded precision mode
            # and the user's setting (openacl.precision.policy); self.precision says which.
            self.session, self.precision = open_session(offline, RUNTIME.config)
        except SettingError as error:   # a bad OPENACL_PRECISION / OPENACL_ENGINE value
            raise InvalidParam(f"cannot load model {offline.origin}: {error}") from None
        except Exception as error:  # noqa: BLE001 - the engine's refusal is a load failure
            # A graph the engine refuses (type errors, unknown operators) is a bad model
            # file: 145000, as for any other defect of the file (docs/fidelity.md).
            raise GeParamInvalid(f"the engine cannot load model {offline.origin}: "
                                 f"{error}") from None
        label = f"model {model_id}"
        if self.description.has_run_time_shapes:
            self.executor = RangedExecutor(self.session, self.description, label,
                                           lambda shapes: infer_output_shapes(offline, shapes))
        else:
            self.executor = Executor(self.session, self.description, label,
                                     context.device.backend if context is not None else None)
        _attach_dump(self)                    # openacl.dump hook: a recorder if selected
        self.user_memory = user_memory        # (work, weight) the program supplied, if any
        self.current_gear = None              # the gear last chosen, for get_cur_output_dims
        self.running = 0                      # executions in flight (two at once is reported)
        self._queued: dict = {}               # stream -> ticket of the last execution queued
        self.site = creation_site()           # where the program loaded it (OPENACL_LEAK_SITES)

    def __repr__(self):
        return f"<model {self.model_id} from {self.offline.origin}>"

    def check_context(self) -> None:
        current = RUNTIME.current_context()
        if current is not self.context:
            raise ModelContextMismatch(
                f"model {self.model_id} was loaded in {self.context!r}, but the current context "
                f"is {current!r}; call acl.rt.set_context with the model's context")

    def enqueue(self, stream, run, label: str) -> None:
        """Queue ``run`` (an execution of this model) on ``stream``, remembered until release."""
        # The newest ticket per stream is enough: a stream runs its tasks in order. A plain
        # dict store keeps execute_async's cost to one submit.
        self._queued[stream] = stream.submit(run, label)

    def settle(self) -> None:
        """Wait until every queued execution of this model has run (before release)."""
        for stream, ticket in self._queued.copy().items():
            stream.wait_for(ticket)
        self._queued.clear()

    def release(self) -> None:
        self.settle()                       # a queued execution must not meet a closed session
        if self.executor.dump is not None:  # openacl.dump hook: close the dump session
            from openacl.dump import DUMP

            DUMP.detach(self.executor)
        self.executor.release()
        self.session.close()


class ModelRegistry:
    """Model id -> loaded model."""

    def __init__(self):
        self._models: dict[int, LoadedModel] = {}
        self.by_id = self._models               # read-only view for hot paths
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def load(self, offline: OfflineModel, user_memory=None) -> LoadedModel:
        if not RUNTIME.initialized:
            raise AclError("models cannot be loaded before acl.init: call acl.init first",
                           ErrorCode.ACL_ERROR_GE_EXEC_NOT_INIT)
        context = RUNTIME.current_context()
        with self._lock:
            model_id = next(self._ids)
        model = LoadedModel(model_id, offline, context, user_memory)
        with self._lock:
            self._models[model_id] = model
        return model

    def get(self, model_id: int) -> LoadedModel:
        model = self._models.get(model_id)
        if model is None:
            raise ModelIdInvalid(f"model id {model_id} is not a loaded model (never loaded, or "
                                 f"already unloaded): use the id acl.mdl.load_* returned")
        return model

    def unload(self, model_id: int) -> None:
        model = self.get(model_id)
        model.check_context()
        with self._lock:
            self._models.pop(model_id, None)
        model.release()

    def live(self) -> list[LoadedModel]:
        return list(self._models.values())

    def release_all(self) -> None:
        with self._lock:
            models = list(self._models.values())
            self._models.clear()
            self._ids = itertools.count(1)
        for model in models:
            model.release()

    def leak_report(self) -> list[Leak]:
        return [Leak("model", f"id {m.model_id}", len(m.offline.data), m.site)
                for m in self.live()]


MODELS = ModelRegistry()
RUNTIME.add_teardown_hook("models", MODELS.release_all, MODELS.leak_report)


def _attach_dump(model: LoadedModel) -> None:
    """openacl.dump hook: give the model a dump recorder when a dump config selects it; a
    dump that cannot be set up is logged and the model runs undumped."""
    from openacl.dump import DUMP

    try:
        DUMP.attach(model)
    except Exception as error:  # noqa: BLE001 - dumping must never stop a model loading
        import logging

        logging.getLogger("openacl").warning("model %s: dump not set up: %s",
                                             model.model_id, error)


def query_sizes(offline: OfflineModel) -> tuple[int, int]:
    """(work size, weight size) in bytes: what the model needs beside its weights, and these.

    Work memory is estimated as every intermediate tensor of the graph at once (an upper
    bound of what an engine keeps alive), with the inputs and outputs.
    """
    description = describe(offline)              # refuses what no program could load
    graph = offline.proto.graph
    weights = 0
    for tensor in graph.initializer:
        if any(d < 0 for d in tensor.dims):
            raise GeParamInvalid(f"model {offline.origin}: weight {tensor.name!r} has negative "
                                 f"dims {list(tensor.dims)}")
        weights += math.prod(tensor.dims) * _itemsize(tensor.data_type, tensor.name)
    try:
        inferred = onnx.shape_inference.infer_shapes(offline.proto, strict_mode=False)
        values = list(inferred.graph.value_info) + list(inferred.graph.output)
    except Exception:  # noqa: BLE001 - an estimate without inference is still an estimate
        values = list(graph.output)
    work = sum(t.size for t in description.inputs)
    for value in values:
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
        if dims and all(d > 0 for d in dims):
            work += math.prod(dims) * _itemsize(value.type.tensor_type.elem_type, value.name)
    for what, size in (("work", work), ("weight", weights)):
        if size >= _SIZE_LIMIT:
            raise GeParamInvalid(f"model {offline.origin} needs {size} bytes of {what} memory, "
                                 f"more than any device holds: its shapes are corrupt")
    return _round_up(max(work, 64)), _round_up(weights)


_SIZE_LIMIT = 2**63        # bytes: acl.mdl.query_size answers size_t values


def _itemsize(elem_type: int, name: str) -> int:
    try:
        return onnx.helper.tensor_dtype_to_np_dtype(elem_type).itemsize
    except KeyError:
        raise GeParamInvalid(f"tensor {name!r} has ONNX element type {elem_type}, which ONNX "
                             f"does not define") from None


def _round_up(size: int) -> int:
    return -(-size // 32) * 32
