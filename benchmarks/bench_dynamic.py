"""Gear b of a dynamic-batch model against a static model of batch b, in the same run.

    python benchmarks/bench_dynamic.py [--rounds 6]

Both models are converted by atc from the same ONNX (ResNet-50-shaped, random weights, from
benchmarks/resnet.py; and a small conv net, where fixed costs show) and executed through
acl.mdl.execute on device buffers. The gear model runs gear b over its max-gear buffers
(bound as views, no copies). Rounds alternate; each side's best round is compared.
Bar: <= 1.05x.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np
import onnx
import onnx.helper as helper
from onnx import TensorProto, numpy_helper

import acl
from openacl.atc import convert

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DeviceModel, acl_session, alternate  # noqa: E402
from resnet import build_resnet50  # noqa: E402

GEARS = (1, 2, 4, 8)


def small_convnet() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array((rng.standard_normal((16, 3, 3, 3)) * 0.2).astype(np.float32), "w1")
    w2 = numpy_helper.from_array((rng.standard_normal((32, 16, 3, 3)) * 0.1).astype(np.float32), "w2")
    nodes = [helper.make_node("Conv", ["data", "w1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("GlobalAveragePool", ["c2"], ["p"]),
             helper.make_node("Flatten", ["p"], ["prob"])]
    graph = helper.make_graph(
        nodes, "small", [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["batch", 32])], [w1, w2])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _per_call(function, calls):
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def compare(name, model, shape, batches, rounds, workdir) -> list[dict]:
    source = os.path.join(workdir, f"{name}.onnx")
    onnx.save(model, source)
    tail = ",".join(str(d) for d in shape[1:])
    common = [f"--model={source}", "--framework=5", "--soc_version=Ascend310P3"]
    gear_path = convert(common + [f"--output={workdir}/{name}_gears", f"--input_shape=data:-1,{tail}",
                                  f"--dynamic_batch_size={','.join(map(str, GEARS))}"],
                        on_warning=lambda _: None)
    results = []
    for batch in batches:
        static_path = convert(common + [f"--output={workdir}/{name}_b{batch}",
                                        f"--input_shape=data:{batch},{tail}"], on_warning=lambda _: None)
        gear, static = DeviceModel(gear_path), DeviceModel(static_path)
        gear.set_batch(batch)
        data = np.random.default_rng(batch).standard_normal((batch, *shape[1:])).astype(np.float32)
        gear.fill(0, data)
        static.fill(0, data)
        assert gear.execute() == 0 and static.execute() == 0
        out_bytes = acl.mdl.get_output_size_by_index(static.desc, 0)
        assert gear.output_bytes(0, out_bytes) == static.output_bytes(0, out_bytes), \
            "gear and static results differ"
        calls = max(1, int(0.3 / max(_per_call(static.execute, 1), 1e-6)))
        gear_t, static_t = alternate(gear.execute, static.execute, calls, rounds, warmup=False)
        results.append({"model": name, "batch": batch, "gear_ms": gear_t * 1e3,
                        "static_ms": static_t * 1e3, "ratio": gear_t / static_t})
        gear.release()
        static.release()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    with acl_session(), tempfile.TemporaryDirectory() as workdir:
        results = compare("small_convnet", small_convnet(), (1, 3, 32, 32), GEARS, args.rounds, workdir)
        results += compare("resnet50", build_resnet50(batch=None), (1, 3, 224, 224), (1, 4),
                           max(2, args.rounds // 2), workdir)
    for r in results:
        print(f"{r['model']:<14} batch {r['batch']}: gear {r['gear_ms']:8.3f} ms   static "
              f"{r['static_ms']:8.3f} ms   ratio {r['ratio']:.3f}x (bar 1.05x)")
    worst = max(r["ratio"] for r in results)
    print(f"worst ratio {worst:.3f}x: {'PASS' if worst <= 1.05 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
