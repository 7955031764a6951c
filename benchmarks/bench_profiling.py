"""What the profiler costs: ``acl.mdl.execute`` with profiling off vs on, in the same run.

    python benchmarks/bench_profiling.py [--rounds 7]

For a tiny model (per-call cost) and ResNet-50 batch 1 (benchmarks/resnet.py):

* API + task level (what ``acl.prof`` start / the ``acl.init`` profiler section / ``openacl
  profile`` record for every pyACL call and stream task): ``execute`` + an async copy on a
  stream, off vs on. Bar <= 1.05x.
* operator level (ONNX Runtime's own per-operator profiler in the model's session, turned on
  for models loaded while profiling asks for operators): reported.

Rounds alternate; each side's best round is compared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np
import onnx

import acl
from openacl.profiling import recorder

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DeviceModel, acl_session, alternate, tiny_add_model  # noqa: E402
from resnet import build_resnet50  # noqa: E402


def _recording(function, on: bool):
    """``function`` with the recorder's switch set for its duration (events dropped)."""
    def run():
        recorder.ON = on
        try:
            function()
        finally:
            recorder.ON = False
            recorder._events.clear()
    return run


def bench(path: str, feeds: dict, calls: int, rounds: int) -> dict:
    stream, _ = acl.rt.create_stream()
    plain = DeviceModel(path, feeds)
    recorder.OPS = True                          # the next load profiles its operators
    try:
        with_ops = DeviceModel(path, feeds)
    finally:
        recorder.OPS = False
    host = np.zeros(acl.mdl.get_output_size_by_index(plain.desc, 0), np.uint8)
    out_ptr = plain.pointers[len(feeds)]

    def step(model):
        def run():
            model.execute()
            acl.rt.memcpy_async(host.ctypes.data, host.nbytes, out_ptr, host.nbytes, 2, stream)
            acl.rt.synchronize_stream(stream)
        return run

    try:
        off, on = alternate(_recording(step(plain), False), _recording(step(plain), True),
                            calls, rounds)
        _, ops = alternate(_recording(step(plain), False), _recording(step(with_ops), True),
                           calls, rounds)
    finally:
        for model in (plain, with_ops):
            model.release()
        acl.rt.destroy_stream(stream)
    return {"off_ms": off * 1e3, "api_task_ms": on * 1e3, "api_task_ratio": on / off,
            "with_operators_ms": ops * 1e3, "operators_ratio": ops / off}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = {}
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as workdir, acl_session():
        tiny = os.path.join(workdir, "tiny.onnx")
        onnx.save(tiny_add_model(), tiny)
        results["tiny"] = bench(tiny, {"x": np.ones((1, 16), np.float32),
                                       "y": np.ones((1, 16), np.float32)}, 500, args.rounds)
        resnet = os.path.join(workdir, "resnet50.onnx")
        onnx.save(build_resnet50(batch=1), resnet)
        results["resnet50_b1"] = bench(
            resnet, {"data": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}, 3,
            args.rounds)
    for name, r in results.items():
        unit, scale = ("us", 1e3) if name == "tiny" else ("ms", 1.0)
        print(f"{name:<12} off {r['off_ms'] * scale:8.2f} {unit}   API+tasks "
              f"{r['api_task_ms'] * scale:8.2f} {unit} ({r['api_task_ratio']:.3f}x, bar 1.05x: "
              f"{'PASS' if r['api_task_ratio'] <= 1.05 else 'FAIL'})   + operators "
              f"{r['with_operators_ms'] * scale:8.2f} {unit} ({r['operators_ratio']:.3f}x)")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
