"""acl.mdl.execute with a dump of every layer vs no dump, and with a dump configured for
another model vs none (what "selecting no layer costs nothing" means), in one run.

    python benchmarks/bench_dump.py [--calls 5000]

Model: openacl/assets/digits_cnn.onnx, loaded four times in one acl.init session: twice
before ``acl.mdl.init_dump`` (no dump: "plain" and its "twin"), once after ``set_dump`` of a
config naming another model (not selected), and once after ``set_dump`` of a config naming
it (every layer, inputs and outputs). The unselected copy runs the same code as the plain
one (one attribute test per execute), so the two alternate call by call (common.interleaved,
medians). Two sessions of one small model differ by a few percent on their own (where their
buffers fall in memory), so plain vs twin is printed beside it as the noise floor. The
dumped copy writes one file per operator per execution and is timed in alternating rounds
(common.alternate).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np

import acl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DeviceModel, acl_session, alternate, interleaved  # noqa: E402

MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "openacl", "assets",
                     "digits_cnn.onnx")


def _set_dump(folder: str, model_name: str) -> None:
    config = os.path.join(folder, f"dump_{model_name}.json")
    with open(config, "w") as file:
        json.dump({"dump": {"dump_path": os.path.join(folder, "dumps"), "dump_mode": "all",
                            "dump_list": [{"model_name": model_name}]}}, file)
    assert acl.mdl.set_dump(config) == 0, acl.get_recent_err_msg()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000,
                        help="calls per side, plain vs unselected (the dump: a fortieth, in 4 rounds)")
    args = parser.parse_args()
    feeds = {"image": np.random.default_rng(0).random((1, 1, 8, 8), np.float32)}
    with tempfile.TemporaryDirectory() as folder, acl_session():
        plain = DeviceModel(MODEL, feeds)
        twin = DeviceModel(MODEL, feeds)
        assert acl.mdl.init_dump() == 0
        _set_dump(folder, "another_model")
        other = DeviceModel(MODEL, feeds)
        _set_dump(folder, "digits_cnn")
        dumped = DeviceModel(MODEL, feeds)
        try:
            off, unselected = interleaved(plain.execute, other.execute, args.calls)
            off_twin, twin_time = interleaved(plain.execute, twin.execute, args.calls)
            rounds_calls = max(1, args.calls // 40)
            off_rounds, every = alternate(plain.execute, dumped.execute, rounds_calls, 4)
            files = sum(len(names) for _, _, names in os.walk(os.path.join(folder, "dumps")))
            same = plain.output_bytes() == dumped.output_bytes()
        finally:
            for model in (plain, twin, other, dumped):
                model.release()
            acl.mdl.finalize_dump()
    print(f"execute, no dump:                    {off * 1e6:8.2f} us")
    print(f"execute, dump set for another model: {unselected * 1e6:8.2f} us  "
          f"({unselected / off:.3f}x; control, an undumped twin: {twin_time / off_twin:.3f}x)")
    print(f"execute, dump of every layer:        {every * 1e6:8.2f} us  "
          f"({every / off_rounds:.1f}x; {files} files written; outputs "
          f"{'unchanged' if same else 'CHANGED'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
