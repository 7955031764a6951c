"""The run of ``python -m ais_bench``: inputs, warm-up, the timed loop, outputs and summary.

It follows ais_bench's benchmark_process step by step, on :class:`InferSession`:

1. open a session on the device (``--acl_json_path`` goes to ``acl.init``), choose the gear
   or shapes (``--dymBatch`` / ``--dymHW`` / ``--dymDims`` / ``--dymShape`` or an auto
   mode), set the dynamic AIPP parameters (``--aipp_config``);
2. list the input files and group them into batches (:mod:`ais_bench.infer.io_utils`), or
   make one synthetic batch (``--pure_data_type``);
3. run ``--warmup_count`` untimed inferences, then every batch (each executing the model
   ``--loop`` times), writing the outputs into ``<output>/<date-time>/``;
4. print ais_bench's Performance Summary and write ``<output>/<date-time>_summary.json``
   with its keys, then openacl's additions: percentiles 50/90/99 of every time, the
   end-to-end latency of each inference call and the H2D / compute / D2H split
   (:mod:`ais_bench.infer.summary`).

``--device 0,1`` runs one worker process per device, as ais_bench does; the devices exist
on openacl as ``OPENACL_DEVICE_COUNT`` says, and when that is not set the run emulates as
many devices as the list needs. ``--pipeline`` reads, executes (``--threads`` sessions) and
writes on separate threads. ``--dymShape_range`` runs every shape of the range (outputs,
with ``--output``, in ``<date-time>_dymshape<k>/``). ``--run_mode`` array, files and tensor
behave alike here (inputs are numpy arrays copied into device memory); full reads every
batch before the first inference and writes every output after the last.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from ais_bench.infer import io_utils
from ais_bench.infer.args import expand_shape_range, parse_shape_list
from ais_bench.infer.io_utils import PURE_INFER_FAKE_FILE, AisBenchError, InputSpec
from ais_bench.infer.summary import Record, print_summary, summarize

__all__ = ["benchmark_process", "run_single", "describe_error", "resolve_specs"]

log = logging.getLogger("ais_bench")

_FORMAT = "[%(levelname)s] %(message)s"
_DASHES = "------------------------------------------------------"
_PROGRESS_DELAY_S = 1.0          # the bar appears once a run has lasted this long


def benchmark_process(args, argv: list[str]) -> int:
    """Run what ``args`` asks (see :mod:`ais_bench.infer.args`); return the exit status."""
    with _logging(args.debug):
        if args.threads_ignored:
            log.info("need to set --pipeline when setting threads number to be more than one.")
        _check_paths(args)
        args.argv = [sys.argv[0] if sys.argv and sys.argv[0] else "ais_bench", *argv]
        args.stamp = time.strftime("%Y_%m_%d-%H_%M_%S")
        _profiler_and_dump(args)
        with _device_count(args.devices):
            if args.dym_shape_range is not None and args.dym_shape is None:
                return dymshape_range_run(args)
            if len(args.devices) > 1:
                return multidevice_run(args)
            run_single(args)
    return 0


def run_single(args, index: int = 0, devices: list | None = None, barrier=None,
               print_lock=None) -> dict:
    """Run on ``args.device``: warm up, infer every batch, report. Return the result.

    ``barrier`` (several devices) makes the timed runs start together; ``print_lock``
    keeps each device's summary lines together.
    """
    prefix = _output_prefix(args, index, devices)
    session = _open_session(args)
    sessions = [session]
    try:
        if args.pipeline:
            sessions += [_open_session(args) for _ in range(args.threads - 1)]
        for sess in sessions:
            _set_aipp(sess, args)
        plan = _plan(session, args, index, devices)
        if args.debug:
            _print_model(session)
        feeds = _feeds(plan, plan.batches[0])
        for sess in sessions:
            _warmup_session(sess, args, feeds)
        _reset_copy_times()
        log.info(f"warm up {args.warmup_count} done")
        if barrier is not None:
            try:
                barrier.wait(timeout=600)
            except threading.BrokenBarrierError:
                raise _Stopped("stopped before the run: another device's worker failed") \
                    from None
        progress = _Progress(len(plan.batches) * args.loop, sessions, args.pipeline)
        start = time.time()
        try:
            if args.pipeline:
                record = _run_pipeline(sessions, args, plan, prefix)
            else:
                record = _run_loop(session, args, plan, prefix)
        finally:
            progress.close()
        end = time.time()
        record.wall_ms = (end - start) * 1000.0
        _collect_session_times(sessions, record)
        infodict = summarize(record, args, plan.batchsize)
        with print_lock or contextlib.nullcontext():
            print_summary(infodict, args.display_all_summary)
            for handler in log.handlers:
                handler.flush()
        if prefix is not None:
            io_utils.write_summary(prefix, infodict)
        return {"index": index, "device": args.device, "throughput": infodict["throughput"],
                "start_time": start, "end_time": end}
    finally:
        for sess in reversed(sessions):
            _close(sess)
        _finalize()


# ------------------------------------------------------------------------------------------
# The plan of a run: input specs, batches, mode


@dataclass
class _Plan:
    specs: list
    batches: list           # per batch: per input, its files (or [PURE_INFER_FAKE_FILE])
    per_batch: int
    mode: str               # InferSession.infer's mode
    batchsize: int | float
    pure: list | None       # the synthetic feeds, without --input


def _plan(session, args, index, devices) -> _Plan:
    descs = _inputs(session)
    dynamic, static = _aipp_inputs(session)
    aipp = {}
    if args.aipp_config is not None:
        aipp = {i: _aipp_image_bytes(args.aipp_config) for i in dynamic}
    specs = resolve_specs(descs, args, aipp, static)
    mode = _mode(args)
    batchsize = args.batchsize
    if batchsize is None:
        batchsize = _batchsize(descs, args)
        log.info(f"try get model batchsize:{batchsize}")
    if args.input is None:
        rng = np.random.default_rng()
        pure = [io_utils.pure_input(spec, args.pure_data_type, rng) for spec in specs]
        batches = [[[PURE_INFER_FAKE_FILE] for _ in specs]]
        return _Plan(specs, batches, 1, mode, batchsize, pure)
    fileslist = io_utils.split_inputs(args.input.split(","), len(specs))
    if devices is not None and len(devices) > 1 and args.divide_input:
        fileslist = [_share(files, index, len(devices)) for files in fileslist]
        if not fileslist[0]:
            raise AisBenchError(f"--divide_input: no input file is left for device "
                                f"{devices[index]} ({len(devices)} devices)")
    per_batch, batches = io_utils.plan_batches(fileslist, specs, args.no_combine_tensor_mode)
    log.info(f"get filesperbatch files0 size:{io_utils.file_nbytes(fileslist[0][0])} "
             f"tensor0size:{specs[0].nbytes or descs[0]['realsize']} filesperbatch:{per_batch} "
             f"runcount:{len(batches)}")
    return _Plan(specs, batches, per_batch, mode, batchsize, None)


def resolve_specs(descs, args, aipp: dict | None = None,
                  static_aipp: dict | None = None) -> list[InputSpec]:
    """Each model input's dtype and the shape this run feeds it (from the flags).

    ``aipp`` maps the index of each dynamic-AIPP input to the bytes of one source image
    (from ``--aipp_config``); ``static_aipp`` the index of each static-AIPP input to its
    AIPP configuration. Both kinds take the raw images of the batch, flat bytes.
    """
    names = [desc["name"] for desc in descs]
    given = None
    if args.dym_dims is not None or args.dym_shape is not None:
        flag = "--dymDims" if args.dym_dims is not None else "--dymShape"
        given = parse_shape_list(args.dym_dims or args.dym_shape, names, flag)
    specs = []
    for i, desc in enumerate(descs):
        shape = list(desc["shape"])
        if aipp and i in aipp:
            batch = args.dym_batch or (shape[0] if shape and shape[0] > 0 else 1)
            specs.append(InputSpec(desc["name"], np.dtype(np.uint8), (batch * aipp[i],)))
            continue
        if args.auto_set_dymshape_mode or args.auto_set_dymdims_mode:
            spec_shape = None
        elif given is not None and desc["name"] in given:
            spec_shape = tuple(given[desc["name"]])
        elif args.dym_batch and -1 in shape:
            spec_shape = tuple(args.dym_batch if dim == -1 else dim for dim in shape)
        elif args.dym_hw is not None and -1 in shape:
            hw = iter(int(part) for part in args.dym_hw.split(","))
            spec_shape = tuple(next(hw, -1) if dim == -1 else dim for dim in shape)
        else:
            spec_shape = tuple(shape)
        if spec_shape is not None and any(dim < 0 for dim in spec_shape):
            raise AisBenchError(
                f"input {i} {desc['name']!r} has a dynamic shape {shape}: choose it with "
                f"{_dynamic_hint(args)}")
        if static_aipp and i in static_aipp and spec_shape is not None and len(spec_shape) == 4:
            spec_shape = (_static_aipp_bytes(static_aipp[i], spec_shape),)
        specs.append(InputSpec(desc["name"], desc["dtype"], spec_shape))
    return specs


def _mode(args) -> str:
    if args.dym_batch:
        return "dynbatch"
    if args.dym_hw is not None:
        return "dynhw"
    if args.dym_dims is not None or args.auto_set_dymdims_mode:
        return "dyndims"
    if args.dym_shape is not None or args.auto_set_dymshape_mode:
        return "dynshape"
    return "static"


def _batchsize(descs, args):
    """ais_bench's guess: input 0's first dimension, as the dynamic flags set it."""
    if args.auto_set_dymshape_mode or args.auto_set_dymdims_mode:
        return 1            # replaced by the mean of the batches actually fed
    shape = descs[0]["shape"]
    batch = shape[0] if shape else 1
    if args.dym_batch:
        batch = args.dym_batch
    elif args.dym_dims is not None or args.dym_shape is not None:
        names = [desc["name"] for desc in descs]
        given = parse_shape_list(args.dym_dims or args.dym_shape, names, "--dymShape")
        if descs[0]["name"] in given and given[descs[0]["name"]]:
            batch = given[descs[0]["name"]][0]
    return int(batch)


def _dynamic_hint(args) -> str:
    return ("--dymBatch, --dymHW, --dymDims or --dymShape (or --auto_set_dymshape_mode with "
            ".npy inputs)")


def _share(files: list, index: int, count: int) -> list:
    """Device ``index``'s share of ``files``: near-equal consecutive parts, as ais_bench."""
    size, left = divmod(len(files), count)
    start = index * size + min(index, left)
    return files[start:start + size + (1 if index < left else 0)]


# ------------------------------------------------------------------------------------------
# The loops


def _feeds(plan: _Plan, batch) -> list[np.ndarray]:
    if plan.pure is not None:
        return plan.pure
    return [io_utils.load_input(files, spec, j)
            for j, (files, spec) in enumerate(zip(batch, plan.specs))]


def _run_loop(session, args, plan: _Plan, prefix) -> Record:
    """Infer every batch in order (``--run_mode full``: read all first, write all last)."""
    record = Record()
    if args.run_mode == "full":
        feeds_list = [_feeds(plan, batch) for batch in plan.batches]
        results = [_timed_infer(session, args, feeds, record) for feeds in feeds_list]
        for i, (batch, outputs) in enumerate(zip(plan.batches, results)):
            _save(outputs, batch, i, plan, args, prefix, record)
    else:
        for i, batch in enumerate(plan.batches):
            outputs = _timed_infer(session, args, _feeds(plan, batch), record)
            _save(outputs, batch, i, plan, args, prefix, record)
    return record


def _run_pipeline(sessions, args, plan: _Plan, prefix) -> Record:
    """Read, execute (one thread per session) and write concurrently; write in batch order."""
    log.info(f"run in pipeline mode with computing threadsnumber:{len(sessions)}")
    record = Record()
    lock = threading.Lock()
    todo: queue.Queue = queue.Queue(maxsize=2 * len(sessions))
    done: queue.Queue = queue.Queue()
    failure: list = []

    def read():
        try:
            for i, batch in enumerate(plan.batches):
                if failure:
                    break
                todo.put((i, batch, _feeds(plan, batch)))
        except BaseException as error:      # noqa: BLE001 - re-raised on the main thread
            failure.append(error)
        for _ in sessions:
            todo.put(None)

    def execute(session):
        while (item := todo.get()) is not None:
            i, batch, feeds = item
            try:
                if not failure:
                    done.put((i, batch, _timed_infer(session, args, feeds, record, lock)))
            except BaseException as error:  # noqa: BLE001 - re-raised on the main thread
                failure.append(error)
        done.put(None)

    threads = [threading.Thread(target=read, name="ais_bench-read", daemon=True)]
    threads += [threading.Thread(target=execute, args=(sess,), name=f"ais_bench-infer{k}",
                                 daemon=True) for k, sess in enumerate(sessions)]
    for thread in threads:
        thread.start()
    pending, finished, next_index = {}, 0, 0
    try:
        while finished < len(sessions):     # written on this thread, in batch order
            item = done.get()
            if item is None:
                finished += 1
                continue
            pending[item[0]] = item
            while next_index in pending:
                i, batch, outputs = pending.pop(next_index)
                if not failure:
                    _save(outputs, batch, i, plan, args, prefix, record)
                next_index += 1
    except BaseException as error:          # noqa: BLE001 - stop the workers, then re-raise
        failure.append(error)
        raise
    finally:
        for thread in threads:
            thread.join(timeout=60)
    if failure:
        raise failure[0]
    return record


def _timed_infer(session, args, feeds, record: Record, lock=None):
    """One inference; record its end-to-end time (and, in a pipeline, its executions)."""
    started = time.perf_counter()
    outputs = _infer(session, args, feeds)
    ended = time.perf_counter()
    if args.debug:                          # ais_bench's --debug line of each execution
        for cost in session.summary().exec_time_list[-args.loop:]:
            log.debug(f"model aclExec cost : {cost:.6f}")
    with lock or contextlib.nullcontext():
        record.e2e.append((ended - started) * 1000.0)
        record.executions += args.loop
        if args.auto_set_dymshape_mode or args.auto_set_dymdims_mode:
            record.batchsizes.append(int(feeds[0].shape[0]) if feeds[0].ndim else 1)
        if lock is not None:
            # ais_bench's threads > 1 summary merges the executions' [start, end] intervals:
            # the loop's executions end where the outputs' copies begin.
            split = session.last_timings()
            end = ended * 1000.0 - split["d2h"]
            step = split["compute"] / args.loop
            begin = end - split["compute"]
            record.intervals.extend((begin + k * step, begin + (k + 1) * step)
                                    for k in range(args.loop))
    return outputs


def _save(outputs, batch, index, plan: _Plan, args, prefix, record: Record) -> None:
    if prefix is None:
        return
    written = io_utils.save_outputs(outputs, prefix, batch, args.outfmt,
                                    args.output_batchsize_axis)
    samples = list(zip(*batch))
    for j, paths in written.items():
        sample_id = index * plan.per_batch + j
        info = record.filesinfo.setdefault(sample_id, {"infiles": list(samples[j]),
                                                       "outfiles": []})
        info["outfiles"].extend(paths)


class _Progress:
    """A progress bar over the executions, for runs that last (it shows after a second).

    A thread reads the sessions' execution counts, so the bar moves within one inference of
    many ``--loop`` executions as well as from batch to batch.
    """

    def __init__(self, total: int, sessions, pipeline: bool):
        desc = "Inference pipeline Processing" if pipeline else "Inference array Processing"
        self._sessions = sessions
        self._stop = threading.Event()
        self._bar = tqdm(total=total, desc=desc, file=sys.stdout, delay=_PROGRESS_DELAY_S,
                         disable=total <= 1, unit="exec")
        self._thread = None
        if not self._bar.disable:
            self._thread = threading.Thread(target=self._follow, name="ais_bench-progress",
                                            daemon=True)
            self._thread.start()

    def _follow(self) -> None:
        while not self._stop.wait(0.2):
            self._update()

    def _update(self) -> None:
        count = min(_executions(self._sessions), self._bar.total)
        if count > self._bar.n:
            self._bar.update(count - self._bar.n)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._update()
        self._bar.close()


# ------------------------------------------------------------------------------------------
# Several devices, shape ranges


def multidevice_run(args) -> int:
    """One worker process per device of ``--device``; print each throughput and their sum."""
    import multiprocessing

    devices = args.devices
    log.info(f"multidevice:{devices} run begin")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(devices))
    print_lock = context.Lock()
    results = context.Queue()
    workers = [context.Process(target=_device_worker,
                               args=(args, i, devices, barrier, print_lock, results),
                               name=f"ais_bench-device{device}")
               for i, device in enumerate(devices)]
    for worker in workers:
        worker.start()
    outcomes = {}
    while len(outcomes) < len(workers):
        try:
            outcome = results.get(timeout=1.0)
        except queue.Empty:
            if not any(worker.is_alive() for worker in workers):
                break
            continue
        outcomes[outcome["index"]] = outcome
    for worker in workers:
        worker.join()
    failed = 0
    throughputs = []
    for i, device in enumerate(devices):
        outcome = outcomes.get(i, {"error": "the worker ended without a result"})
        if "error" in outcome:
            failed += not outcome.get("stopped")
            log.error(f"device {device}: {outcome['error']}")
            continue
        throughputs.append(outcome["throughput"])
        log.info(f"i:{i} device_{device} throughput:{outcome['throughput']} "
                 f"start_time:{outcome['start_time']} end_time:{outcome['end_time']}")
    result = 1 if failed else 0
    log.info(f"multidevice run end qsize:{len(outcomes)} result:{result}")
    log.info(f"summary throughput:{sum(throughputs)}")
    if failed:
        raise AisBenchError(f"{failed} of {len(devices)} device workers failed")
    return 0


def _device_worker(args, index, devices, barrier, print_lock, results) -> None:
    """A device's process: run, and put the result (or the error's one line) on the queue."""
    with _logging(args.debug):
        log.info(f"subprocess_{index} main run")
        args.device = devices[index]
        try:
            results.put(run_single(args, index, devices, barrier, print_lock))
        except BaseException as error:      # noqa: BLE001 - reported by the parent
            barrier.abort()
            message, _ = describe_error(error, args.debug)
            results.put({"index": index, "error": message,
                         "stopped": isinstance(error, _Stopped)})


def dymshape_range_run(args) -> int:
    """Run each shape of ``--dymShape_range`` in turn; list the throughputs, best first."""
    shapes = expand_shape_range(args.dym_shape_range)
    results = []
    for k, shape in enumerate(shapes):
        run_args = _copy_args(args, dym_shape=shape, dym_shape_range=None)
        if args.output is not None:
            run_args.output_dirname = f"{args.output_dirname or args.stamp}_dymshape{k}"
        try:
            outcome = run_single(run_args)
            results.append({"dymshape": shape, "result": "OK",
                            "throughput": outcome["throughput"]})
        except Exception as error:          # noqa: BLE001 - ais_bench counts it as Failed
            log.error(f"dymshape:{shape} failed: {describe_error(error)[0]}")
            results.append({"dymshape": shape, "result": "Failed", "throughput": 0})
        log.info(f"dymshape:{shape} end run result:{results[-1]['result']}")
    succeeded = [r["throughput"] for r in results if r["result"] == "OK"]
    log.info("-----------------dyshape_range Performance Summary------------------")
    log.info(f"run_count:{len(results)} success_count:{len(succeeded)} avg_throughput:"
             f"{float(np.mean(succeeded)) if succeeded else 0.0}")
    for i, r in enumerate(sorted(results, key=lambda r: r["throughput"], reverse=True)):
        log.info(f"{i} dymshape:{r['dymshape']}  result:{r['result']} "
                 f"throughput:{r['throughput']}")
    log.info(_DASHES)
    return 0 if len(succeeded) == len(results) else 1


class _Stopped(AisBenchError):
    """A device worker stopped because another one failed before the run."""


def _copy_args(args, **changes):
    import copy

    copied = copy.copy(args)
    for name, value in changes.items():
        setattr(copied, name, value)
    return copied


# ------------------------------------------------------------------------------------------
# Errors, logging, environment


def describe_error(error: BaseException, debug: bool = False) -> tuple[str, int]:
    """One line for ``error`` and the exit status; the traceback only with ``--debug``."""
    if debug:
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    if isinstance(error, AisBenchError):
        return str(error), error.code
    if isinstance(error, (RuntimeError, ValueError)) and str(error):
        return str(error).replace("\n", " "), 1      # InferSession's (ais_bench's) messages
    if isinstance(error, (TypeError, OSError, MemoryError)):
        text = str(error) or type(error).__name__
        return f"{type(error).__name__}: {text}".replace("\n", " "), 1
    return (f"unexpected {type(error).__name__}: {error} (a bug in openacl's ais_bench; "
            f"--debug 1 shows the traceback)").replace("\n", " "), 1


@contextlib.contextmanager
def _logging(debug: bool):
    """ais_bench's log lines, ``[LEVEL] message``, on the current stdout for this run."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(_FORMAT))
    previous = (log.level, log.propagate)
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False
    try:
        yield
    finally:
        handler.flush()
        log.removeHandler(handler)
        log.setLevel(previous[0])
        log.propagate = previous[1]


@contextlib.contextmanager
def _device_count(devices: list[int]):
    """Emulate enough devices for ``devices`` unless ``OPENACL_DEVICE_COUNT`` says otherwise."""
    from openacl import config

    needed = max(devices) + 1
    if "OPENACL_DEVICE_COUNT" in os.environ:
        count = config.device_count()
        if needed > count:
            raise AisBenchError(f"--device {','.join(map(str, devices))}: OPENACL_DEVICE_COUNT="
                                f"{count} emulates devices 0..{count - 1}")
        yield
        return
    if needed == 1:
        yield
        return
    log.info(f"openacl: emulating {needed} devices for --device "
             f"{','.join(map(str, devices))} (OPENACL_DEVICE_COUNT is not set)")
    os.environ["OPENACL_DEVICE_COUNT"] = str(needed)
    try:
        yield
    finally:
        os.environ.pop("OPENACL_DEVICE_COUNT", None)


def _check_paths(args) -> None:
    if not os.path.isfile(args.model):
        raise AisBenchError(f"--model {args.model} does not exist or is not a file")
    if args.acl_json_path is not None:
        if not os.path.isfile(args.acl_json_path):
            raise AisBenchError(f"--acl_json_path {args.acl_json_path} does not exist")
        if not args.acl_json_path.endswith(".json"):
            raise AisBenchError(f"acl_json_path:{args.acl_json_path} is not a .json file")
    if args.aipp_config is not None:
        if not args.aipp_config.endswith(".config"):
            raise AisBenchError(f"--aipp_config {args.aipp_config} is not a .config file")
        if not os.path.isfile(args.aipp_config):
            raise AisBenchError(f"--aipp_config {args.aipp_config} does not exist")
    if args.output is not None and os.path.exists(args.output) and not os.path.isdir(
            args.output):
        raise AisBenchError(f"--output {args.output} exists and is not a folder")


def _profiler_and_dump(args) -> None:
    """``--profiler`` / ``--dump``: as ais_bench, an acl.json beside the outputs turns them on
    for the run (``<output>/<stamp>/profiler``: trace.json, summary.txt, timeline.png;
    ``<output>/<stamp>/dump``: every layer's inputs and outputs, numpy-readable, so
    ``--dump_npy`` needs no conversion)."""
    if not (args.profiler or args.dump):
        return
    import json

    if args.output is None:
        raise AisBenchError("--profiler and --dump need --output (their data goes there)",
                            code=2)
    if args.acl_json_path is not None:
        raise AisBenchError("--acl_json_path cannot be combined with --profiler or --dump: "
                            "put the profiler / dump sections in that file", code=2)
    folder = os.path.abspath(os.path.join(args.output, args.output_dirname or args.stamp))
    os.makedirs(folder, exist_ok=True)
    config = {}
    if args.profiler:
        config["profiler"] = {"switch": "on", "output": os.path.join(folder, "profiler"),
                              "task_time": "on"}
    if args.dump:
        config["dump"] = {"dump_path": os.path.join(folder, "dump"), "dump_mode": "all",
                          "dump_list": [{"model_name": os.path.splitext(
                              os.path.basename(args.model))[0]}]}
    args.acl_json_path = os.path.join(folder, "acl.json")
    with open(args.acl_json_path, "w") as file:
        json.dump(config, file, indent=2)
    log.info(f"acl.json for --profiler/--dump: {args.acl_json_path}")


def _output_prefix(args, index, devices) -> str | None:
    """``<output>/<output_dirname or date-time>`` (``/device<id>_<i>`` with several devices)."""
    if args.output is None:
        return None
    prefix = os.path.join(args.output, args.output_dirname or args.stamp)
    if devices is not None and len(devices) > 1:
        prefix = os.path.join(prefix, f"device{devices[index]}_{index}")
    os.makedirs(prefix, exist_ok=True)
    log.info(f"output path:{prefix}")
    return prefix


# ------------------------------------------------------------------------------------------
# The session (ais_bench.infer.interface.InferSession), used as ais_bench uses it


def _open_session(args):
    """A session on ``args.device`` with ais_bench's options set (its set_session_options)."""
    from ais_bench.infer.interface import InferSession

    session = InferSession(args.device, args.model, args.acl_json_path, args.debug, args.loop)
    try:
        if args.dym_batch:
            session.set_dynamic_batchsize(args.dym_batch)
        elif args.dym_hw is not None:
            height, width = (int(part) for part in args.dym_hw.split(","))
            session.set_dynamic_hw(height, width)
        elif args.dym_dims is not None:
            session.set_dynamic_dims(args.dym_dims)
        elif args.dym_shape is not None:
            session.set_dynamic_shape(args.dym_shape)
        else:
            session.set_staticbatch()
        if args.custom_sizes is not None:
            session.set_custom_outsize(args.custom_sizes)
    except BaseException:
        session.free_resource()
        raise
    return session


def _set_aipp(session, args) -> None:
    """ais_bench's rule: a dynamic-AIPP model needs --aipp_config; others ignore it."""
    if args.dym_shape is not None or args.auto_set_dymshape_mode:
        exists = 0
    else:
        exists = session.get_dym_aipp_input_exist()
    if exists and args.aipp_config is None:
        raise AisBenchError("can't find aipp config file for model with dym aipp input, please "
                            "check it! (give --aipp_config)")
    if exists:
        if args.dym_batch:
            batch = session.get_max_dym_batchsize()
        else:
            shape = session.get_inputs()[0].shape
            batch = args.batchsize or (shape[0] if shape and shape[0] > 0 else 1)
        session.load_aipp_config_file(args.aipp_config, batch)
    elif args.aipp_config is not None:
        log.info(f"the model has no dynamic AIPP input: --aipp_config {args.aipp_config} is "
                 f"not used")


def _aipp_inputs(session) -> tuple[list[int], dict]:
    """The inputs behind AIPP (they take raw images): dynamic ones, static ones' configs.

    Read from the model description of openacl's session (``InferSession.session``); an
    ais_bench ``TensorDesc`` does not say which input has AIPP.
    """
    infos = getattr(getattr(session, "session", None), "inputs", [])
    dynamic, static = [], {}
    for i, info in enumerate(infos):
        config = getattr(info, "aipp", None)
        if config is not None and getattr(config, "dynamic", False):
            dynamic.append(i)
        elif config is not None:
            static[i] = config
    return dynamic, static


def _static_aipp_bytes(config, shape) -> int:
    """Bytes of the batch of raw images a static-AIPP input ``[N, H, W, C]`` takes."""
    from openacl.model.aipp import image_bytes

    batch, height, width = shape[0], shape[1], shape[2]
    width = config.src_image_size_w or width
    height = config.src_image_size_h or height
    return batch * image_bytes(config.input_format, width, height)


def _aipp_image_bytes(path: str) -> int:
    """Bytes of one source image of an ``--aipp_config``: format and source size."""
    from configparser import ConfigParser, Error

    per_pixel = {"YUV420SP_U8": 1.5, "XRGB8888_U8": 4, "RGB888_U8": 3, "YUV400_U8": 1}
    config = ConfigParser()
    try:
        config.read(path, "UTF-8")
        fmt = config.get("aipp_op", "input_format")
        width = config.getint("aipp_op", "src_image_size_w")
        height = config.getint("aipp_op", "src_image_size_h")
    except (Error, ValueError) as error:
        raise AisBenchError(f"--aipp_config {path}: {error}".replace("\n", " ")) from None
    if fmt not in per_pixel:
        raise AisBenchError(f"--aipp_config {path}: input_format {fmt} is not one of "
                            f"{', '.join(per_pixel)}")
    return int(width * height * per_pixel[fmt])


def _inputs(session) -> list[dict]:
    return [{"name": desc.name, "dtype": _numpy_dtype(desc.datatype), "shape": list(desc.shape),
             "realsize": desc.realsize} for desc in session.get_inputs()]


def _numpy_dtype(datatype) -> np.dtype:
    if isinstance(datatype, np.dtype):
        return datatype
    name = getattr(datatype, "name", None) or str(datatype).rpartition(".")[2]
    return np.dtype({"double64": "float64"}.get(name, name))


def _infer(session, args, feeds):
    """ais_bench's run_inference: in the auto modes, set each batch's shapes first."""
    if args.auto_set_dymshape_mode or args.auto_set_dymdims_mode:
        names = [desc.name for desc in session.get_inputs()]
        text = ";".join(f"{name}:{','.join(str(dim) for dim in feed.shape)}"
                        for name, feed in zip(names, feeds))
        if args.auto_set_dymshape_mode:
            session.set_dynamic_shape(text)
        else:
            session.set_dynamic_dims(text)
    return session.run(feeds, out_array=True)


def _warmup_session(session, args, feeds) -> None:
    session.set_loop_count(1)
    for _ in range(args.warmup_count):
        _infer(session, args, feeds)
    session.set_loop_count(args.loop)
    session.reset_summaryinfo()


def _reset_copy_times() -> None:
    from ais_bench.infer.interface import MemorySummary

    MemorySummary.reset()


def _executions(sessions) -> int:
    return sum(len(session.summary().exec_time_list) for session in sessions)


def _collect_session_times(sessions, record: Record) -> None:
    from ais_bench.infer.interface import MemorySummary

    for session in sessions:
        record.compute.extend(float(t) for t in session.summary().exec_time_list)
    record.h2d = [float(t) for t in MemorySummary.get_h2d_time_list()]
    record.d2h = [float(t) for t in MemorySummary.get_d2h_time_list()]


def _print_model(session) -> None:
    """ais_bench's --debug listing: index, name, shape, dtype, size, realsize."""
    for title, descs in (("input", session.get_inputs()), ("output", session.get_outputs())):
        print(f"{title}:")
        for i, desc in enumerate(descs):
            datatype = getattr(desc.datatype, "name", desc.datatype)
            print(f"  #{i}    {desc.name}  {tuple(desc.shape)}  {datatype}  {desc.size}  "
                  f"{desc.realsize}")
    sys.stdout.flush()


def _close(session) -> None:
    session.free_resource()


def _finalize() -> None:
    from ais_bench.infer.interface import InferSession

    InferSession.finalize()
