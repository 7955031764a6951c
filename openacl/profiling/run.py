"""Run a Python program with the profiler on: ``python -m openacl.profiling.run OUT prog ...``.

The recorder starts before the program's first line and stops when it ends (normally, by
``sys.exit`` or by an exception), writing ``trace.json``, ``summary.txt`` and
``timeline.png`` into ``OUT``. ``prog`` is a script path, or ``-m module``, with its
arguments; the program sees ``sys.argv`` as if run directly.
"""

from __future__ import annotations

import runpy
import sys

from openacl.profiling import recorder

__all__ = ["main"]


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] == "-m" and len(argv) < 3:
        print("usage: python -m openacl.profiling.run OUT (script.py | -m module) [args...]",
              file=sys.stderr)
        return 2
    output, program = argv[0], argv[1:]
    recorder.start(output=output, ops=True)
    code = 0
    try:
        if program[0] == "-m":
            sys.argv = [program[1], *program[2:]]
            runpy.run_module(program[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(program)
            runpy.run_path(program[0], run_name="__main__")
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        paths = recorder.stop(write=True) or {}
        for kind, path in paths.items():
            print(f"[openacl profile] {kind}: {path}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
