"""``run_batch``: a model over a folder of items (or a Parquet dataset) on Ray Data, resumable.

The driver lists the items, skips those whose outputs are already written, and streams the
rest through a pool of actors. Each actor runs ``ModelStage`` and writes each item's outputs
itself, ``OUTPUT_DIR/<id>_<k>.npy`` for output ``k`` (ais_bench's naming), every file
written under a temporary name and renamed into place, output 0 last; an item is done when
``<id>_0.npy`` exists. So:

* a killed worker loses nothing already written: Ray restarts the actor and retries its
  batch, whose items are written again over the same names (same bytes), never twice;
* a job stopped and started again skips what is done (``skipped`` in the summary);
* a bad item is a row of the summary's ``failures``; its outputs are not written.

The actors read the input files and write the outputs: on a cluster both folders must be
paths every node sees (a shared file system). Only ids, errors and timings come back to
the driver, which keeps the progress bar and the summary.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import time

import numpy as np

from openacl.batch.placement import map_batches_options
from openacl.batch.stage import BYTES_COLUMN, ERROR_COLUMN, ModelStage

__all__ = ["run_batch", "OutputWriter", "output_path", "SUMMARY_NAME"]

SUMMARY_NAME = "openacl_batch_summary.json"
_PARTIAL = ".partial"
_WRITTEN, _FAILED, _SKIPPED = "written", "failed", "skipped"


def run_batch(model_path: str, source: str, output_dir: str, *, actors: int = 1,
              batch_size: int = 32, accelerator: str = "cpu", cpus_per_actor: float = 1,
              id_column: str = "id", engine_threads: int | None = None,
              progress: bool = True, on_batch=None, summary_path: str | None = None) -> dict:
    """Run ``model_path`` over ``source`` into ``output_dir``; return the summary (also
    written as JSON to ``summary_path``, default ``output_dir/openacl_batch_summary.json``).

    ``source`` is a folder of items (``.npy``, ``.npz``, ``.bin``, JPEGs; one file an item,
    its id the file name without extension) or a Parquet file or folder (one row an item,
    its id in ``id_column``, the inputs in columns named after them, or file bytes in a
    ``bytes`` column). Ray must be initialized (``ray.init``). ``on_batch(rows)`` is called
    on the driver with each finished batch's ``id``, ``status``, ``error``, ``actor``,
    ``ms``, ``gear`` and ``started`` columns. The driver's ``OPENACL_*`` environment
    variables are set on the actors too.
    """
    import ray
    import ray.data

    if not os.path.isfile(model_path):
        raise FileNotFoundError(f"model {model_path!r} does not exist")
    if not ray.is_initialized():
        raise RuntimeError("Ray is not initialized: call ray.init(...) first")
    output_dir = os.path.abspath(output_dir)
    os.makedirs(output_dir, exist_ok=True)
    _remove_partials(output_dir)
    summary = _Summary(model_path, source, output_dir, actors, batch_size)
    parquet = _is_parquet(source)
    if parquet:
        dataset = _read_parquet(ray.data, source)
        total = None
    else:
        pending = _pending_files(source, output_dir, summary)
        total = len(pending)
        dataset = ray.data.from_items(pending) if pending else None
    # The driver's openacl settings (precision, engine, strictness...) hold on every node.
    settings = {name: value for name, value in os.environ.items()
                if name.startswith("OPENACL_")}
    writer_args = {"model_path": os.path.abspath(model_path), "output_dir": output_dir,
                   "id_column": "id" if not parquet else id_column,
                   "skip_existing": parquet, "engine_threads": engine_threads}
    bar = _progress(total, progress)
    summary.start()
    try:
        if dataset is not None:
            options = map_batches_options(actors, batch_size, accelerator, cpus_per_actor)
            if settings:
                options["runtime_env"] = {"env_vars": settings}
            mapped = dataset.map_batches(OutputWriter, fn_constructor_kwargs=writer_args,
                                         **options)
            for rows in mapped.iter_batches(batch_size=None, batch_format="numpy"):
                summary.add(rows)
                bar.update(len(rows["id"]))
                if summary.failed:
                    bar.set_postfix(failed=summary.failed, refresh=False)
                if on_batch is not None:
                    on_batch(rows)
    finally:
        bar.close()
        summary.stop()
        _remove_partials(output_dir)
    result = summary.as_dict()
    path = summary_path or os.path.join(output_dir, SUMMARY_NAME)
    with open(path, "w") as file:
        json.dump(result, file, indent=2)
    return result


def output_path(output_dir: str, item_id: str, index: int) -> str:
    """Where output ``index`` of item ``item_id`` is written."""
    return os.path.join(output_dir, f"{item_id}_{index}.npy")


class OutputWriter:
    """The actor of ``run_batch``: read each item's file, run the stage, write the outputs.

    Returns a row per item: ``id``, ``status`` (``written``, ``failed``, or ``skipped``
    when ``skip_existing`` found it done), ``error``, ``actor``, ``ms``, ``gear`` and
    ``started`` (when its batch started on the actor, seconds since the epoch).
    """

    def __init__(self, model_path: str, output_dir: str, *, id_column: str = "id",
                 skip_existing: bool = False, engine_threads: int | None = None):
        self.stage = ModelStage(model_path, engine_threads=engine_threads, with_stats=True)
        self.output_dir = output_dir
        self.id_column = id_column
        self.skip_existing = skip_existing
        self.actor = self.stage.info.actor

    def __call__(self, batch: dict) -> dict:
        ids = [str(i) for i in batch[self.id_column]]
        count = len(ids)
        status = [_WRITTEN] * count
        errors = [""] * count
        for i, item_id in enumerate(ids):
            if not _safe_id(item_id):
                status[i], errors[i] = _FAILED, f"id {item_id!r} is not a file name"
        keep = [i for i in range(count) if status[i] != _FAILED]
        if self.skip_existing:
            for i in list(keep):
                if os.path.exists(output_path(self.output_dir, ids[i], 0)):
                    status[i] = _SKIPPED
                    keep.remove(i)
        ms = np.zeros(count)
        gear = np.zeros(count, np.int64)
        started = np.full(count, time.time())
        if keep:
            sub = {name: _take(column, keep) for name, column in batch.items()}
            if "path" in sub and BYTES_COLUMN not in sub:
                sub[BYTES_COLUMN], sub[ERROR_COLUMN] = _read_files(sub.pop("path"))
            start = time.perf_counter()
            result = self.stage(sub)
            outputs = [result[name] for name in self.stage.spec.outputs]
            for slot, i in enumerate(keep):
                error = result[ERROR_COLUMN][slot]
                if not error:
                    try:
                        self._write(ids[i], [o[slot] for o in outputs])
                    except OSError as failure:
                        error = f"writing the outputs failed: {failure}"
                if error:
                    status[i], errors[i] = _FAILED, str(error)
                gear[i] = result["gear"][slot]
                started[i] = result["started"][slot]
            share = (time.perf_counter() - start) * 1000.0 / len(keep)
            ms[keep] = share
        return {"id": np.array(ids, dtype=object), "status": np.array(status, dtype=object),
                "error": np.array(errors, dtype=object),
                "actor": np.array([self.actor] * count, dtype=object), "ms": ms, "gear": gear,
                "started": started}

    def _write(self, item_id: str, arrays: list) -> None:
        """Each output to a temporary file, then renamed into place; output 0 last (its
        presence says the item is complete)."""
        temporary = []
        try:
            for index in reversed(range(len(arrays))):
                final = output_path(self.output_dir, item_id, index)
                partial = os.path.join(self.output_dir,
                                       f".{item_id}_{index}.{os.getpid()}{_PARTIAL}")
                with open(partial, "wb") as file:
                    temporary.append(partial)
                    np.save(file, np.ascontiguousarray(arrays[index]))
                os.replace(partial, final)
                temporary.remove(partial)
        finally:
            for partial in temporary:
                try:
                    os.remove(partial)
                except OSError:
                    pass


# ---------------------------------------------------------------------- internals
class _Summary:
    """The driver's tally: items, throughput, per-actor statistics, failures."""

    def __init__(self, model, source, output_dir, actors, batch_size):
        self.model = model
        self.source = source
        self.output_dir = output_dir
        self.actors = actors
        self.batch_size = batch_size
        self.listed = None            # items the folder holds (None: a Parquet dataset)
        self.skipped = 0              # done before this run
        self.written = 0
        self.failed = 0
        self.processed = 0            # items the actors ran in this run (written + failed)
        self.failures: list[dict] = []
        self.per_actor: dict[str, dict] = {}
        self.seen: dict[str, int] = {}
        self.paths: dict[str, str] = {}   # folder items: id -> file
        self._start = self._stop = self._first = self._last = None
        self._computing = None        # when the first batch started on an actor (epoch s)
        self._done = None             # when the last batch came back (epoch s)

    def start(self) -> None:
        self._start = time.perf_counter()

    def stop(self) -> None:
        self._stop = time.perf_counter()

    def fail(self, item_id: str, error: str, path: str | None = None) -> None:
        self.failed += 1
        entry = {"id": item_id, "error": error}
        path = path or self.paths.get(item_id)
        if path:
            entry["path"] = path
        self.failures.append(entry)

    def add(self, rows: dict) -> None:
        now = time.perf_counter()
        if self._first is None:
            self._first = now
        self._last = now
        self._done = time.time()
        if len(rows["started"]):
            first = float(np.min(rows["started"]))
            self._computing = first if self._computing is None else min(self._computing, first)
        for item_id, status, error, actor, ms, gear in zip(
                rows["id"], rows["status"], rows["error"], rows["actor"], rows["ms"],
                rows["gear"]):
            item_id = str(item_id)
            self.seen[item_id] = self.seen.get(item_id, 0) + 1
            if status == _SKIPPED:
                self.skipped += 1
                continue
            stats = self.per_actor.setdefault(str(actor), {"items": 0, "failed": 0,
                                                           "busy_s": 0.0, "gears": {}})
            stats["busy_s"] += float(ms) / 1000.0
            self.processed += 1
            if status == _FAILED:
                stats["failed"] += 1
                self.fail(item_id, str(error))
                continue
            self.written += 1
            stats["items"] += 1
            key = str(int(gear))
            stats["gears"][key] = stats["gears"].get(key, 0) + 1

    def as_dict(self) -> dict:
        end = self._stop if self._stop is not None else time.perf_counter()
        wall = end - self._start if self._start is not None else 0.0
        steady = None
        if self._computing is not None and self._done > self._computing:
            steady = self.processed / (self._done - self._computing)
        actors = []
        for actor, stats in sorted(self.per_actor.items()):
            busy = stats["busy_s"]
            actors.append({"actor": actor, "items": stats["items"], "failed": stats["failed"],
                           "busy_s": round(busy, 3),
                           "items_per_s": round(stats["items"] / busy, 2) if busy else 0.0,
                           "items_by_gear": stats["gears"]})
        return {
            "model": self.model, "input": self.source, "output": self.output_dir,
            "actors_requested": self.actors, "batch_size": self.batch_size,
            "items": self.listed if self.listed is not None else len(self.seen),
            "written": self.written, "skipped": self.skipped, "failed": self.failed,
            "wall_s": round(wall, 3),
            "startup_s": round(self._first - self._start, 3) if self._first else None,
            "items_per_s": round(self.processed / wall, 2) if wall > 0 else 0.0,
            "steady_items_per_s": round(steady, 2) if steady else None,
            "duplicates": sorted(i for i, n in self.seen.items() if n > 1),
            "actors": actors,
            "failures": self.failures,
        }


def _pending_files(folder: str, output_dir: str, summary: _Summary) -> list[dict]:
    """The folder's items not yet done, as ``{"id", "path"}`` rows; name clashes fail."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"input folder {folder!r} does not exist")
    names = sorted(n for n in os.listdir(folder)
                   if not n.startswith(".") and os.path.isfile(os.path.join(folder, n)))
    summary.listed = len(names)
    pending, owner = [], {}
    for name in names:
        path = os.path.abspath(os.path.join(folder, name))
        item_id = os.path.splitext(name)[0]
        if item_id in owner:
            summary.fail(item_id, f"{name} and {owner[item_id]} would write the same "
                                  f"outputs ({item_id}_0.npy...): rename one", path)
            continue
        owner[item_id] = name
        if os.path.exists(output_path(output_dir, item_id, 0)):
            summary.skipped += 1
            continue
        pending.append({"id": item_id, "path": path})
        summary.paths[item_id] = path
    return pending


def _is_parquet(source: str) -> bool:
    if os.path.isfile(source):
        return source.endswith(".parquet")
    if os.path.isdir(source):
        files = [n for n in os.listdir(source) if not n.startswith((".", "_"))]
        return bool(files) and all(n.endswith(".parquet") for n in files)
    return "://" in source and source.rstrip("/").endswith(".parquet")


def _read_parquet(data, source: str):
    """The Parquet rows; the read tasks claim no CPU, so that actors holding every CPU
    cannot starve them (Ray Data would wait forever)."""
    import inspect

    if "num_cpus" in inspect.signature(data.read_parquet).parameters:
        return data.read_parquet(source, num_cpus=0)
    return data.read_parquet(source, ray_remote_args={"num_cpus": 0})    # older Ray


def _read_files(paths) -> tuple[np.ndarray, np.ndarray]:
    data = np.empty(len(paths), dtype=object)
    errors = np.empty(len(paths), dtype=object)
    for i, path in enumerate(paths):
        try:
            with open(str(path), "rb") as file:
                data[i] = file.read()
            errors[i] = ""
        except OSError as error:
            data[i] = b""
            errors[i] = f"cannot read {path}: {error.strerror or error}"
    return data, errors


def _take(column, rows: list):
    if isinstance(column, np.ndarray):
        return column[rows]
    return [column[i] for i in rows]


def _safe_id(item_id: str) -> bool:
    return bool(item_id) and not item_id.startswith(".") and os.sep not in item_id \
        and (os.altsep is None or os.altsep not in item_id) and "\0" not in item_id


def _remove_partials(output_dir: str) -> None:
    """Temporary files a killed worker left behind (never complete outputs)."""
    for path in glob.glob(os.path.join(glob.escape(output_dir), f".*{_PARTIAL}")):
        try:
            os.remove(path)
        except OSError:
            pass


def _progress(total, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="item", file=sys.stderr, disable=not enabled,
                dynamic_ncols=True, desc="openacl batch")
