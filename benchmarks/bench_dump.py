"""acl.mdl.execute with per-operator dump of every layer vs off, and with dump configured
for another model vs no dump config (must be ~1.0x). Model: openacl/assets/digits_cnn.onnx.

    python benchmarks/bench_dump.py [--runs N]
"""

import argparse
import json
import os
import tempfile
import time

import numpy as np

import acl

MODEL = os.path.join(os.path.dirname(__file__), "..", "openacl", "assets", "digits_cnn.onnx")


def _time(dump, runs, folder):
    config = None
    if dump is not None:
        config = os.path.join(folder, "acl.json")
        with open(config, "w") as file:
            json.dump({"dump": {"dump_path": os.path.join(folder, "dumps"),
                                "dump_list": [{"model_name": dump}]}}, file)
    assert (acl.init(config) if config else acl.init()) == 0
    acl.rt.set_device(0)
    model_id, ret = acl.mdl.load_from_file(MODEL)
    assert ret == 0, acl.get_recent_err_msg()
    desc = acl.mdl.create_desc()
    acl.mdl.get_desc(desc, model_id)
    sets, keep = [], []
    for count, size_of in ((acl.mdl.get_num_inputs(desc), acl.mdl.get_input_size_by_index),
                           (acl.mdl.get_num_outputs(desc), acl.mdl.get_output_size_by_index)):
        dataset = acl.mdl.create_dataset()
        for i in range(count):
            size = size_of(desc, i)
            ptr, _ = acl.rt.malloc(size, 0)
            buffer = acl.create_data_buffer(ptr, size)
            acl.mdl.add_dataset_buffer(dataset, buffer)
            keep.append((ptr, buffer))
        sets.append(dataset)
    for _ in range(5):
        acl.mdl.execute(model_id, *sets)
    start = time.perf_counter()
    for _ in range(runs):
        assert acl.mdl.execute(model_id, *sets) == 0
    elapsed = (time.perf_counter() - start) / runs
    acl.mdl.unload(model_id)
    for ptr, buffer in keep:
        acl.destroy_data_buffer(buffer)
        acl.rt.free(ptr)
    for dataset in sets:
        acl.mdl.destroy_dataset(dataset)
    acl.mdl.destroy_desc(desc)
    acl.rt.reset_device(0)
    acl.finalize()
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        off = min(_time(None, args.runs, folder) for _ in range(3))
        other = min(_time("another_model", args.runs, folder) for _ in range(3))
        every = _time("digits_cnn", max(args.runs // 10, 5), folder)
    print(f"execute, no dump config:             {off * 1e6:9.1f} us")
    print(f"execute, dump set for another model: {other * 1e6:9.1f} us  ({other / off:.2f}x)")
    print(f"execute, dump of every layer:        {every * 1e6:9.1f} us  ({every / off:.2f}x)")


if __name__ == "__main__":
    main()
