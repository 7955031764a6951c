"""``openacl profile [-o DIR] -- python app.py [args...]``: run any Python program with the
profiler on and write its timeline (``trace.json``, for Perfetto / chrome://tracing), a
summary table (``summary.txt``) and a picture (``timeline.png``) into DIR.

The program runs in a child process (``python -m openacl.profiling.run``), so it needs no
change: every pyACL call, stream task, copy and model operator it makes is recorded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = []
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(
        prog="openacl profile", description=__doc__.splitlines()[0],
        epilog="example: openacl profile -o prof -- python app.py --images 8")
    parser.add_argument("-o", "--output", default=None,
                        help="folder for trace.json, summary.txt and timeline.png "
                             "(default: openacl_profile_<time>)")
    args = parser.parse_args(argv)
    if not command:
        parser.error("give the program after --, e.g. openacl profile -- python app.py")
    name = os.path.basename(command[0])
    if not name.startswith("python"):
        parser.error(f"the program must be run by python (python app.py or python -m "
                     f"module), not {command[0]!r}")
    if len(command) < 2:
        parser.error("give the script (or -m module) after python")
    output = os.path.abspath(args.output or time.strftime("openacl_profile_%Y%m%d_%H%M%S"))
    child = [sys.executable, "-m", "openacl.profiling.run", output, *command[1:]]
    return subprocess.call(child)


if __name__ == "__main__":
    sys.exit(main())
