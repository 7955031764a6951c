"""``openacl compare``: where a model loses accuracy at its precision, node by node.

    openacl compare MODEL.om [--input a.npy,b.bin] [--json] [--plot errors.png]
    openacl compare MODEL.onnx --precision_mode=force_fp16 [--keep_dtype=keep.cfg] ...

Runs the model at the precision its mode gives on an NPU (``--setting npu``, the default) or
at the CPU's fast half precision (``--setting fast``), and in exact float32, and reports
every node's error (see ``openacl.precision.compare``). The atc precision flags take the
place of what an .om records (or say what a plain .onnx would be compiled with). Exit
status: 0 when the comparison ran (whatever it found), 1 when it could not, 2 for a usage
error.
"""

from __future__ import annotations

import argparse
import json
import sys

from openacl.precision.compare import MIN_COSINE, RTOL, CompareError, compare

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    inputs = None
    if args.input:
        inputs = [path for item in args.input for path in item.split(",") if path]
    flags = {key: getattr(args, key) for key in ("precision_mode", "precision_mode_v2",
                                                 "keep_dtype", "modify_mixlist", "soc_version")}
    try:
        report = compare(args.model, inputs, setting=args.setting, flags=flags, rtol=args.rtol,
                         min_cosine=args.cosine, seed=args.seed, input_shape=args.input_shape)
    except CompareError as error:
        print(f"openacl compare: error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
    else:
        print(report.text())
    if args.plot:
        from openacl.precision.plot import PlotUnavailable, plot_report

        try:
            plot_report(report, args.plot)
        except PlotUnavailable as error:
            print(f"openacl compare: no plot: {error}", file=sys.stderr)
            return 1
        if not args.json:
            print(f"plot: {args.plot}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openacl compare",
        description="Run a model at its precision and in float32 on the same inputs and "
                    "report the error of every node's outputs, the first node past "
                    "tolerance and the final outputs' deltas.")
    parser.add_argument("model", help="an openacl .om (atc's) or an .onnx")
    parser.add_argument("--input", action="append", metavar="FILES",
                        help="input files (.npy, or .bin raw values), comma-separated in the "
                             "model's input order (default: random inputs)")
    parser.add_argument("--input_shape", "--input-shape", metavar="SHAPES",
                        help="atc-style shapes for inputs with dynamic axes, "
                             "'name:1,3,224,224;name2:...'")
    parser.add_argument("--setting", choices=("npu", "fast"), default="npu",
                        help="the precision to test: npu (the NPU's rounding of the mode, "
                             "the default) or fast (the CPU engine's half precision)")
    atc = parser.add_argument_group("atc precision flags (replace what the model records)")
    atc.add_argument("--precision_mode", "--precision-mode")
    atc.add_argument("--precision_mode_v2", "--precision-mode-v2")
    atc.add_argument("--keep_dtype", "--keep-dtype", metavar="FILE")
    atc.add_argument("--modify_mixlist", "--modify-mixlist", metavar="FILE")
    atc.add_argument("--soc_version", "--soc-version",
                     help="the SoC whose float16 overflow to reproduce (saturation or inf)")
    parser.add_argument("--rtol", type=float, default=RTOL,
                        help=f"relative error past which a node is reported (default {RTOL})")
    parser.add_argument("--cosine", type=float, default=MIN_COSINE,
                        help=f"cosine similarity below which a node is reported "
                             f"(default {MIN_COSINE})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs (0)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="draw the error per node to FILE")
    return parser


if __name__ == "__main__":
    sys.exit(main())
