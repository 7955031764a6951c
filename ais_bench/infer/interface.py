"""ais_bench's Python API on openacl: ``InferSession``, ``MultiDeviceSession``, ``MemorySummary``.

Programs written against Huawei's ``ais_bench.infer.interface`` run unchanged: the same
classes, methods, argument names and defaults, descriptions with the same attributes, and
``RuntimeError`` with ais_bench's messages where programs match on them. The work is done by
``openacl.infer_session.ModelSession`` (numpy in, numpy out, device memory bound once).

openacl extensions (documented where they are defined): ``InferSession.last_timings()`` and
``InferSession.timings`` (each inference split into H2D / compute / D2H ms), mode names also
spelled ``dynbatch`` / ``dynhw`` / ``dyndims`` / ``dynshape``, and a batch that is not a gear
of a dynamic-batch model padded to the next gear (ais_bench refuses it).
"""

from __future__ import annotations

import enum
import logging
import os
import threading
import time
import numpy as np

from ais_bench.infer import dym_aipp_manager
from openacl.errors import AclError
from openacl.infer_session import (COPY_TIMES, DeviceTensor, ModelSession, SessionError,
                                   finalize_sessions)
from openacl.model.aipp_dynamic import DynamicAipp

__all__ = ["InferSession", "MultiDeviceSession", "MemorySummary", "TensorDesc", "dtype",
           "Summary", "Tensor"]

logger = logging.getLogger(__name__)

Tensor = DeviceTensor            # what ais_bench calls aclruntime.Tensor
_DEVICE_RANGE = (0, 255)


class dtype(enum.Enum):
    """``aclruntime.dtype``: a tensor's data type; the values are aclDataType codes."""

    float32 = 0
    float16 = 1
    int8 = 2
    int32 = 3
    uint8 = 4
    int16 = 6
    uint16 = 7
    uint32 = 8
    int64 = 9
    uint64 = 10
    double64 = 11
    bool = 12

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value


class TensorDesc:
    """``aclruntime.tensor_desc``: one model input or output as ``get_inputs`` reports it.

    ``shape`` has -1 on dynamic axes; ``size`` is the bytes of the largest gear (0 when a
    shape range is unbounded); ``realsize`` the bytes the current gear or shape needs.
    """

    __slots__ = ("name", "datatype", "format", "shape", "size", "realsize")

    def __init__(self, name, datatype, format_, shape, size, realsize):
        self.name = name
        self.datatype = datatype
        self.format = format_
        self.shape = shape
        self.size = size
        self.realsize = realsize

    def __repr__(self):
        return (f"<tensor_desc {self.name} {self.datatype.name} format={self.format} "
                f"shape={self.shape} size={self.size} realsize={self.realsize}>")


class Summary:
    """``aclruntime.sumary``: ``exec_time_list`` is every execution's time in ms, in order.

    openacl adds ``h2d_time_list`` and ``d2h_time_list`` (ms per inference).
    """

    def __init__(self, session: ModelSession):
        self.exec_time_list = session.exec_times
        self.h2d_time_list = session.h2d_times
        self.d2h_time_list = session.d2h_times


class InferSession:
    """A model loaded on one device (``ais_bench.infer.interface.InferSession``).

    Parameters
    ----------
    device_id
        The device (openacl emulates ``OPENACL_DEVICE_COUNT`` of them, default 1).
    model_path
        An openacl ``.om`` made by openacl's ``atc`` (or a plain ``.onnx``).
    acl_json_path
        The ``acl.init`` configuration (dump / profiling); used when this is the first
        session of the process.
    debug
        Log the model's inputs and outputs (``logging`` at DEBUG).
    loop
        Executions per inference.

    Beyond ais_bench, ``timings`` holds one ``{"h2d": ms, "compute": ms, "d2h": ms}`` per
    inference (``compute`` covers all ``loop`` executions) and ``last_timings()`` the last.
    """

    def __init__(self, device_id: int, model_path: str, acl_json_path: str = None,
                 debug: bool = False, loop: int = 1):
        _check_model_path(model_path)
        _check_acl_json_path(acl_json_path)
        _check_device(device_id)
        _check_loop(loop)
        self.device_id = device_id
        self.model_path = model_path
        self.acl_json_path = acl_json_path
        self.debug = debug
        self.loop = loop
        with _runtime_errors():
            self.session = ModelSession(model_path, device_id, loop, acl_json_path)
        self._mode = "static"                 # what set_staticbatch / set_dynamic_* chose
        self._gear = None
        self._custom_sizes = 100000
        self._aipp = None                     # the dynamic AIPP parameters being built
        self._inner = None                    # first_inner_run / inner_run: device outputs
        self._inner_args = None
        self._realsizes = [t.size for t in self.session.inputs]
        self.outputs_names = [t.name for t in self.session.outputs]
        self.intensors_desc = self.get_inputs()
        self.outtensors_desc = self.get_outputs()
        if debug:
            logger.debug("%r: inputs %s outputs %s", self.session, self.intensors_desc,
                         self.outtensors_desc)

    def __repr__(self):
        return f"<InferSession {self.model_path!r} device {self.device_id}>"

    # ------------------------------------------------------------------ descriptions
    def get_inputs(self) -> list[TensorDesc]:
        """The model's inputs (``ascend_mbatch_shape_data`` and dynamic-AIPP data excluded)."""
        self.intensors_desc = [_desc(t, real) for t, real in
                               zip(self.session.inputs, self._realsizes)]
        return self.intensors_desc

    def get_outputs(self) -> list[TensorDesc]:
        self.outtensors_desc = [_desc(t, t.size) for t in self.session.outputs]
        return self.outtensors_desc

    # ------------------------------------------------------------------ inference
    def infer(self, feeds, mode: str = "static", custom_sizes=100000, out_array: bool = True):
        """Infer one set of inputs; return the outputs (numpy arrays, or device ``Tensor``
        objects when ``out_array`` is False).

        ``mode``: ``'static'``, ``'dymbatch'``, ``'dymhw'``, ``'dymdims'`` or ``'dymshape'``
        (also spelled ``dyn...``); ``custom_sizes``: bytes for each output (an int) or per
        output (a list), for ``'dymshape'``. In ``'dymbatch'``, a batch that is not a gear
        is padded with zeros to the smallest gear above it and the outputs are cut back to
        it (openacl; ais_bench refuses such a batch). Feeds must have the inputs' dtypes and
        shapes (or their element counts); a mismatch raises ``RuntimeError`` naming what
        the input takes.
        """
        if out_array is not True and out_array is not False:
            raise TypeError(f"out_array:{out_array} is not a bool!")
        try:
            outputs = self.session.run(feeds, mode, custom_sizes, out_array)
        except AclError as error:
            raise RuntimeError(error.message) from error
        if self.session.gears is not None or self.session.ranged:
            self._note_realsizes()
        return outputs

    def infer_pipeline(self, feeds_list, mode: str = "static", custom_sizes=100000):
        """Infer several sets of inputs; return one list of numpy outputs per set.

        On openacl the sets run one after the other: copies are host memory moves, so
        overlapping them with the computation (ais_bench's threads) saves nothing.
        """
        with _runtime_errors():
            results = [self.session.run(feeds, mode, custom_sizes) for feeds in feeds_list]
        self._note_realsizes()
        return results

    def infer_iteration(self, feeds, in_out_list=None, iteration_times: int = 1,
                        mode: str = "static", custom_sizes=100000, mem_copy: bool = True):
        """Infer ``iteration_times`` times, input ``i`` taking output ``in_out_list[i]`` of
        the previous iteration (``-1``: its own data again); return the last outputs.

        Outputs move to inputs by device-to-device copies (``mem_copy`` False, ais_bench's
        buffer sharing, is accepted and copies too).
        """
        if not isinstance(iteration_times, int) or iteration_times < 1:
            raise RuntimeError(f"iteration_times:{iteration_times} is not a positive integer")
        if in_out_list is None:
            in_out_list = [-1] * len(self.session.inputs)
        with _runtime_errors():
            outputs = self.session.iterate(feeds, list(in_out_list), iteration_times, mode,
                                           custom_sizes)
        self._note_realsizes()
        return outputs

    def run(self, feeds, out_array: bool = False):
        """Infer with the mode and gear set by ``set_staticbatch`` / ``set_dynamic_*`` (each
        feed then needs only the gear's size: flat byte buffers are fine)."""
        with _runtime_errors():
            outputs = self.session.run(feeds, self._mode, self._custom_sizes, out_array,
                                       self._gear)
        self._note_realsizes()
        return outputs

    def first_inner_run(self, feeds, mode: str = "static", custom_sizes=100000) -> None:
        """Infer once and keep the outputs on the device for ``inner_run``."""
        self._drop_inner()
        with _runtime_errors():
            self._inner = self.session.run(feeds, mode, custom_sizes, out_array=False)
        self._inner_args = (list(feeds), mode, custom_sizes)
        self._note_realsizes()

    def inner_run(self, in_out_list, get_outputs: bool = False, mem_copy: bool = True):
        """Infer again, input ``i`` taking output ``in_out_list[i]`` of the previous run
        (``-1``: the data ``first_inner_run`` gave it). Returns the outputs as device
        tensors when ``get_outputs``, else None."""
        if self._inner is None:
            raise RuntimeError("call first_inner_run first")
        feeds, mode, custom_sizes = self._inner_args
        if len(in_out_list) != len(feeds):
            raise RuntimeError("inputs' amount and length of in_out_list not matched!")
        arrays = [feeds[i] if source < 0 else self._inner[source]
                  for i, source in enumerate(in_out_list)]
        with _runtime_errors():
            outputs = self.session.run(arrays, mode, custom_sizes, out_array=False)
        self._drop_inner()
        self._inner = outputs
        return outputs if get_outputs else None

    # ------------------------------------------------------------------ modes
    def set_context(self) -> None:
        """Make this session's context the calling thread's current context."""
        self.session.make_current()

    def set_loop_count(self, loop: int) -> None:
        _check_loop(loop)
        self.loop = self.session.loop = loop

    def set_staticbatch(self) -> None:
        self._mode, self._gear = "static", None

    def set_dynamic_batchsize(self, dym_batch) -> None:
        self._gear = self._check_gear("batch", "dymbatch", (int(dym_batch),))
        self._mode = "dymbatch"

    def set_dynamic_hw(self, w: int, h: int) -> None:
        """Choose an image-size gear. As in ais_bench (whose callers pass ``shape[2],
        shape[3]``), the first value is the height and the second the width."""
        self._gear = self._check_gear("hw", "dymhw", (int(w), int(h)))
        self._mode = "dymhw"

    def set_dynamic_dims(self, dym_dims: str) -> None:
        """Choose a dims gear: ``"name:d0,d1;name2:d0"``."""
        shapes = _parse_shapes(dym_dims)
        gears = self.session.gears
        if gears is None or gears.kind != "dims":
            raise RuntimeError("the dynamic_dims parameter is not specified for model "
                               "conversion")
        values = [d for name in gears.input_order
                  for d, want in zip(shapes.get(name, ()), gears.input_dims[name]) if want == -1]
        self._gear = self._check_gear("dims", "dymdims", tuple(values))
        self._mode = "dymdims"

    def set_dynamic_shape(self, dym_shape: str) -> None:
        _parse_shapes(dym_shape)
        self._mode, self._gear = "dymshape", None

    def set_custom_outsize(self, custom_sizes) -> None:
        self._custom_sizes = list(custom_sizes) if isinstance(custom_sizes, (list, tuple)) \
            else custom_sizes

    def get_max_dym_batchsize(self) -> int:
        gears = self.session.gears
        if gears is None or gears.kind != "batch":
            raise RuntimeError("not a dymbatch model!")
        return max(g[0] for g in gears.values)

    def get_dynamic_batch(self) -> list[int]:
        """The batch gears (empty for other models)."""
        gears = self.session.gears
        return [g[0] for g in gears.values] if gears is not None and gears.kind == "batch" \
            else []

    def get_dynamic_hw(self) -> list[list[int]]:
        """The image-size gears as [h, w] (empty for other models)."""
        gears = self.session.gears
        return [list(g) for g in gears.values] if gears is not None and gears.kind == "hw" \
            else []

    def get_dynamic_dims(self) -> list[list[int]]:
        """The dims gears: every input's dims, concatenated (empty for other models)."""
        from openacl.model.dynamic import full_dims

        gears = self.session.gears
        return [full_dims(gears, g) for g in gears.values] \
            if gears is not None and gears.kind == "dims" else []

    # ------------------------------------------------------------------ tensors
    def create_tensor_from_arrays_to_device(self, arrays):
        return self.session.device_tensor(arrays)

    def create_tensor_from_fileslist(self, desc: TensorDesc, files) -> Tensor:
        """A device tensor of ``desc``'s shape and dtype filled with the files' bytes, one
        after the other (ais_bench pads the rest with zeros)."""
        shape = [max(d, 1) for d in desc.shape]
        array = np.zeros(shape, _numpy_of(desc.datatype))
        flat = array.reshape(-1).view(np.uint8)
        offset = 0
        for path in files:
            data = np.fromfile(path, np.uint8)
            if offset + data.size > flat.size:
                raise RuntimeError(f"file {path} ({data.size} bytes) overruns the "
                                   f"{flat.size} bytes of input {desc.name!r}")
            flat[offset:offset + data.size] = data
            offset += data.size
        return self.session.device_tensor(array)

    @staticmethod
    def convert_tensors_to_host(tensors) -> None:
        for tensor in tensors:
            tensor.to_host()

    @staticmethod
    def convert_tensors_to_arrays(tensors) -> list[np.ndarray]:
        return [np.array(tensor) for tensor in tensors]

    # ------------------------------------------------------------------ dynamic AIPP
    def get_dym_aipp_input_exist(self) -> int:
        return 1 if self.session.has_dynamic_aipp else 0

    def check_dym_aipp_input_exist(self) -> None:
        if not self.session.has_dynamic_aipp:
            raise RuntimeError("the model has no dynamic AIPP input (ascend_dynamic_aipp_data)")

    def load_aipp_config_file(self, config_file: str, batchsize: int) -> int:
        """Read ais_bench's ``--aipp_config`` file (an ``[aipp_op]`` section) and set it as
        the dynamic AIPP parameters of every image of the batch."""
        self.check_dym_aipp_input_exist()
        self._aipp = dym_aipp_manager.parameters_from_file(config_file, batchsize)
        with _runtime_errors(dym_aipp_manager.WRONG_CONFIG):
            self.session.set_dynamic_aipp(self._aipp)
        return 0

    # ais_bench's per-field readers (each checks its field and records it).
    def aipp_set_input_format(self, cfg) -> None:
        dym_aipp_manager.input_format(self._aipp_params(), cfg)

    def aipp_set_src_image_size(self, cfg) -> None:
        dym_aipp_manager.src_image_size(self._aipp_params(), cfg)

    def aipp_set_rbuv_swap_switch(self, cfg, option_list) -> None:
        dym_aipp_manager.rbuv_swap_switch(self._aipp_params(), cfg, option_list)

    def aipp_set_ax_swap_switch(self, cfg, option_list) -> None:
        dym_aipp_manager.ax_swap_switch(self._aipp_params(), cfg, option_list)

    def aipp_set_csc_params(self, cfg, option_list) -> None:
        dym_aipp_manager.csc_params(self._aipp_params(), cfg, option_list)

    def aipp_set_crop_params(self, cfg, option_list) -> None:
        dym_aipp_manager.crop_params(self._aipp_params(), cfg, option_list)

    def aipp_set_padding_params(self, cfg, option_list) -> None:
        dym_aipp_manager.padding_params(self._aipp_params(), cfg, option_list)

    def aipp_set_dtc_pixel_mean(self, cfg, option_list) -> None:
        dym_aipp_manager.dtc_pixel_mean(self._aipp_params(), cfg, option_list)

    def aipp_set_dtc_pixel_min(self, cfg, option_list) -> None:
        dym_aipp_manager.dtc_pixel_min(self._aipp_params(), cfg, option_list)

    def aipp_set_pixel_var_reci(self, cfg, option_list) -> None:
        dym_aipp_manager.pixel_var_reci(self._aipp_params(), cfg, option_list)

    def set_dym_aipp_info_set(self) -> None:
        """Write the parameters the ``aipp_set_*`` calls recorded into the model's dynamic
        AIPP input (``load_aipp_config_file`` does this itself)."""
        with _runtime_errors(dym_aipp_manager.WRONG_CONFIG):
            self.session.set_dynamic_aipp(self._aipp_params())

    # ------------------------------------------------------------------ summaries
    def summary(self) -> Summary:
        """The execution times: ``summary().exec_time_list`` (ms, one per execution)."""
        return Summary(self.session)

    def reset_summaryinfo(self) -> None:
        self.session.reset_times()

    def last_timings(self) -> dict | None:
        """openacl: ``{"h2d": ms, "compute": ms, "d2h": ms}`` of the last inference."""
        return self.session.last_timings()

    @property
    def timings(self) -> list[dict]:
        """openacl: one ``{"h2d", "compute", "d2h"}`` dict (ms) per inference, in order."""
        return self.session.timings

    # ------------------------------------------------------------------ release
    def free_resource(self) -> None:
        """Release this session's model and device memory (the runtime stays up)."""
        self._inner = None
        self.session.close()

    @staticmethod
    def finalize() -> None:
        """Release every session and finalize the runtime (if a session initialized it)."""
        finalize_sessions()

    # ------------------------------------------------------------------ internals
    def _drop_inner(self) -> None:
        for tensor in self._inner or ():
            tensor.free()
        self._inner = None

    def _check_gear(self, kind: str, mode: str, gear: tuple) -> tuple:
        gears = self.session.gears
        if gears is None or gears.kind != kind:
            raise RuntimeError(f"not a {mode} model!")
        if gear not in gears.values:
            shown = [g[0] for g in gears.values] if kind == "batch" else \
                [list(g) for g in gears.values]
            raise RuntimeError(f"{list(gear) if kind != 'batch' else gear[0]} is not a gear "
                               f"of the model: its {kind} gears are {shown}")
        return gear

    def _note_realsizes(self) -> None:
        """Keep ``realsize`` as ais_bench does: the bytes the last inference's gear or
        shapes took."""
        session = self.session
        if session.gears is not None or session.ranged:
            self._realsizes = [_nbytes(shape, t) for shape, t in
                               zip(session.current_input_shapes(), session.inputs)]

    def _aipp_params(self) -> DynamicAipp:
        if self._aipp is None:
            batch = self.session.inputs[0].dims[0] if self.session.inputs else 1
            self._aipp = DynamicAipp(max(batch, 1))
        return self._aipp


class MultiDeviceSession:
    """Inference on several devices at once (``ais_bench``'s ``MultiDeviceSession``).

    Each set of feeds runs in its own worker with its own ``InferSession`` on its device
    (threads here: openacl's devices live in this process, and the engine releases the
    GIL while it computes). ``summary`` maps each device to the end-to-end ms of each of
    its workers (model loading included), as in ais_bench; it is both a dict and callable.
    """

    def __init__(self, model_path: str, acl_json_path: str = None, debug: bool = False,
                 loop: int = 1):
        _check_model_path(model_path)
        _check_acl_json_path(acl_json_path)
        _check_loop(loop)
        self.model_path = model_path
        self.acl_json_path = acl_json_path
        self.debug = debug
        self.loop = loop
        self.summary = _CallableDict()

    def infer(self, device_feeds: dict, mode: str = "static", custom_sizes=100000):
        """``{device_id: [feeds, ...]}`` -> ``{device_id: [outputs, ...]}``."""
        return self._run(device_feeds, lambda s, feeds: s.infer(feeds, mode, custom_sizes))

    def infer_pipeline(self, device_feeds_list: dict, mode: str = "static",
                       custom_sizes=100000):
        """``{device_id: [feeds_list, ...]}`` -> ``{device_id: [[outputs, ...], ...]}``."""
        return self._run(device_feeds_list,
                         lambda s, feeds_list: s.infer_pipeline(feeds_list, mode, custom_sizes))

    def infer_iteration(self, device_feeds: dict, in_out_list=None, iteration_times: int = 1,
                        mode: str = "static", custom_sizes=None, mem_copy: bool = True):
        sizes = 100000 if custom_sizes is None else custom_sizes
        return self._run(device_feeds, lambda s, feeds: s.infer_iteration(
            feeds, in_out_list, iteration_times, mode, sizes, mem_copy))

    def _run(self, device_feeds: dict, work) -> dict:
        for device_id in device_feeds:
            _check_device(device_id)
        results: dict = {}
        errors: list = []
        lock = threading.Lock()

        def worker(device_id, order, feeds):
            start = time.time()
            try:
                session = InferSession(device_id, self.model_path, self.acl_json_path,
                                       self.debug, self.loop)
                try:
                    outputs = work(session, feeds)
                finally:
                    session.free_resource()
            except Exception as error:  # noqa: BLE001 - re-raised on the caller's thread
                logger.error("subprocess run failed error_callback:%s", error)
                with lock:
                    errors.append(error)
                return
            end = time.time()
            with lock:
                results[(device_id, order)] = (outputs, (end - start) * 1000.0)

        threads = [threading.Thread(target=worker, args=(device_id, order, feeds),
                                    name=f"ais_bench device {device_id} #{order}")
                   for device_id, feeds_of in device_feeds.items()
                   for order, feeds in enumerate(feeds_of)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        outputs_dict: dict = {}
        self.summary.clear()
        for (device_id, _), (outputs, elapsed) in sorted(results.items(),
                                                        key=lambda item: item[0]):
            outputs_dict.setdefault(device_id, []).append(outputs)
            self.summary.setdefault(device_id, []).append(elapsed)
        return outputs_dict


class MemorySummary:
    """Host-to-device and device-to-host copy times (ms) of every session, in order."""

    @staticmethod
    def get_h2d_time_list() -> list[float]:
        return list(COPY_TIMES.h2d)

    @staticmethod
    def get_d2h_time_list() -> list[float]:
        return list(COPY_TIMES.d2h)

    # The spellings of older ais_bench releases.
    get_H2D_time_list = get_h2d_time_list
    get_D2H_time_list = get_d2h_time_list

    @staticmethod
    def reset() -> None:
        COPY_TIMES.reset()


# ---------------------------------------------------------------------- internals
class _CallableDict(dict):
    """ais_bench's ``MultiDeviceSession.summary``: read as a dict, or called."""

    def __call__(self) -> dict:
        return self


class _runtime_errors:
    """Re-raise the core's errors as ais_bench's: ``RuntimeError`` (message kept)."""

    def __init__(self, message: str | None = None):
        self.message = message

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or isinstance(error, SessionError) and self.message is None:
            return False
        if isinstance(error, (AclError, SessionError)):
            text = error.message if isinstance(error, AclError) else str(error)
            if self.message is not None:
                logger.error("%s", text)
                raise RuntimeError(self.message) from error
            raise RuntimeError(text) from error
        return False


def _desc(tensor, realsize: int) -> TensorDesc:
    return TensorDesc(tensor.name, dtype(tensor.data_type), tensor.format, list(tensor.dims),
                      tensor.size, realsize)


def _numpy_of(datatype: dtype) -> np.dtype:
    return np.dtype(np.float64 if datatype is dtype.double64 else
                    np.bool_ if datatype is dtype.bool else datatype.name)


def _nbytes(shape, tensor) -> int:
    if any(d < 0 for d in shape):
        return tensor.size
    count = 1
    for d in shape:
        count *= d
    return count * tensor.itemsize


def _parse_shapes(text: str) -> dict[str, list[int]]:
    """``"a:1,3,224,224;b:1"`` -> ``{"a": [1, 3, 224, 224], "b": [1]}``."""
    shapes = {}
    try:
        for part in filter(None, str(text).split(";")):
            name, _, dims = part.rpartition(":")
            shapes[name] = [int(d) for d in dims.split(",")]
    except ValueError:
        raise RuntimeError(f"shape string {text!r} is invalid: expected "
                           f"'name:d0,d1,...;name2:...'") from None
    return shapes


def _check_model_path(path) -> None:
    if not path:
        raise RuntimeError("empty model path!")
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path) \
            or not os.access(path, os.R_OK):
        raise RuntimeError(f"om path:{path} is illegal. Please check.")


def _check_acl_json_path(path) -> None:
    if not path:
        return
    if not os.path.isfile(path) or not str(path).endswith(".json"):
        raise RuntimeError(f"acl json path:{path} is illegal. Please check.")


def _check_device(device_id) -> None:
    low, high = _DEVICE_RANGE
    if not isinstance(device_id, int) or isinstance(device_id, bool):
        raise TypeError(f"device:{device_id} is not a integer!")
    if not low <= device_id <= high:
        raise ValueError(f"device:{device_id} is illegal. legal value range is [{low}, {high}]")


def _check_loop(loop) -> None:
    if not isinstance(loop, int) or isinstance(loop, bool) or loop < 1:
        raise ValueError(f"loop:{loop} is illegal. It must be a positive integer")
