"""The atc command line: ``argv`` -> :class:`AtcOptions`, spelled as real build scripts spell it.

Huawei's ATC parses its flags with gflags, so scripts in the wild use every spelling gflags
accepts: ``--key=value``, ``-key=value``, ``--key value``, ``-key value``, and the same flag
repeated (the last one wins). Values often arrive still wrapped in quotes when a script builds
the command in a variable; those quotes are dropped. An unknown flag is an error, as in ATC.

This module only reads the command line. What the values mean (shapes, gears, types) is read
by :mod:`openacl.atc.values` and :mod:`openacl.atc.precision`, and checked against the model by
:mod:`openacl.atc.convert`.
Ascend-only tuning flags are accepted and kept in ``AtcOptions.ignored`` so that existing build
scripts run unchanged; :func:`ignored_option_warnings` words the warning for each.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import shlex
import textwrap

from openacl.atc.errors import AtcError, invalid_value, not_supported

__all__ = ["AtcOptions", "parse", "usage", "ignored_option_warnings", "SUPPORTED", "NO_EFFECT",
           "LOG_LEVELS"]

# Flags openacl acts on, with the help text `atc --help` prints.
SUPPORTED = {
    "mode": "0: convert a model to an offline model (.om), the default; "
            "1: write a model's JSON description (needs --om and --json)",
    "model": "path of the source model, an ONNX file (.onnx)",
    "framework": "source framework: 5 (ONNX). 0 (Caffe), 1 (MindSpore) and 3 (TensorFlow) "
                 "are refused: export the model to ONNX first",
    "output": "path of the offline model to write; '.om' is appended unless present",
    "soc_version": "target Ascend SoC, e.g. Ascend310P3 (recorded in the model only)",
    "input_shape": "input shapes, 'name1:n,c,h,w;name2:n,c'; -1 marks an axis set by a "
                   "dynamic option; 'lo~hi' gives a range",
    "input_format": "layout of the inputs: NCHW (default for 4-D inputs), NHWC, ND, NCDHW, NDHWC",
    "input_fp16_nodes": "inputs that take float16 data, 'name1;name2'",
    "output_type": "output data type: FP32, FP16 or UINT8 for every output, or per output "
                   "'node:index:TYPE;node2:index:TYPE'",
    "out_nodes": "the model outputs, 'node:index;node2:index' (intermediate nodes allowed)",
    "dynamic_batch_size": "batch-size profiles, e.g. '1,2,4,8' (N is -1 in --input_shape)",
    "dynamic_image_size": "image-size profiles 'h1,w1;h2,w2' (H and W are -1 in --input_shape)",
    "dynamic_dims": "profiles of the -1 axes of ND inputs, 'd1,d2;d3,d4' (with --input_format=ND)",
    "input_shape_range": "shape ranges, 'name:[1~8,3,224,224];name2:[...]'; -1 is unbounded",
    "om": "with --mode=1: the model (.om or .onnx) to describe",
    "json": "with --mode=1: the JSON file to write",
    "log": "detail log on stderr: debug, info, warning, error or null (the default)",
    "insert_op_conf": "AIPP configuration file (aipp_op { ... } blocks): image preprocessing "
                      "compiled into the model, static or dynamic",
    "precision_mode": "precision the NPU computes in: force_fp16 (the default), force_fp32, "
                      "cube_fp16in_fp32out, allow_fp32_to_fp16, allow_fp32_to_bf16, "
                      "must_keep_origin_dtype, allow_mix_precision(_fp16, _bf16); recorded in "
                      "the model, which runs in a matching precision (docs/precision.md)",
    "precision_mode_v2": "the newer spelling of --precision_mode: fp16 (the default), origin, "
                         "cube_fp16in_fp32out, mixed_float16, mixed_bfloat16",
    "keep_dtype": "file of node names and OpType::Type lines kept in their original "
                  "precision",
    "modify_mixlist": "JSON file changing the mixed-precision black/white lists "
                      "({\"black-list\": {\"to-add\": [...], \"to-remove\": [...]}, "
                      "\"white-list\": {...}})",
}

# Ascend compiler and tooling flags: accepted so that build scripts run, but they have no effect
# because openacl runs the ONNX graph on ONNX Runtime instead of compiling it for Ascend.
NO_EFFECT = frozenset("""
    op_precision_mode op_select_implmode optypelist_for_implmode
    fusion_switch_file enable_small_channel buffer_optimize compression_optimize_conf
    customize_dtypes host_env_os host_env_cpu core_type aicore_num virtual_type
    auto_tune_mode op_debug_level status_check save_original_model enable_compress_weight
    compress_weight_conf is_output_adjust_hw_layout is_input_adjust_hw_layout weight op_name_map
    external_weight enable_single_stream dump_mode debug_dir op_compiler_cache_dir
    op_compiler_cache_mode mdl_bank_path op_bank_path atomic_clean_policy deterministic allow_hf32
    sparsity oo_level input_hint_shape disable_reuse_memory check_report display_model_info
    enable_scope_fusion_passes job_id cluster_config distributed_cluster_build
    enable_graph_parallel graph_parallel_option_path shard_model_dir export_compile_stat
    ac_parallel_enable tiling_schedule_optimize quant_dumpable enable_first_batch_as_constant
    op_debug_config dynamic_inputs_shape_range optimization_switch
""".split())

LOG_LEVELS = ("debug", "info", "warning", "error", "null")

_HELP_FLAGS = frozenset({"help", "h", "?"})
_MODES = {"0": "convert a model", "1": "describe a model as JSON"}
_OTHER_MODES = {"3": "pre-check only", "5": "pbtxt to JSON", "6": "display model information",
                "30": "precheck"}
_FLAG = re.compile(r"^--?[A-Za-z_?]")


@dataclasses.dataclass
class AtcOptions:
    """Every atc flag, as text exactly as given (None when absent).

    Build one with :func:`parse`, or directly for programmatic use, e.g.
    ``AtcOptions(model="m.onnx", framework="5", output="m", soc_version="Ascend310P3")``.
    """

    mode: str = "0"
    model: str | None = None
    framework: str | None = None
    output: str | None = None
    soc_version: str | None = None
    input_shape: str | None = None
    input_format: str | None = None
    input_fp16_nodes: str | None = None
    output_type: str | None = None
    out_nodes: str | None = None
    dynamic_batch_size: str | None = None
    dynamic_image_size: str | None = None
    dynamic_dims: str | None = None
    input_shape_range: str | None = None
    om: str | None = None
    json: str | None = None
    log: str = "null"
    insert_op_conf: str | None = None
    precision_mode: str | None = None
    precision_mode_v2: str | None = None
    keep_dtype: str | None = None
    modify_mixlist: str | None = None
    ignored: dict = dataclasses.field(default_factory=dict)   # Ascend-only flag -> value
    repeated: list = dataclasses.field(default_factory=list)  # flags given more than once
    argv: list = dataclasses.field(default_factory=list)      # the command line as given
    help: bool = False

    def cmdline(self) -> str:
        """The command line as one shell-quoted string (rebuilt from the fields if needed)."""
        args = self.argv or [f"--{name}={getattr(self, name)}" for name in SUPPORTED
                             if getattr(self, name) not in (None, "") and
                             (name, getattr(self, name)) not in (("mode", "0"), ("log", "null"))]
        return "atc " + " ".join(shlex.quote(arg) for arg in args)


def parse(argv) -> AtcOptions:
    """Read an atc command line (without the program name); raise AtcError if it is malformed."""
    argv = [str(arg) for arg in argv]
    options = AtcOptions(argv=argv)
    seen = set()
    position = 0
    while position < len(argv):
        token = argv[position]
        position += 1
        if not _FLAG.match(token):
            raise AtcError("E10001", f"Value [{token}] is invalid. Reason: it is not a parameter; "
                                     f"parameters are written --name=value")
        name, has_value, value = token.lstrip("-").partition("=")
        name = name.replace("-", "_")
        if name in _HELP_FLAGS:
            options.help = True
            continue
        if not has_value and position < len(argv) and not _FLAG.match(argv[position]):
            value = argv[position]
            position += 1
        value = _unquote(value.strip())
        if name in seen:
            options.repeated.append(name)
        seen.add(name)
        if name in SUPPORTED:
            setattr(options, name, value)
        elif name in NO_EFFECT:
            options.ignored[name] = value
        else:
            raise _unknown(name, value)
    options.mode = options.mode.strip() or "0"
    if options.mode not in _MODES:
        if options.mode in _OTHER_MODES:
            raise not_supported(f"--mode={options.mode} ({_OTHER_MODES[options.mode]}) is not "
                                f"available in openacl; use --mode=0 or --mode=1")
        raise invalid_value(options.mode, "mode", "the value must be 0 (convert a model) or "
                                                  "1 (describe a model as JSON)")
    options.log = (options.log or "null").strip().lower()
    if options.log not in LOG_LEVELS:
        raise AtcError("E10010", f"Value [{options.log}] for parameter [--log] is invalid. The "
                                 f"value must be one of {', '.join(LOG_LEVELS)}.")
    return options


def ignored_option_warnings(options: AtcOptions) -> list[str]:
    """One warning line per flag that openacl accepts but does not act on."""
    lines = [f"--{name}={value} has no effect in openacl: it tunes Ascend's compiler, and openacl "
             f"runs the ONNX graph on ONNX Runtime; the flag is ignored"
             for name, value in options.ignored.items()]
    return lines


def usage() -> str:
    """The text of ``atc --help``."""
    width = max(len(name) for name in SUPPORTED) + 4
    lines = ["usage: atc --model=<model.onnx> --framework=5 --output=<name> "
             "--soc_version=<soc> [options]",
             "       atc --mode=1 --om=<model.om|model.onnx> --json=<out.json>",
             "",
             *textwrap.wrap("openacl's atc converts ONNX models to openacl offline models (.om: "
                            "the ONNX model plus a metadata record), which openacl's pyACL "
                            "(import acl) loads and runs on ONNX Runtime. Flags may be written "
                            "--name=value, -name=value or --name value.", 96),
             "",
             "options:"]
    for name, text in SUPPORTED.items():
        wrapped = textwrap.wrap(text, 96 - width)
        lines.append(f"  --{name:<{width - 2}}{wrapped[0]}")
        lines += [" " * (width + 2) + more for more in wrapped[1:]]
    lines += [f"  {'--help, -h':<{width}}print this help", "",
              "accepted for compatibility with Ascend build scripts, without effect:"]
    lines += textwrap.wrap("  ".join(f"--{name}" for name in sorted(NO_EFFECT)), 96,
                           initial_indent="  ", subsequent_indent="  ")
    return "\n".join(lines)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _unknown(name: str, value: str) -> AtcError:
    close = difflib.get_close_matches(name, [*SUPPORTED, *NO_EFFECT], n=1)
    hint = f"; did you mean --{close[0]}?" if close else "; run 'atc --help' for the parameters"
    return AtcError("E10001", f"Value [{value}] for parameter [--{name}] is invalid. "
                              f"Reason: unknown parameter{hint}")
