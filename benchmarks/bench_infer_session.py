"""ais_bench's ``InferSession.infer`` and the ``ais_bench`` CLI against onnxruntime itself.

    python benchmarks/bench_infer_session.py [--rounds 7] [--part tiny|resnet|cli] [--json F]

tiny:   per-call cost of ``InferSession.infer([x, y])`` on a 16-float Add against
        ``onnxruntime.InferenceSession.run`` on the same numpy arrays (numpy in, numpy out
        on both sides): the overhead of the Pythonic API, reported in microseconds.
resnet: a ResNet-50-shaped model (random weights, benchmarks/resnet.py) at batch 1 and 8:
        ``InferSession.infer`` vs ``InferenceSession.run`` with the same session options
        and threads (bar <= 1.05x).
cli:    ``python -m ais_bench --model resnet50.om --loop N`` run in-process: the compute
        time its summary reports (``NPU_compute_time`` mean) against the wall time it
        measured around each execution (the end-to-end latency it also reports) and the
        H2D / D2H parts, so the split can be checked against the whole.

Rounds of both sides alternate so that machine noise hits both alike; each side's best
round is compared (the least disturbed measurement of each).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

from ais_bench.infer.interface import InferSession
from openacl.engines.onnxruntime_cpu import session_options

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import alternate, tiny_add_model  # noqa: E402
from resnet import build_resnet50  # noqa: E402


def _pair(path: str, model: onnx.ModelProto, feeds: dict[str, np.ndarray], calls: int,
          rounds: int) -> dict:
    """InferSession.infer vs InferenceSession.run on the same arrays; outputs must agree."""
    session = InferSession(0, path)
    reference = ort.InferenceSession(model.SerializeToString(), session_options(),
                                     providers=["CPUExecutionProvider"])
    arrays = list(feeds.values())
    try:
        ours = session.infer(arrays)
        theirs = reference.run(None, feeds)
        max_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs))
        ais_s, ort_s = alternate(lambda: session.infer(arrays),
                                 lambda: reference.run(None, feeds), calls, rounds)
    finally:
        session.free_resource()
    return {"infer_session_ms": ais_s * 1e3, "onnxruntime_ms": ort_s * 1e3,
            "ratio": ais_s / ort_s, "overhead_us": (ais_s - ort_s) * 1e6,
            "max_abs_difference": max_diff}


def bench_tiny(workdir: str, rounds: int) -> dict:
    model = tiny_add_model()
    path = os.path.join(workdir, "tiny.onnx")
    onnx.save(model, path)
    feeds = {"x": np.ones((1, 16), np.float32), "y": np.full((1, 16), 2, np.float32)}
    return _pair(path, model, feeds, 2000, rounds)


def bench_resnet(workdir: str, rounds: int) -> dict:
    results = {}
    rng = np.random.default_rng(0)
    for batch in (1, 8):
        model = build_resnet50(batch=batch)
        path = os.path.join(workdir, f"resnet50_b{batch}.onnx")
        onnx.save(model, path)
        feeds = {"data": rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)}
        results[f"batch{batch}"] = _pair(path, model, feeds, 3 if batch == 1 else 1, rounds)
    return results


def bench_cli(workdir: str, loops: int) -> dict:
    """The CLI on ResNet-50 batch 1: its compute time against the latency it measured."""
    from ais_bench.__main__ import main

    path = os.path.join(workdir, "resnet50_b1.onnx")
    if not os.path.exists(path):
        onnx.save(build_resnet50(batch=1), path)
    out = os.path.join(workdir, "cli")
    os.makedirs(out, exist_ok=True)
    code = main(["--model", path, "--loop", str(loops), "--output", out,
                 "--output_dirname", "run", "--warmup_count", "2"])
    assert code == 0, f"ais_bench exited with {code}"
    (summary_path,) = glob.glob(os.path.join(out, "*summary.json"))
    with open(summary_path) as file:
        summary = json.load(file)
    compute = sum(summary["npu_compute_time_list"])           # every execution, in ms
    h2d, d2h = sum(summary["h2d_latency_list"]), sum(summary["d2h_latency_list"])
    e2e = sum(summary["e2e_latency_list"])                    # inputs in -> outputs out
    return {"executions": summary["executions"], "compute_ms": compute, "h2d_ms": h2d,
            "d2h_ms": d2h, "e2e_ms": e2e, "compute_share": compute / e2e,
            "host_ms_per_execution": (e2e - compute - h2d - d2h) / summary["executions"],
            "compute_mean_ms": summary["NPU_compute_time"]["mean"], "summary": summary}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--part", choices=("tiny", "resnet", "cli"), action="append")
    parser.add_argument("--loops", type=int, default=30, help="CLI loops (part cli)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    parts = args.part or ["tiny", "resnet", "cli"]
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        if "tiny" in parts:
            r = results["tiny"] = bench_tiny(workdir, args.rounds)
            print(f"tiny Add: InferSession.infer {r['infer_session_ms'] * 1e3:7.1f} us, "
                  f"onnxruntime run {r['onnxruntime_ms'] * 1e3:7.1f} us: "
                  f"{r['overhead_us']:+.1f} us per call ({r['ratio']:.2f}x)")
        if "resnet" in parts:
            results["resnet"] = bench_resnet(workdir, args.rounds)
            for name, r in results["resnet"].items():
                print(f"ResNet-50 {name}: InferSession.infer {r['infer_session_ms']:7.2f} ms, "
                      f"onnxruntime run {r['onnxruntime_ms']:7.2f} ms: ratio "
                      f"{r['ratio']:.3f}x (bar 1.05x): "
                      f"{'PASS' if r['ratio'] <= 1.05 else 'FAIL'}; max |diff| "
                      f"{r['max_abs_difference']:.2e}")
        if "cli" in parts:
            r = results["cli"] = bench_cli(workdir, args.loops)
            print(f"ais_bench CLI, ResNet-50 b1, {r['executions']} executions: compute "
                  f"{r['compute_ms']:.1f} ms (mean {r['compute_mean_ms']:.2f}) of "
                  f"{r['e2e_ms']:.1f} ms end to end ({r['compute_share']:.4f}); H2D "
                  f"{r['h2d_ms']:.3f} ms, D2H {r['d2h_ms']:.3f} ms, the rest "
                  f"{r['host_ms_per_execution'] * 1e3:.1f} us per execution")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
