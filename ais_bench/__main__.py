"""``python -m ais_bench`` (and the ``ais_bench`` console script): ais_bench's command line.

:func:`main` parses the flags (:mod:`ais_bench.infer.args`) and runs the benchmark
(:mod:`ais_bench.infer.benchmark_process`). A mistake in the flags or the files ends with one
``[ERROR]`` line on stderr and exit status 2 (flags) or 1 (files, model, run); an unexpected
failure is reported the same way, as a bug, never as a traceback (``--debug 1`` shows it).
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run ais_bench with ``argv`` (default: the process's arguments); return the exit status."""
    argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]
    if {"-h", "--help"}.intersection(argv):
        from ais_bench.infer.args import build_parser

        build_parser().print_help()
        return 0
    debug = False
    try:
        from ais_bench.infer.args import parse_args
        from ais_bench.infer.benchmark_process import benchmark_process

        args = parse_args(argv)
        debug = args.debug
        return benchmark_process(args, argv)
    except KeyboardInterrupt:
        print("[ERROR] interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception as error:      # noqa: BLE001 - one line, never a traceback
        from ais_bench.infer.benchmark_process import describe_error

        message, code = describe_error(error, debug)
        print(f"[ERROR] {message}", file=sys.stderr, flush=True)
        return code


if __name__ == "__main__":
    sys.exit(main())
