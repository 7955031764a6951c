"""The command line of ``python -m ais_bench``: ais_bench's flags in all their spellings.

Every flag is accepted in the classic spelling (``--warmup_count``, ``--dymBatch``), in the
kebab-case spelling of ais_bench's newer releases and msit benchmark (``--warmup-count``,
``--dym-batch``) and with msit's short aliases (``-wcount``, ``-db``); the values, defaults
and checks are ais_bench's. :func:`parse_args` returns an :class:`argparse.Namespace` whose
attribute names are the ones ais_bench's own ``args`` object uses (``dym_batch``,
``output_size``, ...), with ``devices`` (a list) next to ``device``.

A bad flag or value raises :class:`~ais_bench.infer.io_utils.AisBenchError` with a one-line
message; nothing here prints or exits.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re

from ais_bench.infer.io_utils import AisBenchError

__all__ = ["build_parser", "parse_args", "check_rules", "str2bool", "UNSUPPORTED",
           "parse_shape_list", "expand_shape_range"]

# Flags that ask for something an openacl machine does not have: flag -> the reason. A run
# that turns one of them on stops with the reason instead of pretending to do it.
UNSUPPORTED = {
    "energy_consumption": "power readings come from npu-smi, which needs an Ascend NPU",
    "perf": "the trtexec backend runs TensorRT on an NVIDIA GPU, not an Ascend model",
}

_DYM_STRING = re.compile(r"[^_A-Za-z0-9.,;:/\-]")
_DYM_RANGE_STRING = re.compile(r"[^_A-Za-z0-9.,;:/\-~]")
_NUMBER_LIST = re.compile(r"[^0-9,;]")


def str2bool(value) -> bool:
    """Read ais_bench's boolean values: 1/0, true/false, yes/no, t/f, y/n (any case)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "true", "t", "y", "1"):
        return True
    if text in ("no", "false", "f", "n", "0"):
        return False
    raise argparse.ArgumentTypeError(
        f"boolean value expected (1/0, true/false, yes/no), not {value!r}")


def _integer(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None


def positive_int(value) -> int:
    number = _integer(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value} is an invalid positive int value")
    return number


def nonnegative_int(value) -> int:
    number = _integer(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is an invalid nonnegative int value")
    return number


def device_list(value) -> list[int]:
    """``"0"`` -> [0]; ``"0,1,2"`` -> [0, 1, 2]; each id in ais_bench's range [0, 255].

    A device may appear twice (two workers on one device), as ais_bench allows.
    """
    devices = []
    for part in str(value).split(","):
        device = _integer(part.strip())
        if not 0 <= device <= 255:
            raise argparse.ArgumentTypeError(
                f"device:{device} is invalid. valid value range is [0, 255]")
        devices.append(device)
    return devices


def _checked(pattern: re.Pattern, what: str, kind: str = "string"):
    def check(value):
        if not value:
            return None
        if pattern.search(str(value)):
            raise argparse.ArgumentTypeError(f'{what} "{value}" is not a legal {kind}')
        return str(value)
    check.__name__ = what
    return check


dym_string = _checked(_DYM_STRING, "dym string")
dym_range_string = _checked(_DYM_RANGE_STRING, "dym range string")
number_list = _checked(_NUMBER_LIST, "number_list", "list")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing usage and exiting."""

    def error(self, message):
        raise AisBenchError(f"{message} (python -m ais_bench --help lists the flags)", code=2)


# (dest, spellings, keyword arguments): the flags in ais_bench's order. The first spelling
# is ais_bench's classic one; the others are its kebab-case / msit spellings and aliases.
_FLAGS = [
    ("model", ["--model", "-m", "--om-model", "-om"],
     dict(required=True, help="the offline model (.om from atc, or .onnx)")),
    ("input", ["--input", "-i"],
     dict(default=None, help="input files or folders of .bin/.npy, separated by ','; one folder "
                             "per model input (default: synthetic data, see --pure_data_type)")),
    ("output", ["--output", "-o"],
     dict(default=None, help="folder for the results: a <date-time> subfolder holds the output "
                             "files, <date-time>_summary.json sits beside it")),
    ("output_dirname", ["--output_dirname", "--output-dirname", "-od"],
     dict(default=None, help="name of the result subfolder instead of <date-time> (needs "
                             "--output)")),
    ("outfmt", ["--outfmt"],
     dict(default="BIN", choices=["NPY", "BIN", "TXT"], help="output file format (BIN)")),
    ("loop", ["--loop", "-l"],
     dict(type=positive_int, default=1, help="executions of the model per input batch (1)")),
    ("debug", ["--debug"],
     dict(type=str2bool, default=False, help="print the model's inputs/outputs and each "
                                             "execution's time (0)")),
    ("devices", ["--device", "-d"],
     dict(type=device_list, default=[0], help="device id, or a list '0,1' to run one worker "
                                              "per device (0)")),
    ("dym_batch", ["--dymBatch", "--dym-batch", "-db"],
     dict(type=positive_int, default=0, help="batch size gear of a dynamic batch model")),
    ("dym_hw", ["--dymHW", "--dym-hw", "-dhw"],
     dict(type=dym_string, default=None, help='image size gear "h,w" of a dynamic image size '
                                              'model')),
    ("dym_dims", ["--dymDims", "--dym-dims", "-dd"],
     dict(type=dym_string, default=None, help='dims gear of a dynamic dims model, '
                                              '"name:1,600;name2:1,600"')),
    ("dym_shape", ["--dymShape", "--dym-shape", "-ds"],
     dict(type=dym_string, default=None, help='input shapes of a shape-range model, '
                                              '"name:1,3,224,224;name2:1,600"')),
    ("output_size", ["--outputSize", "--output-size", "-outsize"],
     dict(type=number_list, default=None, help="bytes to reserve per output of a dynamic shape "
                                               "model, '10000,10000'")),
    ("auto_set_dymshape_mode", ["--auto_set_dymshape_mode", "--auto-set-dymshape-mode",
                                "-asdsm"],
     dict(type=str2bool, default=False, help="take each input's shape from its .npy file "
                                             "(shape-range models) (0)")),
    ("auto_set_dymdims_mode", ["--auto_set_dymdims_mode", "--auto-set-dymdims-mode", "-asddm"],
     dict(type=str2bool, default=False, help="take each input's dims gear from its .npy file "
                                             "(dynamic dims models) (0)")),
    ("batchsize", ["--batchsize", "--batch-size", "--batch_size"],
     dict(type=positive_int, default=None, help="batch size for the throughput (default: the "
                                                "model's first input's first dimension)")),
    ("pure_data_type", ["--pure_data_type", "--pure-data-type", "-pdt"],
     dict(default="zero", choices=["zero", "random"], help="synthetic input when there is no "
                                                          "--input: zero or random bytes (zero)")),
    ("profiler", ["--profiler", "-pf"],
     dict(type=str2bool, default=False, help="profiling (not available on openacl)")),
    ("dump", ["--dump"], dict(type=str2bool, default=False, help="dump (not available on "
                                                                 "openacl)")),
    ("acl_json_path", ["--acl_json_path", "--acl-json-path", "-acl"],
     dict(default=None, help="acl.json for acl.init")),
    ("output_batchsize_axis", ["--output_batchsize_axis", "--output-batchsize-axis", "-oba"],
     dict(type=nonnegative_int, default=0, help="axis along which an output is split into the "
                                                "files of the batch (0)")),
    ("run_mode", ["--run_mode", "--run-mode", "-rm"],
     dict(default="array", choices=["array", "files", "tensor", "full"],
          help="how inputs reach the device (array)")),
    ("display_all_summary", ["--display_all_summary", "--display-all-summary", "-das"],
     dict(type=str2bool, default=False, help="also print the H2D and D2H latency lines (0)")),
    ("warmup_count", ["--warmup_count", "--warmup-count", "-wcount"],
     dict(type=nonnegative_int, default=1, help="untimed executions before the run (1)")),
    ("dym_shape_range", ["--dymShape_range", "--dym-shape-range", "-dr"],
     dict(type=dym_range_string, default=None, help='run every shape of a range, '
                                                    '"name:1,3,224~226,224-230" (or a file of '
                                                    'such lines)')),
    ("aipp_config", ["--aipp_config", "--aipp-config", "-aipp"],
     dict(default=None, help=".config file with the parameters of a dynamic AIPP model")),
    ("energy_consumption", ["--energy_consumption", "--energy-consumption", "-ec"],
     dict(type=str2bool, default=False, help="power reading (not available on openacl)")),
    ("npu_id", ["--npu_id", "--npu-id"],
     dict(type=nonnegative_int, default=0, help="npu-smi id for --energy_consumption")),
    ("backend", ["--backend"],
     dict(default=None, choices=["trtexec"], help="trtexec (not available on openacl)")),
    ("perf", ["--perf"], dict(type=str2bool, default=False, help="run --backend")),
    ("pipeline", ["--pipeline"],
     dict(type=str2bool, default=False, help="load, execute and save on separate threads (0)")),
    ("profiler_rename", ["--profiler_rename", "--profiler-rename"],
     dict(type=str2bool, default=True, help="rename profiler files (with --profiler)")),
    ("dump_npy", ["--dump_npy", "--dump-npy"],
     dict(type=str2bool, default=False, help="convert dump data to npy (with --dump)")),
    ("divide_input", ["--divide_input", "--divide-input"],
     dict(type=str2bool, default=False, help="share the inputs out between the devices of a "
                                             "device list (0)")),
    ("threads", ["--threads", "--thread"],
     dict(type=positive_int, default=1, help="execution threads with --pipeline (1)")),
]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m ais_bench",
                     description="ais_bench on openacl: run an offline model, save its outputs "
                                 "and report its performance.")
    for dest, spellings, options in _FLAGS:
        parser.add_argument(*spellings, dest=dest, **options)
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse ``argv`` and apply ais_bench's rules (see :func:`check_rules`)."""
    args = build_parser().parse_args(argv)
    return check_rules(args)


def check_rules(args: argparse.Namespace) -> argparse.Namespace:
    """Apply ais_bench's cross-flag rules and openacl's refusals; fill derived fields."""
    for flag, reason in UNSUPPORTED.items():
        if getattr(args, flag):
            raise AisBenchError(f"--{flag} is not supported on openacl: {reason}", code=2)
    if args.output is None and args.output_dirname is not None:
        raise AisBenchError("parameter --output_dirname can't be used alone. Please use it "
                            "together with the parameter --output", code=2)
    if args.output_dirname and args.output_dirname.startswith("/"):
        raise AisBenchError("--output_dirname does not accept an absolute path", code=2)
    dynamic = [name for name in ("dym_batch", "dym_hw", "dym_dims", "dym_shape")
               if getattr(args, name)]
    if len(dynamic) > 1:
        spelled = ", ".join("--" + _classic(name) for name in dynamic)
        raise AisBenchError(f"{spelled}: give at most one of them", code=2)
    if args.auto_set_dymshape_mode and args.auto_set_dymdims_mode:
        raise AisBenchError("--auto_set_dymshape_mode and --auto_set_dymdims_mode exclude each "
                            "other", code=2)
    if args.dym_hw is not None:
        parts = args.dym_hw.split(",")
        if len(parts) != 2 or not all(part.isdigit() and int(part) > 0 for part in parts):
            raise AisBenchError(f'--dymHW "{args.dym_hw}": expected "height,width"', code=2)
    if args.output_size is not None:
        try:
            args.custom_sizes = [int(size) for size in args.output_size.split(",")]
        except ValueError:
            raise AisBenchError(f'--outputSize "{args.output_size}": expected sizes in bytes '
                                f'separated by ","', code=2) from None
    else:
        args.custom_sizes = None
    # ais_bench: in the auto modes each file is one whole input (no batching of files).
    args.no_combine_tensor_mode = bool(args.auto_set_dymshape_mode or args.auto_set_dymdims_mode)
    if args.threads > 1 and not args.pipeline:
        args.threads_ignored = True     # ais_bench: threads count only with --pipeline
        args.threads = 1
    else:
        args.threads_ignored = False
    args.device = args.devices[0]
    return args


def parse_shape_list(text: str, names: list[str], flag: str) -> dict[str, list[int]]:
    """``"x:1,3,224,224;y:1,600"`` -> {"x": [1, 3, 224, 224], "y": [1, 600]}."""
    shapes = {}
    for item in filter(None, text.split(";")):
        name, sep, dims = item.rpartition(":")
        if not sep or not name:
            raise AisBenchError(f'{flag} "{text}": expected "name:d0,d1,...;name2:..." '
                                f'(item "{item}" has no input name)', code=2)
        if name not in names:
            raise AisBenchError(f"{flag}: the model has no input {name!r} (inputs: "
                                f"{', '.join(names)})", code=2)
        try:
            shapes[name] = [int(dim) for dim in dims.split(",")]
        except ValueError:
            raise AisBenchError(f'{flag}: "{dims}" of input {name!r} is not a list of '
                                f'integers', code=2) from None
    return shapes


def expand_shape_range(text: str) -> list[str]:
    """``"x:1,3,224~226"`` -> ``["x:1,3,224", "x:1,3,225", "x:1,3,226"]`` (ais_bench's syntax).

    ``a~b`` (or ``a~b~step``) is a range, ``a-b-c`` a list of values; a path names a file
    with one such specification per line.
    """
    lines = [text]
    if os.path.isfile(text):
        with open(text) as file:
            lines = [line.strip() for line in file if line.strip()]
    shapes = []
    for line in lines:
        per_input = []
        for item in filter(None, line.split(";")):
            name, sep, dims = item.rpartition(":")
            if not sep or not name:
                raise AisBenchError(f'--dymShape_range "{line}": item "{item}" has no input '
                                    f'name', code=2)
            choices = [_dim_choices(part, line) for part in dims.split(",")]
            per_input.append([f"{name}:{','.join(combo)}"
                              for combo in itertools.product(*choices)])
        shapes.extend(";".join(combo) for combo in itertools.product(*per_input))
    return shapes


def _dim_choices(part: str, line: str) -> list[str]:
    try:
        if "~" in part:
            bounds = [int(value) for value in part.split("~")]
            start, end = bounds[0], bounds[1]
            step = bounds[2] if len(bounds) == 3 else 1
            if len(bounds) > 3 or step <= 0 or end < start:
                raise ValueError
            return [str(value) for value in range(start, end + 1, step)]
        return [str(int(value)) for value in part.split("-")]
    except ValueError:
        raise AisBenchError(f'--dymShape_range "{line}": "{part}" is not a dimension, a range '
                            f'"a~b[~step]" or a list "a-b-c"', code=2) from None


def _classic(dest: str) -> str:
    for name, spellings, _ in _FLAGS:
        if name == dest:
            return spellings[0].lstrip("-")
    return dest
