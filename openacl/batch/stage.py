"""``ModelStage``: an ``.om`` model as a Ray Data batch stage (and a plain callable without Ray).

::

    ds = ray.data.read_parquet("s3://bucket/features/")          # column "x": one item a row
    ds = ds.map_batches(ModelStage, fn_constructor_args=("resnet50.om",),
                        concurrency=2, batch_size=64, num_cpus=1)  # 2 actors, 1 CPU each
    ds.write_parquet("s3://bucket/scores/")

Each actor loads the model once (``ais_bench.infer.interface.InferSession``: openacl's on CPU
nodes, Huawei's on real pyACL on Ascend nodes; the stage uses nothing else of it) and maps
each batch of items to the model's outputs, one column per output, a row per item. Items
come as

* one column per model input, named after it (or ``data`` for a one-input model), a row
  per item; or
* a ``bytes`` column: each item a file's bytes (``.npy``, ``.npz``, raw ``.bin``, or a JPEG
  that DVPP decodes and resizes into the model's YUV420SP AIPP input).

The stage batches items along axis 0 into the model's batch size, or for a dynamic-batch
model into its gears (``plan_runs``: full largest gears, then the gear that fits the rest
with little padding), pads with zeros and cuts the outputs back. A bad item (wrong dtype or
size, an unreadable file, a JPEG DVPP refuses, an ``error`` already set on its row) gets
its message in the ``error`` column and zeros in the outputs; it never fails the batch.
Other columns (``path``, an id...) pass through. ``stats()`` reports the actor's items,
busy time and throughput, and the gears it ran.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from openacl.batch import items as item_kinds
from openacl.batch.placement import actor_info, set_engine_threads
from openacl.batch.spec import ItemError, ModelSpec, StageError, describe_model, plan_runs

__all__ = ["ModelStage", "ERROR_COLUMN", "BYTES_COLUMN"]

logger = logging.getLogger(__name__)

ERROR_COLUMN = "error"
BYTES_COLUMN = "bytes"
_DATA_COLUMN = "data"
_perf = time.perf_counter


class ModelStage:
    """Run an offline model over batches of items (a callable class for ``map_batches``).

    Parameters
    ----------
    model_path
        The ``.om`` (openacl's ``atc``; Huawei's on an NPU node) or an ``.onnx``.
    device_id
        The device to load on. Default 0: on CPU nodes each actor process has its own
        openacl runtime and device; on NPU nodes Ray's ``ASCEND_RT_VISIBLE_DEVICES`` makes
        the granted chip device 0.
    input_columns
        The batch columns holding the model inputs, in input order. Default: the inputs'
        names (``data`` also accepted for a one-input model); a ``bytes`` column is used
        when none of them is there.
    engine_threads
        openacl's ONNX Runtime intra-op threads; default: the CPUs Ray granted the actor.
    with_stats
        Add ``actor`` (who ran the item), ``ms`` (its share of the batch's time), ``gear``
        (the batch size it ran in; 0 for a failed item) and ``started`` (when the batch
        started, seconds since the epoch) columns.
    session_factory
        Make the session (``factory(device_id, model_path)``); default ais_bench's
        ``InferSession``.
    """

    def __init__(self, model_path: str, *, device_id: int | None = None,
                 input_columns: list[str] | None = None, engine_threads: int | None = None,
                 with_stats: bool = False, session_factory=None):
        self.info = actor_info()
        set_engine_threads(engine_threads, self.info)
        if session_factory is None:
            from ais_bench.infer.interface import InferSession as session_factory
        self.model_path = model_path
        self.device_id = 0 if device_id is None else int(device_id)
        self.session = session_factory(self.device_id, model_path)
        self.decoder = None
        try:
            self.spec: ModelSpec = describe_model(self.session)
            nv12 = self.spec.inputs[0].nv12 if len(self.spec.inputs) == 1 else None
            if nv12 is not None:
                from openacl.batch.dvpp import JpegDecoder

                _make_current(self.session)
                self.decoder = JpegDecoder(*nv12)
        except BaseException:
            self.close()
            raise
        self.input_columns = list(input_columns) if input_columns is not None else None
        self.with_stats = with_stats
        self._stats = {"items": 0, "failed": 0, "batches": 0, "executions": 0,
                       "busy_s": 0.0, "infer_s": 0.0, "decode_s": 0.0, "gears": {}}
        self._started = time.time()
        self._logged = _perf()

    def __repr__(self):
        return f"<ModelStage {self.model_path!r} {self.info.actor}>"

    # ------------------------------------------------------------------ the stage
    def __call__(self, batch: dict) -> dict:
        """Map one batch (``{column: array}``, a row per item) to the outputs."""
        start = _perf()
        started = time.time()
        count = _batch_length(batch)
        errors = _incoming_errors(batch, count)
        inputs_used, feeds = self._feeds(batch, count, errors)
        ok = [i for i in range(count) if not errors[i]]
        outputs = [None] * len(self.spec.outputs)
        gear_of = np.zeros(count, np.int64)
        self._run(feeds, ok, count, errors, outputs, gear_of)
        busy = _perf() - start
        result = {name: array for name, array in zip(self.spec.outputs, outputs)}
        for name, column in batch.items():
            if name not in inputs_used and name != ERROR_COLUMN and name not in result:
                result[name] = column
        result[ERROR_COLUMN] = np.array(errors, dtype=object)
        if self.with_stats:
            result["actor"] = np.array([self.info.actor] * count, dtype=object)
            result["ms"] = np.full(count, busy * 1000.0 / max(count, 1))
            result["gear"] = gear_of
            result["started"] = np.full(count, started)
        failed = sum(1 for e in errors if e)
        self._note(count, failed, busy)
        return result

    def stats(self) -> dict:
        """This actor's counts and times: ``items``, ``failed``, ``batches``,
        ``executions``, ``busy_s`` (in ``__call__``), ``infer_s``, ``decode_s``,
        ``items_per_s`` (items over busy time), ``gears`` (executions per gear) and who
        ran them (``actor``, ``pid``, ``node``, ``cpus``, ``npu_ids``, ``device_id``)."""
        stats = dict(self._stats, gears=dict(self._stats["gears"]))
        busy = stats["busy_s"]
        stats["items_per_s"] = stats["items"] / busy if busy else 0.0
        stats["up_s"] = time.time() - self._started
        stats.update(self.info.as_dict())
        stats["device_id"] = self.device_id
        return stats

    def close(self) -> None:
        """Release the DVPP resources and the session (idempotent). A Ray actor need not
        call it: its process ends with the job."""
        decoder, self.decoder = self.decoder, None
        if decoder is not None:
            decoder.close()
        session, self.session = getattr(self, "session", None), None
        if session is not None:
            session.free_resource()

    # ------------------------------------------------------------------ feeds
    def _feeds(self, batch: dict, count: int, errors: list) -> tuple[set, list]:
        """Per input, the items' arrays: a batch array (rows = items) when the column is
        one, else a list with None for failed items."""
        columns = self._input_columns(batch)
        specs = self.spec.inputs
        if columns is not None:
            feeds = []
            for index, (column, spec) in enumerate(zip(columns, specs)):
                data = batch[column]
                if _is_batch_array(data, spec, count):
                    feeds.append(data.reshape((count, *spec.feed_shape)))
                    continue
                rows = [None] * count
                for i in range(count):
                    if errors[i]:
                        continue
                    try:
                        rows[i] = spec.check(data[i], index)
                    except ItemError as error:
                        errors[i] = str(error)
                feeds.append(rows)
            return set(columns), feeds
        if BYTES_COLUMN not in batch:
            names = [s.name for s in specs]
            raise StageError(f"the batch has columns {sorted(batch)}; the model's inputs are "
                             f"{names} (name the columns after them, or give each item's "
                             f"file bytes in a 'bytes' column)")
        return {BYTES_COLUMN}, self._feeds_from_bytes(batch[BYTES_COLUMN], count, errors)

    def _input_columns(self, batch: dict) -> list[str] | None:
        if self.input_columns is not None:
            missing = [c for c in self.input_columns if c not in batch]
            if missing:
                raise StageError(f"input columns {missing} are not in the batch (columns "
                                 f"{sorted(batch)})")
            return self.input_columns
        names = [s.name for s in self.spec.inputs]
        if all(name in batch for name in names):
            return names
        if len(names) == 1 and _DATA_COLUMN in batch:
            return [_DATA_COLUMN]
        return None

    def _feeds_from_bytes(self, column, count: int, errors: list) -> list:
        specs = self.spec.inputs
        feeds = [[None] * count for _ in specs]
        decode_s = 0.0
        if self.decoder is not None:
            _make_current(self.session)        # this thread may not be the one that loaded
        for i in range(count):
            if errors[i]:
                continue
            data = column[i]
            try:
                if data is None:
                    raise ItemError("no bytes")
                if self.decoder is not None and item_kinds.kind_of(data) == item_kinds.JPEG:
                    begin = _perf()
                    image = np.empty(specs[0].feed_shape, np.uint8)
                    self.decoder.decode_into(data, image)
                    decode_s += _perf() - begin
                    feeds[0][i] = image
                    continue
                arrays = item_kinds.arrays_from_bytes(data, self.spec)
                for index, (array, spec) in enumerate(zip(arrays, specs)):
                    feeds[index][i] = spec.check(array, index)
            except ItemError as error:
                errors[i] = str(error)
                for rows in feeds:
                    rows[i] = None
        self._stats["decode_s"] += decode_s
        return feeds

    # ------------------------------------------------------------------ execution
    def _run(self, feeds, ok, count, errors, outputs, gear_of) -> None:
        """Execute the good items in planned runs; scatter the outputs into rows."""
        position = 0
        for size, gear in plan_runs(len(ok), self.spec.gears):
            rows = ok[position:position + size]
            position += size
            try:
                results = self._execute(feeds, rows, gear)
            except ItemError as error:
                if size == 1:
                    errors[rows[0]] = str(error)
                    continue
                # Find the culprit: each item alone (its smallest gear).
                for row in rows:
                    self._run(feeds, [row], count, errors, outputs, gear_of)
                continue
            for index, result in enumerate(results):
                if outputs[index] is None:
                    outputs[index] = np.zeros((count, *result.shape[1:]), result.dtype)
                outputs[index][rows] = result[:size]
            gear_of[rows] = gear
        if any(o is None for o in outputs):
            # No item ran: zero outputs of the model's item shapes, from a padded run.
            probe = self._probe_outputs()
            for index, result in enumerate(probe):
                outputs[index] = np.zeros((count, *result.shape[1:]), result.dtype)

    def _execute(self, feeds, rows, gear) -> list:
        arrays = []
        for feed, spec in zip(feeds, self.spec.inputs):
            if isinstance(feed, np.ndarray) and len(rows) == gear and \
                    rows[-1] - rows[0] == gear - 1:
                arrays.append(feed[rows[0]:rows[0] + gear])       # a view: no copy
                continue
            array = np.zeros((gear, *spec.feed_shape), spec.dtype)
            for slot, row in enumerate(rows):
                array[slot] = feed[row]
            arrays.append(array)
        begin = _perf()
        try:
            results = self.session.infer(arrays, mode=self.spec.mode)
        except RuntimeError as error:
            raise ItemError(f"inference failed: {error}") from None
        finally:
            self._stats["infer_s"] += _perf() - begin
        self._stats["executions"] += 1
        gears = self._stats["gears"]
        gears[gear] = gears.get(gear, 0) + 1
        for index, result in enumerate(results):
            if result.ndim == 0 or result.shape[0] != gear:
                raise StageError(f"output {index} ({self.spec.outputs[index]!r}) has shape "
                                 f"{result.shape} for a batch of {gear}: the stage needs "
                                 f"axis 0 of every output to be the batch")
        return results

    def _probe_outputs(self) -> list:
        gear = self.spec.gears[0]
        arrays = [np.zeros((gear, *spec.feed_shape), spec.dtype) for spec in self.spec.inputs]
        return self.session.infer(arrays, mode=self.spec.mode)

    def _note(self, count: int, failed: int, busy: float) -> None:
        stats = self._stats
        stats["items"] += count - failed
        stats["failed"] += failed
        stats["batches"] += 1
        stats["busy_s"] += busy
        now = _perf()
        if now - self._logged >= 30.0:
            self._logged = now
            logger.info("%s: %d items, %.1f items/s busy", self.info.actor, stats["items"],
                        stats["items"] / stats["busy_s"] if stats["busy_s"] else 0.0)


# ---------------------------------------------------------------------- internals
def _batch_length(batch: dict) -> int:
    lengths = {len(column) for column in batch.values()}
    if len(lengths) > 1:
        raise StageError(f"the batch's columns differ in length: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


def _incoming_errors(batch: dict, count: int) -> list:
    column = batch.get(ERROR_COLUMN)
    if column is None:
        return [""] * count
    return [str(e) if e is not None and str(e) else "" for e in column]


def _is_batch_array(data, spec, count: int) -> bool:
    """The column is already a batch of items of this input (rows x item shape, dtype)."""
    return (isinstance(data, np.ndarray) and data.dtype == spec.dtype and data.ndim >= 1
            and data.shape[0] == count and int(np.prod(data.shape[1:])) == spec.item_count
            and data.flags.c_contiguous)


def _make_current(session) -> None:
    """Make the session's context current (DVPP calls need it): ``set_context`` where the
    session has it (openacl; recent ais_bench)."""
    set_context = getattr(session, "set_context", None)
    if set_context is not None:
        set_context()
