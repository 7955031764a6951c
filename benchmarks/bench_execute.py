"""acl.mdl.execute against onnxruntime itself, in the same run.

    python benchmarks/bench_execute.py            # both parts
    python benchmarks/bench_execute.py --part tiny
    python benchmarks/bench_execute.py --part resnet

tiny:   per-call cost of acl.mdl.execute on a tiny model vs onnxruntime's
        ``run_with_iobinding`` on pre-bound buffers (bar <= 1.5x, aim <= 1.2x).
resnet: a ResNet-50-shaped model (random weights, built by benchmarks/resnet.py) at batch 1
        and 8: acl.mdl.execute vs ``InferenceSession.run`` with the same session options
        and threads (bar <= 1.03x).

Rounds of both alternate so that machine noise hits both alike; each side's best round is
compared (the least disturbed measurement of each).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

import acl
from openacl.engines.onnxruntime_cpu import session_options

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DeviceModel, acl_session, alternate, tiny_add_model  # noqa: E402
from resnet import build_resnet50  # noqa: E402


def bench_tiny(workdir: str, rounds: int) -> dict:
    model = tiny_add_model()
    path = os.path.join(workdir, "tiny.onnx")
    onnx.save(model, path)
    feeds = {"x": np.ones((1, 16), np.float32), "y": np.full((1, 16), 2, np.float32)}
    net = DeviceModel(path, feeds)
    session = ort.InferenceSession(model.SerializeToString(), session_options(),
                                   providers=["CPUExecutionProvider"])
    out = np.zeros((1, 16), np.float32)
    binding = session.io_binding()
    for name, array in feeds.items():
        binding.bind_input(name, "cpu", 0, np.float32, array.shape, array.ctypes.data)
    binding.bind_output("z", "cpu", 0, np.float32, out.shape, out.ctypes.data)
    model_id, inputs, outputs = net.model_id, net.inputs, net.outputs
    execute = acl.mdl.execute
    acl_s, ort_s = alternate(lambda: execute(model_id, inputs, outputs),
                             lambda: session.run_with_iobinding(binding), 20000, rounds)
    net.release()
    return {"case": "tiny model, per call", "acl_us": acl_s * 1e6, "ort_us": ort_s * 1e6,
            "ratio": acl_s / ort_s, "extra_us": (acl_s - ort_s) * 1e6,
            "baseline": "InferenceSession.run_with_iobinding, pre-bound buffers"}


def bench_resnet(workdir: str, batch: int, rounds: int) -> dict:
    model = build_resnet50(batch=batch)
    path = os.path.join(workdir, f"resnet50_b{batch}.onnx")
    onnx.save(model, path)
    data = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    net = DeviceModel(path, {"data": data})
    session = ort.InferenceSession(model.SerializeToString(), session_options(),
                                   providers=["CPUExecutionProvider"])
    # Same results first: the comparison is meaningless otherwise.
    assert net.execute() == 0
    expected = session.run(None, {"data": data})[0]
    got = np.frombuffer(net.output_bytes(0), np.float32).reshape(batch, 1000)
    assert np.array_equal(got, expected)
    calls = 3 if batch == 1 else 1
    acl_s, ort_s = alternate(net.execute, lambda: session.run(None, {"data": data}), calls, rounds)
    net.release()
    return {"case": f"ResNet-50 batch {batch}", "acl_ms": acl_s * 1e3, "ort_ms": ort_s * 1e3,
            "ratio": acl_s / ort_s, "baseline": "InferenceSession.run, same options"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("tiny", "resnet", "all"), default="all")
    parser.add_argument("--rounds", type=int, default=0, help="alternating rounds (default: "
                                                              "15 tiny, 8 resnet)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = []
    threads = session_options().intra_op_num_threads
    print(f"onnxruntime {ort.__version__}, intra-op threads {threads or 'default'} (both sides)")
    with acl_session(), tempfile.TemporaryDirectory() as workdir:
        if args.part in ("tiny", "all"):
            results.append(bench_tiny(workdir, args.rounds or 15))
        if args.part in ("resnet", "all"):
            for batch in (1, 8):
                results.append(bench_resnet(workdir, batch, args.rounds or 8))
    for r in results:
        if "acl_us" in r:
            print(f"{r['case']:<24} acl {r['acl_us']:7.2f} us   ort {r['ort_us']:7.2f} us   "
                  f"ratio {r['ratio']:.3f}x (bar 1.5x, aim 1.2x)   extra {r['extra_us']:+.2f} us")
        else:
            print(f"{r['case']:<24} acl {r['acl_ms']:7.2f} ms   ort {r['ort_ms']:7.2f} ms   "
                  f"ratio {r['ratio']:.3f}x (bar 1.03x)")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
