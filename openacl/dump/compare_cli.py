"""``openacl dump-compare DIR_A DIR_B``: per-operator error between two dump folders.

Each folder is searched recursively for openacl dump files (``{op_type}.{op_name}.
{task_id}.{timestamp}``, an npz of ``input_i`` / ``output_i``; docs/dump.md) and for .npy
files named ``{op_name}.{output_index}.{timestamp}.npy`` (an NPU dump converted to npy).
An operator's k-th dump in A meets its k-th dump in B (by folder, then timestamp); every
tensor both hold is compared (``openacl.precision.compare.tensor_error``): max abs,
relative (``||a - b|| / ||b||``, B the reference) and cosine error. The first operator (in
task order) past the tolerance is named. Exit status: 0 compared, 1 nothing in common,
2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

import numpy as np

from openacl.precision.compare import MIN_COSINE, RTOL, tensor_error

__all__ = ["main", "compare_dirs", "read_dump_dir"]

_DUMP = re.compile(r"^(?P<type>[A-Za-z0-9_-]+)\.(?P<name>[A-Za-z0-9_-]+)\.(?P<task>\d+)"
                   r"\.(?P<stamp>\d+)$")
_NPY = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)\.(?P<index>\d+)\.(?P<stamp>\d+)\.npy$")


def read_dump_dir(folder: str) -> dict[tuple[str, int], dict]:
    """(op_name, occurrence) -> {"op_type", "task_id", "tensors": {key: loader}}."""
    found: dict[str, list] = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            match = _DUMP.match(name)
            if match:
                entry = (os.path.relpath(root, folder), int(match["stamp"]), match["type"],
                         int(match["task"]), {"npz": path})
                found.setdefault(match["name"], []).append(entry)
                continue
            match = _NPY.match(name)
            if match:
                entry = (os.path.relpath(root, folder), int(match["stamp"]), "",
                         -1, {f"output_{match['index']}": path})
                found.setdefault(match["name"], []).append(entry)
    records = {}
    for op_name, entries in found.items():
        entries.sort(key=lambda e: (e[0], e[1]))
        merged: list = []
        for folder_key, stamp, op_type, task, files in entries:
            # npy files of one op and one stamp are one dump (one file per output)
            if merged and "npz" not in files and merged[-1][0] == (folder_key, stamp):
                merged[-1][3].update(files)
                continue
            merged.append([(folder_key, stamp), op_type, task, dict(files)])
        for occurrence, (_, op_type, task, files) in enumerate(merged):
            records[(op_name, occurrence)] = {"op_type": op_type, "task_id": task,
                                              "files": files}
    return records


def _tensors(record: dict) -> dict[str, np.ndarray]:
    tensors = {}
    for key, path in record["files"].items():
        if key == "npz":
            with np.load(path) as archive:
                tensors.update({name: archive[name] for name in archive.files})
        else:
            tensors[key] = np.load(path)
    return tensors


def compare_dirs(dir_a: str, dir_b: str, rtol: float = RTOL,
                 min_cosine: float = MIN_COSINE) -> dict:
    """The comparison as a JSON-ready dict (see the module docstring)."""
    a, b = read_dump_dir(dir_a), read_dump_dir(dir_b)
    common = sorted(set(a) & set(b), key=lambda k: (max(a[k]["task_id"], b[k]["task_id"]),
                                                    k[1], k[0]))
    operators = []
    first = None
    for key in common:
        ta, tb = _tensors(a[key]), _tensors(b[key])
        errors = [tensor_error(name, ta[name], tb[name]) for name in sorted(set(ta) & set(tb))]
        past = any(e.past(rtol, min_cosine) for e in errors)
        entry = {"op_name": key[0], "occurrence": key[1],
                 "op_type": a[key]["op_type"] or b[key]["op_type"],
                 "task_id": max(a[key]["task_id"], b[key]["task_id"]),
                 "past_tolerance": past, "tensors": [e.to_json() for e in errors]}
        operators.append(entry)
        if past and first is None:
            first = {"op_name": key[0], "occurrence": key[1], "op_type": entry["op_type"]}
    return {"dir_a": dir_a, "dir_b": dir_b,
            "tolerance": {"rtol": rtol, "min_cosine": min_cosine},
            "first_past_tolerance": first, "operators": operators,
            "only_in_a": sorted(f"{n}#{i}" for n, i in set(a) - set(b)),
            "only_in_b": sorted(f"{n}#{i}" for n, i in set(b) - set(a))}


def _text(report: dict) -> str:
    lines = [f"openacl dump-compare: {report['dir_a']} against {report['dir_b']} (reference)",
             f"{'op':<32} {'type':<14} {'tensor':<10} {'max_abs':>10} {'rel_err':>10} "
             f"{'cosine':>10}"]
    for op in report["operators"]:
        label = op["op_name"] + (f"#{op['occurrence']}" if op["occurrence"] else "")
        for t in op["tensors"]:
            mark = "  <- past tolerance" if op["past_tolerance"] else ""
            lines.append(f"{label[:32]:<32} {op['op_type'][:14]:<14} {t['name']:<10} "
                         f"{_num(t['max_abs']):>10} {_num(t['rel_err']):>10} "
                         f"{_num(t['cosine']):>10}{mark}")
    first = report["first_past_tolerance"]
    lines.append("")
    lines.append("first operator past tolerance: " +
                 (f"{first['op_name']} ({first['op_type']})" if first else "none"))
    for side in ("a", "b"):
        if report[f"only_in_{side}"]:
            lines.append(f"only in {side.upper()}: {', '.join(report[f'only_in_{side}'][:20])}")
    return "\n".join(lines)


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="openacl dump-compare",
                                     description="per-operator error between two dump folders "
                                                 "(B is the reference)")
    parser.add_argument("dir_a")
    parser.add_argument("dir_b")
    parser.add_argument("--rtol", type=float, default=RTOL,
                        help=f"relative error past which an operator is reported ({RTOL})")
    parser.add_argument("--min-cosine", type=float, default=MIN_COSINE,
                        help=f"cosine similarity below which it is reported ({MIN_COSINE})")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    for folder in (args.dir_a, args.dir_b):
        if not os.path.isdir(folder):
            print(f"openacl dump-compare: {folder} is not a folder", file=sys.stderr)
            return 2
    report = compare_dirs(args.dir_a, args.dir_b, args.rtol, args.min_cosine)
    print(json.dumps(report, indent=1) if args.json else _text(report))
    return 0 if report["operators"] else 1


if __name__ == "__main__":
    sys.exit(main())
