"""acl.mdl.execute on each engine and precision, against raw ONNX Runtime and raw OpenVINO.

    python benchmarks/bench_engines.py                 # batch 1 and 8, every setting
    python benchmarks/bench_engines.py --batch 1 --cycles 2
    python benchmarks/bench_engines.py --json results.json

A ResNet-50-shaped model (random weights, benchmarks/resnet.py) at batch 1 and 8 is built
with ``atc`` at ATC's default precision mode (``force_fp16``), then loaded through
``acl.mdl.load_from_file`` under each setting of the precision policy
(``OPENACL_PRECISION`` / ``OPENACL_ENGINE``, docs/engines.md):

=================  =====================================================================
setting            what runs
=================  =====================================================================
``exact``          ONNX Runtime, float32 (the reference)
``openvino-f32``   OpenVINO at f32 (``OPENACL_PRECISION=exact OPENACL_ENGINE=openvino``)
``auto``           the default for an ATC-built model: the policy's fast setting
                   (OpenVINO at bf16 on an AVX512-BF16 CPU)
``npu``            the NPU's float16 numerics reproduced on ONNX Runtime (when the policy
                   offers it; for accuracy, not speed)
=================  =====================================================================

Each setting is timed through ``acl.mdl.execute`` against its raw engine on the same thread
count: raw ``InferenceSession.run`` for ONNX Runtime (on the rewritten graph for ``npu``), a
raw OpenVINO ``CompiledModel`` compiled with the same settings and precision,
``InferRequest.infer`` with shared inputs (bar <= 1.03x); and every setting against raw ONNX
Runtime float32 (goal >= 1.8x for ``auto``). Two sessions' thread pools compete when
alternated call by call (ONNX Runtime's threads spin after a run, even those of a second
ONNX Runtime session), so every side is timed in a phase of its own, after a pause: the
phases repeat ``--cycles`` times, and each measurement keeps its best phase. Accuracy: max |delta| of the softmax against ONNX Runtime float32 on the
same inputs, and how many of the batch's top-1 classes agree.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

from openacl.atc import convert
from openacl.engines.onnxruntime_cpu import session_options

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DeviceModel, acl_session  # noqa: E402
from resnet import build_resnet50  # noqa: E402

# setting -> (OPENACL_PRECISION, OPENACL_ENGINE or None)
SETTINGS = {
    "exact": ("exact", None),
    "openvino-f32": ("exact", "openvino"),
    "auto": ("auto", None),
    "npu": ("npu", None),
}


def atc(workdir: str, source: str, name: str) -> str:
    """The .om atc builds with its defaults (precision mode force_fp16)."""
    args = [f"--model={source}", "--framework=5", f"--output={workdir}/{name}",
            "--soc_version=Ascend310P3"]
    return convert(args, on_warning=lambda message: None)


def load(path: str, setting: str, data: np.ndarray) -> tuple[DeviceModel, str, str]:
    """The model under ``setting``; (model, engine name, precision) as the policy chose."""
    from openacl.model.model import MODELS

    precision, engine = SETTINGS[setting]
    saved = {name: os.environ.get(name) for name in ("OPENACL_PRECISION", "OPENACL_ENGINE")}
    os.environ["OPENACL_PRECISION"] = precision
    if engine:
        os.environ["OPENACL_ENGINE"] = engine
    else:
        os.environ.pop("OPENACL_ENGINE", None)
    try:
        net = DeviceModel(path, {"data": data})
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    loaded = MODELS.get(net.model_id)
    choice = loaded.precision                    # the policy's Choice: what actually runs
    graph = None
    if choice.rewrite:                           # the npu setting runs a rewritten graph
        from openacl.precision.npu_numerics import npu_model

        record = loaded.offline.record
        graph = npu_model(loaded.offline.proto, record.precision, record.soc_version)
    return net, choice, graph


def raw_session(model: onnx.ModelProto, engine: str, precision: str):
    """The raw engine on ``model``: an InferenceSession, or an OpenVINO CompiledModel
    compiled with the settings the openvino engine uses."""
    if engine == "onnxruntime":
        return ort.InferenceSession(model.SerializeToString(), session_options(),
                                    providers=["CPUExecutionProvider"])
    import openvino as ov

    from openacl.engines.openvino_cpu import compile_config

    return ov.Core().compile_model(ov.Core().read_model(model.SerializeToString()), "CPU",
                                   compile_config(precision))


def raw_runner(raw, engine: str, data: np.ndarray):
    if engine == "onnxruntime":
        return lambda: raw.run(None, {"data": data})[0]
    request = raw.create_infer_request()
    return lambda: request.infer({0: data}, share_inputs=True)[0]


def bench_batch(workdir: str, batch: int, settings: list[str], cycles: int) -> list[dict]:
    model = build_resnet50(batch=batch)
    source = os.path.join(workdir, f"resnet50_b{batch}.onnx")
    onnx.save(model, source)
    om = atc(workdir, source, f"resnet50_b{batch}")
    data = np.random.default_rng(batch).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    calls, rounds = (4, 4) if batch == 1 else (1, 5)

    reference = raw_session(model, "onnxruntime", "f32")
    expected = reference.run(None, {"data": data})[0]
    rows = {}
    for setting in settings:
        net, choice, graph = load(om, setting, data)
        engine, precision = choice.engine, choice.precision
        print(f"batch {batch}, {setting}: {choice.describe()}")
        assert net.execute() == 0
        got = np.frombuffer(net.output_bytes(0), np.float32).reshape(batch, 1000)
        raw = reference if (engine, graph) == ("onnxruntime", None) else \
            raw_session(graph or model, engine, precision)
        rows[setting] = {"net": net, "engine": engine, "precision": precision, "raw": raw,
                         "row": {"case": f"ResNet-50 batch {batch}", "setting": setting,
                                 "engine": engine, "precision": precision,
                                 "ran": choice.setting,
                                 "max_abs_softmax": float(np.abs(got - expected).max()),
                                 "top1_agree": int((got.argmax(1) == expected.argmax(1)).sum()),
                                 "batch": batch,
                                 "acl_ms": float("inf"), "raw_ms": float("inf"),
                                 "ort_f32_ms": float("inf")}}
    run_ort = raw_runner(reference, "onnxruntime", data)
    for _ in range(cycles):
        # ONNX Runtime float32 on its own (the speed-up's denominator).
        _settle()
        best = _best(run_ort, calls, rounds)
        for entry in rows.values():
            entry["row"]["ort_f32_ms"] = min(entry["row"]["ort_f32_ms"], best * 1e3)
        for entry in rows.values():
            # acl.mdl.execute, then its raw engine, each in a phase of its own: even two
            # ONNX Runtime sessions slow each other down when alternated call by call (the
            # idle one's threads spin).
            row = entry["row"]
            _settle()
            row["acl_ms"] = min(row["acl_ms"], _best(entry["net"].execute, calls, rounds) * 1e3)
            _settle()
            raw = raw_runner(entry["raw"], entry["engine"], data)
            row["raw_ms"] = min(row["raw_ms"], _best(raw, calls, rounds) * 1e3)
    # The raw float32 session timed against the exact setting is the same baseline.
    ort_f32 = min([entry["row"]["ort_f32_ms"] for entry in rows.values()]
                  + [entry["row"]["raw_ms"] for entry in rows.values()
                     if entry["raw"] is reference])
    results = []
    for entry in rows.values():
        row = entry["row"]
        row["ort_f32_ms"] = ort_f32
        row["vs_raw"] = row["acl_ms"] / row["raw_ms"]
        row["speedup_vs_ort_f32"] = row["ort_f32_ms"] / row["acl_ms"]
        row["per_image_ms"] = row["acl_ms"] / batch
        entry["net"].release()
        results.append(row)
    return results


def _best(function, calls: int, rounds: int) -> float:
    """Best seconds per call over ``rounds`` rounds of ``calls`` calls (after a warm-up)."""
    function()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def _settle():
    """Let the other engine's spinning threads go idle before a phase."""
    time.sleep(0.3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, action="append", choices=(1, 8),
                        help="batch size(s) (default: 1 and 8)")
    parser.add_argument("--setting", action="append", choices=list(SETTINGS),
                        help="settings to run (default: all)")
    parser.add_argument("--cycles", type=int, default=3, help="phase cycles (default 3)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    import openvino

    threads = session_options().intra_op_num_threads
    print(f"onnxruntime {ort.__version__}, openvino {openvino.__version__}, "
          f"threads {threads or 'default'} (every side)")
    from openacl.engines import get_engine
    print(f"openvino precisions here: {sorted(get_engine('openvino').capabilities())}")
    results = []
    with acl_session(), tempfile.TemporaryDirectory() as workdir:
        for batch in args.batch or (1, 8):
            results += bench_batch(workdir, batch, args.setting or list(SETTINGS), args.cycles)
    print(f"{'case':<19} {'setting':<13} {'engine':<12} {'prec':<5} {'acl ms':>8} "
          f"{'raw ms':>8} {'vs raw':>7} {'ORT f32':>8} {'speed-up':>8} {'ms/img':>7} "
          f"{'max|d| softmax':>14} {'top1':>5}")
    for r in results:
        print(f"{r['case']:<19} {r['setting']:<13} {r['engine']:<12} {r['precision']:<5} "
              f"{r['acl_ms']:8.2f} {r['raw_ms']:8.2f} {r['vs_raw']:6.3f}x "
              f"{r['ort_f32_ms']:8.2f} {r['speedup_vs_ort_f32']:7.2f}x {r['per_image_ms']:7.2f} "
              f"{r['max_abs_softmax']:14.2e} {r['top1_agree']:>2}/{r['batch']}")
    print("bars: vs raw <= 1.03x (same engine and precision); auto speed-up >= 1.8x")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
