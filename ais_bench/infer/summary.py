"""The summary of a ``python -m ais_bench`` run: ais_bench's json and lines, and openacl's extras.

:func:`summarize` builds ``<stamp>_summary.json``'s dictionary from a :class:`Record` of the
run: ais_bench's keys (``filesinfo``, ``args``, ``NPU_compute_time``, ``H2D_latency``,
``D2H_latency`` with min / max / mean / median / ``percentile(99%)`` / count, ``throughput``
= 1000 * batchsize / mean compute time, ``npu_compute_time_list``, ``pid``) computed as
ais_bench computes them, then openacl's: ``percentiles`` (50 / 90 / 99 of each time),
``e2e_latency`` (each inference call, inputs in to outputs out), the per-copy and per-call
lists, ``executions``, ``wall_time`` and ``e2e_throughput`` (samples per second over the
whole run, files included). With ``--pipeline --threads N`` (N > 1) the compute time is
ais_bench's merged-interval mean.

:func:`print_summary` prints ais_bench's Performance Summary lines unchanged, then a block of
openacl's lines (none of which says "throughput": scripts take the last field of the line
that does).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from ais_bench.infer import io_utils

__all__ = ["Record", "summarize", "print_summary"]

log = logging.getLogger("ais_bench")

_DASHES = "------------------------------------------------------"


@dataclass
class Record:
    """What one run measured; all times in milliseconds."""

    compute: list = field(default_factory=list)     # each execution of the model
    intervals: list = field(default_factory=list)   # (start, end) of each execution, threads > 1
    h2d: list = field(default_factory=list)         # each copy of the inputs to the device
    d2h: list = field(default_factory=list)         # each copy of the outputs to the host
    e2e: list = field(default_factory=list)         # each inference call, inputs in -> outputs out
    batchsizes: list = field(default_factory=list)  # auto modes: the batch of each inference
    filesinfo: dict = field(default_factory=dict)
    executions: int = 0
    wall_ms: float = 0.0


def summarize(record: Record, args, batchsize) -> dict:
    """The summary json: ais_bench's keys and statistics, then openacl's additions."""
    if record.batchsizes:
        batchsize = sum(record.batchsizes) / len(record.batchsizes)
    multi = args.pipeline and args.threads > 1
    info: dict = {"filesinfo": record.filesinfo, "args": args.argv}
    if multi:
        mean = io_utils.merged_mean(record.intervals)
        info["NPU_compute_time"] = {"mean": mean, "count": len(record.intervals)}
        info["H2D_latency"] = {"mean": io_utils.list_info(record.h2d)["mean"],
                               "count": len(record.h2d)}
        info["D2H_latency"] = {"mean": io_utils.list_info(record.d2h)["mean"],
                               "count": len(record.d2h)}
        info["npu_compute_time_list"] = [list(pair) for pair in record.intervals]
    else:
        mean = io_utils.list_info(record.compute)["mean"]
        info["NPU_compute_time"] = _ais_keys(io_utils.list_info(record.compute))
        info["H2D_latency"] = _ais_keys(io_utils.list_info(record.h2d))
        info["D2H_latency"] = _ais_keys(io_utils.list_info(record.d2h))
        info["npu_compute_time_list"] = list(record.compute)
    info["throughput"] = io_utils.throughput(batchsize, mean)
    info["pid"] = os.getpid()
    # openacl's additions (ais_bench has none of these keys)
    info["batchsize"] = batchsize
    info["percentiles"] = {name: _extra(io_utils.list_info(values)) for name, values in
                           (("NPU_compute_time", record.compute), ("H2D_latency", record.h2d),
                            ("D2H_latency", record.d2h))}
    info["e2e_latency"] = io_utils.list_info(record.e2e)
    info["h2d_latency_list"] = list(record.h2d)
    info["d2h_latency_list"] = list(record.d2h)
    info["e2e_latency_list"] = list(record.e2e)
    info["executions"] = record.executions
    info["wall_time"] = record.wall_ms
    info["e2e_throughput"] = (1000.0 * batchsize * record.executions / record.wall_ms
                              if record.wall_ms else 0.0)
    return info


def print_summary(info: dict, display_all: bool) -> None:
    """Print ais_bench's Performance Summary lines, then openacl's additions."""
    batchsize = info["batchsize"]
    compute, h2d, d2h = info["NPU_compute_time"], info["H2D_latency"], info["D2H_latency"]
    log.info("-----------------Performance Summary------------------")
    if "min" not in compute:                # threads > 1: ais_bench prints means only
        if display_all:
            log.info(f"H2D_latency (ms): mean = {h2d['mean']}")
        log.info(f"NPU_compute_time (ms): mean = {compute['mean']}")
        if display_all:
            log.info(f"D2H_latency (ms): mean = {d2h['mean']}")
    else:
        if display_all:
            log.info(f"H2D_latency (ms): {_ais_line(h2d)}")
        log.info(f"NPU_compute_time (ms): {_ais_line(compute)}")
        if display_all:
            log.info(f"D2H_latency (ms): {_ais_line(d2h)}")
    log.info(f"throughput 1000*batchsize.mean({batchsize})/NPU_compute_time.mean"
             f"({compute['mean']}): {info['throughput']}")
    log.info(_DASHES)
    # openacl: what ais_bench users compute by hand. No line says "throughput": scripts take
    # the last field of the one line that does (ais_bench's own dymShape_range does).
    log.info("-----------------openacl: latency detail---------------")
    for name in ("NPU_compute_time", "H2D_latency", "D2H_latency"):
        p = info["percentiles"][name]
        log.info(f"{name} (ms): p50 = {p['percentile(50%)']:.4f}, p90 = "
                 f"{p['percentile(90%)']:.4f}, p99 = {p['percentile(99%)']:.4f}, "
                 f"count = {p['count']}")
    e2e = info["e2e_latency"]
    log.info(f"e2e_latency (ms, inputs in -> outputs out, per inference of --loop executions): "
             f"min = {e2e['min']:.4f}, mean = {e2e['mean']:.4f}, p50 = "
             f"{e2e['percentile(50%)']:.4f}, p90 = {e2e['percentile(90%)']:.4f}, p99 = "
             f"{e2e['percentile(99%)']:.4f}, max = {e2e['max']:.4f}")
    log.info(f"split (mean ms per inference): {_split(info)}")
    log.info(f"end to end: {info['executions']} executions of batch {batchsize} in "
             f"{info['wall_time']:.2f} ms (files read and written included): "
             f"{info['e2e_throughput']:.2f} samples/s")
    log.info(_DASHES)


def _ais_keys(info: dict) -> dict:
    keys = ("min", "max", "mean", "median", "percentile(99%)", "count")
    return {key: info[key] for key in keys}


def _extra(info: dict) -> dict:
    return {key: info[key] for key in ("percentile(50%)", "percentile(90%)", "percentile(99%)",
                                       "count")}


def _ais_line(info: dict) -> str:
    return (f"min = {info['min']}, max = {info['max']}, mean = {info['mean']}, median = "
            f"{info['median']}, percentile(99%) = {info['percentile(99%)']}")


def _split(info: dict) -> str:
    inferences = max(info["e2e_latency"]["count"], 1)
    h2d = sum(info["h2d_latency_list"]) / inferences
    d2h = sum(info["d2h_latency_list"]) / inferences
    if "min" in info["NPU_compute_time"]:
        compute = sum(info["npu_compute_time_list"]) / inferences
    else:
        compute = sum(end - start for start, end in info["npu_compute_time_list"]) / inferences
    total = info["e2e_latency"]["mean"]
    host = max(total - h2d - compute - d2h, 0.0)
    parts = [("H2D", h2d), ("compute", compute), ("D2H", d2h), ("host", host)]
    return ", ".join(f"{name} = {value:.4f} ({100.0 * value / total if total else 0.0:.1f}%)"
                     for name, value in parts) + f" of {total:.4f}"
