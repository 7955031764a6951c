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


class Loaded:
    def __init__(self, path, batch, gear_model: bool):
        self.model_id, ret = acl.mdl.load_from_file(path)
        assert ret == 0, acl.get_recent_err_msg()
        self.desc = acl.mdl.create_desc()
        acl.mdl.get_desc(self.desc, self.model_id)
        self.pointers = []
        self.inputs = self._dataset(acl.mdl.get_num_inputs(self.desc), acl.mdl.get_input_size_by_index)
        self.outputs = self._dataset(acl.mdl.get_num_outputs(self.desc),
                                     acl.mdl.get_output_size_by_index)
        if gear_model:
            index, _ = acl.mdl.get_input_index_by_name(self.desc, "ascend_mbatch_shape_data")
            assert acl.mdl.set_dynamic_batch_size(self.model_id, self.inputs, index, batch) == 0

    def _dataset(self, count, size_of):
        dataset = acl.mdl.create_dataset()
        for i in range(count):
            size = size_of(self.desc, i)
            ptr, _ = acl.rt.malloc(size, 0)
            acl.rt.memset(ptr, size, 0, size)
            self.pointers.append(ptr)
            acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(ptr, size))
        return dataset

    def fill(self, array):
        data = array.tobytes()
        acl.rt.memcpy(self.pointers[0], len(data), acl.util.bytes_to_ptr(data), len(data), 1)

    def result(self, nbytes):
        out = bytes(nbytes)
        acl.rt.memcpy(acl.util.bytes_to_ptr(out), nbytes, self.pointers[-1], nbytes, 2)
        return out

    def execute(self):
        return acl.mdl.execute(self.model_id, self.inputs, self.outputs)

    def release(self):
        for dataset in (self.inputs, self.outputs):
            for i in range(acl.mdl.get_dataset_num_buffers(dataset)):
                acl.destroy_data_buffer(acl.mdl.get_dataset_buffer(dataset, i))
            acl.mdl.destroy_dataset(dataset)
        for ptr in self.pointers:
            acl.rt.free(ptr)
        acl.mdl.unload(self.model_id)
        acl.mdl.destroy_desc(self.desc)


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
        gear, static = Loaded(gear_path, batch, True), Loaded(static_path, batch, False)
        data = np.random.default_rng(batch).standard_normal((batch, *shape[1:])).astype(np.float32)
        gear.fill(data)
        static.fill(data)
        assert gear.execute() == 0 and static.execute() == 0
        out_bytes = acl.mdl.get_output_size_by_index(static.desc, 0)
        assert gear.result(out_bytes) == static.result(out_bytes), "gear and static results differ"
        calls = max(1, int(0.3 / max(_per_call(static.execute, 1), 1e-6)))
        gear_t = static_t = float("inf")
        for _ in range(rounds):
            gear_t = min(gear_t, _per_call(gear.execute, calls))
            static_t = min(static_t, _per_call(static.execute, calls))
        results.append({"model": name, "batch": batch, "gear_ms": gear_t * 1e3,
                        "static_ms": static_t * 1e3, "ratio": gear_t / static_t})
        gear.release()
        static.release()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    context, _ = acl.rt.create_context(0)
    with tempfile.TemporaryDirectory() as workdir:
        results = compare("small_convnet", small_convnet(), (1, 3, 32, 32), GEARS, args.rounds, workdir)
        results += compare("resnet50", build_resnet50(batch=None), (1, 3, 224, 224), (1, 4),
                           max(2, args.rounds // 2), workdir)
    acl.rt.destroy_context(context)
    acl.rt.reset_device(0)
    acl.finalize()
    for r in results:
        print(f"{r['model']:<14} batch {r['batch']}: gear {r['gear_ms']:8.3f} ms   static "
              f"{r['static_ms']:8.3f} ms   ratio {r['ratio']:.3f}x (bar 1.05x)")
    worst = max(r["ratio"] for r in results)
    print(f"worst ratio {worst:.3f}x: {'PASS' if worst <= 1.05 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
