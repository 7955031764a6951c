"""The ``atc`` console script: a thin layer that prints what ATC prints around the converter.

Console lines follow Huawei's ATC so that build logs and the scripts that scan them read the
same: a start line, ``[WARNING]`` lines for accepted-but-ignored flags, then either the success
line (exit 0) or one ``E100xx: ...`` line and the failure line (exit 1). A user's mistake never
shows a traceback; an unexpected failure is reported as ``E19999`` (a bug), with its traceback
in the detail log (``--log=debug``). ``--log`` sets the level of the detail log on stderr.
"""

from __future__ import annotations

import logging
import sys

from openacl.atc.convert import check_framework, convert
from openacl.atc.errors import AtcError
from openacl.atc.options import ignored_option_warnings, parse, usage
from openacl.atc.to_json import model_to_json, write_json

__all__ = ["main", "START", "SUCCESS", "FAILURE"]

START = "ATC start working now, please wait for a moment."
SUCCESS = "ATC run success, welcome to the next use."
FAILURE = "ATC run failed, Please check the detail log, Try 'atc --help' for more information"

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}
_HELP = {"--help", "-help", "-h", "--h", "-?"}
log = logging.getLogger("openacl.atc")


def main(argv=None) -> int:
    """Run atc with ``argv`` (default: the process's arguments); return the exit status."""
    argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]
    if _HELP.intersection(argv):
        print(usage())
        return 0
    print(START, flush=True)
    handler = None
    try:
        options = parse(argv)
        handler = _detail_log(options.log)
        for name in dict.fromkeys(options.repeated):
            log.info("--%s is given more than once; the last value is used", name)
        if options.mode == "1":
            for line in ignored_option_warnings(options):
                _warning(line)
            check_framework(options.framework, required_here=False)
            write_json(model_to_json(options.om), options.json)
            log.info("wrote %s", options.json)
        else:
            convert(options, on_warning=_warning)
    except AtcError as error:
        print(error, flush=True)
        print(FAILURE, flush=True)
        return 1
    except Exception as error:     # noqa: BLE001 - a bug: report it the ATC way, not as a crash
        log.debug("unexpected failure", exc_info=True)
        print(f"E19999: Inner Error! {type(error).__name__}: {error}. This is a bug in openacl's "
              f"atc; run with --log=debug for the traceback.", flush=True)
        print(FAILURE, flush=True)
        return 1
    finally:
        if handler is not None:
            log.removeHandler(handler)
            log.setLevel(handler.previous_level)
    print(SUCCESS, flush=True)
    return 0


def _detail_log(level: str):
    if level not in _LEVELS:           # "null": no detail log
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(levelname)s] ATC(openacl): %(message)s"))
    handler.setLevel(_LEVELS[level])
    handler.previous_level = log.level      # restored when main returns (main may run in-process)
    log.setLevel(_LEVELS[level])
    log.addHandler(handler)
    return handler


def _warning(message: str) -> None:
    print(f"[WARNING] {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
