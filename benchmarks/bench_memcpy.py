"""acl.rt.memcpy against ctypes.memmove on the same addresses, in the same run.

    python benchmarks/bench_memcpy.py [--repeat 7]

For each direction (H2D, D2H, D2D) and size (4 KiB, 64 MiB) it times both in alternating
rounds and reports the ratio of the best rounds (machines are noisy; the best round is the
least disturbed), plus acl.rt.memcpy's extra cost per call at 4 KiB. Bar: <= 1.15x at 64 MiB.
The "foreign" rows copy to and from host memory openacl did not hand out (a ctypes buffer):
their extra cost is the check that the range is mapped memory of the process.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import sys

import numpy as np

import acl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import acl_session, alternate  # noqa: E402

ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_HOST, ACL_MEMCPY_DEVICE_TO_DEVICE = 1, 2, 3


def run(repeat: int) -> list[dict]:
    results = []
    for size, calls in ((4096, 20000), (64 << 20, 10)):
        host = np.ones(size, np.uint8)
        host_ptr, host = acl.util.numpy_contiguous_to_ptr(host)
        dev_a, _ = acl.rt.malloc(size, 0)
        dev_b, _ = acl.rt.malloc(size, 0)
        cases = {
            "H2D": (dev_a, host_ptr, ACL_MEMCPY_HOST_TO_DEVICE),
            "D2H": (host_ptr, dev_a, ACL_MEMCPY_DEVICE_TO_HOST),
            "D2D": (dev_b, dev_a, ACL_MEMCPY_DEVICE_TO_DEVICE),
        }
        for name, (dst, src, kind) in cases.items():
            def with_acl(dst=dst, src=src, kind=kind):
                acl.rt.memcpy(dst, size, src, size, kind)

            def with_memmove(dst=dst, src=src):
                ctypes.memmove(dst, src, size)

            assert acl.rt.memcpy(dst, size, src, size, kind) == 0
            acl_t, memmove_t = alternate(with_acl, with_memmove, calls, repeat)
            results.append({"direction": name, "bytes": size, "acl_us": acl_t * 1e6,
                            "memmove_us": memmove_t * 1e6, "ratio": acl_t / memmove_t,
                            "overhead_us": (acl_t - memmove_t) * 1e6})
        # Host memory openacl did not hand out (ctypes, another library): checked against the
        # process's mappings (mincore + the cached /proc/self/maps) before it is touched.
        foreign = ctypes.create_string_buffer(size)
        for name, (dst, src, kind) in {
                "H2D foreign": (dev_a, ctypes.addressof(foreign), ACL_MEMCPY_HOST_TO_DEVICE),
                "D2H foreign": (ctypes.addressof(foreign), dev_a, ACL_MEMCPY_DEVICE_TO_HOST)}.items():
            def with_acl(dst=dst, src=src, kind=kind):
                acl.rt.memcpy(dst, size, src, size, kind)

            def with_memmove(dst=dst, src=src):
                ctypes.memmove(dst, src, size)

            assert acl.rt.memcpy(dst, size, src, size, kind) == 0
            acl_t, memmove_t = alternate(with_acl, with_memmove, calls, repeat)
            results.append({"direction": name, "bytes": size, "acl_us": acl_t * 1e6,
                            "memmove_us": memmove_t * 1e6, "ratio": acl_t / memmove_t,
                            "overhead_us": (acl_t - memmove_t) * 1e6})
        assert acl.rt.free(dev_a) == 0 and acl.rt.free(dev_b) == 0
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="alternating rounds per case")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    with acl_session():
        results = run(args.repeat)
    print(f"{'case':<20}{'acl.rt.memcpy':>16}{'memmove':>12}{'ratio':>8}{'extra/call':>13}")
    for r in results:
        size = "4 KiB" if r["bytes"] == 4096 else f"{r['bytes'] >> 20} MiB"
        print(f"{r['direction'] + ' ' + size:<20}{r['acl_us']:>13.2f} us{r['memmove_us']:>9.2f} us"
              f"{r['ratio']:>7.2f}x{r['overhead_us']:>10.2f} us")
    big = [r["ratio"] for r in results if r["bytes"] > 4096 and "foreign" not in r["direction"]]
    print(f"64 MiB worst ratio {max(big):.3f}x (bar 1.15x): {'PASS' if max(big) <= 1.15 else 'FAIL'}")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
